/**
 * The interpreter's address space. Each region (packet, stack, ctx) sits at a fixed 64-bit base
 * whose upper 32 bits are unique to it, so a pointer's high word selects the region and its low
 * word the offset; pointer arithmetic that leaves a region simply stops matching any region and
 * the access faults, as an out-of-bounds access must.
 */
export type RegionKind = "packet" | "stack" | "ctx";

export interface Region {
  readonly kind: RegionKind;
  /** Upper and lower 32 bits of the region's first byte. */
  readonly hi: number;
  readonly lo: number;
  size: number;
  bytes: Uint8Array;
  readonly writable: boolean;
}

export const PACKET_HI = 0xffff8881;
export const PACKET_LO = 0x10000000;
export const STACK_HI = 0xffffc900;
export const STACK_LO = 0x20000000;
export const CTX_HI = 0xffff8880;
export const CTX_LO = 0x30000000;

export const STACK_FRAME_SIZE = 512;
/** Frames for bpf-to-bpf calls (MAX_CALL_FRAMES); each gets its own 512 bytes. */
export const MAX_CALL_FRAMES = 8;
export const STACK_TOTAL = STACK_FRAME_SIZE * MAX_CALL_FRAMES;

export const regionBase = (r: Pick<Region, "hi" | "lo">): bigint => (BigInt(r.hi) << 32n) | BigInt(r.lo);

export function makeRegion(kind: RegionKind, hi: number, lo: number, bytes: Uint8Array, writable: boolean): Region {
  return { kind, hi, lo, size: bytes.length, bytes, writable };
}

/** Re-points a region at new bytes (the fast runner swaps packets without copying them). */
export function setRegionBytes(r: Region, bytes: Uint8Array): void {
  r.bytes = bytes;
  r.size = bytes.length;
}
