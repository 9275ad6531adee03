// The verifier on real programs: the ELF fixtures (clang-built, with their maps and line info), every
// bpf_conformance program, the benchmark programs, and the large programs of programs.ts (which Linux rejects
// for path explosion: here each must verify in well under a second). Also the wiring into the runtime: a
// program loaded with `verify` runs on the JIT with its proven accesses unchecked and gives the same results.
// The share of proven accesses is printed for the report.

import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { ExecutionError, InvalidProgramError, VerifierError } from '../../src/errors.js';
import type { ElfObject } from '../../src/elf/loader.js';
import { loadSuite, testProgram } from '../../src/conformance/data.js';
import { CONFORMANCE_HELPERS } from '../../src/conformance/helpers.js';
import { assemble } from '../../src/isa/asm.js';
import { programTypeOfSection } from '../../src/verifier/context.js';
import { renderLog } from '../../src/verifier/log.js';
import { verify, type VerifyOptions } from '../../src/verifier/verify.js';
import { Runtime } from '../../runtime/runtime.js';
import { ALL_OBJECTS, loadFixture } from '../elf/fixtures.js';
import { MAPS } from './corpus.js';
import { CRC_BITWISE, CRC_TABLE, NESTED_CALLS } from './programs.js';

const share = (proven: number, all: number): string => `${proven}/${all} (${all === 0 ? 100 : Math.round((100 * proven) / all)}%)`;

describe('ELF fixtures', () => {
  /** Programs strict mode rejects, and why: their context is not the one their section names. */
  const STRICT_REJECTS: Record<string, string> = {
    core_read: 'ctx_access', // a CO-RE test reading its own struct through r1, in a "socket" section
    first: 'raw_access', // no SEC(): raw programs reading their input unchecked
    second: 'raw_access',
  };
  test('every program verifies in permissive mode; strict mode accepts all but the known few', () => {
    let proven = 0;
    let accesses = 0;
    for (const name of ALL_OBJECTS) {
      let object: ElfObject;
      try {
        object = loadFixture(name);
      } catch (e) {
        if (e instanceof InvalidProgramError) continue; // fixtures of the loader's own rejection tests
        throw e;
      }
      for (const p of object.programs) {
        const options: VerifyOptions = { maps: object.maps, type: programTypeOfSection(p.section), lineInfo: p.lineInfo };
        const v = verify(p.program, { ...options, mode: 'permissive' });
        expect(v.terminates, `${name} ${p.name}`).toBe(true);
        proven += v.proven.size;
        accesses += v.accesses.size;
        const want = STRICT_REJECTS[p.name];
        if (want === undefined) {
          const s = verify(p.program, options);
          expect([...s.accesses].filter((pc) => !s.proven.has(pc)), `${name} ${p.name}: unproven accesses`).toEqual([]);
        } else {
          expect(() => verify(p.program, options), `${name} ${p.name}`).toThrow(VerifierError);
          try {
            verify(p.program, options);
          } catch (e) {
            expect((e as VerifierError).code).toBe(want);
          }
        }
      }
    }
    console.log(`ELF fixtures, permissive mode: ${share(proven, accesses)} of memory accesses proven`);
    expect(proven / accesses).toBeGreaterThan(0.9);
  });

  test('a rejection names the source line', () => {
    const object = loadFixture('text_only.o');
    const p = object.programs.find((q) => q.name === 'first')!;
    expect(() => verify(p.program, { lineInfo: p.lineInfo })).toThrow(/text_only\.c:\d+: return clamp\(\*ctx\);/);
  });

  test('the log shows source lines, states and proven accesses', () => {
    const object = loadFixture('xdp_hash.o');
    const p = object.programs[0];
    const log = renderLog(verify(p.program, { maps: object.maps, type: 'xdp', lineInfo: p.lineInfo }));
    expect(log).toMatch(/^; xdp program, strict mode: accepted, \d+ of \d+ memory accesses proven \(100%\), every loop terminates/);
    expect(log).toMatch(/; xdp_hash\.c:\d+: /);
    expect(log).toMatch(/r0 = map_value_or_null\(counts\) from pc \d+/);
    expect(log).toMatch(/; proven/);
  });
});

