/**
 * Code generation: a pcap-filter syntax tree (ast.ts) → eBPF, with libpcap's meaning (gencode.c, libpcap 1.10):
 *
 * - every test is a packet load (LD_ABS / LD_IND: out of the packet, the run ends with r0 = 0, so the WHOLE
 *   filter rejects, also under `not`, exactly as classic BPF) and a 32-bit comparison;
 * - boolean structure is control flow: each node is generated with a "true" and a "false" label ({@link Gen});
 *   `not` swaps them, `and`/`or` chain them;
 * - `vlan` moves the EtherType and network-layer offsets 4 bytes on, for everything generated after it in
 *   source order (libpcap's documented behaviour);
 * - IPv4 transport fields are read at 4 × IHL past the IP header and only in the first fragment
 *   (`ip[6:2] & 0x1fff = 0`); IPv6 ones at a fixed 40 bytes (libpcap follows no extension header there), while
 *   `ip6 proto N` / `tcp` / `udp` / `icmp6` also accept N behind one fragment header, as libpcap does;
 * - arithmetic is 32-bit unsigned; a division or modulo by a zero computed at run time rejects the packet
 *   (classic BPF's rule); `proto[i] op proto[j]` tests the protocols of both operands first, then loads, while
 *   an arithmetic operator keeps only its left operand's protocol test (libpcap's gen_arth does the same).
 *
 * Registers: r6..r9 hold arithmetic operands (deeper expressions spill to the stack), r0 receives loads; the
 * result is 262144 (tcpdump's `ret #262144`) or 0. The packet length (`len`) comes from r2 (the captured length)
 * or r3 (the wire length, for exact tcpdump semantics on snapped captures), saved on the stack at entry.
 *
 * Not here: parsing (parser.ts), label resolution and peephole passes (emit.ts).
 */

import type { AddrType, Arith, Dir, Filter, ProtoName, Qualifiers, RelOp, Value } from './ast.js';
import { Emitter, type Label } from './emit.js';
import { FilterSyntaxError, type FilterErrorCode } from './errors.js';
import type { LinkLayer } from './link.js';
import { arithCol } from './parser.js';
import type { JmpOp, Reg } from '../isa/insn.js';
import type { Program } from '../isa/program.js';

/** A test: emits code that jumps to `t` when it holds and to `f` when it does not. */
type Gen = (t: Label, f: Label) => void;

/** The verdict of an accepted packet, as tcpdump's default snaplen. */
export const ACCEPT = 262144;

const ETHERTYPE = { ip: 0x0800, ip6: 0x86dd, arp: 0x0806, rarp: 0x8035 } as const;
/** IP protocol numbers by name (for `proto \name` and the protocol primitives). */
const IPPROTO: ReadonlyMap<string, number> = new Map([
  ['icmp', 1], ['igmp', 2], ['tcp', 6], ['igrp', 9], ['udp', 17], ['esp', 50], ['ah', 51], ['icmp6', 58],
  ['pim', 103], ['vrrp', 112], ['carp', 112], ['sctp', 132],
]);
/** Protocols whose header follows the IPv4 header (proto[...] reads at 4 × IHL, first fragment only). */
const IPV4_TRANSPORT: ReadonlySet<ProtoName> = new Set(['tcp', 'udp', 'sctp', 'icmp', 'igmp', 'igrp', 'pim', 'vrrp', 'carp']);
const RELOP: Record<RelOp, JmpOp> = { '=': 'eq', '!=': 'ne', '<': 'lt', '<=': 'le', '>': 'gt', '>=': 'ge' };
/** Registers for arithmetic operands by depth; deeper levels reuse the last one and spill. */
const REGS: readonly Reg[] = [6, 7, 8, 9];
/** Stack slot of the saved packet length; spill slots follow below it. */
const LEN_SLOT = -4;
const MAX_DEPTH = 100;

/** Options of {@link generate}. */
export interface GenerateOptions {
  readonly link: LinkLayer;
  /** Register holding the packet length at entry: 2 (captured length) or 3 (wire length). */
  readonly lengthReg: 2 | 3;
}

/** Compiles a parsed filter. Throws {@link FilterSyntaxError} for meaningless or unsupported constructs. */
export function generate(expression: string, filter: Filter, options: GenerateOptions): Program {
  return new Generator(expression, options).program(filter);
}

