/**
 * The eBPF instruction model.
 *
 * Two levels:
 * - `RawInsn`: one 8-byte slot exactly as the kernel sees it (numbers only, already resolved).
 * - `Insn`: what programs are built from. Jumps, bpf-to-bpf calls and function-pointer loads refer
 *   to labels; `assemble` (asm.ts) turns labels into slot offsets once, when the program is final,
 *   so inserting or removing instructions never needs manual offset fix-ups.
 */
import { PlaygroundError } from "../errors";
import {
  ALU_OP_BY_NAME,
  ATOMIC_OP_BY_NAME,
  BPF_ABS,
  BPF_ALU,
  BPF_ALU64,
  BPF_ATOMIC,
  BPF_CALL,
  BPF_END,
  BPF_EXIT,
  BPF_IND,
  BPF_JA,
  BPF_JMP,
  BPF_JMP32,
  BPF_K,
  BPF_LD,
  BPF_LDX,
  BPF_LOAD_ACQ,
  BPF_MEM,
  BPF_MEMSX,
  BPF_MOV,
  BPF_NEG,
  BPF_PSEUDO_CALL,
  BPF_PSEUDO_FUNC,
  BPF_PSEUDO_KFUNC_CALL,
  BPF_PSEUDO_MAP_FD,
  BPF_ST,
  BPF_STORE_REL,
  BPF_STX,
  BPF_TO_BE,
  BPF_TO_LE,
  BPF_X,
  JMP_OP_BY_NAME,
  OP_LD_IMM64,
  REG_NAMES,
  SIZE_BY_NAME,
  type AluOpName,
  type AtomicOpName,
  type JmpOpName,
  type RegName,
  type SizeName,
} from "./opcodes";

/** One 8-byte instruction slot. `off` is s16, `imm` is s32, registers are 4-bit nibbles. */
export interface RawInsn {
  readonly code: number;
  readonly dst: number;
  readonly src: number;
  readonly off: number;
  readonly imm: number;
}

/** A reference to a label, resolved at assembly. */
export interface LabelRef {
  readonly label: string;
}

/** Where a branch goes: a label, or an already-resolved pc-relative slot offset. */
export type Target = LabelRef | number;

interface InsnCommon {
  /** A label defined at this instruction (more can be attached with `label()` marks). */
  readonly label?: string;
  /** Provenance or any caller data, e.g. `{ origin: "cbpf", index: 5 }`; carried through assembly. */
  readonly meta?: unknown;
}

/** Any instruction whose fields are plain numbers: ALU, loads, stores, atomics, helper calls, exit. */
export interface PlainInsn extends InsnCommon {
  readonly kind: "plain";
  readonly code: number;
  readonly dst: number;
  readonly src: number;
  readonly off: number;
  readonly imm: number;
}

/**
 * A control transfer with a target. Which field receives the resolved offset follows from the
 * opcode: `imm` for `call pc+N` (BPF_PSEUDO_CALL) and `gotol` (JMP32|JA), `off` for everything else.
 * The other field keeps the value given here (`imm` of a conditional jump against a constant).
 */
export interface BranchInsn extends InsnCommon {
  readonly kind: "branch";
  readonly code: number;
  readonly dst: number;
  readonly src: number;
  readonly off: number;
  readonly imm: number;
  readonly target: Target;
}

/**
 * The two-slot 64-bit immediate load. `value` is the 64-bit constant (the two imm halves), or a
 * label when `src` is BPF_PSEUDO_FUNC (a function pointer to a subprogram).
 */
export interface LdImm64Insn extends InsnCommon {
  readonly kind: "ld_imm64";
  readonly dst: number;
  readonly src: number;
  /** `off` of the first slot; always 0 in valid programs, kept so decoding round-trips. */
  readonly off: number;
  readonly value: bigint | LabelRef;
}

export type Insn = PlainInsn | BranchInsn | LdImm64Insn;

/** A label definition standing alone in an instruction list: it names the next instruction. */
export interface LabelMark {
  readonly kind: "label";
  readonly name: string;
}

export type AsmItem = Insn | LabelMark;

/** How many 8-byte slots an instruction occupies. */
export const insnSlots = (insn: Insn): 1 | 2 => (insn.kind === "ld_imm64" ? 2 : 1);

export const isLabelRef = (x: unknown): x is LabelRef =>
  typeof x === "object" && x !== null && typeof (x as LabelRef).label === "string";

// ---------------------------------------------------------------------------------------------
// Operand handling
// ---------------------------------------------------------------------------------------------

/**
 * Registers are written by name ("r0".."r10") in builders so that a register and an immediate can
 * never be confused (`alu64("add", "r1", 5)` adds 5, `alu64("add", "r1", "r5")` adds r5).
 */
export type Operand = RegName | number;

