/**
 * 64-bit arithmetic as the kernel's C does it: bigint values kept in canonical u64 (or s64) form,
 * wrapping explicitly. 32-bit halves are plain numbers (u32 in 0..2^32-1, s32 in -2^31..2^31-1).
 */
export const U64_MAX = (1n << 64n) - 1n;
export const S64_MAX = (1n << 63n) - 1n;
export const S64_MIN = -(1n << 63n);
export const U32_MAX = 0xffffffff;
export const S32_MAX = 0x7fffffff;
export const S32_MIN = -0x80000000;

export const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
export const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
export const u32 = (v: number): number => v >>> 0;
export const s32 = (v: number): number => v | 0;
/** Low 32 bits of a 64-bit value, as u32. */
export const lo32 = (v: bigint): number => Number(v & 0xffffffffn);
/** Low 32 bits of a 64-bit value, as s32. */
export const lo32s = (v: bigint): number => Number(v & 0xffffffffn) | 0;

export const maxB = (a: bigint, b: bigint): bigint => (a > b ? a : b);
export const minB = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/** check_add_overflow for s64: [result, overflowed]. */
export function addS64(a: bigint, b: bigint): [bigint, boolean] {
  const r = a + b;
  return [s64(r), r > S64_MAX || r < S64_MIN];
}
export function subS64(a: bigint, b: bigint): [bigint, boolean] {
  const r = a - b;
  return [s64(r), r > S64_MAX || r < S64_MIN];
}
export function mulS64(a: bigint, b: bigint): [bigint, boolean] {
  const r = a * b;
  return [s64(r), r > S64_MAX || r < S64_MIN];
}
export function addU64(a: bigint, b: bigint): [bigint, boolean] {
  const r = a + b;
  return [u64(r), r > U64_MAX];
}
export function subU64(a: bigint, b: bigint): [bigint, boolean] {
  const r = a - b;
  return [u64(r), r < 0n];
}
export function mulU64(a: bigint, b: bigint): [bigint, boolean] {
  const r = a * b;
  return [u64(r), r > U64_MAX];
}
export function addS32(a: number, b: number): [number, boolean] {
  const r = a + b;
  return [r | 0, r > S32_MAX || r < S32_MIN];
}
export function subS32(a: number, b: number): [number, boolean] {
  const r = a - b;
  return [r | 0, r > S32_MAX || r < S32_MIN];
}
export function mulS32(a: number, b: number): [number, boolean] {
  const r = BigInt(a) * BigInt(b);
  return [Number(BigInt.asIntN(32, r)), r > BigInt(S32_MAX) || r < BigInt(S32_MIN)];
}
export function addU32(a: number, b: number): [number, boolean] {
  const r = a + b;
  return [r >>> 0, r > U32_MAX];
}
export function subU32(a: number, b: number): [number, boolean] {
  const r = a - b;
  return [r >>> 0, r < 0];
}
export function mulU32(a: number, b: number): [number, boolean] {
  const r = BigInt(a) * BigInt(b);
  return [Number(r & 0xffffffffn), r > BigInt(U32_MAX)];
}

/** Position of the most significant set bit, 1-based (fls64); 0 for 0. */
export function fls64(v: bigint): number {
  return v === 0n ? 0 : v.toString(2).length;
}
