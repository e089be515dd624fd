/**
 * Scalar arithmetic on abstract registers (adjust_scalar_min_max_vals and the scalar*_min_max_*
 * helpers of kernel/bpf/verifier.c), for 64-bit (ALU64) and 32-bit (ALU) instructions.
 */
import {
  addS32,
  addS64,
  addU32,
  addU64,
  maxB,
  minB,
  mulS32,
  mulS64,
  mulU32,
  mulU64,
  s32,
  S32_MAX,
  S32_MIN,
  s64,
  S64_MAX,
  S64_MIN,
  subS32,
  subS64,
  subU32,
  subU64,
  u32,
  U32_MAX,
  u64,
  U64_MAX,
} from "./num";
import {
  cloneReg,
  coerceRegToSize,
  mark32Known,
  mark32Unbounded,
  mark64Unbounded,
  markUnbounded,
  markUnknown,
  regBoundsSync,
  setKnown,
  updateReg32Bounds,
  updateRegBounds,
  zext32To64,
  type Reg,
} from "./reg";
import {
  tnumAdd,
  tnumAnd,
  tnumArshift,
  tnumBswap,
  tnumIsConst,
  tnumLshift,
  tnumMul,
  tnumNeg,
  tnumOr,
  tnumRshift,
  tnumSub,
  tnumSubreg,
  tnumSubregIsConst,
  tnumXor,
} from "./tnum";

export const OP = {
  ADD: 0x00,
  SUB: 0x10,
  MUL: 0x20,
  DIV: 0x30,
  OR: 0x40,
  AND: 0x50,
  LSH: 0x60,
  RSH: 0x70,
  NEG: 0x80,
  MOD: 0x90,
  XOR: 0xa0,
  MOV: 0xb0,
  ARSH: 0xc0,
  END: 0xd0,
} as const;

export const ALU_OP_NAMES: Record<number, string> = {
  0x00: "+=",
  0x10: "-=",
  0x20: "*=",
  0x30: "/=",
  0x40: "|=",
  0x50: "&=",
  0x60: "<<=",
  0x70: ">>=",
  0x80: "neg",
  0x90: "%=",
  0xa0: "^=",
  0xb0: "=",
  0xc0: "s>>=",
  0xd0: "endian",
};

export function add32(d: Reg, s: Reg): void {
  const [a, oa] = addS32(d.s32min, s.s32min);
  const [b, ob] = addS32(d.s32max, s.s32max);
  if (oa || ob) {
    d.s32min = S32_MIN;
    d.s32max = S32_MAX;
  } else {
    d.s32min = a;
    d.s32max = b;
  }
  const [c, minOv] = addU32(d.u32min, s.u32min);
  const [e, maxOv] = addU32(d.u32max, s.u32max);
  d.u32min = c;
  d.u32max = e;
  if (!minOv && maxOv) {
    d.u32min = 0;
    d.u32max = U32_MAX;
  }
}

export function add64(d: Reg, s: Reg): void {
  const [a, oa] = addS64(d.smin, s.smin);
  const [b, ob] = addS64(d.smax, s.smax);
  if (oa || ob) {
    d.smin = S64_MIN;
    d.smax = S64_MAX;
  } else {
    d.smin = a;
    d.smax = b;
  }
  const [c, minOv] = addU64(d.umin, s.umin);
  const [e, maxOv] = addU64(d.umax, s.umax);
  d.umin = c;
  d.umax = e;
  if (!minOv && maxOv) {
    d.umin = 0n;
    d.umax = U64_MAX;
  }
}


function sub32(d: Reg, s: Reg): void {
  const [a, oa] = subS32(d.s32min, s.s32max);
  const [b, ob] = subS32(d.s32max, s.s32min);
  if (oa || ob) {
    d.s32min = S32_MIN;
    d.s32max = S32_MAX;
  } else {
    d.s32min = a;
    d.s32max = b;
  }
  const [c, minUf] = subU32(d.u32min, s.u32max);
  const [e, maxUf] = subU32(d.u32max, s.u32min);
  d.u32min = c;
  d.u32max = e;
  if (minUf && !maxUf) {
    d.u32min = 0;
    d.u32max = U32_MAX;
  }
}

