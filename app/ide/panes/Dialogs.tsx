"use client";
/** Overlays: keyboard help, share link, presenter settings, traffic generator. */
import { useEffect, useRef, useState, type ReactNode } from "react";
import { PANE_IDS, PANES, type PaneId } from "./registry";

export function Overlay({ onClose, children, testId }: { onClose: () => void; children: ReactNode; testId?: string }) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && onClose();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);
  return (
    <div className="overlay" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className="dialog" role="dialog" data-testid={testId}>
        {children}
      </div>
    </div>
  );
}

export const SHORTCUTS: [string, string][] = [
  ["/ or Ctrl+L", "focus the filter"],
  ["Ctrl+Space", "completion in the filter (Tab accepts)"],
  ["Alt+1 … Alt+4", "target: socket, tc, xdp, kprobe"],
  ["Alt+O", "optimizer on/off (tcpdump -O)"],
  ["Alt+D", "cycle the cBPF listing: -d, -dd, -ddd"],
  ["Alt+R", "rainbow: a colour per cBPF instruction in every listing"],
  ["Alt+T", "light / dark theme"],
  ["Alt+P", "presenter mode"],
  ["Alt+S", "copy a share link"],
  ["Ctrl+O", "open a capture (or drop a file on the page)"],
  ["j / k, ↑ / ↓", "next / previous packet (packet list focused)"],
  ["Alt+M", "next mismatch"],
  ["E / N", "edit the selected packet / craft a new one"],
  ["F10 / Shift+F10", "debugger: step / step back"],
  ["F5 / Shift+F5", "debugger: run to breakpoint / restart"],
  ["click the gutter", "toggle a breakpoint in the cBPF or eBPF listing"],
  ["hover or click a line", "highlight the linked lines in the other listings"],
  ["F1 (in an editor)", "Monaco's command palette"],
  ["?", "this help"],
  ["Esc", "close dialogs, clear the linked selection"],
];

export function HelpOverlay({ onClose }: { onClose: () => void }) {
  return (
    <Overlay onClose={onClose} testId="help-overlay">
      <div className="help">
        <h2>Keyboard shortcuts</h2>
        <div className="keys">
          {SHORTCUTS.map(([k, d]) => (
            <div key={k} style={{ display: "contents" }}>
              <kbd>{k}</kbd>
              <span>{d}</span>
            </div>
          ))}
        </div>
        <h3>What you are looking at</h3>
        <p style={{ maxWidth: 640, lineHeight: 1.5 }}>
          The filter is compiled by libpcap on the server exactly as <code>tcpdump -d</code> compiles it. Everything else runs in your browser:
          the cBPF listing, its translation to eBPF for the chosen target, the verifier-style trace, and the verdict of every engine on every
          packet. Packets where the engines disagree are flagged. Kernel features (the real verifier log, xlated and JIT code, kernel test runs)
          need the local agent.
        </p>
      </div>
    </Overlay>
  );
}

export function ShareDialog({ link, note, onClose }: { link: string; note: string; onClose: () => void }) {
  const ref = useRef<HTMLInputElement>(null);
  useEffect(() => ref.current?.select(), []);
  return (
    <Overlay onClose={onClose} testId="share-dialog">
      <h2>Share this page</h2>
      <p className="pane-meta">{note}</p>
      <div className="row">
        <input ref={ref} type="text" readOnly value={link} data-testid="share-link" style={{ width: 560, fontFamily: "var(--font-mono)" }} />
        <button className="btn" onClick={() => void navigator.clipboard?.writeText(link)}>Copy</button>
      </div>
      <p className="pane-meta">{link.length.toLocaleString()} characters; the state is compressed into the part after #, so no server stores it.</p>
    </Overlay>
  );
}

export function PresenterDialog({
  panes,
  onChange,
  onClose,
  onResetLayout,
}: {
  panes: Record<PaneId, boolean>;
  onChange: (p: Record<PaneId, boolean>) => void;
  onClose: () => void;
  onResetLayout: () => void;
}) {
  return (
    <Overlay onClose={onClose} testId="presenter-dialog">
      <h2>Presenter mode</h2>
      <p className="pane-meta">Large type and only the panes you choose. Toggle with Alt+P.</p>
      {PANE_IDS.map((id) => (
        <div className="row" key={id}>
          <input type="checkbox" id={`pp-${id}`} checked={panes[id]} onChange={(e) => onChange({ ...panes, [id]: e.target.checked })} />
          <span>
            <label htmlFor={`pp-${id}`} style={{ display: "inline", color: "var(--fg)" }}>
              {PANES[id].label}
            </label>
          </span>
        </div>
      ))}
      <div className="row">
        <button className="btn" onClick={onResetLayout}>Reset pane sizes</button>
        <button className="btn primary" onClick={onClose}>Done</button>
      </div>
    </Overlay>
  );
}

export function GenerateDialog({ onGenerate, onClose, dlts }: { onGenerate: (seed: number, count: number, dlt: number) => void; onClose: () => void; dlts: { dlt: number; name: string }[] }) {
  const [seed, setSeed] = useState(1);
  const [count, setCount] = useState(10000);
  const [dlt, setDlt] = useState(1);
  return (
    <Overlay onClose={onClose} testId="generate-dialog">
      <h2>Generate traffic</h2>
      <p className="pane-meta">A deterministic mix of protocols (IPv4/IPv6, TCP/UDP/ICMP/SCTP, VLAN, tunnels, fragments, truncated frames) from lib/craft.</p>
      <div className="row">
        <label>
          packets
          <input type="text" value={count} onChange={(e) => setCount(Math.max(1, Math.min(1_000_000, Number(e.target.value) || 1)))} />
        </label>
        <label>
          seed
          <input type="text" value={seed} onChange={(e) => setSeed(Number(e.target.value) || 0)} />
        </label>
        <label>
          link type
          <select value={dlt} onChange={(e) => setDlt(Number(e.target.value))}>
            {dlts.map((d) => (
              <option key={d.dlt} value={d.dlt}>
                {d.name}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div className="row">
        <button className="btn primary" onClick={() => (onGenerate(seed, count, dlt), onClose())} data-testid="generate-go">
          Generate
        </button>
      </div>
    </Overlay>
  );
}
