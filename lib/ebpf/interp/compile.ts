/**
 * Pre-decoding for the interpreter: the program as parallel typed arrays indexed by slot, plus a
 * static check of each instruction so the hot loop only has to test one byte to know it may run
 * the instruction. Problems found here become faults when (and only if) execution reaches them,
 * the way an interpreter meets them; the verifier emulator reports them up front.
 */
import { decodeRaw, type DecodedInsn } from "../codec";
import type { RawInsn } from "../insn";
import {
  BPF_ABS,
  BPF_ADD,
  BPF_ALU,
  BPF_ALU64,
  BPF_AND,
  BPF_ARSH,
  BPF_ATOMIC,
  BPF_CALL,
  BPF_CMPXCHG,
  BPF_DIV,
  BPF_DW,
  BPF_END,
  BPF_EXIT,
  BPF_FETCH,
  BPF_IND,
  BPF_JA,
  BPF_JCOND,
  BPF_JMP,
  BPF_JMP32,
  BPF_LD,
  BPF_LDX,
  BPF_LOAD_ACQ,
  BPF_LSH,
  BPF_MEM,
  BPF_MEMSX,
  BPF_MOD,
  BPF_MOV,
  BPF_MUL,
  BPF_NEG,
  BPF_OR,
  BPF_RSH,
  BPF_ST,
  BPF_STORE_REL,
  BPF_STX,
  BPF_SUB,
  BPF_W,
  BPF_X,
  BPF_XCHG,
  BPF_XOR,
  OP_LD_IMM64,
  opClass,
  opMode,
  opSize,
} from "../opcodes";

export interface CompiledProgram {
  /** Number of slots. */
  readonly n: number;
  readonly code: Uint8Array;
  readonly dst: Uint8Array;
  readonly src: Uint8Array;
  readonly off: Int16Array;
  readonly imm: Int32Array;
  /** Second-slot imm of an ld_imm64 (upper 32 bits of the constant). */
  readonly imm2: Int32Array;
  /** Non-zero where the instruction cannot run; the reason is in `badReason`. */
  readonly bad: Uint8Array;
  readonly badReason: readonly (string | undefined)[];
  /** The decoded instruction starting at each slot (undefined for ld_imm64 second slots). */
  readonly decoded: readonly (DecodedInsn | undefined)[];
}

const ALU_OPS = new Set([BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH, BPF_RSH, BPF_NEG, BPF_MOD, BPF_XOR, BPF_MOV, BPF_ARSH, BPF_END]);
const ATOMIC_RMW = new Set([BPF_ADD, BPF_AND, BPF_OR, BPF_XOR]);

