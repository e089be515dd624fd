"use client";
/**
 * The packet list: virtualised (only visible rows exist in the DOM, their text fetched from the
 * worker on demand), one verdict column per engine, mismatches flagged. Opening captures,
 * samples, generating traffic, editing and exporting start here.
 */
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, memo } from "react";
import type { PacketRow, VerdictsView, EngineVerdicts } from "../../../lib/pipeline";
import type { PipelineClient } from "../worker/client";
import { useHub, useTopic, useTopicPart } from "../events";

export interface Sample {
  file: string;
  title: string;
  description?: string;
}

export type ListMode = "all" | "matched" | "mismatches";

interface Props {
  client: PipelineClient | null;
  captureKey: number;
  captureName: string | null;
  count: number;
  verdicts: VerdictsView | null;
  selected: number | null;
  onSelect: (index: number) => void;
  loading: { name: string; progress: number } | null;
  loadError: string | null;
  samples: Sample[];
  onOpenFile: () => void;
  onSample: (s: Sample) => void;
  onGenerate: () => void;
  onExport: (which: "matched-cbpf" | "matched-ebpf" | "all") => void;
  onEdit: (mode: "edit" | "new") => void;
  onDelete: () => void;
  agentConnected: boolean;
  /** BPF_PROG_TEST_RUN results from the agent, when connected. */
  kernelVerdicts: EngineVerdicts | null;
  rowHeight: number;
}

const CHUNK = 200;

function cell(v: EngineVerdicts | undefined, i: number): { text: string; cls: string; title: string } {
  if (!v || v.status !== "ok") return { text: "", cls: "v", title: v?.message ?? "not run" };
  const run = v.runs[i];
  if (run === 1) {
    const val = v.values[i]!;
    return val !== 0 ? { text: "✓", cls: "v yes", title: `returns ${val}` } : { text: "·", cls: "v no", title: "returns 0 (no match)" };
  }
  if (run === 2) return { text: "!", cls: "v err", title: v.firstError ?? "error" };
  if (run === 3) return { text: "–", cls: "v no", title: "another link type than the filter's" };
  return { text: "", cls: "v", title: "not run" };
}

