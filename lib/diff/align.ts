/**
 * The aligned diff of two programs, section by section (objdiff's model of an instruction diff).
 *
 * Each instruction is compared through a key: its text, with a jump's or call's target replaced
 * by *where the target went*. A target on the left is mapped through the alignment to the right,
 * so a jump whose offset changed only because code moved around it has the same key on both
 * sides. The alignment and the keys depend on each other; the first pass aligns with targets
 * left out, each later pass recomputes the keys through the previous pass's alignment, until
 * nothing changes (two or three passes in practice).
 *
 * Matched pairs are "same" (identical text) or "moved" (same instruction and target, only the
 * encoded offset or immediate differs: a re-resolved call, a shifted jump, a helper whose id the
 * kernel replaced by an address). Inside each unmatched gap, deletions and insertions of the same
 * shape (same text with numbers blanked) pair up as "change"; the rest stay "delete"/"insert".
 */
import { PlaygroundError } from "../errors";
import type { Stream, StreamInsn } from "../inject/types";
import { alignSequences, internKeys, type Match } from "./sequence";

export type RowKind = "same" | "moved" | "insert" | "delete" | "change";

/** One row of the diff; `left`/`right` index the instruction lists (not slots). */
export interface DiffRow {
  readonly kind: RowKind;
  readonly left?: number;
  readonly right?: number;
}

/** A maximal run of rows that are neither same nor moved. */
export interface Hunk {
  /** "insert"/"delete" when every row is one; "change" otherwise. */
  readonly kind: "insert" | "delete" | "change";
  /** Rows [start, end). */
  readonly start: number;
  readonly end: number;
  /** Instructions of each side in the hunk: [start, start + count). */
  readonly left: { readonly start: number; readonly count: number };
  readonly right: { readonly start: number; readonly count: number };
}

export interface DiffSummary {
  readonly same: number;
  readonly moved: number;
  readonly insert: number;
  readonly delete: number;
  readonly change: number;
  readonly hunks: number;
}

export interface InsnDiff {
  readonly rows: readonly DiffRow[];
  readonly hunks: readonly Hunk[];
  readonly summary: DiffSummary;
  /** True when a gap was too different for the edit-distance bound and was left unmatched. */
  readonly capped: boolean;
}

export interface SectionDiff extends InsnDiff {
  readonly section: string;
  /** Index into the `left` / `right` stream lists (absent: the section exists on one side only). */
  readonly left?: number;
  readonly right?: number;
}

export interface StreamsDiff {
  readonly sections: readonly SectionDiff[];
  readonly summary: DiffSummary;
}

/** Text that says "this jumps or calls somewhere"; the somewhere is compared separately. */
const JUMP = /\bgoto|\bgotol|\bmay_goto/;

/**
 * The instruction without its target. By the Stream contract a target is written as a label at
 * the end of the text, so the last token goes. A helper call's `#id` goes too: the kernel's
 * xlated dump writes an address offset there for the same helper.
 */
