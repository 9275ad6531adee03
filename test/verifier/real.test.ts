// Real programs (test/verifier/real/*.c, built by real/build.sh at -mcpu=v3 and -mcpu=v1): production-style
// XDP, tc and socket filter code that Linux's verifier accepts. Each object is loaded with `loadObject` in
// strict mode on both engines; every program must be accepted with all its memory accesses proven (the packet
// accesses among them, each preceded by a kernel-style `data + n > data_end` check) and its loops proven to
// terminate. Each then runs on crafted packets (valid ones, every truncation of a valid one, malformed ones):
// the verdicts must be the expected ones, the same on the interpreter and on the JIT, and the maps must hold
// what the programs wrote. One program is meant to be rejected, as Linux rejects it: see the last test.

import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ENGINES, type EngineName } from '../../runtime/engines.js';
import { loadObject, XDP_DROP, XDP_PASS, XDP_TX, type BpfObject, type PacketMeta } from '../../runtime/object.js';
import type { KeyValueMap, PerCpuMap, RingBuffer } from '../../runtime/maps/map.js';
import { VerifierError } from '../../src/errors.js';
import type { VerifiedProgram } from '../../src/verifier/verify.js';
import {
  ETH_P_8021AD, ETH_P_8021Q, ETH_P_ARP, ETH_P_IP, ETH_P_IPV6, TCP_ACK, TCP_SYN, addr, authHeader, cat, dns, ether,
  extHeader, fragmentHeader, ipv4, ipv6, opt, tcp, udp,
} from './real/packets.js';

const DIR = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, 'real');
/** The builds of every object: -mcpu=v3 (NAME.o) and -mcpu=v1 (NAME.v1.o). */
const BUILDS = ['', '.v1'] as const;

const TC_ACT_OK = 0;
const TC_ACT_SHOT = 2;
const IPPROTO = { ICMP: 1, TCP: 6, UDP: 17, HOPOPTS: 0, ROUTING: 43, FRAGMENT: 44, AH: 51, ICMPV6: 58, DSTOPTS: 60 };

/** A verdict: a number, or `len` for "the packet's length" (socket filters keep the whole packet). */
type Verdict = number | 'len';

interface Case {
  readonly name: string;
  readonly packet: Uint8Array;
  readonly verdict: Verdict;
  readonly meta?: PacketMeta;
}

/** Every truncation of `packet` (lengths 0 to its own): the verdict for a length is the last entry at or below it. */
interface Truncation {
  readonly packet: Uint8Array;
  readonly verdicts: ReadonlyArray<readonly [number, Verdict]>;
  readonly meta?: PacketMeta;
}

interface Spec {
  readonly object: string;
  readonly program: string;
  readonly cases: readonly Case[];
  readonly truncations: readonly Truncation[];
  /** Before the cases: fill maps. */
  readonly setup?: (obj: BpfObject) => void;
  /** After the cases (before the truncations): what the maps hold. */
  readonly check?: (obj: BpfObject) => void;
  /** Whether the program reads the packet directly (socket filters use legacy loads instead). */
  readonly directAccess?: boolean;
}

const verdictOf = (v: Verdict, packet: Uint8Array): number => (v === 'len' ? packet.length : v);

function truncationVerdict(t: Truncation, len: number): Verdict {
  let v: Verdict | undefined;
  for (const [from, verdict] of t.verdicts) if (from <= len) v = verdict;
  if (v === undefined) throw new Error(`no verdict for length ${len}`);
  return v;
}

/** Slots of the loads and stores whose base is a packet pointer (or data_end) on some path. */
function packetAccesses(v: VerifiedProgram): number[] {
  const out: number[] = [];
  for (const insn of v.program.insns) {
    if (insn.kind !== 'load' && insn.kind !== 'store') continue;
    if (v.statesAt(insn.pc).some(({ state }) => ['pkt', 'pkt_end'].includes(state.reg(insn.base).t))) out.push(insn.pc);
  }
  return out;
}

const u32le = (n: number): Buffer => Buffer.from(Uint32Array.of(n).buffer);
const perCpu = (obj: BpfObject, name: string): PerCpuMap<number, bigint> => (obj.map(name) as PerCpuMap<Buffer, Buffer>).typed('u32', 'u64');
const array = (obj: BpfObject, name: string): KeyValueMap<number, Buffer> => obj.map(name) as KeyValueMap<number, Buffer>;
const hash = (obj: BpfObject, name: string): KeyValueMap<Buffer, Buffer> => obj.map(name) as KeyValueMap<Buffer, Buffer>;

// ---------------------------------------------------------------------------------------------------------------
// Packets used by several programs

const tcpV4 = (dport: number, o: { flags?: number; options?: number[]; ipOptions?: number[]; src?: string; doff?: number } = {}): Uint8Array =>
  ether(ETH_P_IP, ipv4({ proto: IPPROTO.TCP, options: o.ipOptions, src: o.src, payload: tcp({ dport, flags: o.flags, options: o.options, doff: o.doff }) }));
const udpV4 = (dport: number, payload: ArrayLike<number> = [], o: { ipOptions?: number[]; src?: string } = {}): Uint8Array =>
  ether(ETH_P_IP, ipv4({ proto: IPPROTO.UDP, options: o.ipOptions, src: o.src, payload: udp(dport, payload) }));
