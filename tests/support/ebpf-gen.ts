/**
 * Random eBPF programs that the kernel verifier accepts, for differential tests against the kernel.
 * Every register is a known scalar from the start (r6 keeps ctx), the stack area used is written
 * before any load, jumps only go forward, and helper calls are followed by re-initialising the
 * registers they clobber, so any sequence of the pieces below verifies.
 */
import {
  alu32,
  alu64,
  atomic,
  call,
  callLabel,
  endian,
  exit,
  gotol,
  ja,
  jmp,
  jmp32,
  label,
  ldAbs,
  ldImm64,
  ldInd,
  ldx,
  ldxs,
  mov32Imm,
  mov64Imm,
  mov64Reg,
  movsx,
  neg32,
  neg64,
  st,
  stx,
  type AluOpName,
  type AsmItem,
  type JmpOpName,
  type RegName,
  type SizeName,
} from "../../lib/ebpf";

/** mulberry32: small, fast, deterministic. */
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

export class Gen {
  constructor(readonly next: () => number) {}
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }
  bool(p = 0.5): boolean {
    return this.next() < p;
  }
  /** An interesting 32-bit immediate: small, boundary or random, signed. */
  imm32(): number {
    return this.pick([
      () => this.int(-16, 16),
      () => this.pick([0x7fffffff, -0x80000000, -1, 0xffff, 0x8000, 0x80, 255, 256, 65535, 65536]),
      () => this.int(-0x80000000, 0x7fffffff),
    ])();
  }
  imm64(): bigint {
    const pick = this.int(0, 3);
    if (pick === 0) return BigInt(this.imm32());
    if (pick === 1) return this.pick([0x8000000000000000n, 0x7fffffffffffffffn, 0xffffffffffffffffn, 0x100000000n, 0xffffffffn]);
    return (BigInt(this.int(0, 0xffffffff)) << 32n) | BigInt(this.int(0, 0xffffffff));
  }
}

export const SCALAR_REGS: readonly RegName[] = ["r0", "r1", "r2", "r3", "r4", "r5", "r7", "r8", "r9"];
const ALU_OPS: readonly AluOpName[] = ["add", "sub", "mul", "div", "sdiv", "or", "and", "lsh", "rsh", "mod", "smod", "xor", "mov", "arsh"];
const JMP_OPS: readonly JmpOpName[] = ["jeq", "jgt", "jge", "jset", "jne", "jsgt", "jsge", "jlt", "jle", "jslt", "jsle"];
const SIZES: readonly SizeName[] = ["u8", "u16", "u32", "u64"];
const BYTES: Record<SizeName, number> = { u8: 1, u16: 2, u32: 4, u64: 8 };

/** One ALU instruction on scalars that the verifier accepts (no constant division by zero, no oversized constant shift). */
export function randomAlu(g: Gen, dst: RegName, regs: readonly RegName[] = SCALAR_REGS): AsmItem {
  const op = g.pick(ALU_OPS);
  const wide = g.bool();
  const build = wide ? alu64 : alu32;
  if (g.bool(0.5)) return build(op, dst, g.pick(regs));
  let imm = g.imm32();
  if (op === "lsh" || op === "rsh" || op === "arsh") imm = g.int(0, wide ? 63 : 31);
  if ((op === "div" || op === "sdiv" || op === "mod" || op === "smod") && imm === 0) imm = g.pick([1, -1, 3, 7]);
  return build(op, dst, imm);
}

/** Straight-line register-only instruction: ALU, neg, endian, movsx, ld_imm64. */
export function randomRegInsn(g: Gen, regs: readonly RegName[] = SCALAR_REGS): AsmItem {
  const dst = g.pick(regs);
  switch (g.int(0, 9)) {
    case 0:
      return g.bool() ? neg64(dst) : neg32(dst);
    case 1:
      return endian(g.pick(["be", "le", "bswap"] as const), dst, g.pick([16, 32, 64] as const));
    case 2: {
      const w = g.pick([64, 32] as const);
      return movsx(w, dst, g.pick(regs), w === 64 ? g.pick([8, 16, 32] as const) : g.pick([8, 16] as const));
    }
    case 3:
      return ldImm64(dst, g.imm64());
    default:
      return randomAlu(g, dst, regs);
  }
}

export interface GenOptions {
  /** Body length (instructions before the final exit). */
  readonly length: number;
  /** Allow LD_ABS/LD_IND (needs ctx in r6; excludes bpf-to-bpf calls). */
  readonly ldAbs: boolean;
  /** Allow a bpf-to-bpf call to a trailing subprogram. */
  readonly subCalls: boolean;
  /** Most conditional jumps per program (keeps the verifier's path count small). */
  readonly maxBranches: number;
}

