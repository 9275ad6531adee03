// SPDX-License-Identifier: MIT
// udp_filter: a socket filter for a Node UDP socket (see runtime/dgram.ts). The "packet" is the datagram's
// payload; the program drops datagrams whose payload starts with the 4 bytes "DROP" or that come from a port
// listed in a hash map, and counts its verdicts. A socket filter returns how many bytes to keep: 0 drops.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);  // remote port, host byte order
	__type(value, __u8); // unused
} blocked_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);   // 0: accepted, 1: dropped
	__type(value, __u64);
} verdicts SEC(".maps");

static __always_inline int verdict(__u32 which, int keep)
{
	__u64 *count = bpf_map_lookup_elem(&verdicts, &which);
	if (count)
		__sync_fetch_and_add(count, 1);
	return keep;
}

SEC("socket")
int udp_payload_filter(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u32 port = bpf_ntohs((__u16)skb->remote_port);
	if (bpf_map_lookup_elem(&blocked_ports, &port))
		return verdict(1, 0);
	if (data + 4 <= data_end) {
		const __u8 *p = data;
		if (p[0] == 'D' && p[1] == 'R' && p[2] == 'O' && p[3] == 'P')
			return verdict(1, 0);
	}
	return verdict(0, skb->len);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
