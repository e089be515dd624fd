/**
 * Everything the agent asks of the machine, behind one interface: libpcap, bpf(2), links, maps,
 * the demo network. The agent reaches the kernel only through a backend, so tests can hand it a
 * spy and prove that refused connections and malformed messages never got this far.
 */
import { resolveDlt, type CompileFilterOptions, type CompileFilterResult } from "../native/libpcap";
import { closeFd, dupCloexec } from "../native/libc";
import { HostCounts } from "../kernel/host-verdict";
import { ifNameToIndex } from "../native/libc";
import type { LoadOptions, LoadResult } from "../kernel/load";
import { ObjectLoadError, type LoadedObject, type ObjectLoadOptions } from "../kernel/object-load";
import { progInfo, type ProgInfo, type ProgDump } from "../kernel/inspect";
import { kernelInfo, type KernelInfo } from "../kernel/kernel-info";
import { ArrayMap, RingBuffer } from "../kernel/maps";
import { attachXdp, attachTcx, attachSocketFilter, attachKprobe, attachRawTracepoint, attachFentry, linkInfo, type Attachment, type LinkInfo, type XdpMode } from "../kernel/attach";
import { skbLayout, type SkbLayout } from "../kernel/btf";
import { DemoNetwork, type TrafficOptions, type TrafficRun } from "../kernel/netns";
import type { ProgKind } from "../kernel/prog-types";
import type { PacketRun } from "../kernel/packet-runner";
import type { ProgramSource } from "../../lib/protocol";
import type { ResultSpec, Target } from "../../lib/translate";
import type { BuiltSummary, CountingHook, CountingPlan, CountingSource } from "./programs";
import { IsolatePool } from "../isolate/pool";
import { startLiveTraffic, type LiveChunkSender, type LiveTrafficOptions } from "../kernel/live-traffic";

export interface Counters {
  total: number;
  matched: number;
}

/**
 * The counters the translator's "count" epilogue bumps: one 16-byte array slot, u64 non-matches
 * then u64 matches, read by one lookup (total = their sum, so matched <= total in every read).
 */
export interface CounterMap {
  readonly fd: number;
  read(): Counters;
  close(): void;
}

export interface EventRing {
  readonly fd: number;
  /** Copies out up to `max` complete records and frees their space in the ring. */
  drain(max: number): Uint8Array[];
  close(): void;
}

/**
 * How a piece of kernel work is bounded: the request's remaining time and its connection's
 * signal. Work past either is stopped (its worker process killed), not merely abandoned.
 */
export interface Job {
  budgetMs: number;
  signal: AbortSignal;
}

/** What `load` builds: a source compiled (libpcap) and translated for a target. */
export interface BuildSpec {
  source: ProgramSource;
  target: Target;
  result?: ResultSpec;
}

/** What `attach` builds: the counting program, maps named by the caller's fds. */
export interface CountingSpec {
  source: CountingSource;
  target: Target;
  plan: CountingPlan;
  hook: CountingHook;
  /** From skbLayout(), for the kprobe target's device check. */
  layout: SkbLayout | null;
}

export interface TestRunSpec {
  kind: ProgKind;
  packets: Uint8Array[];
  linkType: number;
  repeat: number;
}

export type AttachSpec =
  | { hook: "xdp"; progFd: number; ifindex: number; mode: XdpMode }
  | { hook: "tcx"; progFd: number; ifindex: number; direction: "ingress" | "egress" }
  | { hook: "socket"; progFd: number; ifindex: number }
  | { hook: "kprobe"; progFd: number; func: string }
  | { hook: "raw_tp"; progFd: number; tracepoint: string }
  | { hook: "fentry"; progFd: number; func: string };

/** The demo network as the agent uses it. */
export interface DemoNet {
  readonly hostIf: string;
  readonly nsIf: string;
  readonly hostIfindex: number;
  readonly hostAddr: string;
  readonly nsAddr: string;
  readonly prefixLen: number;
  readonly isUp: boolean;
  startTraffic(opts: TrafficOptions): TrafficRun;
  /** The kernel's live-frames generator (server/kernel/live-traffic.ts); absent where there is none. */
  startLiveTraffic?(opts: LiveTrafficOptions): TrafficRun;
  down(): Promise<void>;
}

