/** Internet checksum over a range, and the pseudo-header sums TCP/UDP/ICMPv6 need. */

export function onesSum(b: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (i < end) sum += b[i]! << 8;
  return sum;
}

export function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}


/**
 * The checksum a header should carry: the sum over [start, end) with the 16-bit field at `field`
 * counted as zero, plus an optional pseudo-header sum.
 */
export function expectedChecksum(b: Uint8Array, start: number, end: number, field: number, initial = 0): number {
  return fold(onesSum(b, field + 2, end, onesSum(b, start, field, initial)));
}

/** Pseudo-header sum (RFC 768/793/8200) for an upper-layer protocol of `length` bytes. */
export function pseudoSum(src: Uint8Array, dst: Uint8Array, v6: boolean, proto: number, length: number): number {
  let sum = onesSum(src, 0, src.length) + onesSum(dst, 0, dst.length);
  if (v6) sum += Math.floor(length / 0x10000) + (length & 0xffff) + proto;
  else sum += proto + length;
  return sum;
}

/** Label suffix for a checksum field: "[correct]" or "[incorrect, should be 0x…]". */
export function checksumVerdict(stored: number, expected: number, zeroMeansNone = false): string {
  if (zeroMeansNone && stored === 0) return " [none]";
  // 0x0000 and 0xffff are the same number in one's complement.
  const same = stored === expected || (stored === 0xffff && expected === 0) || (stored === 0 && expected === 0xffff);
  return same ? " [correct]" : ` [incorrect, should be 0x${expected.toString(16).padStart(4, "0")}]`;
}
