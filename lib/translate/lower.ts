/**
 * Lowering of one cBPF instruction instance to eBPF, the same for every target: registers,
 * scratch memory, ALU and jumps are generic; packet access goes through the Strategy and returns
 * through the Epilogue.
 *
 * Invariant: A and X always hold zero-extended 32-bit values (every write is a 32-bit ALU op or
 * a zero-extending load), so 64-bit compares against non-negative immediates are exact.
 */
import {
  BPF_DIV,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JSET,
  BPF_LSH,
  BPF_MOD,
  BPF_RSH,
  SKF_AD_ALU_XOR_X,
} from "../cbpf";
import { alu32, ja, jmp, jmp32, ldx, mov32Imm, mov32Reg, neg32, stx, type RegName, type Target as JumpTarget } from "../ebpf";
import { NOMATCH, type Inst } from "./cfg";
import type { Epilogue } from "./epilogue";
import type { GuardPlan } from "./guards";
import type { Env, Strategy } from "./strategy";

const INVERSE: Readonly<Record<number, "jne" | "jle" | "jlt">> = { [BPF_JEQ]: "jne", [BPF_JGT]: "jle", [BPF_JGE]: "jlt" };
const NAME: Readonly<Record<number, "jeq" | "jgt" | "jge" | "jset">> = { [BPF_JEQ]: "jeq", [BPF_JGT]: "jgt", [BPF_JGE]: "jge", [BPF_JSET]: "jset" };

export const instLabel = (env: Env, id: number): string => env.e.name(`i${id}`);

export interface LowerContext {
  readonly env: Env;
  readonly strategy: Strategy;
  readonly epilogue: Epilogue;
  readonly plan: GuardPlan;
  /** r10-relative offset of M[n]. */
  readonly mem: (n: number) => number;
}

function targetOf(c: LowerContext, id: number): string {
  return id === NOMATCH ? c.env.nomatch : instLabel(c.env, id);
}

/** Emits a conditional jump `if A op operand goto to`. */
function cond(c: LowerContext, name: "jeq" | "jgt" | "jge" | "jset" | "jne" | "jle" | "jlt", src: "k" | "x", k: number, to: JumpTarget | string) {
  const { a: A, x: X } = c.strategy.abi;
  if (src === "x") c.env.e.emit(jmp(name, A, X, to));
  // eBPF sign-extends a 64-bit compare's immediate; above 0x7fffffff compare the low 32 bits.
  else if (k > 0x7fffffff) c.env.e.emit(jmp32(name, A, k, to));
  else c.env.e.emit(jmp(name, A, k, to));
}

export function lowerInst(c: LowerContext, inst: Inst): void {
  const { env, strategy } = c;
  const e = env.e;
  const { a: A, x: X } = strategy.abi;
  const reg = (r: "A" | "X"): RegName => (r === "A" ? A : X);
  const next = inst.id + 1;

  if (inst.fail !== undefined) {
    e.emit(ja(env.nomatch));
    return;
  }
  const op = inst.d.op;
  switch (op.t) {
    case "ret_k":
      c.epilogue.ret(env, op.k);
      return;
    case "ret_a":
      c.epilogue.ret(env, "A");
      return;
    case "imm":
      e.emit(mov32Imm(reg(op.dst), op.k));
      return;
    case "ld_mem":
      e.emit(ldx("u32", reg(op.dst), "r10", c.mem(op.n)));
      return;
    case "st":
      e.emit(stx("u32", "r10", c.mem(op.n), reg(op.src)));
      return;
    case "len":
      strategy.len(env, reg(op.dst));
      return;
    case "abs":
      strategy.abs(env, op.size, op.k, c.plan.absKnown[inst.id] ?? 0);
      return;
    case "ind":
      strategy.ind(env, op.size, op.k, c.plan.indOf.get(inst.id), inst.id);
      return;
    case "msh":
      strategy.msh(env, op.k, c.plan.absKnown[inst.id] ?? 0, inst.id);
      return;
    case "anc":
      if (op.slot === SKF_AD_ALU_XOR_X) e.emit(alu32("xor", A, X));
      else strategy.anc(env, op.slot, inst.d);
      return;
    case "alu":
      if (op.src === "k") {
        e.emit(alu32(op.op, A, op.k));
        return;
      }
      if (op.op === BPF_DIV || op.op === BPF_MOD) {
        // cBPF: division by zero ends the filter with 0 (eBPF would go on with A = 0 or A).
        e.emit(jmp("jeq", X, 0, env.nomatch));
      } else if (op.op === BPF_LSH || op.op === BPF_RSH) {
        // libpcap: a shift by 32 or more gives 0; eBPF (and the kernel's cBPF) take the count mod 32.
        e.emit(jmp("jlt", X, 32, 1), mov32Imm(A, 0));
      }
      e.emit(alu32(op.op, A, X));
      return;
    case "neg":
      e.emit(neg32(A));
      return;
    case "tax":
      e.emit(mov32Reg(X, A));
      return;
    case "txa":
      e.emit(mov32Reg(A, X));
      return;
    case "ja": {
      const to = inst.succ[0]!;
      if (to !== next) e.emit(ja(targetOf(c, to)));
      return;
    }
    case "jcond": {
      const [t, f] = inst.succ as [number, number];
      const name = NAME[op.op]!;
      if (t === f) {
        if (t !== next) e.emit(ja(targetOf(c, t)));
        return;
      }
      if (f === next) cond(c, name, op.src, op.k, targetOf(c, t));
      else if (t === next) {
        const inv = INVERSE[op.op];
        if (inv !== undefined) cond(c, inv, op.src, op.k, targetOf(c, f));
        else {
          // jset has no inverse: skip over the jump to jf when bits are set.
          cond(c, name, op.src, op.k, 1);
          e.emit(ja(targetOf(c, f)));
        }
      } else {
        cond(c, name, op.src, op.k, targetOf(c, t));
        e.emit(ja(targetOf(c, f)));
      }
      return;
    }
  }
}
