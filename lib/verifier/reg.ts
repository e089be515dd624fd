/**
 * Register state (struct bpf_reg_state) and the kernel's bound-keeping on it: the tnum `varOff`,
 * 64- and 32-bit signed and unsigned ranges, and the functions that keep them consistent
 * (reg_bounds_sync and friends). Written after kernel/bpf/verifier.c; names follow the kernel's so
 * that a reader can hold the two side by side.
 */
import {
  lo32,
  lo32s,
  maxB,
  minB,
  s32,
  S32_MAX,
  S32_MIN,
  s64,
  S64_MAX,
  S64_MIN,
  u32,
  U32_MAX,
  u64,
  U64_MAX,
} from "./num";
import {
  type Tnum,
  TNUM_UNKNOWN,
  tnumCast,
  tnumClearSubreg,
  tnumConst,
  tnumConstSubreg,
  tnumIntersect,
  tnumIsConst,
  tnumStep,
  tnumOr,
  tnumRange,
  tnumSubreg,
} from "./tnum";

/** Register types the emulator models (kernel enum bpf_reg_type, base types). */
export type RegType =
  | "not_init"
  | "scalar"
  | "ctx"
  | "map_ptr"
  | "map_value"
  | "fp"
  | "pkt"
  | "pkt_meta"
  | "pkt_end"
  | "mem"
  | "sock_common"
  | "flow_keys";

/** What the emulator knows about a map (from the program's map table). */
export interface MapInfo {
  readonly name: string;
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  /** The map's kernel address, when known (the kernel prints it in ld_imm64). */
  readonly address?: bigint;
}

/** Packet range markers (kernel: enum bpf_pkt_range). */
export const AT_PKT_END = -1;
export const BEYOND_PKT_END = -2;

export interface Reg {
  type: RegType;
  /** PTR_MAYBE_NULL: printed as `_or_null`. */
  maybeNull: boolean;
  /** MEM_RDONLY / MEM_RINGBUF prefixes for `mem`. */
  memFlags: "" | "rdonly_" | "ringbuf_";
  /** Fixed offset of a pointer (reg->off). */
  off: number;
  /** Packet range (`r=`), or mem size (`sz=`) for mem. */
  range: number;
  id: number;
  /** BPF_ADD_CONST: the scalar is `linked id + off` (printed as `id=N+off`). */
  addConst: boolean;
  refObjId: number;
  varOff: Tnum;
  smin: bigint;
  smax: bigint;
  umin: bigint;
  umax: bigint;
  s32min: number;
  s32max: number;
  u32min: number;
  u32max: number;
  map: MapInfo | null;
  precise: boolean;
}

export function newReg(): Reg {
  return {
    type: "not_init",
    maybeNull: false,
    memFlags: "",
    off: 0,
    range: 0,
    id: 0,
    addConst: false,
    refObjId: 0,
    varOff: TNUM_UNKNOWN,
    smin: S64_MIN,
    smax: S64_MAX,
    umin: 0n,
    umax: U64_MAX,
    s32min: S32_MIN,
    s32max: S32_MAX,
    u32min: 0,
    u32max: U32_MAX,
    map: null,
    precise: false,
  };
}

export const cloneReg = (r: Reg): Reg => ({ ...r });

export function copyRegInto(dst: Reg, src: Reg): void {
  Object.assign(dst, src);
}

export const isPointer = (r: Reg): boolean => r.type !== "scalar" && r.type !== "not_init";
export const isPktPointer = (r: Reg): boolean => r.type === "pkt" || r.type === "pkt_meta";

export function markUnbounded(r: Reg): void {
  mark64Unbounded(r);
  mark32Unbounded(r);
}
export function mark64Unbounded(r: Reg): void {
  r.smin = S64_MIN;
  r.smax = S64_MAX;
  r.umin = 0n;
  r.umax = U64_MAX;
}
export function mark32Unbounded(r: Reg): void {
  r.s32min = S32_MIN;
  r.s32max = S32_MAX;
  r.u32min = 0;
  r.u32max = U32_MAX;
}

/** ___mark_reg_known: only the numeric parts. */
export function setKnown(r: Reg, v: bigint): void {
  const uv = u64(v);
  r.varOff = tnumConst(uv);
  r.smin = s64(uv);
  r.smax = s64(uv);
  r.umin = uv;
  r.umax = uv;
  r.s32min = lo32s(uv);
  r.s32max = lo32s(uv);
  r.u32min = lo32(uv);
  r.u32max = lo32(uv);
}

/** __mark_reg_known: also clears pointer-specific fields (type is kept). */
export function markKnown(r: Reg, v: bigint): void {
  r.off = 0;
  r.range = 0;
  r.map = null;
  r.id = 0;
  r.addConst = false;
  r.refObjId = 0;
  setKnown(r, v);
}

