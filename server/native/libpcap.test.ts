import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { PlaygroundError } from "../../lib/errors";
import type { CbpfInsn } from "../../lib/cbpf/insn";
import {
  bpfFilter,
  bpfImage,
  bpfValidate,
  compileFilter,
  dltDescription,
  dltFromName,
  dltName,
  libpcapVersion,
  makeBpfFilter,
  resolveDlt,
} from "./libpcap";
import { tcpdumpDump, tcpdumpError } from "../../tests/support/tcpdump-dump";

function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { encoding: "utf8", maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

function compiled(filter: string, dlt = 1, extra: { optimize?: boolean; snaplen?: number; netmask?: number } = {}): CbpfInsn[] {
  const r = compileFilter({ filter, dlt, ...extra });
  if (!r.ok) throw new Error(`${filter}: ${r.error}`);
  return r.insns;
}

const imageText = (insns: readonly CbpfInsn[]): string => bpfImage(insns).map((l) => l + "\n").join("");

describe("libpcap bindings", () => {
  it("reports the same library version tcpdump links", async () => {
    const { stdout, stderr } = await run("/usr/bin/tcpdump", ["--version"]);
    const line = (stdout + stderr).split("\n").find((l) => l.startsWith("libpcap version"));
    expect(libpcapVersion()).toBe(line);
  });

  it.each([
    ["tcp port 80", "EN10MB"],
    ["tcp port 80", "RAW"],
    ["udp and host 10.0.0.1", "LINUX_SLL2"],
    ["ip6 and icmp6", "NULL"],
    ["vlan and ip", "EN10MB"],
    ["inbound", "EN10MB"],
    ["tcp[tcpflags] & tcp-syn != 0", "IPV4"],
  ])("compiles %s on %s to the program tcpdump -d prints (via bpf_image)", async (filter, dlt) => {
    for (const optimize of [true, false]) {
      const theirs = await tcpdumpDump({ filter, dlt, style: "d", optimize });
      expect(theirs.code).toBe(0);
      expect(imageText(compiled(filter, resolveDlt(dlt), { optimize, netmask: 0 }))).toBe(theirs.stdout);
    }
  });

  it("uses the snaplen as the accept value, as tcpdump -s does", async () => {
    for (const snaplen of [65535, 1500, 96]) {
      const theirs = await tcpdumpDump({ filter: "ip", dlt: "EN10MB", style: "d", optimize: true, snaplen });
      expect(imageText(compiled("ip", 1, { snaplen }))).toBe(theirs.stdout);
    }
  });

  it("keeps results right across many (dlt, snaplen) handles, beyond the handle cache size", async () => {
    const reference = imageText(compiled("tcp port 80", 1));
    for (let s = 100; s < 160; s++) {
      const insns = compiled("tcp port 80", s % 2 === 0 ? 1 : 12, { snaplen: s });
      expect(insns[insns.length - 2]!.k).toBe(s);
    }
    expect(imageText(compiled("tcp port 80", 1))).toBe(reference);
  });

  it.each([
    ["foo bar", "EN10MB"],
    ["port 70000", "EN10MB"],
    ["ip[1:3] = 0", "EN10MB"],
    ["arp", "RAW"],
    ["ip6 and tcp[0] = 1", "IPV6"],
  ])("returns libpcap's message for %s on %s, as tcpdump prints it", async (filter, dlt) => {
    const theirs = await tcpdumpDump({ filter, dlt, style: "d", optimize: true });
    expect(theirs.code).not.toBe(0);
    const ours = compileFilter({ filter, dlt: resolveDlt(dlt) });
    expect(ours).toEqual({ ok: false, error: tcpdumpError(theirs.stderr) });
  });

  it("defaults to PCAP_NETMASK_UNKNOWN (ip broadcast refused) and compiles it with tcpdump's netmask 0", async () => {
    const unknown = compileFilter({ filter: "ip broadcast", dlt: 1 });
    expect(unknown.ok).toBe(false);
    if (!unknown.ok) expect(unknown.error).toMatch(/netmask/);
    const theirs = await tcpdumpDump({ filter: "ip broadcast", dlt: "EN10MB", style: "d", optimize: true });
    expect(imageText(compiled("ip broadcast", 1, { netmask: 0 }))).toBe(theirs.stdout);
  });

  it("refuses bad options with PlaygroundError rather than crashing", () => {
    expect(() => compileFilter({ filter: "ip\0tcp", dlt: 1 })).toThrow(PlaygroundError);
    expect(() => compileFilter({ filter: "ip", dlt: 1, snaplen: -1 })).toThrow(PlaygroundError);
    expect(() => compileFilter({ filter: "ip", dlt: 1.5 })).toThrow(PlaygroundError);
    expect(() => compileFilter({ filter: "ip", dlt: 1, netmask: 2 ** 32 })).toThrow(PlaygroundError);
    // An unknown link type is libpcap's call, and it answers with a message.
    const r = compileFilter({ filter: "ip", dlt: 100000 });
    expect(r.ok).toBe(false);
  });

  it("survives a reload of the module (bindings cached on globalThis)", async () => {
    vi.resetModules();
    const again = await import("./libpcap");
    const r = again.compileFilter({ filter: "tcp port 80", dlt: 1 });
    expect(r.ok && r.insns).toEqual(compiled("tcp port 80"));
  });
});

describe("link-type names", () => {
  const names = ["EN10MB", "RAW", "LINUX_SLL", "LINUX_SLL2", "NULL", "LOOP", "IPV4", "IPV6", "PPP", "IEEE802_11", "PFLOG", "MTP2"];

  it.each(names)("%s round-trips through libpcap and is accepted by tcpdump -y", async (name) => {
    const v = dltFromName(name);
    expect(v).toBeTypeOf("number");
    expect(dltName(v!)).toBe(name);
    expect(dltDescription(v!)).toBeTypeOf("string");
    expect(resolveDlt(name)).toBe(v);
    expect(resolveDlt(name.toLowerCase())).toBe(v);
    expect(resolveDlt(`DLT_${name}`)).toBe(v);
    expect(resolveDlt(String(v))).toBe(v);
    expect(resolveDlt(v!)).toBe(v);
    const theirs = await tcpdumpDump({ filter: "", dlt: name, style: "d", optimize: true });
    expect(theirs.code).toBe(0);
  });

  it("rejects unknown names and numbers with PlaygroundError, as tcpdump -y rejects the name", async () => {
    expect(dltFromName("NO_SUCH_LINK")).toBeUndefined();
    expect(dltName(987654)).toBeUndefined();
    for (const bad of ["NO_SUCH_LINK", "", "987654", 987654, -1, 1.5]) {
      try {
        resolveDlt(bad);
        expect.unreachable(`resolveDlt(${String(bad)}) should throw`);
      } catch (e) {
        expect(e).toBeInstanceOf(PlaygroundError);
        expect((e as PlaygroundError).code).toBe("libpcap/dlt");
      }
    }
    const theirs = await tcpdumpDump({ filter: "ip", dlt: "NO_SUCH_LINK", style: "d", optimize: true });
    expect(tcpdumpError(theirs.stderr)).toBe("invalid data link type NO_SUCH_LINK");
  });
});

describe("bpf_validate and bpf_image", () => {
  it("accepts what pcap_compile produces", () => {
    for (const f of ["tcp port 80", "ip[2:2] / 3 > 10", "ether[len - 1] = 0", "vlan and mpls and ip", ""]) {
      expect(bpfValidate(compiled(f)), f).toBe(true);
      expect(bpfValidate(compiled(f, 1, { optimize: false })), f).toBe(true);
    }
  });

  it("refuses programs the interpreter must not run", () => {
    const ret0 = { code: 0x06, jt: 0, jf: 0, k: 0 };
    expect(bpfValidate([])).toBe(false);
    expect(bpfValidate([{ code: 0x15, jt: 5, jf: 0, k: 1 }, ret0])).toBe(false); // jump past the end
    expect(bpfValidate([{ code: 0x34, jt: 0, jf: 0, k: 0 }, ret0])).toBe(false); // div #0
    expect(bpfValidate([{ code: 0xf4, jt: 0, jf: 0, k: 0 }, ret0])).toBe(false); // no such ALU operation
    expect(bpfValidate([{ code: 0x28, jt: 0, jf: 0, k: 12 }])).toBe(false); // no return at the end
    expect(() => makeBpfFilter([{ code: 0x15, jt: 5, jf: 0, k: 1 }, ret0])).toThrow(PlaygroundError);
    expect(() => bpfImage([{ code: 0x10000, jt: 0, jf: 0, k: 0 }])).toThrow(PlaygroundError);
  });
});

// ------------------------------------------------------------------------------------------------
// bpf_filter against tcpdump -r on generated packets.

interface Pkt {
  data: Uint8Array;
  wireLen: number;
}

function pcapFile(packets: readonly Pkt[], linkType: number): Uint8Array {
  const size = 24 + packets.reduce((n, p) => n + 16 + p.data.length, 0);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0xa1b2c3d4, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setUint32(16, 262144, true);
  v.setUint32(20, linkType, true);
  let o = 24;
  packets.forEach((p, i) => {
    v.setUint32(o, i, true); // the packet's index as its timestamp, read back from tcpdump's output
    v.setUint32(o + 8, p.data.length, true);
    v.setUint32(o + 12, p.wireLen, true);
    out.set(p.data, o + 16);
    o += 16 + p.data.length;
  });
  return out;
}

/**
 * The indices of the packets `tcpdump -r FILE -w - FILTER` writes back out (each packet's
 * timestamp is its index). Reading the written capture, not the printed lines, keeps packets that
 * tcpdump prints oddly (caplen 0 prints "[Invalid header: caplen==0]" with no timestamp).
 */
function matchedIndices(file: string, filter: string): Promise<Set<number>> {
  return new Promise((resolve, reject) => {
    execFile("/usr/bin/tcpdump", ["-r", file, "-w", "-", "--", filter], { encoding: "buffer", maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`tcpdump -r failed: ${stderr.toString()}`));
      const v = new DataView(stdout.buffer, stdout.byteOffset, stdout.byteLength);
      const found = new Set<number>();
      for (let o = 24; o + 16 <= stdout.byteLength; o += 16 + v.getUint32(o + 8, true)) found.add(v.getUint32(o, true));
      resolve(found);
    });
  });
}

