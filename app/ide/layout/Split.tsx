"use client";
/**
 * A resizable row or column of cells. Sizes are weights (flex-grow), remembered per split id in
 * localStorage; hidden cells (presenter mode) are left out and the others share their space.
 */
import { Children, isValidElement, useCallback, useEffect, useRef, useState, type ReactElement, type ReactNode } from "react";
import { loadJson, saveJson } from "./storage";

interface SplitProps {
  id: string;
  dir: "row" | "col";
  /** Default weight per child key. */
  defaults: Record<string, number>;
  children: ReactNode;
}

const MIN_WEIGHT_SHARE = 0.06;

export function Split({ id, dir, defaults, children }: SplitProps) {
  const [weights, setWeights] = useState<Record<string, number>>(() => ({ ...defaults, ...loadJson<Record<string, number>>(`layout.${id}`, {}) }));
  const ref = useRef<HTMLDivElement>(null);
  const [dragging, setDragging] = useState<number | null>(null);
  const cells = Children.toArray(children).filter((c): c is ReactElement => isValidElement(c));
  const keys = cells.map((c) => String(c.key).replace(/^\.\$/, ""));

  useEffect(() => {
    const onReset = () => setWeights({ ...defaults });
    window.addEventListener("bpfp:reset-layout", onReset);
    return () => window.removeEventListener("bpfp:reset-layout", onReset);
  }, [defaults]);

  const startDrag = useCallback(
    (i: number, e: React.PointerEvent) => {
      const el = ref.current;
      if (!el) return;
      e.preventDefault();
      const rect = el.getBoundingClientRect();
      const total = dir === "row" ? rect.width : rect.height;
      const a = keys[i]!;
      const b = keys[i + 1]!;
      const sum = keys.reduce((s, k) => s + (weights[k] ?? 1), 0);
      const wa0 = weights[a] ?? 1;
      const wb0 = weights[b] ?? 1;
      const start = dir === "row" ? e.clientX : e.clientY;
      let latest = weights;
      setDragging(i);
      const move = (ev: PointerEvent) => {
        const delta = ((dir === "row" ? ev.clientX : ev.clientY) - start) / Math.max(total, 1);
        const min = sum * MIN_WEIGHT_SHARE;
        let wa = wa0 + delta * sum;
        let wb = wb0 - delta * sum;
        if (wa < min) {
          wb -= min - wa;
          wa = min;
        }
        if (wb < min) {
          wa -= min - wb;
          wb = min;
        }
        latest = { ...weights, [a]: wa, [b]: wb };
        setWeights(latest);
      };
      const up = () => {
        window.removeEventListener("pointermove", move);
        window.removeEventListener("pointerup", up);
        setDragging(null);
        saveJson(`layout.${id}`, latest);
      };
      window.addEventListener("pointermove", move);
      window.addEventListener("pointerup", up);
    },
    [dir, id, keys, weights],
  );

  const out: ReactNode[] = [];
  cells.forEach((cell, i) => {
    if (i > 0) {
      out.push(
        <div
          key={`g${i}`}
          className={`gutter${dragging === i - 1 ? " dragging" : ""}`}
          onPointerDown={(e) => startDrag(i - 1, e)}
          role="separator"
          aria-orientation={dir === "row" ? "vertical" : "horizontal"}
        />,
      );
    }
    out.push(
      <div key={keys[i]} className="split-cell" style={{ flex: `${weights[keys[i]!] ?? 1} 1 0px` }}>
        {cell}
      </div>,
    );
  });
  return (
    <div ref={ref} className={`split ${dir}`}>
      {out}
    </div>
  );
}
