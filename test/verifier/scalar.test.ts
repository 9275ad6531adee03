// The scalar domain (src/verifier/scalar.ts, tnum.ts): soundness of every transfer function and of branch
// refinement against the reference semantics (src/interp/semantics.ts), checked on abstract values built from a
// few concrete members, plus the precision the verifier relies on (bounds after comparisons, masks, shifts).

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { alu, cond, endian, movsx, neg } from '../../src/interp/semantics.js';
import type { AluOp, EndianOrder, JmpOp, Width } from '../../src/isa/insn.js';
import {
  SCALAR_UNKNOWN, formatScalar, makeThresholds, negateCond, refineCond, scalarAlu, scalarConst, scalarConstValue,
  scalarContains, scalarEndian, scalarJoin, scalarMeet, scalarMovsx, scalarNeg, scalarURange, scalarWiden, scalarIncludes,
  scalarSRange, scalarTruncate, type Scalar,
} from '../../src/verifier/scalar.js';
import {
  tnumAdd, tnumAnd, tnumConst, tnumContains, tnumMul, tnumOr, tnumRange, tnumSub, tnumUnion, tnumXor, type Tnum,
} from '../../src/verifier/tnum.js';
import { edge64Arb, value64Arb } from '../diff/gen.js';

const ALU_OPS: readonly AluOp[] = ['add', 'sub', 'mul', 'div', 'sdiv', 'or', 'and', 'lsh', 'rsh', 'mod', 'smod', 'xor', 'mov', 'arsh'];
const JMP_OPS: readonly JmpOp[] = ['eq', 'gt', 'ge', 'set', 'ne', 'sgt', 'sge', 'lt', 'le', 'slt', 'sle'];

const valueArb = fc.oneof({ arbitrary: edge64Arb, weight: 2 }, { arbitrary: value64Arb, weight: 3 }, { arbitrary: fc.bigInt({ min: 0n, max: 70n }), weight: 2 });

/** An abstract value with its generating members: the join of 1-4 concrete values, sometimes narrowed by a range. */
const absArb: fc.Arbitrary<{ s: Scalar; members: bigint[] }> = fc.array(valueArb, { minLength: 1, maxLength: 4 }).map((vs) => {
  let s = scalarConst(vs[0]);
  for (const v of vs.slice(1)) s = scalarJoin(s, scalarConst(v));
  return { s, members: vs };
});

describe('tnum', () => {
  const tnumArb: fc.Arbitrary<{ t: Tnum; members: bigint[] }> = fc.array(valueArb, { minLength: 1, maxLength: 3 }).map((vs) => {
    let t = tnumConst(vs[0]);
    for (const v of vs.slice(1)) t = tnumUnion(t, tnumConst(v));
    return { t, members: vs };
  });
  const ops: Array<[string, (a: Tnum, b: Tnum) => Tnum, (a: bigint, b: bigint) => bigint]> = [
    ['add', tnumAdd, (a, b) => BigInt.asUintN(64, a + b)],
    ['sub', tnumSub, (a, b) => BigInt.asUintN(64, a - b)],
    ['mul', tnumMul, (a, b) => BigInt.asUintN(64, a * b)],
    ['and', tnumAnd, (a, b) => a & b],
    ['or', tnumOr, (a, b) => a | b],
    ['xor', tnumXor, (a, b) => a ^ b],
  ];
  for (const [name, f, g] of ops) {
    test(`${name} contains every concrete result`, () => {
      fc.assert(fc.property(tnumArb, tnumArb, (a, b) => {
        const t = f(a.t, b.t);
        for (const x of a.members) for (const y of b.members) expect(tnumContains(t, g(x, y))).toBe(true);
      }), { numRuns: 400 });
    });
  }
  test('range covers its ends and what lies between', () => {
    fc.assert(fc.property(valueArb, valueArb, (x, y) => {
      const [lo, hi] = x < y ? [x, y] : [y, x];
      const t = tnumRange(lo, hi);
      expect(tnumContains(t, lo) && tnumContains(t, hi) && tnumContains(t, (lo + hi) / 2n)).toBe(true);
    }));
  });
});

