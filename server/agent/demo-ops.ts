/**
 * A connection's demo network and the traffic jobs on it: demoUp, demoDown, trafficStart,
 * trafficStop, trafficWait. The namespace is the connection's and goes down when it closes, even
 * if it was still being made then.
 */
import { isPlaygroundError, type PlaygroundError } from "../../lib/errors";
import { generateMix } from "../../lib/craft";
import type { ParamsOf, ResultOf } from "../../lib/protocol";
import type { TrafficResult, TrafficRun } from "../kernel/netns";
import type { DemoNet } from "./backend";
import { bytesOf } from "./program-ops";
import { DLT_EN10MB } from "./programs";
import { fail, type Scope } from "./scope";

interface TrafficEntry {
  run: TrafficRun;
  result: TrafficResult | null;
  error: PlaygroundError | null;
  done: Promise<void>;
}

export class DemoOps {
  #demo: DemoNet | null = null;
  #demoPending: Promise<DemoNet> | null = null;
  readonly #traffic = new Map<number, TrafficEntry>();

  /** `beforeDown` releases what is attached to the demo network before it goes. */
  constructor(
    private readonly scope: Scope,
    private readonly beforeDown: () => void,
  ) {}

  get net(): DemoNet | null {
    return this.#demo;
  }

  get trafficCount(): number {
    return this.#traffic.size;
  }

  async up(): Promise<ResultOf<"demoUp">> {
    if (!this.#demo || !this.#demo.isUp) {
      this.#demoPending ??= this.scope.ctx.backend.demoUp();
      let net: DemoNet;
      try {
        net = await this.#demoPending;
      } finally {
        this.#demoPending = null;
      }
      if (this.scope.disposed()) {
        // The client left while the namespace was being made: it must not outlive the connection.
        await net.down();
        throw fail("agent/closed", "the connection closed");
      }
      this.#demo = net;
    }
    const d = this.#demo;
    return { hostIf: d.hostIf, nsIf: d.nsIf, hostIfindex: d.hostIfindex, hostAddr: d.hostAddr, nsAddr: d.nsAddr, prefixLen: d.prefixLen };
  }

  async down(): Promise<ResultOf<"demoDown">> {
    await this.tearDown();
    return {};
  }

  async tearDown(): Promise<void> {
    this.beforeDown();
    if (this.scope.disposed() && this.#demoPending) {
      // A namespace still being made when the client left: wait for it, then take it down too.
      const late = await this.#demoPending.catch(() => null);
      if (late) await late.down();
    }
    for (const t of this.#traffic.values()) t.run.stop();
    const net = this.#demo;
    this.#demo = null;
    if (net) await net.down();
    this.#traffic.clear();
  }

  trafficStart(p: ParamsOf<"trafficStart">): ResultOf<"trafficStart"> {
    const demo = this.#demo;
    const limits = this.scope.ctx.limits;
    if (!demo || !demo.isUp) throw fail("agent/demo-down", "the demo network is not up on this connection (send demoUp first)");
    const running = [...this.#traffic.values()].filter((t) => !t.result && !t.error).length;
    if (running >= limits.trafficJobsPerConnection) throw fail("agent/limit", `at most ${limits.trafficJobsPerConnection} traffic jobs at once`);
    // Finished jobs are kept for trafficWait/trafficStop; drop the oldest once there are many.
    if (this.#traffic.size >= 64) {
      for (const [id, t] of this.#traffic) if (t.result || t.error) {
        this.#traffic.delete(id);
        break;
      }
    }
    let frames: Uint8Array[];
    if (p.frames.kind === "supplied") {
      frames = p.frames.frames.map(bytesOf);
    } else {
      // Frames the veth's 1500-byte MTU takes; lib/craft's mix has a few jumbo ones.
      frames = generateMix(p.frames.seed ?? 1, (p.frames.distinct ?? 256) * 2, { dlt: DLT_EN10MB })
        .map((x) => x.data)
        .filter((d) => d.length >= 14 && d.length <= 1514)
        .slice(0, p.frames.distinct ?? 256);
    }
    const run = p.mode === "xdp-live" ? this.#startLive(demo, frames, p) : demo.startTraffic({ frames, rate: p.rate, count: p.count, durationMs: p.durationMs });
    const entry: TrafficEntry = { run, result: null, error: null, done: Promise.resolve() };
    entry.done = run.done.then(
      (r) => void (entry.result = r),
      (e: unknown) => void (entry.error = isPlaygroundError(e) ? e : fail("kernel/traffic", String((e as Error)?.message ?? e))),
    );
    const id = this.scope.newHandle();
    this.#traffic.set(id, entry);
    return { traffic: id, frames: frames.length };
  }

  /** The kernel's generator sends as fast as it can, an exact count: no rate, no duration. */
  #startLive(demo: DemoNet, frames: Uint8Array[], p: ParamsOf<"trafficStart">): TrafficRun {
    if (!demo.startLiveTraffic) throw fail("agent/unsupported", "this agent's demo network has no xdp-live traffic");
    if (p.rate) throw fail("agent/bad-request", "xdp-live traffic is sent as fast as possible: rate must be 0 or absent");
    if (p.count === undefined || p.durationMs !== undefined) throw fail("agent/bad-request", "xdp-live traffic needs a count (and no durationMs)");
    return demo.startLiveTraffic({ frames, count: p.count, batchSize: p.batchSize });
  }

  #entry(id: number): TrafficEntry {
    const t = this.#traffic.get(id);
    if (!t) throw fail("agent/no-such-handle", `no traffic job ${id} on this connection`);
    return t;
  }

  #outcome(t: TrafficEntry): ResultOf<"trafficStop"> {
    if (t.error) throw t.error;
    const r = t.result!;
    return { sent: r.sent, elapsedNs: Math.round(r.elapsedNs), pps: r.pps };
  }

  async trafficStop(p: ParamsOf<"trafficStop">): Promise<ResultOf<"trafficStop">> {
    const t = this.#entry(p.traffic);
    if (!t.result && !t.error) t.run.stop();
    await t.done;
    return this.#outcome(t);
  }

  async trafficWait(p: ParamsOf<"trafficWait">): Promise<ResultOf<"trafficWait">> {
    const t = this.#entry(p.traffic);
    const ms = p.timeoutMs ?? 60_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = await Promise.race([
      t.done.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), ms))),
    ]);
    clearTimeout(timer);
    if (timedOut) throw fail("agent/timeout", `traffic job ${p.traffic} still running after ${ms} ms`);
    return this.#outcome(t);
  }

  trafficObjects(): ResultOf<"objects">["traffic"] {
    return [...this.#traffic].map(([traffic, t]) => ({ traffic, running: !t.result && !t.error }));
  }
}
