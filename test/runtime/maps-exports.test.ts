/**
 * The map module itself, through its raw exports (abi.ts): bad handles and bad pointers are refused without
 * touching memory, the sizes engines check, the for_each iterator, and the module's build invariants (one
 * memory import, no data segment, no shadow stack, the committed binary.ts equal to the .wasm files).
 */

import { readFileSync } from 'node:fs';
import wabt from 'wabt';
import { describe, expect, it } from 'vitest';
import { Runtime } from '../../runtime/runtime.js';
import { HANDLE_TAG, MAP_EXPORT_NAMES, mapHandle } from '../../runtime/maps/abi.js';
import { MAPS_WASM_SHARED, MAPS_WASM_UNSHARED } from '../../runtime/maps/binary.js';
import { instantiateMaps, mapsModule } from '../../runtime/maps/module.js';

const TAG = BigInt(HANDLE_TAG) << 32n;
const EINVAL = -22n;

/** A runtime with one map of every type, small zones, and a few elements in each. */
function everything() {
  const rt = new Runtime({ cpus: 2, mapArea: { metaBytes: 1 << 18, valueBytes: 1 << 17, readOnlyBytes: 1 << 16 } });
  const maps = {
    hash: rt.createMap({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 8 }).typed('u32', 'u64'),
    array: rt.createMap({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 4 }).typed('u32', 'u64'),
    percpu: rt.createMap({ type: 'percpu_hash', keySize: 4, valueSize: 8, maxEntries: 4 }).typed('u32', 'u64'),
    lru: rt.createMap({ type: 'lru_hash', keySize: 4, valueSize: 8, maxEntries: 4 }).typed('u32', 'u64'),
    lpm: rt.createMap({ type: 'lpm_trie', keySize: 8, valueSize: 4, maxEntries: 4 }).typed('ipv4/lpm', 'u32'),
    queue: rt.createMap({ type: 'queue', valueSize: 8, maxEntries: 4 }).typed('u64'),
    bloom: rt.createMap({ type: 'bloom_filter', valueSize: 8, maxEntries: 4 }).typed('u64'),
    ringbuf: rt.createMap({ type: 'ringbuf', maxEntries: 4096 }),
    progs: rt.createMap({ type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 2 }),
    ro: rt.createMap({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 1, flags: 1 << 7 }).typed('u32', 'u64'),
  };
  for (let k = 0; k < 3; k++) {
    maps.hash.set(k, BigInt(k));
    maps.percpu.set(k, BigInt(k));
    maps.lru.set(k, BigInt(k));
    maps.queue.push(BigInt(k));
    maps.bloom.add(BigInt(k));
  }
  maps.lpm.set('10.0.0.0/8', 1);
  maps.progs.set(0, 3);
  return { rt, maps, ex: rt.maps.exports };
}

/** A copy of the low page and the whole map area. */
function snapshot(rt: Runtime): Buffer {
  const { meta, readOnly } = rt.maps.layout;
  const u8 = new Uint8Array(rt.memory.buffer);
  return Buffer.concat([u8.slice(0, 65536), u8.slice(meta.start, readOnly.end)]);
}

const BAD_HANDLES = [
  0n, 1n, 2n, 0xffff_ffffn, 1n << 32n, TAG, TAG | 999n, TAG | 0xffff_ffffn, (TAG + (1n << 32n)) | 1n, 0x1_0000_0001n,
  2n ** 63n, 2n ** 64n - 1n, 0x10000n, 0x2_0000n,
];