class Generator {
  private readonly e = new Emitter();
  /** Offsets that `vlan` moves. */
  private typeOff: number;
  private nl: number;
  private usesLength = false;
  private reject: Label = -1;

  constructor(private readonly src: string, private readonly options: GenerateOptions) {
    this.typeOff = options.link.typeOff;
    this.nl = options.link.nlOff;
  }

  program(filter: Filter): Program {
    const e = this.e;
    const accept = e.label();
    this.reject = e.label();
    this.filter(filter)(accept, this.reject);
    e.place(accept);
    e.alu('mov', 0, ACCEPT);
    e.exit();
    e.place(this.reject);
    e.alu('mov', 0, 0);
    e.exit();
    if (this.usesLength) e.prepend((p) => p.store32(LEN_SLOT, this.options.lengthReg));
    return e.finish();
  }

  /** Throws the {@link FilterSyntaxError} of a construct at `col`. */
  fail(code: FilterErrorCode, detail: string, col: number, token?: string): never {
    const tok = token ?? /^[^\s()[\]]*/.exec(this.src.slice(col - 1))?.[0] ?? '';
    throw new FilterSyntaxError(code, detail, this.src, col, tok);
  }

  // -- combinators --------------------------------------------------------------------------------------------

  private and(...gs: Gen[]): Gen {
    return (t, f) => {
      gs.forEach((g, i) => {
        if (i === gs.length - 1) return g(t, f);
        const next = this.e.label();
        g(next, f);
        this.e.place(next);
      });
    };
  }
  private or(...gs: Gen[]): Gen {
    return (t, f) => {
      gs.forEach((g, i) => {
        if (i === gs.length - 1) return g(t, f);
        const next = this.e.label();
        g(t, next);
        this.e.place(next);
      });
    };
  }
  private readonly TRUE: Gen = (t) => this.e.ja(t);
  private readonly FALSE: Gen = (_t, f) => this.e.ja(f);

  /** `(packet[off:size] [& mask]) op value`. */
  private cmp(size: 1 | 2 | 4, off: number, op: JmpOp, value: number, mask?: number): Gen {
    return (t, f) => {
      this.e.ldAbs(size, off);
      if (mask !== undefined) this.e.alu('and', 0, mask);
      this.e.jcond(op, 0, value, t);
      this.e.ja(f);
    };
  }

  // -- boolean structure --------------------------------------------------------------------------------------

  /** The test of a node. Offsets moved by `vlan` are read when the node's code is generated (source order). */
  private filter(n: Filter): Gen {
    switch (n.kind) {
      case 'and': return (t, f) => this.and(this.filter(n.left), (tt, ff) => this.filter(n.right)(tt, ff))(t, f);
      case 'or': return (t, f) => this.or(this.filter(n.left), (tt, ff) => this.filter(n.right)(tt, ff))(t, f);
      case 'not': return (t, f) => this.filter(n.operand)(f, t);
      case 'proto': return (t, f) => this.protoAbbrev(n.proto, n.col)(t, f);
      case 'protonum': return (t, f) => this.protoNumber(n.proto, n.value, n.col)(t, f);
      case 'cast': return (t, f) => this.cast(n.proto, n.what, n.col)(t, f);
      case 'vlan': return (t, f) => this.vlan(n.id, n.col)(t, f);
      case 'length': return (t, f) => this.lengthTest(n.op === '>=' ? 'ge' : 'le', n.value)(t, f);
      case 'relation': return (t, f) => this.relation(n.op, n.left, n.right)(t, f);
      case 'primitive': return (t, f) => this.primitive(n.qual, n.value, n.col)(t, f);
    }
  }

  // -- protocols ----------------------------------------------------------------------------------------------

  /** The link layer says EtherType `type` (for raw IP: the version nibble). */
  private linkProto(type: number, col: number): Gen {
    const link = this.options.link;
    switch (link.kind) {
      case 'ethernet': case 'cooked':
        if (type <= 1500) this.fail('unsupported', `802.3 length values (EtherType ${type} <= 1500) are not supported`, col);
        return this.cmp(2, this.typeOff, 'eq', type);
      case 'raw':
        if (type === ETHERTYPE.ip) return this.cmp(1, this.nl, 'eq', 0x40, 0xf0);
        if (type === ETHERTYPE.ip6) return this.cmp(1, this.nl, 'eq', 0x60, 0xf0);
        return this.FALSE;
      case 'ipv4': return type === ETHERTYPE.ip ? this.TRUE : this.FALSE;
      case 'ipv6': return type === ETHERTYPE.ip6 ? this.TRUE : this.FALSE;
    }
  }

