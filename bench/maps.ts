/**
 * The map benchmarks (the runtime issue's "Done when"), printed with the ratios measured in the same run (or,
 * with `--json`, as a JSON document):
 *
 *     node dist/bench/maps.js [--json] [--quick]
 *
 * 1. Hash lookups from eBPF vs C -O2. programs/hash_lookup.s (u32 keys: IPv4 sources against a blocklist) and
 *    programs/hash_lookup16.s (16-byte keys) look up {@link LOOKUPS} keys, half present and half absent, in a
 *    BPF_MAP_TYPE_HASH filled from JS with {@link ENTRIES} entries, and sum the u64 values found. Timed on the JIT
 *    and the interpreter through the packet path (`runPacket`: the keys copied in, one run), ns per lookup. The
 *    native twin (native/maps_hash.c) runs the same lookups on the same map contents with our own map module
 *    (runtime/maps/c) compiled natively with `cc -O2` (native/maps_module.c, shims in native/maps_shim.h), also
 *    copying the keys in per run; both maps use BPF_F_ZERO_SEED, so they hash and chain alike. Goal: JIT / native
 *    at most {@link GOAL_NATIVE_RATIO}x. For context: the same lookups from JS (`map.get`, `map.pointer`, and the
 *    module's `bpf_map_lookup_elem` export called directly). And the same program on an ARRAY map, whose lookups
 *    the JIT inlines.
 * 2. JS API operations per second: hash (u32 key / u64 value with the typed codecs and with raw bytes; 16-byte
 *    keys), array, LPM trie, iteration over 10,000 entries, and ring buffer `poll()` of records written by
 *    programs/ringbuf_fill.s.
 *
 * 3. Tail calls: a chain of {@link CHAIN} programs (each tail-calls the next through a PROG_ARRAY, the last
 *    returns) against its first program alone (its tail call falling through on an empty slot), on a 64-byte
 *    packet through the packet path (`runPacket`, which drives the chain itself) and through the general path
 *    (`run`); the difference over the {@link CHAIN} - 1 hops is the cost of one tail call.
 *
 * Every workload's result is checked against a JavaScript computation before it is timed. Timing method:
 * harness.ts (warm-up, interleaved batches, medians). Another script can run it in-process
 * ({@link runMapBenchmarks}, {@link formatMapBenchmarks}) or, better (fresh V8 feedback at the map API's call
 * sites), as a child process with `--json`.
 *
 * Not here: the timing loop (harness.ts), the compute benchmarks (run.ts), worker scaling.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BPF_F } from '../src/elf/maps.js';
import { assemble } from '../src/isa/asm.js';
import { ENGINES, type EngineName } from '../runtime/engines.js';
import type { AnyMap, KeyValueMap, RingBuffer } from '../runtime/maps/map.js';
import { relocateMaps } from '../runtime/maps/relocate.js';
import { Runtime, type LoadedProgram } from '../runtime/runtime.js';
import { timeInterleaved, type BenchOptions, type EngineTiming, type Runner } from './harness.js';
import { nativeToolchain, type Toolchain } from './native.js';
import { benchDir, programSource } from './programs.js';
import { xorshift32 } from '../src/util/xorshift.js';

/** The goal: JIT ns per lookup / native ns per lookup, at most. */
export const GOAL_NATIVE_RATIO = 2;
/** Entries in the looked-up hash map, and its max_entries. */
export const ENTRIES = 10_000;
export const MAX_ENTRIES = 16_384;
/** Lookups per run of the lookup programs. */
export const LOOKUPS = 4096;
/** Records per ring buffer fill. */
export const RING_RECORDS = 2048;

// ---------------------------------------------------------------------------------------------------------
// Workloads (exported for test/bench/maps-bench.test.ts)

/** The hash-lookup workload of one key size. */
export interface LookupWorkload {
  readonly keySize: 4 | 16;
  /** The program: bench/programs/NAME.s. */
  readonly program: 'hash_lookup' | 'hash_lookup16';
  /** The map's contents. */
  readonly entries: readonly { readonly key: Uint8Array; readonly value: bigint }[];
  /** The keys one run looks up, back to back (the program's input): even ones present, odd ones absent. */
  readonly lookups: Uint8Array;
  /** The sum, mod 2^64, of the values of the keys looked up that are present (computed here, in JS). */
  readonly expected: bigint;
}