export function mark32Known(r: Reg, v: number): void {
  r.varOff = tnumConstSubreg(r.varOff, v);
  r.s32min = s32(v);
  r.s32max = s32(v);
  r.u32min = u32(v);
  r.u32max = u32(v);
}

/** A scalar with a known value (kernel: mark_reg_unknown + __mark_reg_known). */
export function markConstScalar(r: Reg, v: bigint): void {
  markUnknown(r);
  setKnown(r, v);
}

/** __mark_reg_unknown: a scalar about which nothing is known. */
export function markUnknown(r: Reg): void {
  r.type = "scalar";
  r.maybeNull = false;
  r.memFlags = "";
  r.off = 0;
  r.range = 0;
  r.map = null;
  r.id = 0;
  r.addConst = false;
  r.refObjId = 0;
  r.varOff = TNUM_UNKNOWN;
  r.precise = false;
  markUnbounded(r);
}

export function markNotInit(r: Reg): void {
  markUnknown(r);
  r.type = "not_init";
}

/** mark_reg_known_zero for pointers: a pointer with offset 0 and no variable part. */
export function markPointer(r: Reg, type: RegType): void {
  markUnknown(r);
  setKnown(r, 0n);
  r.type = type;
}

// ---------------------------------------------------------------------------------------------
// reg_bounds_sync
// ---------------------------------------------------------------------------------------------

export function updateReg32Bounds(r: Reg): void {
  const v = tnumSubreg(r.varOff);
  const val = Number(v.value);
  const mask = Number(v.mask);
  // min signed is max(sign bit) | min(other bits)
  r.s32min = Math.max(r.s32min, s32(val | (mask & 0x80000000)));
  r.s32max = Math.min(r.s32max, s32(val | (mask & 0x7fffffff)));
  r.u32min = Math.max(r.u32min, val);
  r.u32max = Math.min(r.u32max, u32(val | mask));
}

export function updateReg64Bounds(r: Reg): void {
  const { value, mask } = r.varOff;
  r.smin = maxB(r.smin, s64(value | (mask & (1n << 63n))));
  r.smax = minB(r.smax, s64(value | (mask & S64_MAX)));
  r.umin = maxB(r.umin, value);
  r.umax = minB(r.umax, value | mask);
  // When the u64 range and the tnum share a single value, the register is that constant.
  if (mask === 0n || r.umin > r.umax) return;
  const next = tnumStep(r.varOff, r.umin);
  const uminIn = (r.umin & ~mask) === value;
  const tmax = value | mask;
  if (uminIn && (next === null || next > r.umax)) setKnown(r, r.umin);
  else if (!uminIn && next === tmax) setKnown(r, tmax);
  else if (!uminIn && next !== null && next <= r.umax) {
    const after = tnumStep(r.varOff, next);
    if (after === null || after > r.umax) setKnown(r, next);
  }
}

export function updateRegBounds(r: Reg): void {
  updateReg32Bounds(r);
  updateReg64Bounds(r);
}

function reg32DeduceBounds(r: Reg): void {
  const uminLo = Number(r.umin & 0xffffffffn);
  const umaxLo = Number(r.umax & 0xffffffffn);
  const uminHi = Number(r.umin >> 32n);
  const umaxHi = Number(r.umax >> 32n);
  const sminU = u64(r.smin);
  const smaxU = u64(r.smax);
  const sminLo = Number(sminU & 0xffffffffn);
  const smaxLo = Number(smaxU & 0xffffffffn);
  const sminHi = Number(sminU >> 32n);
  const smaxHi = Number(smaxU >> 32n);
  if (uminHi === umaxHi) {
    r.u32min = Math.max(r.u32min, uminLo);
    r.u32max = Math.min(r.u32max, umaxLo);
    if ((uminLo | 0) <= (umaxLo | 0)) {
      r.s32min = Math.max(r.s32min, uminLo | 0);
      r.s32max = Math.min(r.s32max, umaxLo | 0);
    }
  }
  if (sminHi === smaxHi) {
    if (sminLo <= smaxLo) {
      r.u32min = Math.max(r.u32min, sminLo);
      r.u32max = Math.min(r.u32max, smaxLo);
    }
    if ((sminLo | 0) <= (smaxLo | 0)) {
      r.s32min = Math.max(r.s32min, sminLo | 0);
      r.s32max = Math.min(r.s32max, smaxLo | 0);
    }
  }
  // Upper halves two consecutive numbers while the low halves cross from negative to positive.
  if (((uminHi + 1) >>> 0) === (umaxHi >>> 0) && (uminLo | 0) < 0 && (umaxLo | 0) >= 0) {
    r.s32min = Math.max(r.s32min, uminLo | 0);
    r.s32max = Math.min(r.s32max, umaxLo | 0);
  }
  if (((sminHi + 1) >>> 0) === (smaxHi >>> 0) && (sminLo | 0) < 0 && (smaxLo | 0) >= 0) {
    r.s32min = Math.max(r.s32min, sminLo | 0);
    r.s32max = Math.min(r.s32max, smaxLo | 0);
  }
  if (s32(r.u32min) <= s32(r.u32max)) {
    r.s32min = Math.max(r.s32min, s32(r.u32min));
    r.s32max = Math.min(r.s32max, s32(r.u32max));
  }
  if (u32(r.s32min) <= u32(r.s32max)) {
    r.u32min = Math.max(u32(r.s32min), r.u32min);
    r.u32max = Math.min(u32(r.s32max), r.u32max);
  } else if (r.u32max < u32(r.s32min)) {
    // The s32 range crosses the sign boundary and the u32 range meets only its positive part
    // (the 32-bit twin of the 64-bit case below; observed on 6.18).
    r.s32min = s32(r.u32min);
    r.u32max = Math.min(r.u32max, u32(r.s32max));
  } else if (u32(r.s32max) < r.u32min) {
    r.s32max = s32(r.u32max);
    r.u32min = Math.max(r.u32min, u32(r.s32min));
  }
}

