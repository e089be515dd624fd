import { afterAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import fc from "fast-check";
import { closeCompilePool, handleCompile } from "./compile-handler";
import { compileForPage } from "./page-compile";
import { formatProgram } from "../../lib/cbpf";
import { parseFilter, locateError } from "../../lib/filter-lang";
import { FILTER_CASES, REJECT_CASES } from "../../tests/data/filters";

function tcpdump(args: string[]): { out: string; err: string; ok: boolean } {
  try {
    const out = execFileSync("tcpdump", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return { out, err: "", ok: true };
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string };
    return { out: x.stdout ?? "", err: x.stderr ?? "", ok: false };
  }
}

afterAll(() => closeCompilePool());

describe("compileForPage", () => {
  it("returns what tcpdump -d prints", () => {
    for (const filter of ["tcp port 80", "ip6 and udp", "", "vlan and host 10.0.0.1"]) {
      const r = compileForPage({ filter, dlt: "EN10MB" });
      expect(r.ok).toBe(true);
      if (!r.ok) continue;
      expect(formatProgram(r.insns, "d")).toBe(tcpdump(["-y", "EN10MB", "-d", filter]).out);
    }
  });

  it("passes libpcap's error through and places it", () => {
    const cases: [string, string][] = [
      ["tcp port 80 and", ""],
      ["tcp prt 80", "prt"],
      ["tcp port 99999", "99999"],
      ["udp port 53 or tcp port 70000", "70000"],
      ["net 10.0.0.1/8", "10.0.0.1/8"],
    ];
    for (const [filter, at] of cases) {
      const r = compileForPage({ filter, dlt: 1 });
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      const t = tcpdump(["-y", "EN10MB", "-d", filter]);
      expect(t.ok).toBe(false);
      expect(t.err).toContain(`tcpdump: ${r.error}`);
      expect(r.location).toBeDefined();
      const { start, end } = r.location!;
      expect(filter.slice(start, end)).toBe(at);
      if (at === "") expect(start).toBe(filter.length);
    }
  });

  it("locates a semantic error by probing the primitives", () => {
    const r = compileForPage({ filter: "tcp and ip6 and ip host 1.1.1.1 or udp", dlt: "EN10MB" });
    // libpcap accepts this one; make one it refuses for a reason the message does not quote.
    expect(r.ok).toBe(true);
    const bad = compileForPage({ filter: "udp or ether host 1.2.3.4", dlt: "EN10MB" });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect("udp or ether host 1.2.3.4".slice(bad.location!.start, bad.location!.end)).toBe("ether host 1.2.3.4");
  });

  it("refuses malformed requests without throwing", async () => {
    for (const body of [null, 3, [], {}, { filter: 1, dlt: 1 }, { filter: "ip", dlt: "NOPE" }, { filter: "ip", dlt: 1, snaplen: -1 }, { filter: "a\0b", dlt: 1 }, { filter: "ip", dlt: 1, session: "" }]) {
      const r = await handleCompile(body);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.badRequest).toBe(true);
    }
  });
});

describe("filter-lang against libpcap's verdicts", () => {
  it("parses every filter of the project's list that libpcap accepts", () => {
    const failures = FILTER_CASES.filter((c) => parseFilter(c.filter).error !== undefined).map((c) => c.filter);
    expect(failures).toEqual([]);
  });

  it("finds a syntax error wherever libpcap reports one, inside the text", () => {
    for (const c of REJECT_CASES) {
      const r = compileForPage({ filter: c.filter, dlt: c.dlt });
      expect(r.ok).toBe(false);
      if (r.ok || r.badRequest) continue;
      const loc = r.location!;
      expect(loc.start).toBeGreaterThanOrEqual(0);
      expect(loc.end).toBeLessThanOrEqual(c.filter.length);
      if (/syntax error/.test(r.error)) expect(parseFilter(c.filter).error, c.filter).toBeDefined();
    }
  });

  it("never throws and always returns a span inside the text (random input)", () => {
    const alphabet = fc.constantFrom(..."tcp udp host port and or not ( ) [ ] : = != 1 80 10.0.0.1 :: aa:bb:cc:dd:ee:ff & | - \\ $ x".split(" "));
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 12 }), (words) => {
        const text = words.join(" ");
        const loc = locateError(text, "syntax error");
        return loc.start >= 0 && loc.end <= text.length && loc.start <= loc.end;
      }),
      { numRuns: 500 },
    );
  });
});

describe("handleCompile: isolated, budgeted, superseded", () => {
  const hosts = (n: number) => Array.from({ length: n }, (_, i) => `host 10.${(i >> 8) & 255}.${i & 255}.1`).join(" or ");

  it("answers a trivial compile at once while another page's slow compile runs", async () => {
    const slow = handleCompile({ filter: hosts(400), dlt: 1, session: "slow-page" });
    await new Promise((r) => setTimeout(r, 300)); // the slow one holds a worker now
    const t0 = Date.now();
    const quick = await handleCompile({ filter: "udp port 53", dlt: 1, session: "other-page" });
    const quickMs = Date.now() - t0;
    expect(quick.ok).toBe(true);
    expect(quickMs).toBeLessThan(2_000);
    const s = await slow;
    expect(s.ok).toBe(true);
  }, 120_000);

  it("lets a newer request from the same page supersede the older one", async () => {
    const older = handleCompile({ filter: hosts(401), dlt: 1, session: "typing" });
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    const newer = await handleCompile({ filter: "tcp port 443", dlt: 1, session: "typing" });
    expect(newer.ok).toBe(true);
    const o = await older;
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(o).toMatchObject({ ok: false, superseded: true });
  }, 120_000);

  it("gives a clear error past the time budget, caches nothing, and keeps serving", async () => {
    const r = await handleCompile({ filter: hosts(402), dlt: 1 }, { budgetMs: 200 });
    expect(r).toMatchObject({ ok: false, timeout: true });
    if (!r.ok) expect(r.error).toMatch(/did not finish .* within/);
    const again = await handleCompile({ filter: "ip", dlt: 1 });
    expect(again.ok).toBe(true);
  }, 120_000);

  it("stops the compile when the caller's request is aborted", async () => {
    const ac = new AbortController();
    const p = handleCompile({ filter: hosts(403), dlt: 1 }, { signal: ac.signal });
    setTimeout(() => ac.abort(), 200);
    const t0 = Date.now();
    const r = await p;
    expect(r.ok).toBe(false);
    expect(Date.now() - t0).toBeLessThan(3_000);
  }, 120_000);
});
