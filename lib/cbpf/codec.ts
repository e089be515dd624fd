/**
 * Raw bytes <-> instructions. A program is an array of 8-byte `struct sock_filter`
 * (u16 code, u8 jt, u8 jf, u32 k). code and k are in host byte order, so the caller says which
 * order the bytes are in; little-endian is what x86 and arm64 hosts (and the kernel here) use.
 */
import { describeValue, PlaygroundError } from "../errors";
import type { CbpfInsn } from "./insn";

export const INSN_BYTES = 8;

export function decodeProgram(bytes: Uint8Array, littleEndian = true): CbpfInsn[] {
  if (bytes.length % INSN_BYTES !== 0) {
    const tail = bytes.length - (bytes.length % INSN_BYTES);
    throw new PlaygroundError(
      "cbpf/decode",
      `program is ${bytes.length} bytes, not a multiple of 8: ${bytes.length - tail} stray byte(s) at offset ${tail}`,
      { kind: "byte", offset: tail },
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: CbpfInsn[] = new Array(bytes.length / INSN_BYTES);
  for (let i = 0, off = 0; off < bytes.length; i++, off += INSN_BYTES) {
    out[i] = {
      code: view.getUint16(off, littleEndian),
      jt: view.getUint8(off + 2),
      jf: view.getUint8(off + 3),
      k: view.getUint32(off + 4, littleEndian),
    };
  }
  return out;
}

export function encodeProgram(prog: readonly CbpfInsn[], littleEndian = true): Uint8Array {
  const bytes = new Uint8Array(prog.length * INSN_BYTES);
  const view = new DataView(bytes.buffer);
  prog.forEach((insn, i) => {
    checkField(insn, i, "code", 0xffff);
    checkField(insn, i, "jt", 0xff);
    checkField(insn, i, "jf", 0xff);
    checkField(insn, i, "k", 0xffffffff);
    const off = i * INSN_BYTES;
    view.setUint16(off, insn.code, littleEndian);
    view.setUint8(off + 2, insn.jt);
    view.setUint8(off + 3, insn.jf);
    view.setUint32(off + 4, insn.k, littleEndian);
  });
  return bytes;
}

/**
 * Instructions can arrive from JSON or a UI: check that each is an object with integer fields in
 * range, so later stages can rely on it. Throws PlaygroundError naming the instruction.
 */
export function checkInstructions(prog: readonly CbpfInsn[]): void {
  if (!Array.isArray(prog)) throw new PlaygroundError("cbpf/malformed", "a program must be an array of instructions");
  prog.forEach((insn, i) => {
    checkField(insn, i, "code", 0xffff, "cbpf/malformed");
    checkField(insn, i, "jt", 0xff, "cbpf/malformed");
    checkField(insn, i, "jf", 0xff, "cbpf/malformed");
    checkField(insn, i, "k", 0xffffffff, "cbpf/malformed");
  });
}

/** Refuse values that would be silently truncated. */
function checkField(insn: CbpfInsn, index: number, field: keyof CbpfInsn, max: number, code = "cbpf/encode"): void {
  const v: unknown = (insn as Partial<CbpfInsn> | null | undefined)?.[field];
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max) {
    throw new PlaygroundError(
      code,
      `insn ${index}: ${field} must be an integer from 0 to ${max}, got ${describeValue(v)}`,
      { kind: "insn", index },
    );
  }
}
