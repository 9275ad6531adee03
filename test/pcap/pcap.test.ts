// Capture files (src/pcap): the writer's output read back (µs and ns), files tcpdump wrote, pcap in both byte
// orders, pcapng built here block by block (both byte orders, several sections and interfaces, if_tsresol and
// if_tsoffset, EPB, SPB, the obsolete PB, unknown blocks), any chunking; damage: a PcapError with the offset
// after every complete packet before it, at every truncation point, and for random corruption.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PcapError } from '../../src/pcap/errors.js';
import { CaptureParser, decodeCapture, readCapture, readCaptureBatches, type CapturePacket } from '../../src/pcap/reader.js';
import { encodePcap, PcapWriter } from '../../src/pcap/writer.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'pcap');
const bytes = (...xs: number[]) => Uint8Array.from(xs);

async function collect(source: Parameters<typeof readCapture>[0]): Promise<{ packets: CapturePacket[]; error?: unknown }> {
  const packets: CapturePacket[] = [];
  try {
    for await (const p of readCapture(source)) packets.push(p);
    return { packets };
  } catch (error) {
    return { packets, error };
  }
}

function chunks(data: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

const PACKETS = [
  { data: bytes(1, 2, 3, 4, 5, 6), timestampNs: 1_700_000_000_123_456_789n },
  { data: new Uint8Array(0), timestampNs: 5n },
  { data: Uint8Array.from({ length: 300 }, (_, i) => i & 0xff), timestampNs: 2_000_000_000n, origLen: 1500 },
];

describe('writer → reader', () => {
  it('round-trips microsecond files (timestamps truncated to µs)', () => {
    const file = encodePcap(PACKETS, { linkType: 1 });
    const got = decodeCapture(file);
    expect(got.map((p) => [p.index, p.linkType, p.interface, p.timestampNs, p.capturedLength, p.originalLength, [...p.data]])).toEqual([
      [0, 1, 0, 1_700_000_000_123_456_000n, 6, 6, [1, 2, 3, 4, 5, 6]],
      [1, 1, 0, 0n, 0, 0, []],
      [2, 1, 0, 2_000_000_000n, 300, 1500, [...PACKETS[2].data]],
    ]);
  });

  it('round-trips nanosecond files and truncates to the snaplen', () => {
    const got = decodeCapture(encodePcap(PACKETS, { linkType: 228, nanosecond: true, snaplen: 100 }));
    expect(got.map((p) => [p.linkType, p.timestampNs, p.capturedLength, p.originalLength])).toEqual([
      [228, PACKETS[0].timestampNs, 6, 6], [228, 5n, 0, 0], [228, 2_000_000_000n, 100, 1500],
    ]);
    expect(got[2].data).toEqual(PACKETS[2].data.subarray(0, 100));
  });

  it('the streaming writer produces the same bytes as encodePcap, in chunks', async () => {
    const out: Uint8Array[] = [];
    const w = new PcapWriter((c) => { out.push(c); }, { linkType: 113, nanosecond: true, chunkSize: 64 });
    for (const p of PACKETS) await w.write(p);
    await w.close();
    expect(out.length).toBeGreaterThan(1);
    expect(Buffer.concat(out)).toEqual(Buffer.from(encodePcap(PACKETS, { linkType: 113, nanosecond: true })));
    await expect(w.write(PACKETS[0])).rejects.toThrow(/after close/);
  });

  it('rejects impossible packets', () => {
    expect(() => encodePcap([{ data: bytes(1, 2), origLen: 1 }], { linkType: 1 })).toThrow(PcapError);
    expect(() => encodePcap([{ data: bytes(1), timestampNs: -1n }], { linkType: 1 })).toThrow(PcapError);
    expect(() => encodePcap([], { linkType: 1, snaplen: 0 })).toThrow(RangeError);
  });
});

describe('files tcpdump wrote', () => {
  it.each([['tcpdump-us.pcap', 1_000_000n], ['tcpdump-ns.pcap', 1_000_000_000n]])('%s', async (name, units) => {
    const file = readFileSync(join(FIXTURES, name));
    const { packets, error } = await collect(join(FIXTURES, name));
    expect(error).toBeUndefined();
    expect(packets).toHaveLength(12);
    expect(packets.every((p) => p.linkType === 1 && p.data.length === p.capturedLength)).toBe(true);
    const parser = new CaptureParser();
    parser.push(file);
    expect([...parser.packets()]).toEqual(packets);
    expect(parser.interfaces[0].unitsPerSecond).toBe(units);
    // Both precisions hold the same packets at the same times (the corpus's are whole microseconds).
    expect(packets.map((p) => p.timestampNs)).toEqual(decodeCapture(readFileSync(join(FIXTURES, 'tcpdump-us.pcap'))).map((p) => p.timestampNs));
  });
});

/** A big-endian copy of a little-endian pcap file (every header field swapped). */
function toBigEndian(file: Uint8Array): Uint8Array {
  const out = file.slice();
  const v = new DataView(out.buffer), src = new DataView(file.buffer, file.byteOffset);
  const swap32 = (at: number) => v.setUint32(at, src.getUint32(at, true), false);
  const swap16 = (at: number) => v.setUint16(at, src.getUint16(at, true), false);
  swap32(0); swap16(4); swap16(6); swap32(8); swap32(12); swap32(16); swap32(20);
  for (let at = 24; at < file.length;) {
    const caplen = src.getUint32(at + 8, true);
    for (const f of [0, 4, 8, 12]) swap32(at + f);
    at += 16 + caplen;
  }
  return out;
}

describe('pcap byte orders', () => {
  it('reads big-endian files, µs and ns', () => {
    for (const nanosecond of [false, true]) {
      const le = encodePcap(PACKETS, { linkType: 101, nanosecond });
      expect(decodeCapture(toBigEndian(le))).toEqual(decodeCapture(le));
    }
  });
});

/** pcapng built block by block. */
class Ng {
  private parts: Uint8Array[] = [];
  constructor(private readonly little = true) {}
  private block(type: number, body: Uint8Array): this {
    const padded = new Uint8Array((body.length + 3) & ~3);
    padded.set(body);
    const b = new Uint8Array(12 + padded.length), v = new DataView(b.buffer);
    v.setUint32(0, type, this.little); v.setUint32(4, b.length, this.little);
    b.set(padded, 8); v.setUint32(b.length - 4, b.length, this.little);
    this.parts.push(b);
    return this;
  }
  private fields(spec: [number, 2 | 4 | 8][]): Uint8Array {
    const size = spec.reduce((s, [, n]) => s + n, 0), b = new Uint8Array(size), v = new DataView(b.buffer);
    let at = 0;
    for (const [x, n] of spec) {
      if (n === 2) v.setUint16(at, x, this.little); else if (n === 4) v.setUint32(at, x, this.little); else v.setBigInt64(at, BigInt(x), this.little);
      at += n;
    }
    return b;
  }
  shb(): this { return this.block(0x0a0d0d0a, this.fields([[0x1a2b3c4d, 4], [1, 2], [0, 2], [-1, 8]])); }
  idb(linkType: number, snaplen: number, options: { tsresol?: number; tsoffset?: number } = {}): this {
    const opts: Uint8Array[] = [];
    if (options.tsresol !== undefined) opts.push(this.fields([[9, 2], [1, 2]]), bytes(options.tsresol, 0, 0, 0));
    if (options.tsoffset !== undefined) opts.push(this.fields([[14, 2], [8, 2], [options.tsoffset, 8]]));
    if (opts.length > 0) opts.push(this.fields([[0, 2], [0, 2]]));
    return this.block(1, Buffer.concat([this.fields([[linkType, 2], [0, 2], [snaplen, 4]]), ...opts]));
  }
  epb(iface: number, ts: bigint, data: Uint8Array, origLen = data.length): this {
    return this.block(6, Buffer.concat([this.fields([[iface, 4], [Number(ts >> 32n), 4], [Number(ts & 0xffffffffn), 4], [data.length, 4], [origLen, 4]]), data, new Uint8Array((4 - (data.length % 4)) % 4)]));
  }
  opb(iface: number, ts: bigint, data: Uint8Array): this {
    return this.block(2, Buffer.concat([this.fields([[iface, 2], [0, 2], [Number(ts >> 32n), 4], [Number(ts & 0xffffffffn), 4], [data.length, 4], [data.length, 4]]), data, new Uint8Array((4 - (data.length % 4)) % 4)]));
  }
  spb(origLen: number, data: Uint8Array): this { return this.block(3, Buffer.concat([this.fields([[origLen, 4]]), data])); }
  unknown(): this { return this.block(0x0bad, bytes(1, 2, 3, 4, 5)); }
  bytes(): Uint8Array { return Buffer.concat(this.parts); }
}

const D1 = bytes(0xde, 0xad, 0xbe, 0xef, 1), D2 = bytes(9, 8, 7, 6, 5, 4, 3, 2, 1, 0);

/** A file with two sections: one little-endian (two interfaces), one big-endian. */
function twoSections(): Uint8Array {
  const first = new Ng(true).shb().idb(1, 65535).idb(228, 4, { tsresol: 9, tsoffset: 10 }).unknown()
    .epb(0, 1_500_000n, D1).epb(1, 7n, D2, 20).spb(5, D1).opb(0, 2n, D2).bytes();
  const second = new Ng(false).shb().idb(113, 0, { tsresol: 0x80 | 10 }).epb(0, 3072n, D2).bytes();
  return Buffer.concat([first, second]);
}

describe('pcapng', () => {
  it('reads sections in both byte orders with several interfaces, resolutions and block kinds', async () => {
    const { packets, error } = await collect(twoSections());
    expect(error).toBeUndefined();
    expect(packets.map((p) => [p.index, p.linkType, p.interface, p.timestampNs, p.capturedLength, p.originalLength])).toEqual([
      [0, 1, 0, 1_500_000_000n, 5, 5],
      [1, 228, 1, 10_000_000_007n, 10, 20],
      [2, 1, 0, 0n, 5, 5], // SPB: interface 0, no timestamp
      [3, 1, 0, 2000n, 10, 10], // obsolete packet block
      [4, 113, 0, 3_000_000_000n, 10, 10], // 2^-10 s units
    ]);
    expect(packets.map((p) => [...p.data])).toEqual([[...D1], [...D2], [...D1], [...D2], [...D2]]);
  });

  it("limits simple packets to interface 0's snaplen", () => {
    const got = decodeCapture(new Ng().shb().idb(1, 3).spb(5, D1).bytes());
    expect([...got[0].data]).toEqual([0xde, 0xad, 0xbe]);
    expect(got[0].originalLength).toBe(5);
  });

  it('names the damage and its offset', () => {
    const noIdb = new Ng().shb().epb(0, 0n, D1).bytes();
    expect(() => decodeCapture(noIdb)).toThrow(expect.objectContaining({ code: 'bad_interface', offset: 28 }));
    const badTrailer = new Ng().shb().idb(1, 0).bytes();
    badTrailer[badTrailer.length - 4] ^= 4;
    expect(() => decodeCapture(badTrailer)).toThrow(expect.objectContaining({ code: 'bad_block', offset: 28 }));
    expect(() => decodeCapture(new Ng().idb(1, 0).bytes())).toThrow(expect.objectContaining({ code: 'bad_magic', offset: 0 }));
    expect(() => decodeCapture(bytes(1, 2, 3, 4, 5))).toThrow(expect.objectContaining({ code: 'bad_magic', offset: 0 }));
    expect(() => decodeCapture(new Uint8Array(0))).toThrow(expect.objectContaining({ code: 'truncated', offset: 0 }));
    const v3 = encodePcap([], { linkType: 1 });
    v3[4] = 3;
    expect(() => decodeCapture(v3)).toThrow(expect.objectContaining({ code: 'bad_header', offset: 0 }));
  });
});

/** Every packet of `file`, and the error, when read from chunks of `size` bytes. */
async function readChunked(file: Uint8Array, size: number) {
  return collect((async function* () { yield* chunks(file, size); })());
}

describe('damage', () => {
  const files: [string, Uint8Array][] = [['pcap', encodePcap(PACKETS, { linkType: 1 })], ['pcapng', twoSections()]];

  it.each(files)('%s: readCaptureBatches gives the same packets a chunk at a time, then the same error', async (_, file) => {
    const whole = decodeCapture(file);
    const batches: CapturePacket[][] = [];
    for await (const b of readCaptureBatches((async function* () { yield* chunks(file, 7); })())) batches.push(b);
    expect(batches.flat()).toEqual(whole);
    expect(batches.every((b) => b.length > 0)).toBe(true);
    const cut = file.subarray(0, file.length - 3);
    const got: CapturePacket[] = [];
    const error = await (async () => {
      try {
        for await (const b of readCaptureBatches(cut)) got.push(...b);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(PcapError);
    expect(got).toEqual(whole.slice(0, got.length));
    expect(got.length).toBe(whole.length - 1);
  });

  it.each(files)('%s: any chunking gives the same packets', async (_, file) => {
    const whole = decodeCapture(file);
    for (const size of [1, 3, 7, 64, 4096]) expect((await readChunked(file, size)).packets).toEqual(whole);
  });

  it.each(files)('%s: truncated at every offset, the complete packets then a PcapError (or a clean end at a boundary)', async (_, file) => {
    const whole = decodeCapture(file);
    const ends = new Set<number>();
    for (let cut = 0; cut <= file.length; cut++) {
      const { packets, error } = await readChunked(file.subarray(0, cut), 5);
      expect(whole.slice(0, packets.length)).toEqual(packets);
      if (error === undefined) ends.add(cut);
      else {
        expect(error).toBeInstanceOf(PcapError);
        expect((error as PcapError).code).toBe('truncated');
        expect((error as PcapError).offset).toBeLessThanOrEqual(cut);
      }
    }
    expect(ends.has(file.length)).toBe(true);
    expect(ends.has(0)).toBe(false);
  });

  it.each(files)('%s: random corruption never throws anything but PcapError', (_, file) => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat({ max: file.length - 1 }), fc.nat({ max: 255 })), { minLength: 1, maxLength: 6 }), (flips) => {
      const bad = file.slice();
      for (const [at, v] of flips) bad[at] = v;
      const parser = new CaptureParser();
      parser.push(bad);
      try {
        for (const p of parser.packets()) expect(p.data.length).toBe(p.capturedLength);
        parser.finish();
      } catch (e) {
        expect(e).toBeInstanceOf(PcapError);
        expect((e as PcapError).offset).toBeLessThan(bad.length);
      }
    }), { numRuns: 500 });
  });
});