const reinit = (g: Gen, regs: readonly RegName[]): AsmItem[] => regs.map((r) => mov64Imm(r, g.imm32()));

/**
 * A socket-filter program (prog type 1): r6 = ctx, every scalar register and 64 bytes of stack
 * initialised, then a random body, then `exit`.
 */
export function randomSocketProgram(g: Gen, opts: GenOptions): AsmItem[] {
  const items: AsmItem[] = [mov64Reg("r6", "r1")];
  for (const r of SCALAR_REGS) {
    const k = g.int(0, 2);
    items.push(k === 0 ? mov64Imm(r, g.imm32()) : k === 1 ? mov32Imm(r, g.imm32()) : ldImm64(r, g.imm64()));
  }
  for (let off = -8; off >= -64; off -= 8) items.push(st("u64", "r10", off, g.imm32()));

  const body: AsmItem[][] = [];
  const jumps: { at: number; make: (target: string) => AsmItem }[] = [];
  let branches = 0;
  let usesSub = false;
  for (let i = 0; i < opts.length; i++) {
    const kind = g.int(0, 19);
    if (kind <= 7) body.push([randomRegInsn(g)]);
    else if (kind === 8) {
      const size = g.pick(SIZES);
      const off = -BYTES[size] * g.int(1, 64 / BYTES[size]);
      body.push([g.bool() ? stx(size, "r10", off, g.pick(SCALAR_REGS)) : st(size, "r10", off, g.imm32())]);
    } else if (kind === 9) {
      const size = g.pick(SIZES);
      const off = -BYTES[size] * g.int(1, 64 / BYTES[size]);
      const signed = size !== "u64" && g.bool(0.3);
      body.push([signed ? ldxs(size as "u8" | "u16" | "u32", g.pick(SCALAR_REGS), "r10", off) : ldx(size, g.pick(SCALAR_REGS), "r10", off)]);
    } else if (kind === 10) {
      const size = g.pick(["u32", "u64"] as const);
      const off = -BYTES[size] * g.int(1, 64 / BYTES[size]);
      const op = g.pick(["add", "and", "or", "xor", "fetch_add", "fetch_and", "fetch_or", "fetch_xor", "xchg", "cmpxchg"] as const);
      body.push([atomic(size, op, "r10", off, g.pick(SCALAR_REGS))]);
    } else if (kind <= 13 && branches < opts.maxBranches) {
      branches++;
      const wide = g.bool();
      const op = g.pick(JMP_OPS);
      const dst = g.pick(SCALAR_REGS);
      const rhs = g.bool() ? g.pick(SCALAR_REGS) : g.imm32();
      jumps.push({ at: body.length, make: (t) => (wide ? jmp : jmp32)(op, dst, rhs, t) });
      body.push([]);
    } else if (kind === 14) {
      const far = g.bool(0.3);
      jumps.push({ at: body.length, make: (t) => (far ? gotol(t) : ja(t)) });
      body.push([]);
    } else if (kind === 15) {
      body.push([call(g.pick([5, 7])), ...reinit(g, ["r1", "r2", "r3", "r4", "r5"])]);
    } else if (kind === 16 && opts.ldAbs) {
      const size = g.pick(["u8", "u16", "u32"] as const);
      const insn = g.bool() ? ldAbs(size, g.int(0, 80)) : ldInd(size, g.pick(["r7", "r8", "r9"] as const), g.int(-4, 40));
      body.push([insn, ...reinit(g, ["r1", "r2", "r3", "r4", "r5"])]);
    } else if (kind === 17 && opts.subCalls && !opts.ldAbs) {
      usesSub = true;
      body.push([callLabel("sub"), ...reinit(g, ["r1", "r2", "r3", "r4", "r5"])]);
    } else body.push([randomRegInsn(g)]);
  }
  // Jump targets: any later body position, or the final exit. An unconditional jump goes to the
  // next position, since skipping code would leave it unreachable (the verifier rejects that).
  for (const j of jumps) {
    const probe = j.make("x");
    const unconditional = probe.kind === "branch" && (probe.code === 0x05 || probe.code === 0x06);
    const t = unconditional ? j.at + 1 : g.int(j.at + 1, body.length);
    body[j.at] = [j.make(`T${t}`)];
  }
  const targets = new Set(jumps.map((j) => {
    const insn = body[j.at][0];
    return insn.kind === "branch" && typeof insn.target !== "number" ? insn.target.label : "";
  }));
  body.forEach((group, i) => {
    if (targets.has(`T${i}`)) items.push(label(`T${i}`));
    items.push(...group);
  });
  if (targets.has(`T${body.length}`)) items.push(label(`T${body.length}`));
  items.push(exit());
  if (usesSub) items.push(label("sub"), mov64Imm("r0", g.imm32()), exit());
  return items;
}
