/**
 * Writing classic pcap files: {@link encodePcap} for a whole capture in memory, {@link PcapWriter} to stream
 * one record at a time into any sink (a file with {@link openPcapFile}).
 *
 * Files are written little-endian with magic `a1b2c3d4` (microsecond timestamps) or `a1b23c4d` (nanosecond),
 * version 2.4, as libpcap writes them on x86. A packet longer than the snaplen is truncated to it, its original
 * length kept in the record.
 *
 * Not here: reading (reader.ts); pcapng output (pcap is what `tcpdump -r` and every tool reads).
 */

import { createWriteStream, type WriteStream } from 'node:fs';
import { PcapError } from './errors.js';

/** One packet to write. */
export interface PcapWritePacket {
  /** The captured bytes. */
  readonly data: Uint8Array;
  /** Capture time in nanoseconds since the Unix epoch. Default 0. */
  readonly timestampNs?: bigint;
  /** Length of the packet on the wire (≥ `data.length`). Default `data.length`. */
  readonly origLen?: number;
}

/** Options of a pcap file. */
export interface PcapWriteOptions {
  /** Link-layer header type (LINKTYPE_*: 1 Ethernet, 101 raw IP, 113 Linux cooked, 228 IPv4, 229 IPv6). */
  readonly linkType: number;
  /** Nanosecond timestamps (magic a1b23c4d) instead of microseconds. Default false. */
  readonly nanosecond?: boolean;
  /** Maximum captured length per packet. Default 262144, as tcpdump. */
  readonly snaplen?: number;
}

/** The default snaplen of tcpdump and of {@link PcapWriteOptions.snaplen}. */
export const DEFAULT_SNAPLEN = 262144;
/** Size of the pcap file header and of a record header. */
export const PCAP_HEADER_SIZE = 24;
export const PCAP_RECORD_HEADER_SIZE = 16;

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
const U32_MAX = 0xffffffff;

/** A whole pcap file: the header then one record per packet. */
export function encodePcap(packets: readonly PcapWritePacket[], options: PcapWriteOptions): Uint8Array {
  const enc = new PcapRecordEncoder(options);
  let size = PCAP_HEADER_SIZE;
  for (const p of packets) size += PCAP_RECORD_HEADER_SIZE + enc.capturedLength(p);
  const out = new Uint8Array(size);
  out.set(enc.header(), 0);
  let at = PCAP_HEADER_SIZE;
  packets.forEach((p, i) => {
    at += enc.encodeInto(p, out, at, i);
  });
  return out;
}

/** Encodes the header and the records of one pcap file. Validates its options once. */
class PcapRecordEncoder {
  readonly linkType: number;
  readonly nanosecond: boolean;
  readonly snaplen: number;

  constructor(options: PcapWriteOptions) {
    const { linkType, nanosecond = false, snaplen = DEFAULT_SNAPLEN } = options;
    if (!Number.isInteger(linkType) || linkType < 0 || linkType > U32_MAX) {
      throw new RangeError(`linkType must be a u32, got ${linkType}`);
    }
    if (!Number.isInteger(snaplen) || snaplen <= 0 || snaplen > U32_MAX) {
      throw new RangeError(`snaplen must be a positive u32, got ${snaplen}`);
    }
    this.linkType = linkType;
    this.nanosecond = nanosecond;
    this.snaplen = snaplen;
  }

  header(): Uint8Array {
    const out = new Uint8Array(PCAP_HEADER_SIZE);
    const v = new DataView(out.buffer);
    v.setUint32(0, this.nanosecond ? MAGIC_NS : MAGIC_US, true);
    v.setUint16(4, 2, true);
    v.setUint16(6, 4, true);
    // thiszone and sigfigs: 0
    v.setUint32(16, this.snaplen, true);
    v.setUint32(20, this.linkType, true);
    return out;
  }

  capturedLength(p: PcapWritePacket): number {
    return Math.min(p.data.length, this.snaplen);
  }

