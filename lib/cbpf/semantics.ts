/**
 * The rules of classic BPF execution, written once. The interpreter loop (and the stepper, which
 * runs that same loop one instruction at a time) and the generated fast path all call these
 * functions, so the three cannot disagree about what an instruction computes.
 *
 * Conventions: registers are numbers in 0..2^32-1. A function that can make the filter stop
 * early (a load out of bounds, a division by zero, an ancillary load with no device) returns -1
 * instead of a value; every caller turns -1 into "the filter returns 0", which is what both
 * libpcap and the kernel do in those cases.
 *
 * Where libpcap's userland interpreter and the kernel differ, there are two functions; which one
 * runs is chosen once per program by `lower.ts`. Each such pair is listed in `divergences.ts`.
 */
import {
  SKF_AD_ALU_XOR_X,
  SKF_AD_CPU,
  SKF_AD_HATYPE,
  SKF_AD_IFINDEX,
  SKF_AD_MARK,
  SKF_AD_NLATTR,
  SKF_AD_NLATTR_NEST,
  SKF_AD_PAY_OFFSET,
  SKF_AD_PKTTYPE,
  SKF_AD_PROTOCOL,
  SKF_AD_QUEUE,
  SKF_AD_RANDOM,
  SKF_AD_RXHASH,
  SKF_AD_VLAN_TAG,
  SKF_AD_VLAN_TAG_PRESENT,
  SKF_AD_VLAN_TPID,
} from "./opcodes";

/** Which machine's rules to follow. */
export type CbpfSemantics = "libpcap" | "kernel";

/**
 * What a Linux socket filter can see besides the packet bytes (the `sk_buff` fields behind the
 * `SKF_AD_*` loads). Every field is optional and defaults to 0 / absent; only `kernel`
 * semantics reads it.
 */
export interface CbpfSkbContext {
  /** skb->len for `ld #pktlen`; defaults to the wire length given with the packet. */
  len?: number;
  /** skb->protocol as a host-order EtherType (0x0800 for IPv4). */
  protocol?: number;
  /** skb->pkt_type: 0 host, 1 broadcast, 2 multicast, 3 other host, 4 outgoing. */
  pkttype?: number;
  ifindex?: number;
  /** dev->type (ARPHRD_*), read by `ld [hatype]`. */
  hatype?: number;
  /** No skb->dev: `ld [ifidx]` and `ld [hatype]` make the filter return 0, as in the kernel. */
  noDevice?: boolean;
  mark?: number;
  queue?: number;
  /** skb->hash (`ld [rxhash]`). */
  hash?: number;
  cpu?: number;
  vlanTci?: number;
  vlanPresent?: boolean;
  /** skb->vlan_proto as host-order TPID (0x8100). */
  vlanProto?: number;
  /** What the flow dissector would give for `ld [poff]`; not computed here. */
  payOffset?: number;
  /** The value `ld [random]` returns, fixed so runs are reproducible. */
  random?: number;
  /**
   * Where the network header starts in the packet, for `SKF_NET_OFF`-relative loads. Unset means
   * such loads fail (the filter returns 0). Link-layer (`SKF_LL_OFF`) loads are relative to byte 0.
   */
  networkOffset?: number;
}

/** The value that means "stop, the filter returns 0". */
export const STOP = -1;

// ---------------------------------------------------------------------------------------------
// Packet reads. Big-endian, bounds-checked with exact (non-wrapping) arithmetic on offsets that
// the caller has already made non-negative. `len` is the number of bytes present (the capture
// length), not the wire length.

export function readByte(p: Uint8Array, len: number, off: number): number {
  return off < len ? p[off]! : STOP;
}

export function readHalf(p: Uint8Array, len: number, off: number): number {
  return off + 2 <= len ? (p[off]! << 8) | p[off + 1]! : STOP;
}

export function readWord(p: Uint8Array, len: number, off: number): number {
  return off + 4 <= len ? ((p[off]! << 24) | (p[off + 1]! << 16) | (p[off + 2]! << 8) | p[off + 3]!) >>> 0 : STOP;
}

/** `ldxb 4*([k]&0xf)`: the IPv4 header length from its first byte. */
export function mshValue(byte: number): number {
  return (byte & 0xf) << 2;
}

