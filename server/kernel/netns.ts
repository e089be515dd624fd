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
import { promisify } from "node:util";
import { setns, ifNameToIndex, socket, bindRaw, closeFd, setsockoptInt } from "../native/libc";
import { PlaygroundError } from "../../lib/errors";
import { sockaddrLl } from "./attach";
import { sendFramesNow } from "./frame-sender";
import { TrafficWorker, type TrafficOptions, type TrafficRun } from "./traffic";

export type { TrafficOptions, TrafficResult, TrafficRun } from "./traffic";

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
  #workers: TrafficWorker[] = [];
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
    // A dead holder's PID may be reused by an unrelated process: never follow /proc/PID then.
    if (this.#holder.exitCode !== null || this.#holder.signalCode !== null) {
      throw new PlaygroundError("kernel/netns", "the demo network's namespace holder is gone");
    }
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

  /**
   * Replays `frames` out of the namespace's veth end from a traffic source process (see
   * traffic.ts). Idle source processes are reused, so only the first job pays for starting one.
   */
  startTraffic(opts: TrafficOptions): TrafficRun {
    this.#assertUp();
    let worker = this.#workers.find((w) => w.idle);
    if (!worker) {
      const fd = this.openSender();
      try {
        worker = new TrafficWorker(fd);
      } finally {
        // The child has its own copy of the socket now (or failed to start): ours can go.
        this.closeSocket(fd);
      }
      const w = worker;
      this.#workers.push(w);
      void w.exited.then(() => (this.#workers = this.#workers.filter((x) => x !== w)));
    }
    return worker.run(opts);
  }

  #assertUp(): void {
    if (!this.#up) throw new PlaygroundError("kernel/netns", "the demo network is down");
  }

  /** SIGKILLs the holder (synchronous; the namespace is then torn down by the kernel). */
  killHolder(): void {
    for (const w of this.#workers) w.kill();
    for (const fd of this.#sockets) closeFd(fd);
    this.#sockets.clear();
    if (this.#holder.exitCode === null && this.#holder.signalCode === null) this.#holder.kill("SIGKILL");
  }

  /** Tears everything down and waits until the host end of the veth is gone. */
  async down(): Promise<void> {
    this.#up = false;
    const workers = [...this.#workers];
    this.killHolder();
    await Promise.all(workers.map((w) => w.exited));
    await this.#holderGone;
    live.delete(this);
    // The kernel destroys the namespace (and with it the veth pair) asynchronously.
    await waitFor(() => ifNameToIndex(this.hostIf) === 0, 10_000, `${this.hostIf} to disappear`);
  }
}
