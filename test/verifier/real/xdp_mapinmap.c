// SPDX-License-Identifier: MIT
// xdp_mapinmap: per-queue blocklists through an array of maps. The outer array, indexed by the receive queue,
// holds one hash map of blocked IPv4 sources per queue (queues 0 and 1 have their own; the others none). A
// packet from a listed source is dropped and its hit count bumped in the inner map's value; everything else
// passes. Truncated IPv4 headers are dropped.
#include "parsing.h"

struct block_entry {
	__u64 hits;
	__u32 action; /* the XDP action to return */
	__u32 pad;
};

struct blocklist {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __be32);
	__type(value, struct block_entry);
};

struct blocklist queue0_block SEC(".maps");
struct blocklist queue1_block SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct blocklist);
} per_queue SEC(".maps") = {
	.values = { [0] = &queue0_block, [1] = &queue1_block },
};

SEC("xdp")
int xdp_queue_acl(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct hdr_cursor nh = { .pos = data };
	struct block_entry *entry;
	struct ethhdr *eth;
	struct iphdr *iph;
	__u32 queue = ctx->rx_queue_index;
	__be32 saddr;
	void *inner;

	if (parse_ethhdr(&nh, data_end, &eth) != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if (parse_iphdr(&nh, data_end, &iph) < 0)
		return XDP_DROP;

	inner = bpf_map_lookup_elem(&per_queue, &queue);
	if (!inner)
		return XDP_PASS;
	saddr = iph->saddr;
	entry = bpf_map_lookup_elem(inner, &saddr);
	if (!entry)
		return XDP_PASS;
	__sync_fetch_and_add(&entry->hits, 1);
	return entry->action <= XDP_TX ? entry->action : XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