describe('program-facing exports', () => {
  it('refuse bad handles with 0 or -EINVAL and write nothing', () => {
    const { rt, ex } = everything();
    const s = BigInt(rt.maps.scratch(64));
    const mapArea = rt.maps.layout;
    const handles = [...BAD_HANDLES, BigInt(mapArea.meta.start), BigInt(mapArea.meta.start + 65536)];
    const before = snapshot(rt);
    for (const h of handles) {
      expect(ex.map_key_size(h)).toBe(-22);
      expect(ex.map_value_size(h)).toBe(-22);
      expect(ex.map_type(h)).toBe(-22);
      expect(ex.bpf_map_lookup_elem(h, s)).toBe(0n);
      expect(ex.bpf_map_lookup_percpu_elem(h, s, 0n)).toBe(0n);
      expect(ex.bpf_map_update_elem(h, s, s + 8n, 0n)).toBe(EINVAL);
      expect(ex.bpf_map_delete_elem(h, s)).toBe(EINVAL);
      expect(ex.bpf_map_push_elem(h, s, 0n)).toBe(EINVAL);
      expect(ex.bpf_map_pop_elem(h, s)).toBe(EINVAL);
      expect(ex.bpf_map_peek_elem(h, s)).toBe(EINVAL);
      expect(ex.bpf_ringbuf_output(h, s, 8n, 0n)).toBe(EINVAL);
      expect(ex.bpf_ringbuf_reserve(h, 8n, 0n)).toBe(0n);
      expect(ex.bpf_ringbuf_query(h, 0n)).toBe(0n);
      expect(ex.bpf_map_iter(h, 0n, s)).toBe(EINVAL);
      expect(ex.bpf_map_iter_value(h, 0n)).toBe(0n);
      expect(ex.prog_array_get(h, 0n)).toBe(EINVAL);
      expect(ex.map_direct_value_addr(h, 0n)).toBe(EINVAL);
      ex.bpf_ringbuf_submit(h, 0n);
      ex.bpf_ringbuf_discard(h, 0n);
    }
    // The scratch holds whatever the probes wrote nowhere: compare everything else.
    expect(snapshot(rt).equals(before)).toBe(true);
  });

  it('refuse map ids that do not exist on the user-space side too', () => {
    const { rt, ex } = everything();
    const s = rt.maps.scratch(64);
    const before = snapshot(rt);
    for (const id of [0, 11, 4096, 4097, 0xffffffff]) {
      expect(ex.sys_lookup(id, s, s + 8)).toBe(-22);
      expect(ex.sys_update(id, s, s + 8, 0)).toBe(-22);
      expect(ex.sys_delete(id, s)).toBe(-22);
      expect(ex.sys_get_next_key(id, 0, s)).toBe(-22);
      expect(ex.sys_iter(id, 0, s, s + 8)).toBe(-22);
      expect(ex.sys_freeze(id)).toBe(-22);
      expect(ex.sys_ringbuf_peek(id)).toBe(EINVAL);
      expect(ex.map_handle(id)).toBe(0n);
    }
    expect(snapshot(rt).equals(before)).toBe(true);
  });

  it('refuse pointers at or above 2^32 instead of truncating them', () => {
    const { rt, maps, ex } = everything();
    const s = BigInt(rt.maps.scratch(64));
    new DataView(rt.memory.buffer).setUint32(Number(s), 1, true);
    const h = maps.hash.handle;
    expect(ex.bpf_map_lookup_elem(h, s)).not.toBe(0n);
    expect(ex.bpf_map_lookup_elem(h, s | (1n << 32n))).toBe(0n);
    expect(ex.bpf_map_update_elem(h, s, s | (1n << 40n), 0n)).toBe(EINVAL);
    expect(ex.bpf_map_pop_elem(maps.queue.handle, s | (1n << 32n))).toBe(EINVAL);
    expect(ex.bpf_ringbuf_output(maps.ringbuf.handle, s | (1n << 32n), 1n, 0n)).toBe(EINVAL);
  });

  it('report the sizes engines check, and the map type', () => {
    const { maps, ex } = everything();
    expect(ex.map_key_size(maps.lpm.handle)).toBe(8);
    expect(ex.map_value_size(maps.lpm.handle)).toBe(4);
    expect(ex.map_key_size(maps.queue.handle)).toBe(0);
    expect(ex.map_value_size(maps.percpu.handle)).toBe(8); // a program passes one CPU's value
    expect(ex.map_type(maps.bloom.handle)).toBe(30);
    expect(BigInt.asUintN(64, ex.map_handle(maps.hash.id))).toBe(mapHandle(maps.hash.id));
  });

  it('iterate hash and array maps for bpf_for_each_map_elem', () => {
    const { rt, maps, ex } = everything();
    const buf = rt.maps.scratch(16);
    const dv = (): DataView => new DataView(rt.memory.buffer);
    const seen: [number, bigint][] = [];
    for (let pos = 0n; ;) {
      const i = ex.bpf_map_iter(maps.hash.handle, pos, BigInt(buf));
      if (i < 0n) {
        expect(i).toBe(-2n);
        break;
      }
      const v = ex.bpf_map_iter_value(maps.hash.handle, i);
      seen.push([dv().getUint32(buf, true), dv().getBigUint64(Number(v), true)]);
      pos = i + 1n;
    }
    expect(seen.sort((a, b) => a[0] - b[0])).toEqual([[0, 0n], [1, 1n], [2, 2n]]);
    expect(ex.bpf_map_iter(maps.array.handle, 3n, BigInt(buf))).toBe(3n);
    expect(dv().getUint32(buf, true)).toBe(3);
    expect(ex.bpf_map_iter(maps.array.handle, 4n, BigInt(buf))).toBe(-2n);
    expect(ex.bpf_map_iter_value(maps.array.handle, 1n)).toBe(BigInt(maps.array.pointer(1)!));
    expect(ex.bpf_map_iter(maps.lpm.handle, 0n, BigInt(buf))).toBe(EINVAL);
    expect(ex.bpf_map_iter(maps.queue.handle, 0n, BigInt(buf))).toBe(EINVAL);
    expect(ex.bpf_map_iter(maps.hash.handle, 1000n, BigInt(buf))).toBe(-2n);
  });

  it('never write the reserved low page (a clang miscompile once stored there)', () => {
    const { rt, maps, ex } = everything();
    const s = BigInt(rt.maps.scratch(64));
    new DataView(rt.memory.buffer).setUint32(Number(s), 1, true);
    for (let cpu = 0n; cpu < 3n; cpu++) ex.bpf_map_lookup_percpu_elem(maps.percpu.handle, s, cpu);
    for (const m of Object.values(maps)) ex.bpf_map_lookup_elem(m.handle, s);
    maps.percpu.get(1);
    expect(new Uint8Array(rt.memory.buffer, 0, 65536).every((b) => b === 0)).toBe(true);
  });
});

