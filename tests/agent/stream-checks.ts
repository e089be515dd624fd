/** Assertions about an agent's streams, shared by the agent tests (vitest: tests only, not bench/). */
import { expect } from "vitest";
import { toBase64, type StreamEvent } from "../../lib/protocol";

/**
 * A stream's events are the matching frames' first 64 bytes, each as many times as it was sent
 * (`cycles`), and nothing else. Returns each event's frame length (by its bytes) for the caller's
 * own length checks.
 */
export function expectEventsOfFrames(events: readonly StreamEvent[], matching: readonly Uint8Array[], cycles: number): Map<string, number> {
  const key = (f: Uint8Array) => toBase64(f.subarray(0, 64));
  const want = new Map<string, number>();
  for (const f of matching) want.set(key(f), (want.get(key(f)) ?? 0) + cycles);
  const got = new Map<string, number>();
  for (const e of events) got.set(e.data, (got.get(e.data) ?? 0) + 1);
  expect(got).toEqual(want);
  return new Map(matching.map((f) => [key(f), f.length]));
}
