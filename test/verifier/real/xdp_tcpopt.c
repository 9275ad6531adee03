// SPDX-License-Identifier: MIT
// xdp_tcpopt: TCP options.
// - xdp_tcp_options: after Ethernet, IPv4 (ihl * 4) and the fixed TCP header, a loop of at most MAX_OPTS
//   iterations walks the options (kind, length, data) up to doff * 4, each step a variable length read from the
//   packet. SYNs that announce an MSS below 536 are dropped, as are options with a length below 2 or running
//   past the header; the MSS and window scale of the last SYN are stored in an array map.
// - xdp_tcp_server_id: the kernel selftest test_parse_tcp_hdr_opt.c way, over IPv6 (fixed 40-byte header): the
//   parser's state (a u8 byte offset and the option bytes left) lives in a struct, the loop runs doff-derived
//   `opt_len + 1` times at most, and a server-id option (kind 0xB7, 6 bytes) found in the options is stored in
//   a map. Every packet passes; a packet too short for the TCP header is dropped.
#include "parsing.h"

#define MAX_OPTS 10

#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2
#define TCPOPT_WINDOW 3

struct syn_opts {
	__u32 mss;
	__u32 wscale;
	__u32 options;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct syn_opts);
} last_syn SEC(".maps");

/* Returns 0 when the options are well formed, -1 when not; fills *o. */
static __always_inline int parse_tcp_options(struct tcphdr *tcph, void *data_end, struct syn_opts *o)
{
	__u8 *opt = (__u8 *)(tcph + 1);
	__u8 *opt_end = (__u8 *)tcph + tcph->doff * 4;
	int i;

	for (i = 0; i < MAX_OPTS; i++) {
		__u8 kind, len;

		if (opt >= opt_end || (void *)(opt + 1) > data_end)
			break;
		kind = opt[0];
		if (kind == TCPOPT_EOL)
			break;
		if (kind == TCPOPT_NOP) {
			opt++;
			continue;
		}
		if (opt + 2 > opt_end || (void *)(opt + 2) > data_end)
			return -1;
		len = opt[1];
		if (len < 2 || opt + len > opt_end)
			return -1;
		if (kind == TCPOPT_MSS && len == 4) {
			if ((void *)(opt + 4) > data_end)
				return -1;
			o->mss = (opt[2] << 8) | opt[3];
		} else if (kind == TCPOPT_WINDOW && len == 3) {
			if ((void *)(opt + 3) > data_end)
				return -1;
			o->wscale = opt[2];
		}
		o->options++;
		opt += len;
	}
	return 0;
}

SEC("xdp")
int xdp_tcp_options(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct hdr_cursor nh = { .pos = data };
	struct syn_opts o = {};
	struct ethhdr *eth;
	struct iphdr *iph;
	struct tcphdr *tcph;
	__u32 key = 0;
	struct syn_opts *last;

	if (parse_ethhdr(&nh, data_end, &eth) != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if (parse_iphdr(&nh, data_end, &iph) != IPPROTO_TCP)
		return XDP_PASS;
	if (parse_tcphdr(&nh, data_end, &tcph) < 0)
		return XDP_DROP;
	if (!tcph->syn)
		return XDP_PASS;

	if (parse_tcp_options(tcph, data_end, &o) < 0)
		return XDP_DROP;
	if (o.mss != 0 && o.mss < 536)
		return XDP_DROP;

	last = bpf_map_lookup_elem(&last_syn, &key);
	if (last)
		*last = o;
	return XDP_PASS;
}

#define TCPOPT_SERVER_ID 0xB7
#define TCPOPT_SERVER_ID_LEN 6

struct hdr_opt_state {
	__u32 server_id;
	__u8 byte_offset;
	__u8 hdr_bytes_remaining;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} server_id_map SEC(".maps");

static __always_inline int parse_hdr_opt(const struct xdp_md *xdp, struct hdr_opt_state *state)
{
	const void *data = (void *)(long)xdp->data;
	const void *data_end = (void *)(long)xdp->data_end;
	__u8 *tcp_opt, kind, hdr_len;

	tcp_opt = (__u8 *)(data + state->byte_offset);
	if ((const void *)(tcp_opt + 1) > data_end)
		return -1;

	kind = tcp_opt[0];
	if (kind == TCPOPT_EOL)
		return -1;
	if (kind == TCPOPT_NOP) {
		state->hdr_bytes_remaining--;
		state->byte_offset++;
		return 0;
	}

	if (state->hdr_bytes_remaining < 2 || (const void *)(tcp_opt + sizeof(__u8) + sizeof(__u8)) > data_end)
		return -1;

	hdr_len = tcp_opt[1];
	if (hdr_len > state->hdr_bytes_remaining)
		return -1;

	if (kind == TCPOPT_SERVER_ID) {
		if (hdr_len != TCPOPT_SERVER_ID_LEN || (const void *)(tcp_opt + TCPOPT_SERVER_ID_LEN) > data_end)
			return -1;
		state->server_id = *(__u32 *)&tcp_opt[2];
		return 1;
	}

	state->hdr_bytes_remaining -= hdr_len;
	state->byte_offset += hdr_len;
	return 0;
}

SEC("xdp")
int xdp_tcp_server_id(struct xdp_md *xdp)
{
	const void *data = (void *)(long)xdp->data;
	const void *data_end = (void *)(long)xdp->data_end;
	struct hdr_opt_state opt_state = {};
	__u8 tcp_hdr_opt_len = 0;
	struct tcphdr *tcp_hdr;
	__u64 tcp_offset = 0;
	__u32 key = 0;
	int err;

	tcp_offset = sizeof(struct ethhdr) + sizeof(struct ipv6hdr);
	tcp_hdr = (struct tcphdr *)(data + tcp_offset);
	if ((const void *)(tcp_hdr + 1) > data_end)
		return XDP_DROP;

	tcp_hdr_opt_len = (tcp_hdr->doff * 4) - sizeof(struct tcphdr);

	opt_state.hdr_bytes_remaining = tcp_hdr_opt_len;
	opt_state.byte_offset = sizeof(struct tcphdr) + tcp_offset;

	/* max number of bytes of options in tcp header is 40 bytes */
	for (int i = 0; i < tcp_hdr_opt_len + 1; i++) {
		err = parse_hdr_opt(xdp, &opt_state);
		if (err || !opt_state.hdr_bytes_remaining)
			break;
	}

	if (!opt_state.server_id)
		return XDP_PASS;

	bpf_map_update_elem(&server_id_map, &key, &opt_state.server_id, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
