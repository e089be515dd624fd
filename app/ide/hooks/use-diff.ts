"use client";
/**
 * What the diff pane compares, and the aligned diff of it (lib/diff). Every pair of programs the
 * page can make:
 * - the inject pane's host before and after the splice ("inject.result");
 * - the page's filter translated for two targets;
 * - the page's filter compiled with libpcap's optimizer on and off (same target);
 * - the page's filter and a second one (same target);
 * - what the page loaded into the kernel against the kernel's xlated dump of it, which shows the
 *   verifier's own rewrites (the agent's inspect result, "kernel.view");
 * - the patched object as loaded against its xlated dump ("inject.loaded").
 */
import { useEffect, useMemo, useRef, useState } from "react";
import type { CbpfInsn } from "../../../lib/cbpf/insn";
import { concatStreams, streamFromTranslation, streamFromXlated, type StreamsDiff } from "../../../lib/diff";
import type { Stream } from "../../../lib/inject";
import type { Target } from "../../../lib/pipeline";
import { translate } from "../../../lib/translate";
import { CompileClient, type CompileParams, type CompileResponse } from "../compile-client";
import { useTopic } from "../events";
import { NO_SETTINGS } from "./use-inject";
import type { DiffAnswer, DiffRequest } from "../worker/diff.worker";

export type DiffKind = "inject" | "targets" | "optimizer" | "filters" | "xlated" | "inject-xlated";

export const DIFF_KINDS: readonly { kind: DiffKind; label: string }[] = [
  { kind: "inject", label: "injected: before / after" },
  { kind: "targets", label: "two targets" },
  { kind: "optimizer", label: "optimizer on / off" },
  { kind: "filters", label: "two filters" },
  { kind: "xlated", label: "loaded / kernel xlated" },
  { kind: "inject-xlated", label: "patched / kernel xlated" },
];

export interface DiffSide {
  readonly label: string;
  readonly streams: readonly Stream[];
  /** Its slots are the page's eBPF listing's: a click there may reveal the slot in that listing. */
  readonly listing: boolean;
}

export type DiffData =
  | { readonly status: "ok"; readonly left: DiffSide; readonly right: DiffSide; readonly diff: StreamsDiff; readonly ms: number }
  | { readonly status: "waiting" | "error"; readonly message: string };

export interface DiffChoice {
  readonly kind: DiffKind;
  readonly targets: readonly [Target, Target];
  readonly otherFilter: string;
}

type Compiled = { readonly params: CompileParams; readonly response: CompileResponse };

/** The latest answer for `params` from a compile client of this hook's own (null: none yet, or not asked). */
function useCompiled(params: CompileParams | null): Compiled | null {
  const [got, setGot] = useState<Compiled | null>(null);
  const client = useRef<CompileClient | null>(null);
  useEffect(() => {
    if (!params) return;
    client.current ??= new CompileClient((p, response) => setGot({ params: p, response }));
    client.current.request(params);
  }, [params]);
  return got && params && CompileClient.key(got.params) === CompileClient.key(params) ? got : null;
}

/** The page's eBPF listing for a target, as a stream; or why there is none. */
function translated(insns: readonly CbpfInsn[], target: Target, label: string, listing: boolean): DiffSide | string {
  try {
    return { label, streams: [streamFromTranslation(translate(insns, { target }), target)], listing };
  } catch (e) {
    return `${label}: ${e instanceof Error ? e.message : String(e)}`;
  }
}

function fromCompiled(c: Compiled | null, target: Target, label: string, listing: boolean): DiffSide | string {
  if (!c) return "libpcap is compiling…";
  if (!c.response.ok) return `${label}: libpcap: ${c.response.error}`;
  return translated(c.response.insns, target, label, listing);
}

