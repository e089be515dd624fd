/**
 * Reading a program back from text. Four forms are recognised automatically:
 *
 * - `tcpdump -ddd`: a count line, then `code jt jf k` in decimal, one instruction per line
 *   (the count line may be left out);
 * - the comma form of bpf_asm, bpf_dbg and `tcpdump -ddd | tr '\n' ','`: `4,40 0 0 12,21 0 1 2048,...`;
 * - `tcpdump -dd` C initialisers, `{ 0x28, 0, 0, 0x0000000c },`, optionally inside a
 *   `struct sock_filter name[] = { ... };` declaration;
 * - the `tcpdump -d` listing itself, mnemonics and absolute jump targets turned back into opcodes
 *   and relative offsets.
 *
 * Every error is a PlaygroundError positioned at a line and column, with a message that says what
 * was expected. Numbers may be decimal or 0x-hexadecimal everywhere.
 */
import { PlaygroundError } from "../errors";
import type { CbpfInsn } from "./insn";
import { ANCILLARY_NAMES, SKF_AD_OFF } from "./opcodes";

export type CbpfTextFormat = "ddd" | "comma" | "dd" | "d";

/** Parse any of the four forms; see `detectFormat`. */
export function parseProgram(text: string): CbpfInsn[] {
  if (typeof text !== "string") {
    throw new PlaygroundError("cbpf/parse", "expected program text");
  }
  const src = new Source(text);
  switch (detectFormat(text)) {
    case "dd":
      return parseDd(src);
    case "comma":
      return parseComma(src);
    case "d":
      return parseListing(src);
    default:
      return parseDdd(src);
  }
}

/** Which form the text is in, judged from its first non-blank character and punctuation. */
export function detectFormat(text: string): CbpfTextFormat {
  const body = text.replace(/^\uFEFF/, "");
  const first = body.trimStart()[0];
  if (first === undefined) return "ddd";
  if (body.includes("{")) return "dd";
  if (first === "(" || /[A-Za-z]/.test(first)) return "d";
  const firstLine = body.trimStart().split("\n", 1)[0]!;
  if (firstLine.includes(",")) return "comma";
  return "ddd";
}

// ---------------------------------------------------------------------------------------------
// Positions and errors.

class Source {
  readonly lineStarts: number[] = [0];
  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text[i] === "\n") this.lineStarts.push(i + 1);
  }
  where(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.lineStarts[lo]! + 1 };
  }
  error(offset: number, message: string): PlaygroundError {
    const { line, column } = this.where(offset);
    return new PlaygroundError("cbpf/parse", `line ${line}: ${message}`, { kind: "text", line, column, offset });
  }
  /** Lines with their start offsets, without the newline (and without a trailing CR). */
  lines(): { text: string; start: number }[] {
    return this.lineStarts.map((start, i) => {
      const end = i + 1 < this.lineStarts.length ? this.lineStarts[i + 1]! - 1 : this.text.length;
      let line = this.text.slice(start, end);
      if (line.endsWith("\r")) line = line.slice(0, -1);
      return { text: line, start };
    });
  }
}

/** A word of text and where it starts. */
interface Token {
  text: string;
  offset: number;
}

function words(line: string, start: number, separator: RegExp = /\S+/g): Token[] {
  const out: Token[] = [];
  for (const m of line.matchAll(separator)) out.push({ text: m[0], offset: start + m.index! });
  return out;
}

const NUMBER = /^[+-]?(?:0[xX][0-9a-fA-F]+|[0-9]+)$/;

/** Parse an integer token and check it fits `field`; negative values are allowed for k only. */
function number(src: Source, tok: Token, field: "code" | "jt" | "jf" | "k" | "count", what: string = field): number {
  if (!NUMBER.test(tok.text)) {
    throw src.error(tok.offset, `expected a number for ${what}, found "${clip(tok.text)}"`);
  }
  const negative = tok.text.startsWith("-");
  const digits = tok.text.replace(/^[+-]/, "");
  const value = (negative ? -1 : 1) * Number(digits.toLowerCase().startsWith("0x") ? parseInt(digits.slice(2), 16) : digits);
  const [min, max] = field === "code" ? [0, 0xffff] : field === "k" ? [-0x80000000, 0xffffffff] : field === "count" ? [0, 1 << 24] : [0, 255];
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw src.error(tok.offset, `${what} ${tok.text} is out of range (${min} to ${max})`);
  }
  return field === "k" ? value >>> 0 : value;
}

const clip = (s: string): string => (s.length > 24 ? s.slice(0, 24) + "…" : s);

function insnFrom(src: Source, fields: Token[]): CbpfInsn {
  return {
    code: number(src, fields[0]!, "code"),
    jt: number(src, fields[1]!, "jt"),
    jf: number(src, fields[2]!, "jf"),
    k: number(src, fields[3]!, "k"),
  };
}

