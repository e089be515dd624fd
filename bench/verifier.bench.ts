/**
 * Verifier emulation time for the largest filters (tests/data/filters.ts LARGE_FILTERS, plus
 * `tcp port 80`), translated for XDP and for socket filters, against the kernel's own
 * `verification time` (BPF_LOG_STATS) for the same programs when the kernel can be asked.
 */
import { translate, type Target } from "../lib/translate";
import { emulate } from "../lib/verifier";
import { compileFilter } from "../server/native/libpcap";
import { LARGE_FILTERS } from "../tests/data/filters";
import { kernelLog } from "../tests/support/kernel-log";
import { unmet } from "../tests/support/requires";
import type { Benchmark, BenchFigure } from "./harness";
import { median, timeMs } from "./harness";

const bench: Benchmark = {
  name: "verifier",
  description: "emulate() (text only, and with the trace) vs the kernel's verification time (BPF_LOG_STATS), median",
  async run() {
    const figures: BenchFigure[] = [];
    const kernel = unmet("kernel") === null;
    const cases = ["tcp port 80", ...LARGE_FILTERS];
    for (const filter of cases) {
      const compiled = compileFilter({ filter, dlt: 1, snaplen: 262144, optimize: true, netmask: 0 });
      if (!compiled.ok) continue;
      for (const target of ["xdp", "socket"] as Target[]) {
        const raw = translate(compiled.insns, { target }).program.raw;
        const runs = raw.length > 500 ? 5 : 30;
        let processed = 0;
        const textMs = timeMs(() => {
          processed = emulate(raw, { progType: target, trace: false }).stats.processed;
        }, runs);
        const traceMs = timeMs(() => void emulate(raw, { progType: target }), runs);
        let baseline: BenchFigure["baseline"];
        if (kernel) {
          const us: number[] = [];
          for (let i = 0; i < 5; i++) {
            const k = kernelLog(raw, target, { stats: true, level: 1 });
            if (k.verificationTimeUs !== undefined) us.push(k.verificationTimeUs);
          }
          if (us.length) baseline = { name: "kernel verification time", value: median(us) / 1000, unit: "ms" };
        }
        const label = `${filter.length > 40 ? filter.slice(0, 40) + "…" : filter} [${target}]`;
        figures.push({ name: `${label} emulate (text)`, value: textMs, unit: "ms", ...(baseline ? { baseline } : {}), note: `${raw.length} insns, ${processed} processed` });
        figures.push({ name: `${label} emulate (text + trace)`, value: traceMs, unit: "ms" });
      }
    }
    return figures;
  },
};
export default bench;
