/**
 * Test support: every EN10MB filter of tests/data/filters.ts, compiled by libpcap, translated for
 * one target, loaded into the running kernel (log_level 2) and emulated. Returns the agreement and
 * every remaining difference, so the test can print them.
 */
import type { CbpfInsn } from "../../lib/cbpf";
import type { RawInsn } from "../../lib/ebpf/insn";
import { isTranslateRefusal, translate, type Target } from "../../lib/translate";
import { compareLogs, emulate } from "../../lib/verifier";
import { compileFilter } from "../../server/native/libpcap";
import { FILTER_CASES } from "../data/filters";
import { kernelLog } from "../support/kernel-log";

export interface TranslatedReport {
  programs: number;
  acceptAgree: number;
  acceptDisagree: string[];
  matchedLines: number;
  totalLines: number;
  /** One entry per program whose normalised logs differ: filter, agreement and the first lines of the diff. */
  differences: string[];
  /** Filters the translator refused for this target (a documented refusal, lib/translate TRANSLATE_REFUSALS). */
  untranslatable: number;
}

/**
 * The translation to verify, or null when the translator refuses the program for this target
 * with one of its documented refusals (e.g. ancillary loads for xdp: nothing to verify). Any
 * other exception is a bug and propagates, failing the test.
 */
export function translateOrRefusal(insns: readonly CbpfInsn[], target: Target): readonly RawInsn[] | null {
  try {
    return translate(insns, { target }).program.raw;
  } catch (e) {
    if (isTranslateRefusal(e)) return null;
    throw e;
  }
}

export function runTranslated(target: Target): TranslatedReport {
  const rep: TranslatedReport = { programs: 0, acceptAgree: 0, acceptDisagree: [], matchedLines: 0, totalLines: 0, differences: [], untranslatable: 0 };
  for (const c of FILTER_CASES) {
    if (!c.dlts.includes("EN10MB")) continue;
    const comp = compileFilter({ filter: c.filter, dlt: 1, snaplen: 262144, optimize: true, netmask: 0 });
    if (!comp.ok) continue;
    const raw = translateOrRefusal(comp.insns, target);
    if (raw === null) {
      rep.untranslatable++;
      continue;
    }
    const k = kernelLog(raw, target);
    const e = emulate(raw, { progType: target, trace: false });
    rep.programs++;
    if (k.accepted === e.accepted && (k.accepted || k.errno === e.errno)) rep.acceptAgree++;
    else rep.acceptDisagree.push(`${c.filter}: kernel ${k.accepted ? "accepts" : `rejects (${k.errno})`}, emulator ${e.accepted ? "accepts" : `rejects (${e.errno}): ${e.error?.message}`}`);
    const cmp = compareLogs(k.log, e.text);
    rep.matchedLines += cmp.matched;
    rep.totalLines += Math.max(cmp.expected, cmp.actual);
    if (cmp.diff.length) rep.differences.push(`${c.filter}: ${(100 * cmp.agreement).toFixed(1)}%\n    ${cmp.diff.slice(0, 4).map((l) => l.slice(0, 220)).join("\n    ")}`);
  }
  return rep;
}

export function printReport(target: string, r: TranslatedReport): void {
  const pct = ((100 * r.matchedLines) / Math.max(1, r.totalLines)).toFixed(2);
  console.log(
    `translated filters, ${target}: ${r.programs} programs (${r.untranslatable} not translatable), accept/reject agree ${r.acceptAgree}/${r.programs}, ` +
      `lines ${r.matchedLines}/${r.totalLines} (${pct}%), ${r.differences.length} programs with differences` +
      (r.differences.length ? `\n  ${r.differences.join("\n  ")}` : "") +
      (r.acceptDisagree.length ? `\n  verdicts differ:\n  ${r.acceptDisagree.join("\n  ")}` : ""),
  );
}
