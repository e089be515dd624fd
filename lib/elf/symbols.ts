/**
 * The symbol table (.symtab, Elf64_Sym records) and its string table, read and written.
 * Names are kept with their string-table offsets, so writing a table back needs no new strings:
 * a splice changes values and sizes, never names.
 */
import { ByteReader } from "../bytes/reader";
import { PlaygroundError } from "../errors";
import {
  SHN_ABS, SHN_COMMON, SHN_LORESERVE, SHN_UNDEF, SHN_XINDEX, SHT, SYM_SIZE, SYMBOL_BINDS, SYMBOL_TYPES, SYMBOL_VISIBILITIES,
  type SymbolBind, type SymbolType, type SymbolVisibility,
} from "./constants";
import type { ElfFile, ElfSection } from "./file";

/** Where a symbol is defined: a section index, or one of the special places. */
export type SymbolSection = { readonly kind: "section"; readonly index: number } | { readonly kind: "undefined" | "absolute" | "common" };

export interface ElfSymbol {
  readonly index: number;
  readonly name: string;
  readonly nameOffset: number;
  readonly bind: SymbolBind;
  readonly type: SymbolType;
  readonly visibility: SymbolVisibility;
  /** st_other without the visibility bits (0 in every object clang writes). */
  readonly otherFlags: number;
  readonly section: SymbolSection;
  /** Byte offset in its section (for a function: 8 × its first instruction index). */
  readonly value: bigint;
  readonly size: bigint;
}

export interface SymbolTable {
  /** Index of the .symtab section. */
  readonly sectionIndex: number;
  /** Every entry, the null symbol 0 included. */
  readonly symbols: readonly ElfSymbol[];
}

const CODE = "elf/symbols";

/** The one SHT_SYMTAB of an object; null when it has none. */
export function readSymbols(bytes: Uint8Array, elf: ElfFile): SymbolTable | null {
  const tables = elf.sections.filter((s) => s.header.type === SHT.SYMTAB);
  if (tables.length === 0) return null;
  const symtab = tables[0]!;
  if (tables.length > 1) throw new PlaygroundError(CODE, `${tables.length} symbol tables; an object file has one`, { kind: "byte", offset: symtab.fileOffset ?? 0 });
  if (elf.sections.some((s) => s.header.type === SHT.SYMTAB_SHNDX)) {
    throw new PlaygroundError("elf/unsupported", "extended symbol section indexes (SHT_SYMTAB_SHNDX) are not supported", { kind: "byte", offset: symtab.fileOffset ?? 0 });
  }
  const at = symtab.fileOffset ?? 0;
  const r = new ByteReader(bytes, at, at + symtab.data.length, CODE, `symbol table ${symtab.header.name}`);
  if (symtab.data.length % SYM_SIZE !== 0) throw r.error(`size ${symtab.data.length} is not a multiple of ${SYM_SIZE}`, at);
  const strtab = elf.sections[symtab.header.link];
  if (!strtab || strtab.header.type !== SHT.STRTAB) throw r.error(`sh_link ${symtab.header.link} is not a string table`, at);
  const so = strtab.fileOffset ?? 0;
  const strings = new ByteReader(bytes, so, so + strtab.data.length, CODE, `string table ${strtab.header.name}`);
  const symbols: ElfSymbol[] = [];
  for (let i = 0, p = at; p < r.end; i++, p += SYM_SIZE) {
    const nameOffset = r.u32(p);
    const info = r.u8(p + 4);
    const other = r.u8(p + 5);
    const shndx = r.u16(p + 6);
    const bind = SYMBOL_BINDS[info >> 4];
    const type = SYMBOL_TYPES[info & 0xf];
    if (!bind) throw r.error(`symbol ${i}: binding ${info >> 4} is not LOCAL, GLOBAL or WEAK`, p + 4, "elf/unsupported");
    if (!type) throw r.error(`symbol ${i}: type ${info & 0xf} is not one a BPF object uses`, p + 4, "elf/unsupported");
    if (shndx === SHN_XINDEX) throw r.error(`symbol ${i}: extended section index`, p + 6, "elf/unsupported");
    let section: SymbolSection;
    if (shndx === SHN_UNDEF) section = { kind: "undefined" };
    else if (shndx === SHN_ABS) section = { kind: "absolute" };
    else if (shndx === SHN_COMMON) section = { kind: "common" };
    else if (shndx >= SHN_LORESERVE || shndx >= elf.sections.length) throw r.error(`symbol ${i}: section index ${shndx} is not a section`, p + 6);
    else section = { kind: "section", index: shndx };
    if (nameOffset !== 0 && nameOffset >= strtab.data.length) throw r.error(`symbol ${i}: name offset ${nameOffset} is past the string table`, p);
    symbols.push({
      index: i,
      name: nameOffset === 0 ? "" : strings.cstring(so + nameOffset, `symbol ${i}'s name`),
      nameOffset,
      bind,
      type,
      visibility: SYMBOL_VISIBILITIES[other & 3]!,
      otherFlags: other & ~3,
      section,
      value: r.u64(p + 8),
      size: r.u64(p + 16),
    });
  }
  return { sectionIndex: symtab.index, symbols };
}

const SHNDX: Record<Exclude<SymbolSection["kind"], "section">, number> = { undefined: SHN_UNDEF, absolute: SHN_ABS, common: SHN_COMMON };

/** The bytes of a .symtab holding `symbols` (names by their existing string-table offsets). */
export function encodeSymbols(symbols: readonly ElfSymbol[]): Uint8Array {
  const out = new Uint8Array(symbols.length * SYM_SIZE);
  const v = new DataView(out.buffer);
  symbols.forEach((s, i) => {
    const p = i * SYM_SIZE;
    v.setUint32(p, s.nameOffset, true);
    out[p + 4] = (SYMBOL_BINDS.indexOf(s.bind) << 4) | SYMBOL_TYPES.indexOf(s.type);
    out[p + 5] = SYMBOL_VISIBILITIES.indexOf(s.visibility) | s.otherFlags;
    v.setUint16(p + 6, s.section.kind === "section" ? s.section.index : SHNDX[s.section.kind], true);
    v.setBigUint64(p + 8, s.value, true);
    v.setBigUint64(p + 16, s.size, true);
  });
  return out;
}

/** The section a symbol is defined in, if it is defined in one. */
export function symbolSection(elf: ElfFile, s: ElfSymbol): ElfSection | undefined {
  return s.section.kind === "section" ? elf.sections[s.section.index] : undefined;
}
