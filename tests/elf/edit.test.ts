/**
 * replaceInstructions, the primitive a splice stands on, on the real host objects: an edit that
 * changes nothing writes the same bytes; pwru's reject-all (`r4 = r5` inserted before the stub's
 * body) and whole-body replacements of other lengths load with `bpftool prog loadall` (and attach
 * with `ip link set dev … xdp obj`), run, and
 * count what their new stub decides; the LLVM tools read the edited files as we do; every call
 * still reaches the function it reached before; edits that cannot be made are refused.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { assemble, exit, mov64Imm, mov64Reg, rawFromDecoded, type AsmItem } from "../../lib/ebpf";
import { BPF_CALL, BPF_JMP, BPF_PSEUDO_CALL } from "../../lib/ebpf/opcodes";
import { isPlaygroundError } from "../../lib/errors";
import { readBpfObject, replaceInstructions, writeBpfObject, type BpfObject } from "../../lib/elf";
import { describeKernel } from "../kernel/support";
import { describeWithObjects, HOSTS, readHostObject, type HostName } from "../support/bpf-objects";
import { bpftool, scratch } from "./scratch";
import { firstDifference, objdumpInsns, readelfRelocations, readelfSymbols } from "./oracles";

const { dir, pins } = scratch("edit");

const raw = (...items: AsmItem[]) => assemble(items).raw;
const text = (o: BpfObject) => o.programs.find((p) => p.name === ".text")!;
const stub = (o: BpfObject, name = "filter_pcap_ebpf_l2") => text(o).functions.find((f) => f.name === name)!;

/** Every relocated pseudo-call, as (section, slot) -> the name of the function it reaches. */
function callees(o: BpfObject): string[] {
  const out: string[] = [];
  for (const p of o.programs) {
    for (const r of p.relocations) {
      const d = p.insns.find((x) => x.index === Number(r.offset / 8n))!;
      if (!(d.code === (BPF_JMP | BPF_CALL) && d.src === BPF_PSEUDO_CALL)) continue;
      const sym = o.symbols.symbols[r.symbol]!;
      const sec = sym.section.kind === "section" ? sym.section.index : -1;
      const slot = Number(sym.value / 8n) + d.imm + 1;
      const fn = o.programs.find((q) => q.sectionIndex === sec)!.functions.find((f) => f.start === slot);
      out.push(`${p.name}: call -> ${fn?.name ?? `nothing at slot ${slot}`}`);
    }
  }
  return out;
}

function write(o: BpfObject, name: string): string {
  const file = join(dir, name);
  writeFileSync(file, writeBpfObject(o));
  return file;
}

function loadAndCount(file: string, host: HostName, tag: string): { seen: number; matched: number } | null {
  const progs = `/sys/fs/bpf/bpfpg-elfe-${process.pid}-${tag}`;
  const maps = `${progs}-maps`;
  pins.push(progs, maps);
  bpftool(["prog", "loadall", file, progs, "pinmaps", maps]);
  if (host === "skb") return null; // a raw tracepoint has no packet test run
  const pkt = join(dir, "frame.bin");
  writeFileSync(pkt, new Uint8Array(60).fill(0x11));
  bpftool(["prog", "run", "pinned", join(progs, `${host}_host`), "data_in", pkt]);
  const counts = JSON.parse(bpftool(["-j", "map", "dump", "pinned", join(maps, "counts")])) as { formatted: { key: number; value: number } }[];
  return { seen: counts[0]!.formatted.value, matched: counts[1]!.formatted.value };
}

/** Our reading of an edited file against llvm-readelf and llvm-objdump on the same file. */
function expectToolsAgree(file: string): void {
  const o = readBpfObject(new Uint8Array(execFileSync("cat", [file])));
  const syms = readelfSymbols(file);
  expect(o.symbols.symbols.map((s) => [s.index, Number(s.value), Number(s.size)])).toEqual(syms.map((s) => [s.index, s.value, s.size]));
  const rels = readelfRelocations(file);
  expect(o.relocations.flatMap((r) => r.entries.map((e) => [Number(e.offset), e.type]))).toEqual(rels.map((r) => [r.offset, r.type]));
  const insns = objdumpInsns(file);
  expect(o.programs.flatMap((p) => p.insns.map((d) => [p.name, d.index]))).toEqual(insns.map((i) => [i.section, i.slot]));
}

