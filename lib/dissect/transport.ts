/** TCP, UDP, ICMP, ICMPv6, SCTP and IGMP. Checksums are verified when the whole segment was captured. */
import { checksumVerdict, expectedChecksum, pseudoSum } from "./checksum";
import { formatIpv6, hex } from "./format";
import type { DissectNode, Dissector, LayerBuilder } from "./node";

/** Appends the verdict when the whole segment is in the capture and an IP header gave us addresses. */
function verify(l: LayerBuilder, node: DissectNode, field: number, proto: number, zeroMeansNone = false): void {
  const len = l.end - l.start;
  // Quoted packets (inside ICMP errors) and first fragments are incomplete by design.
  if (!l.ip || l.quoted || l.partial || l.end > l.data.length) return;
  const stored = l.u16(field);
  if (proto === 17 && l.ip.v6 && stored === 0) {
    node.label += " [missing: IPv6 requires a UDP checksum]";
    return;
  }
  const expected = expectedChecksum(l.data, l.start, l.end, l.start + field, pseudoSum(l.ip.src, l.ip.dst, l.ip.v6, proto, len));
  node.label += checksumVerdict(stored, expected, zeroMeansNone);
}

const TCP_FLAG_NAMES = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "AE"] as const;
const TCP_FLAG_IDS = ["fin", "syn", "reset", "push", "ack", "urg", "ece", "cwr", "ae"] as const;

export function tcpFlagText(flags: number): string {
  // Wireshark's order: SYN and FIN first reads oddly; list them high bit to low like "[SYN, ACK]".
  const order = [1, 0, 2, 3, 4, 5, 6, 7, 8];
  const names = order.filter((i) => flags & (1 << i)).map((i) => TCP_FLAG_NAMES[i]!);
  const ack = names.indexOf("ACK");
  if (ack > 0) names.push(names.splice(ack, 1)[0]!);
  return names.length ? `[${names.join(", ")}]` : "[none]";
}

const TCP_OPTS: Record<number, string> = { 0: "End of Option List", 1: "No-Operation", 2: "Maximum segment size", 3: "Window scale", 4: "SACK permitted", 5: "SACK", 8: "Timestamps", 28: "User Timeout", 29: "TCP-AO", 30: "Multipath TCP", 34: "TCP Fast Open" };

function tcpOptions(l: LayerBuilder, hl: number): void {
  const opts = l.add("tcp.options", `Options: (${hl - 20} bytes)`, 20, hl - 20);
  let rel = 20;
  while (rel < hl) {
    const kind = l.u8(rel);
    if (kind === 0 || kind === 1) {
      l.add(kind === 0 ? "tcp.option.eol" : "tcp.option.nop", TCP_OPTS[kind]!, rel, 1, kind, opts);
      rel++;
      if (kind === 0) break;
      continue;
    }
    if (rel + 1 >= hl) {
      opts.error = `option ${kind} has no length byte`;
      return;
    }
    const len = l.u8(rel + 1);
    if (len < 2 || rel + len > hl) {
      opts.error = `option ${kind} has bad length ${len}`;
      return;
    }
    let text = TCP_OPTS[kind] ?? `Option ${kind}`;
    if (kind === 2 && len === 4) text += `: ${l.u16(rel + 2)} bytes`;
    else if (kind === 3 && len === 3) text += `: ${l.u8(rel + 2)} (multiply by ${2 ** l.u8(rel + 2)})`;
    else if (kind === 8 && len === 10) text += `: TSval ${l.u32(rel + 2)}, TSecr ${l.u32(rel + 6)}`;
    else if (kind === 5) {
      const blocks: string[] = [];
      for (let b = rel + 2; b + 8 <= rel + len; b += 8) blocks.push(`${l.u32(b)}-${l.u32(b + 4)}`);
      text += `: ${blocks.join(" ")}`;
    }
    const id = kind === 2 ? "tcp.option.mss" : kind === 3 ? "tcp.option.wscale" : kind === 4 ? "tcp.option.sack_perm" : kind === 5 ? "tcp.option.sack" : kind === 8 ? "tcp.option.timestamp" : "tcp.option";
    l.add(id, text, rel, len, kind, opts);
    rel += len;
  }
}

