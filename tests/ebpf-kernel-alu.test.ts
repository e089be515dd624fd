/**
 * The kernel as the oracle for ALU, jump and stack semantics: random straight-line XDP programs
 * run through BPF_PROG_TEST_RUN and through lib/ebpf's interpreter must leave the same register
 * values and stack bytes. The program dumps r0..r5, r9 and 64 bytes of stack into the packet, so
 * full 64-bit results are compared, not only the 32-bit return value.
 */
import { describe, expect, it } from "vitest";
import {
  alu32,
  callLabel,
  alu64,
  assemble,
  encodeProgram,
  exit,
  jmp,
  jmp32,
  label,
  ldx,
  mov64Imm,
  mov64Reg,
  ldImm64,
  runProgram,
  st,
  stx,
  atomic,
  type AsmItem,
  type JmpOpName,
  type RegName,
} from "../lib/ebpf";
import { closeFd, progLoad, progTestRun } from "./support/raw-bpf-loader";
import { requires } from "./support/requires";
import { Gen, randomRegInsn, rng } from "./support/ebpf-gen";

const kernel = requires("ebpf interpreter vs kernel ALU", "kernel");

const REGS: readonly RegName[] = ["r0", "r1", "r2", "r3", "r4", "r5", "r9"];
const JMP_OPS: readonly JmpOpName[] = ["jeq", "jgt", "jge", "jset", "jne", "jsgt", "jsge", "jlt", "jle", "jslt", "jsle"];
const DUMP = 7 * 8 + 64; // registers + stack
const PACKET = 192;

