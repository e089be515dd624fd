/**
 * The vocabulary of injection: which host, which stub, how the filter reads the packet there, and
 * what a splice returns. Shared by lib/inject (which builds it), the diff (which aligns the two
 * streams), the agent (which loads the patched object) and the CLI.
 */
import type { CbpfInsn } from "../cbpf/insn";
import type { BpfObject } from "../elf";
import type { TranslateResult } from "../translate";

/** The project's host programs (bpf/*.c). `skb` traces skbs (raw tracepoint, or fentry where allowed). */
export type HostKind = "xdp" | "tc" | "skb";
export const HOST_KINDS: readonly HostKind[] = ["xdp", "tc", "skb"];

/** Where a stub's `data` argument points: the frame's first byte (L2) or the network header (L3). */
export type StubLayer = "l2" | "l3";

/**
 * How the spliced filter reads packet bytes, chosen by the program type the host's section
 * implies:
 * - "direct": loads through packet pointers, each behind a bounds check (xdp, tc);
 * - "probe_read_kernel": `bpf_probe_read_kernel` from kernel addresses (tracing);
 * - "skb_load_bytes": `bpf_skb_load_bytes` from the context (socket filters, cgroup skb).
 */
export type AccessMode = "direct" | "probe_read_kernel" | "skb_load_bytes";

export interface StubCall {
  /** The function that calls the stub, and the slot of the call in its section. */
  readonly caller: string;
  readonly sectionIndex: number;
  readonly slot: number;
}

/** A filter stub found in an object, and the checks it passed. */
export interface StubInfo {
  readonly name: string;
  readonly layer: StubLayer;
  /** The program section holding the stub (often .text) and its slots there. */
  readonly sectionIndex: number;
  readonly section: string;
  readonly start: number;
  readonly slots: number;
  readonly calls: readonly StubCall[];
}

/** One instruction of a stream as the diff sees it. */
export interface StreamInsn {
  /** Slot in its section (an ld_imm64 takes two; the second is not listed). */
  readonly slot: number;
  /** Kernel-style text without the `N: (op)` prefix, jump targets written as labels. */
  readonly text: string;
  /** A jump's or call's target as "section:slot", so the diff compares targets, not offsets. */
  readonly target?: string;
  /** Spliced instructions: the cBPF instruction it came from (null: guard, prologue or epilogue). */
  readonly cbpf?: number | null;
  /** The symbol a relocation at this instruction names (a map, a global, a called function): an anchor. */
  readonly reloc?: string;
}

/** One program section of an object, as a list of instructions. */
export interface Stream {
  readonly section: string;
  readonly sectionIndex: number;
  readonly insns: readonly StreamInsn[];
}

export interface InjectRequest {
  /** The host object, read (lib/elf) or as file bytes. */
  readonly object: BpfObject | Uint8Array;
  /** The filter as libpcap compiled it, for the stub's link type (see `linkTypeOf`). */
  readonly cbpf: readonly CbpfInsn[];
  /** DLT the filter was compiled for: EN10MB (1) for an L2 stub, RAW (12) for an L3 stub. */
  readonly linkType: number;
  /** The stub's symbol; default: the object's only stub, or filter_pcap_ebpf_l2. */
  readonly stub?: string;
}

export interface InjectResult {
  readonly object: BpfObject;
  /** The patched object file, ready for the loader (libbpf, bpftool, ip link). */
  readonly bytes: Uint8Array;
  readonly stub: StubInfo;
  readonly access: { readonly mode: AccessMode; readonly reason: string };
  readonly translation: TranslateResult;
  /** Every program section before and after, in section order. */
  readonly before: readonly Stream[];
  readonly after: readonly Stream[];
  /**
   * Where each instruction of `before` sits in `after` (per section index: before slot → after
   * slot, null where the splice removed it); and the inserted range in the stub's section.
   * A jump or call to the stub's first slot still goes to that slot (where the filter now
   * starts), not to where the stub's old first instruction moved: targets map through `moved`
   * except the stub's entry.
   */
  readonly moved: ReadonlyMap<number, readonly (number | null)[]>;
  readonly inserted: { readonly sectionIndex: number; readonly start: number; readonly slots: number };
  readonly notes: readonly string[];
}

/**
 * Why a filter cannot go in. Every refusal is a PlaygroundError with code `inject/<reason>` and a
 * message that says what to change.
 */
export type InjectRefusal =
  | "no-stub" // no function of that name, or several candidates and none named
  | "stub-not-static" // a global stub is verified alone: packet pointers lose their type
  | "stub-signature" // not five arguments (BTF func proto), or not the ABI's shape
  | "stub-not-called" // nothing calls it: the filter would never run
  | "wrong-layer" // an L2 filter (link type EN10MB) in an L3 stub, or the reverse
  | "stack" // the filter's stack plus the host's exceeds 512 bytes
  | "range" // a jump or call offset would no longer fit after the splice
  | "ext-info" // the patched object would break the kernel's func_info/line_info rules
  | "unsupported-program"; // a program type none of the access modes serves
