"use client";
import dynamic from "next/dynamic";

// Monaco touches `window` at import time, so the IDE is rendered on the client only.
const Ide = dynamic(() => import("./Ide"), {
  ssr: false,
  loading: () => <div className="boot">Loading BPF Playground…</div>,
});

export default function IdeLoader() {
  return <Ide />;
}
