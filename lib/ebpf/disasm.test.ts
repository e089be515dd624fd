import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PlaygroundError } from "../errors";
import { APPENDIX_A_INSNS } from "./fixtures/appendix-a-insns";
import {
  assemble,
  atomic,
  call,
  callLabel,
  decodeRaw,
  endian,
  exit,
  formatInsn,
  formatProgram,
  formatRawAt,
  gotol,
  ja,
  jmp,
  jmp32,
  label,
  ldAbs,
  ldImm64,
  ldInd,
  ldx,
  ldxs,
  loadAcquire,
  mov64Imm,
  movsx,
  neg32,
  parseInsnText,
  st,
  storeRelease,
  stx,
  alu32,
  alu64,
  type AsmItem,
  type RawInsn,
} from "./index";

describe("formatInsn against real 6.18 verifier output (Appendix A)", () => {
  it("reads back and re-prints every instruction text of Appendix A byte for byte", () => {
    expect(APPENDIX_A_INSNS.length).toBeGreaterThan(80);
    for (const text of APPENDIX_A_INSNS) {
      const raw = parseInsnText(text);
      expect(formatInsn(raw[0], { next: raw[1] }), text).toBe(text);
    }
  });

  it("decodes the Appendix A texts to the fields their opcodes imply", () => {
    expect(parseInsnText("(61) r2 = *(u32 *)(r1 +76)")).toEqual([{ code: 0x61, dst: 2, src: 1, off: 76, imm: 0 }]);
    expect(parseInsnText("(65) if r2 s> 0xfffffffb goto pc+0")).toEqual([{ code: 0x65, dst: 2, src: 0, off: 0, imm: -5 }]);
    expect(parseInsnText("(18) r4 = 0x912345678")).toEqual([
      { code: 0x18, dst: 4, src: 0, off: 0, imm: 0x12345678 },
      { code: 0, dst: 0, src: 0, off: 0, imm: 9 },
    ]);
    expect(parseInsnText("12: (85) call bpf_skb_load_bytes#26")).toEqual([{ code: 0x85, dst: 0, src: 0, off: 0, imm: 26 }]);
  });

  it("rejects text that is not kernel syntax, or whose opcode contradicts it", () => {
    for (const t of ["r0 = 1", "(b7) r0 == 1", "(07) r0 = 1", "(zz) exit", "(18) r1 = 0x1ffffffffffffffff"]) {
      expect(() => parseInsnText(t), t).toThrow(PlaygroundError);
    }
  });
});

