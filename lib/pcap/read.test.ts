import { describe, expect, it } from "vitest";
import { PlaygroundError } from "../errors";
import { forEachPacket, iterateCapture, readCapture } from "./read";
import { writePcap, writePcapng } from "./write";
import type { CapturedPacket, PacketToWrite } from "./types";
import { Bytes, block, concat, epb, idb, pb, shb, spb, type Endian } from "./pcapng-blocks.test-util";

function payload(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7) & 0xff);
}

const SAMPLE: PacketToWrite[] = [
  { data: payload(60, 1), tsSec: 1_700_000_000, tsNsec: 123_456_789 },
  { data: payload(1514, 2), origLen: 1514, tsSec: 1_700_000_001, tsNsec: 999_999_999 },
  { data: payload(14, 3), origLen: 9000, tsSec: 4_000_000_000, tsNsec: 1 },
  { data: new Uint8Array(0), origLen: 0, tsSec: 0, tsNsec: 0 },
];

function expectSame(got: CapturedPacket[], want: PacketToWrite[], nsDivisor: number) {
  expect(got.length).toBe(want.length);
  got.forEach((p, i) => {
    const w = want[i]!;
    expect(Array.from(p.data)).toEqual(Array.from(w.data));
    expect(p.origLen).toBe(w.origLen ?? w.data.length);
    expect(p.tsSec).toBe(w.tsSec);
    expect(p.tsNsec).toBe(Math.floor((w.tsNsec ?? 0) / nsDivisor) * nsDivisor);
  });
}

describe("classic pcap round trips", () => {
  for (const bigEndian of [false, true]) {
    for (const nanosecond of [false, true]) {
      it(`${bigEndian ? "big" : "little"} endian, ${nanosecond ? "nano" : "micro"}seconds`, () => {
        const bytes = writePcap(SAMPLE, { linkType: 101, snaplen: 65535, nanosecond, bigEndian });
        const r = readCapture(bytes);
        expect(r.error).toBeUndefined();
        expect(r.format).toBe("pcap");
        expect(r.byteOrder).toBe(bigEndian ? "big" : "little");
        expect(r.nanosecond).toBe(nanosecond);
        expect(r.interfaces).toEqual([{ linkType: 101, dlt: 12, snaplen: 65535, tsResolutionNs: nanosecond ? 1 : 1000 }]);
        expectSame(r.packets, SAMPLE, nanosecond ? 1 : 1000);
        for (const p of r.packets) {
          expect(p.linkType).toBe(101);
          expect(p.dlt).toBe(12);
          expect(p.interfaceIndex).toBe(0);
          expect(p.data.buffer).toBe(bytes.buffer); // a view, not a copy
        }
      });
    }
  }

  it("cuts packets to the snaplen and keeps the wire length", () => {
    const r = readCapture(writePcap([{ data: payload(100, 0) }], { linkType: 1, snaplen: 40 }));
    expect(r.packets[0]!.data.length).toBe(40);
    expect(r.packets[0]!.origLen).toBe(100);
  });

  it("hands on no more than the file's snaplen of a longer record, as libpcap does, and reads on", () => {
    const bytes = writePcap([{ data: payload(100, 0) }, { data: payload(30, 1) }], { linkType: 1 });
    new DataView(bytes.buffer).setUint32(16, 40, true); // the file header's snaplen, after the fact
    const r = readCapture(bytes);
    expect(r.error).toBeUndefined();
    expect(r.packets.map((p) => p.data.length)).toEqual([40, 30]);
    expect(r.packets[0]!.origLen).toBe(100);
    expect(r.packets[1]!.data).toEqual(payload(30, 1));
  });

  it("reads the FCS bits of the link type word away", () => {
    const bytes = writePcap([{ data: payload(20, 0) }], { linkType: 1 });
    new DataView(bytes.buffer).setUint32(20, 0x1 | 0x04000000 | (4 << 28), true);
    expect(readCapture(bytes).interfaces[0]!.linkType).toBe(1);
  });

  it("reads Kuznetzov's patched format (24-byte record headers)", () => {
    const b = new Bytes("le").u32(0xa1b2cd34).u16(2).u16(4).u32(0).u32(0).u32(65535).u32(1);
    b.u32(10).u32(20).u32(3).u32(5).u32(7).u16(0x800).u8(0).u8(0).bytes([1, 2, 3]);
    const r = readCapture(b.build());
    expect(r.error).toBeUndefined();
    expect(r.packets.map((p) => [p.tsSec, p.tsNsec, Array.from(p.data), p.origLen])).toEqual([[10, 20_000, [1, 2, 3], 5]]);
  });
});

