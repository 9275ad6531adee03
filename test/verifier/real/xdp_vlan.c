// SPDX-License-Identifier: MIT
// xdp_vlan: Ethernet with up to two VLAN tags (802.1Q, 802.1ad).
// - xdp_vlan_filter: the xdp-tutorial way (the tag loop is `#pragma unroll`ed in parsing.h): per-CPU counters by
//   kind of frame, and a drop for frames on a quarantined VLAN (outer tag 666) or with a reserved VLAN id (4095).
//   Truncated headers are dropped.
// - xdp_vlan_count_proto: the samples/bpf/xdp1_kern.c way: the header offset `nh_off` is 14, 18 or 22 depending
//   on the tags, the IPv4 / IPv6 header is read at data + nh_off, and a per-CPU array counts frames by IP
//   protocol. Every frame is dropped (xdp1 is a drop counter); truncated headers count as protocol 0.
#include "parsing.h"

enum {
	STAT_IPV4 = 0,
	STAT_IPV6,
	STAT_OTHER,
	STAT_TAGGED,
	STAT_DOUBLE_TAGGED,
	STAT_BAD,
	STAT_MAX,
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} vlan_stats SEC(".maps");

#define QUARANTINE_VLAN 666

static __always_inline void count(__u32 key)
{
	__u64 *value = bpf_map_lookup_elem(&vlan_stats, &key);
	if (value)
		*value += 1; /* per-CPU: no atomic needed */
}

SEC("xdp")
int xdp_vlan_filter(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct collect_vlans vlans = {};
	struct hdr_cursor nh = { .pos = data };
	struct ethhdr *eth;
	int proto;

	proto = parse_ethhdr_vlan(&nh, data_end, &eth, &vlans);
	if (proto < 0) {
		count(STAT_BAD);
		return XDP_DROP;
	}

	if (nh.pos - data > (long)sizeof(*eth))
		count(STAT_TAGGED);
	if (nh.pos - data > (long)(sizeof(*eth) + sizeof(struct vlan_hdr)))
		count(STAT_DOUBLE_TAGGED);

	if (vlans.id[0] == QUARANTINE_VLAN || vlans.id[0] == VLAN_VID_MASK || vlans.id[1] == VLAN_VID_MASK)
		return XDP_DROP;

	if (proto == bpf_htons(ETH_P_IP))
		count(STAT_IPV4);
	else if (proto == bpf_htons(ETH_P_IPV6))
		count(STAT_IPV6);
	else
		count(STAT_OTHER);
	return XDP_PASS;
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, long);
} rxcnt SEC(".maps");

static __always_inline int parse_ipv4(void *data, __u64 nh_off, void *data_end)
{
	struct iphdr *iph = data + nh_off;

	if ((void *)(iph + 1) > data_end)
		return 0;
	return iph->protocol;
}

static __always_inline int parse_ipv6(void *data, __u64 nh_off, void *data_end)
{
	struct ipv6hdr *ip6h = data + nh_off;

	if ((void *)(ip6h + 1) > data_end)
		return 0;
	return ip6h->nexthdr;
}

SEC("xdp")
int xdp_vlan_count_proto(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	int rc = XDP_DROP;
	long *value;
	__u16 h_proto;
	__u64 nh_off;
	__u32 ipproto;

	nh_off = sizeof(*eth);
	if (data + nh_off > data_end)
		return rc;

	h_proto = eth->h_proto;

	if (h_proto == bpf_htons(ETH_P_8021Q) || h_proto == bpf_htons(ETH_P_8021AD)) {
		struct vlan_hdr *vhdr;

		vhdr = data + nh_off;
		nh_off += sizeof(struct vlan_hdr);
		if (data + nh_off > data_end)
			return rc;
		h_proto = vhdr->h_vlan_encapsulated_proto;
	}
	if (h_proto == bpf_htons(ETH_P_8021Q) || h_proto == bpf_htons(ETH_P_8021AD)) {
		struct vlan_hdr *vhdr;

		vhdr = data + nh_off;
		nh_off += sizeof(struct vlan_hdr);
		if (data + nh_off > data_end)
			return rc;
		h_proto = vhdr->h_vlan_encapsulated_proto;
	}

	if (h_proto == bpf_htons(ETH_P_IP))
		ipproto = parse_ipv4(data, nh_off, data_end);
	else if (h_proto == bpf_htons(ETH_P_IPV6))
		ipproto = parse_ipv6(data, nh_off, data_end);
	else
		ipproto = 0;

	value = bpf_map_lookup_elem(&rxcnt, &ipproto);
	if (value)
		*value += 1;

	return rc;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
