// The packet fast path (runtime/filter.ts; the JIT's entries in codegen/translate.ts): `runPacket`, `runBatch`
// and `packetPath` give the same results, faults and memory on every engine; the stack starts all zero on every
// run whatever the previous run left (the JIT clears it lazily, the interpreter whole); faults name the pc, and
// for a batch the packet; budget, read-only packets, growth of the buffers and of the memory, nesting and map
// regions work.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExecutionError } from '../../src/errors.js';
import { UnwindSignal, withoutMemoryWrites, writesMemory, type HelperFn, type HelperTable } from '../../src/exec.js';
import { assemble } from '../../src/isa/asm.js';
import type { Program } from '../../src/isa/program.js';
import { ENGINES, type EngineName } from '../../runtime/engines.js';
import { BatchExecutionError, type PacketOptions, type PacketPath } from '../../runtime/filter.js';
import { relocateMaps } from '../../runtime/maps/relocate.js';
import { PROVEN_LOOP_LIMIT, Runtime, UNPROVEN_LOOP_BUDGET, type LoadedProgram } from '../../runtime/runtime.js';
import { callBound } from '../../src/verifier/termination.js';
import { HELPER_IDS, HELPER_NESTED, buildProgram, recipeArb, terminatesByConstruction } from '../diff/gen.js';
import { diffHelpers } from '../diff/helpers.js';

/** What a run or a batch did, comparable across engines. */
type Outcome = { ok: number[] } | { fault: string; pc: number | undefined; packet?: number };

function outcome(f: () => number | Uint32Array): Outcome {
  try {
    const r = f();
    return { ok: typeof r === 'number' ? [r] : [...r] };
  } catch (e) {
    if (e instanceof BatchExecutionError) return { fault: e.code, pc: e.pc, packet: e.packetIndex };
    if (e instanceof ExecutionError) return { fault: e.code, pc: e.pc };
    throw e;
  }
}

/** The code of the ExecutionError `f` throws. */
function faultOfRun(f: () => unknown): string {
  const o = outcome(() => (f(), 0));
  return 'fault' in o ? o.fault : 'no fault';
}

/** The program loaded on every engine, each on a runtime of its own (so their layouts are identical). */
async function onEngines(p: string | Program, helpers?: (engine: EngineName, self: () => LoadedProgram) => HelperTable): Promise<Map<EngineName, LoadedProgram>> {
  const program = typeof p === 'string' ? assemble(p) : p;
  const out = new Map<EngineName, LoadedProgram>();
  for (const engine of ENGINES) {
    let self: LoadedProgram | undefined;
    const table = helpers?.(engine, () => self!);
    self = await new Runtime().load(program, { engine, helpers: table });
    out.set(engine, self);
  }
  return out;
}

/** Runs `f` on every engine and expects one outcome; returns it. */
function same(loaded: Map<EngineName, LoadedProgram>, f: (lp: LoadedProgram, engine: EngineName) => number | Uint32Array): Outcome {
  const results = [...loaded].map(([engine, lp]) => outcome(() => f(lp, engine)));
  for (const r of results.slice(1)) expect(r).toEqual(results[0]);
  return results[0];
}

const bytes = (...xs: number[]): Uint8Array => Uint8Array.from(xs);

