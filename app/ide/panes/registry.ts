"use client";
/**
 * Every pane of the page, in layout order: its module, where it sits, its default share of its
 * row, its names and whether presenter mode shows it by default. A new pane is its module (which
 * reads the topics it shows, events.ts) and one entry here; Ide.tsx lays them out from this list.
 */
import type { ComponentType } from "react";
import { CbpfPane, EbpfPane, TracePane } from "./ListingPanes";
import { PacketsPane } from "./PacketsPane";
import { DetailPane } from "./DetailPane";
import { DebuggerPane } from "./DebuggerPane";
import { KernelPane } from "./AgentPanel";
import { InjectPane } from "./InjectPane";
import { DiffPane } from "./DiffPane";
import { LivePane } from "./LivePane";

export interface PaneSpec {
  Component: ComponentType;
  /** The top row, the bottom row, the column at the bottom row's right, or the folding patch row under them. */
  place: "top" | "bottom" | "side" | "patch";
  /** Default weight in its row (a user's dragged sizes are kept in storage). */
  weight: number;
  /** The pane's error boundary names it so. */
  title: string;
  /** The presenter dialog names it so. */
  label: string;
  /** Shown in presenter mode until the user chooses. */
  presenter: boolean;
}

export const PANES = {
  cbpf: { Component: CbpfPane, place: "top", weight: 30, title: "cBPF", label: "cBPF listing", presenter: true },
  ebpf: { Component: EbpfPane, place: "top", weight: 36, title: "eBPF", label: "eBPF listing", presenter: true },
  trace: { Component: TracePane, place: "top", weight: 34, title: "Verifier trace", label: "verifier trace", presenter: false },
  packets: { Component: PacketsPane, place: "bottom", weight: 44, title: "Packets", label: "packets", presenter: true },
  detail: { Component: DetailPane, place: "bottom", weight: 31, title: "Packet", label: "packet detail", presenter: false },
  debugger: { Component: DebuggerPane, place: "side", weight: 60, title: "Debugger", label: "debugger", presenter: false },
  kernel: { Component: KernelPane, place: "side", weight: 40, title: "Kernel", label: "kernel", presenter: false },
  inject: { Component: InjectPane, place: "patch", weight: 34, title: "Inject", label: "inject", presenter: false },
  diff: { Component: DiffPane, place: "patch", weight: 40, title: "Diff", label: "instruction diff", presenter: false },
  live: { Component: LivePane, place: "patch", weight: 34, title: "Live", label: "live attach", presenter: true },
} satisfies Record<string, PaneSpec>;

export type PaneId = keyof typeof PANES;

export const PANE_IDS = Object.keys(PANES) as PaneId[];

/** Which panes each mode shows by default: all of them, and presenter mode's choice. */
export const ALL_PANES = Object.fromEntries(PANE_IDS.map((id) => [id, true])) as Record<PaneId, boolean>;
export const PRESENTER_PANES = Object.fromEntries(PANE_IDS.map((id) => [id, PANES[id].presenter])) as Record<PaneId, boolean>;
