// SPDX-License-Identifier: MIT
// xdp_synlog: logs TCP connection attempts (SYN without ACK) over IPv4, options included, as events in a ring
// buffer: reserve, fill from the headers, submit; an event whose TCP header turns out to be truncated is
// discarded instead. The first 8 bytes of the TCP options, when present, are copied into the event. Every
// packet passes except those whose headers are truncated or malformed (dropped).
// - xdp_syn_logger: checks the 8 option bytes against data_end before copying them, as the kernel requires.
// - xdp_syn_logger_implied: relies on `tcp_len >= 28` and `tcph + tcp_len <= data_end` (parse_tcphdr) instead.
//   Safe, but Linux rejects it ("invalid access to packet"): it proves ranges per packet pointer and does not
//   combine the length check with the bounds check of another pointer; so does this verifier (see
//   real.test.ts). Kept as the example of a rejection users meet and how the message reads.
#include "parsing.h"

struct syn_event {
	__u64 ts_ns;
	__be32 saddr;
	__be32 daddr;
	__u16 sport; /* host byte order */
	__u16 dport;
	__u8 ip_options; /* bytes of IPv4 options */
	__u8 tcp_options; /* bytes of TCP options */
	__u8 opt_head[8];
	__u8 pad[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} syn_events SEC(".maps");

static __always_inline int log_syn(struct xdp_md *ctx, int explicit_check)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct hdr_cursor nh = { .pos = data };
	struct syn_event *e;
	struct ethhdr *eth;
	struct iphdr *iph;
	struct tcphdr *tcph;
	int tcp_len;

	if (parse_ethhdr(&nh, data_end, &eth) != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if (parse_iphdr(&nh, data_end, &iph) != IPPROTO_TCP)
		return XDP_PASS;

	e = bpf_ringbuf_reserve(&syn_events, sizeof(*e), 0);
	if (!e)
		return XDP_PASS; /* ring full: the event is lost, not the packet */

	tcp_len = parse_tcphdr(&nh, data_end, &tcph);
	if (tcp_len < 0) {
		bpf_ringbuf_discard(e, 0);
		return XDP_DROP;
	}
	if (!tcph->syn || tcph->ack) {
		bpf_ringbuf_discard(e, 0);
		return XDP_PASS;
	}

	e->ts_ns = bpf_ktime_get_ns();
	e->saddr = iph->saddr;
	e->daddr = iph->daddr;
	e->sport = bpf_ntohs(tcph->source);
	e->dport = bpf_ntohs(tcph->dest);
	e->ip_options = iph->ihl * 4 - sizeof(*iph);
	e->tcp_options = tcp_len - sizeof(*tcph);
	__builtin_memset(e->opt_head, 0, sizeof(e->opt_head));
	if (explicit_check) {
		if (tcp_len >= sizeof(*tcph) + 8 && (void *)(tcph + 1) + 8 <= data_end)
			__builtin_memcpy(e->opt_head, tcph + 1, 8);
	} else {
		if (tcp_len >= sizeof(*tcph) + 8)
			__builtin_memcpy(e->opt_head, tcph + 1, 8);
	}
	bpf_ringbuf_submit(e, 0);
	return XDP_PASS;
}

SEC("xdp")
int xdp_syn_logger(struct xdp_md *ctx)
{
	return log_syn(ctx, 1);
}

SEC("xdp")
int xdp_syn_logger_implied(struct xdp_md *ctx)
{
	return log_syn(ctx, 0);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
