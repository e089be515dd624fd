/**
 * Replacing a range of instructions in one program section, with every table that names an
 * instruction moved to match: the primitive a splice is built on.
 *
 * `replaceInstructions(obj, section, start, count, replacement)` puts `replacement` (raw slots,
 * already assembled, self-contained: its own jumps stay inside it) where slots
 * [start, start + count) were. With count 0 it inserts before the instruction at `start`, which is
 * pwru's splice (the filter runs first and falls through into the stub's old body).
 *
 * Two maps from old slots to new ones, because "where control arriving at slot s now arrives" and
 * "where the instruction that was at s now sits" differ at `start` when the range is empty:
 *   entry(s): s < start: s;  s = start: start;  inside the range: gone;  s ≥ end: s + delta
 *   home(s):  s < start: s;  inside [start, end): gone;  s ≥ end: s + delta
 * Branch and call targets, function starts (symbols, func_info) and line_info at `start` follow
 * entry(); instruction sites (relocations, line_info, CO-RE records) follow home(). A line_info
 * record at `start` stays there, so a function that started at `start` still has its first line
 * (the kernel's "missing bpf_line_info for func#"); other records inside the range are dropped.
 *
 * What moves:
 * - ordinary jumps of the section (offset re-computed, range-checked: an s16 overflow is an error);
 * - bpf-to-bpf calls: unrelocated ones are pc-relative; relocated ones (R_BPF_64_32, from any
 *   program section) address `symbol + (imm + 1) slots` in the symbol's section, as libbpf reads
 *   them; subprogram addresses (R_BPF_64_64 against the edited section) are byte offsets;
 * - symbols of the section (value, and size of the function the range lies in);
 * - the section's .rel entries; .BTF.ext func_info, line_info and CO-RE records;
 * - .rel.BTF.ext, which clang writes as one R_BPF_64_NODYLD32 per .BTF.ext record against the
 *   record's section symbol: when the original matches that pattern it is regenerated, otherwise
 *   the edit is refused rather than leaving it stale.
 * What does not: DWARF (.debug_*) keeps describing the original code; libbpf and the kernel do
 * not read it.
 */
import { branchField, decodeRaw, type DecodedInsn, type RawInsn } from "../ebpf";
import { BPF_CALL, BPF_JMP, BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC, OP_LD_IMM64 } from "../ebpf/opcodes";
import { PlaygroundError } from "../errors";
import { SHT } from "./constants";
import type { BtfExt, CoreRelo, ExtInfo, ExtRecord, LineInfo } from "./btf-ext";
import type { ElfSection } from "./file";
import type { BpfObject, ProgramSection } from "./object";
import type { Relocation, RelocationSection } from "./relocations";
import type { ElfSymbol } from "./symbols";

const CODE = "elf/edit";
const fail = (msg: string, index?: number): PlaygroundError =>
  new PlaygroundError(CODE, msg, index === undefined ? { kind: "none" } : { kind: "insn", index });

interface SlotMaps {
  readonly start: number;
  readonly end: number;
  readonly delta: number;
  entry(s: number): number | null;
  home(s: number): number | null;
  /** A function or range end (one past its last slot). */
  endOf(e: number): number | null;
}

function slotMaps(start: number, count: number, added: number): SlotMaps {
  const end = start + count;
  const delta = added - count;
  return {
    start, end, delta,
    entry: (s) => (s < start ? s : s === start ? start : s < end ? null : s + delta),
    home: (s) => (s < start ? s : s < end ? null : s + delta),
    endOf: (e) => (e <= start ? e : e >= end ? e + delta : null),
  };
}

const isPseudoCall = (d: { code: number; src: number }): boolean => d.code === (BPF_JMP | BPF_CALL) && d.src === BPF_PSEUDO_CALL;

export interface ReplaceOptions {
  /** Relocations for the replacement, with offsets counted from its first byte. */
  readonly relocations?: readonly Relocation[];
  /**
   * line_info for the replacement, insnOff counted from its first byte. One at 0 takes the place
   * of the record the range start had; without one there, that record stays.
   */
  readonly lineInfo?: readonly ExtRecord<LineInfo>[];
  /** CO-RE relocations for the replacement, insnOff counted from its first byte. */
  readonly coreRelo?: readonly ExtRecord<CoreRelo>[];
}

