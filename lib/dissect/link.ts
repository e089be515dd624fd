/** Link-layer and link-adjacent dissectors: Ethernet, VLAN, MPLS, PPPoE, PPP, LLC, ARP, cooked and loopback headers. */
import { formatIpv4, formatMac, hex } from "./format";
import { PPP_NAMES, ethertypeName, ethertypeProto, pppProto } from "./numbers";
import type { Dissector, LayerBuilder, Next } from "./node";

function etherTypeField(l: LayerBuilder, rel: number, name: string): number {
  const type = l.u16(rel);
  l.add(name, `Type: ${ethertypeName(type)} (${hex(type, 4)})`, rel, 2, type);
  return type;
}

/** An EtherType field ≤ 1500 is an 802.3 length: the payload is 802.2 LLC. */
function afterTypeOrLength(l: LayerBuilder, type: number, rel: number): Next {
  if (type <= 1500) return l.next("llc", rel, Math.min(l.end, l.start + rel + type));
  return l.next(ethertypeProto(type), rel);
}

export const ether: Dissector = (l) => {
  const dst = formatMac(l.bytes(0, 6));
  const src = formatMac(l.bytes(6, 6));
  l.add("eth.dst", `Destination: ${dst}`, 0, 6, dst);
  l.add("eth.src", `Source: ${src}`, 6, 6, src);
  const type = l.u16(12);
  if (type <= 1500) l.add("eth.len", `Length: ${type}`, 12, 2, type);
  else etherTypeField(l, 12, "eth.type");
  l.node.label = `Ethernet II, Src: ${src}, Dst: ${dst}`;
  l.say({ link: `${src} → ${dst} ${type <= 1500 ? "802.3" : ethertypeName(type) === "unknown" ? `ethertype ${hex(type, 4)}` : ethertypeName(type)}` });
  return afterTypeOrLength(l, type, 14);
};

export const vlan: Dissector = (l) => {
  const tci = l.u16(0);
  const vid = tci & 0xfff;
  const t = l.add("vlan.tci", `Tag control: ${hex(tci, 4)}`, 0, 2, tci);
  l.add("vlan.priority", `Priority: ${tci >> 13}`, 0, 2, tci >> 13, t);
  l.add("vlan.dei", `Drop eligible: ${(tci >> 12) & 1}`, 0, 2, (tci >> 12) & 1, t);
  l.add("vlan.id", `ID: ${vid}`, 0, 2, vid, t);
  const type = l.u16(2);
  if (type <= 1500) l.add("vlan.len", `Length: ${type}`, 2, 2, type);
  else etherTypeField(l, 2, "vlan.etype");
  l.node.label = `802.1Q Virtual LAN, ID: ${vid}`;
  return afterTypeOrLength(l, type, 4);
};

export const mpls: Dissector = (l) => {
  let rel = 0;
  const labels: number[] = [];
  for (;;) {
    const w = l.u32(rel);
    const label = w >>> 12;
    const bottom = (w >>> 8) & 1;
    const e = l.add("mpls.entry", `Label ${label}, TC ${(w >>> 9) & 7}, S ${bottom}, TTL ${w & 0xff}`, rel, 4, w);
    l.add("mpls.label", `Label: ${label}`, rel, 3, label, e);
    l.add("mpls.exp", `Traffic class: ${(w >>> 9) & 7}`, rel + 2, 1, (w >>> 9) & 7, e);
    l.add("mpls.bottom", `Bottom of stack: ${bottom}`, rel + 2, 1, bottom, e);
    l.add("mpls.ttl", `TTL: ${w & 0xff}`, rel + 3, 1, w & 0xff, e);
    labels.push(label);
    rel += 4;
    if (bottom || labels.length >= 32) break;
  }
  l.node.label = `MultiProtocol Label Switching, Label${labels.length > 1 ? "s" : ""}: ${labels.join(", ")}`;
  // No protocol field after the stack: guess from the first nibble, as tcpdump does.
  if (l.avail(rel) === 0) {
    l.node.error = "truncated: nothing after the label stack";
    return undefined;
  }
  const nibble = l.u8(rel) >> 4;
  return l.next(nibble === 4 ? "ipv4" : nibble === 6 ? "ipv6" : "data", rel);
};

