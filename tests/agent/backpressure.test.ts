/**
 * A client that sends requests and never reads the replies must not grow the agent without
 * bound, and what it cost must be returned when it leaves. The agent runs as its own process
 * (tests/agent/fixtures/agent-process.ts: startAgent with the real backend, the default limits
 * but a 3 s stall time, --expose-gc so "after gc" means something); its memory is read from
 * /proc/PID/status (VmRSS).
 *
 * The requests: one load of a 131,072-instruction program, then 40 `inspect`s of it, each
 * answered with about 11 MB of JSON. Before the outbox, 20 of them took the agent from 258 MB to
 * 1,332 MB, and it stayed at 1,321 MB after the client left. Now one inspect runs, its reply
 * fills the socket, reading stops, the rest wait, and 3 s later the connection is closed (1008,
 * "client not reading"). A run: baseline 143 MB, peak +146 MB (executing one inspect costs
 * about that by itself: +159 MB for a client that reads), 11 MB read by the client once it
 * resumed, and +25 MB after it left and a gc (JS heap and external memory back to the byte).
 * The figures of each run are printed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeKernel } from "../kernel/support";
import { DEFAULT_LIMITS } from "../../server/agent/limits";
import { rawConnect } from "./raw-client";
import { connect, sleep, until } from "./support";

const MB = 1 << 20;
const INSPECTS = 40;

/** A straight-line socket program: `r0 = i` 131,071 times, then exit (1 MiB, the protocol's maximum). */
function bigProgram(): string {
  const n = (1 << 17) - 1;
  const b = new Uint8Array((n + 1) * 8);
  const v = new DataView(b.buffer);
  for (let i = 0; i < n; i++) {
    b[i * 8] = 0xb7;
    v.setInt32(i * 8 + 4, i & 0xffff, true);
  }
  b[n * 8] = 0x95;
  return Buffer.from(b).toString("base64");
}

interface Mem {
  rss: number;
  heapUsed: number;
  external: number;
  connections: number;
  gc: boolean;
}