export const PacketsView = memo(function PacketsView(props: Props) {
  const { client, captureKey, count, verdicts, selected, onSelect, rowHeight } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const [viewport, setViewport] = useState({ top: 0, height: 400 });
  const [mode, setMode] = useState<ListMode>("all");
  const rows = useRef(new Map<number, PacketRow>());
  const pending = useRef(new Set<number>());
  const [, setVersion] = useState(0);

  // Rows belong to one capture: forget them when it changes.
  useEffect(() => {
    rows.current.clear();
    pending.current.clear();
    setVersion((v) => v + 1);
  }, [captureKey]);

  const kv = props.kernelVerdicts;
  // Mismatches: cBPF against eBPF (the pipeline), and against the kernel when it ran the packets.
  const mismatches = useMemo((): Uint32Array => {
    const base = verdicts?.mismatches ?? new Uint32Array(0);
    const cv = verdicts?.cbpf;
    if (!kv || kv.status !== "ok" || !cv || cv.status !== "ok") return base;
    const set = new Set(base);
    for (let i = 0; i < kv.runs.length; i++) {
      const rk = kv.runs[i]!;
      const rc = cv.runs[i]!;
      if (rk === 0 || rk === 3 || rc === 0 || rc === 3) continue;
      if (rk !== rc || (kv.values[i] !== 0) !== (cv.values[i] !== 0)) set.add(i);
    }
    return set.size === base.length ? base : Uint32Array.from([...set].sort((a, b) => a - b));
  }, [verdicts, kv]);
  const mismatchSet = useMemo(() => new Set(mismatches), [mismatches]);

  // The indices shown, in order: everything, the cBPF matches, or the mismatches.
  const shown = useMemo((): Uint32Array | null => {
    if (mode === "all" || !verdicts) return null;
    if (mode === "mismatches") return mismatches;
    const out: number[] = [];
    const v = verdicts.cbpf;
    for (let i = 0; i < v.runs.length; i++) if (v.runs[i] === 1 && v.values[i] !== 0) out.push(i);
    return Uint32Array.from(out);
  }, [mode, verdicts, mismatches]);
  const total = shown ? shown.length : count;
  const indexAt = useCallback((pos: number) => (shown ? shown[pos]! : pos), [shown]);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const update = () => setViewport({ top: el.scrollTop, height: el.clientHeight });
    update();
    const ro = new ResizeObserver(update);
    ro.observe(el);
    el.addEventListener("scroll", update, { passive: true });
    return () => {
      ro.disconnect();
      el.removeEventListener("scroll", update);
    };
  }, []);

  const first = Math.max(0, Math.floor(viewport.top / rowHeight) - 1);
  const last = Math.min(total, Math.ceil((viewport.top + viewport.height) / rowHeight) + 1);

  // Fetch the rows of the visible window that we do not have yet, a chunk at a time.
  useEffect(() => {
    if (!client) return;
    const need = new Set<number>();
    for (let pos = first; pos < last; pos++) {
      const i = indexAt(pos);
      if (!rows.current.has(i)) need.add(Math.floor(i / CHUNK));
    }
    const key = captureKey;
    for (const chunk of need) {
      if (pending.current.has(chunk)) continue;
      pending.current.add(chunk);
      void client.rows(chunk * CHUNK, chunk * CHUNK + CHUNK).then((got) => {
        pending.current.delete(chunk);
        if (key !== captureKey) return;
        for (const r of got) rows.current.set(r.index, r);
        setVersion((v) => v + 1);
      });
    }
  }, [client, first, last, indexAt, captureKey]);

  // Keep the selected packet in view when it changes from elsewhere (keys, mismatch navigation).
  useEffect(() => {
    const el = scroller.current;
    if (!el || selected === null) return;
    const pos = shown ? shown.indexOf(selected) : selected;
    if (pos < 0) return;
    const y = (pos + 1) * rowHeight;
    if (y - rowHeight < el.scrollTop + rowHeight) el.scrollTop = Math.max(0, y - 2 * rowHeight);
    else if (y > el.scrollTop + el.clientHeight) el.scrollTop = y - el.clientHeight + rowHeight;
  }, [selected, shown, rowHeight]);

  const onKey = (e: React.KeyboardEvent) => {
    if (total === 0) return;
    const pos = selected === null ? -1 : shown ? shown.indexOf(selected) : selected;
    let next = pos;
    if (e.key === "ArrowDown" || e.key === "j") next = Math.min(total - 1, pos + 1);
    else if (e.key === "ArrowUp" || e.key === "k") next = Math.max(0, pos - 1);
    else if (e.key === "PageDown") next = Math.min(total - 1, pos + Math.floor(viewport.height / rowHeight));
    else if (e.key === "PageUp") next = Math.max(0, pos - Math.floor(viewport.height / rowHeight));
    else if (e.key === "Home") next = 0;
    else if (e.key === "End") next = total - 1;
    else return;
    e.preventDefault();
    onSelect(indexAt(next));
  };

  const items = [];
  for (let pos = first; pos < last; pos++) {
    const i = indexAt(pos);
    const r = rows.current.get(i);
    const c = cell(verdicts?.cbpf, i);
    const e = cell(verdicts?.ebpf, i);
    const k = kv ? cell(kv, i) : null;
    const mm = mismatchSet.has(i);
    items.push(
      <div
        key={i}
        className={`prow${selected === i ? " sel" : ""}${mm ? " mismatch" : ""}`}
        style={{ top: (pos + 1) * rowHeight }}
        onMouseDown={() => onSelect(i)}
        data-index={i}
        title={mm ? "the engines disagree on this packet" : undefined}
      >
        <span className="num">{i + 1}</span>
        <span className="num">{r ? r.time.toFixed(6) : ""}</span>
        <span className="num">{r ? (r.caplen === r.origLen ? r.origLen : `${r.caplen}/${r.origLen}`) : ""}</span>
        <span>{r?.summary ?? ""}</span>
        <span className={c.cls} title={c.title}>{c.text}</span>
        <span className={e.cls} title={e.title}>{e.text}</span>
        {k ? (
          <span className={k.cls} title={k.title}>{k.text}</span>
        ) : (
          <span className="v no" title={props.agentConnected ? "waiting for the kernel" : "connect the agent to run packets in the kernel"}>{props.agentConnected ? "" : "–"}</span>
        )}
      </div>,
    );
  }

  const cv = verdicts?.cbpf;
  const ev = verdicts?.ebpf;
  return (
    <div className="pane" data-testid="packets-pane">
      <div className="pane-head">
        <span className="pane-title">Packets</span>
        <span className="pane-meta" title={props.captureName ?? ""}>{props.captureName ?? "no capture"}</span>
        <span className="grow" />
        <div className="tabs">
          {(["all", "matched", "mismatches"] as const).map((m) => (
            <button key={m} aria-selected={mode === m} onClick={() => setMode(m)} data-testid={`list-${m}`}>
              {m}
            </button>
          ))}
        </div>
        <button className="icon-btn" onClick={props.onOpenFile} title="Open a pcap or pcapng file (Ctrl+O), or drop one on the page">
          Open…
        </button>
        <select
          className="icon-btn"
          value=""
          onChange={(e) => {
            const v = e.target.value;
            if (v === "__gen") props.onGenerate();
            else {
              const s = props.samples.find((x) => x.file === v);
              if (s) props.onSample(s);
            }
          }}
          data-testid="samples"
          title="Sample captures"
        >
          <option value="">Samples…</option>
          {props.samples.map((s) => (
            <option key={s.file} value={s.file}>
              {s.title}
            </option>
          ))}
          <option value="__gen">Generate traffic…</option>
        </select>
        <select
          className="icon-btn"
          value=""
          onChange={(e) => {
            const v = e.target.value;
            if (v === "edit" || v === "new") props.onEdit(v);
            else if (v === "delete") props.onDelete();
            else if (v) props.onExport(v as "matched-cbpf" | "matched-ebpf" | "all");
          }}
          title="Edit and export"
          data-testid="packet-actions"
        >
          <option value="">Packet…</option>
          <option value="edit" disabled={selected === null}>Edit selected (E)</option>
          <option value="new">New packet (N)</option>
          <option value="delete" disabled={selected === null}>Delete selected</option>
          <option value="matched-cbpf">Export cBPF matches as pcap</option>
          <option value="matched-ebpf">Export eBPF matches as pcap</option>
          <option value="all">Export all as pcap</option>
        </select>
      </div>
      {props.loading && (
        <div className="progress" title={`reading ${props.loading.name}`}>
          <div style={{ width: `${Math.round(props.loading.progress * 100)}%` }} />
        </div>
      )}
      {props.loadError && <div className="banner bad">{props.loadError}</div>}
      <div className="plist" ref={scroller} tabIndex={0} onKeyDown={onKey} data-testid="packet-list">
        <div style={{ height: (total + 1) * rowHeight, position: "relative" }}>
          <div className="prow head" style={{ position: "sticky", top: 0 }}>
            <span className="num">No.</span>
            <span className="num">Time</span>
            <span className="num">Len</span>
            <span>Summary</span>
            <span className="v" title="libpcap semantics (what tcpdump -r keeps)">cBPF</span>
            <span className="v" title="the translated program in the eBPF interpreter">eBPF</span>
            <span className="v" title="BPF_PROG_TEST_RUN in the kernel (needs the agent)">kernel</span>
          </div>
          {items}
        </div>
        {count === 0 && !props.loading && (
          <div className="empty">
            Drop a pcap or pcapng file here, <button className="btn" onClick={props.onOpenFile}>open one</button>, or pick a sample.
            <div className="samples">
              {props.samples.map((s) => (
                <button key={s.file} className="btn" onClick={() => props.onSample(s)} title={s.description}>
                  {s.title}
                </button>
              ))}
              <button className="btn" onClick={props.onGenerate}>Generate traffic</button>
            </div>
          </div>
        )}
      </div>
      <div className="statusbar" style={{ borderTop: "1px solid var(--border)" }}>
        <span data-testid="packet-count">{count} packets</span>
        <span data-testid="match-count-cbpf" title="packets the cBPF program accepts">cBPF {cv?.status === "ok" ? cv.matched : "–"}</span>
        <span data-testid="match-count-ebpf" title="packets the translated eBPF program accepts">eBPF {ev?.status === "ok" ? ev.matched : ev?.message === "pending" ? "…" : "–"}</span>
        {kv && (
          <span data-testid="match-count-kernel" title={kv.message ?? "packets the kernel's program accepts (BPF_PROG_TEST_RUN)"}>
            kernel {kv.status === "ok" ? kv.matched : "–"}
          </span>
        )}
        <span data-testid="mismatch-count" style={{ color: verdicts && mismatches.length > 0 ? "var(--bad)" : undefined }}>
          {verdicts ? `${mismatches.length} mismatches` : ""}
        </span>
      </div>
    </div>
  );
});

