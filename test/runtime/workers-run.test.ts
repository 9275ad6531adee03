/**
 * Programs on a worker pool (runtime/workers): two workers run shares of each batch over the runtime's shared
 * memory, each as its own CPU. A per-CPU array sees distinct CPU ids (1 and 2, none on the main thread's 0),
 * a shared hash map's counters add up exactly across threads, verdicts come back in batch order, trace lines
 * reach the main runtime, and a fault names its packet in the whole batch. On every engine.
 */

import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/isa/asm.js';
import { ENGINES } from '../../runtime/engines.js';
import { relocateMaps } from '../../runtime/maps/relocate.js';
import { Runtime } from '../../runtime/runtime.js';
import { BatchExecutionError } from '../../runtime/filter.js';

const ENTRY = new URL('./workers-run-entry.mjs', import.meta.url);

describe('atomics on a shared memory', () => {
  it('give the same results as on an unshared one, on every engine (the interpreter uses Atomics there)', async () => {
    // Each operation on a 32- and a 64-bit word of the input, fetch forms included; r0 and memory compared.
    const ops = ['add', 'or', 'and', 'xor'].flatMap((op) => [`lock ${op} [%r1+0], %r2`, `lock ${op}32 [%r1+8], %r2`, `lock fetch ${op} [%r1+16], %r3`, `lock fetch ${op}32 [%r1+24], %r4`]);
    const src = [
      'lddw %r2, 0x8000000180000003', 'lddw %r3, 0xfedcba9876543210', 'mov %r4, -7', ...ops,
      'lock xchg [%r1+32], %r3', 'lock xchg32 [%r1+40], %r4',
      'lddw %r0, 0x1111111122222222', 'lock cmpxchg [%r1+48], %r2', 'mov %r5, %r0',
      'mov %r0, 0x22222222', 'lock cmpxchg32 [%r1+56], %r2', 'add %r0, %r5', 'add %r0, %r3', 'add %r0, %r4', 'exit',
    ].join('\n');
    const input = new Uint8Array(64);
    const dv = new DataView(input.buffer);
    for (let i = 0; i < 8; i++) dv.setBigUint64(8 * i, 0x1111111122222222n * BigInt(i + 1), true);
    dv.setBigUint64(48, 0x1111111122222222n, true);
    for (const engine of ENGINES) {
      const runs = await Promise.all([true, false].map(async (shared) => (await new Runtime({ shared }).load(assemble(src), { engine })).run(input)));
      expect(runs[0]).toEqual(runs[1]);
      expect(runs[0].mem).not.toEqual(input);
    }
  });
});

