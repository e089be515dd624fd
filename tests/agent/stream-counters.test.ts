/**
 * matched <= total in every counter snapshot, under a flood. A stream once said "matched 236093 >
 * total 236085": the two counters were two map lookups, and packets counted between them made
 * the later one larger. Now both live in one slot, read by one lookup, and each packet bumps
 * exactly one of its two halves (non-matches, matches), so no read can see more matches than
 * packets.
 *
 * The filter matches (nearly) every frame, which is where the old race showed. Checked twice:
 * through the agent's stream (every message, at the shortest interval), and by reading the
 * attachment's counter map in a tight loop while the flood runs (thousands of snapshots). The
 * traffic is the demo network's: a veth pair in its own namespace, addresses from 198.18.0.0/15.
 *
 * With the two lookups (before), a run read the map 10,000 times at 100 kpps and 9 reads had
 * matched > total (the stream's 102 messages happened to miss it); with the one slot, none.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { startAgent, type RunningAgent } from "../../server/agent/server";
import { realBackend, type CounterMap, type KernelBackend } from "../../server/agent/backend";
import type { AgentClient, StreamMessage } from "../../lib/protocol";
import { describeKernel } from "../kernel/support";
import { connect } from "./support";

describeKernel("stream counters are one snapshot", () => {
  let agent: RunningAgent;
  let client: AgentClient;
  const counterMaps: CounterMap[] = [];

  beforeAll(async () => {
    const real = realBackend();
    // The real backend; the test keeps a handle on each counter map the agent makes.
    const backend: KernelBackend = {
      ...real,
      createCounters: () => {
        const c = real.createCounters();
        counterMaps.push(c);
        return c;
      },
    };
    agent = await startAgent({ backend });
    client = await connect(agent.url);
    await client.request("demoUp", {});
  });
  afterAll(async () => {
    client?.close();
    await agent?.close();
  });

  it("matched <= total in every stream message and every read of the map, under a flood", async () => {
    const att = await client.request("attach", { source: { kind: "filter", filter: "greater 15" }, target: "xdp", on: { kind: "demo" }, sampleBytes: 0 });
    const counters = counterMaps.at(-1)!;
    const messages: StreamMessage[] = [];
    await client.subscribe(att.attachment, (m) => messages.push(m), { intervalMs: 20, maxEvents: 0 });
    const job = await client.request("trafficStart", { frames: { kind: "synthetic", seed: 7, distinct: 64 }, durationMs: 3000 });

    let reads = 0;
    const bad: string[] = [];
    let prev = { total: 0, matched: 0 };
    const t0 = Date.now();
    while (Date.now() - t0 < 2500) {
      for (let i = 0; i < 500; i++) {
        const c = counters.read();
        reads++;
        if (c.matched > c.total || c.total < prev.total || c.matched < prev.matched) {
          if (bad.length < 5) bad.push(`read ${reads}: ${JSON.stringify(c)} after ${JSON.stringify(prev)}`);
          else bad.push("");
        }
        prev = c;
      }
      await new Promise((r) => setImmediate(r)); // let the stream's timer and the replies run
    }
    const sent = await client.request("trafficWait", { traffic: job.traffic });
    const det = await client.request("detach", { attachment: att.attachment });

    const wrong = messages.filter((m, i) => m.counters.matched > m.counters.total || (i > 0 && (m.counters.total < messages[i - 1]!.counters.total || m.counters.matched < messages[i - 1]!.counters.matched)));
    const nonMatches = det.counters.total - det.counters.matched;
    console.log(
      `[stream-counters] ${sent.sent} frames at ${Math.round(sent.pps)} pps; final ${JSON.stringify(det.counters)}; ` +
        `${reads} map reads, ${bad.length} with matched > total or going back; ${messages.length} stream messages, ${wrong.length} wrong`,
    );
    expect(bad.slice(0, 5)).toEqual([]);
    expect(wrong.map((m) => m.counters)).toEqual([]);
    expect(reads).toBeGreaterThan(5000);
    expect(messages.length).toBeGreaterThan(30);
    // The flood went through the program, and (nearly) every frame matched: the case that raced.
    expect(det.counters.total).toBe(sent.sent);
    expect(det.counters.matched).toBeGreaterThan(0.9 * det.counters.total);
    expect(nonMatches).toBeGreaterThanOrEqual(0);
  }, 60_000);
});
