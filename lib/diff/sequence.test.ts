import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { alignSequences, internKeys } from "./sequence";

/** The LCS length by dynamic programming: the oracle for Myers, which must be minimal. */
function lcsLength(a: readonly number[], b: readonly number[]): number {
  const row = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    let diag = 0;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = a[i - 1] === b[j - 1] ? diag + 1 : Math.max(row[j]!, row[j - 1]!);
      diag = up;
    }
  }
  return row[b.length]!;
}

function expectValid(a: readonly number[], b: readonly number[], matches: readonly (readonly [number, number])[]): void {
  let pi = -1;
  let pj = -1;
  for (const [i, j] of matches) {
    expect(i).toBeGreaterThan(pi);
    expect(j).toBeGreaterThan(pj);
    expect(a[i]).toBe(b[j]);
    pi = i;
    pj = j;
  }
}

const small = fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 60 });

describe("sequence alignment", () => {
  it("Myers alone finds a longest common subsequence", () => {
    fc.assert(
      fc.property(small, small, (a, b) => {
        const { matches, capped } = alignSequences(a, b, { patience: false });
        expect(capped).toBe(false);
        expectValid(a, b, matches);
        expect(matches.length).toBe(lcsLength(a, b));
      }),
    );
  });

  it("any input gives an increasing common subsequence, and a sequence aligns with itself completely", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 12 }), { maxLength: 80 }), fc.array(fc.integer({ min: 0, max: 12 }), { maxLength: 80 }), (a, b) => {
        expectValid(a, b, alignSequences(a, b).matches);
        expect(alignSequences(a, a).matches.length).toBe(a.length);
      }),
    );
  });

  it("keeps every original key when fresh keys are inserted anywhere (a is a subsequence of b)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 8 }), { maxLength: 60 }), fc.array(fc.nat(), { maxLength: 20 }), (a, positions) => {
        const b = [...a];
        positions.forEach((p, n) => b.splice(p % (b.length + 1), 0, 1000 + n));
        const { matches } = alignSequences(a, b);
        expectValid(a, b, matches);
        expect(matches.length).toBe(a.length);
      }),
    );
  });

  it("anchors on unique keys: a moved block keeps its unique line matched instead of the repeated filler", () => {
    // Patience matches the unique "x" lines; a plain LCS would match more "f" filler instead.
    const { a, b, keys } = internKeys(["x1", "f", "f", "x2", "f", "f", "f"], ["f", "f", "f", "x1", "f", "f", "x2"]);
    const { matches } = alignSequences(a, b);
    const matchedKeys = matches.map(([i]) => keys[a[i]!]);
    expect(matchedKeys).toContain("x1");
    expect(matchedKeys).toContain("x2");
  });

  it("prefers anchor keys over other unique keys", () => {
    // "call" occurs once on each side but after "u" on one side and before it on the other: only one can be kept.
    const { a, b, keys } = internKeys(["call", "u"], ["u", "call"]);
    const byAnchor = alignSequences(a, b, { isAnchor: (k) => keys[k] === "call" }).matches;
    expect(byAnchor.map(([i]) => keys[a[i]!])).toEqual(["call"]);
  });

  it("past the edit-distance bound, an LCS table still finds a longest common subsequence", () => {
    fc.assert(
      fc.property(small, small, (a, b) => {
        const { matches, capped } = alignSequences(a, b, { patience: false, maxEditDistance: 2 });
        expect(capped).toBe(false);
        expectValid(a, b, matches);
        expect(matches.length).toBe(lcsLength(a, b));
      }),
    );
  });

  it("leaves a gap unmatched, and says so, past the edit-distance bound and the table's size", () => {
    // 6000 × 6000 cells is past the table's 32 million; nothing in common but the suffix.
    const a = Array.from({ length: 6000 }, (_, i) => i % 2);
    const b = Array.from({ length: 6000 }, (_, i) => (i % 3) + 2);
    const r = alignSequences([...a, 7, 7], [...b, 7, 7], { maxEditDistance: 50 });
    expect(r.capped).toBe(true);
    expect(r.matches).toEqual([
      [6000, 6000],
      [6001, 6001],
    ]);
  });
});