const PPPOE_CODES: Record<number, string> = { 0x00: "Session Data", 0x09: "PADI", 0x07: "PADO", 0x19: "PADR", 0x65: "PADS", 0xa7: "PADT" };
const PPPOE_TAGS: Record<number, string> = { 0x0000: "End-Of-List", 0x0101: "Service-Name", 0x0102: "AC-Name", 0x0103: "Host-Uniq", 0x0104: "AC-Cookie", 0x0105: "Vendor-Specific", 0x0110: "Relay-Session-Id", 0x0201: "Service-Name-Error", 0x0202: "AC-System-Error", 0x0203: "Generic-Error" };

function pppoeHeader(l: LayerBuilder): { code: number; session: number; len: number } {
  const vt = l.u8(0);
  l.add("pppoe.version", `Version: ${vt >> 4}`, 0, 1, vt >> 4);
  l.add("pppoe.type", `Type: ${vt & 0xf}`, 0, 1, vt & 0xf);
  const code = l.u8(1);
  l.add("pppoe.code", `Code: ${PPPOE_CODES[code] ?? "unknown"} (${hex(code, 2)})`, 1, 1, code);
  const session = l.u16(2);
  l.add("pppoe.session_id", `Session ID: ${hex(session, 4)}`, 2, 2, session);
  const len = l.u16(4);
  l.add("pppoe.payload_length", `Payload Length: ${len}`, 4, 2, len);
  return { code, session, len };
}

export const pppoeDiscovery: Dissector = (l) => {
  const h = pppoeHeader(l);
  l.node.label = `PPP-over-Ethernet Discovery, ${PPPOE_CODES[h.code] ?? `code ${hex(h.code, 2)}`}`;
  l.say({ line: `PPPoE ${PPPOE_CODES[h.code] ?? `code ${hex(h.code, 2)}`} session ${hex(h.session, 4)}` });
  const end = Math.min(6 + h.len, l.avail());
  let rel = 6;
  while (rel + 4 <= end) {
    const type = l.u16(rel);
    const len = l.u16(rel + 2);
    const t = l.add("pppoe.tag", `${PPPOE_TAGS[type] ?? `Tag ${hex(type, 4)}`} (${len} bytes)`, rel, 4 + len, type);
    l.add("pppoe.tag_type", `Type: ${hex(type, 4)}`, rel, 2, type, t);
    l.add("pppoe.tag_length", `Length: ${len}`, rel + 2, 2, len, t);
    rel += 4 + len;
    if (type === 0) break;
  }
  if (6 + h.len > l.avail()) l.node.error = `truncated: ${6 + h.len} bytes needed, ${l.avail()} captured`;
  return undefined;
};

export const pppoeSession: Dissector = (l) => {
  const h = pppoeHeader(l);
  l.node.label = `PPP-over-Ethernet Session, Session ID: ${hex(h.session, 4)}`;
  const proto = l.u16(6);
  l.add("ppp.protocol", `PPP protocol: ${PPP_NAMES[proto] ?? "unknown"} (${hex(proto, 4)})`, 6, 2, proto);
  if (pppProto(proto) === "data") l.say({ line: `PPPoE session ${hex(h.session, 4)} ${PPP_NAMES[proto] ?? `PPP ${hex(proto, 4)}`}` });
  return l.next(pppProto(proto), 8, Math.min(l.end, l.start + 6 + h.len));
};

