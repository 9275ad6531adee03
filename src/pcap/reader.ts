/**
 * Reading capture files: classic pcap (microsecond and nanosecond magics, either byte order) and pcapng (SHB in
 * either byte order and several sections, IDB with `if_tsresol` / `if_tsoffset`, EPB, SPB, the obsolete PB;
 * other blocks skipped), one packet at a time and without loading the whole file.
 *
 * {@link readCapture} takes a file path, a `Uint8Array`, or an (async) iterable of chunks, and returns an async
 * iterable of {@link CapturePacket}s; {@link CaptureParser} is the synchronous core it feeds (push chunks, take
 * the packets that are complete). A damaged file yields every complete packet before the damage, then throws a
 * {@link PcapError} naming the byte offset of the header, block or record at fault.
 *
 * Not here: writing (writer.ts); the meaning of the link-layer headers (the filters' business).
 */

import { createReadStream } from 'node:fs';
import { PcapError } from './errors.js';

/** One packet of a capture file. */
export interface CapturePacket {
  /** 0-based position of the packet in the file (over every section and interface). */
  readonly index: number;
  /** Link-layer header type (LINKTYPE_*) of the packet's interface. */
  readonly linkType: number;
  /** The interface (pcapng: the IDB's index in its section; pcap: 0). */
  readonly interface: number;
  /** Capture time in nanoseconds since the Unix epoch (pcapng simple packets: 0, they carry none). */
  readonly timestampNs: bigint;
  /** Bytes captured (= `data.length`). */
  readonly capturedLength: number;
  /** Length of the packet on the wire. */
  readonly originalLength: number;
  /**
   * The captured bytes: a view of the parser's buffer, which the parser never writes again (it moves on to a
   * new buffer rather than reuse one), so the view stays valid and unchanged for as long as it is held.
   */
  readonly data: Uint8Array;
}

/**
 * A packet as the parser makes it: the timestamp is computed on first read (BigInt arithmetic costs more than
 * the rest of a record's parsing, and many readers never look at it).
 */
class Packet implements CapturePacket {
  private ts: bigint | undefined;

  constructor(
    readonly index: number,
    readonly linkType: number,
    ifIndex: number,
    /** The timestamp's two 32-bit words as the file has them (pcap: seconds and fraction; pcapng: units). */
    private readonly hi: number,
    private readonly lo: number,
    private readonly iface: CaptureInterface | undefined,
    readonly data: Uint8Array,
    readonly originalLength: number,
  ) {
    this.interface = ifIndex;
  }

  readonly interface: number;

  get capturedLength(): number {
    return this.data.length;
  }

  get timestampNs(): bigint {
    if (this.ts === undefined) {
      const i = this.iface;
      if (i === undefined) this.ts = 0n;
      else if (i.pcapSeconds) this.ts = BigInt(this.hi) * NS_PER_SECOND + BigInt(this.lo) * (NS_PER_SECOND / i.unitsPerSecond);
      else this.ts = toNanoseconds((BigInt(this.hi) << 32n) | BigInt(this.lo), i);
    }
    return this.ts;
  }
}

/** An interface of the file: pcap has one, pcapng one per IDB of the current section. */
export interface CaptureInterface {
  readonly linkType: number;
  readonly snaplen: number;
  /** Timestamp units per second (1e6 for microseconds, 1e9 for nanoseconds, 2^n for binary resolutions). */
  readonly unitsPerSecond: bigint;
  /** Seconds added to every timestamp (pcapng `if_tsoffset`). */
  readonly offsetSeconds: bigint;
  /** pcap: timestamps are seconds and a fraction (pcapng: one 64-bit count of units). */
  readonly pcapSeconds?: boolean;
}

/** What a file is, known once its first bytes are read. */
export type CaptureFormat = 'pcap' | 'pcapng';

/** Where to read a capture from: a file path, the whole file in memory, or its bytes in chunks. */
export type CaptureSource = string | Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

/** Captured lengths above this are taken as corruption rather than waited for. */
export const MAX_PACKET_SIZE = 1 << 26;
/** pcapng blocks longer than this are taken as corruption. */
const MAX_BLOCK_SIZE = MAX_PACKET_SIZE + 4096;

const PCAP_US = 0xa1b2c3d4, PCAP_NS = 0xa1b23c4d, PCAPNG_SHB = 0x0a0d0d0a, BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const BLOCK_IDB = 1, BLOCK_OPB = 2, BLOCK_SPB = 3, BLOCK_EPB = 6;
const OPT_END = 0, OPT_TSRESOL = 9, OPT_TSOFFSET = 14;
const NS_PER_SECOND = 1_000_000_000n;

