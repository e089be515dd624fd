/**
 * One connection's kernel work: how much of it runs at once, how long each request may take, and
 * the signal that stops all of it when the connection closes.
 *
 * A request that compiles, loads, dumps or test-runs takes one of the connection's slots
 * (`kernelJobsPerConnection`, fewer than the agent's workers, so one client cannot occupy them
 * all); more wait in order, up to `queuedJobsPerConnection`, and beyond that are refused. Its
 * budget starts when it gets its slot and covers every worker call it makes; a call past the
 * budget has its worker killed and the request fails with "agent/budget". Closing the connection
 * aborts the signal: running workers are killed (what they made in the kernel dies with them) and
 * waiting requests fail.
 */
import { PlaygroundError, isPlaygroundError } from "../../lib/errors";
import type { Job } from "./backend";
import type { AgentLimits } from "./limits";

/** A request past its time budget; the reply carries the budget. */
export class BudgetError extends PlaygroundError {
  constructor(
    readonly requestId: number,
    readonly op: string,
    readonly budgetMs: number,
  ) {
    super("agent/budget", `${op} request ${requestId} did not finish within its time budget of ${budgetMs} ms; the agent stopped it`);
  }
}

export interface RequestRef {
  id: number;
  op: string;
}

/** The remaining budget of the running request, read at each worker call. */
export type JobClock = () => Job;

interface Waiter {
  start(): void;
  fail(e: unknown): void;
}

/** How the jobs see their client: whether it reads, and what to do when it has stopped. */
export interface ClientGate {
  reading(): boolean;
  stallMs: number;
  onStall(waitedMs: number): void;
}

export class KernelJobs {
  readonly #ac = new AbortController();
  readonly #waiting: Waiter[] = [];
  #running = 0;

  /**
   * `client.reading` says whether the client has taken what was sent (the outbox is under its
   * resume bound). A job starts only then: work runs in workers, concurrently with later
   * requests, so without this a client that stops reading could have every queued job's reply
   * land in the agent. With it, what a non-reading client can make the agent hold is the outbox
   * plus the replies of the jobs already running (kernelJobsPerConnection).
   */
  constructor(
    private readonly limits: Pick<AgentLimits, "kernelJobsPerConnection" | "queuedJobsPerConnection">,
    private readonly client: ClientGate = { reading: () => true, stallMs: Infinity, onStall: () => undefined },
  ) {}

  /** Aborted when the connection closes. */
  get signal(): AbortSignal {
    return this.#ac.signal;
  }

  get running(): number {
    return this.#running;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  /** Runs `body` in one of the connection's slots with `budgetMs` from when the slot is taken. */
  async run<T>(req: RequestRef, budgetMs: number, body: (job: JobClock) => Promise<T>): Promise<T> {
    await this.#acquire();
    try {
      await this.#untilClientReads();
    } catch (e) {
      this.#release();
      throw e;
    }
    const deadline = Date.now() + budgetMs;
    const signal = this.#ac.signal;
    const job: JobClock = () => ({ budgetMs: Math.max(1, deadline - Date.now()), signal });
    try {
      return await body(job);
    } catch (e) {
      if (isPlaygroundError(e) && e.code === "isolate/timeout") throw new BudgetError(req.id, req.op, budgetMs);
      throw e;
    } finally {
      this.#release();
    }
  }

  /** Stops everything: the signal kills running workers; waiting requests fail. */
  close(): void {
    const closed = new PlaygroundError("agent/closed", "the connection closed");
    this.#ac.abort(closed);
    for (const w of this.#waiting.splice(0)) w.fail(closed);
  }

  /** Polls (cheaply, every 10 ms) until the client reads again, or the connection closes. */
  async #untilClientReads(): Promise<void> {
    const since = Date.now();
    let reported = false;
    while (!this.client.reading()) {
      if (this.#ac.signal.aborted) throw new PlaygroundError("agent/closed", "the connection closed");
      const waited = Date.now() - since;
      if (!reported && waited > this.client.stallMs) {
        reported = true; // the connection closes; its close() aborts the signal
        this.client.onStall(waited);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    if (this.#ac.signal.aborted) throw new PlaygroundError("agent/closed", "the connection closed");
  }

  #acquire(): Promise<void> {
    if (this.#ac.signal.aborted) return Promise.reject(new PlaygroundError("agent/closed", "the connection closed"));
    if (this.#running < this.limits.kernelJobsPerConnection) {
      this.#running++;
      return Promise.resolve();
    }
    if (this.#waiting.length >= this.limits.queuedJobsPerConnection) {
      return Promise.reject(
        new PlaygroundError(
          "agent/busy",
          `this connection already has ${this.#running} requests doing kernel work and ${this.#waiting.length} waiting; wait for some to finish`,
        ),
      );
    }
    return new Promise((start, fail) => this.#waiting.push({ start, fail }));
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next) next.start(); // the slot passes on: #running stays the same
    else this.#running--;
  }
}
