/**
 * Kernel-style instruction text: the exact output of `print_bpf_insn` (kernel/bpf/disasm.c) as the
 * 6.18 verifier log shows it after the `N: ` prefix, e.g. `(61) r2 = *(u32 *)(r1 +76)`.
 *
 * Quirks kept on purpose because the kernel has them: ALU immediates print as signed decimal,
 * jump immediates as unsigned 32-bit hex; an operator missing from the kernel's string tables
 * prints as "(null)" (glibc/kernel printf of a NULL %s); malformed load/store modes print `BUG_...`
 * without the opcode prefix.
 */
import {
  BPF_ABS,
  BPF_ADD,
  BPF_ALU,
  BPF_ALU64,
  BPF_AND,
  BPF_ATOMIC,
  BPF_CALL,
  BPF_CMPXCHG,
  BPF_DIV,
  BPF_DW,
  BPF_END,
  BPF_EXIT,
  BPF_FETCH,
  BPF_IMM,
  BPF_IND,
  BPF_JA,
  BPF_JCOND,
  BPF_JMP,
  BPF_JMP32,
  BPF_LD,
  BPF_LDX,
  BPF_LOAD_ACQ,
  BPF_MAY_GOTO,
  BPF_MEM,
  BPF_MEMSX,
  BPF_MOD,
  BPF_MOV,
  BPF_NEG,
  BPF_OR,
  BPF_PSEUDO_BTF_ID,
  BPF_PSEUDO_CALL,
  BPF_PSEUDO_KFUNC_CALL,
  BPF_PSEUDO_MAP_FD,
  BPF_PSEUDO_MAP_IDX,
  BPF_PSEUDO_MAP_IDX_VALUE,
  BPF_PSEUDO_MAP_VALUE,
  BPF_ST,
  BPF_STORE_REL,
  BPF_STX,
  BPF_TO_BE,
  BPF_X,
  BPF_XCHG,
  BPF_XOR,
  HELPERS,
  OP_LD_IMM64,
  opClass,
  opMode,
  opSize,
  opSource,
} from "./opcodes";
import type { RawInsn } from "./insn";
import type { DecodedInsn } from "./codec";

const NULL = "(null)";

// Indexed by op >> 4, as the kernel's tables are.
const ALU_OPS = ["+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=", "^=", "=", "s>>=", "endian"];
const JMP_OPS = ["jmp", "==", ">", ">=", "&", "!=", "s>", "s>=", "call", "exit", "<", "<=", "s<", "s<="];
const ATOMIC_ALU = new Map<number, string>([
  [BPF_ADD, "add"],
  [BPF_AND, "and"],
  [BPF_OR, "or"],
  [BPF_XOR, "xor"],
]);
// Indexed by size >> 3: W, H, B, DW.
const LDST = ["u32", "u16", "u8", "u64"];
const LDSX = ["s32", "s16", "s8", NULL];

const hex2 = (code: number) => `(${code.toString(16).padStart(2, "0")})`;
const signed = (n: number) => (n >= 0 ? `+${n}` : `${n}`); // printf "%+d"
const u32hex = (n: number) => `0x${(n >>> 0).toString(16)}`;
const aluOp = (op: number) => ALU_OPS[op >> 4] ?? NULL;
const jmpOp = (op: number) => JMP_OPS[op >> 4] ?? NULL;
const ldst = (code: number) => LDST[opSize(code) >> 3];

export interface FormatOptions {
  /** Second slot of an ld_imm64 given as a RawInsn (ignored for DecodedInsn, which carries imm64). */
  readonly next?: RawInsn;
  /**
   * The kernel hides map/BTF pointers in ld_imm64 unless the loader may leak pointers (root can).
   * Default true: print the constant as encoded.
   */
  readonly allowPtrLeaks?: boolean;
  /** Name for a kfunc call (BTF id in imm); the kernel looks it up in BTF. Default "kernel-function". */
  readonly kfuncName?: (btfId: number, btfFd: number) => string | undefined;
}

type Formattable = RawInsn | DecodedInsn;

function imm64Of(insn: Formattable, opts: FormatOptions | undefined): bigint {
  if ("imm64" in insn && insn.imm64 !== undefined) return insn.imm64;
  const hi = opts?.next?.imm ?? 0;
  return (BigInt(hi >>> 0) << 32n) | BigInt(insn.imm >>> 0);
}

