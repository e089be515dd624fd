/**
 * Every known difference between libpcap's userland cBPF (bpf_filter.c / bpf_validate, 1.10.3)
 * and the Linux kernel's classic socket filters (net/core/filter.c, 6.18), in one place.
 *
 * Differential tests compare engines and must tolerate exactly these and nothing else, so each
 * entry carries a predicate saying whether one executed step falls under it (`hitByStep`) or
 * whether a program falls under it at load time (`hitByProgram`). The executors implement the
 * two sides in `semantics.ts`; the choice is made in `lower.ts`.
 *
 * Not divergences (both machines agree, checked against both in the tests): division or modulo
 * by X = 0 and packet loads out of bounds make the filter return 0 at once; all arithmetic and
 * comparisons are unsigned 32-bit; A and X start at 0.
 */
import type { CbpfInsn } from "./insn";
import {
  BPF_ALU,
  BPF_B,
  BPF_CLASS,
  BPF_IND,
  BPF_JA,
  BPF_JMP,
  BPF_K,
  BPF_LD,
  BPF_LDX,
  BPF_LEN,
  BPF_LSH,
  BPF_MAXINSNS,
  BPF_MODE,
  BPF_MSH,
  BPF_RSH,
  BPF_W,
  BPF_X,
  ancillaryIndex,
  isAbsoluteLoad,
  isKnownOpcode,
  isScratchRead,
} from "./opcodes";

/** Register values just before an instruction executes. */
export interface DivergenceStep {
  insn: CbpfInsn;
  A: number;
  X: number;
}

export interface CbpfDivergence {
  /** Stable identifier for whitelists. */
  readonly id: string;
  readonly title: string;
  /** What each side does. */
  readonly libpcap: string;
  readonly kernel: string;
  /** The inputs that expose it. */
  readonly cases: string;
  /** "run": the two compute different values; "load": one accepts a program the other rejects. */
  readonly when: "run" | "load";
  /** For "run" divergences: does executing this step (with these registers) hit it? */
  readonly hitByStep?: (step: DivergenceStep) => boolean;
  /** For "load" divergences: does this program fall under it? */
  readonly hitByProgram?: (prog: readonly CbpfInsn[]) => boolean;
}

const isShiftX = (code: number): boolean =>
  code === (BPF_ALU | BPF_LSH | BPF_X) || code === (BPF_ALU | BPF_RSH | BPF_X);
const isShiftK = (code: number): boolean =>
  code === (BPF_ALU | BPF_LSH | BPF_K) || code === (BPF_ALU | BPF_RSH | BPF_K);
const isIndLoad = (code: number): boolean => BPF_CLASS(code) === BPF_LD && BPF_MODE(code) === BPF_IND && isKnownOpcode(code);
const isMsh = (code: number): boolean => code === (BPF_LDX | BPF_B | BPF_MSH);

