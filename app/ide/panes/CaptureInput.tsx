"use client";
/** The page's hidden file picker and drop zone; the capture service does the loading. */
import { useRef } from "react";
import { useHub, useSignal } from "../events";
import { useCaptures } from "../hooks/use-captures";

export function CaptureInput() {
  const hub = useHub();
  const { dragging } = useCaptures();
  const input = useRef<HTMLInputElement>(null);
  useSignal("capture.pick", () => input.current?.click());
  return (
    <>
      <input
        ref={input}
        type="file"
        accept=".pcap,.pcapng,.cap,.dmp,application/vnd.tcpdump.pcap"
        style={{ display: "none" }}
        data-testid="file-input"
        onChange={(e) => {
          const f = e.target.files?.[0];
          if (f) hub.emit("capture.file", f);
          e.target.value = "";
        }}
      />
      {dragging && <div className="dropzone">Drop a pcap or pcapng file to load it</div>}
    </>
  );
}
