/**
 * cBPF instructions decoded into the operations the translator lowers, with jump targets made
 * absolute. This is where programs the translator cannot accept as cBPF are refused, each with
 * the index of the offending instruction.
 */
import { PlaygroundError } from "../errors";
import {
  BPF_A,
  BPF_ABS,
  BPF_ALU,
  BPF_DIV,
  BPF_IMM,
  BPF_IND,
  BPF_JA,
  BPF_JMP,
  BPF_K,
  BPF_LD,
  BPF_LDX,
  BPF_LEN,
  BPF_LSH,
  BPF_MEM,
  BPF_MEMWORDS,
  BPF_MISC,
  BPF_MOD,
  BPF_MSH,
  BPF_NEG,
  BPF_RET,
  BPF_RSH,
  BPF_ST,
  BPF_STX,
  BPF_TAX,
  BPF_X,
  BPF_CLASS,
  BPF_MODE,
  BPF_OP,
  BPF_SRC,
  SKF_AD_OFF,
  ancillaryIndex,
  describeInsn,
  isKnownOpcode,
  loadSizeBytes,
  type CbpfInsn,
} from "../cbpf";

export type Reg = "A" | "X";
export type Size = 1 | 2 | 4;

export type Op =
  | { readonly t: "ret_k"; readonly k: number }
  | { readonly t: "ret_a" }
  | { readonly t: "imm"; readonly dst: Reg; readonly k: number }
  | { readonly t: "ld_mem"; readonly dst: Reg; readonly n: number }
  | { readonly t: "st"; readonly src: Reg; readonly n: number }
  | { readonly t: "len"; readonly dst: Reg }
  | { readonly t: "abs"; readonly size: Size; readonly k: number }
  | { readonly t: "ind"; readonly size: Size; readonly k: number }
  | { readonly t: "msh"; readonly k: number }
  /** `ld [SKF_AD_OFF + slot]`: Linux ancillary data. */
  | { readonly t: "anc"; readonly slot: number }
  | { readonly t: "alu"; readonly op: number; readonly src: "k" | "x"; readonly k: number }
  | { readonly t: "neg" }
  | { readonly t: "tax" }
  | { readonly t: "txa" }
  | { readonly t: "ja"; readonly target: number }
  | { readonly t: "jcond"; readonly op: number; readonly src: "k" | "x"; readonly k: number; readonly jt: number; readonly jf: number };

export interface Decoded {
  readonly index: number;
  readonly insn: CbpfInsn;
  readonly op: Op;
  /** libpcap's text of the instruction (`ldh [12]`), for provenance notes and errors. */
  readonly text: string;
}

const refuse = (index: number, why: string): PlaygroundError =>
  new PlaygroundError("translate/unsupported", `cbpf ${index}: ${why}`, { kind: "insn", index });

const invalid = (index: number, why: string): PlaygroundError =>
  new PlaygroundError("translate/invalid", `cbpf ${index}: ${why}`, { kind: "insn", index });

const text = (insn: CbpfInsn, index: number): string => describeInsn(insn, index);

