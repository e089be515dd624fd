/**
 * Runs a filter over every packet of a capture with one engine. Each distinct link type in the file
 * gets its own compiled program, as libpcap would compile the filter for that interface. The cbpf
 * and ebpf engines are lib/pipeline's (the page's worker runs the same ones); only the kernel engine
 * lives here, because it needs the bpf(2) bindings.
 *
 * Captures are read incrementally: packets are judged as their records complete and are not kept,
 * so memory follows the chunk size and the per-packet results, not the size of the file.
 */
import { CaptureStream, type CapturedPacket, type CaptureCursor, type CaptureInterface, type CaptureReadResult } from "../lib/pcap";
import type { CbpfInsn } from "../lib/cbpf";
import { cbpfJudge, defaultEngines, ebpfJudge, targetOf } from "../lib/pipeline";
import { compileFilter } from "./native/libpcap";
import { isPlaygroundError, type PlaygroundError } from "../lib/errors";

/** "inject": the filter spliced into the host named by `target` (xdp, tc), judged in the kernel. */
export type Engine = "cbpf" | "ebpf" | "kernel" | "inject";

export interface RunRequest {
  filter: string;
  /** The whole capture, or its bytes as they are read (a file's chunks). */
  capture: Uint8Array | AsyncIterable<Uint8Array>;
  engine: Engine;
  target: string;
  optimize: boolean;
  netmask: number;
}

export type RunOutcome =
  | {
      ok: true;
      total: number;
      matched: number;
      results: boolean[];
      returnValues: number[];
      /**
       * Packets the engine could give no verdict (the kernel: above 64 KiB), by 0-based index, with
       * the reason; their `results` entry is false and their return value 0. The run goes on.
       */
      refused: { index: number; reason: string }[];
      /** The cBPF program each link type was compiled to. */
      programs: Map<number, CbpfInsn[]>;
      captureError?: PlaygroundError;
    }
  | { ok: false; error: string; /** PlaygroundError code when the engine refused, e.g. "translate/unsupported". */ code?: string };

/**
 * The snaplen libpcap uses for a capture file's interface (it is what `ret` returns on a match):
 * a zero or implausibly large value in the file is replaced by the maximum, 262144.
 */
export function captureSnaplen(snaplen: number): number {
  return snaplen <= 0 || snaplen > 262144 ? 262144 : snaplen;
}

/**
 * The PlaygroundError code an engine's verdict function throws for one packet it cannot judge
 * while it can judge the rest: the packet is listed as refused, and the run goes on.
 */
export const PACKET_REFUSED = "run/packet-refused";

/** A verdict function for one link type: the filter's return value for one packet. */
export type PacketVerdict = (packet: CapturedPacket) => number;

export type EngineFactory = (
  program: readonly CbpfInsn[],
  dlt: number,
  request: Omit<RunRequest, "capture">,
) => Promise<PacketVerdict>;

export const cbpfEngine: EngineFactory = async (program) => cbpfJudge(program);

/** The translation the page shows (defaultEngines), run in the interpreter as the page runs it. */
export const ebpfEngine: EngineFactory = async (program, _dlt, request) => {
  const target = targetOf(request.target);
  return ebpfJudge(defaultEngines.translate!(program, target).program, target);
};

/** Loaded on first use: the kernel engine pulls in the bpf(2) bindings, which cbpf runs never need. */
const kernelEngine: EngineFactory = async (...args) => (await import("./engines/kernel")).kernelEngine(...args);

const injectEngine: EngineFactory = async (...args) => (await import("./engines/inject")).injectEngine(...args);

const ENGINES: Partial<Record<Engine, EngineFactory>> = { cbpf: cbpfEngine, ebpf: ebpfEngine, kernel: kernelEngine, inject: injectEngine };

/** Replaces an engine (tests register instrumented ones). */
export function registerEngine(name: Engine, factory: EngineFactory): void {
  ENGINES[name] = factory;
}

type Failure = Extract<RunOutcome, { ok: false }>;

/**
 * Judges packets one at a time, compiling the filter for each interface's link type as the
 * interface appears (libpcap compiles for a capture file of that byte order, with the interface's
 * snaplen: what `tcpdump -r` runs).
 */
class Evaluator {
  readonly results: boolean[] = [];
  readonly returnValues: number[] = [];
  readonly refused: { index: number; reason: string }[] = [];
  readonly programs = new Map<number, CbpfInsn[]>();
  matched = 0;
  private readonly verdicts = new Map<number, PacketVerdict>();
  private interfacesSeen = 0;
  private readonly factory: EngineFactory | undefined;

