/**
 * The ELF container: header and section table, read into plain data and written back.
 *
 * Reading checks everything it relies on (magic, 64-bit little-endian, the section table and
 * every section's bytes inside the file) and reports the byte offset of whatever is wrong.
 *
 * Writing lays the file out afresh, the way LLVM does for an object file: the 64-byte header,
 * then each section's bytes in the order of their original file offsets, each aligned to its
 * sh_addralign with zero padding, then the section header table aligned to 8. An object LLVM
 * wrote therefore comes back byte for byte, and a section whose bytes changed length (a spliced
 * program, its relocations, .BTF.ext) simply moves everything after it.
 */
import { ByteReader } from "../bytes/reader";
import { PlaygroundError } from "../errors";
import {
  EHDR_SIZE, ELF_MAGIC, ELFCLASS64, ELFDATA2LSB, EM_BPF, ET_REL, EV_CURRENT, SHDR_SIZE, SHN_LORESERVE, SHN_XINDEX, SHT,
} from "./constants";

const CODE = "elf/invalid";

/** Header fields the writer keeps as they were (the rest follow from the section list). */
export interface ElfHeader {
  readonly osabi: number;
  readonly abiVersion: number;
  readonly type: number;
  readonly machine: number;
  readonly version: number;
  readonly entry: bigint;
  readonly flags: number;
}

export interface SectionHeader {
  readonly name: string;
  /** Offset of the name in the section-name string table. */
  readonly nameOffset: number;
  readonly type: number;
  readonly flags: bigint;
  readonly addr: bigint;
  readonly link: number;
  readonly info: number;
  readonly addralign: number;
  readonly entsize: number;
}

export interface ElfSection {
  /** Index in the section table (0 is the null section). */
  readonly index: number;
  readonly header: SectionHeader;
  /** The section's bytes (empty for SHT_NOBITS, whose size is `nobitsSize`). */
  readonly data: Uint8Array;
  /** For SHT_NOBITS only: the size it occupies in memory. */
  readonly nobitsSize?: number;
  /** Where the bytes were in the file read (the writer keeps this order); absent for new sections. */
  readonly fileOffset?: number;
}

export interface ElfFile {
  readonly header: ElfHeader;
  /** Every section, index 0 (SHT_NULL) included, in table order. */
  readonly sections: readonly ElfSection[];
  readonly shstrndx: number;
}

