/**
 * The scalar domain: what the verifier knows about a 64-bit number. A reduced product of five views, each sound
 * on its own, kept consistent by {@link normalize} (Linux's `reg_bounds_sync`, written out here in our own way):
 *
 *     t                 tnum: which bits are known (tnum.ts)
 *     umin..umax        unsigned 64-bit range        smin..smax       signed 64-bit range
 *     u32min..u32max    unsigned range of the low 32 bits            s32min..s32max   signed range of the low 32 bits
 *
 * The set a {@link Scalar} stands for is the values that satisfy all five at once. Every transfer function
 * ({@link scalarAlu}, {@link scalarNeg}, {@link scalarMovsx}, {@link scalarEndian}) returns a superset of the
 * concrete results of RFC 9669's operation (section 4) on members of its arguments; {@link refineCond} returns,
 * for a jump condition (section 4.3), the members of each argument that can take (or not take) the branch, and
 * `undefined` when none can. Constants fold exactly through the reference semantics (src/interp/semantics.ts).
 *
 * All numbers are `bigint`: u-ranges in [0, 2^64), s-ranges in [-2^63, 2^63), 32-bit ranges likewise.
 *
 * Not here: pointers (value.ts), which values a program may hold where (state.ts), widening thresholds' choice
 * (analyze.ts).
 */

import { InternalError } from '../errors.js';
import type { AluOp, EndianOrder, JmpOp, Width } from '../isa/insn.js';
import { alu, cond, endian, movsx, neg } from '../interp/semantics.js';
import {
  TNUM_UNKNOWN, U32_MAX, U64_MAX, tnumAdd, tnumAnd, tnumArshift, tnumBswap, tnumCast, tnumConst, tnumContains,
  tnumEq, tnumIntersect, tnumLshift, tnumMul, tnumOr, tnumRange, tnumRshift, tnumSext, tnumSmax, tnumSmin, tnumSub,
  tnumUnion, tnumWithLow32, tnumXor, formatTnum, type Tnum,
} from './tnum.js';

const S64_MIN = -(1n << 63n);
const S64_MAX = (1n << 63n) - 1n;
const S32_MIN = -(1n << 31n);
const S32_MAX = (1n << 31n) - 1n;
const TWO64 = 1n << 64n;
const TWO32 = 1n << 32n;

/** An abstract 64-bit number (see the file header). Immutable; build with the functions below. */
export interface Scalar {
  readonly t: Tnum;
  readonly umin: bigint;
  readonly umax: bigint;
  readonly smin: bigint;
  readonly smax: bigint;
  readonly u32min: bigint;
  readonly u32max: bigint;
  readonly s32min: bigint;
  readonly s32max: bigint;
}

type Mut = { -readonly [K in keyof Scalar]: Scalar[K] };

const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);
const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);
const lo32 = (x: bigint): bigint => x & U32_MAX;

/** Every 64-bit value. */
export const SCALAR_UNKNOWN: Scalar = Object.freeze({
  t: TNUM_UNKNOWN, umin: 0n, umax: U64_MAX, smin: S64_MIN, smax: S64_MAX, u32min: 0n, u32max: U32_MAX, s32min: S32_MIN, s32max: S32_MAX,
});

/** One known value (any bigint; taken modulo 2^64). */
export function scalarConst(v: bigint): Scalar {
  const u = BigInt.asUintN(64, v);
  const s = BigInt.asIntN(64, u);
  const l = lo32(u);
  return { t: tnumConst(u), umin: u, umax: u, smin: s, smax: s, u32min: l, u32max: l, s32min: BigInt.asIntN(32, l), s32max: BigInt.asIntN(32, l) };
}

/** The unsigned range `[lo, hi]` (both in [0, 2^64)). */
export function scalarURange(lo: bigint, hi: bigint): Scalar {
  return mustNormalize({ ...SCALAR_UNKNOWN, umin: lo, umax: hi });
}

/** The signed range `[lo, hi]`. */
export function scalarSRange(lo: bigint, hi: bigint): Scalar {
  return mustNormalize({ ...SCALAR_UNKNOWN, smin: lo, smax: hi });
}

/** Every value of `bytes` bytes, zero-extended (what a load of that size may give). */
export function scalarOfSize(bytes: 1 | 2 | 4 | 8): Scalar {
  return OF_SIZE[bytes];
}

const OF_SIZE: Readonly<Record<1 | 2 | 4 | 8, Scalar>> = {
  1: scalarURange(0n, 0xffn),
  2: scalarURange(0n, 0xffffn),
  4: scalarURange(0n, 0xffff_ffffn),
  8: SCALAR_UNKNOWN,
};

/** The value when `s` holds exactly one, else `undefined`. */
export function scalarConstValue(s: Scalar): bigint | undefined {
  return s.t.mask === 0n ? s.t.value : undefined;
}

/** The value of the low 32 bits when they are known, else `undefined`. */
export function scalarConst32(s: Scalar): bigint | undefined {
  return (s.t.mask & U32_MAX) === 0n ? lo32(s.t.value) : undefined;
}