function callName(insn: Formattable, opts: FormatOptions | undefined): string {
  if (insn.src === 0) {
    const name = HELPERS.get(insn.imm);
    if (name !== undefined) return name;
  }
  if (insn.src === BPF_PSEUDO_KFUNC_CALL) return opts?.kfuncName?.(insn.imm, insn.off) ?? "kernel-function";
  return "unknown";
}

function formatAlu(insn: Formattable): string {
  const { code, dst, src, off, imm } = insn;
  const cls = opClass(code);
  const r = cls === BPF_ALU ? "w" : "r";
  const op = code & 0xf0;
  if (op === BPF_END) {
    if (cls === BPF_ALU64) return `${hex2(code)} r${dst} = bswap${imm} r${dst}`;
    return `${hex2(code)} r${dst} = ${opSource(code) === BPF_TO_BE ? "be" : "le"}${imm} r${dst}`;
  }
  if (op === BPF_NEG) return `${hex2(code)} ${r}${dst} = -${r}${dst}`;
  const movX64 = code === (BPF_ALU64 | BPF_MOV | BPF_X);
  if (movX64 && off === 1) {
    return `${hex2(code)} r${dst} = addr_space_cast(r${src}, ${(imm >>> 16) & 0xffff}, ${imm & 0xffff})`;
  }
  if (movX64 && off === -1) return `${hex2(code)} r${dst} = &(void __percpu *)(r${src})`;
  const opStr = (op === BPF_DIV || op === BPF_MOD) && off === 1 ? (op === BPF_DIV ? "s/=" : "s%=") : aluOp(op);
  if (opSource(code) === BPF_X) {
    const sx = op === BPF_MOV && (off === 8 || off === 16 || off === 32) ? `(s${off})` : "";
    return `${hex2(code)} ${r}${dst} ${opStr} ${sx}${r}${src}`;
  }
  return `${hex2(code)} ${r}${dst} ${opStr} ${imm | 0}`;
}

function formatStx(insn: Formattable): string {
  const { code, dst, src, off, imm } = insn;
  const sz = ldst(code);
  const mem = `(${sz} *)(r${dst} ${signed(off)})`;
  const mode = opMode(code);
  if (mode === BPF_MEM) return `${hex2(code)} *${mem} = r${src}`;
  if (mode !== BPF_ATOMIC) return `BUG_${code.toString(16).padStart(2, "0")}`;
  const w64 = opSize(code) === BPF_DW ? "64" : "";
  if (ATOMIC_ALU.has(imm)) return `${hex2(code)} lock *${mem} ${aluOp(imm & 0xf0)} r${src}`;
  if ((imm & BPF_FETCH) !== 0 && ATOMIC_ALU.has(imm & ~BPF_FETCH)) {
    return `${hex2(code)} r${src} = atomic${w64}_fetch_${ATOMIC_ALU.get(imm & ~BPF_FETCH)}(${mem}, r${src})`;
  }
  if (imm === BPF_CMPXCHG) return `${hex2(code)} r0 = atomic${w64}_cmpxchg(${mem}, r0, r${src})`;
  if (imm === BPF_XCHG) return `${hex2(code)} r${src} = atomic${w64}_xchg(${mem}, r${src})`;
  if (imm === BPF_LOAD_ACQ) return `${hex2(code)} r${dst} = load_acquire((${sz} *)(r${src} ${signed(off)}))`;
  if (imm === BPF_STORE_REL) return `${hex2(code)} store_release(${mem}, r${src})`;
  return `BUG_${code.toString(16).padStart(2, "0")}`;
}

