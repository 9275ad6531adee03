// Length relations (src/verifier/relations.ts): the transfer rules' no-wrap conditions and the join, one by one;
// then programs whose proofs rest on relations, run by the shadow checker (shadow.ts) on every input length from
// 0 to 41 (multiples of the element size or not), which checks each relation and each proven access at run time.

import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { assemble } from '../../src/isa/asm.js';
import { DATA, joinRels, relsAfterAlu, type AluStep, type LenRel } from '../../src/verifier/relations.js';
import { scalarConst, scalarURange } from '../../src/verifier/scalar.js';
import type { Value } from '../../src/verifier/value.js';
import { verify } from '../../src/verifier/verify.js';
import { shadowRun } from './shadow.js';

const num = (lo: bigint, hi = lo): Value => ({ t: 'scalar', s: lo === hi ? scalarConst(lo) : scalarURange(lo, hi) });
const ptr = (fix = 0, id = 1): Value => ({ t: 'pkt', id, fix });
const rel = (p: number, x: number, k: number, c: number): LenRel => ({ p, x, k, c });
const step = (s: Partial<AluStep> & Pick<AluStep, 'op' | 'dst'>): AluStep => ({ width: 64, before: num(0n, 100n), src: num(1n), after: num(0n, 100n), ...s });

describe('relation transfer', () => {
  const R = [rel(4, 5, 4, 4)]; // r4 + 4·r5 + 4 <= end

  test('a counter decremented without wrapping keeps the relation, with c grown by k', () => {
    expect(relsAfterAlu(R, step({ op: 'sub', dst: 5, before: num(1n, 9n), src: num(1n) }))).toEqual([rel(4, 5, 4, 8)]);
  });

  test('a counter that may be 0 before the decrement (so may wrap) loses it', () => {
    expect(relsAfterAlu(R, step({ op: 'sub', dst: 5, before: num(0n, 9n), src: num(1n) }))).toEqual([]);
  });

  test('a 32-bit decrement loses it; a 32-bit mask keeps it', () => {
    expect(relsAfterAlu(R, step({ op: 'sub', dst: 5, width: 32, before: num(1n, 9n) }))).toEqual([]);
    expect(relsAfterAlu(R, step({ op: 'and', dst: 5, width: 32, src: num(7n) }))).toEqual(R);
  });

  test('shifts: right multiplies k; left divides it only when no bit is lost and 2^n divides k', () => {
    expect(relsAfterAlu(R, step({ op: 'rsh', dst: 5, src: num(2n) }))).toEqual([rel(4, 5, 16, 4)]);
    expect(relsAfterAlu(R, step({ op: 'lsh', dst: 5, src: num(2n), before: num(0n, 100n) }))).toEqual([rel(4, 5, 1, 4)]);
    expect(relsAfterAlu(R, step({ op: 'lsh', dst: 5, src: num(3n), before: num(0n, 100n) }))).toEqual([]);
    expect(relsAfterAlu(R, step({ op: 'lsh', dst: 5, src: num(2n), before: num(0n, 1n << 63n) }))).toEqual([]);
  });

  test('the pointer advancing lowers c; by the counter itself, lowers k', () => {
    expect(relsAfterAlu(R, step({ op: 'add', dst: 4, before: ptr(), src: num(4n), after: ptr(4) }))).toEqual([rel(4, 5, 4, 0)]);
    expect(relsAfterAlu(R, step({ op: 'add', dst: 4, srcReg: 5, before: ptr(), src: num(0n, 9n), after: ptr(0, 2) }))).toEqual([rel(4, 5, 3, 4)]);
  });

  test('copies: of the counter, of the pointer, and of the packet start plus a constant', () => {
    expect(relsAfterAlu(R, step({ op: 'mov', dst: 6, srcReg: 5, src: num(0n, 9n), after: num(0n, 9n) }))).toEqual([rel(4, 5, 4, 4), rel(4, 6, 4, 4)]);
    expect(relsAfterAlu([rel(DATA, 3, 4, 0)], step({ op: 'mov', dst: 4, srcReg: 1, src: ptr(8, 0), after: ptr(8, 0) }))).toEqual([rel(DATA, 3, 4, 0), rel(4, 3, 4, -8)]);
  });

  test('any other write drops the relations naming the register', () => {
    expect(relsAfterAlu(R, step({ op: 'mul', dst: 5, src: num(2n) }))).toEqual([]);
    expect(relsAfterAlu(R, step({ op: 'mov', dst: 5, src: num(3n), after: num(3n) }))).toEqual([]);
    expect(relsAfterAlu(R, step({ op: 'add', dst: 7, src: num(3n) }))).toEqual(R);
  });

  test('join keeps what both sides have, with the smaller c; widening drops a shrinking c', () => {
    const a = [rel(DATA, 3, 4, 0), rel(4, 5, 4, 8)];
    const b = [rel(4, 5, 4, 4), rel(4, 6, 4, 4)];
    expect(joinRels(a, b, false)).toEqual([rel(4, 5, 4, 4)]);
    expect(joinRels(a, b, true)).toEqual([]);
    expect(joinRels(b, a, true)).toEqual([rel(4, 5, 4, 4)]);
  });
});

describe('programs proven by relations, run on every length', () => {
  const BUBBLE = readFileSync(new URL('../../bench/programs/bubble_sort.s', import.meta.url), 'utf8');
  const programs: Record<string, string> = {
    'bubble sort': BUBBLE,
    'bubble sort behind a length check': BUBBLE.replace(/^outer:/m, 'jlt %r2, 4, short\nouter:') + '\nshort:\nmov %r0, 0\nexit\n',
    'half-words, two at a time': 'mov %r0, 0\nmov %r3, %r2\nrsh %r3, 1\njlt %r3, 2, done\nmov %r4, %r1\nloop:\nldxw %r5, [%r4]\nadd %r0, %r5\nadd %r4, 4\nsub %r3, 2\njge %r3, 2, loop\ndone:\nexit',
    'the last element by index': 'mov %r0, 0\nmov %r3, %r2\nrsh %r3, 2\njeq %r3, 0, done\nsub %r3, 1\nlsh %r3, 2\nmov %r4, %r1\nadd %r4, %r3\nldxw %r0, [%r4]\ndone:\nexit',
  };

  for (const [name, text] of Object.entries(programs)) {
    test(name, () => {
      const v = verify(assemble(text), { mode: 'permissive', rawWritable: true });
      expect(v.proven.size).toBeGreaterThan(0);
      for (let n = 0; n <= 41; n++) {
        const input = new Uint8Array(n).map((_, i) => (i * 89 + 7) & 255);
        const r = shadowRun(v, input, { rawWritable: true });
        expect(r.violations, `length ${n}`).toEqual([]);
      }
    });
  }

  test('bubble sort: exactly the inner loop is proven (a short input reaches the reads after it)', () => {
    const v = verify(assemble(BUBBLE), { mode: 'permissive', rawWritable: true });
    expect([...v.proven].sort((a, b) => a - b)).toEqual([6, 7, 9, 10]);
    expect(shadowRun(v, new Uint8Array(2), { rawWritable: true }).outcome).toBe('fault');
  });
});