describe('runPacket and runBatch', () => {
  it('run a filter on every engine with the same results, as r0 low 32 bits', async () => {
    const loaded = await onEngines(`
      mov r0, 0
      jle r2, 60, out
      ldxb r3, [r1+0]
      lddw r0, 0x1234567880000000
      or r0, r3
    out:
      exit`);
    expect(same(loaded, (lp) => lp.runPacket(new Uint8Array(64).fill(7)))).toEqual({ ok: [0x80000007] });
    expect(same(loaded, (lp) => lp.runPacket(new Uint8Array(60)))).toEqual({ ok: [0] });
    expect(same(loaded, (lp) => lp.runPacket(new Uint8Array(0)))).toEqual({ ok: [0] });
    const packets = Array.from({ length: 300 }, (_, i) => new Uint8Array(i % 100).fill(i & 0xff));
    const expected = packets.map((p) => (p.length > 60 ? (0x80000000 | p[0]) >>> 0 : 0));
    expect(same(loaded, (lp) => lp.runBatch(packets))).toEqual({ ok: expected });
    // The {data, offsets} form, and `out`.
    const data = new Uint8Array(packets.reduce((n, p) => n + p.length, 0));
    const offsets = new Uint32Array(packets.length + 1);
    packets.forEach((p, i) => {
      data.set(p, offsets[i]);
      offsets[i + 1] = offsets[i] + p.length;
    });
    expect(same(loaded, (lp) => lp.runBatch({ data, offsets }))).toEqual({ ok: expected });
    expect(same(loaded, (lp) => lp.runBatch({ data, offsets: [...offsets] }, new Uint32Array(400)).subarray(0, 300))).toEqual({ ok: expected });
    expect(same(loaded, (lp) => lp.runBatch([]))).toEqual({ ok: [] });
  });

  it('r1 is the packet address, r2 its length; the program may write the packet', async () => {
    const loaded = await onEngines(`
      ldxb r3, [r1+1]
      stxb [r1+0], r3
      mov r0, r1
      exit`);
    const r = [...loaded.values()].map((lp) => {
      const path = lp.packetPath();
      const a = path.run(bytes(1, 2, 3));
      const after = [...path.packetView()];
      const b = path.runBatch([bytes(4, 5), bytes(6, 7, 8)]);
      return { a, after, b: [...b], views: [[...path.packetView(0)], [...path.packetView(1)]] };
    });
    expect(r[1]).toEqual(r[0]);
    expect(r[0].after).toEqual([2, 2, 3]);
    expect(r[0].views).toEqual([[5, 5], [7, 7, 8]]);
    expect(r[0].b[1] - r[0].b[0]).toBe(2); // packets back to back
  });

  it('r3 is the wire length the caller gives (runPacket, wireLengths of a batch), else 0; strict verification allows it', async () => {
    // r0 = r3 * 1000 + r2
    const program = assemble('mov r0, r3\nmul r0, 1000\nadd r0, r2\nexit');
    for (const engine of ENGINES) {
      const lp = await new Runtime().load(program, { engine, verify: 'strict' });
      expect(lp.runPacket(bytes(1, 2))).toBe(2);
      expect(lp.runPacket(bytes(1, 2), 1514)).toBe(1514002);
      expect(() => lp.runPacket(bytes(1, 2), -1)).toThrow(/wire length -1 is not a u32/);
      expect(() => lp.runPacket(bytes(1, 2), 2 ** 32)).toThrow(RangeError);
      const data = bytes(1, 2, 3, 4, 5, 6);
      expect([...lp.runBatch({ data, offsets: [0, 2, 6], wireLengths: [60, 9000] })]).toEqual([60002, 9000004]);
      expect([...lp.runBatch({ data, offsets: new Uint32Array([0, 2, 6]), wireLengths: new Uint32Array([7, 8]) })]).toEqual([7002, 8004]);
      // A batch without wire lengths, after one with them: r3 is 0 again.
      expect([...lp.runBatch({ data, offsets: [0, 2, 6] })]).toEqual([2, 4]);
      expect([...lp.runBatch([bytes(1), bytes()])]).toEqual([1, 0]);
      expect(() => lp.runBatch({ data, offsets: [0, 2, 6], wireLengths: [1] })).toThrow(/wireLengths has 1 entries, the batch has 2/);
      expect(() => lp.runBatch({ data, offsets: [0, 2, 6], wireLengths: [1, -1] })).toThrow(/wireLengths\[1\] \(-1\) is not a u32/);
      expect(() => lp.runBatch({ data, offsets: [0, 2, 6], wireLengths: [1.5, 2] })).toThrow(RangeError);
    }
  });

  it('rawWritable: stores to the input are proven, and runs on a read-only input are refused', async () => {
    // Swaps the first two bytes when there are two.
    const program = assemble('jlt r2, 2, +4\nldxb r3, [r1+0]\nldxb r4, [r1+1]\nstxb [r1+0], r4\nstxb [r1+1], r3\nmov r0, 0\nexit');
    const rt = new Runtime();
    // Strict verification without rawWritable refuses the stores; permissive leaves them checked.
    await expect(rt.load(program, { engine: 'jit', verify: 'strict' })).rejects.toThrow(/read-only for raw programs/);
    const ro = await rt.load(program, { engine: 'jit', verify: 'permissive' });
    expect([...ro.verified!.proven].sort()).toEqual([1, 2]);
    const rw = await rt.load(program, { engine: 'jit', verify: { mode: 'strict', rawWritable: true } });
    expect([...rw.verified!.proven].sort()).toEqual([1, 2, 3, 4]);
    expect([...rw.run(bytes(1, 2, 3)).mem]).toEqual([2, 1, 3]);
    expect(() => rw.run(bytes(1, 2), { writable: false })).toThrow(/verified for a writable input/);
    expect(() => rw.packetPath({ writable: false })).toThrow(/verified for a writable input/);
    expect(faultOfRun(() => ro.run(bytes(1, 2), { writable: false }))).toBe('read_only');
  });

  it('a loop nothing proved to end runs with a default budget: it cannot hang the host', async () => {
    const forever = assemble('mov r0, 0\nloop:\nadd r0, 1\nja loop\nexit');
    const counted = assemble('mov r0, 0\nmov r1, 5000000\nloop:\nadd r0, 1\nsub r1, 1\njne r1, 0, loop\nexit');
    for (const engine of ENGINES) {
      const rt = new Runtime();
      const lp = await rt.load(forever, { engine });
      expect(lp.defaultBudget).toBe(UNPROVEN_LOOP_BUDGET);
      expect(faultOfRun(() => lp.run(bytes(1)))).toBe('budget_exceeded');
      expect(faultOfRun(() => lp.runPacket(bytes(1)))).toBe('budget_exceeded');
      expect(faultOfRun(() => lp.runBatch([bytes(1)]))).toBe('budget_exceeded');
      // A loop longer than the default budget: its own budget, or none for a trusted program.
      const long = await rt.load(counted, { engine });
      expect(faultOfRun(() => long.runPacket(bytes(1)))).toBe('budget_exceeded');
      expect((await rt.load(counted, { engine, budget: 6_000_000 })).runPacket(bytes(1))).toBe(5_000_000);
      expect((await rt.load(counted, { engine, budget: 'none' })).run(bytes(1)).r0).toBe(5_000_000n);
      // No backward jump, or termination proven: no budget.
      expect((await rt.load(assemble('mov r0, 1\nexit'), { engine })).defaultBudget).toBeUndefined();
      expect((await rt.load(counted, { engine, verify: 'permissive' })).defaultBudget).toBeUndefined();
      await expect(rt.load(counted, { engine, budget: -1 })).rejects.toThrow(/budget -1/);
    }
  });

  it('a loop proven to end only after too many trips still gets the default budget (termination is not an end in useful time)', async () => {
    // Bounded by a 32-bit value from the packet: proven, but up to 2^32 trips.
    const byPacket = assemble('mov r0, 0\njlt r2, 4, out\nldxw r3, [r1+0]\nmov r4, 0\nloop:\nadd r0, 1\nadd r4, 1\njlt r4, r3, loop\nout:\nexit');
    // Ends only when a 64-bit counter wraps: 2^64 trips.
    const wraps = assemble('mov r0, 0\nmov r1, 1\nloop:\nadd r1, 1\njne r1, 0, loop\nexit');
    // A short loop: its bound is small, so no budget.
    const short = assemble('mov r0, 0\nmov r1, 0\nloop:\nadd r0, 3\nadd r1, 1\njlt r1, 10, loop\nexit');
    for (const engine of ENGINES) {
      const rt = new Runtime();
      const p = await rt.load(byPacket, { engine, verify: 'permissive' });
      expect(p.verified?.terminates).toBe(true);
      expect(p.verified!.backEdges! > BigInt(PROVEN_LOOP_LIMIT)).toBe(true);
      expect(p.defaultBudget).toBe(UNPROVEN_LOOP_BUDGET);
      expect(p.runPacket(Uint8Array.of(7, 0, 0, 0))).toBe(7);
      expect(faultOfRun(() => p.runPacket(Uint8Array.of(0xff, 0xff, 0xff, 0xff)))).toBe('budget_exceeded');
      const w = await rt.load(wraps, { engine, verify: 'permissive' });
      expect(w.defaultBudget).toBe(UNPROVEN_LOOP_BUDGET);
      expect(faultOfRun(() => w.runPacket(bytes(1)))).toBe('budget_exceeded');
      const s = await rt.load(short, { engine, verify: 'strict' });
      expect(s.verified?.terminates).toBe(true);
      expect(Number(s.verified!.backEdges)).toBeLessThan(20);
      expect(s.defaultBudget).toBeUndefined();
      expect(s.runPacket(bytes(1))).toBe(30);
    }
  });

  it('an unverified program whose local calls fan out past the budget gets it, though it has no backward jump', async () => {
    // Four levels of functions, each calling the next 40 times: 40^4 = 2.56 million calls of f5, no loop.
    const level = (k: number): string[] => [`f${k}:`, ...Array.from({ length: 40 }, () => `call local f${k + 1}`), 'exit'];
    const src = ['mov r0, 0', 'call local f1', 'exit', ...level(1), ...level(2), ...level(3), ...level(4), 'f5:', 'add r0, 1', 'exit'].join('\n');
    const program = assemble(src);
    expect(callBound(program, 0n)).toBeGreaterThan(BigInt(UNPROVEN_LOOP_BUDGET));
    expect(callBound(assemble('call local f\nexit\nf:\nmov r0, 1\nexit'), 0n)).toBe(1n);
    for (const engine of ENGINES) {
      const lp = await new Runtime().load(program, { engine });
      expect(lp.defaultBudget).toBe(UNPROVEN_LOOP_BUDGET);
      expect(faultOfRun(() => lp.runPacket(bytes(1)))).toBe('budget_exceeded');
    }
  });

  it('faults name the pc, and for a batch the packet; earlier packets ran', async () => {
    const loaded = await onEngines(`
      ldxb r0, [r1+9]
      exit`);
    expect(same(loaded, (lp) => lp.runPacket(new Uint8Array(9)))).toEqual({ fault: 'out_of_bounds', pc: 0 });
    const packets = [new Uint8Array(10).fill(1), new Uint8Array(12).fill(2), new Uint8Array(3), new Uint8Array(10)];
    expect(same(loaded, (lp) => lp.runBatch(packets))).toEqual({ fault: 'out_of_bounds', pc: 0, packet: 2 });
    const e = outcome(() => loaded.get('jit')!.runBatch(packets));
    expect(e).toMatchObject({ packet: 2 });
    try {
      loaded.get('jit')!.runBatch(packets);
    } catch (err) {
      expect(err).toBeInstanceOf(ExecutionError);
      expect((err as Error).message).toMatch(/^pc 0: packet 2: out-of-bounds load/);
    }
  });

  it('read-only packets and budgets are options of a packet path', async () => {
    const store = await onEngines('stb [r1+0], 1\nmov r0, 5\nexit');
    expect(same(store, (lp) => lp.packetPath({ writable: false }).run(bytes(0)))).toEqual({ fault: 'read_only', pc: 0 });
    expect(same(store, (lp) => lp.packetPath({ writable: false }).runBatch([bytes(1), bytes(2)]))).toEqual({ fault: 'read_only', pc: 0, packet: 0 });
    const loop = await onEngines('mov r0, 0\nloop:\nadd r0, 1\njlt r0, r2, loop\nexit');
    const options: PacketOptions = { budget: 5 };
    expect(same(loop, (lp) => lp.packetPath(options).run(new Uint8Array(5)))).toEqual({ ok: [5] });
    expect(same(loop, (lp) => lp.packetPath(options).run(new Uint8Array(7)))).toEqual({ fault: 'budget_exceeded', pc: 2 });
    // Every packet of a batch starts with the whole budget.
    expect(same(loop, (lp) => lp.packetPath(options).runBatch([new Uint8Array(6), new Uint8Array(6), new Uint8Array(9)]))).toEqual({ fault: 'budget_exceeded', pc: 2, packet: 2 });
    expect(() => store.get('jit')!.packetPath({ budget: -1 })).toThrow(RangeError);
  });

  it('a packet load out of bounds or an unwinding helper end only that packet of a batch', async () => {
    const unwind: HelperFn = (r1) => {
      if (r1 === 1n) throw new UnwindSignal(0xabcdef0123n);
      return 7n;
    };
    const loaded = await onEngines(`
      ldabsb 0
      mov r6, r0
      ldabsh 4
      mov r1, r6
      call 9
      add r0, r6
      exit`, () => new Map([[9, unwind]]));
    const packets = [bytes(2, 0, 0, 0, 0, 1), bytes(1, 0, 0, 0, 0, 0), bytes(3, 0, 0, 0, 0), bytes(5, 0, 0, 0, 0, 0)];
    // 2 + 7; unwound (low 32 bits); abort (the 16-bit load at 4 passes the end); 5 + 7
    expect(same(loaded, (lp) => lp.runBatch(packets))).toEqual({ ok: [9, 0xcdef0123, 0, 12] });
    expect(same(loaded, (lp) => lp.runPacket(bytes(3, 0, 0, 0, 0)))).toEqual({ ok: [0] });
  });

  it('grows its buffers for large packets and batches, and survives a growth of the memory', async () => {
    const loaded = await onEngines(`
      mov r0, 0
      mov r3, r1
      add r3, r2
      jge r1, r3, done
    loop:
      ldxb r4, [r1+0]
      add r0, r4
      add r1, 1
      jlt r1, r3, loop
    done:
      exit`);
    const big = new Uint8Array(100_000).map((_, i) => i * 7);
    const sum = big.reduce((a, b) => a + b, 0);
    expect(same(loaded, (lp) => lp.runPacket(big))).toEqual({ ok: [sum] });
    const many = Array.from({ length: 3000 }, (_, i) => bytes(i & 0xff, 1));
    expect(same(loaded, (lp) => lp.runBatch(many))).toEqual({ ok: many.map((p) => p[0] + 1) });
    for (const lp of loaded.values()) lp.runtime.alloc(4 << 20); // grows (and detaches) the memory
    expect(same(loaded, (lp) => lp.runPacket(bytes(1, 2, 3)))).toEqual({ ok: [6] });
    expect(same(loaded, (lp) => lp.runBatch(many.slice(0, 3)))).toEqual({ ok: [1, 2, 3] });
  });

  it('rejects malformed batches', async () => {
    const lp = (await onEngines('mov r0, 1\nexit')).get('jit')!;
    expect(() => lp.runBatch({ data: new Uint8Array(4), offsets: [] })).toThrow(RangeError);
    expect(() => lp.runBatch({ data: new Uint8Array(4), offsets: [0, 5] })).toThrow(RangeError);
    expect(() => lp.runBatch({ data: new Uint8Array(4), offsets: [2, 1] })).toThrow(RangeError);
    expect(() => lp.runBatch([bytes(1), bytes(2)], new Uint32Array(1))).toThrow(RangeError);
    expect([...lp.runBatch({ data: new Uint8Array(4), offsets: [0, 4, 4] })]).toEqual([1, 1]);
  });

  it('a helper may run the same program again (a nested path of its own)', async () => {
    const loaded = await onEngines('ldxb r1, [r1+0]\ncall 9\nexit', (_engine, self) => new Map([[9, (r1: bigint): bigint => (r1 === 0n ? 100n : BigInt(self().runPacket(bytes(Number(r1) - 1))) + 1n)]]));
    expect(same(loaded, (lp) => lp.runPacket(bytes(3)))).toEqual({ ok: [103] });
    expect(same(loaded, (lp) => lp.runBatch([bytes(1), bytes(0), bytes(2)]))).toEqual({ ok: [101, 100, 102] });
    // Depth is bounded, like the runtime's stacks.
    expect(same(loaded, (lp) => lp.runPacket(bytes(20)))).toEqual({ fault: 'call_depth', pc: 0 });
  });

  it('sees the map regions, including maps created after its first run', async () => {
    const results: number[][] = [];
    for (const engine of ENGINES) {
      const rt = new Runtime();
      const plain = await rt.load(assemble('mov r0, 1\nexit'), { engine });
      expect(plain.runPacket(bytes(0))).toBe(1); // bound before the map area exists
      const counts = rt.createMap({ name: 'counts', type: 'array', keySize: 4, valueSize: 8, maxEntries: 4 }).typed('u32', 'u64');
      const src = [
        'stw [%r10-4], 1',
        'lddw map_idx %r1, 0',
        'mov %r2, %r10',
        'add %r2, -4',
        'call 1',
        'jeq %r0, 0, +4',
        'ldxdw %r1, [%r0+0]',
        'add %r1, 1',
        'stxdw [%r0+0], %r1',
        'mov %r0, %r1',
        'exit',
      ].join('\n');
      const loaded = await rt.load(relocateMaps(assemble(src), [counts]), { engine, helpers: rt.maps.helpers });
      const out = [loaded.runPacket(bytes(0)), ...loaded.runBatch([bytes(0), bytes(0)])];
      out.push(plain.runPacket(bytes(0)), Number(counts.get(1)));
      results.push(out);
    }
    expect(results[0]).toEqual([1, 2, 3, 1, 3]);
    for (const r of results) expect(r).toEqual(results[0]);
  });
});

