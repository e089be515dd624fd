/**
 * Running every packet through each engine. cBPF uses lib/cbpf's compiled filter (libpcap
 * semantics, the same answers as `tcpdump -r`); eBPF runs the translated program in the
 * interpreter with the target's context. One pass per engine, no allocation per packet beyond
 * what a context needs.
 */
import { compileFilter } from "../cbpf";
import type { CbpfInsn } from "../cbpf/insn";
import { createRunner, type Assembled } from "../ebpf";
import { isPlaygroundError } from "../errors";
import type { Target } from "../translate/types";
import { contextFor } from "./engines";
import { RunStatus, type EngineVerdicts, type PipelinePacket } from "./types";

export function emptyVerdicts(count: number, status: EngineVerdicts["status"], message?: string): EngineVerdicts {
  const v: EngineVerdicts = { status, values: new Uint32Array(count), runs: new Uint8Array(count), matched: 0, errors: 0 };
  if (message !== undefined) v.message = message;
  return v;
}

const messageOf = (e: unknown): string => (isPlaygroundError(e) || e instanceof Error ? e.message : String(e));

export function cbpfVerdicts(insns: readonly CbpfInsn[], packets: readonly PipelinePacket[], dlt: number): EngineVerdicts {
  const n = packets.length;
  const out = emptyVerdicts(n, "ok");
  let filter: (p: Uint8Array, wireLen?: number) => number;
  try {
    filter = compileFilter(insns);
  } catch (e) {
    return emptyVerdicts(n, "error", messageOf(e));
  }
  const { values, runs } = out;
  let matched = 0;
  for (let i = 0; i < n; i++) {
    const p = packets[i]!;
    if (p.dlt !== dlt) {
      runs[i] = RunStatus.Skipped;
      continue;
    }
    try {
      const v = filter(p.data, p.origLen);
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

export function ebpfVerdicts(program: Assembled, target: Target, packets: readonly PipelinePacket[], dlt: number): EngineVerdicts {
  const n = packets.length;
  const out = emptyVerdicts(n, "ok");
  let runner;
  try {
    runner = createRunner(program, target, { maxSteps: 100_000 });
  } catch (e) {
    return emptyVerdicts(n, "error", messageOf(e));
  }
  const { values, runs } = out;
  let matched = 0;
  for (let i = 0; i < n; i++) {
    const p = packets[i]!;
    if (p.dlt !== dlt) {
      runs[i] = RunStatus.Skipped;
      continue;
    }
    try {
      // XDP and tc programs may write packet data; translated filters never do, and the
      // interpreter bounds every write to the buffer it was given.
      const r = runner.run(contextFor(target, p.data, dlt));
      if (r.fault) {
        runs[i] = RunStatus.Error;
        out.errors++;
        out.firstError ??= r.fault.message;
        continue;
      }
      values[i] = r.retval >>> 0;
      runs[i] = RunStatus.Ok;
      if (r.retval !== 0) matched++;
    } catch (e) {
      runs[i] = RunStatus.Error;
      out.errors++;
      out.firstError ??= messageOf(e);
    }
  }
  out.matched = matched;
  return out;
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
