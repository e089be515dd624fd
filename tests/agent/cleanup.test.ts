/**
 * Nothing outlives its owner: a client that disconnects mid-stream, and an agent killed with
 * SIGKILL, both leave no program, no link, no namespace (veth), no helper process behind. Checked
 * through the kernel's own listings (BPF_*_GET_NEXT_ID), `ip link`, /proc and, when installed,
 * bpftool.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startAgent, type RunningAgent } from "../../server/agent/server";
import { toBase64, type AgentClient, type StreamMessage } from "../../lib/protocol";
import { listLinks, listPrograms } from "../../server/kernel/objects";
import { bpftool, describeKernel, hasBpftool } from "../kernel/support";
import { sampleFrames } from "../kernel/frames";
import { connect, spawnAgent, until } from "./support";
import { processGone } from "../support/processes";

interface Owned {
  progIds: number[];
  linkIds: number[];
  hostIf: string;
  hostIfindex: number;
}

/** Everything a busy client makes: a loaded program, four attachments, a stream, running traffic. */
async function makeEverything(client: AgentClient): Promise<Owned & { messages: StreamMessage[] }> {
  const demo = await client.request("demoUp", {});
  const loaded = await client.request("load", { program: { kind: "filter", filter: "udp" }, target: "tc" });
  if (loaded.outcome !== "loaded") throw new Error(loaded.log);
  const progIds = [loaded.progId];
  const linkIds: number[] = [];
  const messages: StreamMessage[] = [];
  for (const target of ["xdp", "tc", "socket", "kprobe"] as const) {
    const a = await client.request("attach", { source: { kind: "filter", filter: "tcp" }, target, on: { kind: "demo" } });
    progIds.push(a.progId);
    if (a.linkId !== null) linkIds.push(a.linkId);
    if (target === "xdp") await client.subscribe(a.attachment, (m) => messages.push(m));
  }
  const frames = sampleFrames().map(toBase64);
  await client.request("trafficStart", { frames: { kind: "supplied", frames }, rate: 5000, durationMs: 30_000 });
  await client.request("trafficStart", { frames: { kind: "synthetic", distinct: 64 }, rate: 2000, durationMs: 30_000 });
  return { progIds, linkIds, hostIf: demo.hostIf, hostIfindex: demo.hostIfindex, messages };
}

function interfaces(): string[] {
  return execFileSync("ip", ["-o", "link", "show"], { encoding: "utf8" })
    .split("\n")
    .map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1] ?? "")
    .filter(Boolean);
}

/** pid -> parent pid of every process. */
function processTable(): Map<number, number> {
  const out = execFileSync("ps", ["-eo", "pid=,ppid="], { encoding: "utf8" });
  const m = new Map<number, number>();
  for (const line of out.split("\n")) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number);
    if (pid && ppid !== undefined) m.set(pid, ppid);
  }
  return m;
}

function descendants(root: number): number[] {
  const table = processTable();
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [pid, ppid] of table) {
      if (ppid === p) {
        out.push(pid);
        walk(pid);
      }
    }
  };
  walk(root);
  return out;
}

function leftovers(o: Owned, pids: number[]): string[] {
  const out: string[] = [];
  const progs = new Set(listPrograms().map((p) => p.id));
  const links = new Set(listLinks().map((l) => l.id));
  for (const id of o.progIds) if (progs.has(id)) out.push(`program ${id}`);
  for (const id of o.linkIds) if (links.has(id)) out.push(`link ${id}`);
  if (interfaces().includes(o.hostIf)) out.push(`interface ${o.hostIf}`);
  for (const pid of pids) if (!processGone(pid)) out.push(`process ${pid}`);
  return out;
}

/** bpftool, an independent reader, agrees that nothing is left (when installed). */
function bpftoolAgrees(o: Owned): void {
  if (!hasBpftool("[agent] cleanup vs bpftool")) return;
  const progs = (bpftool(["prog", "show"]) as { id: number }[]).map((p) => p.id);
  const links = (bpftool(["link", "show"]) as { id: number }[]).map((l) => l.id);
  expect(o.progIds.filter((id) => progs.includes(id))).toEqual([]);
  expect(o.linkIds.filter((id) => links.includes(id))).toEqual([]);
  const net = JSON.stringify(bpftool(["net", "show"]));
  expect(net.includes(`"${o.hostIf}"`)).toBe(false);
}

describeKernel("agent cleanup", () => {
  let agent: RunningAgent;
  beforeAll(async () => {
    agent = await startAgent();
  });
  afterAll(() => agent?.close());

  it("a client that disconnects mid-stream leaves nothing behind", async () => {
    const before = new Set(descendants(process.pid));
    const client = await connect(agent.url);
    const owned = await makeEverything(client);
    expect(await until(() => owned.messages.length >= 3 && owned.messages.at(-1)!.counters.total > 0, 5000)).toBe(true);
    // The agent's kernel workers serve every connection and stay; the connection's own helpers must go.
    const workers = agent.workers().pids;
    expect(workers.length).toBeGreaterThan(0);
    const helpers = descendants(process.pid).filter((p) => !before.has(p) && !workers.includes(p));
    expect(helpers.length).toBeGreaterThanOrEqual(2); // the namespace holder and the traffic source
    expect(leftovers(owned, [])).not.toEqual([]); // sanity: the objects exist before the close
    client.close();
    await client.closed;
    expect(await until(() => leftovers(owned, helpers).length === 0, 15_000, 50), leftovers(owned, helpers).join(", ")).toBe(true);
    expect(agent.connectionCount()).toBe(0);
    bpftoolAgrees(owned);
  });

  it("an agent killed with SIGKILL leaves nothing behind", async () => {
    const p = await spawnAgent();
    const pid = p.child.pid!;
    const client = await connect(p.url);
    const owned = await makeEverything(client);
    expect(await until(() => owned.messages.length >= 3, 5000)).toBe(true);
    const helpers = descendants(pid);
    expect(helpers.length).toBeGreaterThanOrEqual(2);
    const exited = new Promise((r) => p.child.once("exit", r));
    p.child.kill("SIGKILL");
    await exited;
    await client.closed;
    expect(await until(() => leftovers(owned, helpers).length === 0, 15_000, 50), leftovers(owned, helpers).join(", ")).toBe(true);
    bpftoolAgrees(owned);
  });
});
