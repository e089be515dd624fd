/**
 * Test support: random valid programs in the shape of translated filters, from a seed.
 * xdp/tc: data/data_end from the context, one bounds check, loads at constant offsets, byte swaps,
 * masks and shifts, compares (64- and 32-bit) jumping forward, an `ldxb 4*([k]&0xf)`-style variable
 * header length with its own check, M[] scratch slots on the stack. socket: ctx kept in r6 and
 * LD_ABS/LD_IND loads. Every program ends in accept/reject blocks.
 */
import type { RawInsn } from "../../lib/ebpf/insn";
import type { ProgType } from "../../lib/verifier";

/** mulberry32: small deterministic PRNG. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Pending {
  at: number;
  label: string;
}

const I = (code: number, dst = 0, src = 0, off = 0, imm = 0): RawInsn => ({ code, dst, src, off, imm });

/** `broken`: one load reads past the checked range (a rejected program, on some path). */
export function generateProgram(seed: number, type: ProgType, broken = false): RawInsn[] {
  const r = rng(seed);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const out: RawInsn[] = [];
  const pending: Pending[] = [];
  const labels = new Map<string, number>();
  const jump = (code: number, dst: number, src: number, imm: number, label: string) => {
    pending.push({ at: out.length, label });
    out.push(I(code, dst, src, 0, imm));
  };
  const blocks = int(2, 7);
  const direct = type !== "socket";
  const guard = int(14, 60);
  if (direct) {
    const [dOff, eOff] = type === "xdp" ? [0, 4] : [76, 80];
    out.push(I(0x61, 2, 1, dOff), I(0x61, 3, 1, eOff), I(0xbf, 4, 2), I(0x07, 4, 0, 0, guard));
    jump(0x2d, 4, 3, 0, "reject");
  } else out.push(I(0xbf, 6, 1));
  let varHeader = false;
  for (let b = 0; b < blocks; b++) {
    labels.set(`b${b}`, out.length);
    const size = pick([1, 2, 4]);
    const sizeCode = size === 1 ? 0x10 : size === 2 ? 0x08 : 0x00;
    let reg = 5;
    if (direct) {
      if (!varHeader && r() < 0.25) {
        // X = 4*([k]&0xf), then a second check on the variable pointer.
        const k = int(0, guard - 1);
        const extra = int(4, 24);
        out.push(I(0x71, 6, 2, k), I(0x57, 6, 0, 0, 15), I(0x67, 6, 0, 0, 2), I(0xbf, 7, 2), I(0x0f, 7, 6), I(0xbf, 8, 7), I(0x07, 8, 0, 0, extra));
        jump(0x2d, 8, 3, 0, "reject");
        varHeader = true;
        const off = int(0, extra - size);
        out.push(I(0x61 | sizeCode, 5, 7, off));
      } else if (broken && b === blocks - 1) out.push(I(0x61 | sizeCode, 5, 2, guard - size + int(1, 4)));
      else out.push(I(0x61 | sizeCode, 5, 2, int(0, guard - size)));
      if (size > 1 && r() < 0.6) out.push(I(0xdc, 5, 0, 0, size * 8));
    } else {
      reg = 0;
      if (r() < 0.3) {
        out.push(I(0xb7, 7, 0, 0, int(0, 40)), I(0x40 | sizeCode, 0, 7, 0, int(0, 40)));
      } else out.push(I(0x20 | sizeCode, 0, 0, 0, int(0, 60)));
    }
    const alu = r();
    if (alu < 0.2) out.push(I(0x57, reg, 0, 0, pick([0xff, 0x1fff, 0xf0, 0x7f, 0xffff])));
    else if (alu < 0.3) out.push(I(0x77, reg, 0, 0, int(1, 7)));
    else if (alu < 0.4) out.push(I(0x54, reg, 0, 0, pick([0xf, 0x3f, 0xff00])));
    else if (alu < 0.45) out.push(I(0x07, reg, 0, 0, int(-5, 5)));
    // More arithmetic, as the translator emits for cBPF ALU instructions (32-bit) and guards (64-bit).
    if (r() < 0.35) {
      const other = reg === 0 ? 7 : 6;
      const forms: RawInsn[][] = [
        [I(0x27, reg, 0, 0, int(2, 9))],
        [I(0x24, reg, 0, 0, int(2, 9))],
        [I(0xa7, reg, 0, 0, int(0, 0xffff))],
        [I(0x44, reg, 0, 0, int(1, 0xff))],
        [I(0xc7, reg, 0, 0, int(1, 8))],
        [I(0x84, reg)],
        [I(0x14, reg, 0, 0, int(1, 300))],
        [I(0xb7, other, 0, 0, int(0, 100)), I(0x1f, reg, other)],
        [I(0xb4, other, 0, 0, int(0, 100)), I(0x0c, reg, other)],
        [I(0x67, reg, 0, 0, 32), I(0xc7, reg, 0, 0, 32)],
        [I(0x7b, 10, reg, -16), I(0x79, reg, 10, -16)],
      ];
      out.push(...pick(forms));
    }
    if (r() < 0.2) {
      const slot = -4 * int(1, 4);
      out.push(I(0x63, 10, reg, slot), I(0x61, reg, 10, slot));
    }
    const op = pick([0x10, 0x50, 0x20, 0x30, 0xa0, 0xb0, 0x40, 0x60, 0xc0, 0x70, 0xd0]);
    const cls = r() < 0.2 ? 0x06 : 0x05;
    const cst = r() < 0.5 ? int(0, size === 1 ? 255 : 0xffff) : pick([0, 1, 6, 17, 0x800, 0x86dd, 80, 443, -1, -100]);
    const target = r() < 0.4 ? pick(["accept", "reject"]) : `b${int(b + 1, blocks)}`;
    const to = target === `b${blocks}` ? pick(["accept", "reject"]) : target;
    if (r() < 0.2) {
      // Register compare against a second scalar (X in cBPF).
      const other = reg === 0 ? 7 : 6;
      out.push(I(0xb7, other, 0, 0, int(0, 300)));
      jump(cls | op | 0x08, reg, other, 0, to);
    } else jump(cls | op, reg, 0, cst, to);
  }
  labels.set(`b${blocks}`, out.length);
  labels.set("reject", out.length);
  out.push(I(0xb4, 0, 0, 0, 0), I(0x95));
  labels.set("accept", out.length);
  out.push(I(0xb4, 0, 0, 0, direct ? 2 : 262144), I(0x95));
  for (const p of pending) {
    const to = labels.get(p.label)!;
    out[p.at] = { ...out[p.at]!, off: to - p.at - 1 };
  }
  return out;
}
