// SPDX-License-Identifier: MIT
// tailcall_pipeline: parse -> classify -> act, three XDP programs chained with bpf_tail_call through a
// PROG_ARRAY whose slots are filled by the object itself (__array(values, ...)). Per-packet state travels in a
// per-CPU array. A missing slot falls through, as in Linux: the caller's next statement runs.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

enum { STAGE_CLASSIFY = 1, STAGE_ACT = 2 };
enum { CLASS_OTHER = 0, CLASS_TCP = 1, CLASS_UDP = 2, CLASS_ICMP = 3, CLASS_COUNT = 4 };

struct packet_state {
	__u32 protocol;
	__u32 class;
	__u32 length;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct packet_state);
} state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CLASS_COUNT);
	__type(key, __u32);   // class
	__type(value, __u64); // packets
} class_count SEC(".maps");

int classify(struct xdp_md *ctx);
int act(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 3);
	__uint(key_size, sizeof(__u32));
	__array(values, int(struct xdp_md *));
} stages SEC(".maps") = {
	.values = {
		[STAGE_CLASSIFY] = (void *)&classify,
		[STAGE_ACT] = (void *)&act,
	},
};

SEC("xdp")
int parse(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 zero = 0;
	struct packet_state *st = bpf_map_lookup_elem(&state, &zero);
	if (!st)
		return XDP_ABORTED;
	st->protocol = 0;
	// From the context's 32-bit fields, not the pointers: 32-bit arithmetic on packet pointers is refused
	// (by Linux's verifier and ours), and clang uses 32-bit ops for a (__u32) cast under -mcpu=v3.
	st->length = ctx->data_end - ctx->data;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return XDP_DROP; // runt frame
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		if ((void *)(ip + 1) > data_end)
			return XDP_DROP;
		st->protocol = ip->protocol;
	}
	bpf_tail_call(ctx, &stages, STAGE_CLASSIFY);
	return XDP_PASS; // no classifier loaded
}

SEC("xdp")
int classify(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct packet_state *st = bpf_map_lookup_elem(&state, &zero);
	if (!st)
		return XDP_ABORTED;
	switch (st->protocol) {
	case IPPROTO_TCP: st->class = CLASS_TCP; break;
	case IPPROTO_UDP: st->class = CLASS_UDP; break;
	case IPPROTO_ICMP: st->class = CLASS_ICMP; break;
	default: st->class = CLASS_OTHER; break;
	}
	bpf_tail_call(ctx, &stages, STAGE_ACT);
	return XDP_PASS; // no action stage loaded
}

SEC("xdp")
int act(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct packet_state *st = bpf_map_lookup_elem(&state, &zero);
	if (!st)
		return XDP_ABORTED;
	__u32 class = st->class;
	__u64 *count = bpf_map_lookup_elem(&class_count, &class);
	if (count)
		__sync_fetch_and_add(count, 1);
	// ICMP larger than 1000 bytes is dropped (a crude ping-of-death rule); everything else passes.
	if (class == CLASS_ICMP && st->length > 1000)
		return XDP_DROP;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
