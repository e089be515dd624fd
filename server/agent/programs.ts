/**
 * From what a client sends (a filter, classic BPF, raw eBPF) to the bytes BPF_PROG_LOAD takes,
 * using the project's one compiler (libpcap) and one translator (lib/translate).
 *
 * Raw eBPF is loaded as it is, with one restriction: no ld_imm64 that names a map (or any other
 * object by fd or index). Those fds would be numbers in the agent's own fd table, and a client
 * could name another connection's map; the agent creates and wires every map itself.
 */
import { decodeProgram as decodeCbpf, checkInstructions, type CbpfInsn } from "../../lib/cbpf";
import { encodeProgram, rawFromBytes, assemble, ldx, mov64Reg, alu64, mov64Imm, call, st, jmp, ja, exit, label, type AsmItem } from "../../lib/ebpf";
import { translate, type ResultSpec, type Target, type TranslateResult } from "../../lib/translate";
import { PlaygroundError } from "../../lib/errors";
import { fromBase64 } from "../../lib/protocol/base64";
import type { ProgramSource } from "../../lib/protocol";
import type { Job, KernelBackend } from "./backend";
import type { ProgKind } from "../kernel/prog-types";

export const DLT_EN10MB = 1;
/** What tcpdump passes as netmask without an interface; `compile` in the CLI uses the same. */
const DEFAULT_NETMASK = 0;

export interface FilterSpec {
  filter: string;
  dlt?: string;
  snaplen?: number;
  optimize?: boolean;
  netmask?: number;
}

export interface CompiledFilter {
  dlt: number;
  insns: CbpfInsn[];
}

/** libpcap's compile (in a worker, within `job`); a filter it refuses is a PlaygroundError with libpcap's own message. */
export async function compileSpec(backend: KernelBackend, spec: FilterSpec, job: () => Job): Promise<CompiledFilter> {
  const dlt = spec.dlt === undefined ? DLT_EN10MB : backend.resolveDlt(/^\d+$/.test(spec.dlt) ? Number(spec.dlt) : spec.dlt);
  const r = await backend.compileFilter(
    {
      filter: spec.filter,
      dlt,
      snaplen: spec.snaplen ?? 262144,
      optimize: spec.optimize ?? true,
      netmask: spec.netmask ?? DEFAULT_NETMASK,
    },
    job(),
  );
  if (!r.ok) throw new PlaygroundError("libpcap/compile", r.error);
  if (r.insns.length === 0) throw new PlaygroundError("libpcap/compile", "libpcap produced an empty program");
  return { dlt, insns: r.insns };
}

export function decodeClassic(b64: string): CbpfInsn[] {
  const bytes = fromBase64(b64);
  if (bytes.length === 0 || bytes.length % 8 !== 0) throw new PlaygroundError("agent/cbpf", `classic BPF is a multiple of 8 bytes (got ${bytes.length})`);
  const insns = decodeCbpf(bytes);
  checkInstructions(insns);
  return insns;
}

const PSEUDO_FUNC = 4;

/** Raw eBPF bytes, refusing ld_imm64 forms that reference objects by fd or index. */
export function checkedRawEbpf(b64: string): Uint8Array {
  const bytes = fromBase64(b64);
  if (bytes.length === 0 || bytes.length % 8 !== 0) throw new PlaygroundError("agent/ebpf", `eBPF is a multiple of 8 bytes (got ${bytes.length})`);
  const raw = rawFromBytes(bytes);
  for (let i = 0; i < raw.length; i++) {
    const r = raw[i]!;
    if (r.code === 0x18) {
      if (r.src !== 0 && r.src !== PSEUDO_FUNC) {
        throw new PlaygroundError("agent/ebpf-object-ref", `slot ${i}: ld_imm64 with src_reg ${r.src} references a map or kernel object; the agent does not let raw programs name its file descriptors`, { kind: "insn", index: i });
      }
      i++; // the second slot of ld_imm64
    }
  }
  return bytes;
}

export interface BuiltProgram {
  insns: Uint8Array;
  /** The program type to load as. */
  kind: ProgKind;
  /** The classic program it came from (null for raw eBPF). */
  cbpf: CbpfInsn[] | null;
  /** Link type the filter was compiled for (Ethernet for cBPF and raw eBPF unless told). */
  dlt: number;
  translated: TranslateResult | null;
}

export async function classicOf(backend: KernelBackend, source: ProgramSource, job: () => Job): Promise<{ cbpf: CbpfInsn[]; dlt: number } | null> {
  switch (source.kind) {
    case "filter": {
      const c = await compileSpec(backend, source, job);
      return { cbpf: c.insns, dlt: c.dlt };
    }
    case "cbpf":
      return { cbpf: decodeClassic(source.insns), dlt: DLT_EN10MB };
    case "ebpf":
      return null;
  }
}

/** Builds a program for `load`: translated with `result` (default: return the cBPF value). */
export async function buildForLoad(backend: KernelBackend, source: ProgramSource, target: Target, job: () => Job, result?: ResultSpec): Promise<BuiltProgram> {
  const classic = await classicOf(backend, source, job);
  if (!classic) {
    return { insns: checkedRawEbpf((source as { insns: string }).insns), kind: target, cbpf: null, dlt: DLT_EN10MB, translated: null };
  }
  const translated = translate(classic.cbpf, { target, result: result ?? { kind: "return" } });
  return { insns: encodeProgram(translated.program.raw), kind: target, cbpf: classic.cbpf, dlt: classic.dlt, translated };
}