function checkCount(src: Source, count: Token | undefined, prog: CbpfInsn[]): CbpfInsn[] {
  if (count === undefined) return prog;
  const expected = number(src, count, "count", "the instruction count");
  if (expected !== prog.length) {
    throw src.error(count.offset, `expected ${expected} instruction${expected === 1 ? "" : "s"}, found ${prog.length}`);
  }
  return prog;
}

// ---------------------------------------------------------------------------------------------
// -ddd: count line, then "code jt jf k" lines.

function parseDdd(src: Source): CbpfInsn[] {
  const prog: CbpfInsn[] = [];
  let count: Token | undefined;
  let seenAny = false;
  for (const line of src.lines()) {
    const f = words(line.text, line.start);
    if (f.length === 0) continue;
    if (!seenAny && f.length === 1) {
      count = f[0];
      seenAny = true;
      continue;
    }
    seenAny = true;
    if (f.length !== 4) {
      throw src.error(f[0]!.offset, `expected 4 numbers (code jt jf k), found ${f.length}`);
    }
    prog.push(insnFrom(src, f));
  }
  return checkCount(src, count, prog);
}

// ---------------------------------------------------------------------------------------------
// Comma form: "count,code jt jf k,code jt jf k,..." (trailing comma allowed).

function parseComma(src: Source): CbpfInsn[] {
  const text = src.text;
  const fields: { text: string; start: number }[] = [];
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    if (i === text.length || text[i] === ",") {
      fields.push({ text: text.slice(start, i), start });
      start = i + 1;
    }
  }
  // Empty fields are allowed only at the end ("...,6 0 0 0," and a final newline).
  while (fields.length > 0 && fields[fields.length - 1]!.text.trim() === "") fields.pop();
  const prog: CbpfInsn[] = [];
  let count: Token | undefined;
  fields.forEach((field, i) => {
    const f = words(field.text, field.start);
    if (f.length === 0) throw src.error(field.start, "empty field between commas");
    if (i === 0 && f.length === 1) {
      count = f[0];
      return;
    }
    if (f.length !== 4) throw src.error(f[0]!.offset, `expected 4 numbers (code jt jf k) between commas, found ${f.length}`);
    prog.push(insnFrom(src, f));
  });
  return checkCount(src, count, prog);
}

// ---------------------------------------------------------------------------------------------
// -dd: "{ 0x28, 0, 0, 0x0000000c }," groups, optionally inside a C declaration.

function parseDd(src: Source): CbpfInsn[] {
  const toks = ddTokens(src);
  const prog: CbpfInsn[] = [];
  let i = 0;
  // A declaration (`struct sock_filter code[] = {`) may precede the groups: skip up to the brace
  // that directly encloses the first group.
  const firstGroup = toks.findIndex((t, j) => t.text === "{" && toks[j + 1]?.text !== "{" && toks[j + 1] !== undefined);
  if (firstGroup < 0) throw src.error(toks[0]?.offset ?? 0, "expected instructions like { 0x28, 0, 0, 0x0000000c }");
  let outerBraces = 0;
  for (; i < firstGroup; i++) {
    const t = toks[i]!;
    if (t.text === "{") outerBraces++;
    else if (!/^[A-Za-z_][A-Za-z0-9_]*$|^[[\]=]$|^[0-9]+$/.test(t.text)) {
      throw src.error(t.offset, `unexpected "${clip(t.text)}" before the first instruction`);
    }
  }
  while (i < toks.length) {
    const t = toks[i]!;
    if (t.text === "{") {
      const fields: Token[] = [];
      i++;
      for (let f = 0; f < 4; f++) {
        const v = toks[i];
        if (v === undefined || v.text === "}" || v.text === "," || v.text === "{") {
          throw src.error(v?.offset ?? src.text.length, `expected 4 numbers (code, jt, jf, k) inside { }, found ${f}`);
        }
        fields.push(v);
        i++;
        if (f < 3) {
          if (toks[i]?.text !== ",") {
            throw src.error(toks[i]?.offset ?? src.text.length, `expected "," after ${["code", "jt", "jf"][f]}`);
          }
          i++;
        }
      }
      if (toks[i]?.text === ",") i++; // `{ a, b, c, d, }` is valid C
      if (toks[i]?.text !== "}") {
        throw src.error(toks[i]?.offset ?? src.text.length, 'expected "}" after the 4 fields of an instruction');
      }
      i++;
      prog.push(insnFrom(src, fields));
      if (toks[i]?.text === ",") i++;
      continue;
    }
    if (t.text === "}" && outerBraces > 0) {
      outerBraces--;
      i++;
      continue;
    }
    if (t.text === ";" && outerBraces === 0) {
      i++;
      continue;
    }
    throw src.error(t.offset, `unexpected "${clip(t.text)}": expected { code, jt, jf, k }`);
  }
  if (outerBraces > 0) throw src.error(src.text.length, 'missing "}" closing the declaration');
  return prog;
}

