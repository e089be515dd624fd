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
};