function sub64(d: Reg, s: Reg): void {
  const [a, oa] = subS64(d.smin, s.smax);
  const [b, ob] = subS64(d.smax, s.smin);
  if (oa || ob) {
    d.smin = S64_MIN;
    d.smax = S64_MAX;
  } else {
    d.smin = a;
    d.smax = b;
  }
  const [c, minUf] = subU64(d.umin, s.umax);
  const [e, maxUf] = subU64(d.umax, s.umin);
  d.umin = c;
  d.umax = e;
  if (minUf && !maxUf) {
    d.umin = 0n;
    d.umax = U64_MAX;
  }
}

function mul32(d: Reg, s: Reg): void {
  const [umax, o1] = mulU32(d.u32max, s.u32max);
  const [umin, o2] = mulU32(d.u32min, s.u32min);
  if (o1 || o2) {
    d.u32min = 0;
    d.u32max = U32_MAX;
  } else {
    d.u32min = umin;
    d.u32max = umax;
  }
  const prods = [mulS32(d.s32min, s.s32min), mulS32(d.s32min, s.s32max), mulS32(d.s32max, s.s32min), mulS32(d.s32max, s.s32max)];
  if (prods.some(([, o]) => o)) {
    d.s32min = S32_MIN;
    d.s32max = S32_MAX;
  } else {
    d.s32min = Math.min(...prods.map(([v]) => v));
    d.s32max = Math.max(...prods.map(([v]) => v));
  }
}

function mul64(d: Reg, s: Reg): void {
  const [umax, o1] = mulU64(d.umax, s.umax);
  const [umin, o2] = mulU64(d.umin, s.umin);
  if (o1 || o2) {
    d.umin = 0n;
    d.umax = U64_MAX;
  } else {
    d.umin = umin;
    d.umax = umax;
  }
  const prods = [mulS64(d.smin, s.smin), mulS64(d.smin, s.smax), mulS64(d.smax, s.smin), mulS64(d.smax, s.smax)];
  if (prods.some(([, o]) => o)) {
    d.smin = S64_MIN;
    d.smax = S64_MAX;
  } else {
    d.smin = prods.map(([v]) => v).reduce(minB);
    d.smax = prods.map(([v]) => v).reduce(maxB);
  }
}

function and32(d: Reg, s: Reg): void {
  const srcKnown = tnumSubregIsConst(s.varOff);
  const dstKnown = tnumSubregIsConst(d.varOff);
  const v = tnumSubreg(d.varOff);
  if (srcKnown && dstKnown) {
    mark32Known(d, Number(v.value));
    return;
  }
  d.u32min = Number(v.value);
  d.u32max = Math.min(d.u32max, s.u32max);
  setS32FromU32(d);
}

function and64(d: Reg, s: Reg): void {
  if (tnumIsConst(s.varOff) && tnumIsConst(d.varOff)) {
    setKnown(d, d.varOff.value);
    return;
  }
  d.umin = d.varOff.value;
  d.umax = minB(d.umax, s.umax);
  setS64FromU64(d);
  updateRegBounds(d);
}

function or32(d: Reg, s: Reg): void {
  const v = tnumSubreg(d.varOff);
  if (tnumSubregIsConst(s.varOff) && tnumSubregIsConst(d.varOff)) {
    mark32Known(d, Number(v.value));
    return;
  }
  d.u32min = Math.max(d.u32min, s.u32min);
  d.u32max = Number(v.value | v.mask);
  setS32FromU32(d);
}

function or64(d: Reg, s: Reg): void {
  if (tnumIsConst(s.varOff) && tnumIsConst(d.varOff)) {
    setKnown(d, d.varOff.value);
    return;
  }
  d.umin = maxB(d.umin, s.umin);
  d.umax = d.varOff.value | d.varOff.mask;
  setS64FromU64(d);
  updateRegBounds(d);
}

