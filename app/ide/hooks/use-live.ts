"use client";
/**
 * The live pane's service (a hook mounted in Ide.tsx; the pane reads the "live" topic and sends
 * "live.*" signals): the page's program attached on the agent's demo network (several at once,
 * each with its colour), its stream of exact counters and sampled matched packets, and the
 * loaded capture replayed into the demo veth.
 *
 * Streams arrive every 100 ms per attachment and, in a flood, with up to 256 events each. They
 * are folded into plain mutable records, and React sees a new snapshot at most once per
 * animation frame, only for attachments that changed and are not paused: a paused attachment
 * keeps counting, its pane just stops moving. History and the packet table are bounded, so a
 * long flood costs no more memory than a short one.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import type { Target } from "../../../lib/pipeline";
import type { StreamMessage } from "../../../lib/protocol";
import { emptyRecord, foldStream, keptEvents, type LivePacket, type StreamRecord } from "../../../lib/live/stream";
import { useHub, useSignal } from "../events";
import { useAgentConnection } from "./use-agent-connection";
import { crossesVeth } from "./inject-frames";

/** Matched packets kept for the table, and rate samples kept for the sparkline (12 s at 100 ms). */
export const KEEP_EVENTS = 500;
export const KEEP_RATES = 120;
/** Frames of the capture a replay sends at most (the protocol's trafficFrames limit). */
const REPLAY_FRAMES = 1024;
const COLOURS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#9a6324"];

export type { LivePacket };

export interface LiveAttachment {
  readonly attachment: number;
  readonly colour: string;
  readonly filter: string;
  readonly target: Target;
  readonly hook: string;
  readonly ifname: string;
  readonly progId: number;
  readonly status: "live" | "detached";
  readonly paused: boolean;
  readonly counters: { readonly total: number; readonly matched: number };
  /** Packets per second (total, matched) per stream message, oldest first. */
  readonly rates: readonly { readonly total: number; readonly matched: number }[];
  /** The newest matched packets, oldest first. */
  readonly events: readonly LivePacket[];
  readonly eventCount: number;
  /** Matched packets the agent sent no event for (backpressure or a full ring). */
  readonly dropped: number;
}

export interface Replay {
  readonly busy: boolean;
  /** Frames the agent sent in all, over every replay. */
  readonly sent: number;
  /** The capture frames one cycle sends (Ethernet, untagged), and how many were left out. */
  readonly frames: number;
  readonly skipped: number;
  readonly error?: string;
}

/** What the live pane shows (the "live" topic); its buttons send the "live.*" signals. */
export interface Live {
  readonly attachments: readonly LiveAttachment[];
  readonly busy: string;
  readonly error: string;
  /** Set when the agent closed the connection: what it released. */
  readonly released: string;
  readonly replay: Replay;
  readonly canAttach: boolean;
  readonly why: string;
}

export const LIVE_IDLE: Live = { attachments: [], busy: "", error: "", released: "", replay: { busy: false, sent: 0, frames: 0, skipped: 0 }, canAttach: false, why: "" };

const BOUNDS = { keepEvents: KEEP_EVENTS, keepRates: KEEP_RATES };

/** An attachment as the streams update it; `shown` is what React last saw of it. */
interface Record_ {
  data: Omit<LiveAttachment, "rates" | "events" | "counters" | "eventCount" | "dropped">;
  stream: StreamRecord;
  dirty: boolean;
  shown: LiveAttachment | null;
}

function fold(r: Record_, m: StreamMessage): void {
  foldStream(r.stream, m, BOUNDS);
  if (r.stream.final) r.data = { ...r.data, status: "detached" };
  r.dirty = true;
}

function snapshot(r: Record_): LiveAttachment {
  const s = r.stream;
  return { ...r.data, counters: { ...s.counters }, rates: s.rates.slice(), events: keptEvents(s, BOUNDS), eventCount: s.eventCount, dropped: s.dropped };
}

/**
 * A service (mounted in Ide.tsx, not in the pane): the attachments outlive the pane, which
 * unmounts when the patch row folds or presenter mode hides it, and closing the connection
 * would release them.
 */
