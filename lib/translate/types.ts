/**
 * The translator's public vocabulary: targets, options, the register convention at the program
 * boundary, result (epilogue) variants and what a translation returns.
 */
import type { Assembled, AsmItem, RegName, SkbLayout } from "../ebpf";

/** Where the translated program runs. */
export type Target = "socket" | "tc" | "xdp" | "kprobe";
export const TARGETS: readonly Target[] = ["socket", "tc", "xdp", "kprobe"];

/**
 * "whole": a loadable program (prologue reads the context, epilogue exits).
 * "body": code to splice into a host function (no prologue reading ctx, no exit); it ends by
 * jumping to `resultLabel` with the filter's value in `abi.result`.
 */
export type TranslateMode = "whole" | "body";

/** What the program does with the cBPF return value (whole mode only). */
export type ResultSpec =
  /** r0 = the cBPF return value (0 = no match; libpcap's match value is the snaplen). */
  | { readonly kind: "return" }
  /** r0 = `match` when the value is non-zero, else `noMatch` (e.g. XDP_PASS / XDP_DROP). */
  | { readonly kind: "verdict"; readonly match: number; readonly noMatch: number }
  /**
   * Live attach: count each packet, atomically, in slot 0 of `countersMapFd` (an array map with
   * 16-byte values): the u64 at offset 0 counts packets that did not match, the one at offset 8
   * packets that matched (total = their sum, so one lookup of the slot is a snapshot in which
   * matched <= total whenever it was taken), send matched packets' first `sampleBytes` bytes as
   * `{u32 wire_len, u32 cap_len, u8 bytes[sampleBytes]}` to the ring buffer `eventsMapFd`, and
   * return `action` whatever the verdict.
   */
  | {
      readonly kind: "count";
      readonly countersMapFd: number;
      readonly eventsMapFd?: number;
      readonly sampleBytes?: number;
      readonly action: number;
    };

/**
 * Register convention at the boundary. Only the fields a strategy needs are used; unset fields
 * take the target's defaults (`defaultAbi`).
 */
export interface TranslateAbi {
  /**
   * Whole mode: always r1 (the kernel passes ctx there). Body mode: the register holding the
   * context the strategy needs, if any: the `struct sk_buff *` for kprobe (`ld #pktlen`) and
   * the `__sk_buff *` for socket.
   */
  readonly ctx?: RegName;
  /** Body mode, xdp/tc/kprobe: register holding the first packet byte (a packet pointer, or a kernel address for kprobe). */
  readonly packetStart?: RegName;
  /** Body mode, xdp/tc/kprobe: register holding one past the last packet byte. */
  readonly packetEnd?: RegName;
  /** cBPF accumulator A. */
  readonly a: RegName;
  /** cBPF index register X. */
  readonly x: RegName;
  /** Scratch register for guards and address arithmetic. */
  readonly tmp: RegName;
  /** Register holding the bounds-checked pointer of an indirect `[x+k]` guard (direct access). */
  readonly ind: RegName;
  /** Where the filter's value is left (whole mode: r0). */
  readonly result: RegName;
  /**
   * Bytes of stack already used below r10 by the host (multiple of 8); M[n] is the 32-bit slot
   * at r10 - (stackBase + 4(n+1)), spill slots and buffers follow below the used M[] slots.
   */
  readonly stackBase: number;
  /** Body mode: callee-saved registers the translation uses and restores before leaving. */
  readonly preserve?: readonly RegName[];
}

/** How the socket target reads packet bytes. */
export type SocketAccess = "ld_abs" | "skb_load_bytes";

