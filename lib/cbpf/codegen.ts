/**
 * Optional fast path: turn a lowered program into one straight-line JavaScript function, so the
 * engine's optimiser sees constants and plain control flow instead of an interpreter's dispatch.
 *
 * The generated code contains no semantics of its own: each instruction becomes a call to the
 * same `semantics.ts` function the interpreter calls (the engine inlines them). Forward jumps
 * become `break` out of labelled blocks: a block for target t opens at the top and closes just
 * before instruction t, so `break Lt` from anywhere earlier lands on t. Programs with a backward
 * `ja` are left to the interpreter, which bounds their run time.
 *
 * `new Function` is unavailable under a strict Content-Security-Policy; callers fall back to the
 * interpreter when `generateFilter` returns undefined.
 */
import { Op, type LoweredProgram } from "./lower";
import * as S from "./semantics";

/** A compiled filter: the filter's return value for one packet. */
export type CompiledFilter = (packet: Uint8Array, wireLen?: number) => number;

/** Beyond this size the generated function is too big for the optimiser to pay off. */
export const MAX_GENERATED_INSNS = 1500;

const HELPERS = {
  readByte: S.readByte,
  readHalf: S.readHalf,
  readWord: S.readWord,
  mshValue: S.mshValue,
  indexOffsetLibpcap: S.indexOffsetLibpcap,
  indexOffsetKernel: S.indexOffsetKernel,
  ancillaryLoad: S.ancillaryLoad,
  aluAdd: S.aluAdd,
  aluSub: S.aluSub,
  aluMul: S.aluMul,
  aluDiv: S.aluDiv,
  aluMod: S.aluMod,
  aluAnd: S.aluAnd,
  aluOr: S.aluOr,
  aluXor: S.aluXor,
  aluNeg: S.aluNeg,
  aluLshMasked: S.aluLshMasked,
  aluRshMasked: S.aluRshMasked,
  aluLshLibpcap: S.aluLshLibpcap,
  aluRshLibpcap: S.aluRshLibpcap,
  condEq: S.condEq,
  condGt: S.condGt,
  condGe: S.condGe,
  condSet: S.condSet,
} as const;

const STOP = S.STOP;

/**
 * Where the generated body finds its packet. A single packet is `p[0..n)`; in a batch, packet i
 * is `p[b..e)` of one shared buffer and a verdict is stored instead of returned.
 */
interface Frame {
  /** Exclusive end of the packet in `p`: the bound every read is checked against. */
  end: string;
  /** A packet offset as an index into `p`. */
  at: (off: string) => string;
  /** The packet alone, for the rare helpers that need its length (netlink attributes). */
  packet: string;
  /** Finish with this value. */
  ret: (value: string) => string;
}

const SINGLE: Frame = { end: "n", at: (off) => off, packet: "p", ret: (v) => `return ${v};` };
const BATCH: Frame = { end: "e", at: (off) => `b + ${off}`, packet: "p.subarray(b, e)", ret: (v) => `{ r = ${v}; break P; }` };