function reg(name: RegName, what: string): number {
  const n = REG_NAMES.indexOf(name);
  if (n < 0) throw new PlaygroundError("ebpf/builder", `${what}: "${String(name)}" is not a register (r0..r10)`);
  return n;
}

/** Accepts any 32-bit pattern (signed or unsigned) and returns it as s32, as the wire format stores it. */
export function toS32(value: number, what: string): number {
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0xffffffff) {
    throw new PlaygroundError("ebpf/builder", `${what}: immediate ${value} does not fit in 32 bits`);
  }
  return value | 0;
}

function toS16(value: number, what: string): number {
  if (!Number.isInteger(value) || value < -0x8000 || value > 0x7fff) {
    throw new PlaygroundError("ebpf/builder", `${what}: offset ${value} does not fit in a signed 16-bit field`);
  }
  return value;
}

function target(t: string | Target): Target {
  return typeof t === "string" ? { label: t } : t;
}

function aluOp(op: AluOpName | number): { op: number; off: number } {
  if (typeof op === "number") return { op: op & 0xf0, off: 0 };
  const e = ALU_OP_BY_NAME[op];
  if (!e) throw new PlaygroundError("ebpf/builder", `unknown ALU operation "${String(op)}"`);
  return e;
}

function jmpOp(op: JmpOpName | number): number {
  if (typeof op === "number") return op & 0xf0;
  const e = JMP_OP_BY_NAME[op];
  if (e === undefined) throw new PlaygroundError("ebpf/builder", `unknown jump operation "${String(op)}"`);
  return e;
}

function size(s: SizeName): number {
  const e = SIZE_BY_NAME[s];
  if (e === undefined) throw new PlaygroundError("ebpf/builder", `unknown size "${String(s)}" (u8, u16, u32, u64)`);
  return e;
}

const plain = (code: number, dst: number, src: number, off: number, imm: number): PlainInsn => ({
  kind: "plain",
  code,
  dst,
  src,
  off,
  imm,
});

// ---------------------------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------------------------

/** `label(name)` in an instruction list names the instruction that follows it. */
export const label = (name: string): LabelMark => ({ kind: "label", name });

/** The same instruction with a label defined at it. */
export const withLabel = <T extends Insn>(name: string, insn: T): T => ({ ...insn, label: name });

/** Stamps provenance (or any data) onto instructions that have none yet. */
export function withMeta(meta: unknown, ...items: AsmItem[]): AsmItem[] {
  return items.map((it) => (it.kind === "label" || it.meta !== undefined ? it : { ...it, meta }));
}

function aluBuilder(cls: number, op: AluOpName | number, dst: RegName, srcOrImm: Operand): PlainInsn {
  const { op: bits, off } = aluOp(op);
  const d = reg(dst, "alu dst");
  if (typeof srcOrImm === "number") return plain(cls | bits | BPF_K, d, 0, off, toS32(srcOrImm, "alu"));
  return plain(cls | bits | BPF_X, d, reg(srcOrImm, "alu src"), off, 0);
}

/** 64-bit ALU: `dst op= src|imm` (the immediate is sign-extended to 64 bits by the CPU). */
export const alu64 = (op: AluOpName | number, dst: RegName, srcOrImm: Operand): PlainInsn =>
  aluBuilder(BPF_ALU64, op, dst, srcOrImm);
/** 32-bit ALU: operates on the low halves and zero-extends the result into the full register. */
export const alu32 = (op: AluOpName | number, dst: RegName, srcOrImm: Operand): PlainInsn =>
  aluBuilder(BPF_ALU, op, dst, srcOrImm);

export const mov64Imm = (dst: RegName, imm: number): PlainInsn => alu64("mov", dst, toS32(imm, "mov64Imm"));
export const mov64Reg = (dst: RegName, src: RegName): PlainInsn => alu64("mov", dst, src);
export const mov32Imm = (dst: RegName, imm: number): PlainInsn => alu32("mov", dst, toS32(imm, "mov32Imm"));
export const mov32Reg = (dst: RegName, src: RegName): PlainInsn => alu32("mov", dst, src);

/** Sign-extending register move (`r1 = (s8)r2`; 32-bit form `w1 = (s8)w2`). */
export function movsx(width: 64 | 32, dst: RegName, src: RegName, bits: 8 | 16 | 32): PlainInsn {
  if (width === 32 && bits === 32) throw new PlaygroundError("ebpf/builder", "movsx: a 32-bit move cannot sign-extend from 32 bits");
  return plain((width === 64 ? BPF_ALU64 : BPF_ALU) | BPF_MOV | BPF_X, reg(dst, "movsx dst"), reg(src, "movsx src"), bits, 0);
}

