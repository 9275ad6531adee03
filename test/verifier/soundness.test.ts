// Soundness of the verifier: random programs (gen.ts) are verified, then run by the shadow checker (shadow.ts),
// which checks every concrete state against the abstract state proven at that pc and every proven access against
// its region, while still checking every access the way the engines do. Any mismatch is a verifier bug: the JIT
// would drop a check that was needed. 10,000 programs the strict verifier accepts, plus programs with unsafe
// parts in both modes (their unproven accesses checked at run time), with zero violations.
// A failure prints the seed; `genProgram(seed, safe)` rebuilds the program.

import { describe, expect, test } from 'vitest';
import { VerifierError } from '../../src/errors.js';
import { assemble } from '../../src/isa/asm.js';
import { opaqueHelper } from '../../src/verifier/helpers.js';
import { DATA } from '../../src/verifier/relations.js';
import { scalarConst } from '../../src/verifier/scalar.js';
import { verify, type VerifiedProgram } from '../../src/verifier/verify.js';
import { FILL_HELPER, Rng, genProgram } from './gen.js';
import { shadowRun } from './shadow.js';

const PROTOTYPES = new Map([[FILL_HELPER, opaqueHelper(FILL_HELPER, 'fill')]]);
const HELPERS = [5, 7, FILL_HELPER];

function input(rng: Rng, length: number): Uint8Array {
  return new Uint8Array(length).map(() => rng.int(0, 255));
}

describe('soundness: concrete runs stay inside the proven states', () => {
  test('10,000 programs the strict verifier accepts', () => {
    let accepted = 0;
    let proven = 0;
    let accesses = 0;
    const failures: string[] = [];
    for (let seed = 1; accepted < 10_000 && seed < 12_000; seed++) {
      const program = assemble(genProgram(seed, true));
      let v: VerifiedProgram;
      try {
        v = verify(program, { mode: 'strict', helpers: HELPERS, prototypes: PROTOTYPES, rawWritable: true });
      } catch (e) {
        if (!(e instanceof VerifierError)) throw e;
        continue;
      }
      accepted++;
      proven += v.proven.size;
      accesses += v.accesses.size;
      const rng = new Rng(seed);
      const r = shadowRun(v, input(rng, rng.pick([0, 2, 5, 9, 16, 33, 48])), { rawWritable: true });
      if (r.violations.length > 0) failures.push(`seed ${seed}: ${r.violations.slice(0, 3).join('; ')}`);
      if (failures.length >= 5) break;
    }
    expect(failures).toEqual([]);
    expect(accepted).toBe(10_000);
    expect(proven / accesses).toBeGreaterThan(0.95); // the safe templates are meant to be provable
  }, 120_000);

  test('programs with unsafe parts, strict and permissive, read-only and writable input', () => {
    const failures: string[] = [];
    const outcomes = { strict: 0, permissive: 0, rejected: 0, unproven: 0 };
    for (let seed = 1; seed <= 1500; seed++) {
      const program = assemble(genProgram(seed, false));
      const mode = seed % 3 === 0 ? 'strict' : 'permissive';
      const rawWritable = seed % 2 === 0;
      let v: VerifiedProgram;
      try {
        v = verify(program, { mode, helpers: HELPERS, prototypes: PROTOTYPES, rawWritable });
      } catch (e) {
        if (!(e instanceof VerifierError) || mode === 'permissive') throw e;
        outcomes.rejected++;
        continue;
      }
      outcomes[mode]++;
      outcomes.unproven += v.accesses.size - v.proven.size;
      const rng = new Rng(seed);
      for (const n of [0, rng.int(1, 12), 40]) {
        const r = shadowRun(v, input(rng, n), { rawWritable });
        if (r.violations.length > 0) failures.push(`seed ${seed} (${mode}): ${r.violations.slice(0, 3).join('; ')}`);
      }
      if (failures.length >= 5) break;
    }
    expect(failures).toEqual([]);
    // Both modes ran, strict mode rejected some, permissive mode left some accesses to run-time checks.
    expect(outcomes.strict).toBeGreaterThan(100);
    expect(outcomes.permissive).toBe(1000);
    expect(outcomes.rejected).toBeGreaterThan(20);
    expect(outcomes.unproven).toBeGreaterThan(100);
  }, 120_000);
});

describe('the shadow checker catches a lying verifier', () => {
  const program = assemble('mov %r0, 7\nldxb %r3, [%r1+100]\nexit');
  const honest = verify(program, { mode: 'permissive' });

  test('an honest result passes', () => {
    expect(shadowRun(honest, new Uint8Array(128)).violations).toEqual([]);
  });

  test('an access claimed proven that leaves the input', () => {
    const liar: VerifiedProgram = { ...honest, proven: new Set([1]) };
    expect(shadowRun(liar, new Uint8Array(8)).violations.join()).toMatch(/proven input access .* outside the input/);
  });

  test('a register claimed to hold another value', () => {
    const liar: VerifiedProgram = {
      ...honest,
      statesAt: (pc) => honest.statesAt(pc).map((s) => {
        if (pc !== 1) return s;
        const state = s.state.clone();
        state.setReg(0, { t: 'scalar', s: scalarConst(5n) });
        return { ...s, state };
      }),
    };
    expect(shadowRun(liar, new Uint8Array(128)).violations.join()).toMatch(/pc 1: r0: scalar 7 outside/);
  });

  test('a length relation that does not hold', () => {
    const liar: VerifiedProgram = {
      ...honest,
      statesAt: (pc) => honest.statesAt(pc).map((s) => {
        if (pc !== 1) return s;
        const state = s.state.clone();
        state.cur.rels = [{ p: DATA, x: 2, k: 2, c: 0 }]; // 2·len <= len: false for any input
        return { ...s, state };
      }),
    };
    expect(shadowRun(liar, new Uint8Array(128)).violations.join()).toMatch(/pc 1: relation input \+ 2·r2 <= input_end fails/);
  });

  test('a reachable pc claimed unreachable', () => {
    const liar: VerifiedProgram = { ...honest, statesAt: (pc) => (pc === 2 ? [] : honest.statesAt(pc)) };
    expect(shadowRun(liar, new Uint8Array(128)).violations.join()).toMatch(/pc 2: reached/);
  });

  test('a loop claimed to terminate that does not', () => {
    const loop = verify(assemble('mov %r0, 0\nl:\nadd %r0, 1\njne %r2, 3, l\nexit'), { mode: 'permissive' });
    expect(loop.terminates).toBe(false);
    const liar: VerifiedProgram = { ...loop, terminates: true };
    expect(shadowRun(liar, new Uint8Array(4), { maxSteps: 1000 }).violations.join()).toMatch(/terminates/);
  });
});
