// SPDX-License-Identifier: MIT
// xdp_ipv4: an IPv4 port filter. The IPv4 header has options (ihl * 4 bytes), the TCP header too (doff * 4),
// so the L4 header sits at a variable offset. Drops TCP to port 23 (telnet) and UDP to port 19 (chargen),
// non-first fragments' ports are not read (they have no L4 header), and malformed or truncated headers are
// dropped. Everything else passes; the number of bytes of IPv4 options seen is summed in an array map.
#include "parsing.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} option_bytes SEC(".maps");

#define IP_MF 0x2000
#define IP_OFFSET 0x1fff

SEC("xdp")
int xdp_ipv4_ports(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct hdr_cursor nh = { .pos = data };
	struct ethhdr *eth;
	struct iphdr *iph;
	struct tcphdr *tcph;
	struct udphdr *udph;
	int eth_type, ip_type;
	__u32 key = 0;
	__u64 *opts;

	eth_type = parse_ethhdr(&nh, data_end, &eth);
	if (eth_type < 0)
		return XDP_DROP;
	if (eth_type != bpf_htons(ETH_P_IP))
		return XDP_PASS;

	ip_type = parse_iphdr(&nh, data_end, &iph);
	if (ip_type < 0)
		return XDP_DROP;

	opts = bpf_map_lookup_elem(&option_bytes, &key);
	if (opts && iph->ihl > 5)
		__sync_fetch_and_add(opts, (iph->ihl - 5) * 4);

	if (iph->frag_off & bpf_htons(IP_OFFSET))
		return XDP_PASS; /* a later fragment: no L4 header */

	if (ip_type == IPPROTO_TCP) {
		if (parse_tcphdr(&nh, data_end, &tcph) < 0)
			return XDP_DROP;
		if (tcph->dest == bpf_htons(23))
			return XDP_DROP;
	} else if (ip_type == IPPROTO_UDP) {
		if (parse_udphdr(&nh, data_end, &udph) < 0)
			return XDP_DROP;
		if (udph->dest == bpf_htons(19))
			return XDP_DROP;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
