/**
 * Entry points for reading captures. Format detection happens once here; each format's cursor does
 * the work. Only input that is not a capture at all throws; a damaged capture returns what was read
 * before the damage together with an error naming the byte offset.
 */
import { PlaygroundError, isPlaygroundError } from "../errors";
import type { CaptureCursor } from "./cursor";
import { ByteWindow, byteError } from "./cursor";
import { openPcap, sniffPcap } from "./read-pcap";
import { openPcapng, sectionIsLittleEndian, sniffPcapng } from "./read-pcapng";
import type { CaptureInterface, CaptureReadResult, CapturedPacket } from "./types";

export type { CaptureCursor } from "./cursor";

function hex(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join(" ");
}

/**
 * An incremental reader: `push` chunks as they arrive, `next` packets as they complete, `end` when
 * the input is over. The browser pushes the whole file once; Node pushes what each read returns.
 * Input that is not a capture is refused (PlaygroundError "pcap/format", offset 0) as soon as its
 * first bytes are in, and no record is waited for beyond the bounds libpcap sets (lib/pcap/limits).
 */
export class CaptureStream implements CaptureCursor {
  private readonly w = new ByteWindow();
  private inner: CaptureCursor | undefined;
  private idle = false;

  push(chunk: Uint8Array): this {
    if (!(chunk instanceof Uint8Array)) {
      throw new PlaygroundError("pcap/format", "capture input must be a Uint8Array", { kind: "byte", offset: this.w.offset + this.w.available });
    }
    this.w.push(chunk);
    return this;
  }

  end(): this {
    this.w.end();
    return this;
  }

  get format(): "pcap" | "pcapng" {
    return this.inner?.format ?? "pcap";
  }
  get byteOrder(): "little" | "big" {
    return this.inner?.byteOrder ?? "little";
  }
  get interfaces(): CaptureInterface[] {
    return this.inner?.interfaces ?? NO_INTERFACES;
  }
  get nanosecond(): boolean {
    return this.inner?.nanosecond ?? false;
  }
  get error(): PlaygroundError | undefined {
    return this.inner?.error;
  }
  get offset(): number {
    return this.inner?.offset ?? this.w.offset;
  }
  get waiting(): boolean {
    return this.inner ? this.inner.waiting : this.idle;
  }

  /** True once the format is known; throws if the first bytes are not a capture's. */
  detect(): boolean {
    if (this.inner) return true;
    const w = this.w;
    const head = w.ensure(Math.min(12, w.available)) ? w.buf.subarray(w.pos, w.pos + 12) : EMPTY;
    if (head.length < 4 && !w.ended) return false;
    const pcap = sniffPcap(head);
    if (pcap) {
      this.inner = openPcap(w, pcap.littleEndian, pcap.magic);
      return true;
    }
    if (sniffPcapng(head)) {
      if (head.length < 12 && !w.ended) return false;
      if (head.length >= 12 && sectionIsLittleEndian(head, 0) === undefined) {
        throw byteError("pcap/format", "not a capture: pcapng section header without a valid byte-order magic", 0);
      }
      this.inner = openPcapng(w);
      return true;
    }
    const what = head.length === 0 ? "the input is empty" : `it starts with ${hex(head)}`;
    throw byteError("pcap/format", `not a pcap or pcapng capture: ${what}`, 0);
  }

  next(): CapturedPacket | undefined {
    this.idle = false;
    if (!this.detect()) {
      this.idle = true;
      return undefined;
    }
    return this.inner!.next();
  }
}

const EMPTY = new Uint8Array(0);
const NO_INTERFACES: CaptureInterface[] = [];

/** Opens a pull reader over a whole capture; throws PlaygroundError ("pcap/format", offset 0) if this is not a capture. */
export function openCapture(bytes: Uint8Array): CaptureCursor {
  if (!(bytes instanceof Uint8Array)) {
    throw new PlaygroundError("pcap/format", "capture input must be a Uint8Array", { kind: "byte", offset: 0 });
  }
  const stream = new CaptureStream().push(bytes).end();
  stream.detect();
  return stream;
}

/** Reads the whole capture into memory (packet data stays a view into `bytes`). */
export function readCapture(bytes: Uint8Array): CaptureReadResult {
  const cursor = openCapture(bytes);
  const packets: CapturedPacket[] = [];
  try {
    for (let p = cursor.next(); p !== undefined; p = cursor.next()) packets.push(p);
  } catch (e) {
    // The cursors check every bound; this is a last line so that bad input never escapes as a
    // plain error. A bug caught here still reports where reading stopped.
    if (isPlaygroundError(e)) throw e;
    return finish(cursor, packets, byteError("pcap/internal", `capture reader failed at byte ${cursor.offset}: ${String(e)}`, cursor.offset));
  }
  return finish(cursor, packets, cursor.error);
}

function finish(cursor: CaptureCursor, packets: CapturedPacket[], error: PlaygroundError | undefined): CaptureReadResult {
  const result: CaptureReadResult = {
    format: cursor.format,
    byteOrder: cursor.byteOrder,
    nanosecond: cursor.nanosecond,
    interfaces: cursor.interfaces,
    packets,
  };
  if (error) result.error = error;
  return result;
}

/**
 * Streams packets one by one. The generator's return value (see `IteratorResult.value` when done)
 * is the cursor, so a consumer can look at `interfaces` and `error` at the end.
 */
export function* iterateCapture(bytes: Uint8Array): Generator<CapturedPacket, CaptureCursor, void> {
  const cursor = openCapture(bytes);
  for (let p = cursor.next(); p !== undefined; p = cursor.next()) yield p;
  return cursor;
}

/** Calls `onPacket` for each packet; cheaper than the generator for large files. */
export function forEachPacket(
  bytes: Uint8Array,
  onPacket: (packet: CapturedPacket, index: number) => void,
): Omit<CaptureReadResult, "packets"> & { count: number } {
  const cursor = openCapture(bytes);
  let count = 0;
  for (let p = cursor.next(); p !== undefined; p = cursor.next()) onPacket(p, count++);
  const result: Omit<CaptureReadResult, "packets"> & { count: number } = {
    format: cursor.format,
    byteOrder: cursor.byteOrder,
    nanosecond: cursor.nanosecond,
    interfaces: cursor.interfaces,
    count,
  };
  if (cursor.error) result.error = cursor.error;
  return result;
}