const icmpV4 = (): Uint8Array => ether(ETH_P_IP, ipv4({ proto: IPPROTO.ICMP, payload: [8, 0, 0, 0, 0, 1, 0, 1] }));
const arp = (): Uint8Array => ether(ETH_P_ARP, new Array(28).fill(0));
const udpV6 = (dport: number): Uint8Array => ether(ETH_P_IPV6, ipv6(IPPROTO.UDP, udp(dport, [1, 2, 3, 4])));
/** 4 bytes of IPv4 options: NOP, NOP, NOP, EOL. */
const IP_OPTS = [1, 1, 1, 0];

// ---------------------------------------------------------------------------------------------------------------
// The programs

const SPECS: Spec[] = [];

// xdp_vlan.c: Ethernet and up to two VLAN tags.
{
  const dbl = ether(ETH_P_IP, ipv4({ proto: IPPROTO.TCP, payload: tcp({ dport: 80 }) }), [[ETH_P_8021AD, 10], [ETH_P_8021Q, 20]]);
  SPECS.push({
    object: 'xdp_vlan', program: 'xdp_vlan_filter',
    cases: [
      { name: 'untagged IPv4', packet: tcpV4(80), verdict: XDP_PASS },
      { name: 'one tag, IPv6', packet: ether(ETH_P_IPV6, ipv6(IPPROTO.UDP, udp(53)), [[ETH_P_8021Q, 100]]), verdict: XDP_PASS },
      { name: 'two tags (802.1ad, 802.1Q), IPv4', packet: dbl, verdict: XDP_PASS },
      { name: 'quarantined outer VLAN 666', packet: ether(ETH_P_IP, ipv4({ proto: IPPROTO.UDP }), [[ETH_P_8021Q, 666]]), verdict: XDP_DROP },
      { name: 'reserved inner VLAN 4095', packet: ether(ETH_P_IP, ipv4({ proto: IPPROTO.UDP }), [[ETH_P_8021AD, 5], [ETH_P_8021Q, 4095]]), verdict: XDP_DROP },
      { name: 'three tags: the third is left as the EtherType', packet: ether(ETH_P_IP, [], [[ETH_P_8021AD, 1], [ETH_P_8021Q, 2], [ETH_P_8021Q, 3]]), verdict: XDP_PASS },
      { name: 'ARP', packet: arp(), verdict: XDP_PASS },
      { name: 'runt frame', packet: new Uint8Array(13), verdict: XDP_DROP },
    ],
    // Every header boundary: the Ethernet header, each tag; nothing after the tags is read.
    truncations: [{ packet: dbl, verdicts: [[0, XDP_DROP], [22, XDP_PASS]] }],
    check: (obj) => {
      const stats = perCpu(obj, 'vlan_stats');
      // IPV4, IPV6, OTHER, TAGGED, DOUBLE_TAGGED, BAD
      expect([0, 1, 2, 3, 4, 5].map((k) => stats.get(k)![0])).toEqual([2n, 1n, 2n, 5n, 3n, 1n]);
    },
  });
  SPECS.push({
    object: 'xdp_vlan', program: 'xdp_vlan_count_proto',
    cases: [
      { name: 'two tags, TCP over IPv4', packet: dbl, verdict: XDP_DROP },
      { name: 'one tag, UDP over IPv6', packet: ether(ETH_P_IPV6, ipv6(IPPROTO.UDP, udp(53)), [[ETH_P_8021Q, 7]]), verdict: XDP_DROP },
      { name: 'untagged ICMP', packet: icmpV4(), verdict: XDP_DROP },
      { name: 'IPv4 header cut short', packet: dbl.subarray(0, 30), verdict: XDP_DROP },
    ],
    truncations: [{ packet: dbl, verdicts: [[0, XDP_DROP]] }],
    check: (obj) => {
      const counts = perCpu(obj, 'rxcnt');
      expect([IPPROTO.TCP, IPPROTO.UDP, IPPROTO.ICMP, 0].map((k) => counts.get(k)![0])).toEqual([1n, 1n, 1n, 1n]);
    },
  });
}

