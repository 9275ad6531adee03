// The verifier's accept/reject table (corpus.ts), each case run through `verify` and checked: accepted cases
// for the accesses that must (or must not) be proven and for termination, rejected cases for their error code
// and pc (the line marked `!`), and for the message when the case gives one.

import { describe, expect, test } from 'vitest';
import { VerifierError } from '../../src/errors.js';
import { assemble } from '../../src/isa/asm.js';
import { verify, type VerifyOptions } from '../../src/verifier/verify.js';
import { CASES, MAPS, marked, type Case } from './corpus.js';

function optionsOf(c: Case): VerifyOptions {
  return {
    mode: c.mode ?? 'strict', type: c.type ?? 'raw', maps: MAPS, helpers: c.helpers, prototypes: c.prototypes,
    rawWritable: c.rawWritable, maxSteps: c.maxSteps,
  };
}

test('the corpus is large and covers both outcomes', () => {
  expect(CASES.length).toBeGreaterThanOrEqual(150);
  expect(CASES.filter((c) => 'accept' in c.expect).length).toBeGreaterThan(50);
  expect(CASES.filter((c) => 'code' in c.expect).length).toBeGreaterThan(50);
  expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
});

describe('corpus', () => {
  for (const c of CASES) {
    test(c.name, () => {
      const { text, pc } = marked(c.asm);
      const program = assemble(text);
      const e = c.expect;
      if ('accept' in e) {
        expect(pc, 'an accepted case has no ! marker').toBeUndefined();
        const v = verify(program, optionsOf(c));
        if (e.proven === 'all') expect([...v.accesses].filter((p) => !v.proven.has(p)), 'unproven accesses').toEqual([]);
        else for (const p of e.proven ?? []) expect(v.proven.has(p), `access at pc ${p} proven`).toBe(true);
        for (const p of e.unproven ?? []) {
          expect(v.accesses.has(p), `pc ${p} is an access`).toBe(true);
          expect(v.proven.has(p), `access at pc ${p} not proven`).toBe(false);
        }
        if (e.terminates !== undefined) expect(v.terminates).toBe(e.terminates);
        return;
      }
      let error: unknown;
      try {
        verify(program, optionsOf(c));
      } catch (x) {
        error = x;
      }
      expect(error, 'rejected').toBeInstanceOf(VerifierError);
      const ve = error as VerifierError;
      expect(ve.code, ve.message).toBe(e.code);
      const want = e.pc ?? pc;
      if (want !== undefined) expect(ve.pc, ve.message).toBe(want);
      expect(ve.message.split('\n')[0]).toMatch(ve.pc === undefined ? /^\S/ : new RegExp(`^pc ${ve.pc}: `));
      if (e.message !== undefined) expect(ve.message).toMatch(e.message);
    });
  }
});
