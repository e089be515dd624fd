import { PlaygroundError } from "../errors";
import type { CaptureInterface, CapturedPacket } from "./types";

/**
 * A pull reader over one capture buffer. Both formats implement it, so readCapture, the generator and
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
  /** The next packet, or undefined at the end of the input or on the first error. */
  next(): CapturedPacket | undefined;
  /** Why reading stopped early, if it did. */
  readonly error: PlaygroundError | undefined;
  /** Byte offset of the next unread record. */
  readonly offset: number;
}

export function byteError(code: string, message: string, offset: number): PlaygroundError {
  return new PlaygroundError(code, message, { kind: "byte", offset });
}
