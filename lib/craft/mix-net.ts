/**
 * The network-layer half of the generated mix: random but plausible IPv4/IPv6 datagrams (with
 * options, extension headers, fragments and tunnels), ARP, tagged and labelled frames, PPPoE and
 * 802.2 LLC frames. Addresses, ports and protocols are chosen so that the filters people write
 * (hosts in 10/8 and 192.168/16, 2001:db8::/32, well-known ports, flags) match a fair share.
 */
import { ascii, concat, u16, u32 } from "./bytes";
import { IPPROTO, arp, ipv4, ipv4Fragments, ipv6, ipv6Fragments, rawIp, type Ipv6Ext } from "./ip";
import type { Part } from "./layer";
import { ETHERTYPE, PPPOE_CODE, ether, llc, mpls, pppoeDiscovery, pppoeSession, snap, vlan } from "./link";
import type { Rng } from "./rng";
import { ICMPV6_TYPE, ICMP_TYPE, SCTP_CHUNK, icmp, icmpv6, igmp, ipPayload, sctp, sctpDataValue, sctpInitValue, tcp, udp, type TcpOption } from "./transport";
import { geneve, gre, vxlan } from "./tunnel";

export type NetKind = "ip4" | "ip6" | "ethertype" | "llc";

export interface NetItem {
  parts: Part[];
  kind: NetKind;
  desc: string;
}

// ------------------------------------------------------------------------------------------------
// Addresses and ports

export function ipv4Addr(r: Rng): string {
  return r.weighted<() => string>([
    [50, () => `198.${r.range(18, 19)}.${r.int(4)}.${r.range(1, 254)}`],
    [6, () => r.pick(["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.254", "10.1.1.1"])],
    [4, () => `10.${r.int(3)}.${r.int(4)}.${r.range(1, 254)}`],
    [3, () => `10.1.2.${r.range(1, 254)}`],
    [5, () => r.pick(["192.168.1.1", `192.168.${r.int(3)}.${r.range(1, 254)}`])],
    [3, () => r.pick(["172.16.0.1", `172.16.5.${r.int(16)}`, `172.${r.range(16, 31)}.${r.int(255)}.${r.range(1, 254)}`])],
    [2, () => `${r.range(224, 239)}.${r.int(3)}.${r.int(3)}.${r.range(1, 20)}`],
    [1, () => r.pick(["0.0.0.0", "255.255.255.255", "198.18.0.255", "198.18.255.255"])],
  ])();
}

export function ipv6Addr(r: Rng): string {
  return r.weighted<() => string>([
    [40, () => `2001:db8:${r.int(3).toString(16)}::${r.range(1, 0xffff).toString(16)}`],
    [10, () => r.pick(["2001:db8::1", "2001:db8::2", "2001:db8:1::1", "2001:db8:1:2::3"])],
    [8, () => `fe80::${r.range(1, 0xffff).toString(16)}`],
    [3, () => "fe80::1"],
    [5, () => r.pick(["ff02::1", "ff02::2", "ff02::1:ff00:1", "ff05::1:3"])],
    [2, () => r.pick(["::1", "::ffff:10.0.0.1", "2001:db8:0:0:0:0:0:2"])],
    [2, () => `2001:${r.range(0x200, 0x3fff).toString(16)}::${r.range(1, 0xff).toString(16)}`],
  ])();
}

export function macAddr(r: Rng): string {
  return r.weighted<() => string>([
    [40, () => `02:${[0, 0, 0, 0, 0].map(() => r.int(256).toString(16).padStart(2, "0")).join(":")}`],
    [8, () => "00:11:22:33:44:55"],
    [3, () => "66:77:88:99:aa:bb"],
    [2, () => `00:11:22:33:${r.int(256).toString(16).padStart(2, "0")}:01`],
    [4, () => "ff:ff:ff:ff:ff:ff"],
    [3, () => `01:00:5e:00:00:${r.range(1, 251).toString(16).padStart(2, "0")}`],
    [2, () => r.pick(["33:33:00:00:00:01", "33:33:ff:00:00:01", "01:80:c2:00:00:00", "01:80:c2:00:00:0e"])],
  ])();
}

