"use client";
/**
 * The patched object into the kernel, through the agent: loaded by libbpf (the agent's
 * loadObject), its xlated dump published for the diff ("inject.loaded"), and test-run on a
 * generated mix of Ethernet frames (lib/craft), each verdict (read from the host's counts map)
 * compared with the cBPF interpreter's on the same frame. The pane opens its own agent
 * connection (use-agent-connection.ts) on the first load.
 */
import { useCallback, useRef, useState } from "react";
import { runFilter } from "../../../lib/cbpf/interpret";
import type { CbpfInsn } from "../../../lib/cbpf/insn";
import { demoFrames, injectTestFrames, SEND_CYCLES, TEST_FRAMES } from "./inject-frames";
import type { InjectResult } from "../../../lib/inject";
import { fromBase64 } from "../../../lib/protocol";
import type { LoadedObject } from "../agent/session";
import { useHub } from "../events";
import { useAgentConnection } from "./use-agent-connection";


export { SEND_CYCLES, TEST_FRAMES };

export interface Verdicts {
  readonly frames: number;
  /** Frames the kernel says matched. */
  readonly matched: number;
  /** Frames on which the kernel and the cBPF interpreter disagree (indices), and the frames' descriptions. */
  readonly disagree: readonly number[];
  readonly descriptions: readonly string[];
  readonly nsPerPacket: number | null;
}

export type LoadState =
  | { readonly status: "idle" }
  | { readonly status: "busy"; readonly step: string }
  | { readonly status: "refused"; readonly code: string; readonly message: string }
  | { readonly status: "error"; readonly message: string }
  | { readonly status: "loaded"; readonly object: Extract<LoadedObject, { ok: true }>; readonly verdicts: Verdicts | null; readonly testRunError?: string; readonly of: InjectResult };

/** The object's entry program for libbpf: omitted when there is only one. */
function entryProgram(result: InjectResult): string | undefined {
  const entries = result.object.programs.filter((p) => p.name !== ".text" && !p.name.startsWith(".text."));
  return entries.length > 1 ? entries[0]!.name : undefined;
}

export type AttachState =
  | { readonly status: "idle" }
  | { readonly status: "busy"; readonly step: string }
  | { readonly status: "error"; readonly message: string }
  | {
      readonly status: "live" | "detached";
      readonly hook: string;
      readonly ifname: string;
      /** The host's counts map, as streamed. */
      readonly counters: { readonly total: number; readonly matched: number };
      /**
       * What the map held before any traffic: the test run's frames, which the host counts like
       * any other packet. Counters minus this are the traffic's own.
       */
      readonly before: { readonly total: number; readonly matched: number };
      /** The newest matched packets' first bytes (newest last), and how many arrived in all. */
      readonly events: readonly { readonly len: number; readonly bytes: Uint8Array }[];
      readonly eventCount: number;
      readonly sent: number;
    };

const KEEP_EVENTS = 8;

export interface InjectLoader {
  readonly state: LoadState;
  readonly load: (result: InjectResult, cbpf: readonly CbpfInsn[]) => Promise<void>;
  readonly canLoad: boolean;
  readonly why: string;
  readonly attach: AttachState;
  /** Attaches the loaded program on the demo network (once) and sends the test frames through it. */
  readonly send: () => Promise<void>;
  readonly detach: () => Promise<void>;
}

