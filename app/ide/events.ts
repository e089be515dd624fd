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
 */
import { createContext, useContext, useEffect, useRef, useSyncExternalStore } from "react";

/** Latest-value entries. Each key's value type is what every subscriber receives. */
export interface IdeTopics {
  /** The program the inject pane last built (or null): the before/after streams and mapping. */
  "inject.result": import("../../lib/inject/types").InjectResult | null;
  /** What the kernel made of the patched object the inject pane loaded (or null): for the diff. */
  "inject.loaded": { readonly section: string; readonly xlated: readonly string[] } | null;

  // Named and shaped as on the panes branch, which publishes them from its own hooks; until it
  // lands, Ide.tsx publishes them from its state (hooks/use-shared-topics.ts).
  /** The editor's settings: filter text, link type, snaplen, optimizer, target. */
  settings: { filter: string; dlt: number; snaplen: number; optimize: boolean; target: import("../../lib/pipeline").Target };
  /** The last filter libpcap accepted, with what it was compiled for. */
  "compile.good": { params: import("./compile-client").CompileParams; insns: import("../../lib/cbpf/insn").CbpfInsn[]; libpcap: string } | null;
  agent: import("./panes/AgentPanel").AgentInfo;
  /** The kernel's side of the shown program: its log, xlated and JIT code. */
  "kernel.view": import("./panes/AgentPanel").KernelView | null;
}

/** One-off messages. */
export interface IdeSignals {
  /** Show a short message at the bottom of the page. */
  toast: string;
  /** Scroll the cBPF listing to an instruction and mark it (the diff and other panes link here). */
  "cbpf.reveal": { index: number };
  /** Scroll the eBPF listing to a slot and mark it. */
  "ebpf.reveal": { slot: number };
}

type Listener<T> = (value: T) => void;

export class EventHub {
  readonly #topics = new Map<keyof IdeTopics, unknown>();
  readonly #topicListeners = new Map<keyof IdeTopics, Set<() => void>>();
  readonly #signalListeners = new Map<keyof IdeSignals, Set<Listener<never>>>();

  /** The current value of a topic, or `fallback` before anyone published it. */
  get<K extends keyof IdeTopics>(key: K, fallback: IdeTopics[K]): IdeTopics[K] {
    return this.#topics.has(key) ? (this.#topics.get(key) as IdeTopics[K]) : fallback;
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
export function useTopic<K extends keyof IdeTopics>(key: K, fallback: IdeTopics[K]): IdeTopics[K] {
  const hub = useHub();
  return useSyncExternalStore(
    (cb) => hub.watch(key, cb),
    () => hub.get(key, fallback),
    () => fallback,
  );
}

/** Calls `listener` for each signal `key`; the latest listener is used without resubscribing. */
export function useSignal<K extends keyof IdeSignals>(key: K, listener: Listener<IdeSignals[K]>): void {
  const hub = useHub();
  const latest = useRef(listener);
  latest.current = listener;
  useEffect(() => hub.on(key, (v) => latest.current(v)), [hub, key]);
}
