/**
 * A small pool of worker processes for work that must not run on a server's event loop: native
 * calls on untrusted input (libpcap's compiler can crash or run for minutes) and kernel calls that
 * block for as long as the verifier or a test run takes.
 *
 * Why processes and not threads: a crash in native code kills only the worker, and a fatal signal
 * is the one thing that stops a thread stuck in bpf(2): the verifier and BPF_PROG_TEST_RUN both
 * give up when the caller has a fatal signal pending. So every request has a time budget, an
 * optional AbortSignal (its connection closed, or a newer request superseded it), and either ends
 * the request by killing its worker with SIGKILL; the pool starts a fresh one.
 *
 * Descriptors cross by pidfd_getfd in both directions (see protocol.ts), so a program the worker
 * loaded belongs to the parent as soon as the reply arrives.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { setPriority } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { PlaygroundError, type ErrorPosition } from "../../lib/errors";
import { SyscallError } from "../native/errno";
import { closeFd, pidfdGetfd, pidfdOpen } from "../native/libc";
import type { OpArgs, OpName, OpResult } from "./operations";
import type { FromWorker, SerializedError, ToWorker } from "./protocol";

export interface IsolatePoolOptions {
  /** Shown in errors: "the compile worker …". */
  name: string;
  /** Most workers running at once; further requests wait in order. */
  maxWorkers?: number;
  /** Workers kept started while idle, so a request does not pay for a start. */
  warmWorkers?: number;
  /** Extra environment for the workers. */
  env?: Record<string, string>;
  /**
   * Scheduling niceness of the workers (default 10). Their work (the verifier, a test run,
   * libpcap's optimizer) is bulk CPU; the server's event loop answering everyone else must win
   * every contended core, or a 2-core machine under load delays replies by whole time slices.
   */
  nice?: number;
}

export interface RunOptions {
  /** Wall-clock budget from the moment the request is queued. */
  budgetMs: number;
  /** Aborting ends the request (and its worker, if it has started). */
  signal?: AbortSignal;
  /** The caller's descriptors the operation borrows. */
  fds?: number[];
}

export interface RunOutput<R> {
  result: R;
  /** Descriptors the operation created, now owned by the caller. */
  fds: number[];
}

interface Task {
  op: string;
  args: unknown;
  fds: number[];
  budgetMs: number;
  deadline: number;
  signal?: AbortSignal;
  resolve(v: RunOutput<unknown>): void;
  reject(e: unknown): void;
}

interface Worker {
  child: ChildProcess;
  ready: Promise<void>;
  task: Task | null;
  /** Exited, or killed and about to: never given another task. */
  dead: boolean;
}

/** Where the project's files are, whether this module runs from source or bundled by Next. */
function projectRoot(): string {
  const fromEnv = process.env.BPFP_ROOT;
  if (fromEnv) return fromEnv;
  const candidates = [process.cwd()];
  try {
    candidates.unshift(resolve(dirname(fileURLToPath(import.meta.url)), "..", ".."));
  } catch {
    // Bundled: import.meta.url is not a file URL.
  }
  for (const c of candidates) if (existsSync(join(c, "server", "isolate", "worker.ts"))) return c;
  throw new PlaygroundError("isolate/setup", "cannot find the project's server/isolate/worker.ts (set BPFP_ROOT)");
}

function rebuild(e: SerializedError): PlaygroundError {
  if (e.syscall) {
    const err = new SyscallError(e.syscall.op, e.syscall.errno);
    return err;
  }
  return new PlaygroundError(e.code, e.message, e.position as ErrorPosition | undefined);
}

export class IsolatePool {
  readonly #name: string;
  readonly #max: number;
  readonly #warm: number;
  readonly #env: Record<string, string>;
  readonly #nice: number;
  readonly #workers = new Set<Worker>();
  readonly #queue: Task[] = [];
  #nextId = 1;
  #closed = false;