export function useInjectLoad(): InjectLoader {
  const hub = useHub();
  const handle = useRef<number | null>(null);
  const conn = useAgentConnection(() => {
    handle.current = null;
  });
  const url = conn.url;
  const [state, setState] = useState<LoadState>({ status: "idle" });
  const job = useRef(0);
  const [attach, setAttach] = useState<AttachState>({ status: "idle" });
  const attached = useRef<{ attachment: number; handle: number } | null>(null);

  const detach = useCallback(async () => {
    const a = attached.current;
    attached.current = null;
    const s = conn.current();
    if (a && s) await s.detach(a.attachment);
    setAttach((s) => (s.status === "live" ? { ...s, status: "detached" } : s));
  }, [conn]);

  const send = useCallback(async () => {
    const s = conn.current();
    const h = handle.current;
    if (!s || h === null || state.status !== "loaded") return;
    try {
      if (attached.current?.handle !== h) {
        await detach();
        setAttach({ status: "busy", step: "attaching on the demo network…" });
        const a = await s.attachOnDemo(h, state.object.progType, (m) =>
          setAttach((cur) => {
            if (cur.status !== "live" && cur.status !== "detached") return cur;
            const fresh = m.events.map((e) => ({ len: e.len, bytes: fromBase64(e.data) }));
            return { ...cur, counters: m.counters, events: [...cur.events, ...fresh].slice(-KEEP_EVENTS), eventCount: cur.eventCount + m.events.length };
          }),
        );
        attached.current = { attachment: a.attachment, handle: h };
        const before = state.verdicts ? { total: state.verdicts.frames, matched: state.verdicts.matched } : { total: 0, matched: 0 };
        setAttach({ status: "live", hook: a.hook, ifname: a.ifname, counters: before, before, events: [], eventCount: 0, sent: 0 });
      }
      const frames = demoFrames();
      const sent = await s.sendFrames(frames, frames.length * SEND_CYCLES);
      setAttach((cur) => (cur.status === "live" ? { ...cur, sent: cur.sent + sent } : cur));
    } catch (e) {
      setAttach({ status: "error", message: e instanceof Error ? e.message : String(e) });
    }
  }, [state, detach]);

  const load = useCallback(
    async (result: InjectResult, cbpf: readonly CbpfInsn[]) => {
      if (!url) return;
      const mine = ++job.current;
      const stale = () => mine !== job.current;
      try {
        setState({ status: "busy", step: "connecting to the agent…" });
        const s = await conn.open();
        await detach();
        setAttach({ status: "idle" });
        if (handle.current !== null) {
          const old = handle.current;
          handle.current = null;
          await s.unload(old);
        }
        setState({ status: "busy", step: "libbpf is loading the patched object…" });
        const o = await s.loadObject(result.bytes, entryProgram(result));
        if (stale()) {
          if (o.ok) await s.unload(o.handle);
          return;
        }
        if (!o.ok) {
          hub.publish("inject.loaded", null);
          setState({ status: "refused", code: o.code, message: o.message });
          return;
        }
        handle.current = o.handle;
        hub.publish("inject.loaded", { section: o.section, xlated: o.xlated });
        setState({ status: "loaded", object: o, verdicts: null, of: result });
        if (result.stub.layer !== "l2") return;
        setState({ status: "busy", step: `test-running ${TEST_FRAMES} frames…` });
        const frames = injectTestFrames();
        try {
          const run = await s.testRun(o.handle, frames.map((f) => f.data), 1);
          if (stale()) return;
          const disagree: number[] = [];
          let matched = 0;
          let ns = 0;
          let ran = 0;
          run.forEach((r, i) => {
            const kernel = r.status === "ok" && r.match;
            if (kernel) matched++;
            if (r.status === "ok") {
              ns += r.ns;
              ran++;
            }
            if (r.status !== "ok" || kernel !== (runFilter(cbpf, frames[i]!.data) !== 0)) disagree.push(i);
          });
          setState({
            status: "loaded",
            object: o,
            of: result,
            verdicts: { frames: frames.length, matched, disagree, descriptions: frames.map((f) => f.description), nsPerPacket: ran ? ns / ran : null },
          });
        } catch (e) {
          if (!stale()) setState({ status: "loaded", object: o, of: result, verdicts: null, testRunError: e instanceof Error ? e.message : String(e) });
        }
      } catch (e) {
        if (!stale()) setState({ status: "error", message: e instanceof Error ? e.message : String(e) });
      }
    },
    [url, hub, detach, conn],
  );

  return { state, load, canLoad: !!url, why: conn.why, attach, send, detach };
}
