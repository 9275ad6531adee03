/**
 * Every map type through the JS API (runtime/maps): semantics, update flags, errno codes, iteration, LRU
 * eviction order, LPM matching (against a naive model), queue/stack order, bloom filters, per-CPU values,
 * maps of maps, prog arrays, freezing, creation errors, codecs, the registry, and memory growth.
 *
 * Ring buffers: maps-ringbuf.test.ts. Raw exports and bad handles: maps-exports.test.ts. Programs using maps:
 * maps-programs.test.ts. Threads: workers.test.ts.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BPF_F, BPF_MAP_TYPE } from '../../src/elf/maps.js';
import { Runtime } from '../../runtime/runtime.js';
import { attachMaps } from '../../runtime/maps/registry.js';
import { KeyValueMap, MapOfMaps, PerCpuMap, ProgArray, QueueMap, RingBuffer } from '../../runtime/maps/map.js';
import { MapError } from '../../runtime/maps/errors.js';
import { codecs } from '../../runtime/maps/codecs.js';

/** Expects `fn` to throw a MapError with `code`. */
function throwsCode(fn: () => unknown, code: string): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(MapError);
  expect((err as MapError).code).toBe(code);
}

const small = { mapArea: { metaBytes: 1 << 20, valueBytes: 1 << 20, readOnlyBytes: 1 << 16 } };

describe('hash', () => {
  const make = (maxEntries = 4, type: 'hash' | 'lru_hash' = 'hash') =>
    new Runtime(small).createMap({ name: 'h', type, keySize: 4, valueSize: 8, maxEntries }).typed('u32', 'u64');

  it('get/set/has/delete like a Map', () => {
    const h = make();
    expect(h.get(1)).toBeUndefined();
    expect(h.has(1)).toBe(false);
    h.set(1, 10n).set(2, 20n);
    expect(h.get(1)).toBe(10n);
    expect(h.has(2)).toBe(true);
    h.set(1, 11n);
    expect(h.get(1)).toBe(11n);
    expect(h.delete(1)).toBe(true);
    expect(h.delete(1)).toBe(false);
    expect(h.get(1)).toBeUndefined();
    expect(h.size).toBe(1);
  });

  it('update flags: BPF_NOEXIST gives EEXIST, BPF_EXIST gives ENOENT, others EINVAL', () => {
    const h = make();
    h.set(1, 1n, 'noexist');
    throwsCode(() => h.set(1, 2n, 'noexist'), 'EEXIST');
    throwsCode(() => h.set(2, 2n, 'exist'), 'ENOENT');
    h.set(1, 3n, 'exist');
    expect(h.get(1)).toBe(3n);
    throwsCode(() => h.set(1, 3n, 3), 'EINVAL');
    throwsCode(() => h.set(1, 3n, 4), 'EINVAL'); // BPF_F_LOCK: no bpf_spin_lock in the value
  });

  it('enforces max_entries with E2BIG, and an existing key can still be updated when full', () => {
    const h = make(3);
    h.set(1, 1n).set(2, 2n).set(3, 3n);
    let err: unknown;
    try {
      h.set(4, 4n);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'E2BIG', errno: 7 });
    expect((err as Error).message).toMatch(/map 'h': update failed: E2BIG/);
    h.set(2, 22n);
    expect(h.get(2)).toBe(22n);
    h.delete(1);
    h.set(4, 4n);
    expect(new Map(h.entries())).toEqual(new Map([[2, 22n], [3, 3n], [4, 4n]]));
  });

  it('iterates keys, values and entries; nextKey walks every key once', () => {
    const h = make(64);
    for (let k = 0; k < 40; k++) h.set(k * 7, BigInt(k));
    expect([...h.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, k) => k * 7));
    expect(new Map(h)).toEqual(new Map(Array.from({ length: 40 }, (_, k) => [k * 7, BigInt(k)])));
    const seen: number[] = [];
    for (let k = h.nextKey(); k !== undefined; k = h.nextKey(k)) seen.push(k);
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, k) => k * 7));
    expect(h.nextKey(999_999)).toBe(h.nextKey()); // an absent key restarts from the first
    let sum = 0n;
    h.forEach((v) => (sum += v));
    expect(sum).toBe(780n);
  });

  it('deleting while iterating visits every remaining key', () => {
    const h = make(32);
    for (let k = 0; k < 20; k++) h.set(k, BigInt(k));
    for (const [k] of h) if (k % 2 === 0) h.delete(k);
    expect([...h.keys()].sort((a, b) => a - b)).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
  });

  it('getAndDelete() is lookup-and-delete', () => {
    const h = make();
    h.set(5, 50n);
    expect(h.getAndDelete(5)).toBe(50n);
    expect(h.getAndDelete(5)).toBeUndefined();
    expect(h.size).toBe(0);
  });

  it('raw bytes by default: Buffer values, numbers accepted for 4/8-byte keys', () => {
    const m = new Runtime(small).createMap({ type: 'hash', keySize: 4, valueSize: 3, maxEntries: 4 });
    m.set(Buffer.from([1, 0, 0, 0]), Uint8Array.of(7, 8, 9));
    expect(m.get(1)).toEqual(Buffer.from([7, 8, 9]));
    expect(Buffer.isBuffer(m.get(1))).toBe(true);
    expect([...m.keys()]).toEqual([Buffer.from([1, 0, 0, 0])]);
  });

  it('bad keys and values are typed errors, before the map is asked', () => {
    const m = new Runtime(small).createMap({ type: 'hash', keySize: 4, valueSize: 3, maxEntries: 4 });
    throwsCode(() => m.get(Uint8Array.of(1, 2)), 'bad_key');
    throwsCode(() => m.set(1, Uint8Array.of(1)), 'bad_value');
    throwsCode(() => m.set(1, 5), 'bad_value'); // a number for a 3-byte value
    throwsCode(() => m.get('x' as unknown as number), 'bad_key');
    throwsCode(() => m.typed('u64', 'u32'), 'bad_key');
    const t = m.typed('u32', 'bytes');
    throwsCode(() => t.get(-1), 'bad_key');
    throwsCode(() => t.get(2 ** 32), 'bad_key');
    expect(m.size).toBe(0);
  });

  it('keys larger than the stack are E2BIG; zero sizes EINVAL', () => {
    const rt = new Runtime(small);
    throwsCode(() => rt.createMap({ type: 'hash', keySize: 513, valueSize: 4, maxEntries: 1 }), 'E2BIG');
    throwsCode(() => rt.createMap({ type: 'hash', keySize: 0, valueSize: 4, maxEntries: 1 }), 'EINVAL');
    throwsCode(() => rt.createMap({ type: 'hash', keySize: 4, valueSize: 0, maxEntries: 1 }), 'EINVAL');
    throwsCode(() => rt.createMap({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 0 }), 'EINVAL');
    throwsCode(() => rt.createMap({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1, flags: BPF_F.NO_COMMON_LRU }), 'EINVAL');
    throwsCode(() => rt.createMap({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1, flags: BPF_F.MMAPABLE }), 'EINVAL');
    throwsCode(() => rt.createMap({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1, mapExtra: 3 }), 'EINVAL');
    // BPF_F_NO_PREALLOC is accepted (storage is preallocated anyway).
    rt.createMap({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1, flags: BPF_F.NO_PREALLOC }).set(1, 1);
  });

  it('odd key sizes hash and compare every byte', () => {
    const m = new Runtime(small).createMap({ type: 'hash', keySize: 13, valueSize: 1, maxEntries: 64 });
    const key = (i: number): Buffer => { const b = Buffer.alloc(13); b[i % 13] = 1 + Math.floor(i / 13); return b; };
    for (let i = 0; i < 50; i++) m.set(key(i), Uint8Array.of(i));
    for (let i = 0; i < 50; i++) expect(m.get(key(i))).toEqual(Buffer.from([i]));
    expect(m.get(Buffer.alloc(13))).toBeUndefined();
  });
});