/**
 * The asynchronous methods (libpcap's compile, BPF_PROG_LOAD, the dumps, BPF_PROG_TEST_RUN) are
 * the ones that can block for seconds or minutes; the real backend runs them in isolated worker
 * processes, never on the agent's event loop. The rest are single quick syscalls.
 */
export interface KernelBackend {
  kernelInfo(): KernelInfo;
  compileFilter(opts: CompileFilterOptions, job: Job): Promise<CompileFilterResult>;
  resolveDlt(nameOrNumber: string | number): number;
  /** Compiles (libpcap) and translates (lib/translate, seconds for thousands of instructions). */
  buildProgram(spec: BuildSpec, job: Job): Promise<BuiltSummary>;
  buildCounting(spec: CountingSpec, job: Job): Promise<BuiltSummary>;
  /**
   * A loaded program's fd belongs to the caller. `mapFds`: the caller's map fds the program's
   * ld_imm64 instructions name (the worker borrows them and renumbers the instructions).
   */
  loadProgram(opts: LoadOptions, job: Job, mapFds?: readonly number[]): Promise<LoadResult>;
  /**
   * libbpf's load of one program of an ELF object with its maps (in a worker: the bytes are the
   * client's). The fds of the result belong to the caller; a refusal throws ObjectLoadError.
   */
  loadObject(opts: ObjectLoadOptions, job: Job): Promise<LoadedObject>;
  progInfo(fd: number): ProgInfo;
  dumpProgram(fd: number, job: Job): Promise<ProgDump>;
  /** `countsFd`: a host's counts map; each run is then also judged by it (PacketRun.matchedRuns). */
  testRun(fd: number, spec: TestRunSpec, job: Job, countsFd?: number): Promise<PacketRun[]>;
  createCounters(): CounterMap;
  createRing(size: number): EventRing;
  /** A host object's counts map (slot 0 seen, slot 1 matched) as counters; takes ownership of `fd`. */
  hostCounters(fd: number): CounterMap;
  /** An object's ring buffer map of `size` bytes; takes ownership of `fd`. */
  adoptRing(fd: number, size: number): EventRing;
  /** A close-on-exec duplicate the caller owns (an attachment keeps its own references). */
  dupFd(fd: number): number;
  attach(spec: AttachSpec): Attachment;
  linkInfo(linkFd: number): LinkInfo;
  skbLayout(): SkbLayout | null;
  demoUp(): Promise<DemoNet>;
  /** 0 when there is no such interface (in the agent's own namespace). */
  ifindex(name: string): number;
  closeFd(fd: number): void;
  /** The worker processes (tests and diagnostics): their pids and how many are running work. */
  workers?(): { pids: number[]; busy: number };
  /** Starts a worker now, so the first request does not wait for one (about a second). */
  warmUp?(): void;
  /** Stops the worker processes. */
  close?(): Promise<void>;
}

function counterMap(): CounterMap {
  const map = ArrayMap.create(1, 16, "bpg_counters");
  return {
    fd: map.fd,
    read: () => {
      const v = map.get(0); // one BPF_MAP_LOOKUP_ELEM: both counters from the same copy
      const d = new DataView(v.buffer, v.byteOffset, 16);
      const missed = d.getBigUint64(0, true);
      const matched = d.getBigUint64(8, true);
      return { total: Number(missed + matched), matched: Number(matched) };
    },
    close: () => map.close(),
  };
}

function eventRing(size: number): EventRing {
  const ring = RingBuffer.create(size, "bpg_events");
  return { fd: ring.fd, drain: (max) => ring.drain(max), close: () => ring.close() };
}

function hostCounters(fd: number): CounterMap {
  const counts = new HostCounts(fd);
  return { fd, read: () => counts.read(), close: () => closeFd(fd) };
}

function adoptedRing(fd: number, size: number): EventRing {
  const ring = RingBuffer.adopt(fd, size);
  return { fd: ring.fd, drain: (max) => ring.drain(max), close: () => ring.close() };
}

