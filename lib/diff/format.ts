/**
 * The aligned diff as text, for the CLI (`inject --diff`) and anything else without the pane:
 * per section a `---`/`+++` header, then every hunk with `context` rows around it, and every
 * moved row wherever it is (an offset that changed is what a reader of a splice checks).
 *
 *   +      3: r0 = *(u16 *)(r4 +12)      ; cbpf 1
 *   ~  10 -> 71: if r3 > r5 goto L113  (was: goto L52)
 *   -   9      : call bpf_map_lookup_elem#1
 *   ±   7 -> 7: r1 = 0x0  =>  r1 = 0x4b00
 *       3 -> 3: r1 = 0
 */
import type { Stream, StreamInsn } from "../inject/types";
import type { DiffRow, StreamsDiff } from "./align";

export interface FormatDiffOptions {
  /** Unchanged rows shown before and after each hunk (default 3; Infinity: every row). */
  readonly context?: number;
}

const pad = (n: number | undefined, w = 5) => (n === undefined ? " ".repeat(w) : String(n).padStart(w));
const tag = (x: StreamInsn | undefined) => (x?.cbpf === undefined || x.cbpf === null ? "" : `    ; cbpf ${x.cbpf}`);

function line(r: DiffRow, a: StreamInsn | undefined, b: StreamInsn | undefined): string {
  switch (r.kind) {
    case "insert":
      return `+ ${pad(undefined)}    ${pad(b!.slot)}: ${b!.text}${tag(b)}`;
    case "delete":
      return `- ${pad(a!.slot)}    ${pad(undefined)}: ${a!.text}`;
    case "change":
      return `± ${pad(a!.slot)} -> ${pad(b!.slot)}: ${a!.text}  =>  ${b!.text}${tag(b)}`;
    case "moved":
      return `~ ${pad(a!.slot)} -> ${pad(b!.slot)}: ${b!.text}  (was: ${a!.text})`;
    case "same":
      return `  ${pad(a!.slot)} -> ${pad(b!.slot)}: ${b!.text}${tag(b)}`;
  }
}

export function formatDiff(diff: StreamsDiff, left: readonly Stream[], right: readonly Stream[], opts: FormatDiffOptions = {}): string {
  const context = opts.context ?? 3;
  const out: string[] = [];
  for (const sec of diff.sections) {
    const a = sec.left === undefined ? [] : left[sec.left]!.insns;
    const b = sec.right === undefined ? [] : right[sec.right]!.insns;
    const s = sec.summary;
    out.push(`--- ${sec.section} (${a.length} instructions)`, `+++ ${sec.section} (${b.length} instructions: ${s.same} same, ${s.moved} moved, +${s.insert} -${s.delete} ±${s.change})`);
    const shown = new Uint8Array(sec.rows.length);
    for (const h of sec.hunks) for (let i = Math.max(0, h.start - context); i < Math.min(sec.rows.length, h.end + context); i++) shown[i] = 1;
    sec.rows.forEach((r, i) => {
      if (r.kind === "moved") shown[i] = 1;
    });
    const starts = new Map(sec.hunks.map((h) => [h.start, h]));
    let last = -1;
    sec.rows.forEach((r, i) => {
      if (!shown[i]) return;
      const h = starts.get(i);
      if (h) out.push(`@@ -${h.left.start},${h.left.count} +${h.right.start},${h.right.count} @@ ${h.kind}`);
      else if (last >= 0 && i !== last + 1) out.push("  ...");
      out.push(line(r, r.left === undefined ? undefined : a[r.left], r.right === undefined ? undefined : b[r.right]));
      last = i;
    });
  }
  return out.join("\n") + "\n";
}