describe('LRU hash', () => {
  const make = (maxEntries = 3) => new Runtime(small).createMap({ type: 'lru_hash', keySize: 4, valueSize: 8, maxEntries }).typed('u32', 'u64');
  const keys = (m: KeyValueMap<number, bigint>): number[] => [...m.keys()].sort((a, b) => a - b);

  it('evicts the least recently inserted unreferenced element; a program lookup gives a second chance', () => {
    const m = make(3);
    m.set(1, 1n).set(2, 2n).set(3, 3n);
    expect(m.pointer(1)).toBeDefined(); // program-style lookup: sets the reference bit of 1
    m.set(4, 4n); // 1 is referenced: spared (moved to the head); 2 is evicted
    expect(keys(m)).toEqual([1, 3, 4]);
    m.set(5, 5n); // 3 is now the oldest unreferenced
    expect(keys(m)).toEqual([1, 4, 5]);
    m.set(6, 6n); // 1's second chance is used up
    expect(keys(m)).toEqual([4, 5, 6]);
    expect(m.get(6)).toBe(6n);
  });

  it('user-space lookups do not count as use (as in the kernel); updates and deletes behave', () => {
    const m = make(3);
    m.set(1, 1n).set(2, 2n).set(3, 3n);
    expect(m.get(1)).toBe(1n);
    m.set(4, 4n);
    expect(keys(m)).toEqual([2, 3, 4]);
    m.set(2, 22n); // in place: no eviction
    expect(keys(m)).toEqual([2, 3, 4]);
    m.delete(3);
    m.set(5, 5n); // takes the freed element: no eviction
    expect(keys(m)).toEqual([2, 4, 5]);
    throwsCode(() => m.set(2, 0n, 'noexist'), 'EEXIST');
    throwsCode(() => m.set(9, 0n, 'exist'), 'ENOENT');
  });

  it('never fails for lack of room, and keeps exactly max_entries', () => {
    const m = make(16);
    for (let k = 0; k < 1000; k++) {
      m.set(k, BigInt(k) * 3n);
      if (k % 7 === 0) m.pointer(k);
    }
    expect(m.size).toBe(16);
    for (const [k, v] of m) expect(v).toBe(BigInt(k) * 3n);
    expect(m.has(999)).toBe(true);
  });

  it('LRU maps need preallocation (no BPF_F_NO_PREALLOC)', () => {
    throwsCode(() => new Runtime(small).createMap({ type: 'lru_hash', keySize: 4, valueSize: 8, maxEntries: 2, flags: BPF_F.NO_PREALLOC }), 'EINVAL');
  });

  it('LRU per-CPU maps evict the same way', () => {
    const m = new Runtime({ ...small, cpus: 2 }).createMap({ type: 'lru_percpu_hash', keySize: 4, valueSize: 4, maxEntries: 2 }).typed('u32', 'u32');
    m.set(1, 1).set(2, 2).set(3, [3, 33]);
    expect([...m.keys()].sort()).toEqual([2, 3]);
    expect(m.get(3)).toEqual([3, 33]);
  });
});

