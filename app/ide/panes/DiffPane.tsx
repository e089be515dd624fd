"use client";
/**
 * The diff pane: two instruction streams aligned (lib/diff), side by side or unified. Rows are
 * same, moved (only an offset changed: the target moved the same way), changed, inserted or
 * deleted; spliced filter code is coloured by the cBPF instruction it came from, with the colours
 * of the cBPF listing's rainbow. A click on a row reveals its cBPF instruction ("cbpf.reveal")
 * and, where the side is the page's own eBPF listing, its slot there ("ebpf.reveal").
 */
import { memo, useEffect, useRef, useState } from "react";
import type { DiffRow, SectionDiff } from "../../../lib/diff";
import type { StreamInsn } from "../../../lib/inject";
import type { Target } from "../../../lib/pipeline";
import { TARGETS } from "../../../lib/translate";
import { useHub } from "../events";
import { DIFF_KINDS, useDiff, type DiffChoice, type DiffKind, type DiffSide } from "../hooks/use-diff";

/** Rows drawn per section; a bigger diff says how many it left out (the counts cover all). */
const MAX_ROWS = 4000;

const MARK: Record<DiffRow["kind"], string> = { same: " ", moved: "~", insert: "+", delete: "-", change: "±" };

const rb = (c: number | null | undefined) => (c === null || c === undefined ? "" : ` rb-${c % 12}`);