/** `dst = -dst`. */
export const neg64 = (dst: RegName): PlainInsn => plain(BPF_ALU64 | BPF_NEG, reg(dst, "neg dst"), 0, 0, 0);
export const neg32 = (dst: RegName): PlainInsn => plain(BPF_ALU | BPF_NEG, reg(dst, "neg dst"), 0, 0, 0);

/**
 * Byte-order conversion. "be"/"le" are the ALU-class `rX = be16 rX` (convert from host order; on a
 * little-endian host `le` only truncates), "bswap" is the ALU64-class unconditional swap.
 */
export function endian(kind: "be" | "le" | "bswap", dst: RegName, bits: 16 | 32 | 64): PlainInsn {
  if (bits !== 16 && bits !== 32 && bits !== 64) throw new PlaygroundError("ebpf/builder", `endian: width ${String(bits)} is not 16, 32 or 64`);
  const d = reg(dst, "endian dst");
  if (kind === "bswap") return plain(BPF_ALU64 | BPF_END | BPF_TO_LE, d, 0, 0, bits);
  return plain(BPF_ALU | BPF_END | (kind === "be" ? BPF_TO_BE : BPF_TO_LE), d, 0, 0, bits);
}

/** `dst = *(size *)(src + off)`. */
export const ldx = (sz: SizeName, dst: RegName, src: RegName, off: number): PlainInsn =>
  plain(BPF_LDX | BPF_MEM | size(sz), reg(dst, "ldx dst"), reg(src, "ldx src"), toS16(off, "ldx"), 0);

/** Sign-extending load `dst = *(s8/s16/s32 *)(src + off)`. */
export function ldxs(sz: "u8" | "u16" | "u32", dst: RegName, src: RegName, off: number): PlainInsn {
  return plain(BPF_LDX | BPF_MEMSX | size(sz), reg(dst, "ldxs dst"), reg(src, "ldxs src"), toS16(off, "ldxs"), 0);
}

/** `*(size *)(dst + off) = src`. */
export const stx = (sz: SizeName, dst: RegName, off: number, src: RegName): PlainInsn =>
  plain(BPF_STX | BPF_MEM | size(sz), reg(dst, "stx dst"), reg(src, "stx src"), toS16(off, "stx"), 0);

/** `*(size *)(dst + off) = imm`. */
export const st = (sz: SizeName, dst: RegName, off: number, imm: number): PlainInsn =>
  plain(BPF_ST | BPF_MEM | size(sz), reg(dst, "st dst"), 0, toS16(off, "st"), toS32(imm, "st"));

/** Atomic read-modify-write on `*(size *)(dst + off)` with `src` (u32 or u64 only). */
export function atomic(sz: "u32" | "u64", op: AtomicOpName, dst: RegName, off: number, src: RegName): PlainInsn {
  const imm = ATOMIC_OP_BY_NAME[op];
  if (imm === undefined) throw new PlaygroundError("ebpf/builder", `unknown atomic operation "${String(op)}"`);
  return plain(BPF_STX | BPF_ATOMIC | size(sz), reg(dst, "atomic dst"), reg(src, "atomic src"), toS16(off, "atomic"), imm);
}

/** `dst = load_acquire((size *)(src + off))`. */
export const loadAcquire = (sz: SizeName, dst: RegName, src: RegName, off: number): PlainInsn =>
  plain(BPF_STX | BPF_ATOMIC | size(sz), reg(dst, "load_acquire dst"), reg(src, "load_acquire src"), toS16(off, "load_acquire"), BPF_LOAD_ACQ);

/** `store_release((size *)(dst + off), src)`. */
export const storeRelease = (sz: SizeName, dst: RegName, off: number, src: RegName): PlainInsn =>
  plain(BPF_STX | BPF_ATOMIC | size(sz), reg(dst, "store_release dst"), reg(src, "store_release src"), toS16(off, "store_release"), BPF_STORE_REL);

/** Accepts a 64-bit constant as a bigint or a safe integer, either signed or unsigned. */
export function toU64(value: bigint | number, what: string): bigint {
  let v: bigint;
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new PlaygroundError("ebpf/builder", `${what}: ${value} is not a safe integer; pass a bigint`);
    v = BigInt(value);
  } else v = value;
  if (v < -(1n << 63n) || v > (1n << 64n) - 1n) throw new PlaygroundError("ebpf/builder", `${what}: ${v} does not fit in 64 bits`);
  return BigInt.asUintN(64, v);
}

/** `dst = imm64` (two slots). */
export const ldImm64 = (dst: RegName, value: bigint | number): LdImm64Insn => ({
  kind: "ld_imm64",
  dst: reg(dst, "ldImm64 dst"),
  src: 0,
  off: 0,
  value: toU64(value, "ldImm64"),
});

