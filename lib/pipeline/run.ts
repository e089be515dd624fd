/**
 * `runPipeline`: the one function from the editor state to everything the panes show. It is
 * pure; the optional cache only remembers earlier answers for the same inputs (same program
 * text, same target, the same packets array), which is what makes a keystroke cheap: most
 * keystrokes change the filter text but not the program, or the program but not the packets.
 */
import { formatProgram } from "../cbpf";
import type { CbpfInsn } from "../cbpf/insn";
import { validateProgram } from "../cbpf/validate";
import { OP_LD_IMM64, type Assembled } from "../ebpf";
import { formatListing, listingLines } from "../translate/listing";
import { isPlaygroundError } from "../errors";
import type { Target, TranslateResult } from "../translate/types";
import { slotOfLine } from "../verifier/log-analyze";
import { parseLog } from "../verifier/log-parse";
import type { Engines } from "./engines";
import { defaultEngines } from "./default-engines";
import { cbpfJudge, ebpfJudge, type PacketJudge } from "./judge";
import type { CbpfView, CompiledFilter, EbpfView, EngineVerdicts, PipelinePacket, PipelineResult, PipelineState, TraceView } from "./types";
import { emptyVerdicts, findMismatches, judgeVerdicts, memoJudges, type JudgeFor } from "./verdicts";

const now = (): number => globalThis.performance?.now() ?? Date.now();
const messageOf = (e: unknown): string => (isPlaygroundError(e) || e instanceof Error ? e.message : String(e));

/** A key that identifies a program by content. */
export function programKey(insns: readonly CbpfInsn[]): string {
  let s = "";
  for (const i of insns) s += `${i.code},${i.jt},${i.jf},${i.k};`;
  return s;
}

/** Small bounded memo; entries are evicted oldest first. */
class Memo<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly size: number) {}
  /** The value for a key, if present (no computing). */
  peek(key: string): V | undefined {
    return this.map.get(key);
  }
  get(key: string, make: () => V): V {
    const hit = this.map.get(key);
    if (hit !== undefined) {
      this.map.delete(key);
      this.map.set(key, hit);
      return hit;
    }
    const v = make();
    if (this.map.size >= this.size) this.map.delete(this.map.keys().next().value as string);
    this.map.set(key, v);
    return v;
  }
}

interface Translation {
  ebpf: EbpfView;
  trace: TraceView;
  program: Assembled | null;
}

/** Remembers earlier results across calls; pass the same cache to every call of one session. */
export class PipelineCache {
  readonly cbpf = new Memo<CbpfView>(16);
  readonly translation = new Memo<Translation>(16);
  /** Packet identity: each new packets array gets a fresh id, so results for an old capture never leak. */
  private readonly packetIds = new WeakMap<readonly PipelinePacket[], number>();
  private nextId = 1;
  readonly verdicts = new Memo<EngineVerdicts>(12);
  packetsId(p: readonly PipelinePacket[]): number {
    let id = this.packetIds.get(p);
    if (id === undefined) {
      id = this.nextId++;
      this.packetIds.set(p, id);
    }
    return id;
  }
}

export function cbpfView(insns: readonly CbpfInsn[]): CbpfView {
  return {
    insns,
    text: { d: formatProgram(insns, "d"), dd: formatProgram(insns, "dd"), ddd: formatProgram(insns, "ddd") },
    kernelIssues: validateProgram(insns, "kernel"),
  };
}

function unavailableEbpf(target: Target, status: EbpfView["status"], message: string): EbpfView {
  return { status, message, target, lines: [], text: "", slotOfLine: [], lineOfSlot: [], provenance: [], linesByCbpf: [], registerRoles: {}, notes: [] };
}

/**
 * The listing exactly as lib/translate prints it (`N: (op) text  ; provenance`, N the slot as the
 * verifier numbers it), so the pane and `bpf-playground compile --format ebpf` show the same text.
 */
