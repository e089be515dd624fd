/**
 * `run --engine kernel` against the oracles, for every filter of the project's list: each filter
 * is compiled by libpcap, translated, loaded into the running kernel once per target and run
 * with BPF_PROG_TEST_RUN on a generated capture, one test run per packet. Its return value must
 * equal libpcap's bpf_filter and its match must equal `tcpdump -r`, except where a documented
 * divergence (lib/translate/divergences.ts) explains the difference.
 *
 * socket runs on every link type of the list; tc and xdp on Ethernet (the engine refuses other
 * link types, tested below), and the CLI path (runCapture with the engine registered) on one
 * capture per target.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FILTER_CASES } from "../data/filters";
import { generateMix, mixDlts, type CraftedPacket } from "../../lib/craft";
import { compileFilter, bpfFilter, resolveDlt } from "../../server/native/libpcap";
import { divergencesFor, type Target } from "../../lib/translate";
import { writePcap, dltToLinkType } from "../../lib/pcap";
import { kernelVerdicts, kernelEngine, kernelRunRefusal } from "../../server/engines/kernel";
import { registerEngine, runCapture } from "../../server/run-capture";
import { tcpdumpMatches } from "../support/tcpdump-oracle";
import { mapPool } from "../support/pool";
import { describeKernel } from "../kernel/support";

const PACKETS_PER_DLT = 200;
const SNAPLEN = 262144;

interface Case {
  filter: string;
  dltName: string;
  dlt: number;
  targets: Target[];
}

const supported = new Set(mixDlts());
const cases: Case[] = FILTER_CASES.flatMap((c) =>
  c.dlts
    .map((d) => ({ filter: c.filter, dltName: d, dlt: resolveDlt(d) }))
    .filter((c) => supported.has(c.dlt))
    .map((c) => ({ ...c, targets: (c.dlt === 1 ? ["socket", "tc", "xdp"] : ["socket"]) as Target[] })),
);

const mixes = new Map<number, CraftedPacket[]>();
function mixFor(dlt: number): CraftedPacket[] {
  let m = mixes.get(dlt);
  if (!m) {
    m = generateMix(0xa9e7 + dlt, PACKETS_PER_DLT, { dlt });
    mixes.set(dlt, m);
  }
  return m;
}

describeKernel("run --engine kernel agrees with tcpdump -r and libpcap", () => {
  it("covers the filter list on socket, tc and xdp", () => {
    expect(cases.length).toBeGreaterThanOrEqual(600);
    expect(cases.filter((c) => c.targets.includes("xdp")).length).toBeGreaterThanOrEqual(300);
  });

  it("every filter, every target, packet by packet", async () => {
    const problems: string[] = [];
    const counts = { refused: 0, runs: 0, whitelisted: 0, fallbacks: 0, matched: 0, refusedBoth: 0 };
    // Each case waits for its tcpdump while the kernel runs the cases whose answers came back.
    await mapPool(cases, 4, async (c) => {
      const packets = mixFor(c.dlt);
      const oracle = await tcpdumpMatches(packets, c.dlt, c.filter, SNAPLEN);
      // Compiled as `run` compiles for a capture file (tcpdumpMatches writes little-endian pcap).
      const compiled = compileFilter({ filter: c.filter, dlt: c.dlt, snaplen: SNAPLEN, optimize: true, netmask: 0, savefile: { bigEndian: false } });
      if (!compiled.ok || !oracle.ok) {
        // A few filters are refused for capture files (inbound, ifindex): both must refuse them.
        if (compiled.ok !== oracle.ok) problems.push(`${c.dltName} "${c.filter}": libpcap ${compiled.ok ? "compiles" : "refuses"} but tcpdump ${oracle.ok ? "runs" : "refuses"} it`);
        else counts.refusedBoth++;
        return;
      }
      const libpcap = packets.map((p) => bpfFilter(compiled.insns, p.data, p.origLen));
      const tcpdump = oracle.matches;
      for (const target of c.targets) {
        let k;
        try {
          k = kernelVerdicts(compiled.insns, c.dlt, target);
        } catch (e) {
          // The translator refuses what a target cannot express (ancillary skb data on xdp), by name.
          const ancillary = divergencesFor({ prog: compiled.insns, target, packet: packets[0]!.data, wireLen: packets[0]!.origLen }).some((d) => d.id === "ancillary");
          if (ancillary && (e as { code?: string }).code?.startsWith("translate/")) {
            counts.refused++;
            continue;
          }
          problems.push(`${target} ${c.dltName} "${c.filter}": ${(e as Error).message.split("\n")[0]}`);
          continue;
        }
        try {
          for (let i = 0; i < packets.length; i++) {
            const p = packets[i]!;
            const ours = k.verdict(p.data, i);
            counts.runs++;
            if (ours !== 0) counts.matched++;
            if (ours === libpcap[i] && (ours !== 0) === tcpdump[i]) continue;
            const why = divergencesFor({ prog: compiled.insns, target, packet: p.data, wireLen: p.origLen, lenSeen: p.data.length });
            if (why.length > 0) {
              counts.whitelisted++;
              continue;
            }
            problems.push(`${target} ${c.dltName} "${c.filter}" packet ${i} (${p.description}): kernel=${ours} bpf_filter=${libpcap[i]} tcpdump=${tcpdump[i]}`);
            break;
          }
          counts.fallbacks += k.fallbacks;
        } finally {
          k.close();
        }
      }
    });
    console.info(
      `[kernel engine] ${counts.runs} test runs, ${counts.matched} matches, ${counts.whitelisted} explained by documented divergences, ` +
        `${counts.fallbacks} run as socket filters, ${counts.refused} translations refused (ancillary data), ` +
        `${counts.refusedBoth} filters libpcap and tcpdump both refuse for capture files`,
    );
    expect(problems.slice(0, 20)).toEqual([]);
    expect(counts.matched).toBeGreaterThan(counts.runs / 20);
  }, 150_000);

  it("refuses what the kernel cannot test-run, saying why", () => {
    expect(kernelRunRefusal("kprobe", 1)).toMatch(/cannot run kprobe/);
    expect(kernelRunRefusal("tc", resolveDlt("RAW"))).toMatch(/Ethernet frames.*--target socket/);
    expect(kernelRunRefusal("xdp", resolveDlt("LINUX_SLL"))).toMatch(/Ethernet frames/);
    expect(kernelRunRefusal("socket", resolveDlt("LINUX_SLL"))).toBeNull();
    const c = compileFilter({ filter: "ip", dlt: 12 });
    if (!c.ok) throw new Error(c.error);
    expect(() => kernelVerdicts(c.insns, 12, "xdp")).toThrow(expect.objectContaining({ code: "run/kernel-target" }));
  });

  describeRunCapture();
});

/** The CLI's path: runCapture with the engine registered, on a pcap file. */
function describeRunCapture(): void {
  let dir = "";
  beforeAll(async () => {
    registerEngine("kernel", kernelEngine);
    dir = await mkdtemp(join(tmpdir(), "bpfpg-kengine-"));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.each(["socket", "tc", "xdp"] as const)("runCapture(engine kernel, target %s) matches tcpdump -r on tcp port 80", async (target) => {
    const packets = generateMix(4242, 500, { dlt: 1 });
    const capture = writePcap(packets.map((p) => ({ data: p.data, origLen: p.origLen, tsSec: p.tsSec, tsNsec: p.tsNsec })), { linkType: dltToLinkType(1), snaplen: SNAPLEN });
    const outcome = await runCapture({ filter: "tcp port 80", capture, engine: "kernel", target, optimize: true, netmask: 0 });
    if (!outcome.ok) throw new Error(outcome.error);
    const oracle = await tcpdumpMatches(packets, 1, "tcp port 80");
    if (!oracle.ok) throw new Error(oracle.error);
    expect(outcome.results).toEqual(oracle.matches);
    expect(outcome.matched).toBeGreaterThan(0);
  });

  it("runCapture(engine kernel) on a raw-IP capture: socket runs, xdp is refused with the reason", async () => {
    const packets = generateMix(99, 200, { dlt: 12 });
    const capture = writePcap(packets.map((p) => ({ data: p.data, origLen: p.origLen })), { linkType: dltToLinkType(12), snaplen: SNAPLEN });
    const ok = await runCapture({ filter: "udp", capture, engine: "kernel", target: "socket", optimize: true, netmask: 0 });
    if (!ok.ok) throw new Error(ok.error);
    const oracle = await tcpdumpMatches(packets, 12, "udp");
    if (!oracle.ok) throw new Error(oracle.error);
    expect(ok.results).toEqual(oracle.matches);
    const refused = await runCapture({ filter: "udp", capture, engine: "kernel", target: "xdp", optimize: true, netmask: 0 });
    expect(refused).toMatchObject({ ok: false, code: "run/kernel-target", error: expect.stringMatching(/Ethernet frames/) });
  });
}