function port(r: Rng): number {
  return r.weighted<() => number>([
    [12, () => r.pick([80, 443, 22, 53, 8080, 25, 179, 123, 5000, 1024])],
    [20, () => r.range(1024, 65535)],
    [4, () => r.range(1, 1023)],
    [2, () => r.range(6000, 6063)],
    [2, () => r.range(6881, 6889)],
    [2, () => r.range(8000, 8080)],
    [1, () => r.pick([0, 65535])],
  ])();
}

function ttl(r: Rng): number {
  return r.weighted([
    [10, 64],
    [5, 128],
    [3, 255],
    [2, r.pick([1, 2, 3, 4])],
    [3, r.range(5, 254)],
  ]);
}

function payloadBytes(r: Rng, max = 1400): Uint8Array {
  const n = r.weighted<() => number>([
    [20, () => 0],
    [30, () => r.range(1, 64)],
    [25, () => r.range(65, 600)],
    [15, () => r.range(600, max)],
    [3, () => max],
  ])();
  return r.bytes(n);
}

// ------------------------------------------------------------------------------------------------
// Transport payloads

function tcpOptions(r: Rng, syn: boolean): TcpOption[] {
  if (syn && r.chance(0.7)) {
    return [
      { kind: "mss", value: r.pick([1460, 1440, 536]) },
      { kind: "sackok" },
      { kind: "ts", value: r.u32(), echo: 0 },
      { kind: "nop" },
      { kind: "ws", shift: r.int(15) },
    ];
  }
  if (r.chance(0.3)) return [{ kind: "nop" }, { kind: "nop" }, { kind: "ts", value: r.u32(), echo: r.u32() }];
  if (r.chance(0.05)) return [{ kind: "nop" }, { kind: "nop" }, { kind: "sack", blocks: [[r.u32(), r.u32()]] }];
  return [];
}

function tcpSegment(r: Rng): { parts: Part[]; desc: string } {
  const flags = r.weighted([
    [10, "S"],
    [8, "SA"],
    [25, "A"],
    [20, "PA"],
    [5, "FA"],
    [3, "R"],
    [3, "RA"],
    [1, "U"],
    [1, "PAU"],
    [1, "SEC"],
    [1, "AE"],
    [1, "FSRPAUEC"],
    [1, ""],
  ]);
  const sport = port(r);
  const dport = r.chance(0.5) ? r.pick([80, 443, 22, 8080, 25, 179, 53]) : port(r);
  const syn = flags.includes("S");
  let data: Uint8Array = new Uint8Array(0);
  if (flags.includes("P") || (flags === "A" && r.chance(0.4))) {
    data = r.weighted<() => Uint8Array>([
      [3, () => ascii(`GET /${r.int(100)} HTTP/1.1\r\nHost: example.test\r\n\r\n`)],
      [2, () => ascii(`HTTP/1.1 200 OK\r\nContent-Length: ${r.int(999)}\r\n\r\n`)],
      [6, () => payloadBytes(r)],
    ])();
  }
  const layer = tcp({
    sport,
    dport,
    flags,
    seq: r.u32(),
    ack: flags.includes("A") ? r.u32() : r.chance(0.1) ? r.u32() : 0,
    window: r.pick([65535, 29200, 512, 0, r.int(65536)]),
    urgent: flags.includes("U") ? r.int(100) : 0,
    options: tcpOptions(r, syn),
  });
  return { parts: [layer, data], desc: `tcp ${sport}>${dport} [${flags}]` };
}

function dnsQuery(r: Rng): Uint8Array {
  const qr = r.chance(0.4) ? 0x80 : 0;
  const name = concat([7], ascii("example"), [4], ascii("test"), [0]);
  return concat(u16(r.int(65536)), [qr | 0x01, 0x00], u16(1), u16(qr ? 1 : 0), u16(0), u16(0), name, u16(r.pick([1, 28, 15])), u16(1));
}