describe("pcapng round trips", () => {
  for (const bigEndian of [false, true]) {
    it(`${bigEndian ? "big" : "little"} endian, several interfaces and resolutions`, () => {
      const packets = SAMPLE.map((p, i) => ({ ...p, interfaceIndex: i % 3 }));
      const bytes = writePcapng(packets, {
        bigEndian,
        interfaces: [
          { linkType: 1, name: "eth0" },
          { linkType: 101, tsResolutionNs: 1, snaplen: 0, name: "tun0" },
          { linkType: 276, tsResolutionNs: 1e6 },
        ],
      });
      const r = readCapture(bytes);
      expect(r.error).toBeUndefined();
      expect(r.format).toBe("pcapng");
      expect(r.byteOrder).toBe(bigEndian ? "big" : "little");
      expect(r.nanosecond).toBe(true);
      expect(r.interfaces).toEqual([
        { linkType: 1, dlt: 1, snaplen: 262144, name: "eth0", tsResolutionNs: 1000 },
        { linkType: 101, dlt: 12, snaplen: 0, name: "tun0", tsResolutionNs: 1 },
        { linkType: 276, dlt: 276, snaplen: 262144, tsResolutionNs: 1e6 },
      ]);
      const units = [1000, 1, 1e6];
      r.packets.forEach((p, i) => {
        expect(p.interfaceIndex).toBe(i % 3);
        expect(p.dlt).toBe([1, 12, 276][i % 3]);
        expectSame([p], [SAMPLE[i]!], units[i % 3]!);
      });
    });
  }

  it("an empty capture has a header and no packets", () => {
    expect(readCapture(writePcapng([], { interfaces: [] }))).toMatchObject({ packets: [], interfaces: [] });
    expect(readCapture(writePcap([], { linkType: 1 }))).not.toHaveProperty("error");
  });

  it("rejects what it cannot write", () => {
    expect(() => writePcapng([{ data: payload(1, 0), interfaceIndex: 2 }], { interfaces: [{ linkType: 1 }] })).toThrow(PlaygroundError);
    expect(() => writePcapng([], { interfaces: [{ linkType: 1, tsResolutionNs: 3 }] })).toThrow(PlaygroundError);
    expect(() => writePcap([], { linkType: -1 })).toThrow(PlaygroundError);
  });
});

describe("pcapng blocks the writer does not make", () => {
  const data = payload(42, 9);
  for (const e of ["le", "be"] as Endian[]) {
    it(`${e}: SPB takes interface 0's snaplen, PB is read, unknown blocks are skipped`, () => {
      const bytes = concat(
        shb(e),
        idb(e, 1, 30, { unknown: [[0x1234, [1, 2, 3]]], name: "x" }),
        block(e, 4, new Uint8Array(8)), // name resolution
        spb(e, 42, data),
        block(e, 0x0bad, new Uint8Array(20)),
        pb(e, 0, 1_700_000_000_000_001n, data.subarray(0, 10), 42),
        block(e, 5, new Uint8Array(16)), // interface statistics
      );
      const r = readCapture(bytes);
      expect(r.error).toBeUndefined();
      expect(r.interfaces).toEqual([{ linkType: 1, dlt: 1, snaplen: 30, name: "x", tsResolutionNs: 1000 }]);
      expect(r.packets.map((p) => [p.data.length, p.origLen, p.tsSec, p.tsNsec])).toEqual([
        [30, 42, 0, 0],
        [10, 42, 1_700_000_000, 1000],
      ]);
      expect(Array.from(r.packets[0]!.data)).toEqual(Array.from(data.subarray(0, 30)));
    });
  }

  it("several sections, each with its own byte order and interface numbering", () => {
    const bytes = concat(
      shb("le"),
      idb("le", 1, 0),
      epb("le", 0, 5_000_000n, data),
      shb("be"),
      idb("be", 113, 0, { tsresol: 9 }),
      idb("be", 101, 0),
      epb("be", 1, 7_000_001n, data),
      epb("be", 0, 3_000_000_007n, data),
    );
    const r = readCapture(bytes);
    expect(r.error).toBeUndefined();
    expect(r.byteOrder).toBe("little");
    expect(r.interfaces.map((i) => i.dlt)).toEqual([1, 113, 12]);
    expect(r.packets.map((p) => [p.interfaceIndex, p.dlt, p.tsSec, p.tsNsec])).toEqual([
      [0, 1, 5, 0],
      [2, 12, 7, 1000],
      [1, 113, 3, 7],
    ]);
  });

  it("if_tsresol in powers of two and if_tsoffset", () => {
    const bytes = concat(
      shb("le"),
      idb("le", 1, 0, { tsresol: 0x80 | 20, tsoffset: 100 }), // 2^-20 s units
      epb("le", 0, (5n << 20n) + (1n << 19n), data),
      idb("le", 1, 0, { tsresol: 3 }),
      epb("le", 1, 1_234n, data),
    );
    const r = readCapture(bytes);
    expect(r.interfaces[0]!.tsResolutionNs).toBeCloseTo(1e9 / 2 ** 20, 6);
    expect(r.interfaces[1]!.tsResolutionNs).toBe(1e6);
    expect(r.packets.map((p) => [p.tsSec, p.tsNsec])).toEqual([
      [105, 500_000_000],
      [1, 234_000_000],
    ]);
  });

  it("nanosecond timestamps beyond 2^53 stay exact", () => {
    const ts = 4_102_444_800_123_456_789n; // 2100-01-01, in ns
    const bytes = concat(shb("le"), idb("le", 1, 0, { tsresol: 9 }), epb("le", 0, ts, data));
    const p = readCapture(bytes).packets[0]!;
    expect([p.tsSec, p.tsNsec]).toEqual([4_102_444_800, 123_456_789]);
    // Picoseconds exceed the limb arithmetic and take the BigInt path.
    const ps = concat(shb("le"), idb("le", 1, 0, { tsresol: 12 }), epb("le", 0, 10_000_000_000_123_456_789n, data));
    const q = readCapture(ps).packets[0]!;
    expect([q.tsSec, q.tsNsec]).toEqual([10_000_000, 123_456]);
  });
});

