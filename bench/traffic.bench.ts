/**
 * The demo network's two traffic modes side by side, in one run, through the agent as the page
 * uses it (the agent in its own process):
 * - "socket": sendmmsg on an AF_PACKET socket in the namespace, from the traffic source process;
 * - "xdp-live": the kernel's generator, BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES, from the
 *   agent's isolate workers.
 * Both send the same 256 frames, as fast as they can, at an XDP counting program of `tcp` attached
 * in native mode on the host end. For each: packets/s, whether both counters are exact (total =
 * sent, matched = tcpdump's matches of each frame × how often it was sent), and the agent
 * process's own CPU (user and system, from /proc) during the flood; the isolate workers' time is
 * almost all inside the syscall.
 */
import { readFileSync } from "node:fs";
import type { Benchmark, BenchFigure } from "./harness";
import { kernelUnavailableReason } from "../server/kernel/kernel-info";
import { generateMix } from "../lib/craft";
import { toBase64, type AgentClient, type StreamMessage } from "../lib/protocol";
import { tcpdumpMatches } from "../tests/support/tcpdump-oracle";
import { connect, spawnAgent, until } from "../tests/agent/support";

const FILTER = "tcp";
const SOCKET_MS = 3000;
const LIVE_COUNT = 4_000_000;

function cpuTimes(pid: number): { user: number; sys: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { user: Number(f[11]) / 100, sys: Number(f[12]) / 100 };
}

/** How many of `sent` frames, cycling through the list, match (each frame's verdict from tcpdump). */
function expectedMatched(matches: readonly boolean[], sent: number): number {
  const n = matches.length;
  return matches.reduce((m, hit, i) => m + (hit ? Math.floor(sent / n) + (i < sent % n ? 1 : 0) : 0), 0);
}

async function flood(client: AgentClient, pid: number, frames: string[], matches: boolean[], mode: "socket" | "xdp-live", batchSize?: number): Promise<BenchFigure[]> {
  const label = batchSize ? `${mode} (batch ${batchSize})` : mode;
  const att = await client.request("attach", { source: { kind: "filter", filter: FILTER }, target: "xdp", xdpMode: "native", on: { kind: "demo" } });
  const messages: StreamMessage[] = [];
  await client.subscribe(att.attachment, (m) => messages.push(m));
  const c0 = cpuTimes(pid);
  const t0 = performance.now();
  const job = await client.request("trafficStart", {
    mode,
    frames: { kind: "supplied", frames },
    ...(mode === "socket" ? { durationMs: SOCKET_MS } : { count: LIVE_COUNT, ...(batchSize ? { batchSize } : {}) }),
  });
  const sent = await client.request("trafficWait", { traffic: job.traffic, timeoutMs: 120_000 });
  const wallS = (performance.now() - t0) / 1000;
  const c1 = cpuTimes(pid);
  await until(() => (messages.at(-1)?.counters.total ?? 0) >= sent.sent, 5000);
  const det = await client.request("detach", { attachment: att.attachment });
  const want = { total: sent.sent, matched: expectedMatched(matches, sent.sent) };
  const exact = det.counters.total === want.total && det.counters.matched === want.matched;
  return [
    {
      name: `${label}: packets/s sent and counted (XDP native counter on the demo veth)`,
      value: sent.pps,
      unit: "pkt/s",
      note: exact ? `exact: total ${want.total}, matched ${want.matched} = tcpdump × sends` : `MISMATCH: counted ${JSON.stringify(det.counters)}, expected ${JSON.stringify(want)}`,
    },
    { name: `${label}: agent CPU outside the kernel (user) during the flood`, value: (100 * (c1.user - c0.user)) / wallS, unit: "% of one core" },
    { name: `${label}: agent CPU in the kernel (system) during the flood`, value: (100 * (c1.sys - c0.sys)) / wallS, unit: "% of one core" },
  ];
}

const bench: Benchmark = {
  name: "traffic",
  description: "demo-network traffic modes side by side: socket (sendmmsg) vs xdp-live (BPF_F_TEST_XDP_LIVE_FRAMES); exactness and agent CPU",
  async run(): Promise<BenchFigure[]> {
    const why = kernelUnavailableReason();
    if (why) {
      process.stderr.write(`traffic bench skipped: ${why}\n`);
      return [];
    }
    const raw = generateMix(0x7aff, 512, { dlt: 1 })
      .map((p) => p.data)
      .filter((d) => d.length >= 14 && d.length <= 1514 && ((d[12]! << 8) | d[13]!) !== 0x8100)
      .slice(0, 256);
    const oracle = await tcpdumpMatches(raw.map((d) => ({ data: d, origLen: d.length })), 1, FILTER);
    if (!oracle.ok) throw new Error(oracle.error);
    const agent = await spawnAgent();
    const client = await connect(agent.url, { timeoutMs: 180_000 });
    try {
      await client.request("demoUp", {});
      const frames = raw.map(toBase64);
      const figures = [
        ...(await flood(client, agent.child.pid!, frames, oracle.matches, "socket")),
        ...(await flood(client, agent.child.pid!, frames, oracle.matches, "xdp-live")),
        ...(await flood(client, agent.child.pid!, frames, oracle.matches, "xdp-live", 16)),
      ];
      await client.request("demoDown", {});
      return figures;
    } finally {
      client.close();
      await agent.stop();
    }
  },
};

export default bench;
