/**
 * `bpf-playground trace`: the emulator's text for a filter equals (after normalisation) the
 * kernel's text printed by `--source kernel`; rejections exit 1; bad options are usage errors.
 */
import { describe, expect, it } from "vitest";
import { compareLogs, parseLog } from "../../lib/verifier";
import { UsageError } from "../../server/cli/args";
import { traceCommand } from "../../server/cli/trace";
import { requires } from "../support/requires";

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const w1 = process.stdout.write.bind(process.stdout);
  const w2 = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    return { code: await traceCommand(argv), out, err };
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
  }
}

describe("trace command", () => {
  it("prints the emulator's log and exits 0 for an accepted filter", async () => {
    const r = await run(["tcp", "port", "80", "--target", "xdp"]);
    expect(r.code).toBe(0);
    const lines = parseLog(r.out);
    expect(lines.slice(0, 2).map((l) => l.kind)).toEqual(["func", "live-header"]);
    const last = lines.at(-1);
    expect(last?.kind === "processed" && last.limit).toBe(1_000_000);
  });
  it("--json gives the structured trace", async () => {
    const r = await run(["udp", "--target", "socket", "--json"]);
    const j = JSON.parse(r.out);
    expect(j.accepted).toBe(true);
    expect(j.trace.length).toBeGreaterThan(3);
    expect(j.trace[0].before.regs[1].type).toBe("ctx");
  });
  it("a filter libpcap refuses exits 1", async () => {
    const r = await run(["tcp", "port", "--target", "xdp"]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/syntax error/);
  });
  it("unknown options are usage errors", async () => {
    await expect(run(["ip", "--target", "nope"])).rejects.toBeInstanceOf(UsageError);
  });
  it.skipIf(!requires("trace --source kernel", "kernel"))("emulator and kernel sources agree", async () => {
    for (const target of ["socket", "tc", "xdp"]) {
      const e = await run(["ip", "and", "tcp[13]", "&", "2", "!=", "0", "--target", target]);
      const k = await run(["ip", "and", "tcp[13]", "&", "2", "!=", "0", "--target", target, "--source", "kernel"]);
      expect(k.code).toBe(e.code);
      expect(compareLogs(k.out, e.out).diff).toEqual([]);
    }
  });
  it.skipIf(!requires("trace --source kernel --json", "kernel"))("--json reads the kernel's verdict, error and counts from its log as the emulator reports its own", async () => {
    for (const filter of [["ip"], ["ip", "and", "tcp[13]", "&", "2", "!=", "0"]]) {
      const e = JSON.parse((await run([...filter, "--target", "xdp", "--json"])).out);
      const k = JSON.parse((await run([...filter, "--target", "xdp", "--json", "--source", "kernel"])).out);
      expect({ accepted: k.accepted, errno: k.errno, error: k.error }).toEqual({ accepted: e.accepted, errno: e.errno, error: e.error });
      expect(k.stats.processed).toBe(e.stats.processed);
    }
  });
});