// xdp_ipv4.c: IPv4 with options, TCP with options, UDP.
{
  const telnet = tcpV4(23, { ipOptions: IP_OPTS, options: opt.mss(1460) });
  const http = tcpV4(80, { ipOptions: IP_OPTS, options: opt.mss(1460) });
  SPECS.push({
    object: 'xdp_ipv4', program: 'xdp_ipv4_ports',
    cases: [
      { name: 'TCP to 80, IP and TCP options', packet: http, verdict: XDP_PASS },
      { name: 'TCP to 23, IP and TCP options', packet: telnet, verdict: XDP_DROP },
      { name: 'TCP to 23, 40 bytes of IP options', packet: tcpV4(23, { ipOptions: new Array(40).fill(1) }), verdict: XDP_DROP },
      { name: 'UDP to 19', packet: udpV4(19, [1, 2]), verdict: XDP_DROP },
      { name: 'UDP to 53', packet: udpV4(53, [1, 2]), verdict: XDP_PASS },
      { name: 'ihl 4', packet: ether(ETH_P_IP, ipv4({ proto: IPPROTO.TCP, ihl: 4, payload: tcp({ dport: 80 }) })), verdict: XDP_DROP },
      { name: 'ihl 15 past the end', packet: ether(ETH_P_IP, ipv4({ proto: IPPROTO.TCP, ihl: 15, payload: tcp({ dport: 80 }) })), verdict: XDP_DROP },
      { name: 'later fragment to 23: no L4 header to read', packet: ether(ETH_P_IP, ipv4({ proto: IPPROTO.TCP, fragment: 100, payload: tcp({ dport: 23 }) })), verdict: XDP_PASS },
      { name: 'UDP length below 8', packet: ether(ETH_P_IP, ipv4({ proto: IPPROTO.UDP, payload: udp(53, [], 40000, 4) })), verdict: XDP_DROP },
      { name: 'TCP data offset 4', packet: tcpV4(80, { doff: 4 }), verdict: XDP_DROP },
      { name: 'ICMP', packet: icmpV4(), verdict: XDP_PASS },
      { name: 'IPv6', packet: udpV6(19), verdict: XDP_PASS },
    ],
    truncations: [
      { packet: http, verdicts: [[0, XDP_DROP], [14, XDP_DROP], [http.length, XDP_PASS]] },
      { packet: udpV4(53, [], { ipOptions: IP_OPTS }), verdicts: [[0, XDP_DROP], [14 + 24 + 8, XDP_PASS]] },
    ],
    check: (obj) => expect(array(obj, 'option_bytes').get(0)!.readBigUInt64LE(0)).toBe(4n + 4n + 40n),
  });
}

// xdp_ipv6.c: IPv6 extension headers.
{
  const chain = ether(ETH_P_IPV6, ipv6(IPPROTO.HOPOPTS, cat(extHeader(IPPROTO.ROUTING), extHeader(IPPROTO.UDP, 1), udp(53, [9]))));
  const tooLong = ether(ETH_P_IPV6, ipv6(IPPROTO.DSTOPTS, cat(...new Array(7).fill(0).map((_, i) => extHeader(i === 6 ? IPPROTO.UDP : IPPROTO.DSTOPTS)), udp(53))));
  SPECS.push({
    object: 'xdp_ipv6', program: 'xdp_ipv6_filter',
    cases: [
      { name: 'UDP to 9', packet: udpV6(9), verdict: XDP_DROP },
      { name: 'UDP to 53', packet: udpV6(53), verdict: XDP_PASS },
      { name: 'hop-by-hop, routing (16 bytes), UDP to 53', packet: chain, verdict: XDP_PASS },
      { name: 'hop-by-hop, routing, fragment, UDP to 9', packet: ether(ETH_P_IPV6, ipv6(IPPROTO.HOPOPTS, cat(extHeader(IPPROTO.ROUTING), extHeader(IPPROTO.FRAGMENT, 1), fragmentHeader(IPPROTO.UDP), udp(9)))), verdict: XDP_DROP },
      { name: 'destination options, TCP to 23', packet: ether(ETH_P_IPV6, ipv6(IPPROTO.DSTOPTS, cat(extHeader(IPPROTO.TCP), tcp({ dport: 23 })))), verdict: XDP_DROP },
      { name: 'destination options, TCP to 22', packet: ether(ETH_P_IPV6, ipv6(IPPROTO.DSTOPTS, cat(extHeader(IPPROTO.TCP), tcp({ dport: 22 })))), verdict: XDP_PASS },
      { name: 'authentication header, UDP to 9', packet: ether(ETH_P_IPV6, ipv6(IPPROTO.AH, cat(authHeader(IPPROTO.UDP, 1), udp(9)))), verdict: XDP_DROP },
      { name: 'seven extension headers: too many', packet: tooLong, verdict: XDP_DROP },
      { name: 'routing header length past the end', packet: ether(ETH_P_IPV6, ipv6(IPPROTO.ROUTING, [IPPROTO.UDP, 200, 0, 0, 0, 0, 0, 0])), verdict: XDP_DROP },
      { name: 'ICMPv6', packet: ether(ETH_P_IPV6, ipv6(IPPROTO.ICMPV6, [128, 0, 0, 0, 0, 0, 0, 0])), verdict: XDP_PASS },
      { name: 'IPv4', packet: udpV4(9), verdict: XDP_PASS },
    ],
    // The Ethernet and IPv6 headers, the first two bytes of each extension header, the UDP header: dropped until complete.
    truncations: [{ packet: chain, verdicts: [[0, XDP_DROP], [14 + 40 + 8 + 16 + 8, XDP_PASS]] }],
    check: (obj) => expect(array(obj, 'last_l4').get(0)!.readUInt32LE(0)).toBe(IPPROTO.ICMPV6),
  });
}

