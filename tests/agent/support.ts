/**
 * Helpers for the agent tests: a real client over `ws`, raw upgrade attempts, the agent as a process.
 * No vitest here: the benchmarks use these too (assertions live in ./stream-checks.ts).
 */
import { request } from "node:http";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { AgentClient, type WebSocketConstructor, type ClientOptions } from "../../lib/protocol";

export const WS = WebSocket as unknown as WebSocketConstructor;

export function connect(url: string, opts: ClientOptions = {}): Promise<AgentClient> {
  return AgentClient.connect(url, { WebSocket: WS, ...opts });
}

/**
 * Attempts a WebSocket upgrade by hand and returns the HTTP status the server answered with
 * (101 when it accepted). `path` replaces the URL's path and query when given, `host` the Host
 * header (by default Node sends the URL's host and port).
 */
export function upgradeStatus(url: string, opts: { path?: string; origin?: string; host?: string } = {}): Promise<number> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({
      host: u.hostname.replace(/^\[|\]$/g, ""),
      port: Number(u.port),
      path: opts.path ?? `${u.pathname}${u.search}`,
      headers: {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": randomBytes(16).toString("base64"),
        ...(opts.origin !== undefined ? { Origin: opts.origin } : {}),
        ...(opts.host !== undefined ? { Host: opts.host } : {}),
      },
    });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on("response", (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

/** Opens a raw `ws` socket (for frames the client never sends: binary, oversize). */
export function rawSocket(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

export interface AgentProcess {
  child: ChildProcess;
  url: string;
  /** Everything the process printed on stdout so far. */
  stdout(): string;
  stderr(): string;
  /** SIGTERM, and resolves once the process has exited (it tears down what it made first). */
  stop(): Promise<void>;
}

/** Starts `bpf-playground agent` as its own process (via server/agent/main.ts) and reads its URL line. */
export function spawnAgent(args: string[] = []): Promise<AgentProcess> {
  const runTs = fileURLToPath(new URL("../../bin/run-ts.mjs", import.meta.url));
  const main = fileURLToPath(new URL("../../server/agent/main.ts", import.meta.url));
  const child = spawn(process.execPath, [runTs, main, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (c: string) => (err += c));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent did not print its URL in time; stderr: ${err}`)), 30_000);
    child.stdout!.on("data", (c: string) => {
      out += c;
      const nl = out.indexOf("\n");
      if (nl >= 0) {
        clearTimeout(timer);
        const stop = () => {
          if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
          const exited = new Promise<void>((r) => child.once("exit", () => r()));
          child.kill("SIGTERM");
          return exited;
        };
        resolve({ child, url: out.slice(0, nl), stdout: () => out, stderr: () => err, stop });
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`agent exited (${code}) before printing its URL; stderr: ${err}`));
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 5000, stepMs = 25): Promise<boolean> {
  const t0 = Date.now();
  for (;;) {
    if (await cond()) return true;
    if (Date.now() - t0 > timeoutMs) return false;
    await sleep(stepMs);
  }
}
