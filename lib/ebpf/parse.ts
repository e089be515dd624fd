/**
 * Kernel instruction text back to raw slots: the inverse of formatInsn for every form the kernel
 * prints, e.g. `(61) r2 = *(u32 *)(r1 +76)` -> { code: 0x61, dst: 2, src: 1, off: 76, imm: 0 }.
 * Used to read instructions out of verifier logs and to let users type eBPF in the log's syntax.
 *
 * The opcode byte in the text fixes the operation; the rest supplies registers, offsets and
 * immediates. A parse is accepted only if printing the result gives back the same text, so the
 * two directions cannot drift apart silently.
 */
import { PlaygroundError } from "../errors";
import { formatInsn } from "./disasm";
import type { RawInsn } from "./insn";
import { BPF_PSEUDO_CALL, BPF_PSEUDO_KFUNC_CALL, HELPER_ID_BY_NAME, OP_LD_IMM64, opClass } from "./opcodes";

const bad = (text: string, why: string): PlaygroundError =>
  new PlaygroundError("ebpf/parse", `cannot read "${text}" as a kernel eBPF instruction: ${why}`, { kind: "text", line: 1, column: 1 });

const num = (s: string): number => Number(s);
const sizeOff = (s: string | undefined): number => (s === undefined ? 0 : Number(s));

