import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
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
  ipv6,
  llc,
  loopback,
  mpls,
  ppp,
  pppoe,
  pppoeDiscovery,
  pppoeSession,
  sctp,
  sctpDataValue,
  sll,
  sll2,
  snap,
  tcp,
  udp,
  vlan,
  vxlan,
} from "../craft";
import { dltToLinkType, writePcap } from "../pcap";
import { dissect, dissectWithSummary, dissectableDlts, summarize, type DissectNode } from "./index";

function all(n: DissectNode): DissectNode[] {
  return [n, ...n.children.flatMap(all)];
}
function find(n: DissectNode, name: string): DissectNode[] {
  return all(n).filter((x) => x.name === name);
}
function value(n: DissectNode, name: string, i = 0): string | number | undefined {
  return find(n, name)[i]?.value;
}
function layers(n: DissectNode): string[] {
  return n.children.map((c) => c.name);
}
function errors(n: DissectNode): string[] {
  return all(n).filter((x) => x.error).map((x) => `${x.name}: ${x.error}`);
}
/** Structural sanity every tree must have, whatever the bytes. */
function checkShape(n: DissectNode, length: number): void {
  const bad = all(n).filter((x) => !x.name || !x.label || !(x.start >= 0 && x.end >= x.start && x.end <= length));
  if (bad.length) expect(bad.map((x) => `${x.name} [${x.start},${x.end}) of ${length}: ${x.label}`)).toEqual([]);
}

