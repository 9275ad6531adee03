/**
 * The engine-facing ABI of the map module: the seam the interpreter, the JIT and the integration build on.
 * Everything a caller needs to know to use the maps without going through the JS API is here.
 *
 * ONE implementation. Every map type is implemented once, in C compiled to WebAssembly (c/*.c, built by
 * build.sh into maps.wasm / maps.shared.wasm, embedded in binary.ts). Each thread instantiates it once on
 * the runtime's memory ({@link instantiateMaps}); its exports serve compiled programs (the JIT imports them:
 * a call is Wasm to Wasm, no JS in between), the interpreter (through the {@link HelperTable} of
 * helpers.ts) and the JS API (map.ts), so all three see the same bytes with the same semantics.
 *
 * Registers and handles:
 * - `lddw dst, map_idx N` (src 5) and `map_fd N` (src 1) load the map's HANDLE: `HANDLE_TAG << 32 | id`
 *   ({@link mapHandle}), a value at or above 2^32, so never a linear-memory address: a program that
 *   dereferences it faults on the engine's region check. Every program-facing export validates its map
 *   argument (any 64-bit value) and answers 0 / -EINVAL for a bad one without touching memory.
 * - `lddw dst, map_idx_value N, off` (src 6; `map_value` src 2) loads the ADDRESS of byte `off` of the value
 *   of the map's element 0: `map_direct_value_addr(handle, off)` (ARRAY with max_entries 1, off < value_size,
 *   as the kernel). relocate.ts rewrites both forms into plain imm64 loads.
 *
 * Regions (add them to `ExecRequest.regions`, see `MapRegistry.regions`): the value arena (writable: every
 * map value, reserved ring buffer records) and the read-only arena (values of BPF_F_RDONLY_PROG maps such
 * as .rodata). Each is one contiguous span fixed when the map area is created. Keys, buckets, descriptors,
 * locks, queue slots, bloom bits and fd-array slots are in the metadata zone, in no region.
 *
 * Program-facing exports (helper semantics; `i64` = a register as the program holds it; result = new r0).
 * "reads/writes N at p" is what the ENGINE must check against the execution's regions (and, for writes,
 * writability) BEFORE the call; the export itself only validates the handle and that pointers are < 2^32.
 *
 * | export                                   | helper | engine checks                                    |
 * |------------------------------------------|--------|--------------------------------------------------|
 * | bpf_map_lookup_elem(map, key)            | 1      | reads map_key_size(map) at key                   |
 * | bpf_map_update_elem(map, key, val, fl)   | 2      | reads key_size at key, map_value_size at val     |
 * | bpf_map_delete_elem(map, key)            | 3      | reads key_size at key                            |
 * | bpf_map_push_elem(map, val, fl)          | 87     | reads value_size at val                          |
 * | bpf_map_pop_elem(map, val)               | 88     | writes value_size at val                         |
 * | bpf_map_peek_elem(map, val)              | 89     | writes value_size at val (BLOOM_FILTER: reads)   |
 * | bpf_ringbuf_output(rb, data, size, fl)   | 130    | reads size at data                               |
 * | bpf_ringbuf_reserve(rb, size, fl)        | 131    | nothing (returns size writable bytes in the arena, or 0) |
 * | bpf_ringbuf_submit(data, fl)             | 132    | nothing (data is validated by the export)        |
 * | bpf_ringbuf_discard(data, fl)            | 133    | nothing                                          |
 * | bpf_ringbuf_query(rb, fl)                | 134    | nothing                                          |
 * | bpf_map_lookup_percpu_elem(map, key, cpu)| 195    | reads key_size at key                            |
 * | bpf_map_iter(map, pos, key_out)          | (164)  | writes key_size at key_out                       |
 * | bpf_map_iter_value(map, index)           | (164)  | nothing                                          |
 * | prog_array_get(map, index)               | (12)   | nothing                                          |
 *
 * Lookups return this CPU's value address, the inner map's handle for maps of maps, or 0. For
 * bpf_for_each_map_elem (164) the engine loops: `i = bpf_map_iter(map, pos, buf)`; stop when i < 0; call the
 * callback (map, buf, bpf_map_iter_value(map, i), ctx) (buf must be readable to it); stop when it returns 1;
 * `pos = i + 1`. Hash and array types only, as in Linux. For bpf_tail_call (12): `prog_array_get` gives the
 * program slot id stored by user space, or a negative errno (empty slot: the tail call falls through).
 * Sizes for the checks: `map_key_size(map)`, `map_value_size(map)` (i32; -EINVAL for a bad handle: the
 * engine then skips the checks and calls the export, which fails without reading).
 *
 * Writes: an export writes only the map's own storage and the output buffer its row names (value_size or
 * key_size bytes), whatever its arguments.
 *
 * CPUs: "CPU" is an execution context (the main thread, each worker), numbered from 0. The instance of a
 * thread is attached to one CPU (`maps_init` attaches the creator as CPU 0, `maps_attach` the others); per-CPU
 * maps act on it. Concurrency: any number of threads may call any export at the same time; see c/hash.c for
 * the locking (spin locks and sequence locks on i32 words; no memory.atomic.wait anywhere). A thread killed
 * inside an export (Worker.terminate) can leave a lock held: stop workers cooperatively.
 *
 * Not here: loading the module (module.ts), the JS API (map.ts, registry.ts), the HelperTable (helpers.ts).
 */

