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

  print(line: string): void {
    this.lines.push(line);
    this.insnLine = -1;
  }

  printInsn(text: string): void {
    this.lines.push(text);
    this.insnLine = this.lines.length - 1;
  }

  /** `state` starts with a space (` R0=...`); `idx` labels it when it cannot be appended. */
  printState(idx: number, state: string): void {
    if (this.insnLine >= 0 && this.insnLine === this.lines.length - 1) {
      const text = this.lines[this.insnLine]!;
      this.lines[this.insnLine] = text + " ".repeat(logAlignment(text.length + 1)) + ";" + state;
    } else this.lines.push(`${idx}:${state}`);
    this.insnLine = -1;
  }

  text(): string {
    return this.lines.length ? this.lines.join("\n") + "\n" : "";
  }
}
