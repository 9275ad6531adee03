// SPDX-License-Identifier: MIT
// xdp_ipv6: IPv6 with extension headers. A bounded loop (at most IPV6_EXT_MAX headers) skips hop-by-hop,
// routing, destination options, mobility, AH and fragment headers to find the upper-layer protocol, as
// xdp-tutorial's skip_ip6hdrext does; each header's length comes from the packet, so the cursor advances by a
// variable amount per iteration. Drops UDP to port 9 (discard) and TCP to port 23, drops chains that are too
// long, truncated or malformed; passes the rest. The last upper-layer protocol seen is kept in an array map.
#include "parsing.h"

#define IPV6_EXT_MAX 6

#ifndef IPPROTO_MH
#define IPPROTO_MH 135
#endif

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} last_l4 SEC(".maps");

static __always_inline int skip_ip6hdrext(struct hdr_cursor *nh, void *data_end, __u8 next_hdr_type)
{
	for (int i = 0; i < IPV6_EXT_MAX; ++i) {
		struct ipv6_opt_hdr *hdr = nh->pos;

		if ((void *)(hdr + 1) > data_end)
			return -1;

		switch (next_hdr_type) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_DSTOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_MH:
			nh->pos = (char *)hdr + (hdr->hdrlen + 1) * 8;
			next_hdr_type = hdr->nexthdr;
			break;
		case IPPROTO_AH:
			nh->pos = (char *)hdr + (hdr->hdrlen + 2) * 4;
			next_hdr_type = hdr->nexthdr;
			break;
		case IPPROTO_FRAGMENT:
			nh->pos = (char *)hdr + 8;
			next_hdr_type = hdr->nexthdr;
			break;
		default:
			/* Found a header that is not an IPv6 extension header */
			return next_hdr_type;
		}
	}

	return -1;
}

SEC("xdp")
int xdp_ipv6_filter(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct hdr_cursor nh = { .pos = data };
	struct ethhdr *eth;
	struct ipv6hdr *ip6h;
	struct udphdr *udph;
	struct tcphdr *tcph;
	int eth_type, nexthdr;
	__u32 key = 0;
	__u32 *last;

	eth_type = parse_ethhdr(&nh, data_end, &eth);
	if (eth_type < 0)
		return XDP_DROP;
	if (eth_type != bpf_htons(ETH_P_IPV6))
		return XDP_PASS;

	nexthdr = parse_ip6hdr(&nh, data_end, &ip6h);
	if (nexthdr < 0)
		return XDP_DROP;
	nexthdr = skip_ip6hdrext(&nh, data_end, nexthdr);
	if (nexthdr < 0)
		return XDP_DROP;

	last = bpf_map_lookup_elem(&last_l4, &key);
	if (last)
		*last = nexthdr;

	if (nexthdr == IPPROTO_UDP) {
		if (parse_udphdr(&nh, data_end, &udph) < 0)
			return XDP_DROP;
		if (udph->dest == bpf_htons(9))
			return XDP_DROP;
	} else if (nexthdr == IPPROTO_TCP) {
		if (parse_tcphdr(&nh, data_end, &tcph) < 0)
			return XDP_DROP;
		if (tcph->dest == bpf_htons(23))
			return XDP_DROP;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
