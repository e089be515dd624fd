/**
 * The editor state the pipeline reads and everything it computes for the panes. Plain data only
 * (typed arrays, strings, numbers) so a result crosses a worker boundary with structured clone.
 */
import type { CbpfInsn } from "../cbpf/insn";
import type { CbpfIssue } from "../cbpf/validate";
import type { Provenance, Target, TranslateStats } from "../translate/types";

export type { Target, Provenance };

export interface PipelinePacket {
  data: Uint8Array;
  /** Length on the wire (`ld #pktlen` in libpcap). */
  origLen: number;
  /** The DLT the packet was captured with; a packet of another link type than the filter's is skipped. */
  dlt: number;
}

/** What libpcap said about the filter (compiled on the server). */
export type CompiledFilter = { ok: true; insns: readonly CbpfInsn[] } | { ok: false; error: string };

/** The filter compiled for one link type. */
export interface LinkProgram {
  dlt: number;
  cbpf: CompiledFilter;
}

export interface PipelineState {
  filter: string;
  /** The link type the panes show the program for. */
  dlt: number;
  snaplen: number;
  optimize: boolean;
  target: Target;
  /** The filter compiled for `dlt`. */
  cbpf: CompiledFilter;
  /**
   * The filter compiled for the capture's other link types. Each packet is judged by the program
   * of its own link type, as `run` and libpcap do for a pcapng with interfaces of several link
   * types; packets of a link type with no program here are skipped.
   */
  programs?: readonly LinkProgram[];
  packets: readonly PipelinePacket[];
}

export interface CbpfView {
  insns: readonly CbpfInsn[];
  /** Exactly `tcpdump -d`, `-dd`, `-ddd`. */
  text: { d: string; dd: string; ddd: string };
  /** Problems the kernel's checker would report (SO_ATTACH_FILTER); libpcap's output is usually clean. */
  kernelIssues: CbpfIssue[];
}

export type EngineStatus = "ok" | "unavailable" | "error";

export interface EbpfView {
  status: EngineStatus;
  /** Why not "ok". */
  message?: string;
  target: Target;
  /** One line per instruction (`N: (op) text`, N the slot index, as in the verifier log). */
  lines: string[];
  text: string;
  /** Slot index of each line. */
  slotOfLine: number[];
  /** Line of each slot (the second slot of an ld_imm64 maps to its first line). */
  lineOfSlot: number[];
  /** Provenance of each line. */
  provenance: Provenance[];
  /** For each cBPF instruction, the listing lines made from it. */
  linesByCbpf: number[][];
  stats?: TranslateStats;
  /** What the translation keeps in each register it uses ("r6": "cBPF A (accumulator)"). */
  registerRoles: Record<string, string>;
  notes: string[];
  progType?: number;
}

export interface TraceView {
  status: EngineStatus;
  message?: string;
  /** The verifier log (log_level 2 format) as the emulator reproduces it. */
  text: string;
  accepted: boolean | null;
  /** When refused: the verifier's message, where, and a plain-language explanation. */
  error?: { message: string; insn: number | null; summary: string; hint: string };
  /** For each log line, the instruction slot it is about (null for state-only or summary lines). */
  slotOfLine: (number | null)[];
}

/** Per-packet outcome of one engine. */
export const RunStatus = {
  NotRun: 0,
  Ok: 1,
  /** The engine stopped with an error (fault, trap); `values` holds 0. */
  Error: 2,
  /** The packet's link type differs from the filter's. */
  Skipped: 3,
} as const;

export interface EngineVerdicts {
  status: EngineStatus;
  message?: string;
  /** Return value per packet (u32). */
  values: Uint32Array;
  /** RunStatus per packet. */
  runs: Uint8Array;
  matched: number;
  errors: number;
  /** First error message seen, for the UI. */
  firstError?: string;
}

export interface VerdictsView {
  count: number;
  cbpf: EngineVerdicts;
  ebpf: EngineVerdicts;
  /** Packets where the two engines disagree (one matches and the other not, or different values). */
  mismatches: Uint32Array;
}

export interface PipelineResult {
  /** Null when the filter does not compile (the UI keeps the last good one). */
  cbpf: CbpfView | null;
  compileError?: string;
  ebpf: EbpfView;
  trace: TraceView;
  verdicts: VerdictsView;
  /** Milliseconds spent per stage, for the status bar and benchmarks. */
  timings: Record<string, number>;
}