  private ipProto(p: number, col: number): Gen {
    return this.and(this.linkProto(ETHERTYPE.ip, col), this.cmp(1, this.nl + 9, 'eq', p));
  }

  /** IPv6 next header `p`, directly or behind one fragment header (libpcap's gen_proto for Q_IPV6). */
  private ip6Proto(p: number, col: number): Gen {
    const nh = this.nl + 6;
    return this.and(
      this.linkProto(ETHERTYPE.ip6, col),
      this.or(this.cmp(1, nh, 'eq', p), this.and(this.cmp(1, nh, 'eq', 44), this.cmp(1, this.nl + 40, 'eq', p))),
    );
  }

  /** A protocol alone: `ip`, `tcp`, `icmp6`... */
  private protoAbbrev(proto: ProtoName, col: number): Gen {
    switch (proto) {
      case 'ip': case 'ip6': case 'arp': case 'rarp': return this.linkProto(ETHERTYPE[proto], col);
      case 'tcp': case 'udp': case 'sctp': case 'pim': case 'ah': case 'esp':
        return this.or(this.ipProto(IPPROTO.get(proto)!, col), this.ip6Proto(IPPROTO.get(proto)!, col));
      case 'icmp': case 'igmp': case 'igrp': case 'vrrp': case 'carp': return this.ipProto(IPPROTO.get(proto)!, col);
      case 'icmp6': return this.ip6Proto(58, col);
      case 'ether': return this.fail('syntax', `syntax error: '${proto}' needs a qualifier or an index`, col);
    }
  }

  /** `ether proto N`, `ip proto N`, `ip6 proto N`, `proto N`. */
  private protoNumber(proto: ProtoName | null, v: Value, col: number): Gen {
    if (proto === 'ether') {
      const n = v.kind === 'num' ? v.value : v.kind === 'name' && v.text in ETHERTYPE ? ETHERTYPE[v.text as keyof typeof ETHERTYPE] : undefined;
      if (n === undefined) this.fail('unsupported', `unknown ether protocol '${v.text}'`, v.col, v.text);
      return this.linkProto(n, v.col);
    }
    const n = v.kind === 'num' ? v.value : v.kind === 'name' ? IPPROTO.get(v.text) : undefined;
    if (n === undefined) this.fail(v.kind === 'name' ? 'unsupported' : 'invalid', `unknown ip protocol '${v.text}'`, v.col, v.text);
    if (n > 255) this.fail('invalid', `illegal protocol number ${n} > 255`, v.col, v.text);
    if (proto === 'ip') return this.ipProto(n, col);
    if (proto === 'ip6') return this.ip6Proto(n, col);
    if (proto === null) return this.or(this.ipProto(n, col), this.ip6Proto(n, col));
    return this.fail('invalid', `'${proto}' modifier applied to 'proto'`, col);
  }

  private cast(proto: ProtoName | null, what: 'broadcast' | 'multicast', col: number): Gen {
    if (proto === null || proto === 'ether') {
      if (this.options.link.kind !== 'ethernet') this.fail('invalid', `link-layer ${what} filters are supported only on Ethernet`, col);
      return what === 'broadcast' ? this.etherAddr(0, new Uint8Array(6).fill(0xff)) : this.cmp(1, 0, 'set', 1);
    }
    if (proto === 'ip') {
      const ip = this.linkProto(ETHERTYPE.ip, col);
      if (what === 'multicast') return this.and(ip, this.cmp(1, this.nl + 16, 'ge', 224));
      return this.and(ip, this.or(this.cmp(4, this.nl + 16, 'eq', 0), this.cmp(4, this.nl + 16, 'eq', 0xffff_ffff)));
    }
    if (proto === 'ip6' && what === 'multicast') return this.and(this.linkProto(ETHERTYPE.ip6, col), this.cmp(1, this.nl + 24, 'eq', 0xff));
    return this.fail('invalid', `only link-layer/IP ${what} filters supported`, col);
  }

