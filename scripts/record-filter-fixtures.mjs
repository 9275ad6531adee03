#!/usr/bin/env node
/**
 * Records tcpdump's decisions on the pcap-filter corpora as test fixtures, once, on a machine with tcpdump
 * installed (the tests read the fixtures and never need tcpdump):
 *
 *     node scripts/gen-filter-corpus.mjs && node scripts/record-filter-fixtures.mjs
 *
 * For each corpus (test/fixtures/filter/corpus*.pcap) and each of its expressions, it runs
 * `tcpdump -r CORPUS -w OUT EXPR` and reads the matched packets' timestamps back from OUT (packet i has
 * timestamp i µs, see gen-filter-corpus.mjs), and `tcpdump -ddd -r CORPUS EXPR` for the classic BPF program. It
 * writes `[{"expr", "matches": [0-based indices], "cbpf": "<tcpdump -ddd output>"}]` to expressions.json
 * (Ethernet), expressions-raw.json (raw IP) and expressions-sll.json (Linux cooked).
 *
 * Set TCPDUMP to use another binary (default /usr/bin/tcpdump, else `tcpdump` on PATH).
 *
 * Not here: generating the corpora (gen-filter-corpus.mjs).
 */

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'test/fixtures/filter');
const tcpdump = process.env.TCPDUMP ?? (existsSync('/usr/bin/tcpdump') ? '/usr/bin/tcpdump' : 'tcpdump');

/** Expressions over the Ethernet corpus: the whole supported grammar, and the corners where tcpdump surprises. */
const ETHERNET = [
  // protocols
  'ip', 'ip6', 'arp', 'rarp', 'tcp', 'udp', 'icmp', 'icmp6', 'sctp', 'ip6 and tcp', 'ip6 and udp',
  'ip proto 47', 'ip6 proto 17', 'proto 132', 'ip proto \\udp', 'ether proto 0x88cc', 'ether proto \\arp',
  // hosts and nets
  'host 10.0.0.1', 'src host 192.168.1.1', 'dst host 8.8.8.8 or dst host 1.2.3.4', 'ip host 10.1.2.3 and not arp',
  'ip6 host 2001:db8::1', 'ip6 src host fe80::1', 'host 2001:db8::2', 'dst 10.255.0.9',
  'ether host 00:11:22:33:44:55', 'ether src 02:00:00:00:00:01', 'ether dst ff:ff:ff:ff:ff:ff',
  'ether broadcast', 'ether multicast', 'ip multicast', 'ip6 multicast',
  'net 10.0.0.0/8', 'net 192.168.0.0 mask 255.255.0.0', 'src net 192.168', 'dst net 172.16.0.0/12',
  'ip6 net 2001:db8::/32', 'arp host 1.2.3.4',
  // ports
  'port 80', 'tcp port 80', 'udp port 53', 'src port 443 or dst port 22', 'tcp dst port 80 or 443',
  'portrange 1000-2000', 'tcp src portrange 1000-2000', 'udp dst portrange 50-60', 'sctp port 53',
  'ip6 and port 80', 'not tcp port 80', 'host 10.0.0.1 and (port 80 or port 53)',
  // vlan
  'vlan', 'vlan 10', 'vlan and tcp', 'vlan and vlan and ip', 'vlan 100 and vlan and udp', 'not vlan and ip',
  'vlan and host 10.0.0.1', 'vlan and ip6 and tcp port 443', 'ip or vlan and ip',
  // lengths
  'greater 100', 'less 64', 'len < 60', 'len >= 100 and len <= 200', 'len - 14 > ip[2:2]',
  // byte access and arithmetic
  'ip[2:2] > 100', 'ip[0] & 0xf != 5', 'ether[12:2] = 0x800', 'ip[6:2] & 0x1fff != 0', 'ip[6] & 0x20 != 0',
  'tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn', 'tcp[tcpflags] & tcp-rst != 0', 'tcp[13] = 0x12',
  'tcp[tcpflags] = tcp-fin|tcp-ack', 'tcp[0:2] > 1023 and tcp[2:2] < 1024',
  'icmp[icmptype] = icmp-echo', 'icmp[icmptype] != icmp-echo and icmp[icmptype] != icmp-echoreply',
  'icmp[0] = 3 and icmp[1] = 1', 'icmp[icmpcode] = 1', 'udp[8:2] + 2 * 3 > ip[2:2] - 7',
  'ip[2:2] / 4 * 4 = ip[2:2]', 'ip[8] % 7 = 3', '(ip[8] >> 2) ^ 1 = 5', 'ip[9] << 1 | 1 = 13',
  '- ip[8] + 300 > 200', 'ip[1] / (ip[8] & 1) = 0', 'ip[8] % (ip[1] & 3) != 1', 'ip6 and ip6[6] = 58',
  'icmp6 and ip6[40] = 128', 'udp[4:2] - 8 = len - 42', 'ether[0] & 1 = 0 and ether[6:4] != 0',
  // out-of-packet loads: the whole filter rejects, also under `not` and `or`
  'not ip[100] = 1', 'not tcp[40:4] = 0', 'tcp or ip[100:2] = 0', 'ip[100:2] = 0 or tcp', 'not ether[60] = 0',
  // boolean structure
  '(tcp or udp) and not (port 53 or port 80)', 'tcp or udp and host 10.0.0.1', '!(ip && tcp) || arp',
  'not not ip', 'ip and not (ip6 or arp) and (tcp or icmp)',
];

