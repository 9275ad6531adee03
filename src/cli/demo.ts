/**
 * `ebpf-wasm demo` (what `npm start` runs): the flagship example. The XDP blocklist filter
 * (examples/blocklist/blocklist.o, built from blocklist.c by clang) runs over a generated stream of Ethernet
 * frames, first on the interpreter and then on the JIT. While the traffic flows, the Node side adds and removes
 * addresses in the program's hash map; at the end it prints packets per second for each engine, the speedup,
 * and the drop counters the program kept in the map. The two engines must agree on every verdict and on the
 * final map contents; a disagreement fails the demo.
 *
 * Traffic is deterministic (seeded): IPv4 TCP/UDP frames from a pool of 1,024 sources, plus some ARP and runt
 * frames that the filter must pass untouched.
 *
 * Not here: the filter (examples/blocklist), the object API (runtime/object.ts).
 */

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadObject, XDP_DROP } from '../../runtime/object.js';
import type { EngineName } from '../../runtime/engines.js';
import type { KeyValueMap } from '../../runtime/maps/map.js';
import { xorshift32 } from '../util/xorshift.js';

/** Options for {@link runDemo}. */
export interface DemoOptions {
  /** Number of packets per engine (default 400,000). */
  readonly packets?: number;
  /** Where to print (default stdout). */
  readonly write?: (s: string) => void;
  /** Draw a progress bar with carriage returns (default: when stdout is a terminal). */
  readonly tty?: boolean;
}

/** The pool of IPv4 sources the traffic comes from: 1,024 addresses in 203.0.113.0/22-ish space. */
export function sourcePool(): number[] {
  return Array.from({ length: 1024 }, (_, i) => ((198 << 24) | (51 << 16) | (i << 4) | 7) >>> 0);
}

/** Builds `n` Ethernet frames from `sources` (see the file header for the mix). */
export function makeTraffic(n: number, sources: readonly number[], seed = 0x5eed): Uint8Array[] {
  const next = xorshift32(seed);
  const frames: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const kind = next() % 100;
    if (kind < 2) {
      frames.push(new Uint8Array(10 + (next() % 20))); // runt frame
      continue;
    }
    const udp = kind < 40;
    const frame = new Uint8Array(14 + 20 + (udp ? 8 : 20) + (next() % 64));
    const v = new DataView(frame.buffer);
    frame.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]);
    if (kind < 6) {
      v.setUint16(12, 0x0806); // ARP
      frames.push(frame);
      continue;
    }
    v.setUint16(12, 0x0800);
    v.setUint8(14, 0x45);
    v.setUint16(16, frame.length - 14);
    v.setUint8(22, 64);
    v.setUint8(23, udp ? 17 : 6);
    v.setUint32(26, sources[next() % sources.length]);
    v.setUint32(30, 0x0a000001);
    v.setUint16(34, 1024 + (next() % 60000));
    v.setUint16(36, [53, 80, 443, 8080][next() % 4]);
    frames.push(frame);
  }
  return frames;
}

function examplePath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const p = join(dir, 'examples', 'blocklist', 'blocklist.o');
    if (existsSync(p)) return p;
    dir = dirname(dir);
  }
  throw new Error('examples/blocklist/blocklist.o not found next to the package');
}

const ipv4 = (a: number): string => [a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].join('.');
const key = (a: number): Buffer => Buffer.from([a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255]);

/** What one engine's pass produced. */
interface Pass {
  readonly verdicts: Uint8Array;
  readonly ns: number;
  readonly drops: Map<string, bigint>;
}

/** The blocklist's schedule: which sources are blocked when. Applied at the same packet indexes on every engine. */
function schedule(sources: readonly number[], steps: number): { block: number[]; unblock: number[] }[] {
  const next = xorshift32(0xb10c);
  const blocked = new Set<number>();
  const out: { block: number[]; unblock: number[] }[] = [];
  for (let s = 0; s < steps; s++) {
    const block: number[] = [];
    const unblock: number[] = [];
    for (let k = 0; k < (s === 0 ? 40 : 6); k++) {
      const a = sources[next() % sources.length];
      if (!blocked.has(a)) {
        blocked.add(a);
        block.push(a);
      }
    }
    for (const a of [...blocked].slice(0, s === 0 ? 0 : 3)) {
      blocked.delete(a);
      unblock.push(a);
    }
    out.push({ block, unblock });
  }
  return out;
}

/** Frames per `runBatch` call in the batch passes. */
const BATCH = 1000;

