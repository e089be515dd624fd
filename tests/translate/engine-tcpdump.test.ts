/**
 * `run --engine ebpf --target T` against `tcpdump -r`: for every (filter, link type) of the
 * project's list, on generated captures, the translated program run in the eBPF interpreter
 * matches exactly the packets tcpdump matches, for each of the four targets, except where a
 * documented divergence applies. The filter is compiled as `run` compiles it (libpcap's savefile
 * code, what tcpdump -r runs) and handed to the engine factory `run` uses. Filters a target
 * cannot express must be refused for a listed reason, never mistranslated.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { FILTER_CASES } from "../data/filters";
import { generateMix } from "../../lib/craft";
import { divergencesFor, isTranslateRefusal, translate } from "../../lib/translate";
import { compileFilter, resolveDlt } from "../../server/native/libpcap";
import { ebpfEngine, evaluatePackets, registerEngine } from "../../server/run-capture";
import { ALL_TARGETS } from "./support";
import type { CbpfInsn } from "../../lib/cbpf";
import { dltToLinkType, type CapturedPacket } from "../../lib/pcap";
import { tcpdumpBatch, type BatchAnswer } from "./tcpdump-batch";

const PACKETS_PER_DLT = 200;

interface Case {
  filter: string;
  dltName: string;
  dlt: number;
}

const cases: Case[] = FILTER_CASES.flatMap((c) => c.dlts.map((d) => ({ filter: c.filter, dltName: d, dlt: resolveDlt(d) })));
const mixes = new Map<number, CapturedPacket[]>();
/** Generated packets as a capture reader would hand them to the runner. */
const mixFor = (dlt: number): CapturedPacket[] => {
  let m = mixes.get(dlt);
  if (!m) {
    m = generateMix(0x7e57 + dlt, PACKETS_PER_DLT, { dlt }).map((p) => ({
      data: p.data,
      origLen: p.origLen,
      tsSec: p.tsSec,
      tsNsec: p.tsNsec,
      interfaceIndex: 0,
      linkType: dltToLinkType(dlt),
      dlt,
    }));
    mixes.set(dlt, m);
  }
  return m;
};
const isAncillary = (i: CbpfInsn) => (i.code & 0xe7) === 0x20 && i.k >>> 0 >= 0xfffff000;
const request = (target: string) => ({ filter: "", engine: "ebpf" as const, target, optimize: true, netmask: 0 });

describe("run --engine ebpf agrees with tcpdump -r", () => {
  const oracle = new Map<string, BatchAnswer>();

  beforeAll(async () => {
    const byDlt = new Map([...new Set(cases.map((c) => c.dlt))].map((d) => [d, mixFor(d)] as const));
    const answers = await tcpdumpBatch(cases, byDlt, 2);
    cases.forEach((c, i) => oracle.set(`${c.dltName}\0${c.filter}`, answers[i]!));
  }, 300_000);

  it("on every filter of the list, for every target", async () => {
    const problems: string[] = [];
    const tally = { verdicts: 0, diverged: 0, refused: 0, matched: 0, oracleRefused: 0 };
    for (const c of cases) {
      const answer = oracle.get(`${c.dltName}\0${c.filter}`)!;
      const compile = (savefile: boolean) =>
        compileFilter({ filter: c.filter, dlt: c.dlt, snaplen: 262144, optimize: true, netmask: 0, ...(savefile ? { savefile: { bigEndian: false } } : {}) });
      if (!answer.ok) {
        // tcpdump refuses Linux ancillary primitives on savefiles, so it has no verdict to give;
        // those translations are checked against the kernel's cBPF (hazards, kernel tests).
        // Here: the live-handle code must translate on every target.
        const live = compile(false);
        if (/not supported .* when reading savefiles/.test(answer.error) && live.ok && live.insns.some(isAncillary)) {
          tally.oracleRefused++;
          for (const target of ALL_TARGETS) {
            const refused = (() => {
              try {
                translate(live.insns, { target });
                return false;
              } catch (e) {
                if (isTranslateRefusal(e)) return true;
                throw e; // anything but a documented refusal is a bug
              }
            })();
            if (refused) problems.push(`${target} "${c.filter}": refused`);
          }
          continue;
        }
        problems.push(`${c.dltName} "${c.filter}": tcpdump failed: ${answer.error}`);
        continue;
      }
      const expected = answer.matches;
      const compiled = compile(true);
      if (!compiled.ok) {
        problems.push(`${c.dltName} "${c.filter}": ${compiled.error}`);
        continue;
      }
      const prog: CbpfInsn[] = compiled.insns;
      const packets = mixFor(c.dlt);
      for (const target of ALL_TARGETS) {
        let verdict;
        try {
          verdict = await ebpfEngine(prog, c.dlt, { ...request(target), filter: c.filter });
        } catch (e) {
          problems.push(`${target} ${c.dltName} "${c.filter}": ${(e as Error).message}`);
          tally.refused++;
          continue;
        }
        for (let i = 0; i < packets.length; i++) {
          const p = packets[i]!;
          const matched = verdict(p) !== 0;
          tally.verdicts++;
          if (matched) tally.matched++;
          if (matched === expected[i]) continue;
          if (divergencesFor({ prog, target, packet: p.data, wireLen: p.origLen }).length > 0) {
            tally.diverged++;
            continue;
          }
          problems.push(`${target} ${c.dltName} "${c.filter}" packet ${i}: ebpf ${matched}, tcpdump ${expected[i]}`);
          break;
        }
      }
    }
    expect(problems).toEqual([]);
    expect(tally.verdicts).toBeGreaterThan(cases.length * PACKETS_PER_DLT * 3);
    expect(tally.matched).toBeGreaterThan(tally.verdicts / 20);
    // Divergences are the exception: `len` on truncated xdp captures and Linux ancillary filters.
    expect(tally.diverged).toBeLessThan(tally.verdicts / 100);
    expect(tally.oracleRefused).toBeLessThanOrEqual(3);
  }, 300_000);

  it("through the capture runner once registered", async () => {
    registerEngine("ebpf", ebpfEngine);
    const capture = {
      packets: [...mixFor(1), ...mixFor(0)],
      interfaces: [
        { linkType: 1, dlt: 1, snaplen: 262144, tsResolutionNs: 1000 },
        { linkType: 0, dlt: 0, snaplen: 262144, tsResolutionNs: 1000 },
      ],
      byteOrder: "little" as const,
    };
    for (const target of ALL_TARGETS) {
      const out = await evaluatePackets({ ...request(target), filter: "tcp port 80 or ip6" }, capture);
      const cbpf = await evaluatePackets({ ...request(target), engine: "cbpf", filter: "tcp port 80 or ip6" }, capture);
      expect(out).toEqual(cbpf);
      expect(out.ok && out.matched).toBeGreaterThan(0);
    }
  });
});
