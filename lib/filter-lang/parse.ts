/**
 * A recognizer for pcap-filter expressions, written from the grammar pcap-filter(7) describes.
 *
 * It exists because libpcap's error text never says where the problem is. libpcap remains the
 * judge of validity: the UI only uses this parser to place libpcap's message (the first token the
 * grammar cannot accept), to find the primitives of an expression, and to know which words may
 * come next (completion). It backtracks freely and reports the furthest point any alternative
 * reached, which is where an LALR parser like libpcap's stops too.
 *
 * Bounded: nesting (parentheses, `not`, unary minus) deeper than MAX_FILTER_DEPTH is a
 * PlaygroundError at the token that goes too deep, never a stack overflow; and every rule is a
 * function of the position alone, so its outcome there is remembered and backtracking costs
 * linear time, not exponential (`(tcp and (tcp and … tcp and` re-ran each level twice).
 */
import { PlaygroundError } from "../errors";
import { CAST_WORDS, OTHER_PRIMITIVES } from "./keywords";
import { isNumberToken, tokenize, type Token } from "./tokens";

export interface Span {
  start: number;
  end: number;
}

export interface Qualifiers {
  proto?: Token;
  dir?: Token[];
  type?: Token;
}

export type FilterNode =
  | { type: "and" | "or"; left: FilterNode; right: FilterNode; span: Span }
  | { type: "not"; operand: FilterNode; span: Span }
  | { type: "paren"; inner: FilterNode; span: Span }
  | {
      type: "primitive";
      quals: Qualifiers;
      /** The id (address, name, number) the qualifiers apply to, if any. */
      value?: Span;
      /** True for a bare id after and/or that reuses the previous primitive's qualifiers. */
      inherited: boolean;
      span: Span;
    }
  | { type: "relation"; op: string; span: Span }
  | { type: "other"; keyword: string; span: Span };

export type PrimitiveNode = Extract<FilterNode, { type: "primitive" | "relation" | "other" }>;

/** What the grammar would have accepted at a position, as labels completion understands. */
export type Expectation =
  | "group:protocol"
  | "group:direction"
  | "group:type"
  | "group:proto"
  | "group:cast"
  | "group:primitive"
  | "group:field"
  | "logical"
  | "not"
  | "len"
  | "mask"
  | "number"
  | "address"
  | "name"
  | "relop"
  | "binop"
  | "byteop"
  | "subtype"
  | `op:${string}`
  | "end";

export interface SyntaxIssue {
  /** Index of the offending token; equals tokens.length when the expression ended too early. */
  tokenIndex: number;
  start: number;
  end: number;
  message: string;
  expected: Expectation[];
}

export interface ParseResult {
  tokens: Token[];
  /** The tree, when the whole expression is grammatical (null for an empty expression). */
  ast: FilterNode | null;
  error?: SyntaxIssue;
  /** Expectations recorded at the end of input (for completion), whether or not parsing succeeded. */
  expectedAtEnd: Expectation[];
}

/**
 * How deeply an expression may nest. libpcap's own LALR stack gives up near 10,000 levels
 * ("memory exhausted"); no real filter comes near this, and the recursive descent here must stay
 * well inside a JavaScript stack (a browser's main thread or a worker).
 */
export const MAX_FILTER_DEPTH = 500;

const RELOPS = new Set([">", ">=", "<", "<=", "=", "==", "!="]);
const BINOPS = new Set(["+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>"]);
const BYTEOPS = new Set(["&", "|", "<", ">", "="]);

/** Whether `e` is parseFilter's refusal of an expression nested deeper than MAX_FILTER_DEPTH. */
export function isTooDeep(e: unknown): e is PlaygroundError & { position: { kind: "text"; offset: number } } {
  return e instanceof PlaygroundError && e.code === "filter/too-deep";
}

/** A rule's outcome at a start position: its result and where it left the position. */
interface Memo<T> {
  result: T;
  end: number;
}

class Parser {
  pos = 0;
  private furthest = -1;
  private readonly expectedAt = new Map<number, Set<Expectation>>();
  private depth = 0;
  private readonly termMemo = new Map<number, Memo<FilterNode | null>>();
  private readonly arithMemo = new Map<number, Memo<boolean>>();
  private readonly idMemo = new Map<number, Memo<boolean>>();

