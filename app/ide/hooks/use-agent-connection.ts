"use client";
/**
 * A pane's own connection to the agent, opened on first use to the address the page was started
 * with and closed when the pane goes. Closing a connection makes the agent release everything it
 * made (programs, attachments, its demo network), so a pane's objects live exactly as long as
 * its connection: `onGone` is told when the agent closes it first. The inject and live panes use
 * this; the kernel pane's session is the page's (use-kernel-run.ts).
 */
import { useCallback, useEffect, useMemo, useRef } from "react";
import { AgentSession } from "../agent/session";
import { useTopic, type IdeTopics } from "../events";

export interface AgentConnection {
  /** The agent's address, or null when the page has none. */
  readonly url: string | null;
  /** Why there is no agent to use ("" when there is an address). */
  readonly why: string;
  /** The open session, opening it first when needed. */
  readonly open: () => Promise<AgentSession>;
  /** The open session, if any, without opening one. */
  readonly current: () => AgentSession | null;
}

export function useAgentConnection(onGone: (reason: string) => void): AgentConnection {
  const agent = useTopic("agent", AGENT_UNKNOWN);
  const url = agent.url ?? null;
  const session = useRef<AgentSession | null>(null);
  const opening = useRef<Promise<AgentSession> | null>(null);
  const gone = useRef(onGone);
  gone.current = onGone;

  useEffect(
    () => () => {
      session.current?.close();
      session.current = null;
    },
    [],
  );

  const open = useCallback(async () => {
    if (session.current) return session.current;
    if (!url) throw new Error("no agent address in the page URL");
    // Two clicks before the first connection is up share it.
    opening.current ??= AgentSession.open(url, (reason) => {
      session.current = null;
      gone.current(reason);
    }).finally(() => (opening.current = null));
    session.current = await opening.current;
    return session.current;
  }, [url]);

  const current = useCallback(() => session.current, []);
  const why = url ? "" : agent.reason || "no agent address in the page URL (start the page with bpf-playground start)";
  // One object while the address stands: callers list it in their hooks' dependencies.
  return useMemo(() => ({ url, why, open, current }), [url, why, open, current]);
}

/** Before Ide.tsx publishes the agent (a constant, so the snapshot is stable). */
const AGENT_UNKNOWN: IdeTopics["agent"] = { url: null, connected: false, reason: "" };
