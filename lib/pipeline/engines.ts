/**
 * The seam between the pipeline and the engines it drives: cBPF → eBPF translation, the verifier
 * emulator and the eBPF interpreter's contexts. Each is optional so that the pipeline still
 * shows everything else while one is missing or broken; the panes then say what is unavailable.
 */
import type { CbpfInsn } from "../cbpf/insn";
import type { Assembled, ContextSpec } from "../ebpf";
import { kprobeSkbContext } from "../ebpf";
import type { Target, TranslateResult } from "../translate/types";

/** What the pipeline needs from the verifier emulator. */
export interface EmulationResult {
  text: string;
  accepted: boolean;
  /** Why the verifier refused, in its words and in plain language. */
  error?: { message: string; insn: number | null; summary: string; hint: string };
}

export interface Engines {
  translate?: (cbpf: readonly CbpfInsn[], target: Target) => TranslateResult;
  emulate?: (program: Assembled, progType: number, target: Target) => EmulationResult;
}

/** Where the network header starts for the link types the UI offers (SKF_NET_OFF loads). */
export function networkOffset(dlt: number): number {
  switch (dlt) {
    case 1: // EN10MB
      return 14;
    case 0: // NULL
    case 108: // LOOP
      return 4;
    case 113: // LINUX_SLL
      return 16;
    case 276: // LINUX_SLL2
      return 20;
    default:
      return 0;
  }
}

/** The context a translated program of `target` sees for one captured frame. */
export function contextFor(target: Target, packet: Uint8Array, dlt: number): ContextSpec {
  const networkOffsetBytes = networkOffset(dlt);
  switch (target) {
    case "xdp":
      return { kind: "xdp", packet };
    case "kprobe":
      return kprobeSkbContext({ packet, networkOffset: networkOffsetBytes });
    default:
      return { kind: target, packet, dataOffset: 0, networkOffset: networkOffsetBytes };
  }
}
