/**
 * The interpreter's direct calls of the map helpers' WebAssembly forms (src/interp/exact.ts; interpreter.ts,
 * `callExact`): the pointer checks made by the interpreter itself, the form called without the JS form, and a
 * failing check sent to the JS form, which faults. Every case runs on three engines, from the same map state:
 * the interpreter on the map table (the direct path), the interpreter on the same helpers wrapped as plain JS
 * functions (the JS path, as before), and the JIT (inline checks); through `run` (writable and read-only input)
 * and through the packet path (`runPacket`, `runBatch`). Results, fault codes and pcs, map contents and input
 * bytes must agree; the two interpreter paths must also agree on fault messages.
 */

import { describe, expect, it, vi } from 'vitest';
import { ExecutionError } from '../../src/errors.js';
import { wasmHelperOf, withWasmHelper, type HelperFn, type HelperTable } from '../../src/exec.js';
import { hasExactWasmForm, withExactWasmForm } from '../../src/exec.js';
import { InterpPacketEngine } from '../../src/interp/packet.js';
import { assemble } from '../../src/isa/asm.js';
import { MAP_HELPER } from '../../runtime/maps/abi.js';
import { relocateMaps } from '../../runtime/maps/relocate.js';
import { Runtime, type LoadedProgram } from '../../runtime/runtime.js';

/** The map table with each exact helper's JS form wrapped in a call counter (still exact, same form). */
function counted(helpers: HelperTable): { table: HelperTable; jsCalls: Map<number, number> } {
  const jsCalls = new Map<number, number>();
  const table = new Map<number, HelperFn>();
  for (const [id, f] of helpers) {
    const form = wasmHelperOf(f);
    if (form === undefined || !hasExactWasmForm(f)) {
      table.set(id, f);
      continue;
    }
    table.set(id, withExactWasmForm(withWasmHelper((a, b, c, d, e, env) => {
      jsCalls.set(id, (jsCalls.get(id) ?? 0) + 1);
      return f(a, b, c, d, e, env);
    }, form)));
  }
  return { table, jsCalls };
}

/** The same helpers as plain JS functions: no WebAssembly form, so the interpreter calls them (the old path). */
function plainJs(helpers: HelperTable): HelperTable {
  return new Map([...helpers].map(([id, f]): [number, HelperFn] => [id, (a, b, c, d, e, env) => f(a, b, c, d, e, env)]));
}

type Outcome = { r0: bigint } | { code: string; pc: number; message: string };

function outcome(f: () => bigint): Outcome {
  try {
    return { r0: f() };
  } catch (e) {
    if (e instanceof ExecutionError) return { code: e.code, pc: e.pc!, message: e.message };
    throw e;
  }
}

/** An outcome without the message (the JIT words its inline checks' faults its own way). */
function codeOf(o: Outcome): Outcome {
  return 'r0' in o ? o : { code: o.code, pc: o.pc, message: '' };
}

/** `o` without the addresses in its message (runs on different packet paths copy the packet to different places). */
function packetRelative(o: Outcome): Outcome {
  return 'r0' in o ? o : { ...o, message: o.message.replace(/0x[0-9a-f]+/g, 'ADDR') };
}

/** Input of every run: key 5 at offset 0, key 7 at offset 12. */
const INPUT = Uint8Array.of(5, 0, 0, 0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 7, 0, 0, 0);