/**
 * Incremental capture parser: {@link push} bytes as they arrive, take the packets now complete with
 * {@link packets}, and call {@link finish} at the end of the file (it throws if the file ends inside a unit).
 */
export class CaptureParser {
  private buf = new Uint8Array(0);
  private view = new DataView(this.buf.buffer);
  /** Parsed up to `buf[pos]`; valid bytes end at `buf[end]`; `buf[0]` is at file offset `base`. */
  private pos = 0;
  private end = 0;
  private base = 0;
  private count = 0;
  private little = true;
  private fmt: CaptureFormat | undefined;
  private ifaces: CaptureInterface[] = [];
  private headerDone = false;

  /** Bytes of the file parsed so far (the offset in the file of the next header, block or record). */
  get offset(): number {
    return this.base + this.pos;
  }

  /** `pcap` or `pcapng`, once the file header has been read. */
  get format(): CaptureFormat | undefined {
    return this.fmt;
  }

  /** The interfaces known so far (pcapng: those of the current section). */
  get interfaces(): readonly CaptureInterface[] {
    return this.ifaces;
  }

  /** Whether a pcap file has nanosecond timestamps, or a pcapng interface a resolution finer than microseconds. */
  get subMicrosecond(): boolean {
    return this.ifaces.some((i) => i.unitsPerSecond > 1_000_000n);
  }