/** JavaScript statements for the program body, or undefined if it should not be generated. */
function generateBody(L: LoweredProgram, F: Frame): { body: string; scratch: number[] } | undefined {
  const n = L.length;
  if (L.hasBackwardJump || n > MAX_GENERATED_INSNS) return undefined;

  // Targets that are reached by a jump rather than by falling through need a block.
  const targets = new Set<number>();
  const jumpTo = (from: number, to: number): string => {
    if (to === from + 1) return "";
    targets.add(to);
    return `break L${to};`;
  };
  const scratch = new Set<number>();
  const body: string[] = [];
  const stopIfNeg = `if (v === ${STOP}) ${F.ret("0")}`;
  const read = (reader: string, off: string): string => `${reader}(p, ${F.end}, ${F.at(off)})`;

  for (let i = 0; i < n; i++) {
    const k = L.k[i]!;
    const load = (expr: string): string => `v = ${expr}; ${stopIfNeg} a = v;`;
    const ind = (reader: string): string =>
      L.op[i]! >= Op.LD_INDK_W
        ? `o = indexOffsetKernel(x, ${k}, ${L.networkOffset}); if (o === ${STOP}) ${F.ret("0")} ${load(read(reader, "o"))}`
        : load(read(reader, `indexOffsetLibpcap(x, ${k})`));
    const cond = (fn: string, rhs: string): string => {
      const t = L.jt[i]!;
      const f = L.jf[i]!;
      const c = `${fn}(a, ${rhs})`;
      if (t === f) return jumpTo(i, t);
      if (t === i + 1) return `if (!${c}) ${jumpTo(i, f)}`;
      if (f === i + 1) return `if (${c}) ${jumpTo(i, t)}`;
      return `if (${c}) ${jumpTo(i, t)} else ${jumpTo(i, f)}`;
    };
    let s: string;
    switch (L.op[i]) {
      case Op.RET_K: s = F.ret(String(k)); break;
      case Op.RET_A: s = F.ret("a"); break;
      case Op.LD_IMM: s = `a = ${k};`; break;
      case Op.LDX_IMM: s = `x = ${k};`; break;
      case Op.LD_MEM: scratch.add(k); s = `a = m${k};`; break;
      case Op.LDX_MEM: scratch.add(k); s = `x = m${k};`; break;
      case Op.ST: scratch.add(k); s = `m${k} = a;`; break;
      case Op.STX: scratch.add(k); s = `m${k} = x;`; break;
      case Op.LD_LEN: s = "a = wl;"; break;
      case Op.LDX_LEN: s = "x = wl;"; break;
      case Op.LD_W: s = load(read("readWord", String(k))); break;
      case Op.LD_H: s = load(read("readHalf", String(k))); break;
      case Op.LD_B: s = load(read("readByte", String(k))); break;
      case Op.LDX_MSH: s = `v = ${read("readByte", String(k))}; ${stopIfNeg} x = mshValue(v);`; break;
      case Op.LD_IND_W: case Op.LD_INDK_W: s = ind("readWord"); break;
      case Op.LD_IND_H: case Op.LD_INDK_H: s = ind("readHalf"); break;
      case Op.LD_IND_B: case Op.LD_INDK_B: s = ind("readByte"); break;
      case Op.LOAD_FAIL: s = F.ret("0"); break;
      case Op.ANC: s = load(`ancillaryLoad(${k}, a, x, ${F.packet}, anc)`); break;
      case Op.ADD_K: s = `a = aluAdd(a, ${k});`; break;
      case Op.ADD_X: s = "a = aluAdd(a, x);"; break;
      case Op.SUB_K: s = `a = aluSub(a, ${k});`; break;
      case Op.SUB_X: s = "a = aluSub(a, x);"; break;
      case Op.MUL_K: s = `a = aluMul(a, ${k});`; break;
      case Op.MUL_X: s = "a = aluMul(a, x);"; break;
      case Op.DIV_K: s = load(`aluDiv(a, ${k})`); break;
      case Op.DIV_X: s = load("aluDiv(a, x)"); break;
      case Op.MOD_K: s = load(`aluMod(a, ${k})`); break;
      case Op.MOD_X: s = load("aluMod(a, x)"); break;
      case Op.AND_K: s = `a = aluAnd(a, ${k});`; break;
      case Op.AND_X: s = "a = aluAnd(a, x);"; break;
      case Op.OR_K: s = `a = aluOr(a, ${k});`; break;
      case Op.OR_X: s = "a = aluOr(a, x);"; break;
      case Op.XOR_K: s = `a = aluXor(a, ${k});`; break;
      case Op.XOR_X: s = "a = aluXor(a, x);"; break;
      case Op.LSH_K: s = `a = aluLshMasked(a, ${k});`; break;
      case Op.RSH_K: s = `a = aluRshMasked(a, ${k});`; break;
      case Op.LSH_X_MASKED: s = "a = aluLshMasked(a, x);"; break;
      case Op.RSH_X_MASKED: s = "a = aluRshMasked(a, x);"; break;
      case Op.LSH_X_PCAP: s = "a = aluLshLibpcap(a, x);"; break;
      case Op.RSH_X_PCAP: s = "a = aluRshLibpcap(a, x);"; break;
      case Op.NEG: s = "a = aluNeg(a);"; break;
      case Op.TAX: s = "x = a;"; break;
      case Op.TXA: s = "a = x;"; break;
      case Op.JA: s = jumpTo(i, L.jt[i]!); break;
      case Op.JEQ_K: s = cond("condEq", String(k)); break;
      case Op.JEQ_X: s = cond("condEq", "x"); break;
      case Op.JGT_K: s = cond("condGt", String(k)); break;
      case Op.JGT_X: s = cond("condGt", "x"); break;
      case Op.JGE_K: s = cond("condGe", String(k)); break;
      case Op.JGE_X: s = cond("condGe", "x"); break;
      case Op.JSET_K: s = cond("condSet", String(k)); break;
      case Op.JSET_X: s = cond("condSet", "x"); break;
      default: s = `trap(${i});`; // throws
    }
    body.push(s);
  }

  const out: string[] = [];
  const sorted = [...targets].sort((p, q) => q - p);
  out.push(sorted.map((t) => `L${t}: {`).join(" "));
  const closing = new Set(sorted);
  for (let i = 0; i < n; i++) {
    if (closing.has(i)) out.push(`} // L${i}`);
    out.push(`/* ${i} */ ${body[i]}`);
  }
  if (closing.has(n)) out.push(`} // L${n}`);
  out.push(`trap(${n});`);
  return { body: out.join("\n"), scratch: [...scratch] };
}

