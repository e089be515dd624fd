/**
 * The sample captures shipped in public/samples/: small, deterministic, each showing one family of
 * protocols. scripts/gen-samples.ts writes them; samples.test.ts checks the committed files match.
 */
import {
  arp,
  build,
  ether,
  generateMix,
  geneve,
  gre,
  icmp,
  icmpv6,
  ipv4,
  ipv4Fragments,
  ipv6,
  ipv6Bytes,
  ipv6Fragments,
  mpls,
  pppoeDiscovery,
  pppoeSession,
  rawIp,
  sctp,
  sctpDataValue,
  sctpInitValue,
  tcp,
  udp,
  vlan,
  vxlan,
  type Layer,
  type TcpOption,
  type Part,
} from "./index";
import { dltName, dltToLinkType, readCapture, writePcap, writePcapng, type PacketToWrite } from "../pcap";

const T0 = 1_735_689_600; // 2025-01-01T00:00:00Z

export interface Sample {
  file: string;
  description: string;
  bytes: Uint8Array;
}

/** Timestamps: packets 1 ms apart unless a step says otherwise. */
class Clock {
  private ns = 0;
  constructor(private readonly base = T0) {}
  tick(stepUs = 1000): { tsSec: number; tsNsec: number } {
    this.ns += stepUs * 1000;
    return { tsSec: this.base + Math.floor(this.ns / 1e9), tsNsec: this.ns % 1e9 };
  }
}

const text = (s: string) => new TextEncoder().encode(s);

/** A whole TCP conversation: handshake, request, response in MSS-sized segments, close. */
function tcpConversation(
  link: () => Layer[],
  net: (fromClient: boolean) => Layer,
  cport: number,
  sport: number,
  request: string,
  response: Uint8Array,
  clock: Clock,
): PacketToWrite[] {
  let cseq = 0x1000_0000;
  let sseq = 0x5000_0000;
  const out: PacketToWrite[] = [];
  const seg = (fromClient: boolean, flags: string, payload: Uint8Array = new Uint8Array(0), options: TcpOption[] = []) => {
    const t = tcp({
      sport: fromClient ? cport : sport,
      dport: fromClient ? sport : cport,
      seq: fromClient ? cseq : sseq,
      ack: flags.includes("A") ? (fromClient ? sseq : cseq) : 0,
      flags,
      window: 64240,
      options,
    });
    out.push({ data: build(...link(), net(fromClient), t, payload), ...clock.tick(fromClient ? 300 : 2500) });
    const advance = payload.length + (flags.includes("S") || flags.includes("F") ? 1 : 0);
    if (fromClient) cseq += advance;
    else sseq += advance;
  };
  const synOpts = [{ kind: "mss" as const, value: 1460 }, { kind: "sackok" as const }, { kind: "ts" as const, value: 1000, echo: 0 }, { kind: "nop" as const }, { kind: "ws" as const, shift: 7 }];
  seg(true, "S", undefined, synOpts);
  seg(false, "SA", undefined, synOpts);
  seg(true, "A");
  seg(true, "PA", text(request));
  seg(false, "A");
  for (let off = 0; off < response.length; off += 1448) seg(false, off + 1448 >= response.length ? "PA" : "A", response.subarray(off, off + 1448));
  seg(true, "A");
  seg(true, "FA");
  seg(false, "FA");
  seg(true, "A");
  return out;
}

function httpResponse(bodyLen: number): Uint8Array {
  const body = "<!doctype html><title>BPF Playground sample</title>" + "<p>packet filters all the way down</p>\n".repeat(Math.ceil(bodyLen / 39));
  const b = body.slice(0, bodyLen);
  return text(`HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: ${b.length}\r\nServer: sample\r\n\r\n${b}`);
}

