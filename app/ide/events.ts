"use client";
/**
 * The one way panes talk to each other: a typed event map (Compiler Explorer's event-map model).
 *
 * Two kinds of entries:
 * - a *topic* holds the latest value of something several panes show (the compiled program, the
 *   pipeline result, the selected packet). A pane reads it with `useTopic`, which re-renders only
 *   that pane when the value changes, and a late subscriber sees the current value at once;
 * - a *signal* is a one-off request or notice (jump to a cBPF line, show a toast). A pane reacts
 *   with `useSignal`; nothing is kept.
 *
 * A pane module owns its hooks and publishes what it produces; no state is threaded through
 * Ide.tsx, which only lays the panes out. Add an entry here when a pane offers something new.
 *
 * The page's hub is seeded with every topic (settings.ts, createIdeHub), so a pane reads a real
 * value on its first render. On the keystroke path, read only what you show: `useTopicPart`
 * re-renders a pane only when its part of a topic changes (the eBPF pane and the target, not the
 * filter text), and handlers read `hub.get` when they run instead of subscribing.
 */
import { createContext, useCallback, useContext, useEffect, useRef, useSyncExternalStore } from "react";

/** Latest-value entries. Each key's value type is what every subscriber receives. */
export interface IdeTopics {
  /** The program the inject pane last built (or null): the before/after streams and mapping. */
  "inject.result": import("../../lib/inject/types").InjectResult | null;
  /** What the kernel made of the patched object the inject pane loaded (or null): for the diff. */
  "inject.loaded": { readonly section: string; readonly xlated: readonly string[] } | null;

  // ---- compile and pipeline core (hooks/use-pipeline.ts) ----
  /** The editor's settings: filter text, link type, snaplen, optimizer, target. */
  settings: import("./settings").Settings;
  /** Bumped when the filter text is replaced from outside the editor (a share link). */
  "filter.revision": number;
  /** The last answer of the compile service, good or bad, with what was asked. */
  "compile.last": { params: import("./compile-client").CompileParams; response: import("./compile-client").CompileResponse } | null;
  /** The last filter libpcap accepted: it stays on screen while the text does not compile. */
  "compile.good": import("./settings").GoodCompile | null;
  /** The pipeline worker's client, once it runs (captures, details, debugging go through it). */
  worker: import("./worker/client").PipelineClient | null;
  /** The editor state the shown result was computed from (published before the result). */
  "pipeline.input": import("./worker/protocol").RunInput | null;
  /** What every pane shows: listings, trace, verdicts. */
  "pipeline.result": import("../../lib/pipeline").PipelineResult | null;
  /** Figures of the last update (the status bar and `window.__bpfp` show them). */
  timing: import("./test-hook").Timing;
  /** The worker died: the page cannot go on. */
  fatal: string | null;

  // ---- captures (hooks/use-captures.ts) ----
  /** The loaded capture; `key` changes with each load or edit. */
  capture: (import("./worker/protocol").LoadedInfo & { key: number }) | null;
  "capture.loading": { name: string; progress: number } | null;
  "capture.error": string | null;
  /** The sample captures the server offers. */
  samples: import("./panes/PacketsPane").Sample[];
  /** The view a share link asked for, until its capture has loaded. */
  "share.view": Record<string, string | number | boolean> | null;

  // ---- selection, detail, debugger ----
  "packet.selected": number | null;
  "packet.detail": import("./worker/client").PacketDetail | null;
  "debug.engine": import("./worker/protocol").Engine;
  "debug.snapshot": import("./worker/protocol").DebugSnapshot | null;
  "debug.breakpoints": { cbpf: number[]; ebpf: number[] };

  // ---- the kernel, through the agent (hooks/use-kernel-run.ts) ----
  agent: import("./panes/AgentPanel").AgentInfo;
  /** The kernel's side of the shown program: its log, xlated and JIT code. */
  "kernel.view": import("./panes/AgentPanel").KernelView | null;
  /** BPF_PROG_TEST_RUN's verdicts for the capture, filled in as the chunks come back. */
  "kernel.verdicts": import("../../lib/pipeline").EngineVerdicts | null;

  // ---- live attachments on the demo network (hooks/use-live.ts) ----
  live: import("./hooks/use-live").Live;

  // ---- view: presenter, theme, overlays ----
  "view.cbpfTab": import("./panes/ListingPanes").CbpfTab;
  "view.rainbow": boolean;
  "view.theme": import("./monaco/themes").ThemeName;
  "view.presenter": boolean;
  /** The panes presenter mode shows. */
  "view.presenterPanes": Record<import("./panes/registry").PaneId, boolean>;
  /** The dialog on top of the page, if any. */
  overlay: null | "help" | "presenter" | "generate" | { share: string; note: string } | { editor: "edit" | "new" };
}

