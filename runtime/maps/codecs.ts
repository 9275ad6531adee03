/**
 * Codecs: how JS values become map keys and values and back. The map API speaks bytes (`Uint8Array` in,
 * `Buffer` out) unless a map is given codecs with `map.typed(key, value)`:
 *
 *     const counts = rt.createMap({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 64 }).typed('u32', 'u64');
 *     counts.set(7, 1n); counts.get(7); // 1n
 *
 * Integers are little-endian (the host order of eBPF on x86 and arm64, and of this runtime); 64-bit ones are
 * bigints. `ipv4` is a dotted quad in network order; `ipv4/lpm` an LPM trie key `{u32 prefixlen; u8 addr[4]}`
 * written `10.0.0.0/8` (a bare address means /32).
 *
 * Not here: the maps (map.ts).
 */

import { MapError } from './errors.js';

/** Turns values of type T into exactly `size` bytes and back. */
export interface Codec<T> {
  readonly name: string;
  /** Bytes this codec reads and writes; undefined: any size (it takes the map's). */
  readonly size: number | undefined;
  /** Writes `value` into `out` (exactly out.length bytes); throws TypeError/RangeError for a bad value. */
  encode(value: T, out: Uint8Array): void;
  /** Reads a value from `bytes` (a copy the codec may keep). */
  decode(bytes: Buffer): T;
  /** Optional fast path: writes `value` at `addr` of a view of the whole memory (same checks as encode). */
  store?(value: T, view: DataView, addr: number): void;
  /** Optional fast path: reads a value at `addr` of a view of the whole memory. */
  load?(view: DataView, addr: number): T;
}

const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

function intCodec(name: string, size: 1 | 2 | 4, signed: boolean): Codec<number> {
  const min = signed ? -(2 ** (size * 8 - 1)) : 0;
  const max = signed ? 2 ** (size * 8 - 1) - 1 : 2 ** (size * 8) - 1;
  const store = (v: number, d: DataView, at: number): void => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new RangeError(`${String(v)} is not a ${name}`);
    if (size === 1) d.setUint8(at, v & 0xff);
    else if (size === 2) d.setUint16(at, v & 0xffff, true);
    else d.setUint32(at, v >>> 0, true);
  };
  const load = (d: DataView, at: number): number => {
    if (size === 1) return signed ? d.getInt8(at) : d.getUint8(at);
    if (size === 2) return signed ? d.getInt16(at, true) : d.getUint16(at, true);
    return signed ? d.getInt32(at, true) : d.getUint32(at, true);
  };
  return { name, size, store, load, encode: (v, out) => store(v, view(out), 0), decode: (b) => load(view(b), 0) };
}

const MAX_U64 = (1n << 64n) - 1n;
const MIN_I64 = -(1n << 63n);
const MAX_I64 = (1n << 63n) - 1n;

function bigCodec(name: string, signed: boolean): Codec<bigint> {
  const store = (v: bigint, d: DataView, at: number): void => {
    const x = typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : v;
    if (typeof x !== 'bigint' || (signed ? x < MIN_I64 || x > MAX_I64 : x < 0n || x > MAX_U64)) throw new RangeError(`${String(v)} is not a ${name}`);
    if (signed) d.setBigInt64(at, x, true);
    else d.setBigUint64(at, x, true);
  };
  const load = (d: DataView, at: number): bigint => (signed ? d.getBigInt64(at, true) : d.getBigUint64(at, true));
  return { name, size: 8, store, load, encode: (v, out) => store(v, view(out), 0), decode: (b) => load(view(b), 0) };
}

/**
 * Reads `s[from, to)` as a dotted quad (four decimal octets of 1-3 digits, each at most 255) into
 * `out[at, at + 4)`; false when it is not one. A scan rather than `split` and a regex: these codecs sit on the
 * JS API's hot path (an LPM lookup by string key).
 */
function scanIpv4(s: string, from: number, to: number, out: Uint8Array, at: number): boolean {
  let octet = 0;
  let digits = 0;
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e /* . */) {
      if (digits === 0 || n === 3) return false;
      out[at + n++] = octet;
      octet = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39 && digits < 3) {
      octet = octet * 10 + (c - 0x30);
      digits++;
      if (octet > 255) return false;
    } else return false;
  }
  if (digits === 0 || n !== 3) return false;
  out[at + 3] = octet;
  return true;
}

/** Reads `s[from, to)` as a decimal prefix length 0..32; -1 when it is not one. */
function scanPrefixLength(s: string, from: number, to: number): number {
  if (from >= to || to - from > 2) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    n = n * 10 + (c - 0x30);
  }
  return n <= 32 ? n : -1;
}