describe('array', () => {
  const make = () => new Runtime(small).createMap({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 4 }).typed('u32', 'u32');

  it('lookups in range never fail; elements start zeroed', () => {
    const a = make();
    expect([...a.values()]).toEqual([0, 0, 0, 0]);
    expect(a.get(3)).toBe(0);
    expect(a.get(4)).toBeUndefined();
    expect(a.has(2)).toBe(true);
    expect(a.size).toBe(4);
  });

  it('flags and errors as the kernel: NOEXIST EEXIST, out of range E2BIG, delete EINVAL', () => {
    const a = make();
    a.set(1, 5).set(1, 6, 'exist');
    expect(a.get(1)).toBe(6);
    throwsCode(() => a.set(1, 7, 'noexist'), 'EEXIST');
    throwsCode(() => a.set(4, 7), 'E2BIG');
    throwsCode(() => a.delete(1), 'EINVAL');
    throwsCode(() => a.set(1, 7, 3), 'EINVAL');
    throwsCode(() => a.set(1, 7, 4), 'EINVAL'); // BPF_F_LOCK without a bpf_spin_lock
    throwsCode(() => a.set(1, 7, 5), 'EEXIST'); // BPF_F_LOCK | BPF_NOEXIST: EEXIST is checked first, as in the kernel
  });

  it('nextKey follows index order', () => {
    const a = make();
    expect(a.nextKey()).toBe(0);
    expect(a.nextKey(2)).toBe(3);
    expect(a.nextKey(3)).toBeUndefined();
    expect(a.nextKey(100)).toBe(0);
  });

  it('keys are u32 by default; creation checks sizes', () => {
    const rt = new Runtime(small);
    const a = rt.createMap({ type: 'array', keySize: 4, valueSize: 2, maxEntries: 2 });
    a.set(1, Uint8Array.of(1, 2));
    expect([...a.entries()]).toEqual([[0, Buffer.from([0, 0])], [1, Buffer.from([1, 2])]]);
    throwsCode(() => rt.createMap({ type: 'array', keySize: 8, valueSize: 4, maxEntries: 1 }), 'EINVAL');
    throwsCode(() => rt.createMap({ type: 'percpu_array', keySize: 4, valueSize: 4, maxEntries: 1, flags: BPF_F.MMAPABLE }), 'EINVAL');
    throwsCode(() => rt.createMap({ type: 'percpu_array', keySize: 4, valueSize: 32769, maxEntries: 1 }), 'E2BIG');
  });

  it('values sit 8-byte aligned at round8(value_size) strides in the value arena', () => {
    const rt = new Runtime(small);
    const a = rt.createMap({ type: 'array', keySize: 4, valueSize: 5, maxEntries: 3 });
    const p0 = a.pointer(0)!;
    expect(p0 % 8).toBe(0);
    expect(a.pointer(1)).toBe(p0 + 8);
    expect(a.pointer(3)).toBeUndefined();
    const [values] = rt.maps.regions();
    expect(p0 >= values.start && p0 + 24 <= values.end).toBe(true);
    expect(a.directValueAddress()).toBeUndefined(); // only single-element arrays
  });
});

describe('per-CPU maps', () => {
  it('give one value per CPU; a single value is written to every CPU', () => {
    const rt = new Runtime({ ...small, cpus: 3 });
    const m = rt.createMap({ type: 'percpu_array', keySize: 4, valueSize: 4, maxEntries: 2 }).typed('u32', 'u32');
    expect(m).toBeInstanceOf(PerCpuMap);
    expect(m.get(0)).toEqual([0, 0, 0]);
    m.set(0, 7);
    expect(m.get(0)).toEqual([7, 7, 7]);
    m.set(1, [1, 2, 3]);
    expect(m.get(1)).toEqual([1, 2, 3]);
    throwsCode(() => m.set(1, [1, 2]), 'bad_value');
  });

  it('program-side updates and lookups act on the calling instance\'s CPU only', () => {
    const rt = new Runtime({ ...small, cpus: 2 });
    const m = rt.createMap({ type: 'percpu_hash', keySize: 4, valueSize: 8, maxEntries: 4 }).typed('u32', 'u64');
    const cpu1 = attachMaps(rt.maps.share(), { cpu: 1 }); // a second instance on this thread, as CPU 1
    expect(cpu1.cpu).toBe(1);
    const m1 = cpu1.expect(m.name, PerCpuMap).typed('u32', 'u64');
    // A new element from a program on CPU 1: its value there, zeros elsewhere.
    const s = cpu1.scratch(16);
    new DataView(rt.memory.buffer).setUint32(s, 9, true);
    new DataView(rt.memory.buffer).setBigUint64(s + 8, 99n, true);
    expect(cpu1.exports.bpf_map_update_elem(m.handle, BigInt(s), BigInt(s + 8), 0n)).toBe(0n);
    expect(m.get(9)).toEqual([0n, 99n]);
    // Lookups give each CPU's own slot.
    const p0 = rt.maps.exports.bpf_map_lookup_elem(m.handle, BigInt(s));
    const p1 = cpu1.exports.bpf_map_lookup_elem(m.handle, BigInt(s));
    expect(p1 - p0).toBe(8n);
    expect(new DataView(rt.memory.buffer).getBigUint64(Number(p1), true)).toBe(99n);
    // bpf_map_lookup_percpu_elem picks any CPU.
    expect(rt.maps.exports.bpf_map_lookup_percpu_elem(m.handle, BigInt(s), 1n)).toBe(p1);
    expect(rt.maps.exports.bpf_map_lookup_percpu_elem(m.handle, BigInt(s), 2n)).toBe(0n);
    expect(m1.get(9)).toEqual([0n, 99n]);
    cpu1.detach();
  });
});

