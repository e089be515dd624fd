/**
 * What an isolated worker can be asked to do. Each operation is a plain function of structured-
 * clonable arguments and the descriptors it borrowed from the parent; it returns its result and,
 * optionally, descriptors of its own for the parent to take over. Keep these thin: the real work
 * lives in server/native and server/kernel, and the same functions run in-process elsewhere.
 */
import { fstatSync, openSync } from "node:fs";
import { compileFilter, type CompileFilterOptions, type CompileFilterResult } from "../native/libpcap";
import { loadProgram, type LoadOptions, type LoadResult } from "../kernel/load";
import { dumpProgram, type ProgDump } from "../kernel/inspect";
import { PacketRunner, type PacketRun } from "../kernel/packet-runner";
import { HostCounts, runCounted } from "../kernel/host-verdict";
import type { ProgKind } from "../kernel/prog-types";
import type { BuildSpec, CountingSpec, KernelBackend } from "../agent/backend";
import { buildCounting, buildForLoad, classicOf, summarize, type BuiltSummary } from "../agent/programs";
import { resolveDlt } from "../native/libpcap";
import { loadObject, ObjectLoadError, type LoadedObject, type ObjectLoadFailure, type ObjectLoadOptions } from "../kernel/object-load";
import { sendLiveChunk, type LiveChunk, type LiveChunkResult } from "../kernel/xdp-live";
import { compileForPage, type CompileRequest, type CompileResponse } from "../web/page-compile";

export interface Output<R> {
  result: R;
  /** The worker's descriptors the parent must duplicate (they are closed here afterwards). */
  fds?: number[];
}

const BPF_LD_IMM64 = 0x18;
const BPF_PSEUDO_MAP_FD = 1;
const BPF_PSEUDO_MAP_VALUE = 2;

/**
 * A program built in the parent names its maps by the parent's fd numbers (ld_imm64 with
 * src_reg BPF_PSEUDO_MAP_FD or _VALUE); here those maps are the borrowed duplicates, in the same
 * order, so each such immediate is replaced by the worker's own number.
 */
function renumberMapFds(insns: Uint8Array, parentFds: readonly number[], mine: readonly number[]): Uint8Array {
  const out = insns.slice();
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let off = 0; off + 16 <= out.length; off += 8) {
    if (out[off] !== BPF_LD_IMM64) continue;
    const src = out[off + 1]! >> 4;
    if (src === BPF_PSEUDO_MAP_FD || src === BPF_PSEUDO_MAP_VALUE) {
      const i = parentFds.indexOf(v.getInt32(off + 4, true));
      if (i >= 0) v.setInt32(off + 4, mine[i]!, true);
    }
    off += 8; // the second slot
  }
  return out;
}

/**
 * A loaded object as it crosses to the parent: its fds (the program's, then each map's in order)
 * travel as descriptors, so the numbers in here are -1 until the parent puts its own in.
 */
export type ObjectLoadOutcome = { ok: true; loaded: LoadedObject } | { ok: false; failure: ObjectLoadFailure };

/** The agent's build steps run here with the in-process libpcap; nothing else of a backend is used. */
function localBackend(layout: CountingSpec["layout"] = null): KernelBackend {
  return { compileFilter: async (o: CompileFilterOptions) => compileFilter(o), resolveDlt, skbLayout: () => layout } as unknown as KernelBackend;
}
/** Inside one worker call the budget is the pool's: the steps themselves are not bounded again. */
const unbounded = () => ({ budgetMs: 0, signal: new AbortController().signal });