const ipv4: Codec<string> = {
  name: 'ipv4',
  size: 4,
  encode(v, out) {
    if (typeof v !== 'string') throw new TypeError(`${String(v)} is not an IPv4 address string`);
    if (!scanIpv4(v, 0, v.length, out, 0)) throw new RangeError(`'${v}' is not an IPv4 address`);
  },
  decode: (b) => `${b[0]}.${b[1]}.${b[2]}.${b[3]}`,
};

const ipv4Lpm: Codec<string> = {
  name: 'ipv4/lpm',
  size: 8,
  encode(v, out) {
    if (typeof v !== 'string') throw new TypeError(`${String(v)} is not an IPv4 prefix string`);
    const slash = v.indexOf('/');
    const end = slash < 0 ? v.length : slash;
    const prefixlen = slash < 0 ? 32 : scanPrefixLength(v, slash + 1, v.length);
    if (prefixlen < 0) throw new RangeError(`'${v}' is not an IPv4 prefix (a.b.c.d/n)`);
    if (!scanIpv4(v, 0, end, out, 4)) throw new RangeError(`'${v.slice(0, end)}' is not an IPv4 address`);
    view(out).setUint32(0, prefixlen, true);
  },
  decode: (b) => `${b[4]}.${b[5]}.${b[6]}.${b[7]}/${view(b).getUint32(0, true)}`,
};

/**
 * Raw bytes (the default): a `Uint8Array` of exactly the map's size; for sizes 1, 2, 4 and 8 also a number or
 * bigint (little-endian, unsigned or two's complement). Decodes to a `Buffer` copy.
 */
export const bytes: Codec<Buffer> = {
  name: 'bytes',
  size: undefined,
  encode(v, out) {
    const x: unknown = v;
    if (x instanceof Uint8Array) {
      if (x.length !== out.length) throw new RangeError(`${x.length} bytes given, ${out.length} expected`);
      out.set(x);
      return;
    }
    if ((typeof x === 'number' && Number.isInteger(x)) || typeof x === 'bigint') {
      const n = out.length;
      if (n !== 1 && n !== 2 && n !== 4 && n !== 8) throw new TypeError(`a number is only accepted for 1, 2, 4 or 8 bytes, not ${n}`);
      const big = BigInt(x);
      if (big < -(1n << BigInt(8 * n - 1)) || big >= 1n << BigInt(8 * n)) throw new RangeError(`${String(x)} does not fit ${n} bytes`);
      let u = BigInt.asUintN(8 * n, big);
      for (let i = 0; i < n; i++, u >>= 8n) out[i] = Number(u & 0xffn);
      return;
    }
    throw new TypeError(`expected a Uint8Array, number or bigint, got ${x === null ? 'null' : typeof x}`);
  },
  decode: (b) => b,
};

/** The built-in codecs by name. */
export const codecs = {
  bytes,
  u8: intCodec('u8', 1, false),
  u16: intCodec('u16', 2, false),
  u32: intCodec('u32', 4, false),
  i8: intCodec('i8', 1, true),
  i16: intCodec('i16', 2, true),
  i32: intCodec('i32', 4, true),
  u64: bigCodec('u64', false),
  i64: bigCodec('i64', true),
  ipv4,
  'ipv4/lpm': ipv4Lpm,
} as const;

/** Names of the built-in codecs. */
export type CodecName = keyof typeof codecs;
/** A codec or the name of a built-in one. */
export type CodecLike<T> = Codec<T> | CodecName;
/** The JS type a codec (or codec name) handles. */
export type CodecType<C> = C extends Codec<infer T> ? T : C extends CodecName ? (typeof codecs)[C] extends Codec<infer T> ? T : never : never;

/** Resolves a codec name; checks the codec fits `size` bytes (`what` names the key or the value in errors). */
export function resolveCodec<T>(c: CodecLike<T>, size: number, what: 'key' | 'value', map: string): Codec<T> {
  const codec = (typeof c === 'string' ? codecs[c] : c) as Codec<T> | undefined;
  if (codec === undefined) throw new MapError('bad_definition', `map '${map}': unknown codec '${String(c)}'`);
  if (codec.size !== undefined && codec.size !== size) {
    throw new MapError(what === 'key' ? 'bad_key' : 'bad_value', `map '${map}': ${what} codec '${codec.name}' is ${codec.size} bytes, the map's ${what} is ${size}`);
  }
  return codec;
}
