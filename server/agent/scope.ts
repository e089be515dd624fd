/**
 * What every part of a connection shares: the agent's context, the connection's kernel-job slots,
 * its handle numbers and whether it has closed. Each part (programs, attachments, the demo
 * network) owns its own objects and gets this, not the connection itself.
 */
import { PlaygroundError } from "../../lib/errors";
import type { KernelBackend } from "./backend";
import type { KernelJobs } from "./kernel-jobs";
import type { AgentLimits } from "./limits";

export interface ConnectionContext {
  backend: KernelBackend;
  limits: AgentLimits;
  /** Interfaces other than the demo network that attach may use. */
  allowedInterfaces: readonly string[];
  log: (line: string) => void;
}

export interface Scope {
  readonly ctx: ConnectionContext;
  readonly jobs: KernelJobs;
  /** Handles, attachment, subscription and traffic ids share one counter per connection. */
  newHandle(): number;
  /** The connection has closed: nothing new may be kept. */
  disposed(): boolean;
}

/** A request failed in a way the client should see as such. */
export function fail(code: string, message: string): PlaygroundError {
  return new PlaygroundError(code, message);
}