function attach(spec: AttachSpec): Attachment {
  switch (spec.hook) {
    case "xdp":
      return attachXdp(spec.progFd, spec.ifindex, spec.mode);
    case "tcx":
      return attachTcx(spec.progFd, spec.ifindex, spec.direction);
    case "socket":
      return attachSocketFilter(spec.progFd, spec.ifindex);
    case "kprobe":
      return attachKprobe(spec.progFd, spec.func);
    case "raw_tp":
      return attachRawTracepoint(spec.progFd, spec.tracepoint);
    case "fentry":
      return attachFentry(spec.progFd, spec.func);
  }
}

export interface RealBackendOptions {
  /** Worker processes for kernel work, shared by every connection (default 4). */
  workers?: number;
}

/** The real machine; the blocking work runs in a pool of worker processes, started on first use. */
export function realBackend(opts: RealBackendOptions = {}): KernelBackend {
  let pool: IsolatePool | null = null;
  const isolates = () => (pool ??= new IsolatePool({ name: "kernel", maxWorkers: opts.workers ?? 4, warmWorkers: 1 }));
  // xdp-live traffic has its own workers at the traffic source's priority (nice 0): niced like
  // the bulk kernel jobs, a flood would lose every contended core and send at half the rate.
  let trafficPool: IsolatePool | null = null;
  const generators = () => (trafficPool ??= new IsolatePool({ name: "traffic generator", maxWorkers: 2, warmWorkers: 0, nice: 0 }));
  return {
    kernelInfo: () => kernelInfo(),
    compileFilter: async (o, job) => (await isolates().run("compile", o, job)).result,
    resolveDlt,
    buildProgram: async (spec, job) => (await isolates().run("buildProgram", spec, job)).result,
    buildCounting: async (spec, job) => (await isolates().run("buildCounting", spec, job)).result,
    loadProgram: async (o, job, mapFds = []) => {
      const { result, fds } = await isolates().run("load", { ...o, mapFds: [...mapFds] }, { ...job, fds: [...mapFds] });
      return result.ok ? { ...result, fd: fds[0]! } : result;
    },
    loadObject: async (o, job) => {
      const { result, fds } = await isolates().run("loadObject", o, job);
      if (!result.ok) throw ObjectLoadError.from(result.failure);
      const l = result.loaded;
      return { ...l, fd: fds[0]!, maps: l.maps.map((m, i) => ({ ...m, fd: fds[i + 1]! })) };
    },
    progInfo,
    dumpProgram: async (fd, job) => (await isolates().run("dump", {}, { ...job, fds: [fd] })).result,
    testRun: async (fd, spec, job, countsFd) => (await isolates().run("testRun", spec, { ...job, fds: countsFd === undefined ? [fd] : [fd, countsFd] })).result,
    createCounters: counterMap,
    createRing: eventRing,
    hostCounters,
    adoptRing: adoptedRing,
    dupFd: dupCloexec,
    attach,
    linkInfo,
    skbLayout,
    demoUp: async () => {
      const net = await DemoNetwork.up();
      // Each chunk is about a second of sending; the budget only catches a stuck worker.
      const send: LiveChunkSender = async (chunk, nsFd) => (await generators().run("xdpLive", chunk, { budgetMs: 60_000, fds: [nsFd] })).result;
      return Object.assign(net, { startLiveTraffic: (o: LiveTrafficOptions) => startLiveTraffic(net, send, o) });
    },
    ifindex: (name) => ifNameToIndex(name),
    closeFd,
    workers: () => ({ pids: pool?.pids() ?? [], busy: pool?.busy ?? 0 }),
    warmUp: () => isolates().warmUp(),
    close: async () => {
      const p = pool;
      const t = trafficPool;
      pool = null;
      trafficPool = null;
      await Promise.all([p?.close(), t?.close()]);
    },
  };
}

/**
 * Wraps a backend so every call is counted by method name (for tests: "nothing reached the
 * kernel" is `total() === 0`).
 */
export function countingBackend(inner: KernelBackend): { backend: KernelBackend; calls: Map<string, number>; total(): number } {
  const calls = new Map<string, number>();
  const backend = new Proxy(inner, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== "function" || typeof prop !== "string") return v;
      return (...args: unknown[]) => {
        calls.set(prop, (calls.get(prop) ?? 0) + 1);
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { backend, calls, total: () => [...calls.values()].reduce((a, b) => a + b, 0) };
}