/** What the agent keeps of a build (a worker makes it; the full TranslateResult stays there). */
export interface BuiltSummary {
  insns: Uint8Array;
  kind: ProgKind;
  /** The classic program it came from (null for raw eBPF). */
  cbpf: CbpfInsn[] | null;
  dlt: number;
  translation: { cbpfInsns: number; ebpfSlots: number; notes: string[] } | null;
  attachFunc?: string;
}

export function summarize(b: { insns: Uint8Array; kind: ProgKind; translated: TranslateResult | null; attachFunc?: string }, cbpf: CbpfInsn[] | null, dlt: number): BuiltSummary {
  const translation = b.translated && cbpf ? { cbpfInsns: cbpf.length, ebpfSlots: b.translated.program.slots, notes: [...b.translated.notes] } : null;
  return { insns: b.insns, kind: b.kind, cbpf, dlt, translation, ...(b.attachFunc ? { attachFunc: b.attachFunc } : {}) };
}

/** What `attach` counts: a program it already has, or a source to compile. */
export type CountingSource = { kind: "classic"; cbpf: CbpfInsn[] } | Extract<ProgramSource, { kind: "filter" | "cbpf" }>;

/** The skb hook of the kprobe target, as buildCounting takes it. */
export type CountingHook = { kind: "kprobe" | "raw_tp" | "fentry"; function?: string; ifindex: number } | null;

/** tcx: continue with the next program or the stack, whatever the filter said. */
export const TCX_NEXT = -1;
export const XDP_PASS = 2;

export interface CountingPlan {
  countersFd: number;
  eventsFd: number;
  sampleBytes: number;
}

/**
 * The counting build for `attach`: every packet counted, matches counted and sampled to the ring
 * buffer, and the packet always let through (a socket filter returns 0: its AF_PACKET socket
 * exists only to run the program and should queue nothing).
 *
 * kprobe-style hooks see every skb in the system, so the program first checks that the skb's
 * device is the attached interface (skb->dev->ifindex, read with bpf_probe_read_kernel at this
 * kernel's BTF offsets) and returns at once for any other. The hook is fentry on an skb function
 * where the kernel allows it, else the netif_receive_skb raw tracepoint, else a kprobe. fentry and
 * raw_tp contexts are `u64 args[]` with the skb in args[0]; a kprobe's is pt_regs (skb in rdi).
 * An fentry program must return 0, which every exit of this build does.
 */
export function buildCounting(
  backend: KernelBackend,
  cbpf: readonly CbpfInsn[],
  target: Target,
  plan: CountingPlan,
  hook: CountingHook,
): { insns: Uint8Array; kind: ProgKind; translated: TranslateResult; attachFunc?: string } {
  const action = target === "xdp" ? XDP_PASS : target === "tc" ? TCX_NEXT : 0;
  const result: ResultSpec = { kind: "count", countersMapFd: plan.countersFd, eventsMapFd: plan.eventsFd, sampleBytes: plan.sampleBytes, action };
  if (target !== "kprobe" || !hook) {
    const translated = translate(cbpf, { target, result });
    return { insns: encodeProgram(translated.program.raw), kind: target, translated };
  }
  const layout = backend.skbLayout();
  if (!layout) throw new PlaygroundError("agent/btf", "attaching the kprobe target needs the kernel's BTF (/sys/kernel/btf/vmlinux) to find skb->dev");
  const argOffset = hook.kind === "kprobe" ? 112 : 0; // pt_regs->di, or args[0]
  const GUARD_STACK = 16;
  const translated = translate(cbpf, { target, result, skbArgOffset: argOffset, abi: { stackBase: GUARD_STACK }, labelPrefix: "f" });
  const guard: AsmItem[] = [
    mov64Reg("r6", "r1"), // keep ctx for the filter
    ldx("u64", "r3", "r1", argOffset), // the skb
    alu64("add", "r3", layout.dev.offset),
    mov64Reg("r1", "r10"),
    alu64("add", "r1", -8),
    mov64Imm("r2", 8),
    call(113), // bpf_probe_read_kernel(fp-8, 8, &skb->dev)
    ldx("u64", "r3", "r10", -8),
    alu64("add", "r3", layout.devIfindex.offset),
    mov64Reg("r1", "r10"),
    alu64("add", "r1", -16),
    mov64Imm("r2", 4),
    st("u64", "r10", -16, 0),
    call(113), // bpf_probe_read_kernel(fp-16, 4, &dev->ifindex)
    ldx("u32", "r0", "r10", -16),
    jmp("jne", "r0", hook.ifindex, "agent_other_dev"),
    mov64Reg("r1", "r6"),
    ja("agent_filter"),
    label("agent_other_dev"),
    mov64Imm("r0", 0),
    exit(),
    label("agent_filter"),
  ];
  const program = assemble([...guard, ...translated.insns]);
  const attachFunc = hook.kind === "fentry" ? hook.function : undefined;
  return { insns: encodeProgram(program.raw), kind: hook.kind, translated, ...(attachFunc ? { attachFunc } : {}) };
}

/** Whether a test-run return value means "matched" for a program built with `result`. */
export function verdictOf(result: ResultSpec | undefined): (retval: number) => boolean {
  if (result?.kind === "verdict") {
    const m = result.match >>> 0;
    return (r) => r >>> 0 === m;
  }
  return (r) => r !== 0;
}
