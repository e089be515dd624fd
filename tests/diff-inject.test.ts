/**
 * The diff of a real splice: each host program of bpf/ with a filter injected by lib/inject,
 * before against after. The diff must find exactly the splice lib/inject reports (one insertion
 * hunk at the stub's start, as long as the inserted range), and pair every other instruction with
 * the one lib/inject says it moved to, the same or differing only in an offset.
 */
import { expect, it } from "vitest";
import { diffStreams, shapeKey } from "../lib/diff";
import { readBpfObject } from "../lib/elf";
import { findStubs, HOST_KINDS, injectFilter, linkTypeOf } from "../lib/inject";
import { describeWithObjects } from "./support/bpf-objects";
import { requires } from "./support/requires";
import { cbpfFor, hostBytes } from "./inject/support";

const FILTERS = ["tcp port 80", "icmp or (udp and port 53)", "ip[8] > 64 and tcp[tcpflags] & tcp-syn != 0"];

describeWithObjects("diff of injected hosts", () => {
  it.skipIf(!requires("diff of injected hosts", "libpcap"))("is one insertion hunk at the stub, the rest same or moved as lib/inject moved it", () => {
    let checked = 0;
    for (const host of HOST_KINDS) {
      for (const filter of FILTERS) {
        const bytes = hostBytes(host);
        // Every stub the host calls: the skb host has an L3 one besides L2.
        for (const stub of findStubs(readBpfObject(bytes)).filter((x) => x.calls.length > 0)) {
          const r = injectFilter({ object: bytes, cbpf: cbpfFor(filter, stub.layer), linkType: linkTypeOf(stub.layer), stub: stub.name });
          const d = diffStreams(r.before, r.after);
          const where = `${host} ${stub.name} / ${filter}`;
          const hunks = d.sections.flatMap((s) => s.hunks.map((h) => ({ s, h })));
          expect(hunks, where).toHaveLength(1);
          const { s, h } = hunks[0]!;
          expect(h.kind, where).toBe("insert");
          const after = r.after[s.right!]!;
          expect(after.sectionIndex, where).toBe(r.inserted.sectionIndex);
          const inserted = after.insns.slice(h.right.start, h.right.start + h.right.count);
          expect(inserted[0]!.slot, where).toBe(r.inserted.start);
          // The hunk spans the inserted slots: the stub's old first instruction follows it.
          expect(after.insns[h.right.start + h.right.count]!.slot - inserted[0]!.slot, where).toBe(r.inserted.slots);
          // Coloured by cBPF: the hunk carries the translation's provenance for every cBPF instruction that made code.
          const tags = new Set(inserted.map((x) => x.cbpf).filter((c) => c !== null && c !== undefined));
          expect(tags, where).toEqual(new Set(r.translation.cbpfOfSlot.filter((c) => c !== null)));
          for (const sec of d.sections) {
            const before = r.before[sec.left!]!;
            const aft = r.after[sec.right!]!;
            const moved = r.moved.get(before.sectionIndex)!;
            for (const row of sec.rows) {
              if (row.kind === "insert") continue;
              expect(["same", "moved"], where).toContain(row.kind);
              const a = before.insns[row.left!]!;
              const b = aft.insns[row.right!]!;
              expect(b.slot, `${where}: ${a.text}`).toBe(moved[a.slot]);
              expect(shapeKey(b)).toBe(shapeKey(a));
              if (row.kind === "moved") expect(a.target, `${where}: ${a.text}`).toBeDefined();
            }
          }
          expect(d.summary.insert).toBe(h.right.count);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(HOST_KINDS.length * FILTERS.length);
  });
});
