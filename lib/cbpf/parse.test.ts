import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PlaygroundError } from "../errors";
import { formatProgram } from "./format";
import type { CbpfInsn } from "./insn";
import { detectFormat, parseProgram } from "./parse";
import { arbProgram } from "./testkit.node";

/** The error parseProgram throws for `text` (fails the test if it does not throw one). */
function parseError(text: string): PlaygroundError {
  try {
    parseProgram(text);
  } catch (e) {
    expect(e).toBeInstanceOf(PlaygroundError);
    return e as PlaygroundError;
  }
  throw new Error(`expected a parse error for ${JSON.stringify(text)}`);
}

const TCP80: CbpfInsn[] = [
  { code: 0x28, jt: 0, jf: 0, k: 12 },
  { code: 0x15, jt: 0, jf: 3, k: 0x800 },
  { code: 0x30, jt: 0, jf: 0, k: 23 },
  { code: 0x15, jt: 0, jf: 1, k: 6 },
  { code: 0x06, jt: 0, jf: 0, k: 262144 },
  { code: 0x06, jt: 0, jf: 0, k: 0 },
];

describe("detectFormat", () => {
  it("tells the four forms apart", () => {
    expect(detectFormat("2\n6 0 0 1\n6 0 0 0\n")).toBe("ddd");
    expect(detectFormat("  6 0 0 1\n")).toBe("ddd");
    expect(detectFormat("2,6 0 0 1,6 0 0 0,")).toBe("comma");
    expect(detectFormat("{ 0x6, 0, 0, 0x00000001 },")).toBe("dd");
    expect(detectFormat("struct sock_filter f[] = {\n{ 0x6, 0, 0, 1 }\n};")).toBe("dd");
    expect(detectFormat("(000) ret      #1")).toBe("d");
    expect(detectFormat("ret #1")).toBe("d");
  });
});

