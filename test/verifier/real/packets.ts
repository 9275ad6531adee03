// Packet builders for real.test.ts: Ethernet (with VLAN tags), IPv4 (with options and a valid checksum), IPv6
// (with extension headers), TCP (with options), UDP and DNS queries, all in network byte order.

/** Bytes, concatenated. */
export function cat(...parts: ArrayLike<number>[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const be16 = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];
const be32 = (v: number): number[] => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
/** A dotted quad as 4 bytes. */
export const addr = (s: string): number[] => s.split('.').map(Number);

export const ETH_P_IP = 0x0800;
export const ETH_P_IPV6 = 0x86dd;
export const ETH_P_ARP = 0x0806;
export const ETH_P_8021Q = 0x8100;
export const ETH_P_8021AD = 0x88a8;

/** An Ethernet frame: MACs, then a (TPID, VLAN id) pair per VLAN tag, then the EtherType and the payload. */
export function ether(type: number, payload: ArrayLike<number>, tags: ReadonlyArray<readonly [number, number]> = []): Uint8Array {
  const macs = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
  return cat(macs, tags.flatMap(([tpid, vid]) => [...be16(tpid), ...be16(vid)]), be16(type), payload);
}

/** The Internet checksum (RFC 1071) of `b`. */
export function inetChecksum(b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i] << 8) | (i + 1 < b.length ? b[i + 1] : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export interface Ipv4Options {
  readonly proto: number;
  readonly payload?: ArrayLike<number>;
  /** IP options (a multiple of 4 bytes): ihl = 5 + options / 4. */
  readonly options?: ArrayLike<number>;
  readonly src?: string;
  readonly dst?: string;
  readonly ttl?: number;
  /** Fragment offset in 8-byte units (no flags). */
  readonly fragment?: number;
  /** Overrides the ihl field (malformed headers). */
  readonly ihl?: number;
  /** Corrupts the checksum. */
  readonly badChecksum?: boolean;
}

export function ipv4(o: Ipv4Options): Uint8Array {
  const options = o.options ?? [];
  const payload = o.payload ?? [];
  const ihl = o.ihl ?? 5 + options.length / 4;
  const h = [
    0x40 | ihl, 0, ...be16(20 + options.length + payload.length), 0, 1, ...be16(o.fragment ?? 0), o.ttl ?? 64, o.proto, 0, 0,
    ...addr(o.src ?? '192.0.2.1'), ...addr(o.dst ?? '198.51.100.1'), ...Array.from(options),
  ];
  const sum = inetChecksum(h) ^ (o.badChecksum ? 0x1234 : 0);
  h[10] = sum >> 8;
  h[11] = sum & 0xff;
  return cat(h, payload);
}

/** An IPv6 header whose next header is `next`, followed by `payload` (extension headers included). */
export function ipv6(next: number, payload: ArrayLike<number>): Uint8Array {
  return cat([0x60, 0, 0, 0, ...be16(payload.length), next, 64], new Array(16).fill(0).map((_, i) => (i === 15 ? 1 : 0x20)),
    new Array(16).fill(0).map((_, i) => (i === 15 ? 2 : 0x20)), payload);
}

/** A generic extension header (hop-by-hop, routing, destination options): (hdrlen + 1) * 8 bytes. */
export function extHeader(next: number, hdrlen = 0): number[] {
  return [next, hdrlen, ...new Array((hdrlen + 1) * 8 - 2).fill(0)];
}

/** An authentication header: (hdrlen + 2) * 4 bytes. */
export function authHeader(next: number, hdrlen = 1): number[] {
  return [next, hdrlen, ...new Array((hdrlen + 2) * 4 - 2).fill(0)];
}

/** A fragment header (8 bytes). */
export function fragmentHeader(next: number): number[] {
  return [next, 0, 0, 0, 0, 0, 0, 1];
}

export const TCP_SYN = 0x02;
export const TCP_ACK = 0x10;

export interface TcpOptions {
  readonly dport: number;
  readonly sport?: number;
  readonly flags?: number;
  /** TCP options (padded with zeros to a multiple of 4 bytes). */
  readonly options?: ArrayLike<number>;
  /** Overrides the data offset field (malformed headers). */
  readonly doff?: number;
  readonly payload?: ArrayLike<number>;
}

export function tcp(o: TcpOptions): Uint8Array {
  const opts = Array.from(o.options ?? []);
  while (opts.length % 4 !== 0) opts.push(0);
  const doff = o.doff ?? 5 + opts.length / 4;
  return cat([...be16(o.sport ?? 40000), ...be16(o.dport), ...be32(1), ...be32(0), doff << 4, o.flags ?? TCP_ACK, ...be16(65535), 0, 0, 0, 0], opts, o.payload ?? []);
}

export function udp(dport: number, payload: ArrayLike<number> = [], sport = 40000, lengthField?: number): Uint8Array {
  return cat([...be16(sport), ...be16(dport), ...be16(lengthField ?? 8 + payload.length), 0, 0], payload);
}

/** A DNS message: the header (id 0x1234, `flags`, `qdcount`, other counts 0) and one question. */
export function dns(labels: readonly (string | number[])[], qtype: number, flags = 0x0100, qdcount = 1): Uint8Array {
  const name: number[] = [];
  for (const l of labels) {
    const bytes = typeof l === 'string' ? Array.from(Buffer.from(l)) : l;
    name.push(bytes.length, ...bytes);
  }
  name.push(0);
  return cat([0x12, 0x34, ...be16(flags), ...be16(qdcount), 0, 0, 0, 0, 0, 0], name, be16(qtype), be16(1));
}

/** TCP option bytes. */
export const opt = {
  nop: [1],
  eol: [0],
  mss: (v: number): number[] => [2, 4, ...be16(v)],
  wscale: (s: number): number[] => [3, 3, s],
  sackPerm: [4, 2],
  timestamp: (tsval: number, tsecr = 0): number[] => [8, 10, ...be32(tsval), ...be32(tsecr)],
  serverId: (id: readonly number[]): number[] => [0xb7, 6, ...id],
};
