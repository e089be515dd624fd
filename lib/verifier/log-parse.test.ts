/**
 * The log parser without a kernel: on the real 6.18 logs of docs/verifier-log-format.md Appendix A
 * (tests/verifier/fixtures, verbatim), on the forms of other kernels that pasted logs contain,
 * on lines it does not know, and on arbitrary text (it never throws and never loses a line).
 * tests/verifier/log-parse-kernel.test.ts reads what the running kernel prints.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FOREIGN_LINES, interleave } from "../../tests/support/log-noise";
import { parseHarnessFile } from "../../tests/verifier/harness-file";
import { errorLines, liveRegs, logSummary, programFromLog, traceInsnTexts } from "./log-analyze";
import { parseLog, parseLogLine, type LogLine } from "./log-parse";

const fixtures = join(__dirname, "../../tests/verifier/fixtures");
const LOGS = ["all-level2.txt", "all-level1.txt", "prune-test-state-freq.txt"].flatMap((f) =>
  parseHarnessFile(readFileSync(join(fixtures, f), "utf8")).map((p) => ({ ...p, name: `${f}: ${p.name}` })),
);

/** What every parsed line must satisfy, whatever its kind: its fields are read from its own text. */
function consistent(l: LogLine): void {
  switch (l.kind) {
    case "insn":
      expect(l.raw.startsWith(`${l.insn}: ${l.text}`)).toBe(true);
      if (l.state === null) expect(l.raw).toBe(`${l.insn}: ${l.text}`);
      else expect(l.raw.slice(l.stateColumn!)).toBe(`;${l.state}`);
      break;
    case "live":
      expect(l.raw.endsWith(` ${l.text}`)).toBe(true);
      expect(l.raw).toContain(`${l.insn}: `);
      break;
    case "state":
      expect(l.raw).toBe(`${l.insn}:${l.state}`);
      break;
    case "blank":
      expect(l.raw).toBe("");
      break;
    default:
  }
  for (const v of Object.values(l)) if (typeof v === "number") expect(Number.isSafeInteger(v)).toBe(true);
}

describe("the 6.18 logs of Appendix A", () => {
  it("has fixtures to read", () => expect(LOGS.length).toBeGreaterThan(20));

  for (const p of LOGS) {
    it(p.name, () => {
      const lines = parseLog(p.log);
      expect(lines.map((l) => l.raw)).toEqual(p.log.replace(/\n$/, "").split("\n"));
      lines.forEach(consistent);
      // The only lines of a 6.18 log the parser does not classify are error messages.
      const errors = new Set(errorLines(lines));
      for (const l of lines) if (l.kind === "unknown") expect(errors.has(l), l.raw).toBe(true);
      expect(lines.at(-1)?.kind).toBe("processed");
      if (lines.some((l) => l.kind === "live-header")) {
        // The listing is whole: the program comes back from it, one row per instruction.
        const program = programFromLog(lines)!;
        expect(liveRegs(lines).size).toBe(program.filter((_, i) => i === 0 || program[i - 1]!.code !== 0x18).length);
      }
    });
  }

  it("reads loop numbers where the listing has them (loop4)", () => {
    const loop = LOGS.find((p) => p.name.endsWith(": loop4") && p.level === 2)!;
    const rows = [...liveRegs(parseLog(loop.log)).values()];
    expect(rows.some((r) => r.scc !== null)).toBe(true);
    expect(rows.some((r) => r.scc === null)).toBe(true);
  });

  it("reads the same rows, texts and figures with a foreign line after every line", () => {
    for (const p of LOGS) {
      const clean = parseLog(p.log);
      const noisy = parseLog(interleave(p.log.replace(/\n$/, "").split("\n")).join("\n"));
      expect([...liveRegs(noisy).entries()].map(([i, r]) => [i, r.raw])).toEqual([...liveRegs(clean).entries()].map(([i, r]) => [i, r.raw]));
      expect(traceInsnTexts(noisy)).toEqual(traceInsnTexts(clean));
      expect(logSummary(noisy)).toEqual(logSummary(clean));
    }
  });
});

