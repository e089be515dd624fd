/** IPv4 and IPv6 (with extension headers), ARP, and helpers that split a datagram into fragments. */
import { ipv4Bytes, ipv6Bytes, macBytes, type Ipv4, type Ipv6, type Mac } from "./addr";
import { concat, craftError, inetChecksum, putU16, u16, u32 } from "./bytes";
import { build, pick, type Layer, type Part } from "./layer";
import { ETHERTYPE, PPP_PROTO } from "./link";

export const IPPROTO = {
  HOPOPTS: 0,
  ICMP: 1,
  IGMP: 2,
  IPIP: 4,
  TCP: 6,
  UDP: 17,
  IPV6: 41,
  ROUTING: 43,
  FRAGMENT: 44,
  GRE: 47,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  NONE: 59,
  DSTOPTS: 60,
  OSPF: 89,
  PIM: 103,
  VRRP: 112,
  SCTP: 132,
} as const;

export interface Ipv4Options {
  src?: Ipv4;
  dst?: Ipv4;
  /** Protocol; defaults to the inner layer's. */
  proto?: number;
  ttl?: number;
  tos?: number;
  id?: number;
  df?: boolean;
  mf?: boolean;
  /** Fragment offset in bytes (a multiple of 8). */
  fragOffset?: number;
  /** Raw option bytes; padded to a multiple of 4 with end-of-list. */
  options?: Uint8Array | readonly number[];
  /** Override the total length field (to make inconsistent packets). */
  totalLength?: number;
}

export function ipv4(o: Ipv4Options = {}): Layer {
  const src = ipv4Bytes(o.src ?? "198.18.0.1");
  const dst = ipv4Bytes(o.dst ?? "198.18.0.2");
  const opts = Uint8Array.from(o.options ?? []);
  const optLen = (opts.length + 3) & ~3;
  if (optLen > 40) throw craftError("IPv4 options exceed 40 bytes");
  const frag = o.fragOffset ?? 0;
  if (frag % 8 !== 0 || frag > 0xffff) throw craftError(`IPv4 fragment offset ${frag} must be a multiple of 8 below 65536`);
  return {
    name: "ipv4",
    ethertype: ETHERTYPE.IPV4,
    pppProto: PPP_PROTO.IPV4,
    ipProto: IPPROTO.IPIP,
    pseudo: { src, dst, v6: false },
    encode(payload, { inner }) {
      const hl = 20 + optLen;
      const h = new Uint8Array(hl);
      h[0] = 0x40 | (hl / 4);
      h[1] = o.tos ?? 0;
      putU16(h, 2, o.totalLength ?? Math.min(hl + payload.length, 0xffff));
      putU16(h, 4, o.id ?? 0x1234);
      putU16(h, 6, (o.df ? 0x4000 : 0) | (o.mf ? 0x2000 : 0) | (frag / 8));
      h[8] = o.ttl ?? 64;
      h[9] = pick(o.proto, inner?.ipProto, IPPROTO.NONE);
      h.set(src, 12);
      h.set(dst, 16);
      h.set(opts, 20);
      putU16(h, 10, inetChecksum(h));
      return concat(h, payload);
    },
  };
}

/** IPv6 extension headers, in the order given. */
export type Ipv6Ext =
  | { type: "hop" | "dst"; options?: Uint8Array | readonly number[] }
  | { type: "routing"; routingType?: number; segmentsLeft?: number; addresses?: Ipv6[]; data?: Uint8Array }
  | { type: "fragment"; offset?: number; more?: boolean; id?: number }
  | { type: "ah"; spi?: number; seq?: number; icv?: Uint8Array };

export interface Ipv6Options {
  src?: Ipv6;
  dst?: Ipv6;
  /** Next header after the last extension header; defaults to the inner layer's. */
  nextHeader?: number;
  hopLimit?: number;
  trafficClass?: number;
  flowLabel?: number;
  ext?: Ipv6Ext[];
  payloadLength?: number;
}

const EXT_PROTO = { hop: IPPROTO.HOPOPTS, dst: IPPROTO.DSTOPTS, routing: IPPROTO.ROUTING, fragment: IPPROTO.FRAGMENT, ah: IPPROTO.AH } as const;

/** Options area padded with Pad1/PadN so that the header is a multiple of 8 bytes. */
function paddedOptions(opts: Uint8Array): Uint8Array {
  const total = (opts.length + 2 + 7) & ~7;
  const pad = total - 2 - opts.length;
  if (pad === 0) return opts;
  if (pad === 1) return concat(opts, [0]);
  return concat(opts, [1, pad - 2], new Uint8Array(pad - 2));
}

function encodeExt(e: Ipv6Ext, next: number): Uint8Array {
  switch (e.type) {
    case "hop":
    case "dst": {
      const body = paddedOptions(Uint8Array.from(e.options ?? []));
      return concat([next, (body.length + 2) / 8 - 1], body);
    }
    case "routing": {
      const addrs = (e.addresses ?? []).map(ipv6Bytes);
      const data = e.data ?? concat(new Uint8Array(4), ...addrs);
      const body = concat([e.routingType ?? 0, e.segmentsLeft ?? addrs.length], data);
      const len = (body.length + 2 + 7) & ~7;
      return concat([next, len / 8 - 1], body, new Uint8Array(len - 2 - body.length));
    }
    case "fragment": {
      const off = e.offset ?? 0;
      if (off % 8 !== 0) throw craftError("IPv6 fragment offset must be a multiple of 8");
      return concat([next, 0], u16(off | (e.more ? 1 : 0)), u32(e.id ?? 0x1234));
    }
    case "ah": {
      const icv = e.icv ?? new Uint8Array(12);
      const len = 12 + icv.length;
      if (len % 8 !== 0) throw craftError("IPv6 AH length must be a multiple of 8");
      return concat([next, len / 4 - 2, 0, 0], u32(e.spi ?? 0x100), u32(e.seq ?? 1), icv);
    }
  }
}

