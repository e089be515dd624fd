/**
 * The aligned diff (lib/diff): how long the diff pane takes for the pairs it shows. An injected
 * host before/after (small: tens of instructions), and the project's largest filters translated
 * for xdp with libpcap's optimizer on against off (thousands of instructions, mostly different),
 * and against themselves (all same: the prefix trim's best case).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { diffStreams, streamFromTranslation } from "../lib/diff";
import { HOST_OBJECTS, injectFilter } from "../lib/inject";
import { translate } from "../lib/translate";
import { compileFilter } from "../server/native/libpcap";
import { LARGE_FILTERS } from "../tests/data/filters";
import type { Benchmark, BenchFigure } from "./harness";
import { timeMs } from "./harness";

const compile = (filter: string, optimize: boolean) => {
  const r = compileFilter({ filter, dlt: 1, snaplen: 262144, optimize, netmask: 0 });
  if (!r.ok) throw new Error(`${filter.slice(0, 40)}: ${r.error}`);
  return r.insns;
};

const bench: Benchmark = {
  name: "diff",
  description: "lib/diff: injected host before/after, and the largest filters optimized vs not (xdp)",
  async run() {
    const figures: BenchFigure[] = [];
    const host = new Uint8Array(readFileSync(join(__dirname, "..", "bpf", "build", HOST_OBJECTS.xdp.file)));
    const r = injectFilter({ object: host, cbpf: compile("tcp port 80", true), linkType: 1 });
    const d = diffStreams(r.before, r.after);
    figures.push({
      name: "xdp host + tcp port 80: before vs after",
      value: timeMs(() => diffStreams(r.before, r.after), 200),
      unit: "ms",
      note: `${d.summary.same} same, ${d.summary.moved} moved, ${d.summary.insert} inserted in ${d.summary.hunks} hunk`,
    });
    for (const filter of LARGE_FILTERS) {
      const on = streamFromTranslation(translate(compile(filter, true), { target: "xdp" }), "xdp");
      const off = streamFromTranslation(translate(compile(filter, false), { target: "xdp" }), "xdp");
      const od = diffStreams([on], [off]);
      const s = od.summary;
      figures.push({
        name: `${filter.slice(0, 32)}…: optimized vs not`,
        value: timeMs(() => diffStreams([on], [off]), 5, 1),
        unit: "ms",
        baseline: { name: "same program against itself", value: timeMs(() => diffStreams([on], [on]), 5, 1), unit: "ms" },
        note: `${on.insns.length} vs ${off.insns.length} insns: ${s.same} same, ${s.moved} moved, +${s.insert} −${s.delete} ±${s.change}, ${s.hunks} hunks${od.sections[0]!.capped ? " (capped)" : ""}`,
      });
    }
    return figures;
  },
};

export default bench;
