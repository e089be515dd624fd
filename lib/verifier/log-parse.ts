/**
 * Reading a verifier log: the one parser of the kernel's log text (and of the emulator's, which
 * prints the same format). It classifies each line on its own, with no state carried between
 * lines, so a line it does not know is just `unknown` and never ends a block or the log early;
 * it never throws. Interpretation (which block a line belongs to, what the program was, the
 * summary figures) is the analyzer's job (log-analyze.ts); writing a log is log.ts's.
 *
 * Formats follow docs/verifier-log-format.md and the printing code of kernel/bpf/verifier.c and
 * log.c as of 6.18, with the older and newer forms that pasted logs contain (section 9).
 */

export type LogLine = { readonly raw: string } & LogLineKind;

export type LogLineKind =
  /** `func#N @START`, from check_subprogs. */
  | { kind: "func"; subprog: number; start: number }
  /** The header of the Live regs listing (6.15+; bpf-next adds a note about prune points). */
  | { kind: "live-header" }
  /**
   * One row of the Live regs listing: compute_live_registers prints `%3d ` with the loop (SCC)
   * number or four spaces, `%3d: ` with the index, r0..r9 as digit-or-dot, a space, the
   * instruction. bpf-next puts ` p `/` P `/three spaces after the mask instead of one.
   */
  | { kind: "live"; insn: number; scc: number | null; live: number; prune: "p" | "P" | null; text: string }
  /** `N: (op) text`, optionally followed by padding, `;` and the scratched state. */
  | { kind: "insn"; insn: number; text: string; state: string | null; stateColumn: number | null }
  /** `N: R1=… fp-8=…` (or `N: frame1: R1=…`): a state printed on a line of its own. */
  | { kind: "state"; insn: number; state: string }
  /** `from P to N: <state>` after a branch is popped; `state` is null for `from P to N: safe`. */
  | { kind: "from"; from: number; to: number; speculative: boolean; state: string | null }
  /** `N: safe`: the path is pruned at N. */
  | { kind: "safe"; insn: number }
  /** Precision backtracking, in any kernel's wording (mark_precise:, force_precise:, regs=… before …). */
  | { kind: "precision" }
  /** Stack-liveness diagnostics of 6.18 (`(0) frame 0 insn 9 +live -8 `, `(0) live stack update …`). */
  | { kind: "stack-liveness" }
  /** `SCC enter (N)` / `SCC exit (N)` around loop iterations. */
  | { kind: "scc"; event: "enter" | "exit"; scc: number }
  /** `; source text` or `; source text @ file.c:LINE`, from BTF line_info. */
  | { kind: "source"; text: string; file: string | null; line: number | null }
  /** The last line of every log: `processed N insns (limit L) max_states_per_insn …`. */
  | { kind: "processed"; insns: number; limit: number; maxStatesPerInsn: number; totalStates: number; peakStates: number; markRead: number | null }
  /** BPF_LOG_STATS: `verification time N usec`. */
  | { kind: "verification-time"; usec: number }
  /** BPF_LOG_STATS: `stack depth N` or `stack depth a+b+…` (one per subprogram). */
  | { kind: "stack-depth"; depths: number[] }
  | { kind: "blank" }
  /** Anything else: error messages, loader output, constructs of other kernels. */
  | { kind: "unknown" };

// A whole number as the kernel prints it; anything that would not be a safe integer is rejected
// so that a mangled line is `unknown` rather than a row with a meaningless index.
const int = (s: string | undefined): number | null => {
  if (s === undefined) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : null;
};

