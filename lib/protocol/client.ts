/**
 * The agent's client, for the browser (global WebSocket) and for Node (inject the `ws` package's
 * WebSocket). Requests are typed promises keyed by op; every reply is validated against the same
 * schemas the agent validates requests with; stream messages go to per-subscription callbacks.
 *
 *   const agent = await AgentClient.connect("ws://127.0.0.1:PORT/?token=…");
 *   const loaded = await agent.request("load", { program: { kind: "filter", filter: "tcp port 80" }, target: "xdp" });
 *   const sub = await agent.subscribe(attachment, (m) => draw(m.counters));
 */
import { PlaygroundError } from "../errors";
import { parseServerMessage } from "./codec";
import { PROTOCOL_VERSION, type OpName, type ParamsOf, type ResultOf, type StreamMessage } from "./messages";

/** The part of the WebSocket API the client uses (browsers' and `ws`'s both fit). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface ClientOptions {
  /** Default: globalThis.WebSocket. In Node 20: `import WebSocket from "ws"` and pass it. */
  WebSocket?: WebSocketConstructor;
  /** Per-request timeout (default 30 s); `request(..., { timeoutMs })` overrides it. */
  timeoutMs?: number;
  /** Connection (and hello) timeout, default 10 s. */
  connectTimeoutMs?: number;
  /** Sent in hello, for the agent's log. */
  clientName?: string;
  /** Called once when the connection ends, for any reason. */
  onClose?: (info: CloseInfo) => void;
}

export interface CloseInfo {
  code: number;
  reason: string;
}

/** A failed request: the agent's error code and message, and errno when the kernel refused. */
export class AgentRequestError extends PlaygroundError {
  constructor(
    code: string,
    message: string,
    readonly details: { op?: string; path?: string; errno?: number; errnoName?: string; budgetMs?: number } = {},
  ) {
    super(code, message);
  }
}

export interface Subscription {
  readonly id: number;
  readonly attachment: number;
  unsubscribe(): Promise<void>;
}

type StreamHandler = (m: StreamMessage) => void;

interface Pending {
  op: string;
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

const OPEN = 1;
/** Stream messages kept for a subscription whose handler is not registered yet. */
const EARLY_STREAM_LIMIT = 64;

export class AgentClient {
  #ws: WebSocketLike;
  #nextId = 1;
  #pending = new Map<number, Pending>();
  #streams = new Map<number, StreamHandler>();
  #early = new Map<number, StreamMessage[]>();
  #timeoutMs: number;
  #closeInfo: CloseInfo | null = null;
  #closedResolve!: (info: CloseInfo) => void;
  /** Resolves when the connection has ended. */
  readonly closed: Promise<CloseInfo>;
  /** Replies and stream messages that failed validation (the client ignores them; counted for tests). */
  invalidMessages = 0;
  /** What the agent said in reply to hello. */
  hello: ResultOf<"hello"> | null = null;

