// SPDX-License-Identifier: MIT
// tc_dns: a tc ingress filter for DNS queries (UDP to port 53 over IPv4 with options). It checks the DNS header
// (a query, standard opcode, exactly one question), then walks the question's QNAME label by label (at most
// MAX_LABELS labels of at most 63 bytes, each length read from the packet) to reach QTYPE, and drops ANY
// queries (the amplification classic) and malformed or truncated queries. Counts queries and drops.
#include <linux/pkt_cls.h>
#include "parsing.h"

#define DNS_PORT 53
#define MAX_LABELS 16
#define DNS_QTYPE_ANY 255

struct dnshdr {
	__be16 id;
	__be16 flags;
	__be16 qdcount;
	__be16 ancount;
	__be16 nscount;
	__be16 arcount;
};

#define DNS_QR 0x8000
#define DNS_OPCODE(f) (((f) >> 11) & 0xf)

enum { DNS_QUERIES = 0, DNS_DROPPED = 1, DNS_COUNTERS };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DNS_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} dns_stats SEC(".maps");

static __always_inline int bump(__u32 key, int verdict)
{
	__u64 *v = bpf_map_lookup_elem(&dns_stats, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	return verdict;
}

SEC("tc")
int tc_dns_filter(struct __sk_buff *skb)
{
	void *data_end = (void *)(long)skb->data_end;
	void *data = (void *)(long)skb->data;
	struct hdr_cursor nh = { .pos = data };
	struct ethhdr *eth;
	struct iphdr *iph;
	struct udphdr *udph;
	struct dnshdr *dns;
	__u16 flags, qtype;
	__u8 *p;
	int i;

	if (parse_ethhdr(&nh, data_end, &eth) != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	if (parse_iphdr(&nh, data_end, &iph) != IPPROTO_UDP)
		return TC_ACT_OK;
	if (parse_udphdr(&nh, data_end, &udph) < 0)
		return TC_ACT_SHOT;
	if (udph->dest != bpf_htons(DNS_PORT))
		return TC_ACT_OK;

	dns = nh.pos;
	if ((void *)(dns + 1) > data_end)
		return bump(DNS_DROPPED, TC_ACT_SHOT);
	flags = bpf_ntohs(dns->flags);
	if ((flags & DNS_QR) || DNS_OPCODE(flags) != 0)
		return TC_ACT_OK; /* responses and other opcodes are not ours */
	if (dns->qdcount != bpf_htons(1))
		return bump(DNS_DROPPED, TC_ACT_SHOT);
	bump(DNS_QUERIES, 0);

	p = (__u8 *)(dns + 1);
	for (i = 0; i < MAX_LABELS; i++) {
		__u8 len;

		if ((void *)(p + 1) > data_end)
			return bump(DNS_DROPPED, TC_ACT_SHOT);
		len = *p;
		if (len == 0)
			break;
		if (len > 63) /* no compression pointers in a question */
			return bump(DNS_DROPPED, TC_ACT_SHOT);
		p += len + 1;
	}
	if (i == MAX_LABELS)
		return bump(DNS_DROPPED, TC_ACT_SHOT);

	/* the root label, QTYPE, QCLASS */
	if ((void *)(p + 5) > data_end)
		return bump(DNS_DROPPED, TC_ACT_SHOT);
	qtype = (p[1] << 8) | p[2];
	if (qtype == DNS_QTYPE_ANY)
		return bump(DNS_DROPPED, TC_ACT_SHOT);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
