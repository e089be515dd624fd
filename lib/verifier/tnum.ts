/**
 * Tracked numbers (kernel/bpf/tnum.c): a value whose bits are each known 0, known 1 or unknown.
 * `value` holds the known-1 bits, `mask` the unknown ones; both are u64 bigints.
 */
import { fls64, u64, U64_MAX } from "./num";

export interface Tnum {
  readonly value: bigint;
  readonly mask: bigint;
}

const T = (value: bigint, mask: bigint): Tnum => ({ value: u64(value), mask: u64(mask) });

export const TNUM_UNKNOWN: Tnum = { value: 0n, mask: U64_MAX };
export const tnumConst = (v: bigint): Tnum => T(v, 0n);
export const tnumIsConst = (a: Tnum): boolean => a.mask === 0n;
export const tnumIsUnknown = (a: Tnum): boolean => a.mask === U64_MAX;
export const tnumEqualsConst = (a: Tnum, v: bigint): boolean => a.mask === 0n && a.value === u64(v);

export function tnumRange(min: bigint, max: bigint): Tnum {
  const chi = u64(min ^ max);
  const bits = fls64(chi);
  if (bits > 63) return TNUM_UNKNOWN;
  const delta = (1n << BigInt(bits)) - 1n;
  return T(min & ~delta, delta);
}

export const tnumLshift = (a: Tnum, s: number): Tnum => T(a.value << BigInt(s), a.mask << BigInt(s));
export const tnumRshift = (a: Tnum, s: number): Tnum => T(a.value >> BigInt(s), a.mask >> BigInt(s));

export function tnumArshift(a: Tnum, s: number, bits: 32 | 64): Tnum {
  if (bits === 32) {
    const v = BigInt.asIntN(32, a.value) >> BigInt(s);
    const m = BigInt.asIntN(32, a.mask) >> BigInt(s);
    return T(BigInt.asUintN(32, v), BigInt.asUintN(32, m));
  }
  return T(BigInt.asIntN(64, a.value) >> BigInt(s), BigInt.asIntN(64, a.mask) >> BigInt(s));
}

export function tnumAdd(a: Tnum, b: Tnum): Tnum {
  const sm = u64(a.mask + b.mask);
  const sv = u64(a.value + b.value);
  const sigma = u64(sm + sv);
  const chi = sigma ^ sv;
  const mu = chi | a.mask | b.mask;
  return T(sv & ~mu, mu);
}

export function tnumSub(a: Tnum, b: Tnum): Tnum {
  const dv = u64(a.value - b.value);
  const alpha = u64(dv + a.mask);
  const beta = u64(dv - b.mask);
  const chi = alpha ^ beta;
  const mu = chi | a.mask | b.mask;
  return T(dv & ~mu, mu);
}

export const tnumNeg = (a: Tnum): Tnum => tnumSub(T(0n, 0n), a);

export function tnumAnd(a: Tnum, b: Tnum): Tnum {
  const alpha = a.value | a.mask;
  const beta = b.value | b.mask;
  const v = a.value & b.value;
  return T(v, alpha & beta & ~v);
}

export function tnumOr(a: Tnum, b: Tnum): Tnum {
  const v = a.value | b.value;
  const mu = a.mask | b.mask;
  return T(v, mu & ~v);
}

export function tnumXor(a: Tnum, b: Tnum): Tnum {
  const v = a.value ^ b.value;
  const mu = a.mask | b.mask;
  return T(v & ~mu, mu);
}

export function tnumUnion(a: Tnum, b: Tnum): Tnum {
  const v = a.value & b.value;
  const mu = (a.value ^ b.value) | a.mask | b.mask;
  return T(v & ~mu, mu);
}

/** Long multiplication over the bits of `a` (the 6.17+ algorithm, with a union for unknown bits). */
export function tnumMul(a: Tnum, b: Tnum): Tnum {
  let acc = T(0n, 0n);
  while (a.value !== 0n || a.mask !== 0n) {
    if (a.value & 1n) acc = tnumAdd(acc, b);
    else if (a.mask & 1n) acc = tnumUnion(acc, tnumAdd(acc, b));
    a = tnumRshift(a, 1);
    b = tnumLshift(b, 1);
  }
  return acc;
}

