/**
 * The engines this build links: lib/translate for cBPF → eBPF and lib/verifier's emulator for the
 * trace. Kept in one small module so the pipeline itself never changes when an engine does.
 */
import { translate } from "../translate";
import { emulate } from "../verifier";
import type { Engines } from "./engines";

export const defaultEngines: Engines = {
  translate: (cbpf, target) => translate(cbpf, { target }),
  emulate: (program, _progType, target) => {
    const r = emulate(program.raw, { progType: target });
    const out: { text: string; accepted: boolean; error?: { message: string; insn: number | null; summary: string; hint: string } } = { text: r.text, accepted: r.accepted };
    if (r.error) out.error = { message: r.error.message, insn: r.error.insn, summary: r.error.explanation.summary, hint: r.error.explanation.hint };
    return out;
  },
};
