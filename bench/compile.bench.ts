import { compileFilter } from "../server/native/libpcap";
import { LARGE_FILTERS } from "../tests/data/filters";
import type { Benchmark, BenchFigure } from "./harness";
import { timeMs } from "./harness";

const bench: Benchmark = {
  name: "compile",
  description: "pcap_compile through koffi (compile + decode + free), median",
  async run() {
    const figures: BenchFigure[] = [];
    const cases = [{ filter: "tcp port 80", label: "tcp port 80" }, ...LARGE_FILTERS.map((f) => ({ filter: f, label: `${f.slice(0, 40)}… (${f.length} chars)` }))];
    for (const { filter, label } of cases) {
      let n = 0;
      const ms = timeMs(() => {
        const r = compileFilter({ filter, dlt: 1, snaplen: 262144, optimize: true, netmask: 0 });
        if (!r.ok) throw new Error(r.error);
        n = r.insns.length;
      }, filter.length > 1000 ? 20 : 500);
      figures.push({ name: label, value: ms * 1000, unit: "µs", note: `${n} insns` });
    }
    return figures;
  },
};
export default bench;
