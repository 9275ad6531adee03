/**
 * Ring buffers: records reserved and committed through the program-facing exports (as a program would),
 * read by the JS consumer. Order with out-of-order commits and discards, the kernel's record header, records
 * that wrap around the end of the ring, full rings, query, corrupted headers, bogus submits, and the async
 * consumer woken by a submit (shared memory) or polling (unshared).
 */

import { describe, expect, it } from 'vitest';
import { Runtime } from '../../runtime/runtime.js';
import { BPF_RB, BPF_RINGBUF } from '../../runtime/maps/abi.js';
import type { RingBuffer } from '../../runtime/maps/map.js';
import { MapError } from '../../runtime/maps/errors.js';

function setup(size = 4096, shared = false): { rt: Runtime; rb: RingBuffer; reserve(n: number, flags?: bigint): number; submit(p: number, flags?: bigint): void; discard(p: number): void; fill(p: number, n: number, seed: number): void; dv(): DataView } {
  const rt = new Runtime({ shared, mapArea: { metaBytes: 1 << 20, valueBytes: 1 << 20, readOnlyBytes: 0 } });
  const rb = rt.createMap({ name: 'events', type: 'ringbuf', maxEntries: size });
  const ex = rt.maps.exports;
  const dv = (): DataView => new DataView(rt.memory.buffer);
  return {
    rt,
    rb,
    dv,
    reserve: (n, flags = 0n) => Number(ex.bpf_ringbuf_reserve(rb.handle, BigInt(n), flags)),
    submit: (p, flags = 0n) => void ex.bpf_ringbuf_submit(BigInt(p), flags),
    discard: (p) => void ex.bpf_ringbuf_discard(BigInt(p), 0n),
    fill: (p, n, seed) => {
      for (let i = 0; i < n; i++) dv().setUint8(p + i, (seed + i) & 0xff);
    },
  };
}

const pattern = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (seed + i) & 0xff));