// ---------------------------------------------------------------------------------------------
// Offsets of `[x + k]` and of negative `[k]`.

/**
 * libpcap (`bpf_filter.c`): `[x + k]` is in bounds only if X + k (+ size) fits without wrapping,
 * because it checks k and X against the buffer length separately, unsigned.
 */
export function indexOffsetLibpcap(x: number, k: number): number {
  return x + k;
}

/**
 * Kernel: the converted program adds X and k in a 64-bit register and hands the helper an int,
 * so the sum wraps modulo 2^32 and a result with the top bit set is a negative offset.
 */
export function indexOffsetKernel(x: number, k: number, networkOffset: number): number {
  return kernelOffset((x + k) | 0, networkOffset);
}

const NET_OFF = -0x100000;
const LL_OFF = -0x200000;

/**
 * Kernel packet-load helpers (`bpf_skb_load_helper_*`): a non-negative offset is from skb->data
 * (here byte 0); SKF_NET_OFF..-1 is relative to the network header, SKF_LL_OFF..SKF_NET_OFF-1 to
 * the MAC header (byte 0 here); anything lower fails. `networkOffset` < 0 means "unknown".
 * Returns a packet offset, or STOP.
 */
export function kernelOffset(off32: number, networkOffset: number): number {
  if (off32 >= 0) return off32;
  if (off32 >= NET_OFF) return networkOffset < 0 ? STOP : networkOffset + (off32 - NET_OFF);
  if (off32 >= LL_OFF) return off32 - LL_OFF;
  return STOP;
}

// ---------------------------------------------------------------------------------------------
// ALU. All arithmetic is unsigned 32-bit.

export const aluAdd = (a: number, b: number): number => (a + b) >>> 0;
export const aluSub = (a: number, b: number): number => (a - b) >>> 0;
export const aluMul = (a: number, b: number): number => Math.imul(a, b) >>> 0;
/** Division by zero stops the filter with 0 in both libpcap and the kernel. */
export const aluDiv = (a: number, b: number): number => (b === 0 ? STOP : (a / b) >>> 0);
export const aluMod = (a: number, b: number): number => (b === 0 ? STOP : a % b);
export const aluAnd = (a: number, b: number): number => (a & b) >>> 0;
export const aluOr = (a: number, b: number): number => (a | b) >>> 0;
export const aluXor = (a: number, b: number): number => (a ^ b) >>> 0;
export const aluNeg = (a: number): number => (0 - a) >>> 0;
/**
 * Shift with the count taken modulo 32: the kernel's interpreter masks with `& 31`, x86 does the
 * same in hardware, and JavaScript's shift operators do it too. Used for every `#k` shift (the
 * kernel rejects k >= 32 at load time; libpcap accepts it and x86 masks) and for `x` shifts under
 * kernel semantics.
 */
export const aluLshMasked = (a: number, s: number): number => (a << s) >>> 0;
export const aluRshMasked = (a: number, s: number): number => a >>> s;
/** libpcap 1.10.3's `lsh x`/`rsh x`: a count of 32 or more gives A = 0. */
export const aluLshLibpcap = (a: number, s: number): number => (s >= 32 ? 0 : (a << s) >>> 0);
export const aluRshLibpcap = (a: number, s: number): number => (s >= 32 ? 0 : a >>> s);

// ---------------------------------------------------------------------------------------------
// Conditional jumps: unsigned comparisons.

export const condGt = (a: number, b: number): boolean => a > b;
export const condGe = (a: number, b: number): boolean => a >= b;
export const condEq = (a: number, b: number): boolean => a === b;
export const condSet = (a: number, b: number): boolean => (a & b) !== 0;

// ---------------------------------------------------------------------------------------------
// Length and ancillary data.

/** `ld #pktlen`: libpcap's wirelen; the kernel's skb->len, which is the same unless ctx overrides it. */
export function packetLength(semantics: CbpfSemantics, wireLen: number, ctx: CbpfSkbContext | undefined): number {
  return lengthOverride(semantics, ctx) ?? wireLen >>> 0;
}

