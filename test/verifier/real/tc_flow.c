// SPDX-License-Identifier: MIT
// tc_flow: per-flow accounting at tc ingress. A 5-tuple key (IPv4 addresses, ports, protocol; IPv4 header
// with options) indexes an LRU hash of packet and byte counters: the first packet of a flow inserts it with
// BPF_NOEXIST, later ones add to it with __sync_fetch_and_add. A flow over its byte budget (set from user space
// in a per-flow field) is dropped. Non-IPv4 traffic passes uncounted; truncated headers are dropped.
#include <linux/pkt_cls.h>
#include "parsing.h"

struct flow_key {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

struct flow_stats {
	__u64 packets;
	__u64 bytes;
	__u64 first_seen_ns;
	__u64 byte_budget; /* 0: no limit */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct flow_key);
	__type(value, struct flow_stats);
} flows SEC(".maps");

SEC("tc")
int tc_flow_account(struct __sk_buff *skb)
{
	void *data_end = (void *)(long)skb->data_end;
	void *data = (void *)(long)skb->data;
	struct hdr_cursor nh = { .pos = data };
	struct flow_key key = {};
	struct flow_stats *stats;
	struct ethhdr *eth;
	struct iphdr *iph;
	struct tcphdr *tcph;
	struct udphdr *udph;
	int proto;

	if (parse_ethhdr(&nh, data_end, &eth) != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	proto = parse_iphdr(&nh, data_end, &iph);
	if (proto < 0)
		return TC_ACT_SHOT;

	key.saddr = iph->saddr;
	key.daddr = iph->daddr;
	key.proto = proto;
	if (proto == IPPROTO_TCP) {
		if (parse_tcphdr(&nh, data_end, &tcph) < 0)
			return TC_ACT_SHOT;
		key.sport = tcph->source;
		key.dport = tcph->dest;
	} else if (proto == IPPROTO_UDP) {
		if (parse_udphdr(&nh, data_end, &udph) < 0)
			return TC_ACT_SHOT;
		key.sport = udph->source;
		key.dport = udph->dest;
	}

	stats = bpf_map_lookup_elem(&flows, &key);
	if (!stats) {
		struct flow_stats fresh = {
			.packets = 1,
			.bytes = skb->len,
			.first_seen_ns = bpf_ktime_get_ns(),
		};
		bpf_map_update_elem(&flows, &key, &fresh, BPF_NOEXIST);
		return TC_ACT_OK;
	}
	__sync_fetch_and_add(&stats->packets, 1);
	__sync_fetch_and_add(&stats->bytes, skb->len);
	if (stats->byte_budget && stats->bytes > stats->byte_budget)
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
