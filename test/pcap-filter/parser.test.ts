// The pcap-filter front end: tokens and their columns (lexer.ts), the tree the parser builds (precedences,
// inherited qualifiers, yacc's `^` quirk), and the located FilterSyntaxError of bad, meaningless and
// unsupported expressions, from the parser and from the code generator.

import { describe, expect, it } from 'vitest';
import { compileFilter, FilterSyntaxError, parseFilter, type Filter } from '../../src/pcap-filter/index.js';
import { tokenize } from '../../src/pcap-filter/lexer.js';

/** A compact rendering of a tree: enough to check its shape. */
function show(f: Filter): string {
  switch (f.kind) {
    case 'and': case 'or': return `(${show(f.left)} ${f.kind} ${show(f.right)})`;
    case 'not': return `!${show(f.operand)}`;
    case 'primitive': return `[${f.qual.proto ?? '-'} ${f.qual.dir ?? '-'} ${f.qual.type ?? '-'} ${f.value.kind}:${'text' in f.value ? f.value.text : ''}]`;
    case 'relation': return `rel@${f.col}`;
    default: return f.kind;
  }
}

function error(expr: string, options?: { linkType?: number }): FilterSyntaxError {
  try {
    compileFilter(expr, options);
  } catch (e) {
    if (e instanceof FilterSyntaxError) return e;
    throw e;
  }
  throw new Error(`'${expr}' compiled`);
}

describe('lexer', () => {
  it('splits like libpcap, with 1-based columns', () => {
    const toks = tokenize('tcp[tcpflags] & tcp-syn != 0 and portrange 1000-2000');
    expect(toks.map((t) => [t.kind, t.text, t.col])).toEqual([
      ['kw', 'tcp', 1], ['punct', '[', 4], ['num', 'tcpflags', 5], ['punct', ']', 13], ['punct', '&', 15],
      ['num', 'tcp-syn', 17], ['punct', '!=', 25], ['num', '0', 28], ['kw', 'and', 30], ['kw', 'portrange', 34],
      ['id', '1000-2000', 44], ['eof', '', 53],
    ]);
    expect(toks[2].value).toBe(13);
    expect(toks[5].value).toBe(2);
  });

  it('reads numbers in hex, octal and decimal, and addresses of every family', () => {
    const kinds = (s: string): string[] => tokenize(s).slice(0, -1).map((t) => `${t.kind}:${t.value ?? t.text}`);
    expect(kinds('0x10 010 10')).toEqual(['num:16', 'num:8', 'num:10']);
    expect(kinds('10.1 ::1 fe80::1:2 00:11:22:33:44:55 ip[2:2]')).toEqual([
      'hid:10.1', 'hid6:::1', 'hid6:fe80::1:2', 'mac:00:11:22:33:44:55', 'kw:ip', 'punct:[', 'num:2', 'punct::', 'num:2', 'punct:]',
    ]);
    expect(kinds('\\tcp len-14')).toEqual(['id:tcp', 'id:len-14']);
  });

  it('rejects stray characters and oversized numbers at their column', () => {
    expect(() => tokenize('ip and $')).toThrow(expect.objectContaining({ column: 8, token: '$', code: 'syntax' }));
    expect(() => tokenize('ip[0] = 4294967296')).toThrow(expect.objectContaining({ column: 9, code: 'invalid' }));
    expect(() => tokenize('ip[0] = 09')).toThrow(expect.objectContaining({ column: 9, code: 'invalid' }));
  });
});