function httpSample(): Sample {
  const clock = new Clock();
  const mac = { client: "02:00:5e:10:00:01", server: "00:11:22:33:44:55" };
  const eth = (fromClient: boolean) => [ether(fromClient ? { src: mac.client, dst: mac.server } : { src: mac.server, dst: mac.client })];
  const packets = [
    ...tcpConversation(() => eth(true), (c) => ipv4(c ? { src: "198.18.0.10", dst: "198.18.0.80", ttl: 64, df: true } : { src: "198.18.0.80", dst: "198.18.0.10", ttl: 57, df: true }), 51514, 80, "GET /index.html HTTP/1.1\r\nHost: sample.test\r\nUser-Agent: bpf-playground\r\nAccept: */*\r\n\r\n", httpResponse(4000), clock),
    ...tcpConversation(() => eth(true), (c) => ipv6(c ? { src: "2001:db8::10", dst: "2001:db8::80" } : { src: "2001:db8::80", dst: "2001:db8::10" }), 40222, 8080, "GET /api/status HTTP/1.1\r\nHost: [2001:db8::80]:8080\r\n\r\n", text("HTTP/1.1 204 No Content\r\n\r\n"), clock),
    ...tcpConversation(() => eth(true), (c) => ipv4(c ? { src: "10.0.0.1", dst: "192.168.1.1" } : { src: "192.168.1.1", dst: "10.0.0.1" }), 33000, 443, "\x16\x03\x01\x00\x05hello", new Uint8Array(600).fill(0x17), clock),
  ];
  // A refused connection.
  packets.push({ data: build(...eth(true), ipv4({ src: "198.18.0.10", dst: "198.18.0.81" }), tcp({ sport: 51600, dport: 80, flags: "S" })), ...clock.tick() });
  packets.push({ data: build(...eth(false), ipv4({ src: "198.18.0.81", dst: "198.18.0.10" }), tcp({ sport: 80, dport: 51600, flags: "RA", seq: 0, ack: 1001 })), ...clock.tick() });
  return { file: "http.pcap", description: "HTTP over IPv4 and IPv6 (full TCP conversations with handshake, segmented response and close), a TLS-like exchange and a refused connection. Ethernet.", bytes: writePcap(packets, { linkType: 1 }) };
}

function dnsMessage(id: number, name: string, qtype: number, answer?: Uint8Array): Uint8Array {
  const labels = name.split(".").flatMap((l) => [l.length, ...text(l)]);
  const q = [...labels, 0, qtype >> 8, qtype & 0xff, 0, 1];
  const header = [id >> 8, id & 0xff, answer ? 0x81 : 0x01, answer ? 0x80 : 0x00, 0, 1, 0, answer ? 1 : 0, 0, 0, 0, 0];
  const ans = answer ? [0xc0, 12, qtype >> 8, qtype & 0xff, 0, 1, 0, 0, 0x0e, 0x10, 0, answer.length, ...answer] : [];
  return Uint8Array.from([...header, ...q, ...ans]);
}