/** Builds the workload: `entries` distinct random keys with random u64 values, and `lookups` keys to look up. */
export function lookupWorkload(keySize: 4 | 16, entries = ENTRIES, lookups = LOOKUPS, seed = 0x5eed_1234): LookupWorkload {
  const next = xorshift32(seed + keySize);
  const seen = new Set<string>();
  const freshKey = (): Uint8Array => {
    for (;;) {
      const k = new Uint8Array(keySize);
      const v = new DataView(k.buffer);
      for (let i = 0; i < keySize; i += 4) v.setUint32(i, next(), true);
      const id = Buffer.from(k).toString('hex');
      if (!seen.has(id)) {
        seen.add(id);
        return k;
      }
    }
  };
  const list = Array.from({ length: entries }, () => ({ key: freshKey(), value: (BigInt(next()) << 32n) | BigInt(next()) }));
  const byKey = new Map(list.map((e) => [Buffer.from(e.key).toString('hex'), e.value]));
  const keys = new Uint8Array(lookups * keySize);
  let expected = 0n;
  for (let i = 0; i < lookups; i++) {
    const k = i % 2 === 0 ? list[next() % entries].key : freshKey();
    keys.set(k, i * keySize);
    expected += byKey.get(Buffer.from(k).toString('hex')) ?? 0n;
  }
  return { keySize, program: keySize === 4 ? 'hash_lookup' : 'hash_lookup16', entries: list, lookups: keys, expected: BigInt.asUintN(64, expected) };
}

/** The workload's BPF_MAP_TYPE_HASH in `rt`, filled (raw bytes; zero seed, as the native twin's). */
export function createLookupMap(rt: Runtime, w: LookupWorkload): KeyValueMap<Buffer, Buffer> {
  const map = rt.createMap({ name: `lookup${w.keySize}`, type: 'hash', keySize: w.keySize, valueSize: 8, maxEntries: MAX_ENTRIES, flags: BPF_F.ZERO_SEED });
  for (const e of w.entries) map.set(e.key, e.value);
  return map;
}

/** Assembles bench/programs/NAME.s and loads it on `engine` with `maps` as its map_idx 0, 1, ... */
export async function loadMapProgram(rt: Runtime, name: string, engine: EngineName, maps: readonly AnyMap[]): Promise<LoadedProgram> {
  // Trusted programs that end: no budget counting (LoadOptions.budget), as in the native twin.
  return rt.load(assemble(programSource(name)), { engine, maps, budget: 'none' });
}

/** The ring buffer the fill program writes to. */
export function createRing(rt: Runtime): RingBuffer {
  return rt.createMap({ name: 'records', type: 'ringbuf', maxEntries: 256 * 1024 });
}

/** Input of programs/ringbuf_fill.s: the record count as a u32. */
export function ringFillInput(records: number): Uint8Array {
  const input = new Uint8Array(4);
  new DataView(input.buffer).setUint32(0, records, true);
  return input;
}

/** The records programs/ringbuf_fill.s writes: `{u64 i, u64 3i}` for i < n. */
export function expectedRecords(n: number): Buffer[] {
  return Array.from({ length: n }, (_, i) => {
    const b = Buffer.alloc(16);
    b.writeBigUInt64LE(BigInt(i), 0);
    b.writeBigUInt64LE(BigInt(i) * 3n, 8);
    return b;
  });
}

// ---------------------------------------------------------------------------------------------------------
// The native twin

/** The native twin's input file (format in native/maps_hash.c). */
export function nativeInput(w: LookupWorkload): Uint8Array {
  const ks = w.keySize;
  const n = w.lookups.length / ks;
  const out = new Uint8Array(16 + w.entries.length * (ks + 8) + w.lookups.length);
  const dv = new DataView(out.buffer);
  [ks, MAX_ENTRIES, w.entries.length, n].forEach((x, i) => dv.setUint32(4 * i, x, true));
  w.entries.forEach((e, i) => {
    const at = 16 + i * (ks + 8);
    out.set(e.key, at);
    dv.setBigUint64(at + ks, e.value, true);
  });
  out.set(w.lookups, 16 + w.entries.length * (ks + 8));
  return out;
}

let nativeExe: string | undefined;

/** Compiles native/maps_hash.c + native/maps_module.c with `cc -O2` (once per process); the executable's path. */
export function buildNative(toolchain: Toolchain & { ok: true }): string {
  if (nativeExe !== undefined) return nativeExe;
  const dir = join(benchDir(), 'native');
  const exe = join(mkdtempSync(join(tmpdir(), 'ebpf-wasm-maps-bench-')), 'maps_hash');
  const build = spawnSync(toolchain.cc, ['-O2', '-o', exe, join(dir, 'maps_hash.c'), join(dir, 'maps_module.c')], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`cc failed for native/maps_hash.c:\n${build.stderr}`);
  return (nativeExe = exe);
}

/** Runs the native twin on `w`: its sum, and (unless `once`) its median and fastest ns per run and timed runs. */
export function runNativeLookups(exe: string, w: LookupWorkload, once = false): { sum: bigint; nsPerRun: number; minNsPerRun: number; runs: number } {
  const file = `${exe}.${w.keySize}.input`;
  writeFileSync(file, nativeInput(w));
  const out = spawnSync(exe, once ? [file, '--once'] : [file], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`native maps_hash failed: ${out.stderr}`);
  const [sum, ns, runs, best] = out.stdout.trim().split(/\s+/);
  return { sum: BigInt(sum), nsPerRun: Number(ns ?? NaN), minNsPerRun: Number(best ?? NaN), runs: Number(runs ?? 0) };
}

