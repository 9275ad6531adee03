// SPDX-License-Identifier: MIT
// xdp_loop: bpf_loop.
// - xdp_payload_scan: the UDP payload (after IPv4 with options) is scanned byte by byte by a bpf_loop callback,
//   up to MAX_SCAN bytes, for a NUL byte and for the byte sum; the callback gets the packet bounds through its
//   context struct on the caller's stack and checks each byte against data_end itself. Datagrams to port 7777
//   whose scanned payload holds a NUL byte are dropped; the byte sum of the last one is kept in a map.
// - xdp_syn_options: TCP options parsed by a bpf_loop callback the way the kernel selftest xdp_synproxy_kern.c
//   does: the callback runs a batch of up to 7 option steps, each advancing a packet pointer kept in the context
//   struct, checked against both the end of the options and data_end. A SYN carrying a timestamp option whose
//   value is 0 is dropped; the window scale seen is kept in a map.
#include <stdbool.h>
#include "parsing.h"

#define MAX_SCAN 64
#define SCAN_PORT 7777

struct scan_ctx {
	void *data_end;
	__u8 *payload;
	__u32 sum;
	__u32 nul_at; /* offset + 1 of the first NUL, 0 if none */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} payload_sum SEC(".maps");

static long scan_byte(__u32 index, void *data)
{
	struct scan_ctx *c = data;
	__u8 *p;

	if (index >= MAX_SCAN)
		return 1;
	p = c->payload + index;
	if ((void *)(p + 1) > c->data_end)
		return 1; /* end of the packet: stop */
	c->sum += *p;
	if (*p == 0 && c->nul_at == 0)
		c->nul_at = index + 1;
	return 0;
}

SEC("xdp")
int xdp_payload_scan(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct hdr_cursor nh = { .pos = data };
	struct ethhdr *eth;
	struct iphdr *iph;
	struct udphdr *udph;
	__u32 key = 0, *sum;

	if (parse_ethhdr(&nh, data_end, &eth) != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if (parse_iphdr(&nh, data_end, &iph) != IPPROTO_UDP)
		return XDP_PASS;
	if (parse_udphdr(&nh, data_end, &udph) < 0)
		return XDP_DROP;
	if (udph->dest != bpf_htons(SCAN_PORT))
		return XDP_PASS;

	struct scan_ctx c = { .data_end = data_end, .payload = nh.pos };
	bpf_loop(MAX_SCAN, scan_byte, &c, 0);

	sum = bpf_map_lookup_elem(&payload_sum, &key);
	if (sum)
		*sum = c.sum;
	return c.nul_at ? XDP_DROP : XDP_PASS;
}

#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_WINDOW 3
#define TCPOPT_SACK_PERM 4
#define TCPOPT_TIMESTAMP 8
#define TCPOLEN_WINDOW 3
#define TCPOLEN_SACK_PERM 2
#define TCPOLEN_TIMESTAMP 10
#define TCP_MAX_WSCALE 14U

struct tcpopt_context {
	__u8 *ptr;
	__u8 *end;
	void *data_end;
	__be32 *tsval;
	__u8 wscale;
	bool option_timestamp;
	bool option_sack;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} last_wscale SEC(".maps");

static __always_inline bool tscookie_tcpopt_parse(struct tcpopt_context *ctx)
{
	__u8 opcode, opsize;

	if (ctx->ptr >= ctx->end)
		return true;
	if ((void *)ctx->ptr >= ctx->data_end)
		return true;

	opcode = ctx->ptr[0];

	if (opcode == TCPOPT_EOL)
		return true;
	if (opcode == TCPOPT_NOP) {
		++ctx->ptr;
		return false;
	}

	if (ctx->ptr + 1 >= ctx->end)
		return true;
	if ((void *)(ctx->ptr + 1) >= ctx->data_end)
		return true;
	opsize = ctx->ptr[1];
	if (opsize < 2)
		return true;

	if (ctx->ptr + opsize > ctx->end)
		return true;

	switch (opcode) {
	case TCPOPT_WINDOW:
		if (opsize == TCPOLEN_WINDOW && (void *)(ctx->ptr + TCPOLEN_WINDOW) <= ctx->data_end)
			ctx->wscale = ctx->ptr[2] < TCP_MAX_WSCALE ? ctx->ptr[2] : TCP_MAX_WSCALE;
		break;
	case TCPOPT_TIMESTAMP:
		if (opsize == TCPOLEN_TIMESTAMP && (void *)(ctx->ptr + TCPOLEN_TIMESTAMP) <= ctx->data_end) {
			ctx->option_timestamp = true;
			__builtin_memcpy(ctx->tsval, ctx->ptr + 2, sizeof(*ctx->tsval));
		}
		break;
	case TCPOPT_SACK_PERM:
		if (opsize == TCPOLEN_SACK_PERM)
			ctx->option_sack = true;
		break;
	}

	ctx->ptr += opsize;

	return false;
}

static int tscookie_tcpopt_parse_batch(__u32 index, void *context)
{
	int i;

	for (i = 0; i < 7; i++)
		if (tscookie_tcpopt_parse(context))
			return 1;
	return 0;
}

SEC("xdp")
int xdp_syn_options(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct hdr_cursor nh = { .pos = data };
	struct ethhdr *eth;
	struct iphdr *iph;
	struct tcphdr *tcph;
	__be32 tsval = 0;
	__u32 key = 0, *ws;
	struct tcpopt_context loop_ctx = {
		.data_end = data_end,
		.tsval = &tsval,
		.wscale = TCP_MAX_WSCALE,
		.option_timestamp = false,
		.option_sack = false,
	};

	if (parse_ethhdr(&nh, data_end, &eth) != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if (parse_iphdr(&nh, data_end, &iph) != IPPROTO_TCP)
		return XDP_PASS;
	tcph = nh.pos;
	if ((void *)(tcph + 1) > data_end)
		return XDP_DROP;
	if (!tcph->syn)
		return XDP_PASS;

	loop_ctx.ptr = (__u8 *)(tcph + 1);
	loop_ctx.end = (__u8 *)tcph + tcph->doff * 4;
	bpf_loop(6, tscookie_tcpopt_parse_batch, &loop_ctx, 0);

	ws = bpf_map_lookup_elem(&last_wscale, &key);
	if (ws)
		*ws = loop_ctx.wscale;
	return loop_ctx.option_timestamp && tsval == 0 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
