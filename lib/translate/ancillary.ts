/**
 * Linux ancillary loads (`ld [SKF_AD_OFF + n]`) that an eBPF program can still express: the
 * kernel's converter reads sk_buff fields, and socket filters and tc programs see most of those
 * fields through `struct __sk_buff`. The others (netlink attribute search, payload offset,
 * hardware type) use kernel-internal helpers that eBPF programs cannot call, so they are refused.
 *
 * xdp and kprobe have no `__sk_buff`, but libpcap's `inbound`/`outbound` (SKF_AD_PKTTYPE) and
 * `ifindex N` (SKF_AD_IFINDEX) are common enough to deserve an equivalent there:
 * - xdp: ifindex is `xdp_md->ingress_ifindex` (for a received packet, the skb->dev->ifindex the
 *   kernel's converter reads); pkt_type is derived from the destination MAC the way
 *   eth_type_trans() derives it, except that PACKET_OTHERHOST cannot be told from PACKET_HOST
 *   (the program does not know the device's own address), and PACKET_OUTGOING never occurs
 *   (XDP only sees received frames). See the "xdp-pkttype" divergence.
 * - kprobe: both are read from the `struct sk_buff` with bpf_probe_read_kernel (helper.ts), at
 *   the offsets of the SkbLayout option: pkt_type's low 3 bits, skb->dev->ifindex.
 */
import {
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
} from "../cbpf";
import { SK_BUFF, XDP_MD, alu32, alu64, call, ja, jmp, ldx, mov32Imm, mov32Reg, mov64Reg, type RegName } from "../ebpf";
import type { Emitter } from "./emitter";
import { toHost } from "./strategy";

/** `__sk_buff` field holding each ancillary value, and whether it is a big-endian u16. */
const SKB_FIELD: Readonly<Record<number, { off: number; be16: boolean }>> = {
  [SKF_AD_PROTOCOL]: { off: SK_BUFF.protocol, be16: true },
  [SKF_AD_PKTTYPE]: { off: SK_BUFF.pkt_type, be16: false },
  [SKF_AD_IFINDEX]: { off: SK_BUFF.ifindex, be16: false },
  [SKF_AD_MARK]: { off: SK_BUFF.mark, be16: false },
  [SKF_AD_QUEUE]: { off: SK_BUFF.queue_mapping, be16: false },
  [SKF_AD_RXHASH]: { off: SK_BUFF.hash, be16: false },
  [SKF_AD_VLAN_TAG]: { off: SK_BUFF.vlan_tci, be16: false },
  [SKF_AD_VLAN_TAG_PRESENT]: { off: SK_BUFF.vlan_present, be16: false },
  [SKF_AD_VLAN_TPID]: { off: SK_BUFF.vlan_proto, be16: true },
};

const BPF_FUNC_get_prandom_u32 = 7;
const BPF_FUNC_get_smp_processor_id = 8;

const UNREACHABLE: Readonly<Record<number, string>> = {
  [SKF_AD_NLATTR]: "the netlink attribute search is a kernel-internal helper eBPF cannot call",
  [SKF_AD_NLATTR_NEST]: "the netlink attribute search is a kernel-internal helper eBPF cannot call",
  [SKF_AD_PAY_OFFSET]: "the payload offset comes from the flow dissector, which eBPF cannot call this way",
  [SKF_AD_HATYPE]: "the device type (skb->dev->type) is not in struct __sk_buff",
};

/**
 * Why `slot` cannot be read with an `__sk_buff` context (and optionally helper calls), or
 * undefined when it can.
 */
export function skbAncillaryProblem(slot: number, helpersAllowed: boolean): string | undefined {
  if (SKB_FIELD[slot]) return undefined;
  if (slot === SKF_AD_CPU || slot === SKF_AD_RANDOM) {
    return helpersAllowed ? undefined : "it needs a helper call, which would clobber the packet pointers here";
  }
  return UNREACHABLE[slot] ?? "no eBPF equivalent";
}

/**
 * dst = ancillary `slot` read through the `__sk_buff` in `ctx`. Helper-based slots clobber
 * r0..r5; callers only allow them where A, X and the context live elsewhere.
 */
export function emitSkbAncillary(e: Emitter, ctx: RegName, dst: RegName, slot: number): void {
  const f = SKB_FIELD[slot];
  if (f) {
    e.emit(ldx("u32", dst, ctx, f.off));
    if (f.be16) toHost(e, dst, 2);
    return;
  }
  e.emit(call(slot === SKF_AD_CPU ? BPF_FUNC_get_smp_processor_id : BPF_FUNC_get_prandom_u32));
  if (dst !== "r0") e.emit(mov32Reg(dst, "r0"));
}

/** linux/if_packet.h packet types, as SKF_AD_PKTTYPE reports them. */
export const PACKET_HOST = 0;
export const PACKET_BROADCAST = 1;
export const PACKET_MULTICAST = 2;
export const PACKET_OTHERHOST = 3;
export const PACKET_OUTGOING = 4;
/** sk_buff.pkt_type is a 3-bit bitfield in the low bits of its byte (little-endian bitfield order). */
export const SKB_PKT_TYPE_MASK = 7;

/** The ancillary slots xdp and kprobe translate (besides the A ^= X extension). */
const PACKET_METADATA = new Set([SKF_AD_PKTTYPE, SKF_AD_IFINDEX]);

/** Why `slot` cannot be translated for xdp or kprobe, or undefined when it can. */
export function packetMetadataProblem(target: "xdp" | "kprobe", slot: number): string | undefined {
  if (PACKET_METADATA.has(slot)) return undefined;
  return target === "xdp"
    ? "XDP programs have no sk_buff; only ifindex (ingress_ifindex) and the packet type (from the destination MAC) have an XDP equivalent"
    : "only the packet type and ifindex are read from the kprobe's struct sk_buff";
}

export interface XdpRegs {
  readonly ctx: RegName;
  readonly data: RegName;
  readonly end: RegName;
  readonly tmp: RegName;
}

/**
 * dst = SKF_AD_IFINDEX or SKF_AD_PKTTYPE on xdp. The packet type needs the 6-byte destination
 * MAC: a shorter frame goes to `nomatch` (as a failed load would).
 */
export function emitXdpAncillary(e: Emitter, r: XdpRegs, dst: RegName, slot: number, nomatch: string): void {
  if (slot === SKF_AD_IFINDEX) {
    e.emit(ldx("u32", dst, r.ctx, XDP_MD.ingress_ifindex));
    return;
  }
  const T = r.tmp;
  const done = e.name("pkttype_done");
  e.emit(mov64Reg(T, r.data), alu64("add", T, 6));
  e.guards++;
  e.guard(jmp("jgt", T, r.end, nomatch));
  // Group bit clear: unicast, taken to be for this host (PACKET_OTHERHOST is indistinguishable).
  e.emit(mov32Imm(dst, PACKET_HOST));
  e.load(ldx("u8", T, r.data, 0));
  e.emit(jmp("jset", T, 1, 1), ja(done));
  // Group bit set: ff:ff:ff:ff:ff:ff is broadcast, anything else multicast.
  e.load(ldx("u32", dst, r.data, 0));
  e.load(ldx("u16", T, r.data, 4));
  e.emit(alu32("xor", dst, -1), alu32("xor", T, 0xffff), alu32("or", dst, T));
  e.emit(mov32Imm(T, PACKET_MULTICAST), jmp("jne", dst, 0, 1), mov32Imm(T, PACKET_BROADCAST), mov32Reg(dst, T));
  e.label(done);
}
