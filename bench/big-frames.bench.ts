/**
 * `run --engine kernel` on the frames of ../shared/pcaps larger than a test run takes (root and
 * BPF required; without them, or without the captures, the benchmark says why and gives no
 * figures): wall µs per frame on each path server/engines/kernel.ts takes (a target's own test run,
 * an XDP multi-buffer test run, the socket translation's test run, the live socketpair), per
 * target, for "tcp port 80" (whose reach lets XDP use frags) and "ip and len > 1000" (which reads
 * len, so it cannot). Each call is timed by itself and credited to the path its counter shows.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Benchmark, BenchFigure } from "./harness";
import { median } from "./harness";
import { kernelUnavailableReason } from "../server/kernel/kernel-info";
import { compileFilter } from "../server/native/libpcap";
import { readCapture, type CapturedPacket } from "../lib/pcap";
import { kernelVerdicts, LIVE_MAX, type KernelPaths } from "../server/engines/kernel";
import type { Target } from "../lib/translate";

const PCAPS = join(__dirname, "..", "..", "shared", "pcaps");
const EN10MB = 1;
const ROUNDS = 5;

function bigFrames(): CapturedPacket[] {
  const out: CapturedPacket[] = [];
  for (const dir of readdirSync(PCAPS)) {
    for (const f of readdirSync(join(PCAPS, dir))) {
      try {
        for (const p of readCapture(new Uint8Array(readFileSync(join(PCAPS, dir, f)))).packets) {
          if (p.dlt === EN10MB && p.data.length > 3520 && p.data.length <= LIVE_MAX) out.push(p);
        }
      } catch {
        // not a capture the reader takes
      }
    }
  }
  return out;
}

const bench: Benchmark = {
  name: "big-frames",
  description: "run --engine kernel on frames above the test-run limits: µs per frame on each path",
  async run(): Promise<BenchFigure[]> {
    const why = kernelUnavailableReason() ?? (existsSync(PCAPS) ? null : `${PCAPS} is missing`);
    if (why) {
      console.error(`big-frames: skipped: ${why}`);
      return [];
    }
    const frames = bigFrames();
    const figures: BenchFigure[] = [];
    for (const filter of ["tcp port 80", "ip and len > 1000"]) {
      const compiled = compileFilter({ filter, dlt: EN10MB, snaplen: 262144, optimize: true, netmask: 0 });
      if (!compiled.ok) throw new Error(compiled.error);
      for (const target of ["socket", "tc", "xdp"] as Target[]) {
        const k = kernelVerdicts(compiled.insns, EN10MB, target);
        const us: Record<keyof KernelPaths, number[]> = { testRun: [], socketTestRun: [], live: [], xdpFrags: [], refused: [] };
        try {
          for (let r = 0; r < ROUNDS; r++) {
            for (const p of frames) {
              const before = { ...k.paths };
              const t0 = process.hrtime.bigint();
              k.verdict(p.data);
              const t = Number(process.hrtime.bigint() - t0) / 1000;
              const path = (Object.keys(before) as (keyof KernelPaths)[]).find((key) => k.paths[key] !== before[key])!;
              us[path].push(t);
            }
          }
        } finally {
          k.close();
        }
        for (const [path, ts] of Object.entries(us)) {
          if (ts.length === 0) continue;
          figures.push({
            name: `"${filter}" --target ${target}, frames on the ${path} path`,
            value: median(ts),
            unit: "µs/frame",
            note: `${ts.length / ROUNDS} of ${frames.length} Ethernet frames of 3521..${LIVE_MAX} bytes; median of ${ROUNDS} rounds`,
          });
        }
      }
    }
    return figures;
  },
};

export default bench;
