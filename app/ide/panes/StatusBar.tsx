"use client";
/** The bottom line: what is loaded and compiled, and the figures of the last update. */
import { useTopic, useTopicPart } from "../events";

export function StatusBar() {
  const capture = useTopic("capture");
  const cbpfInsns = useTopicPart("compile.good", (g) => g?.insns.length);
  const result = useTopic("pipeline.result");
  const target = useTopicPart("settings", (s) => s.target);
  const timing = useTopic("timing");
  const ebpf = result?.ebpf ?? null;
  return (
    <footer className="statusbar" data-testid="statusbar">
      <span>{capture ? `${capture.name} · ${capture.count} packets` : "no capture"}</span>
      <span>{cbpfInsns !== undefined ? `${cbpfInsns} cBPF insns` : ""}</span>
      <span>{ebpf?.status === "ok" ? `${ebpf.lines.length} eBPF insns (${target})` : ""}</span>
      <span className="spacer" />
      <span title="filter text → /api/compile → answer">{timing.compileMs !== null ? `compile ${timing.compileMs.toFixed(1)} ms` : ""}</span>
      <span title="runPipeline in the worker (eBPF verdicts of large captures follow)">
        {timing.workerMs !== null ? `worker ${timing.workerMs.toFixed(1)} ms` : ""}
        {timing.ebpfMs !== null && (result?.verdicts.count ?? 0) > 2000 ? ` + eBPF ${timing.ebpfMs.toFixed(0)} ms` : ""}
      </span>
      <span title="keystroke to every pane updated" data-testid="screen-ms">{timing.screenMs !== null ? `screen ${timing.screenMs.toFixed(1)} ms` : ""}</span>
    </footer>
  );
}

/** The worker died: say so above the panes. */
export function FatalBanner() {
  const fatal = useTopic("fatal");
  return fatal ? <div className="banner bad">{fatal}</div> : null;
}
