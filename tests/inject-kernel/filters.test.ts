/**
 * Over the project's filter list (tests/data/filters.ts, every filter that compiles for
 * Ethernet): the filter spliced into the XDP and the TC host (lib/inject) passes the verifier when
 * the libbpf loader loads the patched object, and `run --inject`'s verdicts (the engine the CLI
 * uses: BPF_PROG_TEST_RUN per packet, the verdict read from the host's counts map) on a generated
 * capture and on captures from ../shared/pcaps equal `tcpdump -r`'s, except where a documented
 * divergence of the direct-access translation applies (lib/translate/divergences.ts: `len` is the
 * captured length under a test run). The CLI itself is checked on a few filters at the end.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { FILTER_CASES } from "../data/filters";
import { generateMix } from "../../lib/craft";
import type { CbpfInsn } from "../../lib/cbpf";
import { readCapture, writePcap, type CapturedPacket } from "../../lib/pcap";
import { divergencesFor } from "../../lib/translate";
import { injectedHost } from "../../server/engines/inject";
import { listPrograms } from "../../server/kernel/objects";
import { compileFilter } from "../../server/native/libpcap";
import { describeKernel } from "../kernel/support";
import { describeWithObjects, ROOT } from "../support/bpf-objects";
import { SHARED_PCAPS } from "../support/engine-captures";
import { gate } from "../support/requires";
import { tcpdumpBatch, type BatchAnswer } from "../translate/tcpdump-batch";

const HOSTS = ["xdp", "tc"] as const;
const EN10MB = 1;
/** Ethernet captures with a mix of what filters test: IPv4 UDP and TCP, IPv6, tunnels, non-IP. */
const SHARED = ["tcpdump/isakmp4500.pcap", "tcpdump/ssh.pcap", "tcpdump/OSPFv3_broadcast_adjacency.pcap", "tcpdump/vxlan.pcap", "tcpdump/ipx.pcap", "tcpdump/mptcp-aa-v1.pcap"];

const filters = FILTER_CASES.filter((c) => c.dlts.includes("EN10MB")).map((c) => c.filter);

function sharedPackets(): { packets: CapturedPacket[]; missing: string[] } {
  const packets: CapturedPacket[] = [];
  const missing: string[] = [];
  for (const f of SHARED) {
    try {
      const r = readCapture(new Uint8Array(readFileSync(join(SHARED_PCAPS, f))));
      if (r.error) throw r.error;
      packets.push(...r.packets.filter((p) => p.dlt === EN10MB));
    } catch (e) {
      missing.push(`${f}: ${(e as Error).message}`);
    }
  }
  return { packets, missing };
}

const generated: CapturedPacket[] = generateMix(0x17ec7, 200).map((p) => ({ ...p, interfaceIndex: 0, linkType: EN10MB, dlt: EN10MB }));

