/**
 * The three text forms tcpdump prints for a compiled filter, reproduced byte for byte for
 * libpcap 1.10.3 (`bpf_image` for `-d`, `bpf_dump` for `-dd`/`-ddd`). The printf conversions are
 * spelled out below because their quirks are part of the output: `%d` prints k as a signed int
 * (`ret #-1`, `ld [-4032]`), `%x` prints it unsigned, and `ja` prints the absolute target computed
 * in 32-bit arithmetic.
 */
import { PlaygroundError } from "../errors";
import { checkInstructions } from "./codec";
import type { CbpfInsn } from "./insn";
import {
  BPF_A,
  BPF_ABS,
  BPF_ADD,
  BPF_ALU,
  BPF_AND,
  BPF_B,
  BPF_DIV,
  BPF_H,
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
  BPF_MEM,
  BPF_MISC,
  BPF_MOD,
  BPF_MSH,
  BPF_MUL,
  BPF_NEG,
  BPF_OR,
  BPF_RET,
  BPF_RSH,
  BPF_ST,
  BPF_STX,
  BPF_SUB,
  BPF_TAX,
  BPF_TXA,
  BPF_W,
  BPF_X,
  BPF_XOR,
  ancillaryName,
  hasJumpTargets,
} from "./opcodes";

export type DumpStyle = "d" | "dd" | "ddd";

/** C's `%d` of a u32 argument: the same bits read as a signed int. */
const dec = (k: number): string => String(k | 0);
/** C's `%x` of a u32 argument. */
const hex = (k: number): string => (k >>> 0).toString(16);

/** How an opcode prints: its mnemonic and a function of (k, index) giving the operand. */
interface Rendering {
  readonly op: string;
  readonly operand: (k: number, n: number) => string;
}

const none = (): string => "";
const xReg = (): string => "x";
const immHex = (k: number): string => `#0x${hex(k)}`;
const immDec = (k: number): string => `#${dec(k)}`;
const absOperand = (k: number): string => {
  const name = ancillaryName(k);
  return name === undefined ? `[${dec(k)}]` : `[${name}]`;
};
const indOperand = (k: number): string => `[x + ${dec(k)}]`;
const memOperand = (k: number): string => `M[${dec(k)}]`;

/** The table of opcodes libpcap 1.10.3's printer knows; every other opcode prints as `unimp`. */
const RENDERINGS: ReadonlyMap<number, Rendering> = new Map<number, Rendering>([
  [BPF_RET | BPF_K, { op: "ret", operand: immDec }],
  [BPF_RET | BPF_A, { op: "ret", operand: none }],
  [BPF_LD | BPF_W | BPF_ABS, { op: "ld", operand: absOperand }],
  [BPF_LD | BPF_H | BPF_ABS, { op: "ldh", operand: absOperand }],
  [BPF_LD | BPF_B | BPF_ABS, { op: "ldb", operand: absOperand }],
  [BPF_LD | BPF_W | BPF_LEN, { op: "ld", operand: () => "#pktlen" }],
  // 1.10.3 has no case for `ldx #pktlen` (BPF_LDX|BPF_W|BPF_LEN); it prints as unimp.
  [BPF_LD | BPF_W | BPF_IND, { op: "ld", operand: indOperand }],
  [BPF_LD | BPF_H | BPF_IND, { op: "ldh", operand: indOperand }],
  [BPF_LD | BPF_B | BPF_IND, { op: "ldb", operand: indOperand }],
  [BPF_LD | BPF_IMM, { op: "ld", operand: immHex }],
  [BPF_LDX | BPF_IMM, { op: "ldx", operand: immHex }],
  [BPF_LDX | BPF_MSH | BPF_B, { op: "ldxb", operand: (k) => `4*([${dec(k)}]&0xf)` }],
  [BPF_LD | BPF_MEM, { op: "ld", operand: memOperand }],
  [BPF_LDX | BPF_MEM, { op: "ldx", operand: memOperand }],
  [BPF_ST, { op: "st", operand: memOperand }],
  [BPF_STX, { op: "stx", operand: memOperand }],
  [BPF_JMP | BPF_JA, { op: "ja", operand: (k, n) => String((n + 1 + k) | 0) }],
  [BPF_JMP | BPF_JGT | BPF_K, { op: "jgt", operand: immHex }],
  [BPF_JMP | BPF_JGE | BPF_K, { op: "jge", operand: immHex }],
  [BPF_JMP | BPF_JEQ | BPF_K, { op: "jeq", operand: immHex }],
  [BPF_JMP | BPF_JSET | BPF_K, { op: "jset", operand: immHex }],
  [BPF_JMP | BPF_JGT | BPF_X, { op: "jgt", operand: xReg }],
  [BPF_JMP | BPF_JGE | BPF_X, { op: "jge", operand: xReg }],
  [BPF_JMP | BPF_JEQ | BPF_X, { op: "jeq", operand: xReg }],
  [BPF_JMP | BPF_JSET | BPF_X, { op: "jset", operand: xReg }],
  [BPF_ALU | BPF_ADD | BPF_X, { op: "add", operand: xReg }],
  [BPF_ALU | BPF_SUB | BPF_X, { op: "sub", operand: xReg }],
  [BPF_ALU | BPF_MUL | BPF_X, { op: "mul", operand: xReg }],
  [BPF_ALU | BPF_DIV | BPF_X, { op: "div", operand: xReg }],
  [BPF_ALU | BPF_MOD | BPF_X, { op: "mod", operand: xReg }],
  [BPF_ALU | BPF_AND | BPF_X, { op: "and", operand: xReg }],
  [BPF_ALU | BPF_OR | BPF_X, { op: "or", operand: xReg }],
  [BPF_ALU | BPF_XOR | BPF_X, { op: "xor", operand: xReg }],
  [BPF_ALU | BPF_LSH | BPF_X, { op: "lsh", operand: xReg }],
  [BPF_ALU | BPF_RSH | BPF_X, { op: "rsh", operand: xReg }],
  [BPF_ALU | BPF_ADD | BPF_K, { op: "add", operand: immDec }],
  [BPF_ALU | BPF_SUB | BPF_K, { op: "sub", operand: immDec }],
  [BPF_ALU | BPF_MUL | BPF_K, { op: "mul", operand: immDec }],
  [BPF_ALU | BPF_DIV | BPF_K, { op: "div", operand: immDec }],
  [BPF_ALU | BPF_MOD | BPF_K, { op: "mod", operand: immDec }],
  [BPF_ALU | BPF_AND | BPF_K, { op: "and", operand: immHex }],
  [BPF_ALU | BPF_OR | BPF_K, { op: "or", operand: immHex }],
  [BPF_ALU | BPF_XOR | BPF_K, { op: "xor", operand: immHex }],
  [BPF_ALU | BPF_LSH | BPF_K, { op: "lsh", operand: immDec }],
  [BPF_ALU | BPF_RSH | BPF_K, { op: "rsh", operand: immDec }],
  [BPF_ALU | BPF_NEG, { op: "neg", operand: none }],
  [BPF_MISC | BPF_TAX, { op: "tax", operand: none }],
  [BPF_MISC | BPF_TXA, { op: "txa", operand: none }],
]);

