/**
 * The map helpers as a {@link HelperTable}. Engines that call helpers through JS (the interpreter) call these
 * functions (or, for those with a WebAssembly form, the exports themselves after the same checks: they are
 * declared exact, src/exec.ts `withExactWasmForm`); the JIT calls the exports themselves where a helper carries its
 * WebAssembly form. Each helper checks its pointer arguments against the running
 * execution's stack and regions (`HelperEnv.request`), the way the engine checks a load or store, then calls
 * the map module's export. A failed check faults the program at the call (`out_of_bounds` / `read_only`).
 *
 * Ids (Linux `enum bpf_func_id`): 1 map_lookup_elem, 2 map_update_elem, 3 map_delete_elem, 87 map_push_elem,
 * 88 map_pop_elem, 89 map_peek_elem, 130 ringbuf_output, 131 ringbuf_reserve, 132 ringbuf_submit,
 * 133 ringbuf_discard, 134 ringbuf_query, 195 map_lookup_percpu_elem. Not here: 12 tail_call and
 * 164 for_each_map_elem, which run program code and so belong to the engines (abi.ts says how).
 *
 * Not here: the map semantics (c/*.c), the sizes each export reads and writes (abi.ts).
 */

import { BPF_MAP_TYPE } from '../../src/elf/maps.js';
import { ExecutionError } from '../../src/errors.js';
import {
  locateAccess, withWasmHelper, type ExecRequest, type HelperEnv, type HelperFn, type HelperTable, type WasmArgCheck,
} from '../../src/exec.js';
import { withExactWasmForm } from '../../src/exec.js';
import { MAP_HELPER, type MapExports } from './abi.js';

const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);

function request(env: HelperEnv, id: number): ExecRequest {
  const req = env.request;
  if (req === undefined) {
    // Without the request the pointers cannot be checked: refuse rather than trust them.
    throw new ExecutionError('helper_failed', `map helper ${id} needs the execution's regions (HelperEnv.request), which this engine does not pass`, env.pc);
  }
  return req;
}

/**
 * Faults unless `[addr, addr + size)` lies in the execution's stack or in one of its regions (a writable one
 * for `write`). Size 0 checks nothing.
 */
export function checkPointer(req: ExecRequest, addr: bigint, size: number, write: boolean, pc: number, what: string): void {
  if (size <= 0) return;
  const where = locateAccess(req, addr, size, write);
  if (where === true) return;
  const a = u64(addr);
  if (where !== undefined) throw new ExecutionError('read_only', `${what}: ${size}-byte write to read-only memory at 0x${a.toString(16)}`, pc);
  throw new ExecutionError('out_of_bounds', `${what}: ${size}-byte ${write ? 'write' : 'read'} at 0x${a.toString(16)} is outside the stack and regions`, pc);
}

/**
 * The helper table over one instance of the map module (see the file header). The helpers whose checks are a
 * map's key or value size also carry their WebAssembly form (src/exec.ts, `withWasmHelper`): the export itself
 * and the checks, so that compiled programs call the export directly, checking the pointers inline.
 */
