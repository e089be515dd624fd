import { describe, expect, it } from "vitest";
import { PlaygroundError } from "../errors";
import {
  alu64,
  assemble,
  call,
  callLabel,
  exit,
  gotol,
  ja,
  jmp,
  jmp32,
  label,
  ldFunc,
  ldImm64,
  mov64Imm,
  withLabel,
  withMeta,
  type AsmItem,
} from "./index";

function errorOf(f: () => unknown): PlaygroundError {
  try {
    f();
  } catch (e) {
    if (e instanceof PlaygroundError) return e;
    throw e;
  }
  throw new Error("expected a PlaygroundError");
}

describe("assemble", () => {
  it("resolves forward and backward labels to slot offsets", () => {
    const a = assemble([
      mov64Imm("r0", 0),
      label("loop"),
      alu64("add", "r0", 1),
      jmp("jlt", "r0", 10, "loop"),
      jmp("jeq", "r0", 10, "out"),
      mov64Imm("r0", 1),
      label("out"),
      exit(),
    ]);
    expect(a.raw[2].off).toBe(-2); // slot 2 -> slot 1
    expect(a.raw[3].off).toBe(1); // slot 3 -> slot 5
    expect(a.labelIndex.get("loop")).toBe(1);
    expect(a.labelIndex.get("out")).toBe(5);
    expect(a.slots).toBe(6);
  });

  it("counts ld_imm64 as two slots on both sides of a jump", () => {
    const a = assemble([jmp("jeq", "r1", 0, "after"), ldImm64("r2", 0x123456789n), ldImm64("r3", -1), label("after"), exit(), ja("start"), withLabel("start", exit())]);
    expect(a.slots).toBe(8);
    expect(a.raw[0].off).toBe(4);
    expect(a.raw[6].off).toBe(0);
    expect(a.slotOf).toEqual([0, 1, 3, 5, 6, 7]);
    expect(a.raw[1]).toEqual({ code: 0x18, dst: 2, src: 0, off: 0, imm: 0x23456789 });
    expect(a.raw[2]).toEqual({ code: 0, dst: 0, src: 0, off: 0, imm: 1 });
    expect(a.raw[3].imm).toBe(-1);
    expect(a.raw[4].imm).toBe(-1);
    expect(a.origin).toEqual([0, 1, 1, 2, 2, 3, 4, 5]);
  });

  it("keeps provenance: origin maps every slot back to its instruction and its meta", () => {
    const items: AsmItem[] = [
      ...withMeta({ origin: "prologue" }, mov64Imm("r0", 0), ldImm64("r1", 5)),
      ...withMeta({ origin: "cbpf", index: 3 }, jmp("jne", "r0", 0, "x")),
      label("x"),
      { ...exit(), meta: { origin: "epilogue" } },
    ];
    const a = assemble(items);
    const metaOfSlot = a.origin.map((i) => a.insns[i].meta);
    expect(metaOfSlot).toEqual([
      { origin: "prologue" },
      { origin: "prologue" },
      { origin: "prologue" },
      { origin: "cbpf", index: 3 },
      { origin: "epilogue" },
    ]);
    expect(a.labels[3]).toEqual(["x"]);
  });

  it("puts call and gotol targets in imm, function pointers in the first ld_imm64 slot", () => {
    const a = assemble([callLabel("f"), ldFunc("r1", "f"), gotol("end"), label("end"), exit(), label("f"), mov64Imm("r0", 1), exit()]);
    expect(a.raw[0]).toMatchObject({ code: 0x85, src: 1, imm: 4, off: 0 });
    expect(a.raw[1]).toMatchObject({ code: 0x18, src: 4, imm: 3 });
    expect(a.raw[3]).toMatchObject({ code: 0x06, imm: 0, off: 0 });
  });

  it("rejects an offset outside s16 with an error naming the instruction and label", () => {
    const filler = Array.from({ length: 40000 }, () => mov64Imm("r0", 0));
    const e = errorOf(() => assemble([jmp32("jeq", "r0", 0, "far"), ...filler, label("far"), exit()]));
    expect(e.code).toBe("ebpf/offset-range");
    expect(e.message).toContain('"far"');
    expect(e.message).toContain("instruction 0");
    expect(e.position).toEqual({ kind: "insn", index: 0 });
    // gotol carries its offset in imm and reaches that far.
    expect(assemble([gotol("far"), ...filler, label("far"), exit()]).raw[0].imm).toBe(40000);
  });

  it("rejects undefined, duplicate and dangling labels", () => {
    expect(errorOf(() => assemble([ja("nowhere"), exit()])).code).toBe("ebpf/label-undefined");
    expect(errorOf(() => assemble([label("a"), exit(), label("a"), exit()])).code).toBe("ebpf/label-duplicate");
    expect(errorOf(() => assemble([exit(), label("end")])).code).toBe("ebpf/label-dangling");
  });

  it("allows several labels on one instruction and numeric targets", () => {
    const a = assemble([label("a"), label("b"), withLabel("c", mov64Imm("r0", 0)), jmp("jeq", "r0", 0, 0), jmp("jeq", "r0", 0, "a"), exit()]);
    expect([...a.labelIndex]).toEqual([
      ["a", 0],
      ["b", 0],
      ["c", 0],
    ]);
    expect(a.raw[1].off).toBe(0);
    expect(a.raw[2].off).toBe(-3);
  });

  it("validates hand-made instructions instead of truncating fields", () => {
    expect(errorOf(() => assemble([{ kind: "plain", code: 0xb7, dst: 16, src: 0, off: 0, imm: 0 }])).code).toBe("ebpf/asm-field");
    expect(errorOf(() => assemble([{ kind: "plain", code: 0xb7, dst: 0, src: 0, off: 40000, imm: 0 }])).code).toBe("ebpf/asm-field");
    expect(errorOf(() => assemble([{ kind: "plain", code: 0xb7, dst: 0, src: 0, off: 0, imm: 2 ** 33 }])).code).toBe("ebpf/asm-field");
    expect(errorOf(() => call(2 ** 40)).code).toBe("ebpf/builder");
    expect(errorOf(() => mov64Imm("r11" as never, 0)).code).toBe("ebpf/builder");
  });

  it("accepts unsigned 32-bit immediates and stores them as s32", () => {
    expect(assemble([jmp("jeq", "r0", 0xfffffffb, "x"), label("x"), exit()]).raw[0].imm).toBe(-5);
  });
});
