/**
 * Linux ancillary loads (`ld [SKF_AD_OFF + n]`) that an eBPF program can still express: the
 * kernel's converter reads sk_buff fields, and socket filters and tc programs see most of those
 * fields through `struct __sk_buff`. The others (netlink attribute search, payload offset,
 * hardware type) use kernel-internal helpers that eBPF programs cannot call, so they are refused.
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
import { SK_BUFF, call, ldx, mov32Reg, type RegName } from "../ebpf";
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