/** Whether the concrete u64 `x` is a member of `s`. */
export function scalarContains(s: Scalar, x: bigint): boolean {
  const u = BigInt.asUintN(64, x);
  const sv = BigInt.asIntN(64, u);
  const l = lo32(u);
  const l32 = BigInt.asIntN(32, l);
  return tnumContains(s.t, u) && u >= s.umin && u <= s.umax && sv >= s.smin && sv <= s.smax &&
    l >= s.u32min && l <= s.u32max && l32 >= s.s32min && l32 <= s.s32max;
}

export function scalarEq(a: Scalar, b: Scalar): boolean {
  return a === b || (tnumEq(a.t, b.t) && a.umin === b.umin && a.umax === b.umax && a.smin === b.smin && a.smax === b.smax &&
    a.u32min === b.u32min && a.u32max === b.u32max && a.s32min === b.s32min && a.s32max === b.s32max);
}

// ---------------------------------------------------------------------------------------------------------------
// Normalisation: make the five views agree (each only ever shrinks, so the set is unchanged)

/** Sync of one width's unsigned and signed ranges (`bits` = 64 or 32). */
function crossSync(x: Mut, bits: 64 | 32): void {
  const half = bits === 64 ? 1n << 63n : 1n << 31n;
  const full = bits === 64 ? TWO64 : TWO32;
  let [umin, umax, smin, smax] = bits === 64 ? [x.umin, x.umax, x.smin, x.smax] : [x.u32min, x.u32max, x.s32min, x.s32max];
  // unsigned → signed
  if (umax < half) {
    smin = max(smin, umin);
    smax = min(smax, umax);
  } else if (umin >= half) {
    smin = max(smin, umin - full);
    smax = min(smax, umax - full);
  } else {
    // [umin, half) reads as non-negative, [half, umax] as negative: the signed range picks one side or both.
    if (smax < umin) smax = min(smax, umax - full);
    if (smin > umax - full) smin = max(smin, umin);
  }
  // signed → unsigned
  if (smin >= 0n) {
    umin = max(umin, smin);
    umax = min(umax, smax);
  } else if (smax < 0n) {
    umin = max(umin, smin + full);
    umax = min(umax, smax + full);
  } else {
    if (umax < smin + full) umax = min(umax, smax);
    if (umin > smax) umin = max(umin, smin + full);
  }
  if (bits === 64) {
    x.umin = umin; x.umax = umax; x.smin = smin; x.smax = smax;
  } else {
    x.u32min = umin; x.u32max = umax; x.s32min = smin; x.s32max = smax;
  }
}

function empty(x: Mut): boolean {
  return x.umin > x.umax || x.smin > x.smax || x.u32min > x.u32max || x.s32min > x.s32max;
}

/**
 * Tightens every view from the others; `undefined` when they contradict (the set is empty). Iterates to a fixed
 * point (at most a few rounds: each round only shrinks).
 */
export function normalize(s: Scalar): Scalar | undefined {
  // Fast paths: a known value (the common case), and nothing known at all.
  if (s.t.mask === 0n) {
    const c = scalarConst(s.t.value);
    return c.umin >= s.umin && c.umax <= s.umax && c.smin >= s.smin && c.smax <= s.smax && c.u32min >= s.u32min &&
      c.u32max <= s.u32max && c.s32min >= s.s32min && c.s32max <= s.s32max ? c : undefined;
  }
  if (s.t.mask === U64_MAX && s.umin === 0n && s.umax === U64_MAX && s.smin === S64_MIN && s.smax === S64_MAX &&
    s.u32min === 0n && s.u32max === U32_MAX && s.s32min === S32_MIN && s.s32max === S32_MAX) return SCALAR_UNKNOWN;
  const x: Mut = { ...s };
  for (let round = 0; round < 6; round++) {
    const b0 = x.t, b1 = x.umin, b2 = x.umax, b3 = x.smin, b4 = x.smax, b5 = x.u32min, b6 = x.u32max, b7 = x.s32min, b8 = x.s32max;
    // tnum → ranges
    x.umin = max(x.umin, x.t.value);
    x.umax = min(x.umax, x.t.value | x.t.mask);
    x.smin = max(x.smin, tnumSmin(x.t));
    x.smax = min(x.smax, tnumSmax(x.t));
    const lv = lo32(x.t.value);
    const lm = lo32(x.t.mask);
    x.u32min = max(x.u32min, lv);
    x.u32max = min(x.u32max, lv | lm);
    x.s32min = max(x.s32min, BigInt.asIntN(32, lv | (lm & 0x8000_0000n)));
    x.s32max = min(x.s32max, BigInt.asIntN(32, lv | (lm & 0x7fff_ffffn)));
    crossSync(x, 64);
    crossSync(x, 32);
    // A number is at least its low half.
    x.umin = max(x.umin, x.u32min);
    // 64 → 32: a range whose upper halves agree gives a contiguous range of low halves.
    if (x.umin >> 32n === x.umax >> 32n) {
      x.u32min = max(x.u32min, lo32(x.umin));
      x.u32max = min(x.u32max, lo32(x.umax));
    }
    if (x.smin >> 32n === x.smax >> 32n) {
      x.u32min = max(x.u32min, lo32(x.smin));
      x.u32max = min(x.u32max, lo32(x.smax));
    }
    crossSync(x, 32);
    // 32 → 64: with the upper half fixed, the low-half range bounds the whole value.
    if (x.umin >> 32n === x.umax >> 32n) {
      const hi = (x.umin >> 32n) << 32n;
      x.umin = max(x.umin, hi | x.u32min);
      x.umax = min(x.umax, hi | x.u32max);
    }
    if (x.smin >> 32n === x.smax >> 32n) {
      const hi = (x.smin >> 32n) << 32n;
      x.smin = max(x.smin, hi + x.u32min);
      x.smax = min(x.smax, hi + x.u32max);
    }
    crossSync(x, 64);
    if (empty(x)) return undefined;
    // ranges → tnum
    const t1 = tnumIntersect(x.t, tnumRange(x.umin, x.umax));
    if (t1 === undefined) return undefined;
    const low = tnumIntersect(tnumCast(t1, 4), tnumRange(x.u32min, x.u32max));
    if (low === undefined) return undefined;
    x.t = tnumWithLow32(t1, low);
    if (tnumEq(x.t, b0) && x.umin === b1 && x.umax === b2 && x.smin === b3 && x.smax === b4 && x.u32min === b5 && x.u32max === b6 && x.s32min === b7 && x.s32max === b8) break;
  }
  return empty(x) ? undefined : x;
}

