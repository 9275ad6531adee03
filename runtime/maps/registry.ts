/**
 * {@link MapRegistry}: one thread's access to the maps of a runtime. The runtime's own registry
 * (`runtime.maps`) creates the map area in the runtime's memory and the maps in it; a worker attaches its own
 * registry to the same area with {@link attachMaps} and gets the same maps, as another CPU.
 *
 *     // main thread
 *     const rt = new Runtime({ shared: true, cpus: 3 });
 *     const counts = rt.createMap({ name: 'counts', type: 'hash', keySize: 4, valueSize: 8, maxEntries: 1024 });
 *     new Worker(url, { workerData: rt.maps.share() });
 *     // worker
 *     const maps = attachMaps(workerData);            // CPU 1 (the first free one)
 *     maps.expect('counts', KeyValueMap).typed('u32', 'u64').set(1, 2n);
 *
 * Each registry owns one instance of the map module (attached to one CPU) and a scratch buffer in the
 * metadata zone for passing keys and values. It also provides what engines need: the program regions
 * ({@link MapRegistry.regions}) and a ready helper table ({@link MapRegistry.helpers}).
 *
 * Not here: the map area layout and semantics (c/core.c), the map classes (map.ts).
 */

import { BPF_F, BPF_MAP_TYPE, mapTypeName, type MapSpec } from '../../src/elf/maps.js';
import type { HelperTable, Region } from '../../src/exec.js';
import { ATTR_SIZE, ERRNO, type MapExports } from './abi.js';
import { MapError, type MapErrnoCode } from './errors.js';
import { mapHelpers } from './helpers.js';
import {
  BloomFilter, BpfMap, KeyValueMap, MapOfMaps, PerCpuMap, ProgArray, QueueMap, RingBuffer, mapObject,
  type AnyMap, type MapContext, type MapInfo,
} from './map.js';
import { instantiateMaps, isShared, mapsModule } from './module.js';

const MiB = 1 << 20;
const PAGE = 65536;

/** Sizes of the map area's zones (bytes, rounded up to 64 KiB). Fixed when the area is created. */
export interface MapAreaOptions {
  /** Metadata: descriptors, hash buckets, elements and keys, LPM nodes, queue slots, bloom bits. Default 16 MiB. */
  readonly metaBytes?: number;
  /** The value arena (programs' writable map region): values and ring buffers. Default 16 MiB. */
  readonly valueBytes?: number;
  /** The read-only arena: values of BPF_F_RDONLY_PROG maps (.rodata). Default 4 MiB. */
  readonly readOnlyBytes?: number;
}

/** Map type names accepted by {@link MapDefinition.type}: the UAPI names, lower case. */
export type MapTypeName =
  | 'hash' | 'array' | 'prog_array' | 'percpu_hash' | 'percpu_array' | 'lru_hash' | 'lru_percpu_hash' | 'lpm_trie'
  | 'array_of_maps' | 'hash_of_maps' | 'queue' | 'stack' | 'ringbuf' | 'bloom_filter';

/** A map to create. An ELF loader's `MapSpec` is one. */
export interface MapDefinition {
  readonly name?: string;
  /** A {@link MapTypeName} or a `BPF_MAP_TYPE_*` number. */
  readonly type: MapTypeName | number;
  /** Bytes; 0 (the default) for queues, stacks, bloom filters and ring buffers. */
  readonly keySize?: number;
  /** Bytes; 0 for ring buffers. */
  readonly valueSize?: number;
  /** Elements (ring buffers: bytes, a power of 2 multiple of 4096). */
  readonly maxEntries: number;
  /** `BPF_F_*` bits. Default 0, except BPF_F_NO_PREALLOC for LPM tries (which Linux requires). */
  readonly flags?: number;
  /** Bloom filters: the number of hash functions (1..15; 0 = 5). */
  readonly mapExtra?: bigint | number;
  /** Maps of maps: the inner maps' template (a definition or an existing map). */
  readonly innerMap?: MapDefinition | BpfMap;
  /** Global data and other preset elements (`kind: 'bytes'` apply here; `map`/`program` in createAll). */
  readonly initialValues?: MapSpec['initialValues'];
  /** Freeze after the initial values (user space may no longer write): `.rodata`. */
  readonly frozen?: boolean;
}