describe('the stack starts all zero on every run', () => {
  // Each program writes the stack only on packets whose first byte is 1, then returns a word it reads back, so a
  // run on a packet starting with 0 sees whatever the previous runs left.
  const cases: Record<string, string> = {
    'entry frame, constant r10 offsets': `
      ldxb r3, [r1+0]
      jne r3, 1, read
      stdw [r10-16], 0x55
      stw [r10-200], 0x66
    read:
      ldxdw r0, [r10-16]
      ldxw r4, [r10-200]
      add r0, r4
      exit`,
    'through another register, beyond the entry frame': `
      mov r6, r10
      add r6, -1000
      ldxb r3, [r1+0]
      jne r3, 1, read
      stdw [r6+0], 0x77
    read:
      ldxdw r0, [r6+0]
      exit`,
    'atomics at constant r10 offsets': `
      ldxb r3, [r1+0]
      jne r3, 1, read
      mov r4, 9
      lock add [r10-8], r4
    read:
      ldxdw r0, [r10-8]
      exit`,
    'in a callee frame': `
      ldxb r6, [r1+0]
      call local sub
      mov r2, r10
      add r2, -520
      ldxdw r0, [r2+0]
      exit
    sub:
      jne r6, 1, back
      stdw [r10-8], 0x88
    back:
      exit`,
    'through a helper': `
      ldxb r3, [r1+0]
      mov r1, r10
      add r1, -32
      mov r2, 8
      jne r3, 1, read
      call 3
    read:
      ldxdw r0, [r10-32]
      exit`,
  };
  for (const [name, src] of Object.entries(cases)) {
    it(name, async () => {
      const fill: HelperFn = (r1, r2, _r3, _r4, _r5, env) => {
        new Uint8Array(env.memory.buffer, Number(r1), Number(r2)).fill(0x99);
        return 0n;
      };
      const loaded = await onEngines(src, () => new Map([[3, fill]]));
      const dirty = same(loaded, (lp) => lp.runPacket(bytes(1)));
      expect(dirty).not.toEqual({ ok: [0] });
      expect(same(loaded, (lp) => lp.runPacket(bytes(0)))).toEqual({ ok: [0] });
      expect(same(loaded, (lp) => lp.runBatch([bytes(1), bytes(0), bytes(0), bytes(1), bytes(0)]))).toEqual({ ok: [(dirty as { ok: number[] }).ok[0], 0, 0, (dirty as { ok: number[] }).ok[0], 0] });
      // After a fault too (the faulting run wrote first).
      expect(same(loaded, (lp) => lp.runPacket(bytes(0)))).toEqual({ ok: [0] });
    });
  }
});

