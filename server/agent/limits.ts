/** The agent's per-connection bounds, so one client (or a runaway UI) cannot exhaust the machine. */
import { LIMITS } from "../../lib/protocol";

export interface AgentLimits {
  /** Largest message answered with an error instead of being read (bytes). */
  messageBytes: number;
  /** ws maxPayload: above this the connection is closed (1009) without reading the message. */
  hardMessageBytes: number;
  connections: number;
  programsPerConnection: number;
  attachmentsPerConnection: number;
  subscriptionsPerConnection: number;
  trafficJobsPerConnection: number;
  packetsPerRun: number;
  packetBytes: number;
  /** packets x repeat in one testRun: bounds how long one request can hold the event loop. */
  runsPerRequest: number;
  /** Largest verifier log kept (bytes); longer ones come back truncated and say so. */
  logBytes: number;
  /** Ring buffer per attachment (power of two, at least a page). */
  ringBytes: number;
  /** Above this many queued bytes a stream sends counters without packet details. */
  streamSoftBufferBytes: number;
  /** Above this it skips the message altogether (the next one carries the cumulative totals). */
  streamHardBufferBytes: number;
  /**
   * Bytes buffered for one client (ws bufferedAmount) that no message may take it past: the
   * connection is closed instead (1008). A single larger reply becomes an agent/reply-too-large
   * error. At least messageBytes-sized verifier logs must fit.
   */
  outboxBytes: number;
  /** Requests are executed only while at most this much is buffered; above, reading pauses. */
  outboxResumeBytes: number;
  /** Requests waiting this long on a client that reads nothing close the connection (1008). */
  outboxStallMs: number;
  /** After the outbox closes a connection, the socket is destroyed this much later at the latest. */
  outboxCloseGraceMs: number;
  /** Received requests waiting for the outbox, in bytes, past which the connection is closed. */
  queuedRequestBytes: number;
}

export const DEFAULT_LIMITS: AgentLimits = {
  messageBytes: 16 << 20,
  hardMessageBytes: 32 << 20,
  connections: 16,
  programsPerConnection: 64,
  attachmentsPerConnection: 8,
  subscriptionsPerConnection: 8,
  trafficJobsPerConnection: 4,
  packetsPerRun: LIMITS.packetsPerRun,
  packetBytes: LIMITS.packetBytes,
  runsPerRequest: 20_000_000,
  logBytes: 16 << 20,
  ringBytes: 256 << 10,
  streamSoftBufferBytes: 1 << 20,
  streamHardBufferBytes: 4 << 20,
  outboxBytes: 48 << 20,
  outboxResumeBytes: 1 << 20,
  outboxStallMs: 20_000,
  outboxCloseGraceMs: 1000,
  queuedRequestBytes: 32 << 20,
};
