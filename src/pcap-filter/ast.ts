/**
 * The syntax tree of a pcap-filter expression, as the parser builds it: every node keeps the 1-based column of
 * the token it starts at, so that later stages (code generation) can point at it in their errors.
 *
 * Not here: parsing (parser.ts), meaning (codegen.ts).
 */

/** Protocol qualifiers (`ether` and `link` are the same). */
export type ProtoName =
  | 'ether' | 'ip' | 'ip6' | 'arp' | 'rarp' | 'tcp' | 'udp' | 'sctp' | 'icmp' | 'icmp6' | 'igmp' | 'igrp' | 'pim'
  | 'vrrp' | 'carp' | 'ah' | 'esp';

/** Direction qualifiers: `src`, `dst`, `src or dst` (the default), `src and dst`. */
export type Dir = 'src' | 'dst' | 'or' | 'and';

/** Type qualifiers. */
export type AddrType = 'host' | 'net' | 'port' | 'portrange';

/** The qualifiers in front of an id (`tcp dst port 80`); `null` where none was written. */
export interface Qualifiers {
  readonly proto: ProtoName | null;
  readonly dir: Dir | null;
  readonly type: AddrType | null;
}

/** The id of a primitive. */
export type Value =
  | { readonly kind: 'num'; readonly value: number; readonly text: string; readonly col: number }
  /** Dotted IPv4, left-aligned, with the number of bits written (`10.1` → 0x0a010000, 16). */
  | { readonly kind: 'ipv4'; readonly value: number; readonly bits: number; readonly text: string; readonly col: number }
  /** `A/len` or `A mask M`; `mask` is a u32. */
  | { readonly kind: 'net4'; readonly value: number; readonly mask: number; readonly text: string; readonly col: number }
  | { readonly kind: 'ipv6'; readonly bytes: Uint8Array; readonly text: string; readonly col: number }
  | { readonly kind: 'net6'; readonly bytes: Uint8Array; readonly prefix: number; readonly text: string; readonly col: number }
  | { readonly kind: 'mac'; readonly bytes: Uint8Array; readonly text: string; readonly col: number }
  /** Any other name: a port range `1000-2000`, or a host/service/protocol name. */
  | { readonly kind: 'name'; readonly text: string; readonly col: number };

/** Comparison operators of relations. */
export type RelOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

/** Binary arithmetic operators (32-bit unsigned, as classic BPF). */
export type ArithOp = '+' | '-' | '*' | '/' | '%' | '&' | '|' | '^' | '<<' | '>>';

/** Arithmetic expressions (the operands of relations). */
export type Arith =
  | { readonly kind: 'num'; readonly value: number; readonly col: number }
  /** `len`: the packet's length. */
  | { readonly kind: 'len'; readonly col: number }
  /** `proto[index:size]`. */
  | { readonly kind: 'load'; readonly proto: ProtoName; readonly index: Arith; readonly size: 1 | 2 | 4; readonly col: number }
  | { readonly kind: 'binary'; readonly op: ArithOp; readonly left: Arith; readonly right: Arith; readonly col: number }
  | { readonly kind: 'neg'; readonly operand: Arith; readonly col: number };

/** Boolean expressions. */
export type Filter =
  | { readonly kind: 'and' | 'or'; readonly left: Filter; readonly right: Filter; readonly col: number }
  | { readonly kind: 'not'; readonly operand: Filter; readonly col: number }
  /** `[proto] [dir] [type] id`, qualifiers possibly inherited from the previous primitive (`port 80 or 443`). */
  | { readonly kind: 'primitive'; readonly qual: Qualifiers; readonly value: Value; readonly col: number }
  /** A protocol alone: `tcp`, `ip6`, `arp`. */
  | { readonly kind: 'proto'; readonly proto: ProtoName; readonly col: number }
  /** `[ether|ip|ip6] proto N` (`proto` null: `proto N` alone, meaning ip or ip6). */
  | { readonly kind: 'protonum'; readonly proto: ProtoName | null; readonly value: Value; readonly col: number }
  /** `[ether|ip|ip6] broadcast|multicast`. */
  | { readonly kind: 'cast'; readonly proto: ProtoName | null; readonly what: 'broadcast' | 'multicast'; readonly col: number }
  /** `vlan [id]`. */
  | { readonly kind: 'vlan'; readonly id: number | null; readonly col: number; readonly idCol: number }
  /** `greater N` (len >= N) and `less N` (len <= N). */
  | { readonly kind: 'length'; readonly op: '>=' | '<='; readonly value: number; readonly col: number }
  | { readonly kind: 'relation'; readonly op: RelOp; readonly left: Arith; readonly right: Arith; readonly col: number };
