/**
 * The agent refuses, before any work: no token, a wrong token, a foreign Origin, a non-loopback
 * bind without the explicit flag; and answers oversize and malformed messages with errors. The
 * proof that none of it reached the kernel is a spy backend whose every call is counted (it runs
 * everywhere, kernel or not), and, with the real backend, the kernel's own program list.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startAgent, type RunningAgent } from "../../server/agent/server";
import { countingBackend, realBackend, type KernelBackend } from "../../server/agent/backend";
import { hostAllowed } from "../../server/agent/auth";
import { listPrograms } from "../../server/kernel/objects";
import { connect, rawSocket, spawnAgent, upgradeStatus, until } from "./support";
import { describeKernel } from "../kernel/support";

/** A backend that fails every call, wrapped so calls are counted. */
function spyBackend() {
  const refuse = new Proxy({} as KernelBackend, {
    get: (_t, prop) => () => {
      throw new Error(`backend.${String(prop)} must not be called`);
    },
  });
  return countingBackend(refuse);
}

const LIMITS = { messageBytes: 4096, hardMessageBytes: 16384 };

/** Everything a hostile or broken client might try; returns nothing, asserts the refusals. */
async function attemptEverything(agent: RunningAgent): Promise<void> {
  const good = new URL(agent.url);
  const withToken = (t: string) => `/?token=${encodeURIComponent(t)}`;
  // The handshake itself.
  expect(await upgradeStatus(agent.url, { path: "/" })).toBe(401);
  expect(await upgradeStatus(agent.url, { path: withToken("") })).toBe(401);
  expect(await upgradeStatus(agent.url, { path: withToken(agent.token.slice(0, -1)) })).toBe(401);
  expect(await upgradeStatus(agent.url, { path: withToken(`${agent.token}x`) })).toBe(401);
  expect(await upgradeStatus(agent.url, { path: withToken(agent.token.replace(/^./, (c) => (c === "A" ? "B" : "A"))) })).toBe(401);
  expect(await upgradeStatus(agent.url, { path: `${withToken(agent.token)}&token=${agent.token}` })).toBe(401);
  expect(await upgradeStatus(agent.url, { path: `/other${good.search}` })).toBe(401);
  for (const origin of ["http://evil.example", "null", "https://127.0.0.1:3000", "http://127.0.0.1.evil.example:3000", "http://localhost.evil:80", "file://"]) {
    expect(await upgradeStatus(agent.url, { origin }), origin).toBe(403);
  }
  // The client as a browser would see it.
  await expect(connect(`ws://${good.host}/?token=wrong`)).rejects.toMatchObject({ code: "client/refused" });
}