function udpDatagram(r: Rng, v6: boolean): { parts: Part[]; desc: string } {
  const kind = r.weighted<string>([
    [10, "dns"],
    [4, "ntp"],
    [3, "dhcp"],
    [3, "trace"],
    [10, "random"],
    [2, "vxlan"],
    [2, "geneve"],
  ]);
  switch (kind) {
    case "dns": {
      const toServer = r.chance(0.6);
      const p = port(r);
      return { parts: [udp(toServer ? { sport: p, dport: 53 } : { sport: 53, dport: p }), dnsQuery(r)], desc: "udp dns" };
    }
    case "ntp":
      return { parts: [udp({ sport: 123, dport: 123 }), concat([0x23], r.bytes(47))], desc: "udp ntp" };
    case "dhcp":
      return v6
        ? { parts: [udp({ sport: 546, dport: 547 }), concat([1], r.bytes(40))], desc: "udp dhcpv6" }
        : { parts: [udp(r.chance(0.5) ? { sport: 68, dport: 67 } : { sport: 67, dport: 68 }), concat([1, 1, 6, 0], r.bytes(236))], desc: "udp dhcp" };
    case "trace":
      return { parts: [udp({ sport: r.range(30000, 60000), dport: r.range(33434, 33534) }), r.bytes(32)], desc: "udp traceroute" };
    case "vxlan":
      return {
        parts: [udp({ sport: r.range(49152, 65535) }), vxlan({ vni: r.pick([100, 42, r.int(1 << 24)]) }), ether({ src: macAddr(r), dst: macAddr(r) }), ipv4({ src: ipv4Addr(r), dst: ipv4Addr(r) }), ...tcpSegment(r).parts],
        desc: "udp vxlan",
      };
    case "geneve":
      return {
        parts: [udp({ sport: r.range(49152, 65535) }), geneve({ vni: r.pick([100, 7, r.int(1 << 24)]) }), ether({ src: macAddr(r), dst: macAddr(r) }), ipv4({ src: ipv4Addr(r), dst: ipv4Addr(r) }), ...udpDatagram(r, false).parts],
        desc: "udp geneve",
      };
    default: {
      const sport = port(r);
      const dport = port(r);
      return { parts: [udp({ sport, dport, checksum: !r.chance(0.1) }), payloadBytes(r)], desc: `udp ${sport}>${dport}` };
    }
  }
}

/** A made-up inner IPv4 header + 8 bytes, as ICMP errors quote it. */
function quotedIpv4(r: Rng): Uint8Array {
  return concat(ipv4({ src: ipv4Addr(r), dst: ipv4Addr(r), proto: 17, totalLength: 28 }).encode(new Uint8Array(0), { inner: undefined, ip: undefined }), r.bytes(8));
}

function icmpMessage(r: Rng): { parts: Part[]; desc: string } {
  const t = r.weighted([
    [10, ICMP_TYPE.ECHO],
    [8, ICMP_TYPE.ECHO_REPLY],
    [4, ICMP_TYPE.UNREACH],
    [3, ICMP_TYPE.TIME_EXCEEDED],
    [1, ICMP_TYPE.REDIRECT],
    [1, ICMP_TYPE.TIMESTAMP],
    [1, ICMP_TYPE.PARAM_PROBLEM],
  ]);
  if (t === ICMP_TYPE.ECHO || t === ICMP_TYPE.ECHO_REPLY) {
    return { parts: [icmp({ type: t, id: r.chance(0.3) ? 0x1234 : r.int(65536), seq: r.int(65536) }), payloadBytes(r, 1472)], desc: `icmp ${t === 8 ? "echo" : "echo-reply"}` };
  }
  const code = t === ICMP_TYPE.UNREACH ? r.pick([0, 1, 3, 4, 13]) : r.int(2);
  return { parts: [icmp({ type: t, code, rest: new Uint8Array(4) }), quotedIpv4(r)], desc: `icmp type ${t} code ${code}` };
}

