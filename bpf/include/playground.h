/*
 * What every BPF Playground host program shares: the filter-stub ABI, the maps it reports
 * through, and the event it sends.
 *
 * The stub ABI is pwru's (docs/translation-and-injection.md section 5.1): a static, never-inlined
 * function of five pointer arguments. The calling convention guarantees r1..r5 are set on entry,
 * so an injected filter finds the packet start in r4 and its end in r5 and may use r0..r3 freely.
 * The body uses every argument (so the compiler keeps them all) and is also the epilogue a splice
 * falls through into: with r1 = r2 = r3 = 0, r4 = result and r5 = 0 it returns result != 0.
 *
 * The stub must stay static: the verifier checks a static subprogram in its caller's context, so
 * packet pointers keep their types inside it; a global one would be verified on its own.
 */
#ifndef BPF_PLAYGROUND_H
#define BPF_PLAYGROUND_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#ifndef __noinline
#define __noinline __attribute__((noinline))
#endif

typedef _Bool bool;

/* How many leading packet bytes an event carries. */
#define PLAYGROUND_SNAP 64

/* Slots of the `counts` map. */
enum playground_count {
	COUNT_SEEN = 0,    /* every packet the host saw */
	COUNT_MATCHED = 1, /* packets the filter stub accepted */
	COUNT_SLOTS = 2,
};

/* One ring-buffer record per accepted packet. */
struct playground_event {
	__u32 len;     /* the packet's length as the host sees it */
	__u32 caplen;  /* how many of its bytes follow in `data` */
	__u8 data[PLAYGROUND_SNAP];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, COUNT_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 16);
} events SEC(".maps");

static __always_inline void playground_count(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&counts, &slot);

	if (v)
		__sync_fetch_and_add(v, 1);
}

/* 64-bit on purpose: a 32-bit min lets clang pass the unclamped copy to the helper. */
static __always_inline __u64 playground_caplen(__u64 len)
{
	return len < PLAYGROUND_SNAP ? len : PLAYGROUND_SNAP;
}

/* The stub body, shared by every stub so that all of them have the same shape. */
#define PLAYGROUND_STUB_BODY(a, b, c, data, data_end) \
	return data != data_end && a == b && b == c

#endif
