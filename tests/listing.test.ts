/**
 * Every (filter, link type) of the project's list, compiled through our compile service, must print
 * exactly what the installed tcpdump prints for it: `-d` with and without the optimizer for all
 * pairs, `-dd`/`-ddd`/json for a subset. tcpdump runs are done up front, four at a time.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { compileListing, type ListingFormat } from "../server/compile";
import { resolveDlt } from "../server/native/libpcap";
import { FILTER_CASES, LARGE_FILTERS, REJECT_CASES } from "./data/filters";
import { mapPool } from "./support/pool";
import { tcpdumpDump, tcpdumpError, unifiedDiff, type TcpdumpDumpRequest, type TcpdumpDumpResult } from "./support/tcpdump-dump";

const POOL = 4;
const FORMAT_OF = { d: "tcpdump", dd: "dd", ddd: "ddd" } as const satisfies Record<TcpdumpDumpRequest["style"], ListingFormat>;

interface Pair {
  filter: string;
  dlt: string;
  requests: TcpdumpDumpRequest[];
}

// -d, optimizer on and off, for every pair; -dd and -ddd (on, and off for half of them) for the
// first link type of every 6th filter.
const pairs: Pair[] = FILTER_CASES.flatMap((c, ci) =>
  c.dlts.map((dlt, di) => {
    const requests: TcpdumpDumpRequest[] = [
      { filter: c.filter, dlt, style: "d", optimize: true },
      { filter: c.filter, dlt, style: "d", optimize: false },
    ];
    if (di === 0 && ci % 6 === 0) {
      requests.push({ filter: c.filter, dlt, style: "dd", optimize: true }, { filter: c.filter, dlt, style: "ddd", optimize: true });
      if (ci % 12 === 0) {
        requests.push({ filter: c.filter, dlt, style: "dd", optimize: false }, { filter: c.filter, dlt, style: "ddd", optimize: false });
      }
    }
    return { filter: c.filter, dlt, requests };
  }),
);

const rejectRequests: TcpdumpDumpRequest[] = REJECT_CASES.map((r) => ({ filter: r.filter, dlt: r.dlt, style: "d", optimize: true }));

const oracle = new Map<TcpdumpDumpRequest, TcpdumpDumpResult>();

beforeAll(async () => {
  const all = [...pairs.flatMap((p) => p.requests), ...rejectRequests];
  const results = await mapPool(all, POOL, (req) => tcpdumpDump(req));
  all.forEach((req, i) => oracle.set(req, results[i]!));
}, 180_000);

function describeRequest(r: TcpdumpDumpRequest): string {
  return `tcpdump -y ${r.dlt}${r.optimize ? "" : " -O"} -${r.style} '${r.filter.length > 120 ? r.filter.slice(0, 120) + "…" : r.filter}'`;
}

describe("the filter list", () => {
  it("has at least 300 distinct filters over at least 8 link types, all names known to libpcap", () => {
    expect(new Set(FILTER_CASES.map((c) => c.filter)).size).toBeGreaterThanOrEqual(300);
    const dlts = new Set(FILTER_CASES.flatMap((c) => c.dlts));
    expect(dlts.size).toBeGreaterThanOrEqual(8);
    for (const d of dlts) expect(() => resolveDlt(d), d).not.toThrow();
  });

  it("contains every large filter, on EN10MB", () => {
    for (const f of LARGE_FILTERS) {
      expect(FILTER_CASES.some((c) => c.filter === f && c.dlts.includes("EN10MB"))).toBe(true);
    }
  });
});

describe("compileListing text equals tcpdump's stdout", () => {
  it.each(pairs.map((p) => [`${p.dlt}: ${p.filter.length > 80 ? p.filter.slice(0, 80) + "…" : p.filter}`, p] as const))(
    "%s",
    (_name, pair) => {
      for (const req of pair.requests) {
        const theirs = oracle.get(req)!;
        expect(theirs.code, `${describeRequest(req)} failed: ${theirs.stderr}`).toBe(0);
        const ours = compileListing({ filter: req.filter, dlt: req.dlt, optimize: req.optimize, format: FORMAT_OF[req.style] });
        if (!ours.ok) throw new Error(`${describeRequest(req)}: we failed with "${ours.error}"`);
        if (ours.text !== theirs.stdout) {
          throw new Error(`${describeRequest(req)} differs:\n${unifiedDiff(theirs.stdout, ours.text, ["tcpdump", "compileListing"])}`);
        }
        if (req.style === "ddd") {
          // The json form carries the same instructions tcpdump prints as decimal numbers.
          const json = compileListing({ filter: req.filter, dlt: req.dlt, optimize: req.optimize, format: "json" });
          if (!json.ok) throw new Error(json.error);
          const parsed = JSON.parse(json.text) as { dlt: number; insns: { code: number; jt: number; jf: number; k: number }[] };
          expect(parsed.dlt).toBe(resolveDlt(req.dlt));
          const fromTcpdump = theirs.stdout.trim().split("\n").slice(1).map((l) => l.split(" ").map(Number));
          expect(parsed.insns.map((i) => [i.code, i.jt, i.jf, i.k])).toEqual(fromTcpdump);
        }
      }
    },
  );
});

describe("filters libpcap refuses", () => {
  it.each(REJECT_CASES.map((r, i) => [`${r.dlt}: ${r.filter}`, i] as const))("%s fails with tcpdump's message", (_name, i) => {
    const r = REJECT_CASES[i]!;
    const theirs = oracle.get(rejectRequests[i]!)!;
    expect(theirs.code, `tcpdump accepted ${r.filter}`).not.toBe(0);
    const ours = compileListing({ filter: r.filter, dlt: r.dlt, format: "tcpdump" });
    expect(ours.ok).toBe(false);
    if (!ours.ok) expect(`tcpdump: ${ours.error}`).toBe(theirs.stderr.trim().split("\n").pop());
    expect(ours.ok ? "" : ours.error).toBe(tcpdumpError(theirs.stderr));
  });
});