export const DIVERGENCES: readonly CbpfDivergence[] = [
  {
    id: "shift-x-ge-32",
    title: "lsh x / rsh x by 32 or more",
    libpcap: "A = 0 (bpf_filter.c tests X < 32 before shifting)",
    kernel: "the shift count is taken modulo 32 (interpreter `& 31`; x86 JITs mask the same way)",
    cases: "lsh x or rsh x executed with X >= 32",
    when: "run",
    hitByStep: (s) => isShiftX(s.insn.code) && s.X >= 32,
  },
  {
    id: "ind-wrap",
    title: "[x + k] whose sum does not fit 32 bits",
    libpcap: "out of bounds, the filter returns 0 (k and X are checked against the buffer separately, unsigned)",
    kernel:
      "X + k wraps modulo 2^32 and is used as a signed offset: small results read the packet, " +
      "negative ones go through SKF_NET_OFF/SKF_LL_OFF resolution (test_bpf \"LD_IND byte negative offset\")",
    cases: "ld/ldh/ldb [x + k] executed with X + k >= 2^32, or landing in the SKF_LL_OFF..-1 range (>= 0xffe00000)",
    when: "run",
    hitByStep: (s) => isIndLoad(s.insn.code) && s.X + (s.insn.k >>> 0) >= 0xffe00000,
  },
  {
    id: "negative-offset",
    title: "[k] and 4*([k]&0xf) with k >= 2^31 that is not an ancillary offset",
    libpcap: "out of bounds, the filter returns 0",
    kernel:
      "SKF_LL_OFF + n reads byte n of the MAC header, SKF_NET_OFF + n byte n of the network header; " +
      "other negative offsets fail (return 0), and [SKF_AD_OFF..] that is not a known SKF_AD_* is rejected at load",
    cases: "ld/ldh/ldb [k] or ldxb 4*([k]&0xf) with k in 0xffe00000..0xffffefff",
    when: "run",
    hitByStep: (s) => {
      const k = s.insn.k >>> 0;
      return (isAbsoluteLoad(s.insn) || isMsh(s.insn.code)) && k >= 0xffe00000 && ancillaryIndex(k) === undefined;
    },
  },
  {
    id: "ancillary",
    title: "Linux ancillary loads (SKF_AD_*: [proto], [type], [ifidx], [vlanp], ...)",
    libpcap: "no socket buffer: the offset is out of bounds and the filter returns 0",
    kernel: "reads skb metadata (here from the `ctx` argument: protocol, pkttype, ifindex, vlan, mark, hash, ...)",
    cases: "ld/ldh/ldb [SKF_AD_OFF + n] for the 16 known n",
    when: "run",
    hitByStep: (s) => isAbsoluteLoad(s.insn) && ancillaryIndex(s.insn.k) !== undefined,
  },
  {
    id: "len",
    title: "ld #pktlen / ldx #pktlen",
    libpcap: "the wire length from the capture header (wirelen)",
    kernel:
      "skb->len, the bytes in the socket buffer; for a received packet that is its length on the wire, " +
      "so both give the wire length here unless ctx.len says otherwise (differs for truncated captures)",
    cases: "ld #pktlen or ldx #pktlen when ctx.len is set under kernel semantics",
    when: "run",
    hitByStep: (s) => s.insn.code === (BPF_LD | BPF_W | BPF_LEN) || s.insn.code === (BPF_LDX | BPF_W | BPF_LEN),
  },
  {
    id: "scratch-uninitialised",
    title: "reading M[k] before any store to it",
    libpcap: "accepted; reads whatever is in the uninitialised stack array (0 in this interpreter)",
    kernel: "rejected at load by check_load_and_stores (-EINVAL)",
    cases: "ld M[k] / ldx M[k] reachable on a path with no st/stx M[k] before it",
    when: "load",
    hitByProgram: (prog) => prog.some(isScratchRead),
  },
  {
    id: "backward-ja",
    title: "ja with a backward (negative) offset",
    libpcap: "accepted and executed as a signed offset; libpcap's own protochain code relies on it",
    kernel: "rejected at load: k is unsigned and must be < len - pc - 1",
    cases: "ja whose k, read as signed, is negative",
    when: "load",
    hitByProgram: (prog) => prog.some((p) => p.code === (BPF_JMP | BPF_JA) && (p.k | 0) < 0),
  },
  {
    id: "shift-k-ge-32",
    title: "lsh #k / rsh #k with k >= 32",
    libpcap: "accepted; executed as a C shift, which x86 performs modulo 32",
    kernel: "rejected at load",
    cases: "lsh #k or rsh #k with k >= 32",
    when: "load",
    hitByProgram: (prog) => prog.some((p) => isShiftK(p.code) && p.k >>> 0 >= 32),
  },
  {
    id: "opcode-check",
    title: "which opcodes are accepted",
    libpcap:
      "bpf_validate checks class, mode and operation only: it accepts e.g. 0x21 (ldx [k]), 0x0e (ret x) or " +
      "0x8c, which its interpreter then cannot execute (it aborts)",
    kernel: "only the exact opcodes of chk_code_allowed; the last instruction must be ret #k or ret a",
    cases: "any opcode outside the classic BPF instruction set (KNOWN_OPCODES)",
    when: "load",
    hitByProgram: (prog) => prog.some((p) => !isKnownOpcode(p.code)),
  },
  {
    id: "ancillary-offset-check",
    title: "[k] in the ancillary range that names no SKF_AD_* field",
    libpcap: "accepted; out of bounds at run time (returns 0)",
    kernel: "rejected at load",
    cases: "ld/ldh/ldb [k] with k >= 0xfffff000 and k not one of the 16 SKF_AD_* offsets",
    when: "load",
    hitByProgram: (prog) => prog.some((p) => isAbsoluteLoad(p) && p.k >>> 0 >= 0xfffff000 && ancillaryIndex(p.k) === undefined),
  },
  {
    id: "max-length",
    title: "program length",
    libpcap: "no limit",
    kernel: `at most ${BPF_MAXINSNS} instructions`,
    cases: `programs longer than ${BPF_MAXINSNS} instructions`,
    when: "load",
    hitByProgram: (prog) => prog.length > BPF_MAXINSNS,
  },
];

export function divergence(id: string): CbpfDivergence | undefined {
  return DIVERGENCES.find((d) => d.id === id);
}

/** Run-time divergences this step falls under (ids). */
export function divergencesHitByStep(step: DivergenceStep): string[] {
  return DIVERGENCES.filter((d) => d.hitByStep?.(step) === true).map((d) => d.id);
}

/** Load-time divergences this program falls under (ids). */
export function divergencesHitByProgram(prog: readonly CbpfInsn[]): string[] {
  return DIVERGENCES.filter((d) => d.hitByProgram?.(prog) === true).map((d) => d.id);
}

