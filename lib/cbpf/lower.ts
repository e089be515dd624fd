/**
 * Turns a program into the form the executors run: one small integer "kind" per instruction,
 * with operands and absolute jump targets resolved, and every libpcap-vs-kernel choice already
 * made. Decoding once is what lets the per-packet loop stay tight, and making the semantic
 * choices here (rather than in each executor) is what keeps the interpreter, the stepper and the
 * generated code in step.
 *
 * Anything that cannot execute (an unknown opcode, a scratch index >= 16, a jump out of the
 * program, running off the end) becomes a TRAP; executing a TRAP is an error, not a verdict.
 */
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
  BPF_MEMWORDS,
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
  ancillaryIndex,
} from "./opcodes";
import { type CbpfSemantics, type CbpfSkbContext, ancillaryTable, kernelOffset, STOP } from "./semantics";

/** Executor instruction kinds. Values are dense so a `switch` compiles to a jump table. */
export const Op = {
  RET_K: 0,
  RET_A: 1,
  LD_IMM: 2,
  LDX_IMM: 3,
  LD_MEM: 4,
  LDX_MEM: 5,
  ST: 6,
  STX: 7,
  LD_LEN: 8,
  LDX_LEN: 9,
  /** Packet loads at a constant, already-resolved offset (k). */
  LD_W: 10,
  LD_H: 11,
  LD_B: 12,
  LDX_MSH: 13,
  /** `[x + k]`, libpcap's exact bounds. */
  LD_IND_W: 14,
  LD_IND_H: 15,
  LD_IND_B: 16,
  /** `[x + k]`, the kernel's wrapping 32-bit offset. */
  LD_INDK_W: 17,
  LD_INDK_H: 18,
  LD_INDK_B: 19,
  /** A load whose address can never resolve (kernel: negative offset below SKF_LL_OFF, ...). */
  LOAD_FAIL: 20,
  /** Kernel ancillary load; k is the SKF_AD_* slot (offset / 4). */
  ANC: 21,
  ADD_K: 22,
  ADD_X: 23,
  SUB_K: 24,
  SUB_X: 25,
  MUL_K: 26,
  MUL_X: 27,
  DIV_K: 28,
  DIV_X: 29,
  MOD_K: 30,
  MOD_X: 31,
  AND_K: 32,
  AND_X: 33,
  OR_K: 34,
  OR_X: 35,
  XOR_K: 36,
  XOR_X: 37,
  /** Shifts by k, and kernel shifts by x: count modulo 32. */
  LSH_K: 38,
  RSH_K: 39,
  LSH_X_MASKED: 40,
  RSH_X_MASKED: 41,
  /** libpcap shifts by x: count >= 32 gives 0. */
  LSH_X_PCAP: 42,
  RSH_X_PCAP: 43,
  NEG: 44,
  TAX: 45,
  TXA: 46,
  JA: 47,
  JEQ_K: 48,
  JEQ_X: 49,
  JGT_K: 50,
  JGT_X: 51,
  JGE_K: 52,
  JGE_X: 53,
  JSET_K: 54,
  JSET_X: 55,
  TRAP: 56,
} as const;

export interface LoweredProgram {
  readonly semantics: CbpfSemantics;
  /** Number of real instructions; index `length` is the "ran off the end" trap. */
  readonly length: number;
  readonly op: Uint8Array;
  /** Operand: a constant, a resolved packet offset, a scratch index or an ancillary slot. */
  readonly k: Float64Array;
  /** Absolute next index when a conditional is true / false; for `ja`, `jt` holds the target. */
  readonly jt: Uint32Array;
  readonly jf: Uint32Array;
  /** Why each TRAP traps. */
  readonly trapMessages: ReadonlyMap<number, string>;
  readonly usesScratch: boolean;
  /** A `ja` goes backwards (libpcap's protochain does this), so a run might not terminate. */
  readonly hasBackwardJump: boolean;
  /** Constant ancillary values (kernel semantics); see semantics.ancillaryTable. */
  readonly ancillary: Float64Array;
  /** Network header offset for SKF_NET_OFF loads, or -1 if unknown. */
  readonly networkOffset: number;
}

