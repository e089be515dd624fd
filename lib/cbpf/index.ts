/** Classic BPF: instruction model, codec, tcpdump text forms, validation and execution. */
export type { CbpfInsn, CbpfProgram } from "./insn";
export * from "./opcodes";
export { decodeProgram, encodeProgram, INSN_BYTES } from "./codec";
export { formatProgram, formatInsn, describeInsn, type DumpStyle } from "./format";
export {
  runFilter,
  compileFilter,
  DEFAULT_MAX_STEPS,
  type RunOptions,
  type CompileOptions,
  type CompiledFilter,
  type CbpfSemantics,
  type CbpfSkbContext,
} from "./interpret";
