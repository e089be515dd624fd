/**
 * Which helpers each program type may call: the emulator's table against the running kernel, for
 * every helper id. A helper the kernel refuses must be refused by the emulator with the same
 * message; one the kernel allows must not be refused as unavailable.
 */
import { describe, expect, it } from "vitest";
import type { RawInsn } from "../../lib/ebpf/insn";
import { BPF_FUNC_MAX_ID } from "../../lib/ebpf/opcodes";
import { isPlaygroundError } from "../../lib/errors";
import { emulate, PROG_TYPES } from "../../lib/verifier";
import { helperAvailable } from "../../lib/verifier/helpers";
import { errorLines, liveRegs, parseLog } from "../../lib/verifier";
import { analyseCfg, slotProgram } from "../../lib/verifier/program";
import { kernelLog } from "../support/kernel-log";
import { requires } from "../support/requires";

const I = (code: number, dst = 0, src = 0, off = 0, imm = 0): RawInsn => ({ code, dst, src, off, imm });
const callWithZeros = (id: number): RawInsn[] => [
  ...[1, 2, 3, 4, 5].map((r) => I(0xb7, r, 0, 0, 0)),
  I(0x85, 0, 0, 0, id),
  I(0xb7, 0, 0, 0, 0),
  I(0x95),
];
const REFUSED = /program of this type cannot use helper|invalid func/;
/** A register set as the Live regs listing shows it (r0..r9, digit or dot), for readable mismatches. */
const regMask = (live: number): string => [...Array(10).keys()].map((r) => (live & (1 << r) ? String(r) : ".")).join("");

describe.skipIf(!requires("helper availability", "kernel"))("helper availability per program type", () => {
  for (const type of PROG_TYPES) {
    it(type, () => {
      const mismatches: string[] = [];
      for (let id = 1; id < BPF_FUNC_MAX_ID + 2; id++) {
        const prog = callWithZeros(id);
        const k = kernelLog(prog, type);
        const kernelError = errorLines(parseLog(k.log)).map((l) => l.raw);
        const kernelRefuses = kernelError.some((l) => REFUSED.test(l));
        let emuRefuses = false;
        let emuMessage = "";
        try {
          const e = emulate(prog, { progType: type, trace: false });
          emuMessage = e.error?.message ?? "";
          emuRefuses = REFUSED.test(emuMessage);
        } catch (err) {
          if (!isPlaygroundError(err)) throw err; // helper available but not modelled
        }
        if (kernelRefuses !== emuRefuses) mismatches.push(`#${id}: kernel ${kernelRefuses ? "refuses" : "allows"}, emulator ${emuRefuses ? "refuses" : "allows"}`);
        else if (kernelRefuses) {
          const line = kernelError.find((l) => REFUSED.test(l));
          if (line !== emuMessage) mismatches.push(`#${id}: "${line}" vs "${emuMessage}"`);
        }
      }
      expect(mismatches).toEqual([]);
    }, 120_000);
  }
});

describe.skipIf(!requires("helper argument counts", "kernel"))("registers a helper call reads (liveness)", () => {
  for (const type of PROG_TYPES) {
    it(type, () => {
      const mismatches: string[] = [];
      let compared = 0;
      for (let id = 1; id < BPF_FUNC_MAX_ID; id++) {
        if (!helperAvailable(type, id)) continue;
        const prog = [I(0x85, 0, 0, 0, id), I(0xb7, 0, 0, 0, 0), I(0x95)];
        const k = kernelLog(prog, type);
        // Which helpers a program type has depends on the kernel's config; a helper this build
        // refuses is the availability test's business, not this one's.
        if (errorLines(parseLog(k.log)).some((l) => REFUSED.test(l.raw))) continue;
        const row = liveRegs(parseLog(k.log)).get(0);
        const kernelMask = row ? regMask(row.live) : "no Live regs row for insn 0";
        const mine = regMask(analyseCfg(slotProgram(prog), type).liveBefore[0]!);
        if (kernelMask !== mine) mismatches.push(`#${id}: kernel ${kernelMask}, emulator ${mine}`);
        compared++;
      }
      expect(mismatches).toEqual([]);
      expect(compared).toBeGreaterThan(50);
    }, 120_000);
  }
});
