/**
 * A tiny eBPF encoder/decoder for the kernel layer's own probe and test programs.
 *
 * TEMPORARY: lib/ebpf (the project's instruction model) was being written in parallel when this
 * layer was built. Once lib/ebpf's codec and formatter are stable, the probe programs here should be
 * built with it and this file reduced to nothing. Only raw numbers live here: no labels, no
 * validation beyond what the kernel does itself.
 */

/** One 8-byte instruction slot, as in lib/ebpf's RawInsn. */
export interface RawInsn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

export const INSN_SIZE = 8;

export function encode(insns: readonly RawInsn[]): Uint8Array {
  const out = new Uint8Array(insns.length * INSN_SIZE);
  const v = new DataView(out.buffer);
  insns.forEach((i, n) => {
    const o = n * INSN_SIZE;
    v.setUint8(o, i.code);
    v.setUint8(o + 1, ((i.src & 0xf) << 4) | (i.dst & 0xf));
    v.setInt16(o + 2, i.off, true);
    v.setInt32(o + 4, i.imm | 0, true);
  });
  return out;
}

export function decode(bytes: Uint8Array): RawInsn[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: RawInsn[] = [];
  for (let o = 0; o + INSN_SIZE <= bytes.length; o += INSN_SIZE) {
    const regs = v.getUint8(o + 1);
    out.push({ code: v.getUint8(o), dst: regs & 0xf, src: regs >> 4, off: v.getInt16(o + 2, true), imm: v.getInt32(o + 4, true) });
  }
  return out;
}

const I = (code: number, dst = 0, src = 0, off = 0, imm = 0): RawInsn => ({ code, dst, src, off, imm });

// The handful of forms the probe programs use. Registers are plain numbers 0..10.
export const asm = {
  mov64Imm: (dst: number, imm: number) => I(0xb7, dst, 0, 0, imm),
  mov64Reg: (dst: number, src: number) => I(0xbf, dst, src),
  add64Imm: (dst: number, imm: number) => I(0x07, dst, 0, 0, imm),
  add64Reg: (dst: number, src: number) => I(0x0f, dst, src),
  sub64Reg: (dst: number, src: number) => I(0x1f, dst, src),
  and64Imm: (dst: number, imm: number) => I(0x57, dst, 0, 0, imm),
  lsh64Imm: (dst: number, imm: number) => I(0x67, dst, 0, 0, imm),
  ldxB: (dst: number, src: number, off: number) => I(0x71, dst, src, off),
  ldxH: (dst: number, src: number, off: number) => I(0x69, dst, src, off),
  ldxW: (dst: number, src: number, off: number) => I(0x61, dst, src, off),
  ldxDW: (dst: number, src: number, off: number) => I(0x79, dst, src, off),
  stxW: (dst: number, off: number, src: number) => I(0x63, dst, src, off),
  stxDW: (dst: number, off: number, src: number) => I(0x7b, dst, src, off),
  stW: (dst: number, off: number, imm: number) => I(0x62, dst, 0, off, imm),
  stDW: (dst: number, off: number, imm: number) => I(0x7a, dst, 0, off, imm),
  /** lock *(u64 *)(dst + off) += src */
  atomicAdd64: (dst: number, off: number, src: number) => I(0xdb, dst, src, off, 0),
  ldAbsB: (imm: number) => I(0x30, 0, 0, 0, imm),
  ldAbsH: (imm: number) => I(0x28, 0, 0, 0, imm),
  ldAbsW: (imm: number) => I(0x20, 0, 0, 0, imm),
  ja: (off: number) => I(0x05, 0, 0, off),
  jeqImm: (dst: number, imm: number, off: number) => I(0x15, dst, 0, off, imm),
  jneImm: (dst: number, imm: number, off: number) => I(0x55, dst, 0, off, imm),
  jgtImm: (dst: number, imm: number, off: number) => I(0x25, dst, 0, off, imm),
  jgtReg: (dst: number, src: number, off: number) => I(0x2d, dst, src, off),
  call: (helper: number) => I(0x85, 0, 0, 0, helper),
  exit: () => I(0x95),
  /** ld_imm64 with src_reg = BPF_PSEUDO_MAP_FD: the kernel replaces the fd by the map pointer. */
  ldMapFd: (dst: number, fd: number): RawInsn[] => [I(0x18, dst, 1, 0, fd), I(0, 0, 0, 0, 0)],
  ldImm64: (dst: number, value: bigint): RawInsn[] => [
    I(0x18, dst, 0, 0, Number(BigInt.asIntN(32, value))),
    I(0, 0, 0, 0, Number(BigInt.asIntN(32, value >> 32n))),
  ],
};

// Helper ids (enum bpf_func_id).
export const HELPER = {
  map_lookup_elem: 1,
  probe_read_kernel: 113,
  ringbuf_output: 130,
} as const;