/** Why an instruction cannot execute, or undefined if it can. */
export function staticProblem(d: DecodedInsn): string | undefined {
  const { code, dst, src, off, imm } = d;
  const cls = opClass(code);
  const badReg = (r: number) => r > 10;
  const writesDst = () => (dst === 10 ? "the frame pointer r10 is read-only" : badReg(dst) ? `invalid register r${dst}` : undefined);
  switch (cls) {
    case BPF_ALU:
    case BPF_ALU64: {
      const op = code & 0xf0;
      if (!ALU_OPS.has(op)) return `unknown opcode 0x${code.toString(16)}`;
      if ((code & BPF_X) !== 0 && op !== BPF_END && op !== BPF_NEG && badReg(src)) return `invalid register r${src}`;
      if (op === BPF_END && imm !== 16 && imm !== 32 && imm !== 64) return `invalid byte swap width ${imm}`;
      if (op === BPF_END && cls === BPF_ALU64 && (code & BPF_X) !== 0) return `unknown opcode 0x${code.toString(16)}`;
      if ((op === BPF_DIV || op === BPF_MOD) && off !== 0 && off !== 1) return `invalid off ${off} for division`;
      if (op === BPF_MOV && (code & BPF_X) !== 0) {
        const ok = off === 0 || off === 8 || off === 16 || (off === 32 && cls === BPF_ALU64);
        if (!ok) return `unsupported mov variant (off ${off})`;
      }
      return writesDst();
    }
    case BPF_LDX: {
      const mode = opMode(code);
      if (mode !== BPF_MEM && !(mode === BPF_MEMSX && opSize(code) !== BPF_DW)) return `unknown opcode 0x${code.toString(16)}`;
      if (badReg(src)) return `invalid register r${src}`;
      return writesDst();
    }
    case BPF_ST:
      if (opMode(code) !== BPF_MEM) return `unknown opcode 0x${code.toString(16)}`;
      return badReg(dst) ? `invalid register r${dst}` : undefined;
    case BPF_STX: {
      const mode = opMode(code);
      if (badReg(dst) || badReg(src)) return `invalid register r${badReg(dst) ? dst : src}`;
      if (mode === BPF_MEM) return undefined;
      if (mode !== BPF_ATOMIC) return `unknown opcode 0x${code.toString(16)}`;
      if (imm === BPF_LOAD_ACQ) return writesDst();
      if (imm === BPF_STORE_REL) return undefined;
      const size = opSize(code);
      if (size !== BPF_W && size !== BPF_DW) return `atomic operations need a 32- or 64-bit size`;
      const rmw = imm & ~BPF_FETCH;
      if (!(ATOMIC_RMW.has(rmw) || imm === BPF_XCHG || imm === BPF_CMPXCHG)) return `unknown atomic operation 0x${imm.toString(16)}`;
      if ((imm & BPF_FETCH) !== 0 && imm !== BPF_CMPXCHG && src === 10) return "the frame pointer r10 is read-only";
      return undefined;
    }
    case BPF_LD: {
      if (code === OP_LD_IMM64) return writesDst();
      const mode = opMode(code);
      if ((mode === BPF_ABS || mode === BPF_IND) && opSize(code) !== BPF_DW) return mode === BPF_IND && badReg(src) ? `invalid register r${src}` : undefined;
      return `unknown opcode 0x${code.toString(16)}`;
    }
    default: {
      const op = code & 0xf0;
      if (op === BPF_CALL || op === BPF_EXIT) return cls === BPF_JMP ? undefined : `unknown opcode 0x${code.toString(16)}`;
      if (op === BPF_JA) return (code & BPF_X) !== 0 ? "indirect jumps (gotox) are not emulated" : undefined;
      if (op === BPF_JCOND) return cls === BPF_JMP && src === 0 ? undefined : `unknown opcode 0x${code.toString(16)}`;
      if (op === 0xf0) return `unknown opcode 0x${code.toString(16)}`;
      if (badReg(dst) || ((code & BPF_X) !== 0 && badReg(src))) return `invalid register r${badReg(dst) ? dst : src}`;
      return undefined;
    }
  }
}

/** Decodes and checks a raw program once. Throws PlaygroundError only for malformed ld_imm64 pairs. */
export function compileProgram(raw: readonly RawInsn[]): CompiledProgram {
  const decodedList = decodeRaw(raw);
  const n = raw.length;
  const code = new Uint8Array(n);
  const dst = new Uint8Array(n);
  const src = new Uint8Array(n);
  const off = new Int16Array(n);
  const imm = new Int32Array(n);
  const imm2 = new Int32Array(n);
  const bad = new Uint8Array(n);
  const badReason: (string | undefined)[] = new Array(n).fill(undefined);
  const decoded: (DecodedInsn | undefined)[] = new Array(n).fill(undefined);
  for (const d of decodedList) {
    const i = d.index;
    code[i] = d.code;
    dst[i] = d.dst;
    src[i] = d.src;
    off[i] = d.off;
    imm[i] = d.imm;
    decoded[i] = d;
    if (d.slots === 2) {
      imm2[i] = Number((d.imm64 ?? 0n) >> 32n) | 0;
      bad[i + 1] = 1;
      badReason[i + 1] = "jump into the middle of an ld_imm64";
    }
    const problem = staticProblem(d);
    if (problem !== undefined) {
      bad[i] = 1;
      badReason[i] = problem;
    }
  }
  return { n, code, dst, src, off, imm, imm2, bad, badReason, decoded };
}

