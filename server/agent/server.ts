/**
 * The agent's WebSocket server.
 *
 * Refusals happen at the HTTP upgrade, before a WebSocket exists and before the backend is
 * touched: a Host that is not a loopback name with the agent's port is 421 (checked first: such a
 * request was not meant for this agent), a missing or wrong token 401, a foreign Origin 403, too
 * many connections 503. An explicit non-loopback bind also answers to its own address. Plain
 * HTTP requests get 426 and nothing else. The server binds loopback unless the caller says
 * explicitly that another address is wanted (the token is still required there).
 *
 * Each accepted socket gets a Connection, which owns every kernel object made through it and
 * releases them when the socket closes. Frames above `hardMessageBytes` close the socket (1009,
 * ws's maxPayload) without being buffered; messages above `messageBytes` get an error reply.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { PlaygroundError } from "../../lib/errors";
import { newToken, tokenMatches, tokenFromUrl, originAllowed, parseOriginRule, isLoopback, hostAllowed, DEFAULT_ORIGINS, type OriginRule } from "./auth";
import { realBackend, type KernelBackend } from "./backend";
import { Connection } from "./connection";
import { Outbox } from "./outbox";
import { encodeError, HEAD_PREFIX_CHARS } from "../../lib/protocol";
import { DEFAULT_LIMITS, type AgentLimits } from "./limits";

export interface AgentOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** Must be true to bind anything but a loopback address (the CLI sets it for --bind). */
  allowNonLoopback?: boolean;
  /** Origins allowed besides http://127.0.0.1:*, http://localhost:* and http://[::1]:*. */
  allowedOrigins?: readonly string[];
  /** Interfaces other than the demo network that clients may attach to. */
  allowedInterfaces?: readonly string[];
  backend?: KernelBackend;
  limits?: Partial<AgentLimits>;
  /** Diagnostics (default: stderr). */
  log?: (line: string) => void;
}

export interface RunningAgent {
  /** The URL a client uses as it is: ws://HOST:PORT/?token=… */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly token: string;
  /** Open connections. */
  connectionCount(): number;
  /** The kernel-work processes: their pids and how many are busy (empty until first used). */
  workers(): { pids: number[]; busy: number };
  /** Connections refused at the upgrade, by HTTP status. */
  readonly refused: Map<number, number>;
  /** Closes every connection (releasing what each owns) and the listening socket. */
  close(): Promise<void>;
}