export const OPERATIONS = {
  /** The agent's `load` build: libpcap's compile of a filter, then the translation for the target. */
  buildProgram: async (args: BuildSpec): Promise<Output<BuiltSummary>> => {
    const b = await buildForLoad(localBackend(), args.source, args.target, unbounded, args.result);
    return { result: summarize(b, b.cbpf, b.dlt) };
  },
  /** The agent's `attach` build: the counting program (maps named by the parent's fds, fixed at load). */
  buildCounting: async (args: CountingSpec): Promise<Output<BuiltSummary>> => {
    const backend = localBackend(args.layout);
    const src = args.source;
    const classic = src.kind === "classic" ? { cbpf: src.cbpf, dlt: 1 } : (await classicOf(backend, src, unbounded))!;
    const b = buildCounting(backend, classic.cbpf, args.target, args.plan, args.hook);
    return { result: summarize(b, classic.cbpf, classic.dlt) };
  },
  /** libpcap's pcap_compile: untrusted filter text reaches a native library only here. */
  compile: (args: CompileFilterOptions): Output<CompileFilterResult> => ({ result: compileFilter(args) }),
  /** The page's compile: libpcap's program, or its error placed on the text. */
  pageCompile: (args: CompileRequest): Output<CompileResponse> => ({ result: compileForPage(args) }),
  /**
   * BPF_PROG_LOAD with the verifier log. The verifier can run for minutes (a bounded loop at
   * log_level 2); a loaded program's fd crosses to the parent, and a killed worker takes any
   * program it was still verifying with it.
   */
  load: (args: LoadOptions & { mapFds?: number[] }, fds: number[]): Output<LoadResult> => {
    const { mapFds = [], ...opts } = args;
    const r = loadProgram(mapFds.length > 0 ? { ...opts, insns: renumberMapFds(opts.insns, mapFds, fds) } : opts);
    return r.ok ? { result: { ...r, fd: -1 }, fds: [r.fd] } : { result: r };
  },
  /**
   * libbpf's open and load of an object a client sent (server/kernel/object-load.ts): ELF
   * parsing, relocation and the verifier all run here, never in the agent. The program's fd and
   * its maps' fds cross to the parent; a refusal is a result, with libbpf's messages and the log.
   */
  loadObject: (args: ObjectLoadOptions): Output<ObjectLoadOutcome> => {
    try {
      const r = loadObject(args);
      const loaded: LoadedObject = { ...r, fd: -1, maps: r.maps.map((m) => ({ ...m, fd: -1 })) };
      return { result: { ok: true, loaded }, fds: [r.fd, ...r.maps.map((m) => m.fd)] };
    } catch (e) {
      if (e instanceof ObjectLoadError) return { result: { ok: false, failure: e.toFailure() } };
      throw e;
    }
  },
  /** bpf_prog_info, the xlated dump and the JIT disassembly of the borrowed program fd. */
  dump: (_args: Record<string, never>, fds: number[]): Output<ProgDump> => ({ result: dumpProgram(fds[0]!) }),
  /**
   * BPF_PROG_TEST_RUN of the borrowed program fd over each packet, `repeat` runs each. With a
   * second fd (a host's counts map) each run is also judged by that counter (host-verdict.ts).
   */
  testRun: (args: { kind: ProgKind; packets: Uint8Array[]; linkType: number; repeat: number }, fds: number[]): Output<PacketRun[]> => {
    const runner = new PacketRunner(fds[0]!, args.kind);
    const counts = fds.length > 1 ? new HostCounts(fds[1]!) : null;
    try {
      return { result: args.packets.map((p) => (counts ? runCounted(runner, counts, p, args.linkType, args.repeat) : runner.run(p, args.linkType, args.repeat))) };
    } finally {
      runner.close();
    }
  },
  /**
   * One chunk of a live-frames traffic job (server/kernel/xdp-live.ts): BPF_PROG_RUN with
   * BPF_F_TEST_XDP_LIVE_FRAMES inside the borrowed network namespace fd. Each syscall runs for as
   * long as its repeat takes, so it belongs here, under the pool's budget, not on the agent's loop.
   */
  xdpLive: (args: LiveChunk, fds: number[]): Output<LiveChunkResult> => ({ result: sendLiveChunk(fds[0]!, args) }),
  /** For tests of the pool itself: sleeps, spins or crashes on request. */
  probe: async (
    args: { sleepMs?: number; spinMs?: number; crash?: boolean; openDevNull?: boolean },
    fds: number[],
  ): Promise<Output<{ pid: number; borrowedSizes: number[] }>> => {
    if (args.crash) process.kill(process.pid, "SIGSEGV");
    if (args.sleepMs) await new Promise((r) => setTimeout(r, args.sleepMs));
    const until = Date.now() + (args.spinMs ?? 0);
    while (Date.now() < until);
    const borrowedSizes = fds.map((fd) => fstatSync(fd).size);
    return { result: { pid: process.pid, borrowedSizes }, fds: args.openDevNull ? [openSync("/dev/null", "r")] : [] };
  },
} as const;

export type Operations = typeof OPERATIONS;
export type OpName = keyof Operations;
export type OpArgs<K extends OpName> = Parameters<Operations[K]>[0];
export type OpResult<K extends OpName> = Awaited<ReturnType<Operations[K]>>["result"];
