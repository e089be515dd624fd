/**
 * Conditional jumps on abstract values: whether a branch is decided (is_branch_taken), what each
 * outcome teaches about the operands (regs_refine_cond_op), and the packet-range marks a
 * comparison against pkt_end gives (find_good_pkt_pointers, mark_pkt_end).
 */
import { s64, u64 } from "./num";
import { AT_PKT_END, BEYOND_PKT_END, markUnbounded, regConstValue, regIsConst, type Reg } from "./reg";
import { isSpilled, type VState } from "./state";
import { tnumAnd, tnumConst, tnumIntersect, tnumIsConst, tnumOr, tnumSubreg, tnumWithSubreg } from "./tnum";

const MAX_PACKET_OFF = 0xffff;

export const JMP = {
  JA: 0x00,
  JEQ: 0x10,
  JGT: 0x20,
  JGE: 0x30,
  JSET: 0x40,
  JNE: 0x50,
  JSGT: 0x60,
  JSGE: 0x70,
  CALL: 0x80,
  EXIT: 0x90,
  JLT: 0xa0,
  JLE: 0xb0,
  JSLT: 0xc0,
  JSLE: 0xd0,
  JCOND: 0xe0,
} as const;
/** rev_opcode(BPF_JSET): "not jset", encoded as JSET|X as the kernel does. */
export const JSET_NOT = 0x48;

export const flipOpcode = (op: number): number =>
  ({ [JMP.JGT]: JMP.JLT, [JMP.JLT]: JMP.JGT, [JMP.JGE]: JMP.JLE, [JMP.JLE]: JMP.JGE, [JMP.JSGT]: JMP.JSLT, [JMP.JSLT]: JMP.JSGT, [JMP.JSGE]: JMP.JSLE, [JMP.JSLE]: JMP.JSGE })[op] ?? op;
export const revOpcode = (op: number): number =>
  ({
    [JMP.JEQ]: JMP.JNE,
    [JMP.JNE]: JMP.JEQ,
    [JMP.JSET]: JSET_NOT,
    [JSET_NOT]: JMP.JSET,
    [JMP.JGT]: JMP.JLE,
    [JMP.JLE]: JMP.JGT,
    [JMP.JGE]: JMP.JLT,
    [JMP.JLT]: JMP.JGE,
    [JMP.JSGT]: JMP.JSLE,
    [JMP.JSLE]: JMP.JSGT,
    [JMP.JSGE]: JMP.JSLT,
    [JMP.JSLT]: JMP.JSGE,
  })[op] ?? op;


export function findGoodPktPointers(st: VState, dstReg: Reg, rightOpen: boolean): void {
  const { off, type, id } = dstReg;
  if (off < 0 || (off === 0 && rightOpen)) return;
  if (dstReg.umax > BigInt(MAX_PACKET_OFF) || dstReg.umax + BigInt(off) > BigInt(MAX_PACKET_OFF)) return;
  const newRange = rightOpen ? off + 1 : off;
  const apply = (r: Reg) => {
    if (r.type === type && r.id === id) r.range = Math.max(r.range, newRange);
  };
  for (const r of st.regs) apply(r);
  for (const s of st.stack) if (s && isSpilled(s)) apply(s.spilled);
}

export function markPktEnd(st: VState, regno: number, rangeOpen: boolean): void {
  const r = st.regs[regno]!;
  if (r.type !== "pkt") return;
  r.range = rangeOpen ? BEYOND_PKT_END : AT_PKT_END;
}

