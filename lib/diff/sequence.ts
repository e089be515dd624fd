/**
 * Alignment of two key sequences: a patience diff (keys unique on both sides anchor the
 * alignment, their longest common increasing run is kept), recursing into the gaps between
 * anchors, and Myers' O(ND) shortest edit script where a gap has no unique keys left.
 *
 * Why patience first: instruction streams repeat the same few instructions (`r0 = 0`, `exit`,
 * bounds checks) many times, and a plain LCS happily matches a repeated line from the wrong
 * function. Unique lines (helper calls, map loads, a function's distinctive instructions) are
 * far more likely to be the same instruction on both sides, so they are fixed first (the model
 * of git's --patience and objdiff's code diff).
 *
 * The result is the list of matched index pairs, strictly increasing on both sides; everything
 * not matched is a deletion (left) or an insertion (right).
 */

export type Match = readonly [left: number, right: number];

export interface AlignOptions {
  /**
   * Keys preferred as anchors (calls, map loads): unique anchor keys are tried before other
   * unique keys at each level of the recursion.
   */
  readonly isAnchor?: (key: number) => boolean;
  /**
   * Largest edit distance Myers explores in one gap (memory grows with its square). A gap whose
   * distance is larger goes to an LCS table when left × right is at most 32 million cells, and
   * is left unmatched (all deleted, all inserted) beyond that; `aligned.capped` says so.
   */
  readonly maxEditDistance?: number;
  /** false: Myers alone, a shortest edit script (default true: anchor on unique keys first). */
  readonly patience?: boolean;
}

export interface Aligned {
  readonly matches: Match[];
  /** True when some gap exceeded `maxEditDistance` and was left unmatched. */
  readonly capped: boolean;
}

const DEFAULT_MAX_D = 2000;
/** Largest gap (left × right) the LCS table fallback takes: one byte per cell. */
const MAX_TABLE_CELLS = 32_000_000;

/** Maps string keys to small integers, shared by both sides, so comparisons are cheap. */
export function internKeys(left: readonly string[], right: readonly string[]): { a: Int32Array; b: Int32Array; keys: string[] } {
  const ids = new Map<string, number>();
  const keys: string[] = [];
  const intern = (k: string): number => {
    let id = ids.get(k);
    if (id === undefined) {
      id = keys.length;
      ids.set(k, id);
      keys.push(k);
    }
    return id;
  };
  return { a: Int32Array.from(left, intern), b: Int32Array.from(right, intern), keys };
}

/** Aligns two sequences of interned keys (see `internKeys`). */
export function alignSequences(a: ArrayLike<number>, b: ArrayLike<number>, opts: AlignOptions = {}): Aligned {
  const state = { capped: false, maxD: opts.maxEditDistance ?? DEFAULT_MAX_D, isAnchor: opts.isAnchor, patience: opts.patience ?? true };
  const out: Match[] = [];
  patience(a, b, 0, a.length, 0, b.length, out, state);
  return { matches: out, capped: state.capped };
}

interface State {
  capped: boolean;
  readonly maxD: number;
  readonly isAnchor: ((key: number) => boolean) | undefined;
  readonly patience: boolean;
}

function patience(a: ArrayLike<number>, b: ArrayLike<number>, aLo: number, aHi: number, bLo: number, bHi: number, out: Match[], st: State): void {
  // A common prefix and suffix are matched as they stand: this keeps an insertion in one piece
  // even when the inserted code repeats lines found just before or after it.
  while (aLo < aHi && bLo < bHi && a[aLo] === b[bLo]) out.push([aLo++, bLo++]);
  let suffix = 0;
  while (aLo < aHi - suffix && bLo < bHi - suffix && a[aHi - 1 - suffix] === b[bHi - 1 - suffix]) suffix++;
  aHi -= suffix;
  bHi -= suffix;
  if (aLo < aHi && bLo < bHi && !st.patience) myers(a, b, aLo, aHi, bLo, bHi, out, st);
  else if (aLo < aHi && bLo < bHi) {
    let anchors = st.isAnchor ? uniqueCommon(a, b, aLo, aHi, bLo, bHi, st.isAnchor) : [];
    if (anchors.length === 0) anchors = uniqueCommon(a, b, aLo, aHi, bLo, bHi, undefined);
    const chain = longestIncreasing(anchors);
    if (chain.length === 0) {
      myers(a, b, aLo, aHi, bLo, bHi, out, st);
    } else {
      let pa = aLo;
      let pb = bLo;
      for (const [i, j] of chain) {
        patience(a, b, pa, i, pb, j, out, st);
        out.push([i, j]);
        pa = i + 1;
        pb = j + 1;
      }
      patience(a, b, pa, aHi, pb, bHi, out, st);
    }
  }
  for (let k = 0; k < suffix; k++) out.push([aHi + k, bHi + k]);
}

/** Pairs (i, j), sorted by i, of keys that occur exactly once in a[aLo..aHi) and once in b[bLo..bHi). */
function uniqueCommon(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
  only: ((key: number) => boolean) | undefined,
): Match[] {
  // count: >0 index+1 of the single occurrence, -1 several.
  const inA = new Map<number, number>();
  for (let i = aLo; i < aHi; i++) {
    const k = a[i]!;
    if (only && !only(k)) continue;
    inA.set(k, inA.has(k) ? -1 : i + 1);
  }
  const inB = new Map<number, number>();
  for (let j = bLo; j < bHi; j++) {
    const k = b[j]!;
    if (!inA.has(k) || inA.get(k)! < 0) continue;
    inB.set(k, inB.has(k) ? -1 : j + 1);
  }
  const pairs: Match[] = [];
  for (const [k, j1] of inB) if (j1 > 0) pairs.push([inA.get(k)! - 1, j1 - 1]);
  return pairs.sort((x, y) => x[0] - y[0]);
}

