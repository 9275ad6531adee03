// SPDX-License-Identifier: MIT
// socket_lds: a classic socket filter, in the style of samples/bpf/sockex1_kern.c. Socket filters may not read
// the packet directly; they use the legacy LD_ABS / LD_IND loads (load_byte, load_half), which end the program
// with 0 (drop) when they read past the packet. Counts bytes per IPv4 protocol in an array with atomic adds
// and keeps IPv4 TCP and UDP (and, for UDP, not to port 53 over IPv4 with options: the port is read at
// a variable offset with LD_IND); everything else is dropped (returns 0).
#include <stddef.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} proto_bytes SEC(".maps");

SEC("socket")
int socket_proto_filter(struct __sk_buff *skb)
{
	__u32 index, ihl;
	__u64 *value;

	if (load_half(skb, offsetof(struct ethhdr, h_proto)) != ETH_P_IP)
		return 0;

	index = load_byte(skb, ETH_HLEN + offsetof(struct iphdr, protocol));
	value = bpf_map_lookup_elem(&proto_bytes, &index);
	if (value)
		__sync_fetch_and_add(value, skb->len);

	if (index == IPPROTO_TCP)
		return skb->len;
	if (index != IPPROTO_UDP)
		return 0;
	ihl = (load_byte(skb, ETH_HLEN) & 0xf) * 4;
	if (load_half(skb, ETH_HLEN + ihl + offsetof(struct udphdr, dest)) == 53)
		return 0;
	return skb->len;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
