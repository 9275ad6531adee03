/**
 * Link-layer types a filter can be compiled for, and where their headers put things, as libpcap sees them
 * (gencode.c, `init_linktype`): the offset of the protocol (EtherType) field and of the network layer.
 *
 * Not here: the tests built on these offsets (codegen.ts).
 */

/** How a link type carries the network-layer protocol. */
export type LinkKind =
  /** An EtherType at `typeOff`; `ether` addresses and `vlan` work (Ethernet). */
  | 'ethernet'
  /** An EtherType at `typeOff`, no Ethernet addresses (Linux cooked). */
  | 'cooked'
  /** Raw IP: the version nibble tells IPv4 from IPv6. */
  | 'raw'
  /** Only IPv4, or only IPv6. */
  | 'ipv4' | 'ipv6';

/** A link type's layout. */
export interface LinkLayer {
  readonly kind: LinkKind;
  /** Name for messages, as tcpdump words it. */
  readonly name: string;
  /** Offset of the EtherType (-1 when there is none). */
  readonly typeOff: number;
  /** Offset of the network-layer header. */
  readonly nlOff: number;
}

/** The link types supported, by LINKTYPE_ number (pcap file header) — DLT_RAW's 12 and 14 too. */
const LINKS: ReadonlyMap<number, LinkLayer> = new Map([
  [1, { kind: 'ethernet', name: 'Ethernet', typeOff: 12, nlOff: 14 }],
  [101, { kind: 'raw', name: 'Raw IP', typeOff: -1, nlOff: 0 }],
  [12, { kind: 'raw', name: 'Raw IP', typeOff: -1, nlOff: 0 }],
  [14, { kind: 'raw', name: 'Raw IP', typeOff: -1, nlOff: 0 }],
  [228, { kind: 'ipv4', name: 'Raw IPv4', typeOff: -1, nlOff: 0 }],
  [229, { kind: 'ipv6', name: 'Raw IPv6', typeOff: -1, nlOff: 0 }],
  [113, { kind: 'cooked', name: 'Linux cooked v1', typeOff: 14, nlOff: 16 }],
]);

/** The layout of a link type, or undefined when it is not supported. */
export function linkLayer(linkType: number): LinkLayer | undefined {
  return LINKS.get(linkType);
}

/** The supported link types. */
export const SUPPORTED_LINK_TYPES: readonly number[] = [...LINKS.keys()];
