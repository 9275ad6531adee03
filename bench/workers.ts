/**
 * Throughput of a worker pool (runtime/workers/pool.ts) with 1 and 2 workers against the main thread's own
 * `runBatch`, on each engine, and the scaling from 1 to 2 workers. Run after a build:
 * `node dist/bench/workers.js [packets] [rounds]`.
 *
 * Two programs: `filter`, a typical filter that parses an Ethernet/IPv4 header, counts the packet per source
 * address in a shared hash map (atomic add through the looked-up value) and its bytes per CPU in a per-CPU
 * array, and returns a verdict (two map lookups a packet: on the JIT, calls into the map module's WebAssembly);
 * and `compute`, 200 iterations of arithmetic over the first byte, no helper (what scales when nothing is
 * shared). Each measurement runs `rounds` batches of `packets` 64-byte packets after a warm-up of 500 ms and prints
 * packets per second; the pool's figure includes splitting the batch, the messages, and the copies. On a 2-core
 * machine the main thread only waits while the workers run, so 2 workers can use both cores.
 *
 * Not here: the pool itself (runtime/workers/pool.ts).
 */

import { loadavg } from 'node:os';
import { assemble } from '../src/isa/asm.js';
import { ENGINES } from '../runtime/engines.js';
import { relocateMaps } from '../runtime/maps/relocate.js';
import { Runtime } from '../runtime/runtime.js';

const PACKETS = Number(process.argv[2] ?? 1 << 16);
const ROUNDS = Number(process.argv[3] ?? 20);

const FILTER = [
  'mov %r6, %r1', 'mov %r7, %r2',
  'jlt %r7, 34, +30', // too short: drop (r0 = 1)
  'ldxh %r3, [%r6+12]', 'jne %r3, 8, +28', // not IPv4 (0x0800 big-endian read little-endian)
  'ldxw %r8, [%r6+26]', // source address
  // A little arithmetic: a hash of it into 256 keys (the address is big-endian, read little-endian: its low
  // byte is the top one here).
  'mov %r9, %r8', 'rsh %r9, 24', 'xor %r9, %r8', 'and %r9, 255',
  'stxw [%r10-4], %r9',
  'lddw map_idx %r1, 0', 'mov %r2, %r10', 'add %r2, -4', 'call 1',
  'jeq %r0, 0, +2', 'mov %r1, 1', 'lock add [%r0+0], %r1',
  'stw [%r10-8], 0', 'lddw map_idx %r1, 1', 'mov %r2, %r10', 'add %r2, -8', 'call 1',
  'jeq %r0, 0, +3', 'ldxdw %r1, [%r0+0]', 'add %r1, %r7', 'stxdw [%r0+0], %r1',
  'mov %r0, %r9', 'and %r0, 1', 'add %r0, 2', 'exit',
  'mov %r0, 1', 'exit',
].join('\n');

const COMPUTE = ['mov %r0, 0', 'mov %r3, 0', 'ldxb %r4, [%r1+0]', 'add %r0, %r4', 'mul %r0, 3', 'add %r3, 1', 'jlt %r3, 200, -4', 'exit'].join('\n');

function packets(n: number): { data: Uint8Array; offsets: Uint32Array } {
  const data = new Uint8Array(64 * n);
  const offsets = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) {
    const p = data.subarray(64 * i, 64 * i + 64);
    p[12] = 8; // EtherType 0x0800
    p[14] = 0x45;
    new DataView(p.buffer, p.byteOffset).setUint32(26, 0x0a000000 + (i % 1000), false);
    offsets[i + 1] = 64 * (i + 1);
  }
  return { data, offsets };
}

/** Runs `f` for at least 500 ms (and 3 times), so the code measured next is V8's optimized tier. */
async function warm(f: () => unknown): Promise<void> {
  const t0 = performance.now();
  for (let i = 0; i < 3 || performance.now() - t0 < 500; i++) await f();
}

async function main(): Promise<void> {
  const batch = packets(PACKETS);
  console.log(`worker pool: ${PACKETS} packets of 64 bytes a batch, ${ROUNDS} batches a measurement; load average ${loadavg()[0].toFixed(1)}`);
  for (const [name, src] of [['filter', FILTER], ['compute', COMPUTE]] as const) for (const engine of ENGINES) {
    const rt = new Runtime({ shared: true, cpus: 3 });
    const counts = rt.createMap({ name: 'counts', type: 'hash', keySize: 4, valueSize: 8, maxEntries: 256 }).typed('u32', 'u64');
    const bytes = rt.createMap({ name: 'bytes', type: 'percpu_array', keySize: 4, valueSize: 8, maxEntries: 1 });
    for (let k = 0; k < 256; k++) counts.set(k, 0n);
    const program = relocateMaps(assemble(src), [counts, bytes]);
    const local = await rt.load(program, { engine });
    await warm(() => local.runBatch(batch));
    let t = performance.now();
    for (let r = 0; r < ROUNDS; r++) local.runBatch(batch);
    const base = (PACKETS * ROUNDS) / ((performance.now() - t) / 1000);
    console.log(`${name.padEnd(8)} ${engine.padEnd(6)} main thread      ${(base / 1e6).toFixed(2)} Mpps`);
    const perWorkers: number[] = [];
    for (const n of [1, 2]) {
      const pool = await rt.workers(n);
      const prog = await pool.load(program, { engine });
      await warm(() => prog.runBatch(batch));
      t = performance.now();
      for (let r = 0; r < ROUNDS; r++) await prog.runBatch(batch);
      const pps = (PACKETS * ROUNDS) / ((performance.now() - t) / 1000);
      perWorkers.push(pps);
      const scaling = n === 2 ? `, ${(pps / perWorkers[0]).toFixed(2)}x 1 worker` : '';
      console.log(`${name.padEnd(8)} ${engine.padEnd(6)} ${n} worker${n > 1 ? 's' : ' '}        ${(pps / 1e6).toFixed(2)} Mpps  (${(pps / base).toFixed(2)}x the main thread${scaling})`);
      await pool.close();
    }
  }
}

await main();
