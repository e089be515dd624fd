"use client";
/**
 * One packet: its dissection tree and its bytes, highlighted both ways (a field lights up its
 * bytes, a byte lights up its innermost field), plus the bytes the debugger's last step read.
 */
import { memo, useMemo, useState } from "react";
import type { DissectNode } from "../../../lib/dissect";
import type { PacketDetail } from "../worker/client";
import { useTopic, useTopicPart } from "../events";
import { PaneBoundary } from "../layout/PaneBoundary";

interface Props {
  detail: PacketDetail | null;
  reads: { offset: number; size: number }[];
}

const MAX_BYTES = 16384;

/** The innermost node whose range contains `offset`, and the path to it. */
function nodeAt(root: DissectNode, offset: number): DissectNode[] {
  const path: DissectNode[] = [];
  let n: DissectNode | undefined = root;
  while (n) {
    path.push(n);
    n = n.children.find((c) => offset >= c.start && offset < c.end && c.end > c.start);
  }
  return path;
}

interface TreeProps {
  node: DissectNode;
  depth: number;
  active: DissectNode | null;
  open: Set<DissectNode>;
  toggle: (n: DissectNode) => void;
  onHover: (n: DissectNode | null) => void;
  onPick: (n: DissectNode) => void;
}

function TreeNode({ node, depth, active, open, toggle, onHover, onPick }: TreeProps) {
  const isOpen = open.has(node);
  const kids = node.children.length > 0;
  return (
    <>
      <div
        className={`tnode${active === node ? " hl" : ""}`}
        style={{ paddingLeft: 6 + depth * 14 }}
        onMouseEnter={() => onHover(node)}
        onMouseLeave={() => onHover(null)}
        onClick={() => onPick(node)}
        title={`bytes ${node.start}..${Math.max(node.start, node.end - 1)}`}
      >
        <span className="tw" onClick={(e) => (e.stopPropagation(), toggle(node))}>
          {kids ? (isOpen ? "▾" : "▸") : ""}
        </span>
        <span>{node.label}</span>
        {node.error && <span className="terr">— {node.error}</span>}
      </div>
      {kids && isOpen && node.children.map((c, i) => <TreeNode key={i} node={c} depth={depth + 1} active={active} open={open} toggle={toggle} onHover={onHover} onPick={onPick} />)}
    </>
  );
}

const HexView = memo(function HexView({
  data,
  origLen,
  field,
  reads,
  hoverByte,
  onByte,
}: {
  data: Uint8Array;
  origLen: number;
  field: { start: number; end: number } | null;
  reads: { offset: number; size: number }[];
  hoverByte: number | null;
  onByte: (offset: number | null, click: boolean) => void;
}) {
  const shown = Math.min(data.length, MAX_BYTES);
  const readSet = new Set<number>();
  for (const r of reads) for (let k = 0; k < r.size; k++) readSet.add(r.offset + k);
  const rows = [];
  for (let off = 0; off < shown; off += 16) {
    const hexCells = [];
    const ascii = [];
    for (let k = 0; k < 16; k++) {
      const i = off + k;
      if (i >= shown) {
        hexCells.push(<span key={k}>{"   "}</span>);
        continue;
      }
      const b = data[i]!;
      let cls = "hb";
      if (field && i >= field.start && i < field.end) cls += " f";
      if (readSet.has(i)) cls += " r";
      if (hoverByte === i) cls += " h";
      const handlers = { onMouseEnter: () => onByte(i, false), onClick: () => onByte(i, true), "data-off": i };
      hexCells.push(
        <span key={k} className={cls} {...handlers}>
          {b.toString(16).padStart(2, "0")}
        </span>,
        k === 7 ? "  " : " ",
      );
      ascii.push(
        <span key={k} className={cls} {...handlers}>
          {b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : "."}
        </span>,
      );
    }
    rows.push(
      <div key={off} className="hexrow">
        <span className="off">{off.toString(16).padStart(4, "0")}</span>
        {hexCells}
        <span className="ascii">{ascii}</span>
      </div>,
    );
  }
  return (
    <div className="hex" onMouseLeave={() => onByte(null, false)} data-testid="hex-view">
      {rows}
      {data.length > shown && <div className="pane-meta">… {data.length - shown} more bytes not shown</div>}
      {origLen > data.length && <div className="pane-meta">{origLen - data.length} bytes were on the wire but not captured (snaplen)</div>}
      {reads.length > 0 && (
        <div className="pane-meta" data-testid="hex-reads">
          last step read {reads.map((r) => (r.size === 1 ? `byte ${r.offset}` : `bytes ${r.offset}..${r.offset + r.size - 1}`)).join(", ")}
        </div>
      )}
    </div>
  );
});

