/**
 * cBPF -> eBPF translation: code size per target against the cBPF length, bounds checks against
 * packet loads (xdp, where guards are merged), and translation time for the largest filters
 * (compared with libpcap's own compile time of the same filter).
 */
import { compileFilter, resolveDlt } from "../server/native/libpcap";
import { FILTER_CASES, LARGE_FILTERS } from "../tests/data/filters";
import { TARGETS, translate, type TranslateResult } from "../lib/translate";
import type { CbpfInsn } from "../lib/cbpf";
import type { Benchmark, BenchFigure } from "./harness";
import { timeMs } from "./harness";

function programs(): CbpfInsn[][] {
  const out: CbpfInsn[][] = [];
  for (const c of FILTER_CASES) {
    for (const dlt of c.dlts) {
      const r = compileFilter({ filter: c.filter, dlt: resolveDlt(dlt), snaplen: 262144, optimize: true, netmask: 0 });
      if (r.ok) out.push(r.insns);
    }
  }
  return out;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

const bench: Benchmark = {
  name: "translate",
  description: "cBPF -> eBPF: size per target, xdp guards vs loads, translate time of the largest filters",
  async run() {
    const figures: BenchFigure[] = [];
    const progs = programs();
    for (const target of TARGETS) {
      const results: TranslateResult[] = [];
      let refused = 0;
      for (const p of progs) {
        try {
          results.push(translate(p, { target }));
        } catch {
          refused++;
        }
      }
      const ratios = results.map((r) => r.stats.ebpfSlots / r.stats.cbpfLength);
      figures.push({
        name: `${target}: eBPF slots per cBPF instruction, mean`,
        value: mean(ratios),
        unit: "x",
        baseline: { name: "max", value: Math.max(...ratios), unit: "x" },
        note: `${results.length} (filter, link type) pairs, ${refused} refused; mean ${mean(results.map((r) => r.stats.ebpfSlots)).toFixed(1)} slots for ${mean(results.map((r) => r.stats.cbpfLength)).toFixed(1)} cBPF insns`,
      });
      if (target === "xdp" || target === "kprobe") {
        const guards = results.reduce((a, r) => a + r.stats.guards, 0);
        const loads = results.reduce((a, r) => a + r.stats.packetLoads, 0);
        figures.push({
          name: `${target}: bounds checks per filter, mean`,
          value: guards / results.length,
          unit: "guards",
          baseline: { name: "packet loads per filter", value: loads / results.length, unit: "loads" },
          note: `${guards} guards for ${loads} loads in total; fewer guards than loads in ${results.filter((r) => r.stats.guards < r.stats.packetLoads).length} of ${results.length} filters`,
        });
      }
      if (target === "kprobe") {
        figures.push({
          name: "kprobe: helper calls per filter, mean",
          value: mean(results.map((r) => r.stats.helperCalls)),
          unit: "calls",
          baseline: { name: "packet loads per filter", value: mean(results.map((r) => r.stats.packetLoads)), unit: "loads" },
          note: "header bytes are copied once per bounds check (pwru makes one call per load)",
        });
      }
    }

    for (const filter of LARGE_FILTERS) {
      const compiled = compileFilter({ filter, dlt: 1, snaplen: 262144, optimize: true, netmask: 0 });
      if (!compiled.ok) continue;
      const libpcapMs = timeMs(() => compileFilter({ filter, dlt: 1, snaplen: 262144, optimize: true, netmask: 0 }), 5, 1);
      for (const target of ["xdp", "kprobe"] as const) {
        let slots = 0;
        const ms = timeMs(() => {
          slots = translate(compiled.insns, { target }).stats.ebpfSlots;
        }, 30);
        figures.push({
          name: `translate ${target}: ${filter.slice(0, 32)}… (${compiled.insns.length} cBPF insns)`,
          value: ms,
          unit: "ms",
          baseline: { name: "libpcap compile", value: libpcapMs, unit: "ms" },
          note: `${slots} eBPF slots`,
        });
      }
    }
    return figures;
  },
};

export default bench;