describe('the module', () => {
  it('exports exactly the documented functions', () => {
    for (const shared of [false, true]) {
      const names = WebAssembly.Module.exports(mapsModule(shared)).map((e) => e.name).sort();
      expect(names).toEqual([...MAP_EXPORT_NAMES].sort());
      expect(WebAssembly.Module.imports(mapsModule(shared))).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    }
  });

  it('comes in a shared and an unshared variant, each instantiable only on its kind of memory', () => {
    const shared = new WebAssembly.Memory({ initial: 4, maximum: 16, shared: true });
    const unshared = new WebAssembly.Memory({ initial: 4, maximum: 16 });
    expect(() => instantiateMaps(shared)).not.toThrow();
    expect(() => instantiateMaps(unshared)).not.toThrow();
    expect(() => new WebAssembly.Instance(mapsModule(true), { env: { memory: unshared } })).toThrow(/shared/);
    expect(() => new WebAssembly.Instance(mapsModule(false), { env: { memory: shared } })).toThrow(/shared/);
  });

  it('binary.ts embeds exactly the committed .wasm files', () => {
    const dir = new URL('../../runtime/maps/', import.meta.url);
    expect(Buffer.from(MAPS_WASM_UNSHARED, 'base64').equals(readFileSync(new URL('maps.wasm', dir)))).toBe(true);
    expect(Buffer.from(MAPS_WASM_SHARED, 'base64').equals(readFileSync(new URL('maps.shared.wasm', dir)))).toBe(true);
  });

  it('has no data segment and never touches the C shadow stack, so instances can share one memory', async () => {
    const w = await wabt();
    for (const b64 of [MAPS_WASM_UNSHARED, MAPS_WASM_SHARED]) {
      const mod = w.readWasm(Buffer.from(b64, 'base64'), { readDebugNames: true, threads: true, bulk_memory: true });
      mod.applyNames();
      const wat = mod.toText({});
      mod.destroy();
      expect(wat).not.toMatch(/\(data\b/);
      expect(wat).not.toMatch(/global\.[gs]et \$__stack_pointer/);
      // Per-instance state is in Wasm globals: the area base and the CPU.
      expect(wat).toMatch(/\(global \$g_base \(mut i32\)/);
      expect(wat).toMatch(/\(global \$g_cpu \(mut i32\)/);
    }
  });
});
