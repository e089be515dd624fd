import { readFileSync } from "node:fs";
import { readCapture } from "../lib/pcap";
import { compileFilter as compileFast, runFilter } from "../lib/cbpf";
import { compileFilter, makeBpfFilter } from "../server/native/libpcap";
import { bigCapture, DLT_EN10MB } from "./fixtures";
import type { Benchmark, BenchFigure } from "./harness";
import { median } from "./harness";

const FILTERS = ["tcp port 80", "ip and (udp port 53 or tcp[tcpflags] & tcp-syn != 0) and not net 10.0.0.0/8"];

const bench: Benchmark = {
  name: "cbpf",
  description: "evaluating a filter over 1M packets: our interpreter against libpcap's bpf_filter (koffi), same packets",
  async run() {
    const { path, packets } = bigCapture();
    const cap = readCapture(new Uint8Array(readFileSync(path)));
    const figures: BenchFigure[] = [];
    for (const filter of FILTERS) {
      const compiled = compileFilter({ filter, dlt: DLT_EN10MB, snaplen: 262144, optimize: true, netmask: 0 });
      if (!compiled.ok) throw new Error(compiled.error);
      const fast = compileFast(compiled.insns, { semantics: "libpcap" });
      const lib = makeBpfFilter(compiled.insns);
      const time = (fn: (d: Uint8Array, w: number) => number, runs: number) => {
        const samples: number[] = [];
        let matched = 0;
        for (let r = 0; r < runs; r++) {
          matched = 0;
          const t = performance.now();
          for (const p of cap.packets) if (fn(p.data, p.origLen) !== 0) matched++;
          samples.push(performance.now() - t);
        }
        return { s: median(samples) / 1000, matched };
      };
      const ours = time(fast, 5);
      const slow = time((d, w) => runFilter(compiled.insns, d, { wireLen: w, semantics: "libpcap" }), 1);
      const theirs = time(lib, 2);
      if (ours.matched !== theirs.matched) throw new Error(`verdicts differ: ${ours.matched} vs ${theirs.matched}`);
      const base = { name: "libpcap bpf_filter via koffi", value: packets / theirs.s, unit: "packets/s" };
      figures.push({ name: `compiled interpreter, "${filter}"`, value: packets / ours.s, unit: "packets/s", baseline: base, note: `${(theirs.s / ours.s).toFixed(1)}x; ${ours.matched} matched` });
      figures.push({ name: `runFilter (uncached), "${filter}"`, value: packets / slow.s, unit: "packets/s", baseline: base });
    }
    return figures;
  },
};
export default bench;
