/**
 * Static checks, two rule sets:
 *
 * - "kernel": what Linux accepts for SO_ATTACH_FILTER (`bpf_check_classic`, `chk_code_allowed`,
 *   `check_load_and_stores` in net/core/filter.c).
 * - "libpcap": libpcap 1.10.3's `bpf_validate`. It checks classes and modes, not exact opcodes,
 *   so it accepts some opcodes its own interpreter cannot run; it allows backward `ja` (as long as
 *   the unsigned sum lands inside the program), does not cap the length and does not check scratch
 *   initialisation or shift counts.
 *
 * A program is valid under a rule set exactly when the list is empty. Unlike the kernel, which
 * stops at the first problem, every problem is reported.
 */
import { PlaygroundError } from "../errors";
import { checkInstructions } from "./codec";
import type { CbpfInsn } from "./insn";
import { describeInsn } from "./format";
import {
  BPF_A,
  BPF_ABS,
  BPF_ADD,
  BPF_ALU,
  BPF_AND,
  BPF_CLASS,
  BPF_DIV,
  BPF_IMM,
  BPF_IND,
  BPF_JA,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JMP,
  BPF_JSET,
  BPF_K,
  BPF_LD,
  BPF_LDX,
  BPF_LEN,
  BPF_LSH,
  BPF_MAXINSNS,
  BPF_MEM,
  BPF_MEMWORDS,
  BPF_MOD,
  BPF_MODE,
  BPF_MSH,
  BPF_MUL,
  BPF_NEG,
  BPF_OP,
  BPF_OR,
  BPF_RET,
  BPF_RSH,
  BPF_SRC,
  BPF_ST,
  BPF_STX,
  BPF_SUB,
  BPF_XOR,
  SKF_AD_OFF,
  ancillaryIndex,
  hasJumpTargets,
  isAbsoluteLoad,
  isKnownOpcode,
  isScratchRead,
  isScratchWrite,
} from "./opcodes";

export type CbpfRules = "kernel" | "libpcap";

export interface CbpfIssue {
  /** The instruction the problem is about. */
  index: number;
  message: string;
}

export function validateProgram(prog: readonly CbpfInsn[], rules: CbpfRules): CbpfIssue[] {
  checkInstructions(prog);
  return rules === "kernel" ? kernelIssues(prog) : libpcapIssues(prog);
}

