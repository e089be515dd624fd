"use client";
/**
 * The local agent's status and the kernel's views of the program (verifier log, xlated, JIT).
 * The page works without the agent; every kernel feature says how to get it instead of failing.
 */
import { memo, useState } from "react";
import { CodeView } from "../monaco/CodeView";
import { LANG } from "../monaco/languages";
import type { KernelProgram } from "../agent/session";
import { startFragment } from "../../../lib/pipeline/share";
import { useTopic } from "../events";
import { useFontSize } from "../hooks/use-view";

export interface AgentInfo {
  /** The address `bpf-playground start` put in the URL (`#agent=ws://127.0.0.1:PORT/?token=…`), if any. */
  url: string | null;
  connected: boolean;
  /** Why it is not connected (or "connecting…"). */
  reason: string;
  /** Kernel release, once connected. */
  kernel?: string;
}

/** The kernel's side of the current program, as the agent reported it. */
export interface KernelView {
  sig: string;
  program: KernelProgram | null;
  busy: boolean;
  error?: string;
}

/** Where this tab keeps its agent's address (with the token): sessionStorage, this tab only. */
const AGENT_KEY = "bpfp.agent";

/**
 * The agent this tab talks to. `bpf-playground start` names it in the URL it prints; the page
 * keeps it in sessionStorage (so a reload, or a share link opened later in this tab, still has
 * it) and takes it out of the address bar. Share links carry page state only, never this.
 */
export function agentAtStart(): AgentInfo {
  const { agent, rest } = startFragment(window.location.hash);
  let url = agent;
  try {
    if (agent) sessionStorage.setItem(AGENT_KEY, agent);
    else url = sessionStorage.getItem(AGENT_KEY);
  } catch {
    // Storage disabled: the agent named in this URL is used for this page only.
  }
  if (window.location.hash.includes("agent=")) {
    history.replaceState(history.state, "", `${window.location.pathname}${window.location.search}${rest ? `#${rest}` : ""}`);
  }
  if (!url) return { url: null, connected: false, reason: "no agent address in the page URL" };
  return { url, connected: false, reason: "connecting…" };
}

export function AgentStatusView({ agent, testId = "agent-status" }: { agent: AgentInfo; testId?: string }) {
  return (
    <span className="pill" data-testid={testId} title={agent.connected ? `agent at ${agent.url?.replace(/token=[^&]+/, "token=…")}` : `not connected: ${agent.reason}`}>
      <span className={`dot${agent.connected ? " on" : ""}`} />
      {agent.connected ? `kernel ${agent.kernel ?? ""} · agent connected` : agent.url ? `agent: ${agent.reason === "connecting…" ? "connecting…" : "not connected"}` : "agent: not connected"}
    </span>
  );
}

export function AgentNeeded({ what, agent }: { what: string; agent?: AgentInfo }) {
  return (
    <div className="pane-note">
      Needs the kernel: {what}.
      <br />
      Connect the agent (<code>bpf-playground start</code> prints the URL to open, with the agent&apos;s address in it).
      {agent?.url && !agent.connected && (
        <>
          <br />
          The URL names an agent, but: {agent.reason}.
        </>
      )}
    </div>
  );
}

type KernelTab = "log" | "xlated" | "jit";

const TAB_TEXT: Record<KernelTab, string> = {
  log: "the kernel verifier's log for the translated program (BPF_PROG_LOAD, log_level 2)",
  xlated: "the instructions as the kernel rewrote them (bpftool prog dump xlated)",
  jit: "the JIT-compiled x86-64 code",
};

export const KERNEL_URI = (tab: KernelTab) => `inmemory://bpf-playground/kernel.${tab}`;

export const KernelTabs = memo(function KernelTabs({ agent, kernel, fontSize }: { agent: AgentInfo; kernel: KernelView | null; fontSize: number }) {
  const [tab, setTab] = useState<KernelTab>("log");
  const p = kernel?.program ?? null;
  const text = !p ? "" : tab === "log" ? p.log : tab === "xlated" ? p.xlated.join("\n") + (p.xlated.length ? "\n" : "") : p.jit.join("\n") + (p.jit.length ? "\n" : "");
  return (
    <div className="pane" data-testid="kernel-log-pane">
      <div className="pane-head">
        <span className="pane-title">Kernel</span>
        <div className="tabs" role="tablist">
          {(["log", "xlated", "jit"] as const).map((t) => (
            <button key={t} role="tab" aria-selected={tab === t} onClick={() => setTab(t)} data-testid={`kernel-tab-${t}`}>
              {t === "log" ? "verifier log" : t}
            </button>
          ))}
        </div>
        <span className="grow" />
        <span className="pane-meta" data-testid="kernel-meta">
          {kernel?.busy ? "loading…" : p ? (p.accepted ? `loaded${p.tag ? ` · tag ${p.tag}` : ""}` : `refused (${p.errno})`) : ""}
        </span>
        <AgentStatusView agent={agent} testId="kernel-agent-status" />
      </div>
      {kernel?.error && <div className="banner bad">{kernel.error}</div>}
      <div className="pane-body">
        {agent.connected && p ? (
          <CodeView uri={KERNEL_URI(tab)} language={tab === "jit" ? "plaintext" : LANG.log} value={text} fontSize={fontSize} />
        ) : agent.connected ? (
          <div className="pane-note">{kernel?.busy ? "Loading the program into the kernel…" : "Waiting for a program that compiles."}</div>
        ) : (
          <AgentNeeded what={TAB_TEXT[tab]} agent={agent} />
        )}
      </div>
    </div>
  );
});

/** The agent's status pill of the top bar. */
export function AgentStatus() {
  const agent = useTopic("agent");
  return <AgentStatusView agent={agent} />;
}

export function KernelPane() {
  const agent = useTopic("agent");
  const kernel = useTopic("kernel.view");
  const fontSize = useFontSize();
  return <KernelTabs agent={agent} kernel={kernel} fontSize={fontSize} />;
}
