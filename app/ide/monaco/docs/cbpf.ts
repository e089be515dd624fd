/**
 * Hover documentation for classic BPF, one entry per instruction form tcpdump prints. Written
 * for this project from the semantics in lib/cbpf (libpcap's interpreter, with the kernel's
 * differences noted where they exist).
 */
import type { CbpfInsn } from "../../../../lib/cbpf/insn";

interface FormDoc {
  title: string;
  effect: string;
  notes?: string;
}

const CLASS_NAMES = ["BPF_LD", "BPF_LDX", "BPF_ST", "BPF_STX", "BPF_ALU", "BPF_JMP", "BPF_RET", "BPF_MISC"];
const SIZE_NAMES: Record<number, string> = { 0x00: "BPF_W", 0x08: "BPF_H", 0x10: "BPF_B" };
const MODE_NAMES: Record<number, string> = { 0x00: "BPF_IMM", 0x20: "BPF_ABS", 0x40: "BPF_IND", 0x60: "BPF_MEM", 0x80: "BPF_LEN", 0xa0: "BPF_MSH" };
const ALU_NAMES: Record<number, string> = { 0x00: "BPF_ADD", 0x10: "BPF_SUB", 0x20: "BPF_MUL", 0x30: "BPF_DIV", 0x40: "BPF_OR", 0x50: "BPF_AND", 0x60: "BPF_LSH", 0x70: "BPF_RSH", 0x80: "BPF_NEG", 0x90: "BPF_MOD", 0xa0: "BPF_XOR" };
const JMP_NAMES: Record<number, string> = { 0x00: "BPF_JA", 0x10: "BPF_JEQ", 0x20: "BPF_JGT", 0x30: "BPF_JGE", 0x40: "BPF_JSET" };

/** `BPF_LD|BPF_H|BPF_ABS` for 0x28: the symbolic spelling of an opcode. */
export function cbpfOpcodeName(code: number): string {
  const cls = code & 0x07;
  const parts = [CLASS_NAMES[cls]!];
  if (cls === 0 || cls === 1) parts.push(SIZE_NAMES[code & 0x18] ?? `size 0x${(code & 0x18).toString(16)}`, MODE_NAMES[code & 0xe0] ?? `mode 0x${(code & 0xe0).toString(16)}`);
  else if (cls === 4) parts.push(ALU_NAMES[code & 0xf0] ?? "?", code & 0x08 ? "BPF_X" : "BPF_K");
  else if (cls === 5) parts.push(JMP_NAMES[code & 0xf0] ?? "?", code & 0x08 ? "BPF_X" : "BPF_K");
  else if (cls === 6) parts.push((code & 0x18) === 0x10 ? "BPF_A" : (code & 0x18) === 0x08 ? "BPF_X" : "BPF_K");
  else if (cls === 7) parts.push((code & 0xf8) === 0x80 ? "BPF_TXA" : "BPF_TAX");
  return parts.join("|");
}

const SIZE_WORD: Record<string, string> = { ld: "word (4 bytes)", ldh: "half-word (2 bytes)", ldb: "byte" };