function hostForUrl(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/** ws hands over a Buffer, an ArrayBuffer or fragments, depending on its binaryType. */
function rawText(data: Buffer | ArrayBuffer | Buffer[]): string {
  if (Array.isArray(data)) return Buffer.concat(data as unknown as Uint8Array[]).toString("utf8");
  if (data instanceof ArrayBuffer) return new TextDecoder().decode(new Uint8Array(data));
  return data.toString("utf8");
}

/** The first `max` bytes of a message, without copying the rest. */
function prefixOf(data: Buffer | ArrayBuffer | Buffer[], max: number): Buffer {
  if (data instanceof ArrayBuffer) return Buffer.from(data, 0, Math.min(max, data.byteLength));
  if (!Array.isArray(data)) return data.subarray(0, max);
  const parts: Buffer[] = [];
  let n = 0;
  for (const b of data) {
    if (n >= max) break;
    parts.push(b.subarray(0, max - n));
    n += parts[parts.length - 1]!.length;
  }
  return Buffer.concat(parts as unknown as Uint8Array[]);
}

function refuse(socket: Duplex, status: number, text: string): void {
  // A bare status line and no body: nothing about why beyond the status itself.
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export async function startAgent(opts: AgentOptions = {}): Promise<RunningAgent> {
  const host = opts.host ?? "127.0.0.1";
  if (!isLoopback(host) && !opts.allowNonLoopback) {
    throw new PlaygroundError("agent/bind", `refusing to listen on ${host}: not a loopback address (pass --bind explicitly to allow it; the token is still required)`);
  }
  const limits: AgentLimits = { ...DEFAULT_LIMITS, ...(opts.limits ?? {}) };
  const rules: OriginRule[] = [...DEFAULT_ORIGINS, ...(opts.allowedOrigins ?? [])].map(parseOriginRule);
  const log = opts.log ?? ((line: string) => process.stderr.write(`agent: ${line}\n`));
  let backend: KernelBackend | null = opts.backend ?? null; // the real one is made on first use
  const token = newToken();
  const connections = new Map<WebSocket, Connection>();
  const refused = new Map<number, number>();
  const countRefusal = (status: number) => refused.set(status, (refused.get(status) ?? 0) + 1);
  let port = 0; // known once listening, before any upgrade can arrive
  // A specific address given to an explicit bind is a name the agent answers to; a wildcard is not.
  const extraHost = isLoopback(host) || host === "0.0.0.0" || host === "::" ? undefined : host;

  const server: Server = createServer((_req, res) => {
    res.writeHead(426, { "content-type": "text/plain", connection: "close" });
    res.end("WebSocket only\n");
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.hardMessageBytes, perMessageDeflate: false });

  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => undefined); // a client that vanished mid-handshake is not an agent error
    if (!hostAllowed(req.headers.host, port, extraHost)) {
      countRefusal(421);
      refuse(socket, 421, "Misdirected Request");
      return;
    }
    if (!tokenMatches(token, tokenFromUrl(req.url))) {
      countRefusal(401);
      refuse(socket, 401, "Unauthorized");
      return;
    }
    if (!originAllowed(req.headers.origin, rules)) {
      countRefusal(403);
      refuse(socket, 403, "Forbidden");
      return;
    }
    if (connections.size >= limits.connections) {
      countRefusal(503);
      refuse(socket, 503, "Service Unavailable");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws));
  });

  function accept(ws: WebSocket): void {
    if (!backend) {
      backend = realBackend({ workers: limits.workers });
      backend.warmUp?.();
    }
    // Everything sent to the client goes through its outbox, and every request is admitted by it.
    const outbox = new Outbox(ws, limits, log);
    const conn = new Connection(outbox, { backend, limits, allowedInterfaces: opts.allowedInterfaces ?? [], log });
    connections.set(ws, conn);
    ws.on("message", (data, isBinary) => {
      if (isBinary) {
        outbox.admit(0, () => outbox.send(encodeError({ id: null, code: "protocol/binary", message: "the agent speaks JSON text messages only" })));
        return;
      }
      const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data instanceof ArrayBuffer ? data.byteLength : data.length;
      // The size is checked before the bytes are decoded or parsed; an oversize message keeps a
      // bounded prefix only, where its id may be read.
      const text = size > limits.messageBytes ? rawText(prefixOf(data, HEAD_PREFIX_CHARS)) : rawText(data);
      outbox.admit(size > limits.messageBytes ? text.length : size, () => conn.handleText(text, size));
    });
    // ws reports protocol violations (oversize frames: 1009) here, then closes the socket.
    ws.on("error", (e) => log(`connection error: ${e.message}`));
    ws.on("close", () => {
      connections.delete(ws);
      outbox.dispose();
      void conn.dispose();
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      const address = server.address();
      port = typeof address === "object" && address ? address.port : (opts.port ?? 0);
      resolve();
    });
  });
  const url = `ws://${hostForUrl(host)}:${port}/?token=${encodeURIComponent(token)}`;

  let closing: Promise<void> | null = null;
  return {
    url,
    host,
    port,
    token,
    refused,
    connectionCount: () => connections.size,
    workers: () => backend?.workers?.() ?? { pids: [], busy: 0 },
    close() {
      closing ??= (async () => {
        const disposals = [...connections.values()].map((c) => c.dispose());
        for (const ws of connections.keys()) ws.terminate();
        connections.clear();
        await Promise.all(disposals);
        if (!opts.backend) await backend?.close?.(); // the workers are the agent's only when it made the backend
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })();
      return closing;
    },
  };
}
