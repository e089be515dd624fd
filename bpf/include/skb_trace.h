/*
 * The skb tracing hosts' shared part: the struct sk_buff fields they read, the two stubs, and
 * what they do with an skb. skb_host.c hooks it to the netif_receive_skb raw tracepoint (loads
 * everywhere), skb_fentry_host.c to fentry on __netif_receive_skb (where the kernel allows
 * tracing programs). Packet bytes are kernel memory, not packet pointers: an injected filter
 * reads them with bpf_probe_read_kernel.
 *
 * Like pwru there are two stubs: L2 when the skb has an Ethernet-sized MAC header, L3 otherwise.
 */
#ifndef BPF_PLAYGROUND_SKB_TRACE_H
#define BPF_PLAYGROUND_SKB_TRACE_H

#include "playground.h"
#include <bpf/bpf_core_read.h>

/*
 * The few struct sk_buff fields the host reads, declared here (no vmlinux.h). The attribute makes
 * every access a CO-RE relocation, so the loader moves it to this kernel's real offsets.
 */
struct sk_buff {
	unsigned int len;
	__u16 mac_len;
	__u16 network_header;
	__u16 mac_header;
	unsigned int tail;
	unsigned char *head;
	unsigned char *data;
} __attribute__((preserve_access_index));

static __noinline bool filter_pcap_ebpf_l2(void *_skb, void *__skb, void *___skb, void *data, void *data_end)
{
	PLAYGROUND_STUB_BODY(_skb, __skb, ___skb, data, data_end);
}

static __noinline bool filter_pcap_ebpf_l3(void *_skb, void *__skb, void *___skb, void *data, void *data_end)
{
	PLAYGROUND_STUB_BODY(_skb, __skb, ___skb, data, data_end);
}

#ifndef ETH_HLEN
#define ETH_HLEN 14
#endif

/* Counts the skb, runs the stub for its layer and reports it when the stub accepts. */
static __always_inline int playground_skb(struct sk_buff *skb)
{
	unsigned char *head = BPF_CORE_READ(skb, head);
	void *data_end = head + BPF_CORE_READ(skb, tail);
	void *data;
	struct playground_event *e;
	bool match;
	__u16 mac, net;
	__u64 n;

	playground_count(COUNT_SEEN);
	/*
	 * Not mac_len: at netif_receive_skb it is still 0 (the receive path sets it later, in
	 * __netif_receive_skb_core). The MAC header is set by then (eth_type_trans), so a frame is
	 * Ethernet when it has a MAC header of exactly ETH_HLEN bytes before the network header; an
	 * L3 device (tun, ip tunnels) has none, and other link layers are not what an EN10MB filter
	 * reads.
	 */
	mac = BPF_CORE_READ(skb, mac_header);
	net = BPF_CORE_READ(skb, network_header);
	if (mac == (__u16)~0U || net <= mac || net - mac != ETH_HLEN) {
		data = head + net;
		match = filter_pcap_ebpf_l3(skb, skb, skb, data, data_end);
	} else {
		data = head + mac;
		match = filter_pcap_ebpf_l2(skb, skb, skb, data, data_end);
	}
	if (!match)
		return 0;
	playground_count(COUNT_MATCHED);

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	/* skb->len counts from skb->data, which is past the MAC header here: count from `data`. */
	e->len = BPF_CORE_READ(skb, len) + (BPF_CORE_READ(skb, data) - (unsigned char *)data);
	n = playground_caplen((__u64)(data_end - data));
	e->caplen = 0;
	if (n > 0 && bpf_probe_read_kernel(e->data, n, data) == 0)
		e->caplen = n;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

#endif