async function setup() {
  const rt = new Runtime();
  const h = rt.createMap({ name: 'h', type: 'hash', keySize: 4, valueSize: 8, maxEntries: 8 }).typed('u32', 'u64');
  const q = rt.createMap({ name: 'q', type: 'queue', valueSize: 8, maxEntries: 4 }).typed('u64');
  const ro = rt.createMap({ name: '.rodata', type: 'array', keySize: 4, valueSize: 8, maxEntries: 1, flags: 1 << 7, frozen: true });
  const data = rt.createMap({ name: '.data', type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 }).typed('u32', 'u64');
  const pcpu = rt.createMap({ name: 'pcpu', type: 'percpu_array', keySize: 4, valueSize: 8, maxEntries: 8 }).typed('u32', 'u64');
  const rb = rt.createMap({ name: 'rb', type: 'ringbuf', maxEntries: 4096 });
  const maps = [h, q, ro, data, pcpu, rb];
  const reset = (): void => {
    for (const k of [...h.keys()]) h.delete(k);
    h.set(5, 50n).set(7, 70n).set(9, 90n);
    [...q.drain()];
    q.push(11n).push(22n);
    data.set(0, 0x33n);
    pcpu.set(5, 44n);
    rb.poll();
  };
  const state = (): unknown => ({ h: [...h.entries()].sort((a, b) => a[0] - b[0]), q: [...q.drain()], data: data.get(0), pcpu: pcpu.get(5), rb: rb.poll().length });
  const { table, jsCalls } = counted(rt.maps.helpers);
  const variants = {
    direct: { engine: 'interp' as const, helpers: table },
    js: { engine: 'interp' as const, helpers: plainJs(rt.maps.helpers) },
    jit: { engine: 'jit' as const, helpers: rt.maps.helpers },
  };
  const load = async (src: string): Promise<Record<keyof typeof variants, LoadedProgram>> => {
    const program = relocateMaps(assemble(src), maps);
    const out: Partial<Record<keyof typeof variants, LoadedProgram>> = {};
    for (const [name, v] of Object.entries(variants) as [keyof typeof variants, (typeof variants)[keyof typeof variants]][]) {
      out[name] = await rt.load(program, v);
    }
    return out as Record<keyof typeof variants, LoadedProgram>;
  };
  return { q, reset, state, load, jsCalls };
}

/** Ways of running a program, each giving r0 (as u64, or its low 32 bits on the packet path) and the input after. */
const MODES = {
  run: (p: LoadedProgram) => { const r = p.run(INPUT); return { r0: r.r0, mem: [...r.mem] }; },
  'run, read-only input': (p: LoadedProgram) => { const r = p.run(INPUT, { writable: false }); return { r0: r.r0, mem: [...r.mem] }; },
  runPacket: (p: LoadedProgram) => ({ r0: BigInt(p.runPacket(INPUT)), mem: [] }),
  'runPacket, read-only packet': (p: LoadedProgram) => ({ r0: BigInt(p.packetPath({ writable: false }).run(INPUT)), mem: [] }),
  runBatch: (p: LoadedProgram) => ({ r0: BigInt(p.runBatch([INPUT, INPUT])[1]), mem: [] }),
} as const;

/** Where a pointer register points (r6 holds the input's address). */
const POINTERS: Record<string, (r: string) => string> = {
  'input': (r) => `mov ${r}, %r6`,
  'input + 12': (r) => `mov ${r}, %r6\nadd ${r}, 12`,
  'input + 13': (r) => `mov ${r}, %r6\nadd ${r}, 13`,
  'input - 1': (r) => `mov ${r}, %r6\nadd ${r}, -1`,
  'stack - 8': (r) => `mov ${r}, %r10\nadd ${r}, -8`,
  'stack - 3': (r) => `mov ${r}, %r10\nadd ${r}, -3`,
  'stack bottom - 1': (r) => `mov ${r}, %r10\nadd ${r}, -4097`,
  'read-only map value': (r) => `lddw map_idx_value ${r}, 2`,
  'writable map value': (r) => `lddw map_idx_value ${r}, 3`,
  'null': (r) => `mov ${r}, 0`,
  '0x1000': (r) => `mov ${r}, 0x1000`,
  '2^32': (r) => `lddw ${r}, 0x100000000`,
  'input + 2^32': (r) => `mov ${r}, %r6\nlddw %r9, 0x100000000\nadd ${r}, %r9`,
  '-8': (r) => `mov ${r}, -8`,
};

