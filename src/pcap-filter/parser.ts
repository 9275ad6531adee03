/**
 * The pcap-filter parser: tokens → {@link Filter} (ast.ts), by recursive descent over libpcap's grammar
 * (grammar.y) for the part this compiler implements:
 *
 *     expr     := term (('and' | '&&' | 'or' | '||') term)*      equal precedence, left to right
 *     term     := ('not' | '!') term | primary
 *     primary  := arith relop arith | '(' expr ')' | 'vlan' [NUM] | 'less' NUM | 'greater' NUM
 *               | [pqual] ('broadcast' | 'multicast') | [pqual] 'proto' id | pqual
 *               | [pqual] [dqual] [aqual] id                     an id alone reuses the last qualifiers
 *     arith    := arith ('|' | '&' | '<<' | '>>' | '+' | '-' | '*' | '/' | '%') arith   (yacc's precedences)
 *               | '-' arith | arith '^' arith | '(' arith ')' | NUM | 'len' | pqual '[' arith [':' NUM] ']'
 *
 * `^` has no declared precedence in grammar.y, so yacc always shifts over it: it takes the nearest operand on its
 * left and everything on its right (`a + b ^ c + d` is `a + (b ^ (c + d))`); this parser does the same.
 * Where a primary may be a relation or something else (a `(`, a number), it tries the relation first and
 * backtracks; when both fail it reports the error that got further.
 *
 * Not here: tokenizing (lexer.ts), meaning and semantic errors (codegen.ts).
 */

import type { AddrType, Arith, ArithOp, Dir, Filter, ProtoName, Qualifiers, RelOp, Value } from './ast.js';
import { FilterSyntaxError } from './errors.js';
import { tokenize, UNSUPPORTED_KEYWORDS, type Token } from './lexer.js';
import { parseIpv4, parseIpv6, parseMac } from './addresses.js';

const PROTOS: ReadonlySet<string> = new Set([
  'ether', 'link', 'ip', 'ip6', 'arp', 'rarp', 'tcp', 'udp', 'sctp', 'icmp', 'icmp6', 'igmp', 'igrp', 'pim', 'vrrp',
  'carp', 'ah', 'esp',
]);
const ADDR_TYPES: ReadonlySet<string> = new Set(['host', 'net', 'port', 'portrange']);
const RELOPS: ReadonlyMap<string, RelOp> = new Map([['=', '='], ['==', '='], ['!=', '!='], ['<', '<'], ['<=', '<='], ['>', '>'], ['>=', '>=']]);
/** Binary operators and their yacc precedence (higher binds tighter); `^` is handled apart. */
const BINARY: ReadonlyMap<string, number> = new Map([['|', 1], ['&', 2], ['<<', 3], ['>>', 3], ['+', 4], ['-', 4], ['*', 5], ['/', 5], ['%', 5]]);
const NO_QUAL: Qualifiers = { proto: null, dir: null, type: null };

/** Parses a pcap-filter expression. Throws {@link FilterSyntaxError} (with the column) when it is not valid. */
export function parseFilter(expression: string): Filter {
  return new Parser(expression).parseAll();
}

class Parser {
  private readonly toks: Token[];
  private pos = 0;
  /** The qualifiers of the last `head id`, which an id alone reuses. */
  private lastQual: Qualifiers | null = null;
  /** The furthest error of an abandoned attempt: reported if the parse fails short of it. */
  private furthest: FilterSyntaxError | undefined;

  constructor(private readonly src: string) {
    this.toks = tokenize(src);
  }

  parseAll(): Filter {
    if (this.peek().kind === 'eof') throw this.error('syntax', 'empty expression', this.peek());
    try {
      const e = this.expr();
      if (this.peek().kind !== 'eof') throw this.unexpected();
      return e;
    } catch (e) {
      if (e instanceof FilterSyntaxError && this.furthest !== undefined && this.furthest.column > e.column) throw this.furthest;
      throw e;
    }
  }

  // -- tokens -------------------------------------------------------------------------------------------------

