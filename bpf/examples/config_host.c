/*
 * "Configuration mode", the other way a tool lets users say which packets they want: no filter is
 * compiled in; the host parses the frame itself and looks the (protocol, port) pair up in a hash
 * map the user fills. The benchmark puts it beside an injected filter of the same meaning
 * (`tcp port 80` on IPv4: either port, first fragments only), so the cost of the spliced filter can be
 * judged against the approach it replaces. It counts like every other host (no events: the benchmark
 * measures rejected frames).
 */
#include "playground.h"

char LICENSE[] SEC("license") = "GPL";

#define ETH_P_IP 0x0800
#define IPPROTO_TCP 6
#define IP_OFFSET_MASK 0x1fff

struct config_key {
	__u8 proto;
	__u8 pad;
	__u16 port; /* network order */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct config_key);
	__type(value, __u8);
} config SEC(".maps");

static __always_inline bool wanted(__u8 proto, __u16 port)
{
	struct config_key k = { .proto = proto, .pad = 0, .port = port };

	return bpf_map_lookup_elem(&config, &k) != 0;
}

static __noinline bool config_match(void *data, void *data_end)
{
	__u8 *p = data;
	__u16 *ports;
	__u32 ihl;

	if (p + 34 > (__u8 *)data_end)
		return 0;
	if (*(__u16 *)(p + 12) != __builtin_bswap16(ETH_P_IP))
		return 0;
	if (*(__u16 *)(p + 20) & __builtin_bswap16(IP_OFFSET_MASK))
		return 0;
	ihl = (p[14] & 0xf) * 4;
	if (ihl < 20)
		return 0;
	ports = (__u16 *)(p + 14 + ihl);
	if ((void *)(ports + 2) > data_end)
		return 0;
	return wanted(p[23], ports[0]) || wanted(p[23], ports[1]);
}

SEC("xdp")
int config_host(struct xdp_md *xdp)
{
	void *data = (void *)(long)xdp->data;
	void *data_end = (void *)(long)xdp->data_end;

	playground_count(COUNT_SEEN);
	if (!config_match(data, data_end))
		return XDP_PASS;
	playground_count(COUNT_MATCHED);
	return XDP_PASS;
}
