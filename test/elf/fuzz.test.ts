// Mutation fuzzing of loadElf over the real fixture objects: bit flips, truncations, and overwrites of the fields
// that steer the reader (ELF header, section headers, symbols, relocations, the BTF and BTF.ext headers and type
// records) with boundary values. Every mutant must either load or throw an InvalidProgramError: never another
// error class, never a hang. Seeded, so a failure names a reproducible case; FUZZ_ITERATIONS scales it up.

import { describe, expect, test } from 'vitest';
import { parseElf, SHT } from '../../src/elf/elf.js';
import { loadElf } from '../../src/elf/loader.js';
import { InvalidProgramError } from '../../src/errors.js';
import { ALL_OBJECTS, fixtureBytes, le } from './fixtures.js';

/** mulberry32: a small, fast, seedable PRNG. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** A fixture and the byte ranges of its structures, where a mutation is most likely to reach deep code. */
interface Target {
  readonly name: string;
  readonly bytes: Uint8Array;
  /** [offset, length, stride]: fields are overwritten at offset + k * stride + (a 4-byte aligned position). */
  readonly regions: readonly (readonly [number, number])[];
}

function targets(): Target[] {
  return ALL_OBJECTS.map((name) => {
    const bytes = fixtureBytes(name);
    const elf = parseElf(bytes);
    const view = le(bytes);
    const regions: [number, number][] = [[0, 64], [view.getUint32(40, true), elf.sections.length * 64]];
    for (const s of elf.sections) {
      if (s.type === SHT.SYMTAB || s.type === SHT.REL) regions.push([s.offset, s.size]);
      if (s.name === '.BTF' || s.name === '.BTF.ext' || s.name === '.maps' || s.name === 'maps') regions.push([s.offset, Math.min(s.size, 512)]);
      if ((s.flags & 4) !== 0 && s.size > 0) regions.push([s.offset, s.size]);
    }
    return { name, bytes, regions };
  });
}

const INTERESTING = [0, 1, 2, 3, 4, 7, 8, 12, 16, 24, 64, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff];

function mutate(t: Target, next: () => number): { bytes: Uint8Array; what: string } {
  const pick = (n: number): number => Math.floor(next() * n);
  const bytes = new Uint8Array(t.bytes);
  const view = le(bytes);
  const kind = pick(10);
  if (kind === 0) {
    const len = pick(bytes.length);
    return { bytes: bytes.subarray(0, len), what: `truncate to ${len}` };
  }
  if (kind <= 2) {
    const n = 1 + pick(4);
    const at: number[] = [];
    for (let i = 0; i < n; i++) {
      const o = pick(bytes.length);
      bytes[o] ^= 1 << pick(8);
      at.push(o);
    }
    return { bytes, what: `flip bits at ${at.join(',')}` };
  }
  const [start, length] = t.regions[pick(t.regions.length)];
  const o = start + (pick(Math.max(1, length)) & ~3);
  if (o + 4 > bytes.length) return { bytes, what: 'no-op' };
  const value = kind <= 7 ? INTERESTING[pick(INTERESTING.length)] : kind === 8 ? (next() * 2 ** 32) >>> 0 : (view.getUint32(o, true) + pick(64) - 32) >>> 0;
  const width = pick(3);
  if (width === 0) bytes[o] = value & 0xff;
  else if (width === 1) view.setUint16(o, value & 0xffff, true);
  else view.setUint32(o, value, true);
  return { bytes, what: `write ${value} (${[1, 2, 4][width]} bytes) at ${o}` };
}

describe('loadElf under mutation', () => {
  const iterations = Number(process.env.FUZZ_ITERATIONS ?? 3000);
  const seed = Number(process.env.FUZZ_SEED ?? 20240607);

  test(`${iterations} mutants of the fixtures load or throw InvalidProgramError (seed ${seed})`, () => {
    const all = targets();
    const next = rng(seed);
    let loaded = 0;
    let rejected = 0;
    const codes = new Map<string, number>();
    for (let i = 0; i < iterations; i++) {
      const t = all[i % all.length];
      const { bytes, what } = mutate(t, next);
      try {
        loadElf(bytes);
        loaded++;
      } catch (e) {
        if (!(e instanceof InvalidProgramError)) {
          throw new Error(`mutant ${i} of ${t.name} (${what}) threw ${(e as Error)?.name}: ${(e as Error)?.message}`, { cause: e });
        }
        rejected++;
        codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
      }
    }
    // The mutations must exercise both outcomes, and the rejections must come from many different checks.
    expect(loaded).toBeGreaterThan(iterations / 20);
    expect(rejected).toBeGreaterThan(iterations / 20);
    expect(codes.size).toBeGreaterThan(10);
  });
});
