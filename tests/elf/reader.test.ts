/**
 * lib/elf and lib/btf read the bpf/ host objects exactly as the real tools do: sections, symbols
 * and relocations as llvm-readelf prints them, instructions as llvm-objdump disassembles them,
 * every BTF type as bpftool dumps it, and the running kernel's vmlinux BTF too. The expected
 * values are the tools' output at test time.
 */
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { Btf, type BtfType } from "../../lib/btf";
import { encodeProgram, rawFromDecoded } from "../../lib/ebpf";
import { extSectionName, readBpfObject, sectionTypeName, SHT, type BpfObject, type ElfSymbol } from "../../lib/elf";
import { describeWithObjects, hostObjectPath, HOSTS, readHostObject, ROOT } from "../support/bpf-objects";
import { bpftoolBtf, objdumpInsns, readelfRelocations, readelfSections, readelfSymbols, type BpftoolType } from "./oracles";
import { requires, VMLINUX_BTF } from "../support/requires";

const objects = new Map<string, BpfObject>();
const object = (host: (typeof HOSTS)[number]): BpfObject => {
  let o = objects.get(host);
  if (!o) objects.set(host, (o = readBpfObject(readHostObject(host))));
  return o;
};

/** readelf's flag letters for sh_flags. */
function flagLetters(flags: bigint): string {
  const letters: [bigint, string][] = [[0x1n, "W"], [0x2n, "A"], [0x4n, "X"], [0x10n, "M"], [0x20n, "S"], [0x40n, "I"], [0x80n, "L"], [0x200n, "G"], [0x80000000n, "E"]];
  return letters.filter(([bit]) => (flags & bit) !== 0n).map(([, l]) => l).join("");
}

/** The name readelf shows for a symbol: a section symbol is shown by its section's name. */
function shownName(o: BpfObject, s: ElfSymbol): string {
  return s.type === "SECTION" && s.section.kind === "section" ? o.elf.sections[s.section.index]!.header.name : s.name;
}

const ENCODING: Record<number, string> = { 0: "(none)", 1: "SIGNED", 2: "CHAR", 4: "BOOL" };

/**
 * bpftool 7.1 prints a 32-bit ENUM value by sign-extending it to 64 bits and printing that as
 * unsigned (0xefffffff comes out as 18446744073441116159); a quirk of the oracle, not of BTF.
 */
function bpftoolEnumValue(kind: "ENUM" | "ENUM64", v: bigint): bigint {
  return kind === "ENUM" && v >= 0n ? BigInt.asUintN(64, BigInt.asIntN(32, v)) : v;
}

/** One of our BTF types in the shape `bpftool -j btf dump` prints. */
function asBpftool(t: BtfType): BpftoolType {
  const base = { id: t.id, kind: t.kind, name: t.name || "(anon)" };
  switch (t.kind) {
    case "INT":
      return { ...base, size: t.size, bits_offset: t.bitOffset, nr_bits: t.bits, encoding: ENCODING[t.encoding] ?? String(t.encoding) };
    case "PTR": case "TYPEDEF": case "VOLATILE": case "CONST": case "RESTRICT": case "TYPE_TAG":
      return { ...base, type_id: t.type };
    case "ARRAY":
      return { ...base, type_id: t.elem, index_type_id: t.index, nr_elems: t.nelems };
    case "STRUCT": case "UNION":
      return {
        ...base, size: t.size, vlen: t.members.length,
        members: t.members.map((m) => ({ name: m.name || "(anon)", type_id: m.type, bits_offset: m.bitOffset, ...(m.bitSize ? { bitfield_size: m.bitSize } : {}) })),
      };
    case "ENUM": case "ENUM64":
      return { ...base, encoding: t.signed ? "SIGNED" : "UNSIGNED", size: t.size, vlen: t.values.length, values: t.values.map((v) => ({ name: v.name || "(anon)", val: Number(bpftoolEnumValue(t.kind, v.value)) })) };
    case "FWD":
      return { ...base, fwd_kind: t.union ? "union" : "struct" };
    case "FUNC":
      return { ...base, type_id: t.type, linkage: t.linkage };
    case "FUNC_PROTO":
      return { ...base, ret_type_id: t.returns, vlen: t.params.length, params: t.params.map((p) => ({ name: p.name || "(anon)", type_id: p.type })) };
    case "VAR":
      return { ...base, type_id: t.type, linkage: t.linkage };
    case "DATASEC":
      return { ...base, size: t.size, vlen: t.vars.length, vars: t.vars.map((v) => ({ type_id: v.type, offset: v.offset, size: v.size })) };
    case "FLOAT":
      return { ...base, size: t.size };
    case "DECL_TAG":
      return { ...base, type_id: t.type, component_idx: t.componentIdx };
  }
}

