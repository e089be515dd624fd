/**
 * The control-flow graph the translator emits from: cBPF instruction *instances* in basic blocks.
 *
 * Backward jumps (libpcap's `protochain`) would make a loop the verifier has to prove finite, so
 * the program is unrolled instead: an instance is (iteration, cBPF index), where the iteration
 * counts the backward jumps taken so far. A forward edge stays in its iteration, a backward edge
 * goes to the next one, and the backward edge out of the last allowed iteration goes to
 * "no match". Ordering instances by (iteration, index) is then a topological order, so the
 * emitted program only jumps forward. Without backward jumps there is one iteration and the
 * instances are simply the reachable instructions.
 *
 * Only reachable instances exist: the verifier rejects unreachable instructions.
 */
import { successors, type Decoded } from "./decode";

/** Successor id meaning "the filter returns 0 here". */
export const NOMATCH = -1;

export interface Inst {
  readonly id: number;
  readonly d: Decoded;
  readonly iter: number;
  /** Set when this instruction can never succeed on the target; it then jumps to no match. */
  readonly fail?: string;
  /**
   * Successor instance ids: [fallthrough] for straight-line ops, [target] for ja, [jt, jf] for
   * conditional jumps (both present even when equal), [] for ret and failing instructions.
   */
  readonly succ: readonly number[];
  /** Ids of the instances that can precede this one. */
  readonly preds: number[];
}

export interface Block {
  readonly id: number;
  /** Instance ids, consecutive. */
  readonly insts: readonly number[];
  /** Successor block ids (NOMATCH for "returns 0"), deduplicated. */
  readonly succ: readonly number[];
  readonly preds: number[];
}

export interface Cfg {
  readonly insts: readonly Inst[];
  readonly blocks: readonly Block[];
  /** Block id of each instance. */
  readonly blockOf: readonly number[];
  /** Whether any backward jump exists (the program was unrolled). */
  readonly unrolled: boolean;
  /** True when some path exceeds the loop bound (a back edge goes to no match). */
  readonly boundHit: boolean;
}

/**
 * Builds instances and blocks. `fails(d)` names the instructions that can never succeed on the
 * target (they end their path with "no match", which makes what follows them unreachable).
 */
export function buildCfg(prog: readonly Decoded[], loopBound: number, fails: (d: Decoded) => string | undefined): Cfg {
  const n = prog.length;
  const failure = prog.map((d) => fails(d));
  const key = (iter: number, idx: number) => iter * n + idx;
  const edges = (iter: number, idx: number): number[] => {
    if (failure[idx] !== undefined) return [];
    const d = prog[idx]!;
    const targets = d.op.t === "jcond" ? [d.op.jt, d.op.jf] : successors(d);
    return targets.map((j) => (j > idx ? key(iter, j) : iter + 1 <= loopBound ? key(iter + 1, j) : NOMATCH));
  };

  let unrolled = false;
  let boundHit = false;
  const seen = new Set<number>([0]);
  const work = [0];
  while (work.length > 0) {
    const kk = work.pop()!;
    const iter = Math.floor(kk / n);
    const idx = kk % n;
    const d = prog[idx]!;
    if (failure[idx] === undefined) {
      for (const j of d.op.t === "jcond" ? [d.op.jt, d.op.jf] : successors(d)) if (j <= idx) unrolled = true;
    }
    for (const s of edges(iter, idx)) {
      if (s === NOMATCH) {
        boundHit = true;
        continue;
      }
      if (!seen.has(s)) {
        seen.add(s);
        work.push(s);
      }
    }
  }

  const keys = [...seen].sort((a, b) => a - b);
  const idOf = new Map<number, number>();
  keys.forEach((kk, id) => idOf.set(kk, id));
  const insts: Inst[] = keys.map((kk, id) => {
    const iter = Math.floor(kk / n);
    const idx = kk % n;
    const succ = edges(iter, idx).map((s) => (s === NOMATCH ? NOMATCH : idOf.get(s)!));
    const fail = failure[idx];
    return fail === undefined ? { id, d: prog[idx]!, iter, succ, preds: [] } : { id, d: prog[idx]!, iter, fail, succ, preds: [] };
  });
  for (const inst of insts) for (const s of new Set(inst.succ)) if (s !== NOMATCH) insts[s]!.preds.push(inst.id);

  // Basic blocks: a block ends at a jump, a return or a failing instruction; one starts at the
  // entry, after a block end, and at any instance with several predecessors or reached by a jump.
  const endsBlock = (i: Inst) => i.fail !== undefined || i.succ.length !== 1 || i.d.op.t === "ja" || i.d.op.t === "jcond";
  const leader = new Uint8Array(insts.length);
  leader[0] = 1;
  for (const inst of insts) {
    if (inst.preds.length !== 1) leader[inst.id] = 1;
    if (endsBlock(inst)) for (const s of inst.succ) if (s !== NOMATCH) leader[s] = 1;
    if (endsBlock(inst) && inst.id + 1 < insts.length) leader[inst.id + 1] = 1;
  }
  const blocks: Block[] = [];
  const blockOf = new Array<number>(insts.length);
  let current: number[] = [];
  const flush = () => {
    if (current.length === 0) return;
    const id = blocks.length;
    for (const i of current) blockOf[i] = id;
    blocks.push({ id, insts: current, succ: [], preds: [] });
    current = [];
  };
  for (const inst of insts) {
    if (leader[inst.id]) flush();
    current.push(inst.id);
  }
  flush();
  const finished = blocks.map((b) => {
    const last = insts[b.insts[b.insts.length - 1]!]!;
    const succ = [...new Set(last.succ.map((s) => (s === NOMATCH ? NOMATCH : blockOf[s]!)))];
    return { ...b, succ };
  });
  for (const b of finished) for (const s of b.succ) if (s !== NOMATCH) finished[s]!.preds.push(b.id);
  return { insts, blocks: finished, blockOf, unrolled, boundHit };
}