function reg64DeduceBounds(r: Reg): void {
  if (s64(r.umin) <= s64(r.umax)) {
    r.smin = maxB(r.smin, s64(r.umin));
    r.smax = minB(r.smax, s64(r.umax));
  }
  if (u64(r.smin) <= u64(r.smax)) {
    r.umin = maxB(u64(r.smin), r.umin);
    r.umax = minB(u64(r.smax), r.umax);
  } else if (r.umax < u64(r.smin)) {
    // The signed range crosses the sign boundary; the unsigned one overlaps only its positive part.
    r.smin = s64(r.umin);
    r.umax = minB(r.umax, u64(r.smax));
  } else if (u64(r.smax) < r.umin) {
    r.smax = s64(r.umax);
    r.umin = maxB(r.umin, u64(r.smin));
  }
}

function regDeduceMixedBounds(r: Reg): void {
  const hiMask = ~0xffffffffn;
  const newUmin = (r.umin & hiMask) | BigInt(r.u32min);
  const newUmax = (r.umax & hiMask) | BigInt(r.u32max);
  r.umin = maxB(r.umin, u64(newUmin));
  r.umax = minB(r.umax, u64(newUmax));
  const newSmin = s64((u64(r.smin) & hiMask) | BigInt(r.u32min));
  const newSmax = s64((u64(r.smax) & hiMask) | BigInt(r.u32max));
  r.smin = maxB(r.smin, newSmin);
  r.smax = minB(r.smax, newSmax);
  if (r.s32min >= 0 && r.smin >= BigInt(S32_MIN) && r.smax <= BigInt(S32_MAX)) {
    r.smin = BigInt(r.s32min);
    r.smax = BigInt(r.s32max);
    r.umin = BigInt(r.s32min);
    r.umax = BigInt(r.s32max);
    r.varOff = tnumIntersect(r.varOff, tnumRange(r.smin, r.smax));
  }
}

export function regDeduceBounds(r: Reg): void {
  reg32DeduceBounds(r);
  reg64DeduceBounds(r);
  regDeduceMixedBounds(r);
}

/** __reg_bound_offset: learn bits of var_off from the unsigned ranges. */
export function regBoundOffset(r: Reg): void {
  const var64 = tnumIntersect(r.varOff, tnumRange(r.umin, r.umax));
  const var32 = tnumIntersect(tnumSubreg(var64), tnumRange(BigInt(r.u32min), BigInt(r.u32max)));
  r.varOff = tnumOr(tnumClearSubreg(var64), var32);
}

export function regBoundsSync(r: Reg): void {
  // A constant whose ranges already say so cannot learn anything more.
  if (r.varOff.mask === 0n) {
    const v = r.varOff.value;
    const lo = Number(v & 0xffffffffn);
    if (r.umin === v && r.umax === v && r.smin === s64(v) && r.smax === s64(v) && r.u32min === lo && r.u32max === lo && r.s32min === (lo | 0) && r.s32max === (lo | 0)) return;
  }
  updateRegBounds(r);
  // The kernel runs three deduction passes; a pass that changes nothing makes the rest no-ops.
  for (let i = 0; i < 3; i++) {
    const { smin, smax, umin, umax, s32min, s32max, u32min, u32max, varOff } = r;
    regDeduceBounds(r);
    if (
      r.smin === smin && r.smax === smax && r.umin === umin && r.umax === umax &&
      r.s32min === s32min && r.s32max === s32max && r.u32min === u32min && r.u32max === u32max &&
      r.varOff === varOff
    ) {
      break;
    }
  }
  regBoundOffset(r);
  updateRegBounds(r);
}