/** `dst = map` by file descriptor (BPF_PSEUDO_MAP_FD). */
export const ldMapFd = (dst: RegName, fd: number): LdImm64Insn => ({
  kind: "ld_imm64",
  dst: reg(dst, "ldMapFd dst"),
  src: BPF_PSEUDO_MAP_FD,
  off: 0,
  value: BigInt(toS32(fd, "ldMapFd") >>> 0),
});

/** `dst = &subprogram` (BPF_PSEUDO_FUNC), for callbacks such as bpf_loop. */
export const ldFunc = (dst: RegName, fn: string): LdImm64Insn => ({
  kind: "ld_imm64",
  dst: reg(dst, "ldFunc dst"),
  src: BPF_PSEUDO_FUNC,
  off: 0,
  value: { label: fn },
});

/** Legacy packet load `r0 = *(size *)skb[imm]` (socket filter and tc only; needs ctx in r6). */
export const ldAbs = (sz: "u8" | "u16" | "u32", imm: number): PlainInsn =>
  plain(BPF_LD | BPF_ABS | size(sz), 0, 0, 0, toS32(imm, "ldAbs"));

/** Legacy packet load `r0 = *(size *)skb[src + imm]`. */
export const ldInd = (sz: "u8" | "u16" | "u32", src: RegName, imm: number): PlainInsn =>
  plain(BPF_LD | BPF_IND | size(sz), 0, reg(src, "ldInd src"), 0, toS32(imm, "ldInd"));

function jmpBuilder(cls: number, op: JmpOpName | number, dst: RegName, srcOrImm: Operand, to: string | Target): BranchInsn {
  const bits = jmpOp(op);
  const d = reg(dst, "jmp dst");
  if (typeof srcOrImm === "number") {
    return { kind: "branch", code: cls | bits | BPF_K, dst: d, src: 0, off: 0, imm: toS32(srcOrImm, "jmp"), target: target(to) };
  }
  return { kind: "branch", code: cls | bits | BPF_X, dst: d, src: reg(srcOrImm, "jmp src"), off: 0, imm: 0, target: target(to) };
}

/** Conditional jump on 64-bit operands: `if dst op src|imm goto label`. */
export const jmp = (op: JmpOpName | number, dst: RegName, srcOrImm: Operand, to: string | Target): BranchInsn =>
  jmpBuilder(BPF_JMP, op, dst, srcOrImm, to);
/** Conditional jump on the low 32 bits: `if wD op wS|imm goto label`. */
export const jmp32 = (op: JmpOpName | number, dst: RegName, srcOrImm: Operand, to: string | Target): BranchInsn =>
  jmpBuilder(BPF_JMP32, op, dst, srcOrImm, to);

/** Unconditional `goto` (16-bit offset). */
export const ja = (to: string | Target): BranchInsn => ({ kind: "branch", code: BPF_JMP | BPF_JA, dst: 0, src: 0, off: 0, imm: 0, target: target(to) });
/** Unconditional `gotol` (JMP32 class, 32-bit offset in imm). */
export const gotol = (to: string | Target): BranchInsn => ({ kind: "branch", code: BPF_JMP32 | BPF_JA, dst: 0, src: 0, off: 0, imm: 0, target: target(to) });

/** Helper call by id (`call bpf_skb_load_bytes#26`). */
export const call = (helperId: number): PlainInsn => plain(BPF_JMP | BPF_CALL, 0, 0, 0, toS32(helperId, "call"));
/** Kernel function call by BTF id. */
export const callKfunc = (btfId: number): PlainInsn => plain(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, toS32(btfId, "callKfunc"));
/** bpf-to-bpf call of the subprogram starting at `fn` (`call pc+N`). */
export const callLabel = (fn: string | Target): BranchInsn => ({
  kind: "branch",
  code: BPF_JMP | BPF_CALL,
  dst: 0,
  src: BPF_PSEUDO_CALL,
  off: 0,
  imm: 0,
  target: target(fn),
});

export const exit = (): PlainInsn => plain(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);

/** Any raw single-slot instruction (for opcodes without a builder, or deliberately odd encodings). */
export function rawInsn(code: number, dst: number, src: number, off: number, imm: number): PlainInsn {
  const fits = (v: number, max: number) => Number.isInteger(v) && v >= 0 && v <= max;
  if (!fits(code, 0xff) || !fits(dst, 15) || !fits(src, 15)) {
    throw new PlaygroundError("ebpf/builder", `raw: code ${code}, dst ${dst} or src ${src} out of range`);
  }
  return plain(code, dst, src, toS16(off, "raw"), toS32(imm, "raw"));
}

/** True for codes whose target is carried by `imm` rather than `off`. */
export function targetInImm(code: number, src: number): boolean {
  return code === (BPF_JMP32 | BPF_JA) || (code === (BPF_JMP | BPF_CALL) && src === BPF_PSEUDO_CALL);
}

export { OP_LD_IMM64 };
