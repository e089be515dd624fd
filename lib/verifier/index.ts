/**
 * The verifier emulator: the kernel's register-state trace (log_level 2 text, Linux 6.18 by
 * default) and a structured per-instruction trace, computed in the browser or in Node.
 */
export { emulate, type EmulateOptions, type EmulateResult, type VerifierError } from "./emulate";
export { EXPLANATIONS, explain, type Explanation } from "./explain";
export { PROFILES, DEFAULT_PROFILE, type KernelProfile } from "./profile";
export { PROG_TYPES, ctxAccess, type ProgType } from "./ctx";
export { normaliseLog, compareLogs, type LogComparison } from "./compare";
export { parseLog, parseLogLine, type LogLine, type LogLineKind } from "./log-parse";
export { liveRegs, traceInsnTexts, slotOfLine, logSummary, errorLines, logError, programFromLog, isDiagnostic, isSummary, type LiveRow, type LogSummary } from "./log-analyze";
export type { TraceStep, StateView, RegView, SlotView } from "./trace";
export type { MapInfo, RegType } from "./reg";
