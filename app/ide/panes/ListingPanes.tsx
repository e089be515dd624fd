"use client";
/** The three listings: cBPF (tcpdump -d/-dd/-ddd), the translated eBPF, and the verifier trace. */
import { useCallback, useMemo, memo } from "react";
import type { CbpfView, EbpfView, TraceView, Target } from "../../../lib/pipeline";
import { ensureModel } from "../monaco/CodeView";
import { LANG } from "../monaco/languages";
import { resolveLinks, useLinkFocus, type LinkedLines } from "../link-store";
import { Listing, type LineDeco } from "./Listing";
import type { DebugSnapshot } from "../worker/protocol";
import { AgentNeeded, type AgentInfo } from "./AgentPanel";
import { useHub, useTopic, useTopicPart } from "../events";
import { useFontSize } from "../hooks/use-view";
import { useKernelLogView } from "../hooks/use-kernel-log";
import { toggleBreakpoint } from "../hooks/use-debugger";

export type CbpfTab = "d" | "dd" | "ddd";

export const CBPF_URI = (tab: CbpfTab) => `inmemory://bpf-playground/cbpf.${tab}`;
export const EBPF_URI = "inmemory://bpf-playground/ebpf.txt";
export const TRACE_URI = "inmemory://bpf-playground/trace.log";

const rb = (i: number) => `rb-${i % 12}`;

interface CommonProps {
  /** Which instruction each line of the kernel's log is about (empty without the agent). */
  kernelSlots?: readonly (number | null)[];
  fontSize: number;
  rainbow: boolean;
  ebpf: EbpfView | null;
  trace: TraceView | null;
  debug: DebugSnapshot | null;
}

const NO_SLOTS: readonly (number | null)[] = [];

function useLinked(ebpf: EbpfView | null, trace: TraceView | null, kernelSlots: readonly (number | null)[] = NO_SLOTS): { links: LinkedLines; origin: string | null } {
  const focus = useLinkFocus();
  return useMemo(() => ({ links: resolveLinks(focus, ebpf, trace, kernelSlots), origin: focus?.external ? null : (focus?.origin ?? null) }), [focus, ebpf, trace, kernelSlots]);
}

function merge(decos: Map<number, LineDeco>, line: number, add: Partial<LineDeco>): void {
  const d = decos.get(line) ?? { line };
  for (const k of ["className", "marginClassName", "glyphClassName"] as const) {
    if (add[k]) d[k] = d[k] ? `${d[k]} ${add[k]}` : add[k];
  }
  if (add.after) d.after = add.after;
  decos.set(line, d);
}

interface CbpfProps extends CommonProps {
  view: CbpfView | null;
  tab: CbpfTab;
  onTab: (t: CbpfTab) => void;
  breakpoints: number[];
  onToggleBreakpoint: (line: number) => void;
  stale: boolean;
  libpcap?: string;
}

