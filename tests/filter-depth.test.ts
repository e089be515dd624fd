/**
 * Hostile nesting end to end: libpcap itself (tcpdump 4.99.3 / libpcap 1.10.3 give up near
 * 10,000 levels with "memory exhausted"), the page's compile route through the isolated worker,
 * and the CLI. Each answers with libpcap's message, placed on the text; nothing crashes.
 */
import { execFile, execFileSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MAX_FILTER_DEPTH } from "../lib/filter-lang";
import { compileFilter } from "../server/native/libpcap";
import { closeCompilePool, handleCompile } from "../server/web/compile-handler";
import { compileForPage } from "../server/web/page-compile";
import { requires } from "./support/requires";

const BIN = join(__dirname, "..", "bin", "bpf-playground.mjs");

const HOSTILE: [string, string, number][] = [
  ["10,000 '('", "(".repeat(10_000) + "ip" + ")".repeat(10_000), MAX_FILTER_DEPTH - 1],
  ["10,000 'not'", "not ".repeat(10_000) + "ip", 4 * MAX_FILTER_DEPTH],
];

/** tcpdump's complaint about a filter (-d, Ethernet), from its stderr. */
function tcpdumpError(filter: string): string {
  try {
    execFileSync("tcpdump", ["-y", "EN10MB", "-d", "--", filter], { stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    const line = String((e as { stderr?: Buffer }).stderr).split("\n").find((l) => l.startsWith("tcpdump: "));
    if (line) return line.slice("tcpdump: ".length);
  }
  throw new Error("tcpdump accepted it");
}

afterAll(() => closeCompilePool());

describe.skipIf(!requires("hostile nesting vs tcpdump", "tcpdump"))("hostile nesting", () => {
  it.each(HOSTILE)("%s: libpcap refuses it with tcpdump's message", (_, filter) => {
    const r = compileFilter({ filter, dlt: 1, snaplen: 262144, optimize: true, netmask: 0 });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toBe(tcpdumpError(filter));
    expect(r.error).toMatch(/memory exhausted/);
  });

  it.each(HOSTILE)("%s: the page gets libpcap's message at the token that nests too deep", async (_, filter, at) => {
    const direct = compileForPage({ filter, dlt: "EN10MB" });
    expect(direct).toMatchObject({ ok: false, error: tcpdumpError(filter), location: { start: at, how: "depth" } });
    // Through the isolated worker, as the web route runs it: an answer, not a crash.
    const routed = await handleCompile({ filter, dlt: "EN10MB" });
    expect(routed).toEqual(direct);
  });

  it.each(HOSTILE)("%s: bpf-playground compile exits 1 with libpcap's message", async (_, filter) => {
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, [BIN, "compile", filter], (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code) : 0, stdout, stderr }),
      ),
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(`bpf-playground: ${tcpdumpError(filter)}\n`);
  });

  it("nesting libpcap accepts still compiles, past the editor's own bound", () => {
    // The recognizer only places libpcap's errors; libpcap stays the judge of validity.
    const filter = "(".repeat(2 * MAX_FILTER_DEPTH) + "tcp port 80" + ")".repeat(2 * MAX_FILTER_DEPTH);
    const r = compileForPage({ filter, dlt: "EN10MB" });
    expect(r.ok).toBe(true);
  });
});