describe("damaged input", () => {
  it("throws PlaygroundError at byte 0 for input that is not a capture", () => {
    for (const bad of [new Uint8Array(0), Uint8Array.of(1, 2, 3), new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n")]) {
      try {
        readCapture(bad);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(PlaygroundError);
        expect((e as PlaygroundError).position).toEqual({ kind: "byte", offset: 0 });
      }
    }
  });

  it("stops at a truncated record, keeps earlier packets and names the offset", () => {
    const full = writePcap(SAMPLE.slice(0, 2), { linkType: 1 });
    const cut = full.subarray(0, 24 + 16 + 60 + 16 + 12);
    const r = readCapture(cut);
    expect(r.packets.length).toBe(1);
    expect(r.error?.message).toBe("truncated packet record at byte 100: header says 1514 bytes, 12 remain");
    expect(r.error?.position).toEqual({ kind: "byte", offset: 100 });
    const r2 = readCapture(full.subarray(0, 24 + 16 + 60 + 5));
    expect(r2.error?.message).toBe("truncated packet header at byte 100: 16 bytes needed, 5 remain");
  });

  it("reports a truncated file header without throwing", () => {
    const r = readCapture(writePcap([], { linkType: 1 }).subarray(0, 10));
    expect(r.packets).toEqual([]);
    expect(r.error?.code).toBe("pcap/truncated");
  });

  it("pcapng: bad lengths, a mismatched trailer, a missing interface", () => {
    const good = concat(shb("le"), idb("le", 1, 0), epb("le", 0, 0n, data5()));
    const withBadTrailer = good.slice();
    new DataView(withBadTrailer.buffer).setUint32(withBadTrailer.length - 4, 8, true);
    expect(readCapture(withBadTrailer).error?.message).toMatch(/^block at byte 48: length 40 in header but 8 in trailer/);
    const noIdb = concat(shb("le"), epb("le", 3, 0n, data5()));
    const r = readCapture(noIdb);
    expect(r.error?.message).toMatch(/refers to interface 3/);
    expect(r.error?.position).toEqual({ kind: "byte", offset: 28 });
    const oddLen = good.slice();
    new DataView(oddLen.buffer).setUint32(32, 21, true);
    expect(readCapture(oddLen).error?.code).toBe("pcapng/corrupt");
    const caplenTooBig = good.slice();
    new DataView(caplenTooBig.buffer).setUint32(48 + 20, 1000, true);
    expect(readCapture(caplenTooBig).error?.message).toMatch(/captured length 1000 exceeds the block/);
  });
});

function data5() {
  return Uint8Array.of(1, 2, 3, 4, 5);
}

describe("streaming forms", () => {
  it("iterateCapture and forEachPacket see what readCapture sees", () => {
    const bytes = writePcapng(SAMPLE, { interfaces: [{ linkType: 1 }] });
    const all = readCapture(bytes).packets;
    const it1 = iterateCapture(bytes);
    const seen: CapturedPacket[] = [];
    let step = it1.next();
    while (!step.done) {
      seen.push(step.value);
      step = it1.next();
    }
    expect(step.value.interfaces.length).toBe(1);
    expect(seen).toEqual(all);
    const viaCallback: CapturedPacket[] = [];
    const summary = forEachPacket(bytes, (p, i) => {
      expect(i).toBe(viaCallback.length);
      viaCallback.push(p);
    });
    expect(summary.count).toBe(all.length);
    expect(viaCallback).toEqual(all);
  });
});
