"use client";
/**
 * The patch row under the page's panes (the registry's "patch" place: the inject, diff and
 * live panes side by side), folded to one bar until opened; the open state is remembered.
 */
import { useState, type ReactElement } from "react";
import { Split } from "../layout/Split";
import { loadString, saveString } from "../layout/storage";
import "./patch.css";

export function PatchArea({ defaults, children }: { defaults: Record<string, number>; children: ReactElement[] }) {
  const [open, setOpen] = useState(() => loadString("patch.open") === "1");
  const toggle = () =>
    setOpen((o) => {
      saveString("patch.open", o ? "0" : "1");
      return !o;
    });
  if (children.length === 0) return null;
  return (
    <section className={`patch-area${open ? " open" : ""}`} data-testid="patch-area">
      <button className="patch-bar" onClick={toggle} aria-expanded={open} data-testid="patch-toggle" title="Splice the filter into a BPF host program, diff the instruction streams, or attach the filter on the agent's demo network">
        <span className="patch-caret">{open ? "▾" : "▸"}</span> Patch and live: inject the filter into a host program, diff, attach it to real traffic
      </button>
      {open && (
        <div className="patch-panes">
          <Split id="patch" dir="row" defaults={defaults}>
            {children}
          </Split>
        </div>
      )}
    </section>
  );
}