function mustNormalize(s: Scalar): Scalar {
  const r = normalize(s);
  if (r === undefined) throw new InternalError('scalar transfer produced an empty set');
  return r;
}

// ---------------------------------------------------------------------------------------------------------------
// Lattice operations

/** The smallest scalar containing both. */
export function scalarJoin(a: Scalar, b: Scalar): Scalar {
  if (a === b || scalarIncludes(a, b)) return a;
  if (scalarIncludes(b, a)) return b;
  return mustNormalize({
    t: tnumUnion(a.t, b.t),
    umin: min(a.umin, b.umin), umax: max(a.umax, b.umax), smin: min(a.smin, b.smin), smax: max(a.smax, b.smax),
    u32min: min(a.u32min, b.u32min), u32max: max(a.u32max, b.u32max), s32min: min(a.s32min, b.s32min), s32max: max(a.s32max, b.s32max),
  });
}

/** The members of both, or `undefined`. */
export function scalarMeet(a: Scalar, b: Scalar): Scalar | undefined {
  const t = tnumIntersect(a.t, b.t);
  if (t === undefined) return undefined;
  return normalize({
    t, umin: max(a.umin, b.umin), umax: min(a.umax, b.umax), smin: max(a.smin, b.smin), smax: min(a.smax, b.smax),
    u32min: max(a.u32min, b.u32min), u32max: min(a.u32max, b.u32max), s32min: max(a.s32min, b.s32min), s32max: min(a.s32max, b.s32max),
  });
}

/** Whether every member of `b` is a member of `a`, judged view by view (sufficient, not necessary). */
export function scalarIncludes(a: Scalar, b: Scalar): boolean {
  const t = tnumUnion(a.t, b.t);
  return tnumEq(t, a.t) && a.umin <= b.umin && a.umax >= b.umax && a.smin <= b.smin && a.smax >= b.smax &&
    a.u32min <= b.u32min && a.u32max >= b.u32max && a.s32min <= b.s32min && a.s32max >= b.s32max;
}

/** Widening thresholds, sorted ascending, per view. */
export interface Thresholds {
  readonly u64: readonly bigint[];
  readonly s64: readonly bigint[];
  readonly u32: readonly bigint[];
  readonly s32: readonly bigint[];
}

/** Thresholds from a set of interesting constants (comparison immediates and their neighbours). */
export function makeThresholds(constants: Iterable<bigint>): Thresholds {
  const u64 = new Set<bigint>();
  const s64 = new Set<bigint>();
  const u32 = new Set<bigint>();
  const s32 = new Set<bigint>();
  for (const c of constants) {
    for (const v of [c - 1n, c, c + 1n]) {
      u64.add(BigInt.asUintN(64, v));
      s64.add(BigInt.asIntN(64, v));
      u32.add(BigInt.asUintN(32, v));
      s32.add(BigInt.asIntN(32, v));
    }
  }
  const sort = (s: Set<bigint>): bigint[] => [...s].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { u64: sort(u64), s64: sort(s64), u32: sort(u32), s32: sort(s32) };
}

function widenBound(oldLo: bigint, oldHi: bigint, lo: bigint, hi: bigint, ts: readonly bigint[], floor: bigint, ceil: bigint): [bigint, bigint] {
  let wlo = lo;
  let whi = hi;
  if (lo < oldLo) {
    wlo = floor;
    for (let i = ts.length - 1; i >= 0; i--) if (ts[i] <= lo) { wlo = ts[i]; break; }
  }
  if (hi > oldHi) {
    whi = ceil;
    for (const t of ts) if (t >= hi) { whi = t; break; }
  }
  return [wlo, whi];
}

