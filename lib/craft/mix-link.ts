/**
 * The link-layer half of the generated mix: for each DLT, which network items fit and how they are
 * framed. Headers follow what libpcap 1.10.3's code generator expects for that DLT (the offsets it
 * loads), so that filters on these links have something to match.
 */
import { concat, u16, u16le, u32, u32le } from "./bytes";
import { macBytes } from "./addr";
import { build, type Part } from "./layer";
import { LOOPBACK_AF, SLL_PKTTYPE, chdlc, ether, loopback, ppp, sll, sll2, snap } from "./link";
import { ethertypeItem, ipDatagram, isoPdu, macAddr, type NetItem } from "./mix-net";
import type { Rng } from "./rng";

export interface LinkFrame {
  data: Uint8Array;
  desc: string;
}

type Framer = (r: Rng) => LinkFrame;

function frame(parts: Part[], desc: string): LinkFrame {
  return { data: build(...parts), desc };
}

function ipItem(r: Rng, v6share = 0.35): NetItem {
  return ipDatagram(r, r.chance(v6share));
}

/** Wraps EtherType items in LLC/SNAP for links whose payload is always 802.2 (FDDI, token ring…). */
function snapped(item: NetItem): Part[] {
  return item.kind === "llc" ? item.parts : [snap(), ...item.parts];
}

function wrapBytes(header: Uint8Array | number[], parts: Part[]): Uint8Array {
  return concat(header, build(...parts));
}

/** 802.11 frames: data (with LLC/SNAP payload), management and control. */
function ieee80211(r: Rng): LinkFrame {
  const a = () => macBytes(macAddr(r));
  const kind = r.weighted<string>([
    [50, "data"],
    [10, "qos-data"],
    [12, "mgt"],
    [8, "ctl"],
    [3, "null"],
  ]);
  if (kind === "mgt") {
    const subtype = r.pick([0, 1, 4, 5, 8, 8, 8, 10, 11, 12, 13]); // assoc, probe, beacon, disassoc, auth, deauth, action
    const fc = [subtype << 4, 0];
    return { data: concat(fc, [0, 0], a(), a(), a(), u16(r.int(4096) << 4), r.bytes(r.range(12, 120))), desc: `802.11 mgt subtype ${subtype}` };
  }
  if (kind === "ctl") {
    const subtype = r.pick([11, 12, 13, 9, 8]); // RTS, CTS, ACK, block ack, block ack req
    const fc = [0x04 | (subtype << 4), 0];
    const body = subtype === 12 || subtype === 13 ? a() : concat(a(), a(), subtype >= 8 && subtype <= 9 ? r.bytes(4) : []);
    return { data: concat(fc, u16(r.int(32768)), body), desc: `802.11 ctl subtype ${subtype}` };
  }
  const dir = r.weighted([
    [5, 0],
    [5, 1],
    [5, 2],
    [1, 3],
  ]); // tods=1, fromds=2
  const qos = kind === "qos-data";
  const subtype = kind === "null" ? 4 : qos ? 8 : 0;
  const fc = [0x08 | (subtype << 4), dir | (r.chance(0.1) ? 0x08 : 0)];
  const head = concat(fc, u16(r.int(32768)), a(), a(), a(), u16(r.int(4096) << 4), dir === 3 ? a() : [], qos ? [r.int(8), 0] : []);
  if (kind === "null") return { data: head, desc: "802.11 null data" };
  const item = ethertypeItem(r, true, false);
  return { data: concat(head, build(...snapped(item))), desc: `802.11 data dir ${dir} ${item.desc}` };
}

function radiotap(r: Rng): Uint8Array {
  if (r.chance(0.5)) return Uint8Array.of(0, 0, 8, 0, 0, 0, 0, 0);
  // TSFT (8, aligned at 8), flags (1), rate (1), channel (2+2, aligned at 2).
  return concat([0, 0], u16le(8 + 8 + 1 + 1 + 4), u32le(0x0f), r.bytes(8), [0x00, r.pick([2, 4, 11, 22, 108])], u16le(2412), u16le(0x00a0));
}

