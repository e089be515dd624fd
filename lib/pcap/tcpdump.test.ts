/**
 * tcpdump (libpcap 1.10.3) as the oracle for the reader and the writers: every file we write, and
 * every hand-built pcapng variant libpcap understands, must give the same packets, bytes, lengths
 * and timestamps in `tcpdump -r` as in readCapture.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readCapture } from "./read";
import { writePcap, writePcapng } from "./write";
import type { PacketToWrite } from "./types";
import { concat, epb, idb, pb, shb, spb, type Endian } from "./pcapng-blocks.test-util";

const dir = mkdtempSync(join(tmpdir(), "pcap-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;

interface Seen {
  ts: string;
  length?: number;
  hex: string;
}

/** tcpdump's view: timestamp, wire length (from -e on Ethernet) and every captured byte (-xx). */
function tcpdump(bytes: Uint8Array): { packets: Seen[]; stderr: string } {
  const file = join(dir, `f${fileNo++}`);
  writeFileSync(file, bytes);
  const r = spawnSync("tcpdump", ["-r", file, "-n", "-tt", "--time-stamp-precision=nano", "-xx", "-e"], { encoding: "utf8" });
  const packets: Seen[] = [];
  for (const line of r.stdout.split("\n")) {
    const head = /^(\d+\.\d{9}) /.exec(line);
    if (head) {
      const len = / length (\d+)/.exec(line);
      packets.push({ ts: head[1]!, length: len ? Number(len[1]) : undefined, hex: "" });
      continue;
    }
    const hex = /^\t0x[0-9a-f]{4}:  (.*)$/.exec(line);
    if (hex && packets.length) packets[packets.length - 1]!.hex += hex[1]!.split("  ")[0]!.replace(/ /g, "");
  }
  return { packets, stderr: r.stderr };
}

function ours(bytes: Uint8Array, withLength = true): Seen[] {
  return readCapture(bytes).packets.map((p) => ({
    ts: `${p.tsSec}.${String(p.tsNsec).padStart(9, "0")}`,
    ...(withLength ? { length: p.origLen } : {}),
    hex: Array.from(p.data, (b) => b.toString(16).padStart(2, "0")).join(""),
  }));
}

/** Ethernet frames of assorted lengths; some cut short of their wire length. */
function frames(n: number): PacketToWrite[] {
  return Array.from({ length: n }, (_, i) => {
    const len = 14 + ((i * 97) % 300);
    const data = Uint8Array.from({ length: len }, (_, j) => (j * 13 + i * 5) & 0xff);
    data[12] = 0x88; // an EtherType tcpdump has no decoder for: it prints the header line only
    data[13] = 0xb5;
    return { data, origLen: i % 4 === 3 ? len + 100 : len, tsSec: 1_600_000_000 + i * 3601, tsNsec: (i * 123_456_789) % 1e9 };
  });
}

describe("files we write read the same in tcpdump", () => {
  const packets = frames(40);
  for (const bigEndian of [false, true]) {
    for (const nanosecond of [false, true]) {
      it(`pcap ${bigEndian ? "BE" : "LE"} ${nanosecond ? "ns" : "us"}`, () => {
        const bytes = writePcap(packets, { linkType: 1, bigEndian, nanosecond, snaplen: 200 });
        const t = tcpdump(bytes);
        expect(t.stderr).toMatch(/link-type EN10MB/);
        expect(t.packets.length).toBe(40);
        expect(ours(bytes)).toEqual(t.packets);
      });
    }
    it(`pcapng ${bigEndian ? "BE" : "LE"}, two Ethernet interfaces with different resolutions`, () => {
      const bytes = writePcapng(
        packets.map((p, i) => ({ ...p, interfaceIndex: i % 2 })),
        { bigEndian, interfaces: [{ linkType: 1, name: "a" }, { linkType: 1, tsResolutionNs: 1 }] },
      );
      const t = tcpdump(bytes);
      expect(t.packets.length).toBe(40);
      expect(ours(bytes)).toEqual(t.packets);
    });
  }

  it("raw IP files: tcpdump reports link-type RAW and the same bytes", () => {
    const raw = [{ data: Uint8Array.of(0x45, 0, 0, 20, 0, 0, 0, 0, 64, 253, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2), tsSec: 1, tsNsec: 2000 }];
    const bytes = writePcap(raw, { linkType: 101 });
    const t = tcpdump(bytes);
    expect(t.stderr).toMatch(/link-type RAW/);
    expect(ours(bytes, false)).toEqual(t.packets.map(({ ts, hex }) => ({ ts, hex })));
  });

  it("pcapng with two link types: libpcap 1.10.3 refuses it, each interface alone agrees", () => {
    const mixed = frames(6).map((p, i) => ({ ...p, interfaceIndex: i % 2 }));
    const ifaces = [{ linkType: 1 }, { linkType: 113, tsResolutionNs: 1 }];
    const bytes = writePcapng(mixed, { interfaces: ifaces });
    const t = tcpdump(bytes);
    expect(t.stderr).toMatch(/different from the type of the first interface/);
    const r = readCapture(bytes);
    expect(r.error).toBeUndefined();
    expect(r.packets.map((p) => p.dlt)).toEqual([1, 113, 1, 113, 1, 113]);
    for (const k of [0, 1]) {
      const alone = writePcapng(mixed.filter((p) => p.interfaceIndex === k).map((p) => ({ ...p, interfaceIndex: 0 })), { interfaces: [ifaces[k]!] });
      const seen = tcpdump(alone);
      expect(seen.stderr).toMatch(k === 0 ? /EN10MB/ : /LINUX_SLL/);
      const mine = r.packets.filter((p) => p.interfaceIndex === k);
      expect(mine.map((p) => `${p.tsSec}.${String(p.tsNsec).padStart(9, "0")}`)).toEqual(seen.packets.map((p) => p.ts));
      expect(mine.map((p) => Array.from(p.data, (b) => b.toString(16).padStart(2, "0")).join(""))).toEqual(seen.packets.map((p) => p.hex));
    }
  });

  it("a truncated file: tcpdump prints the same packets before the damage", () => {
    const bytes = writePcap(frames(10), { linkType: 1 });
    const cut = bytes.subarray(0, bytes.length - 30);
    const t = tcpdump(cut);
    expect(t.stderr).toMatch(/truncated/);
    const r = readCapture(cut);
    expect(r.error?.code).toBe("pcap/truncated");
    expect(ours(cut)).toEqual(t.packets);
  });
});