  private peek(k = 0): Token {
    return this.toks[Math.min(this.pos + k, this.toks.length - 1)];
  }
  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.pos++;
    return t;
  }
  private is(text: string, k = 0): boolean {
    const t = this.peek(k);
    return (t.kind === 'kw' || t.kind === 'punct') && t.text === text;
  }
  private accept(text: string): Token | undefined {
    return this.is(text) ? this.next() : undefined;
  }
  private expect(text: string): Token {
    const t = this.accept(text);
    if (t === undefined) throw this.unexpected(`'${text}'`);
    return t;
  }
  private error(code: FilterSyntaxError['code'], detail: string, t: Token): FilterSyntaxError {
    return new FilterSyntaxError(code, detail, this.src, t.col, t.text);
  }
  private unexpected(wanted?: string): FilterSyntaxError {
    const t = this.peek();
    if (t.kind === 'kw' && UNSUPPORTED_KEYWORDS.has(t.text)) return this.error('unsupported', `'${t.text}' is not supported by this compiler`, t);
    const what = t.kind === 'eof' ? 'unexpected end of expression' : `syntax error: unexpected '${t.text}'`;
    return this.error('syntax', wanted === undefined ? what : `${what}, expected ${wanted}`, t);
  }

  // -- boolean expressions ------------------------------------------------------------------------------------

  private expr(): Filter {
    let left = this.term();
    for (;;) {
      const t = this.peek();
      const op = this.is('and') || this.is('&&') ? 'and' : this.is('or') || this.is('||') ? 'or' : undefined;
      if (op === undefined) return left;
      this.next();
      const right = this.term();
      left = { kind: op, left, right, col: t.col };
    }
  }

  private term(): Filter {
    const t = this.peek();
    if (this.accept('not') ?? this.accept('!')) return { kind: 'not', operand: this.term(), col: t.col };
    return this.primary();
  }

  /**
   * A relation if one parses here, else the other primaries. A relation that fails on a meaningless detail
   * (`ip[0:3]`) is the error; one that fails on syntax is remembered in case the other reading fails earlier.
   */
  private primary(): Filter {
    if (!this.mayStartArith()) return this.nonRelation();
    const start = this.pos;
    try {
      return this.relation();
    } catch (e) {
      if (!(e instanceof FilterSyntaxError) || e.code !== 'syntax') throw e;
      if (this.furthest === undefined || e.column > this.furthest.column) this.furthest = e;
    }
    this.pos = start;
    return this.nonRelation();
  }

  private mayStartArith(): boolean {
    const t = this.peek();
    if (t.kind === 'num' || this.is('len') || this.is('-') || this.is('(')) return true;
    return t.kind === 'kw' && PROTOS.has(t.text) && this.is('[', 1);
  }

  private relation(): Filter {
    const left = this.arith(0);
    const t = this.peek();
    const op = t.kind === 'punct' ? RELOPS.get(t.text) : undefined;
    if (op === undefined) throw this.unexpected('a comparison operator');
    this.next();
    const right = this.arith(0);
    return { kind: 'relation', op, left, right, col: arithCol(left) };
  }

  private nonRelation(): Filter {
    const t = this.peek();
    if (this.accept('(')) {
      const e = this.expr();
      this.expect(')');
      return e;
    }
    if (this.accept('vlan')) {
      const n = this.peek();
      if (n.kind !== 'num') return { kind: 'vlan', id: null, col: t.col, idCol: t.col };
      this.next();
      if (n.value! > 4095) throw this.error('invalid', `VLAN tag ${n.value} greater than maximum 4095`, n);
      return { kind: 'vlan', id: n.value!, col: t.col, idCol: n.col };
    }
    if (this.accept('less') ?? this.accept('greater')) {
      const n = this.next();
      if (n.kind !== 'num') throw this.error('syntax', `syntax error: '${t.text}' wants a number`, n);
      return { kind: 'length', op: t.text === 'less' ? '<=' : '>=', value: n.value!, col: t.col };
    }
    if (t.kind === 'kw' && PROTOS.has(t.text)) {
      this.next();
      const proto = (t.text === 'link' ? 'ether' : t.text) as ProtoName;
      return this.afterProto(proto, t);
    }
    return this.qualified({ proto: null, dir: null, type: null }, t);
  }

  /** What may follow a protocol qualifier. */
  private afterProto(proto: ProtoName, t: Token): Filter {
    const n = this.peek();
    if (this.is('broadcast') || this.is('multicast')) {
      this.next();
      return { kind: 'cast', proto, what: n.text as 'broadcast' | 'multicast', col: t.col };
    }
    if (this.accept('proto')) return { kind: 'protonum', proto, value: this.value(), col: t.col };
    if (this.is('src') || this.is('dst') || (n.kind === 'kw' && ADDR_TYPES.has(n.text))) return this.qualified({ proto, dir: null, type: null }, t);
    return { kind: 'proto', proto, col: t.col };
  }

  /** `[dqual] [aqual] id`, or an id alone with the last qualifiers. */
  private qualified(q: Qualifiers, start: Token): Filter {
    const t = this.peek();
    if (q.proto === null && (this.is('broadcast') || this.is('multicast'))) {
      this.next();
      return { kind: 'cast', proto: null, what: t.text as 'broadcast' | 'multicast', col: t.col };
    }
    if (q.proto === null && this.accept('proto')) return { kind: 'protonum', proto: null, value: this.value(), col: t.col };
    const dir = this.dir();
    const tt = this.peek();
    const type = tt.kind === 'kw' && ADDR_TYPES.has(tt.text) ? (this.next().text as AddrType) : null;
    let qual: Qualifiers = { proto: q.proto, dir, type };
    if (q.proto === null && dir === null && type === null) {
      // An id alone: it takes the last qualifiers (libpcap's `nid`/`pnum` rules); a number alone is an error.
      const v = this.peek();
      if (!['num', 'hid', 'hid6', 'mac', 'id'].includes(v.kind)) throw this.unexpected();
      if (this.lastQual === null && v.kind === 'num') throw this.unexpected();
      qual = this.lastQual ?? NO_QUAL;
    }
    const value = this.value();
    this.lastQual = qual;
    return { kind: 'primitive', qual, value, col: start.col };
  }

  private dir(): Dir | null {
    const first = this.peek();
    if (!this.is('src') && !this.is('dst')) return null;
    this.next();
    const other = first.text === 'src' ? 'dst' : 'src';
    if ((this.is('or') || this.is('and')) && this.is(other, 1)) {
      const op = this.next().text as 'or' | 'and';
      this.next();
      return op;
    }
    return first.text as 'src' | 'dst';
  }

  /** The id of a primitive, with `/len` or `mask M` for nets. */
  private value(): Value {
    const t = this.peek();
    if (!['num', 'hid', 'hid6', 'mac', 'id'].includes(t.kind)) throw this.unexpected('an address, a number or a name');
    this.next();
    const col = t.col;
    switch (t.kind) {
      case 'num':
        return { kind: 'num', value: t.value!, text: t.text, col };
      case 'hid': {
        const v4 = parseIpv4(t.text);
        if (v4 === undefined) throw this.error('invalid', `invalid IPv4 address '${t.text}'`, t);
        if (this.accept('/')) return { kind: 'net4', value: v4.value, mask: this.prefixMask(32, t), text: t.text, col };
        if (this.accept('mask')) {
          const m = this.next();
          const mv = m.kind === 'hid' ? parseIpv4(m.text) : undefined;
          if (mv === undefined || mv.bits !== 32) throw this.error('syntax', `syntax error: 'mask' wants a dotted IPv4 mask`, m);
          return { kind: 'net4', value: v4.value, mask: mv.value, text: t.text, col };
        }
        return { kind: 'ipv4', value: v4.value, bits: v4.bits, text: t.text, col };
      }
      case 'hid6': {
        const bytes = parseIpv6(t.text)!;
        if (this.accept('/')) {
          const n = this.next();
          if (n.kind !== 'num' || n.value! > 128) throw this.error('invalid', `mask length must be <= 128`, n);
          return { kind: 'net6', bytes, prefix: n.value!, text: t.text, col };
        }
        return { kind: 'ipv6', bytes, text: t.text, col };
      }
      case 'mac': {
        const bytes = parseMac(t.text);
        if (bytes === undefined) throw this.error('invalid', `invalid MAC address '${t.text}'`, t);
        return { kind: 'mac', bytes, text: t.text, col };
      }
      default:
        return { kind: 'name', text: t.text, col };
    }
  }

  private prefixMask(max: number, at: Token): number {
    const n = this.next();
    if (n.kind !== 'num' || n.value! > max) throw this.error('invalid', `mask length must be <= ${max}`, n.kind === 'eof' ? at : n);
    return n.value === 0 ? 0 : (0xffff_ffff << (32 - n.value!)) >>> 0;
  }

  // -- arithmetic ---------------------------------------------------------------------------------------------

  /** Precedence climbing over the binary operators with precedence ≥ `min`. */
  private arith(min: number): Arith {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      const prec = t.kind === 'punct' ? BINARY.get(t.text) : undefined;
      if (prec === undefined || prec < min) return left;
      this.next();
      const right = this.arith(prec + 1);
      left = { kind: 'binary', op: t.text as ArithOp, left, right, col: t.col };
    }
  }

  private unary(): Arith {
    const t = this.peek();
    if (this.accept('-')) return { kind: 'neg', operand: this.unary(), col: t.col };
    const p = this.primaryArith();
    const x = this.peek();
    if (this.accept('^')) return { kind: 'binary', op: '^', left: p, right: this.arith(0), col: x.col };
    return p;
  }

  private primaryArith(): Arith {
    const t = this.peek();
    if (t.kind === 'num') {
      this.next();
      return { kind: 'num', value: t.value!, col: t.col };
    }
    if (this.accept('len')) return { kind: 'len', col: t.col };
    if (this.accept('(')) {
      const a = this.arith(0);
      this.expect(')');
      return a;
    }
    if (t.kind === 'kw' && PROTOS.has(t.text) && this.is('[', 1)) {
      this.next();
      this.next();
      const index = this.arith(0);
      let size: 1 | 2 | 4 = 1;
      if (this.accept(':')) {
        const n = this.next();
        if (n.kind !== 'num') throw this.error('syntax', 'syntax error: expected the data size (1, 2 or 4)', n);
        if (n.value !== 1 && n.value !== 2 && n.value !== 4) throw this.error('invalid', 'data size must be 1, 2, or 4', n);
        size = n.value;
      }
      this.expect(']');
      const proto = (t.text === 'link' ? 'ether' : t.text) as ProtoName;
      return { kind: 'load', proto, index, size, col: t.col };
    }
    throw this.unexpected('a number, len or proto[...]');
  }
}

/** The column where an arithmetic expression starts (its leftmost token). */
export function arithCol(a: Arith): number {
  return a.kind === 'binary' ? Math.min(a.col, arithCol(a.left)) : a.col;
}
