"use client";
/**
 * The seam for the local agent (lib/protocol + the WebSocket agent, not built yet). The page
 * works without it; every kernel feature says how to get it instead of failing.
 */
import { useState, memo } from "react";

export interface AgentInfo {
  /** The address from the URL (`#agent=ws://127.0.0.1:PORT/?token=…`), if any. */
  url: string | null;
  connected: boolean;
  /** Why it is not connected. */
  reason: string;
}

/** Reads the agent address from the page URL; connecting needs lib/protocol, which does not exist yet. */
export function agentFromLocation(hash: string): AgentInfo {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const url = params.get("agent");
  if (!url) return { url: null, connected: false, reason: "no agent address in the page URL" };
  return { url, connected: false, reason: "this build has no agent protocol yet" };
}

export function AgentStatus({ agent, testId = "agent-status" }: { agent: AgentInfo; testId?: string }) {
  return (
    <span className="pill" data-testid={testId} title={agent.connected ? `agent at ${agent.url}` : `not connected: ${agent.reason}`}>
      <span className={`dot${agent.connected ? " on" : ""}`} />
      {agent.connected ? "kernel agent connected" : "agent: not connected"}
    </span>
  );
}

export function AgentNeeded({ what }: { what: string }) {
  return (
    <div className="pane-note">
      Needs the kernel: {what}.
      <br />
      Connect the agent (<code>bpf-playground start</code> prints the URL to open, with the agent&apos;s address in it).
    </div>
  );
}

type KernelTab = "log" | "xlated" | "jit";

const TAB_TEXT: Record<KernelTab, string> = {
  log: "the kernel verifier's log for the translated program (BPF_PROG_LOAD, log_level 2)",
  xlated: "the instructions as the kernel rewrote them (bpftool prog dump xlated)",
  jit: "the JIT-compiled x86-64 code",
};

export const KernelPane = memo(function KernelPane({ agent }: { agent: AgentInfo }) {
  const [tab, setTab] = useState<KernelTab>("log");
  return (
    <div className="pane" data-testid="kernel-log-pane">
      <div className="pane-head">
        <span className="pane-title">Kernel</span>
        <div className="tabs" role="tablist">
          {(["log", "xlated", "jit"] as const).map((t) => (
            <button key={t} role="tab" aria-selected={tab === t} onClick={() => setTab(t)}>
              {t === "log" ? "verifier log" : t}
            </button>
          ))}
        </div>
        <span className="grow" />
        <AgentStatus agent={agent} testId="kernel-agent-status" />
      </div>
      <div className="pane-body">
        <AgentNeeded what={TAB_TEXT[tab]} />
        {agent.url && <div className="pane-note">Agent address in the URL: <code>{agent.url.replace(/token=[^&]+/, "token=…")}</code> ({agent.reason}).</div>}
      </div>
    </div>
  );
});
