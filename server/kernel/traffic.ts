/**
 * The parent side of the traffic source process (traffic-source.ts): spawns it with the sending
 * socket as its fd 3, feeds it jobs one at a time and turns its JSON lines into promises.
 *
 * The process is started through `setpriv --pdeathsig KILL` so that it dies with this process
 * even on SIGKILL: it holds a socket inside the demo namespace, which would otherwise keep the
 * namespace (and the veth pair) alive.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { PlaygroundError } from "../../lib/errors";
import type { TrafficJob } from "./traffic-source";

export interface TrafficOptions {
  /** Frames to replay in order, cycling (each 14..65535 bytes, starting with an Ethernet header). */
  frames: readonly Uint8Array[];
  /** Packets per second; 0 or omitted = as fast as possible. */
  rate?: number;
  /** Exactly this many frames; omitted = until `stop()` or `durationMs`. */
  count?: number;
  durationMs?: number;
  /** Frames per sendmmsg call (default 64). */
  batch?: number;
  /** Called with the running count about every 100 ms. */
  onProgress?: (sent: number) => void;
}

export interface TrafficResult {
  /** Frames the kernel accepted from the socket, exactly. */
  sent: number;
  elapsedNs: number;
  /** sent / elapsed. */
  pps: number;
}

/** A running traffic job. */
export interface TrafficRun {
  /** The source process (shared by successive jobs of one network). */
  readonly pid: number;
  readonly done: Promise<TrafficResult>;
  /** Ends the job early; `done` still resolves with the exact count sent. */
  stop(): void;
}

interface Pending {
  onProgress?: (sent: number) => void;
  resolve(r: TrafficResult): void;
  reject(e: Error): void;
}

export class TrafficWorker {
  readonly child: ChildProcess;
  #pending: Pending[] = [];
  #closed = false;
  #stderr = "";
  /** Resolves when the process has exited (or failed to start). */
  readonly exited: Promise<void>;

  /** `socketFd` is duplicated into the child; the caller may close its copy afterwards. */
  constructor(socketFd: number) {
    const runTs = fileURLToPath(new URL("../../bin/run-ts.mjs", import.meta.url));
    const script = fileURLToPath(new URL("./traffic-source.ts", import.meta.url));
    this.child = spawn("setpriv", ["--pdeathsig", "KILL", "--", process.execPath, runTs, script], {
      stdio: ["pipe", "pipe", "pipe", socketFd],
    });
    this.exited = new Promise<void>((resolve) => {
      this.child.once("close", (code, signal) => {
        this.#fail(`traffic source ended (${signal ?? code})${this.#stderr ? `: ${this.#stderr.trim()}` : ""}`);
        resolve();
      });
      this.child.once("error", (e) => {
        this.#fail(`cannot start the traffic source: ${e.message}`);
        resolve();
      });
    });
    this.child.stdin!.on("error", () => undefined); // EPIPE after it died: reported through the job
    let buf = "";
    this.child.stdout!.setEncoding("utf8");
    this.child.stdout!.on("data", (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        this.#line(line);
      }
    });
    this.child.stderr!.setEncoding("utf8");
    this.child.stderr!.on("data", (c: string) => (this.#stderr = (this.#stderr + c).slice(-2000)));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get idle(): boolean {
    return this.#pending.length === 0 && !this.#closed;
  }

  #line(line: string): void {
    let msg: { progress?: number; done?: boolean; sent?: number; elapsedNs?: number; error?: string };
    try {
      msg = JSON.parse(line);
    } catch {
      return;
    }
    const head = this.#pending[0];
    if (!head) return;
    if (typeof msg.progress === "number") head.onProgress?.(msg.progress);
    if (msg.done === true) {
      this.#pending.shift();
      const sent = msg.sent ?? 0;
      const ns = msg.elapsedNs ?? 0;
      head.resolve({ sent, elapsedNs: ns, pps: ns > 0 ? sent / (ns / 1e9) : 0 });
    } else if (msg.done === false) {
      this.#pending.shift();
      head.reject(new PlaygroundError("kernel/traffic", msg.error ?? "traffic source failed"));
    }
  }

  #fail(message: string): void {
    this.#closed = true;
    for (const p of this.#pending.splice(0)) p.reject(new PlaygroundError("kernel/traffic", message));
  }

  run(opts: TrafficOptions): TrafficRun {
    if (this.#closed) throw new PlaygroundError("kernel/traffic", "traffic source is gone");
    const job: TrafficJob = {
      frames: opts.frames.map((f) => Buffer.from(f).toString("base64")),
      rate: opts.rate ?? 0,
      count: opts.count ?? null,
      durationMs: opts.durationMs ?? null,
      batch: opts.batch ?? 64,
    };
    const done = new Promise<TrafficResult>((resolve, reject) => this.#pending.push({ onProgress: opts.onProgress, resolve, reject }));
    this.child.stdin!.write(`${JSON.stringify(job)}\n`);
    return {
      pid: this.pid,
      done,
      stop: () => {
        if (!this.#closed) this.child.stdin!.write("stop\n");
      },
    };
  }

  /** Kills the process at once; pending jobs reject. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }
}