  constructor(opts: IsolatePoolOptions) {
    this.#name = opts.name;
    this.#max = Math.max(1, opts.maxWorkers ?? 2);
    this.#warm = Math.min(this.#max, Math.max(0, opts.warmWorkers ?? 1));
    this.#env = opts.env ?? {};
    this.#nice = opts.nice ?? 10;
  }

  /** Workers started and alive (busy or idle). */
  get size(): number {
    return this.#workers.size;
  }

  /** Workers running a request right now. */
  get busy(): number {
    let n = 0;
    for (const w of this.#workers) if (w.task !== null) n++;
    return n;
  }

  /** Process ids of the live workers (for tests and diagnostics). */
  pids(): number[] {
    return [...this.#workers].flatMap((w) => (w.child.pid === undefined ? [] : [w.child.pid]));
  }

  /**
   * Keeps `warmWorkers` idle workers started (within maxWorkers), so a request arriving while the
   * others are busy does not wait for a process to start.
   */
  warmUp(): void {
    const idle = () => [...this.#workers].filter((w) => !w.dead && w.task === null).length;
    while (!this.#closed && this.#workers.size < this.#max && idle() < this.#warm) this.#spawn();
  }

  run<K extends OpName>(op: K, args: OpArgs<K>, opts: RunOptions): Promise<RunOutput<OpResult<K>>> {
    if (this.#closed) return Promise.reject(new PlaygroundError("isolate/closed", `the ${this.#name} workers are shut down`));
    if (opts.signal?.aborted) return Promise.reject(this.#aborted(opts.signal));
    return new Promise((resolvePromise, rejectPromise) => {
      const task: Task = {
        op,
        args,
        fds: opts.fds ?? [],
        budgetMs: opts.budgetMs,
        deadline: Date.now() + opts.budgetMs,
        signal: opts.signal,
        resolve: resolvePromise as (v: RunOutput<unknown>) => void,
        reject: rejectPromise,
      };
      this.#queue.push(task);
      this.#pump();
    });
  }

  /** Kills every worker; queued and running requests fail. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#queue.splice(0)) t.reject(new PlaygroundError("isolate/closed", `the ${this.#name} workers are shut down`));
    const exits = [...this.#workers].map((w) => this.#kill(w, new PlaygroundError("isolate/closed", `the ${this.#name} workers are shut down`)));
    await Promise.all(exits);
  }

  #aborted(signal: AbortSignal): PlaygroundError {
    const reason = signal.reason;
    if (reason instanceof PlaygroundError) return reason;
    return new PlaygroundError("isolate/cancelled", `the ${this.#name} request was cancelled${typeof reason === "string" ? `: ${reason}` : ""}`);
  }

  #timeout(task: Task): PlaygroundError {
    return new PlaygroundError("isolate/timeout", `the ${this.#name} request "${task.op}" did not finish within its time budget of ${task.budgetMs} ms and was stopped`);
  }

  #spawn(): Worker {
    const root = projectRoot();
    // spawn with an "ipc" stdio slot is fork; bundlers try to resolve fork's module argument
    // statically and fail on a path known only at run time.
    const child = spawn(process.execPath, [join(root, "bin", "run-ts.mjs"), join(root, "server", "isolate", "worker.ts")], {
      cwd: root,
      env: { ...process.env, ...this.#env },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      serialization: "advanced",
    });
    if (child.pid !== undefined && this.#nice !== 0) {
      try {
        setPriority(child.pid, this.#nice);
      } catch {
        // Not permitted (an unprivileged server asking for a negative value): run at the default.
      }
    }
    let markReady!: () => void;
    const worker: Worker = { child, ready: new Promise<void>((r) => (markReady = r)), task: null, dead: false };
    this.#workers.add(worker);
    child.on("message", (m: FromWorker) => {
      if (m.type === "ready") markReady();
      else this.#reply(worker, m);
    });
    child.on("exit", (code, signal) => {
      worker.dead = true;
      this.#workers.delete(worker);
      markReady();
      const task = worker.task;
      worker.task = null;
      if (task) {
        const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
        task.reject(new PlaygroundError("isolate/crashed", `the ${this.#name} worker ${how} while running "${task.op}"`));
      }
      if (!this.#closed) {
        this.warmUp();
        this.#pump();
      }
    });
    child.on("error", () => {
      // A failed spawn also emits exit; the task is failed there.
    });
    return worker;
  }

  #idle(): Worker | undefined {
    for (const w of this.#workers) if (!w.dead && w.task === null) return w;
    return undefined;
  }

  #pump(): void {
    while (this.#queue.length > 0) {
      let worker = this.#idle();
      if (!worker) {
        if (this.#workers.size >= this.#max) return;
        worker = this.#spawn();
      }
      const task = this.#queue.shift()!;
      this.#start(worker, task);
    }
    if (this.#workers.size > 0) this.warmUp();
  }

  #start(worker: Worker, task: Task): void {
    worker.task = task;
    const remaining = task.deadline - Date.now();
    if (task.signal?.aborted) {
      worker.task = null;
      task.reject(this.#aborted(task.signal));
      this.#pump();
      return;
    }
    if (remaining <= 0) {
      worker.task = null;
      task.reject(this.#timeout(task));
      this.#pump();
      return;
    }
    const timer = setTimeout(() => void this.#kill(worker, this.#timeout(task)), remaining);
    const onAbort = (): void => void this.#kill(worker, this.#aborted(task.signal!));
    task.signal?.addEventListener("abort", onAbort, { once: true });
    const settle = task.resolve;
    const fail = task.reject;
    const cleanup = (): void => {
      clearTimeout(timer);
      task.signal?.removeEventListener("abort", onAbort);
    };
    task.resolve = (v) => (cleanup(), settle(v));
    task.reject = (e) => (cleanup(), fail(e));
    const id = this.#nextId++;
    (task as Task & { id?: number }).id = id;
    void worker.ready.then(() => {
      if (worker.dead || worker.task !== task) return;
      const message: ToWorker = { type: "work", id, op: task.op, args: task.args, fds: task.fds };
      worker.child.send(message);
    });
  }

  #reply(worker: Worker, m: Exclude<FromWorker, { type: "ready" }>): void {
    const task = worker.task as (Task & { id?: number }) | null;
    if (!task || task.id !== m.id) return;
    worker.task = null;
    if (m.type === "failed") {
      task.reject(rebuild(m.error));
    } else {
      let fds: number[] = [];
      try {
        fds = this.#take(worker, m.fds);
        task.resolve({ result: m.result, fds });
      } catch (e) {
        for (const fd of fds) closeFd(fd);
        task.reject(e);
      }
    }
    this.#pump();
  }

  /** Duplicates the worker's descriptors into this process, then lets the worker close its own. */
  #take(worker: Worker, childFds: readonly number[]): number[] {
    if (childFds.length === 0) return [];
    const pidfd = pidfdOpen(worker.child.pid!);
    const mine: number[] = [];
    try {
      for (const fd of childFds) mine.push(pidfdGetfd(pidfd, fd));
    } catch (e) {
      for (const fd of mine) closeFd(fd);
      throw e;
    } finally {
      closeFd(pidfd);
      const release: ToWorker = { type: "release", fds: [...childFds] };
      worker.child.send(release);
    }
    return mine;
  }

  #kill(worker: Worker, reason: PlaygroundError): Promise<void> {
    const task = worker.task;
    worker.task = null;
    if (task) task.reject(reason);
    if (worker.child.exitCode !== null || worker.child.signalCode !== null) return Promise.resolve();
    worker.dead = true;
    return new Promise((done) => {
      worker.child.once("exit", () => done());
      worker.child.kill("SIGKILL");
    });
  }
}
