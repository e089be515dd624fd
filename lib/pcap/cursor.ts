import { PlaygroundError } from "../errors";
import type { CaptureInterface, CapturedPacket } from "./types";

/**
 * A pull reader over a capture. Both formats implement it, so readCapture, the generator and
 * streaming consumers share one parser per format and nobody pays for a callback or a generator frame
 * unless they ask for it.
 */
export interface CaptureCursor {
  readonly format: "pcap" | "pcapng";
  readonly byteOrder: "little" | "big";
  /** Grows as pcapng interface blocks are met; complete once next() has returned undefined. */
  readonly interfaces: CaptureInterface[];
  /** True when any interface so far has sub-microsecond timestamps. */
  readonly nanosecond: boolean;
  /**
   * The next packet, or undefined at the end of the input, on the first error, or (streaming only)
   * when the next record is not complete yet: then `waiting` is true and more input is needed.
   */
  next(): CapturedPacket | undefined;
  /** Why reading stopped early, if it did. */
  readonly error: PlaygroundError | undefined;
  /** Byte offset of the next unread record. */
  readonly offset: number;
  /** True when next() returned undefined only because the input has not arrived yet. */
  readonly waiting: boolean;
}

export function byteError(code: string, message: string, offset: number): PlaygroundError {
  return new PlaygroundError(code, message, { kind: "byte", offset });
}

const EMPTY = new Uint8Array(0);

/**
 * The unread part of a capture that arrives in chunks. The format cursors read records at `pos`
 * in `buf` and move `pos` past them; `ensure(n)` makes the next n bytes contiguous, joining queued
 * chunks only when a record straddles them. Chunks are never written to after they are pushed, so
 * packet data can stay a view into them: a reader handed the whole file in one chunk copies
 * nothing, and a streaming reader keeps alive only the chunks whose packets someone still holds.
 */
export class ByteWindow {
  buf: Uint8Array = EMPTY;
  dv: DataView = new DataView(EMPTY.buffer);
  /** Index in buf of the next unread byte. */
  pos = 0;
  /** File offset of buf[0]. */
  private base = 0;
  private queued: Uint8Array[] = [];
  private queuedBytes = 0;
  ended = false;

  /** File offset of buf[pos]. */
  get offset(): number {
    return this.base + this.pos;
  }

  /** Bytes readable now, without joining, and in all. */
  get available(): number {
    return this.buf.length - this.pos + this.queuedBytes;
  }

  push(chunk: Uint8Array): void {
    if (this.ended) throw new PlaygroundError("pcap/stream", "capture input pushed after its end", { kind: "byte", offset: this.offset + this.available });
    if (chunk.length === 0) return;
    if (this.pos >= this.buf.length && this.queued.length === 0) this.setBuf(chunk);
    else {
      this.queued.push(chunk);
      this.queuedBytes += chunk.length;
    }
  }

  end(): void {
    this.ended = true;
  }

  /** True when the next n bytes are in buf from pos on (joining queued chunks if that makes it so). */
  ensure(n: number): boolean {
    const have = this.buf.length - this.pos;
    if (have >= n) return true;
    if (have + this.queuedBytes < n) return false;
    const joined = new Uint8Array(have + this.queuedBytes);
    joined.set(this.buf.subarray(this.pos), 0);
    let at = have;
    for (const c of this.queued) {
      joined.set(c, at);
      at += c.length;
    }
    this.queued = [];
    this.queuedBytes = 0;
    this.setBuf(joined);
    return true;
  }

  /** Moves past n bytes (which ensure() has made readable). */
  skip(n: number): void {
    this.pos += n;
  }

  private setBuf(b: Uint8Array): void {
    this.base += this.pos;
    this.buf = b;
    this.pos = 0;
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
}
