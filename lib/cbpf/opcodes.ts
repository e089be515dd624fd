/**
 * Classic BPF opcode fields (`<linux/filter.h>`, `<pcap/bpf.h>`) and small helpers that classify an
 * instruction. The opcode is 16 bits wide in `struct sock_filter`, but every defined value fits in
 * 8; anything with high bits set is simply an unknown instruction, and the helpers below treat it
 * the way libpcap and the kernel do (by masking the field they look at).
 */
import type { CbpfInsn } from "./insn";

// Instruction classes (low 3 bits).
export const BPF_LD = 0x00;
export const BPF_LDX = 0x01;
export const BPF_ST = 0x02;
export const BPF_STX = 0x03;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_RET = 0x06;
export const BPF_MISC = 0x07;

// Load sizes.
export const BPF_W = 0x00;
export const BPF_H = 0x08;
export const BPF_B = 0x10;

// Load modes.
export const BPF_IMM = 0x00;
export const BPF_ABS = 0x20;
export const BPF_IND = 0x40;
export const BPF_MEM = 0x60;
export const BPF_LEN = 0x80;
export const BPF_MSH = 0xa0;

// ALU and jump operations.
export const BPF_ADD = 0x00;
export const BPF_SUB = 0x10;
export const BPF_MUL = 0x20;
export const BPF_DIV = 0x30;
export const BPF_OR = 0x40;
export const BPF_AND = 0x50;
export const BPF_LSH = 0x60;
export const BPF_RSH = 0x70;
export const BPF_NEG = 0x80;
export const BPF_MOD = 0x90;
export const BPF_XOR = 0xa0;

export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;

// Operand source.
export const BPF_K = 0x00;
export const BPF_X = 0x08;

// Return value source (BPF_RVAL).
export const BPF_A = 0x10;

// Misc operations.
export const BPF_TAX = 0x00;
export const BPF_TXA = 0x80;

/** Number of scratch memory words M[0..15]. */
export const BPF_MEMWORDS = 16;
/** The kernel's limit on classic program length. */
export const BPF_MAXINSNS = 4096;

export const BPF_CLASS = (code: number): number => code & 0x07;
export const BPF_SIZE = (code: number): number => code & 0x18;
export const BPF_MODE = (code: number): number => code & 0xe0;
export const BPF_OP = (code: number): number => code & 0xf0;
export const BPF_SRC = (code: number): number => code & 0x08;
export const BPF_RVAL = (code: number): number => code & 0x18;
export const BPF_MISCOP = (code: number): number => code & 0xf8;

// Linux ancillary data (`SKF_AD_*`): `ld [SKF_AD_OFF + n]` reads skb metadata instead of packet bytes.
/** SKF_AD_OFF = -0x1000, kept unsigned as a `k` would hold it. */
export const SKF_AD_OFF = 0xfffff000;
/** SKF_NET_OFF = -0x100000: offsets relative to the network header. */
export const SKF_NET_OFF = 0xfff00000;
/** SKF_LL_OFF = -0x200000: offsets relative to the link-layer (MAC) header. */
export const SKF_LL_OFF = 0xffe00000;

export const SKF_AD_PROTOCOL = 0;
export const SKF_AD_PKTTYPE = 4;
export const SKF_AD_IFINDEX = 8;
export const SKF_AD_NLATTR = 12;
export const SKF_AD_NLATTR_NEST = 16;
export const SKF_AD_MARK = 20;
export const SKF_AD_QUEUE = 24;
export const SKF_AD_HATYPE = 28;
export const SKF_AD_RXHASH = 32;
export const SKF_AD_CPU = 36;
export const SKF_AD_ALU_XOR_X = 40;
export const SKF_AD_VLAN_TAG = 44;
export const SKF_AD_VLAN_TAG_PRESENT = 48;
export const SKF_AD_PAY_OFFSET = 52;
export const SKF_AD_RANDOM = 56;
export const SKF_AD_VLAN_TPID = 60;
export const SKF_AD_MAX = 64;

/**
 * The names libpcap's `bpf_image` prints for ancillary offsets (`ld [ifidx]`), indexed by
 * `SKF_AD_*` value. Offsets not in this table print as a plain signed number.
 */
export const ANCILLARY_NAMES: Readonly<Record<number, string>> = {
  [SKF_AD_PROTOCOL]: "proto",
  [SKF_AD_PKTTYPE]: "type",
  [SKF_AD_IFINDEX]: "ifidx",
  [SKF_AD_NLATTR]: "nla",
  [SKF_AD_NLATTR_NEST]: "nlan",
  [SKF_AD_MARK]: "mark",
  [SKF_AD_QUEUE]: "queue",
  [SKF_AD_HATYPE]: "hatype",
  [SKF_AD_RXHASH]: "rxhash",
  [SKF_AD_CPU]: "cpu",
  [SKF_AD_ALU_XOR_X]: "xor_x",
  [SKF_AD_VLAN_TAG]: "vlan_tci",
  [SKF_AD_VLAN_TAG_PRESENT]: "vlanp",
  [SKF_AD_PAY_OFFSET]: "poff",
  [SKF_AD_RANDOM]: "random",
  [SKF_AD_VLAN_TPID]: "vlan_tpid",
};