export function ebpfView(t: TranslateResult, cbpf: readonly CbpfInsn[]): EbpfView {
  const listing = listingLines(t, cbpf);
  const lineOfSlot: number[] = new Array<number>(t.program.raw.length).fill(Math.max(0, listing.length - 1));
  const linesByCbpf: number[][] = Array.from({ length: cbpf.length }, () => []);
  listing.forEach((l, line) => {
    lineOfSlot[l.slot] = line;
    if (l.slot + 1 < lineOfSlot.length && t.program.raw[l.slot]!.code === OP_LD_IMM64) lineOfSlot[l.slot + 1] = line;
    if (l.provenance.origin === "cbpf") linesByCbpf[l.provenance.index]?.push(line);
  });
  return {
    status: "ok",
    target: t.target,
    lines: listing.map((l) => l.text),
    text: formatListing(t, cbpf),
    slotOfLine: listing.map((l) => l.slot),
    lineOfSlot,
    provenance: listing.map((l) => l.provenance),
    linesByCbpf,
    stats: t.stats,
    registerRoles: registerRoles(t),
    notes: [...t.notes],
    progType: t.progType,
  };
}

/** The register convention of a translation, in words, for hovers. */
function registerRoles(t: TranslateResult): Record<string, string> {
  const roles: Record<string, string[]> = {};
  const add = (reg: string | undefined, what: string) => {
    if (reg === undefined) return;
    (roles[reg] ??= []).push(what);
  };
  const abi = t.abi;
  add(abi.a, "cBPF accumulator A");
  add(abi.x, "cBPF index register X");
  add(abi.tmp, "scratch for guards and address arithmetic");
  add(abi.ind, "bounds-checked pointer for [x + k] loads");
  add(abi.result, "the filter's result");
  add(abi.ctx, "the program context");
  add(abi.packetStart, "first packet byte (data)");
  add(abi.packetEnd, "one past the last packet byte (data_end)");
  const out: Record<string, string> = {};
  for (const [reg, what] of Object.entries(roles)) out[reg] = what.join("; ");
  return out;
}

export function traceView(text: string, accepted: boolean, error?: TraceView["error"]): TraceView {
  return {
    status: "ok",
    text,
    accepted,
    ...(error ? { error } : {}),
    slotOfLine: slotOfLine(parseLog(text)),
  };
}

function translateStage(insns: readonly CbpfInsn[], target: Target, engines: Engines): Translation {
  const unavailableTrace = (status: TraceView["status"], message: string): TraceView => ({ status, message, text: "", accepted: null, slotOfLine: [] });
  if (!engines.translate) {
    return {
      ebpf: unavailableEbpf(target, "unavailable", "the cBPF → eBPF translator is not part of this build yet"),
      trace: unavailableTrace("unavailable", "needs the translated program"),
      program: null,
    };
  }
  let t: TranslateResult;
  try {
    t = engines.translate(insns, target);
  } catch (e) {
    return { ebpf: unavailableEbpf(target, "error", messageOf(e)), trace: unavailableTrace("unavailable", "needs the translated program"), program: null };
  }
  const ebpf = ebpfView(t, insns);
  let trace: TraceView;
  if (!engines.emulate) trace = unavailableTrace("unavailable", "the verifier emulator is not part of this build yet");
  else {
    try {
      const r = engines.emulate(t.program, t.progType, target);
      trace = traceView(r.text, r.accepted, r.error);
    } catch (e) {
      trace = unavailableTrace("error", messageOf(e));
    }
  }
  return { ebpf, trace, program: t.program };
}

/** The program of each link type the state has one for; the shown link type's first. */
export function linkPrograms(state: Pick<PipelineState, "dlt" | "cbpf" | "programs">): Map<number, CompiledFilter> {
  const links = new Map<number, CompiledFilter>([[state.dlt, state.cbpf]]);
  for (const l of state.programs ?? []) if (!links.has(l.dlt)) links.set(l.dlt, l.cbpf);
  return links;
}

/** Identifies a set of link programs by content, for the verdict cache. */
function linksKey(links: ReadonlyMap<number, CompiledFilter>): string {
  let s = "";
  for (const [dlt, c] of links) s += `${dlt}=${c.ok ? programKey(c.insns) : `!${c.error}`}|`;
  return s;
}

