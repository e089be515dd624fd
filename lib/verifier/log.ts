/**
 * The verifier log as the kernel builds it: lines, plus the one trick that matters for layout —
 * a state printed right after an instruction line is appended to it, padded so that `;` lands on
 * an 8-column boundary (print_insn_state / vlog_alignment).
 */
import { logAlignment } from "./format";

export class VerifierLog {
  readonly lines: string[] = [];
  /** Index of the last line when it is an instruction line that nothing has followed yet. */
  private insnLine = -1;

  /** The next text continues the last line (after a level-1 rewind into the middle of a line). */
  private continueLine = false;

  private push(line: string): void {
    if (this.continueLine && this.lines.length) this.lines[this.lines.length - 1] += line;
    else this.lines.push(line);
    this.continueLine = false;
  }

  print(line: string): void {
    this.push(line);
    this.insnLine = -1;
  }

  printInsn(text: string): void {
    this.push(text);
    this.insnLine = this.lines.length - 1;
  }

  /**
   * bpf_vlog_reset to a position saved when a branch was pushed (level 1). The position is just
   * after the jump's line; the jump's state suffix, appended later, is cut back to its first
   * padding space and the next output continues that line, as in the kernel.
   */
  rewind(mark: { lines: number; last: string | undefined }): void {
    this.lines.length = mark.lines;
    const i = mark.lines - 1;
    if (i >= 0 && mark.last !== undefined && this.lines[i] !== mark.last) {
      this.lines[i] = mark.last + " ";
      this.continueLine = true;
    }
    this.insnLine = -1;
  }

  mark(): { lines: number; last: string | undefined } {
    return { lines: this.lines.length, last: this.lines[this.lines.length - 1] };
  }

  /** `state` starts with a space (` R0=...`); `idx` labels it when it cannot be appended. */
  printState(idx: number, state: string): void {
    if (this.insnLine >= 0 && this.insnLine === this.lines.length - 1) {
      const text = this.lines[this.insnLine]!;
      this.lines[this.insnLine] = text + " ".repeat(logAlignment(text.length + 1)) + ";" + state;
    } else this.push(`${idx}:${state}`);
    this.insnLine = -1;
  }

  text(): string {
    return this.lines.length ? this.lines.join("\n") + "\n" : "";
  }
}
