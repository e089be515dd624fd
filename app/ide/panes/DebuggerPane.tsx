"use client";
/** The step debugger's controls and registers; the listings show the pc and breakpoints. */
import { memo, useCallback } from "react";
import { useHub, useTopic, useTopicPart } from "../events";
import type { DebugSnapshot, Engine } from "../worker/protocol";

interface Props {
  engine: Engine;
  onEngine: (e: Engine) => void;
  snapshot: DebugSnapshot | null;
  selected: number | null;
  onStep: () => void;
  onBack: () => void;
  onRun: () => void;
  onReset: () => void;
  breakpointCount: number;
}

export const DebuggerView = memo(function DebuggerView({ engine, onEngine, snapshot, selected, onStep, onBack, onRun, onReset, breakpointCount }: Props) {
  const s = snapshot;
  const usable = s && !s.unavailable;
  return (
    <div className="pane" data-testid="debugger-pane">
      <div className="pane-head">
        <span className="pane-title">Debugger</span>
        <div className="seg">
          {(["cbpf", "ebpf"] as const).map((e) => (
            <button key={e} aria-pressed={engine === e} onClick={() => onEngine(e)} data-testid={`debug-engine-${e}`}>
              {e === "cbpf" ? "cBPF" : "eBPF"}
            </button>
          ))}
        </div>
        <span className="grow" />
        <span className="pane-meta" data-testid="debug-status">
          {selected === null ? "no packet" : `packet #${selected + 1}`}
          {usable ? ` · step ${s.steps}` : ""}
          {usable && s.done ? (s.error ? " · error" : ` · returned ${s.returnValue}`) : ""}
        </span>
      </div>
      <div className="dbg-controls">
        <button className="btn" onClick={onReset} title="Restart (Shift+F5)" data-testid="debug-reset">⟲ Restart</button>
        <button className="btn" onClick={onBack} disabled={!usable || s.steps === 0} title="Step back (Shift+F10)" data-testid="debug-back">◀ Back</button>
        <button className="btn primary" onClick={onStep} disabled={!usable || s.done} title="Step (F10)" data-testid="debug-step">Step ▶</button>
        <button className="btn" onClick={onRun} disabled={!usable || s.done} title="Run to the next breakpoint or the end (F5)" data-testid="debug-run">
          Run ▶▶
        </button>
        <span className="pane-meta">{breakpointCount > 0 ? `${breakpointCount} breakpoint${breakpointCount > 1 ? "s" : ""}` : "click the gutter to set breakpoints"}</span>
      </div>
      {!s || s.unavailable ? (
        <div className="pane-note">{s?.unavailable ?? "Select a packet, then step through the program with F10."}</div>
      ) : (
        <>
          <div className="dbg-insn" data-testid="debug-last">
            {s.last ? `last: ${s.last}` : `about to run instruction ${s.pc}`}
            {s.done && <div style={{ color: s.error ? "var(--bad)" : "var(--ok)" }}>{s.error ? `stopped: ${s.error}` : `returned ${s.returnValue} (${s.returnValue ? "match" : "no match"})`}</div>}
          </div>
          <div className="regs" data-testid="debug-regs">
            <table>
              <tbody>
                {s.regs.map((r) => (
                  <tr key={r.name} className={r.changed ? "changed" : ""}>
                    <td>{r.name}</td>
                    <td>{r.value}</td>
                    <td className="faint">{r.alt}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {s.memory.length > 0 && (
              <table style={{ marginTop: 8 }}>
                <tbody>
                  {s.memory.map((r) => (
                    <tr key={r.name} className={r.changed ? "changed" : ""}>
                      <td>{r.name}</td>
                      <td>{r.value}</td>
                      <td className="faint">{r.alt}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </div>
          {s.note && <div className="dbg-note">{s.note}</div>}
        </>
      )}
    </div>
  );
});

export function DebuggerPane() {
  const hub = useHub();
  const engine = useTopic("debug.engine");
  const snapshot = useTopic("debug.snapshot");
  const selected = useTopic("packet.selected");
  const breakpointCount = useTopicPart("debug.breakpoints", (b) => (engine === "cbpf" ? b.cbpf : b.ebpf).length);
  const onEngine = useCallback((e: Engine) => hub.publish("debug.engine", e), [hub]);
  const onStep = useCallback(() => hub.emit("debug.command", "step"), [hub]);
  const onBack = useCallback(() => hub.emit("debug.command", "back"), [hub]);
  const onRun = useCallback(() => hub.emit("debug.command", "run"), [hub]);
  const onReset = useCallback(() => hub.emit("debug.command", "reset"), [hub]);
  return <DebuggerView engine={engine} onEngine={onEngine} snapshot={snapshot} selected={selected} onStep={onStep} onBack={onBack} onRun={onRun} onReset={onReset} breakpointCount={breakpointCount} />;
}