describe('helpers declared not to write memory (withoutMemoryWrites)', () => {
  // The same program as 'through a helper' above: a helper that writes the stack through its pointer.
  const src = 'ldxb r3, [r1+0]\nmov r1, r10\nadd r1, -32\nmov r2, 8\njne r3, 1, read\ncall 3\nread:\nldxdw r0, [r10-32]\nexit';
  const fill: HelperFn = (r1, r2, _r3, _r4, _r5, env) => {
    new Uint8Array(env.memory.buffer, Number(r1), Number(r2)).fill(0x99);
    return 0n;
  };

  it('a call to one does not count as a write to the stack: the engines clear nothing for it (so one that lies leaks)', async () => {
    // The declaration is a promise the engines rely on: a helper that breaks it leaves its bytes for the next run.
    expect(writesMemory(fill)).toBe(true);
    const liar = withoutMemoryWrites((r1, r2, r3, r4, r5, env) => fill(r1, r2, r3, r4, r5, env));
    expect(writesMemory(liar)).toBe(false);
    const loaded = await onEngines(src, () => new Map([[3, liar]]));
    same(loaded, (lp) => lp.runPacket(bytes(1)));
    expect(same(loaded, (lp) => lp.runPacket(bytes(0)))).toEqual({ ok: [0x99999999] });
  });

  it('the standard helpers that only read (ktime, prandom, trace_printk, tail_call) are declared; the writing ones are not', () => {
    const rt = new Runtime();
    for (const id of [5, 6, 7, 8, 12, 125]) expect(writesMemory(rt.helpers.get(id))).toBe(false);
    for (const id of [105, 106, 165]) expect(writesMemory(rt.helpers.get(id))).toBe(true);
    expect(writesMemory(undefined)).toBe(true);
  });
});

