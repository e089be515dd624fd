/**
 * A user-style object with two stubs (bpf/examples/user_two_stubs.c: L2 and L3, called from a
 * subprogram that also calls another function, all in .text): an L2 filter goes into the L2
 * stub, then an L3 filter into the L3 stub of the patched object. Each splice keeps the structure
 * (one hunk, everything else moved), the second stub's callers follow it, the result loads with
 * bpftool, and the program counts a frame exactly when both filters (libpcap's bpf_filter, the
 * L3 one from byte 14 on, as the program passes it) accept it.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { generateMix } from "../../lib/craft";
import { readBpfObject } from "../../lib/elf";
import { findStubs, injectFilter, linkTypeOf } from "../../lib/inject";
import { ArrayMap } from "../../server/kernel/maps";
import { testRun } from "../../server/kernel/test-run";
import { objGet } from "../../server/native/bpf";
import { closeFd } from "../../server/native/libc";
import { bpfFilter } from "../../server/native/libpcap";
import { describeKernel } from "../kernel/support";
import { describeWithObjects, exampleObjectPath } from "../support/bpf-objects";
import { checkHunk, checkRaw, checkStreams } from "./check";
import { bpftool, cbpfFor, scratch } from "./support";

const { dir, pins } = scratch("inject-two-stubs");
const original = () => new Uint8Array(readFileSync(exampleObjectPath("user_two_stubs")));

const PAIRS: readonly [string, string][] = [
  ["ip or ip6", "tcp"],
  ["not arp", "udp port 53 or tcp port 80"],
  ["ether multicast or ip", "ip[8] < 64"],
];

function patch(l2: string, l3: string) {
  const bytes = original();
  const first = injectFilter({ object: bytes, cbpf: cbpfFor(l2), linkType: linkTypeOf("l2"), stub: "filter_pcap_ebpf_l2" });
  const second = injectFilter({ object: first.object, cbpf: cbpfFor(l3, "l3"), linkType: linkTypeOf("l3"), stub: "filter_pcap_ebpf_l3" });
  return { bytes, first, second };
}

describeWithObjects(
  "inject: a user object with two stubs",
  () => {
    it("lists both stubs, each called from `both`, with their layers", () => {
      const stubs = findStubs(readBpfObject(original()));
      expect(stubs.map((s) => [s.name, s.layer, s.section, s.calls.map((c) => c.caller)])).toEqual([
        ["filter_pcap_ebpf_l2", "l2", ".text", ["both"]],
        ["filter_pcap_ebpf_l3", "l3", ".text", ["both"]],
      ]);
    });

    it.each(PAIRS)("L2 %s, then L3 %s: one hunk each, everything else moved", (l2, l3) => {
      const { bytes, first, second } = patch(l2, l3);
      for (const [r, before] of [[first, bytes], [second, first.bytes]] as const) {
        checkStreams(r);
        checkRaw(r, before);
        checkHunk(r);
      }
      // The first splice moved the L3 stub; the second found it where it now is.
      const l3Before = findStubs(readBpfObject(bytes)).find((s) => s.name === "filter_pcap_ebpf_l3")!;
      expect(second.stub.start).toBe(first.moved.get(l3Before.sectionIndex)![l3Before.start]);
      expect(first.notes).toContain("filter_pcap_ebpf_l3 is not changed by this splice: unless it is patched too, it accepts every packet that reaches it");
      expect(first.access.mode).toBe("direct");
    });

    describeKernel("in the running kernel", () => {
      it.each(PAIRS)("L2 %s with L3 %s loads, and counts a frame exactly when both filters accept it", (l2, l3) => {
        const { second } = patch(l2, l3);
        const tag = PAIRS.findIndex((p) => p[0] === l2);
        const file = join(dir, `two-${tag}.o`);
        writeFileSync(file, second.bytes);
        const progDir = `/sys/fs/bpf/bpfpg-inject-two-${process.pid}-${tag}`;
        const maps = `${progDir}-maps`;
        pins.push(progDir, maps);
        bpftool(["prog", "loadall", file, progDir, "pinmaps", maps]);
        const prog = objGet(join(progDir, readdirSync(progDir)[0]!));
        const counts = new ArrayMap(objGet(join(maps, "counts")), 2, 4, 8, 2);
        try {
          const packets = generateMix(7 + tag, 150, { truncatedShare: 0 });
          const c2 = cbpfFor(l2);
          const c3 = cbpfFor(l3, "l3");
          const wrong: string[] = [];
          let matched = 0;
          for (const p of packets) {
            const want = p.data.length >= 14 && bpfFilter(c2, p.data, p.origLen) !== 0 && bpfFilter(c3, p.data.subarray(14), p.origLen - 14) !== 0;
            const before = counts.getU64(1);
            testRun(prog, p.data);
            const got = counts.getU64(1) > before;
            if (got !== want) wrong.push(`${p.description}: kernel ${got}, libpcap ${want}`);
            if (want) matched++;
          }
          expect(wrong).toEqual([]);
          expect(matched).toBeGreaterThan(0);
          expect(matched).toBeLessThan(packets.length);
        } finally {
          counts.close();
          closeFd(prog);
        }
      });
    });
  },
  ["bpftool"],
);
