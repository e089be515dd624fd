/**
 * dissect(): the packet as a field tree. The link type picks the first dissector; each dissector
 * returns where the next layer starts and what it is, until one returns nothing or the bytes run
 * out. Every layer runs inside a guard, so malformed input yields nodes with `error`, never a throw.
 */
import { arp, chdlc, ether, llc, loop, mpls, nullLink, ppp, pppoeDiscovery, pppoeSession, rawIp, sll, sll2, vlan } from "./link";
import { ah, ipv4, ipv6 } from "./ip";
import { LayerBuilder, Truncated, leaf, type DissectNode, type Dissector, type Next, type Summary } from "./node";
import { icmp, icmpv6, igmp, sctp, tcp, udp } from "./transport";
import { geneve, gre, vxlan } from "./tunnel";
import { dltInfo } from "../pcap/linktypes";

interface Entry {
  fn: Dissector;
  name: string;
  label: string;
}

const DISSECTORS: Record<string, Entry> = {
  eth: { fn: ether, name: "eth", label: "Ethernet II" },
  vlan: { fn: vlan, name: "vlan", label: "802.1Q Virtual LAN" },
  mpls: { fn: mpls, name: "mpls", label: "MultiProtocol Label Switching" },
  pppoed: { fn: pppoeDiscovery, name: "pppoed", label: "PPP-over-Ethernet Discovery" },
  pppoes: { fn: pppoeSession, name: "pppoes", label: "PPP-over-Ethernet Session" },
  ppp: { fn: ppp, name: "ppp", label: "Point-to-Point Protocol" },
  chdlc: { fn: chdlc, name: "chdlc", label: "Cisco HDLC" },
  llc: { fn: llc, name: "llc", label: "Logical-Link Control" },
  arp: { fn: arp, name: "arp", label: "Address Resolution Protocol" },
  sll: { fn: sll, name: "sll", label: "Linux cooked capture v1" },
  sll2: { fn: sll2, name: "sll2", label: "Linux cooked capture v2" },
  null: { fn: nullLink, name: "null", label: "Null/Loopback" },
  loop: { fn: loop, name: "loop", label: "OpenBSD Loopback" },
  raw: { fn: rawIp, name: "raw", label: "Raw IP" },
  ipv4: { fn: ipv4, name: "ip", label: "Internet Protocol Version 4" },
  ipv6: { fn: ipv6, name: "ipv6", label: "Internet Protocol Version 6" },
  ah: { fn: ah, name: "ah", label: "Authentication Header" },
  tcp: { fn: tcp, name: "tcp", label: "Transmission Control Protocol" },
  udp: { fn: udp, name: "udp", label: "User Datagram Protocol" },
  icmp: { fn: icmp, name: "icmp", label: "Internet Control Message Protocol" },
  icmpv6: { fn: icmpv6, name: "icmpv6", label: "Internet Control Message Protocol v6" },
  igmp: { fn: igmp, name: "igmp", label: "Internet Group Management Protocol" },
  sctp: { fn: sctp, name: "sctp", label: "Stream Control Transmission Protocol" },
  gre: { fn: gre, name: "gre", label: "Generic Routing Encapsulation" },
  vxlan: { fn: vxlan, name: "vxlan", label: "Virtual eXtensible Local Area Network" },
  geneve: { fn: geneve, name: "geneve", label: "Generic Network Virtualization Encapsulation" },
};

/** The first dissector for each DLT we decode. */
const BY_DLT: Record<number, string> = {
  0: "null",
  1: "eth",
  9: "ppp",
  12: "raw",
  50: "ppp",
  104: "chdlc",
  108: "loop",
  113: "sll",
  // Like tcpdump, the version nibble decides even on the IPv4-only and IPv6-only link types.
  228: "raw",
  229: "raw",
  276: "sll2",
};

/** DLTs dissect() decodes beyond a hex blob. */
export function dissectableDlts(): number[] {
  return Object.keys(BY_DLT).map(Number);
}

const MAX_LAYERS = 24;

export interface Dissection {
  root: DissectNode;
  summary: Summary;
}