/** High 32 bits of every map handle. */
export const HANDLE_TAG = 0xebf0a000;

/** The handle of map `id`: what `lddw map_idx` loads and what the program-facing exports take. */
export function mapHandle(id: number): bigint {
  return (BigInt(HANDLE_TAG) << 32n) | BigInt(id >>> 0);
}

/** Linux helper ids the map module implements (`enum bpf_func_id`, include/uapi/linux/bpf.h). */
export const MAP_HELPER = {
  map_lookup_elem: 1,
  map_update_elem: 2,
  map_delete_elem: 3,
  tail_call: 12,
  map_push_elem: 87,
  map_pop_elem: 88,
  map_peek_elem: 89,
  ringbuf_output: 130,
  ringbuf_reserve: 131,
  ringbuf_submit: 132,
  ringbuf_discard: 133,
  ringbuf_query: 134,
  for_each_map_elem: 164,
  map_lookup_percpu_elem: 195,
} as const;

/** `BPF_MAP_UPDATE_ELEM` flags. */
export const BPF_UPDATE = { ANY: 0, NOEXIST: 1, EXIST: 2, F_LOCK: 4 } as const;

/** `bpf_ringbuf_*` flags and `bpf_ringbuf_query` selectors. */
export const BPF_RB = {
  NO_WAKEUP: 1, FORCE_WAKEUP: 2, AVAIL_DATA: 0, RING_SIZE: 1, CONS_POS: 2, PROD_POS: 3,
} as const;

/** Ring buffer record header bits (`BPF_RINGBUF_BUSY_BIT`, `BPF_RINGBUF_DISCARD_BIT`) and size. */
export const BPF_RINGBUF = { BUSY_BIT: 1 << 31, DISCARD_BIT: 1 << 30, HDR_SZ: 8 } as const;

/** errno values the map module returns (negated), asm-generic/errno*.h. */
export const ERRNO = {
  EPERM: 1, ENOENT: 2, EAGAIN: 11, E2BIG: 7, ENOMEM: 12, EFAULT: 14, EBUSY: 16, EEXIST: 17, EINVAL: 22, ENOSPC: 28,
  EOPNOTSUPP: 95,
} as const;

/** The name of an errno value (`EEXIST`), or `errno N`. */
export function errnoName(errno: number): string {
  for (const [name, value] of Object.entries(ERRNO)) if (value === errno) return name;
  return `errno ${errno}`;
}

/** Most maps a runtime can hold (the module's descriptor table). */
export const MAX_MAPS = 4096;
/** Most CPUs (threads with an attached instance) a map area supports. */
export const MAX_CPUS = 64;
/** Bytes of the creation attributes `sys_create` reads (13 u32s, see `struct attr` in c/common.h). */
export const ATTR_SIZE = 52;