class AgentChild {
  lines: string[] = [];
  stderr = "";
  #buf = "";
  constructor(readonly child: ChildProcess) {
    child.stdout!.setEncoding("utf8");
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (c: string) => (this.stderr += c));
    child.stdout!.on("data", (c: string) => {
      this.#buf += c;
      for (let i; (i = this.#buf.indexOf("\n")) >= 0; this.#buf = this.#buf.slice(i + 1)) this.lines.push(this.#buf.slice(0, i));
    });
  }
  async line(): Promise<string> {
    if (!(await until(() => this.lines.length > 0, 30_000))) throw new Error(`no line from the agent; stderr: ${this.stderr}`);
    return this.lines.shift()!;
  }
  rss(): number {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${this.child.pid}/status`, "utf8"))![1]) * 1024;
  }
  /** Memory after a full collection in the agent. */
  async mem(): Promise<Mem> {
    this.child.stdin!.write("mem\n");
    return JSON.parse(await this.line()) as Mem;
  }
}

/** Highest RSS seen every 25 ms while `work` runs. */
async function peakWhile(agent: AgentChild, work: Promise<unknown>): Promise<number> {
  let peak = agent.rss();
  let done = false;
  void work.finally(() => (done = true)).catch(() => undefined);
  while (!done) {
    peak = Math.max(peak, agent.rss());
    await sleep(25);
  }
  await work;
  return Math.max(peak, agent.rss());
}

const mb = (n: number) => `${(n / MB).toFixed(1)} MB`;

describeKernel("agent backpressure: a client that does not read", () => {
  let agent: AgentChild;
  let url: string;
  const program = bigProgram();

  beforeAll(async () => {
    const runTs = fileURLToPath(new URL("../../bin/run-ts.mjs", import.meta.url));
    const main = fileURLToPath(new URL("./fixtures/agent-process.ts", import.meta.url));
    agent = new AgentChild(spawn(process.execPath, ["--expose-gc", runTs, main, JSON.stringify({ outboxStallMs: 3000 })], { stdio: ["pipe", "pipe", "pipe"] }));
    url = await agent.line();
  }, 60_000);
  afterAll(async () => {
    if (!agent) return;
    const exited = new Promise((r) => agent.child.once("exit", r));
    agent.child.kill("SIGTERM");
    await exited;
  });

  it(`${INSPECTS} inspects of ~11 MB each: one runs, the connection is closed, memory is bounded and returned`, async () => {
    const start = await agent.mem();
    expect(start.gc).toBe(true);

    // Reference: what one load and one inspect cost, for a client that reads.
    const reader = await connect(url);
    let replyBytes = 0;
    const oneInspect = (async () => {
      const l = await reader.request("load", { program: { kind: "ebpf", insns: program }, target: "socket", logLevel: 0 });
      if (l.outcome !== "loaded") throw new Error(l.log);
      replyBytes = JSON.stringify(await reader.request("inspect", { handle: l.handle })).length;
    })();
    const peakOne = await peakWhile(agent, oneInspect);
    reader.close();
    await reader.closed;
    expect(replyBytes).toBeGreaterThan(10 * MB);
    expect(await until(async () => (await agent.mem()).connections === 0)).toBe(true);
    const base = await agent.mem();

    // The client that stops reading as soon as the upgrade is done.
    const client = await rawConnect(url, { read: false });
    client.sendText(JSON.stringify({ type: "load", id: 1, program: { kind: "ebpf", insns: program }, target: "socket", logLevel: 0 }));
    // Kernel work runs in workers, concurrently with the connection's later requests: read the
    // load's reply so that the inspects find the program, then stop reading for good.
    await new Promise<void>((resolve) => {
      let got = "";
      const onData = (d: Buffer) => {
        got += d.toString("latin1");
        if (!got.includes('"id":1')) return;
        client.socket.off("data", onData);
        client.socket.pause();
        resolve();
      };
      client.socket.on("data", onData);
      client.socket.resume();
    });
    for (let i = 0; i < INSPECTS; i++) client.sendText(JSON.stringify({ type: "inspect", id: 100 + i, handle: 1 }));
    const closed = until(() => agent.stderr.includes("closing a connection (1008)"), 40_000, 50);
    const peakMany = await peakWhile(agent, closed);
    expect(await closed, agent.stderr).toBe(true);

    // Reading now gets what the kernel had buffered, then the end: the agent has let go.
    let read = 0;
    client.socket.on("data", (d: Buffer) => (read += d.length));
    client.socket.resume();
    const ended = await Promise.race([client.ended.then(() => true), sleep(10_000).then(() => false)]);
    client.socket.destroy();
    expect(ended).toBe(true);
    expect(await until(async () => (await agent.mem()).connections === 0)).toBe(true);
    const after = await agent.mem();

    const growOne = peakOne - start.rss;
    const growMany = peakMany - base.rss;
    console.log(
      `[backpressure] reply ${mb(replyBytes)}; RSS: start ${mb(start.rss)}, one load+inspect peaks at +${mb(growOne)}; ` +
        `baseline ${mb(base.rss)}, non-reading client with ${INSPECTS} inspects peaks at ${mb(peakMany)} (+${mb(growMany)}), ` +
        `read after resuming ${mb(read)}; after it left and gc ${mb(after.rss)} (${after.rss >= base.rss ? "+" : ""}${mb(after.rss - base.rss)}), ` +
        `heap ${mb(base.heapUsed)} -> ${mb(after.heapUsed)}, external ${mb(base.external)} -> ${mb(after.external)}`,
    );
    // Bounded by the outbox (48 MiB) and the replies of the connection's two job slots, far from
    // 40 buffered replies (~440 MB).
    // A job starts only while the client reads, so the growth is bounded by the connection's job
    // slots (each running inspect costs about growOne) and the outbox, not by the requests sent.
    expect(growMany).toBeLessThan(DEFAULT_LIMITS.kernelJobsPerConnection * growOne + DEFAULT_LIMITS.outboxBytes + replyBytes);
    expect(growMany).toBeLessThan(INSPECTS * replyBytes);
    // The client got at most what the outbox holds: the rest was never sent.
    expect(read).toBeLessThan(DEFAULT_LIMITS.outboxBytes + 2 * replyBytes);
    // Returned: the JS heap and external memory to where they were, RSS close to it.
    expect(after.heapUsed).toBeLessThan(base.heapUsed + 4 * MB);
    expect(after.external).toBeLessThan(base.external + 4 * MB);
    // RSS keeps some of malloc's arenas (the heap and external memory above are what the agent holds).
    expect(after.rss).toBeLessThan(base.rss + 96 * MB);
  }, 120_000);
});
