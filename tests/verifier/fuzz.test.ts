/**
 * Property tests: whatever the input, emulate() returns a verdict or throws a PlaygroundError for
 * malformed input, never anything else; and on random filter-shaped programs its verdict is
 * stable and its trace consistent with its text.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RawInsn } from "../../lib/ebpf/insn";
import { isPlaygroundError } from "../../lib/errors";
import { emulate, parseLog, PROG_TYPES, type ProgType } from "../../lib/verifier";
import { generateProgram } from "./program-gen";

const COMMON_CODES = [
  0x07, 0x0f, 0x04, 0x0c, 0x17, 0x1f, 0x27, 0x37, 0x47, 0x57, 0x54, 0x67, 0x77, 0x87, 0x97, 0xa7, 0xb7, 0xbf, 0xb4, 0xbc, 0xc7, 0xdc, 0xd4, 0xd7,
  0x61, 0x69, 0x71, 0x79, 0x81, 0x62, 0x6a, 0x72, 0x7a, 0x63, 0x6b, 0x73, 0x7b, 0xc3, 0xdb, 0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0x18,
  0x05, 0x06, 0x15, 0x1d, 0x25, 0x2d, 0x35, 0x45, 0x55, 0x5d, 0x65, 0xa5, 0xad, 0xb5, 0xc5, 0xd5, 0x16, 0x56, 0x85, 0x95, 0xe5,
];

const insnArb: fc.Arbitrary<RawInsn> = fc.record({
  code: fc.oneof(fc.constantFrom(...COMMON_CODES), fc.integer({ min: 0, max: 255 })),
  dst: fc.oneof(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 15 })),
  src: fc.oneof(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 15 })),
  off: fc.oneof(fc.integer({ min: -4, max: 8 }), fc.integer({ min: -512, max: 512 }), fc.integer({ min: -0x8000, max: 0x7fff })),
  imm: fc.oneof(fc.integer({ min: -8, max: 64 }), fc.constantFrom(1, 2, 26, 113, 130, 0x800, 262144, -1), fc.integer({ min: -0x80000000, max: 0x7fffffff })),
});

const typeArb = fc.constantFrom<ProgType>(...PROG_TYPES);

describe("emulate never crashes", () => {
  it("random instruction sequences", () => {
    fc.assert(
      fc.property(fc.array(insnArb, { minLength: 0, maxLength: 24 }), typeArb, (prog, progType) => {
        // End with r0 = 0; exit half of the time so that more programs get past the static checks.
        const p = prog.length % 2 ? [...prog, { code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 }, { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }] : prog;
        try {
          const r = emulate(p, { progType });
          expect(typeof r.text).toBe("string");
          if (!r.accepted) expect(r.errno).toBeGreaterThan(0);
        } catch (e) {
          if (!isPlaygroundError(e)) throw e;
        }
      }),
      { numRuns: 1500, seed: 42 },
    );
  });

  it("random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), typeArb, (bytes, progType) => {
        try {
          emulate(bytes, { progType });
        } catch (e) {
          if (!isPlaygroundError(e)) throw e;
        }
      }),
      { numRuns: 500, seed: 7 },
    );
  });

  it("malformed input is a PlaygroundError", () => {
    expect(() => emulate(new Uint8Array(7), { progType: "xdp" })).toThrow(/multiple of 8/);
    expect(() => emulate([{ code: 300, dst: 0, src: 0, off: 0, imm: 0 }], { progType: "xdp" })).toThrow(/out of range/);
    expect(() => emulate([], { progType: "nope" as ProgType })).toThrow(/unknown program type/);
    expect(() => emulate([], { progType: "xdp", profile: "2.6" })).toThrow(/unknown kernel profile/);
  });

  it("filter-shaped programs: accepted (or dead code), and the trace follows the text", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1 << 30 }), fc.constantFrom<ProgType>("xdp", "tc", "socket"), (seed, progType) => {
        const r = emulate(generateProgram(seed, progType), { progType });
        // The generator can leave a return block unused; nothing else may be rejected.
        if (!r.accepted) {
          expect(r.error?.message, r.text).toMatch(/^unreachable insn \d+$/);
          return;
        }
        const insnLines = parseLog(r.text).filter((l) => l.kind === "insn").length;
        expect(r.trace.filter((s) => !s.pruned).length).toBe(insnLines);
        for (const s of r.trace) if (!s.pruned && s.after) expect(s.after.regs[10]?.text).toBe("fp0");
      }),
      { numRuns: 200, seed: 3 },
    );
  });
});
