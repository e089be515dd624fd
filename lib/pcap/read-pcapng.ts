/**
 * pcapng: a sequence of blocks, each `type, total length, body, total length`. A Section Header
 * Block sets the byte order (and resets the interface numbering) for everything up to the next one;
 * Interface Description Blocks declare link types and timestamp units; packets come in Enhanced,
 * Simple or (obsolete) Packet Blocks. Everything else is skipped by its length.
 */
import type { ByteWindow, CaptureCursor } from "./cursor";
import { byteError } from "./cursor";
import { maxSnaplenForDlt, PCAPNG_MAX_BLOCK, pcapngMaxBlock } from "./limits";
import { linkTypeToDlt } from "./linktypes";
import { MICROSECONDS, splitTimestamp, tsOut, tsScaleFromResolution, type TsScale } from "./timestamp";
import type { PlaygroundError } from "../errors";
import type { CaptureInterface, CapturedPacket } from "./types";

export const PCAPNG_SHB = 0x0a0d0d0a;
const BT_IDB = 1;
const BT_PB = 2; // obsolete Packet Block
const BT_SPB = 3;
const BT_EPB = 6;

const OPT_ENDOFOPT = 0;
const IF_NAME = 2;
const IF_TSRESOL = 9;
const IF_TSOFFSET = 14;

const utf8 = new TextDecoder("utf-8", { fatal: false });

/** True when the buffer starts like a pcapng section header (the type is a byte palindrome). */
export function sniffPcapng(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x0a && bytes[1] === 0x0d && bytes[2] === 0x0d && bytes[3] === 0x0a;
}

/** The byte order the SHB at `off` declares (true = little), or undefined if its magic is garbled. */
export function sectionIsLittleEndian(bytes: Uint8Array, off: number): boolean | undefined {
  if (bytes.length - off < 12) return undefined;
  const b = off + 8;
  if (bytes[b] === 0x4d && bytes[b + 1] === 0x3c && bytes[b + 2] === 0x2b && bytes[b + 3] === 0x1a) return true;
  if (bytes[b] === 0x1a && bytes[b + 1] === 0x2b && bytes[b + 2] === 0x3c && bytes[b + 3] === 0x4d) return false;
  return undefined;
}

/** Per-interface facts the packet loop needs, in the section's own numbering. */
interface SectionInterface {
  globalIndex: number;
  linkType: number;
  dlt: number;
  snaplen: number;
  scale: TsScale;
}

class PcapngCursor implements CaptureCursor {
  readonly format = "pcapng" as const;
  readonly byteOrder: "little" | "big";
  readonly interfaces: CaptureInterface[] = [];
  nanosecond = false;
  error: PlaygroundError | undefined;
  waiting = false;

  private le = true;
  private section: SectionInterface[] = [];
  /** The longest block this section may hold (grows with interfaces whose records may be larger). */
  private maxBlock = PCAPNG_MAX_BLOCK;

  constructor(private readonly w: ByteWindow) {
    const le = w.ensure(12) ? sectionIsLittleEndian(w.buf, w.pos) : undefined;
    this.le = le !== false;
    this.byteOrder = le === false ? "big" : "little";
  }

  get offset(): number {
    return this.w.offset;
  }

