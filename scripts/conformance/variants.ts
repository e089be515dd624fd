/**
 * The engine variants a conformance run compares with tcpdump, and the one rule for when a
 * disagreement is acceptable: a documented divergence (lib/translate/divergences.ts) applies.
 */
import type { Engine } from "../../server/run-capture";
import type { CbpfInsn } from "../../lib/cbpf";
import type { CapturedPacket } from "../../lib/pcap";
import { divergencesFor, type Target } from "../../lib/translate";

export interface Variant {
  engine: Engine;
  target: Target;
  label: string;
}

export const cbpfVariant: Variant = { engine: "cbpf", target: "socket", label: "cbpf" };

export function ebpfVariants(): Variant[] {
  return (["socket", "tc", "xdp", "kprobe"] as const).map((target) => ({ engine: "ebpf", target, label: `ebpf/${target}` }));
}

export function kernelVariants(): Variant[] {
  return (["socket", "tc", "xdp"] as const).map((target) => ({ engine: "kernel", target, label: `kernel/${target}` }));
}

/** Codes with which an engine declines a program or link type it cannot run, with the reason. */
export const REFUSAL_CODES = new Set(["translate/unsupported", "run/kernel-target", "kernel/test-run-too-large"]);

/** The ids of the documented divergences that explain a different verdict, or [] if none does. */
export function explainedBy(variant: Variant, prog: readonly CbpfInsn[], packet: CapturedPacket): string[] {
  if (variant.engine === "cbpf") return [];
  // BPF_PROG_TEST_RUN builds the skb from the captured bytes, so `len` is the captured length there.
  const lenSeen = variant.engine === "kernel" ? packet.data.length : undefined;
  return divergencesFor({ prog, target: variant.target, packet: packet.data, wireLen: packet.origLen, lenSeen }).map((d) => d.id);
}
