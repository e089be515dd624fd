/**
 * Lines that are not the 6.18 verifier's own, for robustness tests of the log parser: what pasted
 * logs carry around and inside the kernel's text (loader output, constructs of other kernels and
 * of subprogram calls), and near-misses of the line forms the parser knows. None of them may
 * change what the parser makes of the real lines around it.
 */
export const FOREIGN_LINES: readonly string[] = [
  "libbpf: prog 'xdp_prog': -- BEGIN PROG LOAD LOG --",
  "libbpf: prog 'xdp_prog': -- END PROG LOAD LOG --",
  "ERROR: Error loading program: xdp_prog",
  "PROCESSING xdp.bpf.o/xdp_prog, DURATION US: 120, VERDICT: failure",
  "Func#1 ('helper') is global and assumed valid.",
  "caller:",
  " frame0: R1=ctx() R10=fp0",
  "callee:",
  "returning from callee:",
  "to caller at 5:",
  "Validating helper() func#1...",
  "   ",
  "\t",
  "Live regs",
  "0:",
  ": .......... (b7) r0 = 0",
  "  1   2: 0.2...X... (07) r2 += 1",
  "      3: 0123456789 ",
  "99999999999999999999: (b7) r0 = 0",
  "processed many insns",
  "stack depth",
  "from 1 to",
  "SCC enter",
  "\u00a0\u200b\ufeff",
];

/** `lines` with one of `noise` after every line (cycling), so a listing is interrupted at every row. */
export function interleave(lines: readonly string[], noise: readonly string[] = FOREIGN_LINES): string[] {
  return lines.flatMap((l, i) => [l, noise[i % noise.length]!]);
}
