#!/usr/bin/env node
/**
 * Generates the packet corpora of the pcap-filter tests, deterministically (a seeded PRNG), and writes them with
 * the project's own pcap writer (dist/src/pcap/writer.js: run `npx tsc -p tsconfig.json` first):
 *
 * - test/fixtures/filter/corpus.pcap (link type 1, Ethernet): 1,500 packets mixing plain Ethernet, 802.1Q VLAN
 *   and QinQ, 802.3/LLC, ARP/RARP, IPv4 with and without options, IPv4 fragments (first, middle and last, the
 *   later ones carrying bytes that read as ports 80/53 at the usual place), IPv6 with extension headers
 *   (hop-by-hop, routing, fragment, destination options), TCP with varied flags, UDP, SCTP, ICMP, ICMPv6, IGMP,
 *   GRE, other protocols, and truncated packets (snapped: captured < original length; and genuinely short:
 *   cut in the middle of a header).
 * - test/fixtures/filter/corpus-raw.pcap (link type 101, raw IP): the IP packets of the same generator, without
 *   their link-layer header.
 * - test/fixtures/filter/corpus-sll.pcap (link type 113, Linux cooked v1): packets with a cooked header.
 *
 * Packet i has timestamp i microseconds, so `tcpdump -tt` prints it as `0.00000i` and the fixtures recorder
 * (record-filter-fixtures.sh) maps tcpdump's output lines back to packet indices.
 *
 * Usage: node scripts/gen-filter-corpus.mjs [outDir]   (default test/fixtures/filter)
 *
 * Not here: recording tcpdump's decisions (record-filter-fixtures.sh), the tests (test/pcap-filter).
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { encodePcap } = await import(join(root, 'dist/src/pcap/writer.js'));
const outDir = resolve(process.argv[2] ?? join(root, 'test/fixtures/filter'));

// ---------------------------------------------------------------------------------------------------------------
// Seeded randomness (mulberry32).

let seed = 0x5eed_f11e;
function rand() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
const pick = (xs) => xs[Math.floor(rand() * xs.length)];
const chance = (p) => rand() < p;
const bytes = (n) => Uint8Array.from({ length: n }, () => int(0, 255));

// ---------------------------------------------------------------------------------------------------------------
// Address and port pools: small enough that expressions match some packets, varied enough that they miss others.

const MACS = ['00:11:22:33:44:55', '00:aa:bb:cc:dd:ee', '02:00:00:00:00:01', 'ff:ff:ff:ff:ff:ff', '01:00:5e:00:00:fb', '00:11:22:33:44:66'];
const IP4 = ['10.0.0.1', '10.1.2.3', '10.255.0.9', '192.168.1.1', '192.168.5.7', '192.169.0.1', '172.16.0.5', '8.8.8.8', '1.2.3.4', '127.0.0.1', '224.0.0.251', '255.255.255.255'];
const IP6 = ['2001:db8::1', '2001:db8::2', '2001:db8:1::5', 'fe80::1', '::1', 'ff02::1', '2001:db9::7'];
const PORTS = [22, 53, 53, 80, 80, 80, 443, 443, 999, 1000, 1500, 2000, 2001, 8080, 65535, 0];
const port = () => (chance(0.8) ? pick(PORTS) : int(1, 65535));

function mac(s) {
  return Uint8Array.from(s.split(':').map((h) => parseInt(h, 16)));
}
function ip4(s) {
  return Uint8Array.from(s.split('.').map(Number));
}
function ip6(s) {
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const hs = head ? head.split(':') : [];
  const ts = tail ? tail.split(':') : [];
  const groups = tail === undefined ? hs : [...hs, ...Array(8 - hs.length - ts.length).fill('0'), ...ts];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g || '0', 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Header builders (network byte order). Each returns a Uint8Array.

function cat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
function u16(v) {
  return Uint8Array.of((v >> 8) & 0xff, v & 0xff);
}
function u32(v) {
  return Uint8Array.of((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}
function checksum(b) {
  let s = 0;
  for (let i = 0; i < b.length; i += 2) s += (b[i] << 8) | (b[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** Ethernet II (or 802.3 when `type` < 0x600) with optional VLAN tags, outermost first. */