// ---------------------------------------------------------------------------------------------------------
// 1. Lookups

/** What section 1 measured for one key size, ns per lookup. */
export interface LookupRow {
  readonly keySize: number;
  readonly program: string;
  readonly engines: Record<string, EngineTiming>;
  /** From JS: map.get, map.pointer, the export itself. */
  readonly js: Record<string, EngineTiming>;
  readonly native: { nsPerLookup: number; minNsPerLookup: number; runs: number } | undefined;
}

/** Loads the lookup program on every engine and checks each sum (full r0 and the packet path's low half). */
async function checkedLookupPrograms(rt: Runtime, w: LookupWorkload, map: KeyValueMap<Buffer, Buffer>): Promise<LoadedProgram[]> {
  const loaded = await Promise.all(ENGINES.map((e) => loadMapProgram(rt, w.program, e, [map])));
  const low = Number(w.expected & 0xffff_ffffn);
  for (const lp of loaded) {
    const r0 = lp.run(w.lookups, { collectMem: false }).r0;
    if (r0 !== w.expected) throw new Error(`${w.program} on ${lp.engine}: sum ${r0}, JS computes ${w.expected}`);
    if (lp.runPacket(w.lookups) !== low) throw new Error(`${w.program} on ${lp.engine}: runPacket disagrees with run`);
  }
  return loaded;
}

/** The lookups of `w` from JS, each runner doing them all (per = their number), checked against the sum. */
function jsLookupRunners(rt: Runtime, w: LookupWorkload, map: KeyValueMap<Buffer, Buffer>): Runner[] {
  const ks = w.keySize;
  const n = w.lookups.length / ks;
  const keys = Array.from({ length: n }, (_, i) => w.lookups.slice(i * ks, (i + 1) * ks));
  const view = () => new DataView(rt.memory.buffer);
  const viaGet = (): bigint => {
    let s = 0n;
    for (const k of keys) {
      const v = map.get(k);
      if (v !== undefined) s += v.readBigUInt64LE(0);
    }
    return BigInt.asUintN(64, s);
  };
  const viaPointer = (): bigint => {
    let s = 0n;
    const dv = view();
    for (const k of keys) {
      const p = map.pointer(k);
      if (p !== undefined) s += dv.getBigUint64(p, true);
    }
    return BigInt.asUintN(64, s);
  };
  // The export called as the JIT's import does: the keys already in linear memory.
  const at = rt.alloc(w.lookups.length);
  new Uint8Array(rt.memory.buffer, at, w.lookups.length).set(w.lookups);
  const ptrs = keys.map((_, i) => BigInt(at + i * ks));
  const lookup = rt.maps.exports.bpf_map_lookup_elem;
  const viaExport = (): bigint => {
    let s = 0n;
    const dv = view();
    for (const p of ptrs) {
      const v = lookup(map.handle, p);
      if (v !== 0n) s += dv.getBigUint64(Number(v), true);
    }
    return BigInt.asUintN(64, s);
  };
  const runners: Runner[] = [
    { name: 'map.get', run: viaGet, per: n },
    { name: 'map.pointer', run: viaPointer, per: n },
    { name: 'export from JS', run: viaExport, per: n },
  ];
  for (const r of runners) if (r.run() !== w.expected) throw new Error(`${r.name} (${ks}-byte keys): wrong sum`);
  return runners;
}

async function lookupRow(keySize: 4 | 16, options: BenchOptions, exe: string | undefined): Promise<LookupRow> {
  const w = lookupWorkload(keySize);
  const rt = new Runtime();
  const map = createLookupMap(rt, w);
  const loaded = await checkedLookupPrograms(rt, w, map);
  const n = w.lookups.length / keySize;
  const engines = timeInterleaved(loaded.map((lp): Runner => ({ name: lp.engine, run: () => lp.runPacket(w.lookups), per: n })), options);
  const js = timeInterleaved(jsLookupRunners(rt, w, map), options);
  let native: LookupRow['native'];
  if (exe !== undefined) {
    const r = runNativeLookups(exe, w);
    if (r.sum !== w.expected) throw new Error(`native maps_hash (${keySize}-byte keys): sum ${r.sum}, JS computes ${w.expected}`);
    native = { nsPerLookup: r.nsPerRun / n, minNsPerLookup: r.minNsPerRun / n, runs: r.runs * n };
  }
  return { keySize, program: w.program, engines, js, native };
}

/** Array lookups: ns per lookup on each engine (the JIT inlines them: codegen/lower-call.ts, `lowerArrayLookup`). */
export interface ArrayRow {
  readonly engines: Record<string, EngineTiming>;
}

/**
 * The u32-key lookup program (hash_lookup.s) on a BPF_MAP_TYPE_ARRAY of {@link ENTRIES} u64 values instead of a
 * hash: {@link LOOKUPS} indexes, half in range. The program loads the map's handle before each call, so the JIT
 * inlines every lookup (a bounds check and an address); the sum is checked against JS first.
 */
