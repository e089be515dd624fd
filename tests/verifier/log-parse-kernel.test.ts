/**
 * lib/verifier's log parser on logs the running kernel prints now (log_level 2): every Live regs
 * row is read, with and without the loop-number column, whatever comes between the rows; the
 * program comes back from its own listing; and the emulator's listing reads the same.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { alu64, assemble, call, decodeRaw, exit, formatInsn, jmp, label, ldImm64, mov64Imm, type AsmItem, type RawInsn } from "../../lib/ebpf";
import { emulate, liveRegs, logSummary, parseLog, programFromLog, traceInsnTexts, type LiveRow, type LogLine } from "../../lib/verifier";
import { analyseCfg, slotProgram } from "../../lib/verifier/program";
import { kernelLog } from "../support/kernel-log";
import { requiresKernelFeature } from "../support/requires";
import { FOREIGN_LINES, interleave } from "../support/log-noise";

const program = (items: AsmItem[]): readonly RawInsn[] => assemble(items).raw;

// r2 counts to 10 in a loop made of instructions 1 and 2.
const LOOP = program([mov64Imm("r2", 0), label("top"), alu64("add", "r2", 1), jmp("jlt", "r2", 10, "top"), mov64Imm("r0", 0), exit()]);
/** A call to each helper that takes a callback (the kernel gives the call a loop number), then an ld_imm64 (two slots, one row). */
const CALLBACKS = program([...[164, 180, 181, 209].map((id) => call(id)), ldImm64("r1", 0x912345678n), mov64Imm("r0", 0), exit()]);
const PROGRAMS: Record<string, readonly RawInsn[]> = { loop: LOOP, "callback helpers": CALLBACKS };

const enabled = requiresKernelFeature("verifier log parser vs kernel", () =>
  parseLog(kernelLog(LOOP, "socket").log).some((l) => l.kind === "live-header") ? null : "this kernel prints no Live regs listing at log_level 2",
);

const rowFields = (rows: Map<number, LiveRow>) => [...rows.values()].map(({ insn, scc, live, prune, text }) => ({ insn, scc, live, prune, text }));

describe.skipIf(!enabled)("the log parser on the running kernel's logs", () => {
  for (const [name, raw] of Object.entries(PROGRAMS)) {
    it(`reads every Live regs row (${name})`, () => {
      const lines = parseLog(kernelLog(raw, "socket").log);
      const rows = liveRegs(lines);
      const decoded = decodeRaw(raw);
      expect([...rows.keys()]).toEqual(decoded.map((d) => d.index));
      for (const d of decoded) expect(rows.get(d.index)?.text, `insn ${d.index}`).toBe(formatInsn(d));
      expect(programFromLog(lines)).toEqual(raw);
    });

    it(`reads the loop numbers and masks the emulator's CFG analysis computes (${name})`, () => {
      const rows = liveRegs(parseLog(kernelLog(raw, "socket").log));
      const cfg = analyseCfg(slotProgram(raw), "socket");
      const mine = [...rows.keys()].map((insn) => ({ insn, scc: cfg.scc[insn] || null, live: cfg.liveBefore[insn] }));
      expect([...rows.values()].map(({ insn, scc, live }) => ({ insn, scc, live }))).toEqual(mine);
    });
  }

  it("reads the emulator's listing as it reads the kernel's", () => {
    const k = liveRegs(parseLog(kernelLog(LOOP, "socket").log));
    const e = liveRegs(parseLog(emulate(LOOP, { progType: "socket", trace: false }).text));
    expect(rowFields(e)).toEqual(rowFields(k));
  });

  it("gives the loop number to exactly the instructions of the loop", () => {
    const rows = liveRegs(parseLog(kernelLog(LOOP, "socket").log));
    expect([...rows.values()].filter((r) => r.scc !== null).map((r) => r.insn)).toEqual([1, 2]);
  });

  it("reads the same log from the same lines when foreign lines come between every two", () => {
    for (const raw of Object.values(PROGRAMS)) {
      const text = kernelLog(raw, "socket").log;
      const clean = parseLog(text);
      const noisy = parseLog(interleave(text.trimEnd().split("\n")).join("\n"));
      expect(rowFields(liveRegs(noisy))).toEqual(rowFields(liveRegs(clean)));
      expect(traceInsnTexts(noisy)).toEqual(traceInsnTexts(clean));
      expect(logSummary(noisy)).toEqual(logSummary(clean));
      // Every inserted line is read on its own, as a line of no kind the kernel's lines have here.
      const kinds = new Set(clean.map((l) => l.kind));
      for (const l of noisy.filter((_, i) => i % 2 === 1)) expect(kinds.has(l.kind) && l.kind !== "unknown" && l.kind !== "blank", JSON.stringify(l.raw)).toBe(false);
    }
  });

  it("keeps every row whatever text is inserted anywhere (property)", () => {
    const real = kernelLog(CALLBACKS, "socket").log.trimEnd().split("\n");
    const expected = rowFields(liveRegs(parseLog(real.join("\n"))));
    const isRow = (l: LogLine) => l.kind === "live";
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(real.length), fc.oneof(fc.string(), fc.constantFrom(...FOREIGN_LINES))), { maxLength: 40 }), (inserts) => {
        const lines = [...real];
        for (const [at, text] of [...inserts].sort((a, b) => b[0] - a[0])) lines.splice(at, 0, ...text.split("\n"));
        const parsed = parseLog(lines.join("\n"));
        fc.pre(!inserts.some(([, t]) => t.split("\n").some((x) => isRow(parseLog(x)[0] ?? { raw: "", kind: "blank" }))));
        expect(rowFields(liveRegs(parsed))).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});