function ether(dst, src, type, payload, tags = []) {
  const tagBytes = tags.map((t) => cat(u16(t.tpid), u16(t.tci)));
  return cat(mac(dst), mac(src), ...tagBytes, u16(type), payload);
}

/** IPv4; `options` are raw option bytes (padded to 4), `frag` = {mf, off (in 8-byte units), df}. */
function ipv4({ src, dst, proto, ttl = 64, id = int(0, 0xffff), tos = 0, options = new Uint8Array(0), frag = {}, ihl, totalLen }, payload) {
  const opt = cat(options, new Uint8Array((4 - (options.length % 4)) % 4));
  const hl = ihl ?? 5 + opt.length / 4;
  const flags = (frag.df ? 0x4000 : 0) | (frag.mf ? 0x2000 : 0) | ((frag.off ?? 0) & 0x1fff);
  const h = cat(Uint8Array.of(0x40 | hl, tos), u16(totalLen ?? 20 + opt.length + payload.length), u16(id), u16(flags), Uint8Array.of(ttl, proto, 0, 0), ip4(src), ip4(dst), opt);
  const c = checksum(h);
  h[10] = c >> 8;
  h[11] = c & 0xff;
  return cat(h, payload);
}

/** IPv6 with extension headers `ext` = [{type, body}] (body padded to 8-byte units; fragment header is 8 bytes). */
function ipv6({ src, dst, nh, hlim = 64, ext = [], flow = int(0, 0xfffff) }, payload) {
  const exts = [];
  for (let i = 0; i < ext.length; i++) {
    const next = i + 1 < ext.length ? ext[i + 1].type : nh;
    exts.push(extHeader(ext[i], next));
  }
  const body = cat(...exts, payload);
  const first = ext.length > 0 ? ext[0].type : nh;
  return cat(u32((6 << 28) | flow), u16(body.length), Uint8Array.of(first, hlim), ip6(src), ip6(dst), body);
}
function extHeader({ type, body, frag }, next) {
  if (type === 44) {
    const { off = 0, mf = false, id = int(0, 0xffffffff) } = frag ?? {};
    return cat(Uint8Array.of(next, 0), u16((off << 3) | (mf ? 1 : 0)), u32(id));
  }
  const raw = body ?? new Uint8Array(6);
  const len = Math.ceil((raw.length + 2) / 8) * 8;
  const out = new Uint8Array(len);
  out[0] = next;
  out[1] = len / 8 - 1;
  out.set(raw, 2);
  if (type === 43) out[2] = 0; // routing type 0
  return out;
}

const TCP_FLAGS = [0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0x14, 0x01, 0x29, 0x3f, 0x00, 0xc2, 0x20, 0x08];
function tcp({ sport = port(), dport = port(), flags = pick(TCP_FLAGS), options = chance(0.3) ? Uint8Array.of(2, 4, 5, 0xb4) : new Uint8Array(0), data = bytes(int(0, 40)) } = {}) {
  return cat(u16(sport), u16(dport), u32(int(0, 0xffffffff)), u32(int(0, 0xffffffff)), Uint8Array.of(((5 + options.length / 4) << 4), flags), u16(int(0, 65535)), u16(0), u16(0), options, data);
}
function udp({ sport = port(), dport = port(), data = bytes(int(0, 60)) } = {}) {
  return cat(u16(sport), u16(dport), u16(8 + data.length), u16(0), data);
}
function sctp({ sport = port(), dport = port() } = {}) {
  return cat(u16(sport), u16(dport), u32(int(0, 0xffffffff)), u32(0), bytes(16));
}
const ICMP_TYPES = [0, 3, 5, 8, 11, 13, 14, 17, 18, 12];
function icmp({ type = pick(ICMP_TYPES), code = int(0, 3) } = {}) {
  return cat(Uint8Array.of(type, code), u16(0), u32(int(0, 0xffffffff)), bytes(int(0, 32)));
}
const ICMP6_TYPES = [1, 2, 3, 128, 129, 133, 134, 135, 136, 143];
function icmp6({ type = pick(ICMP6_TYPES), code = int(0, 1) } = {}) {
  return cat(Uint8Array.of(type, code), u16(0), u32(int(0, 0xffffffff)), bytes(int(0, 24)));
}
function arp(op, sha, spa, tha, tpa) {
  return cat(u16(1), u16(0x0800), Uint8Array.of(6, 4), u16(op), mac(sha), ip4(spa), mac(tha), ip4(tpa));
}

