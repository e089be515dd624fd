import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import fc from "fast-check";
import { handleCompile } from "./compile-handler";
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

describe("handleCompile", () => {
  it("returns what tcpdump -d prints", () => {
    for (const filter of ["tcp port 80", "ip6 and udp", "", "vlan and host 10.0.0.1"]) {
      const r = handleCompile({ filter, dlt: "EN10MB" });
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
      const r = handleCompile({ filter, dlt: 1 });
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
    const r = handleCompile({ filter: "tcp and ip6 and ip host 1.1.1.1 or udp", dlt: "EN10MB" });
    // libpcap accepts this one; make one it refuses for a reason the message does not quote.
    expect(r.ok).toBe(true);
    const bad = handleCompile({ filter: "udp or ether host 1.2.3.4", dlt: "EN10MB" });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect("udp or ether host 1.2.3.4".slice(bad.location!.start, bad.location!.end)).toBe("ether host 1.2.3.4");
  });

  it("refuses malformed requests without throwing", () => {
    for (const body of [null, 3, {}, { filter: 1, dlt: 1 }, { filter: "ip", dlt: "NOPE" }, { filter: "ip", dlt: 1, snaplen: -1 }, { filter: "a\0b", dlt: 1 }]) {
      const r = handleCompile(body);
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
      const r = handleCompile({ filter: c.filter, dlt: c.dlt });
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
