/**
 * Helper prototypes: for each helper id (Linux UAPI numbering, `include/uapi/linux/bpf.h`), what its arguments
 * must be and what it returns, as data. The verifier checks calls against them; the runtime can read the same
 * table (names, argument kinds) to implement and describe helpers.
 *
 * Argument kinds follow Linux's `enum bpf_arg_type`, in our own names:
 *
 *     anything         any initialised value                      (ARG_ANYTHING)
 *     map              a map pointer from `lddw map_idx`          (ARG_CONST_MAP_PTR)
 *     map_key          readable, initialised memory of the map's key size, the map being an earlier argument
 *     map_value        readable, initialised memory of the map's value size
 *     map_value_out    writable memory of the map's value size, initialised by the helper
 *     mem              readable, initialised memory; its size is the next argument
 *     mem_or_null      like `mem`, or the constant 0 (then the size must be 0)
 *     mem_out          writable memory the helper fills; its size is the next argument
 *     size             the size of the previous memory argument: bounded, at least 1   (ARG_CONST_SIZE)
 *     size_or_zero     the same, 0 allowed                                            (ARG_CONST_SIZE_OR_ZERO)
 *     alloc_size       a constant size for a new allocation (ringbuf_reserve)
 *     ctx              the program's context pointer
 *     func             a callback: `lddw` of a function's address (src 4, code_addr)
 *     stack_or_null    a pointer to the stack, or 0 (a callback's context)
 *     ringbuf_mem      memory from ringbuf_reserve, at offset 0, not yet submitted or discarded (released here)
 *     const_str        a read-only map value holding a NUL-terminated string (a format)
 *     long_out         8 writable bytes for a result (strtol's `res`)
 *
 * Return kinds: `integer` (a scalar, optionally bounded), `void` (r0 is not defined afterwards),
 * `map_value_or_null` (map lookups; for maps of maps, the inner map or null), `ringbuf_mem_or_null`.
 *
 * `effects: 'opaque'` marks a helper whose effects the verifier cannot know (a host's own helper): it may write
 * any memory the program could reach through its arguments, so the verifier forgets the stack's contents.
 *
 * Not here: the implementations (runtime/), the checks themselves (checks.ts).
 */

import { BPF_MAP_TYPE } from '../elf/maps.js';
import type { ProgramType } from './context.js';

/** Kinds of helper arguments (see the file header). */
export type ArgKind =
  | 'anything' | 'map' | 'map_key' | 'map_value' | 'map_value_out' | 'mem' | 'mem_or_null' | 'mem_out' | 'size'
  | 'size_or_zero' | 'alloc_size' | 'ctx' | 'func' | 'stack_or_null' | 'ringbuf_mem' | 'const_str' | 'long_out';

/** Kinds of helper results. */
export type RetKind = 'integer' | 'void' | 'map_value_or_null' | 'ringbuf_mem_or_null';

/** What a callback receives in r1..r5 (`map`, `map_key`, `map_value`: of the helper's map argument). */
export type CallbackArg = 'index' | 'map' | 'map_key' | 'map_value' | 'ctx';

/** A helper's prototype. */
export interface HelperProto {
  readonly id: number;
  /** Linux's name without the `bpf_` prefix. */
  readonly name: string;
  /** r1..r5 in order (fewer than five: the rest are not read). */
  readonly args: readonly ArgKind[];
  readonly ret: RetKind;
  /** For `integer` results known to be narrower than 64 bits: the unsigned range. */
  readonly retRange?: readonly [bigint, bigint];
  /** Map types the `map` argument may have (default: any except those in {@link HelperProto.mapTypesNot}). */
  readonly mapTypes?: readonly number[];
  readonly mapTypesNot?: readonly number[];
  /** For helpers taking a callback: what the callback receives, and the range its r0 must lie in. */
  readonly callback?: { readonly args: readonly CallbackArg[]; readonly ret: readonly [bigint, bigint] };
  /** Program types that may call it (default: all). */
  readonly types?: readonly ProgramType[];
  /** `opaque`: unknown effects on memory (see the file header). Default `none` beyond what the arguments say. */
  readonly effects?: 'none' | 'opaque';
}

const M = BPF_MAP_TYPE;
const U32: readonly [bigint, bigint] = [0n, 0xffff_ffffn];
/** Maps the generic element helpers do not apply to (they have their own helpers, or none). */
const NOT_ELEMENT_MAPS = [M.RINGBUF, M.QUEUE, M.STACK, M.PROG_ARRAY, M.PERF_EVENT_ARRAY, M.USER_RINGBUF];
const FOR_EACH_MAPS = [M.HASH, M.PERCPU_HASH, M.LRU_HASH, M.LRU_PERCPU_HASH, M.ARRAY, M.PERCPU_ARRAY];