  constructor(
    readonly toks: Token[],
    readonly text: string,
  ) {}

  /**
   * Runs a rule from the current position, or replays its remembered outcome. Replaying is
   * exact: a rule reads nothing but the position, and the expectations it records are already in
   * place from the first run.
   */
  private memo<T>(table: Map<number, Memo<T>>, rule: () => T): T {
    const from = this.pos;
    const seen = table.get(from);
    if (seen) {
      this.pos = seen.end;
      return seen.result;
    }
    if (++this.depth > MAX_FILTER_DEPTH) throw this.tooDeep();
    try {
      const result = rule();
      table.set(from, { result, end: this.pos });
      return result;
    } finally {
      this.depth--;
    }
  }

  private tooDeep(): PlaygroundError {
    const tok = this.toks[this.pos] ?? this.toks[this.toks.length - 1];
    const offset = tok?.start ?? 0;
    const before = this.text.slice(0, offset);
    const line = before.split("\n").length;
    const column = offset - (before.lastIndexOf("\n") + 1) + 1;
    return new PlaygroundError("filter/too-deep", `the expression nests deeper than ${MAX_FILTER_DEPTH} levels (parentheses and not)`, {
      kind: "text",
      line,
      column,
      offset,
    });
  }

  peek(o = 0): Token | undefined {
    return this.toks[this.pos + o];
  }

  /** Record that `what` would have been accepted here; always returns null for chaining. */
  expect(...what: Expectation[]): null {
    let set = this.expectedAt.get(this.pos);
    if (!set) {
      set = new Set();
      this.expectedAt.set(this.pos, set);
    }
    for (const w of what) set.add(w);
    if (this.pos > this.furthest) this.furthest = this.pos;
    return null;
  }

  isWord(t: Token | undefined, ...words: string[]): boolean {
    return t !== undefined && t.kind === "keyword" && words.includes(t.text);
  }
  isOp(t: Token | undefined, ...ops: string[]): boolean {
    return t !== undefined && t.kind === "op" && ops.includes(t.text);
  }
  isRole(t: Token | undefined, role: Token["role"]): boolean {
    return t !== undefined && t.kind === "keyword" && t.role === role;
  }
  isAnd(t: Token | undefined): boolean {
    return this.isWord(t, "and") || this.isOp(t, "&&");
  }
  isOr(t: Token | undefined): boolean {
    return this.isWord(t, "or") || this.isOp(t, "||");
  }
  isNot(t: Token | undefined): boolean {
    return this.isWord(t, "not") || this.isOp(t, "!");
  }

  span(fromTok: number): Span {
    const a = this.toks[fromTok];
    const b = this.toks[this.pos - 1];
    return { start: a?.start ?? 0, end: b?.end ?? a?.end ?? 0 };
  }

  // expr := term ((and|or) (term | id))*
  expr(): FilterNode | null {
    const from = this.pos;
    let left = this.term();
    if (!left) return null;
    let quals = lastQualifiers(left);
    for (;;) {
      const t = this.peek();
      if (!this.isAnd(t) && !this.isOr(t)) {
        this.expect("logical");
        return left;
      }
      const op = this.isAnd(t) ? "and" : "or";
      this.pos++;
      const save = this.pos;
      let right = this.term();
      if (!right) {
        this.pos = save;
        const idFrom = this.pos;
        if (quals && this.id()) {
          right = { type: "primitive", quals, value: this.span(idFrom), inherited: true, span: this.span(idFrom) };
        } else {
          this.pos = save;
          this.term(); // re-run to leave the furthest expectation of the term branch in place
          return null;
        }
      }
      quals = lastQualifiers(right) ?? quals;
      left = { type: op, left, right, span: this.span(from) };
    }
  }

  // term := not term | rterm
  term(): FilterNode | null {
    return this.memo(this.termMemo, () => this.termRule());
  }

  private termRule(): FilterNode | null {
    const from = this.pos;
    if (this.isNot(this.peek())) {
      this.pos++;
      const operand = this.term();
      return operand ? { type: "not", operand, span: this.span(from) } : null;
    }
    if (this.pos >= this.toks.length) {
      this.expect("not", "group:protocol", "group:direction", "group:type", "group:proto", "group:cast", "group:primitive", "len", "number", "op:(");
      return null;
    }
    return this.rterm();
  }

