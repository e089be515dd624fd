/**
 * Hostile and truncated objects: mutations of the real host objects (truncation, random bytes,
 * and 32/64-bit values written over the fields the readers trust: the ELF header, the section
 * table, .symtab, .rel, .BTF and .BTF.ext) either read, or fail with a PlaygroundError that
 * points at a byte inside the input. Never another exception, never a hang. (Allocation is
 * bounded by construction: every count the readers loop over is checked against the bytes it
 * needs before anything is allocated for it.) A successful read is
 * then walked completely (every BTF type, every map) and written back, under the same rule; what
 * is written reads back with the same instructions and symbols.
 */
import fc from "fast-check";
import { expect, it } from "vitest";
import { isPlaygroundError } from "../../lib/errors";
import { readBpfObject, readElf, writeBpfObject } from "../../lib/elf";
import { describeWithObjects, HOSTS, readHostObject } from "../support/bpf-objects";

/** Byte ranges worth aiming at, from the unmutated object. */
function targets(bytes: Uint8Array): [number, number][] {
  const elf = readElf(bytes);
  const out: [number, number][] = [[0, 64]];
  const shoff = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(40, true));
  out.push([shoff, bytes.length]);
  for (const s of elf.sections) {
    if (s.fileOffset === undefined || s.data.length === 0) continue;
    if ([".symtab", ".BTF", ".BTF.ext", ".maps"].includes(s.header.name) || s.header.name.startsWith(".rel")) {
      out.push([s.fileOffset, s.fileOffset + Math.min(s.data.length, 256)]);
    }
  }
  return out;
}

type Mutation =
  | { kind: "truncate"; at: number }
  | { kind: "byte"; at: number; value: number }
  | { kind: "u32"; target: number; at: number; value: number }
  | { kind: "u64"; target: number; at: number; value: bigint };

const mutation = (len: number): fc.Arbitrary<Mutation> =>
  fc.oneof(
    fc.record({ kind: fc.constant("truncate" as const), at: fc.nat({ max: len - 1 }) }),
    fc.record({ kind: fc.constant("byte" as const), at: fc.nat({ max: len - 1 }), value: fc.nat({ max: 255 }) }),
    fc.record({
      kind: fc.constant("u32" as const), target: fc.nat(), at: fc.nat(),
      value: fc.oneof(fc.constantFrom(0, 1, 8, 0x7fffffff, 0xffffffff, 0x10000, len, len + 1), fc.nat({ max: 0xffffffff })),
    }),
    fc.record({
      kind: fc.constant("u64" as const), target: fc.nat(), at: fc.nat(),
      value: fc.oneof(fc.constantFrom(0n, 0xffffffffffffffffn, 1n << 53n, BigInt(len)), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })),
    }),
  );

function apply(original: Uint8Array, ms: Mutation[], aims: [number, number][]): Uint8Array {
  let b = original.slice();
  for (const m of ms) {
    const v = new DataView(b.buffer);
    if (m.kind === "truncate") b = b.slice(0, Math.min(m.at, b.length));
    else if (m.kind === "byte") {
      if (m.at < b.length) b[m.at] = m.value;
    } else {
      const [lo, hi] = aims[m.target % aims.length]!;
      const width = m.kind === "u32" ? 4 : 8;
      const at = lo + (m.at % Math.max(1, hi - lo));
      if (at + width > b.length) continue;
      if (m.kind === "u32") v.setUint32(at, m.value, true);
      else v.setBigUint64(at, m.value, true);
    }
  }
  return b;
}

const big = (_: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v);

/** Reads, walks and writes; returns what went wrong, or null when only PlaygroundErrors (or nothing) were thrown. */
function misbehaviour(bytes: Uint8Array): string | null {
  const step = (what: string, fn: () => void, positioned = false): string | null => {
    try {
      fn();
      return null;
    } catch (e) {
      if (!isPlaygroundError(e)) return `${what}: ${String(e instanceof Error ? e.stack : e)}`;
      if (positioned && e.position.kind !== "byte") return `${what}: ${e.code} has no byte position (${e.message})`;
      if (e.position.kind === "byte" && !(e.position.offset >= 0 && e.position.offset <= bytes.length)) {
        return `${what}: position ${e.position.offset} is outside the ${bytes.length}-byte input (${e.message})`;
      }
      return null;
    }
  };
  let obj: ReturnType<typeof readBpfObject> | undefined;
  const read = step("read", () => {
    obj = readBpfObject(bytes);
  }, true);
  if (read || !obj) return read;
  const o = obj;
  return (
    step("walk BTF", () => {
      if (!o.btf) return;
      for (const t of o.btf.types()) o.btf.sizeOf(t.id);
      o.btf.func("filter_pcap_ebpf_l2");
      o.btf.field("sk_buff", "head");
    }) ??
    step("write", () => {
      const again = readBpfObject(writeBpfObject(o));
      // What was read is what is written: the same instructions and symbols come back.
      if (JSON.stringify(again.programs.map((p) => p.insns), big) !== JSON.stringify(o.programs.map((p) => p.insns), big)) throw new Error("instructions changed on a round trip");
      if (JSON.stringify(again.symbols.symbols, big) !== JSON.stringify(o.symbols.symbols, big)) throw new Error("symbols changed on a round trip");
    })
  );
}

describeWithObjects("lib/elf on hostile objects", () => {
  it.each(HOSTS)("%s: every mutation reads or fails with a positioned PlaygroundError", (host) => {
    const original = readHostObject(host);
    const aims = targets(original);
    fc.assert(
      fc.property(fc.array(mutation(original.length), { minLength: 1, maxLength: 4 }), (ms) => {
        const t0 = performance.now();
        const problem = misbehaviour(apply(original, ms, aims));
        expect(problem).toBeNull();
        expect(performance.now() - t0).toBeLessThan(2000); // no hang
      }),
      { numRuns: 400 },
    );
  });

  it("empty, tiny and non-ELF inputs are PlaygroundErrors", () => {
    for (const b of [new Uint8Array(0), new Uint8Array(3), new Uint8Array(64), new TextEncoder().encode("#!/bin/sh\necho not an object\n")]) {
      expect(misbehaviour(b)).toBeNull();
      expect(() => readBpfObject(b)).toThrow();
    }
  });
});