/** Expressions over the raw-IP corpus (link type 101). */
const RAW = [
  'ip', 'ip6', 'tcp', 'udp port 53', 'host 10.0.0.1', 'net 192.168.0.0/16', 'ip6 and tcp', 'tcp port 80',
  'ip[0] & 0xf != 5', 'icmp[icmptype] = icmp-echo', 'len < 60', 'not ip[60] = 0', 'portrange 1000-2000',
  'tcp[tcpflags] & tcp-syn != 0', 'ip6 host 2001:db8::1',
];

/** Expressions over the Linux cooked corpus (link type 113). */
const SLL = [
  'ip', 'ip6', 'arp', 'tcp', 'udp port 53', 'host 10.0.0.1', 'ip6 and tcp', 'tcp port 80', 'ip[0] & 0xf != 5',
  'icmp[icmptype] = icmp-echo', 'greater 100', 'not ip[60] = 0', 'src portrange 1000-2000', 'ip6 net 2001:db8::/32',
  'ether proto 0x88cc',
];

/** Timestamps (in µs) of the packets of a pcap file written by tcpdump (little- or big-endian, µs or ns). */
function timestampsOf(file) {
  const b = readFileSync(file);
  const magic = b.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const ns = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
  const u32 = (at) => (le ? b.readUInt32LE(at) : b.readUInt32BE(at));
  const out = [];
  for (let at = 24; at + 16 <= b.length; ) {
    const sec = u32(at);
    const frac = u32(at + 4);
    out.push(sec * 1_000_000 + (ns ? Math.floor(frac / 1000) : frac));
    at += 16 + u32(at + 8);
  }
  return out;
}

function record(corpus, expressions, outName) {
  const pcap = join(dir, corpus);
  const tmp = mkdtempSync(join(tmpdir(), 'filter-fixtures-'));
  const fixtures = [];
  try {
    for (const expr of expressions) {
      const out = join(tmp, 'out.pcap');
      execFileSync(tcpdump, ['-r', pcap, '-w', out, '--', expr], { stdio: ['ignore', 'ignore', 'pipe'] });
      const cbpf = execFileSync(tcpdump, ['-ddd', '-r', pcap, '--', expr], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      fixtures.push({ expr, matches: timestampsOf(out), cbpf });
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  // One line per expression: reviewable diffs when a fixture changes.
  const lines = fixtures.map((f) => `  {"expr": ${JSON.stringify(f.expr)}, "matches": ${JSON.stringify(f.matches)}, "cbpf": ${JSON.stringify(f.cbpf)}}`);
  writeFileSync(join(dir, outName), `[\n${lines.join(',\n')}\n]\n`);
  console.log(`${outName}: ${fixtures.length} expressions over ${corpus}`);
}

record('corpus.pcap', ETHERNET, 'expressions.json');
record('corpus-raw.pcap', RAW, 'expressions-raw.json');
record('corpus-sll.pcap', SLL, 'expressions-sll.json');
