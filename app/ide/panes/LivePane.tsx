"use client";
/**
 * Live: the page's filter attached on the agent's demo network (hooks/use-live.ts). Each
 * attachment has its colour, exact counters, a packets-per-second sparkline and a table of the
 * matched packets the agent sampled; the loaded capture can be replayed into the demo veth.
 */
import { memo, useState } from "react";
import { summarize } from "../../../lib/dissect";
import { useHub, useTopic, useTopicPart, type EventHub } from "../events";
import type { LiveAttachment, LivePacket } from "../hooks/use-live";

const HEX_BYTES = 24;
/**
 * Rows the table draws: the newest of the packets kept. In a flood each stream message brings
 * up to 256 new packets; dissecting and laying out only the visible newest keeps a frame short.
 */
const TABLE_ROWS = 100;
const hex = (b: Uint8Array) => Array.from(b.subarray(0, HEX_BYTES), (x) => x.toString(16).padStart(2, "0")).join(" ");

export function LivePane() {
  const hub = useHub();
  const live = useTopic("live");
  const target = useTopicPart("settings", (s) => s.target);
  const filter = useTopicPart("settings", (s) => s.filter);
  const captureCount = useTopicPart("capture", (c) => c?.count ?? 0);
  const [rate, setRate] = useState(0);
  const [cycles, setCycles] = useState(1);
  const anyLive = live.attachments.some((a) => a.status === "live");
  return (
    <div className="pane live-pane" data-testid="live-pane">
      <div className="pane-head">
        <span className="pane-title">Live</span>
        <span className="dim"> the filter on the agent&apos;s demo network</span>
      </div>
      <div className="inject-body">
        <div className="inject-line">
          <button className="btn" disabled={!live.canAttach || !!live.busy} onClick={() => hub.emit("live.attach", undefined)} title={live.canAttach ? `Attach "${filter}" as ${target === "kprobe" ? "an skb trace" : target} on the demo network` : live.why} data-testid="live-attach">
            attach {target === "kprobe" ? "skb trace" : target}
          </button>{" "}
          {!live.canAttach && <span className="dim">{live.why}</span>}
          {live.busy && <span className="dim">{live.busy}</span>}
        </div>
        <div className="inject-line">
          <button className="btn" disabled={!anyLive || live.replay.busy || captureCount === 0} onClick={() => hub.emit("live.replay", { cycles, rate })} title="Send the loaded capture's Ethernet frames into the demo veth" data-testid="live-replay">
            replay capture
          </button>{" "}
          <label>
            × <input className="diff-filter live-num" type="number" min={1} value={cycles} onChange={(e) => setCycles(Number(e.target.value) || 1)} data-testid="live-cycles" />
          </label>{" "}
          <label>
            at <input className="diff-filter live-num" type="number" min={0} step={1000} value={rate} onChange={(e) => setRate(Number(e.target.value) || 0)} data-testid="live-rate" /> pkt/s
          </label>{" "}
          <span className="dim">(0: as fast as possible)</span>{" "}
          <span className="dim" data-testid="live-sent" data-sent={live.replay.sent} data-busy={live.replay.busy ? "1" : "0"} data-frames={live.replay.frames}>
            {live.replay.busy ? "sending… " : ""}
            sent {live.replay.sent}
            {live.replay.skipped > 0 ? ` (${live.replay.skipped} frames of the capture cannot cross a veth as they are)` : ""}
          </span>
        </div>
        {live.replay.error && <div className="inject-refusal">{live.replay.error}</div>}
        {live.error && (
          <div className="inject-refusal" data-testid="live-error">
            {live.error}
          </div>
        )}
        {live.released && (
          <div className="inject-refusal" data-testid="live-released">
            {live.released}
          </div>
        )}
        {live.attachments.map((a) => (
          <AttachmentView key={a.attachment} a={a} hub={hub} />
        ))}
      </div>
    </div>
  );
}

function AttachmentView({ a, hub }: { a: LiveAttachment; hub: EventHub }) {
  const last = a.rates[a.rates.length - 1];
  return (
    <div className="live-attachment" style={{ borderLeftColor: a.colour }} data-testid="live-attachment" data-status={a.status} data-prog-id={a.progId}>
      <div className="inject-line">
        <span className="live-swatch" style={{ background: a.colour }} /> <code>{a.filter || "(every packet)"}</code> on {a.hook} {a.ifname} (prog {a.progId}){" "}
        <span className="live-counters" data-testid="live-counters" data-total={a.counters.total} data-matched={a.counters.matched} data-events={a.eventCount}>
          total <b>{a.counters.total}</b> matched <b>{a.counters.matched}</b>
        </span>{" "}
        <span className="dim">
          {last ? `${Math.round(last.total)} pkt/s` : ""} · {a.eventCount} events{a.dropped ? `, ${a.dropped} not sampled` : ""}
        </span>{" "}
        {a.status === "live" ? (
          <>
            <button className="btn" onClick={() => hub.emit("live.pause", { attachment: a.attachment, paused: !a.paused })} data-testid="live-pause">
              {a.paused ? "resume" : "pause"}
            </button>{" "}
            <button className="btn" onClick={() => hub.emit("live.detach", a.attachment)} data-testid="live-detach">
              detach
            </button>
          </>
        ) : (
          <>
            <span className="dim">detached</span>{" "}
            <button className="btn" onClick={() => hub.emit("live.remove", a.attachment)} data-testid="live-remove">
              remove
            </button>
          </>
        )}
      </div>
      <Sparkline rates={a.rates} colour={a.colour} />
      <div className="live-table-wrap">
        <table className="live-table" data-testid="live-table" data-kept={a.events.length}>
          <thead>
            <tr>
              <th>#</th>
              <th>len</th>
              <th>summary</th>
              <th>bytes</th>
            </tr>
          </thead>
          <tbody>
            {/* Newest first; each row renders once (memo), so a flood re-renders only the new rows. */}
            {a.events.slice(-TABLE_ROWS).reverse().map((p) => (
              <PacketRow key={p.seq} p={p} />
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

const PacketRow = memo(function PacketRow({ p }: { p: LivePacket }) {
  return (
    <tr>
      <td>{p.seq}</td>
      <td>{p.len}</td>
      <td>{summarize(p.bytes, 1)}</td>
      <td className="live-hex">{hex(p.bytes)}</td>
    </tr>
  );
});

const W = 240;
const H = 32;

function Sparkline({ rates, colour }: { rates: LiveAttachment["rates"]; colour: string }) {
  const max = Math.max(1, ...rates.map((r) => r.total));
  const pts = (pick: (r: LiveAttachment["rates"][number]) => number) => rates.map((r, i) => `${((i / Math.max(1, rates.length - 1)) * W).toFixed(1)},${(H - (pick(r) / max) * H).toFixed(1)}`).join(" ");
  return (
    <svg className="live-spark" width={W} height={H} viewBox={`0 0 ${W} ${H}`} data-testid="live-spark" aria-label={`packets per second, peak ${Math.round(max)}`}>
      <polyline points={pts((r) => r.total)} fill="none" stroke="currentColor" strokeOpacity={0.4} />
      <polyline points={pts((r) => r.matched)} fill="none" stroke={colour} />
    </svg>
  );
}