  rterm(): FilterNode | null {
    const from = this.pos;
    // arith relop arith
    const a = this.arith();
    if (a) {
      const op = this.peek();
      if (op?.kind === "op" && RELOPS.has(op.text)) {
        this.pos++;
        if (this.arith()) return { type: "relation", op: op.text, span: this.span(from) };
        return null;
      }
      this.expect("relop", "binop");
    }
    this.pos = from;
    // ( expr )
    if (this.isOp(this.peek(), "(")) {
      this.pos++;
      const inner = this.expr();
      if (inner) {
        if (this.isOp(this.peek(), ")")) {
          this.pos++;
          return { type: "paren", inner, span: this.span(from) };
        }
        this.expect("op:)");
      }
      return null;
    }
    const t = this.peek();
    if (t?.kind === "keyword" && t.role === "primitive") return this.other();
    if (t?.kind === "keyword" && t.role === "field") return this.field();
    if (t?.kind === "keyword" && t.role === "wlan") return this.wlan();
    return this.qualified();
  }

  other(): FilterNode | null {
    const from = this.pos;
    const kw = this.toks[this.pos++]!;
    const shape = OTHER_PRIMITIVES[kw.text];
    const next = this.peek();
    switch (shape) {
      case "num":
        if (!isNumberToken(next)) return this.expect("number");
        this.pos++;
        break;
      case "optnum":
        if (isNumberToken(next)) this.pos++;
        else this.expect("number");
        break;
      case "name":
        if (next === undefined || next.kind === "op" || next.kind === "invalid") return this.expect("name");
        this.pos++;
        break;
      case "optname":
        // LLC frame types (`llc rnr`) include words that are keywords elsewhere.
        if (next?.kind === "name" || (next?.kind === "keyword" && next.role !== "logical")) this.pos++;
        else this.expect("name");
        break;
      case "byte": {
        if (!isNumberToken(this.peek())) return this.expect("number");
        this.pos++;
        const op = this.peek();
        if (!(op?.kind === "op" && BYTEOPS.has(op.text))) return this.expect("byteop");
        this.pos++;
        if (!isNumberToken(this.peek())) return this.expect("number");
        this.pos++;
        break;
      }
      default:
        break;
    }
    return { type: "other", keyword: kw.text, span: this.span(from) };
  }

  // vpi 5, vci > 3, sio = 2, ...
  field(): FilterNode | null {
    const from = this.pos;
    const kw = this.toks[this.pos++]!;
    const op = this.peek();
    if (op?.kind === "op" && RELOPS.has(op.text)) this.pos++;
    if (!isNumberToken(this.peek())) return this.expect("number", "relop");
    this.pos++;
    return { type: "other", keyword: kw.text, span: this.span(from) };
  }

  // type T [subtype S] | subtype S
  wlan(): FilterNode | null {
    const from = this.pos;
    const kw = this.toks[this.pos++]!;
    const v = this.peek();
    if (v === undefined || v.kind === "op" || v.kind === "invalid") return this.expect("name");
    this.pos++;
    if (kw.text === "type") {
      if (this.isWord(this.peek(), "subtype")) {
        this.pos++;
        const s = this.peek();
        if (s === undefined || s.kind === "op" || s.kind === "invalid") return this.expect("name");
        this.pos++;
      } else this.expect("subtype");
    }
    return { type: "other", keyword: kw.text, span: this.span(from) };
  }