export const tcp: Dissector = (l) => {
  const sport = l.u16(0);
  const dport = l.u16(2);
  l.add("tcp.srcport", `Source Port: ${sport}`, 0, 2, sport);
  l.add("tcp.dstport", `Destination Port: ${dport}`, 2, 2, dport);
  l.add("tcp.seq", `Sequence Number: ${l.u32(4)}`, 4, 4, l.u32(4));
  l.add("tcp.ack", `Acknowledgment Number: ${l.u32(8)}`, 8, 4, l.u32(8));
  const hl = (l.u8(12) >> 4) * 4;
  l.add("tcp.hdr_len", `Header Length: ${hl} bytes (${hl / 4})`, 12, 1, hl);
  const flags = ((l.u8(12) & 1) << 8) | l.u8(13);
  const f = l.add("tcp.flags", `Flags: ${hex(flags, 3)} ${tcpFlagText(flags)}`, 12, 2, flags);
  for (let i = 8; i >= 0; i--) l.add(`tcp.flags.${TCP_FLAG_IDS[i]}`, `${TCP_FLAG_NAMES[i]}: ${(flags >> i) & 1}`, i === 8 ? 12 : 13, 1, (flags >> i) & 1, f);
  l.add("tcp.window_size", `Window: ${l.u16(14)}`, 14, 2, l.u16(14));
  const sum = l.add("tcp.checksum", `Checksum: ${hex(l.u16(16), 4)}`, 16, 2, l.u16(16));
  l.add("tcp.urgent_pointer", `Urgent Pointer: ${l.u16(18)}`, 18, 2, l.u16(18));
  const text = `TCP ${sport} → ${dport} ${tcpFlagText(flags)}`;
  l.say({ transport: text });
  if (hl < 20) {
    l.node.label = `Transmission Control Protocol, Src Port: ${sport}, Dst Port: ${dport}`;
    l.node.error = `bad header length ${hl} (must be at least 20)`;
    return undefined;
  }
  if (hl > 20) tcpOptions(l, hl);
  const payload = Math.max(0, Math.min(l.end, l.data.length) - l.start - hl);
  verify(l, sum, 16, 6);
  l.node.label = `Transmission Control Protocol, Src Port: ${sport}, Dst Port: ${dport}, Len: ${payload}`;
  if (payload > 0) l.say({ transport: `${text} len ${payload}` });
  return l.next("data", hl);
};

export const udp: Dissector = (l) => {
  const sport = l.u16(0);
  const dport = l.u16(2);
  const len = l.u16(4);
  l.add("udp.srcport", `Source Port: ${sport}`, 0, 2, sport);
  l.add("udp.dstport", `Destination Port: ${dport}`, 2, 2, dport);
  l.add("udp.length", `Length: ${len}`, 4, 2, len);
  const sum = l.add("udp.checksum", `Checksum: ${hex(l.u16(6), 4)}`, 6, 2, l.u16(6));
  l.node.label = `User Datagram Protocol, Src Port: ${sport}, Dst Port: ${dport}`;
  l.say({ transport: `UDP ${sport} → ${dport} len ${Math.max(0, len - 8)}` });
  if (len < 8) {
    l.node.error = `bad length ${len} (must be at least 8)`;
    return undefined;
  }
  const end = Math.min(l.end, l.start + len);
  if (end === l.end) verify(l, sum, 6, 17, !l.ip?.v6);
  // Tunnels inside a first fragment are incomplete; leave them as data, as tcpdump does.
  const tunnel = dport === 4789 || sport === 4789 ? "vxlan" : dport === 6081 || sport === 6081 ? "geneve" : "data";
  const proto = l.partial ? "data" : tunnel;
  return l.next(proto, 8, end);
};

const ICMP_TYPES: Record<number, string> = { 0: "Echo (ping) reply", 3: "Destination unreachable", 4: "Source quench", 5: "Redirect", 8: "Echo (ping) request", 9: "Router advertisement", 10: "Router solicitation", 11: "Time-to-live exceeded", 12: "Parameter problem", 13: "Timestamp request", 14: "Timestamp reply" };
const ICMP_SHORT: Record<number, string> = { 0: "echo reply", 3: "unreachable", 5: "redirect", 8: "echo request", 11: "time exceeded", 12: "parameter problem", 13: "timestamp request", 14: "timestamp reply" };

export const icmp: Dissector = (l) => {
  const type = l.u8(0);
  const code = l.u8(1);
  l.add("icmp.type", `Type: ${type} (${ICMP_TYPES[type] ?? "unknown"})`, 0, 1, type);
  l.add("icmp.code", `Code: ${code}`, 1, 1, code);
  const sum = l.add("icmp.checksum", `Checksum: ${hex(l.u16(2), 4)}`, 2, 2, l.u16(2));
  if (l.end <= l.data.length && !l.quoted && !l.partial) sum.label += checksumVerdict(l.u16(2), expectedChecksum(l.data, l.start, l.end, l.start + 2));
  l.node.label = `Internet Control Message Protocol, ${ICMP_TYPES[type] ?? `type ${type}`}`;
  let text = `ICMP ${ICMP_SHORT[type] ?? `type ${type} code ${code}`}`;
  if (type === 0 || type === 8 || type === 13 || type === 14) {
    const id = l.u16(4);
    const seq = l.u16(6);
    l.add("icmp.ident", `Identifier: ${id} (${hex(id, 4)})`, 4, 2, id);
    l.add("icmp.seq", `Sequence Number: ${seq}`, 6, 2, seq);
    text += ` id ${id} seq ${seq}`;
    l.say({ transport: text });
    return l.next("data", 8);
  }
  l.say({ transport: text });
  if (type === 3 || type === 4 || type === 5 || type === 11 || type === 12) {
    l.add("icmp.unused", type === 5 ? "Gateway address" : "Unused", 4, 4);
    return { ...l.next("ipv4", 8), quoted: true };
  }
  return l.next("data", 4);
};

