/**
 * How a target reads packet bytes. The instruction-by-instruction lowering (lower.ts) is the same
 * for every target; only packet loads, `len`, ancillary loads, bounds checks and the context
 * handling at the edges differ, and those are the methods of a Strategy:
 *
 * - direct (xdp, tc): packet pointers with verifier-visible bounds checks;
 * - ld_abs (socket): the legacy LD_ABS/LD_IND instructions, which the kernel rewrites into its
 *   own cBPF load helpers (out of bounds -> the program returns 0, exactly cBPF's rule);
 * - helper (kprobe, and socket in body mode): packet bytes copied to the stack by a helper
 *   (bpf_probe_read_kernel / bpf_skb_load_bytes), with A and X in callee-saved registers.
 */
import { endian, type RegName } from "../ebpf";
import type { Decoded } from "./decode";
import type { Emitter, StackLayout } from "./emitter";
import type { Cfg } from "./cfg";
import type { GuardPlan, IndRange } from "./guards";
import type { TranslateAbi } from "./types";

export interface Env {
  readonly e: Emitter;
  readonly stack: StackLayout;
  /** Label meaning "the filter returns 0". */
  readonly nomatch: string;
  readonly whole: boolean;
  /** Count mode with ring-buffer samples: strategies keep what the sample copy needs. */
  readonly needsSample: boolean;
  /** Whether the program reads `len` (some strategies prepare for it in the prologue). */
  readonly usesLen: boolean;
  readonly notes: string[];
}

export interface Strategy {
  readonly abi: TranslateAbi;
  /** Whether guards are planned (direct and helper strategies). */
  readonly guarded: boolean;
  /** Why an instruction can never succeed on this target (it becomes "no match"); throws to refuse. */
  fails(d: Decoded): string | undefined;
  /** Reserves stack buffers once the graph and guard plan are known. */
  layout(env: Env, cfg: Cfg, plan: GuardPlan): void;
  /** Whole mode: read the context; body mode: adopt the host's registers. */
  prologue(env: Env): void;
  /** Bounds check "packet holds >= length bytes"; `from` bytes were already checked on every path. */
  absGuard(env: Env, length: number, from: number): void;
  indGuard(env: Env, range: IndRange): void;
  /** A = the `size`-byte big-endian value at packet offset k. `known` = length already checked. */
  abs(env: Env, size: 1 | 2 | 4, k: number, known: number): void;
  /** A = the value at X + k, inside the checked `range` (undefined when unguarded). */
  ind(env: Env, size: 1 | 2 | 4, k: number, range: IndRange | undefined, instId: number): void;
  /** X = 4 * (packet[k] & 0xf), A unchanged. */
  msh(env: Env, k: number, known: number, instId: number): void;
  /** dst = the packet length. */
  len(env: Env, dst: RegName): void;
  /** A = ancillary field `slot` (SKF_AD_*), ALU_XOR_X excepted (lowered generically). */
  anc(env: Env, slot: number, d: Decoded): void;
  /** Count mode: first thing in the epilogue, before any helper call (r0 holds the result). */
  epilogueSave(env: Env): void;
  /**
   * Count mode sample: write wire length at [r10+buf], captured length at [r10+buf+4] and up to
   * `bytes` packet bytes from [r10+buf+8]; may use r1..r5 and helper calls.
   */
  sample(env: Env, buf: number, bytes: number): void;
}

/** Converts a loaded big-endian value to host order (cBPF values are host-order numbers). */
export function toHost(e: Emitter, reg: RegName, size: 1 | 2 | 4): void {
  if (size === 2) e.emit(endian("be", reg, 16));
  else if (size === 4) e.emit(endian("be", reg, 32));
}

export const SIZE_NAME = { 1: "u8", 2: "u16", 4: "u32" } as const;

/** Whether an r10-relative stack address is aligned for `size` (the verifier insists on it). */
export const stackAligned = (off: number, size: number): boolean => ((off % size) + size) % size === 0;

/** Picks d in 0..3 so that the most loads at (base + d + k) are aligned. */
export function bestShift(loads: readonly { k: number; size: number }[]): number {
  let best = 0;
  let bestCount = -1;
  for (let d = 0; d < 4; d++) {
    const count = loads.filter((l) => (d + l.k) % l.size === 0).length;
    if (count > bestCount) {
      best = d;
      bestCount = count;
    }
  }
  return best;
}
