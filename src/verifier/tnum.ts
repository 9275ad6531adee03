/**
 * Tristate numbers ("tnums"): the known-bits abstract domain of a 64-bit value, as Linux's verifier uses it
 * (kernel/bpf/tnum.c; Vishwanathan et al., "Sound, Precise, and Fast Abstract Interpretation with Tristate
 * Numbers", CGO 2022).
 *
 * A tnum is a pair of u64s `(value, mask)`: a bit set in `mask` is unknown; a bit clear in `mask` is known and
 * equals that bit of `value`. Invariant: `value & mask == 0`. The set it stands for is
 * `{ x : x & ~mask == value }`.
 *
 *     bit:    63 ............................. 0
 *     value:  0 0 1 0 ...                       known bits (0 where unknown)
 *     mask:   0 1 0 0 ...                       1 = unknown
 *
 * Every operation here is sound: the result contains every concrete result of the operation on members of the
 * arguments. All values are unsigned 64-bit `bigint`s.
 *
 * Not here: ranges and their synchronisation with tnums (scalar.ts).
 */

/** A tristate number. `value & mask` is always 0. */
export interface Tnum {
  readonly value: bigint;
  readonly mask: bigint;
}

export const U64_MAX = (1n << 64n) - 1n;
export const U32_MAX = 0xffff_ffffn;
const SIGN64 = 1n << 63n;

const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);

/** The tnum of one known value. */
export function tnumConst(value: bigint): Tnum {
  return { value: u64(value), mask: 0n };
}

/** The tnum with every bit unknown. */
export const TNUM_UNKNOWN: Tnum = Object.freeze({ value: 0n, mask: U64_MAX });

/** Whether `x` is a member of `t`. */
export function tnumContains(t: Tnum, x: bigint): boolean {
  return (u64(x) & ~t.mask & U64_MAX) === t.value;
}

/** Whether every member of `b` is a member of `a` (`b ⊆ a`). */
export function tnumIn(a: Tnum, b: Tnum): boolean {
  if ((b.mask & ~a.mask) !== 0n) return false;
  return (b.value & ~a.mask & U64_MAX) === a.value;
}

/** Number of significant bits of `x` (0 for 0): the position of the highest set bit plus one. */
function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

/** The smallest tnum containing every value of the unsigned range `[min, max]`. */
export function tnumRange(min: bigint, max: bigint): Tnum {
  const chi = min ^ max;
  const bits = bitLength(chi);
  if (bits > 63) return TNUM_UNKNOWN;
  const delta = (1n << BigInt(bits)) - 1n;
  return { value: min & ~delta & U64_MAX, mask: delta };
}

export function tnumAdd(a: Tnum, b: Tnum): Tnum {
  const sm = u64(a.mask + b.mask);
  const sv = u64(a.value + b.value);
  const sigma = u64(sm + sv);
  const chi = sigma ^ sv;
  const mu = chi | a.mask | b.mask;
  return { value: sv & ~mu & U64_MAX, mask: mu };
}

export function tnumSub(a: Tnum, b: Tnum): Tnum {
  const dv = u64(a.value - b.value);
  const alpha = u64(dv + a.mask);
  const beta = u64(dv - b.mask);
  const chi = alpha ^ beta;
  const mu = chi | a.mask | b.mask;
  return { value: dv & ~mu & U64_MAX, mask: mu };
}

export function tnumAnd(a: Tnum, b: Tnum): Tnum {
  const alpha = a.value | a.mask;
  const beta = b.value | b.mask;
  const v = a.value & b.value;
  return { value: v, mask: alpha & beta & ~v & U64_MAX };
}

export function tnumOr(a: Tnum, b: Tnum): Tnum {
  const v = a.value | b.value;
  const mu = a.mask | b.mask;
  return { value: v, mask: mu & ~v & U64_MAX };
}

export function tnumXor(a: Tnum, b: Tnum): Tnum {
  const v = a.value ^ b.value;
  const mu = a.mask | b.mask;
  return { value: v & ~mu & U64_MAX, mask: mu };
}

/** Left shift by a known amount `k` (0..63). */
export function tnumLshift(a: Tnum, k: number): Tnum {
  const s = BigInt(k);
  return { value: u64(a.value << s), mask: u64(a.mask << s) };
}