function sunatm(r: Rng): LinkFrame {
  const kind = r.weighted<string>([
    [8, "llc"],
    [2, "lane"],
    [3, "signalling"],
  ]);
  const dir = r.chance(0.5) ? 0x80 : 0;
  if (kind === "llc") {
    const item = ethertypeItem(r, true, false);
    return { data: concat([dir | 2, r.weighted([[4, 0], [1, r.int(256)]]), ...u16(r.weighted([[3, 32], [3, r.range(32, 1023)], [1, 100]]))], build(...snapped(item))), desc: `sunatm llc ${item.desc}` };
  }
  if (kind === "lane") {
    const item = ethertypeItem(r, false, false);
    return { data: concat([dir | 1, 0, ...u16(r.range(32, 300))], [0xff, 0x00], build(ether({ src: macAddr(r), dst: macAddr(r) }), ...item.parts)), desc: `sunatm lane ${item.desc}` };
  }
  // Signalling and OAM channels: metac (1), oam f4 (3/4), signalling (5), ilmi (16); Q.2931 message types at byte 9.
  const vci = r.pick([1, 3, 4, 5, 5, 16]);
  const msg = r.pick([0x05, 0x07, 0x0f, 0x02, 0x4d, 0x5a, 0x46]);
  return { data: concat([dir, 0, ...u16(vci)], [0xaa, 0xaa, 0x03, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, msg], r.bytes(20)), desc: `sunatm vci ${vci}` };
}

function mtp2(r: Rng): LinkFrame {
  const sio = r.weighted([
    [5, 3],
    [3, 5],
    [2, r.int(256)],
  ]);
  const dpc = r.weighted([[4, 100], [6, r.int(1 << 14)]]);
  const opc = r.weighted([[4, 200], [6, r.int(1 << 14)]]);
  const sls = r.weighted([[3, 5], [7, r.int(16)]]);
  const label = (dpc | (opc << 14) | (sls << 28)) >>> 0;
  return { data: concat([r.int(256), r.int(256), r.range(3, 63)], [sio], u32le(label), r.bytes(r.range(0, 40))), desc: `mtp2 sio ${sio} dpc ${dpc} opc ${opc} sls ${sls}` };
}

function pflogHeader(r: Rng, v6: boolean): Uint8Array {
  const h = new Uint8Array(64);
  h[0] = 61; // header length before padding to 4
  h[1] = v6 ? r.pick([10, 24, 28, 30]) : 2;
  h[2] = r.pick([0, 1, 1, 2]); // action: pass, drop, scrub
  h[3] = r.int(8); // reason
  const ifname = r.pick(["eth0", "em0", "lo0", "pflog0"]);
  for (let i = 0; i < ifname.length; i++) h[4 + i] = ifname.charCodeAt(i);
  const ruleset = r.pick(["", "main", "nat"]);
  for (let i = 0; i < ruleset.length; i++) h[20 + i] = ruleset.charCodeAt(i);
  h.set(u32(r.weighted([[3, 1], [2, 2], [5, r.int(100)]])), 36); // rule number
  h.set(u32(r.weighted([[3, 2], [2, 0xffffffff], [5, r.int(100)]])), 40); // subrule number
  h[60] = r.int(3); // direction
  return h;
}

