/**
 * Verdict agreement on captures the project generates: our cBPF interpreter, libpcap's own
 * bpf_filter (return values, exactly) and `tcpdump -r` (match or not), for every filter of the list.
 */
import { describe, it, expect, beforeAll } from "vitest";
import { FILTER_CASES } from "./data/filters";
import { generateMix } from "../lib/craft";
import { compileFilter as compileCbpfFast, runFilter } from "../lib/cbpf";
import { compileFilter, bpfFilter, resolveDlt } from "../server/native/libpcap";
import { tcpdumpMatches } from "./support/tcpdump-oracle";
import { mapPool } from "./support/pool";

const PACKETS_PER_DLT = 300;

interface Case { filter: string; dltName: string; dlt: number }

const cases: Case[] = FILTER_CASES.flatMap((c) => c.dlts.map((d) => ({ filter: c.filter, dltName: d, dlt: resolveDlt(d) })));
const mixes = new Map<number, ReturnType<typeof generateMix>>();
function mixFor(dlt: number) {
  let m = mixes.get(dlt);
  if (!m) {
    m = generateMix(0x5eed + dlt, PACKETS_PER_DLT, { dlt });
    mixes.set(dlt, m);
  }
  return m;
}

describe("cBPF interpreter vs libpcap bpf_filter vs tcpdump -r", () => {
  const oracle = new Map<string, boolean[] | string>();

  beforeAll(async () => {
    await mapPool(cases, 4, async (c) => {
      const r = await tcpdumpMatches(mixFor(c.dlt), c.dlt, c.filter);
      oracle.set(`${c.dltName}\0${c.filter}`, r.ok ? r.matches : r.error);
    });
  }, 300_000);

  it("covers the whole list", () => {
    expect(cases.length).toBeGreaterThanOrEqual(300);
    expect(new Set(cases.map((c) => c.dltName)).size).toBeGreaterThanOrEqual(8);
  });

  it("agrees on every filter, packet by packet", () => {
    const problems: string[] = [];
    let matchedSomewhere = 0;
    for (const c of cases) {
      const packets = mixFor(c.dlt);
      // Compiled as for a little-endian capture file, which is what tcpdump -r sees below.
      const compiled = compileFilter({ filter: c.filter, dlt: c.dlt, snaplen: 262144, optimize: true, netmask: 0, savefile: { bigEndian: false } });
      const expected = oracle.get(`${c.dltName}\0${c.filter}`);
      if (!compiled.ok) {
        // Some primitives (inbound, ifindex) exist only on live captures: tcpdump -r must refuse too.
        if (typeof expected !== "string" || !expected.includes(compiled.error)) {
          problems.push(`${c.dltName} "${c.filter}": we refuse (${compiled.error}), tcpdump -r says ${String(expected)}`);
        }
        continue;
      }
      if (typeof expected === "string" || !expected) {
        problems.push(`${c.dltName} "${c.filter}": tcpdump failed: ${expected}`);
        continue;
      }
      const fast = compileCbpfFast(compiled.insns, { semantics: "libpcap" });
      let any = false;
      for (let i = 0; i < packets.length; i++) {
        const p = packets[i]!;
        const theirs = bpfFilter(compiled.insns, p.data, p.origLen);
        const ours = fast(p.data, p.origLen);
        const slow = runFilter(compiled.insns, p.data, { wireLen: p.origLen, semantics: "libpcap" });
        if (ours !== theirs || slow !== theirs || (ours !== 0) !== expected[i]) {
          problems.push(`${c.dltName} "${c.filter}" packet ${i}: ours=${ours} interp=${slow} bpf_filter=${theirs} tcpdump=${expected[i]}`);
          break;
        }
        any ||= ours !== 0;
      }
      if (any) matchedSomewhere++;
    }
    expect(problems).toEqual([]);
    // A differential test on packets nothing matches proves little: most filters must match something.
    expect(matchedSomewhere / cases.length).toBeGreaterThan(0.6);
  });
});
