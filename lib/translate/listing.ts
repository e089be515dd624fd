/**
 * The translated program as text: one instruction per line in the kernel verifier log's form
 * (`N: (op) text`, N = slot index, an ld_imm64 on one line), followed by an aligned provenance
 * column: `; cbpf 3: ldh [12]`, `; prologue`, `; guard` or `; epilogue`.
 */
import { describeInsn, type CbpfInsn } from "../cbpf";
import { formatRawAt, OP_LD_IMM64 } from "../ebpf";
import type { Provenance, TranslateResult } from "./types";

export interface ListingLine {
  readonly slot: number;
  /** `N: (op) text`. */
  readonly text: string;
  readonly provenance: Provenance;
  /** `cbpf 3: ldh [12]`, `prologue`, `guard` or `epilogue`. */
  readonly comment: string;
}

export function provenanceComment(p: Provenance, prog: readonly CbpfInsn[]): string {
  if (p.origin !== "cbpf") return p.origin;
  const insn = prog[p.index];
  return insn === undefined ? `cbpf ${p.index}` : `cbpf ${p.index}: ${describeInsn(insn, p.index)}`;
}

export function listingLines(result: TranslateResult, prog: readonly CbpfInsn[]): ListingLine[] {
  const raw = result.program.raw;
  const lines: ListingLine[] = [];
  const slots = result.mode === "whole" ? raw.length : raw.length - 1; // body: drop the stand-in exit
  for (let slot = 0; slot < slots; slot++) {
    const insn = raw[slot]!;
    const provenance = result.provenance[slot]!;
    lines.push({ slot, text: `${slot}: ${formatRawAt(raw, slot)}`, provenance, comment: provenanceComment(provenance, prog) });
    if (insn.code === OP_LD_IMM64) slot++;
  }
  return lines;
}

/** The whole listing, one line per instruction, each ending in a newline. */
export function formatListing(result: TranslateResult, prog: readonly CbpfInsn[]): string {
  const lines = listingLines(result, prog);
  const width = Math.max(0, ...lines.map((l) => l.text.length));
  return lines.map((l) => `${l.text.padEnd(width)}  ; ${l.comment}\n`).join("");
}