/** The `ld #pktlen` value when it does not depend on the packet (kernel semantics with ctx.len). */
export function lengthOverride(semantics: CbpfSemantics, ctx: CbpfSkbContext | undefined): number | undefined {
  return semantics === "kernel" && ctx?.len !== undefined ? ctx.len >>> 0 : undefined;
}

/**
 * The constant part of each ancillary load under kernel semantics, indexed by SKF_AD_* / 4.
 * Entries for loads that depend on A, X or the packet are filled by `ancillaryLoad` at run time.
 */
export function ancillaryTable(ctx: CbpfSkbContext | undefined): Float64Array {
  const c = ctx ?? {};
  const t = new Float64Array(16);
  const device = c.noDevice !== true;
  t[SKF_AD_PROTOCOL / 4] = (c.protocol ?? 0) & 0xffff;
  t[SKF_AD_PKTTYPE / 4] = (c.pkttype ?? 0) & 7;
  t[SKF_AD_IFINDEX / 4] = device ? (c.ifindex ?? 0) >>> 0 : STOP;
  t[SKF_AD_MARK / 4] = (c.mark ?? 0) >>> 0;
  t[SKF_AD_QUEUE / 4] = (c.queue ?? 0) & 0xffff;
  t[SKF_AD_HATYPE / 4] = device ? (c.hatype ?? 0) & 0xffff : STOP;
  t[SKF_AD_RXHASH / 4] = (c.hash ?? 0) >>> 0;
  t[SKF_AD_CPU / 4] = (c.cpu ?? 0) >>> 0;
  t[SKF_AD_VLAN_TAG / 4] = (c.vlanTci ?? 0) & 0xffff;
  t[SKF_AD_VLAN_TAG_PRESENT / 4] = c.vlanPresent === true ? 1 : 0;
  t[SKF_AD_PAY_OFFSET / 4] = (c.payOffset ?? 0) >>> 0;
  t[SKF_AD_RANDOM / 4] = (c.random ?? 0) >>> 0;
  t[SKF_AD_VLAN_TPID / 4] = (c.vlanProto ?? 0) & 0xffff;
  return t;
}

/**
 * `ld [SKF_AD_OFF + 4*slot]` under kernel semantics (the size field is ignored, as in the
 * kernel). `table` comes from `ancillaryTable`. Returns the new A, or STOP.
 */
export function ancillaryLoad(slot: number, a: number, x: number, p: Uint8Array, table: Float64Array): number {
  switch (slot * 4) {
    case SKF_AD_ALU_XOR_X:
      return (a ^ x) >>> 0;
    case SKF_AD_NLATTR:
      return netlinkAttr(p, a, x);
    case SKF_AD_NLATTR_NEST:
      return netlinkAttrNested(p, a, x);
    default:
      return table[slot]!;
  }
}

// Netlink attributes (`struct nlattr`: u16 nla_len, u16 nla_type, host byte order = little-endian
// on the machines we model), as `bpf_skb_get_nlattr{,_nest}` search them.

const le16 = (p: Uint8Array, off: number): number => p[off]! | (p[off + 1]! << 8);

/** `nla_find`: offset of the first attribute of type `type` in [start, start+len), or 0. */
function nlaFind(p: Uint8Array, start: number, len: number, type: number): number {
  let pos = start;
  let rem = len;
  while (rem >= 4) {
    const nlaLen = le16(p, pos);
    if (nlaLen < 4 || nlaLen > rem) break;
    if ((le16(p, pos + 2) & 0x3fff) === type) return pos;
    const step = (nlaLen + 3) & ~3;
    pos += step;
    rem -= step;
  }
  return 0;
}

/** `ld [nla]`: A = offset of the attribute of type X, searching from offset A; 0 if none. */
export function netlinkAttr(p: Uint8Array, a: number, x: number): number {
  const len = p.length;
  if (len < 4 || a > len - 4) return 0;
  return nlaFind(p, a, len - a, x);
}

/** `ld [nlan]`: like `ld [nla]`, inside the nested attribute at offset A. */
export function netlinkAttrNested(p: Uint8Array, a: number, x: number): number {
  const len = p.length;
  if (len < 4 || a > len - 4) return 0;
  const outer = le16(p, a);
  if (outer > len - a) return 0;
  return nlaFind(p, a + 4, outer - 4, x);
}
