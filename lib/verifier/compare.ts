/**
 * Comparing an emulated log with a real one. The kernel's log has parts that depend on heuristics
 * or on internals the emulator does not reproduce line for line; `normaliseLog` removes exactly
 * those: precision backtracking (`mark_precise:`), stack-liveness (`(0) frame …`), `SCC` lines,
 * pruning lines (`N: safe`, `from P to N: safe`), register ids, map addresses in ld_imm64, and the
 * state counters of the final
 * line (and the other precision diagnostics: `force_precise:`, `frame N: propagating`). A state that the kernel printed on its own line only because precision lines came between
 * is folded back onto its instruction line, as it would have been printed without them.
 */
import { logAlignment } from "./format";

const INSN_LINE = /^(\d+): \([0-9a-f]{2}\) /;
const STATE_ONLY = /^(\d+):( (?:R\d+|fp-\d+)\S*=.*)$/;

export interface NormaliseOptions {
  /** Keep ids (default false: they are removed). */
  keepIds?: boolean;
  /** Keep `processed N insns` (default true); the other counters are always removed. */
  keepProcessed?: boolean;
}

export function normaliseLog(text: string, opts: NormaliseOptions = {}): string[] {
  const raw = text.split("\n");
  if (raw[raw.length - 1] === "") raw.pop();
  const out: string[] = [];
  let droppedSince = false;
  for (let i = 0; i < raw.length; i++) {
    let line = raw[i]!;
    if (/^mark_precise: /.test(line) || /^force_precise: /.test(line) || /^frame \d+: propagating /.test(line) || /^\(\d+\) (frame \d+ insn|live stack update)/.test(line) || /^SCC (enter|exit) /.test(line)) {
      droppedSince = true;
      continue;
    }
    if (/^verification time \d+ usec$/.test(line) || /^stack depth [\d+]+$/.test(line)) continue;
    if (/^\d+: safe$/.test(line)) continue;
    if (/^from \d+ to \d+: safe$/.test(line)) {
      if (out.length && out[out.length - 1] === "") out.pop();
      continue;
    }
    const st = STATE_ONLY.exec(line);
    const prev = out[out.length - 1];
    if (st && droppedSince && prev !== undefined && INSN_LINE.test(prev) && !prev.includes(";")) {
      const merged = prev + " ".repeat(logAlignment(prev.length + 1)) + ";" + st[2];
      out[out.length - 1] = opts.keepIds ? merged : stripIds(merged);
      droppedSince = false;
      continue;
    }
    droppedSince = false;
    if (!opts.keepIds) line = stripIds(line);
    // Kernel addresses of maps in ld_imm64 differ from run to run (same width, so columns hold).
    line = line.replace(/\(18\) r(\d+) = 0xffff[0-9a-f]{12}\b/, "(18) r$1 = <kernel pointer>");
    if (line.startsWith("processed ")) {
      line = line.replace(/ max_states_per_insn \d+ total_states \d+ peak_states \d+ mark_read \d+$/, "");
      if (opts.keepProcessed === false) line = line.replace(/^processed \d+ insns/, "processed N insns");
    }
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