/** Instructions in canonical encoding (fields the text does not show are zero). */
function canonicalItems(seed: number): AsmItem[] {
  let s = seed >>> 0;
  const r = (n: number) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % n;
  };
  const reg = () => (["r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9"] as const)[r(10)];
  const imm = () => [0, 1, -1, 0x7fffffff, -0x80000000, r(100000) - 50000][r(6)];
  const size = () => (["u8", "u16", "u32", "u64"] as const)[r(4)];
  const out: AsmItem[] = [];
  for (let i = 0; i < 40; i++) {
    const k = r(16);
    const aluOp = (["add", "sub", "mul", "div", "sdiv", "or", "and", "lsh", "rsh", "mod", "smod", "xor", "mov", "arsh"] as const)[r(14)];
    if (k === 0) out.push(alu64(aluOp, reg(), imm()));
    else if (k === 1) out.push(alu32(aluOp, reg(), reg()));
    else if (k === 2) out.push(endian((["be", "le", "bswap"] as const)[r(3)], reg(), ([16, 32, 64] as const)[r(3)]));
    else if (k === 3) out.push(movsx(64, reg(), reg(), ([8, 16, 32] as const)[r(3)]));
    else if (k === 4) out.push(ldx(size(), reg(), reg(), r(600) - 300));
    else if (k === 5) out.push(ldxs((["u8", "u16", "u32"] as const)[r(3)], reg(), reg(), r(600) - 300));
    else if (k === 6) out.push(r(2) ? stx(size(), reg(), r(600) - 300, reg()) : st(size(), reg(), r(600) - 300, imm()));
    else if (k === 7) out.push(atomic((["u32", "u64"] as const)[r(2)], (["add", "and", "or", "xor", "fetch_add", "fetch_and", "fetch_or", "fetch_xor", "xchg", "cmpxchg"] as const)[r(10)], reg(), r(64) - 32, reg()));
    else if (k === 8) out.push(r(2) ? loadAcquire(size(), reg(), reg(), r(64) - 32) : storeRelease(size(), reg(), r(64) - 32, reg()));
    else if (k === 9) out.push(r(2) ? ldAbs((["u8", "u16", "u32"] as const)[r(3)], imm()) : ldInd((["u8", "u16", "u32"] as const)[r(3)], reg(), imm()));
    else if (k === 10) out.push(ldImm64(reg(), BigInt.asUintN(64, BigInt(imm()) * BigInt(r(5) + 1) * 0x100000001n)));
    else if (k === 11) out.push(call(r(230)));
    else if (k === 12) out.push(neg32(reg()));
    else if (k === 13) out.push((r(2) ? jmp : jmp32)((["jeq", "jgt", "jge", "jset", "jne", "jsgt", "jsge", "jlt", "jle", "jslt", "jsle"] as const)[r(11)], reg(), r(2) ? reg() : imm(), r(40) - 20));
    else if (k === 14) out.push(r(2) ? ja(r(40) - 20) : gotol(r(40) - 20));
    else out.push(r(2) ? callLabel(r(40) - 20) : exit());
  }
  return out;
}

describe("formatInsn and parseInsnText are inverses", () => {
  it("property: parse(format(insn)) gives back the canonical encoding of any instruction", () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const { raw } = assemble(canonicalItems(seed));
        for (const d of decodeRaw(raw)) {
          const text = formatRawAt(raw, d.index);
          const back = parseInsnText(text);
          expect(back, text).toEqual(raw.slice(d.index, d.index + d.slots));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("fuzz: formatting any slot never throws", () => {
    fc.assert(
      fc.property(
        fc.record({
          code: fc.integer({ min: 0, max: 255 }),
          dst: fc.integer({ min: 0, max: 15 }),
          src: fc.integer({ min: 0, max: 15 }),
          off: fc.integer({ min: -0x8000, max: 0x7fff }),
          imm: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
        }),
        (r: RawInsn) => {
          expect(typeof formatInsn(r)).toBe("string");
        },
      ),
      { numRuns: 5000 },
    );
  });

  it("formatProgram numbers lines by slot, as the verifier does", () => {
    const { raw } = assemble([ldImm64("r1", 1), mov64Imm("r0", 0), label("x"), exit()]);
    expect(formatProgram(decodeRaw(raw))).toEqual(["0: (18) r1 = 0x1", "2: (b7) r0 = 0", "3: (95) exit"]);
  });

  it("hides map pointers when pointer leaks are not allowed, like an unprivileged verifier", () => {
    const first: RawInsn = { code: 0x18, dst: 1, src: 1, off: 0, imm: 5 };
    expect(formatInsn(first, { next: { code: 0, dst: 0, src: 0, off: 0, imm: 0 } })).toBe("(18) r1 = 0x5");
    expect(formatInsn(first, { allowPtrLeaks: false })).toBe("(18) r1 = 0x0");
    expect(formatInsn({ code: 0x85, dst: 0, src: 2, off: 0, imm: 77 })).toBe("(85) call kernel-function#77");
    expect(formatInsn({ code: 0x85, dst: 0, src: 2, off: 0, imm: 77 }, { kfuncName: () => "bpf_rcu_read_lock" })).toBe("(85) call bpf_rcu_read_lock#77");
  });
});
