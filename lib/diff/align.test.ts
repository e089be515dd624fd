import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  assemble,
  call,
  callLabel,
  disassembleToInsns,
  exit,
  jmp,
  label,
  mov64Imm,
  mov64Reg,
  type AsmItem,
  type Insn,
} from "../ebpf";
import type { Stream } from "../inject/types";
import { translate } from "../translate";
import { compileListing } from "../../server/compile";
import { requires } from "../../tests/support/requires";
import { Gen, randomSocketProgram, rng } from "../../tests/support/ebpf-gen";
import { diffInsns, diffStreams, shapeKey, type InsnDiff } from "./align";
import { concatStreams, streamFromRaw, streamFromXlated } from "./streams";

const stream = (items: AsmItem[], cbpfOfSlot?: (number | null)[]): Stream => streamFromRaw(assemble(items).raw, { section: "xdp", cbpfOfSlot });

/**
 * The structural promise of a splice: one insertion hunk and every other row same or moved, and
 * every moved row a jump or call whose target corresponds on both sides (checked here from the
 * streams, not from the diff's own bookkeeping).
 */
function expectSplice(d: InsnDiff, left: Stream, right: Stream, inserted: { start: number; count: number }): void {
  expect(d.hunks).toHaveLength(1);
  expect(d.hunks[0]!.kind).toBe("insert");
  expect(d.hunks[0]!.right).toEqual(inserted);
  expect(d.hunks[0]!.left.count).toBe(0);
  const rightOfLeft = new Map<number, number>();
  for (const r of d.rows) if (r.left !== undefined && r.right !== undefined) rightOfLeft.set(r.left, r.right);
  const index = (s: Stream, target: string) => s.insns.findIndex((x) => `${s.section}:${x.slot}` === target);
  for (const r of d.rows) {
    if (r.kind === "insert") continue;
    expect(["same", "moved"]).toContain(r.kind);
    const a = left.insns[r.left!]!;
    const b = right.insns[r.right!]!;
    expect(shapeKey(a)).toBe(shapeKey(b));
    if (r.kind === "same") expect(a.text).toBe(b.text);
    else {
      expect(a.target).toBeDefined();
      const lt = rightOfLeft.get(index(left, a.target!));
      let rt = index(right, b.target!);
      // A call into code inserted at a function's entry calls that function.
      while (!a.text.includes("goto") && d.rows.some((x) => x.kind === "insert" && x.right === rt)) rt++;
      expect(rt).toBe(lt);
    }
  }
}

/** A host in the shape of bpf/*.c: main calls a five-argument stub, then a function after it. */
function host(stubBody: AsmItem[]): AsmItem[] {
  return [
    mov64Reg("r6", "r1"),
    call(5), // ktime_get_ns: a helper, an anchor
    mov64Reg("r1", "r6"),
    mov64Reg("r2", "r6"),
    mov64Reg("r3", "r6"),
    mov64Imm("r4", 0),
    mov64Imm("r5", 0),
    callLabel("stub"),
    jmp("jeq", "r0", 0, "drop"),
    callLabel("after"),
    mov64Imm("r0", 2),
    exit(),
    label("drop"),
    mov64Imm("r0", 1),
    exit(),
    label("stub"),
    ...stubBody,
    label("after"),
    mov64Imm("r0", 7),
    exit(),
  ];
}

const STUB: AsmItem[] = [mov64Imm("r0", 0), jmp("jeq", "r4", "r5", "out"), mov64Imm("r0", 1), label("out"), exit()];

const libpcap = requires("diff of a spliced filter", "libpcap");

