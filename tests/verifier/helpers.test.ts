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
import { analyseCfg, slotProgram } from "../../lib/verifier/program";
import { kernelLog, kernelTestsEnabled } from "../support/kernel-log";

const I = (code: number, dst = 0, src = 0, off = 0, imm = 0): RawInsn => ({ code, dst, src, off, imm });
const callWithZeros = (id: number): RawInsn[] => [
  ...[1, 2, 3, 4, 5].map((r) => I(0xb7, r, 0, 0, 0)),
  I(0x85, 0, 0, 0, id),
  I(0xb7, 0, 0, 0, 0),
  I(0x95),
];
const REFUSED = /program of this type cannot use helper|invalid func/;

describe.skipIf(!kernelTestsEnabled("helper availability"))("helper availability per program type", () => {
  for (const type of PROG_TYPES) {
    it(type, () => {
      const mismatches: string[] = [];
      for (let id = 1; id < BPF_FUNC_MAX_ID + 2; id++) {
        const prog = callWithZeros(id);
        const k = kernelLog(prog, type);
        const kernelRefuses = REFUSED.test(k.log);
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
          const line = k.log.split("\n").find((l) => REFUSED.test(l));
          if (line !== emuMessage) mismatches.push(`#${id}: "${line}" vs "${emuMessage}"`);
        }
      }
      expect(mismatches).toEqual([]);
    }, 120_000);
  }
});

describe.skipIf(!kernelTestsEnabled("helper argument counts"))("registers a helper call reads (liveness)", () => {
  for (const type of PROG_TYPES) {
    it(type, () => {
      const mismatches: string[] = [];
      for (let id = 1; id < BPF_FUNC_MAX_ID; id++) {
        if (!helperAvailable(type, id)) continue;
        const prog = [I(0x85, 0, 0, 0, id), I(0xb7, 0, 0, 0, 0), I(0x95)];
        const kernelMask = /\n\s+0: ([0-9.]{10}) \(85\)/.exec(kernelLog(prog, type).log)?.[1];
        const live = analyseCfg(slotProgram(prog), type).liveBefore[0]!;
        const mine = [...Array(10).keys()].map((r) => (live & (1 << r) ? String(r) : ".")).join("");
        if (kernelMask !== mine) mismatches.push(`#${id}: kernel ${kernelMask}, emulator ${mine}`);
      }
      expect(mismatches).toEqual([]);
    }, 120_000);
  }
});