/** Programs calling each map helper with a pointer `p` in the register it checks (r6 = input, stack word -8 = 7). */
const CALLS: Record<string, (p: (r: string) => string) => string> = {
  'lookup (key read)': (p) => `lddw map_idx %r1, 0\n${p('%r2')}\ncall 1\njeq %r0, 0, +1\nldxdw %r0, [%r0+0]\nexit`,
  'lookup, bad handle': (p) => `mov %r1, 12345\n${p('%r2')}\ncall 1\nexit`,
  'delete (key read)': (p) => `lddw map_idx %r1, 0\n${p('%r2')}\ncall 3\nexit`,
  'update (key read)': (p) => `stdw [%r10-16], 77\nlddw map_idx %r1, 0\n${p('%r2')}\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 0\ncall 2\nexit`,
  'update (value read)': (p) => `lddw map_idx %r1, 0\nmov %r2, %r10\nadd %r2, -8\n${p('%r3')}\nmov %r4, 0\ncall 2\nexit`,
  'update, bad handle': (p) => `lddw %r1, 0xebf0a00000000063\n${p('%r2')}\n${p('%r3')}\nmov %r4, 0\ncall 2\nexit`,
  'push (value read)': (p) => `lddw map_idx %r1, 1\n${p('%r2')}\nmov %r3, 0\ncall 87\nexit`,
  'pop (value written)': (p) => `lddw map_idx %r1, 1\n${p('%r2')}\ncall 88\nldxdw %r0, [%r10-8]\nexit`,
  'percpu lookup (key read)': (p) => `lddw map_idx %r1, 4\n${p('%r2')}\nmov %r3, 0\ncall 195\njeq %r0, 0, +1\nldxdw %r0, [%r0+0]\nexit`,
};

/** The pc of the program's (first) helper call. */
function callPc(p: LoadedProgram): number {
  return p.program.insns.find((i) => i.kind === 'call')!.pc;
}

/** Prologue: r6 = the input, stack word -8 = 7 (a key present in the hash, and a value for update). */
const PROLOGUE = 'mov %r6, %r1\nstdw [%r10-8], 7\n';