export interface TranslateOptions {
  readonly target: Target;
  /** Default "whole". */
  readonly mode?: TranslateMode;
  /** Body mode: the label the body jumps to when it has a result (required in body mode). */
  readonly resultLabel?: string;
  /** Prefix of every internal label (default "f"); must be unique inside the host program. */
  readonly labelPrefix?: string;
  /** Whole mode only. Default `{ kind: "return" }`. */
  readonly result?: ResultSpec;
  /** Overrides of the target's default register convention. */
  readonly abi?: Partial<TranslateAbi>;
  /**
   * kprobe: offsets in `struct sk_buff`. Default: lib/ebpf's SKB_LAYOUT_6_18_X86_64, the offsets
   * of this machine's Linux 6.18 x86_64 kernel as its BTF (/sys/kernel/btf/vmlinux) gives them;
   * tests/translate/skb-layout.test.ts re-reads them from the running kernel's BTF with a small
   * BTF reader and fails if they differ. Another kernel build needs its own layout.
   */
  readonly skbLayout?: SkbLayout;
  /**
   * kprobe: offset of `ifindex` in `struct net_device`, for `ifindex N` (skb->dev->ifindex).
   * Default: lib/ebpf's NET_DEVICE_IFINDEX_6_18_X86_64 (this machine's BTF, checked by
   * tests/translate/skb-layout.test.ts).
   */
  readonly netDeviceIfindex?: number;
  /** kprobe whole mode: offset of the skb argument in `struct pt_regs` (default 112, `di`). */
  readonly skbArgOffset?: number;
  /**
   * Backward jumps (libpcap's `protochain`): how many times a backward jump may be taken on one
   * path; the next one makes the filter return 0. Default 8.
   */
  readonly loopBound?: number;
  /** socket: "ld_abs" (default in whole mode) or "skb_load_bytes" (forced in body mode). */
  readonly socketAccess?: SocketAccess;
  /**
   * kprobe/skb_load_bytes: bytes of packet headers copied to the stack by one helper call at each
   * bounds check, so that header reads need no call of their own (0 disables; default 96).
   */
  readonly headerCopyBytes?: number;
}

/** Where an emitted instruction came from. */
export type Provenance =
  | { readonly origin: "cbpf"; readonly index: number; readonly note?: string }
  | { readonly origin: "prologue" | "guard" | "epilogue"; readonly note?: string };

export interface TranslateStats {
  /** Instructions in the cBPF program. */
  readonly cbpfLength: number;
  /** 8-byte slots of the eBPF program (ld_imm64 counts 2). */
  readonly ebpfSlots: number;
  /** Bounds checks placed (an absolute check is one jump, an indirect `[x+k]` check two). */
  readonly guards: number;
  /** Conditional jumps those bounds checks consist of. */
  readonly guardJumps: number;
  /** Emitted instructions that read packet bytes (direct loads, LD_ABS/LD_IND, helper copies). */
  readonly packetLoads: number;
  readonly helperCalls: number;
  /** cBPF instruction instances after unrolling backward jumps (= reachable cBPF instructions without loops). */
  readonly cbpfInstances: number;
}

export interface TranslateResult {
  readonly target: Target;
  readonly mode: TranslateMode;
  /** The program with symbolic labels; each instruction's `meta` is its Provenance. */
  readonly insns: readonly AsmItem[];
  /** Assembled slots (labels resolved). */
  readonly program: Assembled;
  /** For each cBPF index, the eBPF slot indices made from it (empty when unreachable). */
  readonly byCbpf: readonly (readonly number[])[];
  /** For each eBPF slot, the cBPF index it came from, or null for prologue/guard/epilogue. */
  readonly cbpfOfSlot: readonly (number | null)[];
  /** For each eBPF slot, its provenance (the second slot of an ld_imm64 repeats the first). */
  readonly provenance: readonly Provenance[];
  readonly stats: TranslateStats;
  /** BPF_PROG_TYPE_*: socket 1, kprobe 2, tc 3, xdp 6. */
  readonly progType: number;
  readonly expectedAttachType?: number;
  /** Stack bytes used below r10, including the host's `stackBase`. */
  readonly stackDepth: number;
  /** Human-readable remarks (semantic caveats that apply to this program). */
  readonly notes: readonly string[];
  /** The register convention actually used. */
  readonly abi: TranslateAbi;
}
