/**
 * `ebpf-wasm demo` (what `npm start` runs): the example packet filter (examples/ipv4_filter.s) over a stream
 * of generated Ethernet frames, on every engine in `ENGINES`, printing verdict counts, packets per second for
 * each engine and the speedup between them. The engines must agree on every verdict; a disagreement is
 * reported and fails the demo.
 *
 * Traffic is deterministic (seeded): a mix of IPv4 TCP/UDP from random sources, sources in the blocked
 * 192.0.2.0/24, UDP to port 1900, ARP and truncated frames.
 *
 * Not here: the filter itself (an example file), the engines (runtime/).
 */

import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assemble } from '../isa/asm.js';
import { Runtime } from '../../runtime/runtime.js';
import { ENGINES } from '../../runtime/engines.js';

/** Options for {@link runDemo}. */
export interface DemoOptions {
  /** Number of packets (default 200,000). */
  readonly packets?: number;
  /** Where to print (default stdout). */
  readonly write?: (s: string) => void;
}

/** Small deterministic PRNG (xorshift32) so every run sees the same traffic. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** Builds `n` Ethernet frames: the traffic mix described in the file header. */
export function makeTraffic(n: number, seed = 0x5eed): Uint8Array[] {
  const next = rng(seed);
  const frames: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const kind = next() % 100;
    if (kind < 3) {
      frames.push(new Uint8Array(10 + (next() % 20))); // runt frame
      continue;
    }
    const udp = kind < 45;
    const frame = new Uint8Array(14 + 20 + (udp ? 8 : 20) + (next() % 64));
    const v = new DataView(frame.buffer);
    frame.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]);
    if (kind < 8) {
      v.setUint16(12, 0x0806); // ARP
      frames.push(frame);
      continue;
    }
    v.setUint16(12, 0x0800);
    v.setUint8(14, 0x45);
    v.setUint16(16, frame.length - 14);
    v.setUint8(22, 64);
    v.setUint8(23, udp ? 17 : 6);
    const blocked = kind >= 90;
    v.setUint32(26, blocked ? 0xc0000200 | (next() & 0xff) : next());
    v.setUint32(30, next());
    v.setUint16(34, 1024 + (next() % 60000));
    v.setUint16(36, udp && kind >= 40 ? 1900 : [53, 80, 443, 8080][next() % 4]);
    frames.push(frame);
  }
  return frames;
}

function examplePath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const p = join(dir, 'examples', 'ipv4_filter.s');
    if (existsSync(p)) return p;
    dir = dirname(dir);
  }
  throw new Error('examples/ipv4_filter.s not found next to the package');
}

/** Runs the demo. Resolves when done; throws if the engines disagree. */
export async function runDemo(options: DemoOptions = {}): Promise<void> {
  const write = options.write ?? ((s: string) => process.stdout.write(s));
  const n = options.packets ?? 200_000;
  const path = examplePath();
  const program = assemble(readFileSync(path, 'utf8'));
  const frames = makeTraffic(n);
  write(`ebpf-wasm demo: ${path.replace(/^.*[\\/](examples[\\/])/, '$1')} (${program.slotCount} instructions) over ${n} generated frames\n\n`);

  const runtime = new Runtime();
  const verdicts = new Map<string, Uint8Array>();
  const rates = new Map<string, number>();
  for (const engine of ENGINES) {
    const loaded = await runtime.load(program, { engine });
    const out = new Uint8Array(n);
    // Warm-up pass so the timed pass runs optimized code (V8 tiers up hot functions after some calls).
    for (let i = 0; i < Math.min(n, 20_000); i++) loaded.run(frames[i], { collectMem: false });
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) out[i] = Number(loaded.run(frames[i], { collectMem: false }).r0);
    const ns = Number(process.hrtime.bigint() - t0);
    verdicts.set(engine, out);
    rates.set(engine, (n / ns) * 1e9);
    const dropped = out.reduce((a, v) => a + (v === 0 ? 1 : 0), 0);
    write(`  ${engine.padEnd(7)} ${Math.round((n / ns) * 1e9).toLocaleString('en-US').padStart(12)} packets/s   ${(ns / n).toFixed(0).padStart(6)} ns/packet   dropped ${dropped}, passed ${n - dropped}\n`);
  }

  const [first, ...rest] = ENGINES;
  for (const engine of rest) {
    const a = verdicts.get(first)!;
    const b = verdicts.get(engine)!;
    const diff = a.findIndex((v, i) => v !== b[i]);
    if (diff >= 0) throw new Error(`engines disagree on frame ${diff}: ${first} says ${a[diff]}, ${engine} says ${b[diff]}`);
    write(`\n  ${engine} vs ${first}: ${(rates.get(engine)! / rates.get(first)!).toFixed(2)}x, identical verdicts on all ${n} frames\n`);
  }
  write('\n(per-packet runs from JS, each copying the frame into linear memory; see bench/ for engine-only figures)\n');
}