/** One-off messages. */
export interface IdeSignals {
  /** Show a short message at the bottom of the page. */
  toast: string;
  /** Scroll the cBPF listing to an instruction and mark it (the diff and other panes link here). */
  "cbpf.reveal": { index: number };
  /** Scroll the eBPF listing to a slot and mark it. */
  "ebpf.reveal": { slot: number };
  /** A keystroke in the filter editor: compiled at once, ahead of the render it causes. */
  "filter.edit": string;
  /** Put the keyboard in the filter editor. */
  "filter.focus": undefined;
  /** Open the file picker for a capture. */
  "capture.pick": undefined;
  /** Load a capture file (picked or dropped). */
  "capture.file": File;
  "capture.sample": import("./panes/PacketsPane").Sample;
  "capture.export": "matched-cbpf" | "matched-ebpf" | "all";
  /** Make a share link and show it. */
  "share.make": undefined;
  /** A debugger button or key. */
  "debug.command": "step" | "back" | "run" | "reset";
  /** Select the next packet the engines disagree on. */
  "packet.nextMismatch": undefined;
  /** The live pane: attach the shown program on the demo network; detach, pause, forget one; replay the capture. */
  "live.attach": undefined;
  "live.detach": number;
  "live.pause": { attachment: number; paused: boolean };
  "live.remove": number;
  "live.replay": { cycles: number; rate: number };
}

type Listener<T> = (value: T) => void;

export class EventHub {
  readonly #topics = new Map<keyof IdeTopics, unknown>();
  readonly #topicListeners = new Map<keyof IdeTopics, Set<() => void>>();
  readonly #signalListeners = new Map<keyof IdeSignals, Set<Listener<never>>>();

  /** `initial` seeds topics, so that panes mounted at start read real values, not fallbacks. */
  constructor(initial: Partial<IdeTopics> = {}) {
    for (const [k, v] of Object.entries(initial)) this.#topics.set(k as keyof IdeTopics, v);
  }

  /** The current value of a topic, or `fallback` before anyone published it (seed it instead). */
  get<K extends keyof IdeTopics>(key: K, fallback?: IdeTopics[K]): IdeTopics[K] {
    return this.#topics.has(key) ? (this.#topics.get(key) as IdeTopics[K]) : (fallback as IdeTopics[K]);
  }

  /** Publishes `f(current)`: the functional form of `publish`, for toggles and partial edits. */
  update<K extends keyof IdeTopics>(key: K, f: (current: IdeTopics[K]) => IdeTopics[K]): void {
    this.publish(key, f(this.get(key)));
  }

  publish<K extends keyof IdeTopics>(key: K, value: IdeTopics[K]): void {
    if (this.#topics.has(key) && Object.is(this.#topics.get(key), value)) return;
    this.#topics.set(key, value);
    for (const l of [...(this.#topicListeners.get(key) ?? [])]) l();
  }

  watch<K extends keyof IdeTopics>(key: K, onChange: () => void): () => void {
    let set = this.#topicListeners.get(key);
    if (!set) this.#topicListeners.set(key, (set = new Set()));
    set.add(onChange);
    return () => set.delete(onChange);
  }

  emit<K extends keyof IdeSignals>(key: K, value: IdeSignals[K]): void {
    for (const l of [...(this.#signalListeners.get(key) ?? [])]) (l as Listener<IdeSignals[K]>)(value);
  }

  on<K extends keyof IdeSignals>(key: K, listener: Listener<IdeSignals[K]>): () => void {
    let set = this.#signalListeners.get(key);
    if (!set) this.#signalListeners.set(key, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }
}

const HubContext = createContext<EventHub | null>(null);
export const HubProvider = HubContext.Provider;

export function useHub(): EventHub {
  const hub = useContext(HubContext);
  if (!hub) throw new Error("useHub outside <HubProvider>: the IDE creates one hub for its panes");
  return hub;
}

/** The latest value of a topic; the calling component re-renders when it changes. */
export function useTopic<K extends keyof IdeTopics>(key: K, fallback?: IdeTopics[K]): IdeTopics[K] {
  const hub = useHub();
  // A stable subscribe function: a new one each render would make React resubscribe each render.
  const subscribe = useCallback((cb: () => void) => hub.watch(key, cb), [hub, key]);
  return useSyncExternalStore(
    subscribe,
    () => hub.get(key, fallback),
    () => hub.get(key, fallback),
  );
}

/**
 * One part of a topic; the caller re-renders only when that part changes (`Object.is`). `pick`
 * must return a primitive or a value held by the topic, never a fresh object or array.
 */
export function useTopicPart<K extends keyof IdeTopics, T>(key: K, pick: (value: IdeTopics[K]) => T): T {
  const hub = useHub();
  // A stable subscribe function: a new one each render would make React resubscribe each render.
  const subscribe = useCallback((cb: () => void) => hub.watch(key, cb), [hub, key]);
  return useSyncExternalStore(
    subscribe,
    () => pick(hub.get(key)),
    () => pick(hub.get(key)),
  );
}

/** Calls `listener` for each signal `key`; the latest listener is used without resubscribing. */
export function useSignal<K extends keyof IdeSignals>(key: K, listener: Listener<IdeSignals[K]>): void {
  const hub = useHub();
  const latest = useRef(listener);
  latest.current = listener;
  useEffect(() => hub.on(key, (v) => latest.current(v)), [hub, key]);
}
