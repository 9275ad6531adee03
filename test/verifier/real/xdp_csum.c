// SPDX-License-Identifier: MIT
// xdp_csum: IPv4 header checksums. The 20-byte fixed header is summed in a `#pragma unroll`ed loop of 16-bit
// words, the options (ihl * 4 - 20 bytes, at most 40) in a bounded loop of 32-bit words whose count comes from
// the packet; a header whose checksum does not verify is dropped. A valid packet with TTL > 1 has its TTL
// decremented and its checksum updated incrementally (RFC 1624), as a router would; TTL <= 1 is dropped.
#include "parsing.h"

#define MAX_OPT_WORDS 10

static __always_inline __u16 csum_fold(__u32 csum)
{
	csum = (csum & 0xffff) + (csum >> 16);
	csum = (csum & 0xffff) + (csum >> 16);
	return (__u16)~csum;
}

/* RFC 1624: HC' = ~(~HC + ~m + m') for a 16-bit word changing from m to m'. */
static __always_inline void csum_replace2(__u16 *sum, __u16 old, __u16 new)
{
	__u32 csum = (__u16)~*sum;

	csum += (__u16)~old;
	csum += new;
	*sum = csum_fold(csum);
}

static __always_inline int ipv4_csum_ok(struct iphdr *iph, void *data_end)
{
	__u16 *words = (__u16 *)iph;
	__u32 *opt = (__u32 *)(iph + 1);
	__u32 csum = 0;
	int n = iph->ihl - 5;
	int i;

#pragma unroll
	for (i = 0; i < (int)(sizeof(*iph) / 2); i++)
		csum += words[i];

#pragma clang loop unroll(disable)
	for (i = 0; i < MAX_OPT_WORDS; i++) {
		if (i >= n)
			break;
		if ((void *)(opt + 1) > data_end)
			return 0;
		csum += *opt & 0xffff;
		csum += *opt >> 16;
		opt++;
	}
	return csum_fold(csum) == 0;
}

SEC("xdp")
int xdp_ttl_router(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct hdr_cursor nh = { .pos = data };
	struct ethhdr *eth;
	struct iphdr *iph;
	__u16 old;

	if (parse_ethhdr(&nh, data_end, &eth) != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if (parse_iphdr(&nh, data_end, &iph) < 0)
		return XDP_DROP;
	if (!ipv4_csum_ok(iph, data_end))
		return XDP_DROP;
	if (iph->ttl <= 1)
		return XDP_DROP;

	old = *(__u16 *)&iph->ttl;
	iph->ttl--;
	csum_replace2(&iph->check, old, *(__u16 *)&iph->ttl);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