  constructor(private readonly req: Omit<RunRequest, "capture">) {
    this.factory = ENGINES[req.engine];
  }

  get failure(): Failure | undefined {
    return this.factory ? undefined : { ok: false, error: `engine "${this.req.engine}" is not available yet` };
  }

  /** Compiles for interfaces not seen yet; a failure when libpcap or the engine refuses. */
  async prepare(interfaces: readonly CaptureInterface[], byteOrder: "little" | "big"): Promise<Failure | undefined> {
    for (; this.interfacesSeen < interfaces.length; this.interfacesSeen++) {
      const itf = interfaces[this.interfacesSeen]!;
      if (this.verdicts.has(itf.dlt)) continue;
      const req = this.req;
      const compiled = compileFilter({
        filter: req.filter, dlt: itf.dlt, snaplen: captureSnaplen(itf.snaplen), optimize: req.optimize, netmask: req.netmask,
        savefile: { bigEndian: byteOrder === "big" },
      });
      if (!compiled.ok) return { ok: false, error: compiled.error };
      this.programs.set(itf.dlt, compiled.insns);
      try {
        this.verdicts.set(itf.dlt, await this.factory!(compiled.insns, itf.dlt, req));
      } catch (e) {
        // An engine refusing a program (a translation that cannot be done for this target) is an
        // answer with a reason, not a crash.
        if (isPlaygroundError(e)) return { ok: false, error: e.message, code: e.code };
        throw e;
      }
    }
    return undefined;
  }

  /** Judges one packet (its interface prepared); a failure when the engine cannot run it. */
  judge(packet: CapturedPacket): Failure | undefined {
    const i = this.results.length;
    let value: number;
    try {
      value = this.verdicts.get(packet.dlt)!(packet);
    } catch (e) {
      // A packet the engine cannot judge while it judges the rest is listed with its reason; any
      // other refusal says which packet and why, and the run fails with that reason instead of a
      // stack trace.
      if (isPlaygroundError(e) && e.code === PACKET_REFUSED) {
        this.refused.push({ index: i, reason: e.message });
        value = 0;
      } else if (isPlaygroundError(e)) {
        const error = e.message.startsWith("packet ") ? e.message : `packet ${i + 1}: ${e.message}`;
        return { ok: false, error, code: e.code };
      } else throw e;
    }
    this.returnValues.push(value);
    this.results.push(value !== 0);
    if (value !== 0) this.matched++;
    return undefined;
  }

  outcome(captureError?: PlaygroundError): RunOutcome {
    const { results, returnValues, programs, matched, refused } = this;
    const out: RunOutcome = { ok: true, total: results.length, matched, results, returnValues, refused, programs };
    if (captureError) out.captureError = captureError;
    return out;
  }
}

/** Judges every packet the cursor has ready; stops at a failure. */
async function drain(ev: Evaluator, cursor: CaptureCursor): Promise<Failure | undefined> {
  for (;;) {
    const p = cursor.next();
    // A pcapng interface block is met on the way to the packet after it.
    const fail = await ev.prepare(cursor.interfaces, cursor.byteOrder);
    if (fail) return fail;
    if (p === undefined) return undefined;
    const bad = ev.judge(p);
    if (bad) return bad;
  }
}

/** Reads and judges a capture, whole or as a stream of chunks. Throws PlaygroundError when it is not a capture. */
export async function runCapture(req: RunRequest): Promise<RunOutcome> {
  const { capture, ...request } = req;
  const ev = new Evaluator(request);
  if (ev.failure) return ev.failure;
  const stream = new CaptureStream();
  const chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array> = capture instanceof Uint8Array ? [capture] : capture;
  for await (const chunk of chunks) {
    stream.push(chunk);
    const fail = await drain(ev, stream);
    if (fail) return fail;
    if (stream.error) return ev.outcome(stream.error);
  }
  stream.end();
  const fail = await drain(ev, stream);
  return fail ?? ev.outcome(stream.error);
}

/** Evaluates already-read packets (the conformance run reads each capture once for several engines). */
export async function evaluatePackets(
  req: Omit<RunRequest, "capture">,
  capture: Pick<CaptureReadResult, "packets" | "interfaces" | "byteOrder">,
): Promise<RunOutcome> {
  const ev = new Evaluator(req);
  if (ev.failure) return ev.failure;
  const fail = await ev.prepare(capture.interfaces, capture.byteOrder);
  if (fail) return fail;
  for (const p of capture.packets) {
    const bad = ev.judge(p);
    if (bad) return bad;
  }
  return ev.outcome();
}