  private constructor(ws: WebSocketLike, opts: ClientOptions) {
    this.#ws = ws;
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
    this.closed = new Promise((resolve) => (this.#closedResolve = resolve));
    ws.onmessage = (ev) => this.#onMessage(ev.data);
    ws.onclose = (ev) => this.#onClose({ code: ev.code, reason: String(ev.reason ?? "") }, opts.onClose);
  }

  /** Opens the connection and says hello; rejects if the agent refuses the connection or the version. */
  static async connect(url: string, opts: ClientOptions = {}): Promise<AgentClient> {
    const Ctor = opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Ctor) throw new PlaygroundError("client/websocket", "no WebSocket implementation: pass one in options.WebSocket");
    const ws = new Ctor(url);
    const timeout = opts.connectTimeoutMs ?? 10_000;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new PlaygroundError("client/timeout", `no connection to the agent after ${timeout} ms`));
        ws.close();
      }, timeout);
      ws.onopen = () => {
        clearTimeout(timer);
        resolve();
      };
      ws.onerror = () => undefined; // the close that follows carries the outcome
      ws.onclose = (ev) => {
        clearTimeout(timer);
        reject(new PlaygroundError("client/refused", `the agent refused the connection (${ev.code}${ev.reason ? ` ${ev.reason}` : ""})`));
      };
    });
    const client = new AgentClient(ws, opts);
    client.hello = await client.request("hello", { version: PROTOCOL_VERSION, client: opts.clientName ?? "bpf-playground client" }, { timeoutMs: timeout });
    return client;
  }

  get isOpen(): boolean {
    return this.#closeInfo === null && this.#ws.readyState === OPEN;
  }

  /** Sends a request and resolves with its validated result; rejects with AgentRequestError. */
  request<K extends OpName>(op: K, params: ParamsOf<K>, opts: { timeoutMs?: number } = {}): Promise<ResultOf<K>> {
    if (!this.isOpen) return Promise.reject(new AgentRequestError("client/closed", "the connection to the agent is closed", { op }));
    const id = this.#nextId++;
    const text = JSON.stringify({ ...params, type: op, id });
    return new Promise<ResultOf<K>>((resolve, reject) => {
      const ms = opts.timeoutMs ?? this.#timeoutMs;
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new AgentRequestError("client/timeout", `${op}: no answer from the agent after ${ms} ms`, { op }));
      }, ms);
      this.#pending.set(id, { op, resolve: resolve as (v: unknown) => void, reject, timer });
      try {
        this.#ws.send(text);
      } catch (e) {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(new AgentRequestError("client/send", `${op}: ${(e as Error).message}`, { op }));
      }
    });
  }

  /** Subscribes to an attachment's live counters; `onMessage` gets every stream message in order. */
  async subscribe(
    attachment: number,
    onMessage: StreamHandler,
    opts: { intervalMs?: number; maxEvents?: number } = {},
  ): Promise<Subscription> {
    const { subscription } = await this.request("subscribe", { attachment, ...opts });
    this.#streams.set(subscription, onMessage);
    for (const m of this.#early.get(subscription) ?? []) onMessage(m);
    this.#early.delete(subscription);
    return {
      id: subscription,
      attachment,
      unsubscribe: async () => {
        this.#streams.delete(subscription);
        if (this.isOpen) await this.request("unsubscribe", { subscription });
      },
    };
  }

  /** Sends text as it is (tests use it to send malformed messages). */
  sendRaw(text: string): void {
    this.#ws.send(text);
  }

  /** Errors the agent sent without a request id this client knows (e.g. for a raw message). */
  readonly unsolicitedErrors: { code: string; message: string; path?: string }[] = [];

  close(code = 1000, reason = ""): void {
    this.#ws.close(code, reason);
  }

  #onMessage(data: unknown): void {
    if (typeof data !== "string") {
      this.invalidMessages++;
      return;
    }
    const parsed = parseServerMessage(data);
    if (!parsed.ok) {
      this.invalidMessages++;
      // A result that fails validation still settles its request, as an error, rather than hanging.
      const id = parsed.fault.id;
      const p = id !== null ? this.#pending.get(id) : undefined;
      if (p && id !== null) this.#settle(id, p, new AgentRequestError("client/invalid-reply", `${p.op}: the agent's reply does not match the protocol: ${parsed.fault.message}`, { op: p.op, path: parsed.fault.path }));
      return;
    }
    const m = parsed.message;
    switch (m.type) {
      case "result": {
        const p = this.#pending.get(m.id);
        if (p) this.#settle(m.id, p, null, m.result);
        return;
      }
      case "error": {
        const p = m.id !== null ? this.#pending.get(m.id) : undefined;
        const err = new AgentRequestError(m.code, m.message, { op: m.op, path: m.path, errno: m.errno, errnoName: m.errnoName, budgetMs: m.budgetMs });
        if (p && m.id !== null) this.#settle(m.id, p, err);
        else this.unsolicitedErrors.push({ code: m.code, message: m.message, path: m.path });
        return;
      }
      case "stream": {
        const h = this.#streams.get(m.subscription);
        if (h) {
          h(m);
          return;
        }
        const early = this.#early.get(m.subscription) ?? [];
        if (early.length < EARLY_STREAM_LIMIT) early.push(m);
        this.#early.set(m.subscription, early);
        return;
      }
    }
  }

  #settle(id: number, p: Pending, err: Error | null, value?: unknown): void {
    clearTimeout(p.timer);
    this.#pending.delete(id);
    if (err) p.reject(err);
    else p.resolve(value);
  }

  #onClose(info: CloseInfo, onClose?: (info: CloseInfo) => void): void {
    if (this.#closeInfo) return;
    this.#closeInfo = info;
    for (const [id, p] of this.#pending) {
      this.#settle(id, p, new AgentRequestError("client/closed", `${p.op}: the connection closed (${info.code}${info.reason ? ` ${info.reason}` : ""})`, { op: p.op }));
    }
    this.#streams.clear();
    this.#early.clear();
    onClose?.(info);
    this.#closedResolve(info);
  }
}
