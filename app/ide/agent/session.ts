/**
 * The page's side of the local agent (lib/protocol's client over a WebSocket): load the program
 * the panes show into the real kernel, read back the verifier's log, the xlated and JIT code,
 * and run packets through it with BPF_PROG_TEST_RUN. Everything here is optional: without an
 * agent address, or when it refuses, the page says so and works on.
 */
import { encodeProgram } from "../../../lib/cbpf/codec";
import type { CbpfInsn } from "../../../lib/cbpf/insn";
import { AgentClient, AgentRequestError, toBase64, type ParamsOf, type ResultOf, type StreamMessage, type Subscription } from "../../../lib/protocol";
import type { Target } from "../../../lib/pipeline";

export interface KernelProgram {
  /** Set when the kernel accepted the program (unload it when done). */
  handle: number | null;
  accepted: boolean;
  /** errno name when refused (EACCES, EINVAL, ...). */
  errno?: string;
  log: string;
  logTruncated: boolean;
  xlated: string[];
  jit: string[];
  processedInsns?: number;
  tag?: string;
}

export type KernelInfo = ResultOf<"kernelInfo">;

/** A BPF object's program as libbpf loaded it (with its maps), and the kernel's xlated dump of it. */
export type LoadedObject =
  | ({ ok: true; xlated: string[] } & ResultOf<"loadObject">)
  /** Refused: libbpf's or the verifier's reason (its message carries the verifier log). */
  | { ok: false; code: string; message: string };

/** An attachment on the demo network and its stream. */
export interface DemoAttachment {
  readonly attachment: number;
  readonly hook: string;
  readonly ifname: string;
  /** The kernel's id of the attached program (bpftool prog show lists it while attached). */
  readonly progId: number;
  readonly sub: Subscription;
}

export class AgentSession {
  private constructor(
    readonly url: string,
    private readonly client: AgentClient,
    readonly kernel: KernelInfo,
  ) {}

  static async open(url: string, onClose: (reason: string) => void): Promise<AgentSession> {
    const client = await AgentClient.connect(url, {
      clientName: "bpf-playground web IDE",
      onClose: (info) => onClose(`the agent closed the connection (${info.code}${info.reason ? ` ${info.reason}` : ""})`),
    });
    const kernel = await client.request("kernelInfo", {});
    return new AgentSession(url, client, kernel);
  }

  get limits() {
    return this.client.hello?.limits ?? null;
  }

  canTestRun(target: Target): boolean {
    return this.kernel.targets[target]?.testRun ?? false;
  }

  close(): void {
    this.client.close();
  }

  /** Load the translated program (the agent translates the cBPF exactly as the panes do). */
  async load(insns: readonly CbpfInsn[], target: Target): Promise<KernelProgram> {
    const r = await this.client.request("load", {
      program: { kind: "cbpf", insns: toBase64(encodeProgram(insns)) },
      target,
      logLevel: 2,
      result: { kind: "return" },
      name: "playground",
    });
    if (r.outcome === "rejected") {
      return { handle: null, accepted: false, errno: r.errnoName, log: r.log, logTruncated: r.logTruncated, xlated: [], jit: [], processedInsns: r.stats.processedInsns };
    }
    const program: KernelProgram = { handle: r.handle, accepted: true, log: r.log, logTruncated: r.logTruncated, xlated: [], jit: [], processedInsns: r.stats.processedInsns, tag: r.tag };
    try {
      const info = await this.client.request("inspect", { handle: r.handle });
      program.xlated = info.xlated;
      program.jit = info.jit.flatMap((f) => [`${f.address}:`, ...f.lines.map((l) => `  ${l.offset.toString(16).padStart(4, "0")}:  ${l.bytes.padEnd(24)} ${l.text}`)]);
    } catch (e) {
      program.xlated = [`(inspect failed: ${e instanceof Error ? e.message : String(e)})`];
    }
    return program;
  }

  /**
   * Loads one program of an ELF object (a patched host) with libbpf in the agent; `program` names
   * it when the object has several. The xlated dump is read at once, as for `load`.
   */
  async loadObject(bytes: Uint8Array, program?: string): Promise<LoadedObject> {
    let r: ResultOf<"loadObject">;
    try {
      r = await this.client.request("loadObject", { object: toBase64(bytes), logLevel: 1, ...(program ? { program } : {}) }, { timeoutMs: 120_000 });
    } catch (e) {
      if (e instanceof AgentRequestError) return { ok: false, code: e.code, message: e.message };
      throw e;
    }
    let xlated: string[];
    try {
      xlated = (await this.client.request("inspect", { handle: r.handle })).xlated;
    } catch (e) {
      xlated = [`(inspect failed: ${e instanceof Error ? e.message : String(e)})`];
    }
    return { ok: true, ...r, xlated };
  }

  /**
   * Attaches a loaded object's program as it is on the agent's demo network (xdp, tcx, or the
   * netif_receive_skb tracepoint) and streams its counters and matched packets to `onMessage`.
   */
  async attachOnDemo(handle: number, progType: string, onMessage: (m: StreamMessage) => void): Promise<DemoAttachment> {
    const target: Target = progType === "xdp" || progType === "tc" || progType === "socket" ? progType : "kprobe";
    return this.attachSource({ kind: "handle", handle }, target, onMessage);
  }

  /**
   * Attaches a cBPF program (translated by the agent, with its counting epilogue) for `target` on
   * the demo network; kprobe means the skb trace point. Streams as attachOnDemo does.
   */
  async attachCbpfOnDemo(insns: readonly CbpfInsn[], target: Target, onMessage: (m: StreamMessage) => void): Promise<DemoAttachment> {
    return this.attachSource({ kind: "cbpf", insns: toBase64(encodeProgram(insns)) }, target, onMessage);
  }

  private async attachSource(source: ParamsOf<"attach">["source"], target: Target, onMessage: (m: StreamMessage) => void): Promise<DemoAttachment> {
    // The connection's own demo network (a veth pair into a namespace); a second demoUp is a no-op.
    await this.client.request("demoUp", {});
    const a = await this.client.request("attach", { source, target, on: { kind: "demo" } });
    try {
      const sub = await this.client.subscribe(a.attachment, onMessage, { intervalMs: 100, maxEvents: 256 });
      return { attachment: a.attachment, hook: a.hook, ifname: a.ifname, progId: a.progId, sub };
    } catch (e) {
      await this.detach(a.attachment);
      throw e;
    }
  }

  /** Sends `frames`, cycled, `count` times in all into the demo network, and waits until they are out. */
  async sendFrames(frames: readonly Uint8Array[], count: number, rate = 20_000): Promise<number> {
    const job = await this.client.request("trafficStart", { frames: { kind: "supplied", frames: frames.map((f) => toBase64(f)) }, count, rate });
    return (await this.client.request("trafficWait", { traffic: job.traffic }, { timeoutMs: 120_000 })).sent;
  }

  async detach(attachment: number): Promise<void> {
    await this.client.request("detach", { attachment }).catch(() => undefined);
  }

  async unload(handle: number): Promise<void> {
    await this.client.request("unload", { handle }).catch(() => undefined);
  }

  /** BPF_PROG_TEST_RUN over packets; one result per packet. */
  async testRun(handle: number, packets: Uint8Array[], dlt: number): Promise<ResultOf<"testRun">["results"]> {
    const r = await this.client.request("testRun", { handle, packets: packets.map((p) => toBase64(p)), linkType: dlt }, { timeoutMs: 120_000 });
    return r.results;
  }
}