/** The map class a definition gives, by type name. */
export type MapFor<T> = T extends 'hash' | 'lru_hash' | 'lpm_trie' ? KeyValueMap<Buffer, Buffer>
  : T extends 'array' ? KeyValueMap<number, Buffer>
  : T extends 'percpu_hash' | 'lru_percpu_hash' ? PerCpuMap<Buffer, Buffer>
  : T extends 'percpu_array' ? PerCpuMap<number, Buffer>
  : T extends 'array_of_maps' ? MapOfMaps<number>
  : T extends 'hash_of_maps' ? MapOfMaps<Buffer>
  : T extends 'prog_array' ? ProgArray
  : T extends 'queue' | 'stack' ? QueueMap<Buffer>
  : T extends 'bloom_filter' ? BloomFilter<Buffer>
  : T extends 'ringbuf' ? RingBuffer
  : AnyMap;

/** Options of {@link MapRegistry.createAll}. */
export interface CreateAllOptions {
  /** The program slot id of the program with this C function name (PROG_ARRAY initial values); those left undefined stay empty. */
  readonly programSlot?: (name: string) => number | undefined;
  /** Freeze the maps whose spec says `frozen` (`.rodata`). Default true; false leaves them writable (libbpf freezes at load). */
  readonly freeze?: boolean;
}

/** What a worker needs to attach to a runtime's maps: structured-cloneable (post it, or pass it as workerData). */
export interface SharedMaps {
  readonly memory: WebAssembly.Memory;
  /** Address of the map area. */
  readonly base: number;
  /** The compiled map module (saves the worker compiling it). */
  readonly module: WebAssembly.Module;
  /** Names of the maps that existed when shared, by id. */
  readonly names: readonly (readonly [number, string])[];
}

/** The zones of a map area. */
export interface MapLayout {
  readonly meta: { readonly start: number; readonly end: number };
  readonly values: { readonly start: number; readonly end: number };
  readonly readOnly: { readonly start: number; readonly end: number };
  readonly cpus: number;
}

const roundPage = (n: number): number => Math.ceil(n / PAGE) * PAGE;

/** A secret hash seed per map (as the kernel's), unless BPF_F_ZERO_SEED. Web Crypto: global in Node 20, no import. */
function randomSeed(): number {
  return globalThis.crypto.getRandomValues(new Uint32Array(1))[0];
}

/** One thread's view of a runtime's maps. */
export class MapRegistry implements MapContext, Iterable<AnyMap> {
  /** Number of CPUs of the area. */
  readonly cpus: number;
  /** The layout of the map area. */
  readonly layout: MapLayout;
  private view: Uint8Array;
  private dataView: DataView;
  private scratchPtr = 0;
  private scratchCap = 0;
  private readonly objects = new Map<number, AnyMap>();
  private readonly ids = new Map<string, number>();
  private readonly knownNames = new Map<number, string>();
  private helperTable: HelperTable | undefined;
  private regionList: readonly Region[] | undefined;

  private constructor(
    readonly exports: MapExports,
    readonly memory: WebAssembly.Memory,
    /** Address of the map area. */
    readonly base: number,
    names: readonly (readonly [number, string])[] = [],
  ) {
    this.view = new Uint8Array(memory.buffer);
    this.dataView = new DataView(memory.buffer);
    const s = this.scratch(64);
    const r = exports.maps_layout(s);
    if (r < 0) throw new MapError('no_space', 'map area: this instance is not attached');
    const w = new Uint32Array(this.u8().buffer, s, 7);
    this.layout = {
      meta: { start: w[0], end: w[1] },
      values: { start: w[2], end: w[3] },
      readOnly: { start: w[4], end: w[5] },
      cpus: w[6],
    };
    this.cpus = w[6];
    for (const [id, name] of names) {
      this.knownNames.set(id, name);
      if (!this.ids.has(name)) this.ids.set(name, id);
    }
  }

