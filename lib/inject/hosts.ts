/**
 * The project's host programs (bpf/*.c, built into bpf/build by scripts/build-bpf.sh), named once
 * so the CLI, the agent and the page agree where each host and its stub are; and the link type a
 * filter must be compiled for to fit a stub's layer.
 */
import type { CbpfInsn } from "../cbpf/insn";
import type { HostKind, StubLayer } from "./types";

export interface HostObject {
  /** File name under bpf/build. */
  readonly file: string;
  /** The program section that runs the host. */
  readonly program: string;
  /** The stub a filter goes into by default. */
  readonly stub: string;
  /** Every stub of the host, by layer (a tracing host has L2 and L3: the skb may lack a MAC header). */
  readonly stubs: Readonly<Partial<Record<StubLayer, string>>>;
}

export const HOST_OBJECTS: Readonly<Record<HostKind, HostObject>> = {
  xdp: { file: "xdp_host.o", program: "xdp", stub: "filter_pcap_ebpf_l2", stubs: { l2: "filter_pcap_ebpf_l2" } },
  tc: { file: "tc_host.o", program: "tc", stub: "filter_pcap_ebpf_l2", stubs: { l2: "filter_pcap_ebpf_l2" } },
  // The raw tracepoint loads on every kernel; skb_fentry_host.o (fentry/__netif_receive_skb) is the
  // same host for kernels that allow tracing programs.
  skb: {
    file: "skb_host.o",
    program: "raw_tp/netif_receive_skb",
    stub: "filter_pcap_ebpf_l2",
    stubs: { l2: "filter_pcap_ebpf_l2", l3: "filter_pcap_ebpf_l3" },
  },
};

/** The fentry variant of the skb host. */
export const SKB_FENTRY_HOST: HostObject = {
  file: "skb_fentry_host.o",
  program: "fentry/__netif_receive_skb",
  stub: "filter_pcap_ebpf_l2",
  stubs: { l2: "filter_pcap_ebpf_l2", l3: "filter_pcap_ebpf_l3" },
};

/** DLT_EN10MB and DLT_RAW, as pcap_open_dead takes them. */
export const LINKTYPE_EN10MB = 1;
export const LINKTYPE_RAW = 12;

/** The link type a filter must be compiled for to go into a stub of this layer. */
export const linkTypeOf = (layer: StubLayer): number => (layer === "l2" ? LINKTYPE_EN10MB : LINKTYPE_RAW);

/** A host name as the CLI takes it (`kprobe` is an alias of `skb`), or null. */
export function hostKindOf(name: string): HostKind | null {
  if (name === "kprobe") return "skb";
  return name === "xdp" || name === "tc" || name === "skb" ? name : null;
}

/**
 * `ret #0`, the filter for a stub the expression cannot serve (pwru injects it into the L3 stub
 * when the filter does not compile for RAW: an unpatched stub would accept everything).
 */
export const REJECT_ALL: readonly CbpfInsn[] = [{ code: 0x06, jt: 0, jf: 0, k: 0 }];
