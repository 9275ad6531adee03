/**
 * Maps shared by threads: two worker_threads workers and the main thread operate on the same hash map at the
 * same time (atomic increments through looked-up value pointers, inserts and deletes of their own keys,
 * whole-value writes and reads of contended keys), then the final state is checked exactly: every counter
 * holds exactly the number of increments made to it, every owned key is present iff its owner last inserted
 * it, with the value it wrote, contended values are never torn, and the free list lost no element.
 *
 * The workers (workers-hammer.mjs) use the raw exports; the main thread uses the JS API.
 */

import Module from 'node:module';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Runtime } from '../../runtime/runtime.js';
import { BPF_MAP_TYPE } from '../../src/elf/maps.js';
import type { KeyValueMap } from '../../runtime/maps/map.js';
import { xorshift32 } from '../../src/util/xorshift.js';

const HAMMER = new URL('./workers-hammer.mjs', import.meta.url);

interface Report {
  t0: number;
  t1: number;
  errors: string[];
  counts: number[];
  owned: [number, string][];
}

async function hammer(type: number, mapFlags: number): Promise<void> {
  const counters = 64;
  const owned = 200;
  const contended = 16;
  const iterations = 150_000;
  const maxEntries = counters + 3 * owned;
  const rt = new Runtime({ shared: true, cpus: 3 });
  const map = rt.createMap({ name: 'shared', type, keySize: 4, valueSize: 8, maxEntries, flags: mapFlags });
  const h = (map as KeyValueMap).typed('u32', 'u64');
  const wide = (rt.createMap({ name: 'wide', type, keySize: 4, valueSize: 64, maxEntries: contended, flags: mapFlags }) as KeyValueMap).typed('u32', 'bytes');
  const wideValue = (x: number): Buffer => {
    const b = Buffer.alloc(64);
    for (let j = 0; j < 16; j++) b.writeUInt32LE((x + j) >>> 0, 4 * j);
    return b;
  };
  const intact = (v: Buffer): boolean => v.every((_, i) => i % 4 !== 0 || v.readUInt32LE(i) === ((v.readUInt32LE(0) + i / 4) >>> 0));
  for (let k = 0; k < counters; k++) h.set(k, 0n);
  for (let k = 0; k < contended; k++) wide.set(k, wideValue(0));

  const go = new SharedArrayBuffer(12);
  const shared = rt.maps.share();
  const workers = [1, 2].map((cpu) => new Worker(HAMMER, {
    workerData: { shared, cpu, mapId: map.id, wideId: wide.id, counters, ownedBase: cpu * 10_000, owned, contended, iterations, seed: cpu * 7919, go },
  }));
  const reports = workers.map((w) => new Promise<Report>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
  }));
  const flags = new Int32Array(go);
  await start(flags, 2);

  // The main thread, meanwhile: increments through the JS API's pointer, churns its own keys, writes contended
  // keys; it goes on until both workers have started, so the three threads certainly overlap.
  const mainStart = Date.now();
  const mainCounts = new Array<number>(counters).fill(0);
  const mainOwned = new Map<number, bigint>();
  const rand = xorshift32(12345);
  const i64 = new BigInt64Array(rt.memory.buffer);
  const errors: string[] = [];
  for (let i = 0; i < iterations / 2 || Atomics.load(flags, 2) < 2; i++) {
    const r = rand();
    const op = r % 4;
    if (op === 0) {
      const k = (r >>> 8) % counters;
      const p = h.pointer(k)!;
      Atomics.add(i64, p / 8, 1n);
      mainCounts[k]++;
    } else if (op === 1) {
      const k = 30_000 + ((r >>> 8) % owned);
      if (mainOwned.has(k)) {
        if (h.get(k) !== mainOwned.get(k)) errors.push(`main owned ${k}: got ${h.get(k)}`);
        if (!h.delete(k)) errors.push(`main owned ${k}: delete found nothing`);
        mainOwned.delete(k);
      } else {
        const v = BigInt(i) * 3n;
        h.set(k, v, 'noexist');
        mainOwned.set(k, v);
      }
    } else if (op === 2) {
      wide.set((r >>> 8) % contended, wideValue(rand()));
    } else {
      const v = wide.get((r >>> 8) % contended)!;
      if (!intact(v)) errors.push(`main: torn contended value ${v.toString('hex')}`);
    }
  }

  const mainEnd = Date.now();
  const done = await Promise.all(reports);
  // The three threads really ran at the same time (the workers report when they started and stopped).
  for (const d of done) expect(d.t0 < mainEnd && d.t1 > mainStart).toBe(true);
  await Promise.all(workers.map((w) => w.terminate()));
  expect([...errors, ...done.flatMap((d) => d.errors)]).toEqual([]);

  // Final state, exactly.
  const expected = new Map<number, bigint>();
  for (let k = 0; k < counters; k++) expected.set(k, BigInt(mainCounts[k] + done[0].counts[k] + done[1].counts[k]));
  for (const d of done) for (const [k, v] of d.owned) expected.set(k, BigInt(v));
  for (const [k, v] of mainOwned) expected.set(k, v);
  const actual = new Map(h.entries());
  expect([...wide.values()].filter((v) => !intact(v))).toEqual([]);
  expect(wide.size).toBe(contended);
  expect(new Map([...actual].sort((a, b) => a[0] - b[0]))).toEqual(new Map([...expected].sort((a, b) => a[0] - b[0])));
  expect(done[0].counts.reduce((a, b) => a + b, 0)).toBeGreaterThan(iterations / 3);

  // No element lost or duplicated: exactly max_entries elements fit.
  let n = h.size;
  for (let k = 5_000_000; n < maxEntries; k++, n++) h.set(k, 1n, 'noexist');
  if (type === BPF_MAP_TYPE.HASH) expect(() => h.set(9_999_999, 1n)).toThrow(expect.objectContaining({ code: 'E2BIG' }));
  expect(h.size).toBe(maxEntries);
}

