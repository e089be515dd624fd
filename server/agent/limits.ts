/**
 * The agent's per-connection bounds, so one client (or a runaway UI) cannot exhaust the machine.
 *
 * Counts bound memory; time is bounded by budgets. Every request that does kernel or native work
 * (compile, load, inspect, testRun, attach) runs in a worker process, off the event loop, and has
 * a wall-clock budget from the moment it starts (after waiting for its connection's slot). Past it
 * the worker is killed (the verifier and BPF_PROG_TEST_RUN stop on a fatal signal) and the reply is
 * an "agent/budget" error naming the request. So the longest any request can take is its budget,
 * whatever the counts allow: a testRun of 10,000 packets x repeat on a 131,071-slot program could
 * otherwise run for half an hour. `hello` reports all of these.
 */
import { LIMITS } from "../../lib/protocol";

/** Wall-clock budgets per operation, in milliseconds. */
export interface AgentBudgets {
  /**
   * libpcap's compile. Unoptimized, 3,000 OR'ed hosts take about 47 s on a quiet machine
   * (tcpdump -O takes as long: it is the same library), so the budget leaves room for a busy one.
   */
  compileMs: number;
  /** A load, including compiling its filter: the verifier needs about 51 s for a 10M-iteration loop at log_level 2. */
  loadMs: number;
  /** bpf_prog_info with the xlated and JIT dumps and their disassembly. */
  inspectMs: number;
  /** All the packets x repeat of one testRun. */
  testRunMs: number;
  /** Compile, translate, load and attach the counting program. */
  attachMs: number;
}

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
  /** packets x repeat in one testRun (its time is bounded by budgets.testRunMs). */
  runsPerRequest: number;
  budgets: AgentBudgets;
  /** Requests of one connection doing kernel work at once (each holds a worker; fewer than `workers`). */
  kernelJobsPerConnection: number;
  /** Such requests waiting for their connection's slot; beyond this they are refused ("agent/busy"). */
  queuedJobsPerConnection: number;
  /** Worker processes for kernel work, shared by all connections. */
  workers: number;
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
  budgets: { compileMs: 300_000, loadMs: 300_000, inspectMs: 60_000, testRunMs: 60_000, attachMs: 300_000 },
  kernelJobsPerConnection: 2,
  queuedJobsPerConnection: 32,
  workers: 4,
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
