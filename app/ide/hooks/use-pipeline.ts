"use client";
/**
 * The compile and pipeline core: settings → /api/compile → worker (runPipeline) → the
 * "pipeline.result" topic every pane reads. It owns the worker and the compile client, feeds the
 * `window.__bpfp` test hook and measures keystroke to screen. The last good compilation stays on
 * screen while the filter is being edited into something libpcap refuses.
 */
import { useEffect, useRef } from "react";
import { CompileClient } from "../compile-client";
import { PipelineClient } from "../worker/client";
import type { EngineVerdicts } from "../../../lib/pipeline";
import { listingContext } from "../monaco/context";
import { saveJson } from "../layout/storage";
import { useHub, useSignal, useTopic, type EventHub } from "../events";
import { note } from "../test-hook";
import { useLinkPrograms } from "./use-link-programs";

/** Starts the worker and the compile client; they live as long as the page. */
function useServices(hub: EventHub, runSeq: { current: number }): { current: CompileClient | null } {
  const compiler = useRef<CompileClient | null>(null);
  useEffect(() => {
    const captureKeys = { n: hub.get("capture")?.key ?? 0 };
    const c = new PipelineClient({
      result(seq, input, r, workerMs) {
        note(`result ${seq} ${JSON.stringify(input.filter)} (latest run ${runSeq.current})`);
        if (seq !== -1 && seq < runSeq.current) return;
        // Input first: subscribers of both render once, with both (one batch).
        hub.publish("pipeline.input", input);
        hub.publish("pipeline.result", r);
        hub.update("timing", (t) => ({ ...t, workerMs }));
      },
      ebpfVerdicts(seq, verdicts: EngineVerdicts, mismatches, workerMs) {
        if (seq !== -1 && seq < runSeq.current) return;
        hub.update("pipeline.result", (prev) => (prev ? { ...prev, verdicts: { ...prev.verdicts, ebpf: verdicts, mismatches } } : prev));
        hub.update("timing", (t) => ({ ...t, ebpfMs: workerMs }));
      },
      progress(_id, _phase, done, total) {
        hub.update("capture.loading", (l) => (l ? { ...l, progress: total > 0 ? done / total : 0 } : l));
      },
      loaded(info) {
        captureKeys.n++;
        hub.publish("capture", { ...info, key: captureKeys.n });
        hub.publish("capture.loading", null);
        hub.publish("capture.error", info.error ? `${info.name}: reading stopped early: ${info.error}` : null);
        if (info.format === "edited") {
          hub.update("packet.selected", (s) => (s === null || info.count === 0 ? null : Math.min(s, info.count - 1)));
          return;
        }
        const view = hub.get("share.view");
        hub.publish("share.view", null);
        const sel = typeof view?.selected === "number" && view.selected < info.count ? view.selected : info.count > 0 ? 0 : null;
        hub.publish("packet.selected", sel);
        // A capture of another link type: compile the filter for it.
        if (info.dlts.length > 0) hub.update("settings", (s) => (info.dlts.includes(s.dlt) ? s : { ...s, dlt: info.dlts[0]! }));
      },
      loadFailed(_id, name, error) {
        hub.publish("capture.loading", null);
        hub.publish("capture.error", `${name}: ${error}`);
      },
      fatal(message) {
        hub.publish("fatal", message);
      },
    });
    compiler.current = new CompileClient((params, response, ms) => {
      note(`compiled ${JSON.stringify(params.filter)} ${response.ok ? "ok" : "error"} ${ms.toFixed(1)} ms`);
      hub.publish("compile.last", { params, response });
      hub.update("timing", (t) => ({ ...t, compileMs: ms }));
      if (response.ok) hub.publish("compile.good", { params, insns: response.insns, libpcap: response.libpcap });
    });
    hub.publish("worker", c);
    return () => {
      c.dispose();
      hub.publish("worker", null);
    };
  }, [hub, runSeq]);
  return compiler;
}

/** Publishes what the panes show to the test hook and the listings' shared context, and measures. */
function useTestHook(keyTime: { current: { filter: string; t0: number } | null }): void {
  const result = useTopic("pipeline.result");
  const timing = useTopic("timing");
  const hub = useHub();
  const updates = useRef(0);

  useEffect(() => {
    listingContext.cbpf = result?.cbpf?.insns ?? null;
    listingContext.ebpf = result?.ebpf ?? null;
    updates.current++;
    const k = keyTime.current;
    const settings = hub.get("settings");
    const shownFilter = hub.get("pipeline.input")?.filter ?? null;
    const hook = (window.__bpfp ??= { timing: hub.get("timing"), result, settings, updates: 0, lastFilterShown: null, lastMeasured: null });
    hook.result = result;
    hook.settings = settings;
    hook.updates = updates.current;
    hook.lastFilterShown = shownFilter;
    if (k && shownFilter === k.filter && result) {
      keyTime.current = null;
      note(`committed ${JSON.stringify(k.filter)}`);
      // On screen = after this commit (every pane subscribed to the result renders in it),
      // Monaco's own render (an animation frame) and the paint: a message posted from the next
      // frame's callback runs after that paint.
      requestAnimationFrame(() => {
        const ch = new MessageChannel();
        ch.port1.onmessage = () => {
          const screenMs = performance.now() - k.t0;
          hook.timing = { ...hook.timing, screenMs };
          hook.lastMeasured = k.filter;
          note(`painted ${JSON.stringify(k.filter)} ${screenMs.toFixed(1)} ms after the keystroke`);
          hub.update("timing", (t) => ({ ...t, screenMs }));
        };
        ch.port2.postMessage(0);
      });
    }
  }, [result, hub, keyTime]);

  useEffect(() => {
    if (window.__bpfp) window.__bpfp.timing = timing;
  }, [timing]);
}

export function usePipeline(): void {
  const hub = useHub();
  const runSeq = useRef(0);
  const keyTime = useRef<{ filter: string; t0: number } | null>(null);
  const compiler = useServices(hub, runSeq);
  const settings = useTopic("settings");
  const good = useTopic("compile.good");
  const worker = useTopic("worker");
  const captureDlts = useTopic("capture")?.dlts;

  useEffect(() => {
    saveJson("settings", settings);
    compiler.current?.request({ filter: settings.filter, dlt: settings.dlt, snaplen: settings.snaplen, optimize: settings.optimize });
  }, [settings, compiler]);

  // A keystroke goes straight to the compile service: the render it causes runs while the
  // request is out.
  useSignal("filter.edit", (v) => {
    keyTime.current = { filter: v, t0: performance.now() };
    note(`key ${JSON.stringify(v)}`);
    const s = hub.get("settings");
    compiler.current?.request({ filter: v, dlt: s.dlt, snaplen: s.snaplen, optimize: s.optimize });
    hub.publish("settings", { ...s, filter: v });
  });

  const programs = useLinkPrograms(good?.params ?? null, captureDlts);

  useEffect(() => {
    if (!worker || !good) return;
    const p = good.params;
    runSeq.current++;
    note(`run ${runSeq.current} ${JSON.stringify(p.filter)}`);
    worker.run(runSeq.current, { filter: p.filter, dlt: p.dlt, snaplen: p.snaplen, optimize: p.optimize, target: settings.target, insns: good.insns, programs });
  }, [good, settings.target, worker, programs]);

  useTestHook(keyTime);
}

/** Mounted once by the layout: the core has no pane of its own. */
export function PipelineCore(): null {
  usePipeline();
  return null;
}