// xdp_tcpopt.c: TCP options.
{
  const full = [...opt.mss(1460), ...opt.nop, ...opt.nop, ...opt.wscale(7), ...opt.sackPerm, ...opt.timestamp(1)];
  const smallMss = tcpV4(80, { flags: TCP_SYN, options: [...opt.mss(500), ...opt.nop] });
  SPECS.push({
    object: 'xdp_tcpopt', program: 'xdp_tcp_options',
    cases: [
      { name: 'SYN with MSS, window scale, SACK permitted, timestamps', packet: tcpV4(80, { flags: TCP_SYN, options: full }), verdict: XDP_PASS },
      { name: 'SYN with MSS 500', packet: smallMss, verdict: XDP_DROP },
      { name: 'SYN with MSS 500 after IP options', packet: tcpV4(80, { flags: TCP_SYN, options: opt.mss(500), ipOptions: IP_OPTS }), verdict: XDP_DROP },
      { name: 'ACK with MSS 500: options not parsed', packet: tcpV4(80, { flags: TCP_ACK, options: opt.mss(500) }), verdict: XDP_PASS },
      { name: 'SYN with an option of length 1', packet: tcpV4(80, { flags: TCP_SYN, options: [3, 1, 0, 0] }), verdict: XDP_DROP },
      { name: 'SYN with an option running past the header', packet: tcpV4(80, { flags: TCP_SYN, options: [8, 10, 0, 0] }), verdict: XDP_DROP },
      { name: 'SYN with 12 NOPs, then MSS 100: the loop stops after 10 options', packet: tcpV4(80, { flags: TCP_SYN, options: [...new Array(12).fill(1), ...opt.mss(100)] }), verdict: XDP_PASS },
      { name: 'SYN with EOL, then MSS 100: the list ends at EOL', packet: tcpV4(80, { flags: TCP_SYN, options: [0, ...opt.mss(100)] }), verdict: XDP_PASS },
      { name: 'UDP', packet: udpV4(80), verdict: XDP_PASS },
      { name: 'TCP data offset past the end', packet: tcpV4(80, { flags: TCP_SYN, doff: 15 }), verdict: XDP_DROP },
    ],
    // Not IPv4 or not TCP until the IPv4 header is complete (passed), then a truncated TCP header (dropped).
    truncations: [{ packet: smallMss, verdicts: [[0, XDP_PASS], [34, XDP_DROP]] }],
    check: (obj) => {
      const last = array(obj, 'last_syn').get(0)!;
      // The last SYN that passed: the EOL one (no option before EOL).
      expect([last.readUInt32LE(0), last.readUInt32LE(4), last.readUInt32LE(8)]).toEqual([0, 0, 0]);
    },
  });
  const id = [0xde, 0xad, 0xbe, 0xef];
  const v6syn = (options: number[]): Uint8Array => ether(ETH_P_IPV6, ipv6(IPPROTO.TCP, tcp({ dport: 443, flags: TCP_SYN, options })));
  const withId = v6syn([...opt.nop, ...opt.nop, ...opt.serverId(id)]);
  SPECS.push({
    object: 'xdp_tcpopt', program: 'xdp_tcp_server_id',
    cases: [
      { name: 'MSS, then no server id', packet: v6syn([...opt.mss(1460), ...opt.wscale(2)]), verdict: XDP_PASS },
      { name: 'NOP, NOP, server id', packet: withId, verdict: XDP_PASS },
      { name: 'option longer than the bytes left', packet: v6syn([2, 40, 0, 0]), verdict: XDP_PASS },
      { name: 'data offset 0 (options length wraps)', packet: ether(ETH_P_IPV6, ipv6(IPPROTO.TCP, tcp({ dport: 443, doff: 0 }))), verdict: XDP_PASS },
    ],
    truncations: [{ packet: withId, verdicts: [[0, XDP_DROP], [74, XDP_PASS]] }],
    check: (obj) => expect([...array(obj, 'server_id_map').get(0)!]).toEqual(id),
  });
}

// tc_dns.c: DNS queries at tc ingress.
{
  const query = (labels: (string | number[])[], qtype = 1, flags?: number, qd?: number): Uint8Array => udpV4(53, dns(labels, qtype, flags, qd), { ipOptions: IP_OPTS });
  const short = udpV4(53, dns(['a', 'bc'], 1));
  SPECS.push({
    object: 'tc_dns', program: 'tc_dns_filter',
    cases: [
      { name: 'A query for www.example.com', packet: query(['www', 'example', 'com']), verdict: TC_ACT_OK },
      { name: 'ANY query', packet: query(['example', 'com'], 255), verdict: TC_ACT_SHOT },
      { name: 'response', packet: query(['example', 'com'], 255, 0x8180), verdict: TC_ACT_OK },
      { name: 'two questions', packet: query(['example', 'com'], 1, 0x0100, 2), verdict: TC_ACT_SHOT },
      { name: 'a 64-byte label', packet: query([new Array(64).fill(0x61), 'com']), verdict: TC_ACT_SHOT },
      { name: 'a 63-byte label', packet: query([new Array(63).fill(0x61), 'com']), verdict: TC_ACT_OK },
      { name: '16 labels', packet: query(new Array(16).fill('a')), verdict: TC_ACT_SHOT },
      { name: '15 labels', packet: query(new Array(15).fill('a')), verdict: TC_ACT_OK },
      { name: 'compression pointer in the question', packet: udpV4(53, cat(dns([], 1).subarray(0, 12), [0xc0, 0x0c, 0, 1, 0, 1])), verdict: TC_ACT_SHOT },
      { name: 'UDP to 80', packet: udpV4(80, [1, 2, 3]), verdict: TC_ACT_OK },
      { name: 'TCP to 53', packet: tcpV4(53), verdict: TC_ACT_OK },
      { name: 'IPv6', packet: udpV6(53), verdict: TC_ACT_OK },
    ],
    // Ethernet and IPv4 incomplete: not ours; then UDP, the DNS header, each label and QTYPE/QCLASS truncated.
    truncations: [{ packet: short, verdicts: [[0, TC_ACT_OK], [34, TC_ACT_SHOT], [short.length, TC_ACT_OK]] }],
    check: (obj) => {
      const stats = array(obj, 'dns_stats');
      expect([stats.get(0)!.readBigUInt64LE(0), stats.get(1)!.readBigUInt64LE(0)]).toEqual([7n, 5n]);
    },
  });
}

