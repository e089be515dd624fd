/**
 * The editor's settings and the values the page starts with: what the hub is seeded with, so
 * every pane reads a real value from its first render.
 */
import type { Target } from "../../lib/pipeline";
import type { CbpfInsn } from "../../lib/cbpf/insn";
import type { CompileParams } from "./compile-client";
import { EventHub, type IdeTopics } from "./events";
import { loadJson, loadString } from "./layout/storage";
import { agentAtStart } from "./panes/AgentPanel";
import { LIVE_IDLE } from "./hooks/use-live";
import { PRESENTER_PANES, type PaneId } from "./panes/registry";

export interface Settings {
  filter: string;
  dlt: number;
  snaplen: number;
  optimize: boolean;
  target: Target;
}

/** A filter libpcap accepted, with what it was compiled for. */
export interface GoodCompile {
  params: CompileParams;
  insns: CbpfInsn[];
  libpcap: string;
}

export const DEFAULT_SETTINGS: Settings = { filter: "tcp port 80", dlt: 1, snaplen: 262144, optimize: true, target: "socket" };
export const TARGETS: Target[] = ["socket", "tc", "xdp", "kprobe"];

export function validSettings(s: Partial<Settings>): Settings {
  const out = { ...DEFAULT_SETTINGS };
  if (typeof s.filter === "string") out.filter = s.filter;
  if (typeof s.dlt === "number" && Number.isInteger(s.dlt) && s.dlt >= 0) out.dlt = s.dlt;
  if (typeof s.snaplen === "number" && Number.isInteger(s.snaplen) && s.snaplen > 0) out.snaplen = s.snaplen;
  if (typeof s.optimize === "boolean") out.optimize = s.optimize;
  if (s.target && TARGETS.includes(s.target)) out.target = s.target;
  return out;
}

/** The page's hub, seeded from storage and the URL (the agent's address). Called once. */
export function createIdeHub(): EventHub {
  const initial: IdeTopics = {
    "inject.result": null,
    "inject.loaded": null,
    settings: validSettings(loadJson<Partial<Settings>>("settings", {})),
    "filter.revision": 0,
    "compile.last": null,
    "compile.good": null,
    worker: null,
    "pipeline.input": null,
    "pipeline.result": null,
    timing: { compileMs: null, workerMs: null, ebpfMs: null, screenMs: null },
    fatal: null,
    capture: null,
    "capture.loading": null,
    "capture.error": null,
    samples: [],
    "share.view": null,
    "packet.selected": null,
    "packet.detail": null,
    "debug.engine": "cbpf",
    "debug.snapshot": null,
    "debug.breakpoints": { cbpf: [], ebpf: [] },
    agent: agentAtStart(),
    "kernel.view": null,
    live: LIVE_IDLE,
    "kernel.verdicts": null,
    "view.cbpfTab": "d",
    "view.rainbow": loadString("rainbow") === "1",
    "view.theme": document.documentElement.dataset.theme === "light" ? "light" : "dark",
    "view.presenter": false,
    "view.presenterPanes": { ...PRESENTER_PANES, ...loadJson<Partial<Record<PaneId, boolean>>>("presenter", {}) },
    overlay: null,
  };
  return new EventHub(initial);
}
