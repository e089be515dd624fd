/**
 * The written objects load: every filter of the project's list (tests/data/filters.ts, the big
 * host, port and net chains included) that compiles for Ethernet, spliced into each host, goes
 * through `bpftool prog loadall` (libbpf, then the verifier). The skb host gets the filter in both
 * stubs (RAW for L3, reject-all where it does not compile there). Then the patched XDP and TC
 * hosts judge generated frames (BPF_PROG_TEST_RUN, their `counts` map) as libpcap's bpf_filter
 * does on the same bytes.
 */
import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { generateMix } from "../../lib/craft";
import { HOST_KINDS, type HostKind } from "../../lib/inject";
import { compileAndInject } from "../../server/inject";
import { ArrayMap } from "../../server/kernel/maps";
import { testRun } from "../../server/kernel/test-run";
import { closeFd } from "../../server/native/libc";
import { objGet } from "../../server/native/bpf";
import { bpfFilter, compileFilter } from "../../server/native/libpcap";
import { FILTER_CASES } from "../data/filters";
import { describeKernel } from "../kernel/support";
import { describeWithObjects } from "../support/bpf-objects";
import { bpftool, hostBytes, scratch } from "./support";

const { dir, pins } = scratch("inject-load");
const L2_FILTERS = FILTER_CASES.filter((c) => c.dlts.includes("EN10MB")).map((c) => c.filter);

/** loadall into a fresh pin directory; the verifier's complaint (last lines) when it fails. */
function loadAll(file: string, tag: string, maps?: string): string | null {
  const pin = `/sys/fs/bpf/bpfpg-inject-${process.pid}-${tag}`;
  pins.push(pin);
  if (maps) pins.push(maps);
  try {
    bpftool(["prog", "loadall", file, pin, ...(maps ? ["pinmaps", maps] : [])]);
    return null;
  } catch (e) {
    return String((e as { stderr?: string }).stderr ?? e).split("\n").filter((l) => l && !l.startsWith("Warning") && !l.startsWith("If it used")).slice(-4).join(" | ");
  } finally {
    if (!maps) rmSync(pin, { recursive: true, force: true });
  }
}

describeWithObjects(
  "inject: patched hosts load",
  () => {
    describeKernel("in the running kernel", () => {
      it("the list has big filters", () => {
        expect(L2_FILTERS.length).toBeGreaterThan(250);
        expect(L2_FILTERS.some((f) => f.length > 5000)).toBe(true);
      });

      it.each(HOST_KINDS)("every EN10MB filter of the list, spliced into the %s host, loads with bpftool prog loadall", (host: HostKind) => {
        const object = hostBytes(host);
        const failures: string[] = [];
        let loaded = 0;
        let biggest = 0;
        L2_FILTERS.forEach((filter, i) => {
          let bytes: Uint8Array;
          try {
            const r = compileAndInject({ filter, object });
            biggest = Math.max(biggest, r.splices[0]!.result.inserted.slots);
            bytes = r.bytes;
          } catch (e) {
            failures.push(`${filter.slice(0, 80)}: ${(e as Error).message}`);
            return;
          }
          const file = join(dir, `${host}-${i}.o`);
          writeFileSync(file, bytes);
          const why = loadAll(file, `${host}-${i}`);
          rmSync(file);
          if (why === null) loaded++;
          else failures.push(`${filter.slice(0, 80)}: ${why}`);
        });
        expect(failures).toEqual([]);
        expect(loaded).toBe(L2_FILTERS.length);
        console.log(`[inject] ${host}: ${loaded} patched objects loaded; largest splice ${biggest} instructions`);
      }, 600_000); // ~330 compiles and loads: 10-30 s here, more on a busy machine

      it.each(["xdp", "tc"] as const)("the patched %s host counts exactly the frames libpcap's bpf_filter matches", (host) => {
        const packets = generateMix(20261204, 200, { truncatedShare: 0 });
        const filters = ["tcp port 80", "udp", "arp", "icmp or icmp6", "ip6 and tcp", "tcp[tcpflags] & tcp-syn != 0", "ip[8] < 64", "ether broadcast", "net 10.0.0.0/8", "portrange 1000-2000", "ip and not tcp"];
        for (const [k, filter] of filters.entries()) {
          const c = compileFilter({ filter, dlt: 1, snaplen: 262144, optimize: true, netmask: 0 });
          if (!c.ok) throw new Error(c.error);
          const want = packets.map((p) => bpfFilter(c.insns, p.data, p.origLen) !== 0);
          const file = join(dir, `${host}-verdict-${k}.o`);
          writeFileSync(file, compileAndInject({ filter, object: hostBytes(host) }).bytes);
          const maps = `/sys/fs/bpf/bpfpg-inject-${process.pid}-${host}-maps-${k}`;
          const tag = `${host}-verdict-${k}`;
          expect(loadAll(file, tag, maps)).toBeNull();
          const progDir = `/sys/fs/bpf/bpfpg-inject-${process.pid}-${tag}`;
          const prog = objGet(join(progDir, readdirSync(progDir)[0]!));
          const counts = new ArrayMap(objGet(join(maps, "counts")), 2, 4, 8, 2);
          try {
            const got = packets.map((p) => {
              const before = counts.getU64(1);
              testRun(prog, p.data);
              return counts.getU64(1) > before;
            });
            const wrong = got.flatMap((g, i) => (g === want[i] ? [] : [`${packets[i]!.description}: kernel ${g}, libpcap ${want[i]}`]));
            expect({ filter, wrong }).toEqual({ filter, wrong: [] });
            expect(counts.getU64(0)).toBe(BigInt(packets.length));
            // The filters are not trivial on these frames.
            if (filter !== "arp") expect(want.some(Boolean) && !want.every(Boolean)).toBe(true);
          } finally {
            counts.close();
            closeFd(prog);
          }
        }
      }, 120_000);
    });
  },
  ["bpftool"],
);