/**
 * Widening: the join of `old` and `next`, with every bound that grew pushed out to the next threshold (or to the
 * end of its range), so that an ascending chain of states stabilises. `force` pushes grown bounds all the way.
 */
export function scalarWiden(old: Scalar, next: Scalar, ts: Thresholds, force = false): Scalar {
  const j = scalarJoin(old, next);
  if (scalarEq(j, old)) return old;
  const none: Thresholds = { u64: [], s64: [], u32: [], s32: [] };
  const th = force ? none : ts;
  const [umin, umax] = widenBound(old.umin, old.umax, j.umin, j.umax, th.u64, 0n, U64_MAX);
  const [smin, smax] = widenBound(old.smin, old.smax, j.smin, j.smax, th.s64, S64_MIN, S64_MAX);
  const [u32min, u32max] = widenBound(old.u32min, old.u32max, j.u32min, j.u32max, th.u32, 0n, U32_MAX);
  const [s32min, s32max] = widenBound(old.s32min, old.s32max, j.s32min, j.s32max, th.s32, S32_MIN, S32_MAX);
  // The known bits would stop the ranges from growing (a counter's tnum gains one bit per iteration): widen them
  // to the widened ranges too, keeping only the known low bits (alignment), which loops usually preserve.
  let t = j.t;
  const grew = umin !== j.umin || umax !== j.umax || smin !== j.smin || smax !== j.smax || u32min !== j.u32min ||
    u32max !== j.u32max || s32min !== j.s32min || s32max !== j.s32max;
  if (grew) {
    let k = 0n;
    while (k < 64n && ((t.mask >> k) & 1n) === 0n) k++;
    const keep = (1n << k) - 1n;
    const mask = (tnumRange(umin, umax).mask | tnumRange(BigInt.asUintN(64, smin), BigInt.asUintN(64, smax)).mask | t.mask | tnumRange(u32min, u32max).mask) & ~keep & U64_MAX;
    t = { value: t.value & ~mask & U64_MAX, mask };
  }
  return mustNormalize({ t, umin, umax, smin, smax, u32min, u32max, s32min, s32max });
}

// ---------------------------------------------------------------------------------------------------------------
// Views of the low 32 bits

/** The low 32 bits, zero-extended (the result of every 32-bit ALU operation, RFC 9669 section 4.1). */
export function scalarZext32(s: Scalar): Scalar {
  return mustNormalize({ ...SCALAR_UNKNOWN, t: tnumCast(s.t, 4), umin: s.u32min, umax: s.u32max, u32min: s.u32min, u32max: s.u32max, s32min: s.s32min, s32max: s.s32max });
}

/** The low 32 bits, sign-extended. */
function scalarSext32(s: Scalar): Scalar {
  return mustNormalize({ ...SCALAR_UNKNOWN, t: tnumSext(s.t, 32), smin: s.s32min, smax: s.s32max, u32min: s.u32min, u32max: s.u32max, s32min: s.s32min, s32max: s.s32max });
}

/** The low `bytes` bytes, zero-extended: what truncating `s` to that size and loading it back gives. */
export function scalarTruncate(s: Scalar, bytes: 1 | 2 | 4 | 8): Scalar {
  if (bytes === 8) return s;
  if (bytes === 4) return scalarZext32(s);
  const m = (1n << BigInt(bytes * 8)) - 1n;
  const base = scalarZext32(s);
  const fits = base.umax <= m;
  return mustNormalize({ ...SCALAR_UNKNOWN, t: tnumCast(s.t, bytes), umin: fits ? base.umin : 0n, umax: fits ? base.umax : m });
}

// ---------------------------------------------------------------------------------------------------------------
// ALU transfer functions

/** `[lo, hi]` of a sum or difference computed without wrapping, brought back modulo `full` when both ends wrap alike. */
function wrapRange(lo: bigint, hi: bigint, min_: bigint, max_: bigint, full: bigint): [bigint, bigint] {
  if (lo >= min_ && hi <= max_) return [lo, hi];
  if (lo > max_ && hi > max_) return [lo - full, hi - full];
  if (lo < min_ && hi < min_) return [lo + full, hi + full];
  return [min_, max_];
}

function addSub(a: Scalar, b: Scalar, sub: boolean): Scalar {
  const t = sub ? tnumSub(a.t, b.t) : tnumAdd(a.t, b.t);
  const [umin, umax] = sub ? wrapRange(a.umin - b.umax, a.umax - b.umin, 0n, U64_MAX, TWO64) : wrapRange(a.umin + b.umin, a.umax + b.umax, 0n, U64_MAX, TWO64);
  const [smin, smax] = sub ? wrapRange(a.smin - b.smax, a.smax - b.smin, S64_MIN, S64_MAX, TWO64) : wrapRange(a.smin + b.smin, a.smax + b.smax, S64_MIN, S64_MAX, TWO64);
  const [u32min, u32max] = sub ? wrapRange(a.u32min - b.u32max, a.u32max - b.u32min, 0n, U32_MAX, TWO32) : wrapRange(a.u32min + b.u32min, a.u32max + b.u32max, 0n, U32_MAX, TWO32);
  const [s32min, s32max] = sub ? wrapRange(a.s32min - b.s32max, a.s32max - b.s32min, S32_MIN, S32_MAX, TWO32) : wrapRange(a.s32min + b.s32min, a.s32max + b.s32max, S32_MIN, S32_MAX, TWO32);
  return mustNormalize({ t, umin, umax, smin, smax, u32min, u32max, s32min, s32max });
}