async function arrayRow(options: BenchOptions): Promise<ArrayRow> {
  const rt = new Runtime();
  const arr = rt.createMap({ name: 'array', type: 'array', keySize: 4, valueSize: 8, maxEntries: ENTRIES }).typed('u32', 'u64');
  for (let i = 0; i < ENTRIES; i++) arr.set(i, BigInt(i) * 3n);
  const next = xorshift32(0xa11a7);
  const keys = new Uint32Array(LOOKUPS).map((_, i) => (i % 2 === 0 ? next() % ENTRIES : ENTRIES + (next() % ENTRIES)));
  const input = new Uint8Array(keys.buffer);
  let expected = 0n;
  for (const k of keys) if (k < ENTRIES) expected += BigInt(k) * 3n;
  const loaded = await Promise.all(ENGINES.map((e) => loadMapProgram(rt, 'hash_lookup', e, [arr])));
  for (const lp of loaded) {
    const got = lp.run(input).r0;
    if (got !== expected) throw new Error(`array lookups on ${lp.engine}: sum ${got}, JS computes ${expected}`);
  }
  return { engines: timeInterleaved(loaded.map((lp): Runner => ({ name: lp.engine, run: () => lp.runPacket(input), per: LOOKUPS })), options) };
}

// ---------------------------------------------------------------------------------------------------------
// 3. Tail calls

/** Programs in the timed chain. */
export const CHAIN = 4;

/** One engine's tail-call figures, ns per packet. */
export interface TailCallRow {
  readonly engine: EngineName;
  /** runPacket of the first program alone (its tail call falls through), and of the whole chain. */
  readonly packetOne: EngineTiming;
  readonly packetChain: EngineTiming;
  /** The same through `LoadedProgram.run`. */
  readonly generalOne: EngineTiming;
  readonly generalChain: EngineTiming;
}

/**
 * The chain of {@link CHAIN} programs on `rt` (program i tail-calls jt[i + 1]; the last returns CHAIN) and the
 * first program alone (the same code on a slot left empty, returning 0 when the call falls through).
 */
export async function tailChain(rt: Runtime, engine: EngineName): Promise<{ chain: LoadedProgram; alone: LoadedProgram }> {
  const jt = rt.createMap({ name: 'jt', type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: CHAIN + 1 });
  const caller = (next: number): string => ['mov %r6, %r1', 'lddw map_idx %r2, 0', `mov %r3, ${next}`, 'call 12', 'mov %r0, 0', 'exit'].join('\n');
  const load = (src: string): Promise<LoadedProgram> => rt.load(relocateMaps(assemble(src), [jt]), { engine });
  const programs: LoadedProgram[] = [];
  for (let i = 0; i < CHAIN - 1; i++) programs.push(await load(caller(i + 1)));
  programs.push(await load(`mov %r0, ${CHAIN}\nexit`));
  programs.forEach((p, i) => rt.setProgram(jt, i, p));
  return { chain: programs[0], alone: await load(caller(CHAIN)) };
}

async function tailCallRows(options: BenchOptions): Promise<TailCallRow[]> {
  const packet = new Uint8Array(64);
  const rows: TailCallRow[] = [];
  for (const engine of ENGINES) {
    const { chain, alone } = await tailChain(new Runtime(), engine);
    if (chain.runPacket(packet) !== CHAIN || chain.run(packet).r0 !== BigInt(CHAIN) || alone.runPacket(packet) !== 0) throw new Error(`tail-call chain on ${engine}: wrong result`);
    const t = timeInterleaved([
      { name: 'packetOne', run: () => alone.runPacket(packet) },
      { name: 'packetChain', run: () => chain.runPacket(packet) },
      { name: 'generalOne', run: () => alone.run(packet, { collectMem: false }) },
      { name: 'generalChain', run: () => chain.run(packet, { collectMem: false }) },
    ], options);
    rows.push({ engine, packetOne: t.packetOne, packetChain: t.packetChain, generalOne: t.generalOne, generalChain: t.generalChain });
  }
  return rows;
}

function tailCallTable(rows: readonly TailCallRow[]): string {
  const hop = (one: EngineTiming, chain: EngineTiming): string => fmt((chain.nsPerRun - one.nsPerRun) / (CHAIN - 1), 1);
  return table(
    ['engine', 'runPacket alone', `chain of ${CHAIN}`, 'a hop', 'run alone', `chain of ${CHAIN}`, 'a hop'],
    rows.map((r) => [
      r.engine, fmt(r.packetOne.nsPerRun, 1), fmt(r.packetChain.nsPerRun, 1), hop(r.packetOne, r.packetChain),
      fmt(r.generalOne.nsPerRun, 1), fmt(r.generalChain.nsPerRun, 1), hop(r.generalOne, r.generalChain),
    ]),
  );
}

// ---------------------------------------------------------------------------------------------------------
// 2. JS API operations

/** One timed JS API operation, ns per operation. */
export interface ApiRow {
  readonly group: string;
  readonly op: string;
  readonly timing: EngineTiming;
}

