/**
 * Linked highlighting across the listings, as in Compiler Explorer: whatever instruction the user
 * points at (hover) or last clicked (selection) in one listing is resolved, through the
 * translation's provenance, to the lines it corresponds to in every listing.
 */
import { useSyncExternalStore } from "react";
import type { EbpfView, TraceView } from "../../lib/pipeline";

export type LinkOrigin = "cbpf" | "ebpf" | "trace" | "kernel";

export interface LinkFocus {
  origin: LinkOrigin;
  /** 0-based line in the origin listing. */
  line: number;
  /**
   * Set from outside the listings (a diff row): then the origin listing scrolls to the line too,
   * where a click inside a listing scrolls only the others.
   */
  external?: boolean;
}

type Listener = () => void;

class LinkStore {
  private hover: LinkFocus | null = null;
  private selected: LinkFocus | null = null;
  private readonly listeners = new Set<Listener>();
  private snapshot: LinkFocus | null = null;

  subscribe = (l: Listener): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  get = (): LinkFocus | null => this.snapshot;

  private emit(): void {
    const next = this.hover ?? this.selected;
    if (next?.origin === this.snapshot?.origin && next?.line === this.snapshot?.line && next?.external === this.snapshot?.external) return;
    this.snapshot = next;
    for (const l of this.listeners) l();
  }

  setHover(f: LinkFocus | null): void {
    this.hover = f;
    this.emit();
  }

  setSelected(f: LinkFocus | null): void {
    this.selected = f;
    this.emit();
  }

  selectedFocus(): LinkFocus | null {
    return this.selected;
  }
}

export const linkStore = new LinkStore();

export function useLinkFocus(): LinkFocus | null {
  return useSyncExternalStore(linkStore.subscribe, linkStore.get, () => null);
}

export interface LinkedLines {
  cbpf: number[];
  ebpf: number[];
  trace: number[];
  /** Lines of the kernel's verifier log, when the agent supplied one. */
  kernel: number[];
}

const EMPTY: LinkedLines = { cbpf: [], ebpf: [], trace: [], kernel: [] };

/** Resolve a focus to the lines of every listing. */
export function resolveLinks(focus: LinkFocus | null, ebpf: EbpfView | null, trace: TraceView | null, kernelSlots: readonly (number | null)[] = []): LinkedLines {
  if (!focus) return EMPTY;
  let cbpfIndex: number | null = null;
  let ebpfLines: number[] = [];
  if (focus.origin === "cbpf") cbpfIndex = focus.line;
  else {
    let eline: number | undefined;
    if (focus.origin === "ebpf") eline = focus.line;
    else {
      const slot = focus.origin === "kernel" ? kernelSlots[focus.line] : trace?.slotOfLine[focus.line];
      if (slot !== null && slot !== undefined) eline = ebpf?.lineOfSlot[slot];
    }
    if (eline === undefined || !ebpf) return focus.origin === "trace" ? { ...EMPTY, trace: [focus.line] } : focus.origin === "kernel" ? { ...EMPTY, kernel: [focus.line] } : EMPTY;
    const prov = ebpf.provenance[eline];
    if (prov?.origin === "cbpf") cbpfIndex = prov.index;
    else ebpfLines = [eline];
  }
  if (cbpfIndex !== null && ebpf) ebpfLines = ebpf.linesByCbpf[cbpfIndex] ?? [];
  const slots = new Set(ebpfLines.map((l) => ebpf?.slotOfLine[l]));
  const traceLines: number[] = [];
  if (trace) trace.slotOfLine.forEach((s, i) => s !== null && slots.has(s) && traceLines.push(i));
  const kernelLines: number[] = [];
  kernelSlots.forEach((s, i) => s !== null && slots.has(s) && kernelLines.push(i));
  return { cbpf: cbpfIndex === null ? [] : [cbpfIndex], ebpf: ebpfLines, trace: traceLines, kernel: kernelLines };
}