/** is_scalar_branch_taken: 1 taken, 0 not taken, -1 unknown. */
export function isScalarBranchTaken(r1: Reg, r2: Reg, op: number, isJmp32: boolean): number {
  const t1 = isJmp32 ? tnumSubreg(r1.varOff) : r1.varOff;
  const t2 = isJmp32 ? tnumSubreg(r2.varOff) : r2.varOff;
  const umin1 = isJmp32 ? BigInt(r1.u32min) : r1.umin;
  const umax1 = isJmp32 ? BigInt(r1.u32max) : r1.umax;
  const umin2 = isJmp32 ? BigInt(r2.u32min) : r2.umin;
  const umax2 = isJmp32 ? BigInt(r2.u32max) : r2.umax;
  const smin1 = isJmp32 ? BigInt(r1.s32min) : r1.smin;
  const smax1 = isJmp32 ? BigInt(r1.s32max) : r1.smax;
  const smin2 = isJmp32 ? BigInt(r2.s32min) : r2.smin;
  const smax2 = isJmp32 ? BigInt(r2.s32max) : r2.smax;
  switch (op) {
    case JMP.JEQ:
    case JMP.JNE: {
      const eq = op === JMP.JEQ;
      if (tnumIsConst(t1) && tnumIsConst(t2)) return (t1.value === t2.value) === eq ? 1 : 0;
      // Known bits that disagree: the values can never be equal (tnum_overlap).
      if ((t1.value ^ t2.value) & ~t1.mask & ~t2.mask) return eq ? 0 : 1;
      const disjoint =
        umin1 > umax2 ||
        umax1 < umin2 ||
        smin1 > smax2 ||
        smax1 < smin2 ||
        (!isJmp32 && (r1.u32min > r2.u32max || r1.u32max < r2.u32min || r1.s32min > r2.s32max || r1.s32max < r2.s32min));
      if (disjoint) return eq ? 0 : 1;
      break;
    }
    case JMP.JSET: {
      let a = t1;
      let b = t2;
      if (!regIsConst(r2, isJmp32)) {
        if (!regIsConst(r1, isJmp32)) return -1;
        [a, b] = [t2, t1];
      }
      if (~a.mask & a.value & b.value) return 1;
      if (!((a.mask | a.value) & b.value)) return 0;
      break;
    }
    case JMP.JGT:
      if (umin1 > umax2) return 1;
      if (umax1 <= umin2) return 0;
      break;
    case JMP.JSGT:
      if (smin1 > smax2) return 1;
      if (smax1 <= smin2) return 0;
      break;
    case JMP.JLT:
      if (umax1 < umin2) return 1;
      if (umin1 >= umax2) return 0;
      break;
    case JMP.JSLT:
      if (smax1 < smin2) return 1;
      if (smin1 >= smax2) return 0;
      break;
    case JMP.JGE:
      if (umin1 >= umax2) return 1;
      if (umax1 < umin2) return 0;
      break;
    case JMP.JSGE:
      if (smin1 >= smax2) return 1;
      if (smax1 < smin2) return 0;
      break;
    case JMP.JLE:
      if (umax1 <= umin2) return 1;
      if (umin1 > umax2) return 0;
      break;
    case JMP.JSLE:
      if (smax1 <= smin2) return 1;
      if (smin1 > smax2) return 0;
      break;
  }
  return -1;
}

