/**
 * Random valid programs shaped like translated filters (program-gen.ts), loaded into the running
 * kernel and emulated: verdicts must agree, and the per-instruction state lines must be identical
 * after normalisation.
 */
import { describe, expect, it } from "vitest";
import { compareLogs, emulate, type ProgType } from "../../lib/verifier";
import { kernelLog, kernelTestsEnabled } from "../support/kernel-log";
import { generateProgram } from "./program-gen";

const enabled = kernelTestsEnabled("generated programs");
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
