/**
 * A worker using the maps through the JS API (loaded by workers-api.mjs): attaches to the runtime's maps
 * with attachMaps, counts through typed maps and per-CPU maps, and produces ring buffer records the main
 * thread consumes. Reports what it did.
 */

import { parentPort, workerData } from 'node:worker_threads';
import { attachMaps, type SharedMaps } from '../../runtime/maps/registry.js';
import { KeyValueMap, PerCpuMap, RingBuffer } from '../../runtime/maps/map.js';

const { shared, records, cpu: wanted, go } = workerData as { shared: SharedMaps; records: number; cpu?: number; go: SharedArrayBuffer };
const maps = attachMaps(shared, { cpu: wanted });
// Ready (go[1]), then wait for the start signal (go[0]) so that both workers produce at the same time.
const flags = new Int32Array(go);
Atomics.add(flags, 1, 1);
Atomics.wait(flags, 0, 0);
const counts = maps.expect('counts', KeyValueMap).typed('u32', 'u64');
const perCpu = maps.expect('per_cpu', PerCpuMap).typed('u32', 'u64');
const events = maps.expect('events', RingBuffer);

// Atomic increments through the live value address, as a program would.
const i64 = new BigInt64Array(shared.memory.buffer);
for (let i = 0; i < 1000; i++) Atomics.add(i64, counts.pointer(i % 4)! / 8, 1n);
// This CPU's slot of a per-CPU counter, through the program-facing lookup.
const key = maps.scratch(8);
new DataView(shared.memory.buffer).setUint32(key, 0, true);
const p = maps.exports.bpf_map_lookup_elem(perCpu.handle, BigInt(key));
if (p === 0n) throw new Error('per-CPU lookup failed');
new DataView(shared.memory.buffer).setBigUint64(Number(p), BigInt(maps.cpu) * 100n, true);
counts.set(100 + maps.cpu, BigInt(maps.cpu));

// Records for the main thread's consumer, a few milliseconds apart so that it has to wait for them.
const s = maps.scratch(16);
for (let i = 0; i < records; i++) {
  new DataView(shared.memory.buffer).setUint32(s, maps.cpu * 1000 + i, true);
  const r = maps.exports.bpf_ringbuf_output(events.handle, BigInt(s), 4n, 0n);
  if (r !== 0n) throw new Error(`ringbuf_output gave ${r}`);
  await new Promise((resolve) => setTimeout(resolve, 3));
}
const cpu = maps.cpu;
maps.detach();
parentPort!.postMessage({ cpu });
