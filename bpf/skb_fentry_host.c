/*
 * skb tracing host for kernels that allow tracing programs: fentry on __netif_receive_skb, the
 * function the agent's fentry hook uses (server/kernel/kernel-info.ts, FENTRY_SKB_FUNCTION). Where
 * the kernel refuses BPF_PROG_TYPE_TRACING, skb_host.c (the raw tracepoint) is the one to load.
 */
#include "skb_trace.h"
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("fentry/__netif_receive_skb")
int BPF_PROG(skb_fentry_host, struct sk_buff *skb)
{
	return playground_skb(skb);
}