describe('maps shared by workers', () => {
  it('hash map: two workers and the main thread, exact final state', { timeout: 60_000 }, async () => {
    await hammer(BPF_MAP_TYPE.HASH, 0);
  });
  it('LRU hash map: same workload (no eviction needed), exact final state', { timeout: 60_000 }, async () => {
    await hammer(BPF_MAP_TYPE.LRU_HASH, 0);
  });
  it('LRU hash map under eviction pressure: no deadlock, no corrupted entry', { timeout: 60_000 }, async () => {
    const maxEntries = 128;
    const rt = new Runtime({ shared: true, cpus: 3 });
    const map = rt.createMap({ name: 'lru', type: 'lru_hash', keySize: 4, valueSize: 8, maxEntries }).typed('u32', 'u64');
    const go = new SharedArrayBuffer(12);
    const shared = rt.maps.share();
    const workers = [1, 2].map((cpu) => new Worker(HAMMER, {
      workerData: { shared, cpu, mapId: map.id, mode: 'lru', keys: 1000, iterations: 60_000, seed: cpu * 31, go },
    }));
    const reports = workers.map((w) => new Promise<Report>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    }));
    const flags = new Int32Array(go);
    await start(flags, 2);
    const errors: string[] = [];
    const rand = xorshift32(99);
    for (let i = 0; i < 30_000 || Atomics.load(flags, 2) < 2; i++) {
      const k = rand() % 1000;
      const v = lruValue(k);
      if (i % 3 === 0) map.set(k, v);
      else if (i % 3 === 1) {
        const got = map.get(k);
        if (got !== undefined && got !== v) errors.push(`main: key ${k} holds ${got}`);
      } else map.delete(k);
    }
    const done = await Promise.all(reports);
    await Promise.all(workers.map((w) => w.terminate()));
    expect([...errors, ...done.flatMap((d) => d.errors)]).toEqual([]);
    const entries = [...map.entries()];
    expect(entries.length).toBeLessThanOrEqual(maxEntries);
    for (const [k, v] of entries) expect(v).toBe(lruValue(k));
    expect(new Set(entries.map(([k]) => k)).size).toBe(entries.length);
    // Every element is still either in the map or reusable: inserting fresh keys ends with exactly max_entries.
    for (let k = 10_000; k < 10_000 + maxEntries; k++) map.set(k, lruValue(k));
    expect(map.size).toBe(maxEntries);
    for (const [k, v] of map.entries()) expect(v).toBe(lruValue(k));
  });
});

