/**
 * The 8-byte wire format of `struct bpf_insn` (x86_64, little-endian):
 *   byte 0: code; byte 1: dst_reg in the low nibble, src_reg in the high nibble;
 *   bytes 2-3: off (s16 LE); bytes 4-7: imm (s32 LE).
 * An ld_imm64 takes two slots; the second has code, registers and off all zero and carries the
 * upper 32 bits of the constant in imm (the kernel rejects anything else: "invalid bpf_ld_imm64 insn").
 */
import { PlaygroundError } from "../errors";
import {
  BPF_CALL,
  BPF_EXIT,
  BPF_JA,
  BPF_JCOND,
  BPF_JMP,
  BPF_JMP32,
  BPF_K,
  BPF_PSEUDO_CALL,
  BPF_PSEUDO_FUNC,
  OP_LD_IMM64,
  opClass,
  opJmpOp,
  opSource,
} from "./opcodes";
import type { Insn, RawInsn, Target } from "./insn";

export const INSN_SIZE = 8;

/** An instruction as the kernel iterates over it: ld_imm64 folded into one entry spanning two slots. */
export interface DecodedInsn {
  /** Slot index of the (first) slot; this is the `N` of the verifier's `N: (op) text`. */
  readonly index: number;
  readonly code: number;
  readonly dst: number;
  readonly src: number;
  readonly off: number;
  /** imm of the first slot (s32). */
  readonly imm: number;
  readonly slots: 1 | 2;
  /** ld_imm64 only: the full constant, unsigned (second imm << 32 | first imm). */
  readonly imm64?: bigint;
}

const byteErr = (code: string, msg: string, offset: number): PlaygroundError =>
  new PlaygroundError(code, msg, { kind: "byte", offset });

