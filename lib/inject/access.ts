/**
 * The packet access mode a program section needs, read from its name the way libbpf maps
 * section names to program types (libbpf.c section_defs): packet pointers for XDP and TC,
 * bpf_probe_read_kernel for tracing programs (the stub's data is a kernel address there), and
 * bpf_skb_load_bytes for socket filters and cgroup skb programs (a real skb context in r1).
 */
import type { Target } from "../translate";
import type { AccessMode } from "./types";

export interface SectionAccess {
  readonly mode: AccessMode;
  /** lib/translate's target for that mode. */
  readonly target: Target;
  /** The program type libbpf gives the section, for the reason text. */
  readonly programType: string;
}

// Prefix (up to '/', '.' or the end) -> program type and mode. Order does not matter: keys are whole words.
const SECTIONS: ReadonlyMap<string, { type: string; mode: AccessMode; target: Target }> = new Map([
  ["xdp", { type: "BPF_PROG_TYPE_XDP", mode: "direct", target: "xdp" }],
  ["tc", { type: "BPF_PROG_TYPE_SCHED_CLS", mode: "direct", target: "tc" }],
  ["tcx", { type: "BPF_PROG_TYPE_SCHED_CLS", mode: "direct", target: "tc" }],
  ["classifier", { type: "BPF_PROG_TYPE_SCHED_CLS", mode: "direct", target: "tc" }],
  ["action", { type: "BPF_PROG_TYPE_SCHED_ACT", mode: "direct", target: "tc" }],
  ["netkit", { type: "BPF_PROG_TYPE_SCHED_CLS", mode: "direct", target: "tc" }],
  ["raw_tp", { type: "BPF_PROG_TYPE_RAW_TRACEPOINT", mode: "probe_read_kernel", target: "kprobe" }],
  ["raw_tracepoint", { type: "BPF_PROG_TYPE_RAW_TRACEPOINT", mode: "probe_read_kernel", target: "kprobe" }],
  ["tp_btf", { type: "BPF_PROG_TYPE_TRACING", mode: "probe_read_kernel", target: "kprobe" }],
  ["fentry", { type: "BPF_PROG_TYPE_TRACING", mode: "probe_read_kernel", target: "kprobe" }],
  ["fexit", { type: "BPF_PROG_TYPE_TRACING", mode: "probe_read_kernel", target: "kprobe" }],
  ["fmod_ret", { type: "BPF_PROG_TYPE_TRACING", mode: "probe_read_kernel", target: "kprobe" }],
  ["kprobe", { type: "BPF_PROG_TYPE_KPROBE", mode: "probe_read_kernel", target: "kprobe" }],
  ["kretprobe", { type: "BPF_PROG_TYPE_KPROBE", mode: "probe_read_kernel", target: "kprobe" }],
  ["tp", { type: "BPF_PROG_TYPE_TRACEPOINT", mode: "probe_read_kernel", target: "kprobe" }],
  ["tracepoint", { type: "BPF_PROG_TYPE_TRACEPOINT", mode: "probe_read_kernel", target: "kprobe" }],
  ["socket", { type: "BPF_PROG_TYPE_SOCKET_FILTER", mode: "skb_load_bytes", target: "socket" }],
  ["cgroup_skb", { type: "BPF_PROG_TYPE_CGROUP_SKB", mode: "skb_load_bytes", target: "socket" }],
]);

const REASONS: Record<AccessMode, string> = {
  direct: "data and data_end are packet pointers there, so the filter reads through them behind bounds checks",
  probe_read_kernel: "data is a plain kernel address there, so every read goes through bpf_probe_read_kernel",
  skb_load_bytes: "the context is a real skb there, so reads go through bpf_skb_load_bytes",
};

/** The access a section's programs need, or null for a section no mode serves. */
export function sectionAccess(section: string): SectionAccess | null {
  // "cgroup/skb" is libbpf's older spelling of cgroup_skb.
  const word = section.startsWith("cgroup/skb") ? "cgroup_skb" : section.split(/[/.]/, 1)[0]!;
  const hit = SECTIONS.get(word);
  return hit ? { mode: hit.mode, target: hit.target, programType: hit.type } : null;
}

export const accessReason = (section: string, a: SectionAccess): string => `section "${section}" is ${a.programType}: ${REASONS[a.mode]}`;