const LIVE = /^ *(?:(\d+) +)?(\d+): ([0-9.]{10}) (?:([pP ]) )?(\(.*)$/;
const INSN = /^(\d+): (\([0-9a-f]{2}\) .*?)(?:( +);( .*))?$/;
const STATE = /^(\d+):((?: frame\d+:)? (?:R\d+|fp-?\d+)[^=\s]*=.*)$/;
const FROM = /^from (\d+) to (\d+)( \(speculative execution\))?:(.*)$/;
const PROCESSED = /^processed (\d+) insns \(limit (\d+)\) max_states_per_insn (\d+) total_states (\d+) peak_states (\d+)(?: mark_read (\d+))?/;
const PRECISION = /^(?:mark_precise: |force_precise: |frame \d+: propagating |last_idx \d+ first_idx \d+|regs=\S* stack=\S* before \d+: |parent (?:didn't have|already had) regs=)/;
const STACK_LIVENESS = /^\(\d+\) (?:frame \d+ insn \d+ |live stack update )/;

/** The live-register mask of a Live regs row, or null if a column is not `.` or its own digit. */
function liveMask(col: string): number | null {
  let mask = 0;
  for (let r = 0; r < 10; r++) {
    const c = col[r];
    if (c === String(r)) mask |= 1 << r;
    else if (c !== ".") return null;
  }
  return mask;
}

function classify(raw: string): LogLineKind {
  if (raw === "") return { kind: "blank" };
  let m: RegExpExecArray | null;
  const c0 = raw[0]!;
  if (c0 >= "0" && c0 <= "9") {
    if ((m = INSN.exec(raw))) {
      const insn = int(m[1]);
      if (insn !== null) {
        const state = m[4] ?? null;
        return { kind: "insn", insn, text: m[2]!, state, stateColumn: state === null ? null : m[1]!.length + 2 + m[2]!.length + m[3]!.length };
      }
    }
    if ((m = /^(\d+): safe$/.exec(raw))) {
      const insn = int(m[1]);
      if (insn !== null) return { kind: "safe", insn };
    }
    if ((m = STATE.exec(raw))) {
      const insn = int(m[1]);
      if (insn !== null) return { kind: "state", insn, state: m[2]! };
    }
  }
  if ((m = LIVE.exec(raw))) {
    const insn = int(m[2]);
    const scc = m[1] === undefined ? null : int(m[1]);
    const live = liveMask(m[3]!);
    if (insn !== null && live !== null && (m[1] === undefined || scc !== null)) {
      const prune = m[4] === "p" || m[4] === "P" ? m[4] : null;
      return { kind: "live", insn, scc, live, prune, text: m[5]! };
    }
  }
  if ((m = FROM.exec(raw))) {
    const from = int(m[1]);
    const to = int(m[2]);
    if (from !== null && to !== null) return { kind: "from", from, to, speculative: m[3] !== undefined, state: m[4] === " safe" ? null : m[4]! };
  }
  if ((m = /^func#(\d+) @(\d+)$/.exec(raw))) {
    const subprog = int(m[1]);
    const start = int(m[2]);
    if (subprog !== null && start !== null) return { kind: "func", subprog, start };
  }
  if (/^Live regs before insn\b.*:$/.test(raw)) return { kind: "live-header" };
  if (PRECISION.test(raw)) return { kind: "precision" };
  if (STACK_LIVENESS.test(raw)) return { kind: "stack-liveness" };
  if ((m = /^SCC (enter|exit) \((\d+)\)$/.exec(raw))) {
    const scc = int(m[2]);
    if (scc !== null) return { kind: "scc", event: m[1] as "enter" | "exit", scc };
  }
  if ((m = PROCESSED.exec(raw))) {
    const [insns, limit, maxStatesPerInsn, totalStates, peakStates] = [1, 2, 3, 4, 5].map((i) => int(m![i]));
    if (insns !== null && limit !== null && maxStatesPerInsn !== null && totalStates !== null && peakStates !== null) {
      return { kind: "processed", insns, limit, maxStatesPerInsn, totalStates, peakStates, markRead: int(m[6]) };
    }
  }
  if ((m = /^verification time (\d+) usec$/.exec(raw))) {
    const usec = int(m[1]);
    if (usec !== null) return { kind: "verification-time", usec };
  }
  if ((m = /^stack depth (\d+(?:\+\d+)*)\+?$/.exec(raw))) {
    const depths = m[1]!.split("+").map(int);
    if (depths.every((d) => d !== null)) return { kind: "stack-depth", depths: depths as number[] };
  }
  if ((m = /^; (.*?)(?: @ (\S+):(\d+))?$/.exec(raw))) {
    const line = int(m[3]);
    return { kind: "source", text: m[1]!, file: line === null ? null : m[2]!, line };
  }
  return { kind: "unknown" };
}

/** One line (without its newline). Never throws; an unrecognised line is `unknown`. */
export function parseLogLine(raw: string): LogLine {
  return { raw, ...classify(raw) };
}

/**
 * Every line of a log, in order (a final newline does not make an extra blank line; `\r\n` from
 * a pasted log is accepted). Line i of the result is line i of the text.
 */
export function parseLog(text: string): LogLine[] {
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines.map((l) => parseLogLine(l.endsWith("\r") ? l.slice(0, -1) : l));
}