async function runPass(engine: EngineName, batched: boolean, path: string, frames: readonly Uint8Array[], plan: ReturnType<typeof schedule>, write: (s: string) => void, tty: boolean): Promise<Pass> {
  const obj = await loadObject(path, { engine });
  const prog = obj.program('xdp_blocklist');
  const blocklist = obj.map('blocklist') as KeyValueMap<Buffer, Buffer>;
  const verdicts = new Uint8Array(frames.length);
  const steps = plan.length;
  const per = Math.ceil(frames.length / steps);
  // Warm-up on a copy of the first frames against an empty map, so the timed pass runs optimized code.
  const warm = Math.min(frames.length, 20_000);
  if (batched) for (let r = 0; r < 20; r++) for (let i = 0; i < warm; i += BATCH) prog.runBatch(frames.slice(i, Math.min(warm, i + BATCH)));
  else for (let i = 0; i < warm; i++) prog.run(frames[i]);
  let ns = 0;
  for (let s = 0; s < steps; s++) {
    for (const a of plan[s].block) blocklist.set(key(a), Buffer.alloc(8));
    for (const a of plan[s].unblock) blocklist.delete(key(a));
    const from = s * per;
    const to = Math.min(frames.length, from + per);
    const t0 = process.hrtime.bigint();
    if (batched) for (let i = from; i < to; i += BATCH) verdicts.set(prog.runBatch(frames.slice(i, Math.min(to, i + BATCH))), i);
    else for (let i = from; i < to; i++) verdicts[i] = prog.run(frames[i]);
    ns += Number(process.hrtime.bigint() - t0);
    const done = (s + 1) / steps;
    const bar = '#'.repeat(Math.round(done * 30)).padEnd(30, '.');
    const label = `${engine}${batched ? ', batches' : ''}`.padEnd(15);
    if (tty) write(`\r  ${label} [${bar}] ${Math.round(done * 100)}%`);
    else if ((s + 1) % Math.max(1, Math.floor(steps / 4)) === 0) write(`  ${label} [${bar}] ${Math.round(done * 100)}%\n`);
  }
  if (tty) write('\n');
  const drops = new Map<string, bigint>();
  for (const [k, v] of blocklist.entries()) drops.set(ipv4(k.readUInt32BE(0)), v.readBigUInt64LE(0));
  return { verdicts, ns, drops };
}

/** Runs the demo. Resolves when done; throws if the engines disagree. */
export async function runDemo(options: DemoOptions = {}): Promise<void> {
  const write = options.write ?? ((s: string) => process.stdout.write(s));
  const tty = options.tty ?? process.stdout.isTTY === true;
  const n = options.packets ?? 400_000;
  const path = examplePath();
  const sources = sourcePool();
  const frames = makeTraffic(n, sources);
  const plan = schedule(sources, 20);
  write(`ebpf-wasm demo: the XDP blocklist (examples/blocklist/blocklist.o) over ${n.toLocaleString('en-US')} generated frames\n`);
  write(`from ${sources.length} sources; the Node side blocks and unblocks sources 20 times while traffic flows\n\n`);

  const engines: EngineName[] = ['interp', 'jit'];
  const passes = new Map<EngineName, Pass>();
  const batches = new Map<EngineName, Pass>();
  for (const engine of engines) passes.set(engine, await runPass(engine, false, path, frames, plan, write, tty));
  for (const engine of engines) batches.set(engine, await runPass(engine, true, path, frames, plan, write, tty));

  const line = (label: string, p: Pass): void => {
    const dropped = p.verdicts.reduce((a, v) => a + (v === XDP_DROP ? 1 : 0), 0);
    const pps = (n / p.ns) * 1e9;
    write(`  ${label.padEnd(7)} ${Math.round(pps).toLocaleString('en-US').padStart(11)} packets/s  ${(p.ns / n).toFixed(0).padStart(5)} ns/packet  dropped ${dropped.toLocaleString('en-US')}, passed ${(n - dropped).toLocaleString('en-US')}\n`);
  };
  write('\n  one frame a call (run):\n');
  for (const engine of engines) line(engine, passes.get(engine)!);
  write(`  ${BATCH.toLocaleString('en-US')} frames a call (runBatch: one call into WebAssembly a batch on the JIT):\n`);
  for (const engine of engines) line(engine, batches.get(engine)!);
  const a = passes.get('interp')!;
  const b = passes.get('jit')!;
  for (const [name, p] of [['jit', b], ['interp in batches', batches.get('interp')!], ['jit in batches', batches.get('jit')!]] as const) {
    const diff = a.verdicts.findIndex((v, i) => v !== p.verdicts[i]);
    if (diff >= 0) throw new Error(`${name} disagrees with the interpreter on frame ${diff}: ${p.verdicts[diff]} vs ${a.verdicts[diff]}`);
    const mapsAgree = a.drops.size === p.drops.size && [...a.drops].every(([k, v]) => p.drops.get(k) === v);
    if (!mapsAgree) throw new Error(`${name} disagrees with the interpreter on the final drop counters`);
  }
  const bb = batches.get('jit')!;
  write(`\n  jit vs interp: ${(a.ns / b.ns).toFixed(1)}x faster a frame at a time, ${(batches.get('interp')!.ns / bb.ns).toFixed(1)}x in batches;`);
  write(` identical verdicts on all ${n.toLocaleString('en-US')} frames and identical counters in all four passes\n`);

  const top = [...b.drops].sort((x, y) => (y[1] > x[1] ? 1 : y[1] < x[1] ? -1 : 0)).slice(0, 5);
  const total = [...b.drops.values()].reduce((x, y) => x + y, 0n);
  write(`\n  drop counters read from the map (sources still blocked: ${b.drops.size}, drops counted: ${total}):\n`);
  for (const [ip, count] of top) write(`    ${ip.padEnd(16)} ${count}\n`);
  write('\n(every frame is copied into linear memory, one by one or a batch at a time; see bench/ for engine-only figures)\n');
}