/** Framers for every DLT the mix supports. */
export const FRAMERS: ReadonlyMap<number, Framer> = new Map<number, Framer>([
  [
    1,
    (r) => {
      const item = ethertypeItem(r, true);
      const f = build(ether({ src: macAddr(r), dst: macAddr(r) }), ...item.parts);
      // Short frames get the Ethernet minimum-size padding, as a NIC would add.
      const data = f.length < 60 && r.chance(0.6) ? concat(f, new Uint8Array(60 - f.length)) : f;
      return { data, desc: `eth ${item.desc}` };
    },
  ],
  [12, (r) => { const i = ipItem(r); return frame(i.parts, i.desc); }],
  [228, (r) => { const i = ipDatagram(r, false); return frame(i.parts, i.desc); }],
  [229, (r) => { const i = ipDatagram(r, true); return frame(i.parts, i.desc); }],
  [
    113,
    (r) => {
      const item = ethertypeItem(r, true);
      const pkttype = r.weighted([[6, SLL_PKTTYPE.HOST], [5, SLL_PKTTYPE.OUTGOING], [1, SLL_PKTTYPE.BROADCAST], [1, SLL_PKTTYPE.MULTICAST], [1, SLL_PKTTYPE.OTHERHOST]]);
      const link = sll({ pkttype, addr: macAddr(r), protocol: item.kind === "llc" ? 0x0004 : undefined });
      return frame([link, ...item.parts], `sll ${item.desc}`);
    },
  ],
  [
    276,
    (r) => {
      const item = ethertypeItem(r, true);
      const pkttype = r.weighted([[6, SLL_PKTTYPE.HOST], [5, SLL_PKTTYPE.OUTGOING], [1, SLL_PKTTYPE.BROADCAST], [1, SLL_PKTTYPE.MULTICAST], [1, SLL_PKTTYPE.OTHERHOST]]);
      const ifindex = r.weighted([[4, 2], [3, 7], [2, 1], [3, r.range(1, 40)]]);
      const link = sll2({ pkttype, ifindex, addr: macAddr(r), protocol: item.kind === "llc" ? 0x0004 : undefined });
      return frame([link, ...item.parts], `sll2 if${ifindex} ${item.desc}`);
    },
  ],
  [
    0,
    (r) => {
      const i = ipItem(r);
      const family = i.kind === "ip6" ? r.weighted([[6, LOOPBACK_AF.INET6_LINUX], [1, LOOPBACK_AF.INET6_BSD], [1, LOOPBACK_AF.INET6_FREEBSD], [1, LOOPBACK_AF.INET6_DARWIN]]) : LOOPBACK_AF.INET;
      return frame([loopback({ family }), ...i.parts], `null ${i.desc}`);
    },
  ],
  [
    108,
    (r) => {
      const i = ipItem(r);
      const family = i.kind === "ip6" ? r.weighted([[6, LOOPBACK_AF.INET6_LINUX], [2, LOOPBACK_AF.INET6_BSD]]) : LOOPBACK_AF.INET;
      return frame([loopback({ family, networkOrder: true }), ...i.parts], `loop ${i.desc}`);
    },
  ],
  ...[9, 50].map((dlt): [number, Framer] => [
    dlt,
    (r) => {
      if (r.chance(0.08)) return { data: concat([0xff, 0x03], u16(0xc021), [1, 1], u16(8), r.bytes(4)), desc: "ppp lcp" };
      const i = r.chance(0.1) ? ethertypeItem(r, false) : ipItem(r);
      if (i.kind === "ethertype" && !/^mpls/.test(i.desc)) {
        const j = ipItem(r);
        return frame([ppp(), ...j.parts], `ppp ${j.desc}`);
      }
      return frame([ppp(), ...i.parts], `ppp ${i.desc}`);
    },
  ]),
  [
    104,
    (r) => {
      if (r.chance(0.1)) return { data: concat([0x0f, 0x00], u16(0xfefe), [0x03], isoPdu(r)), desc: "chdlc iso" };
      const item = ethertypeItem(r, false);
      return frame([chdlc({ address: r.chance(0.2) ? 0x8f : 0x0f }), ...item.parts], `chdlc ${item.desc}`);
    },
  ],
  [
    8,
    (r) => {
      const i = ipDatagram(r, false);
      const hdr = concat([r.pick([0x00, 0x01, 0x40, 0x41])], r.bytes(15));
      return { data: wrapBytes(hdr, i.parts), desc: `slip ${i.desc}` };
    },
  ],
  [
    10,
    (r) => {
      const item = ethertypeItem(r, true, false);
      return { data: wrapBytes(concat([0x50], macBytes(macAddr(r)), macBytes(macAddr(r))), snapped(item)), desc: `fddi ${item.desc}` };
    },
  ],
  [
    6,
    (r) => {
      const item = ethertypeItem(r, true, false);
      return { data: wrapBytes(concat([0x10, 0x40], macBytes(macAddr(r)), macBytes(macAddr(r))), snapped(item)), desc: `token ring ${item.desc}` };
    },
  ],
  [105, ieee80211],
  [
    127,
    (r) => {
      const f = ieee80211(r);
      return { data: concat(radiotap(r), f.data), desc: `radiotap ${f.desc}` };
    },
  ],
  [
    119,
    (r) => {
      const f = ieee80211(r);
      const h = new Uint8Array(144);
      h.set(u32le(0x44), 0);
      h.set(u32le(144), 4);
      return { data: concat(h, f.data), desc: `prism ${f.desc}` };
    },
  ],
  [
    163,
    (r) => {
      const f = ieee80211(r);
      const h = new Uint8Array(64);
      h.set(u32(0x80211001), 0);
      h.set(u32(64), 4);
      return { data: concat(h, f.data), desc: `avs ${f.desc}` };
    },
  ],
  [
    192,
    (r) => {
      const f = ieee80211(r);
      return { data: concat([0, 0], u16le(8), u32le(105), f.data), desc: `ppi ${f.desc}` };
    },
  ],
  [
    117,
    (r) => {
      const i = ipItem(r);
      return { data: wrapBytes(pflogHeader(r, i.kind === "ip6"), i.parts), desc: `pflog ${i.desc}` };
    },
  ],
  [
    109,
    (r) => {
      const i = ipItem(r);
      const af = i.kind === "ip6" ? r.pick([10, 24]) : 2;
      return { data: wrapBytes(concat(u32le(af), u32(r.u32()), u32(r.int(8))), i.parts), desc: `enc ${i.desc}` };
    },
  ],
  [
    226,
    (r) => {
      const i = ipItem(r);
      const h = concat([2, i.kind === "ip6" ? 26 : 2], u16(0), u32(0), u32(r.range(1, 8)), u32(0), u32(0), u32(0));
      return { data: wrapBytes(h, i.parts), desc: `ipnet ${i.desc}` };
    },
  ],
  [
    7,
    (r) => {
      const arpPkt = r.chance(0.1);
      if (arpPkt) {
        const item = ethertypeItem(r, false, false);
        if (item.kind === "ethertype" && /^arp/.test(item.desc)) return { data: wrapBytes([r.int(256), r.int(256), r.pick([0xd5, 0xf1]), 0, 0, 0], item.parts), desc: `arcnet ${item.desc}` };
      }
      const i = ipDatagram(r, false);
      return { data: wrapBytes([r.int(256), r.int(256), r.pick([0xd4, 0xd4, 0xf0]), 0, 0, 0], i.parts), desc: `arcnet ${i.desc}` };
    },
  ],
  [
    129,
    (r) => {
      const i = ipDatagram(r, false);
      return { data: wrapBytes([r.int(256), r.int(256), 0, 0, r.pick([0xd4, 0xf0]), 0, 0, 0], i.parts), desc: `arcnet-linux ${i.desc}` };
    },
  ],
  [123, sunatm],
  [
    51,
    (r) => {
      const i = ipItem(r);
      const inner = build(...i.parts);
      return { data: concat([0x11, 0x00], u16(r.int(65536)), u16(inner.length + 2), u16(i.kind === "ip6" ? 0x57 : 0x21), inner), desc: `ppp-ether ${i.desc}` };
    },
  ],
  [
    240,
    (r) => {
      const item = ethertypeItem(r, false);
      return { data: concat(u32le(r.u32() & 0x0fff0000), build(ether({ src: macAddr(r), dst: macAddr(r) }), ...item.parts)), desc: `netanalyzer ${item.desc}` };
    },
  ],
  [
    241,
    (r) => {
      const item = ethertypeItem(r, false);
      return { data: concat(u32le(0), [0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0xd5], build(ether({ src: macAddr(r), dst: macAddr(r) }), ...item.parts)), desc: `netanalyzer-transparent ${item.desc}` };
    },
  ],
  [
    178,
    (r) => {
      const item = ethertypeItem(r, false, false);
      const ext = concat([1, 4], u32(r.range(1, 100)), [3, 4], u32(r.int(4)), [0, 0]);
      return { data: concat([0x4d, 0x47, 0x43, 0x80 | r.int(2)], u16(ext.length), ext, build(ether({ src: macAddr(r), dst: macAddr(r) }), ...item.parts)), desc: `juniper ${item.desc}` };
    },
  ],
  [
    122,
    (r) => {
      const item = ethertypeItem(r, true, false);
      const nh = concat([0, 0], macBytes(macAddr(r)), [0, 0], macBytes(macAddr(r)));
      return { data: wrapBytes(nh, snapped(item)), desc: `ip-over-fc ${item.desc}` };
    },
  ],
  [
    11,
    (r) => {
      const item = ethertypeItem(r, true, false);
      return frame(snapped(item), `atm-rfc1483 ${item.desc}`);
    },
  ],
  [
    107,
    (r) => {
      const i = ipItem(r);
      const dlci = r.range(16, 1007);
      const q922 = [(dlci >> 2) & 0xfc, ((dlci << 4) & 0xf0) | 0x01];
      if (r.chance(0.2)) return { data: wrapBytes(concat(q922, [0x03, 0x00, 0x80, 0, 0, 0], u16(i.kind === "ip6" ? 0x86dd : 0x0800)), i.parts), desc: `frelay snap ${i.desc}` };
      return { data: wrapBytes(concat(q922, [0x03, i.kind === "ip6" ? 0x8e : 0xcc]), i.parts), desc: `frelay ${i.desc}` };
    },
  ],
  [140, mtp2],
  [
    165,
    (r) => {
      const data = r.bytes(r.range(0, 60));
      return { data: concat([0x55, 0xff, r.pick([0, 1, 5, 6, 7]), r.int(128), r.int(128)], u16(data.length), [r.int(256)], data, data.length ? [r.int(256), r.int(256)] : []), desc: "bacnet ms/tp" };
    },
  ],
]);
