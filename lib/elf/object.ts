/**
 * A BPF object file as the rest of the project sees it: the ELF container, and on top of it the
 * symbol table, relocations, BTF, .BTF.ext, BTF-defined maps and each program section's
 * instructions (lib/ebpf's decoded form) split into functions by their symbols.
 *
 * Everything is plain immutable data. `writeBpfObject` serialises the structured parts back
 * (instructions, symbols, relocations, .BTF.ext) rather than copying their original bytes, so an
 * edit to any of them (a splice) is an edit to this data followed by one write.
 */
import { Btf } from "../btf";
import { decodeProgram, encodeProgram, rawFromDecoded, type DecodedInsn } from "../ebpf";
import { isPlaygroundError, PlaygroundError } from "../errors";
import { SHF, SHT } from "./constants";
import { readBtfExt, encodeBtfExt, type BtfExt } from "./btf-ext";
import { readElf, writeElf, type ElfFile, type ElfSection } from "./file";
import { readBtfMaps, type BtfMap } from "./maps";
import { encodeRelocations, readRelocations, type Relocation, type RelocationSection } from "./relocations";
import { encodeSymbols, readSymbols, type ElfSymbol, type SymbolTable } from "./symbols";

export interface BpfFunction {
  readonly name: string;
  /** Index of its symbol in the symbol table. */
  readonly symbol: number;
  /** First instruction slot in the section (st_value / 8). */
  readonly start: number;
  /** Length in slots (st_size / 8). */
  readonly slots: number;
  /** STB_LOCAL: a static function (verified in its caller's context). */
  readonly isStatic: boolean;
}

export interface ProgramSection {
  readonly sectionIndex: number;
  readonly name: string;
  readonly insns: readonly DecodedInsn[];
  /** Functions defined in the section, by start. */
  readonly functions: readonly BpfFunction[];
  /** The entries of the .rel section that patches this one (empty when there is none). */
  readonly relocations: readonly Relocation[];
}

export interface BpfObject {
  readonly elf: ElfFile;
  readonly symbols: SymbolTable;
  readonly relocations: readonly RelocationSection[];
  readonly btf: Btf | null;
  readonly btfExt: BtfExt | null;
  readonly programs: readonly ProgramSection[];
  readonly maps: readonly BtfMap[];
}

const isProgramSection = (s: ElfSection): boolean => s.header.type === SHT.PROGBITS && (s.header.flags & SHF.EXECINSTR) !== 0n;

/** Re-anchors a codec error at a section's position in the file. */
function inSection<T>(s: ElfSection, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (isPlaygroundError(e) && e.position.kind === "byte") {
      throw new PlaygroundError(e.code, `section ${s.header.name}: ${e.message}`, { kind: "byte", offset: (s.fileOffset ?? 0) + e.position.offset });
    }
    throw e;
  }
}

function functionsOf(s: ElfSection, symtab: SymbolTable, slots: number): BpfFunction[] {
  const out: BpfFunction[] = [];
  for (const sym of symtab.symbols) {
    if (sym.type !== "FUNC" || sym.section.kind !== "section" || sym.section.index !== s.index) continue;
    const where = { kind: "byte" as const, offset: s.fileOffset ?? 0 };
    if (sym.value % 8n !== 0n || sym.size % 8n !== 0n) throw new PlaygroundError("elf/symbols", `function ${sym.name}: value ${sym.value} or size ${sym.size} is not a whole number of instructions`, where);
    const start = Number(sym.value / 8n);
    const length = Number(sym.size / 8n);
    if (start + length > slots) throw new PlaygroundError("elf/symbols", `function ${sym.name} (slots ${start}..${start + length}) runs past the end of ${s.header.name} (${slots} slots)`, where);
    out.push({ name: sym.name, symbol: sym.index, start, slots: length, isStatic: sym.bind === "LOCAL" });
  }
  return out.sort((a, b) => a.start - b.start);
}

/** Reads a BPF object file. Bad or hostile input is a PlaygroundError with the byte offset at fault. */
export function readBpfObject(bytes: Uint8Array): BpfObject {
  const elf = readElf(bytes);
  const symbols = readSymbols(bytes, elf);
  if (!symbols) throw new PlaygroundError("elf/symbols", "the object has no symbol table", { kind: "byte", offset: 0 });
  const relocations = readRelocations(bytes, elf, symbols);
  const btfSec = elf.sections.find((s) => s.header.name === ".BTF" && s.header.type === SHT.PROGBITS);
  const btf = btfSec ? new Btf(bytes, btfSec.fileOffset, btfSec.fileOffset! + btfSec.data.length) : null;
  const extSec = elf.sections.find((s) => s.header.name === ".BTF.ext" && s.header.type === SHT.PROGBITS);
  const btfExt = extSec ? readBtfExt(bytes, extSec.fileOffset, extSec.fileOffset! + extSec.data.length) : null;
  const programs = elf.sections.filter(isProgramSection).map((s): ProgramSection => {
    const insns = inSection(s, () => decodeProgram(s.data));
    const slots = s.data.length / 8;
    return {
      sectionIndex: s.index,
      name: s.header.name,
      insns,
      functions: functionsOf(s, symbols, slots),
      relocations: relocations.find((r) => r.target === s.index)?.entries ?? [],
    };
  });
  return { elf, symbols, relocations, btf, btfExt, programs, maps: readBtfMaps(elf, symbols, btf) };
}

/**
 * Writes an object back, encoding each structured part from the data in `obj`: program sections
 * from `programs[].insns`, .rel sections from `relocations` (a program's own list wins, so an edit
 * there is enough), .symtab from `symbols`, .BTF.ext from `btfExt`. Everything else is written
 * as read. An unedited object comes back byte for byte.
 */
export function writeBpfObject(obj: BpfObject): Uint8Array {
  const data = new Map<number, Uint8Array>();
  for (const p of obj.programs) data.set(p.sectionIndex, encodeProgram(rawFromDecoded(p.insns)));
  for (const r of obj.relocations) {
    const own = obj.programs.find((p) => p.sectionIndex === r.target);
    data.set(r.sectionIndex, encodeRelocations(own ? own.relocations : r.entries));
  }
  data.set(obj.symbols.sectionIndex, encodeSymbols(obj.symbols.symbols));
  const extSec = obj.elf.sections.find((s) => s.header.name === ".BTF.ext" && s.header.type === SHT.PROGBITS);
  if (extSec && obj.btfExt) data.set(extSec.index, encodeBtfExt(obj.btfExt));
  for (const p of obj.programs) {
    if (!obj.relocations.some((r) => r.target === p.sectionIndex) && p.relocations.length > 0) {
      throw new PlaygroundError("elf/write", `section ${p.name} gained relocations but has no .rel section to hold them`);
    }
  }
  const sections = obj.elf.sections.map((s): ElfSection => (data.has(s.index) ? { ...s, data: data.get(s.index)! } : s));
  return writeElf({ ...obj.elf, sections });
}

export type { ElfSymbol };
