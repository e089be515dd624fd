/**
 * Backpressure for one connection: every message the agent sends goes through its Outbox, and
 * every request it receives is admitted through it.
 *
 * What is buffered for a client is ws's `bufferedAmount` (the socket's unflushed writes plus
 * ws's own queue); the outbox keeps no copy of its own. Three bounds apply:
 *
 * - `outboxResumeBytes`: a request is executed only while at most this much is buffered. Above
 *   it the socket is paused (nothing more is read, so TCP pushes back on the client) and the
 *   requests already received wait, in order, until the client has read enough.
 * - `outboxBytes`: a message that would take the buffered amount past it is not sent; the
 *   connection is closed with 1008 "outbox over N bytes: the client is not reading" instead
 *   (the close frame goes out behind what is still buffered; a client that never reads never
 *   sees it, so the socket is destroyed `outboxCloseGraceMs` later). A single message larger
 *   than the bound on its own is not a client's fault: it is replaced by an error reply,
 *   `agent/reply-too-large`, naming the request.
 * - `outboxStallMs`: requests waiting for a client that reads nothing at all for this long close
 *   the connection the same way (1008 "client not reading: …"). Progress is a whole message
 *   written out (ws reports no less), so a client must read a message within this time.
 *
 * A waiting request costs its text only; `queuedRequestBytes` bounds them (a paused socket reads
 * nothing more, so only what ws had already received can arrive) and closes past it. When the
 * socket closes the outbox drops every waiting request and timer, so nothing it made outlives
 * the connection.
 */
import { encodeError, peekMessageHead } from "../../lib/protocol";
import type { AgentLimits } from "./limits";
import type { Transport } from "./connection";

/** The part of a `ws` WebSocket the outbox uses. */
export interface OutboxSocket {
  send(data: string, cb?: (err?: Error) => void): void;
  readonly bufferedAmount: number;
  readonly readyState: number;
  pause(): void;
  resume(): void;
  close(code: number, reason: string): void;
  terminate(): void;
}

export type OutboxLimits = Pick<AgentLimits, "outboxBytes" | "outboxResumeBytes" | "outboxStallMs" | "outboxCloseGraceMs" | "queuedRequestBytes">;

/** Close code for a client that does not read what it asked for (RFC 6455: policy violation). */
export const CLOSE_NOT_READING = 1008;

const OPEN = 1;

interface Waiting {
  bytes: number;
  run: () => Promise<void> | void;
}

export class Outbox implements Transport {
  #waiting: Waiting[] = [];
  #waitingBytes = 0;
  #draining = false;
  #paused = false;
  #closedBy: string | null = null;
  #stall: ReturnType<typeof setTimeout> | null = null;
  #grace: ReturnType<typeof setTimeout> | null = null;
  #disposed = false;
  /** Largest buffered amount seen (for tests and logs). */
  peakBuffered = 0;

