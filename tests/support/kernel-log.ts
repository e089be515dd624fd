/**
 * The real verifier log for a program, for tests and benchmarks: BPF_PROG_LOAD at log_level 2
 * (plus BPF_LOG_STATS when asked) through server/kernel/load.ts, the project's loader. Programs
 * that load are closed at once; only the log, the verdict and the errno are kept.
 *
 * `kernelAvailability()` says whether the kernel can be asked at all (root and a working bpf(2)),
 * and why not, so that kernel tests can warn and skip (or fail on CI) instead of erroring.
 */
import { encodeProgram } from "../../lib/ebpf/codec";
import type { RawInsn } from "../../lib/ebpf/insn";
import { loadProgram } from "../../server/kernel/load";
import type { ProgKind } from "../../server/kernel/prog-types";
import { closeFd } from "../../server/native/libc";

export interface KernelLog {
  accepted: boolean;
  /** 0 when accepted. */
  errno: number;
  log: string;
  /** From BPF_LOG_STATS (`verification time N usec`), when requested. */
  verificationTimeUs?: number;
}

export interface KernelLogOptions {
  /** Add BPF_LOG_STATS (verification time and stack depth lines). */
  stats?: boolean;
  /** 1 or 2 (default 2). */
  level?: 1 | 2;
}

export function kernelLog(program: readonly RawInsn[] | Uint8Array, progType: ProgKind, opts: KernelLogOptions = {}): KernelLog {
  const insns = program instanceof Uint8Array ? program : encodeProgram(program);
  const r = loadProgram({ insns, type: progType, logLevel: opts.level ?? 2, stats: opts.stats, name: "vtest" });
  if (r.ok) {
    closeFd(r.fd);
    return { accepted: true, errno: 0, log: r.log, verificationTimeUs: r.stats.verificationTimeUs };
  }
  return { accepted: false, errno: r.errno, log: r.log, verificationTimeUs: r.stats.verificationTimeUs };
}

let cached: { ok: boolean; why: string } | undefined;

/** Whether BPF_PROG_LOAD works here (root, bpf(2) reachable, koffi loads). Checked once. */
export function kernelAvailability(): { ok: boolean; why: string } {
  if (cached) return cached;
  try {
    if (typeof process.getuid === "function" && process.getuid() !== 0) {
      cached = { ok: false, why: "not running as root" };
      return cached;
    }
    // r0 = 0; exit: any kernel with BPF accepts it.
    const r = kernelLog(
      [
        { code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 },
        { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
      ],
      "socket",
    );
    cached = r.accepted ? { ok: true, why: "" } : { ok: false, why: `BPF_PROG_LOAD failed with errno ${r.errno}` };
  } catch (e) {
    cached = { ok: false, why: `bpf(2) unavailable: ${e instanceof Error ? e.message : String(e)}` };
  }
  return cached;
}

/**
 * For kernel tests: true when they can run. Otherwise warns why, and on CI throws (kernel tests
 * must run there).
 */
export function kernelTestsEnabled(what: string): boolean {
  const a = kernelAvailability();
  return a.ok || skipped(what, a.why);
}

/** Warns that `what` cannot run and why (throws on CI, where kernel tests must run); false. */
function skipped(what: string, why: string): false {
  const msg = `${what}: kernel tests skipped: ${why}`;
  if (process.env.CI) throw new Error(msg);
  console.warn(msg);
  return false;
}

/**
 * For kernel tests that need something not every kernel build has: true when the kernel can be
 * asked and `probe` (run only then) returns null; otherwise warns with the probe's reason, and on
 * CI throws, as kernelTestsEnabled does.
 */
export function kernelFeatureEnabled(what: string, probe: () => string | null): boolean {
  if (!kernelTestsEnabled(what)) return false;
  const missing = probe();
  return missing === null || skipped(what, missing);
}
