"use client";
/**
 * The page's keyboard shortcuts (the help overlay lists them). The handler reads the hub when a
 * key comes, so the shortcuts subscribe to nothing and never render.
 */
import { useEffect } from "react";
import { useHub } from "../events";
import { linkStore } from "../link-store";
import { TARGETS } from "../settings";

export function useKeys(): void {
  const hub = useHub();
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      const typing = !!t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable || !!t.closest(".monaco-editor"));
      const key = e.key;
      if (e.altKey && !e.ctrlKey && !e.metaKey) {
        const code = e.code;
        const handled = () => {
          e.preventDefault();
          e.stopPropagation();
        };
        if (/^Digit[1-4]$/.test(code)) {
          hub.update("settings", (s) => ({ ...s, target: TARGETS[Number(code.slice(5)) - 1]! }));
          return handled();
        }
        switch (code) {
          case "KeyO":
            hub.update("settings", (s) => ({ ...s, optimize: !s.optimize }));
            return handled();
          case "KeyR":
            hub.update("view.rainbow", (r) => !r);
            return handled();
          case "KeyT":
            hub.update("view.theme", (th) => (th === "dark" ? "light" : "dark"));
            return handled();
          case "KeyP":
            hub.update("view.presenter", (p) => !p);
            return handled();
          case "KeyS":
            hub.emit("share.make", undefined);
            return handled();
          case "KeyD":
            hub.update("view.cbpfTab", (tab) => (tab === "d" ? "dd" : tab === "dd" ? "ddd" : "d"));
            return handled();
          case "KeyM":
            hub.emit("packet.nextMismatch", undefined);
            return handled();
        }
      }
      if (key === "F10") {
        e.preventDefault();
        hub.emit("debug.command", e.shiftKey ? "back" : "step");
        return;
      }
      if (key === "F5") {
        e.preventDefault();
        hub.emit("debug.command", e.shiftKey ? "reset" : "run");
        return;
      }
      if ((e.ctrlKey || e.metaKey) && key.toLowerCase() === "o") {
        e.preventDefault();
        hub.emit("capture.pick", undefined);
        return;
      }
      if ((e.ctrlKey || e.metaKey) && key.toLowerCase() === "l") {
        e.preventDefault();
        hub.emit("filter.focus", undefined);
        return;
      }
      if (key === "Escape") {
        linkStore.setSelected(null);
        return;
      }
      if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
      if (key === "/") {
        e.preventDefault();
        hub.emit("filter.focus", undefined);
      } else if (key === "?") {
        hub.publish("overlay", "help");
      } else if (key === "e" && hub.get("packet.selected") !== null) {
        hub.publish("overlay", { editor: "edit" });
      } else if (key === "n") {
        hub.publish("overlay", { editor: "new" });
      }
    };
    window.addEventListener("keydown", onKey, true);
    return () => window.removeEventListener("keydown", onKey, true);
  }, [hub]);
}
