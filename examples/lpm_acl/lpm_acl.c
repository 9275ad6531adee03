// SPDX-License-Identifier: MIT
// lpm_acl: an access-control list keyed by IPv4 prefixes in an LPM trie. The longest prefix matching the
// packet's source address decides the XDP action stored as its value; no match passes.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct ipv4_lpm_key {
	__u32 prefixlen; // bits of addr that matter
	__u32 addr;      // network byte order
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__type(key, struct ipv4_lpm_key);
	__type(value, __u32); // XDP action
	__uint(map_flags, BPF_F_NO_PREALLOC);
} acl SEC(".maps");

SEC("xdp")
int xdp_acl(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return XDP_PASS;
	struct ipv4_lpm_key key = { .prefixlen = 32, .addr = ip->saddr };
	__u32 *action = bpf_map_lookup_elem(&acl, &key);
	return action ? *action : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