  private vlan(id: number | null, col: number): Gen {
    if (this.options.link.kind !== 'ethernet') this.fail('invalid', `no VLAN support for ${this.options.link.name}`, col);
    const off = this.typeOff;
    const tag = this.or(this.cmp(2, off, 'eq', 0x8100), this.cmp(2, off, 'eq', 0x88a8), this.cmp(2, off, 'eq', 0x9100));
    const test = id === null ? tag : this.and(tag, this.cmp(2, off + 2, 'eq', id, 0xfff));
    this.typeOff += 4;
    this.nl += 4;
    return test;
  }

  // -- hosts, nets, ports -------------------------------------------------------------------------------------

  private primitive(q: Qualifiers, v: Value, col: number): Gen {
    const type: AddrType = q.type ?? (v.kind === 'net4' || v.kind === 'net6' ? 'net' : 'host');
    if (type === 'port' || type === 'portrange') return this.port(q, type, v, col);
    if (v.kind === 'mac') return this.etherHost(q, v.bytes, col);
    if (v.kind === 'ipv6' || v.kind === 'net6') return this.host6(q, type, v, col);
    if (v.kind === 'name') return this.fail('unsupported', `host names are not supported ('${v.text}'): use an address`, v.col, v.text);
    return this.host4(q, type, v, col);
  }

  /** The address test of a direction: `src` at `srcOff`, `dst` at `dstOff`. */
  private byDir(dir: Dir | null, src: Gen, dst: Gen): Gen {
    if (dir === 'src') return src;
    if (dir === 'dst') return dst;
    return dir === 'and' ? this.and(src, dst) : this.or(src, dst);
  }

  private host4(q: Qualifiers, type: AddrType, v: Value, col: number): Gen {
    let addr: number;
    let mask: number;
    if (v.kind === 'net4') {
      if (type !== 'net') this.fail('invalid', 'mask syntax for networks only', v.col, v.text);
      addr = v.value;
      mask = v.mask;
    } else if (v.kind === 'ipv4') {
      addr = v.value;
      mask = v.bits === 32 ? 0xffff_ffff : (0xffff_ffff << (32 - v.bits)) >>> 0;
    } else if (v.kind === 'num' && type === 'net') {
      // libpcap promotes a short net number: `net 10` is 10.0.0.0/8.
      addr = v.value;
      mask = 0xffff_ffff;
      while (addr !== 0 && (addr & 0xff00_0000) === 0) {
        addr = (addr << 8) >>> 0;
        mask = (mask << 8) >>> 0;
      }
    } else {
      return this.fail('unsupported', `'${v.text}' is not an IPv4 address`, v.col, v.text);
    }
    if (((addr & ~mask) >>> 0) !== 0) this.fail('invalid', `non-network bits set in "${v.text}"`, v.col, v.text);
    const word = (off: number): Gen => this.cmp(4, off, 'eq', addr, mask === 0xffff_ffff ? undefined : mask);
    const ip = (): Gen => this.and(this.linkProto(ETHERTYPE.ip, col), this.byDir(q.dir, word(this.nl + 12), word(this.nl + 16)));
    const arp = (...types: number[]): Gen =>
      this.and(this.or(...types.map((ty) => this.linkProto(ty, col))), this.byDir(q.dir, word(this.nl + 14), word(this.nl + 24)));
    const arpish = (): Gen => this.options.link.kind === 'ethernet' || this.options.link.kind === 'cooked' ? arp(ETHERTYPE.arp, ETHERTYPE.rarp) : this.FALSE;
    switch (q.proto) {
      case null: return this.or(ip(), arpish());
      case 'ip': return ip();
      case 'arp': return arp(ETHERTYPE.arp);
      case 'rarp': return arp(ETHERTYPE.rarp);
      default: return this.fail('invalid', `'${q.proto}' modifier applied to ${type}`, col);
    }
  }

