/**
 * The IDE's Monaco languages: the pcap-filter expression (tokens, completion, hover from
 * lib/filter-lang), the cBPF listings (`-d` and the numeric `-dd`/`-ddd`), the eBPF listing and
 * the verifier log. Registered once per page.
 */
import type * as Monaco from "monaco-editor/editor";
import { describeInsn, formatInsn } from "../../../lib/cbpf/format";
import { completeFilter, describeWord, tokenize, type Token } from "../../../lib/filter-lang";
import { HELPER_ID_BY_NAME } from "../../../lib/ebpf";
import { parseLogLine } from "../../../lib/verifier/log-parse";
import { listingContext } from "./context";
import { CBPF_WORDS, cbpfHover } from "./docs/cbpf";
import { EBPF_WORDS, ebpfHelperHover, ebpfOpcodeHover, ebpfRegisterHover } from "./docs/ebpf";

export const LANG = {
  filter: "pcap-filter",
  cbpf: "cbpf",
  cbpfRaw: "cbpf-raw",
  ebpf: "ebpf",
  log: "bpf-verifier-log",
} as const;

function scopeOf(t: Token): string {
  switch (t.kind) {
    case "keyword":
      switch (t.role) {
        case "protocol":
          return "keyword.protocol";
        case "direction":
          return "keyword.direction";
        case "type":
          return "keyword.type";
        case "logical":
          return "operator.logical";
        case "named-number":
          return "number.named";
        default:
          return "keyword.primitive";
      }
    case "number":
      return "number";
    case "ipv4":
    case "ipv6":
    case "mac":
      return "address";
    case "name":
      return "identifier";
    case "op":
      return t.text === "!" || t.text === "&&" || t.text === "||" ? "operator.logical" : "operator";
    default:
      return "invalid";
  }
}

class NoState implements Monaco.languages.IState {
  clone(): Monaco.languages.IState {
    return this;
  }
  equals(other: Monaco.languages.IState): boolean {
    return other === this;
  }
}
const NO_STATE = new NoState();

function wordAt(line: string, column: number, re: RegExp): { text: string; start: number; end: number } | undefined {
  re.lastIndex = 0;
  for (let m = re.exec(line); m; m = re.exec(line)) {
    const start = m.index + 1;
    const end = start + m[0].length;
    if (column >= start && column <= end) return { text: m[0], start, end };
  }
  return undefined;
}

const md = (value: string): Monaco.IMarkdownString => ({ value });

function registerFilter(monaco: typeof Monaco): void {
  monaco.languages.register({ id: LANG.filter });
  monaco.languages.setTokensProvider(LANG.filter, {
    getInitialState: () => NO_STATE,
    tokenize(line) {
      const toks = tokenize(line);
      const tokens: Monaco.languages.IToken[] = [];
      if ((toks[0]?.start ?? 1) > 0) tokens.push({ startIndex: 0, scopes: "" });
      for (const t of toks) {
        tokens.push({ startIndex: t.start, scopes: scopeOf(t) });
        tokens.push({ startIndex: t.end, scopes: "" });
      }
      return { tokens, endState: NO_STATE };
    },
  });
  monaco.languages.registerCompletionItemProvider(LANG.filter, {
    triggerCharacters: [" ", "("],
    provideCompletionItems(model, position) {
      const text = model.getValue();
      const offset = model.getOffsetAt(position);
      const r = completeFilter(text, offset);
      const from = model.getPositionAt(r.from);
      const range = new monaco.Range(from.lineNumber, from.column, position.lineNumber, position.column);
      const kindOf = (cat: string) =>
        cat.includes("protocol") ? monaco.languages.CompletionItemKind.Module
        : cat.includes("operator") ? monaco.languages.CompletionItemKind.Operator
        : cat.includes("qualifier") ? monaco.languages.CompletionItemKind.Keyword
        : cat.includes("constant") ? monaco.languages.CompletionItemKind.Constant
        : monaco.languages.CompletionItemKind.Function;
      return {
        suggestions: r.items.map((it, i) => ({
          label: { label: it.label, description: it.category },
          kind: kindOf(it.category),
          insertText: it.insert,
          documentation: md(it.doc),
          range,
          sortText: String(i).padStart(4, "0"),
        })),
      };
    },
  });
  monaco.languages.registerHoverProvider(LANG.filter, {
    provideHover(model, position) {
      const line = model.getLineContent(position.lineNumber);
      const tok = tokenize(line).find((t) => position.column - 1 >= t.start && position.column - 1 <= t.end);
      if (!tok) return null;
      const range = new monaco.Range(position.lineNumber, tok.start + 1, position.lineNumber, tok.end + 1);
      const doc = describeWord(tok.text);
      if (doc) return { range, contents: [md(`**${doc.word}** — ${doc.category}`), md(doc.text)] };
      const what = { number: "number", ipv4: "IPv4 address (1–4 dotted parts)", ipv6: "IPv6 address", mac: "MAC address", name: "name (host, service, protocol or network), resolved by libpcap", op: "operator", invalid: "a character libpcap's scanner rejects", keyword: "keyword" }[tok.kind];
      return { range, contents: [md(`\`${tok.text}\` — ${what}`)] };
    },
  });
}

