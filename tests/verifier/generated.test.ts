/**
 * Random valid programs shaped like translated filters (program-gen.ts), loaded into the running
 * kernel and emulated: verdicts must agree, and the per-instruction state lines must be identical
 * after normalisation.
 */
import { describe, expect, it } from "vitest";
import { compareLogs, emulate, type ProgType } from "../../lib/verifier";
import { kernelLog } from "../support/kernel-log";
import { requires } from "../support/requires";
import { generateProgram } from "./program-gen";

const enabled = requires("generated programs", "kernel");
const PER_TYPE = 60;

describe.skipIf(!enabled)("generated filter-shaped programs: emulator vs kernel", () => {
  for (const type of ["xdp", "tc", "socket"] as ProgType[]) {
    it(`${PER_TYPE} ${type} programs`, () => {
      let matched = 0;
      let total = 0;
      const diffs: string[] = [];
      for (let seed = 1; seed <= PER_TYPE; seed++) {
        const prog = generateProgram(seed * 7919 + type.length, type);
        const k = kernelLog(prog, type);
        const e = emulate(prog, { progType: type });
        expect(e.accepted, `seed ${seed}: ${e.error?.message ?? ""}\n${k.log}`).toBe(k.accepted);
        if (!k.accepted) expect(e.errno).toBe(k.errno);
        const c = compareLogs(k.log, e.text);
        matched += c.matched;
        total += Math.max(c.expected, c.actual);
        if (c.diff.length) diffs.push(`seed ${seed}: ${c.diff.slice(0, 6).join("\n    ")}`);
      }
      console.log(`generated ${type}: ${matched}/${total} lines agree (${((100 * matched) / total).toFixed(2)}%)${diffs.length ? "\n  " + diffs.join("\n  ") : ""}`);
      expect(diffs).toEqual([]);
    }, 120_000);
  }
});

describe.skipIf(!enabled)("generated programs with an out-of-range read, levels 1 and 2", () => {
  for (const type of ["xdp", "tc"] as ProgType[]) {
    it(`${type}`, () => {
      let rejected = 0;
      for (let seed = 1; seed <= 30; seed++) {
        const prog = generateProgram(seed * 104729, type, true);
        for (const level of [1, 2] as const) {
          const k = kernelLog(prog, type, { level });
          const e = emulate(prog, { progType: type, logLevel: level });
          expect(e.accepted, `seed ${seed}`).toBe(k.accepted);
          expect(e.errno ?? 0).toBe(k.errno);
          const c = compareLogs(k.log, e.text);
          expect(c.diff, `seed ${seed} level ${level}`).toEqual([]);
          if (!k.accepted) rejected++;
        }
      }
      expect(rejected).toBeGreaterThan(10);
    }, 120_000);
  }
});
