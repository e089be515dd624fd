/**
 * One connection's kernel work never holds up another: loads, test runs and libpcap compiles run
 * in the agent's worker processes, each within a time budget, and stop when their connection
 * closes. Measured against the real kernel (the verifier, BPF_PROG_TEST_RUN) and, for compiles,
 * against tcpdump itself.
 *
 * The loop program of issue 9 (`r0 = 0; r0 += 1; if r0 < 10000000 goto -2; exit`) keeps the
 * verifier busy until it gives up at 1M processed instructions: about 1 s at log_level 0, 7.6 s at
 * 1 and 51 s at 2 on a quiet machine. Before this change all of it ran on the agent's event loop.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startAgent, type RunningAgent } from "../../server/agent/server";
import { DEFAULT_LIMITS } from "../../server/agent/limits";
import { toBase64, type AgentClient } from "../../lib/protocol";
import { listPrograms } from "../../server/kernel/objects";
import { sampleFrames } from "../kernel/frames";
import { bpftool, describeKernel, hasBpftool } from "../kernel/support";
import { TCPDUMP } from "../support/tcpdump-oracle";
import { connect, sleep, until } from "./support";
import { processGone } from "../support/processes";

/** `r0 = 0; r0 += 1; if r0 < bound goto -2; exit` as raw eBPF. */
function loop(bound: number): string {
  const b = new Uint8Array(32);
  const v = new DataView(b.buffer);
  b[0] = 0xb7; // r0 = 0
  b[8] = 0x07; // r0 += 1
  v.setInt32(12, 1, true);
  b[16] = 0xa5; // if r0 < imm goto -2
  v.setInt16(18, -2, true);
  v.setInt32(20, bound, true);
  b[24] = 0x95; // exit
  return toBase64(b);
}

/** `r0 = 0`, then `r0 += 1` until the program has `slots` slots, then `exit`. */
function straightLine(slots: number): string {
  const b = new Uint8Array(slots * 8);
  const v = new DataView(b.buffer);
  b[0] = 0xb7;
  for (let i = 1; i < slots - 1; i++) {
    b[i * 8] = 0x07;
    v.setInt32(i * 8 + 4, 1, true);
  }
  b[(slots - 1) * 8] = 0x95;
  return toBase64(b);
}

interface Latencies {
  samples: number[];
  max: number;
  median: number;
  p95: number;
}

/**
 * The bounds hellos must meet while kernel work runs. The workers run niced (server/isolate), so
 * during the 51-s verification every answer must come within 50 ms (measured under the whole
 * suite's load: max 2.8–10 ms). Elsewhere 95% of answers must come within 50 ms and none may take
 * as long as a blocked event loop did (the whole run: seconds): the test process (client and
 * agent in one event loop) shares 2 cores with the rest of the suite.
 */
const EVERY_MS = 50;
const P95_MS = 50;
const MAX_MS = 500;

function loadAverage(): string {
  return readFileSync("/proc/loadavg", "utf8").split(" ")[0]!;
}

/** Sends hello on `other` every `everyMs` while `busy()` holds; each answer's latency in ms. */
async function helloLatencies(other: AgentClient, busy: () => boolean, opts: { everyMs?: number; forMs?: number } = {}): Promise<Latencies> {
  const samples: number[] = [];
  const t0 = Date.now();
  while (busy() && Date.now() - t0 < (opts.forMs ?? Infinity)) {
    const s = performance.now();
    await other.request("hello", { version: other.hello!.protocol });
    const took = performance.now() - s;
    if (busy()) samples.push(took); // an answer racing the end of the work does not count
    await sleep(opts.everyMs ?? 20);
  }
  const sorted = [...samples].sort((a, b) => a - b);
  return { samples, max: sorted.at(-1) ?? NaN, median: sorted[Math.floor(sorted.length / 2)] ?? NaN, p95: sorted[Math.floor(sorted.length * 0.95)] ?? NaN };
}

function hosts(n: number): string {
  return Array.from({ length: n }, (_, i) => `host 10.${(i >> 8) & 255}.${i & 255}.1`).join(" or ");
}

function tcpdumpText(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(TCPDUMP, args, { encoding: "utf8", maxBuffer: 1 << 30 }, (err, stdout, stderr) => (err ? reject(new Error(`tcpdump: ${stderr}`)) : resolve(stdout)));
  });
}