function xor32(d: Reg, s: Reg): void {
  const v = tnumSubreg(d.varOff);
  if (tnumSubregIsConst(s.varOff) && tnumSubregIsConst(d.varOff)) {
    mark32Known(d, Number(v.value));
    return;
  }
  d.u32min = Number(v.value);
  d.u32max = Number(v.value | v.mask);
  setS32FromU32(d);
}

function xor64(d: Reg, s: Reg): void {
  if (tnumIsConst(s.varOff) && tnumIsConst(d.varOff)) {
    setKnown(d, d.varOff.value);
    return;
  }
  d.umin = d.varOff.value;
  d.umax = d.varOff.value | d.varOff.mask;
  setS64FromU64(d);
  updateRegBounds(d);
}

function setS32FromU32(d: Reg): void {
  if (s32(d.u32min) <= s32(d.u32max)) {
    d.s32min = s32(d.u32min);
    d.s32max = s32(d.u32max);
  } else {
    d.s32min = S32_MIN;
    d.s32max = S32_MAX;
  }
}

function setS64FromU64(d: Reg): void {
  if (s64(d.umin) <= s64(d.umax)) {
    d.smin = s64(d.umin);
    d.smax = s64(d.umax);
  } else {
    d.smin = S64_MIN;
    d.smax = S64_MAX;
  }
}

function lsh32Bounds(d: Reg, umin: bigint, umax: bigint): void {
  d.s32min = S32_MIN;
  d.s32max = S32_MAX;
  if (umax > 31n || BigInt(d.u32max) > 1n << (31n - umax)) {
    d.u32min = 0;
    d.u32max = U32_MAX;
  } else {
    d.u32min = u32(Number((BigInt(d.u32min) << umin) & 0xffffffffn));
    d.u32max = u32(Number((BigInt(d.u32max) << umax) & 0xffffffffn));
  }
}

function lsh64Bounds(d: Reg, umin: bigint, umax: bigint): void {
  if (umin === 32n && umax === 32n) {
    d.smax = BigInt(d.s32max) << 32n;
    d.smin = BigInt(d.s32min) << 32n;
  } else {
    d.smax = S64_MAX;
    d.smin = S64_MIN;
  }
  if (umax > 63n || d.umax > 1n << (63n - umax)) {
    d.umin = 0n;
    d.umax = U64_MAX;
  } else {
    d.umin = u64(d.umin << umin);
    d.umax = u64(d.umax << umax);
  }
}

function lsh32(d: Reg, s: Reg): void {
  const sub = tnumSubreg(d.varOff);
  lsh32Bounds(d, BigInt(s.u32min), BigInt(s.u32max));
  d.varOff = tnumSubreg(tnumLshift(sub, s.u32min));
  mark64Unbounded(d);
  updateReg32Bounds(d);
}

function lsh64(d: Reg, s: Reg): void {
  lsh64Bounds(d, s.umin, s.umax);
  lsh32Bounds(d, s.umin, s.umax);
  d.varOff = tnumLshift(d.varOff, Number(s.umin));
  updateRegBounds(d);
}

function rsh32(d: Reg, s: Reg): void {
  const sub = tnumSubreg(d.varOff);
  d.s32min = S32_MIN;
  d.s32max = S32_MAX;
  d.varOff = tnumRshift(sub, s.u32min);
  d.u32min = d.u32min >>> s.u32max;
  d.u32max = d.u32max >>> s.u32min;
  mark64Unbounded(d);
  updateReg32Bounds(d);
}

function rsh64(d: Reg, s: Reg): void {
  d.smin = S64_MIN;
  d.smax = S64_MAX;
  d.varOff = tnumRshift(d.varOff, Number(s.umin));
  d.umin = d.umin >> s.umax;
  d.umax = d.umax >> s.umin;
  mark32Unbounded(d);
  updateRegBounds(d);
}

function arsh32(d: Reg, s: Reg): void {
  const sh = s.u32min;
  d.s32min = d.s32min >> sh;
  d.s32max = d.s32max >> sh;
  d.varOff = tnumArshift(tnumSubreg(d.varOff), sh, 32);
  d.u32min = 0;
  d.u32max = U32_MAX;
  mark64Unbounded(d);
  updateReg32Bounds(d);
}

