"use client";
/**
 * The patch area under the page's panes: the inject pane and the diff pane side by side, folded
 * to one bar until opened (the open state is remembered). One slot in the layout.
 */
import { useState } from "react";
import { Split } from "../layout/Split";
import { PaneBoundary } from "../layout/PaneBoundary";
import { loadString, saveString } from "../layout/storage";
import { DiffPane } from "./DiffPane";
import { InjectPane } from "./InjectPane";
import "./patch.css";

export function PatchArea() {
  const [open, setOpen] = useState(() => loadString("patch.open") === "1");
  const toggle = () =>
    setOpen((o) => {
      saveString("patch.open", o ? "0" : "1");
      return !o;
    });
  return (
    <section className={`patch-area${open ? " open" : ""}`} data-testid="patch-area">
      <button className="patch-bar" onClick={toggle} aria-expanded={open} data-testid="patch-toggle" title="Splice the filter into a BPF host program and diff the instruction streams">
        <span className="patch-caret">{open ? "▾" : "▸"}</span> Patch: inject the filter into a host program, and diff
      </button>
      {open && (
        <div className="patch-panes">
          <Split id="patch" dir="row" defaults={{ inject: 34, diff: 66 }}>
            <PaneBoundary key="inject" name="Inject">
              <InjectPane />
            </PaneBoundary>
            <PaneBoundary key="diff" name="Diff">
              <DiffPane />
            </PaneBoundary>
          </Split>
        </div>
      )}
    </section>
  );
}
