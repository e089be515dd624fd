/**
 * The test and benchmark hook, `window.__bpfp`: what the panes show and the figures of the last
 * update. e2e specs and bench/ui.bench.ts read it; hooks/use-pipeline.ts writes it.
 */
import type { PipelineResult } from "../../lib/pipeline";
import type { Settings } from "./settings";

export interface Timing {
  compileMs: number | null;
  /** runPipeline's first answer in the worker. */
  workerMs: number | null;
  /** The eBPF verdicts that follow it on large captures. */
  ebpfMs: number | null;
  screenMs: number | null;
}

declare global {
  interface Window {
    /** Test and benchmark hook: figures of the last update and what the panes show. */
    __bpfp?: {
      timing: Timing;
      result: PipelineResult | null;
      settings: Settings;
      updates: number;
      lastFilterShown: string | null;
      /** The filter whose keystroke-to-screen time `timing.screenMs` is. */
      lastMeasured: string | null;
      /** The last events (compile answers, runs, results), newest last, for diagnosing. */
      events?: string[];
    };
  }
}

/** Appends to the diagnostic event list of the test hook (bounded). */
export function note(event: string): void {
  const hook = window.__bpfp;
  if (!hook) return;
  const list = (hook.events ??= []);
  list.push(`${Math.round(performance.now())} ${event}`);
  if (list.length > 200) list.splice(0, list.length - 200);
}