  constructor(
    private readonly ws: OutboxSocket,
    private readonly limits: OutboxLimits,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  get isOpen(): boolean {
    return !this.#disposed && this.#closedBy === null && this.ws.readyState === OPEN;
  }

  /** Why the outbox closed the connection, if it did. */
  get closedBecause(): string | null {
    return this.#closedBy;
  }

  /** Requests received and not yet executed. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Sends one message, or closes the connection when it would take the outbox past its bound. */
  send(text: string): void {
    if (!this.isOpen) return;
    const size = Buffer.byteLength(text, "utf8");
    const buffered = this.ws.bufferedAmount;
    if (size > this.limits.outboxBytes) {
      // Too big for any client: say so to the request it answers (the id is at the front).
      const head = peekMessageHead(text.slice(0, 256));
      this.log(`reply of ${size} bytes to request ${head.id ?? "?"} exceeds the outbox bound of ${this.limits.outboxBytes}`);
      text = encodeError({
        id: head.id,
        ...(head.op !== undefined ? { op: head.op } : {}),
        code: "agent/reply-too-large",
        message: `the reply (${size} bytes) is larger than the agent's outbox bound of ${this.limits.outboxBytes} bytes`,
      });
      return this.send(text);
    }
    if (buffered + size > this.limits.outboxBytes) {
      this.#close(`outbox over ${this.limits.outboxBytes} bytes: the client is not reading`);
      return;
    }
    this.ws.send(text, () => this.#flushed());
    const now = this.ws.bufferedAmount;
    if (now > this.peakBuffered) this.peakBuffered = now;
    if (now > this.limits.outboxResumeBytes) this.#pause();
  }

  /**
   * Queues `run` (the handling of one received message of `bytes` bytes) and starts it at once
   * if the outbox is below its resume bound and nothing else waits. Messages ws delivers in the
   * same turn (it parses a whole chunk at once) wait for the next turn, when the reply of the one
   * before has been sent and counted; above the bound, reading stops and they wait for the client.
   */
  admit(bytes: number, run: () => Promise<void> | void): void {
    if (!this.isOpen) return;
    this.#waiting.push({ bytes, run });
    this.#waitingBytes += bytes;
    if (this.#waitingBytes > this.limits.queuedRequestBytes) {
      this.#close(`over ${this.limits.queuedRequestBytes} bytes of requests waiting: the client is not reading`);
      return;
    }
    if (this.ws.bufferedAmount > this.limits.outboxResumeBytes) this.#pause();
    void this.#drain();
  }

  /** The socket has closed: drop what waits and every timer. Idempotent. */
  dispose(): void {
    this.#disposed = true;
    this.#waiting = [];
    this.#waitingBytes = 0;
    this.#clearStall();
    if (this.#grace) clearTimeout(this.#grace);
    this.#grace = null;
  }

  #pause(): void {
    if (!this.#paused) {
      this.#paused = true;
      this.ws.pause();
    }
    if (this.#waiting.length > 0 && !this.#stall) {
      this.#stall = setTimeout(() => {
        this.#stall = null;
        if (this.#waiting.length > 0 && this.ws.bufferedAmount > this.limits.outboxResumeBytes) {
          this.#close(`client not reading: ${this.#waiting.length} requests waited ${this.limits.outboxStallMs} ms`);
        }
      }, this.limits.outboxStallMs);
    }
  }

  #clearStall(): void {
    if (this.#stall) clearTimeout(this.#stall);
    this.#stall = null;
  }

  /** Something buffered was written out: the client reads. */
  #flushed(): void {
    if (!this.isOpen) return;
    // Progress: the stall clock starts again (from this message on) if requests still wait.
    this.#clearStall();
    if (this.ws.bufferedAmount > this.limits.outboxResumeBytes) {
      if (this.#waiting.length > 0) this.#pause();
      return;
    }
    if (this.#waiting.length > 0) void this.#drain();
    else this.#resume();
  }

  #resume(): void {
    if (this.#paused && !this.#draining && this.#waiting.length === 0 && this.isOpen) {
      this.#paused = false;
      this.ws.resume();
    }
  }

  /** Starts waiting requests one at a time, in order, while the outbox stays below the resume bound. */
  async #drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (this.isOpen && this.#waiting.length > 0 && this.ws.bufferedAmount <= this.limits.outboxResumeBytes) {
        const next = this.#waiting.shift()!;
        this.#waitingBytes -= next.bytes;
        // A request answered at once has sent its reply by the next turn (so the bound is checked
        // against it); one that takes longer (a traffic wait) does not hold up the rest.
        await Promise.race([next.run(), new Promise<void>((resolve) => setImmediate(resolve))]);
      }
    } finally {
      this.#draining = false;
    }
    if (!this.isOpen) return;
    if (this.#waiting.length === 0) {
      this.#clearStall();
      this.#resume();
    } else this.#pause(); // still over the bound: the next flush resumes the drain
  }

  #close(reason: string): void {
    if (this.#closedBy !== null || this.#disposed) return;
    this.#closedBy = reason;
    this.log(`closing a connection (${CLOSE_NOT_READING}): ${reason}`);
    this.#waiting = [];
    this.#waitingBytes = 0;
    this.#clearStall();
    try {
      this.ws.close(CLOSE_NOT_READING, reason.slice(0, 123));
    } catch {
      // already closing
    }
    // The close frame queues behind what the client is not reading: do not wait for it long.
    this.#grace = setTimeout(() => {
      this.#grace = null;
      this.ws.terminate();
    }, this.limits.outboxCloseGraceMs);
  }

  /** Kernel work that waited `waitedMs` for this client to read: closed as a stalled client. */
  closeNotReading(waitedMs: number): void {
    if (this.isOpen) this.#close(`client not reading: kernel work waited ${waitedMs} ms`);
  }
}