/** Logical right shift by a known amount `k` (0..63). */
export function tnumRshift(a: Tnum, k: number): Tnum {
  const s = BigInt(k);
  return { value: a.value >> s, mask: a.mask >> s };
}

/** Arithmetic right shift of the 64-bit value by a known amount `k` (0..63). */
export function tnumArshift(a: Tnum, k: number): Tnum {
  const s = BigInt(k);
  return { value: u64(BigInt.asIntN(64, a.value) >> s), mask: u64(BigInt.asIntN(64, a.mask) >> s) };
}

/** Multiplication (Linux's `tnum_mul`: shift-and-add over the bits of `a`). */
export function tnumMul(a: Tnum, b: Tnum): Tnum {
  const accV = u64(a.value * b.value);
  let accM: Tnum = { value: 0n, mask: 0n };
  let x = a;
  let y = b;
  while (x.value !== 0n || x.mask !== 0n) {
    if ((x.value & 1n) !== 0n) accM = tnumAdd(accM, { value: 0n, mask: y.mask });
    else if ((x.mask & 1n) !== 0n) accM = tnumAdd(accM, { value: 0n, mask: y.value | y.mask });
    x = tnumRshift(x, 1);
    y = tnumLshift(y, 1);
  }
  return tnumAdd({ value: accV, mask: 0n }, accM);
}

/** The members common to `a` and `b`, or `undefined` when they have none (a known bit disagrees). */
export function tnumIntersect(a: Tnum, b: Tnum): Tnum | undefined {
  if (((a.value ^ b.value) & ~(a.mask | b.mask) & U64_MAX) !== 0n) return undefined;
  const v = a.value | b.value;
  const mu = a.mask & b.mask;
  return { value: v & ~mu & U64_MAX, mask: mu };
}

/** The smallest tnum containing the members of both (the join). */
export function tnumUnion(a: Tnum, b: Tnum): Tnum {
  const mu = a.mask | b.mask | (a.value ^ b.value);
  return { value: a.value & ~mu & U64_MAX, mask: mu };
}

/** The low `bytes` bytes of `a`, zero-extended (a cast to a narrower unsigned type). */
export function tnumCast(a: Tnum, bytes: 1 | 2 | 4 | 8): Tnum {
  if (bytes === 8) return a;
  const m = (1n << BigInt(bytes * 8)) - 1n;
  return { value: a.value & m, mask: a.mask & m };
}

/** The low `bits` bits of `a`, sign-extended to 64 bits (an unknown sign bit makes the upper bits unknown). */
export function tnumSext(a: Tnum, bits: 8 | 16 | 32): Tnum {
  return { value: u64(BigInt.asIntN(bits, a.value)), mask: u64(BigInt.asIntN(bits, a.mask)) };
}

/** `a` with its low 32 bits replaced by the low 32 bits of `lo`. */
export function tnumWithLow32(a: Tnum, lo: Tnum): Tnum {
  const hiMask = U64_MAX ^ U32_MAX;
  return { value: (a.value & hiMask) | (lo.value & U32_MAX), mask: (a.mask & hiMask) | (lo.mask & U32_MAX) };
}

/** Reverses the byte order of the low `bits` bits (the rest become known zero), as `bswap` does. */
export function tnumBswap(a: Tnum, bits: 16 | 32 | 64): Tnum {
  const swap = (x: bigint): bigint => {
    let out = 0n;
    for (let i = 0; i < bits / 8; i++) out = (out << 8n) | ((x >> BigInt(8 * i)) & 0xffn);
    return out;
  };
  return { value: swap(a.value), mask: swap(a.mask) };
}

/** The smallest and largest members read as signed 64-bit values. */
export function tnumSmin(t: Tnum): bigint {
  return BigInt.asIntN(64, t.value | (t.mask & SIGN64));
}
export function tnumSmax(t: Tnum): bigint {
  return BigInt.asIntN(64, t.value | (t.mask & ~SIGN64 & U64_MAX));
}

/** Equality of two tnums. */
export function tnumEq(a: Tnum, b: Tnum): boolean {
  return a.value === b.value && a.mask === b.mask;
}

/** Linux's notation: `(0x10; 0xf)` = value 0x10, mask 0xf. Known constants print as hex. */
export function formatTnum(t: Tnum): string {
  if (t.mask === 0n) return '0x' + t.value.toString(16);
  return `(0x${t.value.toString(16)}; 0x${t.mask.toString(16)})`;
}