/** Throw a PlaygroundError for the first issue, positioned at its instruction. */
export function assertValid(prog: readonly CbpfInsn[], rules: CbpfRules): void {
  const issues = validateProgram(prog, rules);
  const first = issues[0];
  if (first === undefined) return;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? "s" : ""})` : "";
  throw new PlaygroundError("cbpf/invalid", first.message + more, { kind: "insn", index: first.index });
}

const label = (prog: readonly CbpfInsn[], i: number): string => `insn ${i} (${describeInsn(prog[i]!, i)})`;

function kernelIssues(prog: readonly CbpfInsn[]): CbpfIssue[] {
  const n = prog.length;
  const issues: CbpfIssue[] = [];
  if (n === 0) return [{ index: 0, message: "the program is empty: the kernel needs 1 to 4096 instructions" }];
  if (n > BPF_MAXINSNS) {
    issues.push({
      index: BPF_MAXINSNS,
      message: `the program has ${n} instructions: the kernel accepts at most ${BPF_MAXINSNS}`,
    });
  }
  const add = (i: number, why: string): void => {
    issues.push({ index: i, message: `${label(prog, i)}: ${why}` });
  };
  let jumpsInRange = true;

  for (let i = 0; i < n; i++) {
    const p = prog[i]!;
    const k = p.k >>> 0;
    if (!isKnownOpcode(p.code)) {
      add(i, `opcode 0x${p.code.toString(16)} is not a classic BPF instruction the kernel allows`);
      if (hasJumpTargets(p.code)) jumpsInRange = false;
      continue;
    }
    switch (p.code) {
      case BPF_ALU | BPF_DIV | BPF_K:
      case BPF_ALU | BPF_MOD | BPF_K:
        if (k === 0) add(i, `${p.code === (BPF_ALU | BPF_DIV | BPF_K) ? "division" : "modulo"} by the constant 0`);
        break;
      case BPF_ALU | BPF_LSH | BPF_K:
      case BPF_ALU | BPF_RSH | BPF_K:
        if (k >= 32) add(i, `shift by ${k}: the kernel rejects constant shifts of 32 or more`);
        break;
      case BPF_LD | BPF_MEM:
      case BPF_LDX | BPF_MEM:
      case BPF_ST:
      case BPF_STX:
        if (k >= BPF_MEMWORDS) add(i, `M[${k}] does not exist: scratch memory is M[0] to M[${BPF_MEMWORDS - 1}]`);
        break;
      case BPF_JMP | BPF_JA:
        // The kernel compares k, unsigned, against the distance to the end: a "negative" k
        // (a backward jump) is a huge unsigned number and fails the same test.
        if (k >= n - i - 1) {
          jumpsInRange = false;
          add(
            i,
            (k | 0) < 0
              ? `ja jumps backwards (offset ${k | 0}): the kernel allows forward jumps only`
              : `ja target ${i + 1 + k} is past the last instruction (${n - 1})`,
          );
        }
        break;
      default:
        if (hasJumpTargets(p.code)) {
          for (const [which, off] of [["jt", p.jt], ["jf", p.jf]] as const) {
            if (i + off + 1 >= n) {
              jumpsInRange = false;
              add(i, `${which} target ${i + off + 1} is past the last instruction (${n - 1})`);
            }
          }
        } else if (isAbsoluteLoad(p) && k >= SKF_AD_OFF && ancillaryIndex(k) === undefined) {
          add(i, `offset ${k | 0} is in the ancillary range (SKF_AD_OFF = -4096 and up) but is not a known SKF_AD_* value`);
        }
    }
  }

  const last = prog[n - 1]!;
  if (last.code !== (BPF_RET | BPF_K) && last.code !== (BPF_RET | BPF_A)) {
    add(n - 1, "the last instruction must be a ret");
  }
  if (jumpsInRange && n <= BPF_MAXINSNS) issues.push(...scratchIssues(prog));
  issues.sort((a, b) => a.index - b.index);
  return issues;
}

/**
 * The kernel's `check_load_and_stores`, same algorithm: one linear pass carrying the set of
 * scratch words known to be written; a jump intersects that set into its targets' entry sets and
 * resets the running set (the next instruction is then reached only through jumps, whose
 * contributions arrive through its entry set). `ret` does not reset it: the kernel is
 * conservative there and so are we, so that the verdicts match.
 */
function scratchIssues(prog: readonly CbpfInsn[]): CbpfIssue[] {
  const n = prog.length;
  const issues: CbpfIssue[] = [];
  const entry = new Uint16Array(n).fill(0xffff);
  let valid = 0;
  for (let pc = 0; pc < n; pc++) {
    const p = prog[pc]!;
    valid &= entry[pc]!;
    if ((isScratchWrite(p) || isScratchRead(p)) && p.k >= BPF_MEMWORDS) {
      continue; // already reported as a bad index
    } else if (isScratchWrite(p)) {
      valid |= 1 << p.k;
    } else if (isScratchRead(p)) {
      if ((valid & (1 << p.k)) === 0) {
        issues.push({
          index: pc,
          message: `${label(prog, pc)}: M[${p.k}] may be read before it is written (a path reaches here without a store to it)`,
        });
        valid |= 1 << p.k; // report each word once per path, as a user would fix it
      }
    } else if (p.code === (BPF_JMP | BPF_JA)) {
      entry[pc + 1 + p.k]! &= valid;
      valid = 0xffff;
    } else if (isKnownOpcode(p.code) && hasJumpTargets(p.code)) {
      entry[pc + 1 + p.jt]! &= valid;
      entry[pc + 1 + p.jf]! &= valid;
      valid = 0xffff;
    }
  }
  return issues;
}

const PCAP_LOAD_MODES = new Set([BPF_IMM, BPF_ABS, BPF_IND, BPF_MSH, BPF_LEN]);
const PCAP_ALU_OPS = new Set([BPF_ADD, BPF_SUB, BPF_MUL, BPF_OR, BPF_AND, BPF_XOR, BPF_LSH, BPF_RSH, BPF_NEG]);
const PCAP_COND_OPS = new Set([BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET]);

function libpcapIssues(prog: readonly CbpfInsn[]): CbpfIssue[] {
  const n = prog.length;
  if (n === 0) return [{ index: 0, message: "the program is empty: libpcap needs at least one instruction" }];
  const issues: CbpfIssue[] = [];
  const add = (i: number, why: string): void => {
    issues.push({ index: i, message: `${label(prog, i)}: ${why}` });
  };
  for (let i = 0; i < n; i++) {
    const p = prog[i]!;
    const k = p.k >>> 0;
    switch (BPF_CLASS(p.code)) {
      case BPF_LD:
      case BPF_LDX: {
        const mode = BPF_MODE(p.code);
        if (mode === BPF_MEM) {
          if (k >= BPF_MEMWORDS) add(i, `M[${k}] does not exist: scratch memory is M[0] to M[${BPF_MEMWORDS - 1}]`);
        } else if (!PCAP_LOAD_MODES.has(mode)) {
          add(i, `load mode 0x${mode.toString(16)} is not a BPF addressing mode`);
        }
        break;
      }
      case BPF_ST:
      case BPF_STX:
        if (k >= BPF_MEMWORDS) add(i, `M[${k}] does not exist: scratch memory is M[0] to M[${BPF_MEMWORDS - 1}]`);
        break;
      case BPF_ALU: {
        const op = BPF_OP(p.code);
        if (op === BPF_DIV || op === BPF_MOD) {
          if (BPF_SRC(p.code) === BPF_K && k === 0) add(i, `${op === BPF_DIV ? "division" : "modulo"} by the constant 0`);
        } else if (!PCAP_ALU_OPS.has(op)) {
          add(i, `ALU operation 0x${op.toString(16)} does not exist`);
        }
        break;
      }
      case BPF_JMP: {
        const op = BPF_OP(p.code);
        const from = i + 1;
        if (op === BPF_JA) {
          // u_int arithmetic: a backward jump wraps around and is fine if it lands in the program.
          const t = (from + k) >>> 0;
          if (t >= n) add(i, `ja target ${t | 0} is outside the program (0..${n - 1})`);
        } else if (PCAP_COND_OPS.has(op)) {
          if (from + p.jt >= n) add(i, `jt target ${from + p.jt} is past the last instruction (${n - 1})`);
          if (from + p.jf >= n) add(i, `jf target ${from + p.jf} is past the last instruction (${n - 1})`);
        } else {
          add(i, `jump operation 0x${op.toString(16)} does not exist`);
        }
        break;
      }
      default:
        // BPF_RET and BPF_MISC: libpcap checks nothing else about them.
        break;
    }
  }
  if (BPF_CLASS(prog[n - 1]!.code) !== BPF_RET) add(n - 1, "the last instruction must be a ret");
  return issues;
}