/** Ops per call of a runner: enough that the timing loop's own cost is small. */
const OPS = 1000;

/** `n` u32 keys of the filled map (present) and `n` absent ones, from a fixed stream. */
function u32Keys(present: readonly number[], n: number, seed: number): { hits: number[]; misses: number[] } {
  const next = xorshift32(seed);
  const set = new Set(present);
  const misses: number[] = [];
  while (misses.length < n) {
    const k = next();
    if (!set.has(k)) misses.push(k);
  }
  return { hits: Array.from({ length: n }, () => present[next() % present.length]), misses };
}

const u32Bytes = (k: number): Uint8Array => new Uint8Array(new Uint32Array([k]).buffer);

/** Runs `op` on each element of `items` (one runner call); `sink` keeps the results alive. */
let sink = 0;
function each<T>(items: readonly T[], op: (x: T) => unknown): () => void {
  return () => {
    for (const x of items) if (op(x) !== undefined) sink++;
  };
}

/** Hash with u32 keys and u64 values: typed codecs and raw bytes. */
function hashU32Runners(rt: Runtime): Runner[] {
  const raw = rt.createMap({ name: 'h32', type: 'hash', keySize: 4, valueSize: 8, maxEntries: MAX_ENTRIES });
  const typed = raw.typed('u32', 'u64');
  const next = xorshift32(0xabc);
  const present: number[] = [];
  while (present.length < ENTRIES) {
    const k = next();
    if (typed.get(k) === undefined) {
      typed.set(k, BigInt(k) * 3n);
      present.push(k);
    }
  }
  const { hits, misses } = u32Keys(present, OPS, 0xdef);
  if (typed.get(hits[0]) !== BigInt(hits[0]) * 3n || typed.has(misses[0])) throw new Error('hash u32: wrong contents');
  const rawHits = hits.map(u32Bytes);
  const value = new Uint8Array(8).fill(7);
  return [
    { name: 'hash u32/u64 typed|get (hit)', run: each(hits, (k) => typed.get(k)), per: OPS },
    { name: 'hash u32/u64 typed|get (miss)', run: each(misses, (k) => typed.get(k)), per: OPS },
    { name: 'hash u32/u64 typed|has (hit)', run: each(hits, (k) => typed.has(k)), per: OPS },
    { name: 'hash u32/u64 typed|set (existing key)', run: each(hits, (k) => typed.set(k, 5n)), per: OPS },
    { name: 'hash u32/u64 typed|delete + set (re-insert)', run: each(hits, (k) => typed.delete(k) && typed.set(k, 5n)), per: OPS },
    { name: 'hash u32/u64 raw|get (hit): Uint8Array key, Buffer value', run: each(rawHits, (k) => raw.get(k)), per: OPS },
    { name: 'hash u32/u64 raw|has (hit)', run: each(rawHits, (k) => raw.has(k)), per: OPS },
    { name: 'hash u32/u64 raw|set (existing key): Uint8Array value', run: each(rawHits, (k) => raw.set(k, value)), per: OPS },
    { name: 'hash u32/u64 raw|delete + set (re-insert)', run: each(rawHits, (k) => raw.delete(k) && raw.set(k, value)), per: OPS },
  ];
}

/** Hash with 16-byte keys (raw bytes: no built-in 16-byte codec). */
function hash16Runners(rt: Runtime): Runner[] {
  const w = lookupWorkload(16, ENTRIES, 2 * OPS, 0x1616);
  const map = rt.createMap({ name: 'h16', type: 'hash', keySize: 16, valueSize: 8, maxEntries: MAX_ENTRIES });
  for (const e of w.entries) map.set(e.key, e.value);
  const all = Array.from({ length: 2 * OPS }, (_, i) => w.lookups.slice(16 * i, 16 * i + 16));
  const hits = all.filter((_, i) => i % 2 === 0);
  const misses = all.filter((_, i) => i % 2 === 1);
  if (map.get(hits[0]) === undefined || map.has(misses[0])) throw new Error('hash 16: wrong contents');
  const value = new Uint8Array(8).fill(9);
  return [
    { name: 'hash 16-byte key|get (hit)', run: each(hits, (k) => map.get(k)), per: OPS },
    { name: 'hash 16-byte key|get (miss)', run: each(misses, (k) => map.get(k)), per: OPS },
    { name: 'hash 16-byte key|has (hit)', run: each(hits, (k) => map.has(k)), per: OPS },
    { name: 'hash 16-byte key|set (existing key)', run: each(hits, (k) => map.set(k, value)), per: OPS },
    { name: 'hash 16-byte key|delete + set (re-insert)', run: each(hits, (k) => map.delete(k) && map.set(k, value)), per: OPS },
  ];
}

