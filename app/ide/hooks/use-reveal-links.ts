"use client";
/**
 * The listings' side of the "cbpf.reveal" and "ebpf.reveal" signals (a diff row names the cBPF
 * instruction or eBPF slot it came from): each becomes the linked selection, so every listing
 * scrolls to it and marks it, the way a click inside a listing links the others.
 */
import { linkStore } from "../link-store";
import { useHub, useSignal } from "../events";

export function useRevealLinks(): void {
  const hub = useHub();
  useSignal("cbpf.reveal", ({ index }) => linkStore.setSelected({ origin: "cbpf", line: index, external: true }));
  useSignal("ebpf.reveal", ({ slot }) => {
    const line = hub.get("pipeline.result")?.ebpf?.lineOfSlot[slot];
    if (line !== undefined) linkStore.setSelected({ origin: "ebpf", line, external: true });
  });
}
