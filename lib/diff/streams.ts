/**
 * Streams from the programs the page can show, in the one text form the diff compares: the
 * kernel disassembler's text without the `N: (op)` prefix, a pc-relative target written as the
 * label `L<slot>` at the end and given as `target` ("section:slot").
 *
 * - raw instructions (a section of an object, anything assembled): `streamFromRaw`;
 * - a translation (the eBPF listing for a target, optimizer on or off): `streamFromTranslation`,
 *   each instruction carrying the cBPF instruction it came from;
 * - the kernel's xlated dump of a loaded program (the agent's `inspect` result, lines as
 *   server/kernel/inspect.ts writes them): `streamFromXlated`. Diffed against what was loaded it
 *   shows the verifier's rewrites.
 * Both the raw and the xlated form go through `labelTarget`, so an instruction the kernel left
 * alone reads the same on both sides.
 */
import { PlaygroundError } from "../errors";
import { branchField, decodeRaw, formatInsn, type RawInsn } from "../ebpf";
import type { Stream, StreamInsn } from "../inject/types";
import type { TranslateResult } from "../translate/types";

export interface StreamOptions {
  /** Section name (default "prog") and index (default 0) the targets are written against. */
  readonly section?: string;
  readonly sectionIndex?: number;
  /** Per slot: the cBPF instruction an instruction came from (a translation's `cbpfOfSlot`). */
  readonly cbpfOfSlot?: readonly (number | null)[];
  /** Only the first `slots` slots (a body-mode translation ends in a stand-in exit). */
  readonly slots?: number;
}

const PC_REL = /\bpc([+-]\d+)$/;

/**
 * Rewrites a trailing `pc±N` of the instruction at `slot` to the label of the slot it reaches.
 * Returns the text and the target slot, or null when the text has no pc-relative target.
 */
export function labelTarget(text: string, slot: number): { text: string; slot: number } | null {
  const m = PC_REL.exec(text);
  if (!m) return null;
  const to = slot + 1 + Number(m[1]);
  return { text: `${text.slice(0, m.index)}L${to}`, slot: to };
}

/** `(b7) r0 = 0` → `r0 = 0`. */
const dropOpcode = (text: string): string => text.replace(/^\([0-9a-f]{2}\) /, "");

export function streamFromRaw(raw: readonly RawInsn[], opts: StreamOptions = {}): Stream {
  const section = opts.section ?? "prog";
  const limit = opts.slots ?? raw.length;
  const insns: StreamInsn[] = [];
  for (const d of decodeRaw(raw.slice(0, limit))) {
    let text = dropOpcode(formatInsn(d));
    let target: string | undefined;
    const field = branchField(d);
    if (field !== null) {
      const labelled = labelTarget(text, d.index);
      if (labelled) {
        text = labelled.text;
        target = `${section}:${labelled.slot}`;
      } else if (d.slots === 2) {
        // A function pointer (ld_imm64 src=BPF_PSEUDO_FUNC) prints its imm; label it like a call.
        const to = d.index + 1 + d.imm;
        text = `${text.replace(/ 0x[0-9a-f]+$/, "")} L${to}`;
        target = `${section}:${to}`;
      }
    }
    const cbpf = opts.cbpfOfSlot?.[d.index];
    insns.push({ slot: d.index, text, ...(target === undefined ? {} : { target }), ...(opts.cbpfOfSlot ? { cbpf: cbpf ?? null } : {}) });
  }
  return { section, sectionIndex: opts.sectionIndex ?? 0, insns };
}

/** The translated program as the eBPF listing shows it (a body drops its stand-in exit). */
export function streamFromTranslation(result: TranslateResult, section = "prog"): Stream {
  const raw = result.program.raw;
  return streamFromRaw(raw, { section, cbpfOfSlot: result.cbpfOfSlot, slots: result.mode === "whole" ? raw.length : raw.length - 1 });
}

const XLATED_LINE = /^(\d+): \(([0-9a-f]{2})\) (.*)$/;

/**
 * The kernel's xlated dump, one `N: (op) text` line per instruction (the agent's inspect result).
 * A line of another shape is an error at that line: a dump the agent could not read says so in
 * its text instead of instructions.
 */
export function streamFromXlated(lines: readonly string[], section = "xlated"): Stream {
  const insns: StreamInsn[] = [];
  lines.forEach((line, i) => {
    const m = XLATED_LINE.exec(line.trim());
    if (!m) {
      throw new PlaygroundError("diff/xlated", `xlated line ${i + 1} is not "N: (op) text": ${JSON.stringify(line.slice(0, 80))}`, {
        kind: "text",
        line: i + 1,
        column: 1,
      });
    }
    const slot = Number(m[1]);
    const labelled = labelTarget(m[3]!, slot);
    insns.push(labelled ? { slot, text: labelled.text, target: `${section}:${labelled.slot}` } : { slot, text: m[3]! });
  });
  return { section, sectionIndex: 0, insns };
}

/**
 * Several sections as one program, in the given order, slots re-based and targets rewritten
 * into the joined stream: what a loader hands the kernel when it appends the called subprograms
 * (.text) to an entry program, so it can be diffed against that program's xlated dump. A target
 * into a section left out stays as it was (it compares as unresolved).
 */
export function concatStreams(streams: readonly Stream[], section = "loaded"): Stream {
  const base = new Map<string, number>();
  let at = 0;
  for (const s of streams) {
    base.set(s.section, at);
    base.set(String(s.sectionIndex), at);
    // A section ends in an exit or a jump (the verifier allows nothing else), one slot wide.
    const last = s.insns[s.insns.length - 1];
    at += last === undefined ? 0 : last.slot + 1;
  }
  const insns: StreamInsn[] = [];
  for (const s of streams) {
    const b = base.get(s.section)!;
    for (const x of s.insns) {
      let target = x.target;
      let text = x.text;
      if (target !== undefined) {
        const colon = target.lastIndexOf(":");
        const tb = base.get(target.slice(0, colon));
        if (tb !== undefined) {
          const slot = tb + Number(target.slice(colon + 1));
          target = `${section}:${slot}`;
          const sp = text.lastIndexOf(" ");
          text = `${sp < 0 ? "" : text.slice(0, sp + 1)}L${slot}`;
        }
      }
      insns.push({ ...x, slot: b + x.slot, text, ...(target === undefined ? {} : { target }) });
    }
  }
  return { section, sectionIndex: 0, insns };
}