describe('LPM trie', () => {
  const make = (maxEntries = 8) => new Runtime(small).createMap({ type: 'lpm_trie', keySize: 8, valueSize: 4, maxEntries }).typed('ipv4/lpm', 'u32');

  it('longest prefix match over IPv4 prefixes', () => {
    const t = make();
    t.set('10.0.0.0/8', 8).set('10.1.0.0/16', 16).set('10.1.1.0/24', 24).set('0.0.0.0/0', 0).set('192.168.1.1/32', 32);
    expect(t.get('10.1.1.7')).toBe(24);
    expect(t.get('10.1.2.7')).toBe(16);
    expect(t.get('10.200.0.1')).toBe(8);
    expect(t.get('11.0.0.1')).toBe(0);
    expect(t.get('192.168.1.1')).toBe(32);
    expect(t.get('192.168.1.2')).toBe(0);
    expect(t.get('10.1.1.7/12')).toBe(8); // the key's own prefix length bounds the match
    expect([...t.keys()].sort()).toEqual(['0.0.0.0/0', '10.0.0.0/8', '10.1.0.0/16', '10.1.1.0/24', '192.168.1.1/32']);
    t.delete('10.1.0.0/16');
    expect(t.get('10.1.2.7')).toBe(8);
    expect(t.get('10.1.1.7')).toBe(24);
    expect(t.delete('10.1.0.0/16')).toBe(false);
    expect(t.delete('10.1.0.0/17')).toBe(false);
  });

  it('flags and errors as Linux: EEXIST/ENOENT, ENOSPC when full, EINVAL for a long prefix', () => {
    const t = make(2);
    t.set('1.0.0.0/8', 1, 'noexist');
    throwsCode(() => t.set('1.0.0.0/8', 2, 'noexist'), 'EEXIST');
    throwsCode(() => t.set('2.0.0.0/8', 2, 'exist'), 'ENOENT');
    t.set('1.0.0.0/8', 3, 'exist');
    expect(t.get('1.2.3.4')).toBe(3);
    t.set('2.0.0.0/8', 2);
    throwsCode(() => t.set('3.0.0.0/8', 3), 'ENOSPC');
    t.set('2.0.0.0/8', 22); // replacing is fine when full
    const raw = new Runtime(small).createMap({ type: 'lpm_trie', keySize: 8, valueSize: 4, maxEntries: 2 });
    throwsCode(() => raw.set(Buffer.from([33, 0, 0, 0, 1, 2, 3, 4]), Uint8Array.of(1, 2, 3, 4)), 'EINVAL');
  });

  it('requires BPF_F_NO_PREALLOC as Linux (added by default when flags are omitted) and sane sizes', () => {
    const rt = new Runtime(small);
    throwsCode(() => rt.createMap({ type: 'lpm_trie', keySize: 8, valueSize: 4, maxEntries: 2, flags: 0 }), 'EINVAL');
    rt.createMap({ type: 'lpm_trie', keySize: 8, valueSize: 4, maxEntries: 2, flags: BPF_F.NO_PREALLOC });
    throwsCode(() => rt.createMap({ type: 'lpm_trie', keySize: 4, valueSize: 4, maxEntries: 2 }), 'EINVAL');
    throwsCode(() => rt.createMap({ type: 'lpm_trie', keySize: 261, valueSize: 4, maxEntries: 2 }), 'EINVAL');
    expect(rt.createMap({ type: 'lpm_trie', keySize: 260, valueSize: 1, maxEntries: 2 }).info.keySize).toBe(260);
  });

  it('matches a naive longest-prefix model under random inserts and deletes', () => {
    const prefix = fc.record({ len: fc.integer({ min: 0, max: 16 }), data: fc.integer({ min: 0, max: 0xffff }) });
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), p: prefix, v: fc.integer({ min: 0, max: 1000 }) }),
      fc.record({ kind: fc.constant('del' as const), p: prefix }),
    );
    const mask = (len: number): number => (len === 0 ? 0 : (0xffff << (16 - len)) & 0xffff);
    const key = (len: number, data: number): Buffer => { const b = Buffer.alloc(6); b.writeUInt32LE(len, 0); b.writeUInt16BE(data, 4); return b; };
    fc.assert(fc.property(fc.array(op, { maxLength: 60 }), fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 20, maxLength: 20 }), (ops, probes) => {
      const t = new Runtime(small).createMap({ type: 'lpm_trie', keySize: 6, valueSize: 4, maxEntries: 16 }).typed('bytes', 'u32');
      const model = new Map<string, { len: number; data: number; v: number }>();
      for (const o of ops) {
        const id = `${o.p.len}/${o.p.data & mask(o.p.len)}`;
        if (o.kind === 'set') {
          const full = model.size >= 16 && !model.has(id);
          try {
            t.set(key(o.p.len, o.p.data), o.v);
            expect(full).toBe(false);
            const old = model.get(id);
            model.set(id, { len: o.p.len, data: old?.data ?? o.p.data, v: o.v });
          } catch (e) {
            expect(full && (e as MapError).code === 'ENOSPC').toBe(true);
          }
        } else {
          expect(t.delete(key(o.p.len, o.p.data))).toBe(model.delete(id));
        }
      }
      for (const x of probes) {
        let best: { len: number; v: number } | undefined;
        for (const e of model.values()) if (((x ^ e.data) & mask(e.len)) === 0 && (best === undefined || e.len > best.len)) best = e;
        expect(t.get(key(16, x))).toBe(best?.v);
      }
      const listed = [...t.entries()].map(([k, v]) => `${k.readUInt32LE(0)}/${k.readUInt16BE(4) & mask(k.readUInt32LE(0))}=${v}`).sort();
      expect(listed).toEqual([...model].map(([id, e]) => `${id}=${e.v}`).sort());
    }), { numRuns: 150 });
  });
});