describe("instruction diff", () => {
  it.skipIf(!libpcap)("a translated filter spliced at a stub's entry is one insertion hunk, coloured by its cBPF", () => {
    const compiled = compileListing({ filter: "tcp port 80 or icmp", dlt: 1, format: "json" });
    if (!compiled.ok) throw new Error(compiled.error);
    const t = translate(compiled.insns, { target: "xdp", mode: "body", resultLabel: "stub_result", labelPrefix: "flt", abi: { packetStart: "r4", packetEnd: "r5" } });
    const before = host(STUB);
    // pwru's splice: the filter goes in front of the stub's body and falls through into it.
    const after = host([...t.insns, label("stub_result"), ...STUB]);
    const stubSlot = assemble(before).labelIndex.get("stub")!;
    const filterSlots = t.program.raw.length - 1; // without the stand-in exit
    const cbpfOfSlot: (number | null)[] = assemble(after).raw.map((_, s) => (s >= stubSlot && s < stubSlot + filterSlots ? t.cbpfOfSlot[s - stubSlot]! : null));
    const left = stream(before);
    const right = stream(after, cbpfOfSlot);
    const d = diffInsns(left.insns, right.insns, "xdp");
    const insertedInsns = right.insns.filter((x) => x.slot >= stubSlot && x.slot < stubSlot + filterSlots).length;
    expectSplice(d, left, right, { start: left.insns.findIndex((x) => x.slot === stubSlot), count: insertedInsns });
    // The call past the stub and the stub's own jump moved; the call of the stub did not change.
    expect(d.summary.moved).toBe(2);
    // Every cBPF instruction that made code is in the hunk, in order of first appearance.
    const shown = d.rows.filter((r) => r.kind === "insert").map((r) => right.insns[r.right!]!.cbpf);
    expect(new Set(shown.filter((c) => c !== null))).toEqual(new Set(t.cbpfOfSlot.filter((c) => c !== null)));
  });

  it("a jump whose target moved the same way is moved; one that now goes elsewhere is a change", () => {
    const a = stream([jmp("jgt", "r1", 5, "t"), mov64Imm("r0", 1), label("t"), mov64Imm("r0", 2), exit()]);
    const moved = stream([jmp("jgt", "r1", 5, "t"), mov64Imm("r0", 1), mov64Imm("r9", 9), label("t"), mov64Imm("r0", 2), exit()]);
    const retargeted = stream([jmp("jgt", "r1", 5, "t"), label("t"), mov64Imm("r0", 1), mov64Imm("r0", 2), exit()]);
    expect(diffInsns(a.insns, moved.insns, "xdp").rows.map((r) => r.kind)).toEqual(["moved", "same", "insert", "same", "same"]);
    expect(diffInsns(a.insns, retargeted.insns, "xdp").rows.map((r) => r.kind)).toEqual(["change", "same", "same", "same"]);
  });

  it("an immediate that changed is a change row, a new instruction of another shape an insertion", () => {
    const a = stream([mov64Imm("r0", 1), mov64Reg("r2", "r1"), exit()]);
    const b = stream([mov64Imm("r0", 3), mov64Reg("r2", "r1"), call(7), exit()]);
    const d = diffInsns(a.insns, b.insns, "xdp");
    expect(d.rows.map((r) => r.kind)).toEqual(["change", "same", "insert", "same"]);
    expect(d.hunks.map((h) => h.kind)).toEqual(["change", "insert"]);
    expect(d.summary).toEqual({ same: 2, moved: 0, insert: 1, delete: 0, change: 1, hunks: 2 });
  });

  it("diffs sections by name, and compares a call into another section by where its target went", () => {
    const text: Stream = { section: ".text", sectionIndex: 2, insns: [{ slot: 0, text: "r0 = 1" }, { slot: 1, text: "exit" }] };
    const textAfter: Stream = { section: ".text", sectionIndex: 2, insns: [{ slot: 0, text: "r9 = 9" }, { slot: 1, text: "r0 = 1" }, { slot: 2, text: "exit" }] };
    const prog = (slot: number): Stream => ({ section: "xdp", sectionIndex: 3, insns: [{ slot: 0, text: `call L${slot}`, target: `.text:${slot}` }, { slot: 1, text: "exit" }] });
    // The call still reaches the same function after code went in at its entry: same.
    const d = diffStreams([prog(0), text], [textAfter, prog(0)]);
    expect(d.sections.map((s) => [s.section, s.summary.insert])).toEqual([
      ["xdp", 0],
      [".text", 1],
    ]);
    expect(d.sections[0]!.rows.map((r) => r.kind)).toEqual(["same", "same"]);
    // Section index works as the target's section too, and a call to the next instruction is a change.
    const byIndex: Stream = { section: "xdp", sectionIndex: 3, insns: [{ slot: 0, text: "call L1", target: "2:1" }, { slot: 1, text: "exit" }] };
    expect(diffStreams([prog(0), text], [byIndex, text]).sections[0]!.rows.map((r) => r.kind)[0]).toBe("change");
  });

  it("a section on one side only is all insertions (or deletions)", () => {
    const s: Stream = { section: "tc", sectionIndex: 1, insns: [{ slot: 0, text: "r0 = 0" }, { slot: 1, text: "exit" }] };
    const d = diffStreams([], [s]);
    expect(d.sections).toHaveLength(1);
    expect(d.sections[0]!.hunks).toEqual([{ kind: "insert", start: 0, end: 2, left: { start: 0, count: 0 }, right: { start: 0, count: 2 } }]);
    expect(diffStreams([s], []).summary.delete).toBe(2);
  });

  // Random verifier-valid programs (tests/support/ebpf-gen), seeded by fast-check's global seed.
  const programs = fc.integer({ min: 1, max: 2 ** 31 - 1 }).map((seed) => {
    const g = new Gen(rng(seed));
    return randomSocketProgram(g, { length: g.int(5, 60), ldAbs: false, subCalls: g.bool(), maxBranches: 8 });
  });

  it("a program diffed with itself is all same", () => {
    fc.assert(
      fc.property(programs, (items) => {
        const s = stream(items);
        const d = diffInsns(s.insns, s.insns, "xdp");
        expect(d.rows.every((r) => r.kind === "same")).toBe(true);
        expect(d.rows).toHaveLength(s.insns.length);
        expect(d.hunks).toEqual([]);
      }),
    );
  });

  it("inserting k instructions anywhere gives k insertions in one hunk, and moves only jumps and calls", () => {
    fc.assert(
      fc.property(programs, fc.nat(), fc.integer({ min: 1, max: 12 }), (items, at, k) => {
        const insns = disassembleToInsns(assemble(items).raw);
        const pos = at % (insns.length + 1);
        // Fresh immediates: the inserted code is not a copy of anything in the program.
        const fresh: Insn[] = Array.from({ length: k }, (_, n) => mov64Imm("r9", 0x5eed000 + n));
        // The label of the instruction at `pos` stays with it: jumps keep their targets.
        const spliced: Insn[] = [...insns.slice(0, pos), ...fresh, ...insns.slice(pos)];
        const left = stream(insns);
        const right = stream(spliced);
        const d = diffInsns(left.insns, right.insns, "xdp");
        expect(d.summary.insert).toBe(k);
        expectSplice(d, left, right, { start: pos, count: k });
      }),
    );
  });
});

