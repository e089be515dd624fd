import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PlaygroundError } from "../errors";
import { decodeProgram, encodeProgram } from "./codec";
import type { CbpfInsn } from "./insn";

const arbInsn: fc.Arbitrary<CbpfInsn> = fc.record({
  code: fc.integer({ min: 0, max: 0xffff }),
  jt: fc.integer({ min: 0, max: 255 }),
  jf: fc.integer({ min: 0, max: 255 }),
  k: fc.integer({ min: 0, max: 0xffffffff }),
});

describe("decodeProgram / encodeProgram", () => {
  it("reads struct sock_filter in both byte orders", () => {
    // ldh [12] as an x86 host stores it, and as a big-endian host would.
    const le = Uint8Array.of(0x28, 0x00, 0x01, 0x02, 0x0c, 0x00, 0x00, 0x00);
    const be = Uint8Array.of(0x00, 0x28, 0x01, 0x02, 0x00, 0x00, 0x00, 0x0c);
    expect(decodeProgram(le)).toEqual([{ code: 0x28, jt: 1, jf: 2, k: 12 }]);
    expect(decodeProgram(be, false)).toEqual([{ code: 0x28, jt: 1, jf: 2, k: 12 }]);
    expect(encodeProgram([{ code: 0x28, jt: 1, jf: 2, k: 12 }], false)).toEqual(be);
  });

  it("decodes from a view into a larger buffer", () => {
    const buf = new Uint8Array(24);
    buf.set([0x06, 0, 0, 0, 0xff, 0xff, 0xff, 0xff], 8);
    expect(decodeProgram(buf.subarray(8, 16))).toEqual([{ code: 6, jt: 0, jf: 0, k: 0xffffffff }]);
  });

  it("round-trips every program in both byte orders", () => {
    fc.assert(
      fc.property(fc.array(arbInsn, { maxLength: 40 }), fc.boolean(), (prog, le) => {
        const bytes = encodeProgram(prog, le);
        expect(bytes.length).toBe(prog.length * 8);
        expect(decodeProgram(bytes, le)).toEqual(prog);
      }),
    );
  });

  it("rejects a length that is not a multiple of 8, naming the stray bytes' offset", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        if (bytes.length % 8 === 0) {
          expect(decodeProgram(bytes)).toHaveLength(bytes.length / 8);
          return;
        }
        try {
          decodeProgram(bytes);
          expect.unreachable();
        } catch (e) {
          expect(e).toBeInstanceOf(PlaygroundError);
          const err = e as PlaygroundError;
          expect(err.position).toEqual({ kind: "byte", offset: bytes.length - (bytes.length % 8) });
          expect(err.message).toContain(`offset ${bytes.length - (bytes.length % 8)}`);
        }
      }),
    );
  });

  it("refuses fields that do not fit, naming the instruction", () => {
    const bad = [
      { code: 0x10000, jt: 0, jf: 0, k: 0 },
      { code: 6, jt: 256, jf: 0, k: 0 },
      { code: 6, jt: 0, jf: -1, k: 0 },
      { code: 6, jt: 0, jf: 0, k: 2 ** 32 },
      { code: 6, jt: 0, jf: 0, k: 1.5 },
    ];
    for (const insn of bad) {
      const err = (() => {
        try {
          encodeProgram([{ code: 6, jt: 0, jf: 0, k: 0 }, insn]);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(PlaygroundError);
      expect((err as PlaygroundError).position).toEqual({ kind: "insn", index: 1 });
    }
  });

  it("fuzz: arbitrary input never throws anything but PlaygroundError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (bytes, le) => {
        try {
          decodeProgram(bytes, le);
        } catch (e) {
          expect(e).toBeInstanceOf(PlaygroundError);
        }
      }),
    );
    fc.assert(
      fc.property(fc.array(fc.record({ code: fc.anything(), jt: fc.anything(), jf: fc.anything(), k: fc.anything() })), (prog) => {
        try {
          encodeProgram(prog as unknown as CbpfInsn[]);
        } catch (e) {
          expect(e).toBeInstanceOf(PlaygroundError);
        }
      }),
    );
  });
});
