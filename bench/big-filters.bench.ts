/**
 * Filters of thousands of OR'ed hosts: the CLI's compile beside tcpdump's, same filter, same run,
 * and whether the two listings are identical. libpcap's optimizer needs about ten minutes of CPU
 * for 2,000 hosts (tcpdump too), so by default only the unoptimized 2,000-host case runs;
 * BPFP_BIG_HOSTS=2000,3000 and BPFP_BIG_OPTIMIZE=1 ask for the rest.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { orHosts } from "../tests/support/big-filters";
import { TCPDUMP_BIN } from "../tests/support/tcpdump-dump";
import type { Benchmark, BenchFigure } from "./harness";

const CLI = join(__dirname, "..", "bin", "bpf-playground.mjs");

function timed(bin: string, args: string[]): Promise<{ ms: number; stdout: string }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    execFile(bin, args, { encoding: "utf8", maxBuffer: 256 << 20, env: { ...process.env, LC_ALL: "C" } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${bin} failed: ${stderr.slice(-300)}`));
      else resolve({ ms: performance.now() - t0, stdout });
    });
  });
}

const bench: Benchmark = {
  name: "big-filters",
  description: "compile of N OR'ed hosts: the CLI (libpcap through koffi) beside tcpdump, run one after the other",
  async run() {
    const counts = (process.env.BPFP_BIG_HOSTS ?? "2000").split(",").map(Number).filter((n) => n > 0);
    const optimizeModes = process.env.BPFP_BIG_OPTIMIZE === "1" ? [false, true] : [false];
    const figures: BenchFigure[] = [];
    for (const count of counts) {
      for (const optimize of optimizeModes) {
        const filter = orHosts(count);
        const td = await timed(TCPDUMP_BIN, ["-y", "EN10MB", ...(optimize ? [] : ["-O"]), "-d", "--", filter]);
        const ours = await timed(process.execPath, [CLI, "compile", filter, ...(optimize ? [] : ["--no-optimize"])]);
        const lines = ours.stdout.split("\n").length - 1;
        figures.push({
          name: `${count} hosts, optimizer ${optimize ? "on" : "off"}`,
          value: ours.ms / 1000,
          unit: "s",
          baseline: { name: `tcpdump ${optimize ? "" : "-O "}-d`, value: td.ms / 1000, unit: "s" },
          note: `${lines} insns, ${ours.stdout === td.stdout ? "identical" : "DIFFERENT"} listings`,
        });
      }
    }
    return figures;
  },
};
export default bench;
