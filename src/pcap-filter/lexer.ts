/**
 * The pcap-filter lexer: expression text → tokens with 1-based columns, the way libpcap's scanner (scanner.l)
 * splits it. Like flex, it takes the longest match at each position, ties going to numbers, then dotted IPv4
 * addresses, then IPv6 addresses, then MAC addresses, then names; a name spelled like a keyword is that keyword,
 * and the named constants (`tcpflags`, `tcp-syn`, `icmp-echo`, ...) are numbers, as in libpcap. Consequences
 * worth knowing, also true of tcpdump: `1000-2000` is one name (a port range), so `len-14` is a name too and
 * arithmetic wants spaces (`len - 14`); `\tcp` is the name `tcp`, not the keyword.
 *
 * Not here: the grammar (parser.ts), address parsing into bytes (addresses.ts).
 */

import { FilterSyntaxError } from './errors.js';
import { parseIpv6 } from './addresses.js';

/** Token kinds. `hid` is a dotted IPv4 address or prefix (`10.1`, `192.168.0.1`), `hid6` an IPv6 address. */
export type TokenKind = 'num' | 'hid' | 'hid6' | 'mac' | 'id' | 'kw' | 'punct' | 'eof';

/** One token. */
export interface Token {
  readonly kind: TokenKind;
  /** The text as written (for `id`, without a leading backslash). */
  readonly text: string;
  /** 1-based column of the first character. */
  readonly col: number;
  /** `num`: the value (u32). */
  readonly value?: number;
}

/** The keywords of the grammar this compiler implements. */
export const KEYWORDS: ReadonlySet<string> = new Set([
  'and', 'or', 'not', 'src', 'dst', 'host', 'net', 'mask', 'port', 'portrange', 'proto', 'less', 'greater', 'len',
  'broadcast', 'multicast', 'ether', 'link', 'ip', 'ip6', 'arp', 'rarp', 'tcp', 'udp', 'sctp', 'icmp', 'icmp6',
  'igmp', 'igrp', 'pim', 'vrrp', 'carp', 'ah', 'esp', 'vlan',
]);

/** Keywords of libpcap's grammar that this compiler refuses as `unsupported`. */
export const UNSUPPORTED_KEYWORDS: ReadonlySet<string> = new Set([
  'gateway', 'protochain', 'byte', 'fddi', 'tr', 'wlan', 'ppp', 'slip', 'atalk', 'aarp', 'decnet', 'lat', 'sca',
  'moprc', 'mopdl', 'iso', 'esis', 'es-is', 'isis', 'is-is', 'l1', 'l2', 'iih', 'lsp', 'snp', 'csnp', 'psnp',
  'clnp', 'stp', 'ipx', 'netbeui', 'mpls', 'pppoed', 'pppoes', 'geneve', 'lane', 'llc', 'metac', 'bcc', 'oam',
  'oamf4', 'oamf4ec', 'oamf4sc', 'sc', 'ilmic', 'vpi', 'vci', 'connectmsg', 'metaconnect', 'inbound', 'outbound',
  'ifindex', 'ifname', 'on', 'rnr', 'rulenum', 'reason', 'rset', 'ruleset', 'srnr', 'subrulenum', 'action', 'type',
  'subtype', 'dir', 'direction', 'address1', 'addr1', 'address2', 'addr2', 'address3', 'addr3', 'address4',
  'addr4', 'ra', 'ta', 'radio', 'hdpc', 'fisu', 'lssu', 'msu', 'sio', 'opc', 'dpc', 'sls', 'hfisu', 'hlssu',
  'hmsu', 'hsio', 'hopc', 'hdpc', 'hsls',
]);

/** libpcap's named constants (scanner.l): header field offsets, TCP flags, ICMP and ICMPv6 types. */
export const NAMED_NUMBERS: ReadonlyMap<string, number> = new Map([
  ['icmptype', 0], ['icmpcode', 1], ['icmp6type', 0], ['icmp6code', 1], ['tcpflags', 13],
  ['icmp-echoreply', 0], ['icmp-unreach', 3], ['icmp-sourcequench', 4], ['icmp-redirect', 5], ['icmp-echo', 8],
  ['icmp-routeradvert', 9], ['icmp-routersolicit', 10], ['icmp-timxceed', 11], ['icmp-paramprob', 12],
  ['icmp-tstamp', 13], ['icmp-tstampreply', 14], ['icmp-ireq', 15], ['icmp-ireqreply', 16], ['icmp-maskreq', 17],
  ['icmp-maskreply', 18],
  ['icmp6-destinationunreach', 1], ['icmp6-packettoobig', 2], ['icmp6-timeexceeded', 3],
  ['icmp6-parameterproblem', 4], ['icmp6-echo', 128], ['icmp6-echoreply', 129], ['icmp6-multicastlistenerquery', 130],
  ['icmp6-multicastlistenerreportv1', 131], ['icmp6-multicastlistenerdone', 132], ['icmp6-routersolicit', 133],
  ['icmp6-routeradvert', 134], ['icmp6-neighborsolicit', 135], ['icmp6-neighboradvert', 136], ['icmp6-redirect', 137],
  ['icmp6-routerrenum', 138], ['icmp6-nodeinformationquery', 139], ['icmp6-nodeinformationresponse', 140],
  ['icmp6-ineighbordiscoverysolicit', 141], ['icmp6-ineighbordiscoveryadvert', 142],
  ['icmp6-multicastlistenerreportv2', 143], ['icmp6-homeagentdiscoveryrequest', 144],
  ['icmp6-homeagentdiscoveryreply', 145], ['icmp6-mobileprefixsolicit', 146], ['icmp6-mobileprefixadvert', 147],
  ['icmp6-certpathsolicit', 148], ['icmp6-certpathadvert', 149], ['icmp6-multicastrouteradvert', 151],
  ['icmp6-multicastroutersolicit', 152], ['icmp6-multicastrouterterm', 153],
  ['tcp-fin', 0x01], ['tcp-syn', 0x02], ['tcp-rst', 0x04], ['tcp-push', 0x08], ['tcp-ack', 0x10], ['tcp-urg', 0x20],
  ['tcp-ece', 0x40], ['tcp-cwr', 0x80],
]);