/** The object with slots [start, start + count) of program section `sectionIndex` replaced. */
export function replaceInstructions(
  obj: BpfObject,
  sectionIndex: number,
  start: number,
  count: number,
  replacement: readonly RawInsn[],
  options: ReplaceOptions = {},
): BpfObject {
  const prog = obj.programs.find((p) => p.sectionIndex === sectionIndex);
  if (!prog) throw fail(`section ${sectionIndex} is not a program section`);
  const slots = prog.insns.reduce((n, d) => n + d.slots, 0);
  const starts = new Set(prog.insns.map((d) => d.index));
  if (!(Number.isInteger(start) && Number.isInteger(count) && start >= 0 && count >= 0 && start + count <= slots)) {
    throw fail(`range ${start}..${start + count} is not inside ${prog.name} (${slots} slots)`);
  }
  if (!starts.has(start) && start !== slots) throw fail(`slot ${start} of ${prog.name} is the second half of an ld_imm64`, start);
  if (!starts.has(start + count) && start + count !== slots) throw fail(`slot ${start + count} of ${prog.name} is the second half of an ld_imm64`, start + count);
  const added = decodeRaw(replacement).reduce((n, d) => n + d.slots, 0); // validates ld_imm64 pairs
  const m = slotMaps(start, count, added);
  const symbols = obj.symbols.symbols;
  const relocOf = (p: ProgramSection) => new Map(p.relocations.map((r) => [Number(r.offset / 8n), r]));

  // 1. Branches and calls in every program section, and the edited section's own layout.
  const programs = obj.programs.map((p): ProgramSection => {
    const edited = p.sectionIndex === sectionIndex;
    const relocs = relocOf(p);
    const keep = edited ? p.insns.filter((d) => m.home(d.index) !== null) : p.insns;
    const fixed = keep.map((d): DecodedInsn => {
      const site = edited ? m.home(d.index)! : d.index;
      const rel = relocs.get(d.index);
      if (rel) return fixRelocated(d, site, rel, symbols, sectionIndex, m);
      if (!edited) return { ...d, index: site };
      const field = branchField(d);
      if (field === null) return { ...d, index: site };
      const rel0 = field === "off" ? d.off : d.imm;
      const target = d.index + 1 + rel0;
      const to = m.entry(target);
      if (to === null) throw fail(`the ${describeBranch(d)} at slot ${d.index} of ${p.name} goes to slot ${target}, inside the replaced range`, d.index);
      const now = to - site - 1;
      if (field === "off" && (now < -0x8000 || now > 0x7fff)) throw fail(`the jump at slot ${d.index} of ${p.name} would need offset ${now}, which does not fit 16 bits`, d.index);
      return field === "off" ? { ...d, index: site, off: now } : { ...d, index: site, imm: now | 0 };
    });
    if (!edited) return { ...p, insns: fixed };
    const before = fixed.filter((d) => d.index < start);
    const after = fixed.filter((d) => d.index >= start);
    const inserted = decodeRaw(replacement).map((d) => ({ ...d, index: d.index + start }));
    const own = p.relocations
      .map((r) => ({ r, at: m.home(Number(r.offset / 8n)) }))
      .filter((x) => x.at !== null)
      .map(({ r, at }) => ({ ...r, offset: BigInt(at!) * 8n + (r.offset % 8n) }));
    const extra = (options.relocations ?? []).map((r) => ({ ...r, offset: r.offset + BigInt(start) * 8n }));
    const relocations = [...own, ...extra].sort((a, b) => (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
    const functions = p.functions.map((f) => {
      const s = m.entry(f.start);
      const e = m.endOf(f.start + f.slots);
      if (s === null || e === null) throw fail(`function ${f.name} begins or ends inside the replaced range`);
      return { ...f, start: s, slots: e - s };
    });
    return { ...p, insns: [...before, ...inserted, ...after], relocations, functions };
  });

  // 2. Symbols of the edited section.
  const newSymbols = symbols.map((s): ElfSymbol => {
    if (s.section.kind !== "section" || s.section.index !== sectionIndex || s.type === "SECTION") return s;
    const v = Number(s.value / 8n);
    const e = Number((s.value + s.size) / 8n);
    // A local label (NOTYPE) inside the range keeps its distance from the range start, clamped to
    // the new code: it names nothing meaningful any more, and libbpf and the kernel ignore it.
    const inside = v > m.start && v < m.end;
    const nv = inside && s.type === "NOTYPE" ? m.start + Math.min(v - m.start, m.end - m.start + m.delta) : m.entry(v);
    const ne = s.size === 0n ? nv : m.endOf(e);
    if (nv === null || ne === null) throw fail(`symbol ${s.name} (slot ${v}) lies inside the replaced range`);
    return { ...s, value: BigInt(nv) * 8n, size: s.size === 0n ? 0n : BigInt(ne - nv) * 8n };
  });

  // 3. .BTF.ext.
  const secName = obj.elf.sections[sectionIndex]!.header.name;
  const btfExt = obj.btfExt && obj.btf ? moveExt(obj.btfExt, (off) => obj.btf!.string(off) === secName, m, options.lineInfo ?? [], options.coreRelo ?? []) : obj.btfExt;
  if (options.lineInfo?.length && !btfExt) throw fail("line_info for the replacement, but the object has no .BTF.ext");

  // 4. Relocation sections: the edited program's list lives in `programs`; .rel.BTF.ext is regenerated.
  const relocations = obj.relocations.map((r): RelocationSection => {
    const target = obj.elf.sections[r.target]!;
    if (target.header.name !== ".BTF.ext" || !obj.btfExt || !btfExt) return r;
    const derived = extRelocations(obj, obj.btfExt);
    if (!sameRelocations(derived, r.entries)) throw fail(".rel.BTF.ext does not follow clang's one-relocation-per-record pattern; refusing to leave it stale");
    return { ...r, entries: extRelocations(obj, btfExt) };
  });

  return { ...obj, programs, symbols: { ...obj.symbols, symbols: newSymbols }, btfExt, relocations };
}

function describeBranch(d: DecodedInsn): string {
  return isPseudoCall(d) ? "call" : d.code === OP_LD_IMM64 ? "function pointer" : "jump";
}

/** A relocated instruction: its target is absolute within the relocation symbol's section. */
function fixRelocated(d: DecodedInsn, site: number, rel: Relocation, symbols: readonly ElfSymbol[], edited: number, m: SlotMaps): DecodedInsn {
  const sym = symbols[rel.symbol]!;
  const inEdited = sym.section.kind === "section" && sym.section.index === edited;
  if (!inEdited) return { ...d, index: site };
  const base = Number(sym.value / 8n);
  const newBase = sym.type === "SECTION" ? 0 : m.entry(base);
  if (newBase === null) throw fail(`symbol ${sym.name} lies inside the replaced range`, d.index);
  if (rel.type === "R_BPF_64_32" && isPseudoCall(d)) {
    const to = m.entry(base + d.imm + 1);
    if (to === null) throw fail(`the call at slot ${d.index} goes into the replaced range`, d.index);
    return { ...d, index: site, imm: to - newBase - 1 };
  }
  if (rel.type === "R_BPF_64_64" && d.code === OP_LD_IMM64 && (d.src === 0 || d.src === BPF_PSEUDO_FUNC)) {
    // A subprogram address: imm is a byte offset from the symbol.
    if (d.imm % 8 !== 0) throw fail(`the function pointer at slot ${d.index} is not at an instruction boundary`, d.index);
    const to = m.entry(base + d.imm / 8);
    if (to === null) throw fail(`the function pointer at slot ${d.index} points into the replaced range`, d.index);
    return { ...d, index: site, imm: (to - newBase) * 8 };
  }
  return { ...d, index: site };
}

function moveExt(
  ext: BtfExt,
  isSection: (secNameOff: number) => boolean,
  m: SlotMaps,
  added: readonly ExtRecord<LineInfo>[],
  addedCore: readonly ExtRecord<CoreRelo>[],
): BtfExt {
  const move = <R extends { insnOff: number }>(info: ExtInfo<R>, map: (slot: number, r: R) => number | null): ExtInfo<R> => ({
    ...info,
    sections: info.sections.map((block) => {
      if (!isSection(block.secNameOff)) return block;
      const records: ExtRecord<R>[] = [];
      for (const rec of block.records) {
        const at = map(rec.record.insnOff / 8, rec.record);
        if (at !== null) records.push({ ...rec, record: { ...rec.record, insnOff: at * 8 } });
      }
      return { ...block, records };
    }),
  });
  // func_info marks function starts; line_info at `start` stays with the entry; others follow their instruction.
  const funcInfo = move(ext.funcInfo, (s) => m.entry(s));
  const replacesStart = added.some((r) => r.record.insnOff === 0);
  const withAdded = <R extends { insnOff: number }>(info: ExtInfo<R>, fresh: readonly ExtRecord<R>[], what: string): ExtInfo<R> => {
    if (fresh.length === 0) return info;
    if (!info.sections.some((b) => isSection(b.secNameOff))) throw fail(`${what} for the replacement, but its section has no ${what} block`);
    const shifted = fresh.map((r) => {
      if (r.record.insnOff % 8 !== 0 || r.record.insnOff < 0 || r.record.insnOff / 8 >= m.end - m.start + m.delta) throw fail(`${what} at byte ${r.record.insnOff} is not an instruction of the replacement`);
      return { ...r, record: { ...r.record, insnOff: r.record.insnOff + m.start * 8 } };
    });
    return {
      ...info,
      sections: info.sections.map((block) =>
        isSection(block.secNameOff) ? { ...block, records: [...block.records, ...shifted].sort((a, b) => a.record.insnOff - b.record.insnOff) } : block,
      ),
    };
  };
  const lineInfo = withAdded(move(ext.lineInfo, (s) => (s === m.start ? (replacesStart ? null : m.start) : m.home(s))), added, "line_info");
  const coreRelo = ext.coreRelo ? withAdded(move(ext.coreRelo, (s) => m.home(s)), addedCore, "CO-RE relocation") : undefined;
  if (addedCore.length > 0 && !coreRelo) throw fail("CO-RE relocations for the replacement, but the object has no CO-RE block");
  for (const block of funcInfo.sections) {
    if (!isSection(block.secNameOff)) continue;
    const orig = ext.funcInfo.sections.find((b) => b.secNameOff === block.secNameOff)!;
    if (orig.records.length !== block.records.length) throw fail("a func_info record lies inside the replaced range (a function would be removed)");
  }
  return { ...ext, funcInfo, lineInfo, ...(coreRelo ? { coreRelo } : {}) };
}

/** The .rel.BTF.ext clang writes: per func_info, line_info and CO-RE record, its insn_off against the section's symbol. */
export function extRelocations(obj: BpfObject, ext: BtfExt): Relocation[] {
  const out: Relocation[] = [];
  const sectionSymbol = (name: string): number => {
    const sec = obj.elf.sections.find((s: ElfSection) => s.header.name === name && s.header.type === SHT.PROGBITS);
    const sym = sec && obj.symbols.symbols.find((s) => s.type === "SECTION" && s.section.kind === "section" && s.section.index === sec.index);
    if (!sym) throw fail(`.BTF.ext names section ${name}, which has no section symbol`);
    return sym.index;
  };
  let at = ext.hdrLen;
  for (const info of [ext.funcInfo, ext.lineInfo, ...(ext.coreRelo ? [ext.coreRelo] : [])] as ExtInfo<{ insnOff: number }>[]) {
    if (info.sections.length === 0) continue;
    at += 4;
    for (const block of info.sections) {
      at += 8;
      const symbol = sectionSymbol(obj.btf!.string(block.secNameOff));
      for (let i = 0; i < block.records.length; i++, at += info.recordSize) out.push({ offset: BigInt(at), symbol, type: "R_BPF_64_NODYLD32" });
    }
  }
  return out;
}

function sameRelocations(a: readonly Relocation[], b: readonly Relocation[]): boolean {
  return a.length === b.length && a.every((r, i) => r.offset === b[i]!.offset && r.symbol === b[i]!.symbol && r.type === b[i]!.type);
}