/** reg_bounds_sanity_check: on a violation the kernel resets the register to unbounded. */
export function regBoundsSane(r: Reg): boolean {
  if (r.umin > r.umax || r.smin > r.smax || r.u32min > r.u32max || r.s32min > r.s32max) return false;
  if (tnumIsConst(r.varOff)) {
    const v = r.varOff.value;
    if (r.umin !== v || r.umax !== v || r.smin !== s64(v) || r.smax !== s64(v)) return false;
  }
  if ((r.varOff.mask & 0xffffffffn) === 0n) {
    const v = lo32(r.varOff.value);
    if (r.u32min !== v || r.u32max !== v || r.s32min !== s32(v) || r.s32max !== s32(v)) return false;
  }
  return true;
}

const reg32BoundS64 = (a: number): boolean => a >= 0 && a <= S32_MAX;

export function assign32Into64(r: Reg): void {
  r.umin = BigInt(r.u32min);
  r.umax = BigInt(r.u32max);
  if (reg32BoundS64(r.s32min) && reg32BoundS64(r.s32max)) {
    r.smin = BigInt(r.s32min);
    r.smax = BigInt(r.s32max);
  } else {
    r.smin = 0n;
    r.smax = BigInt(U32_MAX);
  }
}

export function zext32To64(r: Reg): void {
  r.varOff = tnumSubreg(r.varOff);
  assign32Into64(r);
}

/** coerce_reg_to_size: truncate to `size` bytes (zero-extending loads and be16/be32). */
export function coerceRegToSize(r: Reg, size: number): void {
  r.varOff = tnumCast(r.varOff, size);
  const mask = (1n << BigInt(size * 8)) - 1n;
  if ((r.umin & ~mask) === (r.umax & ~mask)) {
    r.umin &= mask;
    r.umax &= mask;
  } else {
    r.umin = 0n;
    r.umax = mask;
  }
  r.smin = r.umin;
  r.smax = r.umax;
  if (size < 4) mark32Unbounded(r);
  regBoundsSync(r);
}

/** Sign-extending truncation (movsx, ldsx): exact for constants, the type's full range otherwise. */
export function coerceRegToSizeSx(r: Reg, size: number): void {
  const bits = size * 8;
  if (tnumIsConst(r.varOff)) {
    setKnown(r, u64(BigInt.asIntN(bits, r.varOff.value)));
    return;
  }
  const lo = -(1n << BigInt(bits - 1));
  const hi = (1n << BigInt(bits - 1)) - 1n;
  if (r.smin >= 0n && r.smax <= hi) {
    // Already within the positive half: nothing changes.
  } else {
    r.varOff = TNUM_UNKNOWN;
    markUnbounded(r);
    r.smin = lo;
    r.smax = hi;
    r.s32min = Math.max(S32_MIN, Number(lo));
    r.s32max = Math.min(S32_MAX, Number(hi));
  }
  regBoundsSync(r);
}

export function coerceSubregToSizeSx(r: Reg, size: number): void {
  const bits = size * 8;
  if (tnumIsConst(tnumSubreg(r.varOff)) && (r.varOff.mask & 0xffffffffn) === 0n) {
    const v = Number(BigInt.asIntN(bits, r.varOff.value & 0xffffffffn));
    mark32Known(r, v);
    return;
  }
  r.varOff = tnumClearSubreg(r.varOff);
  r.varOff = { value: r.varOff.value, mask: r.varOff.mask | 0xffffffffn };
  r.s32min = -(2 ** (bits - 1));
  r.s32max = 2 ** (bits - 1) - 1;
  r.u32min = 0;
  r.u32max = U32_MAX;
  regBoundsSync(r);
}

/** Exact width of the value: how many low bits can be non-zero (get_reg_width). */
export function regWidth(r: Reg): number {
  const m = r.umax;
  return m === 0n ? 0 : m.toString(2).length;
}

export const regIsConst = (r: Reg, alu32: boolean): boolean =>
  alu32 ? (r.varOff.mask & 0xffffffffn) === 0n : tnumIsConst(r.varOff);
export const regConstValue = (r: Reg, alu32: boolean): bigint => (alu32 ? r.varOff.value & 0xffffffffn : r.varOff.value);
