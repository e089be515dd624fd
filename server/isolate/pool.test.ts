import { closeSync, fstatSync, openSync, writeFileSync } from "node:fs";
import { getPriority, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compileFilter } from "../native/libpcap";
import { IsolatePool } from "./pool";

const pool = new IsolatePool({ name: "test", maxWorkers: 2, warmWorkers: 1 });
afterAll(() => pool.close());

const filterOpts = { filter: "tcp port 80", dlt: 1, snaplen: 262144, optimize: true, netmask: 0 };

describe("IsolatePool", () => {
  it("runs libpcap's compile in a worker, with the in-process result", async () => {
    const { result } = await pool.run("compile", filterOpts, { budgetMs: 30_000 });
    expect(result).toEqual(compileFilter(filterOpts));
  });

  it("runs its workers niced, so the event loop that answers everyone else wins a contended core", async () => {
    await pool.run("probe", {}, { budgetMs: 30_000 });
    expect(pool.pids().length).toBeGreaterThan(0);
    for (const pid of pool.pids()) expect(getPriority(pid)).toBe(getPriority(process.pid) + 10);
  });

  it("stops a request past its budget, says so, and keeps serving", async () => {
    const t0 = Date.now();
    await expect(pool.run("probe", { spinMs: 20_000 }, { budgetMs: 300 })).rejects.toMatchObject({ code: "isolate/timeout" });
    expect(Date.now() - t0).toBeLessThan(3_000);
    const { result } = await pool.run("probe", {}, { budgetMs: 30_000 });
    expect(result.pid).toBeGreaterThan(0);
  });

  it("kills the worker of an aborted request", async () => {
    const ac = new AbortController();
    const running = pool.run("probe", { spinMs: 20_000 }, { budgetMs: 60_000, signal: ac.signal });
    await new Promise((r) => setTimeout(r, 200));
    const before = pool.pids();
    ac.abort();
    await expect(running).rejects.toMatchObject({ code: "isolate/cancelled" });
    await new Promise((r) => setTimeout(r, 100));
    // At least one of the workers that existed was killed.
    expect(before.some((pid) => !pool.pids().includes(pid))).toBe(true);
  });

  it("reports a crashed worker as an error and recovers", async () => {
    await expect(pool.run("probe", { crash: true }, { budgetMs: 30_000 })).rejects.toMatchObject({ code: "isolate/crashed" });
    const { result } = await pool.run("probe", {}, { budgetMs: 30_000 });
    expect(result.pid).toBeGreaterThan(0);
  });

  it("serves a short request while another worker is busy", async () => {
    const long = pool.run("probe", { spinMs: 3_000 }, { budgetMs: 30_000 });
    await pool.run("probe", {}, { budgetMs: 30_000 }); // both workers started
    const t0 = Date.now();
    await pool.run("probe", {}, { budgetMs: 30_000 });
    expect(Date.now() - t0).toBeLessThan(1_000);
    await long;
  });

  it("moves descriptors both ways", async () => {
    const path = join(tmpdir(), `isolate-${process.pid}.bin`);
    writeFileSync(path, new Uint8Array(1234));
    const mine = openSync(path, "r");
    try {
      const { result, fds } = await pool.run("probe", { openDevNull: true }, { budgetMs: 30_000, fds: [mine] });
      expect(result.borrowedSizes).toEqual([1234]);
      expect(fds).toHaveLength(1);
      expect(fstatSync(fds[0]!).isCharacterDevice()).toBe(true);
      closeSync(fds[0]!);
    } finally {
      closeSync(mine);
    }
  });
});