export function DiffPane() {
  const hub = useHub();
  const [choice, setChoice] = useState<DiffChoice>({ kind: "inject", targets: ["socket", "xdp"], otherFilter: "" });
  const [unified, setUnified] = useState(false);
  const { data, available } = useDiff(choice);
  const body = useRef<HTMLDivElement>(null);
  const [hunkAt, setHunkAt] = useState(0);

  const pick = (kind: DiffKind) => setChoice((c) => ({ ...c, kind }));
  const setTarget = (i: 0 | 1, t: Target) => setChoice((c) => ({ ...c, targets: i === 0 ? [t, c.targets[1]] : [c.targets[0], t] }));

  const hunks = data.status === "ok" ? data.diff.summary.hunks : 0;
  useEffect(() => setHunkAt(0), [data]);
  const goHunk = (step: number) => {
    if (hunks === 0) return;
    const n = (hunkAt + step + hunks) % hunks;
    setHunkAt(n);
    body.current?.querySelector(`[data-hunk-start="${n}"]`)?.scrollIntoView({ block: "center" });
  };

  const reveal = (insn: StreamInsn | undefined, side: DiffSide) => {
    if (!insn) return;
    if (insn.cbpf !== null && insn.cbpf !== undefined) hub.emit("cbpf.reveal", { index: insn.cbpf });
    if (side.listing) hub.emit("ebpf.reveal", { slot: insn.slot });
  };

  const s = data.status === "ok" ? data.diff.summary : null;
  return (
    <div className="pane" data-testid="diff-pane">
      <div className="pane-head">
        <span className="pane-title">Diff</span>
        <select className="ctl" value={choice.kind} onChange={(e) => pick(e.target.value as DiffKind)} data-testid="diff-kind" title="What to compare">
          {DIFF_KINDS.map((k) => (
            <option key={k.kind} value={k.kind} disabled={k.kind in available && !available[k.kind as keyof typeof available]}>
              {k.label}
            </option>
          ))}
        </select>
        {choice.kind === "targets" &&
          ([0, 1] as const).map((i) => (
            <select key={i} className="ctl" value={choice.targets[i]} onChange={(e) => setTarget(i, e.target.value as Target)} data-testid={`diff-target-${i}`}>
              {TARGETS.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          ))}
        {choice.kind === "filters" && (
          <input
            className="ctl diff-filter"
            placeholder="second filter"
            value={choice.otherFilter}
            onChange={(e) => {
              const otherFilter = e.target.value;
              setChoice((c) => ({ ...c, otherFilter }));
            }}
            data-testid="diff-other-filter"
            spellCheck={false}
          />
        )}
        <span className="grow" />
        {s && (
          <span className="pane-meta" data-testid="diff-summary" data-hunks={s.hunks} data-insert={s.insert} data-delete={s.delete} data-change={s.change} data-moved={s.moved} data-same={s.same}>
            {s.same} same · {s.moved} moved · <span className="k-insert-fg">+{s.insert}</span> <span className="k-delete-fg">−{s.delete}</span> ±{s.change} · {s.hunks} hunk{s.hunks === 1 ? "" : "s"}
            {data.status === "ok" ? ` · ${data.ms.toFixed(1)} ms` : ""}
          </span>
        )}
        <button className="icon-btn" onClick={() => goHunk(-1)} disabled={hunks === 0} title="Previous hunk">
          ↑
        </button>
        <button className="icon-btn" onClick={() => goHunk(1)} disabled={hunks === 0} title="Next hunk" data-testid="diff-next-hunk">
          ↓
        </button>
        <button className="btn" aria-pressed={unified} onClick={() => setUnified((u) => !u)} title="One column with −/+ lines instead of two side by side" data-testid="diff-unified">
          unified
        </button>
      </div>
      <div className="pane-body diff-body" ref={body}>
        {data.status !== "ok" ? (
          <div className={`pane-note${data.status === "error" ? " bad" : ""}`} data-testid="diff-note">
            {data.message}
          </div>
        ) : (
          <>
            <div className="diff-sides">
              <span>{data.left.label}</span>
              {!unified && <span>{data.right.label}</span>}
            </div>
            {data.diff.sections.map((sec, i) => (
              <Section
                key={`${sec.section}/${i}`}
                sec={sec}
                firstHunk={data.diff.sections.slice(0, i).reduce((n, x) => n + x.hunks.length, 0)}
                left={data.left}
                right={data.right}
                unified={unified}
                onReveal={reveal}
                multi={data.diff.sections.length > 1}
              />
            ))}
          </>
        )}
      </div>
    </div>
  );
}

interface SectionProps {
  sec: SectionDiff;
  /** Number of the section's first hunk in the whole diff (hunk navigation counts across sections). */
  firstHunk: number;
  left: DiffSide;
  right: DiffSide;
  unified: boolean;
  multi: boolean;
  onReveal: (insn: StreamInsn | undefined, side: DiffSide) => void;
}

const Section = memo(function Section({ sec, firstHunk, left, right, unified, multi, onReveal }: SectionProps) {
  const a = sec.left === undefined ? [] : left.streams[sec.left]!.insns;
  const b = sec.right === undefined ? [] : right.streams[sec.right]!.insns;
  const starts = new Map(sec.hunks.map((h, i) => [h.start, i]));
  const rows = sec.rows.slice(0, MAX_ROWS);

  const cell = (insn: StreamInsn | undefined, side: DiffSide, kind: string) =>
    insn ? (
      <span className={`diff-cell${rb(insn.cbpf)}`} onClick={() => onReveal(insn, side)} title={insn.cbpf !== null && insn.cbpf !== undefined ? `cBPF ${insn.cbpf}` : undefined}>
        <span className="diff-slot">{insn.slot}</span>
        <span className="diff-text">{insn.text}</span>
        {insn.reloc !== undefined && <span className="diff-reloc">{insn.reloc}</span>}
      </span>
    ) : (
      <span className={`diff-cell diff-empty ${kind}`} />
    );

  return (
    <div className="diff-section" data-testid="diff-section" data-section={sec.section}>
      {multi && (
        <div className="diff-section-head">
          {sec.section}
          <span className="dim">
            {" "}
            {sec.summary.same + sec.summary.moved} kept, +{sec.summary.insert} −{sec.summary.delete} ±{sec.summary.change}
          </span>
        </div>
      )}
      {rows.map((r, i) => {
        const h = starts.get(i);
        const hunkAttrs = h === undefined ? {} : { "data-hunk-start": firstHunk + h, "data-hunk-kind": sec.hunks[h]!.kind };
        const l = r.left === undefined ? undefined : a[r.left];
        const rr = r.right === undefined ? undefined : b[r.right];
        if (!unified) {
          return (
            <div key={i} className={`diff-row k-${r.kind}`} data-testid="diff-row" data-kind={r.kind} {...hunkAttrs}>
              <span className="diff-mark">{MARK[r.kind]}</span>
              {cell(l, left, "left")}
              {cell(rr, right, "right")}
            </div>
          );
        }
        // Unified: a change is its old line then its new one.
        const lines: [string, StreamInsn | undefined, DiffSide][] =
          r.kind === "change" ? [["-", l, left], ["+", rr, right]] : r.kind === "delete" ? [["-", l, left]] : r.kind === "insert" ? [["+", rr, right]] : [[MARK[r.kind], rr, right]];
        return (
          <div key={i} className={`diff-urow k-${r.kind}`} data-testid="diff-row" data-kind={r.kind} {...hunkAttrs}>
            {lines.map(([m, insn, side], j) => (
              <div key={j} className={`diff-uline${m === "-" ? " k-delete" : m === "+" ? " k-insert" : ""}`}>
                <span className="diff-mark">{m}</span>
                {cell(insn, side, "")}
              </div>
            ))}
          </div>
        );
      })}
      {sec.rows.length > MAX_ROWS && <div className="pane-note">{sec.rows.length - MAX_ROWS} more rows not drawn (the counts above cover them)</div>}
    </div>
  );
});