/** The exports of one instance of the map module. Pointers are linear-memory addresses. */
export interface MapExports {
  // Setup
  maps_init(base: number, metaSize: number, valuesSize: number, roSize: number, ncpus: number): number;
  maps_attach(base: number, cpu: number): number;
  maps_detach(): void;
  maps_cpu(): number;
  maps_layout(out: number): number;
  maps_alloc(size: number): number;
  // Program-facing (i64 arguments and results are bigints on the JS side)
  map_key_size(map: bigint): number;
  map_value_size(map: bigint): number;
  map_type(map: bigint): number;
  map_handle(id: number): bigint;
  map_direct_value_addr(map: bigint, off: bigint): bigint;
  bpf_map_lookup_elem(map: bigint, key: bigint): bigint;
  bpf_map_lookup_percpu_elem(map: bigint, key: bigint, cpu: bigint): bigint;
  bpf_map_update_elem(map: bigint, key: bigint, value: bigint, flags: bigint): bigint;
  bpf_map_delete_elem(map: bigint, key: bigint): bigint;
  bpf_map_push_elem(map: bigint, value: bigint, flags: bigint): bigint;
  bpf_map_pop_elem(map: bigint, value: bigint): bigint;
  bpf_map_peek_elem(map: bigint, value: bigint): bigint;
  bpf_ringbuf_output(map: bigint, data: bigint, size: bigint, flags: bigint): bigint;
  bpf_ringbuf_reserve(map: bigint, size: bigint, flags: bigint): bigint;
  bpf_ringbuf_submit(data: bigint, flags: bigint): bigint;
  bpf_ringbuf_discard(data: bigint, flags: bigint): bigint;
  bpf_ringbuf_query(map: bigint, flags: bigint): bigint;
  bpf_map_iter(map: bigint, pos: bigint, keyOut: bigint): bigint;
  bpf_map_iter_value(map: bigint, index: bigint): bigint;
  prog_array_get(map: bigint, index: bigint): bigint;
  // User-space (JS API): map ids, trusted pointers, 0 or -errno
  sys_create(attr: number): number;
  sys_freeze(id: number): number;
  sys_info(id: number, out: number): number;
  sys_lookup(id: number, key: number, out: number): number;
  sys_update(id: number, key: number, value: number, flags: number): number;
  sys_delete(id: number, key: number): number;
  sys_lookup_and_delete(id: number, key: number, out: number): number;
  sys_get_next_key(id: number, key: number, nextOut: number): number;
  sys_iter(id: number, pos: number, keyOut: number, valueOut: number): number;
  sys_ringbuf_peek(id: number): bigint;
  sys_ringbuf_advance(id: number): number;
  sys_ringbuf_notify_addr(id: number): number;
  sys_ringbuf_query(id: number, flags: number): bigint;
}

/** Names of the exports, for checking an instance and for importing them (e.g. into a JIT module). */
export const MAP_EXPORT_NAMES: readonly (keyof MapExports)[] = [
  'maps_init', 'maps_attach', 'maps_detach', 'maps_cpu', 'maps_layout', 'maps_alloc',
  'map_key_size', 'map_value_size', 'map_type', 'map_handle', 'map_direct_value_addr',
  'bpf_map_lookup_elem', 'bpf_map_lookup_percpu_elem', 'bpf_map_update_elem', 'bpf_map_delete_elem',
  'bpf_map_push_elem', 'bpf_map_pop_elem', 'bpf_map_peek_elem', 'bpf_ringbuf_output', 'bpf_ringbuf_reserve',
  'bpf_ringbuf_submit', 'bpf_ringbuf_discard', 'bpf_ringbuf_query', 'bpf_map_iter', 'bpf_map_iter_value',
  'prog_array_get',
  'sys_create', 'sys_freeze', 'sys_info', 'sys_lookup', 'sys_update', 'sys_delete', 'sys_lookup_and_delete',
  'sys_get_next_key', 'sys_iter', 'sys_ringbuf_peek', 'sys_ringbuf_advance', 'sys_ringbuf_notify_addr',
  'sys_ringbuf_query',
];