/** Ethernet + IPv4/IPv6 + TCP/UDP templates with fields fast-check varies, sometimes truncated. */
const packetArb: fc.Arbitrary<Pkt> = fc
  .record({
    v6: fc.boolean(),
    proto: fc.constantFrom(6, 17, 1),
    vlan: fc.boolean(),
    sport: fc.constantFrom(80, 443, 53, 22, 1024, 40000),
    dport: fc.constantFrom(80, 443, 53, 22, 1024, 40000),
    host: fc.constantFrom(1, 2, 3),
    flags: fc.integer({ min: 0, max: 255 }),
    payload: fc.uint8Array({ maxLength: 40 }),
    cut: fc.option(fc.integer({ min: 0, max: 80 }), { nil: undefined }),
  })
  .map((r) => {
    const eth = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
    const tag = r.vlan ? [0x81, 0x00, 0x00, 0x64] : [];
    const l4 = [r.sport >> 8, r.sport & 0xff, r.dport >> 8, r.dport & 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, r.flags, 0xff, 0xff, 0, 0, 0, 0];
    const body = [...l4, ...r.payload];
    const ip = r.v6
      ? [0x60, 0, 0, 0, body.length >> 8, body.length & 0xff, r.proto, 64, ...new Array(15).fill(0x20), 1, ...new Array(15).fill(0x20), r.host]
      : [0x45, 0, (20 + body.length) >> 8, (20 + body.length) & 0xff, 0, 0, 0, 0, 64, r.proto, 0, 0, 10, 0, 0, r.host, 10, 0, 0, 1];
    const full = Uint8Array.from([...eth, ...tag, r.v6 ? 0x86 : 0x08, r.v6 ? 0xdd : 0x00, ...ip, ...body]);
    const data = r.cut === undefined ? full : full.subarray(0, Math.min(r.cut, full.length));
    return { data, wireLen: full.length };
  });

describe("bpf_filter agrees with tcpdump -r", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "bpfpg-libpcap-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const filters = ["tcp port 80", "udp and host 10.0.0.2", "vlan and tcp", "ip6 and tcp", "tcp[tcpflags] & tcp-syn != 0", "len > 70", "icmp or port 53"];

  it("on 300 generated Ethernet packets for several filters", async () => {
    const packets = fc.sample(packetArb, { numRuns: 300, seed: 4242 });
    const file = join(dir, "in.pcap");
    await writeFile(file, pcapFile(packets, 1));
    for (const filter of filters) {
      const theirs = await matchedIndices(file, filter);
      expect(theirs.size, `${filter} matched nothing: the packets do not exercise it`).toBeGreaterThan(0);
      const match = makeBpfFilter(compiled(filter));
      const insns = compiled(filter);
      packets.forEach((p, i) => {
        const verdict = match(p.data, p.wireLen);
        expect(verdict !== 0, `${filter} packet ${i}`).toBe(theirs.has(i));
        expect(bpfFilter(insns, p.data, p.wireLen)).toBe(verdict);
      });
    }
  });
});
