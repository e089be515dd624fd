/**
 * Comparing an emulated log with a real one. The kernel's log has parts that depend on heuristics
 * or on internals the emulator does not reproduce line for line; `normaliseLog` removes exactly
 * those: precision backtracking (`mark_precise:`), stack-liveness (`(0) frame …`), `SCC` lines,
 * pruning lines (`N: safe`, `from P to N: safe`), register ids, map addresses in ld_imm64, the
 * BPF_LOG_STATS lines and the state counters of the final line. A state that the kernel printed
 * on its own line only because such lines came between is folded back onto its instruction
 * line, as it would have been printed without them. Lines are classified by log-parse.ts.
 */
import { logAlignment } from "./format";
import { isDiagnostic } from "./log-analyze";
import { parseLog } from "./log-parse";

export interface NormaliseOptions {
  /** Keep ids (default false: they are removed). */
  keepIds?: boolean;
  /** Keep `processed N insns` (default true); the other counters are always removed. */
  keepProcessed?: boolean;
}

export function normaliseLog(text: string, opts: NormaliseOptions = {}): string[] {
  const out: string[] = [];
  // Whether out's last line is an instruction line with no state after it yet.
  let lastBare = false;
  let droppedSince = false;
  for (const l of parseLog(text)) {
    if (isDiagnostic(l)) {
      droppedSince = true;
      continue;
    }
    if (l.kind === "verification-time" || l.kind === "stack-depth" || l.kind === "safe") continue;
    if (l.kind === "from" && l.state === null) {
      if (out.length && out[out.length - 1] === "") out.pop();
      continue;
    }
    if (l.kind === "state" && droppedSince && lastBare) {
      const prev = out[out.length - 1]!;
      const merged = prev + " ".repeat(logAlignment(prev.length + 1)) + ";" + l.state;
      out[out.length - 1] = opts.keepIds ? merged : stripIds(merged);
      lastBare = droppedSince = false;
      continue;
    }
    droppedSince = false;
    lastBare = l.kind === "insn" && l.state === null;
    let line = opts.keepIds ? l.raw : stripIds(l.raw);
    // Kernel addresses of maps in ld_imm64 differ from run to run (same width, so columns hold).
    if (l.kind === "insn" || l.kind === "live") line = line.replace(/\(18\) r(\d+) = 0xffff[0-9a-f]{12}\b/, "(18) r$1 = <kernel pointer>");
    if (l.kind === "processed") line = `processed ${opts.keepProcessed === false ? "N" : l.insns} insns (limit ${l.limit})`;
    out.push(line);
  }
  return out;
}

function stripIds(line: string): string {
  return line.replace(/\bid=\d+(?:[+-]\d+)?,?/g, "").replace(/,\)/g, ")");
}

export interface LogComparison {
  /** Lines of the real (normalised) log. */
  expected: number;
  /** Lines of the emulated (normalised) log. */
  actual: number;
  /** Lines common to both, in order (longest common subsequence). */
  matched: number;
  /** matched / max(expected, actual), 1 when both are empty. */
  agreement: number;
  /** Unified-style differences: `-` only in the real log, `+` only in the emulated one. */
  diff: string[];
}

export function compareLogs(real: string, emulated: string, opts: NormaliseOptions = {}): LogComparison {
  const a = normaliseLog(real, opts);
  const b = normaliseLog(emulated, opts);
  const n = a.length;
  const m = b.length;
  // LCS table over lines; logs here are at most a few thousand lines.
  const dp: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      dp[i]![j] = a[i] === b[j] ? dp[i + 1]![j + 1]! + 1 : Math.max(dp[i + 1]![j]!, dp[i]![j + 1]!);
    }
  }
  const diff: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      i++;
      j++;
    } else if (j < m && (i === n || dp[i]![j + 1]! >= dp[i + 1]![j]!)) diff.push(`+${b[j++]}`);
    else diff.push(`-${a[i++]}`);
  }
  const matched = dp[0]![0]!;
  const denom = Math.max(n, m);
  return { expected: n, actual: m, matched, agreement: denom ? matched / denom : 1, diff };
}