describe("joined sections", () => {
  it("re-bases slots and targets, so a program joined with its subprograms diffs against one stream", () => {
    const prog: Stream = { section: "xdp", sectionIndex: 3, insns: [{ slot: 0, text: "call .text:1", target: ".text:1" }, { slot: 1, text: "exit" }] };
    const text: Stream = { section: ".text", sectionIndex: 2, insns: [{ slot: 0, text: "r0 = 1" }, { slot: 1, text: "r0 = 2" }, { slot: 2, text: "goto L0", target: ".text:0" }] };
    const joined = concatStreams([prog, text]);
    expect(joined.insns.map((x) => [x.slot, x.text, x.target])).toEqual([
      [0, "call L3", "loaded:3"],
      [1, "exit", undefined],
      [2, "r0 = 1", undefined],
      [3, "r0 = 2", undefined],
      [4, "goto L2", "loaded:2"],
    ]);
    // The same program as the kernel lists it: every row the same.
    const kernel = streamFromXlated(["0: (85) call pc+2", "1: (95) exit", "2: (b7) r0 = 1", "3: (b7) r0 = 2", "4: (05) goto pc-3"]);
    expect(diffStreams([joined], [kernel]).sections[0]!.rows.every((r) => r.kind === "same")).toBe(true);
  });
});