/** Braces, commas, semicolons, brackets, equals and words; C comments skipped. */
function ddTokens(src: Source): Token[] {
  const text = src.text;
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c) || c === "\uFEFF") {
      i++;
    } else if (text.startsWith("/*", i)) {
      const end = text.indexOf("*/", i + 2);
      if (end < 0) throw src.error(i, "unterminated /* comment");
      i = end + 2;
    } else if (text.startsWith("//", i)) {
      const end = text.indexOf("\n", i);
      i = end < 0 ? text.length : end;
    } else if ("{},;[]=".includes(c)) {
      out.push({ text: c, offset: i });
      i++;
    } else {
      const m = /^[^\s{},;[\]=/]+/.exec(text.slice(i, i + 64));
      const word = m ? m[0] : c;
      out.push({ text: word, offset: i });
      i += word.length;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// -d listing.

type OperandForm = "none" | "imm" | "x" | "abs" | "ind" | "mem" | "len" | "msh" | "target";

/** Mnemonic → (operand form → opcode). Mirrors the printer's table in format.ts. */
const MNEMONICS: Readonly<Record<string, Partial<Record<OperandForm, number>>>> = {
  ld: { imm: 0x00, abs: 0x20, ind: 0x40, mem: 0x60, len: 0x80 },
  ldh: { abs: 0x28, ind: 0x48 },
  ldb: { abs: 0x30, ind: 0x50 },
  ldx: { imm: 0x01, mem: 0x61, len: 0x81 },
  ldxb: { msh: 0xb1 },
  st: { mem: 0x02 },
  stx: { mem: 0x03 },
  add: { imm: 0x04, x: 0x0c },
  sub: { imm: 0x14, x: 0x1c },
  mul: { imm: 0x24, x: 0x2c },
  div: { imm: 0x34, x: 0x3c },
  or: { imm: 0x44, x: 0x4c },
  and: { imm: 0x54, x: 0x5c },
  lsh: { imm: 0x64, x: 0x6c },
  rsh: { imm: 0x74, x: 0x7c },
  neg: { none: 0x84 },
  mod: { imm: 0x94, x: 0x9c },
  xor: { imm: 0xa4, x: 0xac },
  ja: { target: 0x05 },
  jeq: { imm: 0x15, x: 0x1d },
  jgt: { imm: 0x25, x: 0x2d },
  jge: { imm: 0x35, x: 0x3d },
  jset: { imm: 0x45, x: 0x4d },
  ret: { imm: 0x06, none: 0x16 },
  tax: { none: 0x07 },
  txa: { none: 0x87 },
};

const ANCILLARY_BY_NAME: ReadonlyMap<string, number> = new Map(
  Object.entries(ANCILLARY_NAMES).map(([off, name]) => [name, (SKF_AD_OFF + Number(off)) >>> 0]),
);

const CONDITIONAL = new Set(["jeq", "jgt", "jge", "jset"]);

function parseListing(src: Source): CbpfInsn[] {
  const prog: CbpfInsn[] = [];
  for (const line of src.lines()) {
    if (line.text.trim() === "") continue;
    prog.push(parseListingLine(src, line.text, line.start, prog.length));
  }
  return prog;
}

function parseListingLine(src: Source, text: string, start: number, index: number): CbpfInsn {
  let rest = text;
  let pos = start;
  const skipSpace = (): void => {
    const m = /^\s*/.exec(rest)![0].length;
    rest = rest.slice(m);
    pos += m;
  };
  skipSpace();
  // Optional "(NNN)" instruction number; it must agree with the line's position because the jump
  // targets on the line are absolute.
  const num = /^\((\d+)\)/.exec(rest);
  if (num) {
    if (Number(num[1]) !== index) {
      throw src.error(pos, `instruction number (${num[1]}) does not match its position (${index})`);
    }
    rest = rest.slice(num[0].length);
    pos += num[0].length;
    skipSpace();
  }
  const mn = /^[A-Za-z]+/.exec(rest);
  if (!mn) throw src.error(pos, `expected an instruction mnemonic, found "${clip(rest)}"`);
  const mnemonic = mn[0].toLowerCase();
  const mnemonicPos = pos;
  rest = rest.slice(mn[0].length);
  pos += mn[0].length;
  skipSpace();

  // Conditional jumps end in "jt N jf N" (tcpdump separates them with a TAB).
  let jtTok: Token | undefined;
  let jfTok: Token | undefined;
  const tail = /\s*\bjt\s+(\S+)\s+jf\s+(\S+)\s*$/d.exec(rest);
  if (tail) {
    jtTok = { text: tail[1]!, offset: pos + tail.indices![1]![0] };
    jfTok = { text: tail[2]!, offset: pos + tail.indices![2]![0] };
    rest = rest.slice(0, tail.index);
  }
  const operandText = rest.trimEnd();
  const operandPos = pos;

  if (mnemonic === "unimp") {
    const code = number(src, { text: operandText, offset: operandPos }, "code", "the opcode");
    return { code, jt: jtTok ? relTarget(src, jtTok, index, "jt") : 0, jf: jfTok ? relTarget(src, jfTok, index, "jf") : 0, k: 0 };
  }
  const forms = MNEMONICS[mnemonic];
  if (forms === undefined) throw src.error(mnemonicPos, `unknown instruction "${clip(mn[0])}"`);

  const { form, k } = parseOperand(src, mnemonic, operandText, operandPos, index);
  const code = forms[form];
  if (code === undefined) {
    const allowed = Object.keys(forms).map(describeForm).join(" or ");
    throw src.error(operandPos, `${mnemonic} takes ${allowed}, not "${clip(operandText) || "nothing"}"`);
  }
  const conditional = CONDITIONAL.has(mnemonic);
  if (conditional && jtTok === undefined) {
    throw src.error(pos + rest.length, `${mnemonic} needs its targets: "jt N jf N"`);
  }
  if (!conditional && jtTok !== undefined) {
    throw src.error(jtTok.offset, `${mnemonic} is not a conditional jump and takes no jt/jf`);
  }
  return {
    code,
    jt: jtTok ? relTarget(src, jtTok, index, "jt") : 0,
    jf: jfTok ? relTarget(src, jfTok, index, "jf") : 0,
    k: form === "x" || form === "none" || form === "len" ? 0 : k,
  };
}

function describeForm(form: string): string {
  switch (form) {
    case "none": return "no operand";
    case "imm": return "#value";
    case "x": return "x";
    case "abs": return "[k]";
    case "ind": return "[x + k]";
    case "mem": return "M[k]";
    case "len": return "#pktlen";
    case "msh": return "4*([k]&0xf)";
    default: return "a target instruction number";
  }
}

/** Absolute target on the listing → offset relative to the next instruction (0..255). */
function relTarget(src: Source, tok: Token, index: number, which: "jt" | "jf"): number {
  if (!/^\d+$/.test(tok.text)) throw src.error(tok.offset, `expected an instruction number after ${which}, found "${clip(tok.text)}"`);
  const target = Number(tok.text);
  const rel = target - index - 1;
  if (rel < 0) throw src.error(tok.offset, `${which} target ${target} is before the instruction (jumps go forward only)`);
  if (rel > 255) throw src.error(tok.offset, `${which} target ${target} is ${rel + 1} instructions ahead: conditional jumps reach at most 256`);
  return rel;
}

function parseOperand(
  src: Source,
  mnemonic: string,
  text: string,
  pos: number,
  index: number,
): { form: OperandForm; k: number } {
  const t = text.replace(/\s+/g, "");
  const num = (s: string, at = pos): number => number(src, { text: s, offset: at }, "k", "the operand");
  if (t === "") return { form: "none", k: 0 };
  if (mnemonic === "ja") {
    if (!/^[+-]?\d+$/.test(t)) throw src.error(pos, `ja takes a target instruction number, found "${clip(text)}"`);
    const target = Number(t);
    if (!Number.isSafeInteger(target) || Math.abs(target) > 0xffffffff) throw src.error(pos, `ja target ${t} is out of range`);
    return { form: "target", k: (target - index - 1) >>> 0 };
  }
  if (t === "x" || t === "X" || (mnemonic === "ret" && (t === "a" || t === "A"))) return { form: t === "x" || t === "X" ? "x" : "none", k: 0 };
  if (t === "#pktlen" || t === "#len") return { form: "len", k: 0 };
  if (t.startsWith("#")) return { form: "imm", k: num(t.slice(1), pos + text.indexOf("#") + 1) };
  let m = /^M\[(.+)\]$/i.exec(t);
  if (m) return { form: "mem", k: num(m[1]!) };
  m = /^\[x\+(.+)\]$/i.exec(t);
  if (m) return { form: "ind", k: num(m[1]!) };
  m = /^4\*\(\[(.+)\]&0xf\)$/i.exec(t);
  if (m) return { form: "msh", k: num(m[1]!) };
  m = /^\[(.+)\]$/.exec(t);
  if (m) {
    const anc = ANCILLARY_BY_NAME.get(m[1]!);
    return { form: "abs", k: anc ?? num(m[1]!) };
  }
  throw src.error(pos, `cannot read the operand "${clip(text)}"`);
}