/** The `SKF_AD_*` value for a `k`, if `k` is one of the 16 ancillary offsets the kernel knows. */
export function ancillaryIndex(k: number): number | undefined {
  const off = (k >>> 0) - SKF_AD_OFF;
  if (off < 0 || off >= SKF_AD_MAX || off % 4 !== 0) return undefined;
  return off;
}

/** libpcap's symbolic name for an ancillary `k` (`"ifidx"`), or undefined. */
export function ancillaryName(k: number): string | undefined {
  const idx = ancillaryIndex(k);
  return idx === undefined ? undefined : ANCILLARY_NAMES[idx];
}

/** What an instruction does, as one word; `unknown` for opcodes neither libpcap nor Linux define. */
export type InsnKind = "load" | "store" | "alu" | "jump" | "cond-jump" | "ret" | "misc" | "unknown";

/**
 * Every opcode the kernel accepts (`chk_code_allowed`). libpcap's interpreter executes the same
 * set; the two differ only in what they check around these opcodes, not in the opcodes themselves.
 */
export const KNOWN_OPCODES: ReadonlySet<number> = new Set([
  // ALU, K and X forms of each operation, and neg
  ...[BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_MOD, BPF_AND, BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH].flatMap(
    (op) => [BPF_ALU | op | BPF_K, BPF_ALU | op | BPF_X],
  ),
  BPF_ALU | BPF_NEG,
  // loads
  BPF_LD | BPF_W | BPF_ABS,
  BPF_LD | BPF_H | BPF_ABS,
  BPF_LD | BPF_B | BPF_ABS,
  BPF_LD | BPF_W | BPF_LEN,
  BPF_LD | BPF_W | BPF_IND,
  BPF_LD | BPF_H | BPF_IND,
  BPF_LD | BPF_B | BPF_IND,
  BPF_LD | BPF_IMM,
  BPF_LD | BPF_MEM,
  BPF_LDX | BPF_W | BPF_LEN,
  BPF_LDX | BPF_B | BPF_MSH,
  BPF_LDX | BPF_IMM,
  BPF_LDX | BPF_MEM,
  // stores
  BPF_ST,
  BPF_STX,
  // misc
  BPF_MISC | BPF_TAX,
  BPF_MISC | BPF_TXA,
  // returns
  BPF_RET | BPF_K,
  BPF_RET | BPF_A,
  // jumps
  BPF_JMP | BPF_JA,
  ...[BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET].flatMap((op) => [BPF_JMP | op | BPF_K, BPF_JMP | op | BPF_X]),
]);

export function isKnownOpcode(code: number): boolean {
  return KNOWN_OPCODES.has(code);
}

/** Classify by the opcode alone; unknown opcodes are "unknown" whatever their class bits say. */
export function insnKind(insn: CbpfInsn): InsnKind {
  const code = insn.code;
  if (!KNOWN_OPCODES.has(code)) return "unknown";
  switch (BPF_CLASS(code)) {
    case BPF_LD:
    case BPF_LDX:
      return "load";
    case BPF_ST:
    case BPF_STX:
      return "store";
    case BPF_ALU:
      return "alu";
    case BPF_JMP:
      return BPF_OP(code) === BPF_JA ? "jump" : "cond-jump";
    case BPF_RET:
      return "ret";
    default:
      return "misc";
  }
}

/**
 * True when the instruction is laid out as a conditional jump (jt/jf used), following the test
 * libpcap's printer uses: class JMP and operation not JA. This includes unknown JMP-class opcodes,
 * which is why it looks at bits rather than at the known-opcode table.
 */
export function hasJumpTargets(code: number): boolean {
  return BPF_CLASS(code) === BPF_JMP && BPF_OP(code) !== BPF_JA;
}

export const isReturn = (insn: CbpfInsn): boolean =>
  insn.code === (BPF_RET | BPF_K) || insn.code === (BPF_RET | BPF_A);
export const isUnconditionalJump = (insn: CbpfInsn): boolean => insn.code === (BPF_JMP | BPF_JA);
export const isConditionalJump = (insn: CbpfInsn): boolean =>
  KNOWN_OPCODES.has(insn.code) && hasJumpTargets(insn.code);
export const isScratchRead = (insn: CbpfInsn): boolean =>
  insn.code === (BPF_LD | BPF_MEM) || insn.code === (BPF_LDX | BPF_MEM);
export const isScratchWrite = (insn: CbpfInsn): boolean => insn.code === BPF_ST || insn.code === BPF_STX;
/** `ld`/`ldh`/`ldb [k]`: the only loads whose `k` can name ancillary data. */
export const isAbsoluteLoad = (insn: CbpfInsn): boolean =>
  insn.code === (BPF_LD | BPF_W | BPF_ABS) ||
  insn.code === (BPF_LD | BPF_H | BPF_ABS) ||
  insn.code === (BPF_LD | BPF_B | BPF_ABS);

/** Bytes read by a packet load of this size field (W=4, H=2, B=1). */
export function loadSizeBytes(code: number): number {
  const size = BPF_SIZE(code);
  return size === BPF_W ? 4 : size === BPF_H ? 2 : size === BPF_B ? 1 : 0;
}

/** Build an instruction, normalising fields to their C widths. */
export function insn(code: number, k = 0, jt = 0, jf = 0): CbpfInsn {
  return { code: code & 0xffff, jt: jt & 0xff, jf: jf & 0xff, k: k >>> 0 };
}
