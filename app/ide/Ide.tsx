"use client";
import { useEffect, useRef } from "react";
import { monaco } from "./monaco/setup";

export default function Ide() {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const ed = monaco.editor.create(ref.current!, { value: "tcp port 80", language: "plaintext" });
    return () => ed.dispose();
  }, []);
  return <div data-testid="filter-input" ref={ref} style={{ height: 300 }} />;
}