const ICMPV6_TYPES: Record<number, string> = { 1: "Destination Unreachable", 2: "Packet Too Big", 3: "Time Exceeded", 4: "Parameter Problem", 128: "Echo (ping) request", 129: "Echo (ping) reply", 130: "Multicast Listener Query", 131: "Multicast Listener Report", 132: "Multicast Listener Done", 133: "Router Solicitation", 134: "Router Advertisement", 135: "Neighbor Solicitation", 136: "Neighbor Advertisement", 137: "Redirect", 143: "Multicast Listener Report v2" };

export const icmpv6: Dissector = (l) => {
  const type = l.u8(0);
  const code = l.u8(1);
  l.add("icmpv6.type", `Type: ${ICMPV6_TYPES[type] ?? "unknown"} (${type})`, 0, 1, type);
  l.add("icmpv6.code", `Code: ${code}`, 1, 1, code);
  const sum = l.add("icmpv6.checksum", `Checksum: ${hex(l.u16(2), 4)}`, 2, 2, l.u16(2));
  verify(l, sum, 2, 58);
  l.node.label = `Internet Control Message Protocol v6, ${ICMPV6_TYPES[type] ?? `type ${type}`}`;
  let text = `ICMPv6 ${(ICMPV6_TYPES[type] ?? `type ${type}`).toLowerCase()}`;
  if (type === 128 || type === 129) {
    const id = l.u16(4);
    const seq = l.u16(6);
    l.add("icmpv6.echo.identifier", `Identifier: ${hex(id, 4)}`, 4, 2, id);
    l.add("icmpv6.echo.sequence_number", `Sequence: ${seq}`, 6, 2, seq);
    text = `ICMPv6 echo ${type === 128 ? "request" : "reply"} id ${id} seq ${seq}`;
  } else if (type === 135 || type === 136 || type === 137) {
    if (type === 136) l.add("icmpv6.nd.na.flag", `Flags: ${hex(l.u32(4), 8)}`, 4, 4, l.u32(4));
    const target = formatIpv6(l.bytes(8, 16));
    l.add("icmpv6.nd.target", `Target Address: ${target}`, 8, 16, target);
    text += ` ${target}`;
    l.say({ transport: text });
    return l.next("data", 24);
  } else if (type === 134) {
    l.add("icmpv6.nd.ra.cur_hop_limit", `Cur hop limit: ${l.u8(4)}`, 4, 1, l.u8(4));
    l.add("icmpv6.nd.ra.flag", `Flags: ${hex(l.u8(5), 2)}`, 5, 1, l.u8(5));
    l.add("icmpv6.nd.ra.router_lifetime", `Router lifetime: ${l.u16(6)}`, 6, 2, l.u16(6));
  } else if (type === 2) {
    l.add("icmpv6.mtu", `MTU: ${l.u32(4)}`, 4, 4, l.u32(4));
  }
  l.say({ transport: text });
  if (type >= 1 && type <= 4) return { ...l.next("ipv6", 8), quoted: true };
  return l.next("data", type === 130 || type === 131 || type === 132 ? 4 : 8);
};

const SCTP_CHUNKS: Record<number, string> = { 0: "DATA", 1: "INIT", 2: "INIT_ACK", 3: "SACK", 4: "HEARTBEAT", 5: "HEARTBEAT_ACK", 6: "ABORT", 7: "SHUTDOWN", 8: "SHUTDOWN_ACK", 9: "ERROR", 10: "COOKIE_ECHO", 11: "COOKIE_ACK", 14: "SHUTDOWN_COMPLETE" };

