/**
 * A bounded little-endian reader over a window of a byte array. Every read is checked against the
 * window, and a read outside it is a PlaygroundError whose position is the absolute byte offset in
 * the whole input (not in the window), so a message about a section deep inside a file still
 * points at the right byte.
 */
import { PlaygroundError } from "../errors";

export class ByteReader {
  readonly #view: DataView;
  readonly #bytes: Uint8Array;

  /**
   * @param bytes the whole input (positions in errors are offsets into it)
   * @param start first byte of the window
   * @param end one past the last byte of the window
   * @param code the error code reads outside the window get, e.g. "elf/truncated"
   * @param what what the window holds, for messages ("section header table")
   */
  constructor(
    bytes: Uint8Array,
    readonly start: number,
    readonly end: number,
    readonly code: string,
    readonly what: string,
  ) {
    if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && 0 <= start && start <= end && end <= bytes.length)) {
      throw new PlaygroundError(code, `${what}: bytes ${start}..${end} lie outside the ${bytes.length}-byte input`, {
        kind: "byte",
        offset: Math.min(Math.max(0, Number.isFinite(start) ? start : 0), bytes.length),
      });
    }
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.end - this.start;
  }

  /** A PlaygroundError at an absolute offset, with this reader's code unless another is given. */
  error(message: string, at: number, code = this.code): PlaygroundError {
    return new PlaygroundError(code, `${this.what}: ${message}`, { kind: "byte", offset: at });
  }

  /** Throws unless [at, at + n) lies inside the window; `at` is absolute. */
  need(at: number, n: number, what: string): void {
    if (!(Number.isSafeInteger(at) && Number.isSafeInteger(n) && n >= 0 && at >= this.start && at + n <= this.end)) {
      const shown = Number.isSafeInteger(at) ? Math.min(Math.max(at, this.start), this.end) : this.start;
      throw this.error(`${what} (${n} bytes at ${at}) runs past the end at ${this.end}`, shown);
    }
  }

  u8(at: number, what = "byte"): number {
    this.need(at, 1, what);
    return this.#bytes[at]!;
  }
  u16(at: number, what = "u16"): number {
    this.need(at, 2, what);
    return this.#view.getUint16(at, true);
  }
  u32(at: number, what = "u32"): number {
    this.need(at, 4, what);
    return this.#view.getUint32(at, true);
  }
  i32(at: number, what = "s32"): number {
    this.need(at, 4, what);
    return this.#view.getInt32(at, true);
  }
  /** A u64 as a bigint. */
  u64(at: number, what = "u64"): bigint {
    this.need(at, 8, what);
    return this.#view.getBigUint64(at, true);
  }
  /** A u64 that must be a safe integer (file offsets and sizes); larger values are an error. */
  u64n(at: number, what = "u64"): number {
    const v = this.u64(at, what);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw this.error(`${what} ${v} is too large`, at);
    return Number(v);
  }
  /** A view of [at, at + n) (no copy). */
  slice(at: number, n: number, what = "bytes"): Uint8Array {
    this.need(at, n, what);
    return this.#bytes.subarray(at, at + n);
  }
  /** A reader over a sub-window; its errors keep absolute positions. */
  sub(at: number, n: number, what: string, code = this.code): ByteReader {
    this.need(at, n, what);
    return new ByteReader(this.#bytes, at, at + n, code, what);
  }
  /** A NUL-terminated string starting at `at`, which must end inside the window. */
  cstring(at: number, what = "string"): string {
    this.need(at, 0, what);
    const stop = this.#bytes.indexOf(0, at);
    if (stop < 0 || stop >= this.end) throw this.error(`${what} at ${at} has no terminating NUL before ${this.end}`, at);
    return utf8.decode(this.#bytes.subarray(at, stop));
  }
}

const utf8 = new TextDecoder("utf-8");
