/**
 * eBPF: opcodes, the symbolic instruction model and its assembler, the wire codec, kernel-style
 * disassembly (and its inverse), and the interpreter.
 *
 * Building a program: jumps name labels; offsets are computed once, by `assemble`.
 *
 *   const prog = assemble([
 *     ...withMeta({ origin: "prologue" }, ldx("u32", "r2", "r1", XDP_MD.data), ldx("u32", "r3", "r1", XDP_MD.data_end)),
 *     mov64Reg("r4", "r2"), alu64("add", "r4", 14),
 *     jmp("jgt", "r4", "r3", "drop"),               // bounds check
 *     ldx("u16", "r5", "r2", 12), endian("be", "r5", 16),
 *     jmp("jne", "r5", 0x800, "drop"),
 *     mov64Imm("r0", 2), exit(),                    // XDP_PASS
 *     label("drop"), mov64Imm("r0", 1), exit(),     // XDP_DROP
 *   ]);
 *   encodeProgram(prog.raw);                         // bytes for BPF_PROG_LOAD
 *   formatProgram(decodeRaw(prog.raw));              // ["0: (61) r2 = *(u32 *)(r1 +0)", ...]
 *   runProgram(prog, { kind: "xdp", packet }).r0;    // 2 or 1
 */
export * from "./opcodes";
export * from "./insn";
export * from "./asm";
export * from "./codec";
export * from "./disasm";
export * from "./interpret";
export type { Fault, FaultKind, HelperCall, MemAccess } from "./interp/core";
export type { CompiledProgram } from "./interp/compile";
export {
  XDP_MD,
  SK_BUFF,
  PT_REGS,
  PT_REGS_PARM,
  SKB_LAYOUT_6_18_X86_64,
  NET_DEVICE_IFINDEX_6_18_X86_64,
  KernelSegments,
  KPROBE_SKB_ADDR,
  KPROBE_HEAD_ADDR,
  buildKprobeSkb,
  kprobeSkbContext,
  type SkbLayout,
  type KernelMemory,
  type KprobeSkbOptions,
  type ContextSpec,
  type ContextKind,
  type XdpSpec,
  type SkbSpec,
  type KprobeSpec,
  type SkBuffFields,
  type PtRegName,
} from "./interp/ctx";
export { PACKET_HI, PACKET_LO, STACK_HI, STACK_LO, CTX_HI, CTX_LO, type RegionKind } from "./interp/memory";
export * from "./parse";