const compileSavefile = (filter: string) => compileFilter({ filter, dlt: EN10MB, snaplen: 262144, optimize: true, netmask: 0, savefile: { bigEndian: false } });

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, "bin", "bpf-playground.mjs"), ...args], { encoding: "utf8" }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describeWithObjects(
  "run --inject over the project's filter list",
  () => {
    describeKernel("in the running kernel", () => {
      const shared = sharedPackets();
      const packets = [...generated, ...(gate("run --inject on ../shared/pcaps", shared.missing) ? shared.packets : [])];
      let oracle: BatchAnswer[] = [];
      const dir = mkdtempSync(join(tmpdir(), "bpfpg-run-inject-"));
      afterAll(() => rmSync(dir, { recursive: true, force: true }));
      beforeAll(async () => {
        oracle = await tcpdumpBatch(filters.map((filter) => ({ filter, dlt: EN10MB })), new Map([[EN10MB, packets]]), 2);
      }, 300_000);

      it("every filter goes into both hosts, passes the verifier, and judges every packet as tcpdump -r does", () => {
        expect(filters.length).toBeGreaterThan(300);
        expect(packets.length).toBeGreaterThan(generated.length + 100);
        const problems: string[] = [];
        const tally = { loads: 0, verdicts: 0, matched: 0, diverged: 0, oracleRefused: 0 };
        filters.forEach((filter, i) => {
          const answer = oracle[i]!;
          const compiled = compileSavefile(filter);
          if (!answer.ok) {
            // tcpdump refuses some primitives on savefiles (inbound, ifindex, Linux ancillary
            // loads); libpcap's savefile compile must refuse them the same way.
            if (compiled.ok) problems.push(`"${filter}": tcpdump refused (${answer.error}) but the savefile compile did not`);
            tally.oracleRefused++;
            return;
          }
          if (!compiled.ok) {
            problems.push(`"${filter}": ${compiled.error}`);
            return;
          }
          const prog: CbpfInsn[] = compiled.insns;
          for (const host of HOSTS) {
            let h;
            try {
              h = injectedHost(prog, host);
            } catch (e) {
              problems.push(`${host} "${filter}": ${(e as { code?: string }).code}: ${(e as Error).message.split("\n").slice(0, 3).join(" / ")}`);
              continue;
            }
            tally.loads++;
            try {
              for (let k = 0; k < packets.length; k++) {
                const p = packets[k]!;
                const matched = h.verdict(p.data, k) !== 0;
                tally.verdicts++;
                if (matched) tally.matched++;
                if (matched === answer.matches[k]) continue;
                // Under BPF_PROG_TEST_RUN skb->len (tc) is the data length, as data_end - data is (xdp).
                if (divergencesFor({ prog, target: host, packet: p.data, wireLen: p.origLen, lenSeen: p.data.length }).length > 0) {
                  tally.diverged++;
                  continue;
                }
                problems.push(`${host} "${filter}" packet ${k}: injected ${matched}, tcpdump ${answer.matches[k]}`);
                break;
              }
            } finally {
              h.close();
            }
          }
        });
        console.log(`[run --inject] ${filters.length} filters x ${HOSTS.length} hosts: ${tally.loads} patched objects loaded, ${tally.verdicts} verdicts (${tally.matched} matches, ${tally.diverged} documented divergences), ${tally.oracleRefused} filters tcpdump refuses on savefiles`);
        expect(problems).toEqual([]);
        expect(tally.loads).toBe((filters.length - tally.oracleRefused) * HOSTS.length);
        expect(tally.matched).toBeGreaterThan(tally.verdicts / 20);
        expect(tally.diverged).toBeLessThan(tally.verdicts / 100);
        expect(listPrograms().filter((p) => p.name === "xdp_host" || p.name === "tc_host").length).toBeLessThan(4); // every one closed (others' tests may hold a few)
      }, 600_000);

      it("the CLI prints run's output contract with --inject, with tcpdump's verdicts", async () => {
        const file = join(dir, "mixed.pcap");
        writeFileSync(file, writePcap(packets, { linkType: EN10MB, snaplen: 262144 }));
        for (const [filter, host] of [["tcp port 22", "xdp"], ["udp and not port 4789", "tc"], ["ip6", "xdp"]] as const) {
          const i = filters.indexOf(filter);
          const expected = i >= 0 && oracle[i]!.ok ? oracle[i]!.matches : (await tcpdumpBatch([{ filter, dlt: EN10MB }], new Map([[EN10MB, packets]]), 1))[0]!;
          const want = Array.isArray(expected) ? expected : (expected as { ok: true; matches: boolean[] }).matches;
          const r = await runCli(["run", filter, "--pcap", file, "--inject", host, "--json"]);
          expect(r.stderr).toBe("");
          expect(r.code).toBe(0);
          const out = JSON.parse(r.stdout) as { total: number; matched: number; results: boolean[]; engine: string; target: string };
          expect(out).toMatchObject({ total: packets.length, engine: "inject", target: host });
          expect(out.results).toEqual(want);
          expect(out.matched).toBe(want.filter(Boolean).length);
        }
      }, 120_000);
    });
  },
  ["tcpdump"],
);