function icmpv6Message(r: Rng): { parts: Part[]; desc: string } {
  const t = r.weighted([
    [10, ICMPV6_TYPE.ECHO],
    [8, ICMPV6_TYPE.ECHO_REPLY],
    [5, ICMPV6_TYPE.NEIGHBOR_SOLICIT],
    [4, ICMPV6_TYPE.NEIGHBOR_ADVERT],
    [2, ICMPV6_TYPE.ROUTER_SOLICIT],
    [2, ICMPV6_TYPE.ROUTER_ADVERT],
    [2, ICMPV6_TYPE.UNREACH],
    [1, ICMPV6_TYPE.PACKET_TOO_BIG],
    [1, ICMPV6_TYPE.MLDV2_REPORT],
  ]);
  switch (t) {
    case ICMPV6_TYPE.ECHO:
    case ICMPV6_TYPE.ECHO_REPLY:
      return { parts: [icmpv6({ type: t, id: r.int(65536), seq: r.int(65536) }), payloadBytes(r, 1200)], desc: `icmp6 ${t === 128 ? "echo" : "echo-reply"}` };
    case ICMPV6_TYPE.NEIGHBOR_SOLICIT:
    case ICMPV6_TYPE.NEIGHBOR_ADVERT: {
      const target = new Uint8Array(16);
      target.set([0x20, 0x01, 0x0d, 0xb8]);
      target[15] = r.range(1, 255);
      const flags = t === ICMPV6_TYPE.NEIGHBOR_ADVERT ? Uint8Array.of(0x60, 0, 0, 0) : new Uint8Array(4);
      return { parts: [icmpv6({ type: t, rest: flags }), concat(target, [t === 135 ? 1 : 2, 1], r.bytes(6))], desc: t === 135 ? "icmp6 neighbor solicitation" : "icmp6 neighbor advertisement" };
    }
    case ICMPV6_TYPE.ROUTER_ADVERT:
      return { parts: [icmpv6({ type: t, rest: Uint8Array.of(64, 0, 0x07, 0x08) }), concat(u32(0), u32(0))], desc: "icmp6 router advertisement" };
    case ICMPV6_TYPE.PACKET_TOO_BIG:
      return { parts: [icmpv6({ type: t, rest: Uint8Array.from(u32(1280)) }), r.bytes(48)], desc: "icmp6 packet too big" };
    case ICMPV6_TYPE.UNREACH: {
      const quoted = concat(ipv6({ src: ipv6Addr(r), dst: ipv6Addr(r), nextHeader: 17, payloadLength: 8 }).encode(new Uint8Array(0), { inner: undefined, ip: undefined }), r.bytes(8));
      return { parts: [icmpv6({ type: t, code: r.int(5), rest: new Uint8Array(4) }), quoted], desc: "icmp6 unreachable" };
    }
    default:
      return { parts: [icmpv6({ type: t, rest: new Uint8Array(4) }), r.bytes(r.range(8, 48))], desc: `icmp6 type ${t}` };
  }
}

function sctpPacket(r: Rng): { parts: Part[]; desc: string } {
  const p = r.chance(0.5) ? 5000 : port(r);
  const chunks = r.chance(0.5)
    ? [{ type: SCTP_CHUNK.INIT, value: sctpInitValue(r.u32()) }]
    : [{ type: SCTP_CHUNK.DATA, flags: 3, value: sctpDataValue(r.u32(), r.bytes(r.range(1, 200))) }, ...(r.chance(0.3) ? [{ type: SCTP_CHUNK.SACK, value: r.bytes(12) }] : [])];
  return { parts: [sctp({ sport: r.chance(0.5) ? p : port(r), dport: p, vtag: r.u32(), chunks })], desc: "sctp" };
}

