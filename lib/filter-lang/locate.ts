/**
 * Where in the expression is libpcap's complaint about? libpcap reports "syntax error" or a
 * sentence ("unknown host 'foo'", "illegal port number 99999 > 65535") without a position. This
 * puts the message on a span of the text, trying in order:
 *
 * 1. syntax errors: the first token the grammar cannot accept (our own parser, see parse.ts);
 * 2. a word the message quotes or a number it names, found among the tokens;
 * 3. probing: compile each primitive on its own (through a callback, since libpcap lives on the
 *    server) and take the first that fails with the same message;
 * 4. otherwise the whole expression.
 *
 * An expression nested deeper than our parser goes (MAX_FILTER_DEPTH; libpcap itself says
 * "memory exhausted" near 10,000 levels) gets the message at the token that goes too deep.
 */
import { isTooDeep, parseFilter, primitivesOf, standaloneText, type Expectation, type ParseResult } from "./parse";
import { tokenize, type Token } from "./tokens";

export interface ErrorLocation {
  start: number;
  end: number;
  /** How the span was found, for the UI's tooltip and for tests. */
  how: "syntax" | "quoted" | "probe" | "depth" | "whole";
  /** For syntax errors: what would have been accepted there. */
  expected?: Expectation[];
}

/** Compiles a filter on its own and returns libpcap's error, or null when it compiles. */
export type ProbeCompile = (filter: string) => string | null;

const SYNTAX = /syntax error/i;

export function locateError(filter: string, message: string, probe?: ProbeCompile): ErrorLocation {
  let parsed: ParseResult;
  try {
    parsed = parseFilter(filter);
  } catch (e) {
    if (!isTooDeep(e)) throw e;
    const at = e.position.offset;
    const tok = tokenize(filter).find((t) => t.start === at);
    return { start: at, end: tok?.end ?? at, how: "depth" };
  }
  const whole = (): ErrorLocation => wholeSpan(filter, parsed.tokens);
  if (SYNTAX.test(message)) {
    if (parsed.error) {
      const loc: ErrorLocation = { start: parsed.error.start, end: parsed.error.end, how: "syntax", expected: parsed.error.expected };
      return loc;
    }
  } else {
    const quoted = findQuoted(message, parsed.tokens);
    if (quoted) return { start: quoted.start, end: quoted.end, how: "quoted" };
  }
  if (probe && parsed.ast) {
    const prims = primitivesOf(parsed.ast);
    if (prims.length > 1) {
      for (const prim of prims) {
        const err = safeProbe(probe, standaloneText(filter, prim));
        if (err !== null && err === message) return { start: prim.span.start, end: prim.span.end, how: "probe" };
      }
    }
  }
  if (SYNTAX.test(message) && parsed.error) return { start: parsed.error.start, end: parsed.error.end, how: "syntax" };
  return whole();
}

function safeProbe(probe: ProbeCompile, text: string): string | null {
  try {
    return probe(text);
  } catch {
    return null;
  }
}

function wholeSpan(filter: string, tokens: Token[]): ErrorLocation {
  const first = tokens[0];
  const last = tokens[tokens.length - 1];
  return { start: first?.start ?? 0, end: last?.end ?? filter.length, how: "whole" };
}

/**
 * The token a message names: a quoted word ('foo', "10.0.0.1/8"), else a number that appears in
 * both (the first such number in the message, which libpcap puts before any limit it quotes).
 */
function findQuoted(message: string, tokens: Token[]): { start: number; end: number } | undefined {
  const quotes = [...message.matchAll(/'([^']+)'|"([^"]+)"/g)].map((m) => m[1] ?? m[2] ?? "");
  for (const q of quotes) {
    const exact = tokens.find((t) => t.text === q);
    if (exact) return exact;
    // "10.0.0.1/8" spans three tokens: address, slash, length.
    for (let i = 0; i < tokens.length; i++) {
      let text = "";
      for (let j = i; j < tokens.length && text.length < q.length; j++) {
        text += tokens[j]!.text;
        if (text === q) return { start: tokens[i]!.start, end: tokens[j]!.end };
      }
    }
  }
  for (const m of message.matchAll(/\b(0x[0-9a-f]+|\d+)\b/gi)) {
    const num = m[1]!;
    const tok = tokens.find((t) => (t.kind === "number" || t.kind === "name") && t.text === num);
    if (tok) return tok;
  }
  return undefined;
}