const CBPF_LINE = /^\((\d+)\) (\S+)\s*(.*?)(?:\s+jt (\d+)\s+jf (\d+))?\s*$/;

function registerCbpf(monaco: typeof Monaco): void {
  monaco.languages.register({ id: LANG.cbpf });
  monaco.languages.setMonarchTokensProvider(LANG.cbpf, {
    tokenizer: {
      root: [
        [/^\(\d+\)/, "insn-index"],
        [/\b(ldh|ldb|ldxb|ldx|ld|stx|st|jeq|jgt|jge|jset|ja|add|sub|mul|div|mod|and|or|xor|lsh|rsh|neg|tax|txa)\b/, "mnemonic"],
        [/\bret\b/, "mnemonic.ret"],
        [/\bunimp\b/, "invalid"],
        [/#pktlen/, "register"],
        [/#-?0x[0-9a-fA-F]+|#-?\d+/, "number"],
        [/\bM\[\d+\]/, "register"],
        [/\b(jt|jf)\b/, "keyword.jump"],
        [/\bx\b/, "register"],
        [/\b\d+\b/, "number.target"],
        [/[[\]()*&+]/, "delimiter"],
        [/[a-z_]+/, "identifier"],
      ],
    },
  });
  monaco.languages.registerHoverProvider(LANG.cbpf, {
    provideHover(model, position) {
      const line = model.getLineContent(position.lineNumber);
      const m = CBPF_LINE.exec(line);
      if (!m) return null;
      const index = Number(m[1]);
      const word = wordAt(line, position.column, /#pktlen|M\[\d+\]|\bjt\b|\bjf\b|\bx\b/g);
      if (word && position.column > m[1]!.length + 3 + m[2]!.length) {
        const key = word.text.startsWith("M[") ? "M" : word.text;
        const doc = CBPF_WORDS[key];
        if (doc) return { range: new monaco.Range(position.lineNumber, word.start, position.lineNumber, word.end), contents: [md(doc)] };
      }
      const insn = listingContext.cbpf?.[index];
      const contents = [md(cbpfHover(m[2]!, m[3]!.trim(), insn, index))];
      const ebpf = listingContext.ebpf;
      const made = ebpf?.linesByCbpf[index];
      if (ebpf && made) contents.push(md(made.length === 0 ? "_No eBPF instruction (unreachable, or folded into another)._" : `eBPF (${ebpf.target}): ${made.length} instruction${made.length === 1 ? "" : "s"}, lines ${made.map((l) => l + 1).join(", ")}`));
      return { range: new monaco.Range(position.lineNumber, 1, position.lineNumber, line.length + 1), contents };
    },
  });

  // -dd and -ddd: numbers only; the hover decodes the line back into its instruction.
  monaco.languages.register({ id: LANG.cbpfRaw });
  monaco.languages.setMonarchTokensProvider(LANG.cbpfRaw, {
    tokenizer: { root: [[/0x[0-9a-fA-F]+/, "number.hex"], [/\d+/, "number"], [/[{},]/, "delimiter"]] },
  });
  monaco.languages.registerHoverProvider(LANG.cbpfRaw, {
    provideHover(model, position) {
      const line = model.getLineContent(position.lineNumber);
      const nums = line.match(/0x[0-9a-fA-F]+|\d+/g);
      if (!nums || nums.length !== 4) return null;
      const [code, jt, jf, k] = nums.map((n) => Number(n) >>> 0) as [number, number, number, number];
      const isDdd = !line.includes("{");
      const index = position.lineNumber - (isDdd ? 2 : 1);
      const insn = { code, jt, jf, k };
      const text = formatInsn(insn, index);
      const parts = CBPF_LINE.exec(text);
      const contents = [md("```\n" + text + "\n```")];
      if (parts) contents.push(md(cbpfHover(parts[2]!, parts[3]!.trim(), insn, index)));
      else contents.push(md(describeInsn(insn, index)));
      return { range: new monaco.Range(position.lineNumber, 1, position.lineNumber, line.length + 1), contents };
    },
  });
}

const EBPF_TOKENS: Monaco.languages.IMonarchLanguageRule[] = [
  [/\([0-9a-f]{2}\)/, "opcode"],
  [/\b[rw](10|[0-9])\b/, "register"],
  [/\b(if|goto|gotol|call|exit|lock|may_goto|nospec)\b/, "keyword"],
  [/\b(u8|u16|u32|u64|s8|s16|s32)\b/, "type"],
  [/\b(be16|be32|be64|le16|le32|le64|bswap16|bswap32|bswap64)\b/, "keyword.swap"],
  [/\b[a-z_][a-z0-9_]*#-?\d+/, "helper"],
  [/\bpc[+-]\d+/, "number.target"],
  [/\bskb\b/, "keyword"],
  [/-?0x[0-9a-fA-F]+/, "number.hex"],
  [/-?\d+/, "number"],
  [/s?[<>]=?|[=!]=|[-+*/%&|^]=?|<<=?|>>=?|s>>=|=/, "operator"],
  [/[()[\]*]/, "delimiter"],
];

function ebpfHover(monaco: typeof Monaco, model: Monaco.editor.ITextModel, position: Monaco.Position, withProvenance: boolean): Monaco.languages.Hover | null {
  const line = model.getLineContent(position.lineNumber);
  const lineRange = (w: { start: number; end: number }) => new monaco.Range(position.lineNumber, w.start, position.lineNumber, w.end);
  const op = wordAt(line, position.column, /\([0-9a-f]{2}\)/g);
  if (op) return { range: lineRange(op), contents: [md(ebpfOpcodeHover(parseInt(op.text.slice(1, 3), 16)))] };
  const reg = wordAt(line, position.column, /\b[rw](10|[0-9])\b/g);
  if (reg) return { range: lineRange(reg), contents: [md(ebpfRegisterHover(reg.text, listingContext.ebpf?.registerRoles[reg.text.replace(/^w/, "r")]))] };
  const helper = wordAt(line, position.column, /\b[a-z_][a-z0-9_]*#-?\d+/g);
  if (helper) {
    const name = helper.text.split("#")[0]!;
    return { range: lineRange(helper), contents: [md(ebpfHelperHover(name, HELPER_ID_BY_NAME.get(name)))] };
  }
  const word = wordAt(line, position.column, /\b[a-z][a-z0-9]*\b/g);
  if (word && EBPF_WORDS[word.text]) return { range: lineRange(word), contents: [md(EBPF_WORDS[word.text]!)] };
  // Listing lines and log lines alike start with `N:` (the listing prints the log's own format).
  const parsed = parseLogLine(line);
  const slot = parsed.kind === "insn" || parsed.kind === "state" || parsed.kind === "safe" ? parsed.insn : null;
  const slotEnd = String(slot).length + 1;
  if (slot !== null && position.column <= slotEnd + 1) {
    const ebpf = listingContext.ebpf;
    const lineIdx = withProvenance ? position.lineNumber - 1 : ebpf?.lineOfSlot[slot];
    const prov = lineIdx !== undefined ? ebpf?.provenance[lineIdx] : undefined;
    if (!prov) return null;
    let text: string;
    if (prov.origin === "cbpf") {
      const insn = listingContext.cbpf?.[prov.index];
      text = `made from cBPF instruction **${prov.index}**${insn ? `: \`${describeInsn(insn, prov.index)}\`` : ""}`;
    } else text = `**${prov.origin}** — added by the translation`;
    if (prov.note) text += `\n\n${prov.note}`;
    return { range: lineRange({ start: 1, end: slotEnd + 1 }), contents: [md(text)] };
  }
  return null;
}

function registerEbpf(monaco: typeof Monaco): void {
  monaco.languages.register({ id: LANG.ebpf });
  monaco.languages.setMonarchTokensProvider(LANG.ebpf, {
    tokenizer: { root: [[/^\d+:/, "insn-index"], [/;.*$/, "comment"], ...EBPF_TOKENS] },
  });
  monaco.languages.registerHoverProvider(LANG.ebpf, { provideHover: (model, position) => ebpfHover(monaco, model, position, true) });

  monaco.languages.register({ id: LANG.log });
  monaco.languages.setMonarchTokensProvider(LANG.log, {
    tokenizer: {
      root: [
        [/^(processed|verification time|stack depth|mark_precise|last_idx|regs=|parent).*$/, "comment"],
        [/^from \d+ to \d+:/, "keyword.branch"],
        [/^\d+:/, "insn-index"],
        [/\b(R\d+|fp-?\d+)(_[rwD]+)?(?==)/, "register.state"],
        [/\b(ctx|scalar|pkt|pkt_end|pkt_meta|map_value|map_ptr|mem|var_off|smin|smax|umin|umax|smin32|smax32|umin32|umax32)\b/, "type"],
        [/\b(invalid|unreachable|permission denied|misaligned|out of bounds|math between|!read_ok).*$/, "invalid"],
        [/\bsafe\b/, "keyword.safe"],
        ...EBPF_TOKENS,
      ],
    },
  });
  monaco.languages.registerHoverProvider(LANG.log, { provideHover: (model, position) => ebpfHover(monaco, model, position, false) });
}

let registered = false;

export function registerLanguages(monaco: typeof Monaco): void {
  if (registered) return;
  registered = true;
  registerFilter(monaco);
  registerCbpf(monaco);
  registerEbpf(monaco);
}