function cbpfJudges(links: ReadonlyMap<number, CompiledFilter>): JudgeFor {
  return memoJudges((dlt) => {
    const c = links.get(dlt);
    if (!c) return undefined;
    return c.ok ? cbpfJudge(c.insns) : `the filter does not compile for DLT ${dlt}: ${c.error}`;
  });
}

function ebpfJudges(links: ReadonlyMap<number, CompiledFilter>, target: Target, cache: PipelineCache, engines: Engines): JudgeFor {
  return memoJudges((dlt) => {
    const c = links.get(dlt);
    if (!c) return undefined;
    if (!c.ok) return `the filter does not compile for DLT ${dlt}: ${c.error}`;
    const insns = c.insns;
    const tr = cache.translation.get(`${target}|${programKey(insns)}`, () => translateStage(insns, target, engines));
    return tr.program ? ebpfJudge(tr.program, target) : (tr.ebpf.message ?? "no translated program");
  });
}

/** The verdicts of every packet by the cBPF program of its link type; the column fails if the shown program cannot run. */
function cbpfRun(links: ReadonlyMap<number, CompiledFilter>, dlt: number, shown: readonly CbpfInsn[], packets: readonly PipelinePacket[]): EngineVerdicts {
  let judge: PacketJudge;
  try {
    judge = cbpfJudge(shown);
  } catch (e) {
    return emptyVerdicts(packets.length, "error", messageOf(e));
  }
  const others = cbpfJudges(links);
  return judgeVerdicts((d) => (d === dlt ? judge : others(d)), packets);
}

/** The message of eBPF verdicts not computed yet (see RunOptions.skipEbpfVerdicts). */
export const PENDING = "pending";

export interface RunOptions {
  cache?: PipelineCache;
  engines?: Engines;
  /** Skip the per-packet eBPF run (the worker runs it as a second phase on large captures). */
  skipEbpfVerdicts?: boolean;
}

export function runPipeline(state: PipelineState, opts: RunOptions = {}): PipelineResult {
  const cache = opts.cache ?? new PipelineCache();
  const engines = opts.engines ?? defaultEngines;
  const timings: Record<string, number> = {};
  const t0 = now();
  const n = state.packets.length;
  if (!state.cbpf.ok) {
    return {
      cbpf: null,
      compileError: state.cbpf.error,
      ebpf: unavailableEbpf(state.target, "unavailable", "the filter does not compile"),
      trace: { status: "unavailable", message: "the filter does not compile", text: "", accepted: null, slotOfLine: [] },
      verdicts: { count: n, cbpf: emptyVerdicts(n, "unavailable"), ebpf: emptyVerdicts(n, "unavailable"), mismatches: new Uint32Array(0) },
      timings,
    };
  }
  const insns = state.cbpf.insns;
  const key = programKey(insns);
  const cbpf = cache.cbpf.get(key, () => cbpfView(insns));
  const t1 = now();
  timings.cbpf = t1 - t0;
  const tkey = `${state.target}|${key}`;
  const tr = cache.translation.get(tkey, () => translateStage(insns, state.target, engines));
  const t2 = now();
  timings.translate = t2 - t1;
  const pid = cache.packetsId(state.packets);
  const links = linkPrograms(state);
  const lkey = linksKey(links);
  const cv = cache.verdicts.get(`c|${pid}|${lkey}`, () => cbpfRun(links, state.dlt, insns, state.packets));
  const t3 = now();
  timings.cbpfRun = t3 - t2;
  let ev: EngineVerdicts;
  if (tr.program === null) ev = emptyVerdicts(n, "unavailable", tr.ebpf.message);
  else {
    const vkey = `e|${pid}|${state.target}|${lkey}`;
    if (opts.skipEbpfVerdicts) ev = cache.verdicts.peek(vkey) ?? emptyVerdicts(n, "unavailable", PENDING);
    else ev = cache.verdicts.get(vkey, () => judgeVerdicts(ebpfJudges(links, state.target, cache, engines), state.packets));
  }
  const t4 = now();
  timings.ebpfRun = t4 - t3;
  const mismatches = findMismatches(cv, ev);
  timings.total = now() - t0;
  return { cbpf, ebpf: tr.ebpf, trace: tr.trace, verdicts: { count: n, cbpf: cv, ebpf: ev, mismatches }, timings };
}

