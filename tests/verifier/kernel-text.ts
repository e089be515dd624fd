/**
 * Test support: rebuild raw instructions from the kernel's own disassembly (the `Live regs` block
 * of a level-2 log lists every instruction), and split a harness file into its programs. Every
 * rebuilt instruction is formatted back with lib/ebpf's formatter and must give the same text, so
 * a parsing slip cannot go unnoticed.
 */
import { formatInsn } from "../../lib/ebpf/disasm";
import type { RawInsn } from "../../lib/ebpf/insn";
import { HELPER_ID_BY_NAME } from "../../lib/ebpf/opcodes";

export interface LoggedProgram {
  name: string;
  progType: "socket" | "tc" | "xdp";
  level: number;
  errno: number;
  accepted: boolean;
  log: string;
}

const TYPES: Record<string, LoggedProgram["progType"]> = { "1": "socket", "3": "tc", "6": "xdp" };

/** Splits `===PROG name type=N level=L fd=F errno=E (...)` … `===END` sections. */
export function parseHarnessFile(text: string): LoggedProgram[] {
  const out: LoggedProgram[] = [];
  const re = /^===PROG (\S+) type=(\d+) level=(\d+) fd=(-?\d+) errno=(\d+) [^\n]*\n([\s\S]*?)^===END$/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out.push({ name: m[1]!, progType: TYPES[m[2]!]!, level: Number(m[3]), accepted: Number(m[4]) >= 0, errno: Number(m[5]), log: m[6]! });
  }
  return out;
}

const REG = /[rw](\d+)/g;

function regs(s: string): number[] {
  return [...s.matchAll(REG)].map((m) => Number(m[1]));
}

function num(s: string): number {
  return s.startsWith("0x") || s.startsWith("-0x") ? Number(BigInt(s.replace("-0x", "-0x"))) : Number(s);
}

/** One instruction (two slots for ld_imm64) from `(op) text`. */
export function parseInsnText(text: string): RawInsn[] {
  const m = /^\(([0-9a-f]{2})\) (.*)$/.exec(text);
  if (!m) throw new Error(`not an instruction: ${text}`);
  const code = parseInt(m[1]!, 16);
  const body = m[2]!;
  const cls = code & 7;
  const I = (dst = 0, src = 0, off = 0, imm = 0): RawInsn => ({ code, dst, src, off, imm });
  const memOff = () => Number(/\(r\d+ ([+-]\d+)\)/.exec(body)![1]);
  let out: RawInsn[];
  switch (cls) {
    case 4:
    case 7: {
      const r = regs(body);
      const op = code & 0xf0;
      if (op === 0xd0) out = [I(r[0], 0, 0, Number(/(?:be|le|bswap)(\d+)/.exec(body)![1]))];
      else if (op === 0x80) out = [I(r[0])];
      else if (code & 0x08) out = [I(r[0], r[1])];
      else out = [I(r[0], 0, 0, Number(/(-?\d+)$/.exec(body)![1]))];
      break;
    }
    case 1: {
      const r = regs(body);
      out = [I(r[0], r[1], memOff())];
      break;
    }
    case 2: {
      const r = regs(body);
      out = [I(r[0], 0, memOff(), Number(/= (-?\d+)$/.exec(body)![1]))];
      break;
    }
    case 3: {
      const r = regs(body.replace(/^\*\(\w+ \*\)/, ""));
      out = [I(r[0], r[1], memOff())];
      break;
    }
    case 0: {
      if (code === 0x18) {
        const r = regs(body);
        const v = BigInt(/= (0x[0-9a-f]+)$/.exec(body)![1]!);
        out = [I(r[0], 0, 0, Number(BigInt.asIntN(32, v))), { code: 0, dst: 0, src: 0, off: 0, imm: Number(BigInt.asIntN(32, v >> 32n)) }];
      } else if ((code & 0xe0) === 0x20) out = [I(0, 0, 0, Number(/skb\[(-?\d+)\]/.exec(body)![1]))];
      else {
        const mm = /skb\[r(\d+) \+ (-?\d+)\]/.exec(body)!;
        out = [I(0, Number(mm[1]), 0, Number(mm[2]))];
      }
      break;
    }
    default: {
      const op = code & 0xf0;
      if (op === 0x90) out = [I()];
      else if (op === 0x80) {
        const mm = /call (\S+)#(-?\d+)/.exec(body)!;
        out = [I(0, 0, 0, Number(mm[2]))];
        void HELPER_ID_BY_NAME;
      } else if (op === 0x00) out = [I(0, 0, Number(/pc([+-]\d+)/.exec(body)![1]))];
      else {
        const off = Number(/pc([+-]\d+)/.exec(body)![1]);
        const cond = body.replace(/ goto .*/, "");
        const r = regs(cond);
        if (code & 0x08) out = [I(r[0], r[1], off)];
        else out = [I(r[0], 0, off, num(/ (0x[0-9a-f]+)$/.exec(cond)![1]!) | 0)];
      }
    }
  }
  const back = formatInsn(out[0]!, { next: out[1] });
  if (back !== text) throw new Error(`rebuilt "${text}" as "${back}"`);
  return out;
}

/** The program of a level-2 log, from its `Live regs` block. Null when the log has none. */
export function programFromLog(log: string): RawInsn[] | null {
  const lines = log.split("\n");
  const start = lines.indexOf("Live regs before insn:");
  if (start < 0) return null;
  const out: RawInsn[] = [];
  for (const line of lines.slice(start + 1)) {
    const m = /^(?:\s{4}|\s*\d+ )\s*(\d+): [0-9.]{10} (\(.*)$/.exec(line);
    if (!m) break;
    if (Number(m[1]) !== out.length) throw new Error(`gap before insn ${m[1]}`);
    out.push(...parseInsnText(m[2]!));
  }
  return out;
}