describe('queue and stack', () => {
  it('queue: FIFO; full is E2BIG; overwrite drops the oldest', () => {
    const q = new Runtime(small).createMap({ type: 'queue', valueSize: 4, maxEntries: 3 }).typed('u32');
    expect(q).toBeInstanceOf(QueueMap);
    expect(q.pop()).toBeUndefined();
    q.push(1).push(2).push(3);
    throwsCode(() => q.push(4), 'E2BIG');
    expect(q.peek()).toBe(1);
    q.push(4, { overwrite: true });
    expect([...q.drain()]).toEqual([2, 3, 4]);
    expect(q.peek()).toBeUndefined();
    // Wrap around the slot ring many times.
    for (let i = 0; i < 20; i++) {
      q.push(i);
      expect(q.pop()).toBe(i);
    }
  });

  it('stack: LIFO; overwrite also drops the oldest', () => {
    const s = new Runtime(small).createMap({ type: 'stack', valueSize: 4, maxEntries: 3 }).typed('u32');
    s.push(1).push(2).push(3);
    expect(s.peek()).toBe(3);
    s.push(4, { overwrite: true });
    expect([...s.drain()]).toEqual([4, 3, 2]);
  });

  it('key_size must be 0; BPF_NOEXIST is EINVAL; values are copied both ways', () => {
    const rt = new Runtime(small);
    throwsCode(() => rt.createMap({ type: 'queue', keySize: 4, valueSize: 4, maxEntries: 3 }), 'EINVAL');
    throwsCode(() => rt.createMap({ type: 'queue', valueSize: 0, maxEntries: 3 }), 'EINVAL');
    const q = rt.createMap({ type: 'queue', valueSize: 5, maxEntries: 2 });
    const v = Uint8Array.of(1, 2, 3, 4, 5);
    q.push(v);
    v[0] = 9;
    expect(q.pop()).toEqual(Buffer.from([1, 2, 3, 4, 5]));
    const ex = rt.maps.exports;
    const p = rt.maps.scratch(8);
    expect(ex.bpf_map_push_elem(q.handle, BigInt(p), 1n)).toBe(-22n);
  });
});

describe('bloom filter', () => {
  it('has no false negatives, and few false positives', () => {
    const b = new Runtime(small).createMap({ type: 'bloom_filter', valueSize: 4, maxEntries: 1000 }).typed('u32');
    for (let i = 0; i < 1000; i++) b.add(i * 3);
    for (let i = 0; i < 1000; i++) expect(b.has(i * 3)).toBe(true);
    let fp = 0;
    for (let i = 0; i < 3000; i++) if (b.has(1_000_000 + i)) fp++;
    expect(fp / 3000).toBeLessThan(0.1);
  });

  it('takes nr_hash_funcs from map_extra (1..15, 0 = 5); other bits EINVAL; no delete', () => {
    const rt = new Runtime(small);
    const b = rt.createMap({ type: 'bloom_filter', valueSize: 8, maxEntries: 10, mapExtra: 1n }).typed('u64');
    b.add(5n);
    expect(b.has(5n)).toBe(true);
    expect(b.info.mapExtra).toBe(1n);
    throwsCode(() => rt.createMap({ type: 'bloom_filter', valueSize: 8, maxEntries: 10, mapExtra: 16 }), 'EINVAL');
    throwsCode(() => rt.createMap({ type: 'bloom_filter', keySize: 4, valueSize: 8, maxEntries: 10 }), 'EINVAL');
    const s = rt.maps.scratch(8);
    expect(rt.maps.exports.sys_delete(b.id, s)).toBe(-95);
    expect(rt.maps.exports.bpf_map_push_elem(b.handle, BigInt(s), 2n)).toBe(-22n); // only BPF_ANY
  });
});

