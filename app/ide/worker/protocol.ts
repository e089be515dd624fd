/**
 * Messages between the page and the pipeline worker. The worker owns the packets, the pipeline
 * cache and the debugger session; the page owns the editor state and sends it on every change.
 */
import type { CbpfInsn } from "../../../lib/cbpf/insn";
import type { DissectNode } from "../../../lib/dissect";
import type { EngineVerdicts, LinkProgram, PacketRow, PipelineResult, Target } from "../../../lib/pipeline";

export interface RunInput {
  filter: string;
  dlt: number;
  snaplen: number;
  optimize: boolean;
  target: Target;
  insns: CbpfInsn[];
  /** The same filter compiled for the capture's other link types (each packet is judged by its own). */
  programs?: LinkProgram[];
}

export type Engine = "cbpf" | "ebpf";

export type DebugCommand =
  | { op: "start"; engine: Engine; packet: number; program: RunInput }
  | { op: "step" }
  | { op: "back" }
  | { op: "run"; breakpoints: number[] }
  | { op: "reset" };

export interface RegRow {
  name: string;
  value: string;
  /** Decimal (or another reading) shown faint beside the value. */
  alt?: string;
  changed: boolean;
}

export interface DebugSnapshot {
  engine: Engine;
  packet: number;
  /** cBPF instruction index or eBPF slot about to execute (or the last one when done). */
  pc: number;
  done: boolean;
  returnValue: number | null;
  error?: string;
  steps: number;
  regs: RegRow[];
  /** Scratch words (cBPF) or written stack bytes (eBPF), already formatted. */
  memory: RegRow[];
  /** Packet byte ranges the last step read. */
  reads: { offset: number; size: number }[];
  /** Text of the last executed instruction, and a remark about it. */
  last?: string;
  note?: string;
  /** Why the session could not start. */
  unavailable?: string;
}

export type ExportWhich = "matched-cbpf" | "matched-ebpf" | "all";

export type ToWorker =
  | { type: "load"; id: number; name: string; bytes: ArrayBuffer }
  | { type: "generate"; id: number; name: string; seed: number; count: number; dlt: number }
  | { type: "run"; seq: number; input: RunInput }
  | { type: "rows"; req: number; from: number; to: number }
  | { type: "detail"; req: number; index: number }
  | { type: "edit"; id: number; op: "replace" | "insert" | "delete"; index: number; data?: Uint8Array; dlt?: number }
  | { type: "export"; req: number; which: ExportWhich }
  | { type: "share-capture"; req: number; limit: number }
  | { type: "packet-bytes"; req: number; from: number; to: number }
  | { type: "debug"; req: number; cmd: DebugCommand };

export interface LoadedInfo {
  id: number;
  name: string;
  count: number;
  dlts: number[];
  format: string;
  /** Reading stopped early (damaged file): what libpcap-style readers would say. */
  error?: string;
  ms: number;
}

export type FromWorker =
  | { type: "progress"; id: number; phase: "reading" | "evaluating"; done: number; total: number }
  | ({ type: "loaded" } & LoadedInfo)
  | { type: "load-failed"; id: number; name: string; error: string }
  | { type: "result"; seq: number; input: RunInput; result: PipelineResult; workerMs: number }
  | { type: "ebpf-verdicts"; seq: number; verdicts: EngineVerdicts; mismatches: Uint32Array; workerMs: number }
  | { type: "rows"; req: number; rows: PacketRow[] }
  | { type: "detail"; req: number; index: number; tree: DissectNode | null; data: Uint8Array; origLen: number; dlt: number }
  | { type: "export"; req: number; bytes: Uint8Array | null; count: number }
  | { type: "debug"; req: number; snapshot: DebugSnapshot }
  | { type: "packet-bytes"; req: number; data: Uint8Array[]; dlts: number[] }
  | { type: "fatal"; message: string };
