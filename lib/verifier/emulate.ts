/**
 * `emulate`: the whole verifier run for one program, from raw instructions to the log text the
 * kernel would print at log_level 2 (or 1), the verdict with its errno, and the structured trace.
 */
import { rawFromBytes } from "../ebpf/codec";
import { insnText } from "./program";
import type { RawInsn } from "../ebpf/insn";
import { PlaygroundError } from "../errors";
import { Verifier, E2BIG, EINVAL } from "./check";
import { PROG_TYPES, type ProgType } from "./ctx";
import { explain, type Explanation } from "./explain";
import { analyseCfg, checkStructure, findUnreachable, slotProgram } from "./program";
import { DEFAULT_PROFILE, PROFILES, type KernelProfile } from "./profile";
import type { MapInfo } from "./reg";
import { initialState } from "./state";
import type { TraceStep } from "./trace";

export interface EmulateOptions {
  progType: ProgType;
  /** Kernel profile name ("6.18", "6.17", …) or object. Default 6.18. */
  profile?: string | KernelProfile;
  /** Maps the program refers to by fd (ld_imm64 with BPF_PSEUDO_MAP_FD). */
  maps?: Readonly<Record<number, MapInfo>> | ReadonlyMap<number, MapInfo>;
  /** 2 (default): every path with the header; 1: only the failing path. */
  logLevel?: 1 | 2;
  /** Record the structured trace (default true); false makes emulation of large programs faster. */
  trace?: boolean;
  /**
   * Stop after this many processed instructions, as the kernel does at 1,000,000 (the default,
   * from the profile), with its "BPF program is too large" message. A UI can lower it to stay
   * responsive on long loops.
   */
  insnLimit?: number;
}

export interface VerifierError {
  /** The kernel's error lines, as printed. */
  message: string;
  /** Instruction where it was detected (null for whole-program errors). */
  insn: number | null;
  errno: number;
  explanation: Explanation;
}

export interface EmulateResult {
  text: string;
  accepted: boolean;
  /** The errno BPF_PROG_LOAD would fail with (absent when accepted). */
  errno?: number;
  error?: VerifierError;
  trace: TraceStep[];
  stats: { processed: number; maxStatesPerInsn: number; totalStates: number; peakStates: number };
}

const MAX_INSNS = 1_000_000;

function profileOf(p: EmulateOptions["profile"]): KernelProfile {
  if (p === undefined) return DEFAULT_PROFILE;
  if (typeof p !== "string") return p;
  const found = PROFILES[p];
  if (!found) throw new PlaygroundError("verifier/profile", `unknown kernel profile "${p}" (known: ${Object.keys(PROFILES).join(", ")})`);
  return found;
}

function toRaw(program: readonly RawInsn[] | Uint8Array): RawInsn[] {
  if (program instanceof Uint8Array) return rawFromBytes(program);
  program.forEach((r, i) => {
    const ok =
      r !== null &&
      typeof r === "object" &&
      Number.isInteger(r.code) && r.code >= 0 && r.code <= 0xff &&
      Number.isInteger(r.dst) && r.dst >= 0 && r.dst <= 15 &&
      Number.isInteger(r.src) && r.src >= 0 && r.src <= 15 &&
      Number.isInteger(r.off) && r.off >= -0x8000 && r.off <= 0x7fff &&
      Number.isInteger(r.imm) && r.imm >= -0x80000000 && r.imm <= 0xffffffff;
    if (!ok) throw new PlaygroundError("verifier/input", `instruction ${i} has a field out of range`, { kind: "insn", index: i });
  });
  return program.map((r) => ({ code: r.code, dst: r.dst, src: r.src, off: r.off, imm: r.imm | 0 }));
}