describe('ring buffer', () => {
  it('delivers committed records in reservation order; discarded ones are skipped', () => {
    const { rb, reserve, submit, discard, fill } = setup();
    const a = reserve(3);
    const b = reserve(10);
    const c = reserve(1);
    fill(a, 3, 1);
    fill(b, 10, 2);
    fill(c, 1, 3);
    submit(c);
    expect(rb.poll()).toEqual([]); // a is still reserved: nothing can pass it
    discard(a);
    expect(rb.poll()).toEqual([]); // b is still reserved
    submit(b);
    expect(rb.poll()).toEqual([pattern(10, 2), pattern(1, 3)]);
    expect(rb.poll()).toEqual([]);
  });

  it('writes the kernel record header: len with BUSY/DISCARD bits, page offset; 8-byte aligned records', () => {
    const { rb, reserve, submit, discard, dv } = setup(8192);
    const p = reserve(5);
    const data = p - 8;
    expect(dv().getUint32(data, true)).toBe((5 | BPF_RINGBUF.BUSY_BIT) >>> 0);
    expect(dv().getUint32(data + 4, true)).toBe(0);
    submit(p);
    expect(dv().getUint32(data, true)).toBe(5);
    const q = reserve(4096 - 16 - 8); // the rest of the first page...
    expect(q).toBe(p + 16);
    const r = reserve(1); // ...so this header sits at offset 4096: page 1
    expect(dv().getUint32(r - 4, true)).toBe(1);
    discard(r);
    expect(dv().getUint32(r - 8, true)).toBe((1 | BPF_RINGBUF.DISCARD_BIT) >>> 0);
    expect(rb.positions).toEqual({ consumer: 0n, producer: 16n + 4080n + 16n });
  });

  it('wraps around: a record crossing the end of the ring stays contiguous', () => {
    const { rb, reserve, submit, fill } = setup(4096);
    const recs: Buffer[] = [];
    for (let round = 0; round < 12; round++) {
      // 1000-byte records take 1008 bytes: positions drift across the end of the ring every few rounds.
      const ps = [reserve(1000), reserve(1000), reserve(1000)];
      expect(ps.every((p) => p !== 0)).toBe(true);
      ps.forEach((p, i) => {
        fill(p, 1000, round * 3 + i);
        submit(p);
        recs.push(pattern(1000, round * 3 + i));
      });
      expect(rb.poll()).toEqual(recs.splice(0));
    }
    expect(rb.positions.consumer).toBe(36n * 1008n);
    expect(rb.available).toBe(0);
  });

  it('refuses reservations that do not fit, and output reports EAGAIN', () => {
    const { rt, rb, reserve, submit } = setup(4096);
    const ex = rt.maps.exports;
    const whole = reserve(4096 - 8); // exactly the whole ring
    expect(whole).not.toBe(0);
    expect(reserve(1)).toBe(0);
    const s = rt.maps.scratch(16);
    expect(ex.bpf_ringbuf_output(rb.handle, BigInt(s), 4n, 0n)).toBe(-11n);
    expect(rb.available).toBe(4096);
    expect(reserve(4096 - 7)).toBe(0); // larger than the ring
    expect(reserve(8, 1n)).toBe(0); // flags must be 0
    expect(ex.bpf_ringbuf_output(rb.handle, BigInt(s), 4n, 4n)).toBe(-22n);
    submit(whole);
    expect(rb.poll().map((r) => r.length)).toEqual([4088]);
    expect(reserve(1)).not.toBe(0);
  });

  it('ringbuf_output copies the data; query reports the positions and sizes', () => {
    const { rt, rb } = setup(4096);
    const ex = rt.maps.exports;
    const s = rt.maps.scratch(64);
    rt.maps.u8().set(pattern(20, 9), s);
    expect(ex.bpf_ringbuf_output(rb.handle, BigInt(s), 20n, 0n)).toBe(0n);
    rt.maps.u8().fill(0, s, s + 20);
    expect(ex.bpf_ringbuf_query(rb.handle, BigInt(BPF_RB.AVAIL_DATA))).toBe(32n);
    expect(ex.bpf_ringbuf_query(rb.handle, BigInt(BPF_RB.RING_SIZE))).toBe(4096n);
    expect(ex.bpf_ringbuf_query(rb.handle, BigInt(BPF_RB.PROD_POS))).toBe(32n);
    expect(ex.bpf_ringbuf_query(rb.handle, 9n)).toBe(0n);
    expect(rb.ringSize).toBe(4096);
    const got: Buffer[] = [];
    expect(rb.consume((r) => void got.push(r))).toBe(1);
    expect(got).toEqual([pattern(20, 9)]);
    expect(ex.bpf_ringbuf_query(rb.handle, BigInt(BPF_RB.CONS_POS))).toBe(32n);
  });

  it('consume stops when the callback returns false; poll takes at most max', () => {
    const { rt, rb } = setup();
    const ex = rt.maps.exports;
    const s = rt.maps.scratch(8);
    for (let i = 0; i < 5; i++) {
      rt.maps.u8()[s] = i;
      ex.bpf_ringbuf_output(rb.handle, BigInt(s), 1n, 0n);
    }
    expect(rb.consume((r) => r[0] < 1)).toBe(2);
    expect(rb.poll(2).map((r) => r[0])).toEqual([2, 3]);
    expect(rb.poll().map((r) => r[0])).toEqual([4]);
  });

  it('ignores submits of anything but a reserved record', () => {
    const { rb, reserve, submit, discard, fill, dv } = setup();
    const p = reserve(16);
    fill(p, 16, 0);
    submit(p + 8); // inside the record: its bytes are not a BUSY header
    submit(0);
    submit(12345);
    discard(2 ** 40);
    expect(rb.poll()).toEqual([]);
    submit(p);
    submit(p); // already committed: no effect
    expect(dv().getUint32(p - 8, true)).toBe(16);
    expect(rb.poll()).toEqual([pattern(16, 0)]);
  });

  it('a corrupted header makes the consumer fail with EFAULT, never read outside the ring', () => {
    const { rb, reserve, submit, dv } = setup();
    const p = reserve(8);
    submit(p);
    dv().setUint32(p - 8, 3000, true); // a program overwrote the header with a length past the producer
    let err: unknown;
    try {
      rb.poll();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MapError);
    expect((err as MapError).code).toBe('EFAULT');
  });

  it('needs a power-of-2 size that is a multiple of 4096, and no keys or values', () => {
    const rt = new Runtime();
    for (const maxEntries of [0, 1024, 4096 + 4096 * 2, 12288]) {
      expect(() => rt.createMap({ type: 'ringbuf', maxEntries })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    }
    expect(() => rt.createMap({ type: 'ringbuf', keySize: 4, maxEntries: 4096 })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(rt.createMap({ type: 'ringbuf', maxEntries: 16384 }).ringSize).toBe(16384);
  });

  it('async iteration wakes on a submit (shared memory: Atomics.waitAsync on the wake-up word)', async () => {
    const { rt, rb } = setup(4096, true);
    const ex = rt.maps.exports;
    const s = rt.maps.scratch(8);
    const ac = new AbortController();
    const got: number[] = [];
    const start = Date.now();
    setTimeout(() => {
      rt.maps.u8()[s] = 7;
      ex.bpf_ringbuf_output(rb.handle, BigInt(s), 1n, 0n);
    }, 20);
    for await (const r of rb.records({ signal: ac.signal, intervalMs: 10_000 })) {
      got.push(r[0]);
      if (got.length === 1) {
        setTimeout(() => {
          rt.maps.u8()[s] = 8;
          ex.bpf_ringbuf_output(rb.handle, BigInt(s), 1n, BigInt(BPF_RB.FORCE_WAKEUP));
        }, 10);
      }
      if (got.length === 2) ac.abort();
    }
    expect(got).toEqual([7, 8]);
    expect(Date.now() - start).toBeLessThan(5000); // woken, not timed out
  });

  it('async iteration polls an unshared memory, and ends when aborted', async () => {
    const { rt, rb } = setup(4096, false);
    const ex = rt.maps.exports;
    const s = rt.maps.scratch(8);
    setTimeout(() => {
      rt.maps.u8()[s] = 5;
      ex.bpf_ringbuf_output(rb.handle, BigInt(s), 1n, 0n);
    }, 15);
    const it = rb[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value?.[0]).toBe(5);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 30);
    let n = 0;
    for await (const _ of rb.records({ signal: ac.signal, intervalMs: 5 })) n++;
    expect(n).toBe(0);
  });
});
