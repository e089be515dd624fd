/**
 * pcapng timestamps are 64-bit counts of interface-defined units. Nanosecond counts since 1970
 * exceed 2^53, so the split into seconds and nanoseconds is done on 16-bit limbs to stay exact
 * in doubles without allocating BigInts per packet.
 */

/** How one interface's timestamp units turn into seconds and nanoseconds. */
export interface TsScale {
  /** Units per second (10^k or 2^k). */
  readonly unitsPerSec: number;
  /** Nanoseconds per unit (may be fractional). */
  readonly nsPerUnit: number;
  /** Whole seconds added to every timestamp (if_tsoffset). */
  readonly offsetSec: number;
  /** True when 16-bit limb arithmetic stays exact (unitsPerSec < 2^37). */
  readonly exact: boolean;
}

/** Decodes an if_tsresol byte: top bit clear means 10^-n seconds, set means 2^-n. */
export function tsScaleFromResolution(tsresol: number, offsetSec = 0): TsScale {
  const exp = tsresol & 0x7f;
  const unitsPerSec = tsresol & 0x80 ? 2 ** exp : 10 ** exp;
  return { unitsPerSec, nsPerUnit: 1e9 / unitsPerSec, offsetSec, exact: unitsPerSec < 2 ** 37 };
}

export const MICROSECONDS: TsScale = tsScaleFromResolution(6);

/** Scratch output of splitTimestamp: the nanosecond part. Read it right after the call. */
export const tsOut = { nsec: 0 };

/** Seconds of the 64-bit count (hi:lo); the nanoseconds land in `tsOut.nsec`. */
export function splitTimestamp(hi: number, lo: number, scale: TsScale): number {
  const div = scale.unitsPerSec;
  if (hi < 0x200000) {
    // hi * 2^32 + lo < 2^53: plain double arithmetic is exact.
    const v = hi * 4294967296 + lo;
    const sec = Math.floor(v / div);
    tsOut.nsec = Math.floor((v - sec * div) * scale.nsPerUnit);
    return sec + scale.offsetSec;
  }
  if (!scale.exact) return splitWithBigInt(hi, lo, scale);
  // Long division of (hi, lo_hi16, lo_lo16) by div, each partial remainder < div * 2^16 < 2^53.
  const q1 = Math.floor(hi / div);
  let rem = hi - q1 * div;
  rem = rem * 65536 + (lo >>> 16);
  const q2 = Math.floor(rem / div);
  rem -= q2 * div;
  rem = rem * 65536 + (lo & 0xffff);
  const q3 = Math.floor(rem / div);
  rem -= q3 * div;
  tsOut.nsec = Math.floor(rem * scale.nsPerUnit);
  return q1 * 4294967296 + q2 * 65536 + q3 + scale.offsetSec;
}

function splitWithBigInt(hi: number, lo: number, scale: TsScale): number {
  const v = (BigInt(hi) << 32n) | BigInt(lo);
  const div = BigInt(scale.unitsPerSec);
  const sec = v / div;
  tsOut.nsec = Number(((v - sec * div) * 1_000_000_000n) / div);
  return Number(sec) + scale.offsetSec;
}

/** The 64-bit unit count for a time, as [hi, lo]. Inverse of splitTimestamp for exact scales. */
export function joinTimestamp(tsSec: number, tsNsec: number, unitsPerSec: number): [number, number] {
  const frac = Math.floor((tsNsec * unitsPerSec) / 1e9);
  if (unitsPerSec <= 2 ** 36 && tsSec >= 0 && tsSec < 2 ** 32) {
    // tsSec * unitsPerSec + frac, on 16-bit limbs of tsSec.
    const aHi = Math.floor(tsSec / 65536);
    const aLo = tsSec - aHi * 65536;
    const p = aHi * unitsPerSec; // < 2^53
    const low = (p % 65536) * 65536 + aLo * unitsPerSec + frac; // < 2^53
    const lo = low % 4294967296;
    const hi = Math.floor(p / 65536) + Math.floor(low / 4294967296);
    return [hi >>> 0, lo >>> 0];
  }
  const v = BigInt(Math.floor(tsSec)) * BigInt(unitsPerSec) + BigInt(frac);
  return [Number((v >> 32n) & 0xffffffffn), Number(v & 0xffffffffn)];
}