// ---------------------------------------------------------------------------------------------------------------
// Network-layer packets (what follows the link-layer header).

function l4For(proto) {
  switch (proto) {
    case 6: return tcp();
    case 17: return udp();
    case 132: return sctp();
    case 1: return icmp();
    case 58: return icmp6();
    case 2: return Uint8Array.of(0x16, 0, 0, 0, 224, 0, 0, 251);
    case 47: return cat(u16(0), u16(0x0800), bytes(20));
    default: return bytes(int(0, 30));
  }
}

function ipv4Packet() {
  const proto = pick([6, 6, 6, 17, 17, 17, 1, 1, 132, 2, 47, 50, 89]);
  const options = chance(0.2) ? pick([Uint8Array.of(1, 1, 1, 0), Uint8Array.of(7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0), Uint8Array.of(0x94, 4, 0, 0), bytes(int(1, 40))]) : new Uint8Array(0);
  return ipv4({ src: pick(IP4), dst: pick(IP4), proto, options, ttl: int(1, 255), tos: chance(0.2) ? int(0, 255) : 0, frag: chance(0.2) ? { df: true } : {} }, l4For(proto));
}

/** IPv4 fragments: a first one with a real header, later ones whose payload reads as ports 80 → 53 naively. */
function ipv4Fragment() {
  const proto = pick([6, 17, 1]);
  const kind = pick(['first', 'middle', 'last']);
  const src = pick(IP4);
  const dst = pick(IP4);
  if (kind === 'first') return ipv4({ src, dst, proto, frag: { mf: true, off: 0 } }, l4For(proto));
  const payload = cat(u16(80), u16(53), u32(0), u32(0), Uint8Array.of(0x50, 0x02), bytes(int(2, 30)));
  return ipv4({ src, dst, proto, options: chance(0.3) ? Uint8Array.of(1, 1, 1, 1) : new Uint8Array(0), frag: { mf: kind === 'middle', off: int(1, 400) } }, payload);
}

const EXT_CHAINS = [[], [], [0], [43], [44], [60], [0, 60], [0, 43, 60], [0, 44], [60, 44], [44, 60]];
function ipv6Packet() {
  const nh = pick([6, 6, 17, 17, 58, 58, 132, 59]);
  const chain = pick(EXT_CHAINS).map((type) => (type === 44 ? { type, frag: { off: chance(0.7) ? 0 : int(1, 100), mf: chance(0.5) } } : { type, body: bytes(pick([6, 14])) }));
  return ipv6({ src: pick(IP6), dst: pick(IP6), nh, ext: chain, hlim: pick([1, 64, 255]) }, nh === 59 ? new Uint8Array(0) : l4For(nh));
}

// ---------------------------------------------------------------------------------------------------------------
// Ethernet packets.

function vlanTags() {
  const r = rand();
  if (r < 0.65) return [];
  const tci = () => (int(0, 7) << 13) | pick([10, 20, 100, 4095, int(1, 4094)]);
  if (r < 0.83) return [{ tpid: 0x8100, tci: tci() }];
  if (r < 0.96) return [{ tpid: pick([0x88a8, 0x8100, 0x9100]), tci: tci() }, { tpid: 0x8100, tci: tci() }];
  return [{ tpid: 0x88a8, tci: tci() }, { tpid: 0x8100, tci: tci() }, { tpid: 0x8100, tci: tci() }];
}

/** Ethernet frames shorter than 60 bytes are padded to 60 (as NICs do) half of the time. */
function ethernetPacket() {
  const frame = ethernetFrame();
  return frame.length < 60 && chance(0.5) ? cat(frame, new Uint8Array(60 - frame.length)) : frame;
}

