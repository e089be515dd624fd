/**
 * Builders against tcpdump: frames we build must decode in tcpdump with every checksum it verifies
 * reported correct, and show the field values we asked for. The mix must be deterministic and
 * readable by tcpdump for every link type it supports.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { isPlaygroundError } from "../errors";
import { dltName, dltToLinkType, writePcap } from "../pcap";
import {
  arp,
  build,
  crc32c,
  ether,
  generateMix,
  geneve,
  gre,
  icmp,
  icmpv6,
  igmp,
  ipv4,
  ipv4Fragments,
  ipv6,
  ipv6Fragments,
  llc,
  loopback,
  mixDlts,
  mpls,
  ppp,
  pppoeDiscovery,
  pppoeSession,
  rawIp,
  sctp,
  sctpDataValue,
  sll,
  sll2,
  snap,
  tcp,
  udp,
  vlan,
  vxlan,
  ipv4Bytes,
  ipv6Bytes,
  macBytes,
} from "./index";

const dir = mkdtempSync(join(tmpdir(), "craft-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** tcpdump -n -vv -e output lines, one string per packet (continuation lines joined). */
function tcpdumpLines(frames: Uint8Array[], linkType: number): string[] {
  const file = join(dir, `c${n++}.pcap`);
  writeFileSync(file, writePcap(frames.map((data, i) => ({ data, tsSec: i })), { linkType }));
  const r = spawnSync("tcpdump", ["-r", file, "-n", "-vv", "-e", "-tt"], { encoding: "utf8" });
  const out: string[] = [];
  for (const line of r.stdout.split("\n")) {
    if (/^\d+\.\d+ /.test(line)) out.push(line);
    else if (line && out.length) out[out.length - 1] += " " + line.trim();
  }
  return out;
}

function expectCleanChecksums(line: string): void {
  expect(line).not.toMatch(/bad|incorrect|wrong|\(invalid\)/i);
}

