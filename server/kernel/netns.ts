/**
 * The demo network: a private network namespace joined to the host by a veth pair, addressed from
 * 198.18.0.0/15 (the benchmarking range, RFC 2544), which disappears when its owner dies.
 *
 * Lifetime: the namespace is not named (`ip netns add` would bind-mount it under /run/netns and
 * it would survive us). It is held only by a holder process, `setpriv --pdeathsig KILL -- unshare
 * --net -- sleep infinity`, which the kernel kills when this process dies, even by SIGKILL. The
 * veth pair is created in one step with its peer already inside the namespace (`ip link add ...
 * peer name X netns PID`), so no moment exists where both ends sit in the host namespace: when
 * the namespace goes, its end goes, and deleting one end of a veth deletes the other. Sockets
 * this process opens inside the namespace (the traffic source) hold it too; they are fds, closed
 * by `down()` or by the process's death.
 *
 * Names: `bpg<pid base36><n base36>` plus `h` (host end) or `n` (namespace end), at most 15
 * characters (IFNAMSIZ - 1), unique per process and instance.
 */
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { openSync, closeSync, readlinkSync, writeFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { setns, ifNameToIndex, socket, bindRaw, closeFd, setsockoptInt } from "../native/libc";
import { PlaygroundError } from "../../lib/errors";
import { sockaddrLl } from "./attach";
import { sendFramesNow } from "./frame-sender";
import type { TrafficJob } from "./traffic-source";

const run = promisify(execFile);

const CLONE_NEWNET = 0x40000000;
const AF_PACKET = 17;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_SNDBUF = 7;

/**
 * Runs `fn` with the calling thread inside the network namespace at `nsPath`, then returns to the
 * original one. Only this thread moves (setns on a net namespace is per thread), `fn` must be
 * synchronous, and anything it creates (sockets) stays in that namespace for its whole life.
 */
export function inNetns<T>(nsPath: string, fn: () => T): T {
  const home = openSync("/proc/thread-self/ns/net", "r");
  let target = -1;
  try {
    target = openSync(nsPath, "r");
    setns(target, CLONE_NEWNET);
    try {
      return fn();
    } finally {
      // Failing to come back would leave the agent working in the wrong namespace: never continue.
      try {
        setns(home, CLONE_NEWNET);
      } catch (e) {
        process.stderr.write(`fatal: cannot return to the original network namespace: ${(e as Error).message}\n`);
        process.abort();
      }
    }
  } finally {
    if (target >= 0) closeSync(target);
    closeSync(home);
  }
}

let instances = 0;
const live = new Set<DemoNetwork>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A normal exit kills the holders at once (pdeathsig covers every other way to die).
  process.on("exit", () => {
    for (const n of live) n.killHolder();
  });
}