  // [proto] [dir] [type] id | [proto] proto|protochain id | [proto] broadcast|multicast | proto
  qualified(): FilterNode | null {
    const from = this.pos;
    const quals: Qualifiers = {};
    if (this.isRole(this.peek(), "protocol")) quals.proto = this.toks[this.pos++]!;
    else this.expect("group:protocol");
    if (this.isRole(this.peek(), "direction")) {
      quals.dir = [this.toks[this.pos++]!];
      const conj = this.peek();
      if ((this.isAnd(conj) || this.isOr(conj)) && this.isRole(this.peek(1), "direction")) {
        quals.dir.push(this.toks[this.pos++]!, this.toks[this.pos++]!);
      }
    } else this.expect("group:direction");
    let wantsId = quals.dir !== undefined;
    if (this.isRole(this.peek(), "type")) {
      quals.type = this.toks[this.pos++]!;
      wantsId = true;
    } else if (quals.dir === undefined && this.isRole(this.peek(), "proto")) {
      quals.type = this.toks[this.pos++]!;
      wantsId = true;
    } else if (quals.dir === undefined && this.isRole(this.peek(), "cast")) {
      const kw = this.toks[this.pos++]!;
      return { type: "other", keyword: kw.text, span: this.span(from) };
    } else {
      this.expect("group:type");
      if (quals.dir === undefined) this.expect("group:proto", "group:cast");
    }
    if (wantsId) {
      const idFrom = this.pos;
      if (!this.id()) return null;
      return { type: "primitive", quals, value: this.span(idFrom), inherited: false, span: this.span(from) };
    }
    if (quals.proto) {
      // A protocol on its own, or the start of `tcp[...]` arithmetic that went wrong.
      if (this.isOp(this.peek(), "[")) return this.expect("op:[");
      return { type: "primitive", quals, inherited: false, span: this.span(from) };
    }
    if (this.pos < this.toks.length) this.expect("group:primitive", "group:field", "not", "op:(", "len", "number");
    return null;
  }

  // id := not id | ( id ((and|or) id)* ) | number | address[/len] | address mask address | mac | name
  id(): boolean {
    return this.memo(this.idMemo, () => this.idRule());
  }

  private idRule(): boolean {
    const t = this.peek();
    if (this.isNot(t)) {
      this.pos++;
      return this.id();
    }
    if (this.isOp(t, "(")) {
      this.pos++;
      if (!this.id()) return false;
      while (this.isAnd(this.peek()) || this.isOr(this.peek())) {
        this.pos++;
        if (!this.id()) return false;
      }
      if (!this.isOp(this.peek(), ")")) {
        this.expect("op:)", "logical");
        return false;
      }
      this.pos++;
      return true;
    }
    if (t === undefined) {
      this.expect("address", "name", "number");
      return false;
    }
    if (isNumberToken(t) || t.kind === "mac" || t.kind === "name") {
      this.pos++;
      return true;
    }
    if (t.kind === "ipv4" || t.kind === "ipv6") {
      this.pos++;
      if (this.isOp(this.peek(), "/")) {
        this.pos++;
        if (!isNumberToken(this.peek())) {
          this.expect("number");
          return false;
        }
        this.pos++;
      } else if (t.kind === "ipv4" && this.isWord(this.peek(), "mask")) {
        this.pos++;
        if (this.peek()?.kind !== "ipv4") {
          this.expect("address");
          return false;
        }
        this.pos++;
      } else this.expect("op:/", "mask");
      return true;
    }
    this.expect("address", "name", "number");
    return false;
  }

  // arith := aterm (binop aterm)*
  arith(): boolean {
    return this.memo(this.arithMemo, () => this.arithRule());
  }

  private arithRule(): boolean {
    if (!this.aterm()) return false;
    for (;;) {
      const op = this.peek();
      if (!(op?.kind === "op" && BINOPS.has(op.text))) return true;
      this.pos++;
      if (!this.aterm()) return false;
    }
  }

  // aterm := number | len | - aterm | ( arith ) | proto [ arith [: number] ]
  aterm(): boolean {
    const t = this.peek();
    if (isNumberToken(t) || this.isRole(t, "len")) {
      this.pos++;
      return true;
    }
    if (this.isOp(t, "-")) {
      // - - - … 5: a loop, not a recursion.
      while (this.isOp(this.peek(), "-")) this.pos++;
      return this.aterm();
    }
    if (this.isOp(t, "(")) {
      this.pos++;
      if (!this.arith()) return false;
      if (!this.isOp(this.peek(), ")")) {
        this.expect("op:)", "binop");
        return false;
      }
      this.pos++;
      return true;
    }
    if (this.isRole(t, "protocol") && this.isOp(this.peek(1), "[")) {
      this.pos += 2;
      if (!this.arith()) return false;
      if (this.isOp(this.peek(), ":")) {
        this.pos++;
        if (!isNumberToken(this.peek())) {
          this.expect("number");
          return false;
        }
        this.pos++;
      } else this.expect("op::");
      if (!this.isOp(this.peek(), "]")) {
        this.expect("op:]", "binop");
        return false;
      }
      this.pos++;
      return true;
    }
    this.expect("number", "len");
    return false;
  }