const ALU_KINDS: ReadonlyMap<number, readonly [number, number]> = new Map<number, readonly [number, number]>([
  [BPF_ADD, [Op.ADD_K, Op.ADD_X]],
  [BPF_SUB, [Op.SUB_K, Op.SUB_X]],
  [BPF_MUL, [Op.MUL_K, Op.MUL_X]],
  [BPF_DIV, [Op.DIV_K, Op.DIV_X]],
  [BPF_MOD, [Op.MOD_K, Op.MOD_X]],
  [BPF_AND, [Op.AND_K, Op.AND_X]],
  [BPF_OR, [Op.OR_K, Op.OR_X]],
  [BPF_XOR, [Op.XOR_K, Op.XOR_X]],
]);

const COND_KINDS: ReadonlyMap<number, number> = new Map([
  [BPF_JMP | BPF_JEQ | BPF_K, Op.JEQ_K],
  [BPF_JMP | BPF_JEQ | BPF_X, Op.JEQ_X],
  [BPF_JMP | BPF_JGT | BPF_K, Op.JGT_K],
  [BPF_JMP | BPF_JGT | BPF_X, Op.JGT_X],
  [BPF_JMP | BPF_JGE | BPF_K, Op.JGE_K],
  [BPF_JMP | BPF_JGE | BPF_X, Op.JGE_X],
  [BPF_JMP | BPF_JSET | BPF_K, Op.JSET_K],
  [BPF_JMP | BPF_JSET | BPF_X, Op.JSET_X],
]);

export interface LowerOptions {
  semantics?: CbpfSemantics;
  ctx?: CbpfSkbContext;
}

