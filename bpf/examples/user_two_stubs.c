/*
 * A user-style object, as someone bringing their own program might write it: two stubs with the
 * five-argument ABI (L2 on the Ethernet frame, L3 from the IP header on), called from a helper
 * subprogram that itself calls another function, all in .text beside the stubs. It exercises what
 * a splice must move: calls between functions of the same section as well as from the program
 * section.
 */
#include "playground.h"

char LICENSE[] SEC("license") = "GPL";

static __noinline bool filter_pcap_ebpf_l2(void *_ctx, void *__ctx, void *___ctx, void *data, void *data_end)
{
	PLAYGROUND_STUB_BODY(_ctx, __ctx, ___ctx, data, data_end);
}

static __noinline bool filter_pcap_ebpf_l3(void *_ctx, void *__ctx, void *___ctx, void *data, void *data_end)
{
	PLAYGROUND_STUB_BODY(_ctx, __ctx, ___ctx, data, data_end);
}

/* Where the IP header starts, or 0 when the frame is too short to say. */
static __noinline int l3_offset(struct xdp_md *xdp)
{
	void *data = (void *)(long)xdp->data;
	void *data_end = (void *)(long)xdp->data_end;

	return data + 14 <= data_end ? 14 : 0;
}

/* Both filters must accept: the L2 one on the frame, the L3 one from the IP header on. */
static __noinline bool both(struct xdp_md *xdp)
{
	void *data = (void *)(long)xdp->data;
	void *data_end = (void *)(long)xdp->data_end;
	int off = l3_offset(xdp);

	if (!off || !filter_pcap_ebpf_l2(xdp, xdp, xdp, data, data_end))
		return 0;
	data = (void *)(long)xdp->data;
	data_end = (void *)(long)xdp->data_end;
	if (data + 14 > data_end)
		return 0;
	return filter_pcap_ebpf_l3(xdp, xdp, xdp, data + 14, data_end);
}

SEC("xdp")
int user_host(struct xdp_md *xdp)
{
	playground_count(COUNT_SEEN);
	if (both(xdp))
		playground_count(COUNT_MATCHED);
	return XDP_PASS;
}