/** The list of the loaded capture, with the verdicts of every engine (the kernel's too). */
export function PacketsPane() {
  const hub = useHub();
  const capture = useTopic("capture");
  const verdicts = useTopicPart("pipeline.result", (r) => r?.verdicts ?? null);
  const rowHeight = useTopicPart("view.presenter", (p) => (p ? 30 : 22));
  const client = useTopic("worker");
  const selected = useTopic("packet.selected");
  const loading = useTopic("capture.loading");
  const loadError = useTopic("capture.error");
  const samples = useTopic("samples");
  const agentConnected = useTopicPart("agent", (a) => a.connected);
  const kernelVerdicts = useTopic("kernel.verdicts");
  const onSelect = useCallback((i: number) => hub.publish("packet.selected", i), [hub]);
  const onOpenFile = useCallback(() => hub.emit("capture.pick", undefined), [hub]);
  const onSample = useCallback((s: Sample) => hub.emit("capture.sample", s), [hub]);
  const onGenerate = useCallback(() => hub.publish("overlay", "generate"), [hub]);
  const onExport = useCallback((which: "matched-cbpf" | "matched-ebpf" | "all") => hub.emit("capture.export", which), [hub]);
  const onEdit = useCallback((m: "edit" | "new") => hub.publish("overlay", { editor: m }), [hub]);
  const onDelete = useCallback(() => {
    const sel = hub.get("packet.selected");
    if (sel !== null) hub.get("worker")?.edit("delete", sel);
  }, [hub]);
  return (
    <PacketsView
      client={client}
      captureKey={capture?.key ?? 0}
      captureName={capture?.name ?? null}
      count={capture?.count ?? 0}
      verdicts={verdicts}
      selected={selected}
      onSelect={onSelect}
      loading={loading}
      loadError={loadError}
      samples={samples}
      onOpenFile={onOpenFile}
      onSample={onSample}
      onGenerate={onGenerate}
      onExport={onExport}
      onEdit={onEdit}
      onDelete={onDelete}
      agentConnected={agentConnected}
      kernelVerdicts={kernelVerdicts}
      rowHeight={rowHeight}
    />
  );
}
