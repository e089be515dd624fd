/**
 * The incremental reader (CaptureStream): fed in chunks of any size, it gives exactly what the
 * whole-buffer reader gives, including where and why it stops; it refuses a bad header as soon as
 * the header is in, and never waits for (or allocates) more than libpcap's bounds allow.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isPlaygroundError, PlaygroundError } from "../errors";
import { CaptureStream, readCapture } from "./read";
import { writePcap } from "./write";
import type { CaptureInterface } from "./types";

/** A small deterministic generator, so a failing split can be replayed. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
}

interface Projection {
  format?: string;
  interfaces: CaptureInterface[];
  packets: string[];
  error?: { code: string; message: string; position: unknown };
  thrown?: { code: string; message: string; position: unknown };
}

function project(get: () => { format: string; interfaces: CaptureInterface[]; packets: string[]; error?: PlaygroundError }): Projection {
  try {
    const r = get();
    const out: Projection = { format: r.format, interfaces: r.interfaces, packets: r.packets };
    if (r.error) out.error = { code: r.error.code, message: r.error.message, position: r.error.position };
    return out;
  } catch (e) {
    if (!isPlaygroundError(e)) throw e;
    return { interfaces: [], packets: [], thrown: { code: e.code, message: e.message, position: e.position } };
  }
}

const hex = (d: Uint8Array) => Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString("hex");
const describePacket = (p: { data: Uint8Array; origLen: number; tsSec: number; tsNsec: number; dlt: number; interfaceIndex: number }) =>
  `${p.interfaceIndex}/${p.dlt} ${p.tsSec}.${p.tsNsec} ${p.origLen} ${hex(p.data)}`;

function whole(bytes: Uint8Array): Projection {
  return project(() => {
    const r = readCapture(bytes);
    return { ...r, packets: r.packets.map(describePacket) };
  });
}

/** Pushes `bytes` in chunks of sizes from `size`, pulling every packet that completes; the stream is ended last. */
function streamed(bytes: Uint8Array, size: () => number): Projection {
  return project(() => {
    const s = new CaptureStream();
    const packets: string[] = [];
    let notWaiting = 0;
    const drain = () => {
      for (let p = s.next(); p !== undefined; p = s.next()) packets.push(describePacket(p));
    };
    for (let at = 0; at < bytes.length && !s.error; ) {
      const n = Math.max(1, Math.min(bytes.length - at, size()));
      // A copy: what the reader keeps must not depend on the caller's buffer.
      s.push(bytes.slice(at, at + n));
      at += n;
      drain();
      if (!s.error && !s.waiting) notWaiting++;
    }
    // Until the end, running out of input is "waiting", never an error or an end.
    expect(notWaiting).toBe(0);
    s.end();
    drain();
    expect(s.waiting).toBe(false);
    return { format: s.format, interfaces: s.interfaces, packets, error: s.error };
  });
}

const SHARED = join(__dirname, "..", "..", "..", "shared", "pcaps");

function sharedFiles(): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(SHARED);
  return out.sort();
}

describe("CaptureStream", () => {
  if (!existsSync(SHARED)) {
    console.warn(`[pcap stream] real captures not compared: ${SHARED} is missing`);
    if (process.env.CI) it("runs on CI, which must provide ../shared/pcaps", () => expect.fail(`${SHARED} is missing`));
  } else {
    it("every real capture in ../shared/pcaps, in chunks of random sizes, reads as the whole file does", () => {
      const files = sharedFiles();
      expect(files.length).toBeGreaterThan(800);
      const next = lcg(0x5eed);
      let packets = 0;
      for (const f of files) {
        const bytes = new Uint8Array(readFileSync(f));
        const want = whole(bytes);
        packets += want.packets.length;
        // Mostly small chunks (every record straddles one), some larger than most records.
        const got = streamed(bytes, () => (next() % 8 === 0 ? 1 + (next() % 70_000) : 1 + (next() % 300)));
        expect({ f, ...got }).toEqual({ f, ...want });
      }
      expect(packets).toBeGreaterThan(10_000);
    }, 120_000);

    it("the largest real capture, one byte at a time", () => {
      const [largest] = sharedFiles().sort((a, b) => statSync(b).size - statSync(a).size);
      const bytes = new Uint8Array(readFileSync(largest!));
      expect(bytes.length).toBeGreaterThan(100_000);
      expect(streamed(bytes, () => 1)).toEqual(whole(bytes));
    }, 60_000);
  }

  it("refuses input that is not a capture as soon as four bytes are in, without waiting for the end", () => {
    const s = new CaptureStream().push(new Uint8Array(3));
    expect(s.next()).toBeUndefined();
    expect(s.waiting).toBe(true);
    s.push(new Uint8Array(1));
    expect(() => s.next()).toThrow(PlaygroundError);
    try {
      s.next();
    } catch (e) {
      expect((e as PlaygroundError).code).toBe("pcap/format");
      expect((e as PlaygroundError).position).toEqual({ kind: "byte", offset: 0 });
    }
  });

  it("refuses a record or block longer than libpcap allows at its header, before its bytes arrive", () => {
    const header = writePcap([], { linkType: 1, snaplen: 65535 });
    const record = new Uint8Array(16);
    new DataView(record.buffer).setUint32(8, 300_000, true);
    const s = new CaptureStream().push(header).push(record);
    expect(s.next()).toBeUndefined();
    expect(s.waiting).toBe(false);
    expect(s.error?.code).toBe("pcap/corrupt");
    expect(s.error?.position).toEqual({ kind: "byte", offset: 24 });

    const ng = new Uint8Array(28 + 12);
    const dv = new DataView(ng.buffer);
    dv.setUint32(0, 0x0a0d0d0a, true);
    dv.setUint32(4, 28, true);
    dv.setUint32(8, 0x1a2b3c4d, true);
    dv.setUint16(12, 1, true);
    dv.setUint32(24, 28, true);
    dv.setUint32(28, 6, true);
    dv.setUint32(32, 0x7ffffffc, true);
    const t = new CaptureStream().push(ng);
    expect(t.next()).toBeUndefined();
    expect(t.waiting).toBe(false);
    expect(t.error?.code).toBe("pcapng/corrupt");
    expect(t.error?.position).toEqual({ kind: "byte", offset: 28 });
  });

  it("one chunk is not copied: packet data stays a view into it", () => {
    const bytes = writePcap([{ data: new Uint8Array(60).fill(7) }], { linkType: 1 });
    const p = new CaptureStream().push(bytes).end().next()!;
    expect(p.data.buffer).toBe(bytes.buffer);
  });
});
