/**
 * Entry points for reading captures. Format detection happens once here; each format's cursor does
 * the work. Only input that is not a capture at all throws; a damaged capture returns what was read
 * before the damage together with an error naming the byte offset.
 */
import { PlaygroundError, isPlaygroundError } from "../errors";
import type { CaptureCursor } from "./cursor";
import { byteError } from "./cursor";
import { openPcap, sniffPcap } from "./read-pcap";
import { openPcapng, sectionIsLittleEndian, sniffPcapng } from "./read-pcapng";
import type { CaptureReadResult, CapturedPacket } from "./types";

export type { CaptureCursor } from "./cursor";

function hex(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join(" ");
}

/** Opens a pull reader; throws PlaygroundError ("pcap/format", offset 0) if this is not a capture. */
export function openCapture(bytes: Uint8Array): CaptureCursor {
  if (!(bytes instanceof Uint8Array)) {
    throw new PlaygroundError("pcap/format", "capture input must be a Uint8Array", { kind: "byte", offset: 0 });
  }
  const pcap = sniffPcap(bytes);
  if (pcap) return openPcap(bytes, pcap.littleEndian, pcap.magic);
  if (sniffPcapng(bytes)) {
    if (bytes.length >= 12 && sectionIsLittleEndian(bytes, 0) === undefined) {
      throw byteError("pcap/format", "not a capture: pcapng section header without a valid byte-order magic", 0);
    }
    return openPcapng(bytes);
  }
  const what = bytes.length === 0 ? "the input is empty" : `it starts with ${hex(bytes)}`;
  throw byteError("pcap/format", `not a pcap or pcapng capture: ${what}`, 0);
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