/** Splits bytes into raw slots. Length must be a multiple of 8. */
export function rawFromBytes(bytes: Uint8Array): RawInsn[] {
  if (bytes.length % INSN_SIZE !== 0) {
    throw byteErr(
      "ebpf/decode-length",
      `program length ${bytes.length} is not a multiple of 8 (${bytes.length % INSN_SIZE} stray bytes at the end)`,
      bytes.length - (bytes.length % INSN_SIZE),
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: RawInsn[] = new Array(bytes.length / INSN_SIZE);
  for (let i = 0, o = 0; o < bytes.length; i++, o += INSN_SIZE) {
    const regs = bytes[o + 1];
    out[i] = { code: bytes[o], dst: regs & 0x0f, src: regs >> 4, off: view.getInt16(o + 2, true), imm: view.getInt32(o + 4, true) };
  }
  return out;
}

/** Serialises raw slots; every field is range-checked (a bad value is an error, not a wrap). */
export function encodeProgram(raw: readonly RawInsn[]): Uint8Array {
  const bytes = new Uint8Array(raw.length * INSN_SIZE);
  const view = new DataView(bytes.buffer);
  raw.forEach((r, i) => {
    const ok =
      Number.isInteger(r.code) && r.code >= 0 && r.code <= 0xff &&
      Number.isInteger(r.dst) && r.dst >= 0 && r.dst <= 15 &&
      Number.isInteger(r.src) && r.src >= 0 && r.src <= 15 &&
      Number.isInteger(r.off) && r.off >= -0x8000 && r.off <= 0x7fff &&
      Number.isInteger(r.imm) && r.imm >= -0x80000000 && r.imm <= 0xffffffff;
    if (!ok) {
      throw new PlaygroundError("ebpf/encode-field", `slot ${i}: field out of range (${JSON.stringify(r)})`, { kind: "insn", index: i });
    }
    const o = i * INSN_SIZE;
    bytes[o] = r.code;
    bytes[o + 1] = r.dst | (r.src << 4);
    view.setInt16(o + 2, r.off, true);
    view.setInt32(o + 4, r.imm | 0, true);
  });
  return bytes;
}

/** Groups raw slots into instructions, validating every ld_imm64 pair. */
export function decodeRaw(raw: readonly RawInsn[]): DecodedInsn[] {
  const out: DecodedInsn[] = [];
  for (let i = 0; i < raw.length; i++) {
    const r = raw[i];
    if (r.code !== OP_LD_IMM64) {
      out.push({ index: i, code: r.code, dst: r.dst, src: r.src, off: r.off, imm: r.imm, slots: 1 });
      continue;
    }
    if (i + 1 >= raw.length) {
      throw byteErr("ebpf/decode-ldimm64", `ld_imm64 at slot ${i} is truncated: its second slot is missing`, i * INSN_SIZE);
    }
    const n = raw[i + 1];
    if (n.code !== 0 || n.dst !== 0 || n.src !== 0 || n.off !== 0) {
      throw byteErr(
        "ebpf/decode-ldimm64",
        `ld_imm64 at slot ${i}: second slot must have code, registers and off all 0 (got code 0x${n.code.toString(16)}, dst ${n.dst}, src ${n.src}, off ${n.off})`,
        (i + 1) * INSN_SIZE,
      );
    }
    const imm64 = (BigInt(n.imm >>> 0) << 32n) | BigInt(r.imm >>> 0);
    out.push({ index: i, code: r.code, dst: r.dst, src: r.src, off: r.off, imm: r.imm, slots: 2, imm64 });
    i++;
  }
  return out;
}

/** Bytes -> instructions (ld_imm64 as one entry). Malformed input is a PlaygroundError with a byte offset. */
export function decodeProgram(bytes: Uint8Array): DecodedInsn[] {
  return decodeRaw(rawFromBytes(bytes));
}

/** Back to raw slots (inverse of decodeRaw). */
export function rawFromDecoded(insns: readonly DecodedInsn[]): RawInsn[] {
  const out: RawInsn[] = [];
  for (const d of insns) {
    out.push({ code: d.code, dst: d.dst, src: d.src, off: d.off, imm: d.imm });
    if (d.slots === 2) out.push({ code: 0, dst: 0, src: 0, off: 0, imm: Number(((d.imm64 ?? 0n) >> 32n) & 0xffffffffn) | 0 });
  }
  return out;
}

/** Where the branch target of a decoded instruction is encoded, if it has one. */
export function branchField(d: { code: number; src: number }): "off" | "imm" | null {
  const cls = opClass(d.code);
  if (d.code === OP_LD_IMM64) return d.src === BPF_PSEUDO_FUNC ? "imm" : null;
  if (cls !== BPF_JMP && cls !== BPF_JMP32) return null;
  const op = opJmpOp(d.code);
  if (op === BPF_CALL) return cls === BPF_JMP && d.src === BPF_PSEUDO_CALL ? "imm" : null;
  if (op === BPF_EXIT) return null;
  if (op === BPF_JA) {
    if (opSource(d.code) !== BPF_K) return null; // gotox rN: indirect
    return cls === BPF_JMP32 ? "imm" : "off";
  }
  if (op === BPF_JCOND) return cls === BPF_JMP ? "off" : null;
  return "off";
}

/** Generated label name for the instruction at a slot. */
export const slotLabel = (slot: number): string => `L${slot}`;

/**
 * Decodes to the editable symbolic form: every branch whose target is an instruction start refers
 * to a generated label `L<slot>` defined at that instruction, so the program can be edited and
 * re-assembled. A target outside the program (or into the middle of an ld_imm64) stays numeric.
 * `meta` of each instruction is `{ origin: "decoded", slot }`.
 */
export function disassembleToInsns(input: Uint8Array | readonly RawInsn[]): Insn[] {
  const decoded = input instanceof Uint8Array ? decodeProgram(input) : decodeRaw(input);
  const starts = new Set(decoded.map((d) => d.index));
  const targets = new Set<number>();
  const targetOf = (d: DecodedInsn): Target | undefined => {
    const field = branchField(d);
    if (field === null) return undefined;
    const rel = field === "off" ? d.off : d.imm;
    // A labelled function pointer re-assembles with a zero upper half; keep odd encodings numeric.
    if (d.slots === 2 && (d.imm64 ?? 0n) >> 32n !== 0n) return undefined;
    const t = d.index + 1 + rel; // relative to the slot after the first, even for ld_imm64 (kernel: i + imm + 1)
    if (starts.has(t)) {
      targets.add(t);
      return { label: slotLabel(t) };
    }
    return rel;
  };
  const resolved = decoded.map(targetOf);
  return decoded.map((d, i): Insn => {
    const t = resolved[i];
    const common = { ...(targets.has(d.index) ? { label: slotLabel(d.index) } : {}), meta: { origin: "decoded", slot: d.index } };
    if (d.slots === 2) {
      return { kind: "ld_imm64", dst: d.dst, src: d.src, off: d.off, value: t !== undefined && typeof t !== "number" ? t : d.imm64 ?? 0n, ...common };
    }
    if (t === undefined) return { kind: "plain", code: d.code, dst: d.dst, src: d.src, off: d.off, imm: d.imm, ...common };
    const field = branchField(d);
    return {
      kind: "branch",
      code: d.code,
      dst: d.dst,
      src: d.src,
      off: field === "off" ? 0 : d.off,
      imm: field === "imm" ? 0 : d.imm,
      target: t,
      ...common,
    };
  });
}
