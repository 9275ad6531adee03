/**
 * The reference definitions of eBPF's value-level operations, on `bigint` (RFC 9669 sections 4 and 5): what
 * every ALU operation, byte swap, jump condition, sign extension and atomic read-modify-write computes.
 *
 * Every value in and out is an unsigned 64-bit `bigint` (0 .. 2^64-1), the way registers are specified. These
 * functions are written to be obviously right, not fast: the tests use them as the oracle for the interpreter's
 * 32-bit-halves fast paths (and for the JIT), and the interpreter calls them on its rare slow paths (64-bit
 * division of operands of magnitude 2^52 or more).
 *
 * Also here: the number-level helpers of the 32-bit-halves representation: conversions between `bigint` and
 * halves, and {@link mulhu32}, the high half of a 32x32-bit product, which the interpreter's loop (execute.ts)
 * writes out inline and the tests check against bigint.
 *
 * Deliberately not here: memory, regions, calls, the budget (interpreter.ts and src/exec.ts), and anything
 * about the encoding (src/isa).
 */

import type { AluOp, AtomicOp, EndianOrder, JmpOp, Width } from '../isa/insn.js';
import { assertNever } from '../errors.js';

const MASK32 = 0xffff_ffffn;
const INT64_MIN = 1n << 63n;

/** `x` as an unsigned 64-bit value (wraps). */
export function asU64(x: bigint): bigint {
  return BigInt.asUintN(64, x);
}

/** `x` as an unsigned 32-bit value (the low half). */
export function asU32(x: bigint): bigint {
  return BigInt.asUintN(32, x);
}

/**
 * Sign-extends the low `bits` bits of `x` to 64 bits, returned as u64 (RFC 9669 section 2.2, `SignExtend`).
 */
export function signExtend(x: bigint, bits: 8 | 16 | 32 | 64): bigint {
  return BigInt.asUintN(64, BigInt.asIntN(bits, x));
}

/**
 * The second operand of an ALU or jump instruction given as an immediate (RFC 9669 section 4.1): the signed
 * 32-bit `imm` sign-extended to 64 bits (a 32-bit operation then uses its low half).
 */
export function immOperand(imm: number): bigint {
  return BigInt.asUintN(64, BigInt(imm | 0));
}

/**
 * `dst op src` for ALU64 (RFC 9669 section 4.1): 64-bit operands and result.
 *
 * Division by zero gives 0 and modulo by zero leaves `dst`; `sdiv`/`smod` are signed and truncate toward zero,
 * so `smod` takes the sign of the dividend; `INT64_MIN sdiv -1 = INT64_MIN` and `INT64_MIN smod -1 = 0` (the
 * overflow wraps). Shift counts are masked to 6 bits.
 */
export function alu64(op: AluOp, dst: bigint, src: bigint): bigint {
  switch (op) {
    case 'add': return asU64(dst + src);
    case 'sub': return asU64(dst - src);
    case 'mul': return asU64(dst * src);
    case 'div': return src === 0n ? 0n : dst / src;
    case 'mod': return src === 0n ? dst : dst % src;
    case 'sdiv': {
      if (src === 0n) return 0n;
      // Bigint division truncates toward zero; INT64_MIN / -1 = 2^63 wraps back to INT64_MIN.
      return asU64(BigInt.asIntN(64, dst) / BigInt.asIntN(64, src));
    }
    case 'smod': {
      if (src === 0n) return dst;
      // Bigint `%` takes the sign of the dividend, as C's does; INT64_MIN % -1 is 0.
      return asU64(BigInt.asIntN(64, dst) % BigInt.asIntN(64, src));
    }
    case 'or': return dst | src;
    case 'and': return dst & src;
    case 'xor': return dst ^ src;
    case 'mov': return src;
    case 'lsh': return asU64(dst << (src & 63n));
    case 'rsh': return dst >> (src & 63n);
    case 'arsh': return asU64(BigInt.asIntN(64, dst) >> (src & 63n));
    default: return assertNever(op, 'ALU operation');
  }
}

/**
 * `dst op src` for ALU (32-bit, RFC 9669 section 4.1): the low halves of both operands, the result zero-extended
 * to 64 bits. Modulo by zero leaves the low half of `dst`, zero-extended; shift counts are masked to 5 bits.
 */
export function alu32(op: AluOp, dst: bigint, src: bigint): bigint {
  const a = asU32(dst);
  const b = asU32(src);
  switch (op) {
    case 'add': return asU32(a + b);
    case 'sub': return asU32(a - b);
    case 'mul': return asU32(a * b);
    case 'div': return b === 0n ? 0n : a / b;
    case 'mod': return b === 0n ? a : a % b;
    case 'sdiv': return b === 0n ? 0n : asU32(BigInt.asIntN(32, a) / BigInt.asIntN(32, b));
    case 'smod': return b === 0n ? a : asU32(BigInt.asIntN(32, a) % BigInt.asIntN(32, b));
    case 'or': return a | b;
    case 'and': return a & b;
    case 'xor': return a ^ b;
    case 'mov': return b;
    case 'lsh': return asU32(a << (b & 31n));
    case 'rsh': return a >> (b & 31n);
    case 'arsh': return asU32(BigInt.asIntN(32, a) >> (b & 31n));
    default: return assertNever(op, 'ALU operation');
  }
}

/** `dst op src` at the given width (see {@link alu64} and {@link alu32}). */
export function alu(op: AluOp, width: Width, dst: bigint, src: bigint): bigint {
  return width === 64 ? alu64(op, dst, src) : alu32(op, dst, src);
}

/** `-dst` (RFC 9669 section 4.1, NEG); the 32-bit form negates the low half and zero-extends. */
export function neg(width: Width, dst: bigint): bigint {
  return width === 64 ? asU64(-dst) : asU32(-dst);
}

