/*
 * An object that asks a loader for more than the playground gives a client's object: a map with
 * `pinning` (libbpf would reuse whatever is pinned at /sys/fs/bpf/<name>, or pin its own there),
 * and beside the XDP program an fexit program (tracing other than fentry, which the agent does not
 * load). The loader tests load the XDP program and check that nothing was pinned or reused.
 */
#include "playground.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bpfpg_pin_probe SEC(".maps");

SEC("xdp")
int pinning_xdp(struct xdp_md *xdp)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&bpfpg_pin_probe, &key);

	if (v)
		__sync_fetch_and_add(v, 1);
	return XDP_PASS;
}

SEC("fexit/__netif_receive_skb")
int not_fentry(void *ctx)
{
	return 0;
}
