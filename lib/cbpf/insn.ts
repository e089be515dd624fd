/**
 * The classic BPF instruction, exactly as `struct sock_filter` / `struct bpf_insn` holds it:
 * 16-bit opcode, 8-bit jump offsets, 32-bit constant. `k` is always kept as an unsigned 32-bit
 * number (0..0xffffffff) so printing and comparing never see a negative.
 */
export interface CbpfInsn {
  readonly code: number;
  readonly jt: number;
  readonly jf: number;
  readonly k: number;
}

export type CbpfProgram = readonly CbpfInsn[];