  /**
   * Lays out a new map area in `memory` (reserved with `alloc(size, align)`) for `cpus` CPUs; this thread
   * becomes CPU 0.
   */
  static create(memory: WebAssembly.Memory, alloc: (size: number, align: number) => number, cpus: number, area: MapAreaOptions = {}): MapRegistry {
    const meta = roundPage(area.metaBytes ?? 16 * MiB);
    const values = roundPage(area.valueBytes ?? 16 * MiB);
    const ro = roundPage(area.readOnlyBytes ?? 4 * MiB);
    if (!Number.isInteger(cpus) || cpus < 1 || cpus > 64) throw new MapError('bad_definition', `a runtime has 1 to 64 CPUs, not ${cpus}`);
    if (meta < 2 * PAGE || meta + values + ro > 2 ** 32) throw new MapError('bad_definition', 'map area: zone sizes out of range');
    const base = alloc(meta + values + ro, PAGE);
    const exports = instantiateMaps(memory);
    const r = exports.maps_init(base, meta, values, ro, cpus);
    if (r < 0) throw new MapError('no_space', `map area: cannot set up at 0x${base.toString(16)} (errno ${-r})`);
    return new MapRegistry(exports, memory, base);
  }

  /** Attaches this thread to a shared map area as CPU `cpu` (default: the first free one). */
  static attach(shared: SharedMaps, options: { readonly cpu?: number } = {}): MapRegistry {
    const exports = instantiateMaps(shared.memory, shared.module);
    const r = exports.maps_attach(shared.base, options.cpu ?? 0xffffffff);
    if (r === -ERRNO.EBUSY) throw new MapError('EBUSY', options.cpu === undefined ? 'map area: every CPU is taken (raise RuntimeOptions.cpus)' : `map area: CPU ${options.cpu} is taken`, ERRNO.EBUSY);
    if (r < 0) throw new MapError('EINVAL', `map area: cannot attach${options.cpu !== undefined ? ` as CPU ${options.cpu}` : ''} (no area there, or CPU out of range)`, -r);
    return new MapRegistry(exports, shared.memory, shared.base, shared.names);
  }

  /** This thread's CPU number. */
  get cpu(): number {
    return this.exports.maps_cpu();
  }

  /** What a worker passes to {@link attachMaps}. Needs a shared memory to be posted to another thread. */
  share(): SharedMaps {
    const names: [number, string][] = [];
    for (const m of this) names.push([m.id, m.name]);
    return { memory: this.memory, base: this.base, module: mapsModule(isShared(this.memory)), names };
  }

  /** Gives this thread's CPU back (the registry is unusable afterwards). */
  detach(): void {
    this.exports.maps_detach();
  }

  /**
   * The regions programs may access for maps, to add to `ExecRequest.regions`: the value arena (writable)
   * and the read-only arena.
   */
  regions(): readonly Region[] {
    if (this.regionList === undefined) {
      const { values, readOnly } = this.layout;
      const out: Region[] = [{ start: values.start, end: values.end, writable: true, name: 'map values' }];
      if (readOnly.end > readOnly.start) out.push({ start: readOnly.start, end: readOnly.end, writable: false, name: 'read-only map values' });
      this.regionList = Object.freeze(out);
    }
    return this.regionList;
  }

  /** The map helpers (ids 1, 2, 3, 87-89, 130-134, 195) on this thread's instance, for the interpreter. */
  get helpers(): HelperTable {
    return (this.helperTable ??= mapHelpers(this.exports));
  }

  // MapContext

  u8(): Uint8Array {
    let v = this.view;
    // An unshared memory's buffer is detached (length 0) when the memory grows.
    if (v.byteLength === 0) {
      v = this.view = new Uint8Array(this.memory.buffer);
      this.dataView = new DataView(this.memory.buffer);
    }
    return v;
  }

