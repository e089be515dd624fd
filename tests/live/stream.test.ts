import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { emptyRecord, foldStream, keptEvents } from "../../lib/live/stream";
import { parseServerMessage, toBase64, type StreamMessage } from "../../lib/protocol";

/** Stream messages as the agent sends them: checked by the protocol's own schema first. */
function message(seq: number, total: number, lens: number[], final: boolean): StreamMessage {
  const wire = {
    type: "stream",
    subscription: 1,
    attachment: 1,
    seq,
    time: seq * 100,
    counters: { total, matched: total },
    rate: { total: lens.length * 10, matched: lens.length * 10 },
    events: lens.map((len, i) => ({ len, capLen: Math.min(len, 4), data: toBase64(new Uint8Array([seq & 0xff, i & 0xff, 0, 0]).subarray(0, Math.min(len, 4))) })),
    sampled: false,
    dropped: 0,
    ...(final ? { final: true } : {}),
  };
  const parsed = parseServerMessage(JSON.stringify(wire));
  if (!parsed.ok) throw new Error(`not a stream message: ${parsed.fault.message} at ${parsed.fault.path}`);
  return parsed.message as StreamMessage;
}

describe("lib/live stream folding", () => {
  it("keeps the newest packets in order, within its bounds, and the counters exact", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 12 }), fc.array(fc.array(fc.integer({ min: 1, max: 1500 }), { maxLength: 60 }), { maxLength: 80 }), (keepEvents, keepRates, batches) => {
        const bounds = { keepEvents, keepRates };
        const r = emptyRecord();
        const all: number[] = [];
        batches.forEach((lens, i) => {
          all.push(...lens);
          foldStream(r, message(i + 1, all.length, lens, i === batches.length - 1), bounds);
          expect(r.events.length).toBeLessThanOrEqual(2 * keepEvents);
          expect(r.rates.length).toBeLessThanOrEqual(keepRates);
        });
        const kept = keptEvents(r, bounds);
        expect(kept.map((p) => p.len)).toEqual(all.slice(-keepEvents));
        expect(kept.map((p) => p.seq)).toEqual(all.map((_, i) => i + 1).slice(-keepEvents));
        expect(r.eventCount).toBe(all.length);
        expect(r.counters.total).toBe(all.length);
        expect(r.rates.map((x) => x.total)).toEqual(batches.map((b) => b.length * 10).slice(-keepRates));
        expect(r.final).toBe(batches.length > 0);
      }),
    );
  });
});
