/**
 * The live stream of one attachment: exact counters from the kernel's counter map, and sampled
 * packet details from its ring buffer, sent every `intervalMs` with a sequence number.
 *
 * Memory stays bounded however fast the link is:
 * - the ring buffer has a fixed size; when it is full the program's bpf_ringbuf_output fails and
 *   the packet is still counted (the counters never depend on the ring);
 * - each tick drains at most the ring's capacity in records and keeps at most `maxEvents`;
 * - when the socket's send buffer (ws.bufferedAmount) is above `softBufferBytes` the tick sends
 *   counters without events, and above `hardBufferBytes` it sends nothing at all: counters are
 *   cumulative totals, so the next message that does go out is still exact.
 *
 * `dropped` counts matched packets without an event: those discarded here (backpressure, more
 * than maxEvents) plus those the ring lost, estimated each tick as the matched count read at the
 * previous tick minus the records drained so far (every record of a packet counted then has been
 * written by now), and exact in the final message after detach.
 */
import { toBase64 } from "../../lib/protocol/base64";
import type { StreamEvent, StreamMessage } from "../../lib/protocol";
import type { CounterMap, Counters, EventRing } from "./backend";

export interface StreamSink {
  /** Bytes queued on the socket and not yet sent. */
  bufferedAmount(): number;
  send(m: StreamMessage): void;
}

export interface StreamOptions {
  subscription: number;
  attachment: number;
  intervalMs: number;
  maxEvents: number;
  sampleBytes: number;
  /** Records one drain may take (about the ring's capacity). */
  drainLimit: number;
  softBufferBytes: number;
  hardBufferBytes: number;
}

/** Ring record layout written by the translator's count epilogue: u32 wire_len, u32 cap_len, bytes. */
export function parseRecord(rec: Uint8Array, sampleBytes: number): StreamEvent | null {
  if (rec.length < 8) return null;
  const v = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
  const len = v.getUint32(0, true);
  const capLen = v.getUint32(4, true);
  const n = Math.min(capLen, sampleBytes, rec.length - 8);
  return { len, capLen, data: toBase64(rec.subarray(8, 8 + n)) };
}

export class AttachmentStream {
  #seq = 0;
  #timer: ReturnType<typeof setInterval> | null = null;
  #last: Counters = { total: 0, matched: 0 };
  #lastTime = performance.now();
  /** Matched count at the previous tick (for the ring-loss estimate). */
  #prevMatched = 0;
  #drained = 0;
  #discarded = 0;
  #ringLost = 0;
  #ended = false;
  /** Matched count when the subscription started. */
  #base = 0;
  /** Called when a tick fails (the stream has stopped). */
  onError: ((e: unknown) => void) | null = null;

  constructor(
    readonly opts: StreamOptions,
    private readonly counters: CounterMap,
    private readonly ring: EventRing,
    private readonly sink: StreamSink,
  ) {}

  start(): void {
    // Records of packets from before the subscription are not its business: accounting starts here.
    this.ring.drain(this.opts.drainLimit);
    this.#last = this.counters.read();
    this.#base = this.#last.matched;
    this.#prevMatched = this.#last.matched;
    this.#lastTime = performance.now();
    this.#timer = setInterval(() => {
      try {
        this.tick(false);
      } catch (e) {
        // A map that vanished under the stream (its attachment released mid-tick) ends the stream.
        this.stop();
        this.onError?.(e);
      }
    }, this.opts.intervalMs);
  }

  /** Stops without a final message (unsubscribe). */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#ended = true;
  }

  /** One last message with `final: true` (detach, or the connection's objects going away). */
  finish(): void {
    if (this.#ended) return;
    this.stop();
    this.#ended = false;
    this.tick(true);
    this.#ended = true;
  }

  get dropped(): number {
    return this.#discarded + this.#ringLost;
  }

  tick(final: boolean): void {
    if (this.#ended) return;
    const now = performance.now();
    const c = this.counters.read();
    const records = this.ring.drain(this.opts.drainLimit);
    this.#drained += records.length;
    const buffered = this.sink.bufferedAmount();
    const lostBefore = this.#ringLost;
    // Every record of a packet counted at the previous tick is in the ring by now, unless it was lost.
    const lostNow = (final ? c.matched : this.#prevMatched) - this.#base - this.#drained;
    if (lostNow > this.#ringLost) this.#ringLost = lostNow;
    this.#prevMatched = c.matched;

    const keep = buffered > this.opts.softBufferBytes ? 0 : Math.min(this.opts.maxEvents, records.length);
    const events: StreamEvent[] = [];
    for (let i = 0; i < keep; i++) {
      const e = parseRecord(records[i]!, this.opts.sampleBytes);
      if (e) events.push(e);
    }
    const discardedNow = records.length - events.length;
    this.#discarded += discardedNow;

    if (!final && buffered > this.opts.hardBufferBytes) return; // the next message carries the totals
    const dt = (now - this.#lastTime) / 1000;
    const rate = dt > 0 ? { total: Math.max(0, (c.total - this.#last.total) / dt), matched: Math.max(0, (c.matched - this.#last.matched) / dt) } : { total: 0, matched: 0 };
    this.#last = c;
    this.#lastTime = now;
    const m: StreamMessage = {
      type: "stream",
      subscription: this.opts.subscription,
      attachment: this.opts.attachment,
      seq: ++this.#seq,
      time: now,
      counters: { total: c.total, matched: c.matched },
      rate,
      events,
      sampled: discardedNow > 0 || this.#ringLost > lostBefore,
      dropped: this.dropped,
    };
    if (final) m.final = true;
    this.sink.send(m);
  }
}