  dv(): DataView {
    if (this.view.byteLength === 0) this.u8();
    return this.dataView;
  }

  scratch(size: number): number {
    if (size > this.scratchCap) {
      const cap = Math.max(size, 2 * this.scratchCap, 4096);
      const p = this.exports.maps_alloc(cap);
      if (p === 0) throw new MapError('no_space', `map metadata zone exhausted (needed ${cap} bytes of scratch): raise RuntimeOptions.mapArea.metaBytes`);
      this.scratchPtr = p;
      this.scratchCap = cap;
    }
    return this.scratchPtr;
  }

  byId(id: number): AnyMap | undefined {
    let m = this.objects.get(id);
    if (m !== undefined) return m;
    const s = this.scratch(48);
    if (this.exports.sys_info(id, s) < 0) return undefined;
    const w = new Uint32Array(this.u8().buffer, s, 12);
    const info: MapInfo = {
      id,
      name: this.knownNames.get(id) || `map_${id}`,
      type: w[0],
      typeName: mapTypeName(w[0]),
      keySize: w[1],
      valueSize: w[2],
      maxEntries: w[3],
      flags: w[4],
      mapExtra: (BigInt(w[6]) << 32n) | BigInt(w[5]),
    };
    m = mapObject(this, info);
    this.objects.set(id, m);
    return m;
  }

  // Lookup

  /** The map named `name` (the first created with that name), or undefined. */
  get(name: string): AnyMap | undefined {
    const id = this.ids.get(name);
    return id === undefined ? undefined : this.byId(id);
  }

  /** The map named `name`, which must be a `kind` (e.g. `KeyValueMap`, `RingBuffer`); throws MapError otherwise. */
  expect<T extends BpfMap>(name: string, kind: abstract new (...args: never[]) => T): T {
    const m = this.get(name);
    if (m === undefined) throw new MapError('no_such_map', `no map named '${name}'`);
    if (!(m instanceof kind)) throw new MapError('no_such_map', `map '${name}' is a ${m.info.typeName} map (${m.constructor.name}), not a ${kind.name}`);
    return m;
  }

  /** Every map of the area, by id. */
  *[Symbol.iterator](): IterableIterator<AnyMap> {
    for (let id = 1; ; id++) {
      const m = this.byId(id);
      if (m === undefined) return;
      yield m;
    }
  }

  // Creation

  /** Creates a map. Errors: MapError with the kernel's errno name (EINVAL for a bad definition, ENOMEM when the area is full). */
  create<const D extends MapDefinition>(def: D): MapFor<D['type']> {
    return this.createOne(def) as MapFor<D['type']>;
  }

  /**
   * Creates the maps of an ELF object (`elfObject.maps`) in order, then applies their initial values (global
   * data, inner maps, and programs through `options.programSlot`) and freezes `.rodata`. Returns the maps in
   * the order of `specs`, which is what `lddw map_idx` indexes (see relocate.ts).
   */
  createAll(specs: readonly MapDefinition[], options: CreateAllOptions = {}): AnyMap[] {
    const maps = specs.map((s) => this.createOne(s, false));
    specs.forEach((spec, i) => {
      const m = maps[i];
      for (const init of spec.initialValues ?? []) {
        if (init.kind === 'map') {
          const inner = maps[init.map];
          if (inner === undefined || !(m instanceof MapOfMaps)) throw new MapError('bad_definition', `map '${m.name}': initial value ${init.index} refers to map #${init.map}, which is not in the list`);
          m.set(init.index, inner);
        } else if (init.kind === 'program') {
          const slot = options.programSlot?.(init.program);
          if (slot !== undefined) (m as ProgArray).set(init.index, slot);
        }
      }
      if (spec.frozen && options.freeze !== false) m.freeze();
    });
    return maps;
  }

