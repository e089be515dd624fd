/**
 * Writers for classic pcap and pcapng. They produce what libpcap reads back unchanged, and are used
 * by tests (to feed tcpdump), by the sample generator and by the UI's "save capture".
 */
import { PlaygroundError } from "../errors";
import { joinTimestamp } from "./timestamp";
import type { PacketToWrite } from "./types";

export interface WritePcapOptions {
  /** LINKTYPE_* value (what goes in the file), e.g. 1 for Ethernet, 101 for raw IP. */
  linkType: number;
  /** Default 262144, tcpdump's default. Longer packets are cut to this length. */
  snaplen?: number;
  /** Write the nanosecond magic (0xa1b23c4d) and nanosecond fractions. */
  nanosecond?: boolean;
  bigEndian?: boolean;
}

export interface WriteInterface {
  linkType: number;
  /** Default 262144; 0 means unlimited. */
  snaplen?: number;
  name?: string;
  /** Nanoseconds per timestamp unit: 1000 (microseconds, the default) or any 10^-k second. */
  tsResolutionNs?: number;
}

export interface WritePcapngOptions {
  interfaces: WriteInterface[];
  bigEndian?: boolean;
}

const DEFAULT_SNAPLEN = 262144;

function invalid(message: string): PlaygroundError {
  return new PlaygroundError("pcap/write", message);
}

function checkU32(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw invalid(`${what} must be a 32-bit unsigned integer, got ${value}`);
}

export function writePcap(packets: readonly PacketToWrite[], opts: WritePcapOptions): Uint8Array {
  const snaplen = opts.snaplen ?? DEFAULT_SNAPLEN;
  checkU32(opts.linkType, "linkType");
  checkU32(snaplen, "snaplen");
  const le = !opts.bigEndian;
  const nano = !!opts.nanosecond;
  let size = 24;
  for (const p of packets) size += 16 + capturedLength(p, snaplen);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, nano ? 0xa1b23c4d : 0xa1b2c3d4, le);
  dv.setUint16(4, 2, le);
  dv.setUint16(6, 4, le);
  // thiszone and sigfigs stay 0, as every modern writer leaves them.
  dv.setUint32(16, snaplen, le);
  dv.setUint32(20, opts.linkType, le);
  let off = 24;
  for (const p of packets) {
    const caplen = capturedLength(p, snaplen);
    const nsec = p.tsNsec ?? 0;
    dv.setUint32(off, (p.tsSec ?? 0) >>> 0, le);
    dv.setUint32(off + 4, nano ? nsec : Math.floor(nsec / 1000), le);
    dv.setUint32(off + 8, caplen, le);
    dv.setUint32(off + 12, originalLength(p, caplen), le);
    out.set(caplen === p.data.length ? p.data : p.data.subarray(0, caplen), off + 16);
    off += 16 + caplen;
  }
  return out;
}

function capturedLength(p: PacketToWrite, snaplen: number): number {
  return snaplen > 0 && p.data.length > snaplen ? snaplen : p.data.length;
}

function originalLength(p: PacketToWrite, caplen: number): number {
  const orig = p.origLen ?? p.data.length;
  return orig < caplen ? caplen : orig;
}

const pad4 = (n: number) => (n + 3) & ~3;

/** The if_tsresol byte for a resolution given in nanoseconds per unit. */
function tsresolByte(nsPerUnit: number): { byte: number; unitsPerSec: number } {
  for (let k = 0; k <= 15; k++) {
    if (Math.abs(1e9 / 10 ** k - nsPerUnit) < 1e-12 * Math.max(1, nsPerUnit)) return { byte: k, unitsPerSec: 10 ** k };
  }
  throw invalid(`tsResolutionNs must be a power of ten fraction of a second (e.g. 1000 or 1), got ${nsPerUnit}`);
}

export function writePcapng(packets: readonly PacketToWrite[], opts: WritePcapngOptions): Uint8Array {
  const le = !opts.bigEndian;
  const enc = new TextEncoder();
  if (opts.interfaces.length === 0 && packets.length > 0) throw invalid("writePcapng needs at least one interface");
  const ifaces = opts.interfaces.map((i) => {
    const snaplen = i.snaplen ?? DEFAULT_SNAPLEN;
    checkU32(snaplen, "snaplen");
    if (!Number.isInteger(i.linkType) || i.linkType < 0 || i.linkType > 0xffff) {
      throw invalid(`pcapng link types are 16-bit, got ${i.linkType}`);
    }
    const res = tsresolByte(i.tsResolutionNs ?? 1000);
    const name = i.name === undefined ? undefined : enc.encode(i.name);
    if (name && name.length > 0xffff) throw invalid("interface name too long");
    // Fixed part 20 + options: if_tsresol (4+4) unless default, if_name (4+pad), end (4).
    const optLen = (res.byte !== 6 ? 8 : 0) + (name ? 4 + pad4(name.length) : 0);
    return { linkType: i.linkType, snaplen, name, res, blockLen: 20 + (optLen ? optLen + 4 : 0) };
  });
  let size = 28;
  for (const i of ifaces) size += i.blockLen;
  for (const p of packets) {
    const ifc = ifaces[p.interfaceIndex ?? 0];
    if (!ifc) throw invalid(`packet refers to interface ${p.interfaceIndex}, but only ${ifaces.length} are declared`);
    size += 32 + pad4(capturedLength(p, ifc.snaplen));
  }
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  // Section Header Block, section length unknown (-1).
  dv.setUint32(0, 0x0a0d0d0a, le);
  dv.setUint32(4, 28, le);
  dv.setUint32(8, 0x1a2b3c4d, le);
  dv.setUint16(12, 1, le);
  dv.setUint16(14, 0, le);
  dv.setInt32(16, -1, le);
  dv.setInt32(20, -1, le);
  dv.setUint32(24, 28, le);
  let off = 28;
  for (const i of ifaces) {
    dv.setUint32(off, 1, le);
    dv.setUint32(off + 4, i.blockLen, le);
    dv.setUint16(off + 8, i.linkType, le);
    dv.setUint32(off + 12, i.snaplen, le);
    let p = off + 16;
    if (i.name) {
      dv.setUint16(p, 2, le);
      dv.setUint16(p + 2, i.name.length, le);
      out.set(i.name, p + 4);
      p += 4 + pad4(i.name.length);
    }
    if (i.res.byte !== 6) {
      dv.setUint16(p, 9, le);
      dv.setUint16(p + 2, 1, le);
      out[p + 4] = i.res.byte;
      p += 8;
    }
    if (p !== off + 16) p += 4; // opt_endofopt, already zero
    dv.setUint32(p, i.blockLen, le);
    off += i.blockLen;
  }
  for (const p of packets) {
    const ifc = ifaces[p.interfaceIndex ?? 0]!;
    const caplen = capturedLength(p, ifc.snaplen);
    const len = 32 + pad4(caplen);
    const [hi, lo] = joinTimestamp(p.tsSec ?? 0, p.tsNsec ?? 0, ifc.res.unitsPerSec);
    dv.setUint32(off, 6, le);
    dv.setUint32(off + 4, len, le);
    dv.setUint32(off + 8, p.interfaceIndex ?? 0, le);
    dv.setUint32(off + 12, hi, le);
    dv.setUint32(off + 16, lo, le);
    dv.setUint32(off + 20, caplen, le);
    dv.setUint32(off + 24, originalLength(p, caplen), le);
    out.set(caplen === p.data.length ? p.data : p.data.subarray(0, caplen), off + 28);
    dv.setUint32(off + len - 4, len, le);
    off += len;
  }
  return out;
}