describe('scalar transfer functions are sound', () => {
  for (const op of ALU_OPS) {
    for (const width of [64, 32] as Width[]) {
      test(`${op}${width === 32 ? '32' : ''}`, () => {
        fc.assert(fc.property(absArb, absArb, (a, b) => {
          const r = scalarAlu(op, width, a.s, b.s);
          for (const x of a.members) for (const y of b.members) {
            const v = alu(op, width, x, y);
            if (!scalarContains(r, v)) throw new Error(`${op}${width}: ${x} ${y} -> ${v} not in ${formatScalar(r)} (a ${formatScalar(a.s)}, b ${formatScalar(b.s)})`);
          }
        }), { numRuns: 300 });
      });
    }
  }
  test('neg, movsx, endian', () => {
    fc.assert(fc.property(absArb, fc.constantFrom<Width>(64, 32), fc.constantFrom<8 | 16 | 32>(8, 16, 32), fc.constantFrom<EndianOrder>('le', 'be', 'swap'), fc.constantFrom<16 | 32 | 64>(16, 32, 64), (a, width, bits, order, ebits) => {
      const n = scalarNeg(width, a.s);
      const m = scalarMovsx(width, bits, a.s);
      const e = scalarEndian(order, ebits, a.s);
      for (const x of a.members) {
        expect(scalarContains(n, neg(width, x))).toBe(true);
        expect(scalarContains(m, movsx(width, bits, x))).toBe(true);
        expect(scalarContains(e, endian(order, ebits, x))).toBe(true);
      }
    }), { numRuns: 600 });
  });
  test('truncation to a store size', () => {
    fc.assert(fc.property(absArb, fc.constantFrom<1 | 2 | 4 | 8>(1, 2, 4, 8), (a, size) => {
      const t = scalarTruncate(a.s, size);
      for (const x of a.members) expect(scalarContains(t, x & ((1n << BigInt(size * 8)) - 1n))).toBe(true);
    }));
  });
});

describe('branch refinement is sound', () => {
  for (const op of JMP_OPS) {
    for (const width of [64, 32] as Width[]) {
      test(`${op}${width === 32 ? '32' : ''}`, () => {
        fc.assert(fc.property(absArb, absArb, (a, b) => {
          for (const [c, holds] of [[op, true], [negateCond(op), false]] as const) {
            const r = refineCond(c, width, a.s, b.s);
            for (const x of a.members) for (const y of b.members) {
              if (cond(op, width, x, y) !== holds) continue;
              if (r === undefined) throw new Error(`${c}${width} ${x} ${y}: refinement says impossible (a ${formatScalar(a.s)}, b ${formatScalar(b.s)})`);
              if (!scalarContains(r[0], x) || !scalarContains(r[1], y)) {
                throw new Error(`${c}${width} ${x} ${y}: lost a member: ${formatScalar(r[0])}, ${formatScalar(r[1])}`);
              }
            }
          }
        }), { numRuns: 300 });
      });
    }
  }
});

describe('lattice', () => {
  test('join contains both; meet keeps the common members; widening contains the join', () => {
    const ts = makeThresholds([0n, 64n, 1500n]);
    fc.assert(fc.property(absArb, absArb, (a, b) => {
      const j = scalarJoin(a.s, b.s);
      const w = scalarWiden(a.s, b.s, ts);
      for (const x of [...a.members, ...b.members]) {
        expect(scalarContains(j, x)).toBe(true);
        expect(scalarContains(w, x)).toBe(true);
      }
      expect(scalarIncludes(j, a.s) && scalarIncludes(j, b.s)).toBe(true);
      const m = scalarMeet(a.s, b.s);
      for (const x of a.members) if (scalarContains(b.s, x)) expect(m !== undefined && scalarContains(m, x)).toBe(true);
    }), { numRuns: 500 });
  });
  test('widening stops at thresholds, then at the end of the range', () => {
    const ts = makeThresholds([64n]);
    const w = scalarWiden(scalarURange(0n, 1n), scalarURange(0n, 2n), ts);
    expect(w.umax).toBe(63n);
    const w2 = scalarWiden(w, scalarURange(0n, 64n), ts);
    expect(w2.umax).toBe(64n);
    const w3 = scalarWiden(w2, scalarURange(0n, 100n), ts);
    expect(w3.umax > 1n << 62n).toBe(true); // past the last threshold: to the end of the range
    expect(scalarWiden(w3, scalarURange(0n, 100n), ts)).toBe(w3);
  });
});

