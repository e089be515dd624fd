/**
 * Kernel-version profiles: what changes in the log's text between kernel versions. The emulator's
 * semantics follow 6.18; a profile only changes the format.
 */
export interface KernelProfile {
  readonly name: string;
  /** `R0_w=...` liveness suffixes (≤ 6.17). */
  readonly liveSuffix: boolean;
  /** The `Live regs before insn:` block (6.15 and later). */
  readonly liveRegsBlock: boolean;
  readonly insnLimit: number;
}

export const PROFILES: Readonly<Record<string, KernelProfile>> = {
  "6.18": { name: "6.18", liveSuffix: false, liveRegsBlock: true, insnLimit: 1_000_000 },
  "6.17": { name: "6.17", liveSuffix: true, liveRegsBlock: true, insnLimit: 1_000_000 },
  "6.14": { name: "6.14", liveSuffix: true, liveRegsBlock: false, insnLimit: 1_000_000 },
};

export const DEFAULT_PROFILE = PROFILES["6.18"]!;
