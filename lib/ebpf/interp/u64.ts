/**
 * 64-bit arithmetic on (lo, hi) pairs of unsigned 32-bit numbers, so the interpreter's hot loop
 * never allocates BigInts. Results go to `out[0]` (lo) and `out[1]` (hi); callers copy them out
 * at once. Division falls back to BigInt only when an operand does not fit in 32 bits.
 */
export const out = new Uint32Array(2);

export function toBig(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

export function fromBig(v: bigint): void {
  const u = BigInt.asUintN(64, v);
  out[0] = Number(u & 0xffffffffn);
  out[1] = Number(u >> 32n);
}

/** Low 64 bits of a * b. */
export function mul64(alo: number, ahi: number, blo: number, bhi: number): void {
  // 32x32 -> 64 for the low words via 16-bit limbs; cross terms only affect the high word.
  const a0 = alo & 0xffff;
  const a1 = alo >>> 16;
  const b0 = blo & 0xffff;
  const b1 = blo >>> 16;
  const p00 = a0 * b0;
  const mid = a1 * b0 + a0 * b1 + (p00 >>> 16); // < 2^34, exact as a double
  const lo = ((mid & 0xffff) << 16) | (p00 & 0xffff);
  const carry = Math.floor(mid / 0x10000) + a1 * b1; // exact (< 2^53)
  out[0] = lo;
  out[1] = (carry + Math.imul(alo, bhi) + Math.imul(ahi, blo)) >>> 0;
}

/** Unsigned 64-bit division; the caller handles division by zero. */
export function udiv64(alo: number, ahi: number, blo: number, bhi: number): void {
  if (ahi === 0 && bhi === 0) {
    out[0] = Math.floor(alo / blo);
    out[1] = 0;
    return;
  }
  fromBig(toBig(alo, ahi) / toBig(blo, bhi));
}

export function umod64(alo: number, ahi: number, blo: number, bhi: number): void {
  if (ahi === 0 && bhi === 0) {
    out[0] = alo % blo;
    out[1] = 0;
    return;
  }
  fromBig(toBig(alo, ahi) % toBig(blo, bhi));
}

const signedBig = (lo: number, hi: number): bigint => BigInt.asIntN(64, toBig(lo, hi));

/** Signed 64-bit division truncating toward zero; INT64_MIN / -1 wraps to INT64_MIN. */
export function sdiv64(alo: number, ahi: number, blo: number, bhi: number): void {
  fromBig(signedBig(alo, ahi) / signedBig(blo, bhi));
}

/** Signed 64-bit remainder with the sign of the dividend; INT64_MIN % -1 is 0. */
export function smod64(alo: number, ahi: number, blo: number, bhi: number): void {
  fromBig(signedBig(alo, ahi) % signedBig(blo, bhi));
}

export const bswap16 = (x: number): number => ((x & 0xff) << 8) | ((x >>> 8) & 0xff);
export const bswap32 = (x: number): number =>
  (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