describe('precision the verifier relies on', () => {
  test('unsigned bounds from a comparison with a constant', () => {
    const [lt] = refineCond('lt', 64, SCALAR_UNKNOWN, scalarConst(64n))!;
    expect([lt.umin, lt.umax]).toEqual([0n, 63n]);
    expect([lt.smin, lt.smax]).toEqual([0n, 63n]);
    const [ge] = refineCond('ge', 64, lt, scalarConst(64n)) ?? [undefined];
    expect(ge).toBeUndefined();
  });
  test('signed bounds make the unsigned ones', () => {
    const [a] = refineCond('sge', 64, scalarSRange(-5n, 100n), scalarConst(0n))!;
    expect([a.umin, a.umax]).toEqual([0n, 100n]);
  });
  test('a masked and shifted index is bounded and aligned', () => {
    const idx = scalarAlu('lsh', 64, scalarAlu('and', 64, SCALAR_UNKNOWN, scalarConst(0xffn)), scalarConst(2n));
    expect([idx.umin, idx.umax]).toEqual([0n, 1020n]);
    expect(idx.t.value & 3n).toBe(0n);
    expect(idx.t.mask & 3n).toBe(0n);
  });
  test('32-bit operations zero-extend', () => {
    const r = scalarAlu('add', 32, SCALAR_UNKNOWN, scalarConst(1n));
    expect(r.umax).toBe(0xffffffffn);
    expect(scalarConstValue(scalarAlu('add', 32, scalarConst(0xffffffffn), scalarConst(1n)))).toBe(0n);
  });
  test('a mask that keeps every bit the value may have changes nothing (the lower bound stays)', () => {
    // clang's `(len + 1) & 0xff` after `len <= 62`: a step of [1, 63], not [0, 63] (test/verifier/real/tc_dns.c, -mcpu=v1).
    const r = scalarAlu('and', 64, scalarURange(1n, 63n), scalarConst(0xffn));
    expect([r.umin, r.umax]).toEqual([1n, 63n]);
    expect(scalarAlu('and', 32, scalarConst(0xffn), scalarURange(2n, 64n)).umin).toBe(2n);
    // A mask that clears a possible bit still may give 0.
    expect(scalarAlu('and', 64, scalarURange(1n, 63n), scalarConst(0x1fn)).umin).toBe(0n);
  });
  test('a number is at least its low half: a 32-bit lower bound is a 64-bit one', () => {
    const [a] = refineCond('ge', 32, SCALAR_UNKNOWN, scalarConst(13n))!;
    expect(a.umin).toBe(13n);
    expect(scalarMeet(SCALAR_UNKNOWN, { ...SCALAR_UNKNOWN, u32min: 7n })!.umin).toBe(7n);
  });
  test('ne trims a bound equal to the constant', () => {
    const [a] = refineCond('ne', 64, scalarURange(0n, 10n), scalarConst(0n))!;
    expect(a.umin).toBe(1n);
  });
  test('jset fall-through clears the bits', () => {
    const [a] = refineCond('nset', 64, SCALAR_UNKNOWN, scalarConst(1n))!;
    expect(a.t.mask & 1n).toBe(0n);
    expect(a.t.value & 1n).toBe(0n);
  });
  test('printing', () => {
    expect(formatScalar(scalarConst(42n))).toBe('42');
    expect(formatScalar(SCALAR_UNKNOWN)).toBe('unknown');
    expect(formatScalar(scalarURange(0n, 63n))).toBe('[0, 63]');
    expect(formatScalar(scalarAlu('lsh', 64, scalarURange(0n, 15n), scalarConst(2n)))).toBe('[0, 60] bits (0x0; 0x3c)');
  });
});
