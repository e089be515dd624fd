/**
 * One client connection: it validates each message against lib/protocol, hands the request to
 * the part that owns it, and sends the reply. The parts each own their kernel objects: programs
 * (program-ops.ts), attachments and streams (attachments.ts), the demo network and traffic
 * (demo-ops.ts); kernel work runs in worker processes within the connection's job slots and
 * budgets (kernel-jobs.ts), so a long load or test run never holds up another message, of this
 * connection or any other. `dispose()` stops running work and releases everything; it runs when
 * the socket closes, however it closes.
 *
 * Every failure becomes an error reply naming the request; nothing a client sends can throw out
 * of here.
 */
import { isPlaygroundError } from "../../lib/errors";
import {
  checkRequest,
  encodeError,
  encodeResult,
  encodeStream,
  OP_NAMES,
  peekMessageHead,
  type OpName,
  type ParamsOf,
  type RequestOf,
  type ResultOf,
} from "../../lib/protocol";
import { SyscallError } from "../native/errno";
import { ObjectLoadError } from "../kernel/object-load";
import type { KernelBackend } from "./backend";
import { AttachmentTable } from "./attachments";
import { DemoOps } from "./demo-ops";
import { hello, kernelInfo } from "./info-ops";
import { BudgetError, KernelJobs } from "./kernel-jobs";
import { ProgramTable } from "./program-ops";
import { fail, type ConnectionContext, type Scope } from "./scope";

export { AGENT_NAME } from "./info-ops";
export type { ConnectionContext } from "./scope";

/** What the connection needs from its socket (a `ws` WebSocket fits). */
export interface Transport {
  send(text: string): void;
  readonly bufferedAmount: number;
  readonly isOpen: boolean;
  /** Closes a connection whose client has not read for too long (see Outbox). */
  closeNotReading?(waitedMs: number): void;
}

export class Connection {
  #next = 1;
  #disposed = false;
  #disposing: Promise<void> | null = null;
  readonly #jobs: KernelJobs;
  readonly #programs: ProgramTable;
  readonly #attachments: AttachmentTable;
  readonly #demo: DemoOps;

