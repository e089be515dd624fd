/**
 * One live attachment's stream folded into what a page shows: exact counters, a bounded history
 * of rates and a bounded list of the newest sampled packets. Pure and isomorphic, so the bounds
 * are tested without a browser; the page's live service (app/ide/hooks/use-live.ts) holds one
 * record per attachment and copies a snapshot of it at most once per animation frame.
 */
import { fromBase64, type StreamMessage } from "../protocol";

export interface LivePacket {
  /** 1, 2, 3... per attachment, in arrival order (packets the agent sent no event for have none). */
  readonly seq: number;
  /** Length on the wire. */
  readonly len: number;
  /** The sampled first bytes. */
  readonly bytes: Uint8Array;
}

export interface StreamRecord {
  counters: { total: number; matched: number };
  /** Packets per second (total, matched) per stream message, oldest first. */
  rates: { total: number; matched: number }[];
  /** The newest packets, oldest first; up to twice `keepEvents` between trims. */
  events: LivePacket[];
  eventCount: number;
  /** Matched packets the agent sent no event for (cumulative, as the agent counts them). */
  dropped: number;
  /** The agent's last message for the attachment came. */
  final: boolean;
}

export interface StreamBounds {
  readonly keepEvents: number;
  readonly keepRates: number;
}

export const emptyRecord = (): StreamRecord => ({ counters: { total: 0, matched: 0 }, rates: [], events: [], eventCount: 0, dropped: 0, final: false });

export function foldStream(r: StreamRecord, m: StreamMessage, bounds: StreamBounds): void {
  r.counters = { total: m.counters.total, matched: m.counters.matched };
  r.rates.push({ total: m.rate.total, matched: m.rate.matched });
  if (r.rates.length > bounds.keepRates) r.rates.splice(0, r.rates.length - bounds.keepRates);
  for (const e of m.events) r.events.push({ seq: ++r.eventCount, len: e.len, bytes: fromBase64(e.data) });
  // Trimmed in batches: one splice per keepEvents arrivals, not one per message in a flood.
  if (r.events.length > 2 * bounds.keepEvents) r.events.splice(0, r.events.length - bounds.keepEvents);
  r.dropped = m.dropped;
  if (m.final) r.final = true;
}

/** The newest `keepEvents` packets, oldest first (a fresh array: the record goes on changing). */
export const keptEvents = (r: StreamRecord, bounds: StreamBounds): LivePacket[] => r.events.slice(-bounds.keepEvents);