describe("hand-built pcapng that libpcap reads", () => {
  const data = (n: number, s: number) => {
    const d = Uint8Array.from({ length: n }, (_, i) => (i + s) & 0xff);
    d[12] = 0x88;
    d[13] = 0xb5;
    return d;
  };
  for (const e of ["le", "be"] as Endian[]) {
    it(`${e}: SPB, obsolete PB, unknown blocks, power-of-two resolution, a second section`, () => {
      const bytes = concat(
        shb(e),
        idb(e, 1, 48, { tsresol: 0x80 | 10, unknown: [[0x0bad, [1, 2, 3, 4, 5]]] }),
        spb(e, 70, data(70, 1)),
        pb(e, 0, (1_650_000_000n << 10n) + 512n, data(40, 2), 60),
        epb(e, 0, (1_650_000_001n << 10n) + 1023n, data(48, 3), 900),
        // a second section in the same byte order resets the interfaces
        shb(e),
        idb(e, 1, 48, { tsresol: 9, name: "second" }),
        epb(e, 0, 1_650_000_002_000_000_123n, data(33, 4)),
      );
      const t = tcpdump(bytes);
      expect(t.packets.length).toBe(4);
      expect(ours(bytes)).toEqual(t.packets);
    });
  }
});

describe("records and blocks longer than libpcap allows", () => {
  /** A pcap file of snaplen 65535 with one record declaring `caplen` bytes, all present. */
  function pcapWithRecord(caplen: number): Uint8Array {
    const header = writePcap([], { linkType: 1, snaplen: 65535 });
    const out = new Uint8Array(header.length + 16 + caplen);
    out.set(header);
    const dv = new DataView(out.buffer);
    dv.setUint32(header.length + 8, caplen, true);
    dv.setUint32(header.length + 12, caplen, true);
    for (let i = 0; i < caplen; i++) out[header.length + 16 + i] = (i * 7) & 0xff;
    return out;
  }

  it("pcap: beyond 262144 bytes both refuse the record; below it both cut it to the file's snaplen", () => {
    const huge = pcapWithRecord(300_000);
    expect(tcpdump(huge).stderr).toMatch(/invalid packet capture length 300000/);
    const r = readCapture(huge);
    expect(r.packets).toEqual([]);
    expect(r.error?.code).toBe("pcap/corrupt");
    expect(r.error?.position).toEqual({ kind: "byte", offset: 24 });

    const long = pcapWithRecord(200_000);
    const t = tcpdump(long);
    expect(t.packets.length).toBe(1);
    expect(ours(long, false)).toEqual(t.packets.map(({ ts, hex }) => ({ ts, hex })));
  });

  it("pcapng: a block over 16 MiB is refused by both at its header", () => {
    const head = concat(shb("le"), idb("le", 1, 0));
    const len = 20 * 1024 * 1024;
    const bytes = new Uint8Array(head.length + len);
    bytes.set(head);
    const dv = new DataView(bytes.buffer);
    dv.setUint32(head.length, 6, true);
    dv.setUint32(head.length + 4, len, true);
    dv.setUint32(bytes.length - 4, len, true);
    expect(tcpdump(bytes).stderr).toMatch(/block size 20971520 > maximum 16777216/);
    const r = readCapture(bytes);
    expect(r.error?.code).toBe("pcapng/corrupt");
    expect(r.error?.position).toEqual({ kind: "byte", offset: head.length });
  });
});
