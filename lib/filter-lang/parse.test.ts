/**
 * The recognizer is depth-bounded and linear: hostile nesting is a PlaygroundError at the token
 * that goes too deep, never a stack overflow, and backtracking never goes exponential.
 */
import { describe, expect, it } from "vitest";
import { PlaygroundError } from "../errors";
import { completeFilter, isTooDeep, locateError, MAX_FILTER_DEPTH, parseFilter, primitivesOf } from ".";

function tooDeep(text: string): PlaygroundError {
  const t0 = performance.now();
  let err: unknown;
  try {
    parseFilter(text);
  } catch (e) {
    err = e;
  }
  expect(performance.now() - t0, "quickly").toBeLessThan(1_000);
  expect(err).toBeInstanceOf(PlaygroundError);
  expect(isTooDeep(err)).toBe(true);
  expect((err as PlaygroundError).message).toBe(`the expression nests deeper than ${MAX_FILTER_DEPTH} levels (parentheses and not)`);
  return err as PlaygroundError;
}

describe("nesting", () => {
  // The outermost expression is one level of its own, so the parenthesis too deep is number N.
  const PAREN = MAX_FILTER_DEPTH - 1;

  it("10,000 '(' is a PlaygroundError at the first parenthesis too deep", () => {
    const e = tooDeep("(".repeat(10_000) + "ip" + ")".repeat(10_000));
    expect(e.position).toEqual({ kind: "text", line: 1, column: PAREN + 1, offset: PAREN });
    expect(tooDeep("(".repeat(10_000)).position).toMatchObject({ offset: PAREN });
  });

  it("10,000 'not' is a PlaygroundError at the first not too deep", () => {
    const e = tooDeep("not ".repeat(10_000) + "ip");
    expect(e.position).toEqual({ kind: "text", line: 1, column: 4 * MAX_FILTER_DEPTH + 1, offset: 4 * MAX_FILTER_DEPTH });
    tooDeep("!".repeat(10_000) + "ip");
  });

  it("deep ids, arithmetic and unary minus are bounded too", () => {
    tooDeep("host " + "(".repeat(10_000) + "a");
    tooDeep("host " + "not ".repeat(10_000) + "a");
    tooDeep("(".repeat(10_000) + "1 = 1");
    tooDeep("ip[" .repeat(10_000) + "0");
    // A run of minus signs is a loop, not nesting.
    expect(parseFilter("-".repeat(10_000) + "1 = 1").ast?.type).toBe("relation");
  });

  it("reports the position on the right line", () => {
    const e = tooDeep("ip and\n" + "(".repeat(10_000) + "ip");
    expect(e.position).toEqual({ kind: "text", line: 2, column: PAREN + 1, offset: 7 + PAREN });
  });

  it("accepts nesting within the bound", () => {
    const n = MAX_FILTER_DEPTH - 10;
    const r = parseFilter("(".repeat(n) + "tcp port 80" + ")".repeat(n));
    expect(r.error).toBeUndefined();
    expect(r.ast?.type).toBe("paren");
    expect(primitivesOf(r.ast).length).toBe(1);
  });

  it("a chain of 10,000 and is not nesting: parsed, and its primitives listed without recursion", () => {
    const r = parseFilter(Array.from({ length: 10_000 }, (_, i) => `port ${i}`).join(" and "));
    expect(r.error).toBeUndefined();
    const prims = primitivesOf(r.ast);
    expect(prims).toHaveLength(10_000);
    expect(prims[9_999]!.span.start).toBeGreaterThan(prims[0]!.span.start);
  });
});

describe("backtracking is linear", () => {
  it("an unfinished chain of nested and-groups fails fast, where it failed before", () => {
    // Each level used to re-run its right operand: 22 levels took 5 s.
    const text = "(tcp and ".repeat(400) + "tcp and";
    const t0 = performance.now();
    const r = parseFilter(text);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(r.error).toMatchObject({ message: "the expression ends too early", start: text.length });
  });
});

describe("the editor features survive too-deep input", () => {
  it("locateError puts libpcap's message at the token that goes too deep", () => {
    const text = "(".repeat(10_000) + "ip" + ")".repeat(10_000);
    const paren = MAX_FILTER_DEPTH - 1;
    expect(locateError(text, "can't parse filter expression: memory exhausted")).toEqual({ start: paren, end: paren + 1, how: "depth" });
  });

  it("completion offers nothing rather than throwing", () => {
    const text = "not ".repeat(10_000);
    expect(completeFilter(text, text.length).items).toEqual([]);
  });
});
