"use client";
/**
 * Captures: load a file (picked or dropped) or a sample, export the matches, and the list of
 * samples the server offers. Panes ask through signals ("capture.file", "capture.sample",
 * "capture.export"); progress and errors come back through the capture topics.
 */
import { useEffect, useState } from "react";
import { useHub, useSignal, type EventHub } from "../events";
import type { Sample } from "../panes/PacketsPane";

function download(bytes: Uint8Array, name: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: "application/vnd.tcpdump.pcap" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 5000);
}

function loadFile(hub: EventHub, file: File): void {
  const c = hub.get("worker");
  if (!c) return;
  hub.publish("capture.loading", { name: file.name, progress: 0 });
  hub.publish("capture.error", null);
  void file.arrayBuffer().then((buf) => c.load(file.name, buf));
}

function loadSample(hub: EventHub, s: Sample): void {
  const c = hub.get("worker");
  if (!c) return;
  hub.publish("capture.loading", { name: s.title, progress: 0 });
  hub.publish("capture.error", null);
  void fetch(`/samples/${s.file}`)
    .then((r) => {
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      return r.arrayBuffer();
    })
    .then((buf) => c.load(s.file, buf))
    .catch((e: unknown) => {
      hub.publish("capture.loading", null);
      hub.publish("capture.error", `${s.file}: ${e instanceof Error ? e.message : String(e)}`);
    });
}

async function exportCapture(hub: EventHub, which: "matched-cbpf" | "matched-ebpf" | "all"): Promise<void> {
  const c = hub.get("worker");
  if (!c) return;
  const { bytes, count } = await c.exportCapture(which);
  if (!bytes) {
    hub.emit("toast", which === "all" ? "No packets to export." : "No matching packets to export.");
    return;
  }
  download(bytes, `${which}.pcap`);
  hub.emit("toast", `Exported ${count} packets.`);
}

/** The samples index, read once the worker runs (as the page always did). */
function useSamples(hub: EventHub): void {
  useEffect(() => {
    let cancelled = false;
    void fetch("/samples/index.json")
      .then((r) => (r.ok ? r.json() : []))
      .then((index: unknown) => {
        const list = Array.isArray(index) ? index : (index as { samples?: unknown })?.samples;
        if (cancelled || !Array.isArray(list)) return;
        hub.publish(
          "samples",
          list
            .filter((s): s is Record<string, unknown> => typeof s === "object" && s !== null && typeof (s as { file?: unknown }).file === "string")
            .map((s) => ({ file: String(s.file), title: String(s.title ?? s.name ?? s.file) + (typeof s.packets === "number" ? ` (${s.packets})` : ""), description: typeof s.description === "string" ? s.description : undefined })),
        );
      })
      .catch(() => undefined);
    return () => {
      cancelled = true;
    };
  }, [hub]);
}

/** Whether files are being dragged over the page; a drop loads the first. */
function useFileDrop(hub: EventHub): boolean {
  const [dragging, setDragging] = useState(false);
  useEffect(() => {
    let depth = 0;
    const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer?.types ?? []).includes("Files");
    const enter = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      depth++;
      setDragging(true);
    };
    const leave = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) setDragging(false);
    };
    const over = (e: DragEvent) => hasFiles(e) && e.preventDefault();
    const drop = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth = 0;
      setDragging(false);
      const f = e.dataTransfer?.files[0];
      if (f) loadFile(hub, f);
    };
    window.addEventListener("dragenter", enter);
    window.addEventListener("dragleave", leave);
    window.addEventListener("dragover", over);
    window.addEventListener("drop", drop);
    return () => {
      window.removeEventListener("dragenter", enter);
      window.removeEventListener("dragleave", leave);
      window.removeEventListener("dragover", over);
      window.removeEventListener("drop", drop);
    };
  }, [hub]);
  return dragging;
}

/** The capture service: returns whether a file is being dragged over the page. */
export function useCaptures(): { dragging: boolean } {
  const hub = useHub();
  useSamples(hub);
  useSignal("capture.file", (f) => loadFile(hub, f));
  useSignal("capture.sample", (s) => loadSample(hub, s));
  useSignal("capture.export", (which) => void exportCapture(hub, which));
  return { dragging: useFileDrop(hub) };
}