export function emulate(program: readonly RawInsn[] | Uint8Array, opts: EmulateOptions): EmulateResult {
  if (!PROG_TYPES.includes(opts.progType)) {
    throw new PlaygroundError("verifier/prog-type", `unknown program type "${String(opts.progType)}" (socket, tc, xdp, kprobe)`);
  }
  const profile = profileOf(opts.profile);
  const level = opts.logLevel ?? 2;
  const raw = toRaw(program);
  const maps = new Map<number, MapInfo>(opts.maps instanceof Map ? opts.maps : Object.entries(opts.maps ?? {}).map(([k, v]) => [Number(k), v]));
  const lines: string[] = [];
  const done = (errno: number, message: string | null, insn: number | null, trace: TraceStep[] = [], processed = 0): EmulateResult => {
    if (message !== null) lines.push(message);
    lines.push(`processed ${processed} insns (limit ${profile.insnLimit}) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0`);
    return {
      text: lines.join("\n") + "\n",
      accepted: false,
      errno,
      ...(message !== null ? { error: { message, insn, errno, explanation: explain(message) } } : {}),
      trace,
      stats: { processed, maxStatesPerInsn: 0, totalStates: 0, peakStates: 0 },
    };
  };
  // bpf_prog_load refuses these before the verifier runs, with no log at all.
  if (raw.length === 0) return { text: "", accepted: false, errno: EINVAL, trace: [], stats: zeroStats() };
  if (raw.length > MAX_INSNS) return { text: "", accepted: false, errno: E2BIG, trace: [], stats: zeroStats() };

  const p = slotProgram(raw);
  // Subprograms (calls and function pointers) and kfuncs (BTF) are outside the emulated subset.
  const unsupported = raw.findIndex((r) => (r.code === 0x85 && (r.src === 1 || r.src === 2)) || (r.code === 0x18 && (r.src === 3 || r.src === 4)));
  if (unsupported >= 0) {
    const r = raw[unsupported]!;
    const what = r.code === 0x85 ? (r.src === 1 ? "bpf-to-bpf calls" : "kfunc calls") : r.src === 4 ? "function pointers" : "BTF object loads";
    throw new PlaygroundError("verifier/unsupported", `${what} are not emulated (instruction ${unsupported})`, { kind: "insn", index: unsupported });
  }
  if (level === 2) lines.push("func#0 @0");
  const structural = checkStructure(p, new Set(maps.keys())) ?? findUnreachable(p);
  if (structural) return done(structural.errno, structural.message, structural.insn ?? null);

  const cfg = analyseCfg(p, opts.progType);
  if (level === 2 && profile.liveRegsBlock) {
    lines.push("Live regs before insn:");
    for (let i = 0; i < p.length; i++) {
      const d = p[i];
      if (!d) continue;
      const scc = cfg.scc[i] ? String(cfg.scc[i]).padStart(3) + " " : "    ";
      let mask = "";
      for (let r = 0; r < 10; r++) mask += cfg.liveBefore[i]! & (1 << r) ? String(r) : ".";
      lines.push(`${scc}${String(i).padStart(3)}: ${mask} ${insnText(d, maps)}`);
    }
  }
  const v = new Verifier(p, cfg, { progType: opts.progType, profile, maps, insnLimit: opts.insnLimit ?? profile.insnLimit, level, trace: opts.trace ?? true }, initialState());
  const r = v.run();
  // Level 1 keeps the failing path only; a successful load leaves just the summary line.
  const body = level === 1 && r.accepted ? v.log.lines.slice(-1) : v.log.lines;
  const text = lines.concat(body).join("\n") + "\n";
  const message = r.errorLines.join("\n");
  return {
    text,
    accepted: r.accepted,
    ...(r.accepted ? {} : { errno: r.errno }),
    ...(r.accepted ? {} : { error: { message, insn: r.errorInsn, errno: r.errno, explanation: explain(message) } }),
    trace: v.trace,
    stats: { processed: r.processed, maxStatesPerInsn: r.maxStatesPerInsn, totalStates: r.totalStates, peakStates: r.peakStates },
  };
}

const zeroStats = () => ({ processed: 0, maxStatesPerInsn: 0, totalStates: 0, peakStates: 0 });