describe("parseProgram", () => {
  it("reads each form of the same program", () => {
    for (const style of ["d", "dd", "ddd"] as const) expect(parseProgram(formatProgram(TCP80, style))).toEqual(TCP80);
    expect(parseProgram(formatProgram(TCP80, "ddd").replace(/\n/g, ","))).toEqual(TCP80);
    expect(parseProgram("6,40 0 0 12,21 0 3 2048,48 0 0 23,21 0 1 6,6 0 0 262144,6 0 0 0")).toEqual(TCP80);
    expect(parseProgram(`struct sock_filter code[] = {\n${formatProgram(TCP80, "dd")}};\n`)).toEqual(TCP80);
    expect(parseProgram("/* tcp */ { 0x28, 0, 0, 12 }, // ldh\n{ 0x15, 0, 3, 0x800, }, { 48, 0, 0, 23 },\n{0x15,0,1,6},{6,0,0,262144},{6,0,0,0}")).toEqual(TCP80);
  });

  it("reads a hand-written listing: no numbers, loose spacing, symbolic and signed operands", () => {
    const prog = parseProgram(
      [
        "ld [ifidx]",
        "ldh [ x + 14 ]",
        "ldxb 4*([14]&0xf)",
        "ld #pktlen",
        "ret #-1",
        "ja 7",
        "jeq x jt 7 jf 7",
        "ret a",
        "unimp 0x1234",
      ].join("\n"),
    );
    expect(prog).toEqual([
      { code: 0x20, jt: 0, jf: 0, k: 0xfffff008 },
      { code: 0x48, jt: 0, jf: 0, k: 14 },
      { code: 0xb1, jt: 0, jf: 0, k: 14 },
      { code: 0x80, jt: 0, jf: 0, k: 0 },
      { code: 0x06, jt: 0, jf: 0, k: 0xffffffff },
      { code: 0x05, jt: 0, jf: 0, k: 1 },
      { code: 0x1d, jt: 0, jf: 0, k: 0 },
      { code: 0x16, jt: 0, jf: 0, k: 0 },
      { code: 0x1234, jt: 0, jf: 0, k: 0 },
    ]);
    // A backward ja, as libpcap's protochain prints it.
    expect(parseProgram("(000) ld #0x1\n(001) ja       0\n")[1]).toEqual({ code: 0x05, jt: 0, jf: 0, k: 0xfffffffe });
  });

  it("reports errors with line, column and a message a person understands", () => {
    let e = parseError("3\n40 0 0 12\n6 0 0 0\n");
    expect(e.message).toBe("line 1: expected 3 instructions, found 2");
    expect(e.position).toMatchObject({ kind: "text", line: 1, column: 1 });

    e = parseError("(000) ldh [12]\n(001) jeq #0x800 jt 3 jf 1\n(002) ret #0\n");
    expect(e.message).toBe("line 2: jf target 1 is before the instruction (jumps go forward only)");
    expect(e.position).toMatchObject({ kind: "text", line: 2, column: 26 });

    e = parseError("ldh [12]\njeq #1 jt 300 jf 2\n");
    expect(e.message).toMatch(/^line 2: jt target 300 is 299 instructions ahead/);

    e = parseError("2\n40 0 0 12\n6 0 0\n");
    expect(e.message).toBe("line 3: expected 4 numbers (code jt jf k), found 3");

    e = parseError("2\n40 0 0 12\n6 256 0 0\n");
    expect(e.message).toBe("line 3: jt 256 is out of range (0 to 255)");
    expect(e.position).toMatchObject({ line: 3, column: 3 });

    e = parseError("1\n6 0 0 banana\n");
    expect(e.message).toBe('line 2: expected a number for k, found "banana"');

    e = parseError("(000) ldh [12]\n(002) ret #0\n");
    expect(e.message).toBe("line 2: instruction number (002) does not match its position (1)");

    e = parseError("frob #1\n");
    expect(e.message).toBe('line 1: unknown instruction "frob"');

    e = parseError("ldh #5\n");
    expect(e.message).toBe('line 1: ldh takes [k] or [x + k], not "#5"');

    e = parseError("jeq #5\n");
    expect(e.message).toBe('line 1: jeq needs its targets: "jt N jf N"');

    e = parseError("ret #0 jt 1 jf 1\n");
    expect(e.message).toBe("line 1: ret is not a conditional jump and takes no jt/jf");

    e = parseError("{ 0x6, 0, 0 }\n");
    expect(e.message).toBe('line 1: expected "," after jf');

    e = parseError("2,6 0 0 1,,6 0 0 0");
    expect(e.message).toBe("line 1: empty field between commas");
    expect(e.position).toMatchObject({ column: 11 });

    e = parseError("3,6 0 0 1,6 0 0 0,");
    expect(e.message).toBe("line 1: expected 3 instructions, found 2");
  });

  it("round-trips every style on random programs", () => {
    fc.assert(
      fc.property(arbProgram({ maxLength: 30, canonical: true }), (prog) => {
        for (const style of ["d", "dd", "ddd"] as const) expect(parseProgram(formatProgram(prog, style))).toEqual(prog);
        expect(parseProgram(formatProgram(prog, "ddd").replace(/\n/g, ","))).toEqual(prog);
      }),
      { numRuns: 400 },
    );
  });

  it("round-trips -dd and -ddd on any instructions at all (unknown opcodes, stray fields)", () => {
    const anyInsn = fc.record({
      code: fc.integer({ min: 0, max: 0xffff }),
      jt: fc.integer({ min: 0, max: 255 }),
      jf: fc.integer({ min: 0, max: 255 }),
      k: fc.integer({ min: 0, max: 0xffffffff }),
    });
    fc.assert(
      fc.property(fc.array(anyInsn, { minLength: 1, maxLength: 20 }), (prog) => {
        expect(parseProgram(formatProgram(prog, "dd"))).toEqual(prog);
        expect(parseProgram(formatProgram(prog, "ddd"))).toEqual(prog);
      }),
      { numRuns: 300 },
    );
  });

  const onlyPlaygroundErrors = (text: string): void => {
    try {
      const prog = parseProgram(text);
      for (const p of prog) {
        expect(Number.isInteger(p.code) && p.code >= 0 && p.code <= 0xffff).toBe(true);
        expect(Number.isInteger(p.k) && p.k >= 0 && p.k <= 0xffffffff).toBe(true);
        expect(p.jt >= 0 && p.jt <= 255 && p.jf >= 0 && p.jf <= 255).toBe(true);
      }
    } catch (e) {
      if (!(e instanceof PlaygroundError)) throw e;
      expect(e.position.kind).toBe("text");
    }
  };

  it("fuzz: random text never throws anything but a positioned PlaygroundError", () => {
    const alphabet = fc.constantFrom(..."0123456789abcdefx#[]()+-*&,{}; \t\n\rMjtfldhbxretjeqa/".split(""));
    fc.assert(fc.property(fc.string({ unit: alphabet, maxLength: 80 }), onlyPlaygroundErrors), { numRuns: 1500 });
    fc.assert(fc.property(fc.string({ maxLength: 60 }), onlyPlaygroundErrors), { numRuns: 500 });
  });

  it("fuzz: mutated valid text never throws anything but a positioned PlaygroundError", () => {
    const mutated = fc
      .tuple(
        arbProgram({ maxLength: 8 }),
        fc.constantFrom("d", "dd", "ddd", "comma"),
        fc.array(fc.tuple(fc.nat(), fc.nat(3), fc.string({ maxLength: 3 })), { minLength: 1, maxLength: 4 }),
      )
      .map(([prog, style, edits]) => {
        let text = style === "comma" ? formatProgram(prog, "ddd").replace(/\n/g, ",") : formatProgram(prog, style as "d");
        for (const [at, del, ins] of edits) {
          const i = at % (text.length + 1);
          text = text.slice(0, i) + ins + text.slice(i + del);
        }
        return text;
      });
    fc.assert(fc.property(mutated, onlyPlaygroundErrors), { numRuns: 1500 });
  });

  it("rejects a non-string with a PlaygroundError", () => {
    expect(() => parseProgram(42 as unknown as string)).toThrow(PlaygroundError);
  });
});