function corners(a0: bigint, a1: bigint, b0: bigint, b1: bigint, f: (x: bigint, y: bigint) => bigint): [bigint, bigint] {
  const vs = [f(a0, b0), f(a0, b1), f(a1, b0), f(a1, b1)];
  return [vs.reduce(min), vs.reduce(max)];
}

function mul(a: Scalar, b: Scalar): Scalar {
  const x: Mut = { ...SCALAR_UNKNOWN, t: tnumMul(a.t, b.t) };
  if (a.umax * b.umax <= U64_MAX) [x.umin, x.umax] = [a.umin * b.umin, a.umax * b.umax];
  const [sl, sh] = corners(a.smin, a.smax, b.smin, b.smax, (p, q) => p * q);
  if (sl >= S64_MIN && sh <= S64_MAX) [x.smin, x.smax] = [sl, sh];
  if (a.u32max * b.u32max <= U32_MAX) [x.u32min, x.u32max] = [a.u32min * b.u32min, a.u32max * b.u32max];
  const [tl, th] = corners(a.s32min, a.s32max, b.s32min, b.s32max, (p, q) => p * q);
  if (tl >= S32_MIN && th <= S32_MAX) [x.s32min, x.s32max] = [tl, th];
  return mustNormalize(x);
}

function udiv(a: Scalar, b: Scalar): Scalar {
  const c = scalarConstValue(b);
  if (c === 0n) return scalarConst(0n);
  if (c !== undefined) return scalarURange(a.umin / c, a.umax / c);
  if (b.umin > 0n) return scalarURange(a.umin / b.umax, a.umax / b.umin);
  return scalarURange(0n, a.umax); // division by zero gives 0; otherwise the quotient is at most the dividend
}

/** Truncating signed division (RFC 9669: x / 0 = 0, INT_MIN / -1 = INT_MIN). */
function sdiv(a: Scalar, b: Scalar): Scalar {
  const c = scalarConstValue(b);
  if (c !== undefined) {
    const sc = BigInt.asIntN(64, c);
    if (sc === 0n) return scalarConst(0n);
    if (sc > 0n) return scalarSRange(a.smin / sc, a.smax / sc); // bigint division truncates toward zero, monotone in a
    if (sc !== -1n) return scalarSRange(a.smax / sc, a.smin / sc);
  }
  const m = max(-a.smin, a.smax);
  return m <= S64_MAX ? scalarSRange(-m, m) : SCALAR_UNKNOWN;
}

function umod(a: Scalar, b: Scalar): Scalar {
  const c = scalarConstValue(b);
  if (c === 0n) return a; // modulo by zero leaves dst
  if (b.umin > 0n && a.umax < b.umin) return a;
  if (b.umin > 0n) return scalarURange(0n, min(a.umax, b.umax - 1n));
  return scalarURange(0n, a.umax);
}

/** Signed remainder: it has the sign of the dividend and is smaller in magnitude than both operands. */
function smod(a: Scalar, b: Scalar): Scalar {
  const c = scalarConstValue(b);
  if (c !== undefined) {
    const sc = BigInt.asIntN(64, c);
    if (sc === 0n) return a;
    const m = sc < 0n ? -sc : sc;
    if (a.smin >= 0n && a.smax < m) return a;
    return scalarSRange(max(-(m - 1n), min(0n, a.smin)), min(m - 1n, max(0n, a.smax)));
  }
  return scalarSRange(min(0n, a.smin), max(0n, a.smax));
}

function and(a: Scalar, b: Scalar): Scalar {
  // A mask that keeps every bit the other operand may have set changes nothing: `(len + 1) & 0xff` with len + 1
  // in [2, 64] is len + 1 exactly (Linux's bounds would drop umin to 0 there).
  if (((a.t.value | a.t.mask) & ~b.t.value) === 0n) return a;
  if (((b.t.value | b.t.mask) & ~a.t.value) === 0n) return b;
  const x: Mut = { ...SCALAR_UNKNOWN, t: tnumAnd(a.t, b.t), umax: min(a.umax, b.umax), u32max: min(a.u32max, b.u32max) };
  if (a.smin >= 0n && b.smin >= 0n) [x.smin, x.smax] = [0n, min(a.smax, b.smax)];
  else if (a.smin >= 0n) [x.smin, x.smax] = [0n, a.smax];
  else if (b.smin >= 0n) [x.smin, x.smax] = [0n, b.smax];
  return mustNormalize(x);
}