/** Array of 10,000 u64 values: u32 index keys (the default), typed u64 values and raw bytes. */
function arrayRunners(rt: Runtime): Runner[] {
  const raw = rt.createMap({ name: 'arr', type: 'array', keySize: 4, valueSize: 8, maxEntries: ENTRIES });
  const typed = raw.typed('u32', 'u64');
  const next = xorshift32(0xa77);
  const idx = Array.from({ length: OPS }, () => next() % ENTRIES);
  typed.set(idx[0], 42n);
  if (typed.get(idx[0]) !== 42n || raw.get(idx[0])?.readBigUInt64LE(0) !== 42n) throw new Error('array: wrong contents');
  const value = new Uint8Array(8).fill(3);
  return [
    { name: 'array u32/u64 typed|get', run: each(idx, (i) => typed.get(i)), per: OPS },
    { name: 'array u32/u64 typed|set', run: each(idx, (i) => typed.set(i, 11n)), per: OPS },
    { name: 'array u32/u64 raw|get: number key, Buffer value', run: each(idx, (i) => raw.get(i)), per: OPS },
    { name: 'array u32/u64 raw|set: Uint8Array value', run: each(idx, (i) => raw.set(i, value)), per: OPS },
  ];
}

/** LPM trie of 1,000 IPv4 prefixes (/8 to /32), longest-prefix lookups of addresses. */
function lpmRunners(rt: Runtime): Runner[] {
  const raw = rt.createMap({ name: 'lpm', type: 'lpm_trie', keySize: 8, valueSize: 4, maxEntries: 4096 });
  const typed = raw.typed('ipv4/lpm', 'u32');
  const next = xorshift32(0x1e4);
  const quad = (a: number): string => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
  for (let i = 0; i < 1000; i++) {
    const len = 8 + (next() % 25);
    const addr = len === 32 ? next() : (next() & ~((1 << (32 - len)) - 1)) >>> 0;
    typed.set(`${quad(addr)}/${len}`, i);
  }
  // Addresses: half inside some prefix (a stored prefix's address with random host bits), half random.
  const prefixes = [...typed.keys()];
  const addrs = Array.from({ length: OPS }, (_, i) => {
    if (i % 2 === 1) return quad(next());
    const [a, len] = prefixes[next() % prefixes.length].split('/');
    const base = a.split('.').reduce((x, o) => (x << 8) | Number(o), 0) >>> 0;
    const host = Number(len) === 32 ? 0 : next() & ((1 << (32 - Number(len))) - 1);
    return quad((base | host) >>> 0);
  });
  const rawKeys = addrs.map((s) => {
    const k = new Uint8Array(8);
    new DataView(k.buffer).setUint32(0, 32, true);
    s.split('.').forEach((o, j) => (k[4 + j] = Number(o)));
    return k;
  });
  if (typed.get(addrs[0]) === undefined) throw new Error('lpm: an address inside a stored prefix is not found');
  return [
    { name: 'LPM trie, 1,000 IPv4 prefixes|get: typed ipv4/lpm string key', run: each(addrs, (a) => typed.get(a)), per: OPS },
    { name: 'LPM trie, 1,000 IPv4 prefixes|get: raw Uint8Array key', run: each(rawKeys, (k) => raw.get(k)), per: OPS },
  ];
}

/** Iteration over a hash of 10,000 entries: whole passes, per entry. */
function iterationRunners(rt: Runtime): Runner[] {
  const raw = rt.createMap({ name: 'it', type: 'hash', keySize: 4, valueSize: 8, maxEntries: MAX_ENTRIES });
  const typed = raw.typed('u32', 'u64');
  for (let i = 0; i < ENTRIES; i++) typed.set(i * 7919, BigInt(i));
  const count = (make: () => Iterable<unknown>): (() => number) => () => {
    let n = 0;
    for (const x of make()) if (x !== undefined) n++;
    if (n !== ENTRIES) throw new Error(`iteration saw ${n} entries, not ${ENTRIES}`);
    return n;
  };
  return [
    { name: 'iteration, hash of 10,000|entries(), typed (per entry)', run: count(() => typed.entries()), per: ENTRIES },
    { name: 'iteration, hash of 10,000|entries(), raw (per entry)', run: count(() => raw.entries()), per: ENTRIES },
    { name: 'iteration, hash of 10,000|keys(), typed (per key)', run: count(() => typed.keys()), per: ENTRIES },
  ];
}

/**
 * Ring buffer: programs/ringbuf_fill.s (JIT) writes {@link RING_RECORDS} records, then `poll()` consumes them;
 * only the poll is timed (the fill is not: it is what a program does). Warm-up, then one fill + timed poll per
 * batch; the median over batches, ns per record. Also gives the fill's own figure, per record written.
 */
