/**
 * A connection's attachments and their streams: attach, detach, subscribe, unsubscribe. Each
 * attachment owns its counting program, counter map, event ring and link; releasing it detaches
 * first (so the counters are final), tells the subscriber, then frees the rest.
 *
 * Building the counting program may compile a filter and always runs the verifier: that happens
 * in a worker within the attach budget, like a load. The link itself is made here (one syscall).
 */
import type { CbpfInsn } from "../../lib/cbpf";
import type { ParamsOf, ResultOf, StreamMessage } from "../../lib/protocol";
import type { Target } from "../../lib/translate";
import type { Attachment } from "../kernel/attach";
import type { CounterMap, DemoNet, EventRing } from "./backend";
import type { ProgramEntry, ProgramTable } from "./program-ops";
import { isHostCounts } from "../kernel/host-verdict";
import { BPF_MAP_TYPE_RINGBUF } from "../native/bpf";
import type { CountingSource } from "./programs";
import { fail, type Scope } from "./scope";
import { AttachmentStream } from "./stream";

interface AttachmentEntry {
  attachment: Attachment;
  progFd: number;
  progId: number;
  linkId: number | null;
  counters: CounterMap;
  ring: EventRing;
  hook: string;
  ifname: string;
  ifindex: number;
  onDemo: boolean;
  sampleBytes: number;
  stream: { id: number; stream: AttachmentStream } | null;
  ringRecords: number;
  /** Runs after the attachment is released (an object's program learns it is no longer attached). */
  onRelease?: () => void;
}

/** A host's ring record (bpf/include/playground.h struct playground_event): u32 len, u32 caplen, 64 bytes. */
const HOST_SNAP = 64;
/** Raw tracepoints an object's raw_tp program may be attached to: the skb hook the agent itself uses. */
const OBJECT_TRACEPOINTS = ["netif_receive_skb"];

/** Where stream messages go (the connection's socket). */
export interface StreamOut {
  bufferedAmount(): number;
  send(m: StreamMessage): void;
}

const RECORD_HEADER = 8;

export class AttachmentTable {
  readonly #attachments = new Map<number, AttachmentEntry>();
  readonly #subscriptions = new Map<number, number>(); // subscription -> attachment

  constructor(
    private readonly scope: Scope,
    private readonly programs: ProgramTable,
    private readonly demo: () => DemoNet | null,
    private readonly out: StreamOut,
  ) {}

  get size(): number {
    return this.#attachments.size;
  }

