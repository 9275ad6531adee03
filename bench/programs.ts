/**
 * The benchmark programs: for each, its eBPF assembly file (bench/programs/NAME.s), its C twin
 * (bench/native/NAME.c), a deterministic input, and an independent JavaScript reference of the result that
 * every engine's r0 is checked against before anything is timed.
 *
 * Not here: timing (harness.ts), the native build (native.ts), the report (run.ts).
 */

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One benchmark. */
export interface BenchSpec {
  readonly name: string;
  /** One line on what it exercises. */
  readonly description: string;
  /** The input placed in memory (r1 = its address, r2 = its length; empty: r1 = r2 = 0). */
  readonly input: () => Uint8Array;
  /** The expected r0, computed independently in JavaScript. */
  readonly expected: (input: Uint8Array) => bigint;
}

/** A small deterministic generator (xorshift32), so inputs are the same on every run and machine. */
function bytesFrom(seed: number, length: number): Uint8Array {
  let x = seed >>> 0 || 1;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** An Ethernet / IPv4 / TCP packet (54 bytes) with a valid IPv4 header checksum. */
function tcpPacket(): Uint8Array {
  const p = new Uint8Array(54);
  p.set([0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00], 0);
  // IPv4: version 4, IHL 5, total length 40, id 0x1c46, DF, TTL 64, TCP, 10.0.0.1 -> 10.0.0.2.
  p.set([0x45, 0x00, 0x00, 0x28, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, 10, 0, 0, 1, 10, 0, 0, 2], 14);
  let sum = 0;
  for (let i = 14; i < 34; i += 2) sum += (p[i] << 8) | p[i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const checksum = ~sum & 0xffff;
  p[24] = checksum >>> 8;
  p[25] = checksum & 0xff;
  // TCP: 443 -> 51234, SYN.
  p.set([0x01, 0xbb, 0xc8, 0x22, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0], 34);
  return p;
}

export const BENCHMARKS: readonly BenchSpec[] = [
  {
    name: 'fnv1a',
    description: 'FNV-1a 64-bit hash of 1500 bytes (load, xor, 64-bit multiply, loop)',
    input: () => bytesFrom(0x1234_5678, 1500),
    expected: (input) => {
      let h = 0xcbf2_9ce4_8422_2325n;
      for (const b of input) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100_0000_01b3n);
      return h;
    },
  },
  {
    name: 'bubble_sort',
    description: 'bubble sort of 64 u32 in place (loads, stores, compares, nested loops)',
    input: () => bytesFrom(0x9e37_79b9, 256),
    expected: (input) => {
      const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
      const values = Array.from({ length: input.length / 4 }, (_, i) => view.getUint32(i * 4, true)).sort((a, b) => a - b);
      return BigInt(values[0]) | (BigInt(values[values.length - 1]) << 32n);
    },
  },
  {
    name: 'sum_squares',
    description: 'sum of i*i mod 1000000007 for i < 1e6 (64-bit multiply and modulo)',
    input: () => new Uint8Array(0),
    expected: () => {
      let s = 0;
      for (let i = 0; i < 1_000_000; i++) s = (s + i * i) % 1_000_000_007;
      return BigInt(s);
    },
  },
  {
    name: 'xorshift',
    description: 'xorshift64 iterated 1e5 times (64-bit shifts and xors)',
    input: () => new Uint8Array(0),
    expected: () => {
      let x = 0x9e37_79b9_7f4a_7c15n;
      for (let i = 0; i < 100_000; i++) {
        x ^= BigInt.asUintN(64, x << 13n);
        x ^= x >> 7n;
        x ^= BigInt.asUintN(64, x << 17n);
      }
      return x;
    },
  },
  {
    name: 'parse_headers',
    description: 'bounds-checked Ethernet/IPv4/TCP parse with header checksum (short: per-run cost dominates)',
    input: tcpPacket,
    expected: (input) => (0xffffn << 32n) | (BigInt((input[34] << 8) | input[35]) << 16n) | BigInt((input[36] << 8) | input[37]),
  },
];

/**
 * The bench/ directory of the source tree. Found by walking up from this module, so it works both from
 * `bench/*.ts` and from the compiled `dist/bench/*.js` (the `.s` and `.c` files are not copied to dist).
 */
export function benchDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'programs', 'fnv1a.s'))) return dir;
    if (existsSync(join(dir, 'bench', 'programs', 'fnv1a.s'))) return join(dir, 'bench');
    const parent = dirname(dir);
    if (parent === dir) throw new Error('bench/programs not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** The assembly text of benchmark `name`. */
export function programSource(name: string): string {
  return readFileSync(join(benchDir(), 'programs', `${name}.s`), 'utf8');
}
