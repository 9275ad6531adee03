// SPDX-License-Identifier: MIT
// xdp_globals: configuration and state in global variables, the libbpf way. `const volatile` settings live in
// .rodata (set by the loader before load; the verifier sees a read-only map), a table of blocked ports and the
// sampling state in .data, counters in .bss. UDP and TCP packets to a blocked port (IPv4 with options) are
// dropped when filtering is enabled; every `sample_every`-th packet is counted as sampled.
#include "parsing.h"

#define MAX_BLOCKED 8

const volatile __u8 filter_enabled = 1;
const volatile __u32 sample_every = 4;
const volatile __u16 blocked_ports[MAX_BLOCKED] = { 23, 135, 137, 138, 139, 445, 0, 0 };

__u32 sample_countdown = 1; /* .data */

struct counters {
	__u64 packets;
	__u64 dropped;
	__u64 sampled;
	__u64 by_proto[256];
};
struct counters stats; /* .bss */

static __always_inline int port_blocked(__u16 port)
{
	int i;

	for (i = 0; i < MAX_BLOCKED; i++) {
		if (blocked_ports[i] == 0)
			break;
		if (blocked_ports[i] == port)
			return 1;
	}
	return 0;
}

SEC("xdp")
int xdp_global_filter(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct hdr_cursor nh = { .pos = data };
	struct ethhdr *eth;
	struct iphdr *iph;
	struct tcphdr *tcph;
	struct udphdr *udph;
	__u16 dport = 0;
	int proto;

	__sync_fetch_and_add(&stats.packets, 1);
	if (--sample_countdown == 0) {
		sample_countdown = sample_every;
		__sync_fetch_and_add(&stats.sampled, 1);
	}

	if (parse_ethhdr(&nh, data_end, &eth) != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	proto = parse_iphdr(&nh, data_end, &iph);
	if (proto < 0)
		goto drop;
	stats.by_proto[proto & 0xff]++;

	if (proto == IPPROTO_TCP) {
		if (parse_tcphdr(&nh, data_end, &tcph) < 0)
			goto drop;
		dport = bpf_ntohs(tcph->dest);
	} else if (proto == IPPROTO_UDP) {
		if (parse_udphdr(&nh, data_end, &udph) < 0)
			goto drop;
		dport = bpf_ntohs(udph->dest);
	} else {
		return XDP_PASS;
	}

	if (filter_enabled && port_blocked(dport))
		goto drop;
	return XDP_PASS;
drop:
	__sync_fetch_and_add(&stats.dropped, 1);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