export function mapHelpers(ex: MapExports): HelperTable {
  const keySize = (map: bigint): number => ex.map_key_size(map);
  const valueSize = (map: bigint): number => ex.map_value_size(map);
  const H = MAP_HELPER;
  const sizes = { keySize: ex.map_key_size, valueSize: ex.map_value_size };
  /**
   * `f`, callable from compiled code as `fn` (params from r1..) after the `checks` (reg, size, write); `f` does
   * just that (the checks, then `u64(fn(..))`), so the interpreter may call `fn` too (src/exec.ts `withExactWasmForm`).
   */
  const direct = (f: HelperFn, fn: (...args: bigint[]) => bigint, params: number, ...checks: WasmArgCheck[]): HelperFn =>
    withExactWasmForm(withWasmHelper(f, { fn, params, checks, ...sizes }));
  const table: [number, HelperFn][] = [
    [H.map_lookup_elem, direct((map, key, _3, _4, _5, env) => {
      checkPointer(request(env, H.map_lookup_elem), key, keySize(map), false, env.pc, 'bpf_map_lookup_elem key');
      return u64(ex.bpf_map_lookup_elem(map, key));
    }, ex.bpf_map_lookup_elem, 2, { reg: 2, size: 'key', write: false })],
    [H.map_update_elem, direct((map, key, value, flags, _5, env) => {
      const req = request(env, H.map_update_elem);
      checkPointer(req, key, keySize(map), false, env.pc, 'bpf_map_update_elem key');
      checkPointer(req, value, valueSize(map), false, env.pc, 'bpf_map_update_elem value');
      return u64(ex.bpf_map_update_elem(map, key, value, flags));
    }, ex.bpf_map_update_elem, 4, { reg: 2, size: 'key', write: false }, { reg: 3, size: 'value', write: false })],
    [H.map_delete_elem, direct((map, key, _3, _4, _5, env) => {
      checkPointer(request(env, H.map_delete_elem), key, keySize(map), false, env.pc, 'bpf_map_delete_elem key');
      return u64(ex.bpf_map_delete_elem(map, key));
    }, ex.bpf_map_delete_elem, 2, { reg: 2, size: 'key', write: false })],
    [H.map_push_elem, direct((map, value, flags, _4, _5, env) => {
      checkPointer(request(env, H.map_push_elem), value, valueSize(map), false, env.pc, 'bpf_map_push_elem value');
      return u64(ex.bpf_map_push_elem(map, value, flags));
    }, ex.bpf_map_push_elem, 3, { reg: 2, size: 'value', write: false })],
    [H.map_pop_elem, direct((map, value, _3, _4, _5, env) => {
      checkPointer(request(env, H.map_pop_elem), value, valueSize(map), true, env.pc, 'bpf_map_pop_elem value');
      return u64(ex.bpf_map_pop_elem(map, value));
    }, ex.bpf_map_pop_elem, 2, { reg: 2, size: 'value', write: true })],
    [H.map_peek_elem, (map, value, _3, _4, _5, env) => {
      // A bloom filter's peek reads the value; a queue's writes it (so no fixed check: JS only).
      const write = ex.map_type(map) !== BPF_MAP_TYPE.BLOOM_FILTER;
      checkPointer(request(env, H.map_peek_elem), value, valueSize(map), write, env.pc, 'bpf_map_peek_elem value');
      return u64(ex.bpf_map_peek_elem(map, value));
    }],
    [H.ringbuf_output, (map, data, size, flags, _5, env) => {
      // Sizes beyond the ring are refused by the export without reading; only check what it could read.
      if (size < 2n ** 31n) checkPointer(request(env, H.ringbuf_output), data, Number(size), false, env.pc, 'bpf_ringbuf_output data');
      return u64(ex.bpf_ringbuf_output(map, data, size, flags));
    }],
    [H.ringbuf_reserve, direct((map, size, flags) => u64(ex.bpf_ringbuf_reserve(map, size, flags)), ex.bpf_ringbuf_reserve, 3)],
    [H.ringbuf_submit, direct((data, flags) => u64(ex.bpf_ringbuf_submit(data, flags)), ex.bpf_ringbuf_submit, 2)],
    [H.ringbuf_discard, direct((data, flags) => u64(ex.bpf_ringbuf_discard(data, flags)), ex.bpf_ringbuf_discard, 2)],
    [H.ringbuf_query, direct((map, flags) => u64(ex.bpf_ringbuf_query(map, flags)), ex.bpf_ringbuf_query, 2)],
    [H.map_lookup_percpu_elem, direct((map, key, cpu, _4, _5, env) => {
      checkPointer(request(env, H.map_lookup_percpu_elem), key, keySize(map), false, env.pc, 'bpf_map_lookup_percpu_elem key');
      return u64(ex.bpf_map_lookup_percpu_elem(map, key, cpu));
    }, ex.bpf_map_lookup_percpu_elem, 3, { reg: 2, size: 'key', write: false })],
  ];
  return new Map(table);
}
