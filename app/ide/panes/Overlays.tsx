"use client";
/** The dialog on top of the page ("overlay" topic) and the toast ("toast" signal). */
import { useEffect, useState } from "react";
import { useHub, useSignal, useTopic, useTopicPart } from "../events";
import { clearLayout } from "../layout/storage";
import { COMMON_DLTS } from "../dlts";
import { GenerateDialog, HelpOverlay, PresenterDialog, ShareDialog } from "./Dialogs";
import { PacketEditor } from "./PacketEditor";

function EditorOverlay({ mode, onClose }: { mode: "edit" | "new"; onClose: () => void }) {
  const hub = useHub();
  const detail = useTopic("packet.detail");
  const dlt = useTopicPart("settings", (s) => s.dlt);
  return (
    <PacketEditor
      mode={mode}
      initial={mode === "edit" ? (detail?.data ?? null) : null}
      dlt={dlt}
      onClose={onClose}
      onApply={(data, how) => {
        const c = hub.get("worker");
        if (!c) return;
        const selected = hub.get("packet.selected");
        if (how === "replace" && selected !== null) c.edit("replace", selected, data, dlt);
        else c.edit("insert", selected === null ? hub.get("capture")?.count ?? 0 : selected + 1, data, dlt);
      }}
    />
  );
}

function PresenterOverlay({ onClose }: { onClose: () => void }) {
  const hub = useHub();
  const panes = useTopic("view.presenterPanes");
  return (
    <PresenterDialog
      panes={panes}
      onChange={(p) => hub.publish("view.presenterPanes", p)}
      onClose={onClose}
      onResetLayout={() => {
        clearLayout();
        window.dispatchEvent(new Event("bpfp:reset-layout"));
      }}
    />
  );
}

export function Overlays() {
  const hub = useHub();
  const overlay = useTopic("overlay");
  const close = () => hub.publish("overlay", null);
  if (overlay === null) return null;
  if (overlay === "help") return <HelpOverlay onClose={close} />;
  if (overlay === "presenter") return <PresenterOverlay onClose={close} />;
  if (overlay === "generate")
    return (
      <GenerateDialog
        dlts={COMMON_DLTS.filter((d) => d.generate)}
        onClose={close}
        onGenerate={(seed, count, dlt) => {
          hub.publish("capture.loading", { name: `generated mix (${count} packets)`, progress: 0 });
          hub.get("worker")?.generate(`generated mix (${count} packets, seed ${seed})`, seed, count, dlt);
        }}
      />
    );
  if ("share" in overlay) return <ShareDialog link={overlay.share} note={overlay.note} onClose={close} />;
  return <EditorOverlay mode={overlay.editor} onClose={close} />;
}

/** A short message at the bottom of the page, for 3.5 s. */
export function Toast() {
  const [toast, setToast] = useState<string | null>(null);
  useSignal("toast", setToast);
  useEffect(() => {
    if (!toast) return;
    const t = setTimeout(() => setToast(null), 3500);
    return () => clearTimeout(t);
  }, [toast]);
  return toast ? <div className="toast">{toast}</div> : null;
}