export const CbpfListing = memo(function CbpfListing({ view, tab, onTab, fontSize, rainbow, ebpf, trace, debug, breakpoints, onToggleBreakpoint, stale, libpcap, kernelSlots }: CbpfProps) {
  const { links, origin } = useLinked(ebpf, trace, kernelSlots);
  const text = view?.text ?? { d: "", dd: "", ddd: "" };
  // Keep all three models current so any of them can be read (tests, automation) whatever the tab.
  ensureModel(CBPF_URI("d"), LANG.cbpf, text.d);
  ensureModel(CBPF_URI("dd"), LANG.cbpfRaw, text.dd);
  ensureModel(CBPF_URI("ddd"), LANG.cbpfRaw, text.ddd);
  const shift = tab === "ddd" ? 1 : 0; // -ddd starts with the instruction count
  const decorations = useMemo(() => {
    const decos = new Map<number, LineDeco>();
    const n = view?.insns.length ?? 0;
    if (rainbow) for (let i = 0; i < n; i++) merge(decos, i + shift, { className: rb(i) });
    for (const l of links.cbpf) merge(decos, l + shift, { className: "link-line", marginClassName: "link-line-margin" });
    for (const b of breakpoints) merge(decos, b + shift, { glyphClassName: "bp-glyph" });
    if (debug?.engine === "cbpf" && !debug.unavailable && debug.steps > 0) merge(decos, debug.pc + shift, { className: "dbg-pc-line", glyphClassName: "dbg-pc-glyph" });
    for (const issue of view?.kernelIssues ?? []) merge(decos, issue.index + shift, { className: "diff-line" });
    return [...decos.values()];
  }, [view, rainbow, links, breakpoints, debug, shift]);
  const reveal = origin !== "cbpf" && links.cbpf.length > 0 ? links.cbpf[0]! + shift : debug?.engine === "cbpf" && debug.steps > 0 ? debug.pc + shift : null;
  return (
    <div className="pane" data-testid="cbpf-pane">
      <div className="pane-head">
        <span className="pane-title">cBPF</span>
        <div className="tabs" role="tablist">
          {(["d", "dd", "ddd"] as const).map((t) => (
            <button key={t} role="tab" aria-selected={tab === t} data-testid={`cbpf-tab-${t}`} onClick={() => onTab(t)} title={`tcpdump -${t}`}>
              -{t}
            </button>
          ))}
        </div>
        <span className="grow" />
        <span className="pane-meta" data-testid="cbpf-meta">
          {view ? `${view.insns.length} insns` : "—"}
          {stale ? " · last good" : ""}
          {view && view.kernelIssues.length > 0 ? ` · kernel would refuse: ${view.kernelIssues[0]!.message}` : ""}
          {libpcap ? ` · ${libpcap.replace(/ \(.*$/, "")}` : ""}
        </span>
      </div>
      <div className="pane-body">
        <Listing
          uri={CBPF_URI(tab)}
          language={tab === "d" ? LANG.cbpf : LANG.cbpfRaw}
          value={text[tab]}
          fontSize={fontSize}
          origin="cbpf"
          decorations={decorations}
          reveal={reveal}
          onGlyphClick={(line) => line - shift >= 0 && onToggleBreakpoint(line - shift)}
        />
      </div>
    </div>
  );
});

interface EbpfProps extends CommonProps {
  target: Target;
  breakpoints: number[];
  onToggleBreakpoint: (slot: number) => void;
}

export const EbpfListing = memo(function EbpfListing({ ebpf, trace, fontSize, rainbow, debug, target, breakpoints, onToggleBreakpoint, kernelSlots }: EbpfProps) {
  const { links, origin } = useLinked(ebpf, trace, kernelSlots);
  const view = ebpf;
  const decorations = useMemo(() => {
    const decos = new Map<number, LineDeco>();
    if (!view) return [];
    view.provenance.forEach((p, line) => {
      if (rainbow && p.origin === "cbpf") merge(decos, line, { className: rb(p.index) });
    });
    for (const l of links.ebpf) merge(decos, l, { className: "link-line", marginClassName: "link-line-margin" });
    for (const slot of breakpoints) {
      const l = view.lineOfSlot[slot];
      if (l !== undefined) merge(decos, l, { glyphClassName: "bp-glyph" });
    }
    if (debug?.engine === "ebpf" && !debug.unavailable && debug.steps > 0) {
      const l = view.lineOfSlot[debug.pc];
      if (l !== undefined) merge(decos, l, { className: "dbg-pc-line", glyphClassName: "dbg-pc-glyph" });
    }
    return [...decos.values()];
  }, [view, rainbow, links, breakpoints, debug]);
  const reveal = origin !== "ebpf" && links.ebpf.length > 0 ? links.ebpf[0]! : debug?.engine === "ebpf" && debug.steps > 0 && view ? (view.lineOfSlot[debug.pc] ?? null) : null;
  const stats = view?.stats;
  return (
    <div className="pane" data-testid="ebpf-pane">
      <div className="pane-head">
        <span className="pane-title">eBPF</span>
        <span className="pane-meta">{target}</span>
        <span className="grow" />
        <span className="pane-meta" data-testid="ebpf-meta">
          {stats ? `${stats.ebpfSlots} slots · ${stats.guards} guards · ${stats.helperCalls} helper calls` : view?.status === "ok" ? `${view.lines.length} insns` : ""}
        </span>
      </div>
      {view && view.status !== "ok" && <div className={`banner ${view.status === "error" ? "bad" : "warn"}`}>{view.message}</div>}
      {view && view.notes.length > 0 && <div className="banner" title={view.notes.join("\n")}>{view.notes[0]}{view.notes.length > 1 ? ` (+${view.notes.length - 1} more)` : ""}</div>}
      <div className="pane-body">
        <Listing
          uri={EBPF_URI}
          language={LANG.ebpf}
          value={view?.text ?? ""}
          fontSize={fontSize}
          origin="ebpf"
          decorations={decorations}
          reveal={reveal}
          onGlyphClick={(line) => {
            const slot = view?.slotOfLine[line];
            if (slot !== undefined) onToggleBreakpoint(slot);
          }}
        />
      </div>
    </div>
  );
});

