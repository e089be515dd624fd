/**
 * The program kinds the playground loads, and the kernel numbers behind them.
 *
 * `kprobe` is BPF_PROG_TYPE_KPROBE (ctx = struct pt_regs). `raw_tp` exists because some kernels
 * (this project's CI kernel among them) are built without CONFIG_KPROBES: there a kprobe program
 * loads but cannot be attached, and the live skb hook is the `netif_receive_skb` raw tracepoint
 * instead (ctx = u64 args[], args[0] = the skb). `fentry` is BPF_PROG_TYPE_TRACING loaded for one
 * kernel function (named at load, by its BTF id): ctx is again u64 args[], the function's arguments.
 * It needs ftrace (CONFIG_FUNCTION_TRACER) rather than kprobes. See kernel-info.ts for which is usable.
 */
import {
  BPF_PROG_TYPE_KPROBE,
  BPF_PROG_TYPE_RAW_TRACEPOINT,
  BPF_PROG_TYPE_SCHED_CLS,
  BPF_PROG_TYPE_SOCKET_FILTER,
  BPF_PROG_TYPE_XDP,
  BPF_PROG_TYPE_TRACING,
  BPF_TRACE_FENTRY,
  BPF_XDP,
} from "../native/bpf";

export type ProgKind = "socket" | "tc" | "xdp" | "kprobe" | "raw_tp" | "fentry";

export const PROG_KINDS: readonly ProgKind[] = ["socket", "tc", "xdp", "kprobe", "raw_tp", "fentry"];

export interface ProgTypeInfo {
  readonly progType: number;
  /** expected_attach_type at load. XDP programs declare BPF_XDP so that links accept them. */
  readonly expectedAttachType: number;
  /** Whether BPF_PROG_TEST_RUN can run it on a packet. */
  readonly testRun: boolean;
  /** The load must name the kernel function it is for (LoadOptions.attachFunc). */
  readonly needsFunction?: boolean;
}

export const PROG_TYPES: Readonly<Record<ProgKind, ProgTypeInfo>> = {
  socket: { progType: BPF_PROG_TYPE_SOCKET_FILTER, expectedAttachType: 0, testRun: true },
  tc: { progType: BPF_PROG_TYPE_SCHED_CLS, expectedAttachType: 0, testRun: true },
  xdp: { progType: BPF_PROG_TYPE_XDP, expectedAttachType: BPF_XDP, testRun: true },
  kprobe: { progType: BPF_PROG_TYPE_KPROBE, expectedAttachType: 0, testRun: false },
  raw_tp: { progType: BPF_PROG_TYPE_RAW_TRACEPOINT, expectedAttachType: 0, testRun: false },
  fentry: { progType: BPF_PROG_TYPE_TRACING, expectedAttachType: BPF_TRACE_FENTRY, testRun: false, needsFunction: true },
};

export function kindOfProgType(progType: number): ProgKind | null {
  for (const k of PROG_KINDS) if (PROG_TYPES[k].progType === progType) return k;
  return null;
}
