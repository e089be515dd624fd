/**
 * Text of register and stack states exactly as kernel/bpf/log.c prints them on Linux 6.18
 * (print_reg_state, print_scalar_ranges, print_verifier_state), with a profile switch for the
 * `_w` liveness suffix of older kernels.
 */
import { S32_MAX, S32_MIN, s64, S64_MAX, S64_MIN, U32_MAX, U64_MAX, u64 } from "./num";
import { isPktPointer, type Reg } from "./reg";
import type { VState } from "./state";
import { tnumIsConst, tnumIsUnknown, type Tnum } from "./tnum";

const hex = (v: bigint): string => `0x${u64(v).toString(16)}`;

/** verbose_unum: decimal up to 65535, else %#llx. */
export const fmtUnum = (v: bigint): string => (u64(v) <= 0xffffn ? u64(v).toString() : hex(v));
/** verbose_snum: decimal within [-32768, 32767], else %#llx of the u64. */
export function fmtSnum(v: bigint): string {
  const s = s64(v);
  return s >= -32768n && s <= 32767n ? s.toString() : hex(v);
}

export function fmtTnum(t: Tnum): string {
  if (t.mask === 0n) {
    if (t.value <= 0xffffn) return t.value.toString();
    const s = s64(t.value);
    if (s >= -32768n && s <= 32767n) return s.toString();
    return hex(t.value);
  }
  return `(${hex(t.value)}; ${hex(t.mask)})`;
}

function scalarRanges(r: Reg): string[] {
  const snumDec = (v: number) => v >= -32768 && v <= 32767;
  const items = [
    { name: "smin", val: u64(r.smin), omit: r.smin === S64_MIN },
    { name: "smax", val: u64(r.smax), omit: r.smax === S64_MAX },
    { name: "umin", val: r.umin, omit: r.umin === 0n },
    { name: "umax", val: r.umax, omit: r.umax === U64_MAX },
    { name: "smin32", val: snumDec(r.s32min) ? u64(BigInt(r.s32min)) : BigInt(r.s32min >>> 0), omit: r.s32min === S32_MIN },
    { name: "smax32", val: snumDec(r.s32max) ? u64(BigInt(r.s32max)) : BigInt(r.s32max >>> 0), omit: r.s32max === S32_MAX },
    { name: "umin32", val: BigInt(r.u32min), omit: r.u32min === 0 },
    { name: "umax32", val: BigInt(r.u32max), omit: r.u32max === U32_MAX },
  ];
  const out: string[] = [];
  for (let i = 0; i < items.length; i++) {
    const m1 = items[i]!;
    if (m1.omit) continue;
    const neg1 = m1.name[0] === "s" && s64(m1.val) < 0n;
    let text = `${m1.name}=`;
    for (let j = i + 2; j < items.length; j += 2) {
      const m2 = items[j]!;
      if (m2.omit || m2.val !== m1.val) continue;
      const neg2 = m2.name[0] === "s" && s64(m2.val) < 0n;
      if (neg2 !== neg1) continue;
      m2.omit = true;
      text += `${m2.name}=`;
    }
    text += m1.name[0] === "s" ? fmtSnum(m1.val) : fmtUnum(m1.val);
    out.push(text);
  }
  return out;
}

export function regTypeStr(r: Reg): string {
  const base = r.type === "mem" ? `${r.memFlags}mem` : r.type;
  return r.maybeNull ? `${base}_or_null` : base;
}

/** print_reg_state. */
export function fmtReg(r: Reg, opts: { precise?: boolean } = {}): string {
  const p = opts.precise && r.type === "scalar" && r.precise ? "P" : "";
  if (r.type === "scalar" && tnumIsConst(r.varOff)) return p + fmtSnum(r.varOff.value);
  const t = regTypeStr(r);
  if (r.type === "fp" && tnumIsConst(r.varOff)) return t + fmtSnum(r.varOff.value + BigInt(r.off));
  const parts: string[] = [];
  if (r.id) parts.push(`id=${r.id}` + (r.addConst ? (r.off >= 0 ? `+${r.off}` : `${r.off}`) : ""));
  if (r.refObjId) parts.push(`ref_obj_id=${r.refObjId}`);
  if ((r.type === "map_ptr" || r.type === "map_value") && r.map) {
    if (r.map.name) parts.push(`map=${r.map.name}`);
    parts.push(`ks=${r.map.keySize},vs=${r.map.valueSize}`);
  }
  if (r.type !== "scalar" && r.off) parts.push(`off=${fmtSnum(BigInt(r.off))}`);
  if (isPktPointer(r)) parts.push(`r=${fmtUnum(u64(BigInt(r.range)))}`);
  if (r.type === "mem") parts.push(`sz=${fmtUnum(BigInt(r.range))}`);
  if (tnumIsConst(r.varOff)) {
    if (r.varOff.value) parts.push(`imm=${fmtSnum(r.varOff.value)}`);
  } else {
    parts.push(...scalarRanges(r));
    if (!tnumIsUnknown(r.varOff)) parts.push(`var_off=${fmtTnum(r.varOff)}`);
  }
  return `${p}${t}(${parts.join(",")})`;
}

export interface Scratch {
  regs: number;
  /** Bitmask over stack slot indexes (spi), as a bigint for 64 slots. */
  stack: bigint;
}

export interface FormatProfile {
  /** ≤ 6.17 printed `_w` after registers and slots written by the instruction. */
  readonly liveSuffix: boolean;
}

/**
 * print_verifier_state: ` R0=... R1=... fp-8=...` for the scratched (or all) registers and slots.
 * `written` feeds the `_w` suffix of older profiles.
 */
export function fmtState(s: VState, scratch: Scratch | null, profile: FormatProfile, written?: Scratch): string {
  let out = "";
  for (let i = 0; i < 11; i++) {
    const r = s.regs[i]!;
    if (r.type === "not_init") continue;
    if (scratch && !(scratch.regs & (1 << i))) continue;
    const w = profile.liveSuffix && written && written.regs & (1 << i) ? "_w" : "";
    out += ` R${i}${w}=${fmtReg(r)}`;
  }
  const slots = s.allocated >> 3;
  for (let i = 0; i < slots; i++) {
    if (scratch && !((scratch.stack >> BigInt(i)) & 1n)) continue;
    const slot = s.stack[i];
    if (!slot || slot.types.every((t) => t === "?")) continue;
    const w = profile.liveSuffix && written && (written.stack >> BigInt(i)) & 1n ? "_w" : "";
    const name = `fp${(-i - 1) * 8}${w}`;
    if (slot.types[7] === "r") {
      const k = slot.types.indexOf("r");
      out += ` ${name}=${slot.types.slice(0, k).join("")}${fmtReg(slot.spilled)}`;
    } else out += ` ${name}=${slot.types.join("")}`;
  }
  return out;
}

/** vlog_alignment: spaces between an instruction's text (length `len` incl. newline) and `;`. */
export function logAlignment(pos: number): number {
  const v = Math.max(pos + 4, 40);
  return Math.ceil(v / 8) * 8 - pos - 1;
}
