/** Link-layer builders: Ethernet and its tags, MPLS, PPP/PPPoE, 802.2 LLC, Linux cooked, BSD loopback. */
import { macBytes, type Mac } from "./addr";
import { concat, craftError, u16, u32, u32le } from "./bytes";
import { pick, type Layer } from "./layer";

export const ETHERTYPE = {
  IPV4: 0x0800,
  ARP: 0x0806,
  RARP: 0x8035,
  VLAN: 0x8100,
  QINQ: 0x88a8,
  IPV6: 0x86dd,
  MPLS: 0x8847,
  MPLS_MULTICAST: 0x8848,
  PPPOE_DISCOVERY: 0x8863,
  PPPOE_SESSION: 0x8864,
  TEB: 0x6558, // transparent Ethernet bridging (Ethernet inside GRE)
  LLDP: 0x88cc,
} as const;

export interface EtherOptions {
  dst?: Mac;
  src?: Mac;
  /** EtherType; defaults to the inner layer's, or an 802.3 length for LLC payloads. */
  type?: number;
}

export function ether(o: EtherOptions = {}): Layer {
  const dst = macBytes(o.dst ?? "02:00:00:00:00:02");
  const src = macBytes(o.src ?? "02:00:00:00:00:01");
  return {
    name: "ether",
    ethertype: ETHERTYPE.TEB,
    encode(payload, { inner }) {
      const type = o.type ?? (inner?.llc ? payload.length : pick(undefined, inner?.ethertype, 0x88b5));
      return concat(dst, src, u16(type), payload);
    },
  };
}

export interface VlanOptions {
  vid: number;
  pcp?: number;
  dei?: boolean;
  /** This tag's TPID, i.e. the EtherType the layer outside writes: 0x8100 (802.1Q) or 0x88a8 (802.1ad). */
  tpid?: number;
  /** The EtherType after the tag; defaults to the inner layer's. */
  type?: number;
}

export function vlan(o: VlanOptions): Layer {
  if (o.vid < 0 || o.vid > 4095) throw craftError(`VLAN id ${o.vid} out of range`);
  const tci = ((o.pcp ?? 0) << 13) | (o.dei ? 0x1000 : 0) | o.vid;
  return {
    name: "vlan",
    ethertype: o.tpid ?? ETHERTYPE.VLAN,
    encode(payload, { inner }) {
      const type = o.type ?? (inner?.llc ? payload.length : pick(undefined, inner?.ethertype, 0x88b5));
      return concat(u16(tci), u16(type), payload);
    },
  };
}

export interface MplsOptions {
  label: number;
  tc?: number;
  ttl?: number;
  /** Bottom of stack; defaults to "the inner layer is not another MPLS entry". */
  bottom?: boolean;
}

/** One MPLS label stack entry; stack several for a label stack. */
export function mpls(o: MplsOptions): Layer {
  if (o.label < 0 || o.label > 0xfffff) throw craftError(`MPLS label ${o.label} out of range`);
  return {
    name: "mpls",
    ethertype: ETHERTYPE.MPLS,
    pppProto: 0x0281,
    encode(payload, { inner }) {
      const s = o.bottom ?? inner?.name !== "mpls";
      const word = o.label * 4096 + ((o.tc ?? 0) << 9) + (s ? 0x100 : 0) + (o.ttl ?? 64);
      return concat(u32(word), payload);
    },
  };
}

export const PPP_PROTO = { IPV4: 0x0021, IPV6: 0x0057, MPLS: 0x0281, LCP: 0xc021, IPCP: 0x8021 } as const;

/** PPPoE session stage (EtherType 0x8864): 6-byte header, then the PPP protocol field. */
export function pppoeSession(o: { sessionId: number; protocol?: number }): Layer {
  return {
    name: "pppoes",
    ethertype: ETHERTYPE.PPPOE_SESSION,
    encode(payload, { inner }) {
      const proto = pick(o.protocol, inner?.pppProto, PPP_PROTO.LCP);
      return concat([0x11, 0x00], u16(o.sessionId), u16(payload.length + 2), u16(proto), payload);
    },
  };
}

export const PPPOE_CODE = { PADI: 0x09, PADO: 0x07, PADR: 0x19, PADS: 0x65, PADT: 0xa7 } as const;

/** PPPoE discovery stage (EtherType 0x8863) with tags as [type, value] pairs. */
export function pppoeDiscovery(o: { code: number; sessionId?: number; tags?: [number, Uint8Array][] }): Layer {
  return {
    name: "pppoed",
    ethertype: ETHERTYPE.PPPOE_DISCOVERY,
    encode(payload) {
      const tags = concat(...(o.tags ?? [[0x0101, new Uint8Array(0)]]).map(([t, v]) => concat(u16(t), u16(v.length), v)));
      const body = concat(tags, payload);
      return concat([0x11, o.code], u16(o.sessionId ?? 0), u16(body.length), body);
    },
  };
}

