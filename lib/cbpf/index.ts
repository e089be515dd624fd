/** Classic BPF: instruction model, codec, tcpdump text forms, validation and execution. */
export type { CbpfInsn, CbpfProgram } from "./insn";
export * from "./opcodes";
export { decodeProgram, encodeProgram, checkInstructions, INSN_BYTES } from "./codec";
export { formatProgram, formatInsn, describeInsn, insnParts, type DumpStyle } from "./format";
export {
  runFilter,
  compileFilter,
  compileBatchFilter,
  DEFAULT_MAX_STEPS,
  checkPacket,
  type RunOptions,
  type CompileOptions,
  type CompiledFilter,
  type PacketBatch,
  type BatchFilter,
  type CbpfSemantics,
  type CbpfSkbContext,
} from "./interpret";
export { parseProgram, detectFormat, type CbpfTextFormat } from "./parse";
export { validateProgram, assertValid, type CbpfIssue, type CbpfRules } from "./validate";
export {
  DIVERGENCES,
  divergence,
  divergencesHitByStep,
  divergencesHitByProgram,
  type CbpfDivergence,
  type DivergenceStep,
} from "./divergences";
export {
  createStepper,
  stepLabel,
  type CbpfStepper,
  type CbpfStepperState,
  type CbpfStepRecord,
  type CbpfRegisters,
  type CbpfRead,
  type StepperOptions,
} from "./stepper";
