/**
 * The outbox's rules on a socket that only pretends (bufferedAmount is whatever was sent and not
 * yet "flushed" by the test): requests wait above the resume bound, a message past the bound
 * closes with 1008, a reply too big on its own becomes an error naming its request, a client
 * that reads nothing is closed after the stall time, and nothing stays behind after dispose.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { Outbox, CLOSE_NOT_READING, type OutboxLimits, type OutboxSocket } from "../../server/agent/outbox";
import { encodeResult, parseServerMessage } from "../../lib/protocol";

class FakeSocket implements OutboxSocket {
  readyState = 1;
  bufferedAmount = 0;
  sent: string[] = [];
  callbacks: (() => void)[] = [];
  paused = false;
  closed: { code: number; reason: string } | null = null;
  terminated = false;
  send(data: string, cb?: (err?: Error) => void): void {
    this.sent.push(data);
    this.bufferedAmount += Buffer.byteLength(data);
    const size = Buffer.byteLength(data);
    this.callbacks.push(() => {
      this.bufferedAmount -= size;
      cb?.();
    });
  }
  /** The client reads everything buffered. */
  flushAll(): void {
    const cbs = this.callbacks.splice(0);
    for (const f of cbs) f();
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  close(code: number, reason: string): void {
    this.closed = { code, reason };
    this.readyState = 2;
  }
  terminate(): void {
    this.terminated = true;
    this.readyState = 3;
  }
}

const LIMITS: OutboxLimits = { outboxBytes: 1000, outboxResumeBytes: 100, outboxStallMs: 5000, outboxCloseGraceMs: 500, queuedRequestBytes: 10_000 };
const turn = () => new Promise<void>((r) => setImmediate(r));

afterEach(() => vi.useRealTimers());

describe("outbox", () => {
  it("runs requests while below the resume bound; above it pauses reading and runs the rest, in order, once the client reads", async () => {
    const ws = new FakeSocket();
    const out = new Outbox(ws, LIMITS);
    const ran: number[] = [];
    const request = (n: number, replyBytes: number) => () => {
      ran.push(n);
      out.send("x".repeat(replyBytes));
    };
    out.admit(10, request(1, 300)); // runs at once, its reply goes over the resume bound
    out.admit(10, request(2, 10));
    out.admit(10, request(3, 10));
    await turn();
    await turn();
    expect(ran).toEqual([1]);
    expect(ws.paused).toBe(true);
    expect(out.waiting).toBe(2);
    ws.flushAll();
    await turn();
    await turn();
    await turn();
    expect(ran).toEqual([1, 2, 3]);
    expect(out.waiting).toBe(0);
    ws.flushAll();
    expect(ws.paused).toBe(false);
    expect(ws.closed).toBeNull();
  });

  it("closes with 1008 instead of buffering past the bound, and destroys the socket after the grace time", async () => {
    vi.useFakeTimers();
    const ws = new FakeSocket();
    const out = new Outbox(ws, LIMITS);
    out.send("a".repeat(600));
    out.send("b".repeat(600)); // 1200 > 1000
    expect(ws.sent.map((s) => s.length)).toEqual([600]);
    expect(ws.closed).toEqual({ code: CLOSE_NOT_READING, reason: "outbox over 1000 bytes: the client is not reading" });
    expect(out.isOpen).toBe(false);
    out.send("c"); // nothing more goes out
    expect(ws.sent).toHaveLength(1);
    vi.advanceTimersByTime(LIMITS.outboxCloseGraceMs);
    expect(ws.terminated).toBe(true);
  });

  it("answers a reply too big for any client with agent/reply-too-large, naming its request", () => {
    const ws = new FakeSocket();
    const out = new Outbox(ws, LIMITS);
    out.send(encodeResult(42, "compile", { dlt: 1, insns: [], text: "y".repeat(5000) }));
    expect(ws.sent).toHaveLength(1);
    const m = parseServerMessage(ws.sent[0]!);
    expect(m).toMatchObject({ ok: true, message: { type: "error", id: 42, op: "compile", code: "agent/reply-too-large" } });
    expect(ws.closed).toBeNull();
  });

  it("closes a client that reads nothing while requests wait (stall time), and not one that reads", async () => {
    vi.useFakeTimers();
    const ws = new FakeSocket();
    const out = new Outbox(ws, LIMITS);
    out.send("z".repeat(500));
    out.admit(10, () => undefined);
    expect(out.waiting).toBe(1);
    vi.advanceTimersByTime(LIMITS.outboxStallMs - 1);
    expect(ws.closed).toBeNull();
    vi.advanceTimersByTime(1);
    expect(ws.closed).toEqual({ code: CLOSE_NOT_READING, reason: `client not reading: 1 requests waited ${LIMITS.outboxStallMs} ms` });
    expect(out.waiting).toBe(0);
  });

  it("does not close a client that reads slowly: each message it takes starts the stall clock again", () => {
    vi.useFakeTimers();
    const ws = new FakeSocket();
    const out = new Outbox(ws, LIMITS);
    for (let i = 0; i < 3; i++) out.send("s".repeat(200));
    out.admit(10, () => undefined);
    for (let i = 0; i < 2; i++) {
      vi.advanceTimersByTime(LIMITS.outboxStallMs - 1000);
      ws.callbacks.shift()!(); // one message read
    }
    vi.advanceTimersByTime(LIMITS.outboxStallMs - 1000);
    expect(ws.closed).toBeNull();
    expect(out.waiting).toBe(1);
    vi.advanceTimersByTime(1000);
    expect(ws.closed?.code).toBe(CLOSE_NOT_READING);
  });

  it("closes when too many request bytes wait, and dispose drops everything and every timer", () => {
    vi.useFakeTimers();
    const ws = new FakeSocket();
    const out = new Outbox(ws, { ...LIMITS, queuedRequestBytes: 100 });
    out.send("z".repeat(500));
    out.admit(60, () => undefined);
    expect(ws.closed).toBeNull();
    out.admit(60, () => undefined);
    expect(ws.closed?.code).toBe(CLOSE_NOT_READING);
    out.dispose();
    expect(vi.getTimerCount()).toBe(0);
    const other = new Outbox(new FakeSocket(), LIMITS);
    other.send("z".repeat(500));
    other.admit(1, () => undefined);
    expect(vi.getTimerCount()).toBe(1);
    other.dispose();
    expect(vi.getTimerCount()).toBe(0);
    expect(other.waiting).toBe(0);
  });
});
