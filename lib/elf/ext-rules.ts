/**
 * The kernel's rules for func_info and line_info (kernel/bpf/verifier.c, check_btf_func and
 * check_btf_line), checked per ELF program section before anything is loaded, so a bad edit is a
 * message here rather than an EINVAL from BPF_PROG_LOAD:
 * - func_info: offsets strictly increasing, each the start of a function (a FUNC symbol), every
 *   function with one, and its type a BTF FUNC of the function's name ("func_info BTF section
 *   doesn't match subprog layout");
 * - line_info: offsets strictly increasing, each an instruction start inside the section and never
 *   the second slot of an ld_imm64 ("Invalid insn code at line_info"), and one at every function
 *   start ("missing bpf_line_info for func#").
 * libbpf appends the .text functions a program calls to it; a section that obeys these rules
 * keeps obeying them after that, because offsets move with their function.
 */
import { extSectionName } from "./btf-ext";
import type { BpfObject } from "./object";

export type ExtRule = "func-order" | "func-at-start" | "func-missing" | "func-type" | "line-order" | "line-not-insn" | "line-missing";

export interface ExtProblem {
  readonly rule: ExtRule;
  readonly section: string;
  /** Instruction slot the problem is at. */
  readonly slot: number;
  readonly message: string;
}

export function extInfoProblems(obj: BpfObject): ExtProblem[] {
  const out: ExtProblem[] = [];
  if (!obj.btfExt || !obj.btf) return out;
  const btf = obj.btf;
  for (const p of obj.programs) {
    const problem = (rule: ExtRule, slot: number, message: string) => out.push({ rule, section: p.name, slot, message: `${p.name}: ${message}` });
    const funcBlock = obj.btfExt.funcInfo.sections.find((b) => extSectionName(btf, b) === p.name);
    const lineBlock = obj.btfExt.lineInfo.sections.find((b) => extSectionName(btf, b) === p.name);
    const starts = new Map(p.functions.map((f) => [f.start, f]));
    const insnStarts = new Set(p.insns.map((d) => d.index));
    const slots = p.insns.reduce((n, d) => n + d.slots, 0);

    let prev = -1;
    const funcAt = new Set<number>();
    for (const { record } of funcBlock?.records ?? []) {
      const slot = record.insnOff / 8;
      if (slot <= prev) problem("func-order", slot, `func_info at slot ${slot} does not come after slot ${prev}`);
      prev = slot;
      const fn = starts.get(slot);
      if (!fn) {
        problem("func-at-start", slot, `func_info at slot ${slot} is not the start of a function`);
        continue;
      }
      funcAt.add(slot);
      const t = btf.typeOf(record.typeId, "FUNC");
      if (!t || t.name !== fn.name) problem("func-type", slot, `func_info for ${fn.name} names BTF type [${record.typeId}], not FUNC '${fn.name}'`);
    }
    for (const f of p.functions) if (!funcAt.has(f.start)) problem("func-missing", f.start, `function ${f.name} (slot ${f.start}) has no func_info`);

    prev = -1;
    const lineAt = new Set<number>();
    for (const { record } of lineBlock?.records ?? []) {
      const slot = record.insnOff / 8;
      if (slot <= prev) problem("line-order", slot, `line_info at slot ${slot} does not come after slot ${prev}`);
      prev = slot;
      if (!Number.isInteger(slot) || slot >= slots || !insnStarts.has(slot)) {
        problem("line-not-insn", slot, `line_info at slot ${slot} is not an instruction start (the second half of an ld_imm64, or past the end)`);
      }
      lineAt.add(slot);
    }
    for (const f of p.functions) if (!lineAt.has(f.start)) problem("line-missing", f.start, `function ${f.name} (slot ${f.start}) has no line_info at its first instruction`);
  }
  return out;
}