function or(a: Scalar, b: Scalar): Scalar {
  const x: Mut = { ...SCALAR_UNKNOWN, t: tnumOr(a.t, b.t), umin: max(a.umin, b.umin), u32min: max(a.u32min, b.u32min) };
  if (a.smin >= 0n && b.smin >= 0n) x.smin = max(a.smin, b.smin);
  return mustNormalize(x);
}

function xor(a: Scalar, b: Scalar): Scalar {
  const x: Mut = { ...SCALAR_UNKNOWN, t: tnumXor(a.t, b.t) };
  if (a.smin >= 0n && b.smin >= 0n) x.smin = 0n;
  return mustNormalize(x);
}

/** A shift by the known amount `k` (already masked). */
function shiftConst(op: 'lsh' | 'rsh' | 'arsh', a: Scalar, k: number): Scalar {
  const s = BigInt(k);
  switch (op) {
    case 'lsh': {
      const x: Mut = { ...SCALAR_UNKNOWN, t: tnumLshift(a.t, k) };
      if (a.umax << s <= U64_MAX) [x.umin, x.umax] = [a.umin << s, a.umax << s];
      if (a.smin << s >= S64_MIN && a.smax << s <= S64_MAX) [x.smin, x.smax] = [a.smin << s, a.smax << s];
      return mustNormalize(x);
    }
    case 'rsh':
      return mustNormalize({ ...SCALAR_UNKNOWN, t: tnumRshift(a.t, k), umin: a.umin >> s, umax: a.umax >> s });
    case 'arsh':
      return mustNormalize({ ...SCALAR_UNKNOWN, t: tnumArshift(a.t, k), smin: a.smin >> s, smax: a.smax >> s });
  }
}

/** A shift by a register: the join over every amount the (masked) register may hold. */
function shift(op: 'lsh' | 'rsh' | 'arsh', a: Scalar, b: Scalar, bits: 64 | 32): Scalar {
  const mask = BigInt(bits - 1);
  const c = scalarConstValue(b);
  if (c !== undefined) return shiftConst(op, a, Number(c & mask));
  const amounts = b.umax <= mask ? { t: b.t, lo: b.umin, hi: b.umax } : { t: tnumAnd(b.t, tnumConst(mask)), lo: 0n, hi: mask };
  let out: Scalar | undefined;
  for (let k = amounts.lo; k <= amounts.hi; k++) {
    if (!tnumContains(amounts.t, k)) continue;
    const r = shiftConst(op, a, Number(k));
    out = out === undefined ? r : scalarJoin(out, r);
  }
  return out ?? SCALAR_UNKNOWN;
}

/** A 64-bit ALU operation other than `mov`. */
function alu64(op: AluOp, a: Scalar, b: Scalar): Scalar {
  switch (op) {
    case 'add': return addSub(a, b, false);
    case 'sub': return addSub(a, b, true);
    case 'mul': return mul(a, b);
    case 'div': return udiv(a, b);
    case 'sdiv': return sdiv(a, b);
    case 'mod': return umod(a, b);
    case 'smod': return smod(a, b);
    case 'and': return and(a, b);
    case 'or': return or(a, b);
    case 'xor': return xor(a, b);
    case 'lsh': case 'rsh': case 'arsh': return shift(op, a, b, 64);
    case 'mov': return b;
  }
}

/**
 * `dst op src` at `width` (RFC 9669 section 4.1): 32-bit operations work on the low halves (sign-extended for
 * `sdiv`, `smod`, `arsh`; shift amounts masked to 5 bits) and zero-extend their result.
 */
export function scalarAlu(op: AluOp, width: Width, a: Scalar, b: Scalar): Scalar {
  const ca = scalarConstValue(a);
  const cb = scalarConstValue(b);
  if (op === 'mov') return width === 64 ? b : scalarZext32(b);
  if (ca !== undefined && cb !== undefined) return scalarConst(alu(op, width, ca, cb));
  if (width === 64) return alu64(op, a, b);
  const signed = op === 'sdiv' || op === 'smod' || op === 'arsh';
  const va = signed ? scalarSext32(a) : scalarZext32(a);
  const vb = op === 'sdiv' || op === 'smod' ? scalarSext32(b) : scalarZext32(b);
  const r = op === 'lsh' || op === 'rsh' || op === 'arsh' ? shift(op, va, vb, 32) : alu64(op, va, vb);
  return scalarZext32(r);
}

/** `dst = -dst` at `width`. */
export function scalarNeg(width: Width, a: Scalar): Scalar {
  const c = scalarConstValue(a);
  if (c !== undefined) return scalarConst(neg(width, c));
  return scalarAlu('sub', width, scalarConst(0n), a);
}

