/**
 * Runs a filter over every packet of a capture with one engine. Each distinct link type in the file
 * gets its own compiled program, as libpcap would compile the filter for that interface.
 */
import { readCapture, type CapturedPacket, type CaptureReadResult } from "../lib/pcap";
import { compileFilter as compileCbpfFast, type CbpfInsn } from "../lib/cbpf";
import { compileFilter } from "./native/libpcap";
import { isPlaygroundError, type PlaygroundError } from "../lib/errors";
import { ebpfEngine } from "./engines/ebpf";

export type Engine = "cbpf" | "ebpf" | "kernel";

export interface RunRequest {
  filter: string;
  capture: Uint8Array;
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

/** A verdict function for one link type: the filter's return value for one packet. */
export type PacketVerdict = (packet: CapturedPacket) => number;

export type EngineFactory = (
  program: readonly CbpfInsn[],
  dlt: number,
  request: Omit<RunRequest, "capture">,
) => Promise<PacketVerdict>;

const cbpfEngine: EngineFactory = async (program) => {
  const run = compileCbpfFast(program, { semantics: "libpcap" });
  return (p) => run(p.data, p.origLen);
};

/** Loaded on first use: the kernel engine pulls in the bpf(2) bindings, which cbpf runs never need. */
const kernelEngine: EngineFactory = async (...args) => (await import("./engines/kernel")).kernelEngine(...args);

const ENGINES: Partial<Record<Engine, EngineFactory>> = { cbpf: cbpfEngine, ebpf: ebpfEngine, kernel: kernelEngine };

/** Later engines (translated eBPF, the kernel) plug in here. */
export function registerEngine(name: Engine, factory: EngineFactory): void {
  ENGINES[name] = factory;
}

export async function runCapture(req: RunRequest): Promise<RunOutcome> {
  const capture = readCapture(req.capture);
  const outcome = await evaluatePackets(req, capture);
  return outcome.ok ? { ...outcome, captureError: capture.error } : outcome;
}

/**
 * Evaluates already-read packets. The filter is compiled per link type as libpcap compiles it for
 * a capture file of that byte order (what `tcpdump -r` runs), with the interface's snaplen.
 */
export async function evaluatePackets(
  req: Omit<RunRequest, "capture">,
  capture: Pick<CaptureReadResult, "packets" | "interfaces" | "byteOrder">,
): Promise<RunOutcome> {
  const { packets, interfaces } = capture;
  const factory = ENGINES[req.engine];
  if (!factory) return { ok: false, error: `engine "${req.engine}" is not available yet` };
  const verdicts = new Map<number, PacketVerdict>();
  const programs = new Map<number, CbpfInsn[]>();
  const snaplenByDlt = new Map<number, number>();
  for (const itf of interfaces) {
    if (!snaplenByDlt.has(itf.dlt)) snaplenByDlt.set(itf.dlt, captureSnaplen(itf.snaplen));
  }
  for (const [dlt, snaplen] of snaplenByDlt) {
    const compiled = compileFilter({
      filter: req.filter, dlt, snaplen, optimize: req.optimize, netmask: req.netmask,
      savefile: { bigEndian: capture.byteOrder === "big" },
    });
    if (!compiled.ok) return { ok: false, error: compiled.error };
    programs.set(dlt, compiled.insns);
    try {
      verdicts.set(dlt, await factory(compiled.insns, dlt, req));
    } catch (e) {
      // An engine refusing a program (a translation that cannot be done for this target) is an
      // answer with a reason, not a crash.
      if (isPlaygroundError(e)) return { ok: false, error: e.message, code: e.code };
      throw e;
    }
  }

  const total = packets.length;
  const results = new Array<boolean>(total);
  const returnValues = new Array<number>(total);
  let matched = 0;
  for (let i = 0; i < total; i++) {
    const packet = packets[i]!;
    let value: number;
    try {
      value = verdicts.get(packet.dlt)!(packet);
    } catch (e) {
      // An engine that cannot run one packet (the kernel will not test-run a 64 KiB frame) says
      // which one and why; the run fails with that reason instead of a stack trace.
      if (isPlaygroundError(e)) {
        const error = e.message.startsWith("packet ") ? e.message : `packet ${i + 1}: ${e.message}`;
        return { ok: false, error, code: e.code };
      }
      throw e;
    }
    returnValues[i] = value;
    results[i] = value !== 0;
    if (value !== 0) matched++;
  }
  return { ok: true, total, matched, results, returnValues, programs };
}