/** An unused /30 in 198.18.0.0/15 for this instance, as [host address, namespace address]. */
async function pickSubnet(seed: number): Promise<[string, string]> {
  let used = "";
  try {
    used = (await run("ip", ["-4", "-o", "addr", "show"])).stdout;
  } catch {
    // Without the listing, collisions are still unlikely (one /30 out of 32768).
  }
  for (let k = 0; k < 32768; k++) {
    const block = (seed + k * 7919) % 32768; // 2^15 blocks of 4 addresses
    const base = (198 << 24) + (18 << 16) + block * 4;
    const ip = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
    const host = ip(base + 1);
    const ns = ip(base + 2);
    if (!used.includes(` ${host}/`) && !used.includes(` ${ip(base)}/`)) return [host, ns];
  }
  throw new PlaygroundError("kernel/netns", "no free /30 left in 198.18.0.0/15");
}

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new PlaygroundError("kernel/netns", `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function nsLink(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}

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
  sent: number;
  elapsedNs: number;
  /** sent / elapsed. */
  pps: number;
}

/** A running traffic source process. */
export interface TrafficRun {
  readonly pid: number;
  readonly done: Promise<TrafficResult>;
  /** Ends the run early; `done` still resolves with the exact count sent. */
  stop(): void;
}

export class DemoNetwork {
  readonly hostIf: string;
  readonly nsIf: string;
  readonly nsPath: string;
  hostIfindex = 0;
  nsIfindex = 0;
  hostAddr = "";
  nsAddr = "";
  readonly prefixLen = 30;
  #holder: ChildProcess;
  /** Resolves when the holder process is gone (exited, killed, or never started). */
  #holderGone: Promise<void>;
  #sockets = new Set<number>();
  #children = new Set<ChildProcess>();
  #up = false;

  private constructor(readonly name: string, holder: ChildProcess) {
    this.hostIf = `${name}h`;
    this.nsIf = `${name}n`;
    this.#holder = holder;
    this.#holderGone = new Promise<void>((resolve) => {
      holder.once("close", () => resolve());
      holder.once("error", () => resolve());
    });
    this.nsPath = `/proc/${holder.pid}/ns/net`;
  }

  get holderPid(): number {
    return this.#holder.pid ?? -1;
  }

  get isUp(): boolean {
    return this.#up;
  }

  /** Creates the namespace, the veth pair and the addresses. */
  static async up(): Promise<DemoNetwork> {
    installExitHook();
    const n = instances++;
    const name = `bpg${process.pid.toString(36)}${n.toString(36)}`;
    if (name.length + 1 > 15) throw new PlaygroundError("kernel/netns", `interface name ${name}h is too long`);
    const holder = spawn("setpriv", ["--pdeathsig", "KILL", "--", "unshare", "--net", "--", "sleep", "infinity"], {
      stdio: "ignore",
    });
    const net = new DemoNetwork(name, holder);
    live.add(net);
    try {
      await new Promise<void>((resolve, reject) => {
        holder.once("spawn", () => resolve());
        holder.once("error", (e) => reject(new PlaygroundError("kernel/netns", `cannot start the namespace holder (setpriv, unshare): ${e.message}`)));
      });
      // Until unshare has run, /proc/PID/ns/net is still ours.
      const mine = nsLink("/proc/self/ns/net");
      await waitFor(() => {
        if (holder.exitCode !== null || holder.signalCode !== null) throw new PlaygroundError("kernel/netns", "the namespace holder exited early");
        const theirs = nsLink(net.nsPath);
        return theirs !== null && theirs !== mine;
      }, 5000, "the holder's network namespace");
      await net.#configure(n);
      net.#up = true;
      return net;
    } catch (e) {
      await net.down();
      throw e;
    }
  }

  async #configure(n: number): Promise<void> {
    const pid = String(this.holderPid);
    await run("ip", ["link", "add", this.hostIf, "type", "veth", "peer", "name", this.nsIf, "netns", pid]);
    [this.hostAddr, this.nsAddr] = await pickSubnet(process.pid * 31 + n * 4099);
    // No IPv6: router solicitations, MLD reports and DAD would add frames nobody asked for.
    writeFileSync(`/proc/sys/net/ipv6/conf/${this.hostIf}/disable_ipv6`, "1");
    await run("ip", ["addr", "add", `${this.hostAddr}/${this.prefixLen}`, "dev", this.hostIf]);
    await run("ip", ["link", "set", this.hostIf, "up"]);
    this.inNs(() => {
      if (existsSync(`/proc/sys/net/ipv6/conf/${this.nsIf}/disable_ipv6`)) writeFileSync(`/proc/sys/net/ipv6/conf/${this.nsIf}/disable_ipv6`, "1");
    });
    await run("nsenter", [`--net=${this.nsPath}`, "ip", "link", "set", "lo", "up"]);
    await run("nsenter", [`--net=${this.nsPath}`, "ip", "addr", "add", `${this.nsAddr}/${this.prefixLen}`, "dev", this.nsIf]);
    await run("nsenter", [`--net=${this.nsPath}`, "ip", "link", "set", this.nsIf, "up"]);
    this.hostIfindex = ifNameToIndex(this.hostIf);
    this.nsIfindex = this.inNs(() => ifNameToIndex(this.nsIf));
    if (!this.hostIfindex || !this.nsIfindex) throw new PlaygroundError("kernel/netns", "veth pair missing after creation");
  }

  /** Runs `fn` (synchronously) inside the namespace. */
  inNs<T>(fn: () => T): T {
    return inNetns(this.nsPath, fn);
  }

  /**
   * An AF_PACKET socket inside the namespace, bound to its veth end: frames written to it leave
   * the namespace and arrive on the host end (`hostIf`). Owned by this network (closed by down()).
   */
  openSender(): number {
    this.#assertUp();
    const fd = this.inNs(() => socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
    this.#sockets.add(fd);
    try {
      setsockoptInt(fd, SOL_SOCKET, SO_SNDBUF, 4 << 20, "SO_SNDBUF");
      // Protocol 0 in the bind: the socket only sends, it never receives a copy of anything.
      bindRaw(fd, sockaddrLl(this.nsIfindex, 0), `AF_PACKET ${this.nsIf}`);
      return fd;
    } catch (e) {
      this.closeSocket(fd);
      throw e;
    }
  }

  closeSocket(fd: number): void {
    if (this.#sockets.delete(fd)) closeFd(fd);
  }

  /** Sends exactly `count` frames (cycling) from inside the namespace, in this process, now. */
  sendFrames(frames: readonly Uint8Array[], count = frames.length): number {
    const fd = this.openSender();
    try {
      return sendFramesNow(fd, frames, count);
    } finally {
      this.closeSocket(fd);
    }
  }

  /** Starts a traffic source process replaying `frames` out of the namespace's veth end. */
  startTraffic(opts: TrafficOptions): TrafficRun {
    this.#assertUp();
    const fd = this.openSender();
    const runTs = fileURLToPath(new URL("../../bin/run-ts.mjs", import.meta.url));
    const script = fileURLToPath(new URL("./traffic-source.ts", import.meta.url));
    let child: ChildProcess;
    try {
      child = spawn("setpriv", ["--pdeathsig", "KILL", "--", process.execPath, runTs, script], {
        stdio: ["pipe", "pipe", "pipe", fd],
      });
    } finally {
      // The child has its own copy of the socket now (or failed to start): ours can go.
      this.closeSocket(fd);
    }
    this.#children.add(child);
    const spawnFailed = new Promise<string>((resolve) => child.once("error", (e) => resolve(e.message)));
    const job: TrafficJob = {
      frames: opts.frames.map((f) => Buffer.from(f).toString("base64")),
      rate: opts.rate ?? 0,
      count: opts.count ?? null,
      durationMs: opts.durationMs ?? null,
      batch: opts.batch ?? 64,
    };
    child.stdin!.on("error", () => undefined); // EPIPE if it died: reported through `done`
    child.stdin!.write(`${JSON.stringify(job)}\n`);
    const done = new Promise<TrafficResult>((resolve, reject) => {
      let buf = "";
      let err = "";
      let result: TrafficResult | null = null;
      let failure: string | null = null;
      child.stdout!.setEncoding("utf8");
      child.stdout!.on("data", (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          let msg: { progress?: number; done?: boolean; sent?: number; elapsedNs?: number; error?: string };
          try {
            msg = JSON.parse(line);
          } catch {
            continue;
          }
          if (typeof msg.progress === "number") opts.onProgress?.(msg.progress);
          if (msg.done === true) result = { sent: msg.sent ?? 0, elapsedNs: msg.elapsedNs ?? 0, pps: (msg.sent ?? 0) / ((msg.elapsedNs || 1) / 1e9) };
          if (msg.done === false) failure = msg.error ?? "traffic source failed";
        }
      });
      child.stderr!.setEncoding("utf8");
      child.stderr!.on("data", (c: string) => (err = (err + c).slice(-2000)));
      void spawnFailed.then((m) => {
        this.#children.delete(child);
        reject(new PlaygroundError("kernel/traffic", `cannot start the traffic source: ${m}`));
      });
      child.on("close", (code, signal) => {
        this.#children.delete(child);
        if (result) resolve(result);
        else reject(new PlaygroundError("kernel/traffic", failure ?? `traffic source ended (${signal ?? code}) without a report${err ? `: ${err.trim()}` : ""}`));
      });
    });
    return {
      pid: child.pid ?? -1,
      done,
      stop: () => {
        if (child.exitCode === null && child.signalCode === null) child.stdin?.write("stop\n");
      },
    };
  }

  #assertUp(): void {
    if (!this.#up) throw new PlaygroundError("kernel/netns", "the demo network is down");
  }

  /** SIGKILLs the holder (synchronous; the namespace is then torn down by the kernel). */
  killHolder(): void {
    for (const c of this.#children) c.kill("SIGKILL");
    for (const fd of this.#sockets) closeFd(fd);
    this.#sockets.clear();
    if (this.#holder.exitCode === null && this.#holder.signalCode === null) this.#holder.kill("SIGKILL");
  }

  /** Tears everything down and waits until the host end of the veth is gone. */
  async down(): Promise<void> {
    this.#up = false;
    const children = [...this.#children];
    this.killHolder();
    await Promise.all(
      children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => { c.once("close", r); c.once("error", r); }))),
    );
    await this.#holderGone;
    live.delete(this);
    // The kernel destroys the namespace (and with it the veth pair) asynchronously.
    await waitFor(() => ifNameToIndex(this.hostIf) === 0, 10_000, `${this.hostIf} to disappear`);
  }
}