describe("builders decode in tcpdump as built", () => {
  it("Ethernet, VLAN, QinQ, MPLS stacks and PPPoE", () => {
    const frames = [
      build(ether({ src: "00:11:22:33:44:55", dst: "ff:ff:ff:ff:ff:ff" }), ipv4({ src: "198.18.0.1", dst: "198.18.0.2" }), tcp({ sport: 1234, dport: 80, flags: "S" })),
      build(ether(), vlan({ vid: 100, pcp: 5 }), ipv4(), udp({ sport: 5353, dport: 53 }), new Uint8Array(12)),
      build(ether(), vlan({ vid: 10, tpid: 0x88a8 }), vlan({ vid: 20 }), ipv6(), icmpv6({ type: 128, id: 7, seq: 9 })),
      build(ether(), mpls({ label: 100 }), mpls({ label: 200, ttl: 3 }), ipv4(), icmp({ type: 8, id: 0x1234, seq: 1 })),
      build(ether(), pppoeSession({ sessionId: 0x1234 }), ipv6(), tcp({ flags: "PA", dport: 443 }), "hello"),
      build(ether(), pppoeDiscovery({ code: 0x09 })),
      build(ether(), arp({ op: 1, spa: "10.0.0.1", tpa: "10.0.0.254" })),
      build(ether(), llc({ dsap: 0x42, ssap: 0x42, control: 0x03 }), new Uint8Array(35)),
    ];
    const lines = tcpdumpLines(frames, 1);
    expect(lines.length).toBe(frames.length);
    lines.forEach(expectCleanChecksums);
    expect(lines[0]).toMatch(/00:11:22:33:44:55 > ff:ff:ff:ff:ff:ff.*198\.18\.0\.1\.1234 > 198\.18\.0\.2\.80: Flags \[S\], cksum 0x[0-9a-f]+ \(correct\)/);
    expect(lines[1]).toMatch(/vlan 100, p 5.*\.5353 > .*\.53: \[udp sum ok\]/);
    expect(lines[2]).toMatch(/vlan 10,.*vlan 20,.*\[icmp6 sum ok\] ICMP6, echo request, id 7, seq 9/);
    expect(lines[3]).toMatch(/MPLS \(label 100, tc 0, ttl 64\).*\(label 200, tc 0, \[S\], ttl 3\).*ICMP echo request, id 4660, seq 1/);
    expect(lines[4]).toMatch(/PPPoE +\[ses 0x1234\].*\.443: Flags \[P\.\], cksum 0x[0-9a-f]+ \(correct\)/);
    expect(lines[5]).toMatch(/PPPoE PADI/);
    expect(lines[6]).toMatch(/Request who-has 10\.0\.0\.254 tell 10\.0\.0\.1/);
    expect(lines[7]).toMatch(/STP/);
  });

  it("IPv4 options and fragments, IPv6 extension headers and fragments", () => {
    const frames = [
      build(ether(), ipv4({ options: [0x94, 0x04, 0, 0], ttl: 1 }), igmp({ type: 0x16 })),
      ...ipv4Fragments({ id: 77 }, [udp({ dport: 9999 }), new Uint8Array(100).fill(7)], 48).map((f) => build(ether(), rawIp(f))),
      build(ether(), ipv6({ ext: [{ type: "hop", options: [5, 2, 0, 0] }, { type: "dst" }, { type: "routing", routingType: 2, addresses: ["2001:db8::99"] }] }), udp({ dport: 547 }), new Uint8Array(4)),
      build(ether(), ipv6({ ext: [{ type: "ah", spi: 0x100 }] }), tcp({ flags: "A" })),
      ...ipv6Fragments({}, [icmpv6({ type: 128 }), new Uint8Array(60)], 32, 0xabc).map((f) => build(ether(), rawIp(f))),
    ];
    const lines = tcpdumpLines(frames, 1);
    expect(lines.length).toBe(frames.length);
    lines.forEach(expectCleanChecksums);
    expect(lines[0]).toMatch(/ttl 1,.*options \(RA\).*igmp v2 report 239\.1\.1\.1/);
    expect(lines[1]).toMatch(/id 77, offset 0, flags \[\+\].*\.9999: UDP, length 100/);
    expect(lines[2]).toMatch(/id 77, offset 48, flags \[\+\]/);
    expect(lines[3]).toMatch(/id 77, offset 96, flags \[none\]/);
    expect(lines[4]).toMatch(/HBH.*DSTOPT.*RT6 \(len=2, type=2, segleft=1.*2001:db8::99\).* > 547: \[udp sum ok\]/);
    expect(lines[5]).toMatch(/AH\(.*spi=0x00000100.*cksum 0x[0-9a-f]+ \(correct\)/);
    expect(lines[6]).toMatch(/frag \(0x00000abc:0\|32\) ICMP6, echo request/);
    expect(lines.slice(6).length).toBe(3);
  });

  it("tunnels: GRE with key/seq/checksum, VXLAN, Geneve, IP-in-IP", () => {
    const inner = () => [ether({ src: "00:11:22:33:44:55" }), ipv4({ src: "10.0.0.1", dst: "10.0.0.2" }), tcp({ dport: 80 })];
    const frames = [
      build(ether(), ipv4(), gre({ key: 0x1234, seq: 5, checksum: true }), ipv4({ src: "10.1.1.1" }), icmp()),
      build(ether(), ipv4(), gre(), ...inner()),
      build(ether(), ipv4(), udp(), vxlan({ vni: 42 }), ...inner()),
      build(ether(), ipv6(), udp(), geneve({ vni: 100 }), ...inner()),
      build(ether(), ipv4(), ipv6({ src: "2001:db8::5" }), udp({ dport: 123 }), new Uint8Array(48)),
    ];
    const lines = tcpdumpLines(frames, 1);
    lines.forEach(expectCleanChecksums);
    expect(lines[0]).toMatch(/GREv0, Flags \[checksum present, key present, sequence# present\].*key=0x1234, seq 5.*10\.1\.1\.1 > /);
    expect(lines[1]).toMatch(/GREv0.*proto TEB \(0x6558\).*00:11:22:33:44:55.*10\.0\.0\.1\.40000 > 10\.0\.0\.2\.80: Flags \[S\], cksum 0x[0-9a-f]+ \(correct\)/);
    expect(lines[2]).toMatch(/VXLAN, flags \[I\] \(0x08\), vni 42.*10\.0\.0\.1\.40000 > 10\.0\.0\.2\.80.*\(correct\)/);
    expect(lines[3]).toMatch(/Geneve, Flags \[none\], vni 0x64.*10\.0\.0\.1\.40000 > 10\.0\.0\.2\.80.*\(correct\)/);
    expect(lines[4]).toMatch(/2001:db8::5\.40000 > 2001:db8::2\.123: \[udp sum ok\]/);
  });

  it("cooked, loopback and PPP headers on their own link types", () => {
    const sllLines = tcpdumpLines([build(sll({ pkttype: 4 }), ipv4(), tcp({ dport: 22 }))], dltToLinkType(113));
    expect(sllLines[0]).toMatch(/Out .*\.22: Flags \[S\], cksum 0x[0-9a-f]+ \(correct\)/);
    const sll2Lines = tcpdumpLines([build(sll2({ ifindex: 7, pkttype: 0 }), ipv6(), udp({ dport: 53 }), new Uint8Array(12))], 276);
    expect(sll2Lines[0]).toMatch(/ifindex 7.*\[udp sum ok\]/);
    const nullLines = tcpdumpLines([build(loopback(), ipv4(), icmp()), build(loopback({ family: 24 }), ipv6(), icmpv6())], 0);
    expect(nullLines[0]).toMatch(/AF IPv4 \(2\).*ICMP echo request/);
    expect(nullLines[1]).toMatch(/AF IPv6 \(24\).*\[icmp6 sum ok\]/);
    const loopLines = tcpdumpLines([build(loopback({ networkOrder: true }), ipv4(), udp(), new Uint8Array(8))], 108);
    expect(loopLines[0]).toMatch(/\[udp sum ok\]/);
    const pppLines = tcpdumpLines([build(ppp(), ipv4(), tcp({ flags: "SA" })), build(ppp(), mpls({ label: 100 }), ipv4(), icmp())], 9);
    pppLines.forEach(expectCleanChecksums);
    expect(pppLines[0]).toMatch(/Flags \[S\.\], cksum 0x[0-9a-f]+ \(correct\)/);
    expect(pppLines[1]).toMatch(/MPLS \(label 100/);
    const rawLines = tcpdumpLines([build(ipv6({ src: "fe80::1" }), icmpv6({ type: 135 }), new Uint8Array(16))], 101);
    expect(rawLines[0]).toMatch(/fe80::1 > 2001:db8::2: \[icmp6 sum ok\] ICMP6, neighbor solicitation/);
    const snapLines = tcpdumpLines([build(snap(), ipv4(), udp(), new Uint8Array(4))], 100);
    expect(snapLines[0]).toMatch(/\[udp sum ok\]/);
  });

  it("SCTP carries a CRC-32C (RFC 3720 B.4 vector) that checks over the packet", () => {
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    const pkt = build(sctp({ sport: 5000, dport: 5000, vtag: 1, chunks: [{ type: 0, flags: 3, value: sctpDataValue(1, new Uint8Array(8)) }] }));
    const stored = pkt[8]! | (pkt[9]! << 8) | (pkt[10]! << 16) | (pkt[11]! << 24);
    const zeroed = pkt.slice();
    zeroed.fill(0, 8, 12);
    expect(stored >>> 0).toBe(crc32c(zeroed));
    expect(tcpdumpLines([build(ether(), ipv4(), sctp())], 1)[0]).toMatch(/198\.18\.0\.1\.5000 > 198\.18\.0\.2\.5000: sctp.*\[INIT\]/);
  });
});

describe("generateMix", () => {
  it("is deterministic and seed-dependent", () => {
    const a = generateMix(1, 200);
    const b = generateMix(1, 200);
    const c = generateMix(2, 200);
    expect(a.map((p) => Array.from(p.data))).toEqual(b.map((p) => Array.from(p.data)));
    expect(a.map((p) => [p.tsSec, p.tsNsec, p.origLen])).toEqual(b.map((p) => [p.tsSec, p.tsNsec, p.origLen]));
    expect(a.map((p) => Array.from(p.data))).not.toEqual(c.map((p) => Array.from(p.data)));
  });

  it("varies: protocols, tags, fragments, truncation, address ranges", () => {
    const mix = generateMix(3, 2000);
    const d = mix.map((p) => p.description).join("\n");
    for (const word of ["vlan", "mpls", "pppoe session", "pppoe discovery", "arp", "ip6 +", "ip fragment", "ip6 fragment", "gre", "vxlan", "geneve", "sctp", "icmp6", "llc", "snap", "[S]", "[SA]", "[R"]) {
      expect(d).toContain(word);
    }
    const cut = mix.filter((p) => p.origLen > p.data.length);
    expect(cut.length).toBeGreaterThan(40);
    expect(cut.length).toBeLessThan(200);
    expect(mix.some((p) => p.origLen > 1500)).toBe(true);
    for (let i = 1; i < mix.length; i++) expect(mix[i]!.tsSec * 1e9 + mix[i]!.tsNsec).toBeGreaterThan(mix[i - 1]!.tsSec * 1e9 + mix[i - 1]!.tsNsec);
  });

  it("every supported link type gives frames tcpdump reads, all of them", () => {
    const problems: string[] = [];
    for (const dlt of mixDlts()) {
      const mix = generateMix(11, 150, { dlt });
      const file = join(dir, `mix-${dlt}.pcap`);
      writeFileSync(file, writePcap(mix, { linkType: dltToLinkType(dlt) }));
      const r = spawnSync("tcpdump", ["-r", file, "-n", "-tt", "-q"], { encoding: "utf8" });
      const count = r.stdout.split("\n").filter((l) => /^\d+\.\d{6} /.test(l)).length;
      if (!r.stderr.includes(`link-type ${dltName(dlt)} `) || count !== 150) problems.push(`${dltName(dlt)}: ${count} packets, ${r.stderr.split("\n")[0]}`);
    }
    expect(problems).toEqual([]);
    expect(mixDlts()).toEqual(expect.arrayContaining([0, 1, 12, 108, 113, 228, 229, 276]));
  });

  it("throws a PlaygroundError for a link type it cannot frame", () => {
    expect(() => generateMix(1, 1, { dlt: 147 })).toThrow(/cannot frame DLT 147/);
  });
});

describe("bad builder input", () => {
  it("only ever throws PlaygroundError", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        for (const f of [() => ipv4Bytes(s), () => ipv6Bytes(s), () => macBytes(s), () => build(ipv4({ src: s }))]) {
          try {
            f();
          } catch (e) {
            expect(isPlaygroundError(e)).toBe(true);
          }
        }
      }),
      { numRuns: 500 },
    );
    expect(() => vlan({ vid: 5000 })).toThrow(/out of range/);
    expect(() => mpls({ label: -1 })).toThrow(/out of range/);
    expect(() => ipv4({ fragOffset: 3 })).toThrow(/multiple of 8/);
  });

  it("parses the usual address spellings", () => {
    expect(Array.from(ipv6Bytes("::ffff:10.0.0.1"))).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1]);
    expect(Array.from(ipv6Bytes("2001:db8::1")).slice(0, 4)).toEqual([0x20, 0x01, 0x0d, 0xb8]);
    expect(Array.from(macBytes("0011.2233.4455"))).toEqual([0, 0x11, 0x22, 0x33, 0x44, 0x55]);
    expect(Array.from(macBytes("00-11-22-33-44-55"))).toEqual([0, 0x11, 0x22, 0x33, 0x44, 0x55]);
  });
});
