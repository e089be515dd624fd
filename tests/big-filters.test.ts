/**
 * Filters of 2,000 and 3,000 OR'ed hosts compile byte-identical to tcpdump in the CLI and through
 * the page's compile handler (libpcap in an isolated worker), and the handler keeps serving.
 * Before koffi's native stack was raised (server/native/koffi-config.ts), libpcap crashed the
 * process on 1,850 hosts or more.
 *
 * The optimizer's runs are in bench/ rather than here: libpcap's optimizer needs many minutes for
 * these filters (tcpdump too), more than a test suite can spend.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { formatProgram } from "../lib/cbpf";
import { closeCompilePool, handleCompile } from "../server/web/compile-handler";
import { orHosts, tcpdumpBigListing } from "./support/big-filters";
import { unifiedDiff } from "./support/tcpdump-dump";

const ROOT = join(__dirname, "..");
const CLI = join(ROOT, "bin", "bpf-playground.mjs");

function cliCompile(args: string[]): Promise<{ code: number; stdout: string; stderr: string; signal: string | null }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CLI, "compile", ...args], { encoding: "utf8", maxBuffer: 256 << 20, timeout: 600_000 }, (err, stdout, stderr) => {
      resolve({ code: child.exitCode ?? -1, stdout, stderr, signal: child.signalCode ?? (err && "signal" in err ? (err.signal as string | null) : null) });
    });
  });
}

afterAll(() => closeCompilePool());

describe.each([2000, 3000])("%i OR'ed hosts, optimizer off", (count) => {
  const filter = orHosts(count);
  // tcpdump, the CLI and the handler run side by side: each takes tens of seconds for 3,000 hosts.
  const expected = tcpdumpBigListing(filter, false);

  it("the CLI prints tcpdump -O -d's listing and exits 0", async () => {
    const got = await cliCompile([filter, "--no-optimize"]);
    const want = (await expected).listing;
    expect(got.signal, got.stderr).toBeNull();
    expect(got.code, got.stderr).toBe(0);
    if (got.stdout !== want) expect.fail(unifiedDiff(want, got.stdout, ["tcpdump -O -d", "compile --no-optimize"]).slice(0, 4000));
    expect(want.split("\n").length).toBeGreaterThan(count * 10);
  }, 600_000);

  it("the page's compile handler returns the same program and serves the next request", async () => {
    const r = await handleCompile({ filter, dlt: "EN10MB", optimize: false, session: `big-${count}` }, { budgetMs: 540_000 });
    const want = (await expected).listing;
    expect(r.ok, r.ok ? "" : r.error).toBe(true);
    if (!r.ok) return;
    const listing = formatProgram(r.insns, "d");
    if (listing !== want) expect.fail(unifiedDiff(want, listing, ["tcpdump -O -d", "page"]).slice(0, 4000));
    const next = await handleCompile({ filter: "tcp port 80", dlt: "EN10MB" });
    expect(next.ok).toBe(true);
  }, 600_000);
});