/** `dst = (s{bits}) src` sign-extended to 64 bits, zero-extended from 32 when `width` is 32 (RFC 9669 MOVSX). */
export function scalarMovsx(width: Width, bits: 8 | 16 | 32, a: Scalar): Scalar {
  const c = scalarConstValue(a);
  if (c !== undefined) return scalarConst(movsx(width, bits, c));
  const half = 1n << BigInt(bits - 1);
  let r: Scalar;
  if (a.smin >= -half && a.smax < half) r = a; // already the sign extension of its low bits
  else {
    const m = (1n << BigInt(bits)) - 1n;
    let smin = -half;
    let smax = half - 1n;
    if (a.umin >> BigInt(bits) === a.umax >> BigInt(bits)) {
      const lo = a.umin & m;
      const hi = a.umax & m;
      if (hi < half) [smin, smax] = [lo, hi];
      else if (lo >= half) [smin, smax] = [lo - (m + 1n), hi - (m + 1n)];
    }
    r = mustNormalize({ ...SCALAR_UNKNOWN, t: tnumSext(tnumCast(a.t, (bits / 8) as 1 | 2 | 4), bits), smin, smax });
  }
  return width === 64 ? r : scalarZext32(r);
}

/** Byte-order operations (RFC 9669 section 4.2): `le` truncates (the host is little-endian), `be`/`swap` swap. */
export function scalarEndian(order: EndianOrder, bits: 16 | 32 | 64, a: Scalar): Scalar {
  const c = scalarConstValue(a);
  if (c !== undefined) return scalarConst(endian(order, bits, c));
  if (order === 'le') return scalarTruncate(a, (bits / 8) as 2 | 4 | 8);
  return mustNormalize({ ...SCALAR_UNKNOWN, t: tnumBswap(a.t, bits) });
}

// ---------------------------------------------------------------------------------------------------------------
// Branch refinement

/** The condition that holds on the fall-through path of `op`. */
export function negateCond(op: JmpOp | 'nset'): JmpOp | 'nset' {
  switch (op) {
    case 'eq': return 'ne';
    case 'ne': return 'eq';
    case 'gt': return 'le';
    case 'le': return 'gt';
    case 'ge': return 'lt';
    case 'lt': return 'ge';
    case 'sgt': return 'sle';
    case 'sle': return 'sgt';
    case 'sge': return 'slt';
    case 'slt': return 'sge';
    case 'set': return 'nset';
    case 'nset': return 'set';
  }
}

type Bound = 'u64' | 's64' | 'u32' | 's32';

function get(s: Scalar, v: Bound): [bigint, bigint] {
  switch (v) {
    case 'u64': return [s.umin, s.umax];
    case 's64': return [s.smin, s.smax];
    case 'u32': return [s.u32min, s.u32max];
    case 's32': return [s.s32min, s.s32max];
  }
}

function withRange(s: Scalar, v: Bound, lo: bigint, hi: bigint): Scalar | undefined {
  const [l0, h0] = get(s, v);
  const l = max(l0, lo);
  const h = min(h0, hi);
  if (l > h) return undefined;
  if (l === l0 && h === h0) return s;
  switch (v) {
    case 'u64': return normalize({ ...s, umin: l, umax: h });
    case 's64': return normalize({ ...s, smin: l, smax: h });
    case 'u32': return normalize({ ...s, u32min: l, u32max: h });
    case 's32': return normalize({ ...s, s32min: l, s32max: h });
  }
}

/** The value of `s` in `width` bits when known (u64, or the low 32 bits). */
function constIn(s: Scalar, width: Width): bigint | undefined {
  return width === 64 ? scalarConstValue(s) : scalarConst32(s);
}

/** `a <= b` (or `a < b` with `strict`) in view `v`: each side narrowed by the other's bound. */
function less(a: Scalar, b: Scalar, v: Bound, strict: boolean): [Scalar, Scalar] | undefined {
  const d = strict ? 1n : 0n;
  const [, bh] = get(b, v);
  const [al] = get(a, v);
  const [vmin, vmax] = get(SCALAR_UNKNOWN, v);
  const na = withRange(a, v, vmin, bh - d);
  const nb = withRange(b, v, al + d, vmax);
  return na === undefined || nb === undefined ? undefined : [na, nb];
}

/** The members of `s` whose bits in `width` avoid (`known` 0) or include (`known` 1) the bits of the constant `c`. */
function withBits(s: Scalar, width: Width, c: bigint, known: 0 | 1): Scalar | undefined {
  const m = width === 64 ? BigInt.asUintN(64, c) : lo32(c);
  const t = tnumIntersect(s.t, { value: known === 1 ? m : 0n, mask: U64_MAX ^ m });
  return t === undefined ? undefined : normalize({ ...s, t });
}

/**
 * Narrows `a` and `b` to the members for which `cond(op, width, a, b)` holds (`nset`: `(a & b) == 0`, the
 * fall-through of `set`). `undefined` when no pair of members satisfies it: that path cannot be taken.
 */
