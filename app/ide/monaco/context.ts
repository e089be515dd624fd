/**
 * What the language providers need to know about the listings on screen (hover shows the real
 * encoding of the instruction under the mouse, the provenance of an eBPF line, the role of a
 * register). Panes write it; providers read it.
 */
import type { CbpfInsn } from "../../../lib/cbpf/insn";
import type { EbpfView } from "../../../lib/pipeline";

export const listingContext: {
  cbpf: readonly CbpfInsn[] | null;
  ebpf: EbpfView | null;
} = { cbpf: null, ebpf: null };
