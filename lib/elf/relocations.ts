/**
 * Relocation sections (SHT_REL, Elf64_Rel records): which bytes of which section refer to which
 * symbol. BPF objects use REL only (no addends: the instruction's own imm is the addend).
 */
import { ByteReader } from "../bytes/reader";
import { BPF_RELOCATION_TYPES, REL_SIZE, SHT, type BpfRelocationType } from "./constants";
import type { ElfFile } from "./file";
import type { SymbolTable } from "./symbols";

export interface Relocation {
  /** Byte offset in the target section. */
  readonly offset: bigint;
  /** Index into the symbol table. */
  readonly symbol: number;
  readonly type: BpfRelocationType;
}

export interface RelocationSection {
  /** Index of the .rel section itself. */
  readonly sectionIndex: number;
  /** The section the entries patch (sh_info). */
  readonly target: number;
  readonly entries: readonly Relocation[];
}

const CODE = "elf/relocations";
/**
 * How many bytes from r_offset a relocation touches: an ld_imm64 (both slots' imm) for
 * R_BPF_64_64, a whole call instruction for R_BPF_64_32, the field itself for the data kinds.
 */
const REACH: Record<BpfRelocationType, bigint> = {
  R_BPF_NONE: 0n, R_BPF_64_64: 16n, R_BPF_64_ABS64: 8n, R_BPF_64_ABS32: 4n, R_BPF_64_NODYLD32: 4n, R_BPF_64_32: 8n,
};
const TYPE_BY_NUMBER = new Map(Object.entries(BPF_RELOCATION_TYPES).map(([k, v]) => [v, k as BpfRelocationType]));

/** Every SHT_REL section; SHT_RELA is refused (BPF objects have none). */
export function readRelocations(bytes: Uint8Array, elf: ElfFile, symtab: SymbolTable | null): RelocationSection[] {
  const out: RelocationSection[] = [];
  for (const s of elf.sections) {
    const at = s.fileOffset ?? 0;
    if (s.header.type === SHT.RELA) {
      throw new ByteReader(bytes, at, at, "elf/unsupported", `section ${s.index} (${s.header.name})`).error("SHT_RELA relocations are not used by BPF objects and are not read", at);
    }
    if (s.header.type !== SHT.REL) continue;
    const r = new ByteReader(bytes, at, at + s.data.length, CODE, `relocation section ${s.header.name}`);
    if (s.data.length % REL_SIZE !== 0) throw r.error(`size ${s.data.length} is not a multiple of ${REL_SIZE}`, at);
    if (!symtab || s.header.link !== symtab.sectionIndex) throw r.error(`sh_link ${s.header.link} is not the symbol table`, at);
    const target = elf.sections[s.header.info];
    if (!target || s.header.info === 0) throw r.error(`sh_info ${s.header.info} is not a section`, at);
    const entries: Relocation[] = [];
    for (let p = at; p < r.end; p += REL_SIZE) {
      const offset = r.u64(p);
      const info = r.u64(p + 8);
      const symbol = Number(info >> 32n);
      const typeNo = Number(info & 0xffffffffn);
      const type = TYPE_BY_NUMBER.get(typeNo as never);
      if (type === undefined) throw r.error(`relocation type ${typeNo} is not a BPF relocation`, p + 8, "elf/unsupported");
      if (symbol >= symtab.symbols.length) throw r.error(`symbol index ${symbol} is past the symbol table (${symtab.symbols.length})`, p + 12);
      const limit = BigInt(target.header.type === SHT.NOBITS ? (target.nobitsSize ?? 0) : target.data.length);
      const reach = REACH[type];
      if (offset + reach > limit) throw r.error(`offset ${offset} (${type}) is past the end of ${target.header.name} (${limit} bytes)`, p);
      entries.push({ offset, symbol, type });
    }
    out.push({ sectionIndex: s.index, target: s.header.info, entries });
  }
  return out;
}

export function encodeRelocations(entries: readonly Relocation[]): Uint8Array {
  const out = new Uint8Array(entries.length * REL_SIZE);
  const v = new DataView(out.buffer);
  entries.forEach((e, i) => {
    v.setBigUint64(i * REL_SIZE, e.offset, true);
    v.setBigUint64(i * REL_SIZE + 8, (BigInt(e.symbol) << 32n) | BigInt(BPF_RELOCATION_TYPES[e.type]), true);
  });
  return out;
}
