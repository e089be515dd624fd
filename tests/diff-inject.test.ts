/**
 * The diff of a real splice: each host program of bpf/ with a filter injected by lib/inject,
 * before against after. The diff must find exactly the splice lib/inject reports (one insertion
 * hunk at the stub's start, as long as the inserted range), and pair every other instruction with
 * the one lib/inject says it moved to, the same or differing only in an offset.
 */
import { expect, it } from "vitest";
import { concatStreams, diffStreams, formatDiff, shapeKey, streamFromXlated } from "../lib/diff";
import { readBpfObject } from "../lib/elf";
import { findStubs, HOST_KINDS, injectFilter, linkTypeOf, type StreamInsn } from "../lib/inject";
import { dumpProgram } from "../server/kernel/inspect";
import { closeLoadedObject, loadObject } from "../server/kernel/object-load";
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

/**
 * The patched host as libbpf loads it against the kernel's xlated dump. The verifier rewrites the
 * host's context loads (xdp_md/__sk_buff to the kernel's structs), its map references and helper
 * calls (an array lookup is inlined), and deletes what cannot run: no-op jumps and dead code
 * (the stub's body, with r1 = r2 = r3 = 0 known, has a branch never taken). The spliced filter's
 * own instructions, reading the packet through checked pointers, are all kept.
 */
describeWithObjects("diff of a loaded patched host against the kernel's dump", () => {
  it.skipIf(!requires("patched host vs xlated", "kernel", "libpcap"))("rewrites only context loads, map references and helper calls, deletes only dead code, keeps the filter", () => {
    for (const host of ["xdp", "tc"] as const) {
      const r = injectFilter({ object: hostBytes(host), cbpf: cbpfFor("tcp port 80 or icmp"), linkType: 1 });
      const o = loadObject({ bytes: r.bytes, logLevel: 0 });
      let xlated: string[];
      try {
        xlated = dumpProgram(o.fd).xlatedText;
      } finally {
        closeLoadedObject(o);
      }
      const entry = r.after.filter((s) => s.section === o.program.section);
      const loaded = concatStreams([...entry, ...r.after.filter((s) => s.section === ".text")]);
      const d = diffStreams([loaded], [streamFromXlated(xlated)]).sections[0]!;
      const ctxLoad = (x: StreamInsn) => /^r\d+ = \*\(u32 \*\)\(r[1-9] [+-]\d+\)$/.test(x.text);
      const rewritable = (x: StreamInsn) => ctxLoad(x) || x.reloc !== undefined || /^call [a-z_]/.test(x.text);
      const seen = { ctx: 0, map: 0 };
      for (const row of d.rows) {
        if (row.left === undefined) continue;
        const a = loaded.insns[row.left]! as StreamInsn;
        const where = `${host}: ${row.kind} ${a.slot}: ${a.text}`;
        if (a.cbpf !== undefined && a.cbpf !== null) expect(["same", "moved"], where).toContain(row.kind);
        if (row.kind === "same" || row.kind === "moved") continue;
        // Anything else the kernel may only have dropped (a no-op jump, dead code).
        if (row.kind !== "delete") expect(rewritable(a), where).toBe(true);
        if (ctxLoad(a)) seen.ctx++;
        if (a.reloc !== undefined) seen.map++;
      }
      expect(seen.ctx, host).toBeGreaterThan(0);
      expect(seen.map, host).toBeGreaterThan(0);
      // Every spliced instruction is in the stream the kernel was given.
      expect(loaded.insns.filter((x) => x.cbpf !== undefined).length, host).toBe(r.inserted.slots);
    }
  });
});

describeWithObjects("the aligned diff as text", () => {
  it.skipIf(!requires("diff text of an injected host", "libpcap"))("has one + line per spliced instruction, no - line, every moved row, and one @@ hunk", () => {
    const r = injectFilter({ object: hostBytes("xdp"), cbpf: cbpfFor("tcp port 80"), linkType: 1 });
    const d = diffStreams(r.before, r.after);
    const text = formatDiff(d, r.before, r.after);
    const lines = text.split("\n");
    const spliced = r.after.flatMap((s) => s.insns).filter((x) => x.cbpf !== undefined);
    expect(lines.filter((l) => l.startsWith("+ "))).toHaveLength(spliced.length);
    expect(lines.filter((l) => l.startsWith("- ") || l.startsWith("± "))).toEqual([]);
    expect(lines.filter((l) => l.startsWith("~ "))).toHaveLength(d.summary.moved);
    expect(lines.filter((l) => l.startsWith("@@ "))).toEqual([expect.stringMatching(/^@@ -\d+,0 \+\d+,\d+ @@ insert$/)]);
    // Each + line names the cBPF instruction it came from where it has one.
    const tagged = spliced.filter((x) => x.cbpf !== null).length;
    expect(lines.filter((l) => l.startsWith("+ ") && /; cbpf \d+$/.test(l))).toHaveLength(tagged);
  });
});
