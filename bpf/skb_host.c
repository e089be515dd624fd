/*
 * skb tracing host: a raw tracepoint on netif_receive_skb (ctx->args[0] is the struct sk_buff *).
 * This kernel refuses fentry, so the raw tracepoint is the form that loads everywhere; the agent
 * does the same. The work is in include/skb_trace.h, shared with skb_fentry_host.c.
 */
#include "skb_trace.h"

char LICENSE[] SEC("license") = "GPL";

SEC("raw_tp/netif_receive_skb")
int skb_host(struct bpf_raw_tracepoint_args *ctx)
{
	return playground_skb((struct sk_buff *)ctx->args[0]);
}
