/**
 * eBPF: opcodes, the symbolic instruction model and its assembler, the wire codec, kernel-style
 * disassembly and the interpreter.
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