function decodeOne(insn: CbpfInsn, index: number, n: number): Op {
  const { code, k, jt, jf } = insn;
  if (!isKnownOpcode(code)) {
    const hint = code === (BPF_RET | BPF_X) ? " (`ret x` is not a cBPF instruction)" : "";
    throw invalid(index, `opcode 0x${code.toString(16)} is not a classic BPF instruction${hint}`);
  }
  const k32 = k >>> 0;
  switch (BPF_CLASS(code)) {
    case BPF_RET:
      return (code & 0x18) === BPF_A ? { t: "ret_a" } : { t: "ret_k", k: k32 };
    case BPF_LD:
    case BPF_LDX: {
      const dst: Reg = BPF_CLASS(code) === BPF_LD ? "A" : "X";
      switch (BPF_MODE(code)) {
        case BPF_IMM:
          return { t: "imm", dst, k: k32 };
        case BPF_MEM:
          if (k32 >= BPF_MEMWORDS) throw invalid(index, `scratch slot M[${k32}] does not exist (M[0]..M[15])`);
          return { t: "ld_mem", dst, n: k32 };
        case BPF_LEN:
          return { t: "len", dst };
        case BPF_MSH:
          return { t: "msh", k: k32 };
        case BPF_ABS: {
          if (k32 >= SKF_AD_OFF) {
            const slot = ancillaryIndex(k32);
            if (slot === undefined) throw invalid(index, `ld [${k32 | 0}] is in the ancillary range but names no SKF_AD_* field`);
            return { t: "anc", slot };
          }
          return { t: "abs", size: loadSizeBytes(code) as Size, k: k32 };
        }
        case BPF_IND:
          return { t: "ind", size: loadSizeBytes(code) as Size, k: k32 };
      }
      break;
    }
    case BPF_ST:
    case BPF_STX:
      if (k32 >= BPF_MEMWORDS) throw invalid(index, `scratch slot M[${k32}] does not exist (M[0]..M[15])`);
      return { t: "st", src: BPF_CLASS(code) === BPF_ST ? "A" : "X", n: k32 };
    case BPF_ALU: {
      const op = BPF_OP(code);
      if (op === BPF_NEG) return { t: "neg" };
      const src = BPF_SRC(code) === BPF_K ? "k" : "x";
      if (src === "k" && k32 === 0 && (op === BPF_DIV || op === BPF_MOD)) {
        throw invalid(index, `${op === BPF_DIV ? "div" : "mod"} #0 is invalid cBPF (the kernel refuses it at load)`);
      }
      // A constant shift of 32 or more: the kernel refuses it; libpcap's C shift leaves it to the
      // CPU, which (x86) uses the count modulo 32, as the cBPF interpreter does. eBPF refuses
      // such immediates, so the count is reduced here to the same effect.
      const kk = src === "k" && (op === BPF_LSH || op === BPF_RSH) ? k32 & 31 : k32;
      return { t: "alu", op, src, k: kk };
    }
    case BPF_JMP: {
      const op = BPF_OP(code);
      if (op === BPF_JA) {
        // libpcap sign-extends k (protochain jumps backwards); the kernel would refuse those.
        const target = index + 1 + (k32 | 0);
        if (target < 0 || target >= n) throw invalid(index, `ja jumps to ${target}, outside the program (0..${n - 1})`);
        return { t: "ja", target };
      }
      const t = index + 1 + jt;
      const f = index + 1 + jf;
      if (t >= n || f >= n) throw invalid(index, `conditional jump to ${Math.max(t, f)}, past the last instruction (${n - 1})`);
      return { t: "jcond", op, src: BPF_SRC(code) === BPF_K ? "k" : "x", k: k32, jt: t, jf: f };
    }
    case BPF_MISC:
      return (code & 0xf8) === BPF_TAX ? { t: "tax" } : { t: "txa" };
  }
  throw invalid(index, `opcode 0x${code.toString(16)} cannot be translated`);
}

/** Successors of an instruction in the cBPF program (before any target-specific rewriting). */
export function successors(d: Decoded): readonly number[] {
  switch (d.op.t) {
    case "ret_k":
    case "ret_a":
      return [];
    case "ja":
      return [d.op.target];
    case "jcond":
      return d.op.jt === d.op.jf ? [d.op.jt] : [d.op.jt, d.op.jf];
    default:
      return [d.index + 1];
  }
}

/**
 * Decodes and checks a program: known opcodes, jump targets inside it, scratch indices < 16, no
 * `div/mod #0`, and no path that runs off the end (checked on the instructions reachable from 0).
 */
export function decodeProgram(prog: readonly CbpfInsn[]): Decoded[] {
  if (prog.length === 0) {
    throw new PlaygroundError("translate/invalid", "the cBPF program is empty", { kind: "insn", index: 0 });
  }
  const n = prog.length;
  const out: Decoded[] = [];
  for (let i = 0; i < n; i++) {
    const insn = prog[i]!;
    out.push({ index: i, insn, op: decodeOne(insn, i, n), text: text(insn, i) });
  }
  const seen = new Uint8Array(n);
  const stack = [0];
  seen[0] = 1;
  while (stack.length > 0) {
    const i = stack.pop()!;
    for (const s of successors(out[i]!)) {
      if (s >= n) throw invalid(i, "execution runs past the last instruction (a program must end with ret)");
      if (!seen[s]) {
        seen[s] = 1;
        stack.push(s);
      }
    }
  }
  return out;
}

export { refuse, invalid };