function formatLd(insn: Formattable, opts: FormatOptions | undefined): string {
  const { code, dst, src, imm } = insn;
  const mode = opMode(code);
  if (mode === BPF_ABS) return `${hex2(code)} r0 = *(${ldst(code)} *)skb[${imm | 0}]`;
  if (mode === BPF_IND) return `${hex2(code)} r0 = *(${ldst(code)} *)skb[r${src} + ${imm | 0}]`;
  if (mode === BPF_IMM && opSize(code) === BPF_DW) {
    const isPtr =
      src === BPF_PSEUDO_MAP_FD ||
      src === BPF_PSEUDO_MAP_VALUE ||
      src === BPF_PSEUDO_MAP_IDX ||
      src === BPF_PSEUDO_MAP_IDX_VALUE ||
      src === BPF_PSEUDO_BTF_ID;
    const value = isPtr && opts?.allowPtrLeaks === false ? 0n : imm64Of(insn, opts);
    return `${hex2(code)} r${dst} = 0x${value.toString(16)}`;
  }
  return `BUG_ld_${code.toString(16).padStart(2, "0")}`;
}

function formatJmp(insn: Formattable, opts: FormatOptions | undefined): string {
  const { code, dst, src, off, imm } = insn;
  const cls = opClass(code);
  const op = code & 0xf0;
  if (op === BPF_CALL) {
    if (src === BPF_PSEUDO_CALL) return `${hex2(code)} call pc${signed(imm | 0)}`;
    return `${hex2(code)} call ${callName(insn, opts)}#${imm | 0}`;
  }
  if (code === (BPF_JMP | BPF_JA)) return `${hex2(code)} goto pc${signed(off)}`;
  if (code === (BPF_JMP | BPF_JA | BPF_X)) return `${hex2(code)} gotox r${dst}`;
  if (code === (BPF_JMP | BPF_JCOND) && src === BPF_MAY_GOTO) return `${hex2(code)} may_goto pc${signed(off)}`;
  if (code === (BPF_JMP32 | BPF_JA)) return `${hex2(code)} gotol pc${signed(imm | 0)}`;
  if (code === (BPF_JMP | BPF_EXIT)) return `${hex2(code)} exit`;
  const r = cls === BPF_JMP32 ? "w" : "r";
  if (opSource(code) === BPF_X) return `${hex2(code)} if ${r}${dst} ${jmpOp(op)} ${r}${src} goto pc${signed(off)}`;
  return `${hex2(code)} if ${r}${dst} ${jmpOp(op)} ${u32hex(imm)} goto pc${signed(off)}`;
}

/**
 * The kernel's text for one instruction, without the `N: ` prefix:
 * `formatInsn({code: 0xb7, dst: 0, src: 0, off: 0, imm: 2}) === "(b7) r0 = 2"`.
 */
export function formatInsn(insn: Formattable, opts?: FormatOptions): string {
  const { code } = insn;
  switch (opClass(code)) {
    case BPF_ALU:
    case BPF_ALU64:
      return formatAlu(insn);
    case BPF_STX:
      return formatStx(insn);
    case BPF_ST: {
      const mode = opMode(code);
      if (mode === BPF_MEM) return `${hex2(code)} *(${ldst(code)} *)(r${insn.dst} ${signed(insn.off)}) = ${insn.imm | 0}`;
      if (mode === 0xc0) return `${hex2(code)} nospec`;
      return `BUG_st_${code.toString(16).padStart(2, "0")}`;
    }
    case BPF_LDX: {
      const mode = opMode(code);
      if (mode !== BPF_MEM && mode !== BPF_MEMSX) return `BUG_ldx_${code.toString(16).padStart(2, "0")}`;
      const sz = mode === BPF_MEM ? ldst(code) : LDSX[opSize(code) >> 3];
      return `${hex2(code)} r${insn.dst} = *(${sz} *)(r${insn.src} ${signed(insn.off)})`;
    }
    case BPF_LD:
      return formatLd(insn, opts);
    default:
      return formatJmp(insn, opts);
  }
}

/** `N: (op) text` lines for a decoded program, N being the slot index as in the verifier log. */
export function formatProgram(insns: readonly DecodedInsn[], opts?: Omit<FormatOptions, "next">): string[] {
  return insns.map((d) => `${d.index}: ${formatInsn(d, opts)}`);
}

/** Convenience: the text for slot `index` of a raw program (pairs an ld_imm64 with its second slot). */
export function formatRawAt(raw: readonly RawInsn[], index: number, opts?: Omit<FormatOptions, "next">): string {
  const insn = raw[index];
  return formatInsn(insn, { ...opts, next: insn.code === OP_LD_IMM64 ? raw[index + 1] : undefined });
}