/** The kernel's log beside the emulator's: lines of it the emulator did not print are marked. */
export interface KernelLogView {
  text: string;
  accepted: boolean;
  errno?: string;
  /** Share of lines the two logs have in common, in order (lib/verifier compareLogs). */
  agreement: number;
  /** 0-based lines of the kernel log that the emulator's log does not contain. */
  differing: number[];
}

export const KERNEL_TRACE_URI = "inmemory://bpf-playground/kernel-trace.log";

interface TraceProps extends CommonProps {
  agent: AgentInfo;
  kernelLog: KernelLogView | null;
}

export const TraceListing = memo(function TraceListing({ ebpf, trace, fontSize, rainbow, debug, agent, kernelLog, kernelSlots }: TraceProps) {
  const { links, origin } = useLinked(ebpf, trace, kernelSlots);
  const kernelDecos = useMemo(() => {
    const decos = new Map<number, LineDeco>();
    for (const line of kernelLog?.differing ?? []) merge(decos, line, { className: "diff-line" });
    for (const l of links.kernel) merge(decos, l, { className: "link-line", marginClassName: "link-line-margin" });
    return [...decos.values()];
  }, [kernelLog, links]);
  const decorations = useMemo(() => {
    const decos = new Map<number, LineDeco>();
    if (!trace) return [];
    if (rainbow && ebpf) {
      trace.slotOfLine.forEach((slot, line) => {
        if (slot === null) return;
        const p = ebpf.provenance[ebpf.lineOfSlot[slot] ?? -1];
        if (p?.origin === "cbpf") merge(decos, line, { className: rb(p.index) });
      });
    }
    for (const l of links.trace) merge(decos, l, { className: "link-line", marginClassName: "link-line-margin" });
    if (debug?.engine === "ebpf" && !debug.unavailable && debug.steps > 0) {
      trace.slotOfLine.forEach((slot, line) => slot === debug.pc && merge(decos, line, { glyphClassName: "dbg-pc-glyph" }));
    }
    return [...decos.values()];
  }, [trace, ebpf, rainbow, links, debug]);
  const reveal = origin !== "trace" && links.trace.length > 0 ? links.trace[0]! : null;
  return (
    <div className="pane" data-testid="trace-pane">
      <div className="pane-head">
        <span className="pane-title">Verifier trace</span>
        <span className="grow" />
        <span className="pane-meta" data-testid="trace-meta">
          {trace?.accepted === true ? "emulator: accepted" : trace?.accepted === false ? "emulator: rejected" : ""}
        </span>
      </div>
      {trace && trace.status !== "ok" && <div className={`banner ${trace.status === "error" ? "bad" : "warn"}`}>{trace.message}</div>}
      {trace?.error && (
        <div className="banner bad" data-testid="trace-explanation" title={trace.error.hint}>
          {trace.error.insn !== null ? `insn ${trace.error.insn}: ` : ""}
          {trace.error.summary} — {trace.error.hint}
        </div>
      )}
      <div className="two-col">
        <div className="col" style={{ flex: agent.connected ? "1 1 50%" : "3 1 70%" }}>
          <div className="col-title">emulated (log_level 2)</div>
          <div className="pane-body">
            <Listing uri={TRACE_URI} language={LANG.log} value={trace?.text ?? ""} fontSize={fontSize} origin="trace" decorations={decorations} reveal={reveal} />
          </div>
        </div>
        <div className="col">
          <div className="col-title" data-testid="kernel-trace-title">
            kernel verifier
            {kernelLog ? ` · ${kernelLog.accepted ? "accepted" : `refused (${kernelLog.errno})`} · ${Math.round(kernelLog.agreement * 100)}% of lines agree` : ""}
          </div>
          {agent.connected && kernelLog ? (
            <div className="pane-body">
              <Listing uri={KERNEL_TRACE_URI} language={LANG.log} value={kernelLog.text} fontSize={fontSize} origin="kernel" decorations={kernelDecos} reveal={origin !== "kernel" && links.kernel.length > 0 ? links.kernel[0]! : null} />
            </div>
          ) : agent.connected ? (
            <div className="pane-note">Waiting for the kernel&apos;s log…</div>
          ) : (
            <AgentNeeded what="the kernel verifier's log, with the differences from the emulator marked" agent={agent} />
          )}
        </div>
      </div>
    </div>
  );
});

