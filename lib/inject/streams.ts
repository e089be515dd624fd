/**
 * An object's program sections as streams for the diff: lib/ebpf's kernel-style text without the
 * `(op)` prefix, and each jump's or call's target as "section:slot" (written into the text in
 * place of `pc±N` too), so two streams compare by where control goes rather than by offsets.
 */
import { formatInsn } from "../ebpf";
import type { BpfObject } from "../elf";
import { relocationsBySlot, targetOf } from "./calls";
import type { Stream, StreamInsn } from "./types";

/** Streams of every program section; `cbpfOf(sectionIndex, slot)` tags spliced instructions. */
export function objectStreams(obj: BpfObject, cbpfOf?: (sectionIndex: number, slot: number) => number | null | undefined): Stream[] {
  return obj.programs.map((p) => {
    const rels = relocationsBySlot(p);
    const nameOf = (i: number) => obj.programs.find((q) => q.sectionIndex === i)?.name ?? `#${i}`;
    const insns = p.insns.map((d): StreamInsn => {
      const rel = rels.get(d.index);
      const t = targetOf(obj, p, d, rel);
      const target = t ? `${nameOf(t.sectionIndex)}:${t.slot}` : undefined;
      let text = formatInsn(d).replace(/^\([0-9a-f]{2}\) /, "");
      if (target) text = text.replace(/\bpc[+-]\d+$/, target);
      const cbpf = cbpfOf?.(p.sectionIndex, d.index);
      const sym = rel ? obj.symbols.symbols[rel.symbol]?.name : undefined;
      return {
        slot: d.index,
        text,
        ...(target ? { target } : {}),
        ...(cbpf !== undefined ? { cbpf } : {}),
        ...(sym ? { reloc: sym } : {}),
      };
    });
    return { section: p.name, sectionIndex: p.sectionIndex, insns };
  });
}