/** XDP program: bounds check, init, random body, dump registers and stack into the packet, return r0. */
function aluProgram(g: Gen, length: number): AsmItem[] {
  const items: AsmItem[] = [
    ldx("u32", "r6", "r1", 0), // data
    ldx("u32", "r7", "r1", 4), // data_end
    mov64Reg("r8", "r6"),
    alu64("add", "r8", DUMP),
    jmp("jgt", "r8", "r7", "short"),
  ];
  for (const r of REGS) items.push(g.bool() ? mov64Imm(r, g.imm32()) : ldImm64(r, g.imm64()));
  for (let off = -8; off >= -64; off -= 8) items.push(st("u64", "r10", off, g.imm32()));

  const body: AsmItem[][] = [];
  const pending: { at: number; build: (t: string) => AsmItem }[] = [];
  for (let i = 0; i < length; i++) {
    const k = g.int(0, 15);
    if (k < 10) body.push([randomRegInsn(g, REGS)]);
    else if (k < 12) {
      const op = g.pick(JMP_OPS);
      const dst = g.pick(REGS);
      const rhs = g.bool() ? g.pick(REGS) : g.imm32();
      const wide = g.bool();
      pending.push({ at: body.length, build: (t) => (wide ? jmp : jmp32)(op, dst, rhs, t) });
      body.push([]);
    } else if (k === 12) {
      const size = g.pick(["u8", "u16", "u32", "u64"] as const);
      const bytes = { u8: 1, u16: 2, u32: 4, u64: 8 }[size];
      body.push([stx(size, "r10", -bytes * g.int(1, 64 / bytes), g.pick(REGS))]);
    } else if (k === 13) {
      const size = g.pick(["u8", "u16", "u32", "u64"] as const);
      const bytes = { u8: 1, u16: 2, u32: 4, u64: 8 }[size];
      body.push([ldx(size, g.pick(REGS), "r10", -bytes * g.int(1, 64 / bytes))]);
    } else {
      const size = g.pick(["u32", "u64"] as const);
      const bytes = size === "u32" ? 4 : 8;
      const op = g.pick(["add", "and", "or", "xor", "fetch_add", "fetch_and", "fetch_or", "fetch_xor", "xchg", "cmpxchg"] as const);
      body.push([atomic(size, op, "r10", -bytes * g.int(1, 64 / bytes), g.pick(REGS))]);
    }
  }
  const targets = new Set<number>();
  for (const p of pending) {
    const t = g.int(p.at + 1, body.length);
    targets.add(t);
    body[p.at] = [p.build(`T${t}`)];
  }
  body.forEach((group, i) => {
    if (targets.has(i)) items.push(label(`T${i}`));
    items.push(...group);
  });
  if (targets.has(body.length)) items.push(label(`T${body.length}`));
  REGS.forEach((r, i) => items.push(stx("u64", "r6", 8 * i, r)));
  for (let k = 0; k < 8; k++) items.push(ldx("u64", "r8", "r10", -8 * (k + 1)), stx("u64", "r6", 56 + 8 * k, "r8"));
  items.push(exit(), label("short"), mov64Imm("r0", 0), exit());
  return items;
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

describe.skipIf(!kernel)("interpreter agrees with the kernel (BPF_PROG_TEST_RUN, XDP)", () => {
  it("random ALU/JMP/stack programs: same r0 and same 64-bit registers and stack (400 programs)", () => {
    const g = new Gen(rng(0xa1));
    let compared = 0;
    for (let i = 0; i < 400; i++) {
      const items = aluProgram(g, 24 + (i % 24));
      const { raw } = assemble(items);
      const loaded = progLoad({ type: 6, insns: encodeProgram(raw), logLevel: 1, logSize: 1 << 16 });
      expect(loaded.fd, `program ${i} rejected: ${loaded.log.slice(-600)}`).toBeGreaterThanOrEqual(0);
      const packet = new Uint8Array(PACKET).map((_, j) => (j * 37 + i) & 0xff);
      const k = progTestRun(loaded.fd, { data: packet });
      closeFd(loaded.fd);
      expect(k.ret, `test_run errno ${k.errno}`).toBe(0);
      // The dump happened (the bounds check passed), so there is something to compare.
      expect(hex(k.dataOut.subarray(0, DUMP))).not.toBe(hex(packet.subarray(0, DUMP)));

      const ours = packet.slice();
      const res = runProgram(raw, { kind: "xdp", packet: ours });
      expect(res.fault, `program ${i}`).toBeUndefined();
      expect(res.retval, `program ${i}: return value`).toBe(k.retval);
      expect(hex(ours.subarray(0, DUMP)), `program ${i}: registers r0..r5,r9 then stack`).toBe(hex(k.dataOut.subarray(0, DUMP)));
      compared++;
    }
    expect(compared).toBe(400);
  });

  it("division, modulo and shift corner cases (x/0, x%0, INT_MIN/-1, counts >= width) match, 32- and 64-bit", () => {
    const I64_MIN = -(1n << 63n);
    const dividends = [0n, 7n, -7n, -0x80000000n, I64_MIN, 0xffffffffn, -1n, 0x1_0000_0005n];
    const divisors = [0n, 1n, -1n, 3n, -3n, -0x80000000n, 0x1_0000_0000n];
    const cases: { a: bigint; b: bigint; insn: AsmItem; what: string }[] = [];
    for (const wide of [true, false]) {
      const build = wide ? alu64 : alu32;
      for (const op of ["div", "sdiv", "mod", "smod"] as const) {
        for (const a of dividends) for (const b of divisors) cases.push({ a, b, insn: build(op, "r2", "r3"), what: `${wide ? "" : "w"}${op} ${a} ${b}` });
        for (const a of dividends) for (const imm of [1, -1, 3, -3, -0x80000000]) cases.push({ a, b: 0n, insn: build(op, "r2", imm), what: `${wide ? "" : "w"}${op} ${a} #${imm}` });
      }
      for (const op of ["lsh", "rsh", "arsh"] as const) {
        for (const a of [I64_MIN + 5n, -0x80000000n, 0x12345678n]) {
          for (const b of [0n, 1n, 31n, 32n, 33n, 63n, 64n, 65n, -1n]) cases.push({ a, b, insn: build(op, "r2", "r3"), what: `${wide ? "" : "w"}${op} ${a} by ${b}` });
        }
      }
    }
    const PER = 48;
    for (let start = 0; start < cases.length; start += PER) {
      const batch = cases.slice(start, start + PER);
      const items: AsmItem[] = [
        ldx("u32", "r6", "r1", 0),
        ldx("u32", "r7", "r1", 4),
        mov64Reg("r8", "r6"),
        alu64("add", "r8", 8 * PER),
        jmp("jgt", "r8", "r7", "short"),
      ];
      batch.forEach((c, i) => items.push(ldImm64("r2", BigInt.asUintN(64, c.a)), ldImm64("r3", BigInt.asUintN(64, c.b)), c.insn, stx("u64", "r6", 8 * i, "r2")));
      items.push(mov64Imm("r0", 1), exit(), label("short"), mov64Imm("r0", 0), exit());
      const { raw } = assemble(items);
      const loaded = progLoad({ type: 6, insns: encodeProgram(raw), logLevel: 1, logSize: 1 << 16 });
      expect(loaded.fd, loaded.log.slice(-400)).toBeGreaterThanOrEqual(0);
      const packet = new Uint8Array(8 * PER + 16);
      const k = progTestRun(loaded.fd, { data: packet });
      closeFd(loaded.fd);
      expect(k.retval).toBe(1);
      const ours = packet.slice();
      expect(runProgram(raw, { kind: "xdp", packet: ours }).retval).toBe(1);
      batch.forEach((c, i) => expect(hex(ours.subarray(8 * i, 8 * i + 8)), c.what).toBe(hex(k.dataOut.subarray(8 * i, 8 * i + 8))));
    }
    expect(cases.length).toBeGreaterThan(500);
  });

  it("bpf-to-bpf calls: callee frames, argument registers and the caller's r6..r9 and stack match (60 programs)", () => {
    const g = new Gen(rng(0xca11));
    const ARGS: readonly RegName[] = ["r0", "r1", "r2", "r3", "r4", "r5"];
    for (let i = 0; i < 60; i++) {
      const items: AsmItem[] = [
        ldx("u32", "r6", "r1", 0),
        ldx("u32", "r7", "r1", 4),
        mov64Reg("r8", "r6"),
        alu64("add", "r8", 32),
        jmp("jgt", "r8", "r7", "short"),
        ldImm64("r9", g.imm64()),
        st("u64", "r10", -8, g.imm32()),
        ...["r1", "r2", "r3", "r4", "r5"].map((r) => ldImm64(r as RegName, g.imm64())),
        callLabel("f"),
        stx("u64", "r6", 0, "r0"),
        stx("u64", "r6", 8, "r9"),
        ldx("u64", "r2", "r10", -8),
        stx("u64", "r6", 16, "r2"),
        mov64Reg("r2", "r7"),
        alu64("sub", "r2", "r6"),
        stx("u64", "r6", 24, "r2"), // r6/r7 survived the call as packet pointers
        mov64Imm("r0", 1),
        exit(),
        label("short"),
        mov64Imm("r0", 0),
        exit(),
        label("f"),
        mov64Reg("r0", "r1"),
        st("u64", "r10", -8, g.imm32()), // the callee's own frame
        ldImm64("r9", g.imm64()), // clobbering a callee-saved register inside the callee
        mov64Reg("r6", "r9"),
      ];
      for (let k = 0; k < 8; k++) items.push(randomRegInsn(g, ARGS));
      items.push(mov64Reg("r7", "r0"), callLabel("g"), alu64("add", "r0", "r7"), ldx("u64", "r1", "r10", -8), alu64("xor", "r0", "r1"), alu64("add", "r0", "r6"), exit());
      items.push(label("g"), mov64Reg("r0", "r1"), alu64("mul", "r0", 3));
      for (let k = 0; k < 4; k++) items.push(randomRegInsn(g, ARGS));
      items.push(exit());
      const { raw } = assemble(items);
      const loaded = progLoad({ type: 6, insns: encodeProgram(raw), logLevel: 1, logSize: 1 << 16 });
      expect(loaded.fd, `program ${i}: ${loaded.log.slice(-400)}`).toBeGreaterThanOrEqual(0);
      const packet = new Uint8Array(64);
      const k = progTestRun(loaded.fd, { data: packet });
      closeFd(loaded.fd);
      expect(k.retval).toBe(1);
      const ours = packet.slice();
      const res = runProgram(raw, { kind: "xdp", packet: ours });
      expect(res.fault).toBeUndefined();
      expect(hex(ours.subarray(0, 32)), `program ${i}`).toBe(hex(k.dataOut.subarray(0, 32)));
    }
  });
});
