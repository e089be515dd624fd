/**
 * The emulator against the real Linux 6.18 logs of docs/verifier-log-format.md Appendix A (copied
 * byte for byte into ./fixtures): every program is rebuilt from its own log's `Live regs` block
 * (lib/verifier's programFromLog), emulated, and compared line by line after normalising only
 * what the kernel makes heuristic (see lib/verifier/compare.ts). Agreement is reported per program and in total.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compareLogs, emulate, parseLog, programFromLog } from "../../lib/verifier";
import type { RawInsn } from "../../lib/ebpf/insn";
import { parseHarnessFile } from "./harness-file";

const dir = join(__dirname, "fixtures");
const level2 = parseHarnessFile(readFileSync(join(dir, "all-level2.txt"), "utf8"));
const level1 = parseHarnessFile(readFileSync(join(dir, "all-level1.txt"), "utf8"));

// err_unreach has no Live regs block (rejected before it is printed); Appendix A.1 describes it.
const ERR_UNREACH: RawInsn[] = [
  { code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 },
  { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
  { code: 0xb7, dst: 0, src: 0, off: 0, imm: 1 },
  { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
];

const programOf = (name: string, log: string): RawInsn[] => programFromLog(parseLog(log)) ?? (name === "err_unreach" ? ERR_UNREACH : []);

describe("Appendix A, log_level 2", () => {
  let matched = 0;
  let total = 0;
  for (const p of level2) {
    it(`${p.name} (${p.progType})`, () => {
      const r = emulate(programOf(p.name, p.log), { progType: p.progType });
      expect(r.accepted).toBe(p.accepted);
      expect(r.errno ?? 0).toBe(p.errno);
      const c = compareLogs(p.log, r.text);
      matched += c.matched;
      total += Math.max(c.expected, c.actual);
      expect(c.diff, c.diff.join("\n")).toEqual([]);
      // Ids and the state counters agree too on these programs.
      expect(compareLogs(p.log, r.text, { keepIds: true }).diff).toEqual([]);
      expect(r.text.trim().split("\n").pop()).toBe(p.log.trim().split("\n").pop());
    });
  }
  it("reports the agreement", () => {
    console.log(`Appendix A level 2: ${matched}/${total} normalised lines agree (${((100 * matched) / total).toFixed(1)}%)`);
    expect(total).toBeGreaterThan(300);
  });
});

describe("Appendix A, log_level 1", () => {
  for (const p of level1) {
    it(p.name, () => {
      const source = level2.find((q) => q.name === p.name)!;
      const r = emulate(programOf(p.name, source.log), { progType: p.progType, logLevel: 1 });
      expect(r.accepted).toBe(p.accepted);
      expect(compareLogs(p.log, r.text).diff).toEqual([]);
    });
  }
});

describe("format details", () => {
  it("pads the state suffix to the kernel's column", () => {
    const r = emulate(
      [
        { code: 0x61, dst: 2, src: 1, off: 0, imm: 0 },
        { code: 0x65, dst: 2, src: 0, off: 0, imm: -5 },
        { code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 },
        { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
      ],
      { progType: "socket" },
    );
    const line = parseLog(r.text).find((l) => l.kind === "insn" && l.insn === 1);
    expect(line?.kind === "insn" && line.stateColumn).toBe(46);
  });
  it("prints _w suffixes with the 6.17 profile", () => {
    const r = emulate(
      [
        { code: 0xb7, dst: 0, src: 0, off: 0, imm: 2 },
        { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
      ],
      { progType: "xdp", profile: "6.17" },
    );
    expect(r.text).toContain("; R0_w=2");
  });
});
