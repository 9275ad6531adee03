// A worker for workers.test.ts: attaches its own instance of the map module to the runtime's shared memory
// (as the CPU the test names) and hammers one hash map through the raw exports, as compiled programs would:
//
// - counters: bpf_map_lookup_elem, then Atomics.add on the value bytes (the test knows every increment);
// - owned keys (a range no other thread touches): insert with BPF_NOEXIST, read back through sys_lookup,
//   delete, each result checked against what this worker knows the state to be;
// - contended keys (every thread writes them, in a second map of 64-byte values): bpf_map_update_elem with
//   BPF_ANY of values whose 16 words are x, x+1, ..., and sys_lookup copies that must never mix two writes.
//
// Plain JavaScript on purpose: a worker cannot load the TypeScript sources without a loader. It reports
// {ok, errors, counts, owned} and exits.
import { parentPort, workerData } from 'node:worker_threads';

const { shared, cpu, mapId, wideId, mode, counters, ownedBase, owned, contended, keys, iterations, seed, go } = workerData;
const instance = new WebAssembly.Instance(shared.module, { env: { memory: shared.memory } });
const ex = instance.exports;
const errors = [];
const fail = (msg) => {
  if (errors.length < 20) errors.push(`cpu ${cpu}: ${msg}`);
};

const attached = ex.maps_attach(shared.base, cpu);
if (attached !== cpu) fail(`maps_attach gave ${attached}`);
const handle = ex.map_handle(mapId);
const wide = wideId ? ex.map_handle(wideId) : 0n;
const scratch = ex.maps_alloc(256);
const mem = () => new DataView(shared.memory.buffer);
const i32 = new Int32Array(shared.memory.buffer);
const i64 = new BigInt64Array(shared.memory.buffer);
const KEY = scratch;
const VAL = scratch + 8;
const OUT = scratch + 128;

// xorshift32: the test replays the same sequence to know which counters this worker incremented.
let state = seed >>> 0 || 1;
const rand = () => {
  state ^= state << 13;
  state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5;
  state >>>= 0;
  return state;
};

const counts = new Array(counters ?? 0).fill(0);
const present = new Map(); // owned key -> value last written
// go[0]: the start signal; go[1]: workers ready (attached); go[2]: workers started.
const goFlag = new Int32Array(go);
Atomics.add(goFlag, 1, 1);
Atomics.wait(goFlag, 0, 0);
Atomics.add(goFlag, 2, 1);
const t0 = Date.now();

// The value every thread writes for key k in 'lru' mode (workers.test.ts computes the same).
const lruValue = (k) => (BigInt(k) << 32n) | BigInt(Math.imul(k, 0x9e3779b1) >>> 0);

for (let i = 0; mode === 'lru' && i < iterations; i++) {
  // LRU churn: inserts that evict, lookups that must find the right value or nothing, deletes.
  const k = rand() % keys;
  mem().setUint32(KEY, k, true);
  const op = i % 3;
  if (op === 0) {
    mem().setBigUint64(VAL, lruValue(k), true);
    const rr = ex.bpf_map_update_elem(handle, BigInt(KEY), BigInt(VAL), 0n);
    if (rr !== 0n) fail(`lru ${k}: update gave ${rr}`);
  } else if (op === 1) {
    const p = ex.bpf_map_lookup_elem(handle, BigInt(KEY));
    const rr = ex.sys_lookup(mapId, KEY, OUT);
    if (rr === 0 && mem().getBigUint64(OUT, true) !== lruValue(k)) fail(`lru ${k}: holds ${mem().getBigUint64(OUT, true)}`);
    if (rr !== 0 && rr !== -2) fail(`lru ${k}: lookup gave ${rr}`);
    void p;
  } else {
    const rr = ex.bpf_map_delete_elem(handle, BigInt(KEY));
    if (rr !== 0n && rr !== -2n) fail(`lru ${k}: delete gave ${rr}`);
  }
}

for (let i = 0; mode !== 'lru' && i < iterations; i++) {
  const r = rand();
  const op = r % 8;
  if (op < 4) {
    // Atomic increment of a counter through the looked-up value pointer.
    const k = (r >>> 8) % counters;
    mem().setUint32(KEY, k, true);
    const p = ex.bpf_map_lookup_elem(handle, BigInt(KEY));
    if (p === 0n) {
      fail(`counter ${k} missing`);
      continue;
    }
    if (Number(p) % 8 !== 0) fail(`value pointer ${p} misaligned`);
    Atomics.add(i64, Number(p) / 8, 1n);
    counts[k]++;
  } else if (op < 7) {
    // Owned keys: insert or delete, checking the answer.
    const k = ownedBase + ((r >>> 8) % owned);
    mem().setUint32(KEY, k, true);
    if (present.has(k)) {
      if (op === 4) {
        // Read back: the value must be the one this worker wrote.
        const rr = ex.sys_lookup(mapId, KEY, OUT);
        const got = mem().getBigUint64(OUT, true);
        if (rr !== 0 || got !== present.get(k)) fail(`owned ${k}: lookup ${rr} gave ${got}, wrote ${present.get(k)}`);
      } else {
        const rr = ex.bpf_map_delete_elem(handle, BigInt(KEY));
        if (rr !== 0n) fail(`owned ${k}: delete gave ${rr}`);
        present.delete(k);
      }
    } else {
      const v = (BigInt(k) << 32n) | BigInt(i);
      mem().setBigUint64(VAL, v, true);
      const rr = ex.bpf_map_update_elem(handle, BigInt(KEY), BigInt(VAL), 1n /* BPF_NOEXIST */);
      if (rr !== 0n) fail(`owned ${k}: insert gave ${rr}`);
      else present.set(k, v);
      const again = ex.bpf_map_update_elem(handle, BigInt(KEY), BigInt(VAL), 1n);
      if (again !== -17n) fail(`owned ${k}: second insert gave ${again}, not -EEXIST`);
    }
  } else {
    // Contended keys: whole-value writes, and copies that must see one write, never a mix.
    const k = (r >>> 8) % contended;
    mem().setUint32(KEY, k, true);
    if (r & 0x80) {
      const x = rand();
      for (let j = 0; j < 16; j++) mem().setUint32(VAL + 4 * j, (x + j) >>> 0, true);
      const rr = ex.bpf_map_update_elem(wide, BigInt(KEY), BigInt(VAL), 0n);
      if (rr !== 0n) fail(`contended ${k}: update gave ${rr}`);
    } else {
      const rr = ex.sys_lookup(wideId, KEY, OUT);
      const a = mem().getUint32(OUT, true);
      for (let j = 1; j < 16; j++) {
        const b = mem().getUint32(OUT + 4 * j, true);
        if (rr !== 0 || b !== ((a + j) >>> 0)) {
          fail(`contended ${k}: lookup ${rr} gave a torn value (word 0 ${a.toString(16)}, word ${j} ${b.toString(16)})`);
          break;
        }
      }
    }
  }
}
void i32;

ex.maps_detach();
parentPort.postMessage({ t0, t1: Date.now(), errors, counts, owned: [...present.entries()].map(([k, v]) => [k, v.toString()]) });