/** regs_refine_cond_op: what a comparison's outcome teaches about both operands. */
export function refineCondOp(reg1: Reg, reg2: Reg, op: number, isJmp32: boolean): void {
  if (op === JMP.JGE || op === JMP.JGT || op === JMP.JSGE || op === JMP.JSGT) {
    op = flipOpcode(op);
    [reg1, reg2] = [reg2, reg1];
  }
  switch (op) {
    case JMP.JEQ:
      if (isJmp32) {
        reg1.u32min = Math.max(reg1.u32min, reg2.u32min);
        reg1.u32max = Math.min(reg1.u32max, reg2.u32max);
        reg1.s32min = Math.max(reg1.s32min, reg2.s32min);
        reg1.s32max = Math.min(reg1.s32max, reg2.s32max);
        reg2.u32min = reg1.u32min;
        reg2.u32max = reg1.u32max;
        reg2.s32min = reg1.s32min;
        reg2.s32max = reg1.s32max;
        const t = tnumIntersect(tnumSubreg(reg1.varOff), tnumSubreg(reg2.varOff));
        reg1.varOff = tnumWithSubreg(reg1.varOff, t);
        reg2.varOff = tnumWithSubreg(reg2.varOff, t);
      } else {
        reg1.umin = reg1.umin > reg2.umin ? reg1.umin : reg2.umin;
        reg1.umax = reg1.umax < reg2.umax ? reg1.umax : reg2.umax;
        reg1.smin = reg1.smin > reg2.smin ? reg1.smin : reg2.smin;
        reg1.smax = reg1.smax < reg2.smax ? reg1.smax : reg2.smax;
        reg2.umin = reg1.umin;
        reg2.umax = reg1.umax;
        reg2.smin = reg1.smin;
        reg2.smax = reg1.smax;
        reg1.varOff = tnumIntersect(reg1.varOff, reg2.varOff);
        reg2.varOff = reg1.varOff;
      }
      break;
    case JMP.JNE: {
      if (!regIsConst(reg2, isJmp32)) [reg1, reg2] = [reg2, reg1];
      if (!regIsConst(reg2, isJmp32)) break;
      const val = regConstValue(reg2, isJmp32);
      if (isJmp32) {
        const v = Number(val);
        if (reg1.u32min === v) reg1.u32min++;
        if (reg1.u32max === v) reg1.u32max--;
        if (reg1.s32min === (v | 0)) reg1.s32min++;
        if (reg1.s32max === (v | 0)) reg1.s32max--;
      } else {
        if (reg1.umin === val) reg1.umin++;
        if (reg1.umax === val) reg1.umax--;
        if (reg1.smin === s64(val)) reg1.smin++;
        if (reg1.smax === s64(val)) reg1.smax--;
      }
      break;
    }
    case JMP.JSET:
    case JSET_NOT: {
      if (!regIsConst(reg2, isJmp32)) [reg1, reg2] = [reg2, reg1];
      if (!regIsConst(reg2, isJmp32)) break;
      const val = regConstValue(reg2, isJmp32);
      if (op === JMP.JSET) {
        if (val === 0n || (val & (val - 1n)) !== 0n) break;
        if (isJmp32) reg1.varOff = tnumWithSubreg(reg1.varOff, tnumOr(tnumSubreg(reg1.varOff), tnumConst(val)));
        else reg1.varOff = tnumOr(reg1.varOff, tnumConst(val));
      } else {
        markUnbounded(reg1);
        if (isJmp32) reg1.varOff = tnumWithSubreg(reg1.varOff, tnumAnd(tnumSubreg(reg1.varOff), tnumConst(u64(~val) & 0xffffffffn)));
        else reg1.varOff = tnumAnd(reg1.varOff, tnumConst(u64(~val)));
      }
      break;
    }
    case JMP.JLE:
      if (isJmp32) {
        reg1.u32max = Math.min(reg1.u32max, reg2.u32max);
        reg2.u32min = Math.max(reg1.u32min, reg2.u32min);
      } else {
        reg1.umax = reg1.umax < reg2.umax ? reg1.umax : reg2.umax;
        reg2.umin = reg1.umin > reg2.umin ? reg1.umin : reg2.umin;
      }
      break;
    case JMP.JLT:
      if (isJmp32) {
        reg1.u32max = Math.min(reg1.u32max, (reg2.u32max - 1) >>> 0);
        reg2.u32min = Math.max((reg1.u32min + 1) >>> 0, reg2.u32min);
      } else {
        const m = u64(reg2.umax - 1n);
        reg1.umax = reg1.umax < m ? reg1.umax : m;
        const n = u64(reg1.umin + 1n);
        reg2.umin = n > reg2.umin ? n : reg2.umin;
      }
      break;
    case JMP.JSLE:
      if (isJmp32) {
        reg1.s32max = Math.min(reg1.s32max, reg2.s32max);
        reg2.s32min = Math.max(reg1.s32min, reg2.s32min);
      } else {
        reg1.smax = reg1.smax < reg2.smax ? reg1.smax : reg2.smax;
        reg2.smin = reg1.smin > reg2.smin ? reg1.smin : reg2.smin;
      }
      break;
    case JMP.JSLT:
      if (isJmp32) {
        reg1.s32max = Math.min(reg1.s32max, (reg2.s32max - 1) | 0);
        reg2.s32min = Math.max((reg1.s32min + 1) | 0, reg2.s32min);
      } else {
        const m = s64(reg2.smax - 1n);
        reg1.smax = reg1.smax < m ? reg1.smax : m;
        const n = s64(reg1.smin + 1n);
        reg2.smin = n > reg2.smin ? n : reg2.smin;
      }
      break;
  }
}