/** PPP as in DLT_PPP/PPP_SERIAL: optional ff 03, then a 1- or 2-byte protocol. */
export const ppp: Dissector = (l) => {
  let rel = 0;
  if (l.u8(0) === 0xff && l.avail() >= 2 && l.u8(1) === 0x03) {
    l.add("ppp.address", "Address: 0xff", 0, 1, 0xff);
    l.add("ppp.control", "Control: 0x03", 1, 1, 3);
    rel = 2;
  }
  // Protocol-field compression: an odd first byte is a one-byte protocol.
  const first = l.u8(rel);
  const proto = first & 1 ? first : l.u16(rel);
  const plen = first & 1 ? 1 : 2;
  l.add("ppp.protocol", `Protocol: ${PPP_NAMES[proto] ?? "unknown"} (${hex(proto, 4)})`, rel, plen, proto);
  l.node.label = `Point-to-Point Protocol, ${PPP_NAMES[proto] ?? `protocol ${hex(proto, 4)}`}`;
  if (pppProto(proto) === "data") l.say({ line: `PPP ${PPP_NAMES[proto] ?? hex(proto, 4)}` });
  return l.next(pppProto(proto), rel + plen);
};

/** Cisco HDLC: address, control, EtherType. */
export const chdlc: Dissector = (l) => {
  const addr = l.u8(0);
  l.add("chdlc.address", `Address: ${addr === 0x8f ? "Broadcast" : "Unicast"} (${hex(addr, 2)})`, 0, 1, addr);
  l.add("chdlc.control", `Control: ${hex(l.u8(1), 2)}`, 1, 1, l.u8(1));
  const type = etherTypeField(l, 2, "chdlc.protocol");
  l.node.label = "Cisco HDLC";
  if (type === 0xfefe) return l.next("llc", 2);
  return l.next(ethertypeProto(type), 4);
};

const LLC_SAPS: Record<number, string> = { 0x42: "Spanning Tree", 0xaa: "SNAP", 0xfe: "ISO Network Layer", 0xf0: "NetBIOS", 0xe0: "IPX", 0x06: "IP", 0x04: "SNA", 0x00: "Null" };
const LLC_U: Record<number, string> = { 0x03: "UI", 0x63: "UA", 0x43: "DISC", 0x6f: "SABME", 0xe3: "TEST", 0xaf: "XID", 0x87: "FRMR", 0x0f: "DM", 0x13: "UI P", 0x73: "UA F" };
const LLC_S: Record<number, string> = { 0x01: "RR", 0x05: "RNR", 0x09: "REJ" };

export const llc: Dissector = (l) => {
  const dsap = l.u8(0);
  const ssap = l.u8(1);
  l.add("llc.dsap", `DSAP: ${LLC_SAPS[dsap & 0xfe] ?? "unknown"} (${hex(dsap, 2)})`, 0, 1, dsap);
  l.add("llc.ssap", `SSAP: ${LLC_SAPS[ssap & 0xfe] ?? "unknown"} (${hex(ssap, 2)})${ssap & 1 ? ", response" : ""}`, 1, 1, ssap);
  const c = l.u8(2);
  let kind: string;
  let clen = 1;
  if ((c & 3) === 3) kind = `U frame, ${LLC_U[c & 0xef] ?? hex(c, 2)}`;
  else {
    clen = 2;
    l.need(2, 2);
    kind = c & 1 ? `S frame, ${LLC_S[c & 0x0f] ?? hex(c, 2)}` : `I frame, N(S)=${c >> 1}`;
  }
  l.add("llc.control", `Control: ${kind}`, 2, clen, clen === 2 ? l.u16(2) : c);
  l.node.label = `Logical-Link Control, ${LLC_SAPS[dsap & 0xfe] ?? `DSAP ${hex(dsap, 2)}`}`;
  if (dsap === 0xaa && ssap === 0xaa && c === 0x03) {
    const oui = (l.u8(3) << 16) | l.u16(4);
    l.add("llc.oui", `Organization code: ${hex(oui, 6)}`, 3, 3, oui);
    const pid = l.u16(6);
    l.add("llc.pid", `Protocol ID: ${ethertypeName(pid)} (${hex(pid, 4)})`, 6, 2, pid);
    l.node.label = "Logical-Link Control, SNAP";
    if (oui === 0 || oui === 0xf8) return l.next(ethertypeProto(pid), 8);
    l.say({ line: `LLC SNAP OUI ${hex(oui, 6)} PID ${hex(pid, 4)}` });
    return l.next("data", 8);
  }
  l.say({ line: `LLC ${LLC_SAPS[dsap & 0xfe] ?? `DSAP ${hex(dsap, 2)}`} ${kind}` });
  return l.next("data", 2 + clen);
};