/**
 * The destination upper-layer checksums use (RFC 8200 8.1): with a routing header that still has
 * segments left, the final one — the last address for types 0/2, segment 0 for type 4 (SRH).
 */
function upperLayerDst(o: Ipv6Options, dst: Uint8Array): Uint8Array {
  const routing = (o.ext ?? []).find((e): e is Extract<Ipv6Ext, { type: "routing" }> => e.type === "routing");
  const addrs = routing?.addresses ?? [];
  if (!routing || addrs.length === 0 || (routing.segmentsLeft ?? addrs.length) === 0) return dst;
  return ipv6Bytes(routing.routingType === 4 ? addrs[0]! : addrs[addrs.length - 1]!);
}

export function ipv6(o: Ipv6Options = {}): Layer {
  const src = ipv6Bytes(o.src ?? "2001:db8::1");
  const dst = ipv6Bytes(o.dst ?? "2001:db8::2");
  const ext = o.ext ?? [];
  const finalDst = upperLayerDst(o, dst);
  return {
    name: "ipv6",
    ethertype: ETHERTYPE.IPV6,
    pppProto: PPP_PROTO.IPV6,
    ipProto: IPPROTO.IPV6,
    pseudo: { src, dst: finalDst, v6: true },
    encode(payload, { inner }) {
      let next = pick(o.nextHeader, inner?.ipProto, IPPROTO.NONE);
      const parts: Uint8Array[] = [];
      for (let i = ext.length - 1; i >= 0; i--) {
        parts.unshift(encodeExt(ext[i]!, next));
        next = EXT_PROTO[ext[i]!.type];
      }
      const rest = concat(...parts, payload);
      const flow = ((o.flowLabel ?? 0) & 0xfffff) >>> 0;
      const word0 = (6 * 0x10000000 + ((o.trafficClass ?? 0) << 20) + flow) >>> 0;
      return concat(u32(word0), u16(o.payloadLength ?? Math.min(rest.length, 0xffff)), [next, o.hopLimit ?? 64], src, dst, rest);
    },
  };
}

export interface ArpOptions {
  /** 1 request, 2 reply (3/4 for RARP). */
  op?: number;
  sha?: Mac;
  spa?: Ipv4;
  tha?: Mac;
  tpa?: Ipv4;
  rarp?: boolean;
}

export function arp(o: ArpOptions = {}): Layer {
  return {
    name: o.rarp ? "rarp" : "arp",
    ethertype: o.rarp ? ETHERTYPE.RARP : ETHERTYPE.ARP,
    encode(payload) {
      return concat(
        u16(1),
        u16(ETHERTYPE.IPV4),
        [6, 4],
        u16(o.op ?? 1),
        macBytes(o.sha ?? "02:00:00:00:00:01"),
        ipv4Bytes(o.spa ?? "198.18.0.1"),
        macBytes(o.tha ?? "00:00:00:00:00:00"),
        ipv4Bytes(o.tpa ?? "198.18.0.2"),
        payload,
      );
    },
  };
}

/**
 * Builds the whole datagram `ipv4(o) / inner…`, then splits its payload into fragments of at most
 * `size` bytes (rounded down to a multiple of 8): each result is a finished IPv4 packet.
 */
export function ipv4Fragments(o: Ipv4Options, inner: Part[], size: number): Uint8Array[] {
  const whole = build(ipv4(o), ...inner);
  const hl = (whole[0]! & 0xf) * 4;
  const payload = whole.subarray(hl);
  const step = Math.max(8, size & ~7);
  const proto = whole[9]!;
  const out: Uint8Array[] = [];
  for (let off = 0; off < payload.length; off += step) {
    const chunk = payload.subarray(off, off + step);
    const more = off + step < payload.length;
    out.push(build(ipv4({ ...o, proto, fragOffset: off, mf: more }), chunk));
  }
  return out;
}

/** Like ipv4Fragments, with an IPv6 fragment header after `o.ext` (the unfragmentable part). */
export function ipv6Fragments(o: Ipv6Options, inner: Part[], size: number, id = 0x5eed): Uint8Array[] {
  // Build the unfragmented datagram only for its payload; its checksums must use the final destination.
  const whole = build(ipv6({ ...o, dst: upperLayerDst(o, ipv6Bytes(o.dst ?? "2001:db8::2")), ext: [] }), ...inner);
  const next = whole[6]!;
  const payload = whole.subarray(40);
  const step = Math.max(8, size & ~7);
  const out: Uint8Array[] = [];
  for (let off = 0; off < payload.length; off += step) {
    const chunk = payload.subarray(off, off + step);
    const more = off + step < payload.length;
    out.push(build(ipv6({ ...o, nextHeader: next, ext: [...(o.ext ?? []), { type: "fragment", offset: off, more, id }] }), chunk));
  }
  return out;
}

/** A Layer wrapping finished IP bytes, so they can sit inside link builders with the right EtherType. */
export function rawIp(bytes: Uint8Array): Layer {
  const v6 = bytes[0]! >> 4 === 6;
  return {
    name: v6 ? "ipv6" : "ipv4",
    ethertype: v6 ? ETHERTYPE.IPV6 : ETHERTYPE.IPV4,
    pppProto: v6 ? PPP_PROTO.IPV6 : PPP_PROTO.IPV4,
    ipProto: v6 ? IPPROTO.IPV6 : IPPROTO.IPIP,
    encode(payload) {
      return concat(bytes, payload);
    },
  };
}