  /** Writes packet `index`'s record at `out[at..]`; returns the bytes written. */
  encodeInto(p: PcapWritePacket, out: Uint8Array, at: number, index: number): number {
    const caplen = this.capturedLength(p);
    const origLen = p.origLen ?? p.data.length;
    if (!Number.isInteger(origLen) || origLen < p.data.length || origLen > U32_MAX) {
      throw new PcapError('bad_packet', `packet ${index}: original length ${origLen} is below its ${p.data.length} bytes or not a u32`, at);
    }
    const ts = p.timestampNs ?? 0n;
    if (ts < 0n) throw new PcapError('bad_packet', `packet ${index}: negative timestamp`, at);
    const unit = this.nanosecond ? 1n : 1000n;
    const seconds = ts / 1_000_000_000n;
    if (seconds > BigInt(U32_MAX)) throw new PcapError('bad_packet', `packet ${index}: timestamp past 2106`, at);
    const v = new DataView(out.buffer, out.byteOffset + at, PCAP_RECORD_HEADER_SIZE);
    v.setUint32(0, Number(seconds), true);
    v.setUint32(4, Number((ts % 1_000_000_000n) / unit), true);
    v.setUint32(8, caplen, true);
    v.setUint32(12, origLen, true);
    out.set(caplen === p.data.length ? p.data : p.data.subarray(0, caplen), at + PCAP_RECORD_HEADER_SIZE);
    return PCAP_RECORD_HEADER_SIZE + caplen;
  }
}

/** Where a {@link PcapWriter} sends its bytes; may return a promise to apply back-pressure. */
export type PcapSink = (chunk: Uint8Array) => void | Promise<void>;

/**
 * A streaming pcap writer: the header goes out with the first flush, records are gathered into chunks of
 * about `chunkSize` bytes and handed to the sink. Call {@link close} at the end to flush the rest.
 */
export class PcapWriter {
  private readonly enc: PcapRecordEncoder;
  private readonly chunkSize: number;
  private buffer: Uint8Array;
  private used: number;
  private count = 0;
  private closed = false;

  constructor(private readonly sink: PcapSink, options: PcapWriteOptions & { chunkSize?: number }) {
    this.enc = new PcapRecordEncoder(options);
    this.chunkSize = options.chunkSize ?? 1 << 16;
    this.buffer = new Uint8Array(Math.max(this.chunkSize, PCAP_HEADER_SIZE));
    this.buffer.set(this.enc.header(), 0);
    this.used = PCAP_HEADER_SIZE;
  }

  /** Packets written so far. */
  get packets(): number {
    return this.count;
  }

  /** Appends one record; flushes to the sink when the current chunk is full. */
  async write(packet: PcapWritePacket): Promise<void> {
    if (this.closed) throw new Error('PcapWriter: write after close');
    const size = PCAP_RECORD_HEADER_SIZE + this.enc.capturedLength(packet);
    if (this.used + size > this.buffer.length) {
      await this.flush();
      if (size > this.buffer.length) this.buffer = new Uint8Array(size);
    }
    this.used += this.enc.encodeInto(packet, this.buffer, this.used, this.count);
    this.count++;
  }

  /** Hands what is buffered to the sink. */
  async flush(): Promise<void> {
    if (this.used === 0) return;
    const chunk = this.buffer.slice(0, this.used);
    this.used = 0;
    await this.sink(chunk);
  }

  /** Flushes the rest; further writes throw. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
  }
}

/** A {@link PcapWriter} to a file; `close()` also closes the file (and reports a write error, if one happened). */
export function openPcapFile(path: string, options: PcapWriteOptions): PcapWriter & { close(): Promise<void> } {
  const stream = createWriteStream(path);
  let failure: Error | undefined;
  stream.on('error', (e) => {
    failure = e;
  });
  const writer = new PcapWriter((chunk) => writeChunk(stream, chunk, () => failure), options);
  const close = writer.close.bind(writer);
  writer.close = async () => {
    await close();
    await new Promise<void>((resolve, reject) => {
      if (failure) return reject(failure);
      stream.end(() => (failure ? reject(failure) : resolve()));
    });
  };
  return writer;
}

/** Writes a chunk, waiting for 'drain' when the stream's buffer is full. */
function writeChunk(stream: WriteStream, chunk: Uint8Array, failure: () => Error | undefined): Promise<void> | void {
  const err = failure();
  if (err) throw err;
  if (stream.write(chunk)) return;
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      stream.off('error', onError);
      resolve();
    };
    const onError = (e: Error) => {
      stream.off('drain', onDrain);
      reject(e);
    };
    stream.once('drain', onDrain);
    stream.once('error', onError);
  });
}
