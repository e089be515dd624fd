"use client";
/** The selected packet's detail (dissection and bytes) and the jump to the next mismatch. */
import { useEffect } from "react";
import { useHub, useSignal, useTopic } from "../events";

export function useSelection(): void {
  const hub = useHub();
  const selected = useTopic("packet.selected");
  const capture = useTopic("capture");

  useEffect(() => {
    const c = hub.get("worker");
    if (!c || selected === null || !capture) {
      hub.publish("packet.detail", null);
      return;
    }
    let live = true;
    void c.detail(selected).then((d) => live && hub.publish("packet.detail", d));
    return () => {
      live = false;
    };
  }, [selected, capture, hub]);

  useSignal("packet.nextMismatch", () => {
    const mm = hub.get("pipeline.result")?.verdicts.mismatches;
    if (!mm || mm.length === 0) {
      hub.emit("toast", "No mismatches: every engine agrees on every packet.");
      return;
    }
    const sel = hub.get("packet.selected");
    const after = Array.from(mm).find((i) => sel === null || i > sel);
    hub.publish("packet.selected", after ?? mm[0]!);
  });
}