  constructor(
    private readonly transport: Transport,
    private readonly ctx: ConnectionContext,
  ) {
    this.#jobs = new KernelJobs(ctx.limits, {
      reading: () => transport.isOpen && transport.bufferedAmount <= ctx.limits.outboxResumeBytes,
      stallMs: ctx.limits.outboxStallMs,
      onStall: (ms) => transport.closeNotReading?.(ms),
    });
    const scope: Scope = { ctx, jobs: this.#jobs, newHandle: () => this.#next++, disposed: () => this.#disposed };
    this.#programs = new ProgramTable(scope);
    this.#demo = new DemoOps(scope, () => this.#attachments.releaseOnDemo());
    this.#attachments = new AttachmentTable(scope, this.#programs, () => this.#demo.net, {
      bufferedAmount: () => transport.bufferedAmount,
      send: (m) => this.#send(encodeStream(m)),
    });
  }

  get backend(): KernelBackend {
    return this.ctx.backend;
  }

  /** Counts of what the connection owns (for tests and logs). */
  get owned(): { programs: number; attachments: number; traffic: number; demo: boolean; kernelJobs: number } {
    return {
      programs: this.#programs.size,
      attachments: this.#attachments.size,
      traffic: this.#demo.trafficCount,
      demo: this.#demo.net !== null,
      kernelJobs: this.#jobs.running + this.#jobs.waiting,
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Messages

  /** Handles one text message (of `byteLength` bytes; above the limit, `text` is a prefix); never throws. */
  async handleText(text: string, byteLength = text.length): Promise<void> {
    if (this.#disposed) return;
    if (byteLength > this.ctx.limits.messageBytes) {
      // `text` is then the message's first bytes only: enough to answer the request by its id.
      const head = peekMessageHead(text);
      const op = head.type !== undefined && (OP_NAMES as readonly string[]).includes(head.type) ? head.type : undefined;
      this.#sendError(head.id, op, fail("protocol/too-large", `message of ${byteLength} bytes exceeds the agent's limit of ${this.ctx.limits.messageBytes}`));
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      this.#sendError(null, undefined, fail("protocol/json", `not JSON: ${(e as Error).message}`));
      return;
    }
    const parsed = checkRequest(value);
    if (!parsed.ok) {
      const f = parsed.fault;
      this.#send(encodeError({ id: f.id, op: f.op, code: f.code, message: f.message, path: f.path }));
      return;
    }
    const req = parsed.message;
    try {
      const result = await this.#dispatch(req);
      this.#send(encodeResult(req.id, req.type, result as never));
    } catch (e) {
      this.#sendError(req.id, req.type, e);
    }
  }

  #send(text: string): void {
    if (this.transport.isOpen) this.transport.send(text);
  }

  #sendError(id: number | null, op: string | undefined, e: unknown): void {
    if (e instanceof SyscallError || (e instanceof ObjectLoadError && e.errno !== 0)) {
      this.#send(encodeError({ id, op, code: e.code, message: e.message, errno: e.errno, errnoName: e.errnoName }));
    } else if (isPlaygroundError(e)) {
      this.#send(encodeError({ id, op, code: e.code, message: e.message, ...(e instanceof BudgetError ? { budgetMs: e.budgetMs } : {}) }));
    } else {
      // Not the client's fault: say so without a stack trace, and keep a trace in the agent's log.
      this.ctx.log(`internal error in ${op ?? "message"}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      this.#send(encodeError({ id, op, code: "agent/internal", message: e instanceof Error ? e.message : String(e) }));
    }
  }

  #dispatch(req: RequestOf<OpName>): ResultOf<OpName> | Promise<ResultOf<OpName>> {
    const id = req.id;
    const programs = this.#programs;
    const attachments = this.#attachments;
    const demo = this.#demo;
    const handlers: { [K in OpName]: (p: ParamsOf<K>) => ResultOf<K> | Promise<ResultOf<K>> } = {
      hello: (p) => hello(this.ctx, p),
      kernelInfo: () => kernelInfo(this.ctx),
      compile: (p) => programs.compile(id, p),
      load: (p) => programs.load(id, p),
      loadObject: (p) => programs.loadObject(id, p),
      unload: (p) => programs.unload(p),
      inspect: (p) => programs.inspect(id, p),
      testRun: (p) => programs.testRun(id, p),
      attach: (p) => attachments.attach(id, p),
      detach: (p) => attachments.detach(p),
      demoUp: () => demo.up(),
      demoDown: () => demo.down(),
      trafficStart: (p) => demo.trafficStart(p),
      trafficStop: (p) => demo.trafficStop(p),
      trafficWait: (p) => demo.trafficWait(p),
      subscribe: (p) => attachments.subscribe(p),
      unsubscribe: (p) => attachments.unsubscribe(p),
      objects: () => this.#objects(),
    };
    const { type, id: _id, ...params } = req;
    return (handlers[type] as (p: unknown) => ResultOf<OpName> | Promise<ResultOf<OpName>>)(params);
  }

  #objects(): ResultOf<"objects"> {
    const net = this.#demo.net;
    return {
      programs: [...this.#programs.entries()].map(([handle, p]) => ({ handle, progId: p.progId, target: p.target, name: p.name })),
      ...this.#attachments.objects(),
      traffic: this.#demo.trafficObjects(),
      demo: net ? { hostIf: net.hostIf, hostIfindex: net.hostIfindex } : null,
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Lifetime

  /**
   * Stops the connection's kernel work (its workers are killed) and releases everything it owns.
   * Idempotent; resolves when the demo network is gone.
   */
  dispose(): Promise<void> {
    if (this.#disposing) return this.#disposing;
    this.#disposed = true;
    this.#jobs.close();
    this.#attachments.releaseAll();
    this.#programs.releaseAll();
    this.#disposing = this.#demo.tearDown().catch((e: unknown) => this.ctx.log(`demo network teardown: ${(e as Error).message}`));
    return this.#disposing;
  }
}