/** Mnemonic and operand text of one instruction, as `bpf_image` computes them. */
export function insnParts(insn: CbpfInsn, index: number): { op: string; operand: string } {
  const r = RENDERINGS.get(insn.code);
  if (r === undefined) return { op: "unimp", operand: `0x${insn.code.toString(16)}` };
  return { op: r.op, operand: r.operand(insn.k >>> 0, index) };
}

const padEnd = (s: string, width: number): string => (s.length >= width ? s : s + " ".repeat(width - s.length));

/** One `tcpdump -d` line (no newline), e.g. `(001) jeq      #0x800           jt 2\tjf 5`. */
export function formatInsn(insn: CbpfInsn, index: number): string {
  const { op, operand } = insnParts(insn, index);
  const idx = `(${String(index).padStart(3, "0")}) ${padEnd(op, 8)} `;
  if (hasJumpTargets(insn.code)) {
    return `${idx}${padEnd(operand, 16)} jt ${index + 1 + insn.jt}\tjf ${index + 1 + insn.jf}`;
  }
  return idx + operand;
}

/** A short human label for messages: mnemonic and operand, jump targets absolute. */
export function describeInsn(insn: CbpfInsn, index: number): string {
  const { op, operand } = insnParts(insn, index);
  const base = operand === "" ? op : `${op} ${operand}`;
  return hasJumpTargets(insn.code) ? `${base} jt ${index + 1 + insn.jt} jf ${index + 1 + insn.jf}` : base;
}

/** Exactly what `tcpdump -d`, `-dd` or `-ddd` print on stdout for this program. */
export function formatProgram(prog: readonly CbpfInsn[], style: DumpStyle): string {
  checkInstructions(prog);
  let out = "";
  switch (style) {
    case "d":
      for (let i = 0; i < prog.length; i++) out += formatInsn(prog[i]!, i) + "\n";
      return out;
    case "dd":
      for (const p of prog) {
        out += `{ 0x${p.code.toString(16)}, ${p.jt}, ${p.jf}, 0x${(p.k >>> 0).toString(16).padStart(8, "0")} },\n`;
      }
      return out;
    case "ddd":
      out = `${prog.length}\n`;
      for (const p of prog) out += `${p.code} ${p.jt} ${p.jf} ${p.k >>> 0}\n`;
      return out;
    default:
      throw new PlaygroundError("cbpf/format", `unknown dump style ${JSON.stringify(style)}: use "d", "dd" or "ddd"`);
  }
}