/** Waits until `n` workers are ready (flags[1]), then releases them (flags[0]). */
async function start(flags: Int32Array, n: number): Promise<void> {
  while (Atomics.load(flags, 1) < n) await new Promise((r) => setTimeout(r, 5));
  Atomics.store(flags, 0, 1);
  Atomics.notify(flags, 0);
}

/** The value every thread writes for key k in the LRU test (workers-hammer.mjs computes the same). */
function lruValue(k: number): bigint {
  return (BigInt(k) << 32n) | BigInt(Math.imul(k, 0x9e3779b1) >>> 0);
}

describe('the JS API in workers', () => {
  const hasRegister = typeof (Module as unknown as { register?: unknown }).register === 'function';
  it.skipIf(!hasRegister)('attachMaps: typed maps, per-CPU slots and a ring buffer consumed across threads', { timeout: 60_000 }, async () => {
    const rt = new Runtime({ shared: true, cpus: 3 });
    const counts = rt.createMap({ name: 'counts', type: 'hash', keySize: 4, valueSize: 8, maxEntries: 16 }).typed('u32', 'u64');
    const perCpu = rt.createMap({ name: 'per_cpu', type: 'percpu_array', keySize: 4, valueSize: 8, maxEntries: 1 }).typed('u32', 'u64');
    const events = rt.createMap({ name: 'events', type: 'ringbuf', maxEntries: 4096 });
    for (let k = 0; k < 4; k++) counts.set(k, 0n);
    const records = 20;
    // The first attaches to the first free CPU, the second asks for CPU 2 (the first may be gone by then).
    const go = new SharedArrayBuffer(8);
    const workers = [undefined, 2].map((cpu) => new Worker(new URL('./workers-api.mjs', import.meta.url), { workerData: { shared: rt.maps.share(), records, cpu, go } }));
    const exits = workers.map((w) => new Promise<{ cpu: number }>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    }));
    // Both workers are loaded and attached; release them and consume while they produce, a few ms apart:
    // the consumer is woken by their submits, or the first wait alone would last the 5 s poll interval.
    await start(new Int32Array(go), 2);
    const released = Date.now();
    const got: number[] = [];
    const ac = new AbortController();
    for await (const r of events.records({ signal: ac.signal, intervalMs: 5_000 })) {
      got.push(r.readUInt32LE(0));
      if (got.length === 2 * records) ac.abort();
    }
    expect(Date.now() - released).toBeLessThan(4_000);
    const cpus = (await Promise.all(exits)).map((e) => e.cpu).sort();
    expect(cpus).toEqual([1, 2]);
    // Each worker's records arrive in its own order.
    for (const cpu of cpus) expect(got.filter((v) => Math.floor(v / 1000) === cpu)).toEqual(Array.from({ length: records }, (_, i) => cpu * 1000 + i));
    expect([0, 1, 2, 3].map((k) => counts.get(k))).toEqual([500n, 500n, 500n, 500n]);
    expect(counts.get(101)).toBe(1n);
    expect(counts.get(102)).toBe(2n);
    expect(perCpu.get(0)).toEqual([0n, 100n, 200n]);
    await Promise.all(workers.map((w) => w.terminate()));
  });
});