describe('prog array', () => {
  it('stores program slot ids; only BPF_ANY; E2BIG out of range; programs cannot look it up', () => {
    const rt = new Runtime(small);
    const p = rt.createMap({ type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 3 });
    expect(p).toBeInstanceOf(ProgArray);
    p.set(0, 7).set(2, 9);
    expect(p.get(0)).toBe(7);
    expect(p.get(1)).toBeUndefined();
    expect([...p.entries()]).toEqual([[0, 7], [2, 9]]);
    throwsCode(() => p.set(1, 1, 'noexist'), 'EINVAL');
    throwsCode(() => p.set(3, 1), 'E2BIG');
    expect(p.delete(2)).toBe(true);
    expect(p.delete(2)).toBe(false);
    const ex = rt.maps.exports;
    expect(ex.prog_array_get(p.handle, 0n)).toBe(7n);
    expect(ex.prog_array_get(p.handle, 1n)).toBe(-2n);
    expect(ex.prog_array_get(p.handle, 3n)).toBe(-2n);
    const k = rt.maps.scratch(4);
    new DataView(rt.memory.buffer).setUint32(k, 0, true);
    expect(ex.bpf_map_lookup_elem(p.handle, BigInt(k))).toBe(0n);
    expect(ex.bpf_map_update_elem(p.handle, BigInt(k), BigInt(k), 0n)).toBe(-95n);
    throwsCode(() => rt.createMap({ type: 'prog_array', keySize: 4, valueSize: 8, maxEntries: 3 }), 'EINVAL');
  });
});

describe('maps of maps', () => {
  it('array of maps: compatible inner maps only; programs get the inner handle', () => {
    const rt = new Runtime(small);
    const inner = { type: 'array', keySize: 4, valueSize: 4, maxEntries: 2 } as const;
    const outer = rt.createMap({ name: 'outer', type: 'array_of_maps', keySize: 4, valueSize: 4, maxEntries: 4, innerMap: inner });
    expect(outer).toBeInstanceOf(MapOfMaps);
    const a = rt.createMap({ name: 'a', ...inner }).typed('u32', 'u32');
    a.set(1, 42);
    outer.set(2, a);
    expect(outer.get(2)).toBe(rt.maps.get('a'));
    expect(outer.get(1)).toBeUndefined();
    const wrong = rt.createMap({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 2 });
    throwsCode(() => outer.set(0, wrong), 'EINVAL');
    const bigger = rt.createMap({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 3 });
    throwsCode(() => outer.set(0, bigger), 'EINVAL'); // max_entries differs and the template lacks BPF_F_INNER_MAP
    throwsCode(() => outer.set(0, 999), 'EINVAL'); // no such map
    // Programs: lookup gives the inner map's handle, usable as a map argument.
    const ex = rt.maps.exports;
    const k = rt.maps.scratch(8);
    const dv = new DataView(rt.memory.buffer);
    dv.setUint32(k, 2, true);
    const h = ex.bpf_map_lookup_elem(outer.handle, BigInt(k));
    expect(BigInt.asUintN(64, h)).toBe(a.handle);
    dv.setUint32(k, 1, true);
    const p = ex.bpf_map_lookup_elem(h, BigInt(k));
    expect(dv.getUint32(Number(p), true)).toBe(42);
    expect(ex.bpf_map_lookup_elem(outer.handle, BigInt(k))).toBe(0n); // slot 1 is empty
  });

  it('BPF_F_INNER_MAP lets inner arrays differ in size; hash of maps works the same', () => {
    const rt = new Runtime(small);
    const tmpl = { type: 'array', keySize: 4, valueSize: 4, maxEntries: 1, flags: BPF_F.INNER_MAP } as const;
    const outer = rt.createMap({ type: 'hash_of_maps', keySize: 8, valueSize: 4, maxEntries: 4, innerMap: tmpl }).typed('u64');
    const big = rt.createMap({ ...tmpl, maxEntries: 100 });
    outer.set(5n, big);
    expect(outer.get(5n)?.info.maxEntries).toBe(100);
    expect([...outer.keys()]).toEqual([5n]);
    expect(outer.delete(5n)).toBe(true);
    throwsCode(() => rt.createMap({ type: 'array_of_maps', keySize: 4, valueSize: 4, maxEntries: 1 }), 'EINVAL'); // no template
    throwsCode(() => rt.createMap({ type: 'array_of_maps', keySize: 4, valueSize: 4, maxEntries: 1, innerMap: { type: 'array_of_maps', keySize: 4, valueSize: 4, maxEntries: 1 } }), 'EINVAL');
  });
});