/** PPPoE in either stage: discovery when a discovery `code` is given, else a session. */
export function pppoe(o: { sessionId?: number; code?: number; protocol?: number; tags?: [number, Uint8Array][] } = {}): Layer {
  if (o.code !== undefined && o.code !== 0) return pppoeDiscovery({ code: o.code, sessionId: o.sessionId, tags: o.tags });
  return pppoeSession({ sessionId: o.sessionId ?? 1, protocol: o.protocol });
}

/** PPP as DLT_PPP frames it: HDLC address/control (ff 03) then the protocol. */
export function ppp(o: { protocol?: number; hdlc?: boolean } = {}): Layer {
  return {
    name: "ppp",
    encode(payload, { inner }) {
      const proto = pick(o.protocol, inner?.pppProto, PPP_PROTO.LCP);
      return concat(o.hdlc === false ? [] : [0xff, 0x03], u16(proto), payload);
    },
  };
}

/** 802.2 LLC header; an Ethernet layer outside it writes an 802.3 length. */
export function llc(o: { dsap: number; ssap: number; control: number | number[] }): Layer {
  const control = typeof o.control === "number" ? [o.control] : o.control;
  return {
    name: "llc",
    llc: true,
    encode(payload) {
      return concat([o.dsap, o.ssap], control, payload);
    },
  };
}

/** LLC/SNAP (aa aa 03, OUI, EtherType). */
export function snap(o: { oui?: number; type?: number } = {}): Layer {
  const oui = o.oui ?? 0;
  return {
    name: "snap",
    llc: true,
    encode(payload, { inner }) {
      return concat([0xaa, 0xaa, 0x03, (oui >> 16) & 0xff, (oui >> 8) & 0xff, oui & 0xff], u16(pick(o.type, inner?.ethertype, 0)), payload);
    },
  };
}

export const SLL_PKTTYPE = { HOST: 0, BROADCAST: 1, MULTICAST: 2, OTHERHOST: 3, OUTGOING: 4 } as const;

export interface SllOptions {
  pkttype?: number;
  /** ARPHRD_* type; 1 = Ethernet. */
  hatype?: number;
  addr?: Mac | Uint8Array;
  protocol?: number;
}

function sllAddress(addr: Mac | Uint8Array | undefined): Uint8Array {
  if (addr === undefined) return macBytes("02:00:00:00:00:01");
  return addr instanceof Uint8Array ? addr : macBytes(addr);
}

/** Linux cooked capture v1 (DLT_LINUX_SLL): 16 bytes, protocol last. */
export function sll(o: SllOptions = {}): Layer {
  const addr = sllAddress(o.addr);
  if (addr.length > 8) throw craftError("SLL addresses are at most 8 bytes");
  return {
    name: "sll",
    encode(payload, { inner }) {
      const a = new Uint8Array(8);
      a.set(addr);
      return concat(u16(o.pkttype ?? 0), u16(o.hatype ?? 1), u16(addr.length), a, u16(pick(o.protocol, inner?.ethertype, 0)), payload);
    },
  };
}

/** Linux cooked capture v2 (DLT_LINUX_SLL2): 20 bytes, protocol first, with the interface index. */
export function sll2(o: SllOptions & { ifindex?: number } = {}): Layer {
  const addr = sllAddress(o.addr);
  if (addr.length > 8) throw craftError("SLL addresses are at most 8 bytes");
  return {
    name: "sll2",
    encode(payload, { inner }) {
      const a = new Uint8Array(8);
      a.set(addr);
      return concat(u16(pick(o.protocol, inner?.ethertype, 0)), [0, 0], u32(o.ifindex ?? 1), u16(o.hatype ?? 1), [o.pkttype ?? 0, addr.length], a, payload);
    },
  };
}

/** Address families as BSD loopback headers carry them (values differ between systems for IPv6). */
export const LOOPBACK_AF = { INET: 2, INET6_LINUX: 10, INET6_BSD: 24, INET6_FREEBSD: 28, INET6_DARWIN: 30 } as const;

/**
 * BSD loopback header: a 4-byte address family. DLT_NULL stores it in the capturing host's order
 * (little-endian here), DLT_LOOP in network order.
 */
export function loopback(o: { family?: number; networkOrder?: boolean } = {}): Layer {
  return {
    name: o.networkOrder ? "loop" : "null",
    encode(payload, { inner }) {
      const family = o.family ?? (inner?.name === "ipv6" ? LOOPBACK_AF.INET6_LINUX : LOOPBACK_AF.INET);
      return concat(o.networkOrder ? u32(family) : u32le(family), payload);
    },
  };
}

/** Cisco HDLC (DLT_C_HDLC): address, control, EtherType. */
export function chdlc(o: { address?: number; type?: number } = {}): Layer {
  return {
    name: "chdlc",
    encode(payload, { inner }) {
      return concat([o.address ?? 0x0f, 0x00], u16(pick(o.type, inner?.ethertype, 0)), payload);
    },
  };
}