describe('differential: random programs on the packet path', () => {
  /** A random program, packets, and the options of its path (a budget unless it ends by construction). */
  const packetCase = (maxPackets: number) => fc.record({
    recipe: recipeArb({ mainLength: 8 }),
    packets: fc.array(fc.uint8Array({ maxLength: 48 }), { minLength: 1, maxLength: maxPackets }),
    budget: fc.constantFrom(20, 250),
    writable: fc.boolean(),
  }).map(({ recipe, packets, budget, writable }) => ({
    program: buildProgram(recipe),
    packets,
    options: { budget: terminatesByConstruction(recipe) && budget === 250 ? undefined : budget, writable } satisfies PacketOptions,
  }));

  it('every engine gives the same results, faults and memory over runs and batches', async () => {
    const helperIds = new Set(HELPER_IDS);
    await fc.assert(
      fc.asyncProperty(
        packetCase(6),
        async ({ program, packets, options }) => {
          const seen: unknown[] = [];
          for (const engine of ENGINES) {
            let path: PacketPath | undefined;
            let nested = 0;
            const helpers = new Map(diffHelpers);
            // The nested helper runs this program again on a one-byte packet, a bounded number of times.
            helpers.set(HELPER_NESTED, (r1) => (nested++ < 3 ? BigInt(path!.run(Uint8Array.of(Number(r1 & 0xffn)))) : 0n));
            const rt = new Runtime();
            const lp = await rt.load(program, { engine, helpers });
            path = lp.packetPath(options);
            const log: unknown[] = [];
            for (const p of packets) log.push(outcome(() => path!.run(p)), [...path.packetView()]);
            log.push(outcome(() => path!.runBatch(packets)));
            // Everything the path may have written: its stack, the packets, the tables.
            log.push(Buffer.from(new Uint8Array(rt.memory.buffer, (path as unknown as { stackBase: number }).stackBase, 0x4000)).toString('hex'));
            seen.push(log);
          }
          for (const s of seen.slice(1)) expect(s).toEqual(seen[0]);
          expect(helperIds.size).toBeGreaterThan(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('random programs as the callees of tail calls: every engine gives the same results, faults and memory', async () => {
    // Each engine's callee runs on a packet engine of its own (its own stack and lazy clearing) over the caller's
    // packet area: the engines must agree run after run. (Not compared with the callee's own path: addresses
    // such as r1 and r10 differ between the two layouts, and random programs compute with them.)
    await fc.assert(
      fc.asyncProperty(
        packetCase(5),
        async ({ program, packets, options }) => {
          const seen: unknown[] = [];
          for (const engine of ENGINES) {
            const helpers = new Map(diffHelpers);
            helpers.set(HELPER_NESTED, () => 0n);
            const rt = new Runtime();
            const jt = rt.createMap({ name: 'jt', type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 1 });
            const callee = await rt.load(program, { engine, helpers });
            rt.setProgram(jt, 0, callee);
            // The caller tail-calls slot 0 with r1..r3 as it got them; it never resumes (0xdead only on a failed call).
            const caller = await rt.load(relocateMaps(assemble('lddw map_idx %r2, 0\nmov %r3, 0\ncall 12\nmov %r0, 0xdead\nexit'), [jt]), { engine });
            const path = caller.packetPath(options);
            const log: unknown[] = [];
            for (const p of packets) log.push(outcome(() => path.run(p)), [...path.packetView()]);
            log.push(outcome(() => path.runBatch(packets)));
            for (let i = 0; i < packets.length; i++) log.push([...path.packetView(i)]);
            for (const p of packets) log.push(outcome(() => path.run(p)));
            expect(log).not.toContainEqual({ ok: [0xdead] });
            seen.push(log);
          }
          for (const s of seen.slice(1)) expect(s).toEqual(seen[0]);
        },
      ),
      { numRuns: 150 },
    );
  });
});