export function useLive(): void {
  const hub = useHub();
  const records = useRef(new Map<number, Record_>());
  const [attachments, setAttachments] = useState<readonly LiveAttachment[]>([]);
  const [busy, setBusy] = useState("");
  const [error, setError] = useState("");
  const [released, setReleased] = useState("");
  const [replay, setReplay] = useState<Replay>({ busy: false, sent: 0, frames: 0, skipped: 0 });
  const colour = useRef(0);

  const publish = useCallback(() => {
    setAttachments([...records.current.values()].map((r) => (r.shown ??= snapshot(r))));
  }, []);

  const conn = useAgentConnection((reason) => {
    const n = records.current.size;
    const live = [...records.current.values()].filter((r) => r.data.status === "live").length;
    records.current.clear();
    publish();
    setReplay((r) => ({ ...r, busy: false }));
    setReleased(`${reason}: the agent released what this pane made (${live} live attachment${live === 1 ? "" : "s"} of ${n}, their programs and the demo network)`);
  });

  // At most one React update per animation frame, and none while nothing changed.
  useEffect(() => {
    let raf = 0;
    const tick = () => {
      let changed = false;
      for (const r of records.current.values()) {
        if (!r.dirty || r.data.paused) continue;
        r.dirty = false;
        r.shown = snapshot(r);
        changed = true;
      }
      if (changed) publish();
      raf = requestAnimationFrame(tick);
    };
    raf = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(raf);
  }, [publish]);

  const attach = useCallback(async () => {
    const program = hub.get("pipeline.input");
    if (!program) return;
    setError("");
    setReleased("");
    try {
      setBusy("connecting to the agent…");
      const s = await conn.open();
      setBusy(`attaching ${program.target} on the demo network…`);
      // Streams may come before attach returns: they wait for their record.
      const early: StreamMessage[] = [];
      let rec: Record_ | null = null;
      const a = await s.attachCbpfOnDemo(program.insns, program.target, (m) => (rec ? fold(rec, m) : early.push(m)));
      rec = {
        data: { attachment: a.attachment, colour: COLOURS[colour.current++ % COLOURS.length]!, filter: program.filter, target: program.target, hook: a.hook, ifname: a.ifname, progId: a.progId, status: "live", paused: false },
        stream: emptyRecord(),
        dirty: true,
        shown: null,
      };
      for (const m of early) fold(rec, m);
      records.current.set(a.attachment, rec);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy("");
    }
  }, [hub, conn]);

  const detach = useCallback(
    async (attachment: number) => {
      const r = records.current.get(attachment);
      const s = conn.current();
      if (!r || !s) return;
      await s.detach(attachment);
      r.data = { ...r.data, status: "detached", paused: false };
      r.shown = snapshot(r);
      publish();
    },
    [conn, publish],
  );

  const setPaused = useCallback(
    (attachment: number, paused: boolean) => {
      const r = records.current.get(attachment);
      if (!r) return;
      r.data = { ...r.data, paused };
      r.shown = snapshot(r);
      publish();
    },
    [publish],
  );

  const remove = useCallback(
    (attachment: number) => {
      const r = records.current.get(attachment);
      if (!r || r.data.status === "live") return;
      records.current.delete(attachment);
      publish();
    },
    [publish],
  );

  const replayCapture = useCallback(
    async (cycles: number, rate: number) => {
      const worker = hub.get("worker");
      const capture = hub.get("capture");
      const s = conn.current();
      if (!worker || !capture || !s) return;
      setReplay((r) => ({ ...r, busy: true, error: undefined }));
      try {
        const { data, dlts } = await worker.packetBytes(0, Math.min(capture.count, REPLAY_FRAMES));
        // Only Ethernet frames can go into a veth; tagged ones would not arrive as sent.
        const frames = data.filter((d, i) => dlts[i] === 1 && d.length <= (s.limits?.packetBytes ?? 65535) && crossesVeth(d));
        const skipped = capture.count - frames.length;
        if (frames.length === 0) throw new Error("the capture has no untagged Ethernet frames to send");
        setReplay((r) => ({ ...r, frames: frames.length, skipped }));
        const sent = await s.sendFrames(frames, frames.length * Math.max(1, Math.floor(cycles)), Math.max(0, Math.floor(rate)));
        setReplay((r) => ({ ...r, busy: false, sent: r.sent + sent }));
      } catch (e) {
        setReplay((r) => ({ ...r, busy: false, error: e instanceof Error ? e.message : String(e) }));
      }
    },
    [hub, conn],
  );

  useSignal("live.attach", () => void attach());
  useSignal("live.detach", (id) => void detach(id));
  useSignal("live.pause", ({ attachment, paused }) => setPaused(attachment, paused));
  useSignal("live.remove", (id) => remove(id));
  // Sends the loaded capture `cycles` times at `rate` packets/s (0: as fast as the agent can).
  useSignal("live.replay", ({ cycles, rate }) => void replayCapture(cycles, rate));

  const canAttach = !!conn.url;
  const why = conn.why;
  useEffect(() => {
    hub.publish("live", { attachments, busy, error, released, replay, canAttach, why });
  }, [hub, attachments, busy, error, released, replay, canAttach, why]);
}
