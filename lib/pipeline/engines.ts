/**
 * The seam between the pipeline and the engines it drives: cBPF → eBPF translation, the verifier
 * emulator and the eBPF interpreter's contexts. Each is optional so that the pipeline still
 * shows everything else while one is missing or broken; the panes then say what is unavailable.
 */
import type { CbpfInsn } from "../cbpf/insn";
import type { Assembled, ContextSpec } from "../ebpf";
import { kprobeSkbContext } from "../ebpf";
import { PlaygroundError } from "../errors";
import { TARGETS, type Target, type TranslateResult } from "../translate/types";

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

/**
 * The context a translated program of `target` sees for one captured frame, the same for the
 * page, the CLI and the agent. Contexts model a live capture: socket and tc programs see the frame
 * from its MAC header (as on an AF_PACKET socket) and skb->len is the length on the wire, which is
 * what `ld #pktlen` means to libpcap; a kprobe's sk_buff carries the same len. XDP only has the
 * captured bytes (a documented divergence, lib/translate/divergences.ts).
 */
export function contextFor(target: Target, packet: Uint8Array, dlt: number, wireLen: number = packet.length): ContextSpec {
  const networkOffsetBytes = networkOffset(dlt);
  switch (target) {
    case "xdp":
      return { kind: "xdp", packet };
    case "kprobe":
      return kprobeSkbContext({ packet, networkOffset: networkOffsetBytes, len: wireLen });
    default:
      return { kind: target, packet, dataOffset: 0, networkOffset: networkOffsetBytes, fields: { len: wireLen >>> 0 } };
  }
}

/** A target named on a command line or in a message, checked. */
export function targetOf(name: string): Target {
  if (!(TARGETS as readonly string[]).includes(name)) {
    throw new PlaygroundError("run/target", `unknown target "${name}" (${TARGETS.join(", ")})`);
  }
  return name as Target;
}