function dnsIcmpSample(): Sample {
  const clock = new Clock();
  const e = (src: string, dst: string) => ether({ src, dst });
  const A = "02:00:00:00:00:0a";
  const R = "02:00:00:00:00:01";
  const p: PacketToWrite[] = [];
  const push = (...parts: Part[]) => p.push({ data: build(...parts), ...clock.tick(7000) });
  push(e(A, "ff:ff:ff:ff:ff:ff"), arp({ op: 1, sha: A, spa: "198.18.0.10", tpa: "198.18.0.1" }));
  push(e(R, A), arp({ op: 2, sha: R, spa: "198.18.0.1", tha: A, tpa: "198.18.0.10" }));
  const names: [string, number, number[]][] = [
    ["example.test", 1, [198, 18, 1, 1]],
    ["example.test", 28, [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x11]],
    ["mail.example.test", 15, [0, 10, 2, ...text("mx"), 0xc0, 17]],
  ];
  names.forEach(([name, qt, ans], i) => {
    const id = 0x1a00 + i;
    push(e(A, R), ipv4({ src: "198.18.0.10", dst: "198.18.0.53" }), udp({ sport: 50000 + i, dport: 53 }), dnsMessage(id, name, qt));
    push(e(R, A), ipv4({ src: "198.18.0.53", dst: "198.18.0.10" }), udp({ sport: 53, dport: 50000 + i }), dnsMessage(id, name, qt, Uint8Array.from(ans)));
  });
  push(e(A, R), ipv6({ src: "2001:db8::10", dst: "2001:db8::53" }), udp({ sport: 50100, dport: 53 }), dnsMessage(0x2b00, "v6.example.test", 28));
  push(e(R, A), ipv6({ src: "2001:db8::53", dst: "2001:db8::10" }), udp({ sport: 53, dport: 50100 }), dnsMessage(0x2b00, "v6.example.test", 28, Uint8Array.of(0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x66)));
  for (let seq = 1; seq <= 4; seq++) {
    const payload = Uint8Array.from({ length: 56 }, (_, i) => i);
    push(e(A, R), ipv4({ src: "198.18.0.10", dst: "198.19.0.1" }), icmp({ type: 8, id: 0x1234, seq }), payload);
    push(e(R, A), ipv4({ src: "198.19.0.1", dst: "198.18.0.10", ttl: 60 }), icmp({ type: 0, id: 0x1234, seq }), payload);
  }
  // A traceroute probe that dies on the way, and one to a closed port.
  const probe = build(ipv4({ src: "198.18.0.10", dst: "198.19.9.9", ttl: 1, totalLength: 28 }), udp({ sport: 40000, dport: 33434, checksum: false }));
  push(e(A, R), ipv4({ src: "198.18.0.10", dst: "198.19.9.9", ttl: 1 }), udp({ sport: 40000, dport: 33434 }), new Uint8Array(32));
  push(e(R, A), ipv4({ src: "198.18.0.1", dst: "198.18.0.10" }), icmp({ type: 11, code: 0, rest: new Uint8Array(4) }), probe);
  push(e(R, A), ipv4({ src: "198.19.9.9", dst: "198.18.0.10" }), icmp({ type: 3, code: 3, rest: new Uint8Array(4) }), probe);
  // IPv6 neighbour discovery and ping.
  const target = Uint8Array.of(0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
  push(e(A, "33:33:ff:00:00:01"), ipv6({ src: "2001:db8::10", dst: "ff02::1:ff00:1", hopLimit: 255 }), icmpv6({ type: 135, rest: new Uint8Array(4) }), target, Uint8Array.of(1, 1, 2, 0, 0, 0, 0, 0x0a));
  push(e(R, A), ipv6({ src: "2001:db8::1", dst: "2001:db8::10", hopLimit: 255 }), icmpv6({ type: 136, rest: Uint8Array.of(0x60, 0, 0, 0) }), target);
  for (let seq = 1; seq <= 2; seq++) {
    push(e(A, R), ipv6({ src: "2001:db8::10", dst: "2001:db8::1" }), icmpv6({ type: 128, id: 7, seq }), new Uint8Array(32).fill(seq));
    push(e(R, A), ipv6({ src: "2001:db8::1", dst: "2001:db8::10" }), icmpv6({ type: 129, id: 7, seq }), new Uint8Array(32).fill(seq));
  }
  return { file: "dns-and-icmp.pcap", description: "ARP, DNS queries and answers (A, AAAA, MX; IPv4 and IPv6), ping, a traceroute time-exceeded, a port unreachable, IPv6 neighbour discovery and ping6. Ethernet.", bytes: writePcap(p, { linkType: 1 }) };
}

function vlanMplsSample(): Sample {
  const clock = new Clock();
  const p: PacketToWrite[] = [];
  const push = (...parts: Part[]) => p.push({ data: build(...parts), ...clock.tick(2000) });
  const e = () => ether({ src: "02:00:00:00:01:01", dst: "02:00:00:00:02:02" });
  push(e(), vlan({ vid: 100 }), ipv4({ src: "10.0.0.1", dst: "10.0.0.2" }), tcp({ dport: 80 }));
  push(e(), vlan({ vid: 100, pcp: 5 }), ipv4({ src: "10.0.0.2", dst: "10.0.0.1" }), tcp({ sport: 80, dport: 40000, flags: "SA" }));
  push(e(), vlan({ vid: 200 }), ipv6({ src: "2001:db8:200::1", dst: "2001:db8:200::2" }), udp({ dport: 53 }), new Uint8Array(20));
  push(e(), vlan({ vid: 10, tpid: 0x88a8 }), vlan({ vid: 20 }), ipv4({ src: "198.18.10.20", dst: "198.18.10.1" }), icmp());
  push(e(), vlan({ vid: 10, tpid: 0x88a8 }), vlan({ vid: 30 }), arp({ spa: "198.18.10.30", tpa: "198.18.10.1" }));
  push(e(), vlan({ vid: 4095 }), ipv4(), udp({ dport: 4789 }), vxlan({ vni: 7 }), ether(), ipv4({ src: "192.168.7.1" }), icmp());
  push(e(), mpls({ label: 100 }), ipv4({ src: "198.18.1.1", dst: "198.18.2.2" }), tcp({ dport: 179, flags: "PA" }), new Uint8Array(19).fill(0xff));
  push(e(), mpls({ label: 100 }), mpls({ label: 200, ttl: 1 }), ipv4({ src: "198.18.1.1", dst: "198.18.2.2" }), udp({ dport: 646 }), new Uint8Array(24));
  push(e(), mpls({ label: 16001 }), mpls({ label: 24005 }), mpls({ label: 3 }), ipv6({ src: "2001:db8:1::1", dst: "2001:db8:2::2" }), icmpv6({ type: 128 }));
  push(e(), vlan({ vid: 100 }), mpls({ label: 100 }), ipv4({ src: "10.0.0.1", dst: "10.0.0.9" }), icmp());
  push(ether({ dst: "ff:ff:ff:ff:ff:ff" }), pppoeDiscovery({ code: 0x09, tags: [[0x0101, new Uint8Array(0)], [0x0103, Uint8Array.of(1, 2, 3, 4)]] }));
  push(ether(), pppoeDiscovery({ code: 0x07, tags: [[0x0101, new Uint8Array(0)], [0x0102, text("ac-1")], [0x0103, Uint8Array.of(1, 2, 3, 4)]] }));
  push(ether(), pppoeDiscovery({ code: 0x19, tags: [[0x0101, new Uint8Array(0)], [0x0103, Uint8Array.of(1, 2, 3, 4)]] }));
  push(ether(), pppoeDiscovery({ code: 0x65, sessionId: 0x1234, tags: [[0x0101, new Uint8Array(0)]] }));
  push(ether(), pppoeSession({ sessionId: 0x1234 }), ipv4({ src: "100.64.0.2", dst: "198.18.0.53" }), udp({ sport: 5353, dport: 53 }), new Uint8Array(30));
  push(ether(), pppoeSession({ sessionId: 0x1234 }), ipv6({ src: "2001:db8:ff::2", dst: "2001:db8::80" }), tcp({ dport: 443 }));
  push(ether(), pppoeSession({ sessionId: 0x1234, protocol: 0xc021 }), Uint8Array.of(9, 1, 0, 8, 0, 0, 0, 0));
  push(ether(), pppoeDiscovery({ code: 0xa7, sessionId: 0x1234, tags: [] }));
  return { file: "vlan-mpls.pcap", description: "802.1Q and 802.1ad (QinQ) tags, MPLS label stacks of one to three labels, VXLAN inside a VLAN, and a PPPoE session from discovery (PADI/PADO/PADR/PADS) to PADT. Ethernet.", bytes: writePcap(p, { linkType: 1 }) };
}

function ipv6ExtSample(): Sample {
  const clock = new Clock();
  const p: PacketToWrite[] = [];
  const push = (...parts: Part[]) => p.push({ data: build(...parts), ...clock.tick(3000) });
  const e = () => ether({ src: "02:00:00:00:06:01", dst: "33:33:00:00:00:16" });
  push(e(), ipv6({ src: "fe80::1", dst: "ff02::16", hopLimit: 1, ext: [{ type: "hop", options: [5, 2, 0, 0] }] }), icmpv6({ type: 143, rest: Uint8Array.of(0, 0, 0, 1) }), Uint8Array.of(4, 0, 0, 0, 0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfb));
  push(ether(), ipv6({ ext: [{ type: "dst", options: [1, 4, 0, 0, 0, 0] }] }), udp({ dport: 5000 }), new Uint8Array(16));
  push(ether(), ipv6({ ext: [{ type: "routing", routingType: 2, addresses: ["2001:db8:ffff::1"] }] }), tcp({ dport: 80 }));
  // Segment routing: last-entry 1, then the segment list in reverse order (segment 0 is the final destination).
  const srh = Uint8Array.from([1, 0, 0, 0, ...ipv6Bytes("2001:db8::2"), ...ipv6Bytes("2001:db8:5::1")]);
  push(ether(), ipv6({ ext: [{ type: "routing", routingType: 4, segmentsLeft: 1, data: srh }] }), icmpv6({ type: 128 }));
  push(ether(), ipv6({ ext: [{ type: "ah", spi: 0x1000, seq: 1 }] }), tcp({ dport: 22, flags: "PA" }), new Uint8Array(48).fill(0x53));
  push(ether(), ipv6({ ext: [{ type: "hop", options: [5, 2, 0, 0] }, { type: "dst" }, { type: "routing", routingType: 0, addresses: ["2001:db8::a", "2001:db8::b"] }, { type: "ah" }] }), udp({ dport: 547 }), new Uint8Array(12));
  for (const f of ipv6Fragments({ src: "2001:db8::1", dst: "2001:db8::2" }, [udp({ sport: 4000, dport: 5001 }), new Uint8Array(3000).fill(0x42)], 1232, 0xfeed)) push(ether(), rawIp(f));
  for (const f of ipv6Fragments({ src: "2001:db8::1", dst: "2001:db8::3", ext: [{ type: "hop" }] }, [icmpv6({ type: 128, id: 1, seq: 1 }), new Uint8Array(1800)], 1024, 0xbeef)) push(ether(), rawIp(f));
  push(ether(), ipv6({ ext: [{ type: "fragment", offset: 0, more: false, id: 9 }] }), tcp({ dport: 443 })); // atomic fragment
  push(ether(), ipv6(), ipv4({ src: "192.168.100.1", dst: "192.168.100.2" }), udp({ dport: 123 }), new Uint8Array(48)); // 4in6
  push(ether(), ipv4({ src: "198.18.0.6", dst: "198.18.0.4" }), ipv6({ src: "2001:db8:6::1" }), tcp({ dport: 80 })); // 6in4
  push(ether(), ipv6({ ext: [{ type: "dst" }] }), { name: "none", ipProto: 59, encode: (x: Uint8Array) => x });
  for (const f of ipv4Fragments({ src: "198.18.0.1", dst: "198.18.0.2", id: 4242 }, [udp({ dport: 9 }), new Uint8Array(2500)], 1480)) push(ether(), rawIp(f));
  return { file: "ipv6-ext.pcap", description: "IPv6 extension headers (hop-by-hop with router alert, destination options, routing types 0/2/4, AH, fragments including an atomic fragment), IPv4 and IPv6 fragment trains, 4in6 and 6in4. Ethernet.", bytes: writePcap(p, { linkType: 1 }) };
}

function tunnelsSample(): Sample {
  const clock = new Clock();
  const p: PacketToWrite[] = [];
  const push = (...parts: Part[]) => p.push({ data: build(...parts), ...clock.tick(4000) });
  const inner = (i: number) => [ether({ src: "00:11:22:33:44:55", dst: `02:00:00:00:00:${(0x10 + i).toString(16)}` }), ipv4({ src: "10.0.0.1", dst: `10.0.0.${2 + i}` }), tcp({ sport: 40000 + i, dport: 80 })];
  push(ether(), ipv4({ src: "198.18.0.1", dst: "198.18.0.2" }), gre(), ipv4({ src: "10.1.1.1", dst: "10.2.2.2" }), icmp());
  push(ether(), ipv4({ src: "198.18.0.1", dst: "198.18.0.2" }), gre({ key: 1001, seq: 1 }), ipv6({ src: "2001:db8:a::1", dst: "2001:db8:b::1" }), udp({ dport: 53 }), new Uint8Array(20));
  push(ether(), ipv4({ src: "198.18.0.1", dst: "198.18.0.2" }), gre({ checksum: true }), ...inner(0));
  push(ether(), ipv6({ src: "2001:db8::1", dst: "2001:db8::2" }), gre({ key: 7 }), ipv4({ src: "10.3.3.3", dst: "10.4.4.4" }), tcp({ dport: 22 }));
  for (let i = 0; i < 3; i++) push(ether(), ipv4({ src: "198.18.0.11", dst: "198.18.0.12" }), udp({ sport: 49152 + i }), vxlan({ vni: 42 + i }), ...inner(i));
  for (let i = 0; i < 2; i++) push(ether(), ipv4({ src: "198.18.0.21", dst: "198.18.0.22" }), udp({ sport: 50000 + i }), geneve({ vni: 100 + i }), ...inner(i + 3));
  push(ether(), ipv6({ src: "2001:db8::21", dst: "2001:db8::22" }), udp({ sport: 50100 }), geneve({ vni: 100, protocol: 0x0800 }), ipv4({ src: "10.9.0.1", dst: "10.9.0.2" }), icmp());
  push(ether(), ipv4({ src: "198.18.0.31", dst: "198.18.0.32" }), ipv4({ src: "10.5.5.5", dst: "10.6.6.6" }), udp({ dport: 123 }), new Uint8Array(48));
  push(ether(), ipv4(), sctp({ sport: 5000, dport: 5000, chunks: [{ type: 1, value: sctpInitValue(0xabcdef01) }] }));
  push(ether(), ipv4(), sctp({ sport: 5000, dport: 5000, vtag: 0xabcdef01, chunks: [{ type: 0, flags: 3, value: sctpDataValue(1, text("hello sctp")) }] }));
  return { file: "tunnels.pcap", description: "GRE (plain, key and sequence, checksum, Ethernet over GRE, GRE over IPv6), VXLAN and Geneve with inner Ethernet, IP-in-IP, and an SCTP association start. Ethernet.", bytes: writePcap(p, { linkType: 1 }) };
}

function mixSample(file: string, dlt: number, seed: number, count: number, description: string, nanosecond = false): Sample {
  const m = generateMix(seed, count, { dlt, startSec: T0 });
  return { file, description, bytes: writePcap(m, { linkType: dltToLinkType(dlt), nanosecond }) };
}

function mixedPcapng(): Sample {
  // Two Ethernet interfaces (libpcap 1.10 reads pcapng only when link types and snaplens agree).
  const a = generateMix(1001, 150, { dlt: 1, startSec: T0 }).map((p) => ({ ...p, interfaceIndex: 0 }));
  const b = generateMix(1002, 150, { dlt: 1, startSec: T0 }).map((p) => ({ ...p, interfaceIndex: 1, tsNsec: p.tsNsec + 123 }));
  const all = [...a, ...b].sort((x, y) => x.tsSec - y.tsSec || x.tsNsec - y.tsNsec);
  return {
    file: "mixed.pcapng",
    description: "A varied generated mix (TCP, UDP, ICMP, ARP, VLAN, MPLS, PPPoE, LLC, tunnels, fragments, some packets cut short by the snaplen) on two Ethernet interfaces, eth0 in microseconds and eth1 in nanoseconds. pcapng.",
    bytes: writePcapng(all, { interfaces: [{ linkType: 1, name: "eth0" }, { linkType: 1, name: "eth1", tsResolutionNs: 1 }] }),
  };
}

function multiLinkPcapng(): Sample {
  const parts = [
    generateMix(2001, 40, { dlt: 1, startSec: T0 }).map((p) => ({ ...p, interfaceIndex: 0 })),
    generateMix(2002, 40, { dlt: 276, startSec: T0 }).map((p) => ({ ...p, interfaceIndex: 1 })),
    generateMix(2003, 40, { dlt: 12, startSec: T0 }).map((p) => ({ ...p, interfaceIndex: 2 })),
  ];
  const all = parts.flat().sort((x, y) => x.tsSec - y.tsSec || x.tsNsec - y.tsNsec);
  return {
    file: "multi-link.pcapng",
    description: "Three interfaces with different link types (Ethernet eth0, Linux cooked v2 any, raw IP tun0) in one pcapng. Each link type gets its own compiled filter. Note: tcpdump 4.99 with libpcap 1.10 refuses such files.",
    bytes: writePcapng(all, { interfaces: [{ linkType: 1, name: "eth0" }, { linkType: dltToLinkType(276), name: "any" }, { linkType: dltToLinkType(12), name: "tun0" }] }),
  };
}

/** The sample captures, built fresh; the same bytes on every run. */
export function buildSamples(): Sample[] {
  return [
  httpSample(),
  dnsIcmpSample(),
  vlanMplsSample(),
  ipv6ExtSample(),
  tunnelsSample(),
  mixSample("sll2.pcap", 276, 276, 200, "Linux cooked capture v2 (as from `tcpdump -i any`): IPv4, IPv6, ARP, VLAN, MPLS, PPPoE and LLC, sent and received, on several interface indexes.", true),
  mixSample("raw-ip.pcap", 12, 12, 200, "Raw IP (LINKTYPE_RAW, as from a tun device): IPv4 and IPv6 with TCP, UDP, ICMP, SCTP, GRE, fragments and extension headers."),
  mixSample("loopback.pcap", 0, 7, 120, "BSD loopback (DLT_NULL): IPv4 and IPv6 behind a 4-byte address family in host byte order."),
  mixedPcapng(),
  multiLinkPcapng(),
  ];
}


export interface SampleIndexEntry {
  file: string;
  description: string;
  format: "pcap" | "pcapng";
  linkTypes: string[];
  packets: number;
  bytes: number;
  error?: string;
}

/** index.json: what the UI lists. Each sample is read back to fill in its facts. */
export function sampleIndex(samples: Sample[]): { generator: string; samples: SampleIndexEntry[] } {
  return {
    generator: "scripts/gen-samples.ts",
    samples: samples.map((s) => {
      const r = readCapture(s.bytes);
      const entry: SampleIndexEntry = {
        file: s.file,
        description: s.description,
        format: r.format,
        linkTypes: [...new Set(r.interfaces.map((i) => dltName(i.dlt) ?? String(i.dlt)))],
        packets: r.packets.length,
        bytes: s.bytes.length,
      };
      if (r.error) entry.error = r.error.message;
      return entry;
    }),
  };
}