/** The transport (or other upper layer) inside an IP header. */
function upper(r: Rng, v6: boolean, depth: number): { parts: Part[]; desc: string } {
  const choice = r.weighted<string>([
    [35, "tcp"],
    [25, "udp"],
    [10, "icmp"],
    [3, "sctp"],
    [depth === 0 ? 3 : 0, "gre"],
    [depth === 0 ? 1 : 0, "ipip"],
    [v6 ? 0 : 2, "igmp"],
    [3, "other"],
  ]);
  switch (choice) {
    case "tcp":
      return tcpSegment(r);
    case "udp":
      return udpDatagram(r, v6);
    case "icmp":
      return v6 ? icmpv6Message(r) : icmpMessage(r);
    case "sctp":
      return sctpPacket(r);
    case "gre": {
      const inner = r.chance(0.3) ? [ether({ src: macAddr(r), dst: macAddr(r) }), ipv4({ src: ipv4Addr(r), dst: ipv4Addr(r) }), ...icmpMessage(r).parts] : ipDatagram(r, r.chance(0.3), depth + 1).parts;
      return { parts: [gre({ key: r.chance(0.4) ? r.u32() : undefined, seq: r.chance(0.3) ? r.int(1000) : undefined, checksum: r.chance(0.2) }), ...inner], desc: "gre" };
    }
    case "ipip": {
      const inner = ipDatagram(r, r.chance(0.5), depth + 1);
      return { parts: inner.parts, desc: `tunnel ${inner.desc}` };
    }
    case "igmp":
      return { parts: [igmp({ type: r.pick([0x11, 0x16, 0x17, 0x22]) })], desc: "igmp" };
    default: {
      // AH in IPv6 is an extension header with structure; random bytes there would be noise.
      const proto = r.pick(v6 ? [IPPROTO.ESP, IPPROTO.OSPF, IPPROTO.PIM, IPPROTO.VRRP, 253] : [IPPROTO.ESP, IPPROTO.AH, IPPROTO.OSPF, IPPROTO.PIM, IPPROTO.VRRP, 9 /* igrp */, 253]);
      return { parts: [ipPayload(proto), r.bytes(r.range(8, 120))], desc: `ip proto ${proto}` };
    }
  }
}

function ipv4Options(r: Rng): number[] | undefined {
  if (!r.chance(0.06)) return undefined;
  return r.pick([
    [0x94, 0x04, 0x00, 0x00], // router alert
    [0x07, 0x0b, 0x04, ...new Array<number>(8).fill(0)], // record route with two slots
    [0x01, 0x01, 0x01, 0x00], // NOPs and end
    [0x44, 0x0c, 0x05, 0x00, ...new Array<number>(8).fill(0)], // timestamp
  ]);
}

function ipv6Extensions(r: Rng): Ipv6Ext[] {
  if (!r.chance(0.2)) return [];
  const ext: Ipv6Ext[] = [];
  if (r.chance(0.4)) ext.push({ type: "hop", options: r.chance(0.6) ? [5, 2, 0, 0] : [] });
  if (r.chance(0.3)) ext.push({ type: "dst", options: r.chance(0.5) ? [1, 2, 0, 0] : [] });
  if (r.chance(0.3)) ext.push({ type: "routing", routingType: r.pick([0, 2, 4]), addresses: [ipv6Addr(r)] });
  if (r.chance(0.25)) ext.push({ type: "ah", spi: r.u32(), seq: r.int(1000) });
  if (ext.length === 0) ext.push({ type: "dst", options: [] });
  return ext;
}

/** An IPv4 or IPv6 datagram; depth > 0 for tunnelled ones (no further tunnels). */
export function ipDatagram(r: Rng, v6: boolean, depth = 0): NetItem {
  const up = upper(r, v6, depth);
  if (!v6) {
    const o = {
      src: ipv4Addr(r),
      dst: ipv4Addr(r),
      ttl: ttl(r),
      tos: r.weighted([
        [10, 0],
        [2, 0xb8],
        [2, r.int(256)],
      ]),
      id: r.int(65536),
      df: r.chance(0.5),
      options: ipv4Options(r),
    };
    if (depth === 0 && r.chance(0.06)) {
      const frags = ipv4Fragments({ ...o, df: false }, [...up.parts, r.bytes(r.range(100, 1500))], r.pick([64, 256, 576, 1024]));
      const k = r.int(frags.length);
      return { parts: [rawIp(frags[k]!)], kind: "ip4", desc: `ip fragment ${k + 1}/${frags.length} (${up.desc})` };
    }
    return { parts: [ipv4(o), ...up.parts], kind: "ip4", desc: `ip ${up.desc}` };
  }
  const o = {
    src: ipv6Addr(r),
    dst: ipv6Addr(r),
    hopLimit: ttl(r),
    trafficClass: r.chance(0.2) ? r.int(256) : 0,
    flowLabel: r.chance(0.5) ? r.int(1 << 20) : 0,
    ext: ipv6Extensions(r),
  };
  if (depth === 0 && r.chance(0.06)) {
    const frags = ipv6Fragments(o, [...up.parts, r.bytes(r.range(100, 1400))], r.pick([128, 256, 576, 1232]), r.u32());
    const k = r.int(frags.length);
    return { parts: [rawIp(frags[k]!)], kind: "ip6", desc: `ip6 fragment ${k + 1}/${frags.length} (${up.desc})` };
  }
  return { parts: [ipv6(o), ...up.parts], kind: "ip6", desc: `ip6${o.ext.length ? ` +${o.ext.map((e) => e.type).join("+")}` : ""} ${up.desc}` };
}

