/**
 * A tokenizer for pcap-filter expressions that follows libpcap's scanner closely enough that the
 * token boundaries match what libpcap sees: longest match wins, keywords are case-sensitive, a
 * word like `10-20` or `tcp-syn` is one token, `1.2.3.4` is an address and not a name. It never
 * throws: characters libpcap would reject become "invalid" tokens, so highlighting and error
 * positions always have something to point at.
 */
import { keywordRole, type KeywordRole } from "./keywords";

export type TokenKind =
  | "keyword"
  | "number"
  | "ipv4" // 1 to 4 dotted numbers (libpcap's HID)
  | "ipv6"
  | "mac"
  | "name" // host, service, protocol or network names; `\escaped` names
  | "op" // punctuation and operators: ( ) [ ] : / + - * % & | ^ << >> = == != < <= > >= ! && ||
  | "invalid";

export interface Token {
  kind: TokenKind;
  text: string;
  /** Offset of the first character in the expression. */
  start: number;
  /** Offset just past the last character. */
  end: number;
  /** For keywords: what the word does in the grammar. */
  role?: KeywordRole;
}

const isDigit = (c: string) => c >= "0" && c <= "9";
const isAlnum = (c: string) => /[A-Za-z0-9]/.test(c);
const isSpace = (c: string) => c === " " || c === "\t" || c === "\n" || c === "\r";

const NUMBER = /^(?:0[xX][0-9A-Fa-f]+|[0-9]+)/;
const HID = /^[0-9]+(?:\.[0-9]+){1,3}/;
const B = "[0-9A-Fa-f]{1,2}";
const B2 = "[0-9A-Fa-f]{4}";
const MAC = new RegExp(
  `^(?:${B}:${B}:${B}:${B}:${B}:${B}|${B}-${B}-${B}-${B}-${B}-${B}|${B}\\.${B}\\.${B}\\.${B}\\.${B}\\.${B}|${B2}\\.${B2}\\.${B2}|[0-9A-Fa-f]{12})`,
);
// IPv6 in any of its textual forms; the trailing dotted quad is allowed. The scanner's pattern is
// long; this one accepts the same strings for every address a user would type.
const IPV6 = /^(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9]+(?:\.[0-9]+){3}|[0-9A-Fa-f]{1,4})?/;
// libpcap's ID: starts alphanumeric, may contain - _ . inside, ends alphanumeric or dot.
const NAME = /^[A-Za-z0-9](?:[-_.A-Za-z0-9]*[.A-Za-z0-9])?/;
const ESCAPED = /^\\[^ !()\n\t]+/;

const OPS = ["&&", "||", ">=", "<=", "!=", "==", "<<", ">>", "(", ")", "[", "]", ":", "/", "+", "-", "*", "%", "&", "|", "^", "=", "<", ">", "!"];

function validIpv6(s: string): boolean {
  const dbl = s.indexOf("::");
  if (dbl !== s.lastIndexOf("::")) return false;
  const groups = s.split(":");
  const hasV4 = /\d+\.\d+\.\d+\.\d+$/.test(s);
  const need = hasV4 ? 7 : 8;
  if (dbl < 0) return groups.length === need && groups.every((g, i) => g.length > 0 || (i === groups.length - 1 && hasV4));
  return groups.length <= need + 1;
}

/** Split an expression into tokens (whitespace dropped). */
export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (isSpace(c)) {
      i++;
      continue;
    }
    const rest = text.slice(i);
    const candidates: { kind: TokenKind; len: number }[] = [];
    const m = (re: RegExp, kind: TokenKind) => {
      const r = re.exec(rest);
      if (r && r[0].length > 0) candidates.push({ kind, len: r[0].length });
    };
    if (isAlnum(c) || c === ":") {
      // Order matters for equal lengths, as in the scanner: number, address, MAC, IPv6, name.
      m(NUMBER, "number");
      m(HID, "ipv4");
      m(MAC, "mac");
      const v6 = IPV6.exec(rest);
      if (v6 && v6[0].includes(":") && validIpv6(v6[0])) candidates.push({ kind: "ipv6", len: v6[0].length });
      m(NAME, "name");
    } else if (c === "\\") {
      m(ESCAPED, "name");
    }
    if (candidates.length > 0) {
      let best = candidates[0]!;
      for (const cand of candidates) if (cand.len > best.len) best = cand;
      // A number directly followed by letters (`80x`) is one bad word to libpcap; keep it whole.
      const word = rest.slice(0, best.len);
      const tok: Token = { kind: best.kind, text: word, start: i, end: i + best.len };
      if (best.kind === "name") {
        const role = keywordRole(word);
        if (role !== undefined) {
          tok.kind = "keyword";
          tok.role = role;
        }
      }
      out.push(tok);
      i += best.len;
      continue;
    }
    const op = OPS.find((o) => rest.startsWith(o));
    if (op !== undefined) {
      out.push({ kind: "op", text: op, start: i, end: i + op.length });
      i += op.length;
      continue;
    }
    // Anything else is a character libpcap's scanner rejects; group a run of them.
    let j = i + 1;
    while (j < text.length && !isSpace(text[j]!) && !isAlnum(text[j]!) && !OPS.some((o) => text.startsWith(o, j))) j++;
    out.push({ kind: "invalid", text: text.slice(i, j), start: i, end: j });
    i = j;
  }
  return out;
}

/** True for a digit-only or 0x token; used where the grammar wants NUM. */
export function isNumberToken(t: Token | undefined): boolean {
  return t !== undefined && (t.kind === "number" || (t.kind === "keyword" && t.role === "named-number"));
}

export { isDigit };
