"use client";
/** The top bar: the filter box and the controls of the settings, the view and sharing. */
import { useCallback, useMemo, useRef } from "react";
import type * as Monaco from "monaco-editor/editor";
import { useHub, useSignal, useTopic, useTopicPart } from "../events";
import { TARGETS, type Settings } from "../settings";
import { COMMON_DLTS } from "../dlts";
import { FilterEditor, type FilterError } from "./FilterEditor";
import { AgentStatus } from "./AgentPanel";

/** The filter editor and libpcap's error under it. */
export function FilterBox() {
  const hub = useHub();
  const filter = useTopicPart("settings", (s) => s.filter);
  const revision = useTopic("filter.revision");
  const compiled = useTopic("compile.last");
  const hasGood = useTopicPart("compile.good", (g) => g !== null);
  const presenter = useTopic("view.presenter");
  const editor = useRef<Monaco.editor.IStandaloneCodeEditor | null>(null);
  useSignal("filter.focus", () => editor.current?.focus());
  const onChange = useCallback((v: string) => hub.emit("filter.edit", v), [hub]);
  const onEditor = useCallback((e: Monaco.editor.IStandaloneCodeEditor | null) => (editor.current = e), []);

  // libpcap's error, only while it is about the text in the editor.
  const error: FilterError | null = useMemo(() => {
    if (!compiled || compiled.response.ok || compiled.params.filter !== filter) return null;
    const r = compiled.response;
    const loc = r.location ?? { start: 0, end: filter.length };
    return { message: r.error, start: loc.start, end: loc.end };
  }, [compiled, filter]);
  const stale = !!compiled && !compiled.response.ok;

  return (
    <div className="filter-box">
      <FilterEditor value={filter} revision={revision} onChange={onChange} error={error} fontSize={presenter ? 20 : 14} onEditor={onEditor} />
      {error && (
        <div className="filter-status" data-testid="filter-error" data-start={error.start} data-end={error.end}>
          libpcap: {error.message}
          {stale && hasGood ? " — showing the last filter that compiled" : ""}
        </div>
      )}
    </div>
  );
}

/** Link type, snaplen, optimizer, target, and the view's buttons. */
export function Controls() {
  const hub = useHub();
  const dlt = useTopicPart("settings", (s) => s.dlt);
  const snaplen = useTopicPart("settings", (s) => s.snaplen);
  const optimize = useTopicPart("settings", (s) => s.optimize);
  const target = useTopicPart("settings", (s) => s.target);
  const rainbow = useTopic("view.rainbow");
  const presenter = useTopic("view.presenter");
  const theme = useTopic("view.theme");
  const set = (part: Partial<Settings>) => hub.update("settings", (s) => ({ ...s, ...part }));
  return (
    <div className="controls">
      <label className="ctl" title="Link-layer type (tcpdump -y)">
        link
        <select value={dlt} onChange={(e) => set({ dlt: Number(e.target.value) })} data-testid="dlt-select">
          {COMMON_DLTS.some((d) => d.dlt === dlt) ? null : <option value={dlt}>DLT {dlt}</option>}
          {COMMON_DLTS.map((d) => (
            <option key={d.dlt} value={d.dlt}>
              {d.name}
            </option>
          ))}
        </select>
      </label>
      <label className="ctl" title="Snapshot length: the value ret returns on a match (tcpdump -s)">
        snaplen
        <input
          type="number"
          min={1}
          max={262144}
          value={snaplen}
          onChange={(e) => set({ snaplen: Math.max(1, Math.min(0x7fffffff, Math.floor(Number(e.target.value) || 1))) })}
          data-testid="snaplen"
        />
      </label>
      <button className="btn" aria-pressed={optimize} onClick={() => hub.update("settings", (s) => ({ ...s, optimize: !s.optimize }))} title="libpcap's optimizer (off = tcpdump -O) (Alt+O)" data-testid="optimize">
        optimize
      </button>
      <div className="seg" role="group" aria-label="target" title="eBPF target (Alt+1…4)">
        {TARGETS.map((t) => (
          <button key={t} aria-pressed={target === t} onClick={() => set({ target: t })} data-testid={`target-${t}`}>
            {t}
          </button>
        ))}
      </div>
      <button className="btn" aria-pressed={rainbow} onClick={() => hub.update("view.rainbow", (r) => !r)} title="A colour per cBPF instruction (Alt+R)" data-testid="rainbow">
        rainbow
      </button>
      <button className="btn" onClick={() => hub.emit("share.make", undefined)} title="Copy a link that reproduces this page (Alt+S)" data-testid="share">
        share
      </button>
      <button className="btn" aria-pressed={presenter} onClick={() => hub.update("view.presenter", (p) => !p)} onContextMenu={(e) => (e.preventDefault(), hub.publish("overlay", "presenter"))} title="Presenter mode (Alt+P); right-click to choose panes" data-testid="presenter">
        present
      </button>
      <button className="icon-btn" onClick={() => hub.publish("overlay", "presenter")} title="Choose the panes shown in presenter mode">
        ⚙
      </button>
      <button className="icon-btn" onClick={() => hub.update("view.theme", (t) => (t === "dark" ? "light" : "dark"))} title="Light / dark (Alt+T)" data-testid="theme">
        {theme === "dark" ? "☾" : "☀"}
      </button>
      <button className="icon-btn" onClick={() => hub.publish("overlay", "help")} title="Keyboard shortcuts (?)" data-testid="help">
        ?
      </button>
      <AgentStatus />
    </div>
  );
}

/** The product's mark; its name is left out in presenter mode. */
export function Brand() {
  const presenter = useTopic("view.presenter");
  return (
    <div className="brand" title="BPF Playground">
      <svg viewBox="0 0 32 32" aria-hidden="true">
        <path d="M6 9h20l-7 8v7l-6 3V17z" fill="none" stroke="var(--accent)" strokeWidth="2.4" strokeLinejoin="round" />
      </svg>
      {!presenter && <span>BPF Playground</span>}
    </div>
  );
}