async function ringTimings(options: BenchOptions): Promise<{ poll: EngineTiming; fill: EngineTiming }> {
  const rt = new Runtime();
  const ring = createRing(rt);
  const lp = await loadMapProgram(rt, 'ringbuf_fill', 'jit', [ring]);
  const input = ringFillInput(RING_RECORDS);
  const fill = (): void => {
    if (lp.runPacket(input) !== RING_RECORDS) throw new Error('ringbuf_fill: the ring filled up');
  };
  fill();
  const first = ring.poll();
  const want = expectedRecords(RING_RECORDS);
  if (first.length !== RING_RECORDS || first.some((r, i) => !r.equals(want[i]))) throw new Error('ring buffer: wrong records');
  const now = (): bigint => process.hrtime.bigint();
  const warmEnd = now() + BigInt((options.warmupMs ?? 300) * 1e6);
  for (let i = 0; i < (options.warmupRuns ?? 50) || now() < warmEnd; i++) {
    fill();
    ring.poll();
  }
  const polls: number[] = [];
  const fills: number[] = [];
  for (let b = 0; b < 2 * (options.batches ?? 15); b++) {
    const t0 = now();
    fill();
    const t1 = now();
    const n = ring.poll().length;
    const t2 = now();
    if (n !== RING_RECORDS) throw new Error(`poll returned ${n} records`);
    fills.push(Number(t1 - t0) / n);
    polls.push(Number(t2 - t1) / n);
  }
  return { poll: summary(polls, RING_RECORDS), fill: summary(fills, RING_RECORDS) };
}

function summary(samples: readonly number[], per: number): EngineTiming {
  const s = [...samples].sort((a, b) => a - b);
  const m = s.length >> 1;
  return { nsPerRun: s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2, minNsPerRun: s[0], maxNsPerRun: s[s.length - 1], runs: s.length * per };
}

async function apiRows(options: BenchOptions): Promise<ApiRow[]> {
  const rows: ApiRow[] = [];
  for (const make of [hashU32Runners, hash16Runners, arrayRunners, lpmRunners, iterationRunners]) {
    const runners = make(new Runtime());
    const t = timeInterleaved(runners, options);
    for (const r of runners) {
      const [group, op] = r.name.split('|');
      rows.push({ group, op, timing: t[r.name] });
    }
  }
  const ring = await ringTimings(options);
  rows.push({ group: 'ring buffer', op: `poll(), ${RING_RECORDS} records of 16 bytes (per record)`, timing: ring.poll });
  rows.push({ group: 'ring buffer', op: 'for reference: ringbuf_fill.s on the JIT, bpf_ringbuf_output (per record)', timing: ring.fill });
  return rows;
}

// ---------------------------------------------------------------------------------------------------------
// Report

