import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PlaygroundError } from "../errors";
import { formatProgram } from "./format";
import type { CbpfInsn } from "./insn";
import { compileFilter, runFilter } from "./interpret";
import { createStepper } from "./stepper";
import { validateProgram } from "./validate";

/** Programs as they might arrive from JSON: anything at all. */
const garbage = fc.oneof(
  fc.anything(),
  fc.array(fc.record({ code: fc.anything(), jt: fc.anything(), jf: fc.anything(), k: fc.anything() }), { maxLength: 4 }),
  fc.array(fc.oneof(fc.constant(null), fc.integer(), fc.string()), { maxLength: 3 }),
);

describe("malformed programs", () => {
  it("every entry point answers with a PlaygroundError, never another exception", () => {
    const pkt = new Uint8Array(40);
    const entryPoints: Array<(p: CbpfInsn[]) => unknown> = [
      (p) => formatProgram(p, "d"),
      (p) => validateProgram(p, "kernel"),
      (p) => validateProgram(p, "libpcap"),
      (p) => runFilter(p, pkt),
      (p) => compileFilter(p)(pkt),
      (p) => createStepper(p, pkt).run(),
    ];
    fc.assert(
      fc.property(garbage, (value) => {
        for (const entry of entryPoints) {
          try {
            entry(value as CbpfInsn[]);
          } catch (e) {
            expect(e).toBeInstanceOf(PlaygroundError);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it("describes a field whose toString is not a function without throwing a TypeError", () => {
    const hostile = [{ code: { toString: 0 }, jt: 0, jf: 0, k: 0 }] as unknown as CbpfInsn[];
    expect(() => runFilter(hostile, new Uint8Array(1))).toThrow(PlaygroundError);
    expect(() => runFilter(hostile, new Uint8Array(1))).toThrow(/insn 0: code must be an integer from 0 to 65535, got an object/);
  });

  it("names the bad instruction", () => {
    try {
      runFilter([{ code: 6, jt: 0, jf: 0, k: 0 }, { code: 6, jt: 0, jf: 0, k: -5 }], new Uint8Array(1));
      expect.unreachable();
    } catch (e) {
      expect((e as PlaygroundError).code).toBe("cbpf/malformed");
      expect((e as PlaygroundError).position).toEqual({ kind: "insn", index: 1 });
    }
  });
});
