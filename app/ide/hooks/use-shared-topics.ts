"use client";
/**
 * Publishes the page state the inject and diff panes read (settings, the last good compile, the
 * agent, the kernel view) from Ide.tsx's own state onto the event map. A bridge until Ide.tsx is
 * split into panes that publish these themselves; then this hook goes.
 */
import { useEffect } from "react";
import type { EventHub, IdeTopics } from "../events";

export function useSharedTopics(
  hub: EventHub,
  state: { settings: IdeTopics["settings"]; good: IdeTopics["compile.good"]; agent: IdeTopics["agent"]; kernel: IdeTopics["kernel.view"] },
): void {
  const { settings, good, agent, kernel } = state;
  useEffect(() => hub.publish("settings", settings), [hub, settings]);
  useEffect(() => hub.publish("compile.good", good), [hub, good]);
  useEffect(() => hub.publish("agent", agent), [hub, agent]);
  useEffect(() => hub.publish("kernel.view", kernel), [hub, kernel]);
}