  private host6(q: Qualifiers, type: AddrType, v: Extract<Value, { kind: 'ipv6' | 'net6' }>, col: number): Gen {
    if (q.proto !== null && q.proto !== 'ip6') this.fail('invalid', `'${q.proto}' modifier applied to ip6 ${type}`, col);
    const prefix = v.kind === 'net6' ? v.prefix : 128;
    if (v.kind === 'net6' && type !== 'net') this.fail('invalid', 'mask syntax for networks only', v.col, v.text);
    const words: { addr: number; mask: number }[] = [];
    for (let i = 0; i < 4; i++) {
      const bits = Math.max(0, Math.min(32, prefix - 32 * i));
      const mask = bits === 0 ? 0 : (0xffff_ffff << (32 - bits)) >>> 0;
      const b = v.bytes;
      const addr = ((b[4 * i] << 24) | (b[4 * i + 1] << 16) | (b[4 * i + 2] << 8) | b[4 * i + 3]) >>> 0;
      if (((addr & ~mask) >>> 0) !== 0) this.fail('invalid', `non-network bits set in "${v.text}/${prefix}"`, v.col, v.text);
      words.push({ addr, mask });
    }
    const at = (off: number): Gen =>
      this.and(...words.map((w, i) => ({ ...w, i })).filter((w) => w.mask !== 0).map((w) => this.cmp(4, off + 4 * w.i, 'eq', w.addr, w.mask === 0xffff_ffff ? undefined : w.mask)));
    if (prefix === 0) return this.linkProto(ETHERTYPE.ip6, col);
    return this.and(this.linkProto(ETHERTYPE.ip6, col), this.byDir(q.dir, at(this.nl + 8), at(this.nl + 24)));
  }

  /** The 6-byte Ethernet address at `off`: the low 4 bytes first, then the high 2 (libpcap's order). */
  private etherAddr(off: number, mac: Uint8Array): Gen {
    const low = ((mac[2] << 24) | (mac[3] << 16) | (mac[4] << 8) | mac[5]) >>> 0;
    return this.and(this.cmp(4, off + 2, 'eq', low), this.cmp(2, off, 'eq', (mac[0] << 8) | mac[1]));
  }

  private etherHost(q: Qualifiers, mac: Uint8Array, col: number): Gen {
    if (q.proto !== null && q.proto !== 'ether') this.fail('invalid', `'${q.proto}' modifier applied to an Ethernet address`, col);
    if (q.type !== null && q.type !== 'host') this.fail('invalid', `'${q.type}' applied to an Ethernet address`, col);
    if (this.options.link.kind !== 'ethernet') this.fail('invalid', 'ethernet addresses supported only on Ethernet', col);
    return this.byDir(q.dir, this.etherAddr(6, mac), this.etherAddr(0, mac));
  }

  private port(q: Qualifiers, type: 'port' | 'portrange', v: Value, col: number): Gen {
    let protos: number[];
    if (q.proto === null) protos = [132, 6, 17];
    else if (q.proto === 'tcp' || q.proto === 'udp' || q.proto === 'sctp') protos = [IPPROTO.get(q.proto)!];
    else return this.fail('invalid', `illegal qualifier of '${type}'`, col);
    const [lo, hi] = this.portRange(type, v);
    const test = (load: (t: Label, f: Label, op: JmpOp, value: number) => void): Gen =>
      lo === hi
        ? (t, f) => load(t, f, 'eq', lo)
        : this.and((t, f) => load(t, f, 'ge', lo), (t, f) => load(t, f, 'le', hi));
    const abs = (off: number): Gen => test((t, f, op, value) => this.cmp(2, off, op, value)(t, f));
    const nl = this.nl;
    const ind = (off: number): Gen =>
      test((t, f, op, value) => {
        this.ihl(REGS[0]);
        this.e.ldInd(2, REGS[0], nl + off);
        this.e.jcond(op, 0, value, t);
        this.e.ja(f);
      });
    const nh = (off: number): Gen => this.or(...protos.map((p) => this.cmp(1, off, 'eq', p)));
    const v6 = this.and(this.linkProto(ETHERTYPE.ip6, col), nh(nl + 6), this.byDir(q.dir, abs(nl + 40), abs(nl + 42)));
    const v4 = this.and(this.linkProto(ETHERTYPE.ip, col), nh(nl + 9), this.firstFragment(), this.byDir(q.dir, ind(0), ind(2)));
    return this.or(v6, v4);
  }

  private portRange(type: 'port' | 'portrange', v: Value): [number, number] {
    let lo: number;
    let hi: number;
    if (v.kind === 'num') lo = hi = v.value;
    else if (v.kind === 'name' && type === 'portrange' && /^[0-9]+-[0-9]+$/.test(v.text)) [lo, hi] = v.text.split('-').map(Number);
    else if (v.kind === 'name') return this.fail('unsupported', `port names are not supported ('${v.text}'): use a number`, v.col, v.text);
    else return this.fail('invalid', `'${v.text}' is not a port${type === 'portrange' ? ' range' : ''}`, v.col, v.text);
    for (const p of [lo, hi]) if (p > 65535) this.fail('invalid', `illegal port number ${p} > 65535`, v.col, v.text);
    return lo <= hi ? [lo, hi] : [hi, lo];
  }

