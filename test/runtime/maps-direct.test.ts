/**
 * The JIT calls the map helpers' WebAssembly form (the map module's exports) directly, with their pointer
 * checks inline (codegen/lower-call.ts, `lowerWasmHelperCall`): which helpers are imported that way, that no JS
 * runs on the call, and that the inline checks fault exactly like the JS form, in both region-check variants.
 * The map semantics themselves are tested on both engines by maps-programs.test.ts.
 */

import wabt from 'wabt';
import { describe, expect, it } from 'vitest';
import { translate } from '../../codegen/compile.js';
import { ExecutionError } from '../../src/errors.js';
import { STACK_SIZE, wasmHelperOf, withWasmHelper, type ExecRequest, type HelperTable, type Region } from '../../src/exec.js';
import { assemble } from '../../src/isa/asm.js';
import { MAP_HELPER } from '../../runtime/maps/abi.js';
import { relocateMaps } from '../../runtime/maps/relocate.js';
import { Runtime } from '../../runtime/runtime.js';
import { faults } from './faults.js';

/** The helper ids the runtime's map table gives a WebAssembly form. */
function wasmForms(helpers: HelperTable): Map<number, NonNullable<ReturnType<typeof wasmHelperOf>>> {
  const out = new Map<number, NonNullable<ReturnType<typeof wasmHelperOf>>>();
  for (const [id, f] of helpers) {
    const w = wasmHelperOf(f);
    if (w !== undefined) out.set(id, w);
  }
  return out;
}

/** Looks key 5 up in map 0 and returns its u64 value, or 0 when absent. */
const LOOKUP = ['stw [%r10-4], 5', 'lddw map_idx %r1, 0', 'mov %r2, %r10', 'add %r2, -4', 'call 1', 'jeq %r0, 0, +1', 'ldxdw %r0, [%r0+0]', 'exit'].join('\n');