/** The eBPF verdicts alone (the worker's second phase); uses the same cache entries. */
export function runEbpfVerdicts(state: PipelineState, opts: RunOptions = {}): EngineVerdicts {
  const cache = opts.cache ?? new PipelineCache();
  const engines = opts.engines ?? defaultEngines;
  const n = state.packets.length;
  if (!state.cbpf.ok) return emptyVerdicts(n, "unavailable");
  const insns = state.cbpf.insns;
  const key = programKey(insns);
  const tkey = `${state.target}|${key}`;
  const tr = cache.translation.get(tkey, () => translateStage(insns, state.target, engines));
  if (tr.program === null) return emptyVerdicts(n, "unavailable", tr.ebpf.message);
  const pid = cache.packetsId(state.packets);
  const links = linkPrograms(state);
  return cache.verdicts.get(`e|${pid}|${state.target}|${linksKey(links)}`, () => judgeVerdicts(ebpfJudges(links, state.target, cache, engines), state.packets));
}

/** The translated program for the debugger (from the cache when the panes already showed it). */
export function translatedProgram(insns: readonly CbpfInsn[], target: Target, opts: RunOptions = {}): { program: Assembled | null; ebpf: EbpfView } {
  const cache = opts.cache ?? new PipelineCache();
  const engines = opts.engines ?? defaultEngines;
  const tr = cache.translation.get(`${target}|${programKey(insns)}`, () => translateStage(insns, target, engines));
  return { program: tr.program, ebpf: tr.ebpf };
}

/** The eBPF verdicts computed a slice at a time, so a worker can answer new edits in between. */
export interface VerdictJob {
  /** Evaluate up to `maxPackets` more packets; true when every packet has been evaluated. */
  advance(maxPackets: number): boolean;
  /** The verdicts (complete once advance returned true). */
  result(): EngineVerdicts;
  /** Packets evaluated so far. */
  readonly done: number;
}

export function ebpfVerdictJob(state: PipelineState, opts: RunOptions = {}): VerdictJob {
  const cache = opts.cache ?? new PipelineCache();
  const engines = opts.engines ?? defaultEngines;
  const n = state.packets.length;
  const finished = (v: EngineVerdicts): VerdictJob => ({ advance: () => true, result: () => v, done: n });
  if (!state.cbpf.ok) return finished(emptyVerdicts(n, "unavailable"));
  const insns = state.cbpf.insns;
  const tkey = `${state.target}|${programKey(insns)}`;
  const tr = cache.translation.get(tkey, () => translateStage(insns, state.target, engines));
  if (tr.program === null) return finished(emptyVerdicts(n, "unavailable", tr.ebpf.message));
  const links = linkPrograms(state);
  const vkey = `e|${cache.packetsId(state.packets)}|${state.target}|${linksKey(links)}`;
  const judges = ebpfJudges(links, state.target, cache, engines);
  const known = cache.verdicts.peek(vkey);
  if (known) return finished(known);
  const out = emptyVerdicts(n, "ok");
  let next = 0;
  return {
    get done() {
      return next;
    },
    advance(maxPackets: number): boolean {
      if (next >= n) return true;
      const end = Math.min(n, next + maxPackets);
      const part = judgeVerdicts(judges, state.packets.slice(next, end));
      if (part.status !== "ok") {
        Object.assign(out, emptyVerdicts(n, part.status, part.message));
        next = n;
        return true;
      }
      out.values.set(part.values, next);
      out.runs.set(part.runs, next);
      out.matched += part.matched;
      out.errors += part.errors;
      if (part.firstError !== undefined) out.firstError ??= part.firstError;
      next = end;
      if (next >= n) cache.verdicts.get(vkey, () => out);
      return next >= n;
    },
    result: () => out,
  };
}