const fmt = (x: number, digits = 0): string => x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** A text table: the first `left` columns left-aligned, the others (figures) right-aligned. */
function table(header: readonly string[], rows: readonly string[][], left = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((l) => l[i].length)));
  const render = (cells: readonly string[]): string => cells.map((c, i) => (i < left ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [render(header), ...rows.map(render)].join('\n');
}

function lookupTable(rows: readonly LookupRow[]): string {
  const header = ['keys', 'jit ns', 'best', 'interp ns', 'best', 'native ns', 'best', `jit/native <=${GOAL_NATIVE_RATIO}x`, 'best/best', 'interp/native', 'map.get ns', 'map.pointer ns', 'export from JS ns'];
  return table(header, rows.map((r) => {
    const { jit, interp } = r.engines;
    const nat = r.native;
    const ratio = nat === undefined ? '-' : `${fmt(jit.nsPerRun / nat.nsPerLookup, 2)}x ${jit.nsPerRun / nat.nsPerLookup <= GOAL_NATIVE_RATIO ? 'met' : 'NOT met'}`;
    return [
      `${r.keySize === 4 ? 'u32' : '16-byte'} (${r.program}.s)`, fmt(jit.nsPerRun, 1), fmt(jit.minNsPerRun, 1), fmt(interp.nsPerRun, 1), fmt(interp.minNsPerRun, 1),
      ...(nat === undefined ? ['-', '-', '-', '-', '-'] : [
        fmt(nat.nsPerLookup, 1), fmt(nat.minNsPerLookup, 1), ratio, `${fmt(jit.minNsPerRun / nat.minNsPerLookup, 2)}x`, `${fmt(interp.nsPerRun / nat.nsPerLookup, 1)}x`,
      ]),
      fmt(r.js['map.get'].nsPerRun, 1), fmt(r.js['map.pointer'].nsPerRun, 1), fmt(r.js['export from JS'].nsPerRun, 1),
    ];
  }));
}

function apiTable(rows: readonly ApiRow[]): string {
  return table(['map', 'operation', 'ns/op', 'best', 'ops/s'], rows.map((r) => [r.group, r.op, fmt(r.timing.nsPerRun, 1), fmt(r.timing.minNsPerRun, 1), fmt(1e9 / r.timing.nsPerRun)]), 2);
}

function commit(): string {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', cwd: benchDir() });
  if (head.status !== 0) return 'unknown';
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', cwd: benchDir() });
  return head.stdout.trim() + (dirty.stdout.trim() !== '' ? ' (with uncommitted changes)' : '');
}

/** Everything the map benchmarks measured (the `--json` document). */
export interface MapBenchResult {
  readonly meta: {
    readonly node: string; readonly v8: string; readonly cpu: string; readonly cpus: number;
    /** 1-minute load average at the start and at the end. */
    readonly loadAverage: readonly [number, number];
    readonly commit: string;
    /** The native compiler, or why the native column is skipped. */
    readonly native: string;
    readonly nativeSkipped: boolean;
    readonly method: string;
    readonly date: string;
  };
  readonly goal: { readonly jitOverNative: number };
  /** Section 1, ns per lookup. */
  readonly lookups: readonly LookupRow[];
  /** Section 1, array lookups (inlined by the JIT), ns per lookup. */
  readonly array: ArrayRow;
  /** Section 2, ns per operation. */
  readonly api: readonly ApiRow[];
  /** Section 3, ns per packet. */
  readonly tailCalls: readonly TailCallRow[];
}

/** Runs both sections (see the file header); `log` hears progress. */
export async function runMapBenchmarks(quick: boolean, log: (s: string) => void = () => {}): Promise<MapBenchResult> {
  const options: BenchOptions = quick ? { warmupMs: 100, warmupRuns: 20, batchMs: 5, batches: 5 } : {};
  const load0 = loadavg()[0];
  const toolchain = nativeToolchain();
  const exe = toolchain.ok ? buildNative(toolchain) : undefined;
  const lookups: LookupRow[] = [];
  for (const ks of [4, 16] as const) {
    lookups.push(await lookupRow(ks, options, exe));
    log(`  lookups, ${ks}-byte keys done\n`);
  }
  const array = await arrayRow(options);
  log('  array lookups done\n');
  const api = await apiRows(options);
  log('  JS API done\n');
  const tailCalls = await tailCallRows(options);
  log('  tail calls done\n');
  const meta = {
    node: process.version,
    v8: process.versions.v8,
    cpu: cpus()[0]?.model ?? 'unknown',
    cpus: cpus().length,
    loadAverage: [load0, loadavg()[0]] as const,
    commit: commit(),
    native: toolchain.ok ? `${toolchain.cc} -O2 (${toolchain.version}): runtime/maps/c compiled natively` : `skipped, ${toolchain.reason}`,
    nativeSkipped: !toolchain.ok,
    method: quick
      ? 'quick: warm-up >= 100 ms and 20 runs per runner, then the median of 5 interleaved batches of ~5 ms'
      : 'warm-up >= 300 ms and 50 runs per runner, then the median of 15 interleaved batches of ~20 ms',
    date: new Date().toISOString(),
  };
  return { meta, goal: { jitOverNative: GOAL_NATIVE_RATIO }, lookups, array, api, tailCalls };
}

/** The text report of {@link runMapBenchmarks}. */
export function formatMapBenchmarks(r: MapBenchResult): string {
  const m = r.meta;
  return [
    `ebpf-wasm map benchmarks: node ${m.node} (V8 ${m.v8}), ${m.cpu} x${m.cpus}, commit ${m.commit}`,
    `load average ${fmt(m.loadAverage[0], 2)} at the start, ${fmt(m.loadAverage[1], 2)} at the end; method: ${m.method}`,
    `native: ${m.native}`,
    '',
    `1. Hash lookups, ns per lookup: ${LOOKUPS} per run (half present, half absent) in a hash of ${fmt(ENTRIES)} entries`,
    `   (max_entries ${fmt(MAX_ENTRIES)}, u64 values); eBPF through runPacket (keys copied in per run), native the same`,
    `   lookups by runtime/maps/c compiled with -O2 (keys copied in per run); from JS: the same keys, one call each.`,
    '',
    lookupTable(r.lookups),
    '',
    `   ARRAY lookups (hash_lookup.s on an array of ${fmt(ENTRIES)} u64, half the indexes in range; the JIT inlines them):`,
    `   ${ENGINES.map((e) => `${e} ${fmt(r.array.engines[e].nsPerRun, 2)} ns (best ${fmt(r.array.engines[e].minNsPerRun, 2)})`).join(', ')} per lookup`,
    '',
    '2. JS API, one operation per call (median ns, ops per second = 1e9 / ns)',
    '',
    apiTable(r.api),
    '',
    `3. Tail calls, ns per 64-byte packet: a chain of ${CHAIN} programs vs its first program alone (the tail call falling`,
    `   through); a hop = (chain - alone) / ${CHAIN - 1}. runPacket: the packet path drives the chain; run: the general path.`,
    '',
    tailCallTable(r.tailCalls),
  ].join('\n') + '\n';
}

async function main(argv: readonly string[]): Promise<void> {
  const json = argv.includes('--json');
  const result = await runMapBenchmarks(argv.includes('--quick'), json ? undefined : (s) => process.stderr.write(s));
  process.stdout.write(json ? JSON.stringify(result, null, 2) + '\n' : formatMapBenchmarks(result));
}

/** Whether this module is the script node was started with (not imported, e.g. by a test). */
function isMain(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`bench/maps: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  });
}