/** Reads the container. Section bytes are views into `bytes`, not copies. */
export function readElf(bytes: Uint8Array): ElfFile {
  const r = new ByteReader(bytes, 0, bytes.length, CODE, "ELF");
  r.need(0, EHDR_SIZE, "ELF header");
  for (let i = 0; i < 4; i++) if (bytes[i] !== ELF_MAGIC[i]) throw r.error("not an ELF file (bad magic)", i, "elf/not-elf");
  if (bytes[4] !== ELFCLASS64) throw r.error(`class ${bytes[4]} is not ELFCLASS64: only 64-bit BPF objects are read`, 4, "elf/unsupported");
  if (bytes[5] !== ELFDATA2LSB) throw r.error(`data encoding ${bytes[5]} is not little-endian: big-endian BPF objects are not read`, 5, "elf/unsupported");
  if (bytes[6] !== EV_CURRENT) throw r.error(`ident version ${bytes[6]} is not 1`, 6);
  const header: ElfHeader = {
    osabi: bytes[7]!,
    abiVersion: bytes[8]!,
    type: r.u16(16),
    machine: r.u16(18),
    version: r.u32(20),
    entry: r.u64(24),
    flags: r.u32(48),
  };
  if (header.type !== ET_REL) throw r.error(`e_type ${header.type} is not ET_REL (1): a BPF object file is relocatable`, 16, "elf/unsupported");
  if (header.machine !== EM_BPF) throw r.error(`e_machine ${header.machine} is not EM_BPF (247)`, 18, "elf/not-bpf");
  const shoff = r.u64n(40, "e_shoff");
  const ehsize = r.u16(52);
  if (ehsize !== EHDR_SIZE) throw r.error(`e_ehsize ${ehsize} is not ${EHDR_SIZE}`, 52);
  const shentsize = r.u16(58);
  let shnum = r.u16(60);
  let shstrndx = r.u16(62);
  if (shoff === 0) throw r.error("no section header table (e_shoff is 0)", 40);
  if (shentsize !== SHDR_SIZE) throw r.error(`e_shentsize ${shentsize} is not ${SHDR_SIZE}`, 58);
  // Extended numbering: section 0 carries the real count and string-table index.
  if (shnum === 0 || shstrndx === SHN_XINDEX) {
    r.need(shoff, SHDR_SIZE, "section header 0");
    if (shnum === 0) shnum = r.u64n(shoff + 32, "section 0 sh_size (extended section count)");
    if (shstrndx === SHN_XINDEX) shstrndx = r.u32(shoff + 40, "section 0 sh_link (extended string table index)");
  }
  const table = r.sub(shoff, shnum * SHDR_SIZE, `section header table (${shnum} entries)`);
  if (shstrndx >= shnum) throw r.error(`e_shstrndx ${shstrndx} is not a section (there are ${shnum})`, 62);

  interface Raw {
    at: number;
    nameOffset: number;
    type: number;
    flags: bigint;
    addr: bigint;
    offset: number;
    size: number;
    link: number;
    info: number;
    addralign: number;
    entsize: number;
  }
  const raws: Raw[] = [];
  for (let i = 0; i < shnum; i++) {
    const at = shoff + i * SHDR_SIZE;
    const raw: Raw = {
      at,
      nameOffset: table.u32(at),
      type: table.u32(at + 4),
      flags: table.u64(at + 8),
      addr: table.u64(at + 16),
      offset: table.u64n(at + 24, "sh_offset"),
      size: table.u64n(at + 32, "sh_size"),
      link: table.u32(at + 40),
      info: table.u32(at + 44),
      addralign: table.u64n(at + 48, "sh_addralign"),
      entsize: table.u64n(at + 56, "sh_entsize"),
    };
    if (raw.addralign > 1 && (raw.addralign & (raw.addralign - 1)) !== 0) throw r.error(`section ${i}: sh_addralign ${raw.addralign} is not a power of two`, at + 48);
    if (raw.addralign > 1 << 16) throw r.error(`section ${i}: sh_addralign ${raw.addralign} is larger than 65536`, at + 48, "elf/unsupported");
    if (raw.type !== SHT.NOBITS && raw.type !== SHT.NULL) r.need(raw.offset, raw.size, `section ${i}'s bytes (sh_offset at ${at + 24})`);
    raws.push(raw);
  }
  const names = raws[shstrndx]!;
  if (names.type !== SHT.STRTAB) throw r.error(`e_shstrndx ${shstrndx} names a section of type ${names.type}, not a string table`, raws[shstrndx]!.at + 4);
  const nameTable = r.sub(names.offset, names.size, "section name string table");
  const sections = raws.map((raw, index): ElfSection => {
    if (raw.nameOffset >= nameTable.length && !(index === 0 && raw.nameOffset === 0)) {
      throw r.error(`section ${index}: name offset ${raw.nameOffset} is past the section name table (${nameTable.length} bytes)`, raw.at);
    }
    const name = nameTable.length === 0 ? "" : nameTable.cstring(nameTable.start + raw.nameOffset, `section ${index}'s name`);
    const header: SectionHeader = {
      name, nameOffset: raw.nameOffset, type: raw.type, flags: raw.flags, addr: raw.addr, link: raw.link, info: raw.info,
      addralign: raw.addralign, entsize: raw.entsize,
    };
    if ((raw.link >= shnum && raw.link < SHN_LORESERVE) && (raw.type === SHT.REL || raw.type === SHT.RELA || raw.type === SHT.SYMTAB)) {
      throw r.error(`section ${index} (${name}): sh_link ${raw.link} is not a section`, raw.at + 40);
    }
    if (raw.type === SHT.NULL) return { index, header, data: new Uint8Array(0) };
    if (raw.type === SHT.NOBITS) return { index, header, data: new Uint8Array(0), nobitsSize: raw.size, fileOffset: raw.offset };
    return { index, header, data: bytes.subarray(raw.offset, raw.offset + raw.size), fileOffset: raw.offset };
  });
  return { header, sections, shstrndx };
}