describe("agent security (spy backend: nothing may reach the kernel)", () => {
  let agent: RunningAgent;
  let spy: ReturnType<typeof spyBackend>;
  beforeAll(async () => {
    spy = spyBackend();
    agent = await startAgent({ backend: spy.backend, limits: LIMITS, allowedOrigins: ["http://ui.test:8080"], log: () => undefined });
  });
  afterAll(() => agent?.close());
  afterEach(() => expect(spy.total(), JSON.stringify([...spy.calls])).toBe(0));

  it("prints a URL a client uses as it is: loopback, port, a fresh 43-character token", async () => {
    expect(agent.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
    const other = await startAgent({ backend: spy.backend });
    try {
      expect(other.token).not.toBe(agent.token);
    } finally {
      await other.close();
    }
  });

  it("refuses a missing or wrong token (401) and a foreign Origin (403) at the upgrade", async () => {
    await attemptEverything(agent);
    expect(agent.refused.get(401)).toBeGreaterThanOrEqual(7);
    expect(agent.refused.get(403)).toBeGreaterThanOrEqual(6);
    expect(agent.connectionCount()).toBe(0);
  });

  it("accepts no Origin, loopback origins and the configured one", async () => {
    for (const origin of [undefined, "http://127.0.0.1:3000", "http://localhost:5173", "http://[::1]:80", "http://ui.test:8080"]) {
      expect(await upgradeStatus(agent.url, { origin }), String(origin)).toBe(101);
    }
    expect(await upgradeStatus(agent.url, { origin: "http://ui.test:8081" })).toBe(403);
  });

  it("refuses an upgrade whose Host is not a loopback name with the agent's port (421), before the token is looked at", async () => {
    const port = new URL(agent.url).port;
    const before = agent.refused.get(421) ?? 0;
    const foreign = ["evil.example:" + port, "rebind.example", `127.0.0.1.evil.example:${port}`, `localhost.:${port}`, `127.0.0.2:${port}`,
      `127.0.0.1:${Number(port) + 1}`, `127.0.0.1:0${port}`, `127.0.0.1`, `localhost:${port}@evil.example`, `[::2]:${port}`];
    for (const host of foreign) {
      expect(await upgradeStatus(agent.url, { host }), host).toBe(421);
      expect(await upgradeStatus(agent.url, { host, path: "/" }), host).toBe(421);
    }
    expect(agent.refused.get(421)! - before).toBe(2 * foreign.length);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LocalHost:${port}`, `[::1]:${port}`]) {
      expect(await upgradeStatus(agent.url, { host }), host).toBe(101);
      // The Host check comes in front of the others, it does not replace them.
      expect(await upgradeStatus(agent.url, { host, path: "/" }), host).toBe(401);
      expect(await upgradeStatus(agent.url, { host, origin: "http://evil.example" }), host).toBe(403);
    }
    expect(agent.connectionCount()).toBe(0);
    // No Host, or two of them (Node's client always sends one, so these are checked directly).
    expect(hostAllowed(undefined, Number(port))).toBe(false);
    expect(hostAllowed([`127.0.0.1:${port}`, `127.0.0.1:${port}`], Number(port))).toBe(false);
    expect(hostAllowed(`10.1.2.3:${port}`, Number(port), "10.1.2.3")).toBe(true);
    expect(hostAllowed(`[fd00::1]:${port}`, Number(port), "fd00::1")).toBe(true);
  });

  it("refuses to bind a non-loopback address unless told explicitly, and then still wants the token", async () => {
    await expect(startAgent({ backend: spy.backend, host: "0.0.0.0" })).rejects.toMatchObject({ code: "agent/bind" });
    await expect(startAgent({ backend: spy.backend, host: "::" })).rejects.toMatchObject({ code: "agent/bind" });
    const open = await startAgent({ backend: spy.backend, host: "0.0.0.0", allowNonLoopback: true });
    try {
      const local = open.url.replace("0.0.0.0", "127.0.0.1");
      expect(await upgradeStatus(local, { path: "/" })).toBe(401);
      expect(await upgradeStatus(local)).toBe(101);
    } finally {
      await open.close();
    }
  });

  it("answers malformed messages with precise errors and keeps the connection", async () => {
    const client = await connect(agent.url);
    try {
      client.sendRaw("{");
      client.sendRaw("[1,2]");
      client.sendRaw('{"type":"load","id":77,"program":{"kind":"ebpf","insns":5},"target":"xdp"}');
      client.sendRaw('{"type":"attach","id":78,"source":{"kind":"filter","filter":"ip"},"target":"xdp","on":{"kind":"interface","name":"eth0; rm"}}');
      await until(() => client.unsolicitedErrors.length >= 4);
      expect(client.unsolicitedErrors).toEqual([
        expect.objectContaining({ code: "protocol/json" }),
        expect.objectContaining({ code: "protocol/invalid", path: "$" }),
        expect.objectContaining({ code: "protocol/invalid", path: "$.program.insns", message: expect.stringContaining("expected base64 string") }),
        expect.objectContaining({ code: "protocol/invalid", path: "$.on.name" }),
      ]);
      // Typed requests with bad values are refused the same way (the client does not validate before sending).
      await expect(client.request("inspect", { handle: -1 })).rejects.toMatchObject({ code: "protocol/invalid", details: { path: "$.handle" } });
      await expect(client.request("objects", {})).resolves.toMatchObject({ programs: [] });
    } finally {
      client.close();
    }
  });

  it("answers a binary frame and an oversize message with errors; closes on one above the hard limit", async () => {
    const ws = await rawSocket(agent.url);
    const replies: string[] = [];
    ws.on("message", (d) => replies.push(String(d)));
    ws.send(new Uint8Array([1, 2, 3]));
    ws.send(JSON.stringify({ type: "compile", id: 1, filter: "x".repeat(LIMITS.messageBytes) }));
    await until(() => replies.length >= 2);
    expect(replies.map((r) => JSON.parse(r).code)).toEqual(["protocol/binary", "protocol/too-large"]);
    // The oversize request is answered by its id, read from the message's first bytes only.
    expect(JSON.parse(replies[1]!)).toMatchObject({ id: 1, op: "compile" });
    ws.send(`{"filter":"${"x".repeat(LIMITS.messageBytes)}","type":"compile","id":2}`);
    await until(() => replies.length >= 3);
    expect(JSON.parse(replies[2]!)).toMatchObject({ id: null, code: "protocol/too-large" });
    const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    ws.send("y".repeat(LIMITS.hardMessageBytes + 1));
    expect(await closed).toBe(1009);
  });

  it("refuses connections beyond the limit (503)", async () => {
    const small = await startAgent({ backend: spy.backend, limits: { connections: 1 }, log: () => undefined });
    try {
      const first = await connect(small.url);
      expect(await upgradeStatus(small.url)).toBe(503);
      first.close();
      await first.closed;
      expect(await until(() => small.connectionCount() === 0)).toBe(true);
      expect(await upgradeStatus(small.url)).toBe(101);
    } finally {
      await small.close();
    }
  });

  it("the spy does see a request that is accepted (so a count of 0 means something)", async () => {
    const client = await connect(agent.url);
    try {
      await expect(client.request("compile", { filter: "tcp" })).rejects.toMatchObject({ code: "agent/internal" });
      expect(spy.calls.get("resolveDlt") ?? spy.calls.get("compileFilter")).toBe(1);
    } finally {
      client.close();
      spy.calls.clear();
    }
  });
});

describe("agent CLI", () => {
  it("prints exactly one line, the URL, and refuses without the token", async () => {
    const p = await spawnAgent();
    try {
      expect(p.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
      expect(await upgradeStatus(p.url, { path: "/" })).toBe(401);
      const client = await connect(p.url);
      client.close();
      await client.closed;
    } finally {
      const exited = new Promise((r) => p.child.once("exit", r));
      p.child.kill("SIGTERM");
      await exited;
    }
    expect(p.stdout().trimEnd().split("\n")).toHaveLength(1);
  });

  it("takes --bind only as an explicit flag and rejects unknown options", async () => {
    await expect(spawnAgent(["--no-such-flag"])).rejects.toThrow(/unknown option --no-such-flag/);
    await expect(spawnAgent(["--allow-origin", "not a url"])).rejects.toThrow(/not an origin/);
  });
});

describeKernel("agent security (real backend: the kernel's own program list)", () => {
  it("refused connections and bad messages create no program", async () => {
    const counted = countingBackend(realBackend());
    const agent = await startAgent({ backend: counted.backend, limits: LIMITS });
    const mine = (names: string[]) => names.filter((n) => n.startsWith("bpg_") && !n.startsWith("bpg_run_"));
    const before = new Set(listPrograms().map((p) => p.id));
    try {
      await attemptEverything(agent);
      const client = await connect(agent.url);
      client.sendRaw('{"type":"load","id":9,"program":{"kind":"filter","filter":"tcp"},"target":"nonsense"}');
      client.sendRaw('{"type":"load","id":10,"program":{"kind":"filter","filter":"tcp"},"target":"xdp","logLevel":3}');
      await until(() => client.unsolicitedErrors.length >= 2);
      client.close();
      await client.closed;
      const added = listPrograms().filter((p) => !before.has(p.id));
      expect(mine(added.map((p) => p.name))).toEqual([]);
      expect(counted.total()).toBe(0);
    } finally {
      await agent.close();
    }
  });
});