/** Registers, off and imm from the text after `(xx) `, by instruction class. */
function fields(code: number, rest: string): { dst: number; src: number; off: number; imm: number; hi?: number } | null {
  let m: RegExpExecArray | null;
  const z = { dst: 0, src: 0, off: 0, imm: 0 };
  switch (opClass(code)) {
    case 0x04:
    case 0x07: {
      if ((m = /^r(\d+) = (?:be|le|bswap)(\d+) r\d+$/.exec(rest))) return { ...z, dst: num(m[1]), imm: num(m[2]) };
      if ((m = /^[rw](\d+) = -[rw]\d+$/.exec(rest))) return { ...z, dst: num(m[1]) };
      if ((m = /^r(\d+) = addr_space_cast\(r(\d+), (\d+), (\d+)\)$/.exec(rest))) {
        return { dst: num(m[1]), src: num(m[2]), off: 1, imm: ((num(m[3]) << 16) | num(m[4])) | 0 };
      }
      if ((m = /^r(\d+) = &\(void __percpu \*\)\(r(\d+)\)$/.exec(rest))) return { dst: num(m[1]), src: num(m[2]), off: -1, imm: 0 };
      if ((m = /^[rw](\d+) (\S+) (?:\(s(8|16|32)\))?[rw](\d+)$/.exec(rest))) {
        const signed = m[2] === "s/=" || m[2] === "s%=";
        return { dst: num(m[1]), src: num(m[4]), off: signed ? 1 : sizeOff(m[3]), imm: 0 };
      }
      if ((m = /^[rw](\d+) (\S+) (-?\d+)$/.exec(rest))) {
        const signed = m[2] === "s/=" || m[2] === "s%=";
        return { dst: num(m[1]), src: 0, off: signed ? 1 : 0, imm: num(m[3]) };
      }
      return null;
    }
    case 0x01:
      if ((m = /^r(\d+) = \*\([us]\d+ \*\)\(r(\d+) ([+-]\d+)\)$/.exec(rest))) return { dst: num(m[1]), src: num(m[2]), off: num(m[3]), imm: 0 };
      return null;
    case 0x02:
      if ((m = /^\*\(u\d+ \*\)\(r(\d+) ([+-]\d+)\) = (-?\d+)$/.exec(rest))) return { dst: num(m[1]), src: 0, off: num(m[2]), imm: num(m[3]) };
      if (rest === "nospec") return z;
      return null;
    case 0x03: {
      const mem = String.raw`\(u\d+ \*\)\(r(\d+) ([+-]\d+)\)`;
      if ((m = new RegExp(`^\\*${mem} = r(\\d+)$`).exec(rest))) return { dst: num(m[1]), src: num(m[3]), off: num(m[2]), imm: 0 };
      if ((m = new RegExp(`^lock \\*${mem} (\\S+) r(\\d+)$`).exec(rest))) {
        const op = { "+=": 0x00, "|=": 0x40, "&=": 0x50, "^=": 0xa0 }[m[3]];
        return op === undefined ? null : { dst: num(m[1]), src: num(m[4]), off: num(m[2]), imm: op };
      }
      if ((m = new RegExp(`^r(\\d+) = atomic(?:64)?_fetch_(add|and|or|xor)\\(${mem}, r\\d+\\)$`).exec(rest))) {
        const op = { add: 0x00, or: 0x40, and: 0x50, xor: 0xa0 }[m[2] as "add"];
        return { dst: num(m[3]), src: num(m[1]), off: num(m[4]), imm: op | 1 };
      }
      if ((m = new RegExp(`^r0 = atomic(?:64)?_cmpxchg\\(${mem}, r0, r(\\d+)\\)$`).exec(rest))) {
        return { dst: num(m[1]), src: num(m[3]), off: num(m[2]), imm: 0xf1 };
      }
      if ((m = new RegExp(`^r(\\d+) = atomic(?:64)?_xchg\\(${mem}, r\\d+\\)$`).exec(rest))) {
        return { dst: num(m[2]), src: num(m[1]), off: num(m[3]), imm: 0xe1 };
      }
      if ((m = new RegExp(`^r(\\d+) = load_acquire\\(${mem}\\)$`).exec(rest))) return { dst: num(m[1]), src: num(m[2]), off: num(m[3]), imm: 0x100 };
      if ((m = new RegExp(`^store_release\\(${mem}, r(\\d+)\\)$`).exec(rest))) return { dst: num(m[1]), src: num(m[3]), off: num(m[2]), imm: 0x110 };
      return null;
    }
    case 0x00:
      if ((m = /^r0 = \*\(u\d+ \*\)skb\[(-?\d+)\]$/.exec(rest))) return { ...z, imm: num(m[1]) };
      if ((m = /^r0 = \*\(u\d+ \*\)skb\[r(\d+) \+ (-?\d+)\]$/.exec(rest))) return { ...z, src: num(m[1]), imm: num(m[2]) };
      if (code === OP_LD_IMM64 && (m = /^r(\d+) = 0x([0-9a-f]+)$/.exec(rest))) {
        const v = BigInt(`0x${m[2]}`);
        if (v >> 64n !== 0n) return null;
        return { ...z, dst: num(m[1]), imm: Number(v & 0xffffffffn) | 0, hi: Number(v >> 32n) | 0 };
      }
      return null;
    default: {
      if ((m = /^call pc([+-]\d+)$/.exec(rest))) return { ...z, src: BPF_PSEUDO_CALL, imm: num(m[1]) };
      if ((m = /^call (\S+)#(-?\d+)$/.exec(rest))) {
        const helper = HELPER_ID_BY_NAME.get(m[1]);
        const src = helper !== undefined || m[1] === "unknown" ? 0 : BPF_PSEUDO_KFUNC_CALL;
        return { ...z, src, imm: num(m[2]) };
      }
      if ((m = /^(?:goto|may_goto) pc([+-]\d+)$/.exec(rest))) return { ...z, off: num(m[1]) };
      if ((m = /^gotol pc([+-]\d+)$/.exec(rest))) return { ...z, imm: num(m[1]) };
      if ((m = /^gotox r(\d+)$/.exec(rest))) return { ...z, dst: num(m[1]) };
      if (rest === "exit") return z;
      if ((m = /^if [rw](\d+) \S+ [rw](\d+) goto pc([+-]\d+)$/.exec(rest))) return { dst: num(m[1]), src: num(m[2]), off: num(m[3]), imm: 0 };
      if ((m = /^if [rw](\d+) \S+ 0x([0-9a-f]+) goto pc([+-]\d+)$/.exec(rest))) {
        return { dst: num(m[1]), src: 0, off: num(m[3]), imm: Number.parseInt(m[2], 16) | 0 };
      }
      return null;
    }
  }
}

/**
 * Reads one instruction in kernel syntax (with or without a leading `N: `) into its raw slots
 * (two for ld_imm64). Throws PlaygroundError("ebpf/parse") for anything else.
 */
export function parseInsnText(line: string): RawInsn[] {
  const text = line.trim().replace(/^\d+: /, "");
  const m = /^\(([0-9a-f]{2})\) (.*)$/.exec(text);
  if (!m) throw bad(text, "expected `(xx) ...` with the opcode in hex");
  const code = Number.parseInt(m[1], 16);
  const f = fields(code, m[2]);
  if (f === null) throw bad(text, "unknown instruction form");
  const ranges = f.dst <= 15 && f.src <= 15 && f.off >= -0x8000 && f.off <= 0x7fff && f.imm >= -0x80000000 && f.imm <= 0xffffffff;
  if (!ranges) throw bad(text, "a field is out of range");
  const first: RawInsn = { code, dst: f.dst, src: f.src, off: f.off, imm: f.imm | 0 };
  const slots = code === OP_LD_IMM64 ? [first, { code: 0, dst: 0, src: 0, off: 0, imm: f.hi ?? 0 }] : [first];
  const again = formatInsn(first, { next: slots[1] });
  if (again !== text) throw bad(text, `it does not match the opcode (0x${m[1]} prints as "${again}")`);
  return slots;
}