export function baseKey(insn: StreamInsn): string {
  let t = insn.text.trim();
  if (insn.target !== undefined) {
    const sp = t.lastIndexOf(" ");
    t = sp < 0 ? "" : t.slice(0, sp);
  }
  t = t.replace(/^(call [A-Za-z_][A-Za-z0-9_]*)#-?\d+$/, "$1");
  // In an unlinked object a map load reads `r1 = 0x0 ll` for every map; its relocation says which.
  return insn.reloc !== undefined ? `${t} @${insn.reloc}` : t;
}

/**
 * The instruction's shape: its base key with immediates, offsets, access sizes and relocations
 * blanked (registers kept), so `r2 = *(u32 *)(r1 +0)` and the kernel's `r2 = *(u64 *)(r1 +0)`
 * pair up as a change.
 */
export function shapeKey(insn: StreamInsn): string {
  // Without the relocation: the kernel's dump has the map's id where the object had a relocation.
  return baseKey(insn)
    .replace(/ @\S+$/, "")
    .replace(/\b(0x[0-9a-fA-F]+|\d+)\b/g, "#")
    .replace(/\b([us])(8|16|32|64)\b/g, "$1#");
}

/** Calls (helpers, kfuncs, subprograms) and map references: the instructions patience fixes first. */
const isAnchorText = (key: string): boolean => key.startsWith("call") || key.includes(" @") || /\bmap\b|map\[/.test(key);

interface Loc {
  readonly stream: number;
  readonly index: number;
}

/** Resolves "section:slot" targets against one side's streams (section by name or index). */
class Side {
  readonly #bySection = new Map<string, number>();
  readonly #slots: Map<number, number>[];
  constructor(readonly streams: readonly Stream[]) {
    streams.forEach((s, i) => {
      if (!this.#bySection.has(s.section)) this.#bySection.set(s.section, i);
      if (!this.#bySection.has(String(s.sectionIndex))) this.#bySection.set(String(s.sectionIndex), i);
    });
    this.#slots = streams.map((s) => new Map(s.insns.map((insn, i) => [insn.slot, i])));
  }

  resolve(target: string): Loc | null {
    const colon = target.lastIndexOf(":");
    if (colon < 0) return null;
    const stream = this.#bySection.get(target.slice(0, colon));
    if (stream === undefined) return null;
    const index = this.#slots[stream]!.get(Number(target.slice(colon + 1)));
    return index === undefined ? null : { stream, index };
  }
}

/** Which stream on the right each left stream is diffed with: same section name, else same position. */
function pairStreams(left: readonly Stream[], right: readonly Stream[]): [number | undefined, number | undefined][] {
  const pairs: [number | undefined, number | undefined][] = [];
  const usedRight = new Set<number>();
  const rightByName = new Map<string, number>();
  right.forEach((s, i) => rightByName.has(s.section) || rightByName.set(s.section, i));
  const leftNames = new Set(left.map((s) => s.section));
  left.forEach((s, i) => {
    let r = rightByName.get(s.section);
    // Differently named on both sides (a listing against its kernel dump): pair by position.
    if (r === undefined && right[i] !== undefined && !leftNames.has(right[i]!.section)) r = i;
    if (r !== undefined && !usedRight.has(r)) {
      usedRight.add(r);
      pairs.push([i, r]);
    } else pairs.push([i, undefined]);
  });
  right.forEach((_, i) => usedRight.has(i) || pairs.push([undefined, i]));
  return pairs;
}

const MAX_PASSES = 4;

/** Diffs every section of `left` with its counterpart in `right`. */
export function diffStreams(left: readonly Stream[], right: readonly Stream[]): StreamsDiff {
  const L = new Side(left);
  const R = new Side(right);
  const pairs = pairStreams(left, right);
  // Per left stream: left index -> right index (in the paired stream), and the reverse.
  let l2r: (Int32Array | null)[] = left.map(() => null);
  let r2l: (Int32Array | null)[] = right.map(() => null);
  const rightOf = new Map<number, number>(pairs.filter((p) => p[0] !== undefined && p[1] !== undefined).map((p) => [p[0]!, p[1]!]));
  const leftOf = new Map<number, number>([...rightOf].map(([l, r]) => [r, l]));

  /** Where a left instruction went on the right, as a label; a call over deleted entry code goes to the next kept one. */
  const leftLabel = (insn: StreamInsn, pass: number): string => {
    if (pass === 0) return "→";
    const at = L.resolve(insn.target!);
    if (!at) return `→?${insn.target}`;
    const map = l2r[at.stream];
    const rs = rightOf.get(at.stream);
    if (!map || rs === undefined) return `→L${at.stream}:${at.index}`;
    let i = at.index;
    if (!JUMP.test(insn.text)) while (i < map.length && map[i]! < 0) i++;
    return i < map.length && map[i]! >= 0 ? `→${rs}:${map[i]}` : `→L${at.stream}:${at.index}`;
  };
  const rightLabel = (insn: StreamInsn, pass: number): string => {
    if (pass === 0) return "→";
    const at = R.resolve(insn.target!);
    if (!at) return `→?${insn.target}`;
    const map = r2l[at.stream];
    if (!map || !leftOf.has(at.stream)) return `→R${at.stream}:${at.index}`;
    let i = at.index;
    // A call whose target is code inserted at a function's entry still calls that function.
    if (!JUMP.test(insn.text)) while (i < map.length && map[i]! < 0) i++;
    return i < map.length && map[i]! >= 0 ? `→${at.stream}:${i}` : `→R${at.stream}:${at.index}`;
  };

  let matches = new Map<number, Match[]>();
  let capped = new Map<number, boolean>();
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const next = new Map<number, Match[]>();
    const nextCapped = new Map<number, boolean>();
    for (const [li, ri] of rightOf) {
      const a = left[li]!.insns.map((insn) => baseKey(insn) + (insn.target === undefined ? "" : leftLabel(insn, pass)));
      const b = right[ri]!.insns.map((insn) => baseKey(insn) + (insn.target === undefined ? "" : rightLabel(insn, pass)));
      const { a: ka, b: kb, keys } = internKeys(a, b);
      const r = alignSequences(ka, kb, { isAnchor: (k) => isAnchorText(keys[k]!) });
      next.set(li, r.matches);
      nextCapped.set(li, r.capped);
    }
    const stable = pass > 0 && [...next].every(([li, m]) => sameMatches(m, matches.get(li)!));
    matches = next;
    capped = nextCapped;
    // Targets map through every pair the rows will show, changes included: a jump to an
    // instruction the kernel rewrote (a map load, a context load) still goes to that instruction.
    const pairsOf = new Map<number, Match[]>();
    for (const [li, ri] of rightOf) {
      const rows = rowsOf(left[li]!.insns, right[ri]!.insns, matches.get(li)!, false).rows;
      pairsOf.set(li, rows.filter((r) => r.left !== undefined && r.right !== undefined).map((r) => [r.left!, r.right!] as const));
    }
    l2r = left.map((s, li) => {
      const m = pairsOf.get(li);
      if (!m) return null;
      const map = new Int32Array(s.insns.length).fill(-1);
      for (const [i, j] of m) map[i] = j;
      return map;
    });
    r2l = right.map((s, ri) => {
      const li = leftOf.get(ri);
      const m = li === undefined ? undefined : pairsOf.get(li);
      if (!m) return null;
      const map = new Int32Array(s.insns.length).fill(-1);
      for (const [i, j] of m) map[j] = i;
      return map;
    });
    if (stable) break;
  }

  const sections: SectionDiff[] = pairs.map(([li, ri]) => {
    const ls = li === undefined ? undefined : left[li]!;
    const rs = ri === undefined ? undefined : right[ri]!;
    const d = rowsOf(ls?.insns ?? [], rs?.insns ?? [], li === undefined ? [] : matches.get(li) ?? [], li !== undefined && (capped.get(li) ?? false));
    return { section: (ls ?? rs)!.section, ...(li === undefined ? {} : { left: li }), ...(ri === undefined ? {} : { right: ri }), ...d };
  });
  return { sections, summary: total(sections.map((s) => s.summary)) };
}

/** Diffs two instruction lists (one section each; targets as "section:slot" within it). */
export function diffInsns(left: readonly StreamInsn[], right: readonly StreamInsn[], section = "prog"): InsnDiff {
  const d = diffStreams([{ section, sectionIndex: 0, insns: left }], [{ section, sectionIndex: 0, insns: right }]).sections[0]!;
  return { rows: d.rows, hunks: d.hunks, summary: d.summary, capped: d.capped };
}

function sameMatches(a: readonly Match[], b: readonly Match[]): boolean {
  return a.length === b.length && a.every((m, i) => m[0] === b[i]![0] && m[1] === b[i]![1]);
}

/** Rows from the final matches; gaps are paired by shape into changes. */
function rowsOf(a: readonly StreamInsn[], b: readonly StreamInsn[], matches: readonly Match[], capped: boolean): InsnDiff {
  const rows: DiffRow[] = [];
  let i = 0;
  let j = 0;
  const gap = (iEnd: number, jEnd: number) => {
    if (i === iEnd && j === jEnd) return;
    const i0 = i;
    const j0 = j;
    const pairs = i === iEnd || j === jEnd ? [] : shapePairs(a.slice(i, iEnd), b.slice(j, jEnd));
    // The sentinel pair flushes what is left after the last change.
    for (const [pi, pj] of [...pairs, [iEnd - i0, jEnd - j0] as const]) {
      while (i < i0 + pi) rows.push({ kind: "delete", left: i++ });
      while (j < j0 + pj) rows.push({ kind: "insert", right: j++ });
      if (i < iEnd && j < jEnd) rows.push({ kind: "change", left: i++, right: j++ });
    }
  };
  for (const [mi, mj] of matches) {
    if (mi < i || mj < j) throw new PlaygroundError("diff/internal", `alignment not increasing at ${mi}, ${mj}`);
    gap(mi, mj);
    rows.push({ kind: a[mi]!.text === b[mj]!.text ? "same" : "moved", left: mi, right: mj });
    i = mi + 1;
    j = mj + 1;
  }
  gap(a.length, b.length);
  const hunks = hunksOf(rows);
  const count = (k: RowKind) => rows.reduce((n, r) => n + (r.kind === k ? 1 : 0), 0);
  return {
    rows,
    hunks,
    summary: { same: count("same"), moved: count("moved"), insert: count("insert"), delete: count("delete"), change: count("change"), hunks: hunks.length },
    capped,
  };
}

/** Deleted and inserted instructions of the same shape, paired in order (a bounded Myers). */
function shapePairs(a: readonly StreamInsn[], b: readonly StreamInsn[]): readonly Match[] {
  const { a: ka, b: kb } = internKeys(a.map(shapeKey), b.map(shapeKey));
  return alignSequences(ka, kb, { maxEditDistance: 500 }).matches;
}

function hunksOf(rows: readonly DiffRow[]): Hunk[] {
  const hunks: Hunk[] = [];
  let leftAt = 0;
  let rightAt = 0;
  for (let r = 0; r < rows.length; ) {
    const row = rows[r]!;
    if (row.kind === "same" || row.kind === "moved") {
      leftAt = row.left! + 1;
      rightAt = row.right! + 1;
      r++;
      continue;
    }
    const start = r;
    const ls = leftAt;
    const rsStart = rightAt;
    const kinds = new Set<RowKind>();
    while (r < rows.length && rows[r]!.kind !== "same" && rows[r]!.kind !== "moved") {
      const x = rows[r]!;
      kinds.add(x.kind);
      if (x.left !== undefined) leftAt = x.left + 1;
      if (x.right !== undefined) rightAt = x.right + 1;
      r++;
    }
    const kind = kinds.size === 1 && (kinds.has("insert") || kinds.has("delete")) ? (kinds.has("insert") ? "insert" : "delete") : "change";
    hunks.push({ kind, start, end: r, left: { start: ls, count: leftAt - ls }, right: { start: rsStart, count: rightAt - rsStart } });
  }
  return hunks;
}

function total(all: readonly DiffSummary[]): DiffSummary {
  const sum = (k: keyof DiffSummary) => all.reduce((n, s) => n + s[k], 0);
  return { same: sum("same"), moved: sum("moved"), insert: sum("insert"), delete: sum("delete"), change: sum("change"), hunks: sum("hunks") };
}
