import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isPlaygroundError } from "../errors";
import { CaptureStream, readCapture } from "./read";
import { writePcap, writePcapng } from "./write";
import type { CaptureReadResult } from "./types";

/** readCapture either returns or throws a PlaygroundError; anything else fails the property. */
function readOrPlaygroundError(bytes: Uint8Array): CaptureReadResult | undefined {
  try {
    return readCapture(bytes);
  } catch (e) {
    if (!isPlaygroundError(e)) throw e;
    return undefined;
  }
}

const packetArb = fc.record({
  data: fc.uint8Array({ minLength: 0, maxLength: 120 }),
  extra: fc.nat({ max: 3000 }),
  tsSec: fc.nat({ max: 0xffffffff }),
  tsNsec: fc.nat({ max: 999_999_999 }),
  interfaceIndex: fc.nat({ max: 2 }),
});

const fileArb = fc
  .record({
    packets: fc.array(packetArb, { maxLength: 12 }),
    format: fc.constantFrom("pcap-le", "pcap-be", "pcap-ns", "ng-le", "ng-be"),
    snaplen: fc.constantFrom(0, 64, 262144),
  })
  .map(({ packets, format, snaplen }) => {
    const pk = packets.map((p) => ({ ...p, origLen: p.data.length + p.extra }));
    const bytes = format.startsWith("pcap")
      ? writePcap(pk, { linkType: 1, snaplen: snaplen || 65535, bigEndian: format === "pcap-be", nanosecond: format === "pcap-ns" })
      : writePcapng(pk, {
          bigEndian: format === "ng-be",
          interfaces: [{ linkType: 1, snaplen }, { linkType: 101, tsResolutionNs: 1 }, { linkType: 113, name: "sll" }],
        });
    return { bytes, count: pk.length };
  });

describe("reader fuzzing", () => {
  it("random bytes, with or without a real magic, never throw anything but PlaygroundError", () => {
    const magic = fc.constantFrom(
      [],
      [0xd4, 0xc3, 0xb2, 0xa1],
      [0xa1, 0xb2, 0x3c, 0x4d],
      [0x0a, 0x0d, 0x0d, 0x0a],
      [0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0],
    );
    fc.assert(
      fc.property(magic, fc.uint8Array({ maxLength: 300 }), (m, rest) => {
        readOrPlaygroundError(Uint8Array.from([...m, ...rest]));
      }),
      { numRuns: 3000 },
    );
  });

  it("valid files with bytes flipped never throw anything but PlaygroundError", () => {
    fc.assert(
      fc.property(fileArb, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), ({ bytes }, flips) => {
        const b = bytes.slice();
        for (const [at, v] of flips) b[at % b.length] = v;
        const r = readOrPlaygroundError(b);
        if (r) for (const p of r.packets) expect(p.data.byteOffset + p.data.length).toBeLessThanOrEqual(b.byteOffset + b.length);
      }),
      { numRuns: 1500 },
    );
  });

  it("a truncated file keeps exactly the packets that end before the cut", () => {
    fc.assert(
      fc.property(fileArb, fc.double({ min: 0, max: 1, noNaN: true }), ({ bytes, count }, where) => {
        const whole = readCapture(bytes);
        expect(whole.packets.length).toBe(count);
        expect(whole.error).toBeUndefined();
        const cut = Math.floor(where * bytes.length);
        const r = readOrPlaygroundError(bytes.subarray(0, cut));
        if (!r) {
          expect(cut).toBeLessThan(12); // only a cut inside the magic/section header is "not a capture"
          return;
        }
        // A packet survives iff its whole record lies before the cut. Records as our writers lay
        // them out: pcap = 16-byte header + data; pcapng EPB = 28-byte header + padded data + trailer.
        const ng = whole.format === "pcapng";
        const spans = whole.packets.map((p) => {
          const at = p.data.byteOffset - bytes.byteOffset;
          return ng ? [at - 28, at + ((p.data.length + 3) & ~3) + 4] : [at - 16, at + p.data.length];
        });
        const expectKept = spans.filter(([, end]) => end! <= cut).length;
        expect(r.packets.length).toBe(expectKept);
        r.packets.forEach((p, i) => {
          const w = whole.packets[i]!;
          expect({ ...p, data: Array.from(p.data) }).toEqual({ ...w, data: Array.from(w.data) });
        });
        const inside = spans.some(([start, end]) => start! < cut && cut < end!);
        if (inside) expect(r.error).toBeDefined();
        if (r.error) expect(r.error.position.kind).toBe("byte");
      }),
      { numRuns: 1500 },
    );
  });

  it("damaged files fed in random chunks read exactly as the whole buffer does (packets, error, offset)", () => {
    /** Packets and the error (or what was thrown) as one comparable value. */
    const outcome = (read: () => { packets: { data: Uint8Array; origLen: number; tsSec: number; tsNsec: number; dlt: number }[]; error?: { code: string; message: string; position: unknown } }) => {
      try {
        const r = read();
        return { packets: r.packets.map((p) => [Array.from(p.data), p.origLen, p.tsSec, p.tsNsec, p.dlt]), error: r.error && [r.error.code, r.error.message, r.error.position] };
      } catch (e) {
        if (!isPlaygroundError(e)) throw e;
        return { thrown: [e.code, e.message, e.position] };
      }
    };
    fc.assert(
      fc.property(
        fileArb,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 16 }),
        ({ bytes }, flips, where, sizes) => {
          const b = bytes.slice(0, Math.max(1, Math.ceil(where * bytes.length)));
          for (const [at, v] of flips) b[at % b.length] = v;
          const want = outcome(() => readCapture(b));
          const got = outcome(() => {
            const s = new CaptureStream();
            const packets = [];
            for (let at = 0, k = 0; at < b.length && !s.error; k++) {
              const n = sizes[k % sizes.length]!;
              s.push(b.slice(at, at + n));
              at += n;
              for (let p = s.next(); p; p = s.next()) packets.push(p);
            }
            s.end();
            for (let p = s.next(); p; p = s.next()) packets.push(p);
            return { packets, error: s.error };
          });
          expect(got).toEqual(want);
        },
      ),
      { numRuns: 1500 },
    );
  });
});