// ------------------------------------------------------------------------------------------------
// EtherType-level items that are not plain IP

function arpItem(r: Rng): NetItem {
  const rarp = r.chance(0.15);
  const op = rarp ? r.pick([3, 4]) : r.pick([1, 1, 2]);
  return { parts: [arp({ op, rarp, sha: macAddr(r), spa: ipv4Addr(r), tha: op === 1 ? "00:00:00:00:00:00" : macAddr(r), tpa: ipv4Addr(r) })], kind: "ethertype", desc: rarp ? "rarp" : `arp op ${op}` };
}

function vlanItem(r: Rng, inner: () => NetItem): NetItem {
  const vid = () => r.weighted([
    [5, 100],
    [3, 10],
    [3, 20],
    [1, 4095],
    [1, 0],
    [8, r.range(1, 4094)],
  ]);
  const i = inner();
  if (r.chance(0.3)) {
    const outer = vid();
    const innerVid = vid();
    return { parts: [vlan({ vid: outer, tpid: r.pick([ETHERTYPE.QINQ, ETHERTYPE.VLAN, 0x9100]) }), vlan({ vid: innerVid }), ...i.parts], kind: "ethertype", desc: `vlan ${outer}/${innerVid} ${i.desc}` };
  }
  const v = vid();
  return { parts: [vlan({ vid: v, pcp: r.int(8) }), ...i.parts], kind: "ethertype", desc: `vlan ${v} ${i.desc}` };
}

function mplsItem(r: Rng): NetItem {
  const n = r.weighted([
    [5, 1],
    [3, 2],
    [1, 3],
  ]);
  const labels = Array.from({ length: n }, () => r.weighted([
    [4, 100],
    [3, 200],
    [6, r.range(16, 0xfffff)],
  ]));
  const i = ipDatagram(r, r.chance(0.3), 1);
  return { parts: [...labels.map((label) => mpls({ label, ttl: r.range(1, 255), tc: r.int(8) })), ...i.parts], kind: "ethertype", desc: `mpls ${labels.join(",")} ${i.desc}` };
}

function pppoeItem(r: Rng): NetItem {
  if (r.chance(0.3)) {
    const code = r.pick(Object.values(PPPOE_CODE));
    return { parts: [pppoeDiscovery({ code, sessionId: code === PPPOE_CODE.PADS || code === PPPOE_CODE.PADT ? r.int(65536) : 0, tags: [[0x0101, new Uint8Array(0)], [0x0103, r.bytes(4)]] })], kind: "ethertype", desc: `pppoe discovery 0x${code.toString(16)}` };
  }
  const sessionId = r.weighted([
    [3, 0x1234],
    [2, 1],
    [5, r.int(65536)],
  ]);
  const i = ipDatagram(r, r.chance(0.3), 1);
  return { parts: [pppoeSession({ sessionId }), ...i.parts], kind: "ethertype", desc: `pppoe session ${sessionId} ${i.desc}` };
}

/** EtherTypes with no builder of their own: the bytes after the type are random. */
function otherEthertype(r: Rng): NetItem {
  const type = r.pick([0x88cc, 0x88e5, 0x88b5, 0x6003, 0x809b, 0x80f3, 0x6004, 0x6007, 0x6001, 0x6002, 0x8137, 0x88f7, 0x8906]);
  return { parts: [{ name: "raw-ethertype", ethertype: type, encode: (p) => p }, r.bytes(r.range(28, 200))], kind: "ethertype", desc: `ethertype 0x${type.toString(16)}` };
}

// ------------------------------------------------------------------------------------------------
// 802.2 LLC frames

