/**
 * The JS face of the maps: one class per family of map types, each a thin layer over the `sys_*` exports
 * of the map module (abi.ts), so JS sees exactly what programs see.
 *
 *   KeyValueMap    HASH, LRU_HASH, ARRAY, LPM_TRIE          get/set/delete/has, keys/values/entries
 *   PerCpuMap      PERCPU_HASH, LRU_PERCPU_HASH, PERCPU_ARRAY  the same, one value per CPU (an array)
 *   MapOfMaps      ARRAY_OF_MAPS, HASH_OF_MAPS              values are maps
 *   ProgArray      PROG_ARRAY                               values are program slot ids
 *   QueueMap       QUEUE, STACK                             push/pop/peek
 *   BloomFilter    BLOOM_FILTER                             add/has
 *   RingBuffer     RINGBUF                                  poll/consume, async iteration
 *
 * Keys and values are bytes (`Buffer` or any `Uint8Array` in, `Buffer` out; numbers and bigints accepted for
 * 1/2/4/8-byte sizes) unless codecs are chosen with `typed()` (codecs.ts); array-like maps default to u32 keys. Kernel
 * failures throw {@link MapError} with the errno name as code; a missing element is `undefined` from `get`
 * and `false` from `delete`, as with a JS `Map`.
 *
 * Not here: creating maps and the per-thread plumbing (registry.ts), the map semantics (c/*.c).
 */

import { BPF_MAP_TYPE, mapTypeName } from '../../src/elf/maps.js';
import { BPF_RB, BPF_UPDATE, ERRNO, mapHandle, type MapExports } from './abi.js';
import { bytes, codecs, resolveCodec, type Codec, type CodecLike, type CodecType } from './codecs.js';
import { MapError } from './errors.js';

/** What a map object needs from its thread's registry. */
export interface MapContext {
  readonly exports: MapExports;
  readonly memory: WebAssembly.Memory;
  /** Number of CPUs of the map area (length of per-CPU value arrays). */
  readonly cpus: number;
  /** A view of the whole memory, current (re-made after the memory grew). */
  u8(): Uint8Array;
  /** The same as a DataView. */
  dv(): DataView;
  /** Address of at least `size` bytes of this thread's scratch (metadata zone; valid until the next call). */
  scratch(size: number): number;
  /** The map object of id `id` in this thread (made on demand for maps created elsewhere). */
  byId(id: number): AnyMap | undefined;
}

/** What a map is. */
export interface MapInfo {
  readonly id: number;
  readonly name: string;
  /** `BPF_MAP_TYPE_*` number. */
  readonly type: number;
  /** Lower-case UAPI name: `hash`, `lru_percpu_hash`, `ringbuf`, ... */
  readonly typeName: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  /** `BPF_F_*` bits. */
  readonly flags: number;
  readonly mapExtra: bigint;
}

/** Update flags: `BPF_ANY` (0, create or replace), `BPF_NOEXIST` (1, create only), `BPF_EXIST` (2, replace only). */
export type UpdateFlags = number | 'any' | 'noexist' | 'exist';

const round8 = (n: number): number => (n + 7) & ~7;
const ENOENT = -ERRNO.ENOENT;

function updateFlags(f: UpdateFlags): number {
  if (typeof f === 'number') return f >>> 0;
  switch (f) {
    case 'any': return BPF_UPDATE.ANY;
    case 'noexist': return BPF_UPDATE.NOEXIST;
    case 'exist': return BPF_UPDATE.EXIST;
    default: throw new MapError('bad_definition', `unknown update flag '${String(f)}'`);
  }
}

/** Copies `n` bytes at `addr` out of memory into a fresh Buffer. */
function copyOut(u8: Uint8Array, addr: number, n: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  out.set(u8.subarray(addr, addr + n));
  return out;
}

/** Inputs accepted where a T is expected: T itself, raw bytes, and numbers and bigints when T is bytes. */
export type In<T> = T | Uint8Array | ([T] extends [Uint8Array] ? number | bigint : never);

/** Common to every map. */
export abstract class BpfMap {
  readonly id: number;
  readonly name: string;
  /** The value programs hold for this map (what `lddw map_idx` loads): see abi.ts. */
  readonly handle: bigint;