  furthestIssue(): SyntaxIssue | undefined {
    if (this.furthest < 0) return undefined;
    const at = this.furthest;
    const tok = this.toks[at];
    const expected = [...(this.expectedAt.get(at) ?? [])];
    const last = this.toks[this.toks.length - 1];
    if (tok === undefined) {
      const end = last?.end ?? 0;
      return { tokenIndex: at, start: end, end, message: "the expression ends too early", expected };
    }
    return { tokenIndex: at, start: tok.start, end: tok.end, message: `unexpected "${tok.text}"`, expected };
  }

  expectedAtEnd(): Expectation[] {
    return [...(this.expectedAt.get(this.toks.length) ?? [])];
  }
}

/** The qualifiers a bare id after and/or would inherit from this subtree (its last primitive). */
function lastQualifiers(root: FilterNode): Qualifiers | undefined {
  // Right to left through and/or chains (which may be long), without recursion.
  const todo: FilterNode[] = [root];
  for (let n = todo.pop(); n !== undefined; n = todo.pop()) {
    switch (n.type) {
      case "primitive":
        if (n.value !== undefined) return n.quals;
        break;
      case "and":
      case "or":
        todo.push(n.left, n.right);
        break;
      case "not":
        todo.push(n.operand);
        break;
      default:
        break;
    }
  }
  return undefined;
}

export function parseFilter(text: string): ParseResult {
  const tokens = tokenize(text);
  const p = new Parser(tokens, text);
  if (tokens.length === 0) {
    p.expect("not", "group:protocol", "group:direction", "group:type", "group:proto", "group:cast", "group:primitive", "len", "number", "op:(");
    return { tokens, ast: null, expectedAtEnd: p.expectedAtEnd() };
  }
  const bad = tokens.findIndex((t) => t.kind === "invalid");
  const ast = p.expr();
  const complete = ast !== null && p.pos === tokens.length;
  if (!complete && ast !== null) p.expect("end");
  const result: ParseResult = { tokens, ast: complete ? ast : null, expectedAtEnd: p.expectedAtEnd() };
  if (!complete) {
    const issue = p.furthestIssue();
    if (issue) {
      // A character the scanner rejects stops libpcap before anything the grammar says.
      if (bad >= 0 && bad < issue.tokenIndex) {
        const t = tokens[bad]!;
        result.error = { tokenIndex: bad, start: t.start, end: t.end, message: `unexpected character "${t.text}"`, expected: [] };
      } else result.error = issue;
    }
  }
  return result;
}

/** The leaves of a tree: every primitive, relation and stand-alone test, in source order. */
export function primitivesOf(node: FilterNode | null): PrimitiveNode[] {
  const out: PrimitiveNode[] = [];
  // An explicit stack: a chain of 10,000 `and`s is a tree 10,000 deep.
  const todo: FilterNode[] = node ? [node] : [];
  for (let n = todo.pop(); n !== undefined; n = todo.pop()) {
    switch (n.type) {
      case "and":
      case "or":
        todo.push(n.right, n.left);
        break;
      case "not":
        todo.push(n.operand);
        break;
      case "paren":
        todo.push(n.inner);
        break;
      default:
        out.push(n);
    }
  }
  return out;
}

/**
 * The text of a primitive as a filter of its own: its source text, with the inherited qualifiers
 * spelled out for a bare id (`host a or b` gives `host b` for `b`).
 */
export function standaloneText(source: string, prim: PrimitiveNode): string {
  const own = source.slice(prim.span.start, prim.span.end);
  if (prim.type !== "primitive" || !prim.inherited) return own;
  const q = prim.quals;
  const words = [q.proto?.text, ...(q.dir ?? []).map((t) => t.text), q.type?.text].filter((w): w is string => !!w);
  return `${words.join(" ")} ${own}`;
}

export { CAST_WORDS };
