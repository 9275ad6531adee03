/**
 * The oracle itself: semantics.ts checked against hand-computed values (RFC 9669's edge cases) and its
 * number-level helpers against plain bigint arithmetic. The interpreter tests compare against these functions,
 * so they must be right on their own.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  alu32, alu64, atomic, bswap, cond, endian, fromHalves, hiHalf, immOperand, loHalf, loadValue, movsx, mulhu32, neg, signExtend,
} from '../../src/interp/semantics.js';

const MAX = 0xffff_ffff_ffff_ffffn;
const MIN = 0x8000_0000_0000_0000n;

describe('alu64 / alu32', () => {
  it('division and modulo by zero', () => {
    expect(alu64('div', 5n, 0n)).toBe(0n);
    expect(alu64('mod', 5n, 0n)).toBe(5n);
    expect(alu64('sdiv', MAX, 0n)).toBe(0n);
    expect(alu64('smod', MAX, 0n)).toBe(MAX);
    expect(alu32('mod', 0x1_0000_0005n, 0n)).toBe(5n);
    expect(alu32('smod', 0xffff_ffff_ffff_fffbn, 0n)).toBe(0xffff_fffbn);
  });
  it('signed overflow and signs', () => {
    expect(alu64('sdiv', MIN, MAX)).toBe(MIN);
    expect(alu64('smod', MIN, MAX)).toBe(0n);
    expect(alu32('sdiv', 0x8000_0000n, 0xffff_ffffn)).toBe(0x8000_0000n);
    expect(alu32('smod', 0x8000_0000n, 0xffff_ffffn)).toBe(0n);
    expect(alu64('sdiv', MAX - 6n, 2n)).toBe(MAX - 2n); // -7 / 2 = -3
    expect(alu64('smod', MAX - 6n, 2n)).toBe(MAX); // -7 % 2 = -1
    expect(alu64('smod', 7n, MAX - 1n)).toBe(1n); // 7 % -2 = 1
  });
  it('shifts mask their count', () => {
    expect(alu64('lsh', 1n, 65n)).toBe(2n);
    expect(alu32('lsh', 1n, 33n)).toBe(2n);
    expect(alu64('arsh', MIN, 127n)).toBe(MAX);
    expect(alu32('arsh', 0x8000_0000n, 31n)).toBe(0xffff_ffffn);
    expect(alu64('rsh', MAX, 64n)).toBe(MAX);
  });
  it('32-bit results are zero-extended', () => {
    expect(alu32('add', 0xffff_ffffn, 1n)).toBe(0n);
    expect(alu32('mov', 0n, MAX)).toBe(0xffff_ffffn);
    expect(alu32('sub', 0n, 1n)).toBe(0xffff_ffffn);
  });
});

describe('other operations', () => {
  it('neg, movsx, signExtend, immOperand', () => {
    expect(neg(64, 1n)).toBe(MAX);
    expect(neg(32, 1n)).toBe(0xffff_ffffn);
    expect(movsx(64, 8, 0x80n)).toBe(MAX - 0x7fn);
    expect(movsx(32, 16, 0x8000n)).toBe(0xffff_8000n);
    expect(signExtend(0x7fn, 8)).toBe(0x7fn);
    expect(immOperand(-1)).toBe(MAX);
    expect(immOperand(0x7fff_ffff)).toBe(0x7fff_ffffn);
  });
  it('byte order', () => {
    expect(bswap(0x0102n, 16)).toBe(0x0201n);
    expect(endian('le', 16, 0x1_2345n)).toBe(0x2345n);
    expect(endian('be', 32, 0x11_2233_4455n)).toBe(0x5544_3322n);
    expect(endian('swap', 64, 0x0102_0304_0506_0708n)).toBe(0x0807_0605_0403_0201n);
  });
  it('conditions', () => {
    expect(cond('gt', 64, MAX, 1n)).toBe(true);
    expect(cond('sgt', 64, MAX, 1n)).toBe(false);
    expect(cond('slt', 32, 0x8000_0000n, 0n)).toBe(true);
    expect(cond('lt', 32, 0x1_0000_0000n, 1n)).toBe(true); // compares the low halves only
    expect(cond('set', 64, 0x1_0000_0000n, 0x1_0000_0000n)).toBe(true);
    expect(cond('set', 32, 0x1_0000_0000n, 0x1_0000_0000n)).toBe(false);
  });
  it('loads and atomics', () => {
    expect(loadValue(0x80n, 1, true)).toBe(MAX - 0x7fn);
    expect(loadValue(0xffff_8000n, 2, false)).toBe(0x8000n);
    expect(atomic('add', 4, 0xffff_ffffn, 2n, 0n)).toEqual({ stored: 1n, fetched: 0xffff_ffffn });
    expect(atomic('cmpxchg', 8, 5n, 9n, 5n)).toEqual({ stored: 9n, fetched: 5n });
    expect(atomic('cmpxchg', 4, 5n, 9n, 0x1_0000_0005n)).toEqual({ stored: 9n, fetched: 5n }); // compares 32 bits
    expect(atomic('cmpxchg', 8, 5n, 9n, 6n)).toEqual({ stored: 5n, fetched: 5n });
  });
});

describe('number-level helpers', () => {
  const u32 = fc.oneof(fc.constantFrom(0, 1, -1, 0x7fff_ffff, -0x8000_0000, 0xffff, 0x10000), fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }));
  it('mulhu32 is the high half of the unsigned product', () => {
    fc.assert(fc.property(u32, u32, (a, b) => mulhu32(a, b) === (Number((BigInt(a >>> 0) * BigInt(b >>> 0)) >> 32n) | 0)), { numRuns: 5000 });
  });
  it('halves round-trip', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: MAX }), (v) => fromHalves(loHalf(v), hiHalf(v)) === v));
    expect(fromHalves(-1, -1)).toBe(MAX);
    expect(hiHalf(-1n)).toBe(-1);
  });
});
