/**
 * A committed sample of libpcap's reject corpus (tests/data/reject-sample.json, picked by
 * scripts/conformance/reject.ts: every hand-written entry and a stratified share of the generated
 * ones, none that look names up). For each, our compile service must fail exactly when tcpdump
 * (the installed libpcap) fails, with the message tcpdump prints; where libpcap 1.10.3 agrees with
 * upstream's expected errstr, ours must contain it too. Upstream master rewrote many messages
 * after 1.10.3, so disagreement with the corpus errstr is counted, not failed.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { isPlaygroundError } from "../lib/errors";
import { compileListing } from "../server/compile";
import type { RejectSampleEntry } from "../scripts/conformance/reject";
import { mapPool } from "./support/pool";
import { tcpdumpDump, tcpdumpError, unifiedDiff, type TcpdumpDumpResult } from "./support/tcpdump-dump";

const sample = JSON.parse(readFileSync(join(__dirname, "data", "reject-sample.json"), "utf8")) as RejectSampleEntry[];
const oracle: TcpdumpDumpResult[] = [];
const tally = { tcpdumpRejects: 0, errstrAgrees: 0, tcpdumpAccepts: 0 };

beforeAll(async () => {
  const results = await mapPool(sample, 4, (e) => tcpdumpDump({ filter: e.expr, dlt: e.DLT, style: "d", optimize: true }));
  oracle.push(...results);
}, 120_000);

describe("libpcap reject corpus sample", () => {
  it("is a sample of a few hundred entries over many link types", () => {
    expect(sample.length).toBeGreaterThanOrEqual(300);
    expect(new Set(sample.map((e) => e.DLT)).size).toBeGreaterThanOrEqual(20);
  });

  it.each(sample.map((e, i) => [`${e.name} (${e.DLT}): ${e.expr}`, i] as const))("%s", (_name, i) => {
    const e = sample[i]!;
    const theirs = oracle[i]!;
    const theirMessage = tcpdumpError(theirs.stderr);
    let ours: ReturnType<typeof compileListing>;
    try {
      // The defaults are tcpdump's: optimizer on, snaplen 262144, netmask 0.
      ours = compileListing({ filter: e.expr, dlt: e.DLT, format: "tcpdump" });
    } catch (err) {
      // A link type libpcap 1.10.3 does not know: tcpdump -y refuses it with the same words.
      if (!isPlaygroundError(err)) throw err;
      expect(theirs.code).not.toBe(0);
      expect(err.message).toBe(theirMessage);
      tally.tcpdumpRejects++;
      return;
    }
    if (theirs.code !== 0) {
      tally.tcpdumpRejects++;
      expect(ours.ok, `tcpdump rejects it ("${theirMessage}") but we compile it`).toBe(false);
      if (ours.ok) return;
      expect(`tcpdump: ${ours.error}`).toBe(theirs.stderr.trim().split("\n").pop());
      if (theirMessage.includes(e.errstr)) {
        tally.errstrAgrees++;
        expect(ours.error).toContain(e.errstr);
      }
    } else {
      // libpcap 1.10.3 accepts what upstream master refuses: then the listing must match.
      tally.tcpdumpAccepts++;
      if (!ours.ok) throw new Error(`tcpdump accepts it but we fail with "${ours.error}"`);
      if (ours.text !== theirs.stdout) throw new Error(unifiedDiff(theirs.stdout, ours.text, ["tcpdump", "compileListing"]));
    }
  });

  it("reports how far libpcap 1.10.3 agrees with upstream's messages", () => {
    // Runs after the per-entry tests (vitest runs a file's tests in order).
    expect(tally.tcpdumpRejects + tally.tcpdumpAccepts).toBe(sample.length);
    expect(tally.tcpdumpRejects).toBeGreaterThan(sample.length / 2);
    console.log(`reject sample: ${sample.length} entries, ${tally.tcpdumpRejects} rejected by libpcap 1.10.3 ` +
      `(${tally.errstrAgrees} with upstream's errstr), ${tally.tcpdumpAccepts} accepted`);
  });
});