const align = (n: number, a: number): number => (a > 1 ? Math.ceil(n / a) * a : n);

/**
 * Writes the container. Section names are not re-encoded: the name table section's bytes are
 * written as they are, and each header keeps its nameOffset (a new section must bring its name in
 * that table's bytes).
 */
export function writeElf(file: ElfFile): Uint8Array {
  const { sections } = file;
  if (sections.length === 0 || sections[0]!.header.type !== SHT.NULL) throw new PlaygroundError("elf/write", "section 0 must be the null section");
  if (sections.length >= SHN_LORESERVE) throw new PlaygroundError("elf/write", `${sections.length} sections need extended numbering, which the writer does not produce`);
  sections.forEach((s, i) => {
    if (s.index !== i) throw new PlaygroundError("elf/write", `section at position ${i} says it is section ${s.index}`);
  });
  // Original order first (by file offset), new sections after them in table order. A NOBITS
  // section takes an offset where it falls but no bytes, as LLVM lays it out.
  const order = sections
    .filter((s) => s.header.type !== SHT.NULL)
    .map((s, k) => ({ s, key: s.fileOffset ?? Number.MAX_SAFE_INTEGER, k }))
    .sort((a, b) => a.key - b.key || a.k - b.k)
    .map((e) => e.s);
  const offsets = new Map<number, number>();
  let at = EHDR_SIZE;
  for (const s of order) {
    at = align(at, s.header.addralign);
    offsets.set(s.index, at);
    at += s.data.length;
  }
  const shoff = align(at, 8);
  const out = new Uint8Array(shoff + sections.length * SHDR_SIZE);
  const v = new DataView(out.buffer);
  out.set(ELF_MAGIC, 0);
  out[4] = ELFCLASS64;
  out[5] = ELFDATA2LSB;
  out[6] = EV_CURRENT;
  out[7] = file.header.osabi;
  out[8] = file.header.abiVersion;
  v.setUint16(16, file.header.type, true);
  v.setUint16(18, file.header.machine, true);
  v.setUint32(20, file.header.version, true);
  v.setBigUint64(24, file.header.entry, true);
  v.setBigUint64(32, 0n, true); // no program headers in an object file
  v.setBigUint64(40, BigInt(shoff), true);
  v.setUint32(48, file.header.flags, true);
  v.setUint16(52, EHDR_SIZE, true);
  v.setUint16(54, 0, true);
  v.setUint16(56, 0, true);
  v.setUint16(58, SHDR_SIZE, true);
  v.setUint16(60, sections.length, true);
  v.setUint16(62, file.shstrndx, true);
  for (const s of order) out.set(s.data, offsets.get(s.index)!);
  sections.forEach((s, i) => {
    const h = shoff + i * SHDR_SIZE;
    const hd = s.header;
    v.setUint32(h, hd.nameOffset, true);
    v.setUint32(h + 4, hd.type, true);
    v.setBigUint64(h + 8, hd.flags, true);
    v.setBigUint64(h + 16, hd.addr, true);
    const offset = hd.type === SHT.NULL ? 0 : offsets.get(i)!;
    v.setBigUint64(h + 24, BigInt(offset), true);
    v.setBigUint64(h + 32, BigInt(hd.type === SHT.NOBITS ? (s.nobitsSize ?? 0) : s.data.length), true);
    v.setUint32(h + 40, hd.link, true);
    v.setUint32(h + 44, hd.info, true);
    v.setBigUint64(h + 48, BigInt(hd.addralign), true);
    v.setBigUint64(h + 56, BigInt(hd.entsize), true);
  });
  return out;
}
