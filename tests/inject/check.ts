/**
 * The structural checks of a splice (tests/inject/structural.test.ts, two-stubs.test.ts): one
 * inserted hunk at the stub's start, every other instruction identical but for branch fields whose
 * targets map through `moved`, and the hunk being the translation followed by pwru's epilogue.
 */
import { expect } from "vitest";
import { branchField, rawFromDecoded } from "../../lib/ebpf";
import { readBpfObject } from "../../lib/elf";
import type { InjectResult, Stream } from "../../lib/inject";

/** The target a before-target must have after the splice. */
function mapTarget(r: InjectResult, target: string): string {
  const at = target.lastIndexOf(":");
  const [sec, slot] = [target.slice(0, at), Number(target.slice(at + 1))];
  const idx = r.before.find((s) => s.section === sec)!.sectionIndex;
  if (idx !== r.inserted.sectionIndex || slot === r.inserted.start) return target; // the stub's entry: now the filter
  return `${sec}:${r.moved.get(idx)![slot]}`;
}

export function checkStreams(r: InjectResult): void {
  expect(r.after.map((s) => s.section)).toEqual(r.before.map((s) => s.section));
  for (const b of r.before) {
    const a = r.after.find((s) => s.sectionIndex === b.sectionIndex)! as Stream;
    const hunk = b.sectionIndex === r.inserted.sectionIndex ? r.inserted : null;
    const inHunk = (slot: number) => hunk !== null && slot >= hunk.start && slot < hunk.start + hunk.slots;
    const rest = a.insns.filter((i) => !inHunk(i.slot));
    // One hunk: the inserted instructions are contiguous, and everything else is the old stream.
    expect(rest).toHaveLength(b.insns.length);
    if (hunk) expect(a.insns.filter((i) => inHunk(i.slot)).every((i) => i.cbpf !== undefined)).toBe(true);
    b.insns.forEach((old, k) => {
      const now = rest[k]!;
      expect(now.slot).toBe(r.moved.get(b.sectionIndex)![old.slot]);
      expect(now.cbpf).toBeUndefined();
      if (old.target === undefined) {
        expect(now.text).toBe(old.text);
        expect(now.target).toBeUndefined();
      } else {
        const want = mapTarget(r, old.target);
        expect(now.target).toBe(want);
        expect(now.text).toBe(old.text.replace(old.target, want));
      }
    });
  }
}

/** The raw encodings: every field identical, except the branch field (off or imm) of a jump or call. */
export function checkRaw(r: InjectResult, original: Uint8Array): void {
  const before = readBpfObject(original);
  for (const p of r.object.programs) {
    const o = before.programs.find((q) => q.sectionIndex === p.sectionIndex)!;
    const map = r.moved.get(p.sectionIndex)!;
    const at = new Map(p.insns.map((d) => [d.index, d]));
    for (const d of o.insns) {
      const n = at.get(map[d.index]!)!;
      expect({ code: n.code, dst: n.dst, src: n.src }).toEqual({ code: d.code, dst: d.dst, src: d.src });
      const field = branchField(d);
      if (field !== "off") expect(n.off).toBe(d.off);
      if (field !== "imm") expect(n.imm).toBe(d.imm);
      if (d.slots === 2) expect(n.imm64).toBe(d.imm64);
    }
  }
}

export function checkHunk(r: InjectResult): void {
  const p = r.object.programs.find((q) => q.sectionIndex === r.inserted.sectionIndex)!;
  const raw = rawFromDecoded(p.insns).slice(r.inserted.start, r.inserted.start + r.inserted.slots);
  const body = r.translation.program.raw.slice(0, r.translation.program.slots - 1); // without the stand-in exit
  expect(raw.slice(0, body.length)).toEqual(body);
  // pwru's epilogue: r4 = result, then r1 = r2 = r3 = r5 = 0, falling through into the old body.
  const epi = raw.slice(body.length).map((x) => [x.code, x.dst, x.src, x.imm]);
  expect(epi).toEqual([
    [0xbf, 4, 0, 0],
    [0xb7, 1, 0, 0],
    [0xb7, 2, 0, 0],
    [0xb7, 3, 0, 0],
    [0xb7, 5, 0, 0],
  ]);
  const stream = r.after.find((s) => s.sectionIndex === r.inserted.sectionIndex)!;
  for (const i of stream.insns) {
    if (i.slot < r.inserted.start || i.slot >= r.inserted.start + r.inserted.slots) continue;
    const k = i.slot - r.inserted.start;
    expect(i.cbpf).toBe(k < body.length ? r.translation.cbpfOfSlot[k] : null);
  }
  // Some instructions of the hunk name cBPF instructions, and every cBPF index named exists.
  const named = stream.insns.map((i) => i.cbpf).filter((c): c is number => typeof c === "number");
  expect(named.length).toBeGreaterThan(0);
  expect(Math.max(...named)).toBeLessThan(r.translation.stats.cbpfLength);
}