const registers = (scratch: readonly number[]): string =>
  ["a = 0", "x = 0", "v = 0", "o = 0", ...scratch.map((i) => `m${i} = 0`)].join(", ");

/** Source of `function (p, wireLen)` for one packet, or undefined. Exported for inspection. */
export function generateSource(L: LoweredProgram, lenOverride: number | undefined): string | undefined {
  const g = generateBody(L, SINGLE);
  if (g === undefined) return undefined;
  const lenExpr = lenOverride !== undefined ? String(lenOverride >>> 0) : "wireLen === undefined ? n : wireLen >>> 0";
  return [`const n = p.length;`, `const wl = ${lenExpr};`, `let ${registers(g.scratch)};`, g.body].join("\n");
}

/** Source of `function (p, offsets, capLens, wireLens, out, count)` for a batch, or undefined. */
function generateBatchSource(L: LoweredProgram, lenOverride: number | undefined): string | undefined {
  const g = generateBody(L, BATCH);
  if (g === undefined) return undefined;
  const lenExpr = lenOverride !== undefined ? String(lenOverride >>> 0) : "wireLens === undefined ? n : wireLens[pi] >>> 0";
  return [
    "for (let pi = 0; pi < count; pi++) {",
    "const b = offsets[pi], n = capLens[pi], e = b + n;",
    `const wl = ${lenExpr};`,
    `let ${registers(g.scratch)}, r = 0;`,
    `P: {\n${g.body}\n}`,
    "out[pi] = r;",
    "}",
    "return out;",
  ].join("\n");
}

/** The generated batch function: verdicts for `count` packets laid out in one buffer. */
export type GeneratedBatch = (
  p: Uint8Array,
  offsets: ArrayLike<number>,
  capLens: ArrayLike<number>,
  wireLens: ArrayLike<number> | undefined,
  out: Uint32Array,
  count: number,
) => Uint32Array;

function instantiate<T>(src: string | undefined, params: string, L: LoweredProgram, trap: (index: number) => never): T | undefined {
  if (src === undefined) return undefined;
  const names = Object.keys(HELPERS);
  const factorySource =
    `"use strict";\n` + `const { ${names.join(", ")} } = helpers;\n` + `return function cbpfFilter(${params}) {\n${src}\n};`;
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const factory = new Function("helpers", "anc", "trap", factorySource) as (
      helpers: typeof HELPERS,
      anc: Float64Array,
      trap: (index: number) => never,
    ) => T;
    return factory(HELPERS, L.ancillary, trap);
  } catch {
    // CSP forbids eval, or the engine refused the source (e.g. nesting too deep): interpret instead.
    return undefined;
  }
}

/**
 * Build the generated filter, or return undefined when generation is not possible (backward
 * jumps, very large programs, or `new Function` blocked by the environment).
 */
export function generateFilter(
  L: LoweredProgram,
  lenOverride: number | undefined,
  trap: (index: number) => never,
): CompiledFilter | undefined {
  return instantiate<CompiledFilter>(generateSource(L, lenOverride), "p, wireLen", L, trap);
}

/** The batch counterpart of generateFilter. */
export function generateBatchFilter(
  L: LoweredProgram,
  lenOverride: number | undefined,
  trap: (index: number) => never,
): GeneratedBatch | undefined {
  return instantiate<GeneratedBatch>(generateBatchSource(L, lenOverride), "p, offsets, capLens, wireLens, out, count", L, trap);
}