  next(): CapturedPacket | undefined {
    this.waiting = false;
    const w = this.w;
    while (!this.error) {
      if (!w.ensure(12)) {
        const remain = w.available;
        if (!w.ended) return this.wait();
        if (remain === 0) return undefined;
        return this.fail("pcapng/truncated", `truncated block header at byte ${w.offset}: 12 bytes needed, ${remain} remain`);
      }
      const at = w.offset;
      const type = w.dv.getUint32(w.pos, this.le);
      if (type === PCAPNG_SHB) {
        const le = sectionIsLittleEndian(w.buf, w.pos);
        if (le === undefined) return this.fail("pcapng/corrupt", `section header at byte ${at} has no valid byte-order magic`);
        this.le = le;
        this.maxBlock = PCAPNG_MAX_BLOCK;
      }
      const le = this.le;
      const len = w.dv.getUint32(w.pos + 4, le);
      if (len < 12 || len % 4 !== 0) {
        return this.fail("pcapng/corrupt", `block at byte ${at} has invalid length ${len} (must be a multiple of 4, at least 12)`);
      }
      if (len > this.maxBlock) {
        return this.fail("pcapng/corrupt", `block at byte ${at} is ${len} bytes, larger than the maximum of ${this.maxBlock}`);
      }
      if (!w.ensure(len)) {
        if (!w.ended) return this.wait();
        return this.fail("pcapng/truncated", `truncated block at byte ${at}: header says ${len} bytes, ${w.available} remain`);
      }
      const dv = w.dv;
      const bytes = w.buf;
      const off = w.pos;
      const trailer = dv.getUint32(off + len - 4, le);
      if (trailer !== len) {
        return this.fail("pcapng/corrupt", `block at byte ${at}: length ${len} in header but ${trailer} in trailer`);
      }
      w.skip(len);
      switch (type) {
        case BT_EPB: {
          if (len < 32) return this.tooShort(at, "enhanced packet", len, 32);
          const ifc = this.iface(dv.getUint32(off + 8, le), at);
          if (!ifc) return undefined;
          const caplen = dv.getUint32(off + 20, le);
          if (caplen > len - 32) {
            return this.fail("pcapng/corrupt", `enhanced packet block at byte ${at}: captured length ${caplen} exceeds the block (${len - 32} bytes of data)`, at);
          }
          const tsSec = splitTimestamp(dv.getUint32(off + 12, le), dv.getUint32(off + 16, le), ifc.scale);
          const start = off + 28;
          return {
            data: bytes.subarray(start, start + caplen),
            origLen: dv.getUint32(off + 24, le),
            tsSec,
            tsNsec: tsOut.nsec,
            interfaceIndex: ifc.globalIndex,
            linkType: ifc.linkType,
            dlt: ifc.dlt,
          };
        }
        case BT_SPB: {
          if (len < 16) return this.tooShort(at, "simple packet", len, 16);
          const ifc = this.iface(0, at);
          if (!ifc) return undefined;
          const origLen = dv.getUint32(off + 8, le);
          let caplen = Math.min(origLen, len - 16);
          if (ifc.snaplen > 0 && caplen > ifc.snaplen) caplen = ifc.snaplen;
          const start = off + 12;
          return {
            data: bytes.subarray(start, start + caplen),
            origLen,
            tsSec: 0,
            tsNsec: 0,
            interfaceIndex: ifc.globalIndex,
            linkType: ifc.linkType,
            dlt: ifc.dlt,
          };
        }
        case BT_PB: {
          if (len < 32) return this.tooShort(at, "packet", len, 32);
          const ifc = this.iface(dv.getUint16(off + 8, le), at);
          if (!ifc) return undefined;
          const caplen = dv.getUint32(off + 20, le);
          if (caplen > len - 32) {
            return this.fail("pcapng/corrupt", `packet block at byte ${at}: captured length ${caplen} exceeds the block (${len - 32} bytes of data)`, at);
          }
          const tsSec = splitTimestamp(dv.getUint32(off + 12, le), dv.getUint32(off + 16, le), ifc.scale);
          const start = off + 28;
          return {
            data: bytes.subarray(start, start + caplen),
            origLen: dv.getUint32(off + 24, le),
            tsSec,
            tsNsec: tsOut.nsec,
            interfaceIndex: ifc.globalIndex,
            linkType: ifc.linkType,
            dlt: ifc.dlt,
          };
        }
        case PCAPNG_SHB:
          if (len < 28) return this.tooShort(at, "section header", len, 28);
          if (dv.getUint16(off + 12, le) !== 1) {
            return this.fail("pcapng/version", `section header at byte ${at}: unsupported pcapng major version ${dv.getUint16(off + 12, le)}`, at);
          }
          this.section = [];
          break;
        case BT_IDB:
          if (len < 20) return this.tooShort(at, "interface description", len, 20);
          if (!this.readInterface(bytes, off, len, at)) return undefined;
          break;
        default:
          // Name resolution, statistics, decryption secrets, custom blocks: not needed for filtering.
          break;
      }
    }
    return undefined;
  }

  private wait(): undefined {
    if (!this.error) this.waiting = true;
    return undefined;
  }

  /** The IDB at index `off` of `bytes` (file offset `at`). */
  private readInterface(bytes: Uint8Array, off: number, len: number, at: number): boolean {
    const dv = this.w.dv;
    const le = this.le;
    const linkType = dv.getUint16(off + 8, le);
    const snaplen = dv.getUint32(off + 12, le);
    let name: string | undefined;
    let tsresol = 6;
    let offsetSec = 0;
    // Options: code(2) length(2) value padded to 4, up to opt_endofopt or the trailer.
    let p = off + 16;
    const end = off + len - 4;
    while (p + 4 <= end) {
      const code = dv.getUint16(p, le);
      const olen = dv.getUint16(p + 2, le);
      if (code === OPT_ENDOFOPT) break;
      const v = p + 4;
      if (v + olen > end) {
        this.fail("pcapng/corrupt", `interface description block at byte ${at}: option ${code} at byte ${at + p - off} runs past the block`, at);
        return false;
      }
      if (code === IF_NAME) name = utf8.decode(bytes.subarray(v, v + olen)).replace(/\0+$/, "");
      else if (code === IF_TSRESOL && olen >= 1) tsresol = bytes[v]!;
      else if (code === IF_TSOFFSET && olen >= 8) offsetSec = Number(dv.getBigInt64(v, le));
      p = v + ((olen + 3) & ~3);
    }
    const scale = tsresol === 6 && offsetSec === 0 ? MICROSECONDS : tsScaleFromResolution(tsresol, offsetSec);
    const dlt = linkTypeToDlt(linkType);
    const itf: CaptureInterface = { linkType, dlt, snaplen, tsResolutionNs: scale.nsPerUnit };
    if (name !== undefined) itf.name = name;
    if (scale.nsPerUnit < 1000) this.nanosecond = true;
    this.maxBlock = Math.max(this.maxBlock, pcapngMaxBlock(maxSnaplenForDlt(dlt)));
    this.section.push({ globalIndex: this.interfaces.length, linkType, dlt, snaplen, scale });
    this.interfaces.push(itf);
    return true;
  }

  private iface(id: number, off: number): SectionInterface | undefined {
    const ifc = this.section[id];
    if (!ifc) {
      this.fail("pcapng/corrupt", `packet block at byte ${off} refers to interface ${id}, but the section declares ${this.section.length}`, off);
    }
    return ifc;
  }

  private tooShort(off: number, what: string, len: number, min: number): undefined {
    return this.fail("pcapng/corrupt", `${what} block at byte ${off} is ${len} bytes, at least ${min} needed`, off);
  }

  private fail(code: string, message: string, offset: number = this.w.offset): undefined {
    this.error = byteError(code, message, offset);
    return undefined;
  }
}

export function openPcapng(w: ByteWindow): CaptureCursor {
  return new PcapngCursor(w);
}
