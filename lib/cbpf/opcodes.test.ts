import { describe, expect, it } from "vitest";
import {
  ANCILLARY_NAMES,
  KNOWN_OPCODES,
  SKF_AD_OFF,
  ancillaryIndex,
  ancillaryName,
  hasJumpTargets,
  insn,
  insnKind,
  isConditionalJump,
  isReturn,
  loadSizeBytes,
} from "./opcodes";

describe("opcodes", () => {
  it("knows the 49 classic instructions and nothing with high bits", () => {
    // (That this set is exactly what Linux accepts is checked against the kernel in validate.test.ts.)
    expect(KNOWN_OPCODES.size).toBe(49);
    expect([...KNOWN_OPCODES].every((c) => c < 0x100)).toBe(true);
  });

  it("classifies instructions", () => {
    expect(insnKind(insn(0x28, 12))).toBe("load");
    expect(insnKind(insn(0xb1, 14))).toBe("load");
    expect(insnKind(insn(0x02, 1))).toBe("store");
    expect(insnKind(insn(0x84))).toBe("alu");
    expect(insnKind(insn(0x05, 3))).toBe("jump");
    expect(insnKind(insn(0x45, 1, 0, 1))).toBe("cond-jump");
    expect(insnKind(insn(0x16))).toBe("ret");
    expect(insnKind(insn(0x87))).toBe("misc");
    expect(insnKind(insn(0x55))).toBe("unknown");
    expect(isReturn(insn(0x06))).toBe(true);
    expect(isReturn(insn(0x0e))).toBe(false);
    expect(isConditionalJump(insn(0x1d))).toBe(true);
    expect(isConditionalJump(insn(0x55))).toBe(false);
    expect(hasJumpTargets(0x55)).toBe(true); // printed with jt/jf although unknown
    expect(hasJumpTargets(0x05)).toBe(false);
    expect([loadSizeBytes(0x20), loadSizeBytes(0x28), loadSizeBytes(0x30)]).toEqual([4, 2, 1]);
  });

  it("maps the 16 ancillary offsets to libpcap's names and nothing else", () => {
    expect(Object.keys(ANCILLARY_NAMES)).toHaveLength(16);
    expect(ancillaryName(SKF_AD_OFF + 8)).toBe("ifidx");
    expect(ancillaryName(0xfffff030)).toBe("vlanp");
    expect(ancillaryIndex(SKF_AD_OFF + 2)).toBeUndefined();
    expect(ancillaryIndex(SKF_AD_OFF + 64)).toBeUndefined();
    expect(ancillaryIndex(SKF_AD_OFF - 4)).toBeUndefined();
    expect(ancillaryIndex(12)).toBeUndefined();
  });

  it("normalises fields when building an instruction", () => {
    expect(insn(0x06, -1, 256, -1)).toEqual({ code: 0x06, jt: 0, jf: 255, k: 0xffffffff });
  });
});
