import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PlaygroundError } from "../errors";
import {
  assemble,
  decodeProgram,
  decodeRaw,
  disassembleToInsns,
  encodeProgram,
  exit,
  jmp,
  label,
  ldImm64,
  mov64Imm,
  rawFromBytes,
  rawFromDecoded,
  type Insn,
} from "./index";

const bytes = (...xs: number[]) => new Uint8Array(xs);

function errorOf(f: () => unknown): PlaygroundError {
  try {
    f();
  } catch (e) {
    if (e instanceof PlaygroundError) return e;
    throw e;
  }
  throw new Error("expected a PlaygroundError");
}

describe("codec", () => {
  it("uses the x86_64 wire layout: code, dst low nibble / src high nibble, off s16 LE, imm s32 LE", () => {
    // r2 = *(u32 *)(r1 +76)
    const b = encodeProgram([{ code: 0x61, dst: 2, src: 1, off: 76, imm: 0 }]);
    expect(Array.from(b)).toEqual([0x61, 0x12, 76, 0, 0, 0, 0, 0]);
    const [d] = decodeProgram(bytes(0x65, 0x02, 0xfe, 0xff, 0xfb, 0xff, 0xff, 0xff));
    expect(d).toMatchObject({ code: 0x65, dst: 2, src: 0, off: -2, imm: -5, slots: 1, index: 0 });
  });

  it("folds ld_imm64 into one decoded instruction with its 64-bit value", () => {
    const { raw } = assemble([ldImm64("r4", 0x912345678n), exit()]);
    const d = decodeProgram(encodeProgram(raw));
    expect(d).toHaveLength(2);
    expect(d[0]).toMatchObject({ index: 0, code: 0x18, dst: 4, slots: 2, imm64: 0x912345678n });
    expect(d[1].index).toBe(2);
    expect(rawFromDecoded(d)).toEqual(raw);
  });

  it("reports malformed input with a byte offset", () => {
    const len = errorOf(() => decodeProgram(new Uint8Array(13)));
    expect(len.code).toBe("ebpf/decode-length");
    expect(len.position).toEqual({ kind: "byte", offset: 8 });
    const trunc = errorOf(() => decodeProgram(bytes(0xb7, 0, 0, 0, 0, 0, 0, 0, 0x18, 1, 0, 0, 1, 0, 0, 0)));
    expect(trunc.code).toBe("ebpf/decode-ldimm64");
    expect(trunc.position).toEqual({ kind: "byte", offset: 8 });
    const second = errorOf(() => decodeProgram(bytes(0x18, 1, 0, 0, 1, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0)));
    expect(second.position).toEqual({ kind: "byte", offset: 8 });
    expect(errorOf(() => encodeProgram([{ code: 0x100, dst: 0, src: 0, off: 0, imm: 0 }])).code).toBe("ebpf/encode-field");
  });

  it("fuzz: decoding arbitrary bytes yields instructions or a PlaygroundError, and re-encodes exactly", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 96 }), (b) => {
        let decoded;
        try {
          decoded = decodeProgram(b);
        } catch (e) {
          expect(e).toBeInstanceOf(PlaygroundError);
          return;
        }
        expect(encodeProgram(rawFromDecoded(decoded))).toEqual(b);
      }),
      { numRuns: 3000 },
    );
  });

  it("fuzz: ld_imm64-heavy programs (opcode 0x18 common) decode or fail cleanly", () => {
    const slot = fc.tuple(fc.constantFrom(0x18, 0x00, 0x05, 0x85, 0x95), fc.uint8Array({ minLength: 7, maxLength: 7 }));
    fc.assert(
      fc.property(fc.array(slot, { maxLength: 12 }), (slots) => {
        const b = new Uint8Array(slots.flatMap(([c, rest]) => [c, ...rest]));
        try {
          const d = decodeProgram(b);
          expect(encodeProgram(rawFromDecoded(d))).toEqual(b);
        } catch (e) {
          expect(e).toBeInstanceOf(PlaygroundError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("disassembleToInsns gives labels L<slot> that survive editing and re-assembly", () => {
    const { raw } = assemble([jmp("jeq", "r1", 0, "x"), ldImm64("r2", 7), mov64Imm("r0", 1), label("x"), exit()]);
    const insns = disassembleToInsns(encodeProgram(raw));
    const j = insns[0];
    expect(j.kind === "branch" && j.target).toEqual({ label: "L4" });
    expect(insns[3].label).toBe("L4");
    expect(insns[0].meta).toEqual({ origin: "decoded", slot: 0 });
    // Insert an instruction between the jump and its target: the label keeps it pointing right.
    const edited: Insn[] = [insns[0], mov64Imm("r5", 5), ...insns.slice(1)];
    const again = assemble(edited);
    expect(again.raw[0].off).toBe(4);
    expect(again.raw[5]).toEqual(raw[4]);
  });

  it("fuzz: disassembleToInsns then assemble reproduces any decodable program exactly", () => {
    const slot = fc.tuple(
      fc.constantFrom(0x05, 0x06, 0x15, 0x1d, 0x56, 0x85, 0x95, 0x18, 0x00, 0xb7, 0xe5, 0x0d),
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: -6, max: 6 }),
      fc.integer({ min: -6, max: 6 }),
    );
    fc.assert(
      fc.property(fc.array(slot, { maxLength: 16 }), (slots) => {
        const raw = slots.map(([code, regs, off, imm]) => ({ code, dst: regs & 15, src: regs >> 4, off, imm }));
        let decoded;
        try {
          decoded = decodeRaw(raw);
        } catch (e) {
          expect(e).toBeInstanceOf(PlaygroundError);
          return;
        }
        const back = assemble(disassembleToInsns(raw)).raw;
        expect(back).toEqual(rawFromDecoded(decoded));
        expect(rawFromBytes(encodeProgram(back))).toEqual(back);
      }),
      { numRuns: 3000 },
    );
  });
});
