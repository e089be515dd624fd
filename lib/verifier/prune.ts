/**
 * State equivalence for pruning (states_equal / regsafe / stacksafe, NOT_EXACT and EXACT), as the
 * kernel decides whether a path reaching a checkpoint can stop ("safe"). Only registers live at the
 * instruction are compared, as 6.18 does with compute_live_registers' result.
 */
import type { Reg } from "./reg";
import { type StackSlot, type VState } from "./state";
import { tnumIn } from "./tnum";

class IdMap {
  private readonly map = new Map<number, number>();
  private readonly rev = new Map<number, number>();
  tmp = 1 << 30;
  check(oldId: number, curId: number): boolean {
    if (!oldId && !curId) return true;
    if (!oldId || !curId) return false;
    const m = this.map.get(oldId);
    if (m !== undefined) return m === curId;
    const r = this.rev.get(curId);
    if (r !== undefined) return false;
    this.map.set(oldId, curId);
    this.rev.set(curId, oldId);
    return true;
  }
  checkScalar(oldId: number, curId: number): boolean {
    return this.check(oldId || ++this.tmp, curId || ++this.tmp);
  }
}

const rangeWithin = (o: Reg, c: Reg): boolean =>
  o.umin <= c.umin &&
  o.umax >= c.umax &&
  o.smin <= c.smin &&
  o.smax >= c.smax &&
  o.u32min <= c.u32min &&
  o.u32max >= c.u32max &&
  o.s32min <= c.s32min &&
  o.s32max >= c.s32max;

function regsExact(o: Reg, c: Reg, idmap: IdMap): boolean {
  return (
    o.type === c.type &&
    o.maybeNull === c.maybeNull &&
    o.memFlags === c.memFlags &&
    o.off === c.off &&
    o.range === c.range &&
    o.map === c.map &&
    o.addConst === c.addConst &&
    o.varOff.value === c.varOff.value &&
    o.varOff.mask === c.varOff.mask &&
    o.smin === c.smin &&
    o.smax === c.smax &&
    o.umin === c.umin &&
    o.umax === c.umax &&
    o.s32min === c.s32min &&
    o.s32max === c.s32max &&
    o.u32min === c.u32min &&
    o.u32max === c.u32max &&
    idmap.check(o.id, c.id) &&
    idmap.check(o.refObjId, c.refObjId)
  );
}

function regsafe(o: Reg, c: Reg, idmap: IdMap, exact: boolean): boolean {
  if (exact) return regsExact(o, c, idmap);
  if (o.type === "not_init") return true;
  if (o.type !== c.type || o.maybeNull !== c.maybeNull || o.memFlags !== c.memFlags) return false;
  switch (o.type) {
    case "scalar":
      if (!o.precise) return true;
      // A constant's id carries no information; 6.18 prunes protochain paths where a linked
      // constant meets an old unlinked value (observed against the kernel, see tests).
      if (c.varOff.mask !== 0n && !idmap.checkScalar(o.id, c.id)) return false;
      return rangeWithin(o, c) && tnumIn(o.varOff, c.varOff);
    case "map_value":
    case "mem":
      return (
        o.off === c.off &&
        o.range === c.range &&
        o.map === c.map &&
        rangeWithin(o, c) &&
        tnumIn(o.varOff, c.varOff) &&
        idmap.check(o.id, c.id) &&
        idmap.check(o.refObjId, c.refObjId)
      );
    case "pkt":
    case "pkt_meta":
      if (o.range > c.range) return false;
      if (o.off !== c.off) return false;
      if (!idmap.check(o.id, c.id)) return false;
      return rangeWithin(o, c) && tnumIn(o.varOff, c.varOff);
    default:
      return regsExact(o, c, idmap);
  }
}


function scalarForSlot(s: StackSlot | undefined, unbound: Reg): Reg | null {
  if (!s) return null;
  if (s.types.every((t) => t === "r") && s.spilled.type === "scalar") return s.spilled;
  // allow_uninit_stack (root): invalid bytes count as misc.
  if (s.types.every((t) => t === "m" || t === "?")) return unbound;
  return null;
}

function stacksafe(o: VState, c: VState, idmap: IdMap, exact: boolean, unbound: Reg, liveSlots: bigint): boolean {
  const slots = o.allocated >> 3;
  for (let spi = 0; spi < slots; spi++) {
    const os = o.stack[spi];
    if (!os) continue;
    if (!exact && !((liveSlots >> BigInt(spi)) & 1n)) continue;
    const cs = c.stack[spi];
    if (exact) {
      const ct = cs ? cs.types : ["?", "?", "?", "?", "?", "?", "?", "?"];
      if (os.types.some((t, i) => t !== ct[i])) return false;
      if (os.types[7] === "r" && (!cs || !regsExact(os.spilled, cs.spilled, idmap))) return false;
      continue;
    }
    if (os.types.every((t) => t === "?" || t === "m")) continue;
    const oldReg = scalarForSlot(os, unbound);
    const curReg = scalarForSlot(cs, unbound);
    if (oldReg && curReg) {
      if (!regsafe(oldReg, curReg, idmap, false)) return false;
      continue;
    }
    const ct = cs ? cs.types : ["?", "?", "?", "?", "?", "?", "?", "?"];
    for (let i = 0; i < 8; i++) {
      const ot = os.types[i]!;
      if (ot === "?" || ot === "m") continue;
      if (ot !== ct[i]) return false;
    }
    if (os.types[7] === "r" && cs && !regsafe(os.spilled, cs.spilled, idmap, false)) return false;
  }
  return true;
}

/** `liveRegs`: bit i set when ri is live before the instruction. */
/** `liveSlots`: stack slots (bit spi) that may still be read from this instruction on. */
export function statesEqual(old: VState, cur: VState, liveRegs: number, exact: boolean, unbound: Reg, liveSlots: bigint = -1n): boolean {
  const idmap = new IdMap();
  for (let i = 0; i < 11; i++) {
    if (i < 10 && !exact && !(liveRegs & (1 << i))) continue;
    if (!regsafe(old.regs[i]!, cur.regs[i]!, idmap, exact)) return false;
  }
  return stacksafe(old, cur, idmap, exact, unbound, liveSlots);
}

