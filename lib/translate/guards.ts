/**
 * Bounds-check ("guard") placement, in the manner of cloudflare/cbpfc.
 *
 * Absolute loads (`ld [k]`, `ldxb 4*([k]&0xf)`) need the packet to hold at least k + size bytes.
 * A guard "length >= G" at the top of a block covers every absolute load of the block (all of a
 * block's instructions run, and a failed load returns 0 just as the guard does). The guard a
 * block inherits is the smallest its predecessors established. When a block needs more, its guard
 * is raised further to the *guaranteed guard* of the block: the smallest length that every path
 * from here to a non-zero `ret` has to check anyway. A shorter packet returns 0 on every such
 * path, so rejecting it early changes nothing, and one guard near the top usually covers most
 * header reads of the whole filter.
 *
 * Indirect loads (`ld [x+k]`) are grouped while X is unchanged; a group gets one guard over the
 * range [min k, max k+size) relative to X, and its loads are rebased on the checked pointer. A
 * guard is inherited from predecessors when they all checked the same range start for the same X.
 */
import type { Cfg, Inst } from "./cfg";
import { NOMATCH } from "./cfg";
import { readsWrites } from "./analysis";

const X_BIT = 1 << 17;
/** Longest indirect range one guard may cover (load offsets relative to it must fit s16). */
export const MAX_INDIRECT_SPAN = 0x7fff;

export interface IndRange {
  readonly start: number;
  readonly end: number;
}

export interface GuardPlan {
  /**
   * Absolute guard emitted at the top of a block: the packet must hold at least `length` bytes
   * (`from`: the length every path into the block had already checked).
   */
  readonly absAt: ReadonlyMap<number, { readonly length: number; readonly from: number }>;
  /** For each instance, the packet length already checked when it runs. */
  readonly absKnown: readonly number[];
  /** Indirect guard emitted just before an instance. */
  readonly indAt: ReadonlyMap<number, IndRange>;
  /** For each indirect load, the checked range its address is rebased on. */
  readonly indOf: ReadonlyMap<number, IndRange>;
}

/** Bytes an absolute load needs, or 0 for anything else. */
export function absoluteNeed(inst: Inst): number {
  if (inst.fail !== undefined) return 0;
  const op = inst.d.op;
  if (op.t === "abs") return op.k + op.size;
  if (op.t === "msh") return op.k + 1;
  return 0;
}

export function planGuards(cfg: Cfg): GuardPlan {
  const { insts, blocks } = cfg;
  const need = blocks.map((b) => Math.max(0, ...b.insts.map((i) => absoluteNeed(insts[i]!))));

  // Guaranteed guard, computed backwards (block ids are in topological order).
  const gg = new Array<number>(blocks.length).fill(Infinity);
  for (let b = blocks.length - 1; b >= 0; b--) {
    const blk = blocks[b]!;
    const last = insts[blk.insts[blk.insts.length - 1]!]!;
    const op = last.d.op;
    if (last.fail !== undefined) gg[b] = Infinity;
    else if (op.t === "ret_k") gg[b] = op.k === 0 ? Infinity : need[b]!;
    else if (op.t === "ret_a") gg[b] = need[b]!;
    else {
      let m = Infinity;
      for (const s of blk.succ) m = Math.min(m, s === NOMATCH ? Infinity : gg[s]!);
      gg[b] = m === Infinity ? Infinity : Math.max(need[b]!, m);
    }
  }

  const absAt = new Map<number, { length: number; from: number }>();
  const absKnown = new Array<number>(insts.length).fill(0);
  const absOut = new Array<number>(blocks.length).fill(0);
  const indAt = new Map<number, IndRange>();
  const indOf = new Map<number, IndRange>();
  const indOut: (IndRange | null)[] = new Array(blocks.length).fill(null);

  for (const blk of blocks) {
    // Absolute.
    let known = blk.preds.length === 0 ? 0 : Math.min(...blk.preds.map((p) => absOut[p]!));
    if (need[blk.id]! > known) {
      const g = gg[blk.id]! === Infinity ? need[blk.id]! : gg[blk.id]!;
      absAt.set(blk.id, { length: g, from: known });
      known = g;
    }
    for (const i of blk.insts) absKnown[i] = known;
    absOut[blk.id] = known;

    // Indirect.
    let state: IndRange | null = null;
    if (blk.preds.length > 0) {
      const ins = blk.preds.map((p) => indOut[p]);
      const first = ins[0];
      if (first && ins.every((r) => r !== null && r.start === first.start)) {
        state = { start: first.start, end: Math.min(...ins.map((r) => r!.end)) };
      }
    }
    // Walk the block in groups of indirect loads separated by writes of X.
    const ids = blk.insts;
    let pos = 0;
    while (pos < ids.length) {
      const inst = insts[ids[pos]!]!;
      if (inst.fail === undefined && inst.d.op.t === "ind") {
        // Collect the group: consecutive (in block order) indirect loads until X is written.
        const group: Inst[] = [];
        let lo = Infinity;
        let hi = 0;
        let j = pos;
        for (; j < ids.length; j++) {
          const g = insts[ids[j]!]!;
          if (g.fail !== undefined) break;
          const op = g.d.op;
          if (op.t === "ind") {
            const nlo = Math.min(lo, op.k);
            const nhi = Math.max(hi, op.k + op.size);
            if (group.length > 0 && nhi - nlo > MAX_INDIRECT_SPAN) break;
            lo = nlo;
            hi = nhi;
            group.push(g);
          } else if (readsWrites(op).writes & X_BIT) break;
        }
        let range: IndRange;
        if (state !== null && state.start <= lo && hi <= state.end && hi - state.start <= MAX_INDIRECT_SPAN) {
          range = state;
        } else {
          range = { start: lo, end: hi };
          indAt.set(group[0]!.id, range);
          state = range;
        }
        for (const g of group) indOf.set(g.id, range);
        pos = j;
        continue;
      }
      if (inst.fail === undefined && readsWrites(inst.d.op).writes & X_BIT) state = null;
      pos++;
    }
    indOut[blk.id] = state;
  }
  return { absAt, absKnown, indAt, indOf };
}
