/**
 * One client connection: it validates each message against lib/protocol, runs the operation
 * through the kernel backend, and owns every kernel object it creates (programs, attachments
 * with their maps, the demo network, traffic jobs, streams). `dispose()` releases all of them;
 * it runs when the socket closes, however it closes.
 *
 * Every failure becomes an error reply naming the request; nothing a client sends can throw out
 * of here.
 */
import type { CbpfInsn } from "../../lib/cbpf";
import { PlaygroundError, isPlaygroundError } from "../../lib/errors";
import { formatProgram as formatCbpf } from "../../lib/cbpf";
import { generateMix } from "../../lib/craft";
import {
  checkRequest,
  encodeError,
  encodeResult,
  encodeStream,
  OP_NAMES,
  peekMessageHead,
  PROTOCOL_VERSION,
  type OpName,
  type ParamsOf,
  type RequestOf,
  type ResultOf,
  type StreamMessage,
} from "../../lib/protocol";
import type { ResultSpec, Target } from "../../lib/translate";
import { SyscallError } from "../native/errno";
import type { Attachment } from "../kernel/attach";
import type { TrafficResult, TrafficRun } from "../kernel/netns";
import type { ProgKind } from "../kernel/prog-types";
import type { CounterMap, DemoNet, EventRing, KernelBackend, TestRunner } from "./backend";
import type { AgentLimits } from "./limits";
import { buildCounting, buildForLoad, classicOf, compileSpec, verdictOf, DLT_EN10MB } from "./programs";
import { AttachmentStream } from "./stream";

export const AGENT_NAME = "bpf-playground agent";

/** What the connection needs from its socket (a `ws` WebSocket fits). */
export interface Transport {
  send(text: string): void;
  readonly bufferedAmount: number;
  readonly isOpen: boolean;
}

export interface ConnectionContext {
  backend: KernelBackend;
  limits: AgentLimits;
  /** Interfaces other than the demo network that attach may use. */
  allowedInterfaces: readonly string[];
  log: (line: string) => void;
}

interface ProgramEntry {
  fd: number;
  kind: ProgKind;
  target: Target;
  name: string;
  progId: number;
  cbpf: CbpfInsn[] | null;
  dlt: number;
  verdict: (retval: number) => boolean;
  runner: TestRunner | null;
}

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
}

interface TrafficEntry {
  run: TrafficRun;
  result: TrafficResult | null;
  error: PlaygroundError | null;
  done: Promise<void>;
}

const RECORD_HEADER = 8;