const ARP_OPS: Record<number, string> = { 1: "request", 2: "reply", 3: "reverse request", 4: "reverse reply" };

export const arp: Dissector = (l) => {
  const htype = l.u16(0);
  const ptype = l.u16(2);
  const hlen = l.u8(4);
  const plen = l.u8(5);
  const op = l.u16(6);
  l.add("arp.hw.type", `Hardware type: ${htype === 1 ? "Ethernet" : htype} (${htype})`, 0, 2, htype);
  l.add("arp.proto.type", `Protocol type: ${ethertypeName(ptype)} (${hex(ptype, 4)})`, 2, 2, ptype);
  l.add("arp.hw.size", `Hardware size: ${hlen}`, 4, 1, hlen);
  l.add("arp.proto.size", `Protocol size: ${plen}`, 5, 1, plen);
  l.add("arp.opcode", `Opcode: ${ARP_OPS[op] ?? "unknown"} (${op})`, 6, 2, op);
  const fmtHw = (b: Uint8Array) => (b.length === 6 ? formatMac(b) : Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(":"));
  const fmtP = (b: Uint8Array) => (b.length === 4 ? formatIpv4(b) : Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(""));
  let rel = 8;
  const sha = fmtHw(l.bytes(rel, hlen));
  l.add("arp.src.hw", `Sender hardware address: ${sha}`, rel, hlen, sha);
  rel += hlen;
  const spa = fmtP(l.bytes(rel, plen));
  l.add("arp.src.proto", `Sender protocol address: ${spa}`, rel, plen, spa);
  rel += plen;
  const tha = fmtHw(l.bytes(rel, hlen));
  l.add("arp.dst.hw", `Target hardware address: ${tha}`, rel, hlen, tha);
  rel += hlen;
  const tpa = fmtP(l.bytes(rel, plen));
  l.add("arp.dst.proto", `Target protocol address: ${tpa}`, rel, plen, tpa);
  const rarp = op === 3 || op === 4;
  l.node.label = `${rarp ? "Reverse " : ""}Address Resolution Protocol (${ARP_OPS[op] ?? `op ${op}`})`;
  const line =
    op === 1 ? `ARP who-has ${tpa} tell ${spa}` : op === 2 ? `ARP ${spa} is-at ${sha}` : op === 3 ? `RARP who-is ${tha} tell ${sha}` : op === 4 ? `RARP ${tha} at ${tpa}` : `ARP op ${op}`;
  l.say({ line, net: rarp ? "RARP" : "ARP" });
  return undefined;
};

const SLL_PKTTYPES: Record<number, string> = { 0: "Unicast to us", 1: "Broadcast", 2: "Multicast", 3: "Unicast to another host", 4: "Sent by us" };

/** The protocol field of the cooked headers: an EtherType, or one of Linux's ETH_P_* pseudo types. */
function cookedNext(l: LayerBuilder, proto: number, rel: number): Next {
  if (proto === 0x0004) return l.next("llc", rel); // ETH_P_802_2
  if (proto === 0x0001) return l.next("data", rel); // ETH_P_802_3 (Novell raw)
  return l.next(ethertypeProto(proto), rel);
}