describe("fields come out as built", () => {
  it("Ethernet / 802.1ad / 802.1Q / IPv4 with options / TCP with options", () => {
    const data = build(
      ether({ src: "00:11:22:33:44:55", dst: "ff:ff:ff:ff:ff:ff" }),
      vlan({ vid: 10, tpid: 0x88a8, pcp: 3 }),
      vlan({ vid: 20 }),
      ipv4({ src: "198.18.0.1", dst: "198.18.0.2", ttl: 7, id: 99, df: true, options: [0x94, 4, 0, 0] }),
      tcp({ sport: 1234, dport: 80, flags: "S", seq: 42, options: [{ kind: "mss", value: 1460 }, { kind: "sackok" }, { kind: "ws", shift: 7 }] }),
    );
    const t = dissect(data, 1);
    checkShape(t, data.length);
    expect(layers(t)).toEqual(["eth", "vlan", "vlan", "ip", "tcp"]);
    expect(value(t, "eth.src")).toBe("00:11:22:33:44:55");
    expect(value(t, "eth.type")).toBe(0x88a8);
    expect([value(t, "vlan.id", 0), value(t, "vlan.id", 1), value(t, "vlan.priority", 0)]).toEqual([10, 20, 3]);
    expect([value(t, "ip.src"), value(t, "ip.dst"), value(t, "ip.ttl"), value(t, "ip.id"), value(t, "ip.flags.df"), value(t, "ip.hdr_len")]).toEqual(["198.18.0.1", "198.18.0.2", 7, 99, 1, 24]);
    expect(find(t, "ip.opt")[0]!.label).toMatch(/Router Alert/);
    expect(find(t, "ip.checksum")[0]!.label).toMatch(/\[correct\]/);
    expect([value(t, "tcp.srcport"), value(t, "tcp.dstport"), value(t, "tcp.seq"), value(t, "tcp.flags.syn"), value(t, "tcp.flags.ack")]).toEqual([1234, 80, 42, 1, 0]);
    expect(find(t, "tcp.option.mss")[0]!.label).toMatch(/1460/);
    expect(find(t, "tcp.checksum")[0]!.label).toMatch(/\[correct\]/);
    // byte ranges point at the right bytes
    const src = find(t, "ip.src")[0]!;
    expect(Array.from(data.subarray(src.start, src.end))).toEqual([198, 18, 0, 1]);
    const dport = find(t, "tcp.dstport")[0]!;
    expect((data[dport.start]! << 8) | data[dport.start + 1]!).toBe(80);
    expect(summarize(data, 1)).toBe("198.18.0.1 → 198.18.0.2 TCP 1234 → 80 [SYN]");
  });

  it("a wrong checksum is flagged with the right value", () => {
    const good = build(ether(), ipv4(), udp({ sport: 1, dport: 2 }), new Uint8Array(4));
    const bad = good.slice();
    bad[14 + 20 + 6] ^= 0xff;
    bad[14 + 10] ^= 0x01;
    const t = dissect(bad, 1);
    expect(find(t, "udp.checksum")[0]!.label).toMatch(new RegExp(`incorrect, should be 0x${((good[40]! << 8) | good[41]!).toString(16).padStart(4, "0")}`));
    expect(find(t, "ip.checksum")[0]!.label).toMatch(new RegExp(`incorrect, should be 0x${((good[24]! << 8) | good[25]!).toString(16).padStart(4, "0")}`));
  });

  it("IPv6 extension headers, AH, routing, fragments", () => {
    const data = build(
      ipv6({ src: "2001:db8::1", dst: "2001:db8::2", hopLimit: 3, ext: [{ type: "hop", options: [5, 2, 0, 0] }, { type: "routing", routingType: 2, addresses: ["2001:db8::99"] }, { type: "dst" }, { type: "ah", spi: 0xabcd }] }),
      udp({ sport: 546, dport: 547 }),
      new Uint8Array(10),
    );
    const t = dissect(data, 229);
    checkShape(t, data.length);
    expect(layers(t)).toEqual(["ipv6", "udp", "data"]);
    expect(find(t, "ipv6")[0]!.children.map((c) => c.name)).toEqual(expect.arrayContaining(["ipv6.hopopts", "ipv6.routing", "ipv6.dstopts", "ah"]));
    expect(value(t, "ipv6.routing.addr")).toBe("2001:db8::99");
    expect(value(t, "ah.spi")).toBe(0xabcd);
    expect(value(t, "ipv6.hlim")).toBe(3);
    // the checksum uses the routing header's final destination
    expect(find(t, "udp.checksum")[0]!.label).toMatch(/\[correct\]/);
    expect(summarize(data, 229)).toBe("2001:db8::1 → 2001:db8::2 UDP 546 → 547 len 10");

    const frag = build(ipv6({ ext: [{ type: "fragment", offset: 1232, more: true, id: 5 }] }), new Uint8Array(16));
    const f = dissect(frag, 12);
    expect(value(f, "ipv6.fragment.offset")).toBe(1232);
    expect(layers(f)).toEqual(["ipv6", "data"]);
    expect(summarize(frag, 12)).toMatch(/IPv6 fragment \(offset 1232/);
  });

  it("AH after IPv4 hands on to the protected protocol", () => {
    const data = build(ipv4({ proto: 51 }), { name: "ah", ipProto: 51, encode: (p: Uint8Array) => Uint8Array.from([6, 4, 0, 0, 0, 0, 0x12, 0x34, 0, 0, 0, 1, ...new Array<number>(12).fill(0), ...p]) }, tcp({ dport: 22 }));
    const t = dissect(data, 228);
    expect(layers(t)).toEqual(["ip", "ah", "tcp"]);
    expect(value(t, "ah.spi")).toBe(0x1234);
    expect(value(t, "tcp.dstport")).toBe(22);
  });

  it("IPv4 fragments: the first carries the transport, later ones are data", () => {
    const first = build(ipv4({ mf: true, id: 1 }), udp({ sport: 7, dport: 9 }), new Uint8Array(40));
    const later = build(ipv4({ fragOffset: 48, proto: 17 }), new Uint8Array(40));
    expect(layers(dissect(first, 228))).toEqual(["ip", "udp", "data"]);
    expect(find(dissect(first, 228), "udp.checksum")[0]!.label).not.toMatch(/correct/);
    expect(layers(dissect(later, 228))).toEqual(["ip", "data"]);
    expect(value(dissect(later, 228), "ip.frag_offset")).toBe(48);
    expect(summarize(later, 228)).toBe("198.18.0.1 → 198.18.0.2 IPv4 fragment (offset 48, UDP)");
  });

  it("MPLS label stacks, PPPoE, PPP, ARP, LLC/SNAP", () => {
    const m = dissect(build(ether(), mpls({ label: 100, tc: 5 }), mpls({ label: 200, ttl: 9 }), ipv6(), icmpv6({ type: 128, id: 1, seq: 2 })), 1);
    expect(layers(m)).toEqual(["eth", "mpls", "ipv6", "icmpv6"]);
    expect(find(m, "mpls.label").map((x) => x.value)).toEqual([100, 200]);
    expect(find(m, "mpls.bottom").map((x) => x.value)).toEqual([0, 1]);
    expect(find(m, "icmpv6.checksum")[0]!.label).toMatch(/\[correct\]/);

    const p = dissect(build(ether(), pppoe({ sessionId: 0x1234 }), ipv4(), icmp({ type: 0, id: 5, seq: 6 })), 1);
    expect(layers(p)).toEqual(["eth", "pppoes", "ip", "icmp"]);
    expect(value(p, "pppoe.session_id")).toBe(0x1234);
    expect(value(p, "ppp.protocol")).toBe(0x21);
    expect(find(p, "icmp.checksum")[0]!.label).toMatch(/\[correct\]/);

    const d = build(ether(), pppoeDiscovery({ code: 0x09, tags: [[0x0101, new Uint8Array(0)], [0x0103, Uint8Array.of(1, 2, 3, 4)]] }));
    expect(find(dissect(d, 1), "pppoe.tag").length).toBe(2);
    expect(summarize(d, 1)).toBe("PPPoE PADI session 0x0000");

    const a = build(ether(), arp({ op: 1, spa: "10.0.0.1", tpa: "10.0.0.254" }));
    expect(value(dissect(a, 1), "arp.dst.proto")).toBe("10.0.0.254");
    expect(summarize(a, 1)).toBe("ARP who-has 10.0.0.254 tell 10.0.0.1");

    const s = dissect(build(ether(), snap(), ipv4(), udp()), 1);
    expect(layers(s)).toEqual(["eth", "llc", "ip", "udp"]);
    const stp = build(ether(), llc({ dsap: 0x42, ssap: 0x42, control: 0x03 }), new Uint8Array(35));
    expect(layers(dissect(stp, 1))).toEqual(["eth", "llc", "data"]);
    expect(summarize(stp, 1)).toMatch(/LLC Spanning Tree U frame, UI/);

    const pp = dissect(build(ppp(), mpls({ label: 16 }), ipv4(), tcp({ flags: "FA" })), 9);
    expect(layers(pp)).toEqual(["ppp", "mpls", "ip", "tcp"]);
  });

  it("SCTP chunks, GRE, VXLAN, Geneve", () => {
    const sc = dissect(build(ipv4(), sctp({ sport: 5000, dport: 6000, chunks: [{ type: 0, flags: 3, value: sctpDataValue(77, new Uint8Array(5)) }, { type: 3, value: new Uint8Array(12) }] })), 228);
    expect(find(sc, "sctp.chunk_type").map((x) => x.value)).toEqual([0, 3]);
    expect(value(sc, "sctp.data_tsn")).toBe(77);
    const g = build(ipv4(), gre({ key: 0xbeef, seq: 3, checksum: true }), ether({ src: "00:11:22:33:44:55" }), ipv6(), tcp({ dport: 443 }));
    const gt = dissect(g, 228);
    expect(layers(gt)).toEqual(["ip", "gre", "eth", "ipv6", "tcp"]);
    expect([value(gt, "gre.key"), value(gt, "gre.sequence_number"), value(gt, "gre.proto")]).toEqual([0xbeef, 3, 0x6558]);
    expect(summarize(g, 228)).toBe("2001:db8::1 → 2001:db8::2 TCP 40000 → 443 [SYN]");
    const vx = dissect(build(ether(), ipv4(), udp(), vxlan({ vni: 4242 }), ether(), ipv4({ src: "10.0.0.1" }), udp({ dport: 53 })), 1);
    expect(layers(vx)).toEqual(["eth", "ip", "udp", "vxlan", "eth", "ip", "udp"]);
    expect(value(vx, "vxlan.vni")).toBe(4242);
    const gv = dissect(build(ipv6(), udp(), geneve({ vni: 100 }), ether(), ipv4(), icmp()), 229);
    expect(layers(gv)).toEqual(["ipv6", "udp", "geneve", "eth", "ip", "icmp"]);
  });

  it("cooked captures, loopback and raw IP link types", () => {
    const s1 = dissect(build(sll({ pkttype: 4, addr: "00:11:22:33:44:55" }), ipv4(), tcp()), 113);
    expect(layers(s1)).toEqual(["sll", "ip", "tcp"]);
    expect([value(s1, "sll.pkttype"), value(s1, "sll.src")]).toEqual([4, "00:11:22:33:44:55"]);
    const s2 = dissect(build(sll2({ ifindex: 7 }), ipv6(), udp()), 276);
    expect(layers(s2)).toEqual(["sll2", "ipv6", "udp"]);
    expect(value(s2, "sll.ifindex")).toBe(7);
    const s3 = dissect(build(sll({ protocol: 4 }), llc({ dsap: 0xfe, ssap: 0xfe, control: 3 }), new Uint8Array(20)), 113);
    expect(layers(s3)).toEqual(["sll", "llc", "data"]);
    expect(layers(dissect(build(loopback(), ipv6(), icmpv6()), 0))).toEqual(["null", "ipv6", "icmpv6"]);
    expect(layers(dissect(build(loopback({ family: 30 }), ipv6(), icmpv6()), 0))).toEqual(["null", "ipv6", "icmpv6"]);
    expect(layers(dissect(build(loopback({ networkOrder: true }), ipv4(), icmp()), 108))).toEqual(["loop", "ip", "icmp"]);
    expect(layers(dissect(build(ipv4(), icmp()), 12))).toEqual(["ip", "icmp"]);
    expect(layers(dissect(build(ipv6(), icmpv6()), 12))).toEqual(["ipv6", "icmpv6"]);
  });

  it("ICMP errors nest the quoted packet under the ICMP node and keep the outer summary", () => {
    const quoted = build(ipv4({ src: "10.9.9.9", dst: "10.8.8.8", totalLength: 28 }), udp({ sport: 1000, dport: 33434, checksum: false }));
    const data = build(ipv4({ src: "198.18.0.9", dst: "10.9.9.9" }), icmp({ type: 3, code: 3, rest: new Uint8Array(4) }), quoted);
    const t = dissect(data, 228);
    expect(layers(t)).toEqual(["ip", "icmp"]);
    const ic = find(t, "icmp")[0]!;
    expect(ic.children.some((c) => c.name === "ip")).toBe(true);
    expect(value(ic, "udp.dstport")).toBe(33434);
    expect(summarize(data, 228)).toBe("198.18.0.9 → 10.9.9.9 ICMP unreachable");
  });

  it("unknown link types give a data node", () => {
    const t = dissect(Uint8Array.of(1, 2, 3), 147);
    expect(t.children.map((c) => c.name)).toEqual(["data"]);
    expect(summarize(Uint8Array.of(1, 2, 3), 105)).toMatch(/IEEE802_11 frame, 3 bytes/);
  });
});

describe("truncation", () => {
  const samples: [string, Uint8Array, number][] = [
    ["eth/vlan/ip/tcp", build(ether(), vlan({ vid: 5 }), ipv4({ options: [1, 1, 1, 0] }), tcp({ options: [{ kind: "ts", value: 1, echo: 2 }] }), "payload"), 1],
    ["eth/mpls/ipv6+ext/udp", build(ether(), mpls({ label: 3 }), ipv6({ ext: [{ type: "hop" }, { type: "fragment" }] }), udp(), "x"), 1],
    ["sll2/pppoe? no: sll2/arp", build(sll2(), arp()), 276],
    ["raw/ip/gre/eth/ip/sctp", build(ipv4(), gre({ key: 1 }), ether(), ipv4(), sctp()), 12],
  ];
  for (const [name, data, dlt] of samples) {
    it(`${name}: every prefix decodes without throwing and the cut layer says so`, () => {
      const full = dissect(data, dlt);
      expect(errors(full)).toEqual([]);
      for (let cut = 0; cut < data.length; cut++) {
        const part = data.subarray(0, cut);
        const t = dissect(part, dlt);
        checkShape(t, cut);
        // Something must report the missing bytes: IP/UDP lengths or header reads past the end.
        expect(errors(t).length).toBeGreaterThan(0);
        summarize(part, dlt);
      }
    });
  }

  it("names the need: truncated TCP header", () => {
    const data = build(ipv4(), tcp());
    const t = dissect(data.subarray(0, 30), 228);
    const tcpNode = find(t, "tcp")[0]!;
    expect(tcpNode.error).toBe("truncated: 12 bytes needed, 10 captured");
    expect(value(t, "tcp.srcport")).toBe(40000);
  });
});

describe("fuzzing", () => {
  it("random bytes on every link type never throw and keep ranges inside the packet", () => {
    const dlts = [...dissectableDlts(), 105, 999];
    fc.assert(
      fc.property(fc.constantFrom(...dlts), fc.uint8Array({ maxLength: 200 }), (dlt, bytes) => {
        const t = dissect(bytes, dlt);
        checkShape(t, bytes.length);
        expect(typeof summarize(bytes, dlt)).toBe("string");
      }),
      { numRuns: 3000 },
    );
  });

  it("mutated generated packets never throw", () => {
    const pool = [1, 12, 113, 276, 0, 108, 228, 229, 9].flatMap((dlt) => generateMix(dlt + 100, 40, { dlt }).map((p) => [dlt, p.data] as const));
    fc.assert(
      fc.property(fc.nat(pool.length - 1), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), fc.nat(), (k, flips, cut) => {
        const [dlt, orig] = pool[k]!;
        const b = orig.slice(0, orig.length ? 1 + (cut % orig.length) : 0);
        for (const [at, v] of flips) if (b.length) b[at % b.length] = v;
        checkShape(dissect(b, dlt), b.length);
        summarize(b, dlt);
      }),
      { numRuns: 3000 },
    );
  });
});

