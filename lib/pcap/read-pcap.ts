/**
 * Classic libpcap savefiles: a 24-byte file header, then records of a 16-byte header and the captured
 * bytes. The magic number tells the byte order and whether the second timestamp word counts
 * microseconds or nanoseconds.
 */
import type { CaptureCursor } from "./cursor";
import { byteError } from "./cursor";
import { linkTypeToDlt } from "./linktypes";
import type { PlaygroundError } from "../errors";
import type { CaptureInterface, CapturedPacket } from "./types";

/** libpcap's MAXIMUM_SNAPLEN: the snapshot it assumes when a file's snaplen is 0 or absurd. */
const MAX_SNAPLEN = 262144;

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
  offset = FILE_HEADER_LEN;

  private readonly dv: DataView;
  private readonly le: boolean;
  private readonly recordHeaderLen: number;
  private readonly fracToNs: number;
  private readonly linkType: number;
  private readonly dlt: number;

  constructor(private readonly bytes: Uint8Array, littleEndian: boolean, magic: number) {
    this.le = littleEndian;
    this.byteOrder = littleEndian ? "little" : "big";
    this.nanosecond = magic === PCAP_MAGIC_NSEC;
    this.fracToNs = this.nanosecond ? 1 : 1000;
    this.recordHeaderLen = magic === PCAP_MAGIC_KUZNETZOV ? 24 : 16;
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length < FILE_HEADER_LEN) {
      this.error = byteError(
        "pcap/truncated",
        `truncated pcap file header at byte 0: ${FILE_HEADER_LEN} bytes needed, ${bytes.length} present`,
        0,
      );
      this.offset = bytes.length;
      this.linkType = this.dlt = -1;
      return;
    }
    const snaplen = this.dv.getUint32(16, littleEndian);
    this.linkType = this.dv.getUint32(20, littleEndian) & LINKTYPE_MASK;
    this.dlt = linkTypeToDlt(this.linkType);
    this.interfaces.push({ linkType: this.linkType, dlt: this.dlt, snaplen, tsResolutionNs: this.fracToNs });
    this.keep = snaplen === 0 || snaplen > MAX_SNAPLEN ? MAX_SNAPLEN : snaplen;
  }

  /**
   * How many bytes of a record libpcap hands to the filter: a record longer than the file's
   * snaplen (old capture bugs, fuzzed files) is cut to it, so a filter sees what `tcpdump -r` sees.
   */
  private keep = MAX_SNAPLEN;

  next(): CapturedPacket | undefined {
    const off = this.offset;
    const total = this.bytes.length;
    if (off >= total || this.error) return undefined;
    const remain = total - off;
    const hl = this.recordHeaderLen;
    if (remain < hl) {
      return this.fail(`truncated packet header at byte ${off}: ${hl} bytes needed, ${remain} remain`, off);
    }
    const dv = this.dv;
    const le = this.le;
    const caplen = dv.getUint32(off + 8, le);
    if (caplen > remain - hl) {
      return this.fail(
        `truncated packet record at byte ${off}: header says ${caplen} bytes, ${remain - hl} remain`,
        off,
      );
    }
    const start = off + hl;
    this.offset = start + caplen;
    return {
      data: this.bytes.subarray(start, start + Math.min(caplen, this.keep)),
      origLen: dv.getUint32(off + 12, le),
      tsSec: dv.getUint32(off, le),
      tsNsec: dv.getUint32(off + 4, le) * this.fracToNs,
      interfaceIndex: 0,
      linkType: this.linkType,
      dlt: this.dlt,
    };
  }

  private fail(message: string, offset: number): undefined {
    this.error = byteError("pcap/truncated", message, offset);
    return undefined;
  }
}

export function openPcap(bytes: Uint8Array, littleEndian: boolean, magic: number): CaptureCursor {
  return new PcapCursor(bytes, littleEndian, magic);
}