// tc_flow.c: per-flow accounting in an LRU hash.
{
  const flowKey = (src: string, dst: string, sport: number, dport: number, proto: number): Buffer =>
    Buffer.from([...addr(src), ...addr(dst), sport >> 8, sport & 0xff, dport >> 8, dport & 0xff, proto, 0, 0, 0]);
  const web = tcpV4(80, { src: '10.0.0.1', ipOptions: IP_OPTS });
  const webKey = flowKey('10.0.0.1', '198.51.100.1', 40000, 80, IPPROTO.TCP);
  SPECS.push({
    object: 'tc_flow', program: 'tc_flow_account',
    // A flow known from user space, with a byte budget of two packets: the third is over it.
    setup: (obj) => {
      const v = Buffer.alloc(32);
      v.writeBigUInt64LE(BigInt(2 * web.length + 1), 24);
      hash(obj, 'flows').set(webKey, v);
    },
    cases: [
      { name: 'TCP flow, first packet', packet: web, verdict: TC_ACT_OK },
      { name: 'TCP flow, second packet', packet: web, verdict: TC_ACT_OK },
      { name: 'TCP flow, third packet: over the byte budget', packet: web, verdict: TC_ACT_SHOT },
      { name: 'UDP flow, first packet', packet: udpV4(53, [1, 2, 3], { src: '10.0.0.2' }), verdict: TC_ACT_OK },
      { name: 'UDP flow, second packet', packet: udpV4(53, [1, 2, 3], { src: '10.0.0.2' }), verdict: TC_ACT_OK },
      { name: 'ICMP flow', packet: icmpV4(), verdict: TC_ACT_OK },
      { name: 'truncated TCP header', packet: web.subarray(0, web.length - 1), verdict: TC_ACT_SHOT },
      { name: 'IPv6', packet: udpV6(53), verdict: TC_ACT_OK },
    ],
    truncations: [{ packet: udpV4(123, [], { src: '10.9.9.9' }), verdicts: [[0, TC_ACT_OK], [14, TC_ACT_SHOT], [42, TC_ACT_OK]] }],
    check: (obj) => {
      const flows = hash(obj, 'flows');
      const v = flows.get(webKey)!;
      expect([v.readBigUInt64LE(0), v.readBigUInt64LE(8)]).toEqual([3n, BigInt(3 * web.length)]);
      const dnsFlow = flows.get(flowKey('10.0.0.2', '198.51.100.1', 40000, 53, IPPROTO.UDP))!;
      expect([dnsFlow.readBigUInt64LE(0), dnsFlow.readBigUInt64LE(8)]).toEqual([2n, 2n * 45n]);
      expect(flows.get(flowKey('192.0.2.1', '198.51.100.1', 0, 0, IPPROTO.ICMP))!.readBigUInt64LE(0)).toBe(1n);
    },
  });
}

// xdp_synlog.c: a ring buffer event per SYN.
{
  const syn = tcpV4(8080, { flags: TCP_SYN, ipOptions: IP_OPTS, options: [...opt.mss(1460), ...opt.wscale(3), ...opt.nop] });
  SPECS.push({
    object: 'xdp_synlog', program: 'xdp_syn_logger',
    cases: [
      { name: 'SYN with IP and TCP options', packet: syn, verdict: XDP_PASS },
      { name: 'SYN-ACK', packet: tcpV4(8080, { flags: TCP_SYN | TCP_ACK }), verdict: XDP_PASS },
      { name: 'SYN without options', packet: tcpV4(22, { flags: TCP_SYN, src: '192.0.2.9' }), verdict: XDP_PASS },
      { name: 'UDP', packet: udpV4(8080), verdict: XDP_PASS },
      { name: 'TCP data offset past the end', packet: tcpV4(22, { flags: TCP_SYN, doff: 12 }), verdict: XDP_DROP },
    ],
    truncations: [{ packet: syn, verdicts: [[0, XDP_PASS], [38, XDP_DROP], [syn.length, XDP_PASS]] }],
    check: (obj) => {
      const events = (obj.map('syn_events') as RingBuffer).poll();
      expect(events.map((e) => [e.subarray(8, 12).join('.'), e.readUInt16LE(18), e[20], e[21], [...e.subarray(22, 30)]])).toEqual([
        ['192.0.2.1', 8080, 4, 8, [...opt.mss(1460), ...opt.wscale(3), ...opt.nop]],
        ['192.0.2.9', 22, 0, 0, [0, 0, 0, 0, 0, 0, 0, 0]],
      ]);
    },
  });
}