/** The listings' common inputs, each read from its topic. */
function useListingInputs() {
  const result = useTopic("pipeline.result");
  const fontSize = useFontSize();
  const rainbow = useTopic("view.rainbow");
  const debug = useTopic("debug.snapshot");
  return { ebpf: result?.ebpf ?? null, trace: result?.trace ?? null, fontSize, rainbow, debug };
}

export function CbpfPane() {
  const hub = useHub();
  const common = useListingInputs();
  const view = useTopicPart("pipeline.result", (r) => r?.cbpf ?? null);
  const tab = useTopic("view.cbpfTab");
  const breakpoints = useTopicPart("debug.breakpoints", (b) => b.cbpf);
  const stale = useTopicPart("compile.last", (c) => !!c && !c.response.ok);
  const libpcap = useTopicPart("compile.good", (g) => g?.libpcap);
  const { kernelSlots } = useKernelLogView();
  const onTab = useCallback((t: CbpfTab) => hub.publish("view.cbpfTab", t), [hub]);
  const onToggle = useCallback((line: number) => toggleBreakpoint(hub, "cbpf", line), [hub]);
  return <CbpfListing {...common} view={view} tab={tab} onTab={onTab} breakpoints={breakpoints} onToggleBreakpoint={onToggle} stale={stale} libpcap={libpcap} kernelSlots={kernelSlots} />;
}

export function EbpfPane() {
  const hub = useHub();
  const common = useListingInputs();
  const target = useTopicPart("settings", (s) => s.target);
  const breakpoints = useTopicPart("debug.breakpoints", (b) => b.ebpf);
  const { kernelSlots } = useKernelLogView();
  const onToggle = useCallback((slot: number) => toggleBreakpoint(hub, "ebpf", slot), [hub]);
  return <EbpfListing {...common} target={target} breakpoints={breakpoints} onToggleBreakpoint={onToggle} kernelSlots={kernelSlots} />;
}

export function TracePane() {
  const common = useListingInputs();
  const agent = useTopic("agent");
  const { kernelLog, kernelSlots } = useKernelLogView();
  return <TraceListing {...common} agent={agent} kernelLog={kernelLog} kernelSlots={kernelSlots} />;
}