function cookedAddress(l: LayerBuilder, rel: number, halen: number, name: string): void {
  const a = l.bytes(rel, 8).subarray(0, Math.min(halen, 8));
  const text = a.length === 6 ? formatMac(a) : Array.from(a, (x) => x.toString(16).padStart(2, "0")).join(":");
  l.add(name, `Source: ${text}`, rel, 8, text);
}

export const sll: Dissector = (l) => {
  const pkttype = l.u16(0);
  l.add("sll.pkttype", `Packet type: ${SLL_PKTTYPES[pkttype] ?? "unknown"} (${pkttype})`, 0, 2, pkttype);
  const hatype = l.u16(2);
  l.add("sll.hatype", `Link-layer address type: ${hatype}`, 2, 2, hatype);
  const halen = l.u16(4);
  l.add("sll.halen", `Link-layer address length: ${halen}`, 4, 2, halen);
  cookedAddress(l, 6, halen, "sll.src");
  const proto = l.u16(14);
  l.add("sll.protocol", `Protocol: ${ethertypeName(proto)} (${hex(proto, 4)})`, 14, 2, proto);
  l.node.label = `Linux cooked capture v1, ${SLL_PKTTYPES[pkttype] ?? `type ${pkttype}`}`;
  return cookedNext(l, proto, 16);
};

export const sll2: Dissector = (l) => {
  const proto = l.u16(0);
  l.add("sll.protocol", `Protocol: ${ethertypeName(proto)} (${hex(proto, 4)})`, 0, 2, proto);
  l.add("sll.reserved", "Reserved", 2, 2, l.u16(2));
  const ifindex = l.u32(4);
  l.add("sll.ifindex", `Interface index: ${ifindex}`, 4, 4, ifindex);
  const hatype = l.u16(8);
  l.add("sll.hatype", `Link-layer address type: ${hatype}`, 8, 2, hatype);
  const pkttype = l.u8(10);
  l.add("sll.pkttype", `Packet type: ${SLL_PKTTYPES[pkttype] ?? "unknown"} (${pkttype})`, 10, 1, pkttype);
  const halen = l.u8(11);
  l.add("sll.halen", `Link-layer address length: ${halen}`, 11, 1, halen);
  cookedAddress(l, 12, halen, "sll.src");
  l.node.label = `Linux cooked capture v2, interface ${ifindex}, ${SLL_PKTTYPES[pkttype] ?? `type ${pkttype}`}`;
  return cookedNext(l, proto, 20);
};

const AF_NAMES: Record<number, string> = { 2: "IPv4", 10: "IPv6 (Linux)", 24: "IPv6 (BSD)", 28: "IPv6 (FreeBSD)", 30: "IPv6 (Darwin)", 7: "OSI", 23: "IPX" };

function familyNext(l: LayerBuilder, af: number): Next {
  if (af === 2) return l.next("ipv4", 4);
  if (af === 10 || af === 24 || af === 28 || af === 30) return l.next("ipv6", 4);
  return l.next("data", 4);
}

/** DLT_NULL: the family is in the capturing host's byte order; small values tell which order that was. */
export const nullLink: Dissector = (l) => {
  const le = l.u32le(0);
  const af = le < 0x10000 ? le : l.u32(0);
  l.add("null.family", `Family: ${AF_NAMES[af] ?? "unknown"} (${af})`, 0, 4, af);
  l.node.label = "Null/Loopback";
  return familyNext(l, af);
};

/** DLT_LOOP: the family in network byte order. */
export const loop: Dissector = (l) => {
  const af = l.u32(0);
  l.add("null.family", `Family: ${AF_NAMES[af] ?? "unknown"} (${af})`, 0, 4, af);
  l.node.label = "OpenBSD Loopback";
  return familyNext(l, af);
};

/** Raw IP (DLT_RAW): the version nibble says which. */
export const rawIp: Dissector = (l) => {
  const v = l.u8(0) >> 4;
  return { proto: v === 4 ? "ipv4" : v === 6 ? "ipv6" : "data", offset: l.start, end: l.end };
};