describe('freezing and read-only maps', () => {
  it('a frozen map refuses user-space writes; programs may still write unless BPF_F_RDONLY_PROG', () => {
    const rt = new Runtime(small);
    const a = rt.createMap({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 }).typed('u32', 'u32');
    a.set(0, 1);
    expect(a.frozen).toBe(false);
    a.freeze();
    expect(a.frozen).toBe(true);
    throwsCode(() => a.set(0, 2), 'EPERM');
    expect(a.get(0)).toBe(1);
    const k = rt.maps.scratch(8);
    new DataView(rt.memory.buffer).setUint32(k, 0, true);
    new DataView(rt.memory.buffer).setUint32(k + 4, 5, true);
    expect(rt.maps.exports.bpf_map_update_elem(a.handle, BigInt(k), BigInt(k + 4), 0n)).toBe(0n);
    expect(a.get(0)).toBe(5);
  });

  it('BPF_F_RDONLY_PROG values live in the read-only region; program updates are EPERM', () => {
    const rt = new Runtime(small);
    const ro = rt.createMap({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1, flags: BPF_F.RDONLY_PROG }).typed('u32', 'u32');
    ro.set(0, 3);
    const [, roRegion] = rt.maps.regions();
    const p = ro.pointer(0)!;
    expect(roRegion.writable).toBe(false);
    expect(p >= roRegion.start && p < roRegion.end).toBe(true);
    const k = rt.maps.scratch(8);
    expect(rt.maps.exports.bpf_map_update_elem(ro.handle, BigInt(k), BigInt(k + 4), 0n)).toBe(-1n);
    throwsCode(() => rt.createMap({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1, flags: BPF_F.RDONLY_PROG | BPF_F.WRONLY_PROG }), 'EINVAL');
  });

  it('BPF_F_RDONLY and BPF_F_WRONLY restrict user space', () => {
    const rt = new Runtime(small);
    const r = rt.createMap({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1, flags: BPF_F.RDONLY }).typed('u32', 'u32');
    throwsCode(() => r.set(1, 1), 'EPERM');
    const w = rt.createMap({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1, flags: BPF_F.WRONLY }).typed('u32', 'u32');
    w.set(1, 1);
    throwsCode(() => w.get(1), 'EPERM');
  });
});

describe('creation and the registry', () => {
  it('rejects unknown and unsupported types, bad numbers', () => {
    const rt = new Runtime(small);
    throwsCode(() => rt.createMap({ type: 'nope' as 'hash', keySize: 4, valueSize: 4, maxEntries: 1 }), 'bad_definition');
    throwsCode(() => rt.createMap({ type: BPF_MAP_TYPE.DEVMAP, keySize: 4, valueSize: 4, maxEntries: 1 }), 'EINVAL');
    throwsCode(() => rt.createMap({ type: 'hash', keySize: -1, valueSize: 4, maxEntries: 1 }), 'bad_definition');
    throwsCode(() => rt.createMap({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1.5 }), 'bad_definition');
  });

  it('ENOMEM when the area is full, and the failed map leaves no trace', () => {
    const rt = new Runtime({ mapArea: { metaBytes: 1 << 17, valueBytes: 1 << 16, readOnlyBytes: 0 } });
    throwsCode(() => rt.createMap({ type: 'array', keySize: 4, valueSize: 1024, maxEntries: 65 }), 'ENOMEM');
    const a = rt.createMap({ type: 'array', keySize: 4, valueSize: 1024, maxEntries: 64 }); // exactly fits
    expect(a.id).toBe(1);
    expect(rt.maps.regions()).toHaveLength(1);
  });

  it('finds maps by name and id, checks their kind, lists them', () => {
    const rt = new Runtime(small);
    const h = rt.createMap({ name: 'flows', type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1 });
    const r = rt.createMap({ name: 'events', type: 'ringbuf', maxEntries: 4096 });
    expect(rt.maps.get('flows')).toBe(h);
    expect(rt.maps.byId(r.id)).toBe(r);
    expect(rt.maps.get('nope')).toBeUndefined();
    expect(rt.maps.expect('events', RingBuffer)).toBe(r);
    throwsCode(() => rt.maps.expect('events', KeyValueMap), 'no_such_map');
    throwsCode(() => rt.maps.expect('nope', KeyValueMap), 'no_such_map');
    expect([...rt.maps].map((m) => m.name)).toEqual(['flows', 'events']);
    expect(h.info).toMatchObject({ id: 1, name: 'flows', type: 1, typeName: 'hash', keySize: 4, valueSize: 4, maxEntries: 1, flags: 0, mapExtra: 0n });
    expect(r.info.typeName).toBe('ringbuf');
    expect(h.handle).toBe(0xebf0a000_00000001n);
  });

  it('CPUs: attaching takes a free one, refuses taken or missing ones, detaching frees it', () => {
    const rt = new Runtime({ ...small, cpus: 2 });
    rt.createMap({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 });
    expect(rt.maps.cpu).toBe(0);
    const shared = rt.maps.share();
    const other = attachMaps(shared);
    expect(other.cpu).toBe(1);
    throwsCode(() => attachMaps(shared), 'EBUSY');
    throwsCode(() => attachMaps(shared, { cpu: 0 }), 'EBUSY');
    throwsCode(() => attachMaps(shared, { cpu: 2 }), 'EINVAL');
    other.detach();
    const again = attachMaps(shared);
    expect(again.cpu).toBe(1);
    throwsCode(() => attachMaps({ ...shared, base: shared.base + 65536 }), 'EINVAL');
  });

  it('survives memory growth: views are re-made when an unshared memory grows', () => {
    const rt = new Runtime(small);
    const h = rt.createMap({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 8 }).typed('u32', 'u64');
    h.set(1, 1n);
    const before = rt.memory.buffer.byteLength;
    rt.alloc(8 << 20); // grows the memory, detaching every old ArrayBuffer
    expect(rt.memory.buffer.byteLength).toBeGreaterThan(before);
    h.set(2, 2n);
    expect(h.get(1)).toBe(1n);
    expect(new Map(h)).toEqual(new Map([[1, 1n], [2, 2n]]));
    const q = rt.createMap({ type: 'queue', valueSize: 4, maxEntries: 2 }).typed('u32');
    q.push(3);
    rt.alloc(4 << 20);
    expect(q.pop()).toBe(3);
  });

  it('createMaps applies initial values, links inner maps, resolves programs and freezes .rodata', () => {
    const rt = new Runtime(small);
    const maps = rt.createMaps([
      { name: 'inner', type: BPF_MAP_TYPE.ARRAY, keySize: 4, valueSize: 4, maxEntries: 2 },
      { name: 'outer', type: BPF_MAP_TYPE.ARRAY_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 2, innerMap: { type: BPF_MAP_TYPE.ARRAY, keySize: 4, valueSize: 4, maxEntries: 2 }, initialValues: [{ kind: 'map', index: 1, map: 0 }] },
      { name: 'jumps', type: BPF_MAP_TYPE.PROG_ARRAY, keySize: 4, valueSize: 4, maxEntries: 2, initialValues: [{ kind: 'program', index: 0, program: 'tail' }, { kind: 'program', index: 1, program: 'unknown' }] },
      { name: '.rodata', type: BPF_MAP_TYPE.ARRAY, keySize: 4, valueSize: 3, maxEntries: 1, flags: BPF_F.RDONLY_PROG | BPF_F.MMAPABLE, initialValues: [{ kind: 'bytes', index: 0, value: Uint8Array.of(1, 2, 3) }], frozen: true },
    ], { programSlot: (name) => (name === 'tail' ? 4 : undefined) });
    expect(maps.map((m) => m.name)).toEqual(['inner', 'outer', 'jumps', '.rodata']);
    expect((maps[1] as MapOfMaps<number>).get(1)).toBe(maps[0]);
    expect([...(maps[2] as ProgArray).entries()]).toEqual([[0, 4]]);
    const ro = maps[3] as KeyValueMap<number, Buffer>;
    expect(ro.get(0)).toEqual(Buffer.from([1, 2, 3]));
    expect(ro.frozen).toBe(true);
    expect(ro.directValueAddress(2)).toBe(ro.pointer(0)! + 2);
    expect(ro.directValueAddress(3)).toBeUndefined();
  });
});