// Forms this kernel does not print, from the format reference (section 9) and the kernel's printf
// formats: nothing running here can produce them, so they are written out.
describe("forms of other kernels", () => {
  it("reads Live regs rows whose numbers outgrow %3d, and bpf-next's prune-point column", () => {
    expect(parseLogLine("1234 1000: 0.2....... (07) r2 += 1")).toMatchObject({ kind: "live", scc: 1234, insn: 1000, live: 0b101 });
    expect(parseLogLine("    1000: .......... (95) exit")).toMatchObject({ kind: "live", scc: null, insn: 1000 });
    expect(parseLogLine("  1   2: ..2....... p (a5) if r2 < 0xa goto pc-2")).toMatchObject({ kind: "live", scc: 1, insn: 2, prune: "p", text: "(a5) if r2 < 0xa goto pc-2" });
    expect(parseLogLine("      0: .1........ P (85) call bpf_loop#181")).toMatchObject({ kind: "live", prune: "P" });
    expect(parseLogLine("      0: .1........   (bf) r6 = r1")).toMatchObject({ kind: "live", prune: null, text: "(bf) r6 = r1" });
    expect(parseLogLine("Live regs before insn, pruning points (p), and force checkpoints (P):").kind).toBe("live-header");
  });

  it("reads liveness suffixes, frames, speculative branches, source lines and split stack depths", () => {
    expect(parseLogLine("0: (b7) r0 = 2                        ; R0_w=2")).toMatchObject({ kind: "insn", state: " R0_w=2" });
    expect(parseLogLine("101: frame1: R0=ringbuf_mem_or_null(id=1)")).toMatchObject({ kind: "state", insn: 101, state: " frame1: R0=ringbuf_mem_or_null(id=1)" });
    expect(parseLogLine("from 3 to 9 (speculative execution): R0=scalar()")).toMatchObject({ kind: "from", from: 3, to: 9, speculative: true, state: " R0=scalar()" });
    expect(parseLogLine("; if (!n) @ rbtree.c:199")).toMatchObject({ kind: "source", text: "if (!n)", file: "rbtree.c", line: 199 });
    expect(parseLogLine("; int handle__sched_switch(u64 *ctx)")).toMatchObject({ kind: "source", file: null, line: null });
    expect(parseLogLine("stack depth 0+8")).toMatchObject({ kind: "stack-depth", depths: [0, 8] });
    expect(parseLogLine("regs=4 stack=0 before 2: (b7) r2 = 0").kind).toBe("precision");
    expect(parseLogLine("processed 5 insns (limit 131072) max_states_per_insn 0 total_states 0 peak_states 0")).toMatchObject({ kind: "processed", markRead: null });
  });
});

describe("lines it does not know", () => {
  it("are unknown, not an error and not a near kind", () => {
    for (const raw of FOREIGN_LINES) {
      const l = parseLogLine(raw);
      expect(["unknown", "blank"], JSON.stringify(raw)).toContain(l.kind);
      expect(l.raw).toBe(raw);
    }
  });

  it("never throw and never lose or merge a line, whatever the text (property)", () => {
    const logish = fc.string({ unit: fc.constantFrom(..."0123456789 .:;()=+-_#@rRwpPfx\n\t\r"), maxLength: 200 });
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary", maxLength: 300 }), logish), (text) => {
        const lines = parseLog(text);
        const expected = text.split("\n");
        if (expected.at(-1) === "") expected.pop();
        expect(lines.map((l) => l.raw)).toEqual(expected.map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l)));
        lines.forEach(consistent);
        // The analyzer takes whatever the parser gives.
        liveRegs(lines);
        traceInsnTexts(lines);
        logSummary(lines);
        errorLines(lines);
      }),
      { numRuns: 2000 },
    );
  });
});
