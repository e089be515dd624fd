/**
 * Running every packet through each engine (lib/pipeline/judge): cBPF with libpcap semantics (the
 * same answers as `tcpdump -r`), eBPF as the translated program in the interpreter with the
 * target's context. One pass per engine, each packet judged by its own link type's program, no
 * allocation per packet beyond what a context needs.
 */
import { isPlaygroundError } from "../errors";
import type { PacketJudge } from "./judge";
import { RunStatus, type EngineVerdicts, type PipelinePacket } from "./types";

export function emptyVerdicts(count: number, status: EngineVerdicts["status"], message?: string): EngineVerdicts {
  const v: EngineVerdicts = { status, values: new Uint32Array(count), runs: new Uint8Array(count), matched: 0, errors: 0 };
  if (message !== undefined) v.message = message;
  return v;
}

const messageOf = (e: unknown): string => (isPlaygroundError(e) || e instanceof Error ? e.message : String(e));

/**
 * What judges each link type's packets: a judge, or why there is none (the filter does not compile
 * or translate for that link type). Packets of a link type without an entry are skipped.
 */
export type JudgeFor = (dlt: number) => PacketJudge | string | undefined;

/** Every packet through the judge of its own link type. */
export function judgeVerdicts(judgeFor: JudgeFor, packets: readonly PipelinePacket[]): EngineVerdicts {
  const n = packets.length;
  const out = emptyVerdicts(n, "ok");
  const { values, runs } = out;
  let matched = 0;
  let lastDlt = NaN;
  let judge: PacketJudge | string | undefined;
  for (let i = 0; i < n; i++) {
    const p = packets[i]!;
    if (p.dlt !== lastDlt) {
      lastDlt = p.dlt;
      judge = judgeFor(p.dlt);
    }
    if (judge === undefined) {
      runs[i] = RunStatus.Skipped;
      continue;
    }
    if (typeof judge === "string") {
      runs[i] = RunStatus.Error;
      out.errors++;
      out.firstError ??= judge;
      continue;
    }
    try {
      const v = judge(p);
      values[i] = v;
      runs[i] = RunStatus.Ok;
      if (v !== 0) matched++;
    } catch (e) {
      runs[i] = RunStatus.Error;
      out.errors++;
      out.firstError ??= messageOf(e);
    }
  }
  out.matched = matched;
  return out;
}

/** A JudgeFor that makes each link type's judge once, on first use, and remembers why it could not. */
export function memoJudges(make: (dlt: number) => PacketJudge | string | undefined): JudgeFor {
  const made = new Map<number, PacketJudge | string | undefined>();
  return (dlt) => {
    if (made.has(dlt)) return made.get(dlt);
    let j: PacketJudge | string | undefined;
    try {
      j = make(dlt);
    } catch (e) {
      j = messageOf(e);
    }
    made.set(dlt, j);
    return j;
  };
}

/** Packets on which both engines ran and disagree, or where one ran and the other failed. */
export function findMismatches(a: EngineVerdicts, b: EngineVerdicts): Uint32Array {
  if (a.status !== "ok" || b.status !== "ok") return new Uint32Array(0);
  const idx: number[] = [];
  const n = Math.min(a.runs.length, b.runs.length);
  for (let i = 0; i < n; i++) {
    const ra = a.runs[i]!;
    const rb = b.runs[i]!;
    if (ra === RunStatus.Skipped || rb === RunStatus.Skipped || ra === RunStatus.NotRun || rb === RunStatus.NotRun) continue;
    if (ra !== rb || a.values[i] !== b.values[i]) idx.push(i);
  }
  return Uint32Array.from(idx);
}
