/**
 * What a parsed verifier log says, for the views and the comparisons: the Live regs listing by
 * instruction, the instruction texts the trace printed, which slot each line is about, the
 * summary figures and the error text. Everything here works on log-parse.ts's lines, so no
 * consumer reads log text with a regex of its own.
 */
import type { RawInsn } from "../ebpf/insn";
import { parseInsnText } from "../ebpf/parse";
import { PlaygroundError } from "../errors";
import type { LogLine } from "./log-parse";

export type LiveRow = Extract<LogLine, { kind: "live" }>;

/**
 * The Live regs listing, by instruction index. Rows are recognised by their own shape, not by
 * position after the header, so a line in between (or a row of a form the parser reads as
 * unknown) costs that one row and never the rest of the listing.
 */
export function liveRegs(lines: readonly LogLine[]): Map<number, LiveRow> {
  const out = new Map<number, LiveRow>();
  for (const l of lines) if (l.kind === "live" && !out.has(l.insn)) out.set(l.insn, l);
  return out;
}

/** The instruction text of every slot the trace printed (`N: (op) text`), first print wins. */
export function traceInsnTexts(lines: readonly LogLine[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const l of lines) if (l.kind === "insn" && !out.has(l.insn)) out.set(l.insn, l.text);
  return out;
}

/** For each line, the instruction slot it prints (`N: (op) ...` lines), else null: what links a log line to the listings. */
export function slotOfLine(lines: readonly LogLine[]): (number | null)[] {
  return lines.map((l) => (l.kind === "insn" ? l.insn : null));
}

export interface LogSummary {
  processedInsns?: number;
  insnLimit?: number;
  maxStatesPerInsn?: number;
  totalStates?: number;
  peakStates?: number;
  /** From BPF_LOG_STATS. */
  verificationTimeUs?: number;
  /** From BPF_LOG_STATS: one figure per subprogram (`stack depth 0+8` gives [0, 8]). */
  stackDepth?: number[];
}

/** The summary lines the verifier prints last. Absent lines leave fields undefined. */
export function logSummary(lines: readonly LogLine[]): LogSummary {
  const out: LogSummary = {};
  for (const l of lines) {
    if (l.kind === "processed") {
      out.processedInsns = l.insns;
      out.insnLimit = l.limit;
      out.maxStatesPerInsn = l.maxStatesPerInsn;
      out.totalStates = l.totalStates;
      out.peakStates = l.peakStates;
    } else if (l.kind === "verification-time") out.verificationTimeUs = l.usec;
    else if (l.kind === "stack-depth") out.stackDepth = l.depths;
  }
  return out;
}

/** Lines that come from heuristics or internals (precision, stack liveness, loop markers), not from the path being verified. */
export function isDiagnostic(l: LogLine): boolean {
  return l.kind === "precision" || l.kind === "stack-liveness" || l.kind === "scc";
}

/** Summary lines (BPF_LOG_STATS and `processed`), whose figures vary between runs and kernels. */
export function isSummary(l: LogLine): boolean {
  return l.kind === "processed" || l.kind === "verification-time" || l.kind === "stack-depth";
}

/**
 * The error message of a rejected load: the lines after the last instruction printed (or after
 * the header when none was), before the summary, without the diagnostics interleaved with them.
 */
export function errorLines(lines: readonly LogLine[]): LogLine[] {
  const body = lines.filter((l) => !isDiagnostic(l) && !isSummary(l));
  let i = body.length;
  while (i > 0 && !["insn", "func", "live", "live-header"].includes(body[i - 1]!.kind)) i--;
  return body.slice(i);
}

/**
 * Why a load was rejected, as the log says: the error lines joined, and the instruction the
 * verifier was at (the last one it printed; null when it printed none). Null when there are no
 * error lines.
 */
export function logError(lines: readonly LogLine[]): { message: string; insn: number | null } | null {
  const err = errorLines(lines);
  if (err.length === 0) return null;
  let insn: number | null = null;
  for (const l of lines) if (l.kind === "insn") insn = l.insn;
  return { message: err.map((l) => l.raw).join("\n"), insn };
}

/**
 * The program a level-2 log was produced for, rebuilt from its Live regs listing (every
 * instruction is listed once; an ld_imm64 row stands for two slots). Null when the log has no
 * listing (level 1, or a load rejected before it is printed). Throws PlaygroundError when the
 * listing has a gap or an instruction lib/ebpf cannot read back.
 */
export function programFromLog(lines: readonly LogLine[]): RawInsn[] | null {
  const rows = [...liveRegs(lines).values()].sort((a, b) => a.insn - b.insn);
  if (rows.length === 0) return null;
  const out: RawInsn[] = [];
  for (const row of rows) {
    if (row.insn !== out.length) throw new PlaygroundError("verifier/log", `the Live regs listing has no row for instruction ${out.length}`, { kind: "insn", index: out.length });
    out.push(...parseInsnText(row.text));
  }
  return out;
}