  constructor(
    protected readonly ctx: MapContext,
    readonly info: MapInfo,
  ) {
    this.id = info.id;
    this.name = info.name;
    this.handle = mapHandle(info.id);
  }

  /**
   * The address of byte `off` of element 0's value in linear memory (`map_direct_value_addr`: an ARRAY with one
   * element, as global data is), what `lddw map_idx_value` loads; undefined for other maps or offsets.
   */
  directValueAddress(off = 0): number | undefined {
    const a = this.ctx.exports.map_direct_value_addr(this.handle, BigInt(off));
    return a < 0n ? undefined : Number(a);
  }

  /** Whether user space may no longer write the map (BPF_MAP_FREEZE). */
  get frozen(): boolean {
    const s = this.ctx.scratch(48);
    this.check(this.ctx.exports.sys_info(this.id, s), 'info');
    return new DataView(this.ctx.u8().buffer).getUint32(s + 28, true) !== 0;
  }

  /** BPF_MAP_FREEZE: user-space writes fail with EPERM from now on; programs may still write unless the map has BPF_F_RDONLY_PROG. */
  freeze(): void {
    this.check(this.ctx.exports.sys_freeze(this.id), 'freeze');
  }

  /** Decodes `size` bytes at `addr` with `codec` (its fast path, or a copy). */
  protected take<T>(codec: Codec<T>, addr: number, size: number): T {
    return codec.load !== undefined ? codec.load(this.ctx.dv(), addr) : codec.decode(copyOut(this.ctx.u8(), addr, size));
  }

  /** Throws a MapError for a negative result. */
  protected check(r: number, op: string): number {
    if (r < 0) throw MapError.fromErrno(r, op, this.name);
    return r;
  }

