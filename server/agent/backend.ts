/**
 * Everything the agent asks of the machine, behind one interface: libpcap, bpf(2), links, maps,
 * the demo network. The agent reaches the kernel only through a backend, so tests can hand it a
 * spy and prove that refused connections and malformed messages never got this far.
 */
import { compileFilter, resolveDlt, type CompileFilterOptions, type CompileFilterResult } from "../native/libpcap";
import { closeFd } from "../native/libc";
import { ifNameToIndex } from "../native/libc";
import type { LoadOptions, LoadResult } from "../kernel/load";
import { progInfo, dumpProgram, type ProgInfo, type ProgDump } from "../kernel/inspect";
import { kernelInfo, type KernelInfo } from "../kernel/kernel-info";
import { ArrayMap, RingBuffer } from "../kernel/maps";
import { attachXdp, attachTcx, attachSocketFilter, attachKprobe, attachRawTracepoint, attachFentry, linkInfo, type Attachment, type LinkInfo, type XdpMode } from "../kernel/attach";
import { skbLayout, type SkbLayout } from "../kernel/btf";
import { DemoNetwork, type TrafficOptions, type TrafficRun } from "../kernel/netns";
import type { ProgKind } from "../kernel/prog-types";
import { loadProgram } from "../kernel/load";
import { PacketRunner, type PacketRun } from "../kernel/packet-runner";

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

export interface TestRunner {
  run(packet: Uint8Array, linkType: number, repeat?: number): PacketRun;
  close(): void;
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
  down(): Promise<void>;
}

export interface KernelBackend {
  kernelInfo(): KernelInfo;
  compileFilter(opts: CompileFilterOptions): CompileFilterResult;
  resolveDlt(nameOrNumber: string | number): number;
  loadProgram(opts: LoadOptions): LoadResult;
  progInfo(fd: number): ProgInfo;
  dumpProgram(fd: number): ProgDump;
  testRunner(fd: number, kind: ProgKind): TestRunner;
  createCounters(): CounterMap;
  createRing(size: number): EventRing;
  attach(spec: AttachSpec): Attachment;
  linkInfo(linkFd: number): LinkInfo;
  skbLayout(): SkbLayout | null;
  demoUp(): Promise<DemoNet>;
  /** 0 when there is no such interface (in the agent's own namespace). */
  ifindex(name: string): number;
  closeFd(fd: number): void;
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

/** The real machine. */
export function realBackend(): KernelBackend {
  return {
    kernelInfo: () => kernelInfo(),
    compileFilter,
    resolveDlt,
    loadProgram: (opts) => loadProgram(opts),
    progInfo,
    dumpProgram,
    testRunner: (fd, kind) => new PacketRunner(fd, kind),
    createCounters: counterMap,
    createRing: eventRing,
    attach,
    linkInfo,
    skbLayout,
    demoUp: () => DemoNetwork.up(),
    ifindex: (name) => ifNameToIndex(name),
    closeFd,
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