describe('map helpers in WebAssembly', () => {
  it('the map table gives lookup, update, delete, push, pop, percpu lookup and the ring buffer calls a WebAssembly form', () => {
    const rt = new Runtime();
    const ids = [...wasmForms(rt.maps.helpers).keys()].sort((a, b) => a - b);
    const H = MAP_HELPER;
    expect(ids).toEqual([H.map_lookup_elem, H.map_update_elem, H.map_delete_elem, H.map_push_elem, H.map_pop_elem,
      H.ringbuf_reserve, H.ringbuf_submit, H.ringbuf_discard, H.ringbuf_query, H.map_lookup_percpu_elem]);
    // peek (its check depends on the map type) and ringbuf_output (its size is an argument) stay in JS.
    expect(wasmHelperOf(rt.maps.helpers.get(H.map_peek_elem))).toBeUndefined();
    expect(wasmHelperOf(rt.maps.helpers.get(H.ringbuf_output))).toBeUndefined();
    // The runtime's default table binds its map helpers lazily, their WebAssembly forms too.
    for (const id of ids) expect(wasmHelperOf(rt.helpers.get(id))?.fn).toBe(wasmHelperOf(rt.maps.helpers.get(id))!.fn);
  });

  it('a translated program imports them as WebAssembly functions, the other helpers as JS', async () => {
    const rt = new Runtime();
    const program = assemble('call 1\ncall 2\ncall 3\ncall 5\nexit');
    const t = await translate(program, { wasmHelpers: wasmForms(rt.maps.helpers) });
    expect(t.wasmHelperIds).toEqual([1, 2, 3]);
    expect(t.helperIds).toEqual([5]);
    const imports = WebAssembly.Module.imports(new WebAssembly.Module(t.wasm)).map((i) => i.name);
    expect(imports).toEqual(expect.arrayContaining(['whelper_1', 'whelper_1_key_size', 'whelper_2', 'whelper_2_key_size', 'whelper_2_value_size', 'whelper_3', 'helper_5']));
    expect(imports).not.toContain('helper_1');
  });

  it('the JIT never calls the JS form: a table whose JS lookup throws still runs compiled code', async () => {
    const rt = new Runtime();
    const m = rt.createMap({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 4 }).typed('u32', 'u64');
    m.set(5, 42n);
    const wasm = wasmHelperOf(rt.maps.helpers.get(MAP_HELPER.map_lookup_elem))!;
    const helpers = new Map(rt.maps.helpers);
    helpers.set(MAP_HELPER.map_lookup_elem, withWasmHelper(() => {
      throw new Error('the JS form ran');
    }, wasm));
    const program = relocateMaps(assemble(LOOKUP), [m]);
    const jit = await rt.load(program, { engine: 'jit', helpers });
    expect(jit.run().r0).toBe(42n);
    expect(jit.runPacket(new Uint8Array(4))).toBe(42);
    const interp = await rt.load(program, { engine: 'interp', helpers });
    expect(faults(() => interp.run())).toMatchObject({ code: 'helper_failed', pc: 5 });
  });

  it('a call whose pointers the verifier proved has no inline checks', async () => {
    const rt = new Runtime();
    const m = rt.createMap({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 4 }).typed('u32', 'u64');
    m.set(5, 9n);
    const program = relocateMaps(assemble(LOOKUP), [m]);
    const loaded = await rt.load(assemble(LOOKUP), { engine: 'jit', verify: 'strict', maps: [m] });
    expect(loaded.verified!.provenCalls).toEqual(new Set([5]));
    expect(loaded.run().r0).toBe(9n);
    const imports = async (proven: ReadonlySet<number>): Promise<string[]> =>
      WebAssembly.Module.imports(new WebAssembly.Module((await translate(program, { wasmHelpers: wasmForms(rt.maps.helpers), proven })).wasm)).map((i) => i.name);
    expect(await imports(new Set())).toContain('whelper_1_key_size');
    expect(await imports(loaded.verified!.provenCalls)).not.toContain('whelper_1_key_size');
    // Permissive mode proves nothing of a key pointer it cannot place: the check stays.
    const unplaced = assemble('lddw map_idx %r1, 0\nmov %r2, 0x1000\ncall 1\nexit');
    const permissive = await rt.load(unplaced, { engine: 'jit', verify: 'permissive', maps: [m] });
    expect(permissive.verified!.provenCalls.size).toBe(0);
    expect(faults(() => permissive.run())).toMatchObject({ code: 'out_of_bounds', pc: 3 });
  });

  it('lookups in a known array map are inlined: a bounds check and an address, same results and faults as the helper', async () => {
    const rt = new Runtime();
    const arr = rt.createMap({ type: 'array', keySize: 4, valueSize: 12, maxEntries: 5 }).typed('u32', 'bytes');
    for (let i = 0; i < 5; i++) arr.set(i, Buffer.alloc(12, i + 1));
    // r0 = the first byte of value[key] (the key is the input's first word), or 0xff when the lookup fails.
    const src = ['ldxw %r6, [%r1+0]', 'stxw [%r10-4], %r6', 'lddw map_idx %r1, 0', 'mov %r2, %r10', 'add %r2, -4', 'call 1',
      'jeq %r0, 0, +2', 'ldxb %r0, [%r0+0]', 'exit', 'mov %r0, 0xff', 'exit'].join('\n');
    const program = relocateMaps(assemble(src), [arr]);
    const handle = program.insns.find((i) => i.kind === 'lddw')!;
    const layout = { base: arr.pointer(0)!, stride: arr.pointer(1)! - arr.pointer(0)!, maxEntries: 5 };
    const wat = (await translate(program, { wasmHelpers: wasmForms(rt.maps.helpers), arrays: new Map([[BigInt.asUintN(64, (handle as { value: bigint }).value), layout]]), wat: true })).wat!;
    expect(wat).not.toMatch(/call \$whelper_1\b/);
    const key = (k: number): Uint8Array => new Uint8Array(new Uint32Array([k]).buffer);
    for (const engine of ['jit', 'interp'] as const) {
      const p = await rt.load(program, { engine });
      if (engine === 'jit') expect((p.executable as unknown as { stats: { inlinedLookups: number } }).stats.inlinedLookups).toBe(1);
      expect([0, 1, 4, 5, 0xffffffff].map((k) => Number(p.run(key(k)).r0))).toEqual([1, 2, 5, 0xff, 0xff]);
      expect([...p.runBatch([key(2), key(7)])]).toEqual([3, 0xff]);
    }
    // The value pointer is the map's storage: a write through it is what JS reads.
    const writer = await rt.load(relocateMaps(assemble('stw [%r10-4], 3\nlddw map_idx %r1, 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, +1\nstb [%r0+11], 0x77\nmov %r0, 0\nexit'), [arr]), { engine: 'jit' });
    writer.run();
    expect(arr.get(3)![11]).toBe(0x77);
    // The key is read as a 4-byte load at the call: outside every region it faults there.
    const bad = await rt.load(relocateMaps(assemble('lddw map_idx %r1, 0\nmov %r2, 0x1000\ncall 1\nexit'), [arr]), { engine: 'jit' });
    expect(faults(() => bad.run())).toMatchObject({ code: 'out_of_bounds', pc: 3 });
    // A host's own helper 1 is called, not inlined.
    const helpers = new Map(rt.helpers);
    helpers.set(MAP_HELPER.map_lookup_elem, () => 0n);
    const own = await rt.load(program, { engine: 'jit', helpers });
    expect(Number(own.run(key(1)).r0)).toBe(0xff);
    expect((own.executable as unknown as { stats: { inlinedLookups: number } }).stats.inlinedLookups).toBe(0);
  });

  it('a host helper written in WebAssembly is called directly by compiled code; the interpreter calls its JS form', async () => {
    const w = await wabt();
    const wat = '(module (func (export "capped_add") (param i64 i64) (result i64) (select (i64.const 1000) (i64.add (local.get 0) (local.get 1)) (i64.gt_u (i64.add (local.get 0) (local.get 1)) (i64.const 1000)))))';
    const mod = w.parseWat('capped_add.wat', wat);
    const { buffer } = mod.toBinary({});
    mod.destroy();
    const wasmFn = new WebAssembly.Instance(new WebAssembly.Module(buffer)).exports.capped_add as (a: bigint, b: bigint) => bigint;
    let jsCalls = 0;
    const capped = withWasmHelper((a, b) => {
      jsCalls++;
      return a + b > 1000n ? 1000n : a + b;
    }, { fn: wasmFn, params: 2, checks: [] });
    const rt = new Runtime();
    const helpers = new Map(rt.helpers);
    helpers.set(0x1000, capped);
    const program = assemble('mov %r1, 600\nmov %r2, %r1\ncall 4096\nmov %r6, %r0\nmov %r1, 7\nmov %r2, 8\ncall 4096\nadd %r0, %r6\nexit');
    const jit = await rt.load(program, { engine: 'jit', helpers });
    expect(jit.run().r0).toBe(1015n);
    expect(jsCalls).toBe(0);
    const interp = await rt.load(program, { engine: 'interp', helpers });
    expect(interp.run().r0).toBe(1015n);
    expect(jsCalls).toBe(2);
  });

  it('on the packet path, a helper that writes the stack (pop) leaves it dirty: the next run still starts from zeros', async () => {
    const rt = new Runtime();
    const q = rt.createMap({ type: 'queue', valueSize: 8, maxEntries: 8 }).typed('u64');
    // First byte 1: pop into [r10-16] through r2 (no store the compiler sees); else: return [r10-16] unwritten.
    const src = ['ldxb %r3, [%r1+0]', 'jne %r3, 1, +7', 'lddw map_idx %r1, 0', 'mov %r2, %r10', 'add %r2, -16', 'call 88', 'mov %r0, 0', 'exit',
      'ldxdw %r0, [%r10-16]', 'exit'].join('\n');
    for (const engine of ['jit', 'interp'] as const) {
      for (let i = 0; i < 3; i++) q.push(0x1234n);
      // Verified: the call's pointer is proven, so no inline check marks the stack dirty on its way.
      const p = await rt.load(assemble(src), { engine, verify: 'permissive', maps: [q] });
      expect(p.verified!.provenCalls.has(6)).toBe(true);
      expect([...p.runBatch([Uint8Array.of(1), Uint8Array.of(0), Uint8Array.of(1), Uint8Array.of(0)])]).toEqual([0, 0, 0, 0]);
      expect(p.runPacket(Uint8Array.of(1))).toBe(0);
      expect(p.runPacket(Uint8Array.of(0))).toBe(0);
      expect([...q.drain()]).toEqual([]);
    }
  });

  it('withWasmHelper refuses checks it cannot make', () => {
    const rt = new Runtime();
    const w = wasmHelperOf(rt.maps.helpers.get(MAP_HELPER.map_lookup_elem))!;
    expect(() => withWasmHelper(() => 0n, { ...w, params: 1 })).toThrow(/beyond the helper's 1 parameters/);
    expect(() => withWasmHelper(() => 0n, { ...w, keySize: undefined })).toThrow(/needs a key size function/);
  });

  describe.each(['slots', 'cache'] as const)('inline pointer checks (%s variant)', (variant) => {
    // The `cache` variant serves runs with more regions than the module has slots: add empty ones.
    async function setup(valueSize: number) {
      const rt = new Runtime();
      const h = rt.createMap({ type: 'hash', keySize: 4, valueSize, maxEntries: 4 });
      const ro = rt.createMap({ name: '.rodata', type: 'array', keySize: 4, valueSize: 8, maxEntries: 1, flags: 1 << 7, frozen: true });
      const q = rt.createMap({ type: 'queue', valueSize: 8, maxEntries: 4 }).typed('u64');
      q.push(7n);
      const input = rt.alloc(16);
      const extra: Region[] = variant === 'cache' ? Array.from({ length: 5 }, (_, i) => ({ start: input + 16, end: input + 16, writable: true, name: `extra${i}` })) : [];
      const run = async (src: string): Promise<{ jit: () => bigint; interp: () => bigint }> => {
        const program = relocateMaps(assemble(src), [h, ro, q]);
        const make = async (engine: 'jit' | 'interp'): Promise<() => bigint> => {
          const p = await rt.load(program, { engine });
          return () => {
            const stackBase = rt.acquireStack();
            try {
              new Uint8Array(rt.memory.buffer, stackBase, STACK_SIZE).fill(0);
              const req: ExecRequest = {
                memory: rt.memory, stackBase, helpers: p.helpers, args: [BigInt(input), 16n],
                regions: [{ start: input, end: input + 16, writable: true, name: 'input' }, ...rt.mapRegions(), ...extra],
              };
              return p.executable.run(req);
            } finally {
              rt.releaseStack(stackBase);
            }
          };
        };
        return { jit: await make('jit'), interp: await make('interp') };
      };
      return { rt, h, q, input, run };
    }

    it('a key in the input region, on the stack, or in a map value passes; one byte past any of them faults at the call', async () => {
      const { input, run } = await setup(8);
      for (const keyAt of [`mov %r2, ${input}`, `mov %r2, ${input + 12}`, 'mov %r2, %r10\nadd %r2, -4', 'lddw map_idx_value %r2, 1']) {
        const p = await run(`lddw map_idx %r1, 0\n${keyAt}\ncall 1\nexit`);
        expect(p.jit()).toBe(0n);
        expect(p.interp()).toBe(0n);
      }
      for (const keyAt of [`mov %r2, ${input + 13}`, 'mov %r2, %r10\nadd %r2, -3', `mov %r2, ${input - 1}`, 'lddw %r2, 0xffffffffffffffff', 'mov %r2, 0']) {
        const p = await run(`lddw map_idx %r1, 0\n${keyAt}\ncall 1\nexit`);
        const pc = keyAt.includes('lddw') || keyAt.includes('\n') ? 4 : 3;
        expect(faults(p.jit)).toMatchObject({ code: 'out_of_bounds', pc });
        expect(faults(p.interp)).toMatchObject({ code: 'out_of_bounds', pc });
      }
    });

    it('pop writes: into read-only memory it faults with read_only, into writable memory it pops', async () => {
      const { rt, input, run } = await setup(8);
      const ro = await run('lddw map_idx %r1, 2\nlddw map_idx_value %r2, 1\ncall 88\nexit');
      expect(faults(ro.jit)).toMatchObject({ code: 'read_only', pc: 4 });
      expect(faults(ro.interp)).toMatchObject({ code: 'read_only', pc: 4 });
      const ok = await run(`lddw map_idx %r1, 2\nmov %r2, ${input}\ncall 88\nexit`);
      expect(ok.jit()).toBe(0n);
      expect(new DataView(rt.memory.buffer).getBigUint64(input, true)).toBe(7n);
    });

    it('a value larger than the fault record packs reports its whole size', async () => {
      const { run } = await setup(300);
      const p = await run('lddw map_idx %r1, 0\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r10\nadd %r3, -200\nmov %r4, 0\ncall 2\nexit');
      const e = faults(p.jit);
      expect(e).toMatchObject({ code: 'out_of_bounds', pc: 7 });
      expect(faults(p.interp)).toMatchObject({ code: 'out_of_bounds', pc: 7 });
      expect(e.message).toMatch(/300 bytes/);
    });
  });
});
