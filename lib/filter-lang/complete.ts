/**
 * Completion for the filter editor: the words the grammar accepts at the cursor, from the
 * parser's expectations at the end of the text before it. Falls back to every keyword when the
 * text before the cursor is already wrong (the user may be fixing it).
 */
import { describeWord } from "./docs";
import {
  CAST_WORDS,
  DIRECTIONS,
  FIELD_WORDS,
  LEN_WORDS,
  OTHER_PRIMITIVES,
  PROTOCOLS,
  PROTO_WORDS,
  TYPES,
  WLAN_WORDS,
  allKeywords,
} from "./keywords";
import { isTooDeep, parseFilter, type Expectation, type ParseResult } from "./parse";

export interface Completion {
  label: string;
  /** Text to insert (differs from the label for snippets such as `tcp[tcpflags]`). */
  insert: string;
  category: string;
  doc: string;
  /** Lower sorts first. */
  rank: number;
}

export interface CompletionResult {
  /** Start offset of the partial word being replaced. */
  from: number;
  to: number;
  items: Completion[];
}

const WORD_CHARS = /[A-Za-z0-9_.\-]/;

const GROUP_WORDS: Partial<Record<Expectation, readonly string[]>> = {
  "group:protocol": PROTOCOLS,
  "group:direction": DIRECTIONS.filter((d) => !d.startsWith("address")),
  "group:type": TYPES,
  "group:proto": PROTO_WORDS,
  "group:cast": CAST_WORDS,
  "group:primitive": Object.keys(OTHER_PRIMITIVES),
  "group:field": FIELD_WORDS,
  logical: ["and", "or"],
  not: ["not"],
  len: LEN_WORDS.slice(0, 1),
  mask: ["mask"],
  subtype: ["subtype"],
};

const RANK: Partial<Record<Expectation, number>> = {
  logical: 0,
  "group:type": 1,
  "group:direction": 2,
  "group:protocol": 3,
  not: 4,
  "group:proto": 5,
  "group:cast": 6,
  len: 7,
  mask: 7,
  subtype: 7,
  "group:primitive": 8,
  "group:field": 9,
};

// Common protocols first within their group.
const POPULAR = ["tcp", "udp", "ip", "ip6", "icmp", "arp", "ether", "icmp6", "sctp", "vlan", "host", "port", "net", "src", "dst"];

export function completeFilter(text: string, offset: number): CompletionResult {
  let from = offset;
  while (from > 0 && WORD_CHARS.test(text[from - 1]!)) from--;
  const prefix = text.slice(from, offset);
  let parsed: ParseResult;
  try {
    parsed = parseFilter(text.slice(0, from));
  } catch (e) {
    // Nesting too deep to parse: nothing sensible to offer.
    if (isTooDeep(e)) return { from, to: offset, items: [] };
    throw e;
  }
  const expected = parsed.expectedAtEnd;
  const items: Completion[] = [];
  const seen = new Set<string>();
  const push = (word: string, rank: number) => {
    if (seen.has(word) || !word.startsWith(prefix)) return;
    seen.add(word);
    const doc = describeWord(word);
    const pop = POPULAR.indexOf(word);
    items.push({
      label: word,
      insert: word,
      category: doc?.category ?? "",
      doc: doc?.text ?? "",
      rank: rank * 100 + (pop >= 0 ? pop : 50),
    });
  };
  if (expected.length === 0 || parsed.error && parsed.error.tokenIndex < parsed.tokens.length) {
    for (const w of allKeywords()) if (!w.includes("-") && !w.startsWith("icmp6")) push(w, 10);
  } else {
    for (const e of expected) {
      const words = GROUP_WORDS[e];
      if (words) for (const w of words) push(w, RANK[e] ?? 10);
    }
    // Where arithmetic may start, offer the packet accessors.
    if (expected.includes("number") && expected.includes("group:protocol")) {
      for (const p of ["ether", "ip", "ip6", "tcp", "udp", "icmp"]) {
        const label = `${p}[]`;
        if (!label.startsWith(prefix) && !p.startsWith(prefix)) continue;
        items.push({ label, insert: `${p}[`, category: "packet bytes", doc: `Bytes of the ${p} header: \`${p}[offset:size]\`, size 1, 2 or 4.`, rank: 1100 });
      }
    }
    // After `tcp[`/`icmp[` inside brackets, the named offsets help.
    if (expected.includes("number") && !expected.includes("group:protocol")) {
      for (const w of ["tcpflags", "tcp-syn", "tcp-ack", "tcp-fin", "tcp-rst", "tcp-push", "icmptype", "icmp-echo", "icmp-echoreply"]) push(w, 12);
    }
  }
  items.sort((a, b) => a.rank - b.rank || a.label.localeCompare(b.label));
  return { from, to: offset, items };
}

export { WLAN_WORDS };