// xdp_loop.c: bpf_loop callbacks.
{
  const scan = (payload: number[]): Uint8Array => udpV4(7777, payload, { ipOptions: IP_OPTS });
  const withNul = udpV4(7777, [0x61, 0x62, 0x63, 0]);
  SPECS.push({
    object: 'xdp_loop', program: 'xdp_payload_scan',
    cases: [
      { name: 'payload with a NUL byte', packet: scan([...Buffer.from('hello'), 0, ...Buffer.from('world')]), verdict: XDP_DROP },
      { name: 'payload without one', packet: scan([...Buffer.from('hello')]), verdict: XDP_PASS },
      { name: 'NUL byte past the 64 scanned', packet: scan([...new Array(70).fill(1), 0]), verdict: XDP_PASS },
      { name: 'empty payload', packet: scan([]), verdict: XDP_PASS },
      { name: 'other port', packet: udpV4(53, [0]), verdict: XDP_PASS },
      { name: 'last: 100 bytes of 2', packet: scan(new Array(100).fill(2)), verdict: XDP_PASS },
    ],
    truncations: [{ packet: withNul, verdicts: [[0, XDP_PASS], [34, XDP_DROP], [42, XDP_PASS], [46, XDP_DROP]] }],
    check: (obj) => expect(array(obj, 'payload_sum').get(0)!.readUInt32LE(0)).toBe(128),
  });
  const synTs = (tsval: number, extra: number[] = []): Uint8Array => tcpV4(443, { flags: TCP_SYN, options: [...opt.nop, ...opt.nop, ...opt.timestamp(tsval), ...extra] });
  const zeroTs = synTs(0);
  SPECS.push({
    object: 'xdp_loop', program: 'xdp_syn_options',
    cases: [
      { name: 'SYN with a timestamp and window scale 5', packet: synTs(77, opt.wscale(5)), verdict: XDP_PASS },
      { name: 'SYN with a zero timestamp', packet: zeroTs, verdict: XDP_DROP },
      { name: 'SYN with a zero timestamp after 20 NOPs (three batches)', packet: tcpV4(443, { flags: TCP_SYN, options: [...new Array(20).fill(1), ...opt.timestamp(0)] }), verdict: XDP_DROP },
      { name: 'SYN, window scale 20 (capped at 14), SACK permitted', packet: tcpV4(443, { flags: TCP_SYN, options: [...opt.wscale(20), ...opt.sackPerm] }), verdict: XDP_PASS },
      { name: 'SYN with an option of length 1', packet: tcpV4(443, { flags: TCP_SYN, options: [8, 1, 0, 0] }), verdict: XDP_PASS },
      { name: 'ACK with a zero timestamp: not parsed', packet: tcpV4(443, { flags: TCP_ACK, options: opt.timestamp(0) }), verdict: XDP_PASS },
      { name: 'last: SYN with window scale 9', packet: tcpV4(443, { flags: TCP_SYN, options: opt.wscale(9) }), verdict: XDP_PASS },
    ],
    truncations: [{ packet: zeroTs, verdicts: [[0, XDP_PASS], [34, XDP_DROP], [54, XDP_PASS], [zeroTs.length, XDP_DROP]] }],
    check: (obj) => expect(array(obj, 'last_wscale').get(0)!.readUInt32LE(0)).toBe(9),
  });
}

// xdp_mapinmap.c: per-queue blocklists in an array of maps.
{
  const entry = (action: number): Buffer => {
    const b = Buffer.alloc(16);
    b.writeUInt32LE(action, 8);
    return b;
  };
  const from = (src: string): Uint8Array => udpV4(53, [1], { src, ipOptions: IP_OPTS });
  SPECS.push({
    object: 'xdp_mapinmap', program: 'xdp_queue_acl',
    setup: (obj) => {
      hash(obj, 'queue0_block').set(Buffer.from(addr('192.0.2.1')), entry(XDP_DROP));
      hash(obj, 'queue1_block').set(Buffer.from(addr('192.0.2.2')), entry(XDP_TX));
      hash(obj, 'queue1_block').set(Buffer.from(addr('192.0.2.3')), entry(7));
    },
    cases: [
      { name: 'listed on queue 0', packet: from('192.0.2.1'), verdict: XDP_DROP, meta: { rxQueueIndex: 0 } },
      { name: 'listed on queue 0, received on queue 1', packet: from('192.0.2.1'), verdict: XDP_PASS, meta: { rxQueueIndex: 1 } },
      { name: 'queue 2 has no blocklist', packet: from('192.0.2.1'), verdict: XDP_PASS, meta: { rxQueueIndex: 2 } },
      { name: 'queue 9 is past the array', packet: from('192.0.2.1'), verdict: XDP_PASS, meta: { rxQueueIndex: 9 } },
      { name: 'XDP_TX entry on queue 1', packet: from('192.0.2.2'), verdict: XDP_TX, meta: { rxQueueIndex: 1 } },
      { name: 'invalid action on queue 1: dropped', packet: from('192.0.2.3'), verdict: XDP_DROP, meta: { rxQueueIndex: 1 } },
      { name: 'not listed', packet: from('192.0.2.4'), verdict: XDP_PASS, meta: { rxQueueIndex: 0 } },
      { name: 'IPv6', packet: udpV6(53), verdict: XDP_PASS, meta: { rxQueueIndex: 0 } },
    ],
    truncations: [{ packet: from('192.0.2.1'), meta: { rxQueueIndex: 0 }, verdicts: [[0, XDP_PASS], [14, XDP_DROP]] }],
    check: (obj) => {
      expect(hash(obj, 'queue0_block').get(Buffer.from(addr('192.0.2.1')))!.readBigUInt64LE(0)).toBe(1n);
      expect(hash(obj, 'queue1_block').get(Buffer.from(addr('192.0.2.2')))!.readBigUInt64LE(0)).toBe(1n);
    },
  });
}

