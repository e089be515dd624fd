/**
 * The kernel's verifier log as the trace pane shows it: which lines the emulator did not print
 * (the diff marks), how far the two agree, and the instruction slot of each line (the links).
 * The log is parsed once for both.
 */
import { useTopicPart } from "../events";
import { compareLogs } from "../../../lib/verifier/compare";
import { isSummary, slotOfLine } from "../../../lib/verifier/log-analyze";
import { parseLog } from "../../../lib/verifier/log-parse";
import type { KernelLogView } from "../panes/ListingPanes";
import type { KernelView } from "../panes/AgentPanel";

const NO_SLOTS: (number | null)[] = [];

function computeKernelLog(program: KernelView["program"] | undefined, emulated: string): { kernelLog: KernelLogView | null; kernelSlots: (number | null)[] } {
  if (!program) return { kernelLog: null, kernelSlots: NO_SLOTS };
  const lines = parseLog(program.log);
  const known = new Set(emulated.split("\n"));
  const differing: number[] = [];
  lines.forEach((line, i) => {
    if (line.kind !== "blank" && !known.has(line.raw) && !isSummary(line)) differing.push(i);
  });
  const kernelLog: KernelLogView = { text: program.log, accepted: program.accepted, agreement: compareLogs(program.log, emulated).agreement, differing };
  if (program.errno) kernelLog.errno = program.errno;
  return { kernelLog, kernelSlots: slotOfLine(lines) };
}

/**
 * The kernel log view of the shown program, for the panes that show it or link from it. Three
 * panes read it in the same render; one cached parse serves them all.
 */
let cached: { program: KernelView["program"] | undefined; emulated: string; view: ReturnType<typeof kernelLogOf> } | null = null;

function kernelLogOf(program: KernelView["program"] | undefined, emulated: string): { kernelLog: KernelLogView | null; kernelSlots: (number | null)[] } {
  if (cached && cached.program === program && cached.emulated === emulated) return cached.view;
  const view = computeKernelLog(program, emulated);
  cached = { program, emulated, view };
  return view;
}

export function useKernelLogView(): { kernelLog: KernelLogView | null; kernelSlots: (number | null)[] } {
  const program = useTopicPart("kernel.view", (k) => k?.program);
  const emulated = useTopicPart("pipeline.result", (r) => r?.trace.text ?? "");
  return kernelLogOf(program, emulated);
}
