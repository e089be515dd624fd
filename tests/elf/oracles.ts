/**
 * What the real tools say about an object, computed when a test runs and projected onto plain
 * data the readers' output can be compared with. Nothing here is typed in by hand: each function
 * runs llvm-readelf, llvm-objdump or bpftool and parses their output.
 */
import { tool } from "../support/bpf-objects";

export interface BpftoolType {
  id: number;
  kind: string;
  name: string;
  [field: string]: unknown;
}

/** `bpftool -j btf dump file PATH`: every type, as bpftool prints it. */
export function bpftoolBtf(path: string): BpftoolType[] {
  return (JSON.parse(tool("bpftool", ["-j", "btf", "dump", "file", path])) as { types: BpftoolType[] }).types;
}

export interface ReadelfSection {
  index: number;
  name: string;
  type: string;
  offset: number;
  size: number;
  entsize: number;
  flags: string;
  link: number;
  info: number;
  align: number;
}

/** `llvm-readelf --sections --wide`. */
export function readelfSections(path: string): ReadelfSection[] {
  const out: ReadelfSection[] = [];
  for (const line of tool("llvm-readelf", ["--sections", "--wide", path]).split("\n")) {
    // [Nr] Name Type Address Off Size ES Flg Lk Inf Al   (the name is empty for section 0)
    const m = /^\s*\[\s*(\d+)\]\s+(\S*)\s+([A-Z_0-9]+)\s+([0-9a-f]{16})\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([A-Za-z]*)\s+(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(line);
    if (!m) continue;
    out.push({
      index: Number(m[1]), name: m[2]!, type: m[3]!, offset: parseInt(m[5]!, 16), size: parseInt(m[6]!, 16),
      entsize: parseInt(m[7]!, 16), flags: m[8]!, link: Number(m[9]), info: Number(m[10]), align: Number(m[11]),
    });
  }
  return out;
}

export interface ReadelfSymbol {
  index: number;
  value: number;
  size: number;
  type: string;
  bind: string;
  visibility: string;
  shndx: string;
  name: string;
}

/** `llvm-readelf --symbols --wide` (the .symtab table). */
export function readelfSymbols(path: string): ReadelfSymbol[] {
  const out: ReadelfSymbol[] = [];
  for (const line of tool("llvm-readelf", ["--symbols", "--wide", path]).split("\n")) {
    const m = /^\s*(\d+):\s+([0-9a-f]{16})\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s?(.*)$/.exec(line);
    if (!m) continue;
    out.push({ index: Number(m[1]), value: parseInt(m[2]!, 16), size: Number(m[3]), type: m[4]!, bind: m[5]!, visibility: m[6]!, shndx: m[7]!, name: m[8]! });
  }
  return out;
}

export interface ReadelfRelocation {
  section: string;
  offset: number;
  type: string;
  symbolValue: number;
  symbolName: string;
}

/** `llvm-readelf --relocations --wide`: every entry of every .rel section. */
export function readelfRelocations(path: string): ReadelfRelocation[] {
  const out: ReadelfRelocation[] = [];
  let section = "";
  for (const line of tool("llvm-readelf", ["--relocations", "--wide", path]).split("\n")) {
    const s = /^Relocation section '([^']+)'/.exec(line);
    if (s) {
      section = s[1]!;
      continue;
    }
    const m = /^([0-9a-f]{16})\s+([0-9a-f]{16})\s+(R_BPF_\S+)\s+([0-9a-f]{16})\s+(.*)$/.exec(line);
    if (m) out.push({ section, offset: parseInt(m[1]!, 16), type: m[3]!, symbolValue: parseInt(m[4]!, 16), symbolName: m[5]!.trim() });
  }
  return out;
}

export interface ObjdumpInsn {
  section: string;
  /** Slot index within the section. */
  slot: number;
  /** The raw bytes of the instruction (16 for ld_imm64). */
  bytes: number[];
}

/** `llvm-objdump -d`: every instruction's slot and raw bytes, per section. */
export function objdumpInsns(path: string): ObjdumpInsn[] {
  const out: ObjdumpInsn[] = [];
  let section = "";
  for (const line of tool("llvm-objdump", ["-d", path]).split("\n")) {
    const s = /^Disassembly of section (.+):$/.exec(line);
    if (s) {
      section = s[1]!;
      continue;
    }
    const m = /^\s*(\d+):\t([0-9a-f]{2}(?: [0-9a-f]{2})*)\t/.exec(line);
    if (m) out.push({ section, slot: Number(m[1]), bytes: m[2]!.trim().split(" ").map((h) => parseInt(h, 16)) });
  }
  return out;
}

/** Index of the first differing byte, or -1 when the two are identical (a readable failure for big buffers). */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}