/** Punctuation, longest first. */
const PUNCT = ['&&', '||', '==', '!=', '<=', '>=', '<<', '>>', '(', ')', '[', ']', ':', '+', '-', '*', '/', '%', '&', '|', '^', '!', '=', '<', '>'];

const RE_NUM = /^(?:0[xX][0-9A-Fa-f]+|[0-9]+)/;
const RE_HID = /^[0-9]+(?:\.[0-9]+){1,3}/;
const RE_V6 = /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*/;
const RE_MAC = /^(?:[0-9A-Fa-f]{1,2}(?::[0-9A-Fa-f]{1,2}){5}|[0-9A-Fa-f]{1,2}(?:-[0-9A-Fa-f]{1,2}){5}|[0-9A-Fa-f]{1,2}(?:\.[0-9A-Fa-f]{1,2}){5}|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4})/;
const RE_ID = /^[A-Za-z0-9](?:[-_.A-Za-z0-9]*[.A-Za-z0-9])?/;
const RE_ESCAPED = /^\\[^ !()\n\t]+/;

/** Splits `expr` into tokens, ending with an `eof` token. Throws {@link FilterSyntaxError} on a stray character. */
export function tokenize(expr: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const tok = scanOne(expr, i);
    out.push(tok.token);
    i += tok.length;
  }
  out.push({ kind: 'eof', text: '', col: expr.length + 1 });
  return out;
}

function scanOne(expr: string, i: number): { token: Token; length: number } {
  const rest = expr.slice(i);
  const col = i + 1;
  const esc = RE_ESCAPED.exec(rest);
  if (esc !== null) return { token: { kind: 'id', text: esc[0].slice(1), col }, length: esc[0].length };
  // Candidates in tie-break order; the longest wins.
  const candidates: [TokenKind, string][] = [];
  const num = RE_NUM.exec(rest);
  if (num !== null) candidates.push(['num', num[0]]);
  const hid = RE_HID.exec(rest);
  if (hid !== null) candidates.push(['hid', hid[0]]);
  const v6 = RE_V6.exec(rest);
  if (v6 !== null && parseIpv6(v6[0]) !== undefined) candidates.push(['hid6', v6[0]]);
  const mac = RE_MAC.exec(rest);
  if (mac !== null) candidates.push(['mac', mac[0]]);
  const id = RE_ID.exec(rest);
  if (id !== null) candidates.push(['id', id[0]]);
  let best: [TokenKind, string] | undefined;
  for (const cand of candidates) if (best === undefined || cand[1].length > best[1].length) best = cand;
  if (best !== undefined) return { token: classify(best[0], best[1], col, expr), length: best[1].length };
  const p = PUNCT.find((s) => rest.startsWith(s));
  if (p !== undefined) return { token: { kind: 'punct', text: p, col }, length: p.length };
  throw new FilterSyntaxError('syntax', `illegal character '${rest[0]}'`, expr, col, rest[0]);
}

function classify(kind: TokenKind, text: string, col: number, expr: string): Token {
  if (kind === 'num') {
    const value = parseNumber(text);
    if (value === undefined) throw new FilterSyntaxError('invalid', `number ${text} does not fit in 32 bits`, expr, col, text);
    return { kind, text, col, value };
  }
  if (kind !== 'id') return { kind, text, col };
  const named = NAMED_NUMBERS.get(text);
  if (named !== undefined) return { kind: 'num', text, col, value: named };
  if (KEYWORDS.has(text) || UNSUPPORTED_KEYWORDS.has(text)) return { kind: 'kw', text, col };
  return { kind, text, col };
}

/** A number as libpcap reads it: `0x` hex, a leading `0` octal, else decimal; undefined beyond 32 bits or bad digits. */
export function parseNumber(text: string): number | undefined {
  let v: number;
  if (/^0[xX][0-9A-Fa-f]+$/.test(text)) v = parseInt(text.slice(2), 16);
  else if (/^0[0-7]*$/.test(text)) v = text.length === 1 ? 0 : parseInt(text.slice(1), 8);
  else if (/^[1-9][0-9]*$/.test(text)) v = parseInt(text, 10);
  else return undefined;
  return v <= 0xffff_ffff ? v : undefined;
}