/** The longest subsequence of `pairs` (sorted by left index) whose right indices increase (patience sorting). */
function longestIncreasing(pairs: readonly Match[]): Match[] {
  const tails: number[] = []; // tails[k]: index into pairs of the smallest tail of a run of length k+1
  const prev = new Int32Array(pairs.length).fill(-1);
  for (let p = 0; p < pairs.length; p++) {
    const j = pairs[p]![1];
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (pairs[tails[mid]!]![1] < j) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) prev[p] = tails[lo - 1]!;
    tails[lo] = p;
  }
  const chain: Match[] = [];
  for (let p = tails.length ? tails[tails.length - 1]! : -1; p >= 0; p = prev[p]!) chain.push(pairs[p]!);
  return chain.reverse();
}

/**
 * Myers' greedy shortest edit script on a[aLo..aHi) × b[bLo..bHi), keeping the furthest-reaching
 * x of each diagonal per edit count so the path can be walked back. Deletions are preferred on
 * ties, so a replaced run reads as its deletions followed by its insertions.
 */
function myers(a: ArrayLike<number>, b: ArrayLike<number>, aLo: number, aHi: number, bLo: number, bHi: number, out: Match[], st: State): void {
  const n = aHi - aLo;
  const m = bHi - bLo;
  // The edit distance is at least the difference in length: past the bound, do not try.
  if (Math.abs(n - m) > st.maxD) {
    if (n * m <= MAX_TABLE_CELLS) lcsTable(a, b, aLo, aHi, bLo, bHi, out);
    else st.capped = true;
    return;
  }
  const max = Math.min(n + m, st.maxD);
  const off = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = -1;
  for (let d = 0; d <= max && found < 0; d++) {
    trace.push(v.slice(off - d - 1, off + d + 2)); // v before step d, diagonals -d-1..d+1
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[off + k - 1]! < v[off + k + 1]!) ? v[off + k + 1]! : v[off + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[aLo + x] === b[bLo + y]) {
        x++;
        y++;
      }
      v[off + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
  }
  if (found < 0) {
    // Too far apart for Myers' memory (it keeps one row per edit): a plain LCS table is cheaper
    // when the gap is long on one side only, as an unoptimized filter against an optimized one is.
    if (n * m <= MAX_TABLE_CELLS) lcsTable(a, b, aLo, aHi, bLo, bHi, out);
    else st.capped = true;
    return;
  }
  // Walk back from (n, m): at step d, the snapshot holds v as it was before step d.
  const matches: Match[] = [];
  let x = n;
  let y = m;
  for (let d = found; d > 0; d--) {
    const snap = trace[d]!;
    const at = (k: number) => snap[k + d + 1]!;
    const k = x - y;
    const down = k === -d || (k !== d && at(k - 1) < at(k + 1));
    const pk = down ? k + 1 : k - 1;
    const px = at(pk);
    const py = px - pk;
    const sx = down ? px : px + 1; // where the snake after this edit starts
    while (x > sx) matches.push([aLo + --x, bLo + --y]);
    x = px;
    y = py;
  }
  while (x > 0 && y > 0) matches.push([aLo + --x, bLo + --y]);
  for (let i = matches.length - 1; i >= 0; i--) out.push(matches[i]!);
}

/**
 * The longest common subsequence by dynamic programming, O(n·m) time and one byte of direction
 * per cell (lengths are kept for two rows only); used where Myers' edit distance is too large.
 */
function lcsTable(a: ArrayLike<number>, b: ArrayLike<number>, aLo: number, aHi: number, bLo: number, bHi: number, out: Match[]): void {
  const n = aHi - aLo;
  const m = bHi - bLo;
  // dir: 1 diagonal (match), 2 up (skip a), 3 left (skip b).
  const dir = new Uint8Array(n * m);
  let prev = new Int32Array(m + 1);
  let cur = new Int32Array(m + 1);
  for (let i = 1; i <= n; i++) {
    const ai = a[aLo + i - 1];
    const row = (i - 1) * m;
    cur[0] = 0;
    for (let j = 1; j <= m; j++) {
      if (ai === b[bLo + j - 1]) {
        cur[j] = prev[j - 1]! + 1;
        dir[row + j - 1] = 1;
      } else if (prev[j]! >= cur[j - 1]!) {
        cur[j] = prev[j]!;
        dir[row + j - 1] = 2;
      } else {
        cur[j] = cur[j - 1]!;
        dir[row + j - 1] = 3;
      }
    }
    [prev, cur] = [cur, prev];
  }
  const matches: Match[] = [];
  for (let i = n, j = m; i > 0 && j > 0; ) {
    const d = dir[(i - 1) * m + j - 1];
    if (d === 1) matches.push([aLo + --i, bLo + --j]);
    else if (d === 2) i--;
    else j--;
  }
  for (let k = matches.length - 1; k >= 0; k--) out.push(matches[k]!);
}