export function refineCond(op: JmpOp | 'nset', width: Width, a: Scalar, b: Scalar): [Scalar, Scalar] | undefined {
  const ca = constIn(a, width);
  const cb = constIn(b, width);
  if (ca !== undefined && cb !== undefined) {
    const holds = op === 'nset' ? !cond('set', width, ca, cb) : cond(op, width, ca, cb);
    return holds ? [a, b] : undefined;
  }
  const u: Bound = width === 64 ? 'u64' : 'u32';
  const s: Bound = width === 64 ? 's64' : 's32';
  switch (op) {
    case 'eq': {
      if (width === 64) {
        const m = scalarMeet(a, b);
        return m === undefined ? undefined : [m, m];
      }
      const [al, ah] = get(a, 'u32');
      const [bl, bh] = get(b, 'u32');
      const [sal, sah] = get(a, 's32');
      const [sbl, sbh] = get(b, 's32');
      const lowA = tnumCast(a.t, 4);
      const lowB = tnumCast(b.t, 4);
      const low = tnumIntersect(lowA, lowB);
      if (low === undefined) return undefined;
      const na = normalize({ ...a, t: tnumWithLow32(a.t, low), u32min: max(al, bl), u32max: min(ah, bh), s32min: max(sal, sbl), s32max: min(sah, sbh) });
      const nb = normalize({ ...b, t: tnumWithLow32(b.t, low), u32min: max(al, bl), u32max: min(ah, bh), s32min: max(sal, sbl), s32max: min(sah, sbh) });
      return na === undefined || nb === undefined ? undefined : [na, nb];
    }
    case 'ne': {
      const trim = (x: Scalar, c: bigint): Scalar | undefined => {
        let r: Scalar | undefined = x;
        for (const v of [u, s] as const) {
          if (r === undefined) return undefined;
          const cv = v === 's64' ? BigInt.asIntN(64, c) : v === 's32' ? BigInt.asIntN(32, c) : c;
          const [l, h] = get(r, v);
          if (l === cv) r = withRange(r, v, l + 1n, h);
          else if (h === cv) r = withRange(r, v, l, h - 1n);
        }
        return r;
      };
      const na = cb !== undefined ? trim(a, cb) : a;
      const nb = ca !== undefined ? trim(b, ca) : b;
      return na === undefined || nb === undefined ? undefined : [na, nb];
    }
    case 'gt': { const r = less(b, a, u, true); return r && [r[1], r[0]]; }
    case 'ge': { const r = less(b, a, u, false); return r && [r[1], r[0]]; }
    case 'lt': return less(a, b, u, true);
    case 'le': return less(a, b, u, false);
    case 'sgt': { const r = less(b, a, s, true); return r && [r[1], r[0]]; }
    case 'sge': { const r = less(b, a, s, false); return r && [r[1], r[0]]; }
    case 'slt': return less(a, b, s, true);
    case 'sle': return less(a, b, s, false);
    case 'set': {
      const both = tnumCast(tnumAnd(a.t, b.t), width === 64 ? 8 : 4);
      if (both.value === 0n && both.mask === 0n) return undefined;
      const single = (c: bigint | undefined): boolean => c !== undefined && c !== 0n && (c & (c - 1n)) === 0n;
      let na: Scalar | undefined = a;
      let nb: Scalar | undefined = b;
      if (single(cb)) na = withBits(a, width, cb!, 1);
      if (single(ca)) nb = withBits(b, width, ca!, 1);
      return na === undefined || nb === undefined ? undefined : [na, nb];
    }
    case 'nset': {
      const na = cb !== undefined ? withBits(a, width, cb, 0) : a;
      const nb = ca !== undefined ? withBits(b, width, ca, 0) : b;
      return na === undefined || nb === undefined ? undefined : [na, nb];
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Printing

const dec = (x: bigint): string => (x > 0xffffn || x < -0xffffn ? (x < 0n ? '-0x' + (-x).toString(16) : '0x' + x.toString(16)) : String(x));

/**
 * A short readable form: a constant (`42`), a range (`[0, 255]`, signed when it may be negative), plus the known
 * bits when they say more than the range (`[0, 60] bits (0x0; 0x3c)`: a multiple of 4). Nothing known: `unknown`.
 */
export function formatScalar(s: Scalar): string {
  const c = scalarConstValue(s);
  if (c !== undefined) return BigInt.asIntN(64, c) < 0n && BigInt.asIntN(64, c) > -0x10000n ? String(BigInt.asIntN(64, c)) : dec(c);
  const parts: string[] = [];
  const full = s.umin === 0n && s.umax === U64_MAX;
  if (s.smin >= 0n || !(s.smin === S64_MIN && s.smax === S64_MAX)) {
    if (s.smin >= 0n) parts.push(`[${dec(s.umin)}, ${dec(s.umax)}]`);
    else parts.push(`s[${dec(s.smin)}, ${dec(s.smax)}]`);
  } else if (!full) parts.push(`u[${dec(s.umin)}, ${dec(s.umax)}]`);
  if (parts.length === 0 && !(s.u32min === 0n && s.u32max === U32_MAX)) parts.push(`low32 [${dec(s.u32min)}, ${dec(s.u32max)}]`);
  const implied = tnumRange(s.umin, s.umax);
  if (!tnumEq(implied, s.t) && !(s.t.mask === U64_MAX)) parts.push(`bits ${formatTnum(s.t)}`);
  return parts.length === 0 ? 'unknown' : parts.join(' ');
}