/** The tree and the summary parts in one pass (summarize() and the UI share it). */
export function dissectWithSummary(data: Uint8Array, dlt: number): Dissection {
  const summary: Summary = {};
  const root: DissectNode = { name: "frame", label: `Frame: ${data.length} bytes captured`, start: 0, end: data.length, children: [], value: data.length };
  const first = BY_DLT[dlt];
  if (first === undefined) {
    const info = dltInfo(dlt);
    root.children.push(leaf("data", `${info ? info.name : `Link type ${dlt}`}: not decoded (${data.length} bytes)`, 0, data.length, data.length));
    summary.line = `${info ? info.name : `DLT ${dlt}`} frame, ${data.length} bytes`;
    return { root, summary };
  }
  // An end of Infinity means "no header has said how long this is": the capture end rules.
  let next: Next | undefined = { proto: first, offset: 0, end: Infinity };
  let quotedParent: DissectNode | undefined;
  for (let depth = 0; next && depth < MAX_LAYERS; depth++) {
    const n: Next = next;
    next = undefined;
    const entry = DISSECTORS[n.proto];
    // Nothing left: fine for trailing data, but a header we were told to expect is missing.
    if (n.offset >= Math.min(n.end, data.length) && (!entry || n.offset >= n.end)) {
      if (n.offset < n.end && Number.isFinite(n.end)) root.children.push(missing(n, data.length));
      break;
    }
    const parent = n.quoted && quotedParent ? quotedParent : root;
    if (!entry) {
      const end = Math.min(n.end, data.length);
      const d = leaf("data", `Data (${end - n.offset} bytes)`, n.offset, end, end - n.offset);
      if (Number.isFinite(n.end) && n.end > data.length) d.error = `truncated: ${n.end - n.offset} bytes expected, ${data.length - n.offset} captured`;
      parent.children.push(d);
      break;
    }
    const at = Math.min(n.offset, data.length);
    const l = new LayerBuilder(data, at, Math.max(at, n.end), summary, !!n.quoted, n.ip, !!n.partial, entry.name, entry.label);
    try {
      next = entry.fn(l);
    } catch (e) {
      l.node.error = e instanceof Truncated ? e.message() : `could not decode: ${e instanceof Error ? e.message : String(e)}`;
      if (l.node.end === l.start) l.node.end = Math.min(l.limit, data.length);
      next = undefined;
    }
    if (l.node.children.length > 0 || l.node.error || l.node.end > l.start) parent.children.push(l.node);
    // An ICMP error's quoted packet nests under the ICMP node.
    if (next?.quoted && !n.quoted) quotedParent = l.node;
  }
  if (next) root.children.push(leaf("data", `Not decoded: more than ${MAX_LAYERS} layers`, next.offset, data.length));
  return { root, summary };
}

function missing(n: Next, captured: number): DissectNode {
  const d = leaf("data", `Data missing (${n.end - n.offset} bytes expected)`, captured, captured);
  d.error = `truncated: ${n.end - n.offset} bytes expected, 0 captured`;
  return d;
}

/** The packet as a field tree with byte ranges. Never throws. */
export function dissect(data: Uint8Array, dlt: number): DissectNode {
  try {
    return dissectWithSummary(data, dlt).root;
  } catch (e) {
    return { name: "frame", label: `Frame: ${data.length} bytes`, start: 0, end: data.length, children: [], error: `could not decode: ${String(e)}` };
  }
}

/** One line, e.g. "198.18.0.1 → 198.18.0.2 TCP 1234 → 80 [SYN]". Never throws. */
export function summarize(data: Uint8Array, dlt: number): string {
  try {
    return summaryLine(dissectWithSummary(data, dlt).summary, data.length);
  } catch {
    return `${data.length} bytes`;
  }
}

export function summaryLine(s: Summary, length: number): string {
  if (s.src !== undefined && s.dst !== undefined) return `${s.src} → ${s.dst} ${s.transport ?? s.net ?? ""}`.trimEnd();
  if (s.line) return s.line;
  if (s.link) return s.link;
  return `${length} bytes`;
}

