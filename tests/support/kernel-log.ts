/**
 * The real verifier log for a program, for tests and benchmarks: BPF_PROG_LOAD at log_level 2
 * (plus BPF_LOG_STATS when asked) through server/kernel/load.ts, the project's loader. Programs
 * that load are closed at once; only the log, the verdict and the errno are kept.
 *
 * Whether the kernel can be asked at all is `requires(what, "kernel")` (./requires).
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