  async attach(id: number, p: ParamsOf<"attach">): Promise<ResultOf<"attach">> {
    const { backend, limits: l, allowedInterfaces } = this.scope.ctx;
    if (this.#attachments.size >= l.attachmentsPerConnection) {
      throw fail("agent/limit", `at most ${l.attachmentsPerConnection} attachments per connection; detach some first`);
    }
    const target = p.target as Target;
    // Where: the demo network's host end, or an interface the agent was told it may use.
    let ifname: string;
    let ifindex: number;
    let onDemo = false;
    if (p.on.kind === "demo") {
      const demo = this.demo();
      if (!demo || !demo.isUp) throw fail("agent/demo-down", "the demo network is not up on this connection (send demoUp first)");
      ifname = demo.hostIf;
      ifindex = demo.hostIfindex;
      onDemo = true;
    } else {
      const name = p.on.name;
      if (!allowedInterfaces.includes(name)) {
        throw fail("agent/interface-not-allowed", `attaching to "${name}" was not allowed when the agent started (--allow-interface ${name}); use the demo network`);
      }
      ifname = name;
      ifindex = backend.ifindex(name);
      if (!ifindex) throw fail("agent/no-such-interface", `no interface named "${name}"`);
    }
    if (p.direction !== undefined && target !== "tc") throw fail("agent/attach", "direction applies to the tc target only");

    if (p.source.kind === "handle") {
      const prog = this.programs.get(p.source.handle);
      if (prog.object) return this.#attachObject(prog, p, { ifname, ifindex, onDemo });
    }

    const info = target === "kprobe" ? backend.kernelInfo() : null;
    if (target === "kprobe" && !info?.skbHook) throw fail("agent/attach", "this kernel offers no skb hook (fentry, the netif_receive_skb raw tracepoint, or a kprobe PMU)");
    const skbHook = info?.skbHook ?? null;
    const hook = skbHook ? { kind: skbHook.kind, ifindex, ...(skbHook.kind === "fentry" ? { function: skbHook.function } : {}) } : null;
    const sampleBytes = p.sampleBytes ?? 64;
    let handleCbpf: CbpfInsn[] | null = null;
    if (p.source.kind === "handle") {
      const prog = this.programs.get(p.source.handle);
      if (!prog.cbpf) throw fail("agent/attach-raw", "attach needs a filter or classic program (the agent adds the counting epilogue); raw eBPF programs can be loaded, inspected and test-run only");
      handleCbpf = prog.cbpf;
    }

    const owned: (() => void)[] = [];
    const cleanup = () => {
      for (const f of owned.reverse()) {
        try {
          f();
        } catch {
          // best effort: the rest must still be released
        }
      }
    };
    try {
      const counters = backend.createCounters();
      owned.push(() => counters.close());
      const ring = backend.createRing(l.ringBytes);
      owned.push(() => ring.close());
      const src = p.source;
      const source: CountingSource = handleCbpf ? { kind: "classic", cbpf: handleCbpf } : src.kind === "filter" ? { ...src, kind: "filter" } : { kind: "cbpf", insns: (src as { insns: string }).insns };
      const layout = target === "kprobe" ? backend.skbLayout() : null;
      if (target === "kprobe" && !layout) throw fail("agent/btf", "attaching the kprobe target needs the kernel's BTF (/sys/kernel/btf/vmlinux) to find skb->dev");
      const { built, r } = await this.scope.jobs.run({ id, op: "attach" }, l.budgets.attachMs, async (job) => {
        const built = await backend.buildCounting({ source, target, plan: { countersFd: counters.fd, eventsFd: ring.fd, sampleBytes }, hook, layout }, job());
        const r = await backend.loadProgram(
          {
            insns: built.insns,
            type: built.kind,
            logLevel: 1,
            name: `bpg_live_${target}`.slice(0, 15),
            maxLogSize: l.logBytes,
            ...(built.attachFunc ? { attachFunc: built.attachFunc } : {}),
          },
          job(),
          [counters.fd, ring.fd],
        );
        return { built, r };
      });
      if (!r.ok) {
        throw fail("kernel/verifier", `the kernel rejected the counting program (${r.errnoName}):\n${r.log}`);
      }
      owned.push(() => backend.closeFd(r.fd));
      if (this.scope.disposed()) throw fail("agent/closed", "the connection closed");
      let attachment: Attachment;
      let hookName: string;
      switch (target) {
        case "xdp":
          attachment = backend.attach({ hook: "xdp", progFd: r.fd, ifindex, mode: p.xdpMode ?? "auto" });
          hookName = "xdp";
          break;
        case "tc": {
          const direction = p.direction ?? "ingress";
          attachment = backend.attach({ hook: "tcx", progFd: r.fd, ifindex, direction });
          hookName = `tcx-${direction}`;
          break;
        }
        case "socket":
          attachment = backend.attach({ hook: "socket", progFd: r.fd, ifindex });
          hookName = "socket";
          break;
        case "kprobe": {
          const h = info!.skbHook!;
          if (h.kind === "raw_tp") {
            attachment = backend.attach({ hook: "raw_tp", progFd: r.fd, tracepoint: h.tracepoint });
            hookName = `raw_tp:${h.tracepoint}`;
          } else {
            attachment = backend.attach({ hook: h.kind, progFd: r.fd, func: h.function });
            hookName = `${h.kind}:${h.function}`;
          }
          break;
        }
      }
      owned.push(() => attachment.detach());
      let linkId: number | null = null;
      if (target !== "socket") {
        try {
          linkId = backend.linkInfo(attachment.fd).id;
        } catch {
          linkId = null; // attached without a link object the kernel can describe (old kprobe path)
        }
      }
      const progId = backend.progInfo(r.fd).id;
      if (onDemo && this.demo() === null) throw fail("agent/demo-down", "the demo network went down while the counting program was built");
      const attachmentId = this.scope.newHandle();
      this.#attachments.set(attachmentId, {
        attachment,
        progFd: r.fd,
        progId,
        linkId,
        counters,
        ring,
        hook: hookName,
        ifname,
        ifindex,
        onDemo,
        sampleBytes,
        stream: null,
        ringRecords: Math.floor(l.ringBytes / (RECORD_HEADER + ((8 + sampleBytes + 7) & ~7))),
      });
      return {
        attachment: attachmentId,
        hook: hookName,
        ifname,
        ifindex,
        progId,
        linkId,
        sampleBytes,
        translation: built.translation!,
      };
    } catch (e) {
      cleanup();
      throw e;
    }
  }

  /**
   * Attaches a program loaded from an object (loadObject) as it is: no counting program is built,
   * the host counts into its own `counts` map and reports into its own `events` ring, which the
   * stream reads like the agent's own. The attachment holds its own duplicates of the program's
   * and the two maps' fds, so unloading the handle does not end it; detach (or the connection's
   * end) does.
   */
  #attachObject(prog: ProgramEntry, p: ParamsOf<"attach">, where: { ifname: string; ifindex: number; onDemo: boolean }): ResultOf<"attach"> {
    const { backend } = this.scope.ctx;
    const object = prog.object!;
    if (p.target !== prog.target) throw fail("agent/attach", `program ${prog.name} is a ${prog.kind} program (section ${object.section}); attach it with target "${prog.target}"`);
    if (p.direction !== undefined && prog.kind !== "tc") throw fail("agent/attach", "direction applies to the tc target only");
    const countsMap = object.maps.find(isHostCounts);
    const eventsMap = object.maps.find((m) => m.name === "events" && m.type === BPF_MAP_TYPE_RINGBUF);
    if (!countsMap || !eventsMap) {
      throw fail("agent/attach-object", `attach streams a host's "counts" array and "events" ring buffer (bpf/include/playground.h); program ${prog.name}'s object lacks ${!countsMap ? '"counts"' : '"events"'}`);
    }
    const owned: (() => void)[] = [];
    try {
      const progFd = backend.dupFd(prog.fd);
      owned.push(() => backend.closeFd(progFd));
      const countsFd = backend.dupFd(countsMap.fd);
      const counters = (() => {
        try {
          return backend.hostCounters(countsFd);
        } catch (e) {
          backend.closeFd(countsFd);
          throw e;
        }
      })();
      owned.push(() => counters.close());
      const eventsFd = backend.dupFd(eventsMap.fd);
      const ring = (() => {
        try {
          return backend.adoptRing(eventsFd, eventsMap.maxEntries);
        } catch (e) {
          backend.closeFd(eventsFd);
          throw e;
        }
      })();
      owned.push(() => ring.close());
      const notes: string[] = [];
      let attachment: Attachment;
      let hookName: string;
      switch (prog.kind) {
        case "xdp":
          attachment = backend.attach({ hook: "xdp", progFd, ifindex: where.ifindex, mode: p.xdpMode ?? "auto" });
          hookName = "xdp";
          break;
        case "tc": {
          const direction = p.direction ?? "ingress";
          attachment = backend.attach({ hook: "tcx", progFd, ifindex: where.ifindex, direction });
          hookName = `tcx-${direction}`;
          break;
        }
        case "socket":
          attachment = backend.attach({ hook: "socket", progFd, ifindex: where.ifindex });
          hookName = "socket";
          break;
        case "raw_tp":
        case "fentry": {
          // libbpf's section names: raw_tp/NAME (or raw_tracepoint/NAME), fentry/FUNCTION.
          const point = object.section.slice(object.section.indexOf("/") + 1);
          if (prog.kind === "raw_tp") {
            if (!OBJECT_TRACEPOINTS.includes(point)) throw fail("agent/attach-object", `a raw_tp program is attached only to ${OBJECT_TRACEPOINTS.join(", ")} (this one's section is ${object.section})`);
            attachment = backend.attach({ hook: "raw_tp", progFd, tracepoint: point });
          } else {
            attachment = backend.attach({ hook: "fentry", progFd, func: point });
          }
          hookName = `${prog.kind}:${point}`;
          notes.push(`the host sees every skb the kernel receives, on every interface: its counts are not limited to ${where.ifname}`);
          break;
        }
        default:
          throw fail("agent/attach-object", `a ${prog.kind} program from an object cannot be attached here`);
      }
      owned.push(() => attachment.detach());
      let linkId: number | null = null;
      if (prog.kind !== "socket") {
        try {
          linkId = backend.linkInfo(attachment.fd).id;
        } catch {
          linkId = null;
        }
      }
      const attachmentId = this.scope.newHandle();
      object.attachments++;
      this.#attachments.set(attachmentId, {
        attachment,
        progFd,
        progId: prog.progId,
        linkId,
        counters,
        ring,
        hook: hookName,
        ifname: where.ifname,
        ifindex: where.ifindex,
        onDemo: where.onDemo,
        sampleBytes: HOST_SNAP,
        stream: null,
        ringRecords: Math.floor(eventsMap.maxEntries / (RECORD_HEADER + ((8 + HOST_SNAP + 7) & ~7))),
        onRelease: () => void object.attachments--,
      });
      return { attachment: attachmentId, hook: hookName, ifname: where.ifname, ifindex: where.ifindex, progId: prog.progId, linkId, sampleBytes: HOST_SNAP, ...(notes.length ? { notes } : {}) };
    } catch (e) {
      for (const f of owned.reverse()) {
        try {
          f();
        } catch {
          // best effort: the rest must still be released
        }
      }
      throw e;
    }
  }

  release(id: number): { total: number; matched: number } {
    const a = this.#attachments.get(id);
    if (!a) return { total: 0, matched: 0 };
    this.#attachments.delete(id);
    const errors: unknown[] = [];
    const step = (f: () => void) => {
      try {
        f();
      } catch (e) {
        errors.push(e);
      }
    };
    // Detach first so the counters are final, then tell the subscriber, then free the maps.
    step(() => a.attachment.detach());
    let last = { total: 0, matched: 0 };
    step(() => (last = a.counters.read()));
    if (a.stream) {
      const s = a.stream;
      this.#subscriptions.delete(s.id);
      step(() => s.stream.finish());
    }
    step(() => this.scope.ctx.backend.closeFd(a.progFd));
    step(() => a.ring.close());
    step(() => a.counters.close());
    if (a.onRelease) step(a.onRelease);
    if (errors.length > 0) this.scope.ctx.log(`releasing attachment ${id}: ${errors.map((e) => (e as Error).message).join("; ")}`);
    return last;
  }

  releaseAll(): void {
    for (const id of [...this.#attachments.keys()]) this.release(id);
    this.#subscriptions.clear();
  }

  /** Before the demo network goes down. */
  releaseOnDemo(): void {
    for (const [id, a] of [...this.#attachments]) if (a.onDemo) this.release(id);
  }

  detach(p: ParamsOf<"detach">): ResultOf<"detach"> {
    if (!this.#attachments.has(p.attachment)) throw fail("agent/no-such-handle", `no attachment ${p.attachment} on this connection`);
    return { counters: this.release(p.attachment) };
  }

  subscribe(p: ParamsOf<"subscribe">): ResultOf<"subscribe"> {
    const limits = this.scope.ctx.limits;
    const a = this.#attachments.get(p.attachment);
    if (!a) throw fail("agent/no-such-handle", `no attachment ${p.attachment} on this connection`);
    if (a.stream) throw fail("agent/busy", `attachment ${p.attachment} already streams to subscription ${a.stream.id}; unsubscribe it first`);
    if (this.#subscriptions.size >= limits.subscriptionsPerConnection) {
      throw fail("agent/limit", `at most ${limits.subscriptionsPerConnection} subscriptions per connection`);
    }
    const id = this.scope.newHandle();
    const stream = new AttachmentStream(
      {
        subscription: id,
        attachment: p.attachment,
        intervalMs: p.intervalMs ?? 100,
        maxEvents: p.maxEvents ?? 256,
        sampleBytes: a.sampleBytes,
        drainLimit: a.ringRecords + 64,
        softBufferBytes: limits.streamSoftBufferBytes,
        hardBufferBytes: limits.streamHardBufferBytes,
      },
      a.counters,
      a.ring,
      this.out,
    );
    stream.onError = (e) => this.scope.ctx.log(`stream ${id} stopped: ${(e as Error).message}`);
    a.stream = { id, stream };
    this.#subscriptions.set(id, p.attachment);
    stream.start();
    return { subscription: id };
  }

  unsubscribe(p: ParamsOf<"unsubscribe">): ResultOf<"unsubscribe"> {
    const att = this.#subscriptions.get(p.subscription);
    if (att === undefined) throw fail("agent/no-such-handle", `no subscription ${p.subscription} on this connection`);
    this.#subscriptions.delete(p.subscription);
    const a = this.#attachments.get(att);
    if (a?.stream) {
      a.stream.stream.stop();
      a.stream = null;
    }
    return {};
  }

  objects(): Pick<ResultOf<"objects">, "attachments" | "subscriptions"> {
    return {
      attachments: [...this.#attachments].map(([attachment, a]) => ({ attachment, hook: a.hook, ifname: a.ifname, progId: a.progId })),
      subscriptions: [...this.#subscriptions].map(([subscription, attachment]) => ({ subscription, attachment })),
    };
  }
}
