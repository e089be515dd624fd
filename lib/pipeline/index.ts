/** One pure function from the editor state to everything the panes show, and its helpers. */
export * from "./types";
export { runPipeline, runEbpfVerdicts, linkPrograms, PENDING, ebpfVerdictJob, translatedProgram, type VerdictJob, PipelineCache, programKey, cbpfView, ebpfView, traceView, type RunOptions } from "./run";
export { contextFor, networkOffset, targetOf, type Engines, type EmulationResult } from "./engines";
export { cbpfJudge, ebpfJudge, type PacketJudge } from "./judge";
export { defaultEngines } from "./default-engines";
export { findMismatches, judgeVerdicts, memoJudges, type JudgeFor } from "./verdicts";
export { packetRows, packetTree, captureFile, type PacketRow } from "./packets";
export { encodeShare, decodeShare, captureForShare, toBase64Url, fromBase64Url, SHARE_CAPTURE_LIMIT, type SharedState } from "./share";