  /** `ip[6:2] & 0x1fff = 0`: not a later fragment. */
  private firstFragment(): Gen {
    const off = this.nl + 6;
    return (t, f) => this.cmp(2, off, 'set', 0x1fff)(f, t);
  }

  /** `reg = 4 * (ip[0] & 0xf)`: the IPv4 header length (classic BPF's `ldxb 4*([k]&0xf)`). */
  private ihl(reg: Reg): void {
    this.e.ihl(reg, this.nl);
  }

  // -- lengths and arithmetic ---------------------------------------------------------------------------------

  private lengthTest(op: JmpOp, value: number): Gen {
    return (t, f) => {
      this.loadLength(REGS[0]);
      this.e.jcond(op, REGS[0], value, t);
      this.e.ja(f);
    };
  }

  private loadLength(reg: Reg): void {
    this.usesLength = true;
    this.e.load32(reg, LEN_SLOT);
  }

  /** `left op right`: both operands' protocol tests, then both values, then the comparison. */
  private relation(op: RelOp, left: Arith, right: Arith): Gen {
    const compare: Gen = (t, f) => {
      const r = fold(right, this);
      if (r !== undefined && inR0(left, this)) {
        // One load then constant operations: computed in r0 where the load leaves it.
        this.evaluate(left, 0, 0);
        this.e.jcond(RELOP[op], 0, r, t);
      } else if (r !== undefined) {
        this.evaluate(left, 0);
        this.e.jcond(RELOP[op], REGS[0], r, t);
      } else {
        this.evaluate(left, 0);
        this.evaluate(right, 1);
        this.e.jcond(RELOP[op], REGS[0], { reg: REGS[1] }, t);
      }
      this.e.ja(f);
    };
    return this.and(...this.guards(left), ...this.guards(right), compare);
  }

  /** The protocol tests an operand needs before its loads (libpcap's `arth->b`). */
  private guards(a: Arith): Gen[] {
    switch (a.kind) {
      case 'num': case 'len': return [];
      case 'neg': return this.guards(a.operand);
      case 'binary': return this.guards(a.left); // gen_arth drops the right operand's tests
      case 'load': {
        const index = this.guards(a.index);
        const p = a.proto;
        if (p === 'ether') return index;
        if (p === 'ip' || p === 'ip6' || p === 'arp' || p === 'rarp') return [this.linkProto(ETHERTYPE[p], a.col), ...index];
        if (p === 'icmp6') return [this.linkProto(ETHERTYPE.ip6, a.col), ...index, this.cmp(1, this.nl + 6, 'eq', 58)];
        if (IPV4_TRANSPORT.has(p)) return [this.linkProto(ETHERTYPE.ip, a.col), ...index, this.cmp(1, this.nl + 9, 'eq', IPPROTO.get(p)!), this.firstFragment()];
        return this.fail('unsupported', `unsupported index operation on '${p}'`, a.col, p);
      }
    }
  }

  /**
   * Computes `a` (u32) into the operand register of `depth` (or `into`: r0 only for {@link inR0} expressions,
   * whose single load comes first and leaves its value in r0).
   */
  private evaluate(a: Arith, depth: number, into?: Reg): void {
    if (depth > MAX_DEPTH) this.fail('unsupported', 'expression too complex', arithCol(a));
    const reg = into ?? REGS[Math.min(depth, REGS.length - 1)];
    const k = fold(a, this);
    if (k !== undefined) return this.e.alu('mov', reg, k);
    switch (a.kind) {
      case 'num': return this.e.alu('mov', reg, a.value);
      case 'len': return this.loadLength(reg);
      case 'neg':
        this.evaluate(a.operand, depth, into);
        return this.e.neg(reg);
      case 'load': return this.load(a, depth, reg);
      case 'binary': return this.binary(a, depth, reg, into);
    }
  }

