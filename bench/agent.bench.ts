/**
 * The agent, measured as the UI uses it: over its WebSocket, with the agent in its own process
 * (root and BPF required; without them the benchmark reports why and returns no figures).
 *
 * - Round trip of compile + load + test run of `tcp port 80` over 1,000 generated packets, through
 *   the agent, against the same work done in-process without the agent (same libpcap, translator,
 *   kernel and test runner): the difference is the protocol's cost (JSON, base64, validation,
 *   the socket).
 * - Live stream: an XDP counting program on the demo network at the highest rate the traffic
 *   source reaches; the stream's counters must equal what was sent (exact), and the agent
 *   process's CPU and resident memory are read from /proc while it streams.
 */
import { readFileSync } from "node:fs";
import type { Benchmark, BenchFigure } from "./harness";
import { median } from "./harness";
import { kernelUnavailableReason } from "../server/kernel/kernel-info";
import { loadProgram } from "../server/kernel/load";
import { compileFilter } from "../server/native/libpcap";
import { closeFd } from "../server/native/libc";
import { PacketRunner } from "../server/kernel/packet-runner";
import { translate } from "../lib/translate";
import { encodeProgram } from "../lib/ebpf";
import { generateMix } from "../lib/craft";
import { toBase64, type AgentClient, type StreamMessage } from "../lib/protocol";
import { connect, spawnAgent, until } from "../tests/agent/support";

const FILTER = "tcp port 80";
const PACKETS = 1000;
const ROUNDS = 15;
const STREAM_SECONDS = 3;

/** utime + stime of a process in seconds, and its resident set in MiB. */
function procUsage(pid: number): { cpuS: number; rssMiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return { cpuS: ticks / 100, rssMiB: rss ? Number(rss[1]) / 1024 : 0 };
}

async function roundTrip(client: AgentClient, packets: string[]): Promise<{ total: number; compile: number; load: number; run: number }> {
  const t0 = performance.now();
  await client.request("compile", { filter: FILTER });
  const t1 = performance.now();
  const loaded = await client.request("load", { program: { kind: "filter", filter: FILTER }, target: "xdp", logLevel: 0 });
  if (loaded.outcome !== "loaded") throw new Error(loaded.log);
  const t2 = performance.now();
  const r = await client.request("testRun", { handle: loaded.handle, packets });
  if (r.results.length !== packets.length) throw new Error("short test run");
  const t3 = performance.now();
  await client.request("unload", { handle: loaded.handle });
  return { total: t3 - t0, compile: t1 - t0, load: t2 - t1, run: t3 - t2 };
}

/** The same work without the agent, in this process. */
function direct(packets: Uint8Array[]): number {
  const t0 = performance.now();
  const c = compileFilter({ filter: FILTER, dlt: 1, netmask: 0 });
  if (!c.ok) throw new Error(c.error);
  const again = compileFilter({ filter: FILTER, dlt: 1, netmask: 0 }); // the agent compiles for compile and for load
  if (!again.ok) throw new Error(again.error);
  const tr = translate(again.insns, { target: "xdp" });
  const r = loadProgram({ insns: encodeProgram(tr.program.raw), type: "xdp", logLevel: 0 });
  if (!r.ok) throw new Error(r.log);
  const runner = new PacketRunner(r.fd, "xdp");
  try {
    for (const p of packets) runner.run(p, 1);
  } finally {
    runner.close();
    closeFd(r.fd);
  }
  return performance.now() - t0;
}

async function liveStream(client: AgentClient, pid: number): Promise<BenchFigure[]> {
  await client.request("demoUp", {});
  const att = await client.request("attach", { source: { kind: "filter", filter: "tcp" }, target: "xdp", on: { kind: "demo" } });
  const messages: StreamMessage[] = [];
  await client.subscribe(att.attachment, (m) => messages.push(m));
  const before = procUsage(pid);
  let peakRss = before.rssMiB;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, procUsage(pid).rssMiB)), 100);
  const t0 = performance.now();
  const job = await client.request("trafficStart", { frames: { kind: "synthetic", distinct: 256 }, durationMs: STREAM_SECONDS * 1000 });
  const sent = await client.request("trafficWait", { traffic: job.traffic });
  const wallS = (performance.now() - t0) / 1000;
  const after = procUsage(pid);
  clearInterval(sampler);
  await until(() => (messages.at(-1)?.counters.total ?? 0) >= sent.sent, 5000);
  const det = await client.request("detach", { attachment: att.attachment });
  await client.request("demoDown", {});
  const exact = det.counters.total === sent.sent;
  const events = messages.reduce((n, m) => n + m.events.length, 0);
  const last = messages.at(-1);
  return [
    { name: "live stream: packets/s counted exactly (demo veth, XDP, traffic source at full speed)", value: sent.pps, unit: "pkt/s", note: exact ? `counters = sent (${sent.sent})` : `MISMATCH: counted ${det.counters.total}, sent ${sent.sent}` },
    { name: "live stream: agent CPU while streaming", value: (100 * (after.cpuS - before.cpuS)) / wallS, unit: "% of one core" },
    { name: "live stream: agent peak resident memory", value: peakRss, unit: "MiB", note: `${before.rssMiB.toFixed(0)} MiB before` },
    { name: "live stream: messages per second", value: messages.length / wallS, unit: "msg/s", note: `${events} packet events sent, ${last?.dropped ?? 0} matched packets dropped from the details` },
  ];
}

const bench: Benchmark = {
  name: "agent",
  description: "the WebSocket agent: compile+load+test_run round trip over 1,000 packets; live stream rate, CPU and memory",
  async run(): Promise<BenchFigure[]> {
    const why = kernelUnavailableReason();
    if (why) {
      process.stderr.write(`agent bench skipped: ${why}\n`);
      return [];
    }
    const mix = generateMix(0xbe7c, PACKETS, { dlt: 1 });
    const raw = mix.map((p) => p.data);
    const b64 = raw.map(toBase64);
    const agent = await spawnAgent();
    const client = await connect(agent.url, { timeoutMs: 120_000 });
    try {
      for (let i = 0; i < 3; i++) await roundTrip(client, b64); // warm up both ends
      const rounds: Awaited<ReturnType<typeof roundTrip>>[] = [];
      for (let i = 0; i < ROUNDS; i++) rounds.push(await roundTrip(client, b64));
      for (let i = 0; i < 3; i++) direct(raw);
      const directMs = median(Array.from({ length: ROUNDS }, () => direct(raw)));
      const figures: BenchFigure[] = [
        {
          name: `compile + load + test run of "${FILTER}" over ${PACKETS} packets, through the agent`,
          value: median(rounds.map((r) => r.total)),
          unit: "ms",
          baseline: { name: "same work in-process, no agent", value: directMs, unit: "ms" },
          note: `compile ${median(rounds.map((r) => r.compile)).toFixed(1)} ms, load ${median(rounds.map((r) => r.load)).toFixed(1)} ms, test run ${median(rounds.map((r) => r.run)).toFixed(1)} ms (median of ${ROUNDS})`,
        },
      ];
      figures.push(...(await liveStream(client, agent.child.pid!)));
      return figures;
    } finally {
      client.close();
      await agent.stop();
    }
  },
};

export default bench;