/** The prototype table, by id. */
export const HELPERS: ReadonlyMap<number, HelperProto> = new Map<number, HelperProto>(
  ([
    { id: 1, name: 'map_lookup_elem', args: ['map', 'map_key'], ret: 'map_value_or_null', mapTypesNot: NOT_ELEMENT_MAPS },
    { id: 2, name: 'map_update_elem', args: ['map', 'map_key', 'map_value', 'anything'], ret: 'integer', mapTypesNot: NOT_ELEMENT_MAPS },
    { id: 3, name: 'map_delete_elem', args: ['map', 'map_key'], ret: 'integer', mapTypesNot: NOT_ELEMENT_MAPS },
    { id: 5, name: 'ktime_get_ns', args: [], ret: 'integer' },
    // r3..r5 are varargs: Linux does not check them (a call may pass fewer), nor does this table.
    { id: 6, name: 'trace_printk', args: ['mem', 'size'], ret: 'integer' },
    { id: 7, name: 'get_prandom_u32', args: [], ret: 'integer', retRange: U32 },
    { id: 8, name: 'get_smp_processor_id', args: [], ret: 'integer', retRange: U32 },
    { id: 12, name: 'tail_call', args: ['ctx', 'map', 'anything'], ret: 'void', mapTypes: [M.PROG_ARRAY], types: ['xdp', 'socket', 'tc'] },
    { id: 87, name: 'map_push_elem', args: ['map', 'map_value', 'anything'], ret: 'integer', mapTypes: [M.QUEUE, M.STACK, M.BLOOM_FILTER] },
    { id: 88, name: 'map_pop_elem', args: ['map', 'map_value_out'], ret: 'integer', mapTypes: [M.QUEUE, M.STACK] },
    { id: 89, name: 'map_peek_elem', args: ['map', 'map_value_out'], ret: 'integer', mapTypes: [M.QUEUE, M.STACK, M.BLOOM_FILTER] },
    { id: 105, name: 'strtol', args: ['mem', 'size', 'anything', 'long_out'], ret: 'integer' },
    { id: 106, name: 'strtoul', args: ['mem', 'size', 'anything', 'long_out'], ret: 'integer' },
    { id: 125, name: 'ktime_get_boot_ns', args: [], ret: 'integer' },
    { id: 130, name: 'ringbuf_output', args: ['map', 'mem', 'size_or_zero', 'anything'], ret: 'integer', mapTypes: [M.RINGBUF] },
    { id: 131, name: 'ringbuf_reserve', args: ['map', 'alloc_size', 'anything'], ret: 'ringbuf_mem_or_null', mapTypes: [M.RINGBUF] },
    { id: 132, name: 'ringbuf_submit', args: ['ringbuf_mem', 'anything'], ret: 'void' },
    { id: 133, name: 'ringbuf_discard', args: ['ringbuf_mem', 'anything'], ret: 'void' },
    { id: 134, name: 'ringbuf_query', args: ['map', 'anything'], ret: 'integer', mapTypes: [M.RINGBUF] },
    {
      id: 164, name: 'for_each_map_elem', args: ['map', 'func', 'stack_or_null', 'anything'], ret: 'integer', mapTypes: FOR_EACH_MAPS,
      callback: { args: ['map', 'map_key', 'map_value', 'ctx'], ret: [0n, 1n] },
    },
    { id: 165, name: 'snprintf', args: ['mem_out', 'size_or_zero', 'const_str', 'mem_or_null', 'size_or_zero'], ret: 'integer' },
    { id: 181, name: 'loop', args: ['anything', 'func', 'stack_or_null', 'anything'], ret: 'integer', callback: { args: ['index', 'ctx'], ret: [0n, 1n] } },
  ] satisfies HelperProto[]).map((p) => [p.id, Object.freeze(p)]),
);

/** Largest size a `size` argument may have (Linux bounds them by what a memory region can hold). */
export const MAX_HELPER_MEM = 1 << 29;
/** Largest ringbuf_reserve size accepted. */
export const MAX_RINGBUF_RESERVE = 1 << 24;
/** Linux's upper limit on bpf_loop's iteration count (BPF_MAX_LOOPS). */
export const BPF_MAX_LOOPS = 1 << 23;

/** A prototype for a host helper the table does not describe: any arguments, unknown effects. */
export function opaqueHelper(id: number, name = `helper_${id}`): HelperProto {
  const proto: HelperProto = { id, name, args: ['anything', 'anything', 'anything', 'anything', 'anything'], ret: 'integer', effects: 'opaque' };
  return Object.freeze(proto);
}

/** The helper ids a program type may call (before the host narrows them). */
export function helpersForType(type: ProgramType): number[] {
  return [...HELPERS.values()].filter((p) => p.types === undefined || p.types.includes(type)).map((p) => p.id);
}

/** `map_lookup_elem`, or `helper 1000` for an id without a prototype. */
export function helperName(id: number, protos: ReadonlyMap<number, HelperProto> = HELPERS): string {
  return protos.get(id)?.name ?? `helper ${id}`;
}