function ethernetFrame() {
  const dst = pick(MACS);
  const src = pick(MACS);
  const tags = vlanTags();
  const r = rand();
  if (r < 0.38) return ether(dst, src, 0x0800, ipv4Packet(), tags);
  if (r < 0.5) return ether(dst, src, 0x0800, ipv4Fragment(), tags);
  if (r < 0.78) return ether(dst, src, 0x86dd, ipv6Packet(), tags);
  if (r < 0.86) return ether(dst, src, 0x0806, arp(pick([1, 2]), pick(MACS), pick(IP4), pick(MACS), pick(IP4)), tags);
  if (r < 0.88) return ether(dst, src, 0x8035, arp(pick([3, 4]), pick(MACS), pick(IP4), pick(MACS), pick(IP4)), tags);
  if (r < 0.92) {
    const llc = cat(Uint8Array.of(0x42, 0x42, 0x03), bytes(int(20, 60)));
    return ether(dst, src, llc.length, llc, tags);
  }
  return ether(dst, src, pick([0x88cc, 0x8847, 0x888e, 0x0842]), bytes(int(20, 80)), tags);
}

/** Packets whose headers are malformed or cut: a short IP header length, a truncated L4 header. */
function oddPacket() {
  const dst = pick(MACS);
  const src = pick(MACS);
  const r = rand();
  if (r < 0.3) return ether(dst, src, 0x0800, ipv4({ src: pick(IP4), dst: pick(IP4), proto: 6, ihl: int(0, 4) }, tcp()));
  if (r < 0.6) return ether(dst, src, pick([0x0800, 0x86dd, 0x8100, 0x0806]), bytes(int(0, 12)));
  return ether(dst, src, 0x0800, ipv4({ src: pick(IP4), dst: pick(IP4), proto: pick([6, 17]), ihl: 15 }, tcp()));
}

/**
 * A packet record: with probability 0.12 it is snapped (captured < original length, the cut anywhere from the
 * link header to the end), with 0.05 it is genuinely short (original = captured, cut in the middle of a header).
 */
function record(data, minCut = 0) {
  const r = rand();
  if (r < 0.12 && data.length > minCut + 1) {
    const cap = int(Math.max(minCut, 1), data.length - 1);
    return { data: data.subarray(0, cap), origLen: data.length };
  }
  if (r < 0.17 && data.length > minCut + 1) {
    const cap = int(Math.max(minCut, 1), Math.min(data.length - 1, 70));
    return { data: data.subarray(0, cap), origLen: cap };
  }
  return { data, origLen: data.length };
}

function withTime(records) {
  return records.map((r, i) => ({ ...r, timestampNs: BigInt(i) * 1000n }));
}

// ---------------------------------------------------------------------------------------------------------------
// Linux cooked (SLL v1) header: packet type, ARPHRD, address length, 8 address bytes, protocol.

function sll(protocol, payload) {
  return cat(u16(pick([0, 1, 2, 4])), u16(1), u16(6), mac(pick(MACS)), u16(0), u16(protocol), payload);
}

function generate() {
  const eth = [];
  for (let i = 0; i < 1500; i++) eth.push(record(chance(0.05) ? oddPacket() : ethernetPacket()));
  const raw = [];
  for (let i = 0; i < 300; i++) raw.push(record(pick([ipv4Packet, ipv4Packet, ipv4Fragment, ipv6Packet])()));
  const cooked = [];
  for (let i = 0; i < 300; i++) {
    const r = rand();
    const p = r < 0.45 ? sll(0x0800, pick([ipv4Packet, ipv4Fragment])()) : r < 0.8 ? sll(0x86dd, ipv6Packet()) : r < 0.9 ? sll(0x0806, arp(1, pick(MACS), pick(IP4), pick(MACS), pick(IP4))) : sll(pick([0x0004, 0x88cc]), bytes(int(10, 40)));
    cooked.push(record(p));
  }
  return { eth, raw, cooked };
}

const { eth, raw, cooked } = generate();
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'corpus.pcap'), encodePcap(withTime(eth), { linkType: 1 }));
writeFileSync(join(outDir, 'corpus-raw.pcap'), encodePcap(withTime(raw), { linkType: 101 }));
writeFileSync(join(outDir, 'corpus-sll.pcap'), encodePcap(withTime(cooked), { linkType: 113 }));
console.log(`wrote ${eth.length} + ${raw.length} + ${cooked.length} packets to ${outDir}`);