  /**
   * Adds the next bytes of the file. When they do not fit after what is buffered, the unparsed rest moves to a
   * new buffer: bytes once buffered are never written again, so packets (views of them) stay valid.
   */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const live = this.end - this.pos;
    if (this.end + chunk.length > this.buf.length) {
      const next = new Uint8Array(Math.max(2 * (live + chunk.length), 1 << 16));
      next.set(this.buf.subarray(this.pos, this.end), 0);
      this.buf = next;
      this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
      this.base += this.pos;
      this.pos = 0;
      this.end = live;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  /** The packets complete in what was pushed so far; throws {@link PcapError} (after them) at damage. */
  *packets(): Generator<CapturePacket> {
    for (;;) {
      const p = this.fmt === 'pcap' && this.headerDone ? this.pcapRecord() : this.nextUnit();
      if (p === undefined) return;
      if (p !== null) yield p;
    }
  }

  /** The end of the file: throws {@link PcapError} if it stops inside a header, block or record. */
  finish(): void {
    const at = this.base + this.pos;
    if (!this.headerDone && this.end === this.pos && at === 0) throw new PcapError('truncated', 'empty file: no pcap or pcapng header', 0);
    if (this.end > this.pos) {
      const what = !this.headerDone ? 'the file header' : this.fmt === 'pcap' ? `the record of packet ${this.count}` : 'a block';
      throw new PcapError('truncated', `the file ends inside ${what} (${this.end - this.pos} bytes of it present)`, at);
    }
  }

  /** Offset in the file of `buf[i]`. */
  private offsetOf(i: number): number {
    return this.base + i;
  }

  private u32(i: number): number {
    return this.view.getUint32(i, this.little);
  }

  private u16(i: number): number {
    return this.view.getUint16(i, this.little);
  }

  /** A file header or a pcapng block: a packet, `null` for a unit without one, `undefined` when more bytes are needed. */
  private nextUnit(): CapturePacket | null | undefined {
    if (this.fmt === undefined) {
      if (this.end - this.pos < 4) return undefined;
      const magic = this.view.getUint32(this.pos, true);
      if (magic === PCAPNG_SHB) this.fmt = 'pcapng';
      else if ([PCAP_US, PCAP_NS].includes(magic) || [PCAP_US, PCAP_NS].includes(this.view.getUint32(this.pos, false))) this.fmt = 'pcap';
      else throw new PcapError('bad_magic', `not a pcap or pcapng file (magic 0x${magic.toString(16).padStart(8, '0')})`, this.offsetOf(this.pos));
    }
    return this.fmt === 'pcap' ? this.pcapHeader() : this.pcapngBlock();
  }

  private pcapHeader(): null | undefined {
    if (this.end - this.pos < 24) return undefined;
    const p = this.pos, magicLe = this.view.getUint32(p, true);
    this.little = magicLe === PCAP_US || magicLe === PCAP_NS;
    const ns = this.u32(p) === PCAP_NS;
    const major = this.u16(p + 4);
    if (major !== 2) throw new PcapError('bad_header', `unsupported pcap version ${major}.${this.u16(p + 6)}`, this.offsetOf(p));
    this.ifaces = [{ linkType: this.u32(p + 20) & 0xffff, snaplen: this.u32(p + 16), unitsPerSecond: ns ? NS_PER_SECOND : 1_000_000n, offsetSeconds: 0n, pcapSeconds: true }];
    this.headerDone = true;
    this.pos += 24;
    return null;
  }

  private pcapRecord(): CapturePacket | undefined {
    const p = this.pos;
    if (this.end - p < 16) return undefined;
    const caplen = this.u32(p + 8), origlen = this.u32(p + 12);
    if (caplen > MAX_PACKET_SIZE) {
      throw new PcapError('bad_packet', `packet ${this.count}: captured length ${caplen} is larger than ${MAX_PACKET_SIZE}`, this.offsetOf(p));
    }
    if (this.end - p < 16 + caplen) return undefined;
    this.pos = p + 16 + caplen;
    return new Packet(this.count++, this.ifaces[0].linkType, 0, this.u32(p), this.u32(p + 4), this.ifaces[0], this.buf.subarray(p + 16, p + 16 + caplen), origlen);
  }

  private pcapngBlock(): CapturePacket | null | undefined {
    const p = this.pos, at = this.offsetOf(p);
    if (this.end - p < 12) return undefined;
    const isShb = this.view.getUint32(p, true) === PCAPNG_SHB;
    if (isShb) {
      const bom = this.view.getUint32(p + 8, true);
      if (bom === BYTE_ORDER_MAGIC) this.little = true;
      else if (bom === 0x4d3c2b1a) this.little = false;
      else throw new PcapError('bad_magic', `section header with an unknown byte-order magic 0x${bom.toString(16)}`, at + 8);
    } else if (!this.headerDone) {
      throw new PcapError('bad_header', 'a pcapng file must start with a section header block', at);
    }
    const type = this.u32(p), length = this.u32(p + 4);
    if (length < 12 || length % 4 !== 0 || length > MAX_BLOCK_SIZE || (isShb && length < 28)) {
      throw new PcapError('bad_block', `block of type ${type} has an impossible length ${length}`, at);
    }
    if (this.end - p < length) return undefined;
    if (this.u32(p + length - 4) !== length) {
      throw new PcapError('bad_block', `block of type ${type}: trailing length ${this.u32(p + length - 4)} differs from ${length}`, at);
    }
    const body = p + 8, bodyEnd = p + length - 4;
    let out: CapturePacket | null = null;
    if (isShb) this.sectionHeader(body, at);
    else if (type === BLOCK_IDB) this.interfaceBlock(body, bodyEnd, at);
    else if (type === BLOCK_EPB || type === BLOCK_OPB) out = this.packetBlock(type, body, bodyEnd, at);
    else if (type === BLOCK_SPB) out = this.simplePacket(body, bodyEnd, at);
    this.pos = p + length;
    return out;
  }

  private sectionHeader(body: number, at: number): void {
    const major = this.u16(body + 4);
    if (major !== 1) throw new PcapError('bad_header', `unsupported pcapng version ${major}.${this.u16(body + 6)}`, at);
    this.ifaces = [];
    this.headerDone = true;
  }

  private interfaceBlock(body: number, bodyEnd: number, at: number): void {
    if (bodyEnd - body < 8) throw new PcapError('bad_block', 'interface description block too short', at);
    let unitsPerSecond = 1_000_000n, offsetSeconds = 0n;
    for (const o of this.options(body + 8, bodyEnd, at)) {
      if (o.code === OPT_TSRESOL && o.length >= 1) {
        const r = this.buf[o.value];
        const exp = r & 0x7f;
        if ((r & 0x80) === 0 ? exp > 18 : exp > 62) throw new PcapError('bad_block', `if_tsresol ${r} is too fine`, at);
        unitsPerSecond = (r & 0x80) === 0 ? 10n ** BigInt(exp) : 1n << BigInt(exp);
      } else if (o.code === OPT_TSOFFSET && o.length === 8) {
        offsetSeconds = this.view.getBigInt64(o.value, this.little);
      }
    }
    this.ifaces.push({ linkType: this.u16(body), snaplen: this.u32(body + 4), unitsPerSecond, offsetSeconds });
  }

  /** The options of a block, from `from` to `to`; stops at opt_endofopt. */
  private *options(from: number, to: number, at: number): Generator<{ code: number; length: number; value: number }> {
    let p = from;
    while (to - p >= 4) {
      const code = this.u16(p), length = this.u16(p + 2);
      if (code === OPT_END) return;
      const next = p + 4 + ((length + 3) & ~3);
      if (next > to) throw new PcapError('bad_block', `option ${code} of length ${length} overruns its block`, at);
      yield { code, length, value: p + 4 };
      p = next;
    }
  }

  private iface(id: number, at: number): CaptureInterface {
    const iface = this.ifaces[id];
    if (iface === undefined) throw new PcapError('bad_interface', `packet ${this.count} names interface ${id}, which no interface description block defined`, at);
    return iface;
  }

  private packetBlock(type: number, body: number, bodyEnd: number, at: number): CapturePacket {
    if (bodyEnd - body < 20) throw new PcapError('bad_block', 'packet block too short', at);
    const id = type === BLOCK_EPB ? this.u32(body) : this.u16(body);
    const iface = this.iface(id, at);
    const caplen = this.u32(body + 12), origlen = this.u32(body + 16);
    if (caplen > bodyEnd - body - 20) throw new PcapError('bad_block', `packet ${this.count}: captured length ${caplen} overruns its block`, at);
    return new Packet(this.count++, iface.linkType, id, this.u32(body + 4), this.u32(body + 8), iface, this.buf.subarray(body + 20, body + 20 + caplen), origlen);
  }

  private simplePacket(body: number, bodyEnd: number, at: number): CapturePacket {
    if (bodyEnd - body < 4) throw new PcapError('bad_block', 'simple packet block too short', at);
    const iface = this.iface(0, at);
    const origlen = this.u32(body);
    let caplen = Math.min(origlen, bodyEnd - body - 4);
    if (iface.snaplen > 0) caplen = Math.min(caplen, iface.snaplen);
    return new Packet(this.count++, iface.linkType, 0, 0, 0, undefined, this.buf.subarray(body + 4, body + 4 + caplen), origlen);
  }
}

function toNanoseconds(units: bigint, iface: CaptureInterface): bigint {
  return (units * NS_PER_SECOND) / iface.unitsPerSecond + iface.offsetSeconds * NS_PER_SECOND;
}

/** Options of {@link readCapture}. */
export interface ReadCaptureOptions {
  /** Called with the parser once it exists (to read its `format` and `interfaces` while packets come). */
  readonly parser?: (parser: CaptureParser) => void;
  /** File paths: the read size. Default 256 KiB. */
  readonly chunkSize?: number;
}

/**
 * The packets of a capture file, read as they are needed: from a path (a read stream), a `Uint8Array` (the
 * whole file), or chunks. Throws {@link PcapError} after the last complete packet when the file is damaged.
 * One `await` a packet; {@link readCaptureBatches} gives them a chunk at a time, for loops that go through
 * millions of packets.
 */
export async function* readCapture(source: CaptureSource, options: ReadCaptureOptions = {}): AsyncGenerator<CapturePacket> {
  for await (const batch of readCaptureBatches(source, options)) yield* batch;
}

/**
 * The packets of a capture file, as arrays: those complete after each chunk read (a path is read 256 KiB at a
 * time by default). The same packets, order and errors as {@link readCapture}, with one `await` a chunk instead
 * of one a packet (which costs more than reading the packet).
 */
export async function* readCaptureBatches(source: CaptureSource, options: ReadCaptureOptions = {}): AsyncGenerator<CapturePacket[]> {
  const parser = new CaptureParser();
  options.parser?.(parser);
  const chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array> = typeof source === 'string'
    ? createReadStream(source, { highWaterMark: options.chunkSize ?? 1 << 18 })
    : source instanceof Uint8Array ? [source] : source;
  for await (const chunk of chunks) {
    parser.push(chunk);
    const batch: CapturePacket[] = [];
    try {
      for (const p of parser.packets()) batch.push(p);
    } catch (e) {
      // Damage: the packets before it first, then the error.
      if (batch.length > 0) yield batch;
      throw e;
    }
    if (batch.length > 0) yield batch;
  }
  parser.finish();
}

/** Every packet of a capture held in memory, synchronously. Throws {@link PcapError} at damage. */
export function decodeCapture(bytes: Uint8Array): CapturePacket[] {
  const parser = new CaptureParser();
  parser.push(bytes);
  const out = [...parser.packets()];
  parser.finish();
  return out;
}