export const DetailView = memo(function DetailView({ detail, reads }: Props) {
  const [hoverNode, setHoverNode] = useState<DissectNode | null>(null);
  const [picked, setPicked] = useState<DissectNode | null>(null);
  const [hoverByte, setHoverByte] = useState<number | null>(null);
  const [closed, setClosed] = useState(new Set<DissectNode>());
  const tree = detail?.tree ?? null;

  // Open everything but the deepest levels by default.
  const open = useMemo(() => {
    const s = new Set<DissectNode>();
    const walk = (n: DissectNode, d: number) => {
      if (d < 2 && !closed.has(n)) s.add(n);
      if (d >= 2 && closed.has(n)) s.add(n); // a closed set entry at depth >= 2 means "opened"
      n.children.forEach((c) => walk(c, d + 1));
    };
    if (tree) walk(tree, 0);
    return s;
  }, [tree, closed]);

  const byteNode = useMemo(() => (tree && hoverByte !== null ? nodeAt(tree, hoverByte) : []), [tree, hoverByte]);
  const active = hoverNode ?? (byteNode.length > 1 ? byteNode[byteNode.length - 1]! : null) ?? picked;
  const field = active && active !== tree ? { start: active.start, end: active.end } : null;

  const toggle = (n: DissectNode) =>
    setClosed((prev) => {
      const next = new Set(prev);
      if (next.has(n)) next.delete(n);
      else next.add(n);
      return next;
    });

  return (
    <div className="pane" data-testid="detail-pane">
      <div className="pane-head">
        <span className="pane-title">Packet</span>
        <span className="pane-meta">{detail && detail.tree ? `#${detail.index + 1} · ${detail.data.length} bytes` : ""}</span>
        <span className="grow" />
        {field && <span className="pane-meta">bytes {field.start}..{Math.max(field.start, field.end - 1)}</span>}
      </div>
      {!detail || !tree ? (
        <div className="pane-note">Select a packet to see its fields and bytes.</div>
      ) : (
        <>
          <div className="tree" data-testid="dissect-tree">
            <TreeNode node={tree} depth={0} active={active} open={open} toggle={toggle} onHover={setHoverNode} onPick={(n) => setPicked(n === picked ? null : n)} />
          </div>
          <HexView
            data={detail.data}
            origLen={detail.origLen}
            field={field}
            reads={reads}
            hoverByte={hoverByte}
            onByte={(off, click) => {
              setHoverByte(off);
              if (click && off !== null && tree) {
                const path = nodeAt(tree, off);
                setPicked(path[path.length - 1] ?? null);
                setClosed((prev) => {
                  const next = new Set(prev);
                  path.forEach((n, d) => (d < 2 ? next.delete(n) : next.add(n)));
                  return next;
                });
              }
            }}
          />
        </>
      )}
    </div>
  );
});

const NO_READS: { offset: number; size: number }[] = [];

/** The selected packet, with the bytes the debugger's last step read when it is on this packet. */
export function DetailPane() {
  const detail = useTopic("packet.detail");
  const selected = useTopic("packet.selected");
  const snap = useTopic("debug.snapshot");
  const captureKey = useTopicPart("capture", (c) => c?.key);
  const reads = snap && !snap.unavailable && snap.packet === selected ? snap.reads : NO_READS;
  // A pane that failed on one packet comes back for the next.
  return (
    <PaneBoundary name="Packet" resetKey={detail}>
      <DetailView key={`${captureKey}/${detail?.index}`} detail={detail} reads={reads} />
    </PaneBoundary>
  );
}