export function tnumIntersect(a: Tnum, b: Tnum): Tnum {
  const v = a.value | b.value;
  const mu = a.mask & b.mask;
  return T(v & ~mu, mu);
}

export function tnumCast(a: Tnum, size: number): Tnum {
  const m = size >= 8 ? U64_MAX : (1n << BigInt(size * 8)) - 1n;
  return T(a.value & m, a.mask & m);
}

/** Is every value of `b` also a value of `a`? */
export function tnumIn(a: Tnum, b: Tnum): boolean {
  if (b.mask & ~a.mask) return false;
  return a.value === (b.value & ~a.mask);
}

export const tnumSubreg = (a: Tnum): Tnum => tnumCast(a, 4);
export const tnumClearSubreg = (a: Tnum): Tnum => tnumLshift(tnumRshift(a, 32), 32);
export const tnumWithSubreg = (reg: Tnum, sub: Tnum): Tnum => tnumOr(tnumClearSubreg(reg), tnumSubreg(sub));
export const tnumConstSubreg = (a: Tnum, v: number): Tnum => tnumWithSubreg(a, tnumConst(BigInt(v >>> 0)));
export const tnumSubregIsConst = (a: Tnum): boolean => (a.mask & 0xffffffffn) === 0n;

function swapBytes(v: bigint, bytes: number): bigint {
  let out = 0n;
  for (let i = 0; i < bytes; i++) out = (out << 8n) | ((v >> BigInt(8 * i)) & 0xffn);
  return out;
}
/** Byte swap of the low `bits` bits (upper bits dropped), as tnum_bswap16/32/64. */
export const tnumBswap = (a: Tnum, bits: 16 | 32 | 64): Tnum => T(swapBytes(a.value, bits / 8), swapBytes(a.mask, bits / 8));

/** The smallest member of `t` that is ≥ x (bits=64 or 32), or null when there is none. */
export function tnumMinAtLeast(t: Tnum, x: bigint, bits = 64): bigint | null {
  for (let i = bits - 1; i >= 0; i--) {
    const b = 1n << BigInt(i);
    if (t.mask & b) continue;
    const tb = t.value & b;
    const xb = x & b;
    if (tb === xb) continue;
    const below = b - 1n;
    if (tb) return (x & ~(b | below)) | b | (t.value & below);
    // T has 0 where x has 1: carry into the lowest unknown bit above i that x has clear.
    for (let j = i + 1; j < bits; j++) {
      const c = 1n << BigInt(j);
      if (t.mask & c && !(x & c)) return (x & ~(c | (c - 1n))) | c | (t.value & (c - 1n));
    }
    return null;
  }
  return x;
}

/** The largest member of `t` that is ≤ x (bits=64 or 32), or null when there is none. */
export function tnumMaxAtMost(t: Tnum, x: bigint, bits = 64): bigint | null {
  const all = t.value | t.mask;
  for (let i = bits - 1; i >= 0; i--) {
    const b = 1n << BigInt(i);
    if (t.mask & b) continue;
    const tb = t.value & b;
    const xb = x & b;
    if (tb === xb) continue;
    const below = b - 1n;
    if (!tb) return (x & ~(b | below)) | (all & below);
    for (let j = i + 1; j < bits; j++) {
      const c = 1n << BigInt(j);
      if (t.mask & c && x & c) return (x & ~(c | (c - 1n))) | (all & (c - 1n));
    }
    return null;
  }
  return x;
}

/** The smallest member of `t` greater than x (kernel: tnum_step); U64 overflow gives null. */
export function tnumStep(t: Tnum, x: bigint): bigint | null {
  if (x >= U64_MAX) return null;
  return tnumMinAtLeast(t, x + 1n);
}