describeKernel("agent: one connection's kernel work does not hold up another", () => {
  let agent: RunningAgent;
  let tight: RunningAgent;
  beforeAll(async () => {
    agent = await startAgent({ log: () => undefined });
    tight = await startAgent({ log: () => undefined, limits: { budgets: { ...DEFAULT_LIMITS.budgets, loadMs: 500 } } });
  });
  afterAll(async () => {
    await agent?.close();
    await tight?.close();
  });

  it("answers another connection's hello within 50 ms during the 51-s loop load at log_level 2, and closing the loader kills its worker", async () => {
    const loader = await connect(agent.url, { timeoutMs: 300_000 });
    const other = await connect(agent.url);
    let settled = false;
    const load = loader.request("load", { program: { kind: "ebpf", insns: loop(10_000_000) }, target: "socket", logLevel: 2, name: "bpg_loop" }).then(
      (r) => r,
      (e: unknown) => e,
    );
    void load.then(() => (settled = true));
    expect(await until(() => agent.workers().busy === 1, 10_000)).toBe(true);
    const before = agent.workers().pids;
    const lat = await helloLatencies(other, () => !settled && agent.workers().busy === 1, { forMs: 5_000 });
    console.log(`[isolation] hello during a log_level 2 loop load: ${lat.samples.length} answers, median ${lat.median.toFixed(1)} ms, p95 ${lat.p95.toFixed(1)} ms, max ${lat.max.toFixed(1)} ms (load average ${loadAverage()})`);
    expect(settled).toBe(false); // the load was still running the whole time
    expect(lat.samples.length).toBeGreaterThan(50);
    expect(lat.max).toBeLessThan(EVERY_MS);
    // A new connection (upgrade + hello) is as quick.
    const t0 = performance.now();
    const third = await connect(agent.url);
    const connectMs = performance.now() - t0;
    console.log(`[isolation] connect + hello during the load: ${connectMs.toFixed(1)} ms`);
    expect(connectMs).toBeLessThan(50);
    third.close();

    // The client leaves mid-load: its worker is killed, the pool is free again.
    loader.close();
    await loader.closed;
    const killed = () => before.filter((pid) => processGone(pid));
    expect(await until(() => killed().length >= 1 && agent.workers().busy === 0, 5_000)).toBe(true);
    expect(await load).toMatchObject({ code: "client/closed" });
    // and the agent still serves.
    const r = await other.request("compile", { filter: "udp" });
    expect(r.insns.length).toBeGreaterThan(0);
    other.close();
  }, 120_000);

  it("a load that would succeed leaves no program when its connection closes mid-verification", async () => {
    // 990k processed instructions, just under the verifier's 1M: accepted after about a second at
    // log_level 0 (at level 1 the kernel's log of the walk outgrows the agent's 16 MiB and the load
    // fails with ENOSPC, even though verification passed).
    const program = { kind: "ebpf" as const, insns: loop(330_000) };
    const control = await connect(agent.url, { timeoutMs: 300_000 });
    const t0 = Date.now();
    const ok = await control.request("load", { program, target: "socket", logLevel: 0, name: "bpg_slow_ok" });
    const fullMs = Date.now() - t0;
    expect(ok.outcome).toBe("loaded"); // the oracle: the kernel accepts it
    if (ok.outcome === "loaded") await control.request("unload", { handle: ok.handle });
    control.close();
    console.log(`[isolation] the slow program verifies in ${fullMs} ms`);

    const client = await connect(agent.url, { timeoutMs: 300_000 });
    const t1 = Date.now();
    const running = client.request("load", { program, target: "socket", logLevel: 0, name: "bpg_slow_gone" }).catch((e: unknown) => e);
    expect(await until(() => agent.workers().busy === 1, 10_000)).toBe(true);
    const pids = agent.workers().pids;
    await sleep(Math.min(1_000, fullMs / 4));
    client.close();
    expect(await running).toMatchObject({ code: "client/closed" });
    expect(await until(() => pids.some(processGone) && agent.workers().busy === 0, 5_000)).toBe(true);
    // Past the time the verifier would have needed, there is still no such program.
    await sleep(Math.max(0, t1 + fullMs + 500 - Date.now()));
    expect(listPrograms().filter((p) => p.name === "bpg_slow_gone")).toEqual([]);
    if (hasBpftool()) expect((bpftool(["prog", "show"]) as { name?: string }[]).filter((p) => p.name === "bpg_slow_gone")).toEqual([]);
    else console.warn("[isolation] bpftool not installed: the kernel's own program list was the only check");
  }, 180_000);

  it("stops a request past its budget and names it in the error", async () => {
    expect(tight.url).toBeTruthy();
    const client = await connect(tight.url, { timeoutMs: 60_000 });
    expect(client.hello!.limits.budgetsMs).toMatchObject({ load: 500, compile: DEFAULT_LIMITS.budgets.compileMs });
    const t0 = Date.now();
    const err = await client.request("load", { program: { kind: "ebpf", insns: loop(10_000_000) }, target: "socket", logLevel: 2 }).catch((e: unknown) => e);
    const took = Date.now() - t0;
    expect(err).toMatchObject({ code: "agent/budget", details: { op: "load", budgetMs: 500 } });
    expect((err as Error).message).toMatch(/^load request \d+ did not finish within its time budget of 500 ms/);
    expect(took).toBeLessThan(5_000);
    expect(await until(() => tight.workers().busy === 0, 5_000)).toBe(true);
    // The connection and the agent carry on.
    expect((await client.request("hello", { version: client.hello!.protocol })).protocol).toBe(client.hello!.protocol);
    const small = await client.request("compile", { filter: "tcp" });
    expect(small.insns.length).toBeGreaterThan(0);
    client.close();
  }, 60_000);

  it("a test run on a 131,071-slot program does not hold up another connection's hello", async () => {
    const runner = await connect(agent.url, { timeoutMs: 300_000 });
    const other = await connect(agent.url);
    const big = await runner.request("load", { program: { kind: "ebpf", insns: straightLine(131_071) }, target: "socket", logLevel: 0, name: "bpg_big" });
    expect(big.outcome).toBe("loaded");
    if (big.outcome !== "loaded") return;
    expect(big.insns).toBe(131_071);
    const packet = toBase64(sampleFrames()[0]!);
    // About 30 µs per run: a few seconds of BPF_PROG_TEST_RUN in one request.
    let settled = false;
    const run = runner.request("testRun", { handle: big.handle, packets: [packet, packet], repeat: 50_000 });
    void run.finally(() => (settled = true)).catch(() => undefined);
    expect(await until(() => agent.workers().busy === 1, 10_000)).toBe(true);
    const lat = await helloLatencies(other, () => !settled);
    const r = await run;
    console.log(`[isolation] hello during a ${r.wallMs.toFixed(0)}-ms test run: ${lat.samples.length} answers, median ${lat.median.toFixed(1)} ms, p95 ${lat.p95.toFixed(1)} ms, max ${lat.max.toFixed(1)} ms (load average ${loadAverage()})`);
    expect(r.results.every((x) => x.status === "ok" && x.retval === 131_069)).toBe(true);
    expect(lat.samples.length).toBeGreaterThan(10);
    expect(lat.p95).toBeLessThan(P95_MS);
    expect(lat.max).toBeLessThan(MAX_MS);
    runner.close();
    other.close();
  }, 120_000);

  it("one connection gets at most its share of the workers; the others still get one", async () => {
    const greedy = await connect(agent.url, { timeoutMs: 300_000 });
    const other = await connect(agent.url, { timeoutMs: 60_000 });
    const slots = greedy.hello!.limits.kernelJobsPerConnection;
    const loads = Array.from({ length: slots + 2 }, () =>
      greedy.request("load", { program: { kind: "ebpf", insns: loop(10_000_000) }, target: "socket", logLevel: 2 }).catch((e: unknown) => e),
    );
    expect(await until(() => agent.workers().busy === slots, 10_000)).toBe(true);
    await sleep(1_500);
    expect(agent.workers().busy).toBe(slots); // the rest wait for the connection's slot, not for a worker
    const t0 = Date.now();
    const r = await other.request("compile", { filter: "tcp port 80" });
    console.log(`[isolation] compile on another connection while ${slots} loads run: ${Date.now() - t0} ms`);
    expect(r.insns.length).toBeGreaterThan(0);
    greedy.close();
    for (const l of loads) expect(await l).toMatchObject({ code: "client/closed" });
    expect(await until(() => agent.workers().busy === 0, 5_000)).toBe(true);
    other.close();
  }, 60_000);

  it("compiles 2,000 and 3,000 OR'ed hosts unoptimized exactly as tcpdump -O -d prints them, and survives", async () => {
    // libpcap needs about 47 s for 3,000 hosts on a quiet machine (the default budget allows 300 s);
    // this shared machine can be many times slower, and what is checked here is the program and
    // that the agent lives, so this agent's compile budget is wider.
    const roomy = await startAgent({ log: () => undefined, limits: { budgets: { ...DEFAULT_LIMITS.budgets, compileMs: 1_200_000 } } });
    try {
      const client = await connect(roomy.url, { timeoutMs: 1_200_000 });
      const other = await connect(roomy.url);
      for (const n of [2_000, 3_000]) {
        const filter = hosts(n);
        // The oracle first (one at a time: both are the same library, and the cores are shared).
        let t0 = Date.now();
        const expected = await tcpdumpText(["-y", "EN10MB", "-O", "-d", filter]);
        const tcpdumpMs = Date.now() - t0;
        t0 = Date.now();
        let settled = false;
        const [got, lat] = await Promise.all([
          client.request("compile", { filter, optimize: false }).finally(() => (settled = true)),
          helloLatencies(other, () => !settled, { everyMs: 200 }),
        ]);
        console.log(
          `[isolation] ${n} hosts: ${got.insns.length} instructions; agent ${Date.now() - t0} ms, tcpdump ${tcpdumpMs} ms; hello meanwhile: ${lat.samples.length} answers, p95 ${lat.p95.toFixed(1)} ms, max ${lat.max.toFixed(1)} ms (load average ${loadAverage()})`,
        );
        expect(got.text).toBe(expected);
        expect(got.insns.length).toBe(expected.trimEnd().split("\n").length);
        expect(lat.p95).toBeLessThan(P95_MS);
      }
      expect((await other.request("hello", { version: other.hello!.protocol })).agent).toContain("agent");
      client.close();
      other.close();
    } finally {
      await roomy.close();
    }
  }, 2_400_000);
});