/** The form of an instruction, from its mnemonic and operand text (as `tcpdump -d` prints them). */
export function cbpfFormDoc(op: string, operand: string): FormDoc {
  const ind = /^\[x \+ (-?\d+)\]$/.exec(operand);
  const abs = /^\[(-?\d+|[a-z_]+)\]$/.exec(operand);
  switch (op) {
    case "ld":
    case "ldh":
    case "ldb":
      if (operand === "#pktlen") return { title: "load packet length", effect: "A ← length of the packet on the wire", notes: "libpcap reads the wire length; the kernel reads skb->len." };
      if (operand.startsWith("#")) return { title: "load immediate", effect: `A ← ${operand.slice(1)}` };
      if (operand.startsWith("M[")) return { title: "load scratch word", effect: `A ← ${operand}`, notes: "The kernel refuses a program that may read M[n] before storing it." };
      if (ind) return { title: `load ${SIZE_WORD[op]}, indexed`, effect: `A ← packet[X + ${ind[1]}] (${SIZE_WORD[op]}, big-endian)`, notes: "Out of bounds: the filter returns 0 at once. libpcap also returns 0 when X + k overflows 32 bits; the kernel wraps." };
      if (abs) {
        if (/^[a-z_]+$/.test(abs[1]!)) return { title: "load ancillary data", effect: `A ← skb->${abs[1]} (Linux ancillary offset SKF_AD_OFF + n)`, notes: "Only the kernel knows the socket buffer; libpcap's userland interpreter returns 0." };
        return { title: `load ${SIZE_WORD[op]}, absolute`, effect: `A ← packet[${abs[1]}] (${SIZE_WORD[op]}, big-endian)`, notes: "Out of bounds: the filter returns 0 at once." };
      }
      return { title: "load", effect: `A ← ${operand}` };
    case "ldx":
      if (operand === "#pktlen") return { title: "load packet length into X", effect: "X ← packet length" };
      if (operand.startsWith("#")) return { title: "load immediate into X", effect: `X ← ${operand.slice(1)}` };
      if (operand.startsWith("M[")) return { title: "load scratch word into X", effect: `X ← ${operand}` };
      return { title: "load into X", effect: `X ← ${operand}` };
    case "ldxb":
      return { title: "load IPv4 header length", effect: `X ← 4 × (packet${operand.replace(/^4\*\(|&0xf\)$/g, "")} & 0xf)`, notes: "BPF_MSH: the IHL nibble of the byte times four, i.e. the IPv4 header length in bytes; tcpdump uses it to find the transport header." };
    case "st":
      return { title: "store A in scratch memory", effect: `${operand} ← A`, notes: "16 scratch words M[0..15], per run." };
    case "stx":
      return { title: "store X in scratch memory", effect: `${operand} ← X` };
    case "ja":
      return { title: "jump always", effect: `goto ${operand}`, notes: "The offset is relative; tcpdump prints the absolute target. Only libpcap's protochain emits a backward ja, which the kernel refuses." };
    case "jeq":
    case "jgt":
    case "jge":
    case "jset": {
      const test = { jeq: "A == v", jgt: "A > v (unsigned)", jge: "A >= v (unsigned)", jset: "(A & v) != 0" }[op];
      const v = operand === "x" ? "X" : operand.replace(/^#/, "");
      return { title: `conditional jump (${op})`, effect: `if ${test!.replace(/\bv\b/, v)} goto jt else goto jf`, notes: "Both targets are forward, relative offsets (0..255); tcpdump prints them as absolute instruction numbers." };
    }
    case "add":
    case "sub":
    case "mul":
    case "div":
    case "mod":
    case "and":
    case "or":
    case "xor":
    case "lsh":
    case "rsh": {
      const sym = { add: "+", sub: "-", mul: "×", div: "/", mod: "%", and: "&", or: "|", xor: "^", lsh: "<<", rsh: ">>" }[op]!;
      const v = operand === "x" ? "X" : operand.replace(/^#/, "");
      let notes = "32-bit unsigned arithmetic, wrapping.";
      if (op === "div" || op === "mod") notes += " Division by zero (X = 0) makes the filter return 0.";
      if ((op === "lsh" || op === "rsh") && operand === "x") notes += " Shift by X ≥ 32: libpcap gives 0, the kernel shifts by X & 31.";
      return { title: `ALU ${op}`, effect: `A ← A ${sym} ${v}`, notes };
    }
    case "neg":
      return { title: "negate", effect: "A ← -A (two's complement, 32 bits)" };
    case "tax":
      return { title: "copy A to X", effect: "X ← A" };
    case "txa":
      return { title: "copy X to A", effect: "A ← X" };
    case "ret":
      if (operand === "") return { title: "return A", effect: "accept min(A, packet length) bytes; 0 drops the packet" };
      return {
        title: "return constant",
        effect: operand === "#0" ? "drop the packet (return 0)" : `accept the packet: keep ${operand.slice(1)} bytes`,
        notes: "libpcap's match value is the snapshot length; a socket filter truncates the packet to the returned length.",
      };
    default:
      return { title: "unknown opcode", effect: "neither libpcap nor the kernel defines this opcode" };
  }
}

/** Markdown for a hover over a line of the cBPF listing. */
export function cbpfHover(op: string, operand: string, insn: CbpfInsn | undefined, index: number): string {
  const d = cbpfFormDoc(op, operand);
  const lines = [`**${op}** — ${d.title}`, "", "`" + d.effect + "`"];
  if (d.notes) lines.push("", d.notes);
  if (insn) {
    lines.push(
      "",
      `instruction ${index}: \`code=0x${insn.code.toString(16).padStart(2, "0")} jt=${insn.jt} jf=${insn.jf} k=0x${(insn.k >>> 0).toString(16).padStart(8, "0")}\``,
      "",
      `opcode: \`${cbpfOpcodeName(insn.code)}\``,
    );
  }
  return lines.join("\n");
}

/** Hover for the registers and operand words of the listing. */
export const CBPF_WORDS: Readonly<Record<string, string>> = {
  A: "**A** — the 32-bit accumulator: loads, ALU results and comparisons use it.",
  x: "**X** — the 32-bit index register: `[x + k]` loads, X-operand ALU and jumps.",
  "#pktlen": "**#pktlen** — the packet's length (libpcap: on the wire; kernel: skb->len).",
  jt: "**jt** — where to go when the condition holds (absolute instruction number as tcpdump prints it).",
  jf: "**jf** — where to go when the condition fails.",
  M: "**M[0..15]** — scratch memory: 16 words, zeroed per run in libpcap; the kernel refuses reads before stores.",
};