describe('map helpers on the interpreter, called through their WebAssembly forms', () => {
  it.each(Object.keys(CALLS))('%s: every pointer position, every way of running, as the JS form and the JIT', async (call) => {
    const { reset, state, load, jsCalls } = await setup();
    const faultsSeen: Record<string, number> = {};
    for (const [where, pointer] of Object.entries(POINTERS)) {
      const p = await load(PROLOGUE + CALLS[call](pointer));
      for (const [mode, runIt] of Object.entries(MODES)) {
        const results: Record<string, { out: Outcome; mem: number[]; state: unknown }> = {};
        const what0 = `${where}, ${mode}`;
        for (const name of ['direct', 'js', 'jit'] as const) {
          reset();
          let mem: number[] = [];
          const out = outcome(() => {
            const r = runIt(p[name]);
            mem = r.mem;
            return r.r0;
          });
          results[name] = { out, mem, state: state() };
          if (name === 'direct' && 'code' in out) faultsSeen[what0] = (faultsSeen[what0] ?? 0) + 1;
        }
        const what = `${call}, pointer at ${where}, ${mode}`;
        // Each program has a packet path of its own, with its own buffer: leave the addresses out of the messages.
        if (mode.startsWith('runPacket') || mode.startsWith('runBatch')) for (const r of Object.values(results)) r.out = packetRelative(r.out);
        expect(results.direct, what).toEqual(results.js);
        expect({ ...results.direct, out: codeOf(results.direct.out) }, what).toEqual({ ...results.jit, out: codeOf(results.jit.out) });
      }
    }
    // The JS forms were called only for the calls whose checks failed, to fault (none with a bad handle: its
    // sizes are negative, so nothing is checked).
    const faulted = Object.values(faultsSeen).reduce((a, b) => a + b, 0);
    expect([...jsCalls.values()].reduce((a, b) => a + b, 0)).toBe(faulted);
    if (call.includes('bad handle')) expect(faulted).toBe(0);
    else expect(faulted).toBeGreaterThan(0);
  });

  it('the ring buffer calls (forms without checks): reserve, write, submit or discard, as the JS form and the JIT', async () => {
    const { reset, state, load, jsCalls } = await setup();
    // Reserve 8 bytes; write the input's first word; submit it when that word is odd, else discard it.
    const src = ['mov %r6, %r1', 'lddw map_idx %r1, 5', 'mov %r2, 8', 'mov %r3, 0', 'call 131', 'jeq %r0, 0, +11', 'ldxw %r7, [%r6+0]',
      'stxdw [%r0+0], %r7', 'mov %r1, %r0', 'mov %r2, 0', 'jset %r7, 1, +2', 'call 133', 'ja +1', 'call 132', 'mov %r0, %r7', 'exit', 'mov %r0, -1', 'exit'].join('\n');
    const p = await load(src);
    for (const [mode, runIt] of Object.entries(MODES)) {
      const results: Record<string, unknown> = {};
      for (const name of ['direct', 'js', 'jit'] as const) {
        reset();
        const out = outcome(() => runIt(p[name]).r0);
        results[name] = { out, state: state() };
      }
      expect(results.direct, mode).toEqual(results.js);
      expect(results.direct, mode).toEqual(results.jit);
      expect(results.direct, mode).toMatchObject({ out: { r0: 5n }, state: { rb: mode === 'runBatch' ? 2 : 1 } });
    }
    expect(jsCalls.size).toBe(0);
  });

  it('a call whose checks pass never calls the JS form; one whose check fails calls it once, which faults', async () => {
    const { reset, load, jsCalls } = await setup();
    reset();
    const ok = await load(PROLOGUE + CALLS['update (value read)'](POINTERS['stack - 8']));
    expect(ok.direct.run(INPUT).r0).toBe(0n);
    expect(ok.direct.runPacket(INPUT)).toBe(0);
    expect([...ok.direct.runBatch([INPUT, INPUT, INPUT])]).toEqual([0, 0, 0]);
    expect(jsCalls.get(MAP_HELPER.map_update_elem)).toBeUndefined();
    const bad = await load(PROLOGUE + CALLS['update (value read)'](POINTERS['input + 12']));
    const e = outcome(() => bad.direct.run(INPUT).r0);
    expect(e).toMatchObject({ code: 'out_of_bounds', pc: callPc(bad.direct), message: expect.stringMatching(/^pc \d+: bpf_map_update_elem value: 8-byte read at 0x[0-9a-f]+ is outside the stack and regions$/) });
    expect(jsCalls.get(MAP_HELPER.map_update_elem)).toBe(1);
    const ro = await load(PROLOGUE + CALLS['pop (value written)'](POINTERS['read-only map value']));
    expect(outcome(() => BigInt(ro.direct.runPacket(INPUT)))).toMatchObject({ code: 'read_only', pc: callPc(ro.direct), message: expect.stringMatching(/^pc \d+: bpf_map_pop_elem value: 8-byte write to read-only memory/) });
    expect(jsCalls.get(MAP_HELPER.map_pop_elem)).toBe(1);
  });

  it('on the packet path, a lookup builds no request', async () => {
    const { reset, load } = await setup();
    reset();
    const p = await load(PROLOGUE + CALLS['lookup (key read)'](POINTERS.input));
    const request = vi.spyOn(InterpPacketEngine.prototype, 'request');
    try {
      expect(p.direct.runPacket(INPUT)).toBe(50);
      expect(request).not.toHaveBeenCalled();
      // The JS form reads it.
      expect(p.js.runPacket(INPUT)).toBe(50);
      expect(request).toHaveBeenCalled();
    } finally {
      request.mockRestore();
    }
  });

  it('on the packet path, a pop into the stack leaves it dirty: the next run still starts from zeros', async () => {
    const { q, load } = await setup();
    // First byte 1: pop into [r10-16] through r2 (no store the engine sees); else: return [r10-16] unwritten.
    const src = ['ldxb %r3, [%r1+0]', 'jne %r3, 1, +7', 'lddw map_idx %r1, 1', 'mov %r2, %r10', 'add %r2, -16', 'call 88', 'mov %r0, 0', 'exit',
      'ldxdw %r0, [%r10-16]', 'exit'].join('\n');
    const p = await load(src);
    for (const name of ['direct', 'jit'] as const) {
      [...q.drain()];
      for (let i = 0; i < 3; i++) q.push(0x1234n);
      expect([...p[name].runBatch([Uint8Array.of(1), Uint8Array.of(0), Uint8Array.of(1), Uint8Array.of(0)])], name).toEqual([0, 0, 0, 0]);
      expect(p[name].runPacket(Uint8Array.of(1)), name).toBe(0);
      expect(p[name].runPacket(Uint8Array.of(0)), name).toBe(0);
      expect([...q.drain()], name).toEqual([]);
    }
  });
});
