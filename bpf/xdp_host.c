/* XDP host: runs the filter stub on every frame, counts and reports the frames it accepts. */
#include "playground.h"

char LICENSE[] SEC("license") = "GPL";

/* The filter goes here: data is xdp->data, data_end is xdp->data_end (direct packet access). */
static __noinline bool filter_pcap_ebpf_l2(void *_xdp, void *__xdp, void *___xdp, void *data, void *data_end)
{
	PLAYGROUND_STUB_BODY(_xdp, __xdp, ___xdp, data, data_end);
}

SEC("xdp")
int xdp_host(struct xdp_md *xdp)
{
	void *data = (void *)(long)xdp->data;
	void *data_end = (void *)(long)xdp->data_end;
	struct playground_event *e;
	__u64 n;

	playground_count(COUNT_SEEN);
	if (!filter_pcap_ebpf_l2(xdp, xdp, xdp, data, data_end))
		return XDP_PASS;
	playground_count(COUNT_MATCHED);

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return XDP_PASS;
	e->len = data_end - data;
	n = playground_caplen((__u64)(data_end - data));
	e->caplen = 0;
	if (n > 0 && bpf_xdp_load_bytes(xdp, 0, e->data, n) == 0)
		e->caplen = n;
	bpf_ringbuf_submit(e, 0);
	return XDP_PASS;
}