// xdp_csum.c: IPv4 header checksums.
{
  const ok = tcpV4(80, { ipOptions: [7, 7, 4, 0, 0, 0, 0, 0] });
  SPECS.push({
    object: 'xdp_csum', program: 'xdp_ttl_router',
    cases: [
      { name: 'valid checksum', packet: tcpV4(80), verdict: XDP_PASS },
      { name: 'valid checksum with 8 bytes of options', packet: ok, verdict: XDP_PASS },
      { name: 'valid checksum with 40 bytes of options', packet: tcpV4(80, { ipOptions: new Array(40).fill(1) }), verdict: XDP_PASS },
      { name: 'bad checksum', packet: ether(ETH_P_IP, ipv4({ proto: IPPROTO.UDP, badChecksum: true, payload: udp(1) })), verdict: XDP_DROP },
      { name: 'bad checksum in the options', packet: ((): Uint8Array => { const b = Uint8Array.from(ok); b[14 + 21] ^= 0x40; return b; })(), verdict: XDP_DROP },
      { name: 'TTL 1', packet: ether(ETH_P_IP, ipv4({ proto: IPPROTO.UDP, ttl: 1, payload: udp(1) })), verdict: XDP_DROP },
      { name: 'ARP', packet: arp(), verdict: XDP_PASS },
    ],
    truncations: [{ packet: ok, verdicts: [[0, XDP_PASS], [14, XDP_DROP], [14 + 28, XDP_PASS]] }],
  });
}

// xdp_globals.c: configuration and counters in global variables.
{
  const http = tcpV4(80);
  SPECS.push({
    object: 'xdp_globals', program: 'xdp_global_filter',
    cases: [
      { name: 'TCP to 445', packet: tcpV4(445), verdict: XDP_DROP },
      { name: 'UDP to 137', packet: udpV4(137), verdict: XDP_DROP },
      { name: 'TCP to 23 after IP options', packet: tcpV4(23, { ipOptions: IP_OPTS }), verdict: XDP_DROP },
      { name: 'TCP to 80', packet: http, verdict: XDP_PASS },
      { name: 'UDP to 0: the table\'s end marker is not a port', packet: udpV4(0), verdict: XDP_PASS },
      { name: 'ICMP', packet: icmpV4(), verdict: XDP_PASS },
      { name: 'truncated TCP header', packet: http.subarray(0, 40), verdict: XDP_DROP },
      { name: 'ARP', packet: arp(), verdict: XDP_PASS },
    ],
    truncations: [{ packet: http, verdicts: [[0, XDP_PASS], [14, XDP_DROP], [http.length, XDP_PASS]] }],
    check: (obj) => {
      const bss = array(obj, '.bss').get(0)!;
      const [packets, dropped, sampled] = [0, 8, 16].map((o) => bss.readBigUInt64LE(o));
      expect([packets, dropped, sampled]).toEqual([8n, 4n, 2n]);
      expect([IPPROTO.ICMP, IPPROTO.TCP, IPPROTO.UDP].map((p) => bss.readBigUInt64LE(24 + 8 * p))).toEqual([1n, 4n, 2n]);
      expect(array(obj, '.data').get(0)!.readUInt32LE(0)).toBe(1); // sample_countdown: reloaded from sample_every (4) at packets 1 and 5
    },
  });
}

// socket_lds.c: a classic socket filter with legacy packet loads.
{
  const dnsQuery = udpV4(53, [1, 2, 3]);
  const other = udpV4(5353, [1, 2, 3], { ipOptions: IP_OPTS });
  SPECS.push({
    object: 'socket_lds', program: 'socket_proto_filter', directAccess: false,
    cases: [
      { name: 'TCP', packet: tcpV4(80), verdict: 'len' },
      { name: 'UDP to 53', packet: dnsQuery, verdict: 0 },
      { name: 'UDP to 53 after IP options', packet: udpV4(53, [], { ipOptions: IP_OPTS }), verdict: 0 },
      { name: 'UDP to 5353 after IP options', packet: other, verdict: 'len' },
      { name: 'ICMP', packet: icmpV4(), verdict: 0 },
      { name: 'ARP', packet: arp(), verdict: 0 },
    ],
    // A legacy load past the end ends the program with 0: the EtherType (14), the protocol (24), the port.
    truncations: [{ packet: other, verdicts: [[0, 0], [14 + 24 + 4, 'len']] }],
    check: (obj) => {
      const bytes = (proto: number): bigint => array(obj, 'proto_bytes').get(proto)!.readBigUInt64LE(0);
      expect([bytes(IPPROTO.TCP), bytes(IPPROTO.UDP), bytes(IPPROTO.ICMP)]).toEqual([54n, BigInt(dnsQuery.length + 46 + other.length), 42n]);
    },
  });
}

