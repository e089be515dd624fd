/**
 * A user-style object (bpf/examples/user_two_stubs.c): two stubs, L2 and L3, called from a
 * subprogram that also calls another function, all in .text. Both stubs are patched, one after
 * the other; every call (pc-relative inside .text, relocated from the program section) still
 * reaches the function it reached, the LLVM tools read the written file as we do, the ext-info
 * rules hold, and the kernel loads it and counts what the two new stubs decide together.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { assemble, exit, mov64Imm, mov64Reg, type AsmItem } from "../../lib/ebpf";
import { BPF_CALL, BPF_JMP, BPF_PSEUDO_CALL } from "../../lib/ebpf/opcodes";
import { extInfoProblems, readBpfObject, replaceInstructions, writeBpfObject, type BpfObject } from "../../lib/elf";
import { describeKernel } from "../kernel/support";
import { describeWithObjects, exampleObjectPath } from "../support/bpf-objects";
import { objdumpInsns, readelfRelocations, readelfSymbols } from "./oracles";
import { bpftool, scratch } from "./scratch";

const { dir, pins } = scratch("user");
const raw = (...items: AsmItem[]) => assemble(items).raw;
const read = () => readBpfObject(new Uint8Array(readFileSync(exampleObjectPath("user_two_stubs"))));
const text = (o: BpfObject) => o.programs.find((p) => p.name === ".text")!;
const fn = (o: BpfObject, name: string) => text(o).functions.find((f) => f.name === name)!;

/** Every bpf-to-bpf call, in order: "caller -> callee", whether pc-relative or relocated. */
function calls(o: BpfObject): string[] {
  const out: string[] = [];
  for (const p of o.programs) {
    const relocs = new Map(p.relocations.map((r) => [Number(r.offset / 8n), r]));
    for (const d of p.insns) {
      if (!(d.code === (BPF_JMP | BPF_CALL) && d.src === BPF_PSEUDO_CALL)) continue;
      const r = relocs.get(d.index);
      let section = p.sectionIndex;
      let slot = d.index + 1 + d.imm;
      if (r) {
        const sym = o.symbols.symbols[r.symbol]!;
        section = sym.section.kind === "section" ? sym.section.index : -1;
        slot = Number(sym.value / 8n) + d.imm + 1;
      }
      const caller = p.functions.find((f) => d.index >= f.start && d.index < f.start + f.slots)?.name;
      const callee = o.programs.find((q) => q.sectionIndex === section)?.functions.find((f) => f.start === slot)?.name;
      out.push(`${caller} -> ${callee ?? `nothing at slot ${slot}`}`);
    }
  }
  return out;
}

/** L2's body replaced by `r0 = l2; exit` (or reject-all inserted when l2 is "reject"), then L3's likewise. */
function patched(l2: 0 | 1 | "reject", l3: 0 | 1 | "reject"): BpfObject {
  let o = read();
  for (const [name, how] of [["filter_pcap_ebpf_l2", l2], ["filter_pcap_ebpf_l3", l3]] as const) {
    const f = fn(o, name);
    o = how === "reject"
      ? replaceInstructions(o, text(o).sectionIndex, f.start, 0, raw(mov64Reg("r4", "r5")))
      : replaceInstructions(o, text(o).sectionIndex, f.start, f.slots, raw(mov64Imm("r0", how), exit()));
  }
  return o;
}

describeWithObjects(
  "a user-style object with two stubs and bpf-to-bpf calls",
  () => {
    it("has two static five-argument stubs and calls inside .text and from the program section", () => {
      const o = read();
      for (const s of ["filter_pcap_ebpf_l2", "filter_pcap_ebpf_l3"]) {
        expect(fn(o, s).isStatic).toBe(true);
        expect(o.btf!.typeOf(o.btf!.named(s, "FUNC")[0]!.type, "FUNC_PROTO")!.params).toHaveLength(5);
      }
      expect(calls(o).sort()).toEqual(["both -> filter_pcap_ebpf_l2", "both -> filter_pcap_ebpf_l3", "both -> l3_offset", "user_host -> both"]);
      expect(text(o).relocations.length).toBe(0); // the calls inside .text are pc-relative
    });

    it("patching both stubs moves every call, and the tools read the result as we do", () => {
      const o = read();
      const p = patched(1, "reject");
      const file = join(dir, "patched.o");
      writeFileSync(file, writeBpfObject(p));
      const back = readBpfObject(new Uint8Array(readFileSync(file)));
      expect(calls(back)).toEqual(calls(o));
      expect(extInfoProblems(back)).toEqual([]);
      expect(fn(back, "filter_pcap_ebpf_l2").slots).toBe(2);
      expect(fn(back, "filter_pcap_ebpf_l3").slots).toBe(fn(o, "filter_pcap_ebpf_l3").slots + 1);
      expect(back.symbols.symbols.map((s) => [s.index, Number(s.value), Number(s.size)])).toEqual(readelfSymbols(file).map((s) => [s.index, s.value, s.size]));
      expect(back.relocations.flatMap((r) => r.entries.map((e) => Number(e.offset)))).toEqual(readelfRelocations(file).map((r) => r.offset));
      expect(back.programs.flatMap((q) => q.insns.map((d) => [q.name, d.index]))).toEqual(objdumpInsns(file).map((i) => [i.section, i.slot]));
    });

    describeKernel("in the running kernel", () => {
      it.each([
        [1, 1, 1],
        [1, "reject", 0],
        ["reject", 1, 0],
        [0, 1, 0],
        [1, 0, 0],
      ] as const)("L2 %s, L3 %s: loads and counts %d of 1", (l2, l3, matched) => {
        const file = join(dir, `user-${l2}-${l3}.o`);
        writeFileSync(file, writeBpfObject(patched(l2, l3)));
        const progs = `/sys/fs/bpf/bpfpg-elfu-${process.pid}-${l2}-${l3}`;
        const maps = `${progs}-maps`;
        pins.push(progs, maps);
        bpftool(["prog", "loadall", file, progs, "pinmaps", maps]);
        const pkt = join(dir, "frame.bin");
        writeFileSync(pkt, new Uint8Array(60).fill(0x22));
        expect(bpftool(["prog", "run", "pinned", join(progs, "user_host"), "data_in", pkt])).toMatch(/Return value: 2\b/);
        const counts = JSON.parse(bpftool(["-j", "map", "dump", "pinned", join(maps, "counts")])) as { formatted: { value: number } }[];
        expect({ seen: counts[0]!.formatted.value, matched: counts[1]!.formatted.value }).toEqual({ seen: 1, matched });
      });
    });
  },
  ["bpftool", "llvm-readelf", "llvm-objdump"],
);