describeWithObjects(
  "lib/elf reads the bpf/ host objects as the real tools do",
  () => {
    it.each(HOSTS)("%s: every section as llvm-readelf --sections lists it", (host) => {
      const o = object(host);
      const expected = readelfSections(hostObjectPath(host));
      expect(expected.length).toBeGreaterThan(10);
      const ours = o.elf.sections.map((s) => ({
        index: s.index, name: s.header.name, type: sectionTypeName(s.header.type), offset: s.fileOffset ?? 0, size: s.data.length,
        entsize: s.header.entsize, flags: flagLetters(s.header.flags), link: s.header.link, info: s.header.info, align: s.header.addralign,
      }));
      expect(ours).toEqual(expected);
    });

    it.each(HOSTS)("%s: every symbol as llvm-readelf --symbols lists it", (host) => {
      const o = object(host);
      const expected = readelfSymbols(hostObjectPath(host));
      const ours = o.symbols.symbols.map((s) => ({
        index: s.index, value: Number(s.value), size: Number(s.size), type: s.type, bind: s.bind, visibility: s.visibility,
        shndx: s.section.kind === "section" ? String(s.section.index) : s.section.kind === "undefined" ? "UND" : s.section.kind === "absolute" ? "ABS" : "COM",
        name: shownName(o, s),
      }));
      expect(ours).toEqual(expected);
    });

    it.each(HOSTS)("%s: every relocation as llvm-readelf --relocations lists it", (host) => {
      const o = object(host);
      const expected = readelfRelocations(hostObjectPath(host));
      expect(expected.some((r) => r.type === "R_BPF_64_64")).toBe(true); // map loads
      const ours = o.relocations.flatMap((rs) =>
        rs.entries.map((e) => {
          const sym = o.symbols.symbols[e.symbol]!;
          return { section: o.elf.sections[rs.sectionIndex]!.header.name, offset: Number(e.offset), type: e.type, symbolValue: Number(sym.value), symbolName: shownName(o, sym) };
        }),
      );
      expect(ours).toEqual(expected);
      // A program's own list is its .rel section's.
      for (const p of o.programs) expect(p.relocations).toEqual(o.relocations.find((r) => r.target === p.sectionIndex)?.entries ?? []);
    });

    it.each(HOSTS)("%s: every instruction as llvm-objdump -d disassembles it", (host) => {
      const o = object(host);
      const expected = objdumpInsns(hostObjectPath(host));
      const ours = o.programs.flatMap((p) =>
        p.insns.map((d) => ({ section: p.name, slot: d.index, bytes: [...encodeProgram(rawFromDecoded([d]))] })),
      );
      expect(ours).toEqual(expected);
    });

    it.each(HOSTS)("%s: functions are the FUNC symbols; the stubs are static five-argument BTF functions", (host) => {
      const o = object(host);
      const text = o.programs.find((p) => p.name === ".text")!;
      const stubs = host === "skb" ? ["filter_pcap_ebpf_l2", "filter_pcap_ebpf_l3"] : ["filter_pcap_ebpf_l2"];
      expect(text.functions.map((f) => f.name).sort()).toEqual(stubs);
      const funcSyms = readelfSymbols(hostObjectPath(host)).filter((s) => s.type === "FUNC");
      const all = o.programs.flatMap((p) => p.functions.map((f) => ({ name: f.name, value: f.start * 8, size: f.slots * 8, bind: f.isStatic ? "LOCAL" : "GLOBAL" })));
      expect(all.sort((a, b) => a.name.localeCompare(b.name))).toEqual(
        funcSyms.map((s) => ({ name: s.name, value: s.value, size: s.size, bind: s.bind })).sort((a, b) => a.name.localeCompare(b.name)),
      );
      for (const stub of stubs) {
        const fn = o.btf!.named(stub, "FUNC")[0]!;
        expect(fn.linkage).toBe("static");
        expect(o.btf!.typeOf(fn.type, "FUNC_PROTO")!.params).toHaveLength(5);
      }
    });

    it.each(HOSTS)("%s: every BTF type as bpftool btf dump prints it", (host) => {
      const expected = bpftoolBtf(hostObjectPath(host));
      const btf = object(host).btf!;
      expect(btf.count).toBe(expected.length);
      expect([...btf.types()].map(asBpftool)).toEqual(expected);
    });

    it.each(HOSTS)("%s: func_info names each function's first instruction; line_info points at real source lines", (host) => {
      const o = object(host);
      const ext = o.btfExt!;
      const btf = o.btf!;
      const symbols = readelfSymbols(hostObjectPath(host)).filter((s) => s.type === "FUNC");
      let funcs = 0;
      for (const block of ext.funcInfo.sections) {
        const secName = extSectionName(btf, block);
        const sec = o.elf.sections.find((s) => s.header.name === secName)!;
        for (const { record } of block.records) {
          const fn = btf.typeOf(record.typeId, "FUNC")!;
          const sym = symbols.find((s) => s.shndx === String(sec.index) && s.value === record.insnOff)!;
          expect(fn.name).toBe(sym.name);
          funcs++;
        }
      }
      expect(funcs).toBe(symbols.length);
      let lines = 0;
      for (const block of ext.lineInfo.sections) {
        const prog = o.programs.find((p) => p.name === extSectionName(btf, block))!;
        const starts = new Set(prog.insns.map((d) => d.index * 8));
        for (const { record } of block.records) {
          expect(starts.has(record.insnOff)).toBe(true); // an instruction start, never an ld_imm64's second half
          const file = btf.string(record.fileNameOff);
          const source = readFileSync(file.startsWith("/") ? file : `${ROOT}/${file}`, "utf8").split("\n");
          const text = btf.string(record.lineOff);
          if (record.line > 0) expect(source[record.line - 1]!.trim(), `${file}:${record.line}`).toBe(text.trim());
          lines++;
        }
      }
      expect(lines).toBeGreaterThan(10);
    });

    it("skb: CO-RE relocations name fields of the host's own struct sk_buff", () => {
      const o = object("skb");
      const relos = o.btfExt!.coreRelo!.sections.flatMap((s) => s.records.map((r) => r.record));
      expect(relos.length).toBeGreaterThan(0);
      for (const r of relos) {
        expect(o.btf!.type(r.typeId)).toMatchObject({ kind: "STRUCT", name: "sk_buff" });
        expect(o.btf!.string(r.accessStrOff)).toMatch(/^0(:\d+)+$/);
      }
    });

    it.each(HOSTS)("%s: the BTF-defined maps: counts (array of 2 u64 by u32) and events (ringbuf)", (host) => {
      const o = object(host);
      const bySymbol = readelfSymbols(hostObjectPath(host)).filter((s) => s.shndx === String(o.elf.sections.find((x) => x.header.name === ".maps")!.index));
      expect(o.maps.map((m) => m.name).sort()).toEqual(bySymbol.map((s) => s.name).sort());
      for (const m of o.maps) expect(m.offset).toBe(bySymbol.find((s) => s.name === m.name)!.value);
    });

    it("vmlinux: every type of the running kernel's BTF as bpftool prints it", () => {
      const path = VMLINUX_BTF;
      if (!requires("lib/btf vs bpftool on vmlinux", "btf")) return;
      const raw = new Uint8Array(readFileSync(path));
      const expected = bpftoolBtf(path);
      const btf = new Btf(raw);
      expect(btf.count).toBe(expected.length);
      for (const t of expected) expect(asBpftool(btf.type(t.id))).toEqual(t);
    });
  },
  ["llvm-readelf", "llvm-objdump", "bpftool"],
);

// Keeps SHT referenced for readers of this file: the section types compared above are readelf's names.
void SHT;
