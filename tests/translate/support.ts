/**
 * Shared helpers for the translation tests: compile with the real libpcap, run a translation in
 * the lib/ebpf interpreter with the same contexts the `ebpf` engine uses, and compare with the
 * cBPF interpreter (libpcap semantics), whitelisting exactly the documented divergences.
 */
import { compileFilter, resolveDlt } from "../../server/native/libpcap";
import { runFilter, type CbpfInsn } from "../../lib/cbpf";
import { createRunner, type ContextSpec } from "../../lib/ebpf";
import { divergencesFor, translate, type Target, type TranslateOptions, type TranslateResult } from "../../lib/translate";
import { contextFor } from "../../lib/pipeline/engines";

export const ALL_TARGETS: readonly Target[] = ["socket", "tc", "xdp", "kprobe"];

export function compileOrThrow(filter: string, dlt: string | number = "EN10MB", optimize = true): CbpfInsn[] {
  const c = compileFilter({ filter, dlt: typeof dlt === "number" ? dlt : resolveDlt(dlt), snaplen: 262144, optimize, netmask: 0 });
  if (!c.ok) throw new Error(`libpcap refused "${filter}": ${c.error}`);
  return c.insns;
}

/** The translated program's return value on one packet (throws on an interpreter fault). */
export function runTranslated(t: TranslateResult, data: Uint8Array, wireLen = data.length, ctx?: ContextSpec): number {
  const r = createRunner(t.program, t.target).run(ctx ?? contextFor(t.target, data, 1, wireLen));
  if (r.fault) throw new Error(`${t.target}: fault at slot ${r.fault.pc}: ${r.fault.message}`);
  return r.retval >>> 0;
}

/** libpcap's answer according to the project's cBPF interpreter; "loops" when it never returns. */
export function libpcapValue(prog: readonly CbpfInsn[], data: Uint8Array, wireLen = data.length, maxSteps?: number): number | "loops" {
  try {
    return runFilter(prog, data, { wireLen, semantics: "libpcap", maxSteps });
  } catch (e) {
    if ((e as { code?: string }).code === "cbpf/step-limit") return "loops";
    throw e;
  }
}

export interface Disagreement {
  target: Target;
  packet: number;
  ebpf: number;
  cbpf: number | "loops";
}

/**
 * Runs `prog` translated for each target over `packets` and returns the disagreements with
 * libpcap that no documented divergence explains.
 */
export function unexplained(
  prog: readonly CbpfInsn[],
  packets: readonly { data: Uint8Array; origLen?: number }[],
  targets: readonly Target[] = ALL_TARGETS,
  opts: Omit<TranslateOptions, "target"> = {},
): Disagreement[] {
  const out: Disagreement[] = [];
  for (const target of targets) {
    const t = translate(prog, { ...opts, target });
    packets.forEach((p, i) => {
      const wireLen = p.origLen ?? p.data.length;
      const ebpf = runTranslated(t, p.data, wireLen);
      const cbpf = libpcapValue(prog, p.data, wireLen);
      if (ebpf === cbpf) return;
      if (divergencesFor({ prog, target, packet: p.data, wireLen, loopBound: opts.loopBound }).length > 0) return;
      out.push({ target, packet: i, ebpf, cbpf });
    });
  }
  return out;
}