const usableXlated = (lines: readonly string[] | undefined): lines is readonly string[] => !!lines && lines.length > 0 && /^\d+: \(/.test(lines[0]!);

export interface DiffAvailability {
  readonly inject: boolean;
  readonly xlated: boolean;
  readonly "inject-xlated": boolean;
}

/** The diff of `sides`, computed in the diff worker; the answer to an older request is dropped. */
function useAligned(sides: { left: DiffSide; right: DiffSide } | { status: "waiting" | "error"; message: string }): DiffData {
  const worker = useRef<Worker | null>(null);
  const seq = useRef(0);
  const [answer, setAnswer] = useState<{ id: number; data: DiffData } | null>(null);
  useEffect(() => {
    const w = new Worker(new URL("../worker/diff.worker.ts", import.meta.url), { type: "module", name: "diff" });
    worker.current = w;
    return () => {
      w.terminate();
      worker.current = null;
    };
  }, []);
  const pending = useRef<{ id: number; left: DiffSide; right: DiffSide } | null>(null);
  useEffect(() => {
    const w = worker.current;
    if (!w || "status" in sides) return;
    const id = ++seq.current;
    pending.current = { id, left: sides.left, right: sides.right };
    w.onmessage = (e: MessageEvent<DiffAnswer>) => {
      const p = pending.current;
      if (!p || e.data.id !== p.id) return;
      const a = e.data;
      setAnswer({ id: a.id, data: a.ok ? { status: "ok", left: p.left, right: p.right, diff: a.diff, ms: a.ms } : { status: "error", message: a.error } });
    };
    w.postMessage({ id, left: sides.left.streams, right: sides.right.streams } satisfies DiffRequest);
  }, [sides]);
  if ("status" in sides) return sides;
  return answer && answer.id === seq.current ? answer.data : { status: "waiting", message: "aligning…" };
}

export function useDiff(choice: DiffChoice): { data: DiffData; available: DiffAvailability } {
  const settings = useTopic("settings", NO_SETTINGS);
  const good = useTopic("compile.good", null);
  const injected = useTopic("inject.result", null);
  const loaded = useTopic("inject.loaded", null);
  const kernel = useTopic("kernel.view", null);

  const base = useMemo(() => ({ filter: settings.filter, dlt: settings.dlt, snaplen: settings.snaplen }), [settings.filter, settings.dlt, settings.snaplen]);
  const on = useCompiled(useMemo(() => (choice.kind === "optimizer" ? { ...base, optimize: true } : null), [choice.kind, base]));
  const off = useCompiled(useMemo(() => (choice.kind === "optimizer" ? { ...base, optimize: false } : null), [choice.kind, base]));
  const other = useCompiled(useMemo(() => (choice.kind === "filters" && choice.otherFilter.trim() ? { ...base, filter: choice.otherFilter, optimize: settings.optimize } : null), [choice.kind, choice.otherFilter, base, settings.optimize]));

  const kernelXlated = kernel?.program?.accepted ? kernel.program.xlated : undefined;
  const available: DiffAvailability = { inject: injected !== null, xlated: usableXlated(kernelXlated), "inject-xlated": loaded !== null && usableXlated(loaded.xlated) };

  const sides = useMemo<{ left: DiffSide; right: DiffSide } | { status: "waiting" | "error"; message: string }>(() => {
    const sides = ((): [DiffSide | string, DiffSide | string] | string => {
      const t = settings.target;
      switch (choice.kind) {
        case "inject":
          if (!injected) return "pick a host in the inject pane: its program before and after the splice shows here";
          return [
            { label: `${injected.stub.name} before`, streams: injected.before, listing: false },
            { label: "after the splice", streams: injected.after, listing: false },
          ];
        case "targets": {
          if (!good) return "no filter has compiled yet";
          const [a, b] = choice.targets;
          return [translated(good.insns, a, a, a === t), translated(good.insns, b, b, b === t)];
        }
        case "optimizer":
          return [fromCompiled(on, t, `${t}, optimized`, settings.optimize), fromCompiled(off, t, `${t}, not optimized (-O)`, !settings.optimize)];
        case "filters":
          if (!good) return "no filter has compiled yet";
          if (!choice.otherFilter.trim()) return "type a second filter to compare the page's filter with";
          return [translated(good.insns, t, settings.filter, true), fromCompiled(other, t, choice.otherFilter, false)];
        case "xlated": {
          if (!good) return "no filter has compiled yet";
          if (!usableXlated(kernelXlated)) return "connect the agent: the kernel's xlated dump of the loaded program shows here";
          const mine = translated(good.insns, t, `${t}, as loaded`, true);
          return [mine, { label: "kernel xlated", streams: [streamFromXlated(kernelXlated, "xlated")], listing: false }];
        }
        case "inject-xlated": {
          if (!injected || !loaded || !usableXlated(loaded.xlated)) return "load the patched object in the inject pane: the kernel's dump of it shows here";
          // libbpf hands the kernel the entry section with the subprograms it calls appended.
          const entry = injected.after.filter((s) => s.section === loaded.section);
          const rest = injected.after.filter((s) => s.section === ".text");
          return [
            { label: `${loaded.section} + .text, as loaded`, streams: [concatStreams([...entry, ...rest])], listing: false },
            { label: "kernel xlated", streams: [streamFromXlated(loaded.xlated, "xlated")], listing: false },
          ];
        }
      }
    })();
    if (typeof sides === "string") return { status: "waiting", message: sides };
    const [l, r] = sides;
    if (typeof l === "string" || typeof r === "string") {
      const why = typeof l === "string" ? l : (r as string);
      return { status: /compiling/.test(why) ? "waiting" : "error", message: why };
    }
    return { left: l, right: r };
  }, [choice, settings.target, settings.filter, settings.optimize, injected, loaded, good, on, off, other, kernelXlated]);

  const data = useAligned(sides);

  return { data, available };
}