describe.each(ENGINES)('a worker pool on %s', (engine) => {
  it('runs shares of a batch as CPUs 1 and 2 over shared per-CPU and hash maps', async () => {
    const rt = new Runtime({ shared: true, cpus: 3 });
    const perCpu = rt.createMap({ name: 'per_cpu', type: 'percpu_array', keySize: 4, valueSize: 8, maxEntries: 1 }).typed('u32', 'u64');
    const counts = rt.createMap({ name: 'counts', type: 'hash', keySize: 4, valueSize: 8, maxEntries: 64 }).typed('u32', 'u64');
    for (let k = 0; k < 16; k++) counts.set(k, 0n);
    // per_cpu[0] += 1 (this CPU's value); counts[packet[0]] += packet length (atomic); r0 = CPU << 8 | packet[0].
    const src = [
      'mov %r6, %r1', 'mov %r7, %r2',
      'stw [%r10-4], 0', 'lddw map_idx %r1, 0', 'mov %r2, %r10', 'add %r2, -4', 'call 1',
      'jeq %r0, 0, +3', 'ldxdw %r1, [%r0+0]', 'add %r1, 1', 'stxdw [%r0+0], %r1',
      'ldxb %r8, [%r6+0]', 'stxw [%r10-8], %r8', 'lddw map_idx %r1, 1', 'mov %r2, %r10', 'add %r2, -8', 'call 1',
      'jeq %r0, 0, +1', 'lock add [%r0+0], %r7',
      'call 8', 'lsh %r0, 8', 'or %r0, %r8', 'exit',
    ].join('\n');
    const program = relocateMaps(assemble(src), [perCpu, counts]);
    const pool = await rt.workers(2, { workerUrl: ENTRY });
    try {
      const prog = await pool.load(program, { engine });
      // The JIT compiled the program once, here: the workers instantiated the posted modules.
      expect(prog.workerTranslations).toBe(0);
      const packets = Array.from({ length: 1000 }, (_, i) => new Uint8Array(1 + (i % 5)).fill(i % 16));
      const expected = new Map<number, bigint>();
      for (let round = 0; round < 3; round++) {
        const verdicts = await prog.runBatch(packets);
        expect(verdicts.length).toBe(1000);
        for (let i = 0; i < 1000; i++) expect(verdicts[i]).toBe(((i < 500 ? 1 : 2) << 8) | (i % 16));
        for (const [i, p] of packets.entries()) expected.set(i % 16, (expected.get(i % 16) ?? 0n) + BigInt(p.length));
      }
      // Each worker counted its 500 packets a round in its own per-CPU slot; the main thread's stays 0.
      expect(perCpu.get(0)).toEqual([0n, 1500n, 1500n]);
      for (let k = 0; k < 16; k++) expect(counts.get(k)).toBe(expected.get(k));
      // The {data, offsets} form, with a batch that does not split evenly.
      const data = new Uint8Array([3, 3, 4, 5, 5, 5]);
      expect([...(await prog.runBatch({ data, offsets: [0, 2, 3, 6] }))]).toEqual([(1 << 8) | 3, (1 << 8) | 4, (2 << 8) | 5]);
    } finally {
      await pool.close();
    }
    // The CPUs are free again: a new pool attaches.
    const again = await rt.workers(2, { workerUrl: ENTRY });
    await again.close();
  });

  it('a program with a bpf_loop callback runs too (its callback is compiled in each worker)', async () => {
    const rt = new Runtime({ shared: true, cpus: 3 });
    const pool = await rt.workers(2, { workerUrl: ENTRY });
    try {
      // bpf_loop(4, cb at pc 7, 0, 0): r0 = 4 loops.
      const src = ['mov %r1, 4', 'lddw code_addr %r2, 5', 'mov %r3, 0', 'mov %r4, 0', 'call 181', 'exit', 'mov %r0, 0', 'exit'].join('\n');
      const prog = await pool.load(assemble(src), { engine });
      expect(prog.workerTranslations).toBe(engine === 'jit' ? 2 : 0);
      expect([...(await prog.runBatch([new Uint8Array(1), new Uint8Array(1)]))]).toEqual([4, 4]);
    } finally {
      await pool.close();
    }
  });

  it('a fault names its packet in the whole batch; trace lines reach the main runtime', async () => {
    const rt = new Runtime({ shared: true, cpus: 3 });
    const pool = await rt.workers(2, { workerUrl: ENTRY });
    try {
      // Reads byte 3: packets shorter than 4 bytes fault.
      const prog = await pool.load(assemble('ldxb %r0, [%r1+3]\nexit'), { engine });
      const packets = Array.from({ length: 10 }, (_, i) => new Uint8Array(i === 7 ? 2 : 4).fill(i));
      const e = await prog.runBatch(packets).then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(BatchExecutionError);
      expect((e as BatchExecutionError).packetIndex).toBe(7);
      expect((e as BatchExecutionError).code).toBe('out_of_bounds');
      // Wire lengths (r3) travel with the workers' shares.
      const wire = await pool.load(assemble('mov %r0, %r3\nexit'), { engine });
      expect([...(await wire.runBatch({ data: new Uint8Array(3), offsets: [0, 1, 2, 3], wireLengths: [60, 61, 62] }))]).toEqual([60, 61, 62]);
      // trace_printk("cpu %d\n") from each worker.
      const fmt = 'cpu %d\n\0';
      const words = Buffer.alloc(8);
      words.write(fmt, 'latin1');
      const trace = await pool.load(assemble([
        `lddw %r1, 0x${words.readBigUInt64LE(0).toString(16)}`, 'stxdw [%r10-8], %r1',
        'call 8', 'mov %r3, %r0', 'mov %r1, %r10', 'add %r1, -8', 'mov %r2, 8', 'call 6', 'exit',
      ].join('\n')), { engine });
      await trace.runBatch([new Uint8Array(1), new Uint8Array(1)]);
      expect(rt.traceLines.sort()).toEqual(['cpu 1', 'cpu 2']);
    } finally {
      await pool.close();
    }
  });

  it('concurrent loads: each pool program runs its own code in every worker, whatever order the loads finish in', async () => {
    // Programs of very different sizes so that their loads finish out of order; each returns its own number.
    const rt = new Runtime({ shared: true, cpus: 3 });
    const pool = await rt.workers(2, { workerUrl: ENTRY });
    try {
      const sources = Array.from({ length: 6 }, (_, k) => [...Array.from({ length: (5 - k) * 400 }, () => 'add %r1, 1'), `mov %r0, ${k + 10}`, 'exit'].join('\n'));
      const progs = await Promise.all(sources.map((src) => pool.load(assemble(src), { engine })));
      const packets = Array.from({ length: 8 }, () => new Uint8Array(1));
      for (const [k, prog] of progs.entries()) expect([...new Set(await prog.runBatch(packets))]).toEqual([k + 10]);
    } finally {
      await pool.close();
    }
  });

  it('tail calls and hot swap in workers: slots map to pool programs; counters continue across the swap', async () => {
    const rt = new Runtime({ shared: true, cpus: 3 });
    const jt = rt.createMap({ name: 'jt', type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 1 });
    const counts = rt.createMap({ name: 'counts', type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 }).typed('u32', 'u64');
    const version = (v: number): string => [
      'stw [%r10-4], 0', 'lddw map_idx %r1, 1', 'mov %r2, %r10', 'add %r2, -4', 'call 1',
      'jeq %r0, 0, +2', 'mov %r1, 1', 'lock add [%r0+0], %r1', `mov %r0, ${v}`, 'exit',
    ].join('\n');
    const dispatch = ['mov %r6, %r1', 'lddw map_idx %r2, 0', 'mov %r3, 0', 'call 12', 'mov %r0, 0', 'exit'].join('\n');
    const pool = await rt.workers(2, { workerUrl: ENTRY });
    try {
      const [d, v1, v2] = await Promise.all([dispatch, version(1), version(2)].map((src) => pool.load(relocateMaps(assemble(src), [jt, counts]), { engine })));
      const packets = Array.from({ length: 100 }, () => new Uint8Array(4));
      expect([...new Set(await d.runBatch(packets))]).toEqual([0]); // empty slot: falls through
      jt.set(0, 7); // slot id 7, whatever program it names in each thread
      await pool.setSlot(7, v1);
      expect([...new Set(await d.runBatch(packets))]).toEqual([1]);
      await pool.setSlot(7, v2);
      expect([...new Set(await d.runBatch(packets))]).toEqual([2]);
      expect(counts.get(0)).toBe(200n);
    } finally {
      await pool.close();
    }
  });
});