  private createOne(def: MapDefinition, freeze = true): AnyMap {
    const name = def.name ?? '';
    const type = typeof def.type === 'number' ? def.type : (BPF_MAP_TYPE as Record<string, number>)[String(def.type).toUpperCase()];
    if (type === undefined || (typeof def.type === 'string' && !/^[a-z_]+$/.test(def.type))) {
      throw new MapError('bad_definition', `map '${name}': unknown map type '${String(def.type)}'`);
    }
    const u32 = (v: number | undefined, what: string): number => {
      const x = v ?? 0;
      if (!Number.isInteger(x) || x < 0 || x > 0xffffffff) throw new MapError('bad_definition', `map '${name}': ${what} ${String(v)} is not a u32`);
      return x;
    };
    const flags = def.flags === undefined && type === BPF_MAP_TYPE.LPM_TRIE ? BPF_F.NO_PREALLOC : u32(def.flags, 'flags');
    const extra = BigInt(def.mapExtra ?? 0);
    if (extra < 0n || extra >= 1n << 64n) throw new MapError('bad_definition', `map '${name}': map_extra ${extra} is not a u64`);
    let inner = { type: 0, keySize: 0, valueSize: 0, maxEntries: 0, flags: 0 };
    if (def.innerMap !== undefined) {
      const im = def.innerMap;
      if (im instanceof BpfMap) {
        inner = { type: im.info.type, keySize: im.info.keySize, valueSize: im.info.valueSize, maxEntries: im.info.maxEntries, flags: im.info.flags };
      } else {
        const t = typeof im.type === 'number' ? im.type : (BPF_MAP_TYPE as Record<string, number>)[im.type.toUpperCase()];
        if (t === undefined) throw new MapError('bad_definition', `map '${name}': unknown inner map type '${String(im.type)}'`);
        const innerFlags = im.flags === undefined && t === BPF_MAP_TYPE.LPM_TRIE ? BPF_F.NO_PREALLOC : u32(im.flags, 'inner flags');
        inner = { type: t, keySize: u32(im.keySize, 'inner key size'), valueSize: u32(im.valueSize, 'inner value size'), maxEntries: u32(im.maxEntries, 'inner max entries'), flags: innerFlags };
      }
    }
    const attr = [
      type, u32(def.keySize, 'key size'), u32(def.valueSize, 'value size'), u32(def.maxEntries, 'max entries'), flags,
      Number(extra & 0xffffffffn), Number(extra >> 32n), randomSeed(),
      inner.type, inner.keySize, inner.valueSize, inner.maxEntries, inner.flags,
    ];
    const s = this.scratch(ATTR_SIZE);
    new Uint32Array(this.u8().buffer, s, attr.length).set(attr);
    const id = this.exports.sys_create(s);
    if (id < 0) {
      const what = `${mapTypeName(type)} map '${name}' (key ${attr[1]}, value ${attr[2]}, max_entries ${attr[3]}, flags 0x${flags.toString(16)})`;
      if (id === -ERRNO.ENOMEM) throw new MapError('ENOMEM', `cannot create ${what}: the map area is full (raise RuntimeOptions.mapArea)`, ERRNO.ENOMEM);
      const e = MapError.fromErrno(id, 'create', name);
      throw new MapError(e.code as MapErrnoCode, `cannot create ${what}: ${e.code}`, e.errno);
    }
    this.knownNames.set(id, name);
    if (name !== '' && !this.ids.has(name)) this.ids.set(name, id);
    const m = this.byId(id)!;
    for (const init of def.initialValues ?? []) {
      if (init.kind === 'bytes') (m as KeyValueMap<number, Buffer>).set(init.index, init.value);
    }
    if (freeze && def.frozen) m.freeze();
    return m;
  }
}

/** Attaches this thread (a worker) to the maps of a runtime; see {@link MapRegistry.attach}. */
export function attachMaps(shared: SharedMaps, options: { readonly cpu?: number } = {}): MapRegistry {
  return MapRegistry.attach(shared, options);
}