describeWithObjects(
  "replaceInstructions on the host objects",
  () => {
    it.each(HOSTS)("%s: replacing each function by itself (with its relocations, lines and CO-RE records), or inserting nothing, writes the same bytes", (host) => {
      const bytes = readHostObject(host);
      const o = readBpfObject(bytes);
      for (const p of o.programs) {
        const lines = o.btfExt!.lineInfo.sections.find((b) => o.btf!.string(b.secNameOff) === p.name)!.records;
        for (const f of p.functions) {
          const body = rawFromDecoded(p.insns.filter((d) => d.index >= f.start && d.index < f.start + f.slots));
          const lineInfo = lines
            .filter((r) => r.record.insnOff >= f.start * 8 && r.record.insnOff < (f.start + f.slots) * 8)
            .map((r) => ({ ...r, record: { ...r.record, insnOff: r.record.insnOff - f.start * 8 } }));
          const relocations = p.relocations
            .filter((r) => r.offset >= BigInt(f.start * 8) && r.offset < BigInt((f.start + f.slots) * 8))
            .map((r) => ({ ...r, offset: r.offset - BigInt(f.start * 8) }));
          const coreRelo = (o.btfExt!.coreRelo?.sections.find((b) => o.btf!.string(b.secNameOff) === p.name)?.records ?? [])
            .filter((r) => r.record.insnOff >= f.start * 8 && r.record.insnOff < (f.start + f.slots) * 8)
            .map((r) => ({ ...r, record: { ...r.record, insnOff: r.record.insnOff - f.start * 8 } }));
          const same = replaceInstructions(o, p.sectionIndex, f.start, f.slots, body, { lineInfo, relocations, coreRelo });
          expect(firstDifference(writeBpfObject(same), bytes)).toBe(-1);
          expect(firstDifference(writeBpfObject(replaceInstructions(o, p.sectionIndex, f.start, 0, [])), bytes)).toBe(-1);
        }
      }
    });

    it("skb: shrinking the first stub moves the second, its symbols, func_info, line_info and every call", () => {
      const o = readBpfObject(readHostObject("skb"));
      const l3 = stub(o, "filter_pcap_ebpf_l3");
      const l2 = stub(o, "filter_pcap_ebpf_l2");
      expect(l3.start).toBeLessThan(l2.start);
      const edited = replaceInstructions(o, text(o).sectionIndex, l3.start, l3.slots, raw(mov64Imm("r0", 0), exit()));
      const back = readBpfObject(writeBpfObject(edited));
      expect(stub(back, "filter_pcap_ebpf_l2").start).toBe(l2.start - (l3.slots - 2));
      expect(callees(back)).toEqual(callees(o));
      const ext = back.btfExt!;
      const textName = (off: number) => back.btf!.string(off) === ".text";
      const funcOffs = ext.funcInfo.sections.filter((b) => textName(b.secNameOff)).flatMap((b) => b.records.map((r) => r.record.insnOff / 8));
      expect(funcOffs).toEqual(text(back).functions.map((f) => f.start));
      const lineOffs = new Set(ext.lineInfo.sections.filter((b) => textName(b.secNameOff)).flatMap((b) => b.records.map((r) => r.record.insnOff / 8)));
      for (const f of text(back).functions) expect(lineOffs.has(f.start), f.name).toBe(true);
      expectToolsAgree(write(edited, "skb-shrunk.o"));
    });

    it("refuses a range that starts in an ld_imm64, a jump into the range and a range that swallows a function start", () => {
      const o = readBpfObject(readHostObject("xdp"));
      const main = o.programs.find((p) => p.name === "xdp")!;
      const ld = main.insns.find((d) => d.slots === 2)!;
      const refusal = (fn: () => unknown): string => {
        try {
          fn();
        } catch (e) {
          if (isPlaygroundError(e)) return e.message;
          throw e;
        }
        return "accepted";
      };
      expect(refusal(() => replaceInstructions(o, main.sectionIndex, ld.index + 1, 1, []))).toMatch(/second half of an ld_imm64/);
      const jump = main.insns.find((d) => (d.code & 0x07) === BPF_JMP && (d.code & 0xf0) === 0x10 && d.off > 1)!; // a forward `if == goto`
      const target = jump.index + 1 + jump.off;
      expect(refusal(() => replaceInstructions(o, main.sectionIndex, target - 1, 2, raw(mov64Imm("r0", 0))))).toMatch(/inside the replaced range/);
      const skb = readBpfObject(readHostObject("skb"));
      const l2 = stub(skb, "filter_pcap_ebpf_l2");
      expect(l2.start).toBeGreaterThan(0);
      expect(refusal(() => replaceInstructions(skb, text(skb).sectionIndex, l2.start - 2, 3, []))).toMatch(/inside the replaced range/);
    });

    describeKernel("in the running kernel", () => {
      it("xdp: pwru's reject-all (r4 = r5 before the stub's body) loads and matches nothing", () => {
        const o = readBpfObject(readHostObject("xdp"));
        const s = stub(o);
        const edited = replaceInstructions(o, text(o).sectionIndex, s.start, 0, raw(mov64Reg("r4", "r5")));
        expect(text(readBpfObject(writeBpfObject(edited))).functions[0]!.slots).toBe(s.slots + 1);
        const file = write(edited, "xdp-reject-all.o");
        expectToolsAgree(file);
        expect(loadAndCount(file, "xdp", "xdp-reject")).toEqual({ seen: 1, matched: 0 });
      });

      it("xdp: the written and the patched object attach with `ip link set dev … xdp obj` (in a throwaway network namespace)", () => {
        const o = readBpfObject(readHostObject("xdp"));
        const s = stub(o);
        for (const [name, obj] of [
          ["as-read", o],
          ["reject-all", replaceInstructions(o, text(o).sectionIndex, s.start, 0, raw(mov64Reg("r4", "r5")))],
        ] as const) {
          const file = write(obj, `xdp-ip-${name}.o`);
          // unshare: the network namespace, its veth and a private bpffs (where iproute2 makes its
          // tc/ip/xdp pin directories) all vanish with the command, whatever happens.
          const script = `mount -t bpf bpf /sys/fs/bpf && ip link add v0 type veth peer name v1 && ip link set v0 up && ip link set dev v0 xdp obj "${file}" sec xdp && ip -j -d link show v0`;
          const shown = JSON.parse(execFileSync("unshare", ["--net", "--mount", "sh", "-c", script], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })) as { xdp?: { prog?: { name?: string } } }[];
          expect(shown[0]!.xdp?.prog?.name, name).toBe("xdp_host");
        }
      });

      it.each([
        ["tc", 1, 1],
        ["tc", 0, 0],
        ["xdp", 1, 1],
      ] as const)("%s: a stub whose whole body is `r0 = %d; exit` loads and counts %d of 1", (host, r0, matched) => {
        const o = readBpfObject(readHostObject(host));
        const s = stub(o);
        const edited = replaceInstructions(o, text(o).sectionIndex, s.start, s.slots, raw(mov64Imm("r0", r0), exit()));
        expect(loadAndCount(write(edited, `${host}-body-${r0}.o`), host, `${host}-body-${r0}`)).toEqual({ seen: 1, matched });
      });

      it("skb: growing the first stub by 5 and shrinking it both load (func_info, line_info and calls checked by the verifier)", () => {
        const o = readBpfObject(readHostObject("skb"));
        const l3 = stub(o, "filter_pcap_ebpf_l3");
        const grown = replaceInstructions(o, text(o).sectionIndex, l3.start, 0, raw(...Array.from({ length: 5 }, () => mov64Reg("r0", "r1"))));
        expect(callees(readBpfObject(writeBpfObject(grown)))).toEqual(callees(o));
        loadAndCount(write(grown, "skb-grown.o"), "skb", "skb-grown");
        const shrunk = replaceInstructions(o, text(o).sectionIndex, l3.start, l3.slots, raw(mov64Imm("r0", 0), exit()));
        loadAndCount(write(shrunk, "skb-shrunk-load.o"), "skb", "skb-shrunk");
      });
    });
  },
  ["bpftool", "llvm-readelf", "llvm-objdump"],
);