const LLC_U = [0x03, 0x63, 0x43, 0x6f, 0xe3, 0xaf, 0x87, 0x0f, 0x13, 0x73];
const LLC_S = [0x01, 0x05, 0x09];

export function isoPdu(r: Rng): Uint8Array {
  const nlpid = r.pick([0x83, 0x83, 0x82, 0x81]);
  if (nlpid === 0x83) {
    // IS-IS: pdu type in the low five bits of byte 4 (IIH 15-17, LSP 18/20, CSNP 24/25, PSNP 26/27).
    const type = r.pick([15, 16, 17, 18, 20, 24, 25, 26, 27]);
    return concat([0x83, 27, 1, 0, type, 1, 0, 0], r.bytes(r.range(20, 80)));
  }
  return concat([nlpid, 20, 1, 0, r.pick([1, 2, 4, 28])], r.bytes(r.range(20, 60)));
}

export function llcItem(r: Rng): NetItem {
  const kind = r.weighted<string>([
    [4, "stp"],
    [4, "iso"],
    [2, "netbeui"],
    [2, "ipx"],
    [3, "snap-ip"],
    [1, "snap-atalk"],
    [3, "control"],
  ]);
  switch (kind) {
    case "stp":
      return { parts: [llc({ dsap: 0x42, ssap: 0x42, control: 0x03 }), concat([0, 0, r.pick([0, 2]), 0], r.bytes(31))], kind: "llc", desc: "llc stp" };
    case "iso":
      return { parts: [llc({ dsap: 0xfe, ssap: 0xfe, control: 0x03 }), isoPdu(r)], kind: "llc", desc: "llc iso" };
    case "netbeui":
      return { parts: [llc({ dsap: 0xf0, ssap: 0xf0, control: r.pick(LLC_U) }), r.bytes(40)], kind: "llc", desc: "llc netbeui" };
    case "ipx":
      return { parts: [llc({ dsap: 0xe0, ssap: 0xe0, control: 0x03 }), concat([0xff, 0xff], r.bytes(40))], kind: "llc", desc: "llc ipx" };
    case "snap-ip": {
      const i = ipDatagram(r, r.chance(0.3), 1);
      return { parts: [snap(), ...i.parts], kind: "llc", desc: `snap ${i.desc}` };
    }
    case "snap-atalk":
      return { parts: [snap({ oui: 0x080007, type: 0x809b }), r.bytes(30)], kind: "llc", desc: "snap appletalk" };
    default: {
      const dsap = r.pick([0x04, 0x06, 0x42, 0xaa, 0xf0, 0xfe]);
      const control = r.weighted<number[]>([
        [3, [r.pick(LLC_U)]],
        [2, [r.pick(LLC_S), r.int(256)]],
        [2, [(r.int(128) << 1) & 0xfe, r.int(256)]],
      ]);
      return { parts: [llc({ dsap, ssap: dsap | (r.chance(0.3) ? 1 : 0), control }), r.bytes(r.range(3, 60))], kind: "llc", desc: "llc" };
    }
  }
}

/** Any item for a link that carries EtherTypes (and LLC when `withLlc`). */
export function ethertypeItem(r: Rng, withLlc: boolean, tags = true): NetItem {
  const choice = r.weighted<string>([
    [48, "ip4"],
    [25, "ip6"],
    [5, "arp"],
    [tags ? 9 : 0, "vlan"],
    [tags ? 4 : 0, "mpls"],
    [tags ? 4 : 0, "pppoe"],
    [3, "other"],
    [withLlc ? 5 : 0, "llc"],
  ]);
  switch (choice) {
    case "ip4":
      return ipDatagram(r, false);
    case "ip6":
      return ipDatagram(r, true);
    case "arp":
      return arpItem(r);
    case "vlan":
      return vlanItem(r, () => r.weighted<() => NetItem>([[6, () => ipDatagram(r, false)], [3, () => ipDatagram(r, true)], [1, () => arpItem(r)], [1, () => mplsItem(r)], [1, () => (withLlc ? llcItem(r) : arpItem(r))]])());
    case "mpls":
      return mplsItem(r);
    case "pppoe":
      return pppoeItem(r);
    case "llc":
      return llcItem(r);
    default:
      return otherEthertype(r);
  }
}