export function lowerProgram(prog: readonly CbpfInsn[], opts: LowerOptions = {}): LoweredProgram {
  checkInstructions(prog);
  const semantics: CbpfSemantics = opts.semantics ?? "libpcap";
  const kernel = semantics === "kernel";
  const n = prog.length;
  const op = new Uint8Array(n + 1);
  const kv = new Float64Array(n + 1);
  const jt = new Uint32Array(n + 1);
  const jf = new Uint32Array(n + 1);
  const traps = new Map<number, string>();
  const netOff = opts.ctx?.networkOffset;
  const networkOffset = netOff !== undefined && Number.isInteger(netOff) && netOff >= 0 ? netOff : -1;
  let usesScratch = false;
  let hasBackwardJump = false;

  const trap = (i: number, message: string): void => {
    op[i] = Op.TRAP;
    traps.set(i, message);
  };
  /** Out-of-range targets all go to the end-of-program trap. */
  const target = (t: number): number => (t >= 0 && t < n ? t : n);

  for (let i = 0; i < n; i++) {
    const insn = prog[i]!;
    const code = insn.code;
    const k = insn.k >>> 0;
    kv[i] = k;
    jt[i] = i + 1;
    jf[i] = i + 1;
    // A load at a constant offset: resolve it now, as the kernel or libpcap would address it.
    const constLoad = (kind: number): void => {
      if (!kernel || (k | 0) >= 0) {
        op[i] = kind;
        return;
      }
      const off = kernelOffset(k | 0, networkOffset);
      if (off === STOP) op[i] = Op.LOAD_FAIL;
      else {
        op[i] = kind;
        kv[i] = off;
      }
    };
    const scratch = (kind: number): void => {
      if (k >= BPF_MEMWORDS) trap(i, `M[${k}] does not exist: scratch memory has ${BPF_MEMWORDS} words`);
      else {
        op[i] = kind;
        usesScratch = true;
      }
    };

    switch (code) {
      case BPF_RET | BPF_K:
        op[i] = Op.RET_K;
        break;
      case BPF_RET | BPF_A:
        op[i] = Op.RET_A;
        break;
      case BPF_LD | BPF_IMM:
        op[i] = Op.LD_IMM;
        break;
      case BPF_LDX | BPF_IMM:
        op[i] = Op.LDX_IMM;
        break;
      case BPF_LD | BPF_MEM:
        scratch(Op.LD_MEM);
        break;
      case BPF_LDX | BPF_MEM:
        scratch(Op.LDX_MEM);
        break;
      case BPF_ST:
        scratch(Op.ST);
        break;
      case BPF_STX:
        scratch(Op.STX);
        break;
      case BPF_LD | BPF_W | BPF_LEN:
        op[i] = Op.LD_LEN;
        break;
      case BPF_LDX | BPF_W | BPF_LEN:
        op[i] = Op.LDX_LEN;
        break;
      case BPF_LD | BPF_W | BPF_ABS:
      case BPF_LD | BPF_H | BPF_ABS:
      case BPF_LD | BPF_B | BPF_ABS: {
        const slot = kernel ? ancillaryIndex(k) : undefined;
        if (slot !== undefined) {
          op[i] = Op.ANC;
          kv[i] = slot / 4;
        } else {
          constLoad(code === (BPF_LD | BPF_W | BPF_ABS) ? Op.LD_W : code === (BPF_LD | BPF_H | BPF_ABS) ? Op.LD_H : Op.LD_B);
        }
        break;
      }
      case BPF_LDX | BPF_B | BPF_MSH:
        constLoad(Op.LDX_MSH);
        break;
      case BPF_LD | BPF_W | BPF_IND:
        op[i] = kernel ? Op.LD_INDK_W : Op.LD_IND_W;
        break;
      case BPF_LD | BPF_H | BPF_IND:
        op[i] = kernel ? Op.LD_INDK_H : Op.LD_IND_H;
        break;
      case BPF_LD | BPF_B | BPF_IND:
        op[i] = kernel ? Op.LD_INDK_B : Op.LD_IND_B;
        break;
      case BPF_ALU | BPF_LSH | BPF_K:
        op[i] = Op.LSH_K;
        break;
      case BPF_ALU | BPF_RSH | BPF_K:
        op[i] = Op.RSH_K;
        break;
      case BPF_ALU | BPF_LSH | BPF_X:
        op[i] = kernel ? Op.LSH_X_MASKED : Op.LSH_X_PCAP;
        break;
      case BPF_ALU | BPF_RSH | BPF_X:
        op[i] = kernel ? Op.RSH_X_MASKED : Op.RSH_X_PCAP;
        break;
      case BPF_ALU | BPF_NEG:
        op[i] = Op.NEG;
        break;
      case BPF_MISC | BPF_TAX:
        op[i] = Op.TAX;
        break;
      case BPF_MISC | BPF_TXA:
        op[i] = Op.TXA;
        break;
      case BPF_JMP | BPF_JA: {
        // Signed, as libpcap executes it (protochain jumps backwards); the kernel's checker
        // rejects every backward ja, so under kernel rules this only runs unvalidated programs.
        const t = i + 1 + (k | 0);
        op[i] = Op.JA;
        jt[i] = target(t);
        if (t <= i) hasBackwardJump = true;
        break;
      }
      default: {
        const cond = COND_KINDS.get(code);
        // Class ALU with nothing in the high byte; the operation picks the kind.
        const alu = (code & ~0xf8) === BPF_ALU ? ALU_KINDS.get(code & 0xf0) : undefined;
        if (cond !== undefined) {
          op[i] = cond;
          jt[i] = target(i + 1 + insn.jt);
          jf[i] = target(i + 1 + insn.jf);
        } else if (alu !== undefined) {
          op[i] = (code & BPF_X) === BPF_X ? alu[1] : alu[0];
        } else {
          trap(i, `opcode 0x${code.toString(16)} is not a classic BPF instruction that libpcap or Linux executes`);
        }
      }
    }
  }
  trap(n, n === 0 ? "the program is empty" : "execution ran past the last instruction (every path must end in ret)");

  return {
    semantics,
    length: n,
    op,
    k: kv,
    jt,
    jf,
    trapMessages: traps,
    usesScratch,
    hasBackwardJump,
    ancillary: ancillaryTable(kernel ? opts.ctx : undefined),
    networkOffset,
  };
}