function arsh64(d: Reg, s: Reg): void {
  const sh = s.umin;
  d.smin = d.smin >> sh;
  d.smax = d.smax >> sh;
  d.varOff = tnumArshift(d.varOff, Number(sh), 64);
  d.umin = 0n;
  d.umax = U64_MAX;
  mark32Unbounded(d);
  updateRegBounds(d);
}

/** BPF_END on a scalar: be16/be32/be64 swap on a little-endian host, le* only truncates. */
function byteSwap(d: Reg, alu64: boolean, toBe: boolean, bits: number): void {
  const needSwap = alu64 || toBe;
  if (needSwap) {
    d.varOff = tnumBswap(d.varOff, bits === 16 ? 16 : bits === 32 ? 32 : 64);
    markUnbounded(d);
  }
  if (bits === 16 || bits === 32) coerceRegToSize(d, bits / 8);
}

export function safeToComputeRange(op: number, alu32: boolean, src: Reg): boolean {
  let srcConst: boolean;
  if (alu32) srcConst = tnumSubregIsConst(src.varOff) && src.s32min === src.s32max && src.u32min === src.u32max;
  else srcConst = tnumIsConst(src.varOff) && src.smin === src.smax && src.umin === src.umax;
  switch (op) {
    case OP.ADD:
    case OP.SUB:
    case OP.NEG:
    case OP.AND:
    case OP.XOR:
    case OP.OR:
    case OP.MUL:
    case OP.END:
      return true;
    case OP.LSH:
    case OP.RSH:
    case OP.ARSH:
      return srcConst && src.umax < (alu32 ? 32n : 64n);
    default:
      return false;
  }
}

export interface AluInsn {
  readonly op: number;
  readonly alu32: boolean;
  /** BPF_END: true for be (to big-endian), and the width in imm. */
  readonly toBe?: boolean;
  readonly imm?: number;
}

/** Scalar `dst op= src` in place (adjust_scalar_min_max_vals). */
export function scalarAlu(d: Reg, srcIn: Reg, insn: AluInsn): void {
  const { op, alu32 } = insn;
  if (!safeToComputeRange(op, alu32, srcIn)) {
    markUnknown(d);
    return;
  }
  const s = cloneReg(srcIn);
  switch (op) {
    case OP.ADD:
      add32(d, s);
      add64(d, s);
      d.varOff = tnumAdd(d.varOff, s.varOff);
      break;
    case OP.SUB:
      sub32(d, s);
      sub64(d, s);
      d.varOff = tnumSub(d.varOff, s.varOff);
      break;
    case OP.NEG: {
      const old = cloneReg(d);
      setKnown(d, 0n);
      sub32(d, old);
      sub64(d, old);
      d.varOff = tnumNeg(old.varOff);
      break;
    }
    case OP.MUL:
      d.varOff = tnumMul(d.varOff, s.varOff);
      mul32(d, s);
      mul64(d, s);
      break;
    case OP.AND:
      d.varOff = tnumAnd(d.varOff, s.varOff);
      and32(d, s);
      and64(d, s);
      break;
    case OP.OR:
      d.varOff = tnumOr(d.varOff, s.varOff);
      or32(d, s);
      or64(d, s);
      break;
    case OP.XOR:
      d.varOff = tnumXor(d.varOff, s.varOff);
      xor32(d, s);
      xor64(d, s);
      break;
    case OP.LSH:
      if (alu32) lsh32(d, s);
      else lsh64(d, s);
      break;
    case OP.RSH:
      if (alu32) rsh32(d, s);
      else rsh64(d, s);
      break;
    case OP.ARSH:
      if (alu32) arsh32(d, s);
      else arsh64(d, s);
      break;
    case OP.END:
      byteSwap(d, !alu32, insn.toBe ?? false, insn.imm ?? 64);
      break;
  }
  if (alu32 && op !== OP.END) zext32To64(d);
  regBoundsSync(d);
}

/** A scalar register holding the constant `v` (the "fake register" for immediates). */
export function constReg(v: bigint, template: Reg): Reg {
  const r = cloneReg(template);
  markUnknown(r);
  setKnown(r, v);
  return r;
}

