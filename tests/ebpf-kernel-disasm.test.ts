/**
 * lib/ebpf's disassembler against the running kernel: every instruction text the verifier prints
 * (the "Live regs" listing and the per-instruction trace of a log_level 2 load) must equal
 * formatInsn's text for the same instruction.
 */
import { describe, expect, it } from "vitest";
import {
  assemble,
  atomic,
  call,
  callLabel,
  decodeRaw,
  encodeProgram,
  exit,
  formatInsn,
  gotol,
  ja,
  jmp,
  label,
  ldAbs,
  ldImm64,
  ldInd,
  loadAcquire,
  mov64Imm,
  mov64Reg,
  rawInsn,
  st,
  storeRelease,
  type AsmItem,
} from "../lib/ebpf";
import { liveRegs, parseLog, traceInsnTexts } from "../lib/verifier";
import { closeFd, progLoad } from "./support/raw-bpf-loader";
import { requires } from "./support/requires";
import { Gen, randomSocketProgram, rng } from "./support/ebpf-gen";

const kernel = requires("ebpf disassembler vs kernel", "kernel");

interface Checked {
  readonly compared: number;
  /** How many of the program's instructions had a row in the Live regs listing. */
  readonly liveRows: number;
  /** How many instructions the program has (an ld_imm64 counts once, as the listing does). */
  readonly insns: number;
  readonly fd: number;
  readonly log: string;
}

/** Loads a program and compares every instruction text the kernel printed with ours. */
function compareWithKernel(items: AsmItem[], type = 1): Checked {
  const { raw } = assemble(items);
  const r = progLoad({ type, insns: encodeProgram(raw), logLevel: 2 });
  closeFd(r.fd);
  const lines = parseLog(r.log);
  const live = liveRegs(lines);
  const trace = traceInsnTexts(lines);
  let compared = 0;
  let liveRows = 0;
  const decoded = decodeRaw(raw);
  for (const d of decoded) {
    const ours = formatInsn(d);
    const k = live.get(d.index);
    if (k !== undefined) {
      expect(ours, `slot ${d.index} (Live regs)`).toBe(k.text);
      compared++;
      liveRows++;
    }
    const t = trace.get(d.index);
    if (t !== undefined) {
      expect(ours, `slot ${d.index} (trace)`).toBe(t);
      compared++;
    }
  }
  return { compared, liveRows, insns: decoded.length, fd: r.fd, log: r.log };
}

describe.skipIf(!kernel)("formatInsn matches the 6.18 kernel's print_bpf_insn", () => {
  it("names every helper id like the kernel (0..215, including unknown ids)", () => {
    const items: AsmItem[] = [];
    for (let id = 0; id <= 215; id++) items.push(call(id));
    items.push(mov64Imm("r0", 0), exit());
    const { compared, liveRows, insns, log } = compareWithKernel(items);
    // Callback helpers (bpf_loop and the like) get a loop-number column in the listing; every
    // row must still be read, so every instruction is compared at least once.
    expect(liveRows, log.slice(0, 2000)).toBe(insns);
    expect(compared).toBeGreaterThanOrEqual(216);
  });

  it("prints random verifiable socket-filter programs identically (300 programs)", () => {
    const g = new Gen(rng(0x5eed));
    let total = 0;
    for (let i = 0; i < 300; i++) {
      const items = randomSocketProgram(g, { length: 30, ldAbs: i % 3 === 0, subCalls: i % 3 === 1, maxBranches: 4 });
      const { compared, fd, log } = compareWithKernel(items);
      expect(fd, `program ${i} rejected:\n${log.split("\n").slice(-8).join("\n")}`).toBeGreaterThanOrEqual(0);
      total += compared;
    }
    expect(total).toBeGreaterThan(300 * 40);
  });

  it("prints crafted corner forms identically", () => {
    const items: AsmItem[] = [
      mov64Reg("r6", "r1"),
      mov64Imm("r0", 0),
      mov64Imm("r1", -1),
      mov64Imm("r2", 0x7fffffff),
      ldImm64("r3", 0xffffffffffffffffn),
      ldImm64("r4", 0x912345678n),
      ldImm64("r5", 0n),
      st("u64", "r10", -8, -1),
      st("u32", "r10", -16, -0x80000000),
      st("u64", "r10", -24, 0),
      st("u64", "r10", -32, 0),
      jmp("jsgt", "r2", -5, "a"),
      jmp("jeq", "r1", -1, "a"),
      jmp("jset", "r3", 0x1fff, "a"),
      label("a"),
      atomic("u64", "cmpxchg", "r10", -24, "r1"),
      atomic("u32", "xchg", "r10", -16, "r2"),
      atomic("u64", "fetch_add", "r10", -32, "r5"),
      loadAcquire("u64", "r7", "r10", -8),
      loadAcquire("u8", "r8", "r10", -8),
      storeRelease("u32", "r10", -16, "r1"),
      ldAbs("u16", 12),
      ldAbs("u8", 23),
      ldAbs("u32", 0),
      mov64Imm("r7", 4),
      ldInd("u8", "r7", 14),
      ldInd("u32", "r7", -4),
      mov64Imm("r0", 0),
      gotol("b"),
      label("b"),
      ja("c"),
      label("c"),
      exit(),
    ];
    const { compared, fd, log } = compareWithKernel(items);
    expect(fd, log.split("\n").slice(-6).join("\n")).toBeGreaterThanOrEqual(0);
    expect(compared).toBeGreaterThan(40);
  });

  it("prints bpf-to-bpf calls as `call pc+N` and may_goto like the kernel", () => {
    const items: AsmItem[] = [
      mov64Imm("r0", 0),
      rawInsn(0xe5, 0, 0, 1, 0), // may_goto pc+1
      mov64Imm("r0", 1),
      callLabel("f"),
      callLabel("g"),
      exit(),
      label("f"),
      mov64Imm("r0", 2),
      exit(),
      label("g"),
      callLabel("f"),
      exit(),
    ];
    const { compared, fd, log } = compareWithKernel(items);
    expect(fd, log.split("\n").slice(-6).join("\n")).toBeGreaterThanOrEqual(0);
    expect(compared).toBeGreaterThanOrEqual(10);
  });
});
