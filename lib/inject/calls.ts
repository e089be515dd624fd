/**
 * Where each jump, call and function pointer of an object goes, as (section, slot): the one
 * reading of targets the stub checks, the call graph, the stack estimate and the streams share.
 *
 * Unrelocated branches and pseudo-calls are pc-relative (slot + 1 + offset). A relocated
 * pseudo-call (R_BPF_64_32, how clang calls a function of another section) goes to
 * `symbol + (imm + 1)` slots in the symbol's section, as libbpf reads it; a relocated
 * function-pointer ld_imm64 (R_BPF_64_64) to `symbol + imm` bytes.
 */
import { branchField, type DecodedInsn } from "../ebpf";
import { BPF_CALL, BPF_JMP, BPF_PSEUDO_CALL, OP_LD_IMM64 } from "../ebpf/opcodes";
import type { BpfFunction, BpfObject, ProgramSection, Relocation } from "../elf";

export interface InsnTarget {
  readonly sectionIndex: number;
  readonly slot: number;
  readonly kind: "jump" | "call" | "func-pointer";
}

export const isPseudoCall = (d: { code: number; src: number }): boolean => d.code === (BPF_JMP | BPF_CALL) && d.src === BPF_PSEUDO_CALL;

export const relocationsBySlot = (p: ProgramSection): Map<number, Relocation> => new Map(p.relocations.map((r) => [Number(r.offset / 8n), r]));

/** The target of one instruction of `p`, or null when it has none (or one this reading cannot place). */
export function targetOf(obj: BpfObject, p: ProgramSection, d: DecodedInsn, rel: Relocation | undefined): InsnTarget | null {
  const kind = isPseudoCall(d) ? "call" : d.code === OP_LD_IMM64 ? "func-pointer" : "jump";
  if (rel) {
    const sym = obj.symbols.symbols[rel.symbol];
    if (!sym || sym.section.kind !== "section" || !obj.programs.some((q) => q.sectionIndex === (sym.section as { index: number }).index)) return null;
    const base = Number(sym.value / 8n);
    if (rel.type === "R_BPF_64_32" && kind === "call") return { sectionIndex: sym.section.index, slot: base + d.imm + 1, kind };
    if (rel.type === "R_BPF_64_64" && kind === "func-pointer" && d.imm % 8 === 0) return { sectionIndex: sym.section.index, slot: base + d.imm / 8, kind };
    return null;
  }
  const field = branchField(d);
  if (field === null) return null;
  return { sectionIndex: p.sectionIndex, slot: d.index + 1 + (field === "off" ? d.off : d.imm), kind };
}

/** The function of `p` holding slot `slot`, if any. */
export const functionAt = (p: ProgramSection, slot: number): BpfFunction | undefined =>
  p.functions.find((f) => slot >= f.start && slot < f.start + Math.max(f.slots, 1));

export interface CallEdge {
  readonly from: { readonly sectionIndex: number; readonly fn: BpfFunction | undefined; readonly slot: number };
  readonly to: { readonly sectionIndex: number; readonly slot: number };
}

/** Every pseudo-call of the object. */
export function callEdges(obj: BpfObject): CallEdge[] {
  const out: CallEdge[] = [];
  for (const p of obj.programs) {
    const rels = relocationsBySlot(p);
    for (const d of p.insns) {
      if (!isPseudoCall(d)) continue;
      const t = targetOf(obj, p, d, rels.get(d.index));
      if (t) out.push({ from: { sectionIndex: p.sectionIndex, fn: functionAt(p, d.index), slot: d.index }, to: { sectionIndex: t.sectionIndex, slot: t.slot } });
    }
  }
  return out;
}

/** A function's key in the call graph. */
export const fnKey = (sectionIndex: number, start: number): string => `${sectionIndex}:${start}`;

/**
 * The program sections from which a call chain reaches the function at (sectionIndex, start):
 * libbpf loads each non-.text program section as a program and appends the .text functions it
 * calls, so those are the contexts the stub runs in.
 */
export function entrySectionsReaching(obj: BpfObject, sectionIndex: number, start: number): Set<number> {
  const edges = callEdges(obj);
  const entries = new Set<number>();
  const seen = new Set<string>();
  const stack: [number, number][] = [[sectionIndex, start]];
  while (stack.length > 0) {
    const [s, f] = stack.pop()!;
    const key = fnKey(s, f);
    if (seen.has(key)) continue;
    seen.add(key);
    for (const e of edges) {
      if (e.to.sectionIndex !== s || e.to.slot !== f) continue;
      const p = obj.programs.find((q) => q.sectionIndex === e.from.sectionIndex)!;
      if (p.name !== ".text") entries.add(p.sectionIndex);
      else if (e.from.fn) stack.push([p.sectionIndex, e.from.fn.start]);
    }
  }
  return entries;
}