  /** Encodes `v` with `codec` (raw bytes bypass it) into `size` bytes at `addr`. */
  protected put<T>(codec: Codec<T>, v: In<T>, addr: number, size: number, what: 'key' | 'value'): void {
    try {
      if (codec.store !== undefined && !(v instanceof Uint8Array)) codec.store(v as T, this.ctx.dv(), addr);
      else if (v instanceof Uint8Array && codec !== bytes) bytes.encode(v as Buffer, this.ctx.u8().subarray(addr, addr + size));
      else codec.encode(v as T, this.ctx.u8().subarray(addr, addr + size));
    } catch (e) {
      if (e instanceof MapError) throw e;
      throw new MapError(what === 'key' ? 'bad_key' : 'bad_value', `map '${this.name}': bad ${what}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

/**
 * The maps with keys: get/set/delete/has and iteration, like a JS `Map`. `VOut` is what reads give, `VIn`
 * what writes take (they differ for per-CPU maps and maps of maps).
 */
export abstract class KeyedMap<K, VOut, VIn> extends BpfMap implements Iterable<[K, VOut]> {
  protected abstract readonly keyCodec: Codec<K>;
  /** Bytes of a value in user-space form (per-CPU: every CPU's). */
  protected abstract readonly sysValueSize: number;
  protected abstract encodeValue(v: In<VIn>, addr: number): void;
  /** Reads a value (user-space form) from `addr`. */
  protected abstract readValue(addr: number): VOut;
  /** The key's room in the scratch: the value follows it. */
  protected readonly keyRoom: number;

  constructor(ctx: MapContext, info: MapInfo) {
    super(ctx, info);
    this.keyRoom = round8(info.keySize);
  }

  /** The value of `key`, or undefined. LPM tries answer with the longest matching prefix. */
  get(key: In<K>): VOut | undefined {
    const s = this.ctx.scratch(this.keyRoom + this.sysValueSize);
    this.put(this.keyCodec, key, s, this.info.keySize, 'key');
    const r = this.ctx.exports.sys_lookup(this.id, s, s + this.keyRoom);
    if (r === ENOENT) return undefined;
    if (r < 0) this.check(r, 'lookup');
    return this.readValue(s + this.keyRoom);
  }

  /** Whether `key` is in the map (for LPM tries: whether some prefix matches it). */
  has(key: In<K>): boolean {
    const s = this.ctx.scratch(this.keyRoom + this.sysValueSize);
    this.put(this.keyCodec, key, s, this.info.keySize, 'key');
    const r = this.ctx.exports.sys_lookup(this.id, s, s + this.keyRoom);
    if (r === ENOENT) return false;
    this.check(r, 'lookup');
    return true;
  }

  /** Sets `key` to `value`; `flags` as BPF_MAP_UPDATE_ELEM (EEXIST with 'noexist', ENOENT with 'exist', E2BIG when full). */
  set(key: In<K>, value: In<VIn>, flags: UpdateFlags = 'any'): this {
    const s = this.ctx.scratch(this.keyRoom + this.sysValueSize);
    this.put(this.keyCodec, key, s, this.info.keySize, 'key');
    this.encodeValue(value, s + this.keyRoom);
    const r = this.ctx.exports.sys_update(this.id, s, s + this.keyRoom, flags === 'any' ? 0 : updateFlags(flags));
    if (r < 0) this.check(r, 'update');
    return this;
  }

  /** Deletes `key`: true when it was there. Arrays cannot delete (EINVAL, as in the kernel). */
  delete(key: In<K>): boolean {
    const s = this.ctx.scratch(this.keyRoom);
    this.put(this.keyCodec, key, s, this.info.keySize, 'key');
    const r = this.ctx.exports.sys_delete(this.id, s);
    if (r === ENOENT) return false;
    this.check(r, 'delete');
    return true;
  }

  /** BPF_MAP_GET_NEXT_KEY: the key after `key` (the first key without one, or when `key` is absent); undefined after the last. */
  nextKey(key?: In<K>): K | undefined {
    const ks = this.info.keySize;
    const s = this.ctx.scratch(2 * this.keyRoom);
    if (key !== undefined) this.put(this.keyCodec, key, s, ks, 'key');
    const next = s + this.keyRoom;
    const r = this.ctx.exports.sys_get_next_key(this.id, key === undefined ? 0 : s, next);
    if (r === ENOENT) return undefined;
    this.check(r, 'get_next_key');
    return this.take(this.keyCodec, next, ks);
  }

  /** Entries in storage order. Elements added or deleted during the iteration may or may not be seen. */
  *entries(): IterableIterator<[K, VOut]> {
    // Position-based (sys_iter), so deleting the current key, or any other, is fine.
    for (let pos = 0; ;) {
      const s = this.ctx.scratch(this.keyRoom + this.sysValueSize);
      const r = this.ctx.exports.sys_iter(this.id, pos, s, s + this.keyRoom);
      if (r === ENOENT) return;
      this.check(r, 'iterate');
      const entry: [K, VOut] = [this.take(this.keyCodec, s, this.info.keySize), this.readValue(s + this.keyRoom)];
      pos = r + 1;
      yield entry;
    }
  }
  *keys(): IterableIterator<K> {
    for (let pos = 0; ;) {
      const s = this.ctx.scratch(this.keyRoom);
      const r = this.ctx.exports.sys_iter(this.id, pos, s, 0);
      if (r === ENOENT) return;
      this.check(r, 'iterate');
      const k = this.take(this.keyCodec, s, this.info.keySize);
      pos = r + 1;
      yield k;
    }
  }
  *values(): IterableIterator<VOut> {
    for (const [, v] of this.entries()) yield v;
  }
  [Symbol.iterator](): IterableIterator<[K, VOut]> {
    return this.entries();
  }
  /** Calls `fn` for each entry. */
  forEach(fn: (value: VOut, key: K, map: this) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }
  /** Number of entries (counted: O(max_entries)). */
  get size(): number {
    let n = 0;
    const s = this.ctx.scratch(this.keyRoom);
    for (let pos = 0; ; n++) {
      const r = this.ctx.exports.sys_iter(this.id, pos, s, 0);
      if (r === ENOENT) return n;
      this.check(r, 'iterate');
      pos = r + 1;
    }
  }
}

/** HASH, LRU_HASH, ARRAY, LPM_TRIE: one value per key. */
export class KeyValueMap<K = Buffer, V = Buffer> extends KeyedMap<K, V, V> {
  protected readonly keyCodec: Codec<K>;
  protected readonly valueCodec: Codec<V>;
  protected readonly sysValueSize: number;

  constructor(ctx: MapContext, info: MapInfo, keyCodec?: Codec<K>, valueCodec?: Codec<V>) {
    super(ctx, info);
    this.keyCodec = keyCodec ?? (defaultKeyCodec(info) as unknown as Codec<K>);
    this.valueCodec = valueCodec ?? (bytes as unknown as Codec<V>);
    this.sysValueSize = info.valueSize;
  }

  /** The same map with codecs for keys and values (names from codecs.ts or your own {@link Codec}s). */
  typed<KC extends CodecLike<any>, VC extends CodecLike<any>>(key: KC, value: VC): KeyValueMap<CodecType<KC>, CodecType<VC>> {
    return new KeyValueMap(this.ctx, this.info, resolveCodec(key, this.info.keySize, 'key', this.name), resolveCodec(value, this.info.valueSize, 'value', this.name));
  }

  /**
   * The live address of `key`'s value in linear memory (this CPU's), as a program's lookup gives it, or
   * undefined. The bytes can be used with `Atomics` through a view of the memory; they stay the element's
   * until it is deleted. Marks LRU elements as used.
   */
  pointer(key: In<K>): number | undefined {
    const s = this.ctx.scratch(this.keyRoom);
    this.put(this.keyCodec, key, s, this.info.keySize, 'key');
    const p = this.ctx.exports.bpf_map_lookup_elem(this.handle, BigInt(s));
    return p === 0n ? undefined : Number(p);
  }

  /** BPF_MAP_LOOKUP_AND_DELETE_ELEM (hash maps): the value, removed; undefined when absent. */
  getAndDelete(key: In<K>): V | undefined {
    const s = this.ctx.scratch(this.keyRoom + this.sysValueSize);
    this.put(this.keyCodec, key, s, this.info.keySize, 'key');
    const r = this.ctx.exports.sys_lookup_and_delete(this.id, s, s + this.keyRoom);
    if (r === ENOENT) return undefined;
    this.check(r, 'lookup_and_delete');
    return this.readValue(s + this.keyRoom);
  }

  protected encodeValue(v: In<V>, addr: number): void {
    this.put(this.valueCodec, v, addr, this.info.valueSize, 'value');
  }
  protected readValue(addr: number): V {
    return this.take(this.valueCodec, addr, this.info.valueSize);
  }
}

/** PERCPU_HASH, LRU_PERCPU_HASH, PERCPU_ARRAY: reads give one value per CPU; writes take one per CPU, or one for all. */
export class PerCpuMap<K = Buffer, V = Buffer> extends KeyedMap<K, V[], V | V[]> {
  protected readonly keyCodec: Codec<K>;
  protected readonly valueCodec: Codec<V>;
  protected readonly sysValueSize: number;
  private readonly stride: number;

  constructor(ctx: MapContext, info: MapInfo, keyCodec?: Codec<K>, valueCodec?: Codec<V>) {
    super(ctx, info);
    this.keyCodec = keyCodec ?? (defaultKeyCodec(info) as unknown as Codec<K>);
    this.valueCodec = valueCodec ?? (bytes as unknown as Codec<V>);
    this.stride = round8(info.valueSize);
    this.sysValueSize = this.stride * ctx.cpus;
  }

  typed<KC extends CodecLike<any>, VC extends CodecLike<any>>(key: KC, value: VC): PerCpuMap<CodecType<KC>, CodecType<VC>> {
    return new PerCpuMap(this.ctx, this.info, resolveCodec(key, this.info.keySize, 'key', this.name), resolveCodec(value, this.info.valueSize, 'value', this.name));
  }

  protected encodeValue(v: In<V | V[]>, addr: number): void {
    const cpus = this.ctx.cpus;
    if (Array.isArray(v)) {
      if (v.length !== cpus) throw new MapError('bad_value', `map '${this.name}': ${v.length} per-CPU values given, the map has ${cpus} CPUs`);
      v.forEach((x, c) => this.put(this.valueCodec, x as In<V>, addr + c * this.stride, this.info.valueSize, 'value'));
    } else {
      this.put(this.valueCodec, v as In<V>, addr, this.info.valueSize, 'value');
      const u8 = this.ctx.u8();
      for (let c = 1; c < cpus; c++) u8.copyWithin(addr + c * this.stride, addr, addr + this.info.valueSize);
    }
    const u8 = this.ctx.u8();
    for (let c = 0; c < cpus; c++) u8.fill(0, addr + c * this.stride + this.info.valueSize, addr + (c + 1) * this.stride);
  }
  protected readValue(addr: number): V[] {
    const out: V[] = [];
    for (let c = 0; c < this.ctx.cpus; c++) out.push(this.take(this.valueCodec, addr + c * this.stride, this.info.valueSize));
    return out;
  }
}

/** ARRAY_OF_MAPS, HASH_OF_MAPS: values are maps (set takes a map or its id; programs get the inner map's handle). */
export class MapOfMaps<K = Buffer> extends KeyedMap<K, AnyMap, BpfMap | number> {
  protected readonly keyCodec: Codec<K>;
  protected readonly sysValueSize = 4;

  constructor(ctx: MapContext, info: MapInfo, keyCodec?: Codec<K>) {
    super(ctx, info);
    this.keyCodec = keyCodec ?? (defaultKeyCodec(info) as unknown as Codec<K>);
  }

  typed<KC extends CodecLike<any>>(key: KC): MapOfMaps<CodecType<KC>> {
    return new MapOfMaps(this.ctx, this.info, resolveCodec(key, this.info.keySize, 'key', this.name));
  }

  protected encodeValue(v: In<BpfMap | number>, addr: number): void {
    const id = v instanceof BpfMap ? v.id : v;
    this.put(codecs.u32, id as In<number>, addr, 4, 'value');
  }
  protected readValue(addr: number): AnyMap {
    const id = this.ctx.dv().getUint32(addr, true);
    const m = this.ctx.byId(id);
    if (m === undefined) throw new MapError('no_such_map', `map '${this.name}': holds map id ${id}, which does not exist`);
    return m;
  }
}

/** PROG_ARRAY: index → program slot id (the runtime's numbering of loaded programs), for bpf_tail_call. */
export class ProgArray extends KeyedMap<number, number, number> {
  protected readonly keyCodec = codecs.u32;
  protected readonly sysValueSize = 4;
  protected encodeValue(v: In<number>, addr: number): void {
    this.put(codecs.u32, v, addr, 4, 'value');
  }
  protected readValue(addr: number): number {
    return this.ctx.dv().getUint32(addr, true);
  }
}

/** QUEUE (FIFO) and STACK (LIFO). */
export class QueueMap<V = Buffer> extends BpfMap {
  protected readonly valueCodec: Codec<V>;

  constructor(ctx: MapContext, info: MapInfo, valueCodec?: Codec<V>) {
    super(ctx, info);
    this.valueCodec = valueCodec ?? (bytes as unknown as Codec<V>);
  }

  typed<VC extends CodecLike<any>>(value: VC): QueueMap<CodecType<VC>> {
    return new QueueMap(this.ctx, this.info, resolveCodec(value, this.info.valueSize, 'value', this.name));
  }

  /** Adds a value; when full, throws E2BIG, or with `overwrite` drops the oldest element (BPF_EXIST). */
  push(value: In<V>, options: { overwrite?: boolean } = {}): this {
    const s = this.ctx.scratch(this.info.valueSize);
    this.put(this.valueCodec, value, s, this.info.valueSize, 'value');
    this.check(this.ctx.exports.sys_update(this.id, 0, s, options.overwrite ? BPF_UPDATE.EXIST : BPF_UPDATE.ANY), 'push');
    return this;
  }
  /** Removes and returns the next value (oldest for a queue, newest for a stack), or undefined when empty. */
  pop(): V | undefined {
    return this.fetch(true);
  }
  /** The value pop would return, without removing it. */
  peek(): V | undefined {
    return this.fetch(false);
  }
  /** Pops until empty. */
  *drain(): IterableIterator<V> {
    for (let v = this.pop(); v !== undefined; v = this.pop()) yield v;
  }

  private fetch(remove: boolean): V | undefined {
    const s = this.ctx.scratch(this.info.valueSize);
    const ex = this.ctx.exports;
    const r = remove ? ex.sys_lookup_and_delete(this.id, 0, s) : ex.sys_lookup(this.id, 0, s);
    if (r === ENOENT) return undefined;
    this.check(r, remove ? 'pop' : 'peek');
    return this.take(this.valueCodec, s, this.info.valueSize);
  }
}

/** BLOOM_FILTER: `add` values, then `has` answers false (certainly never added) or true (probably added). */
export class BloomFilter<V = Buffer> extends BpfMap {
  protected readonly valueCodec: Codec<V>;

  constructor(ctx: MapContext, info: MapInfo, valueCodec?: Codec<V>) {
    super(ctx, info);
    this.valueCodec = valueCodec ?? (bytes as unknown as Codec<V>);
  }

  typed<VC extends CodecLike<any>>(value: VC): BloomFilter<CodecType<VC>> {
    return new BloomFilter(this.ctx, this.info, resolveCodec(value, this.info.valueSize, 'value', this.name));
  }

  add(value: In<V>): this {
    const s = this.ctx.scratch(this.info.valueSize);
    this.put(this.valueCodec, value, s, this.info.valueSize, 'value');
    this.check(this.ctx.exports.sys_update(this.id, 0, s, BPF_UPDATE.ANY), 'push');
    return this;
  }
  has(value: In<V>): boolean {
    const s = this.ctx.scratch(this.info.valueSize);
    this.put(this.valueCodec, value, s, this.info.valueSize, 'value');
    const r = this.ctx.exports.sys_lookup(this.id, 0, s);
    if (r === ENOENT) return false;
    this.check(r, 'peek');
    return true;
  }
}

/** Options of {@link RingBuffer.records}. */
export interface RecordsOptions {
  /** Stops the iteration (it then ends normally). */
  readonly signal?: AbortSignal;
  /**
   * Longest wait between checks, in ms. With a shared memory the consumer also wakes as soon as a program
   * submits a record (Atomics.waitAsync on the ring's wake-up word); otherwise it polls. Default 50.
   */
  readonly intervalMs?: number;
}

type WaitAsync = (a: Int32Array, index: number, value: number, timeout?: number) => { async: boolean; value: Promise<string> | string };

/** RINGBUF: records committed by programs, read in order by one consumer. */
export class RingBuffer extends BpfMap implements AsyncIterable<Buffer> {
  /** Reads up to `max` committed records (copies), in order, consuming them; discarded records are skipped. */
  poll(max = Infinity): Buffer[] {
    const out: Buffer[] = [];
    this.consume((r) => {
      out.push(r);
      return out.length < max;
    });
    return out;
  }

  /**
   * Calls `fn` with each committed record (a copy) in order, consuming it, until none is ready or `fn`
   * returns false. Returns the number of records consumed. Throws EFAULT if a record header was corrupted.
   */
  consume(fn: (record: Buffer) => boolean | void): number {
    const ex = this.ctx.exports;
    let n = 0;
    for (;;) {
      const r = ex.sys_ringbuf_peek(this.id);
      if (r === 0n) return n;
      if (r < 0n) this.check(Number(r), 'consume');
      const len = Number(r >> 32n);
      const rec = copyOut(this.ctx.u8(), Number(r & 0xffffffffn), len);
      this.check(ex.sys_ringbuf_advance(this.id), 'consume');
      n++;
      if (fn(rec) === false) return n;
    }
  }

  /** Bytes committed or reserved and not yet consumed (BPF_RB_AVAIL_DATA). */
  get available(): number {
    return Number(this.ctx.exports.sys_ringbuf_query(this.id, BPF_RB.AVAIL_DATA));
  }
  /** The ring's size in bytes (BPF_RB_RING_SIZE). */
  get ringSize(): number {
    return Number(this.ctx.exports.sys_ringbuf_query(this.id, BPF_RB.RING_SIZE));
  }
  /** Consumer and producer positions (BPF_RB_CONS_POS, BPF_RB_PROD_POS): bytes consumed / produced so far. */
  get positions(): { consumer: bigint; producer: bigint } {
    const ex = this.ctx.exports;
    return { consumer: ex.sys_ringbuf_query(this.id, BPF_RB.CONS_POS), producer: ex.sys_ringbuf_query(this.id, BPF_RB.PROD_POS) };
  }

  /** Records as they arrive, forever (until `signal` aborts or the loop breaks). */
  async *records(options: RecordsOptions = {}): AsyncGenerator<Buffer> {
    const interval = options.intervalMs ?? 50;
    const notifyAddr = this.ctx.exports.sys_ringbuf_notify_addr(this.id);
    const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;
    const shared = typeof SharedArrayBuffer !== 'undefined' && this.ctx.memory.buffer instanceof SharedArrayBuffer;
    while (!options.signal?.aborted) {
      const seen = shared ? Atomics.load(new Int32Array(this.ctx.memory.buffer, notifyAddr, 1), 0) : 0;
      const batch = this.poll();
      for (const r of batch) yield r;
      if (batch.length > 0) continue;
      if (shared && waitAsync) {
        const w = waitAsync(new Int32Array(this.ctx.memory.buffer), notifyAddr >> 2, seen, interval);
        if (w.async) await abortable(w.value as Promise<string>, options.signal);
      } else {
        await abortable(new Promise((resolve) => setTimeout(resolve, interval)), options.signal);
      }
    }
  }
  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return this.records();
  }
}

/** Resolves when `p` does or `signal` aborts. */
function abortable(p: Promise<unknown>, signal: AbortSignal | undefined): Promise<unknown> {
  if (!signal) return p;
  return new Promise((resolve) => {
    const done = (): void => {
      signal.removeEventListener('abort', done);
      resolve(undefined);
    };
    signal.addEventListener('abort', done, { once: true });
    void p.then(done);
  });
}

/** Any map object. */
export type AnyMap = KeyValueMap<any, any> | PerCpuMap<any, any> | MapOfMaps<any> | ProgArray | QueueMap<any> | BloomFilter<any> | RingBuffer;

/** u32 keys for array-like maps, raw bytes otherwise. */
function defaultKeyCodec(info: MapInfo): Codec<unknown> {
  switch (info.type) {
    case BPF_MAP_TYPE.ARRAY: case BPF_MAP_TYPE.PERCPU_ARRAY: case BPF_MAP_TYPE.PROG_ARRAY: case BPF_MAP_TYPE.ARRAY_OF_MAPS:
      return codecs.u32 as Codec<unknown>;
    default:
      return bytes as Codec<unknown>;
  }
}

/** The map object for a map of the given info (its class follows the type). */
export function mapObject(ctx: MapContext, info: MapInfo): AnyMap {
  switch (info.type) {
    case BPF_MAP_TYPE.HASH: case BPF_MAP_TYPE.LRU_HASH: case BPF_MAP_TYPE.ARRAY: case BPF_MAP_TYPE.LPM_TRIE:
      return new KeyValueMap(ctx, info);
    case BPF_MAP_TYPE.PERCPU_HASH: case BPF_MAP_TYPE.LRU_PERCPU_HASH: case BPF_MAP_TYPE.PERCPU_ARRAY:
      return new PerCpuMap(ctx, info);
    case BPF_MAP_TYPE.ARRAY_OF_MAPS: case BPF_MAP_TYPE.HASH_OF_MAPS:
      return new MapOfMaps(ctx, info);
    case BPF_MAP_TYPE.PROG_ARRAY:
      return new ProgArray(ctx, info);
    case BPF_MAP_TYPE.QUEUE: case BPF_MAP_TYPE.STACK:
      return new QueueMap(ctx, info);
    case BPF_MAP_TYPE.BLOOM_FILTER:
      return new BloomFilter(ctx, info);
    case BPF_MAP_TYPE.RINGBUF:
      return new RingBuffer(ctx, info);
    default:
      throw new MapError('bad_definition', `map '${info.name}': ${mapTypeName(info.type)} maps are not supported`);
  }
}