export const sctp: Dissector = (l) => {
  const sport = l.u16(0);
  const dport = l.u16(2);
  l.add("sctp.srcport", `Source port: ${sport}`, 0, 2, sport);
  l.add("sctp.dstport", `Destination port: ${dport}`, 2, 2, dport);
  l.add("sctp.verification_tag", `Verification tag: ${hex(l.u32(4), 8)}`, 4, 4, l.u32(4));
  l.add("sctp.checksum", `Checksum: ${hex(l.u32(8), 8)}`, 8, 4, l.u32(8));
  const names: string[] = [];
  let rel = 12;
  // Chunks run to the end the IP header gives; reading past the capture then reports truncation.
  const total = (Number.isFinite(l.end) ? l.end : l.limit) - l.start;
  while (rel + 4 <= total && names.length < 64) {
    const type = l.u8(rel);
    const flags = l.u8(rel + 1);
    const len = l.u16(rel + 2);
    const name = SCTP_CHUNKS[type] ?? `chunk ${type}`;
    names.push(name);
    if (len < 4) {
      l.add("sctp.chunk", `${name} chunk with bad length ${len}`, rel, 4, type).error = `bad chunk length ${len}`;
      break;
    }
    const c = l.add("sctp.chunk", `${name} chunk (${len} bytes)`, rel, Math.min(len, l.avail(rel)), type);
    l.add("sctp.chunk_type", `Chunk type: ${name} (${type})`, rel, 1, type, c);
    l.add("sctp.chunk_flags", `Chunk flags: ${hex(flags, 2)}`, rel + 1, 1, flags, c);
    l.add("sctp.chunk_length", `Chunk length: ${len}`, rel + 2, 2, len, c);
    if (type === 0 && len >= 16) {
      l.add("sctp.data_tsn", `TSN: ${l.u32(rel + 4)}`, rel + 4, 4, l.u32(rel + 4), c);
      l.add("sctp.data_sid", `Stream identifier: ${l.u16(rel + 8)}`, rel + 8, 2, l.u16(rel + 8), c);
      l.add("sctp.data_ssn", `Stream sequence number: ${l.u16(rel + 10)}`, rel + 10, 2, l.u16(rel + 10), c);
      l.add("sctp.data_payload_proto_id", `Payload protocol identifier: ${l.u32(rel + 12)}`, rel + 12, 4, l.u32(rel + 12), c);
    } else if ((type === 1 || type === 2) && len >= 20) {
      l.add("sctp.initiate_tag", `Initiate tag: ${hex(l.u32(rel + 4), 8)}`, rel + 4, 4, l.u32(rel + 4), c);
      l.add("sctp.a_rwnd", `Advertised receiver window credit: ${l.u32(rel + 8)}`, rel + 8, 4, l.u32(rel + 8), c);
      l.add("sctp.nr_out_streams", `Outbound streams: ${l.u16(rel + 12)}`, rel + 12, 2, l.u16(rel + 12), c);
      l.add("sctp.nr_in_streams", `Inbound streams: ${l.u16(rel + 14)}`, rel + 14, 2, l.u16(rel + 14), c);
      l.add("sctp.initial_tsn", `Initial TSN: ${l.u32(rel + 16)}`, rel + 16, 4, l.u32(rel + 16), c);
    }
    if (len > l.avail(rel)) {
      c.error = `truncated: ${len} bytes needed, ${l.avail(rel)} captured`;
      break;
    }
    rel += (len + 3) & ~3;
  }
  l.node.label = `Stream Control Transmission Protocol, Src Port: ${sport}, Dst Port: ${dport}`;
  l.say({ transport: `SCTP ${sport} → ${dport}${names.length ? ` ${names.join(", ")}` : ""}` });
  return undefined;
};

const IGMP_TYPES: Record<number, string> = { 0x11: "Membership Query", 0x12: "Membership Report v1", 0x16: "Membership Report v2", 0x17: "Leave Group", 0x22: "Membership Report v3" };

export const igmp: Dissector = (l) => {
  const type = l.u8(0);
  l.add("igmp.type", `Type: ${IGMP_TYPES[type] ?? "unknown"} (${hex(type, 2)})`, 0, 1, type);
  l.add("igmp.max_resp", `Max Resp Time: ${l.u8(1)}`, 1, 1, l.u8(1));
  l.add("igmp.checksum", `Checksum: ${hex(l.u16(2), 4)}`, 2, 2, l.u16(2));
  const g = l.bytes(4, 4);
  const group = `${g[0]}.${g[1]}.${g[2]}.${g[3]}`;
  l.add("igmp.maddr", `Multicast Address: ${group}`, 4, 4, group);
  l.node.label = `Internet Group Management Protocol, ${IGMP_TYPES[type] ?? `type ${hex(type, 2)}`}`;
  l.say({ transport: `IGMP ${(IGMP_TYPES[type] ?? `type ${hex(type, 2)}`).toLowerCase()} ${group}` });
  return l.next("data", 8);
};
