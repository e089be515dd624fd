"use client";
/**
 * The debugger session in the worker: a new packet, engine, program or target restarts it at the
 * first instruction; "debug.command" steps, goes back, runs to a breakpoint or resets.
 */
import { useCallback, useEffect } from "react";
import { programKey } from "../../../lib/pipeline";
import { useHub, useSignal, useTopic, useTopicPart, type EventHub } from "../events";
import type { DebugCommand } from "../worker/protocol";

/** What identifies the shown program for the debugger and the kernel ("" before there is one). */
export function useProgramSig(): string {
  const input = useTopic("pipeline.input");
  const hasCbpf = useTopicPart("pipeline.result", (r) => !!r?.cbpf);
  return hasCbpf && input ? `${input.target}|${input.dlt}|${programKey(input.insns)}` : "";
}

export function useDebugger(): void {
  const hub = useHub();
  const selected = useTopic("packet.selected");
  const engine = useTopic("debug.engine");
  const captureKey = useTopicPart("capture", (c) => c?.key);
  const programSig = useProgramSig();

  const debug = useCallback(
    (cmd: DebugCommand) => {
      const c = hub.get("worker");
      if (!c) return;
      void c.debug(cmd).then((snap) => hub.publish("debug.snapshot", snap));
    },
    [hub],
  );

  const start = useCallback(() => {
    const program = hub.get("pipeline.input");
    if (selected === null || !program) {
      hub.publish("debug.snapshot", null);
      return;
    }
    debug({ op: "start", engine, packet: selected, program });
  }, [debug, engine, selected, hub]);
  useEffect(() => {
    start();
  }, [start, programSig, captureKey]);

  useSignal("debug.command", (cmd) => {
    if (cmd === "reset") return start();
    if (cmd === "run") {
      const bps = hub.get("debug.breakpoints");
      return debug({ op: "run", breakpoints: hub.get("debug.engine") === "cbpf" ? bps.cbpf : bps.ebpf });
    }
    debug({ op: cmd });
  });
}

/** Sets or clears a breakpoint on a cBPF line or an eBPF slot. */
export function toggleBreakpoint(hub: EventHub, which: "cbpf" | "ebpf", at: number): void {
  hub.update("debug.breakpoints", (b) => {
    const list = b[which];
    return { ...b, [which]: list.includes(at) ? list.filter((x) => x !== at) : [...list, at] };
  });
}
