/**
 * Classic libpcap savefiles: a 24-byte file header, then records of a 16-byte header and the captured
 * bytes. The magic number tells the byte order and whether the second timestamp word counts
 * microseconds or nanoseconds.
 */
import type { ByteWindow, CaptureCursor } from "./cursor";
import { byteError } from "./cursor";
import { MAX_SNAPLEN, maxSnaplenForDlt } from "./limits";
import { linkTypeToDlt } from "./linktypes";
import type { PlaygroundError } from "../errors";
import type { CaptureInterface, CapturedPacket } from "./types";

export const PCAP_MAGIC_USEC = 0xa1b2c3d4;
export const PCAP_MAGIC_NSEC = 0xa1b23c4d;
/** Alexey Kuznetzov's patched format: each record header carries 8 more bytes (ifindex, protocol, type). */
export const PCAP_MAGIC_KUZNETZOV = 0xa1b2cd34;

const FILE_HEADER_LEN = 24;
// The upper bits of the link type word carry FCS information in newer files.
const LINKTYPE_MASK = 0x03ffffff;

export function isPcapMagic(m: number): boolean {
  return m === PCAP_MAGIC_USEC || m === PCAP_MAGIC_NSEC || m === PCAP_MAGIC_KUZNETZOV;
}

/** Byte order and magic if the first four bytes are a classic pcap magic in either order. */
export function sniffPcap(bytes: Uint8Array): { littleEndian: boolean; magic: number } | undefined {
  if (bytes.length < 4) return undefined;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, 4);
  const le = dv.getUint32(0, true);
  if (isPcapMagic(le)) return { littleEndian: true, magic: le };
  const be = dv.getUint32(0, false);
  if (isPcapMagic(be)) return { littleEndian: false, magic: be };
  return undefined;
}

class PcapCursor implements CaptureCursor {
  readonly format = "pcap" as const;
  readonly byteOrder: "little" | "big";
  readonly interfaces: CaptureInterface[] = [];
  readonly nanosecond: boolean;
  error: PlaygroundError | undefined;
  waiting = false;

  private readonly le: boolean;
  private readonly recordHeaderLen: number;
  private readonly fracToNs: number;
  private linkType = -1;
  private dlt = -1;
  private started = false;
  /** The largest captured length a record may declare (libpcap's max_snaplen_for_dlt). */
  private maxCaplen = MAX_SNAPLEN;
  /**
   * How many bytes of a record libpcap hands to the filter: a record longer than the file's
   * snaplen (old capture bugs, fuzzed files) is cut to it, so a filter sees what `tcpdump -r` sees.
   */
  private keep = MAX_SNAPLEN;

  constructor(private readonly w: ByteWindow, littleEndian: boolean, magic: number) {
    this.le = littleEndian;
    this.byteOrder = littleEndian ? "little" : "big";
    this.nanosecond = magic === PCAP_MAGIC_NSEC;
    this.fracToNs = this.nanosecond ? 1 : 1000;
    this.recordHeaderLen = magic === PCAP_MAGIC_KUZNETZOV ? 24 : 16;
    this.start();
  }

  get offset(): number {
    return this.w.offset;
  }

  /** Reads the file header once it is all there; false while it is not (or when it never will be). */
  private start(): boolean {
    if (this.started) return true;
    const w = this.w;
    if (!w.ensure(FILE_HEADER_LEN)) {
      if (!w.ended) return false;
      this.error = byteError(
        "pcap/truncated",
        `truncated pcap file header at byte 0: ${FILE_HEADER_LEN} bytes needed, ${w.available} present`,
        0,
      );
      w.ensure(w.available);
      w.skip(w.available);
      return false;
    }
    const snaplen = w.dv.getUint32(w.pos + 16, this.le);
    this.linkType = w.dv.getUint32(w.pos + 20, this.le) & LINKTYPE_MASK;
    this.dlt = linkTypeToDlt(this.linkType);
    this.interfaces.push({ linkType: this.linkType, dlt: this.dlt, snaplen, tsResolutionNs: this.fracToNs });
    this.keep = snaplen === 0 || snaplen > MAX_SNAPLEN ? MAX_SNAPLEN : snaplen;
    this.maxCaplen = maxSnaplenForDlt(this.dlt);
    w.skip(FILE_HEADER_LEN);
    this.started = true;
    return true;
  }

  next(): CapturedPacket | undefined {
    this.waiting = false;
    if (this.error) return undefined;
    if (!this.start()) return this.wait();
    const w = this.w;
    const hl = this.recordHeaderLen;
    if (!w.ensure(hl)) {
      const remain = w.available;
      if (!w.ended) return this.wait();
      if (remain === 0) return undefined;
      return this.fail("pcap/truncated", `truncated packet header at byte ${w.offset}: ${hl} bytes needed, ${remain} remain`);
    }
    const le = this.le;
    const caplen = w.dv.getUint32(w.pos + 8, le);
    if (caplen > this.maxCaplen) {
      return this.fail(
        "pcap/corrupt",
        `invalid packet record at byte ${w.offset}: captured length ${caplen} is larger than the maximum of ${this.maxCaplen}`,
      );
    }
    if (!w.ensure(hl + caplen)) {
      if (!w.ended) return this.wait();
      return this.fail(
        "pcap/truncated",
        `truncated packet record at byte ${w.offset}: header says ${caplen} bytes, ${w.available - hl} remain`,
      );
    }
    const dv = w.dv;
    const off = w.pos;
    const start = off + hl;
    w.skip(hl + caplen);
    return {
      data: w.buf.subarray(start, start + Math.min(caplen, this.keep)),
      origLen: dv.getUint32(off + 12, le),
      tsSec: dv.getUint32(off, le),
      tsNsec: dv.getUint32(off + 4, le) * this.fracToNs,
      interfaceIndex: 0,
      linkType: this.linkType,
      dlt: this.dlt,
    };
  }

  private wait(): undefined {
    if (!this.error) this.waiting = true;
    return undefined;
  }

  private fail(code: string, message: string): undefined {
    this.error = byteError(code, message, this.w.offset);
    return undefined;
  }
}

export function openPcap(w: ByteWindow, littleEndian: boolean, magic: number): CaptureCursor {
  return new PcapCursor(w, littleEndian, magic);
}