describe('codecs', () => {
  it('encode and decode the built-in shapes', () => {
    const rt = new Runtime(small);
    const m = rt.createMap({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 4 }).typed('ipv4', 'i64');
    m.set('192.168.0.1', -5n);
    expect(m.get('192.168.0.1')).toBe(-5n);
    expect([...m.keys()]).toEqual(['192.168.0.1']);
    expect(m.pointer('192.168.0.1')).toBeDefined();
    throwsCode(() => m.get('192.168.0'), 'bad_key');
    throwsCode(() => m.set('1.2.3.4', 1n << 63n), 'bad_value');
    const buf = Buffer.alloc(8);
    codecs['ipv4/lpm'].encode('10.0.0.0/8', buf);
    expect([...buf]).toEqual([8, 0, 0, 0, 10, 0, 0, 0]);
    expect(codecs['ipv4/lpm'].decode(buf)).toBe('10.0.0.0/8');
    codecs['ipv4/lpm'].encode('255.1.002.3', buf);
    expect([...buf]).toEqual([32, 0, 0, 0, 255, 1, 2, 3]); // no length: a /32
    for (const bad of ['10.0.0.0/33', '10.0.0.0/', '10.0.0.0/8/8', '10.0.0/8', '10.0.0.256/8', '10..0.1/8', '1.2.3.4.5', '1.2.3.4 /8', '1.2.3.0001/8', 'a.b.c.d', '', '/8']) {
      expect(() => codecs['ipv4/lpm'].encode(bad, buf), bad).toThrow(RangeError);
    }
    for (const bad of ['1.2.3', '1.2.3.4.', '.1.2.3', '1.2.3.-4', '300.0.0.1', '1.2.3.4/32']) expect(() => codecs.ipv4.encode(bad, Buffer.alloc(4)), bad).toThrow(RangeError);
    const b2 = Buffer.alloc(2);
    codecs.i16.encode(-2, b2);
    expect(codecs.i16.decode(b2)).toBe(-2);
    const custom = { name: 'pair', size: 8, encode: (v: [number, number], out: Uint8Array) => { Buffer.from(out.buffer, out.byteOffset, 8).writeUInt32LE(v[0], 0); Buffer.from(out.buffer, out.byteOffset, 8).writeUInt32LE(v[1], 4); }, decode: (b: Buffer): [number, number] => [b.readUInt32LE(0), b.readUInt32LE(4)] };
    const p = rt.createMap({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 }).typed('u32', custom);
    p.set(0, [1, 2]);
    expect(p.get(0)).toEqual([1, 2]);
  });
});
