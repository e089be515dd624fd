/**
 * BPF_PROG_LOAD with the verifier log, retried until the whole log fits.
 *
 * Since Linux 6.4 the log is a rotating buffer: when the text does not fit, the kernel keeps the
 * tail, fails the load with ENOSPC (even if verification passed) and reports in log_true_size how
 * many bytes the full log needs. So the loader starts small (most logs are a few KiB), and on
 * ENOSPC with log_true_size > log_size retries once with exactly enough room. Kernels without
 * log_true_size report 0 there; then the size grows 8x per attempt up to the cap. A log that still
 * does not fit at the cap is returned with `logTruncated: true`, never silently.
 */
import { progLoad, BPF_F_TEST_STATE_FREQ, BPF_F_XDP_HAS_FRAGS, objGetInfo, PROG_INFO } from "../native/bpf";
import { NativeMem } from "../native/libc";
import { ERRNO, errnoName } from "../native/errno";
import { PlaygroundError } from "../../lib/errors";
import { logSummary, type LogSummary } from "../../lib/verifier/log-analyze";
import { parseLog } from "../../lib/verifier/log-parse";
import { PROG_TYPES, type ProgKind } from "./prog-types";
import { vmlinuxBtf } from "./btf";

export interface LoadOptions {
  /** Raw instructions, 8 bytes each. */
  insns: Uint8Array;
  type: ProgKind;
  /** 0: no log; 1: only the failing path; 2: every path, with the func# / Live regs header. */
  logLevel: 0 | 1 | 2;
  /** Adds BPF_LOG_STATS: `verification time N usec` and `stack depth N` before the last line. */
  stats?: boolean;
  /** Program name (at most 15 of [A-Za-z0-9_.]; other characters become `_`). */
  name?: string;
  /** BPF_F_TEST_STATE_FREQ: checkpoint states far more often (more `safe` and precision lines). */
  testStateFreq?: boolean;
  /** xdp: BPF_F_XDP_HAS_FRAGS, so that a test run may give the program a multi-buffer frame. */
  xdpHasFrags?: boolean;
  /** First log buffer size in bytes (default 64 KiB). */
  initialLogSize?: number;
  /** Largest log buffer tried (default 64 MiB). */
  maxLogSize?: number;
  /** fentry: the kernel function the program is for (looked up in vmlinux BTF). Ignored by other kinds. */
  attachFunc?: string;
}

/** Figures from the log's last lines (read by lib/verifier's log analyzer) and from bpf_prog_info when the load succeeded. */
export interface LoadStats extends LogSummary {
  /** bpf_prog_info.verified_insns (same count as `processed`, available without a log). */
  verifiedInsns?: number;
  /** Wall time of the successful BPF_PROG_LOAD call, in microseconds (includes JIT). */
  loadWallUs: number;
}

interface LoadCommon {
  log: string;
  stats: LoadStats;
  /** Size of the buffer that held the returned log (0 without a log). */
  logBufferSize: number;
  /** How many BPF_PROG_LOAD calls it took (more than 1 when the log had to grow). */
  attempts: number;
}

export type LoadResult =
  | ({ ok: true; fd: number; type: ProgKind } & LoadCommon)
  | ({ ok: false; errno: number; errnoName: string; logTruncated: boolean } & LoadCommon);

const DEFAULT_INITIAL = 64 << 10;
const DEFAULT_MAX = 64 << 20;
const BPF_LOG_STATS = 4;

const MIN_LOG = 128;

/** Loads a program. The caller owns `fd` and closes it (closeFd) when done. */
export function loadProgram(opts: LoadOptions): LoadResult {
  if (opts.insns.length === 0 || opts.insns.length % 8 !== 0) {
    throw new PlaygroundError("kernel/load", `program must be a non-empty multiple of 8 bytes (got ${opts.insns.length})`);
  }
  const t = PROG_TYPES[opts.type];
  if (!t) throw new PlaygroundError("kernel/load", `unknown program type "${String(opts.type)}"`);
  const attachBtfId = t.needsFunction ? functionBtfId(opts.type, opts.attachFunc) : 0;
  const level = opts.logLevel | (opts.stats ? BPF_LOG_STATS : 0);
  const max = Math.max(MIN_LOG, opts.maxLogSize ?? DEFAULT_MAX);
  let size = level ? Math.min(max, Math.max(MIN_LOG, opts.initialLogSize ?? DEFAULT_INITIAL)) : 0;
  let attempts = 0;
  let eagainRetries = 0;

  for (;;) {
    attempts++;
    const buf = level ? new NativeMem(size) : undefined;
    try {
      const t0 = performance.now();
      const r = progLoad({
        progType: t.progType,
        insns: opts.insns,
        logLevel: level,
        logBuf: buf,
        progFlags: (opts.testStateFreq ? BPF_F_TEST_STATE_FREQ : 0) | (opts.xdpHasFrags ? BPF_F_XDP_HAS_FRAGS : 0),
        name: opts.name,
        expectedAttachType: t.expectedAttachType,
        attachBtfId,
      });
      const wallUs = (performance.now() - t0) * 1000;
      const log = buf ? readCString(buf.bytes) : "";
      // The verifier gives up with EAGAIN whenever a signal is pending for this thread (do_check
      // checks signal_pending): a child exiting (SIGCHLD) would make a good program look rejected.
      if (r.fd < 0 && r.errno === ERRNO.EAGAIN && eagainRetries++ < 10) continue;
      const truncated = level !== 0 && r.fd < 0 && r.errno === ERRNO.ENOSPC && (r.logTrueSize === 0 || r.logTrueSize > size);
      if (truncated && size < max) {
        // Room for exactly the reported size (rounded to a page), or 8x when the kernel cannot tell.
        size = Math.min(max, r.logTrueSize > size ? roundUp(r.logTrueSize, 4096) : size * 8);
        continue;
      }
      const stats: LoadStats = { ...logSummary(parseLog(log)), loadWallUs: wallUs };
      const common: LoadCommon = { log, stats, logBufferSize: buf ? size : 0, attempts };
      if (r.fd >= 0) {
        stats.verifiedInsns = verifiedInsns(r.fd);
        return { ok: true, fd: r.fd, type: opts.type, ...common };
      }
      return { ok: false, errno: r.errno, errnoName: errnoName(r.errno), logTruncated: truncated, ...common };
    } finally {
      buf?.free();
    }
  }
}

/** The vmlinux BTF id of the function a tracing program is loaded for. */
function functionBtfId(kind: ProgKind, func: string | undefined): number {
  if (!func) throw new PlaygroundError("kernel/load", `a ${kind} program must name the kernel function it is for (attachFunc)`);
  const btf = vmlinuxBtf();
  if (!btf) throw new PlaygroundError("kernel/btf", `a ${kind} program needs the kernel's BTF (/sys/kernel/btf/vmlinux)`);
  const f = btf.func(func);
  if (!f) throw new PlaygroundError("kernel/btf", `the kernel's BTF has no function "${func}"`);
  return f.id;
}

function verifiedInsns(fd: number): number | undefined {
  const info = new NativeMem(PROG_INFO.size);
  try {
    objGetInfo(fd, info);
    return info.view.getUint32(PROG_INFO.verifiedInsns, true);
  } catch {
    return undefined; // older kernels: the field is simply absent from the answer
  } finally {
    info.free();
  }
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

function readCString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(bytes.subarray(0, end < 0 ? bytes.length : end));
}
