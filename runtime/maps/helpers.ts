/**
 * The map helpers as a {@link HelperTable} for engines that call helpers through JS (the interpreter; the JIT
 * until it imports the exports directly): each helper checks its pointer arguments against the running
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
import { STACK_SIZE, type ExecRequest, type HelperEnv, type HelperFn, type HelperTable } from '../../src/exec.js';
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
  const a = u64(addr);
  if (a < 2n ** 52n) {
    const lo = Number(a);
    const hi = lo + size;
    if (lo >= req.stackBase && hi <= req.stackBase + STACK_SIZE) return;
    let readOnly = false;
    for (const r of req.regions) {
      if (lo >= r.start && hi <= r.end) {
        if (!write || r.writable) return;
        readOnly = true;
      }
    }
    if (readOnly) throw new ExecutionError('read_only', `${what}: ${size}-byte write to read-only memory at 0x${a.toString(16)}`, pc);
  }
  throw new ExecutionError('out_of_bounds', `${what}: ${size}-byte ${write ? 'write' : 'read'} at 0x${a.toString(16)} is outside the stack and regions`, pc);
}

/** The helper table over one instance of the map module (see the file header). */
export function mapHelpers(ex: MapExports): HelperTable {
  const keySize = (map: bigint): number => ex.map_key_size(map);
  const valueSize = (map: bigint): number => ex.map_value_size(map);
  const H = MAP_HELPER;
  const table: [number, HelperFn][] = [
    [H.map_lookup_elem, (map, key, _3, _4, _5, env) => {
      checkPointer(request(env, H.map_lookup_elem), key, keySize(map), false, env.pc, 'bpf_map_lookup_elem key');
      return u64(ex.bpf_map_lookup_elem(map, key));
    }],
    [H.map_update_elem, (map, key, value, flags, _5, env) => {
      const req = request(env, H.map_update_elem);
      checkPointer(req, key, keySize(map), false, env.pc, 'bpf_map_update_elem key');
      checkPointer(req, value, valueSize(map), false, env.pc, 'bpf_map_update_elem value');
      return u64(ex.bpf_map_update_elem(map, key, value, flags));
    }],
    [H.map_delete_elem, (map, key, _3, _4, _5, env) => {
      checkPointer(request(env, H.map_delete_elem), key, keySize(map), false, env.pc, 'bpf_map_delete_elem key');
      return u64(ex.bpf_map_delete_elem(map, key));
    }],
    [H.map_push_elem, (map, value, flags, _4, _5, env) => {
      checkPointer(request(env, H.map_push_elem), value, valueSize(map), false, env.pc, 'bpf_map_push_elem value');
      return u64(ex.bpf_map_push_elem(map, value, flags));
    }],
    [H.map_pop_elem, (map, value, _3, _4, _5, env) => {
      checkPointer(request(env, H.map_pop_elem), value, valueSize(map), true, env.pc, 'bpf_map_pop_elem value');
      return u64(ex.bpf_map_pop_elem(map, value));
    }],
    [H.map_peek_elem, (map, value, _3, _4, _5, env) => {
      // A bloom filter's peek reads the value; a queue's writes it.
      const write = ex.map_type(map) !== BPF_MAP_TYPE.BLOOM_FILTER;
      checkPointer(request(env, H.map_peek_elem), value, valueSize(map), write, env.pc, 'bpf_map_peek_elem value');
      return u64(ex.bpf_map_peek_elem(map, value));
    }],
    [H.ringbuf_output, (map, data, size, flags, _5, env) => {
      // Sizes beyond the ring are refused by the export without reading; only check what it could read.
      if (size < 2n ** 31n) checkPointer(request(env, H.ringbuf_output), data, Number(size), false, env.pc, 'bpf_ringbuf_output data');
      return u64(ex.bpf_ringbuf_output(map, data, size, flags));
    }],
    [H.ringbuf_reserve, (map, size, flags) => u64(ex.bpf_ringbuf_reserve(map, size, flags))],
    [H.ringbuf_submit, (data, flags) => u64(ex.bpf_ringbuf_submit(data, flags))],
    [H.ringbuf_discard, (data, flags) => u64(ex.bpf_ringbuf_discard(data, flags))],
    [H.ringbuf_query, (map, flags) => u64(ex.bpf_ringbuf_query(map, flags))],
    [H.map_lookup_percpu_elem, (map, key, cpu, _4, _5, env) => {
      checkPointer(request(env, H.map_lookup_percpu_elem), key, keySize(map), false, env.pc, 'bpf_map_lookup_percpu_elem key');
      return u64(ex.bpf_map_lookup_percpu_elem(map, key, cpu));
    }],
  ];
  return new Map(table);
}
