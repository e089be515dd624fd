/**
 * The xdp-live traffic mode end to end through the agent: frames sent by the kernel's own
 * generator (BPF_PROG_RUN, BPF_F_TEST_XDP_LIVE_FRAMES, XDP_TX on the namespace's veth end) arrive
 * exactly as often as sent at the agent's counting program on the host end, and tcpdump decides
 * how many of them match.
 */
import { release } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAgent, type RunningAgent } from "../../server/agent/server";
import { AgentClient, fromBase64, toBase64, type StreamMessage } from "../../lib/protocol";
import { tcpdumpMatches } from "../support/tcpdump-oracle";
import { requires, requiresKernelFeature } from "../support/requires";
import { sampleFrames } from "./frames";
import { connect, until } from "../agent/support";

/** Live frames came with Linux 5.18 (commit b530e9e1063e, "bpf: Add "live packet" mode for XDP in BPF_PROG_RUN"). */
function liveFramesMissing(): string | null {
  const [major = 0, minor = 0] = release().split(/[.-]/).map(Number);
  return major > 5 || (major === 5 && minor >= 18) ? null : `BPF_F_TEST_XDP_LIVE_FRAMES needs Linux >= 5.18 (this is ${release()})`;
}

const runs = requiresKernelFeature("[kernel] xdp-live traffic", liveFramesMissing) && requires("[kernel] xdp-live traffic", "netns", "tcpdump");

describe.skipIf(!runs)("xdp-live traffic on the demo network", () => {
  let agent: RunningAgent;
  let client: AgentClient;
  const FILTER = "tcp port 80";
  // No VLAN tags (the sample's tagged frames are longer than the veth's MTU takes with no tag room used).
  const frames = sampleFrames().filter((f) => ((f[12]! << 8) | f[13]!) !== 0x8100 && f.length <= 1514);
  let perCycle = 0;
  let matches: boolean[] = [];

  beforeAll(async () => {
    agent = await startAgent();
    client = await connect(agent.url);
    await client.request("demoUp", {});
    const oracle = await tcpdumpMatches(frames.map((f) => ({ data: f, origLen: f.length })), 1, FILTER);
    if (!oracle.ok) throw new Error(oracle.error);
    matches = oracle.matches;
    perCycle = matches.filter(Boolean).length;
  });
  afterAll(async () => {
    client?.close();
    await agent?.close();
  });

  it("N frames sent by the kernel's generator are counted exactly N times; matched = tcpdump's count × cycles", async () => {
    const cycles = 3000;
    const N = frames.length * cycles;
    expect(perCycle).toBeGreaterThan(0);
    expect(perCycle).toBeLessThan(frames.length);
    const att = await client.request("attach", { source: { kind: "filter", filter: FILTER }, target: "xdp", xdpMode: "native", on: { kind: "demo" } });
    const messages: StreamMessage[] = [];
    await client.subscribe(att.attachment, (m) => messages.push(m), { intervalMs: 50, maxEvents: 16 });
    // Small chunks are not reachable from the protocol; the default (1M) makes this one chunk.
    const job = await client.request("trafficStart", { mode: "xdp-live", frames: { kind: "supplied", frames: frames.map(toBase64) }, count: N });
    const sent = await client.request("trafficWait", { traffic: job.traffic, timeoutMs: 60_000 });
    expect(sent.sent).toBe(N);
    expect(await until(() => (messages.at(-1)?.counters.total ?? 0) >= N, 5000)).toBe(true);
    const det = await client.request("detach", { attachment: att.attachment });
    expect(det.counters).toEqual({ total: N, matched: perCycle * cycles });
  });

  it("the generator rewrites each packet into the next frame of the list: events come in cycle order, whole", async () => {
    const cycles = 5;
    const att = await client.request("attach", { source: { kind: "filter", filter: FILTER }, target: "xdp", xdpMode: "native", on: { kind: "demo" }, sampleBytes: 256 });
    const messages: StreamMessage[] = [];
    await client.subscribe(att.attachment, (m) => messages.push(m), { intervalMs: 50, maxEvents: 1024 });
    const job = await client.request("trafficStart", { mode: "xdp-live", frames: { kind: "supplied", frames: frames.map(toBase64) }, count: frames.length * cycles });
    expect((await client.request("trafficWait", { traffic: job.traffic })).sent).toBe(frames.length * cycles);
    await until(() => (messages.at(-1)?.counters.total ?? 0) >= frames.length * cycles, 5000);
    await client.request("detach", { attachment: att.attachment });
    await until(() => messages.at(-1)?.final === true, 2000);
    const matching = frames.filter((_, i) => matches[i]);
    const want = Array.from({ length: cycles }, () => matching).flat().map((f) => ({ len: f.length, head: toBase64(f.subarray(0, 256)) }));
    const got = messages.flatMap((m) => m.events).map((e) => ({ len: e.len, head: toBase64(fromBase64(e.data)) }));
    expect(got).toEqual(want);
  });

  it("stopped early, it reports exactly what it sent: the counters agree", async () => {
    const att = await client.request("attach", { source: { kind: "filter", filter: FILTER }, target: "xdp", xdpMode: "native", on: { kind: "demo" } });
    const messages: StreamMessage[] = [];
    await client.subscribe(att.attachment, (m) => messages.push(m), { intervalMs: 50, maxEvents: 16 });
    const job = await client.request("trafficStart", { mode: "xdp-live", frames: { kind: "supplied", frames: frames.map(toBase64) }, count: 1_000_000_000 });
    await new Promise((r) => setTimeout(r, 300));
    const stopped = await client.request("trafficStop", { traffic: job.traffic });
    expect(stopped.sent).toBeGreaterThan(0);
    expect(stopped.sent).toBeLessThan(1_000_000_000);
    await until(() => (messages.at(-1)?.counters.total ?? 0) >= stopped.sent, 5000);
    const det = await client.request("detach", { attachment: att.attachment });
    expect(det.counters.total).toBe(stopped.sent);
  });

  it("refuses to send where the host end would drop every frame, and what the mode cannot do", async () => {
    const supplied = { kind: "supplied" as const, frames: frames.map(toBase64) };
    // A tc program leaves the host veth without NAPI: veth_xdp_xmit would drop everything.
    const att = await client.request("attach", { source: { kind: "filter", filter: FILTER }, target: "tc", on: { kind: "demo" } });
    const job = await client.request("trafficStart", { mode: "xdp-live", frames: supplied, count: 100 });
    await expect(client.request("trafficWait", { traffic: job.traffic })).rejects.toMatchObject({ code: "kernel/traffic-host-not-ready" });
    await client.request("detach", { attachment: att.attachment });
    await expect(client.request("trafficStart", { mode: "xdp-live", frames: supplied, count: 100, rate: 1000 })).rejects.toMatchObject({ code: "agent/bad-request" });
    await expect(client.request("trafficStart", { mode: "xdp-live", frames: supplied, durationMs: 100 })).rejects.toMatchObject({ code: "agent/bad-request" });
  });
});
