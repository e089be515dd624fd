/**
 * The benchmark's "configuration mode" host (bpf/examples/config_host.c) is a fair comparator only
 * if it means what the injected filter means: with (tcp, 80) in its map it must accept exactly the
 * frames tcpdump's `ip and tcp port 80` accepts, on a generated mix and on hand-made edge frames
 * (non-first fragment, IP options, a truncated header, either port).
 */
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { generateMix } from "../../lib/craft";
import { BpfMap } from "../../server/kernel/maps";
import { closeLoadedObject, loadObject } from "../../server/kernel/object-load";
import { HostCounts, isHostCounts, runCounted } from "../../server/kernel/host-verdict";
import { PacketRunner } from "../../server/kernel/packet-runner";
import { describeKernel } from "../kernel/support";
import { describeWithObjects, exampleObjectPath } from "../support/bpf-objects";
import { tcpdumpMatches } from "../support/tcpdump-oracle";

const EN10MB = 1;

function tcp(opts: { sport?: number; dport?: number; fragOff?: number; ihl?: number; cut?: number } = {}): Uint8Array {
  const ihl = opts.ihl ?? 5;
  const f = new Uint8Array(14 + ihl * 4 + 20);
  const v = new DataView(f.buffer);
  f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]);
  v.setUint16(12, 0x0800);
  f[14] = 0x40 | ihl;
  v.setUint16(16, ihl * 4 + 20);
  v.setUint16(20, opts.fragOff ?? 0);
  f[22] = 64;
  f[23] = 6;
  f.set([198, 18, 0, 1, 198, 18, 0, 2], 26);
  const l4 = 14 + ihl * 4;
  v.setUint16(l4, opts.sport ?? 40000);
  v.setUint16(l4 + 2, opts.dport ?? 443);
  f[l4 + 12] = 0x50;
  return opts.cut === undefined ? f : f.subarray(0, opts.cut);
}

describeWithObjects(
  "the configuration-mode host",
  () => {
    describeKernel("in the running kernel", () => {
      it("with (tcp, 80) in its map accepts exactly what tcpdump's `ip and tcp port 80` accepts", async () => {
        const edge = [tcp({ dport: 80 }), tcp({ sport: 80 }), tcp({ dport: 81 }), tcp({ dport: 80, fragOff: 5 }), tcp({ dport: 80, fragOff: 0x2000 }), tcp({ dport: 80, ihl: 7 }), tcp({ dport: 80, cut: 36 })];
        const frames = [...edge, ...generateMix(0xc0f1, 400).map((p) => p.data)];
        const oracle = await tcpdumpMatches(frames.map((data) => ({ data, origLen: data.length })), EN10MB, "ip and tcp port 80");
        if (!oracle.ok) throw new Error(oracle.error);
        expect(oracle.matches.filter(Boolean).length).toBeGreaterThan(4);
        const o = loadObject({ bytes: new Uint8Array(readFileSync(exampleObjectPath("config_host"))), logLevel: 0 });
        const runner = new PacketRunner(o.fd, "xdp");
        try {
          const m = o.maps.find((x) => x.name === "config")!;
          new BpfMap(m.fd, m.type, m.keySize, m.valueSize, m.maxEntries).update(new Uint8Array([6, 0, 0, 80]), new Uint8Array([1]));
          const counts = new HostCounts(o.maps.find(isHostCounts)!.fd);
          const got = frames.map((f) => {
            const r = runCounted(runner, counts, f, EN10MB);
            if (!r.ok) throw new Error(r.message);
            return r.matchedRuns === 1;
          });
          expect(got).toEqual(oracle.matches);
        } finally {
          runner.close();
          closeLoadedObject(o);
        }
      });
    });
  },
  ["tcpdump"],
);