  private binary(a: Extract<Arith, { kind: 'binary' }>, depth: number, reg: Reg, into?: Reg): void {
    const e = this.e;
    this.evaluate(a.left, depth, into);
    const op = ALU[a.op];
    const k = fold(a.right, this);
    if (k !== undefined) {
      if ((a.op === '/' || a.op === '%') && k === 0) this.fail('invalid', a.op === '/' ? 'division by zero' : 'modulus by zero', a.col, a.op);
      return e.alu(op, reg, a.op === '<<' || a.op === '>>' ? k & 31 : k);
    }
    let rhs: Reg;
    if (depth + 1 < REGS.length) {
      this.evaluate(a.right, depth + 1);
      rhs = REGS[depth + 1];
    } else {
      // Out of registers: spill the left value, compute the right one in the same register, then swap through r1
      // (no packet load runs between, so r1..r5 are free here).
      const slot = LEN_SLOT - 4 * (depth - REGS.length + 2);
      e.store32(slot, reg);
      this.evaluate(a.right, depth);
      e.alu('mov', 1, { reg });
      e.load32(reg, slot);
      rhs = 1;
    }
    if (a.op === '/' || a.op === '%') e.jcond('eq', rhs, 0, this.reject); // classic BPF: x / 0 rejects the packet
    e.alu(op, reg, { reg: rhs });
  }

  /** `proto[index:size]` into `reg`: LD_ABS at a constant offset, LD_IND otherwise. */
  private load(a: Extract<Arith, { kind: 'load' }>, depth: number, reg: Reg): void {
    const e = this.e;
    const transport = IPV4_TRANSPORT.has(a.proto);
    const base = a.proto === 'ether' ? 0 : a.proto === 'icmp6' ? this.nl + 40 : this.nl;
    const k = fold(a.index, this);
    const ihlReg = REGS[Math.min(depth, REGS.length - 1)];
    if (k !== undefined && !transport) {
      if (base + k > 0x7fff_ffff) e.ja(this.reject); // beyond any packet
      else e.ldAbs(a.size, base + k);
    } else if (k !== undefined) {
      this.ihl(ihlReg);
      if (base + k > 0x7fff_ff00) e.ja(this.reject);
      else e.ldInd(a.size, ihlReg, base + k);
    } else {
      this.evaluate(a.index, depth);
      if (transport) {
        e.ldAbs(1, this.nl);
        e.alu('and', 0, 0xf);
        e.alu('lsh', 0, 2);
        e.alu('add', reg, { reg: 0 });
      }
      // LD_IND adds the index as a signed 32-bit number; classic BPF rejects any index past the packet.
      e.jcond('ge', reg, (0x8000_0000 - base) | 0, this.reject);
      e.ldInd(a.size, reg, base);
    }
    if (reg !== 0) e.alu('mov', reg, { reg: 0 });
  }
}

/** Whether `a` is one load with a constant index followed by constant operations (it can live in r0). */
function inR0(a: Arith, g: Parameters<typeof fold>[1]): boolean {
  switch (a.kind) {
    case 'load': return fold(a.index, g) !== undefined;
    case 'neg': return inR0(a.operand, g);
    case 'binary': return inR0(a.left, g) && fold(a.right, g) !== undefined;
    default: return false;
  }
}

const ALU = { '+': 'add', '-': 'sub', '*': 'mul', '/': 'div', '%': 'mod', '&': 'and', '|': 'or', '^': 'xor', '<<': 'lsh', '>>': 'rsh' } as const;

/** The value of a constant expression (u32), or undefined. A constant division by zero is an error. */
function fold(a: Arith, g: { fail(code: FilterErrorCode, detail: string, col: number, token?: string): never }): number | undefined {
  switch (a.kind) {
    case 'num': return a.value;
    case 'len': case 'load': return undefined;
    case 'neg': {
      const v = fold(a.operand, g);
      return v === undefined ? undefined : (-v) >>> 0;
    }
    case 'binary': {
      const l = fold(a.left, g);
      const r = fold(a.right, g);
      if (l === undefined || r === undefined) return undefined;
      switch (a.op) {
        case '+': return (l + r) >>> 0;
        case '-': return (l - r) >>> 0;
        case '*': return Math.imul(l, r) >>> 0;
        case '/': case '%':
          if (r === 0) g.fail('invalid', a.op === '/' ? 'division by zero' : 'modulus by zero', a.col, a.op);
          return a.op === '/' ? Math.floor(l / r) >>> 0 : (l % r) >>> 0;
        case '&': return (l & r) >>> 0;
        case '|': return (l | r) >>> 0;
        case '^': return (l ^ r) >>> 0;
        case '<<': return (l << (r & 31)) >>> 0;
        case '>>': return l >>> (r & 31);
      }
    }
  }
}