/** Base64 the schema has already checked, decoded natively (packets arrive by the thousand). */
function bytesOf(b64: string): Uint8Array {
  const b = Buffer.from(b64, "base64");
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

function progName(target: Target, given?: string): string {
  return given && given.length > 0 ? given : `bpg_${target}`;
}

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/** A request failed in a way the client should see as such. */
function fail(code: string, message: string): PlaygroundError {
  return new PlaygroundError(code, message);
}

export class Connection {
  #next = 1;
  #programs = new Map<number, ProgramEntry>();
  #attachments = new Map<number, AttachmentEntry>();
  #subscriptions = new Map<number, number>(); // subscription -> attachment
  #traffic = new Map<number, TrafficEntry>();
  #demo: DemoNet | null = null;
  #demoPending: Promise<DemoNet> | null = null;
  #disposed = false;
  #disposing: Promise<void> | null = null;

  constructor(
    private readonly transport: Transport,
    private readonly ctx: ConnectionContext,
  ) {}

  get backend(): KernelBackend {
    return this.ctx.backend;
  }

  /** Counts of what the connection owns (for tests and logs). */
  get owned(): { programs: number; attachments: number; traffic: number; demo: boolean } {
    return { programs: this.#programs.size, attachments: this.#attachments.size, traffic: this.#traffic.size, demo: this.#demo !== null };
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
    if (e instanceof SyscallError) {
      this.#send(encodeError({ id, op, code: e.code, message: e.message, errno: e.errno, errnoName: e.errnoName }));
    } else if (isPlaygroundError(e)) {
      this.#send(encodeError({ id, op, code: e.code, message: e.message }));
    } else {
      // Not the client's fault: say so without a stack trace, and keep a trace in the agent's log.
      this.ctx.log(`internal error in ${op ?? "message"}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      this.#send(encodeError({ id, op, code: "agent/internal", message: e instanceof Error ? e.message : String(e) }));
    }
  }

  #dispatch(req: RequestOf<OpName>): ResultOf<OpName> | Promise<ResultOf<OpName>> {
    const handlers: { [K in OpName]: (p: ParamsOf<K>) => ResultOf<K> | Promise<ResultOf<K>> } = {
      hello: (p) => this.#hello(p),
      kernelInfo: () => this.#kernelInfo(),
      compile: (p) => this.#compile(p),
      load: (p) => this.#load(p),
      unload: (p) => this.#unload(p),
      inspect: (p) => this.#inspect(p),
      testRun: (p) => this.#testRun(p),
      attach: (p) => this.#attach(p),
      detach: (p) => this.#detach(p),
      demoUp: () => this.#demoUp(),
      demoDown: () => this.#demoDown(),
      trafficStart: (p) => this.#trafficStart(p),
      trafficStop: (p) => this.#trafficStop(p),
      trafficWait: (p) => this.#trafficWait(p),
      subscribe: (p) => this.#subscribe(p),
      unsubscribe: (p) => this.#unsubscribe(p),
      objects: () => this.#objects(),
    };
    const { type, id: _id, ...params } = req;
    return (handlers[type] as (p: unknown) => ResultOf<OpName> | Promise<ResultOf<OpName>>)(params);
  }

  #newHandle(): number {
    return this.#next++;
  }

  #program(handle: number): ProgramEntry {
    const p = this.#programs.get(handle);
    if (!p) throw fail("agent/no-such-handle", `no program with handle ${handle} on this connection`);
    return p;
  }

  // ---------------------------------------------------------------------------------------------
  // Operations

  #hello(p: ParamsOf<"hello">): ResultOf<"hello"> {
    if (p.version !== PROTOCOL_VERSION) {
      throw fail("protocol/version", `this agent speaks protocol version ${PROTOCOL_VERSION}; the client asked for ${p.version}`);
    }
    const l = this.ctx.limits;
    return {
      protocol: PROTOCOL_VERSION,
      agent: AGENT_NAME,
      limits: {
        maxPayloadBytes: l.messageBytes,
        programsPerConnection: l.programsPerConnection,
        attachmentsPerConnection: l.attachmentsPerConnection,
        subscriptionsPerConnection: l.subscriptionsPerConnection,
        packetsPerRun: l.packetsPerRun,
        packetBytes: l.packetBytes,
        runsPerRequest: l.runsPerRequest,
        trafficJobsPerConnection: l.trafficJobsPerConnection,
        outboxBytes: l.outboxBytes,
      },
      interfaces: [...this.ctx.allowedInterfaces],
    };
  }

  #kernelInfo(): ResultOf<"kernelInfo"> {
    const k = this.backend.kernelInfo();
    const hookOk = k.skbHook !== null && k.canLoad[k.skbHook.kind].ok && k.btf;
    const targets: ResultOf<"kernelInfo">["targets"] = {
      socket: { load: k.canLoad.socket.ok, testRun: k.canLoad.socket.ok, attach: k.canLoad.socket.ok },
      tc: { load: k.canLoad.tc.ok, testRun: k.canLoad.tc.ok, attach: k.tcx },
      xdp: { load: k.canLoad.xdp.ok, testRun: k.canLoad.xdp.ok, attach: k.canLoad.xdp.ok },
      kprobe: { load: k.canLoad.kprobe.ok, testRun: false, attach: hookOk },
    };
    return {
      release: k.release,
      version: [k.version[0], k.version[1]],
      arch: k.arch,
      root: k.root,
      canLoad: Object.fromEntries(Object.entries(k.canLoad).map(([n, v]) => [n, v.errnoName ? { ok: v.ok, errnoName: v.errnoName } : { ok: v.ok }])),
      tcx: k.tcx,
      kprobePmu: k.kprobePmu,
      btf: k.btf,
      jitEnabled: k.jitEnabled,
      unprivilegedBpfDisabled: k.unprivilegedBpfDisabled,
      skbHook: k.skbHook,
      config: { ...k.config },
      targets,
    };
  }

  #compile(p: ParamsOf<"compile">): ResultOf<"compile"> {
    const c = compileSpec(this.backend, p);
    return { dlt: c.dlt, insns: c.insns.map(({ code, jt, jf, k }) => ({ code, jt, jf, k: k >>> 0 })), text: formatCbpf(c.insns, "d") };
  }

  #load(p: ParamsOf<"load">): ResultOf<"load"> {
    if (this.#programs.size >= this.ctx.limits.programsPerConnection) {
      throw fail("agent/limit", `at most ${this.ctx.limits.programsPerConnection} programs per connection; unload some first`);
    }
    const result = p.result as ResultSpec | undefined;
    const built = buildForLoad(this.backend, p.program, p.target, result);
    const name = progName(p.target, p.name);
    const r = this.backend.loadProgram({
      insns: built.insns,
      type: built.kind,
      logLevel: (p.logLevel ?? 1) as 0 | 1 | 2,
      stats: p.stats ?? false,
      name,
      maxLogSize: this.ctx.limits.logBytes,
    });
    const translation = built.translated && built.cbpf
      ? { cbpfInsns: built.cbpf.length, ebpfSlots: built.translated.program.slots, notes: [...built.translated.notes] }
      : undefined;
    const stats = { ...r.stats };
    if (!r.ok) {
      return { outcome: "rejected", errno: r.errno, errnoName: r.errnoName, log: r.log, logTruncated: r.logTruncated, stats, ...(translation ? { translation } : {}) };
    }
    let info;
    try {
      info = this.backend.progInfo(r.fd);
    } catch (e) {
      this.backend.closeFd(r.fd);
      throw e;
    }
    const handle = this.#newHandle();
    this.#programs.set(handle, {
      fd: r.fd,
      kind: built.kind,
      target: p.target,
      name,
      progId: info.id,
      cbpf: built.cbpf,
      dlt: built.dlt,
      verdict: verdictOf(result),
      runner: null,
    });
    return {
      outcome: "loaded",
      handle,
      progId: info.id,
      tag: info.tag,
      insns: built.insns.length / 8,
      log: r.log,
      logTruncated: false,
      stats,
      ...(translation ? { translation } : {}),
    };
  }

  #releaseProgram(handle: number): void {
    const p = this.#programs.get(handle);
    if (!p) return;
    this.#programs.delete(handle);
    p.runner?.close();
    this.backend.closeFd(p.fd);
  }

  #unload(p: ParamsOf<"unload">): ResultOf<"unload"> {
    this.#program(p.handle);
    this.#releaseProgram(p.handle);
    return {};
  }

  #inspect(p: ParamsOf<"inspect">): ResultOf<"inspect"> {
    const prog = this.#program(p.handle);
    const d = this.backend.dumpProgram(prog.fd);
    return {
      info: {
        id: d.info.id,
        name: d.info.name,
        tag: d.info.tag,
        kind: d.info.kind,
        verifiedInsns: d.info.verifiedInsns,
        xlatedBytes: d.info.xlatedLen,
        jitedBytes: d.info.jitedLen,
        runCnt: Number(d.info.runCnt),
        runTimeNs: Number(d.info.runTimeNs),
        mapIds: d.info.mapIds,
      },
      xlated: d.xlatedText,
      jit: d.jit.map((f) => ({
        address: f.address.toString(16),
        lines: f.lines.map((l) => ({ offset: l.offset, bytes: hex(l.bytes), text: l.text })),
      })),
      counts: d.counts,
    };
  }

  #testRun(p: ParamsOf<"testRun">): ResultOf<"testRun"> {
    const prog = this.#program(p.handle);
    if (prog.kind !== "socket" && prog.kind !== "tc" && prog.kind !== "xdp") {
      throw fail("kernel/test-run", `BPF_PROG_TEST_RUN cannot run ${prog.kind} programs on packets; attach them to the demo network instead`);
    }
    const repeat = p.repeat ?? 1;
    const l = this.ctx.limits;
    if (p.packets.length > l.packetsPerRun) throw fail("agent/limit", `at most ${l.packetsPerRun} packets per test run`);
    if (p.packets.length * repeat > l.runsPerRequest) {
      throw fail("agent/limit", `${p.packets.length} packets x repeat ${repeat} exceeds ${l.runsPerRequest} runs per request`);
    }
    const packets = p.packets.map(bytesOf);
    prog.runner ??= this.backend.testRunner(prog.fd, prog.kind);
    const linkType = p.linkType ?? prog.dlt;
    const t0 = performance.now();
    let matched = 0;
    let nsSum = 0;
    let ran = 0;
    const results: ResultOf<"testRun">["results"] = packets.map((pkt) => {
      const r = prog.runner!.run(pkt, linkType, repeat);
      if (!r.ok) return r.errnoName ? { status: "error", code: r.code, message: r.message, errnoName: r.errnoName } : { status: "error", code: r.code, message: r.message };
      const match = prog.verdict(r.retval);
      if (match) matched++;
      nsSum += r.durationNs;
      ran++;
      return { status: "ok", retval: r.retval, match, ns: r.durationNs };
    });
    return { results, matched, nsPerPacket: ran > 0 ? nsSum / ran : null, wallMs: performance.now() - t0 };
  }

  // ---------------------------------------------------------------------------------------------
  // Attach, detach, streams

  async #attach(p: ParamsOf<"attach">): Promise<ResultOf<"attach">> {
    const l = this.ctx.limits;
    if (this.#attachments.size >= l.attachmentsPerConnection) {
      throw fail("agent/limit", `at most ${l.attachmentsPerConnection} attachments per connection; detach some first`);
    }
    const target = p.target as Target;
    // Where: the demo network's host end, or an interface the agent was told it may use.
    let ifname: string;
    let ifindex: number;
    let onDemo = false;
    if (p.on.kind === "demo") {
      const demo = this.#demo;
      if (!demo || !demo.isUp) throw fail("agent/demo-down", "the demo network is not up on this connection (send demoUp first)");
      ifname = demo.hostIf;
      ifindex = demo.hostIfindex;
      onDemo = true;
    } else {
      const name = p.on.name;
      if (!this.ctx.allowedInterfaces.includes(name)) {
        throw fail("agent/interface-not-allowed", `attaching to "${name}" was not allowed when the agent started (--allow-interface ${name}); use the demo network`);
      }
      ifname = name;
      ifindex = this.backend.ifindex(name);
      if (!ifindex) throw fail("agent/no-such-interface", `no interface named "${name}"`);
    }
    if (p.direction !== undefined && target !== "tc") throw fail("agent/attach", "direction applies to the tc target only");

    let cbpf: CbpfInsn[];
    if (p.source.kind === "handle") {
      const prog = this.#program(p.source.handle);
      if (!prog.cbpf) throw fail("agent/attach-raw", "attach needs a filter or classic program (the agent adds the counting epilogue); raw eBPF programs can be loaded, inspected and test-run only");
      cbpf = prog.cbpf;
    } else {
      cbpf = classicOf(this.backend, p.source.kind === "filter" ? { ...p.source, kind: "filter" } : { kind: "cbpf", insns: p.source.insns })!.cbpf;
    }

    const info = target === "kprobe" ? this.backend.kernelInfo() : null;
    if (target === "kprobe" && !info?.skbHook) throw fail("agent/attach", "this kernel offers no skb hook (fentry, the netif_receive_skb raw tracepoint, or a kprobe PMU)");
    const skbHook = info?.skbHook ?? null;
    const hook = skbHook ? { kind: skbHook.kind, ifindex, ...(skbHook.kind === "fentry" ? { function: skbHook.function } : {}) } : null;
    const sampleBytes = p.sampleBytes ?? 64;

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
      const counters = this.backend.createCounters();
      owned.push(() => counters.close());
      const ring = this.backend.createRing(l.ringBytes);
      owned.push(() => ring.close());
      const built = buildCounting(this.backend, cbpf, target, { countersFd: counters.fd, eventsFd: ring.fd, sampleBytes }, hook);
      const r = this.backend.loadProgram({
        insns: built.insns,
        type: built.kind,
        logLevel: 1,
        name: `bpg_live_${target}`.slice(0, 15),
        maxLogSize: l.logBytes,
        ...(built.attachFunc ? { attachFunc: built.attachFunc } : {}),
      });
      if (!r.ok) {
        throw fail("kernel/verifier", `the kernel rejected the counting program (${r.errnoName}):\n${r.log}`);
      }
      owned.push(() => this.backend.closeFd(r.fd));
      let attachment: Attachment;
      let hookName: string;
      switch (target) {
        case "xdp":
          attachment = this.backend.attach({ hook: "xdp", progFd: r.fd, ifindex, mode: p.xdpMode ?? "auto" });
          hookName = "xdp";
          break;
        case "tc": {
          const direction = p.direction ?? "ingress";
          attachment = this.backend.attach({ hook: "tcx", progFd: r.fd, ifindex, direction });
          hookName = `tcx-${direction}`;
          break;
        }
        case "socket":
          attachment = this.backend.attach({ hook: "socket", progFd: r.fd, ifindex });
          hookName = "socket";
          break;
        case "kprobe": {
          const h = info!.skbHook!;
          if (h.kind === "raw_tp") {
            attachment = this.backend.attach({ hook: "raw_tp", progFd: r.fd, tracepoint: h.tracepoint });
            hookName = `raw_tp:${h.tracepoint}`;
          } else {
            attachment = this.backend.attach({ hook: h.kind, progFd: r.fd, func: h.function });
            hookName = `${h.kind}:${h.function}`;
          }
          break;
        }
      }
      owned.push(() => attachment.detach());
      let linkId: number | null = null;
      if (target !== "socket") {
        try {
          linkId = this.backend.linkInfo(attachment.fd).id;
        } catch {
          linkId = null; // attached without a link object the kernel can describe (old kprobe path)
        }
      }
      const progId = this.backend.progInfo(r.fd).id;
      const id = this.#newHandle();
      this.#attachments.set(id, {
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
        attachment: id,
        hook: hookName,
        ifname,
        ifindex,
        progId,
        linkId,
        sampleBytes,
        translation: { cbpfInsns: cbpf.length, ebpfSlots: built.translated.program.slots, notes: [...built.translated.notes] },
      };
    } catch (e) {
      cleanup();
      throw e;
    }
  }

  #releaseAttachment(id: number): { total: number; matched: number } {
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
    step(() => this.backend.closeFd(a.progFd));
    step(() => a.ring.close());
    step(() => a.counters.close());
    if (errors.length > 0) this.ctx.log(`releasing attachment ${id}: ${errors.map((e) => (e as Error).message).join("; ")}`);
    return last;
  }

  #detach(p: ParamsOf<"detach">): ResultOf<"detach"> {
    if (!this.#attachments.has(p.attachment)) throw fail("agent/no-such-handle", `no attachment ${p.attachment} on this connection`);
    return { counters: this.#releaseAttachment(p.attachment) };
  }

  #subscribe(p: ParamsOf<"subscribe">): ResultOf<"subscribe"> {
    const a = this.#attachments.get(p.attachment);
    if (!a) throw fail("agent/no-such-handle", `no attachment ${p.attachment} on this connection`);
    if (a.stream) throw fail("agent/busy", `attachment ${p.attachment} already streams to subscription ${a.stream.id}; unsubscribe it first`);
    if (this.#subscriptions.size >= this.ctx.limits.subscriptionsPerConnection) {
      throw fail("agent/limit", `at most ${this.ctx.limits.subscriptionsPerConnection} subscriptions per connection`);
    }
    const id = this.#newHandle();
    const transport = this.transport;
    const stream = new AttachmentStream(
      {
        subscription: id,
        attachment: p.attachment,
        intervalMs: p.intervalMs ?? 100,
        maxEvents: p.maxEvents ?? 256,
        sampleBytes: a.sampleBytes,
        drainLimit: a.ringRecords + 64,
        softBufferBytes: this.ctx.limits.streamSoftBufferBytes,
        hardBufferBytes: this.ctx.limits.streamHardBufferBytes,
      },
      a.counters,
      a.ring,
      {
        bufferedAmount: () => transport.bufferedAmount,
        send: (m: StreamMessage) => this.#send(encodeStream(m)),
      },
    );
    stream.onError = (e) => this.ctx.log(`stream ${id} stopped: ${(e as Error).message}`);
    a.stream = { id, stream };
    this.#subscriptions.set(id, p.attachment);
    stream.start();
    return { subscription: id };
  }

  #unsubscribe(p: ParamsOf<"unsubscribe">): ResultOf<"unsubscribe"> {
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

  // ---------------------------------------------------------------------------------------------
  // Demo network and traffic

  async #demoUp(): Promise<ResultOf<"demoUp">> {
    if (!this.#demo || !this.#demo.isUp) {
      this.#demoPending ??= this.backend.demoUp();
      let net: DemoNet;
      try {
        net = await this.#demoPending;
      } finally {
        this.#demoPending = null;
      }
      if (this.#disposed) {
        // The client left while the namespace was being made: it must not outlive the connection.
        await net.down();
        throw fail("agent/closed", "the connection closed");
      }
      this.#demo = net;
    }
    const d = this.#demo;
    return { hostIf: d.hostIf, nsIf: d.nsIf, hostIfindex: d.hostIfindex, hostAddr: d.hostAddr, nsAddr: d.nsAddr, prefixLen: d.prefixLen };
  }

  async #demoDown(): Promise<ResultOf<"demoDown">> {
    await this.#tearDownDemo();
    return {};
  }

  async #tearDownDemo(): Promise<void> {
    for (const [id, a] of [...this.#attachments]) if (a.onDemo) this.#releaseAttachment(id);
    if (this.#disposed && this.#demoPending) {
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

  #trafficStart(p: ParamsOf<"trafficStart">): ResultOf<"trafficStart"> {
    const demo = this.#demo;
    if (!demo || !demo.isUp) throw fail("agent/demo-down", "the demo network is not up on this connection (send demoUp first)");
    const running = [...this.#traffic.values()].filter((t) => !t.result && !t.error).length;
    if (running >= this.ctx.limits.trafficJobsPerConnection) throw fail("agent/limit", `at most ${this.ctx.limits.trafficJobsPerConnection} traffic jobs at once`);
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
    const run = demo.startTraffic({ frames, rate: p.rate, count: p.count, durationMs: p.durationMs });
    const entry: TrafficEntry = { run, result: null, error: null, done: Promise.resolve() };
    entry.done = run.done.then(
      (r) => void (entry.result = r),
      (e: unknown) => void (entry.error = isPlaygroundError(e) ? e : fail("kernel/traffic", String((e as Error)?.message ?? e))),
    );
    const id = this.#newHandle();
    this.#traffic.set(id, entry);
    return { traffic: id, frames: frames.length };
  }

  #trafficEntry(id: number): TrafficEntry {
    const t = this.#traffic.get(id);
    if (!t) throw fail("agent/no-such-handle", `no traffic job ${id} on this connection`);
    return t;
  }

  #trafficOutcome(t: TrafficEntry): ResultOf<"trafficStop"> {
    if (t.error) throw t.error;
    const r = t.result!;
    return { sent: r.sent, elapsedNs: Math.round(r.elapsedNs), pps: r.pps };
  }

  async #trafficStop(p: ParamsOf<"trafficStop">): Promise<ResultOf<"trafficStop">> {
    const t = this.#trafficEntry(p.traffic);
    if (!t.result && !t.error) t.run.stop();
    await t.done;
    return this.#trafficOutcome(t);
  }

  async #trafficWait(p: ParamsOf<"trafficWait">): Promise<ResultOf<"trafficWait">> {
    const t = this.#trafficEntry(p.traffic);
    const ms = p.timeoutMs ?? 60_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = await Promise.race([
      t.done.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), ms))),
    ]);
    clearTimeout(timer);
    if (timedOut) throw fail("agent/timeout", `traffic job ${p.traffic} still running after ${ms} ms`);
    return this.#trafficOutcome(t);
  }

  #objects(): ResultOf<"objects"> {
    return {
      programs: [...this.#programs].map(([handle, p]) => ({ handle, progId: p.progId, target: p.target, name: p.name })),
      attachments: [...this.#attachments].map(([attachment, a]) => ({ attachment, hook: a.hook, ifname: a.ifname, progId: a.progId })),
      subscriptions: [...this.#subscriptions].map(([subscription, attachment]) => ({ subscription, attachment })),
      traffic: [...this.#traffic].map(([traffic, t]) => ({ traffic, running: !t.result && !t.error })),
      demo: this.#demo ? { hostIf: this.#demo.hostIf, hostIfindex: this.#demo.hostIfindex } : null,
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Lifetime

  /** Releases everything the connection owns. Idempotent; resolves when the demo network is gone. */
  dispose(): Promise<void> {
    if (this.#disposing) return this.#disposing;
    this.#disposed = true;
    for (const id of [...this.#attachments.keys()]) this.#releaseAttachment(id);
    for (const handle of [...this.#programs.keys()]) this.#releaseProgram(handle);
    this.#subscriptions.clear();
    this.#disposing = this.#tearDownDemo().catch((e: unknown) => this.ctx.log(`demo network teardown: ${(e as Error).message}`));
    return this.#disposing;
  }
}
