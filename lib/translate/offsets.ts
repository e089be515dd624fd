/**
 * `ld [k]` with k >= 2^31 (a negative offset as the kernel reads k). libpcap's interpreter
 * simply fails such a load (k is past any packet), and so does the kernel, except in two
 * windows: SKF_NET_OFF + n and SKF_LL_OFF + n address byte n of the network or link-layer
 * header. Only LD_ABS (socket target) reaches those; elsewhere they are refused rather than
 * silently turned into "no match", since a filter written with them means something else.
 */
import { SKF_AD_ALU_XOR_X, SKF_AD_OFF, SKF_LL_OFF } from "../cbpf";
import { refuse, type Decoded } from "./decode";

/** True for k in [SKF_LL_OFF, SKF_AD_OFF): the kernel's header-relative windows. */
export const isHeaderRelative = (k: number): boolean => k >>> 0 >= SKF_LL_OFF && k >>> 0 < SKF_AD_OFF;

/**
 * For an absolute load (or MSH) at k >= 2^31: the reason it never succeeds, or a refusal for the
 * header-relative windows when the target cannot express them (`ldAbs` false).
 */
export function negativeOffset(d: Decoded, target: string, ldAbs: boolean): string | undefined {
  const k = d.op.t === "abs" || d.op.t === "msh" ? d.op.k : 0;
  if (isHeaderRelative(k)) {
    if (ldAbs) return undefined;
    const base = k >>> 0 >= 0xfff00000 ? "SKF_NET_OFF" : "SKF_LL_OFF";
    throw refuse(
      d.index,
      `${d.text} uses ${base}-relative addressing, which only the kernel's socket-filter loads (LD_ABS, target socket) support; ${target} cannot express it`,
    );
  }
  return `offset ${k | 0} is negative: the load never succeeds, so the filter returns 0`;
}

/**
 * The `fails` rule of the pointer-based strategies (direct access and probe reads), which differ
 * only in how far a load may reach and which ancillary fields they can read: undefined when the
 * instruction translates, a reason when it can only fail at run time (the filter returns 0), and a
 * refusal (thrown) when the target cannot express it at all.
 */
export function pointerLoadProblem(
  d: Decoded,
  target: string,
  tooFar: (end: number) => string | undefined,
  ancillaryProblem: (slot: number) => string | undefined,
): string | undefined {
  const op = d.op;
  switch (op.t) {
    case "abs":
      if (op.k >= 0x80000000) return negativeOffset(d, target, false);
      return tooFar(op.k + op.size);
    case "msh":
      if (op.k >= 0x80000000) return negativeOffset(d, target, false);
      return tooFar(op.k + 1);
    case "ind":
      return tooFar(op.k + op.size);
    case "anc": {
      if (op.slot === SKF_AD_ALU_XOR_X) return undefined; // plain ALU, lowered for every target
      const why = ancillaryProblem(op.slot);
      if (why !== undefined) throw refuse(d.index, `${d.text} cannot be translated for ${target}: ${why}`);
      return undefined;
    }
    default:
      return undefined;
  }
}
