/*
 * TC host (sched_cls). The section is "tc" rather than "tcx/ingress" because the libbpf in
 * Debian 12's bpftool (1.1) does not know the tcx section names; the program type is the same,
 * and the agent attaches it to tcx ingress or egress through a BPF link.
 */
#include "playground.h"

char LICENSE[] SEC("license") = "GPL";

#define TCX_NEXT (-1) /* let the next program on the hook decide */

/* The filter goes here: data is skb->data (the Ethernet header), data_end is skb->data_end. */
static __noinline bool filter_pcap_ebpf_l2(void *_skb, void *__skb, void *___skb, void *data, void *data_end)
{
	PLAYGROUND_STUB_BODY(_skb, __skb, ___skb, data, data_end);
}

SEC("tc")
int tc_host(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct playground_event *e;
	__u64 n;

	playground_count(COUNT_SEEN);
	if (!filter_pcap_ebpf_l2(skb, skb, skb, data, data_end))
		return TCX_NEXT;
	playground_count(COUNT_MATCHED);

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return TCX_NEXT;
	e->len = skb->len;
	n = playground_caplen(e->len);
	e->caplen = 0;
	if (n > 0 && bpf_skb_load_bytes(skb, 0, e->data, n) == 0)
		e->caplen = n;
	bpf_ringbuf_submit(e, 0);
	return TCX_NEXT;
}