/**
 * `(s{bits}) src` (RFC 9669 section 4.1, MOVSX): sign-extends the low `bits` of `src` to `width`; a 32-bit
 * result is then zero-extended to 64 bits.
 */
export function movsx(width: Width, bits: 8 | 16 | 32, src: bigint): bigint {
  const v = signExtend(src, bits);
  return width === 64 ? v : asU32(v);
}

/** Reverses the order of the low `bits / 8` bytes of `x`; the result is zero-extended. */
export function bswap(x: bigint, bits: 16 | 32 | 64): bigint {
  let out = 0n;
  for (let i = 0n; i < BigInt(bits); i += 8n) out = (out << 8n) | ((x >> i) & 0xffn);
  return out;
}

/**
 * Byte-order conversion (RFC 9669 section 4.2) on a little-endian host: `le` truncates to `bits` (zero-extends),
 * `be` and `swap` (the unconditional BSWAP of ALU64) reverse the low `bits / 8` bytes and zero-extend.
 */
export function endian(order: EndianOrder, bits: 16 | 32 | 64, x: bigint): bigint {
  switch (order) {
    case 'le': return BigInt.asUintN(bits, x);
    case 'be':
    case 'swap': return bswap(x, bits);
    default: return assertNever(order, 'byte order');
  }
}

/**
 * The condition of a conditional jump (RFC 9669 section 4.3) on `dst` and `src` (u64), compared as 64-bit or
 * (JMP32) 32-bit values; `s*` compare signed, `set` tests `dst & src != 0`.
 */
export function cond(op: JmpOp, width: Width, dst: bigint, src: bigint): boolean {
  const a = BigInt.asUintN(width, dst);
  const b = BigInt.asUintN(width, src);
  const sa = BigInt.asIntN(width, dst);
  const sb = BigInt.asIntN(width, src);
  switch (op) {
    case 'eq': return a === b;
    case 'ne': return a !== b;
    case 'gt': return a > b;
    case 'ge': return a >= b;
    case 'lt': return a < b;
    case 'le': return a <= b;
    case 'set': return (a & b) !== 0n;
    case 'sgt': return sa > sb;
    case 'sge': return sa >= sb;
    case 'slt': return sa < sb;
    case 'sle': return sa <= sb;
    default: return assertNever(op, 'jump condition');
  }
}

/** The value a load of `size` bytes gives `dst` (RFC 9669 sections 5.1-5.2): zero- or sign-extended. */
export function loadValue(raw: bigint, size: 1 | 2 | 4 | 8, signed: boolean): bigint {
  const bits = size * 8;
  return signed ? signExtend(raw, bits as 8 | 16 | 32 | 64) : BigInt.asUintN(bits, raw);
}

/** What an atomic operation (RFC 9669 section 5.3) writes to memory and which register receives what. */
export interface AtomicOutcome {
  /** The new memory value (`size` bytes). */
  readonly stored: bigint;
  /** The old memory value, zero-extended: goes to `src` (fetch forms) or `r0` (cmpxchg). */
  readonly fetched: bigint;
}

/**
 * The outcome of an atomic read-modify-write on `old` (the memory value, `size` bytes) with `src` (and `r0` for
 * cmpxchg), RFC 9669 section 5.3: `add/or/and/xor` combine, `xchg` stores `src`, `cmpxchg` stores `src` only when
 * `old == r0` (compared at `size`). The fetched value is always the old one, zero-extended for 32-bit forms.
 */
export function atomic(op: AtomicOp, size: 4 | 8, old: bigint, src: bigint, r0: bigint): AtomicOutcome {
  const bits = size * 8;
  const o = BigInt.asUintN(bits, old);
  const s = BigInt.asUintN(bits, src);
  let stored: bigint;
  switch (op) {
    case 'add': stored = BigInt.asUintN(bits, o + s); break;
    case 'or': stored = o | s; break;
    case 'and': stored = o & s; break;
    case 'xor': stored = o ^ s; break;
    case 'xchg': stored = s; break;
    case 'cmpxchg': stored = BigInt.asUintN(bits, r0) === o ? s : o; break;
    default: return assertNever(op, 'atomic operation');
  }
  return { stored, fetched: o };
}

/** `INT64_MIN` as u64 (for tests and slow paths). */
export const U64_INT_MIN = INT64_MIN;

// ---------------------------------------------------------------------------------------------------------------
// Helpers shared by the fast paths (registers as 32-bit halves).

/** The u64 made of two 32-bit halves (each given as any int32/uint32 bit pattern). */
export function fromHalves(lo: number, hi: number): bigint {
  return hi === 0 ? BigInt(lo >>> 0) : (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** The low half of `x` as an int32 bit pattern. */
export function loHalf(x: bigint): number {
  return Number(x & MASK32) | 0;
}

/** The high half of `x` (taken as u64) as an int32 bit pattern. */
export function hiHalf(x: bigint): number {
  return Number((BigInt.asUintN(64, x) >> 32n) & MASK32) | 0;
}

/**
 * The high 32 bits of the unsigned 64-bit product of two 32-bit values, all as int32 bit patterns (so the result
 * may read negative: `>>> 0` gives the unsigned value).
 *
 * Four 16x16-bit partial products by `Math.imul` (each exact below 2^32), summed column by column: int32
 * arithmetic only, no float and no bigint. The interpreter's 64-bit multiply is this plus two `Math.imul`s.
 */
export function mulhu32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p00 = Math.imul(a0, b0);
  const p01 = Math.imul(a0, b1);
  const p10 = Math.imul(a1, b0);
  const p11 = Math.imul(a1, b1);
  // Bits 16..31 of the product collect three 16-bit pieces; what overflows them carries into the high half.
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) | 0;
}