describe("summaries agree with tcpdump on addresses, ports and TCP flags", () => {
  const dir = mkdtempSync(join(tmpdir(), "dissect-test-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const FLAG_LETTERS: Record<string, string> = { S: "SYN", F: "FIN", R: "RST", P: "PSH", ".": "ACK", U: "URG", E: "ECE", W: "CWR", e: "AE" };

  for (const dlt of [1, 113, 276, 12, 0, 229, 9]) {
    it(`DLT ${dlt}`, () => {
      const mix = generateMix(0xd15 + dlt, 400, { dlt, truncatedShare: 0 });
      const file = join(dir, `m${dlt}.pcap`);
      writeFileSync(file, writePcap(mix, { linkType: dltToLinkType(dlt) }));
      const out = spawnSync("tcpdump", ["-r", file, "-n", "-tt"], { encoding: "utf8" }).stdout;
      const lines: string[] = [];
      for (const l of out.split("\n")) {
        if (/^\d+\.\d{6} /.test(l)) lines.push(l);
        else if (l && lines.length) lines[lines.length - 1] += ` ${l.trim()}`;
      }
      expect(lines.length).toBe(mix.length);
      let compared = 0;
      let flagsCompared = 0;
      const problems: string[] = [];
      mix.forEach((p, i) => {
        const line = lines[i]!;
        // Skip what tcpdump prints differently on purpose: ICMP error quotes and undecoded payloads.
        if (/unreachable|time exceeded|packet too big|\[\|/.test(line)) return;
        const { summary } = dissectWithSummary(p.data, dlt);
        const hits = [...line.matchAll(/\bIP6? (\S+) > (\S+): /g)];
        if (!hits.length || summary.src === undefined) return;
        const [, tsrc, tdst] = hits[hits.length - 1]!;
        const ports = /^(?:TCP|UDP|SCTP) (\d+) → (\d+)/.exec(summary.transport ?? "");
        const okSrc = tsrc === summary.src || (ports && tsrc === `${summary.src}.${ports[1]}`);
        const okDst = tdst === summary.dst || (ports && tdst === `${summary.dst}.${ports[2]}`);
        if (!okSrc || !okDst) problems.push(`#${i} ${p.description}: tcpdump "${tsrc} > ${tdst}", ours "${summary.src} → ${summary.dst} ${summary.transport}"`);
        compared++;
        const tf = /Flags \[([^\]]*)\]/.exec(line.slice(hits[hits.length - 1]!.index));
        const of = /^TCP \d+ → \d+ \[([^\]]*)\]/.exec(summary.transport ?? "");
        if (tf && of) {
          const theirs = tf[1] === "none" ? "" : [...tf[1]!].filter((c) => c !== "w").map((c) => FLAG_LETTERS[c] ?? c).sort().join(",");
          const mine = of[1] === "none" ? "" : of[1]!.split(", ").sort().join(",");
          if (theirs !== mine) problems.push(`#${i}: tcpdump flags [${tf[1]}], ours [${of[1]}]`);
          flagsCompared++;
        }
      });
      expect(problems).toEqual([]);
      expect(compared).toBeGreaterThan(200);
      expect(flagsCompared).toBeGreaterThan(50);
    });
  }
});