describe('parser', () => {
  it.each([
    ['tcp or udp and host 10.0.0.1', '((proto or proto) and [- - host ipv4:10.0.0.1])'],
    ['not ip6 or arp', '(!proto or proto)'],
    ['! (ip && tcp) || arp', '(!(proto and proto) or proto)'],
    ['tcp dst port 80 or 443', '([tcp dst port num:80] or [tcp dst port num:443])'],
    ['src 10.0.0.1 or 10.0.0.2 and not 10.0.0.3', '(([- src - ipv4:10.0.0.1] or [- src - ipv4:10.0.0.2]) and ![- src - ipv4:10.0.0.3])'],
    ['port 80 and (443 or 22)', '([- - port num:80] and ([- - port num:443] or [- - port num:22]))'],
    ['net 10.0.0.0/8 or ether src 00:11:22:33:44:55', '([- - net net4:10.0.0.0] or [ether src - mac:00:11:22:33:44:55])'],
    ['src or dst host ::1', '[- or host ipv6:::1]'],
    ['(ip[0] & 0xf) > 5 and (tcp)', '(rel@2 and proto)'],
    ['vlan 10 and vlan', '(vlan and vlan)'],
  ])('%s', (expr, tree) => {
    expect(show(parseFilter(expr))).toBe(tree);
  });

  it("gives arithmetic yacc's precedences, `^` included", () => {
    const rel = parseFilter('ip[0] + 1 ^ 3 * 2 = 0 - 2 - 3');
    expect(rel).toMatchObject({
      kind: 'relation',
      left: { op: '+', left: { kind: 'load', proto: 'ip', size: 1 }, right: { op: '^', left: { value: 1 }, right: { op: '*' } } },
      right: { op: '-', left: { op: '-', left: { value: 0 }, right: { value: 2 } }, right: { value: 3 } },
    });
    expect(parseFilter('ip[0] | 1 & 2 << 3 = -4')).toMatchObject({
      left: { op: '|', right: { op: '&', right: { op: '<<' } } },
      right: { kind: 'neg', operand: { value: 4 } },
    });
  });
});

describe('errors', () => {
  it.each([
    ['', 'syntax', 1, ''],
    ['ip and', 'syntax', 7, ''],
    ['tcp port', 'syntax', 9, ''],
    ['ip )', 'syntax', 4, ')'],
    ['80', 'syntax', 3, ''],
    ['host 10.0.0.1 foo', 'syntax', 15, 'foo'],
    ['ip[0:3] = 1', 'invalid', 6, '3'],
    ['ip[0] = = 1', 'syntax', 9, '='],
    ['gateway foo', 'unsupported', 1, 'gateway'],
    ['tcp and protochain 6', 'unsupported', 9, 'protochain'],
    ['vlan 4096', 'invalid', 6, '4096'],
  ])('parse %j → %s at column %i', (expr, code, column, token) => {
    const e = error(expr);
    expect(e).toMatchObject({ code, column, token, expression: expr });
    expect(e.message.split('\n')[2]).toBe(`  ${' '.repeat(column - 1)}${'^'.repeat(Math.max(1, token.length))}`);
  });

  it.each([
    ['net 10.0.0.1/8', 'invalid', 5, /non-network bits/],
    ['ip6 net 2001:db8::1/32', 'invalid', 9, /non-network bits/],
    ['ip[0] / 0 = 1', 'invalid', 7, /division by zero/],
    ['ip[0] % (2 - 2) = 1', 'invalid', 7, /modulus by zero/],
    ['tcp host 1.2.3.4', 'invalid', 1, /'tcp' modifier applied to host/],
    ['udp port 53 and 10.0.0.1', 'invalid', 17, /'10.0.0.1' is not a port/],
    ['ip port 80', 'invalid', 1, /illegal qualifier of 'port'/],
    ['port http', 'unsupported', 6, /port names/],
    ['host example.com', 'unsupported', 6, /host names/],
    ['port 70000', 'invalid', 6, /illegal port number/],
    ['ah[0] = 1', 'unsupported', 1, /unsupported index operation/],
    ['ip host ::1', 'invalid', 1, /'ip' modifier applied to ip6 host/],
    ['ether proto 100', 'unsupported', 13, /802.3/],
  ])('compile %j → %s at column %i', (expr, code, column, message) => {
    const e = error(expr);
    expect(e).toMatchObject({ code, column });
    expect(e.detail).toMatch(message);
  });

  it('refuses what the link type cannot carry, as tcpdump', () => {
    expect(error('vlan', { linkType: 101 })).toMatchObject({ code: 'invalid', column: 1, detail: 'no VLAN support for Raw IP' });
    expect(error('ip and ether host 00:11:22:33:44:55', { linkType: 113 })).toMatchObject({ code: 'invalid', column: 8 });
    expect(error('ether multicast', { linkType: 229 })).toMatchObject({ code: 'invalid', column: 1 });
    expect(() => compileFilter('ip', { linkType: 105 })).toThrow(RangeError);
  });
});