// ---------------------------------------------------------------------------------------------------------------

describe.each(SPECS.map((s) => [`${s.object}.c: ${s.program}`, s] as const))('%s', (_, spec) => {
  for (const build of BUILDS) {
    test(`${spec.object}${build}.o: accepted with every access proven; verdicts on both engines`, async () => {
      const path = join(DIR, `${spec.object}${build}.o`);
      const seen = new Map<EngineName, number[]>();
      for (const engine of ENGINES) {
        const obj = await loadObject(path, { verify: 'strict', engine, programs: [spec.program] });
        const p = obj.program(spec.program);
        const v = p.verified!;
        expect(v.mode).toBe('strict');
        expect([...v.accesses].filter((pc) => !v.proven.has(pc)), 'unproven accesses').toEqual([]);
        expect(v.terminates).toBe(true);
        const pkt = packetAccesses(v);
        if (spec.directAccess === false) expect(pkt).toEqual([]);
        else {
          expect(pkt.length).toBeGreaterThan(0);
          for (const pc of pkt) expect(v.proven.has(pc), `packet access at pc ${pc} proven`).toBe(true);
        }
        spec.setup?.(obj);
        const got: number[] = [];
        for (const c of spec.cases) {
          const r = p.run(c.packet, c.meta);
          expect(r, `${engine}: ${c.name}`).toBe(verdictOf(c.verdict, c.packet));
          got.push(r);
        }
        spec.check?.(obj);
        for (const t of spec.truncations) {
          for (let len = 0; len <= t.packet.length; len++) {
            const packet = t.packet.subarray(0, len);
            const r = p.run(packet, t.meta);
            expect(r, `${engine}: truncated to ${len} of ${t.packet.length} bytes`).toBe(verdictOf(truncationVerdict(t, len), packet));
            got.push(r);
          }
        }
        seen.set(engine, got);
      }
      expect(seen.get('jit')).toEqual(seen.get('interp'));
    });
  }
});

describe('xdp_synlog.c: xdp_syn_logger_implied', () => {
  // The copy of 8 option bytes is guarded by `tcp_len >= 28` (tcp_len = doff * 4) and parse_tcphdr's
  // `tcph + tcp_len <= data_end`, not by a check of `tcph + 1 + 8` against data_end. clang computes the
  // bounds-checked pointer `tcph + tcp_len` as a new pointer, so the check proves bytes of that pointer only.
  // Linux rejects the program the same way ("invalid access to packet, off=20 size=4, R8(id=..,off=20,r=20)"):
  // it keeps a proven range per packet pointer and does not combine the range of `tcph + tcp_len` with the
  // bound on tcp_len. A correct rejection: the fix is the explicit check xdp_syn_logger makes.
  for (const build of BUILDS) {
    test(`${build || 'v3'}: rejected at the 8-byte copy, with the reason and the path`, async () => {
      let error: unknown;
      try {
        await loadObject(join(DIR, `xdp_synlog${build}.o`), { verify: 'strict', engine: 'interp', programs: ['xdp_syn_logger_implied'] });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(VerifierError);
      const e = error as VerifierError;
      expect(e.code).toBe('packet_oob');
      expect(e.message).toMatch(/^pc \d+: read of 4 bytes at offset 0 may pass the end of the packet: no byte from this pointer is proven in bounds \(compare against data_end first\)/);
      expect(e.diagnostic?.source).toMatch(/^xdp_synlog\.c:\d+: __builtin_memcpy\(e->opt_head, tcph \+ 1, 8\);/);
      // The path ends at the copy, after the branches that led there (the tcp_len test among them).
      expect(e.diagnostic?.path.at(-1)).toBe(e.pc);
      expect(e.diagnostic?.notes.length).toBeGreaterThan(3);
    });
  }
  test('permissive mode runs it with the copy checked at run time', async () => {
    const obj = await loadObject(join(DIR, 'xdp_synlog.o'), { verify: 'permissive', engine: 'jit', programs: ['xdp_syn_logger_implied'] });
    const p = obj.program('xdp_syn_logger_implied');
    const v = p.verified!;
    expect([...v.accesses].filter((pc) => !v.proven.has(pc)).length).toBe(2); // the two 4-byte loads of the copy
    expect(p.run(tcpV4(80, { flags: TCP_SYN, options: opt.mss(1460).concat(opt.mss(1400)) }))).toBe(XDP_PASS);
    expect((obj.map('syn_events') as RingBuffer).poll().length).toBe(1);
  });
});
