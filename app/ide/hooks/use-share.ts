"use client";
/**
 * Share links: the page's start (a link's settings, view and capture, or a generated mix) and
 * making a link of the current page ("share.make"). Links carry page state only, never the
 * agent: the receiver's page talks to their own agent (agentAtStart).
 */
import { useEffect } from "react";
import { decodeShare, encodeShare, SHARE_CAPTURE_LIMIT, shareLink } from "../../../lib/pipeline/share";
import { useHub, useSignal, useTopic, type EventHub } from "../events";
import { validSettings } from "../settings";

const FIRST_CAPTURE = ["generated mix (1000 packets)", 1, 1000, 1] as const;

async function makeShare(hub: EventHub): Promise<void> {
  const c = hub.get("worker");
  if (!c) return;
  const cap = await c.shareCapture(SHARE_CAPTURE_LIMIT);
  const selected = hub.get("packet.selected");
  const capture = hub.get("capture");
  const view: Record<string, string | number | boolean> = { tab: hub.get("view.cbpfTab"), rainbow: hub.get("view.rainbow"), engine: hub.get("debug.engine") };
  if (selected !== null && selected < cap.count) view.selected = selected;
  const encoded = await encodeShare({ ...hub.get("settings"), view, captureName: capture?.name, capture: cap.bytes ?? undefined });
  const link = shareLink(window.location.href, encoded);
  const total = capture?.count ?? 0;
  const note = cap.bytes === null ? "No packets are included." : cap.count < total ? `The link carries the first ${cap.count} of ${total} packets (captures in links are limited to 64 KB).` : `The link carries all ${cap.count} packets.`;
  void navigator.clipboard?.writeText(link).catch(() => undefined);
  hub.publish("overlay", { share: link, note });
}

export function useShare(): void {
  const hub = useHub();
  const worker = useTopic("worker");
  useSignal("share.make", () => void makeShare(hub));

  useEffect(() => {
    const c = worker;
    if (!c) return;
    let cancelled = false;
    const params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    const shared = params.get("s");
    if (shared) {
      decodeShare(shared)
        .then((st) => {
          if (cancelled) return;
          hub.publish("settings", validSettings(st));
          hub.update("filter.revision", (r) => r + 1);
          if (st.view) {
            hub.publish("share.view", st.view);
            const v = st.view;
            if (v.tab === "d" || v.tab === "dd" || v.tab === "ddd") hub.publish("view.cbpfTab", v.tab);
            if (typeof v.rainbow === "boolean") hub.publish("view.rainbow", v.rainbow);
            if (v.engine === "cbpf" || v.engine === "ebpf") hub.publish("debug.engine", v.engine);
          }
          if (st.capture) {
            hub.publish("capture.loading", { name: st.captureName ?? "shared capture", progress: 0 });
            c.load(st.captureName ?? "shared capture", st.capture.buffer.slice(st.capture.byteOffset, st.capture.byteOffset + st.capture.byteLength) as ArrayBuffer);
          } else c.generate(...FIRST_CAPTURE);
        })
        .catch((e: unknown) => {
          hub.emit("toast", `The share link could not be read: ${e instanceof Error ? e.message : String(e)}`);
          c.generate(...FIRST_CAPTURE);
        });
    } else {
      c.generate(...FIRST_CAPTURE);
    }
    return () => {
      cancelled = true;
    };
  }, [worker, hub]);
}