describe('bpf_conformance programs', () => {
  const suite = loadSuite();
  test('every program verifies in permissive mode', () => {
    let proven = 0;
    let accesses = 0;
    for (const t of suite.tests) {
      const v = verify(testProgram(t), { mode: 'permissive', helpers: [...CONFORMANCE_HELPERS.keys()] });
      proven += v.proven.size;
      accesses += v.accesses.size;
    }
    console.log(`bpf_conformance, permissive mode: ${share(proven, accesses)} of memory accesses proven`);
    expect(proven).toBeGreaterThan(0);
  });

  test('on the JIT with the proven checks dropped, every program gives the expected result', async () => {
    const rt = new Runtime();
    for (const t of suite.tests) {
      const loaded = await rt.load(testProgram(t), { engine: 'jit', helpers: CONFORMANCE_HELPERS, verify: 'permissive' });
      let outcome: string;
      try {
        outcome = '0x' + loaded.run(t.mem, { budget: 1_000_000 }).r0.toString(16);
      } catch (e) {
        outcome = (e as Error).message.split('\n')[0];
      }
      expect(outcome, t.name).toBe(t.error ?? '0x' + t.result!.toString(16));
    }
  }, 120_000);
});

describe('the runtime', () => {
  test('strict verification rejects at load time', async () => {
    const rt = new Runtime();
    await expect(rt.load(assemble('ldxb %r0, [%r1]\nexit'), { verify: 'strict' })).rejects.toThrow(VerifierError);
    const ok = await rt.load(assemble('mov %r0, 0\njlt %r2, 1, +1\nldxb %r0, [%r1]\nexit'), { verify: 'strict', engine: 'jit' });
    expect(ok.verified?.proven.has(2)).toBe(true);
    expect(ok.run(new Uint8Array([42])).r0).toBe(42n);
    expect(ok.run(new Uint8Array([])).r0).toBe(0n);
  });
  test('a loop not proven to terminate runs with a budget', async () => {
    const rt = new Runtime();
    for (const engine of ['interp', 'jit'] as const) {
      const loaded = await rt.load(assemble('mov %r0, 0\nl:\nadd %r0, 1\njne %r2, 3, l\nexit'), { verify: 'permissive', engine });
      expect(loaded.verified?.terminates).toBe(false);
      expect(() => loaded.run(new Uint8Array(4))).toThrow(ExecutionError);
      expect(loaded.run(new Uint8Array(3)).r0).toBe(1n);
    }
  }, 60_000);
});

describe('benchmark programs', () => {
  test('verify, and how much is proven', () => {
    const lines: string[] = [];
    let proven = 0;
    let accesses = 0;
    for (const name of ['fnv1a', 'parse_headers', 'bubble_sort', 'sum_squares', 'xorshift']) {
      const v = verify(assemble(readFileSync(`bench/programs/${name}.s`, 'utf8')), { mode: 'permissive' });
      expect(v.terminates, name).toBe(true);
      proven += v.proven.size;
      accesses += v.accesses.size;
      lines.push(`${name} ${share(v.proven.size, v.accesses.size)}`);
    }
    console.log(`benchmarks, permissive mode: ${lines.join(', ')}; total ${share(proven, accesses)}`);
    expect(verify(assemble(readFileSync('bench/programs/fnv1a.s', 'utf8')), { mode: 'permissive' }).proven.size).toBe(1);
  });
});

describe('programs Linux rejects for path explosion', () => {
  const cases: Array<[string, string, 'xdp' | 'raw']> = [
    ['CRC-32 over 1.5 KB with a table lookup', CRC_TABLE, 'xdp'],
    ['bitwise CRC-32 over 1.5 KB, a branch per bit', CRC_BITWISE, 'xdp'],
    ['nested bounded loops in subprograms', NESTED_CALLS, 'raw'],
  ];
  for (const [name, src, type] of cases) {
    test(`${name}: accepted in strict mode, everything proven, well under a second`, () => {
      const program = assemble(src);
      verify(program, { type, maps: MAPS }); // warm up
      const t0 = performance.now();
      const v = verify(program, { type, maps: MAPS });
      const ms = performance.now() - t0;
      console.log(`${name}: ${ms.toFixed(1)} ms, ${v.stats.steps} instruction visits, ${v.stats.contexts} contexts`);
      expect([...v.accesses].filter((pc) => !v.proven.has(pc))).toEqual([]);
      expect(v.terminates).toBe(true);
      expect(ms).toBeLessThan(1000);
    });
  }
});
