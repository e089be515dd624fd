/**
 * Facts about the instance graph that decide what the prologue must set up.
 *
 * cBPF starts with A = X = 0, and libpcap's interpreter has uninitialised scratch memory (ours
 * and the kernel's start at 0). The eBPF verifier refuses to read a register or stack slot that
 * may not have been written, so exactly the values that some path reads before writing are
 * zeroed in the prologue: a forward "definitely written" analysis over the (acyclic) graph.
 */
import { NOMATCH, type Cfg, type Inst } from "./cfg";
import type { Op } from "./decode";
import { SKF_AD_ALU_XOR_X } from "../cbpf";

const A_BIT = 1 << 16;
const X_BIT = 1 << 17;
const memBit = (n: number) => 1 << n;

/** Bits read and written by one operation (M[n] = bit n, A = bit 16, X = bit 17). */
export function readsWrites(op: Op): { reads: number; writes: number } {
  switch (op.t) {
    case "ret_k":
      return { reads: 0, writes: 0 };
    case "ret_a":
      return { reads: A_BIT, writes: 0 };
    case "imm":
    case "len":
      return { reads: 0, writes: op.dst === "A" ? A_BIT : X_BIT };
    case "ld_mem":
      return { reads: memBit(op.n), writes: op.dst === "A" ? A_BIT : X_BIT };
    case "st":
      return { reads: op.src === "A" ? A_BIT : X_BIT, writes: memBit(op.n) };
    case "abs":
      return { reads: 0, writes: A_BIT };
    case "ind":
      return { reads: X_BIT, writes: A_BIT };
    case "msh":
      return { reads: 0, writes: X_BIT };
    case "anc":
      return { reads: op.slot === SKF_AD_ALU_XOR_X ? A_BIT | X_BIT : 0, writes: A_BIT };
    case "alu":
      return { reads: op.src === "x" ? A_BIT | X_BIT : A_BIT, writes: A_BIT };
    case "neg":
      return { reads: A_BIT, writes: A_BIT };
    case "tax":
      return { reads: A_BIT, writes: X_BIT };
    case "txa":
      return { reads: X_BIT, writes: A_BIT };
    case "ja":
      return { reads: 0, writes: 0 };
    case "jcond":
      return { reads: op.src === "x" ? A_BIT | X_BIT : A_BIT, writes: 0 };
  }
}

export interface InitNeeds {
  readonly a: boolean;
  readonly x: boolean;
  /** Scratch slots some path reads before writing. */
  readonly mem: readonly number[];
  /** Every scratch slot the program touches (their stack space is reserved). */
  readonly memUsed: readonly number[];
}

/** Which of A, X and M[] must be zeroed on entry. */
export function initNeeds(cfg: Cfg): InitNeeds {
  const insts = cfg.insts;
  const outSet = new Int32Array(insts.length);
  let uninitReads = 0;
  let used = 0;
  const inSet = (inst: Inst): number => {
    if (inst.preds.length === 0) return 0;
    let s = -1;
    for (const p of inst.preds) s &= outSet[p]!;
    return s;
  };
  for (const inst of insts) {
    const have = inSet(inst);
    if (inst.fail !== undefined) {
      outSet[inst.id] = have;
      continue;
    }
    const { reads, writes } = readsWrites(inst.d.op);
    uninitReads |= reads & ~have;
    used |= (reads | writes) & 0xffff;
    outSet[inst.id] = have | writes;
  }
  const mem: number[] = [];
  const memUsed: number[] = [];
  for (let n = 0; n < 16; n++) {
    if (uninitReads & memBit(n)) mem.push(n);
    if (used & memBit(n)) memUsed.push(n);
  }
  return { a: (uninitReads & A_BIT) !== 0, x: (uninitReads & X_BIT) !== 0, mem, memUsed };
}

/** Whether the program (as reachable) contains an operation of one of the given kinds. */
export function usesOp(cfg: Cfg, ...kinds: Op["t"][]): boolean {
  return cfg.insts.some((i) => i.fail === undefined && kinds.includes(i.d.op.t));
}

/**
 * An upper bound of X (as an unsigned 32-bit value) when each instance starts. X is 0 on entry;
 * `ldx #k` sets it to k and `ldxb 4*([k]&0xf)` to at most 60; anything else forgets the bound.
 */
export function xUpperBounds(cfg: Cfg): Float64Array {
  const insts = cfg.insts;
  const atEntry = new Float64Array(insts.length);
  const atExit = new Float64Array(insts.length);
  for (const inst of insts) {
    let x = 0;
    for (const p of inst.preds) x = Math.max(x, atExit[p]!);
    atEntry[inst.id] = x;
    const op = inst.d.op;
    if (op.t === "imm" && op.dst === "X") x = op.k;
    else if (op.t === "msh") x = 60;
    else if (readsWrites(op).writes & X_BIT) x = 0xffffffff;
    atExit[inst.id] = x;
  }
  return atEntry;
}

/**
 * For each instance, whether A may be read after it (before being overwritten) on some path:
 * a backward liveness analysis over the acyclic graph.
 */
export function aLiveAfter(cfg: Cfg): Uint8Array {
  const insts = cfg.insts;
  const liveIn = new Uint8Array(insts.length);
  const liveOut = new Uint8Array(insts.length);
  for (let i = insts.length - 1; i >= 0; i--) {
    const inst = insts[i]!;
    let out = 0;
    for (const s of inst.succ) if (s !== NOMATCH && liveIn[s]) out = 1;
    liveOut[i] = out;
    if (inst.fail !== undefined) continue;
    const { reads, writes } = readsWrites(inst.d.op);
    liveIn[i] = reads & A_BIT ? 1 : writes & A_BIT ? 0 : out;
  }
  return liveOut;
}

/**
 * How far into the packet a program can read: one past the last byte any load may touch, or
 * Infinity when that has no bound (an indirect load whose X is unbounded) or when the program
 * reads `len`. Whether a verdict taken on only the first N bytes of a packet (an XDP frame's
 * linear part, with the rest in fragments that direct packet access does not see) is the verdict
 * on the whole packet: it is when the reach is at most N.
 */
export function packetReach(cfg: Cfg): number {
  const xMax = xUpperBounds(cfg);
  let reach = 0;
  for (const inst of cfg.insts) {
    if (inst.fail !== undefined) continue;
    const op = inst.d.op;
    if (op.t === "len") return Infinity;
    if (op.t === "abs") reach = Math.max(reach, op.k + op.size);
    else if (op.t === "msh") reach = Math.max(reach, op.k + 1);
    else if (op.t === "ind") {
      const x = xMax[inst.id]!;
      if (x === 0xffffffff) return Infinity;
      reach = Math.max(reach, x + op.k + op.size);
    }
  }
  return reach;
}
