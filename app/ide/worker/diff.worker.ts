/**
 * The diff pane's worker: aligns two sets of streams (lib/diff) off the page's thread, since the
 * largest pairs (a filter of thousands of terms, optimized against not) take a few hundred ms.
 * Requests are answered in order; the pane keeps only the answer to its latest one.
 */
import { diffStreams, type StreamsDiff } from "../../../lib/diff";
import type { Stream } from "../../../lib/inject/types";

export interface DiffRequest {
  readonly id: number;
  readonly left: readonly Stream[];
  readonly right: readonly Stream[];
}

export type DiffAnswer = { readonly id: number; readonly ok: true; readonly diff: StreamsDiff; readonly ms: number } | { readonly id: number; readonly ok: false; readonly error: string };

const post = (a: DiffAnswer) => (self as unknown as { postMessage(a: DiffAnswer): void }).postMessage(a);

self.onmessage = (e: MessageEvent<DiffRequest>) => {
  const { id, left, right } = e.data;
  try {
    const t0 = performance.now();
    const diff = diffStreams(left, right);
    post({ id, ok: true, diff, ms: performance.now() - t0 });
  } catch (err) {
    post({ id, ok: false, error: err instanceof Error ? err.message : String(err) });
  }
};
