/**
 * ALU, NEG, MOVSX and byte-swap instructions (RFC 9669 sections 4.1-4.2) on the interpreter: hand-computed
 * values for the edge cases the RFC singles out, then every operation, width and operand kind against the
 * bigint definitions of semantics.ts, on edge values and on random ones.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AluOp, Width } from '../../src/isa/insn.js';
import { assemble } from '../../src/isa/asm.js';
import { Interpreter } from '../../src/interp/interpreter.js';
import { alu, endian, immOperand, movsx, neg } from '../../src/interp/semantics.js';
import { EDGE_IMMS, EDGE_VALUES, lddw, run } from './harness.js';

const U64_MAX = (1n << 64n) - 1n;
const ALU_OPS: readonly AluOp[] = ['add', 'sub', 'mul', 'div', 'sdiv', 'or', 'and', 'lsh', 'rsh', 'mod', 'smod', 'xor', 'mov', 'arsh'];

/** Runs `body` with r1 = a, r2 = b and returns r1 afterwards. */
function evalBody(body: string, a: bigint, b = 0n): bigint {
  return run(`${lddw(1, a)}\n${lddw(2, b)}\n${body}\nmov %r0, %r1\nexit`).r0;
}

/** A program `op r1, r2; r0 = r1` reused for many operand pairs passed as r1, r2. */
function regProgram(op: AluOp, width: Width): Interpreter {
  return new Interpreter(assemble(`${op}${width === 32 ? '32' : ''} %r1, %r2\nmov %r0, %r1\nexit`));
}

/** Random u64s: edge values, uniform ones, and values of magnitude up to 2^54 (the interpreter's fast division stops at 2^52). */
const u64 = fc.oneof(
  fc.constantFrom(...EDGE_VALUES),
  fc.bigInt({ min: 0n, max: U64_MAX }),
  fc.bigInt({ min: 0n, max: 1n << 54n }),
  fc.bigInt({ min: -(1n << 54n), max: 0n }).map((v) => BigInt.asUintN(64, v)),
  fc.bigInt({ min: 0n, max: 0xffff_ffffn }),
);

describe('hand-computed edge cases', () => {
  const cases: ReadonlyArray<readonly [string, bigint, bigint, bigint]> = [
    // [body, r1, r2, expected r1]
    ['add %r1, %r2', 0xffff_ffff_ffff_ffffn, 1n, 0n],
    ['add %r1, %r2', 0xffff_ffffn, 1n, 0x1_0000_0000n],
    ['add32 %r1, %r2', 0xffff_ffffn, 1n, 0n],
    ['add %r1, -1', 5n, 0n, 4n],
    ['add32 %r1, -1', 0x1_0000_0005n, 0n, 4n],
    ['sub %r1, %r2', 0n, 1n, U64_MAX],
    ['sub32 %r1, %r2', 0n, 1n, 0xffff_ffffn],
    ['mul %r1, %r2', 0xffff_ffff_ffff_ffffn, 0xffff_ffff_ffff_ffffn, 1n],
    ['mul %r1, %r2', 0x1_0000_0000n, 0x1_0000_0000n, 0n],
    ['mul %r1, %r2', 0xcbf2_9ce4_8422_2325n, 0x100_0000_01b3n, 0xaf63_bd4c_8601_b7dfn],
    ['mul32 %r1, %r2', 0x1_ffff_ffffn, 0xffff_ffffn, 1n],
    ['mul %r1, -1', 3n, 0n, U64_MAX - 2n],
    // Division by zero gives 0; modulo by zero leaves dst (32-bit: zero-extended).
    ['div %r1, %r2', 7n, 0n, 0n],
    ['div32 %r1, %r2', 0x1_0000_0007n, 0x1_0000_0000n, 0n],
    ['mod %r1, %r2', 0x1234_5678_9abc_def0n, 0n, 0x1234_5678_9abc_def0n],
    ['mod32 %r1, %r2', 0x1234_5678_9abc_def0n, 0n, 0x9abc_def0n],
    ['mod32 %r1, 0', 0xffff_ffff_0000_0007n, 0n, 7n],
    ['sdiv %r1, %r2', 0n, 0n, 0n],
    ['smod %r1, %r2', 0x8000_0000_0000_0000n, 0n, 0x8000_0000_0000_0000n],
    ['smod32 %r1, %r2', 0xffff_ffff_8000_0000n, 0n, 0x8000_0000n],
    // 64-bit unsigned division of large values (the bigint path).
    ['div %r1, %r2', U64_MAX, 3n, 0x5555_5555_5555_5555n],
    ['div %r1, -1', U64_MAX, 0n, 1n], // imm sign-extended: divides by 2^64-1
    ['div32 %r1, -1', 0xffff_fffen, 0n, 0n], // 32-bit: divides by 0xffffffff
    ['mod %r1, %r2', U64_MAX, 0x1_0000_0000n, 0xffff_ffffn],
    // Near 2^52 and 2^53, where the interpreter switches from doubles to bigint.
    ['div %r1, %r2', (1n << 53n) - 1n, 3n, ((1n << 53n) - 1n) / 3n],
    ['div %r1, %r2', 1n << 53n, 3n, (1n << 53n) / 3n],
    ['mod %r1, %r2', (1n << 53n) - 1n, (1n << 52n) + 1n, (1n << 52n) - 2n],
    ['sdiv %r1, %r2', BigInt.asUintN(64, -(1n << 53n)), U64_MAX, 1n << 53n],
    ['smod %r1, %r2', BigInt.asUintN(64, -((1n << 53n) - 1n)), 10n, BigInt.asUintN(64, -1n)],
    ['sdiv %r1, 7', BigInt.asUintN(64, -1_000_000_000_000n), 0n, BigInt.asUintN(64, -142_857_142_857n)],
    ['div %r1, %r2', (1n << 52n) - 1n, (1n << 52n) - 2n, 1n],
    ['mod %r1, %r2', (1n << 52n) - 1n, (1n << 26n) + 1n, ((1n << 52n) - 1n) % ((1n << 26n) + 1n)],
    ['smod %r1, %r2', BigInt.asUintN(64, -((1n << 52n) - 1n)), BigInt.asUintN(64, -3n), BigInt.asUintN(64, -(((1n << 52n) - 1n) % 3n))],
    ['sdiv %r1, %r2', BigInt.asUintN(64, -((1n << 52n) - 1n)), 3n, BigInt.asUintN(64, -(((1n << 52n) - 1n) / 3n))],
    // INT_MIN / -1 = INT_MIN and INT_MIN % -1 = 0, at both widths.
    ['sdiv %r1, %r2', 0x8000_0000_0000_0000n, U64_MAX, 0x8000_0000_0000_0000n],
    ['sdiv %r1, -1', 0x8000_0000_0000_0000n, 0n, 0x8000_0000_0000_0000n],
    ['smod %r1, %r2', 0x8000_0000_0000_0000n, U64_MAX, 0n],
    ['sdiv32 %r1, %r2', 0x8000_0000n, 0xffff_ffffn, 0x8000_0000n],
    ['smod32 %r1, -1', 0x8000_0000n, 0n, 0n],
    // 64-bit sdiv of a sign-extended INT32_MIN by -1 is 2^31, no overflow.
    ['sdiv %r1, -1', 0xffff_ffff_8000_0000n, 0n, 0x8000_0000n],
    // Signed division truncates toward zero; smod takes the dividend's sign.
    ['sdiv %r1, 3', U64_MAX - 6n, 0n, U64_MAX - 1n], // -7 / 3 = -2
    ['smod %r1, 3', U64_MAX - 6n, 0n, U64_MAX], // -7 % 3 = -1
    ['smod %r1, -3', 7n, 0n, 1n], // 7 % -3 = 1
    ['smod32 %r1, 3', 0xffff_fff9n, 0n, 0xffff_ffffn], // -7 % 3 = -1, zero-extended
    ['sdiv32 %r1, %r2', 0xffff_fff9n, 2n, 0xffff_fffdn], // -7 / 2 = -3
    // Shift counts are masked (& 63, & 31).
    ['lsh %r1, %r2', 1n, 64n, 1n],
    ['lsh %r1, %r2', 1n, 65n, 2n],
    ['lsh %r1, %r2', 1n, 63n, 0x8000_0000_0000_0000n],
    ['lsh %r1, 32', 0x1234_5678n, 0n, 0x1234_5678_0000_0000n],
    ['lsh32 %r1, %r2', 1n, 33n, 2n],
    ['lsh32 %r1, 31', 3n, 0n, 0x8000_0000n],
    ['rsh %r1, %r2', 0x8000_0000_0000_0000n, 63n, 1n],
    ['rsh %r1, %r2', 0x8000_0000_0000_0000n, 127n, 1n],
    ['rsh %r1, 4', 0x1234_5678_9abc_def0n, 0n, 0x0123_4567_89ab_cdefn],
    ['rsh32 %r1, %r2', 0xffff_ffff_8000_0000n, 31n, 1n],
    ['arsh %r1, %r2', 0x8000_0000_0000_0000n, 63n, U64_MAX],
    ['arsh %r1, 36', 0x8000_0000_0000_0000n, 0n, 0xffff_ffff_f800_0000n],
    ['arsh %r1, 4', 0xf000_0000_0000_0010n, 0n, 0xff00_0000_0000_0001n],
    ['arsh32 %r1, %r2', 0x8000_0000n, 4n, 0xf800_0000n],
    ['arsh32 %r1, %r2', 0x8000_0000n, 36n, 0xf800_0000n],
    ['or32 %r1, %r2', 0xffff_ffff_0000_0000n, 1n, 1n],
    ['and %r1, -2', U64_MAX, 0n, U64_MAX - 1n],
    ['xor32 %r1, -1', 0xffff_ffff_0000_0000n, 0n, 0xffff_ffffn],
    ['mov %r1, -1', 0n, 0n, U64_MAX],
    ['mov32 %r1, -1', 0n, 0n, 0xffff_ffffn],
    ['mov32 %r1, %r2', 0n, U64_MAX, 0xffff_ffffn],
    ['neg %r1', 1n, 0n, U64_MAX],
    ['neg %r1', 0x8000_0000_0000_0000n, 0n, 0x8000_0000_0000_0000n],
    ['neg %r1', 0x1_0000_0000n, 0n, 0xffff_ffff_0000_0000n],
    ['neg32 %r1', 1n, 0n, 0xffff_ffffn],
    ['neg32 %r1', 0x5_0000_0000n, 0n, 0n],
    // movsx: 8/16/32 → 64; 8/16 → 32, zero-extended.
    ['movsx864 %r1, %r2', 0n, 0x80n, 0xffff_ffff_ffff_ff80n],
    ['movsx1664 %r1, %r2', 0n, 0x1_8000n, 0xffff_ffff_ffff_8000n],
    ['movsx3264 %r1, %r2', 0n, 0x1_8000_0000n, 0xffff_ffff_8000_0000n],
    ['movsx3264 %r1, %r2', 0n, 0x1_7fff_ffffn, 0x7fff_ffffn],
    ['movsx832 %r1, %r2', 0n, 0xffn, 0xffff_ffffn],
    ['movsx1632 %r1, %r2', 0n, 0x7fffn, 0x7fffn],
    // Byte order on a little-endian host: le truncates, be and bswap swap.
    ['le16 %r1', 0x1122_3344_5566_7788n, 0n, 0x7788n],
    ['le32 %r1', 0x1122_3344_5566_7788n, 0n, 0x5566_7788n],
    ['le64 %r1', 0x1122_3344_5566_7788n, 0n, 0x1122_3344_5566_7788n],
    ['be16 %r1', 0x1122_3344_5566_7788n, 0n, 0x8877n],
    ['be32 %r1', 0x1122_3344_5566_7788n, 0n, 0x8877_6655n],
    ['be64 %r1', 0x1122_3344_5566_7788n, 0n, 0x8877_6655_4433_2211n],
    ['bswap16 %r1', 0x1122_3344_5566_7788n, 0n, 0x8877n],
    ['bswap32 %r1', 0x1122_3344_5566_7788n, 0n, 0x8877_6655n],
    ['bswap64 %r1', 0x1122_3344_5566_7788n, 0n, 0x8877_6655_4433_2211n],
  ];
  it.each(cases)('%s with r1=%s r2=%s', (body, a, b, expected) => {
    expect(evalBody(body, a, b)).toBe(expected);
  });
});

describe('every ALU operation against semantics.ts', () => {
  for (const width of [64, 32] as const) {
    for (const op of ALU_OPS) {
      const name = `${op}${width === 32 ? '32' : ''}`;
      it(`${name} reg: edge values pairwise`, () => {
        const p = regProgram(op, width);
        for (const a of EDGE_VALUES) {
          for (const b of EDGE_VALUES) {
            expect(run(p, { args: [a, b] }).r0, `${name} ${a} ${b}`).toBe(alu(op, width, a, b));
          }
        }
      });
      it(`${name} reg: random values`, () => {
        const p = regProgram(op, width);
        fc.assert(fc.property(u64, u64, (a, b) => run(p, { args: [a, b] }).r0 === alu(op, width, a, b)), { numRuns: 300 });
      });
      it(`${name} imm: edge immediates`, () => {
        for (const imm of EDGE_IMMS) {
          const p = new Interpreter(assemble(`${name} %r1, ${imm}\nmov %r0, %r1\nexit`));
          for (const a of EDGE_VALUES) {
            expect(run(p, { args: [a] }).r0, `${name} ${a}, ${imm}`).toBe(alu(op, width, a, immOperand(imm)));
          }
        }
      });
    }
  }
});

describe('64-bit division in doubles (magnitudes below 2^52) against semantics.ts', () => {
  // Magnitudes spread over every bit length up to 2^53, with both signs, so the rounding of `a / b` is hit.
  const magnitude = fc.integer({ min: 0, max: 53 }).chain((bits) => fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n }));
  const operand = fc.tuple(magnitude, fc.boolean()).map(([m, neg]) => BigInt.asUintN(64, neg ? -m : m));
  for (const op of ['div', 'mod', 'sdiv', 'smod'] as const) {
    it(op, () => {
      const p = regProgram(op, 64);
      fc.assert(fc.property(operand, operand, (a, b) => run(p, { args: [a, b] }).r0 === alu(op, 64, a, b)), { numRuns: 2000 });
    });
  }
});

describe('neg, movsx and byte swaps against semantics.ts', () => {
  for (const width of [64, 32] as const) {
    it(`neg${width === 32 ? '32' : ''}`, () => {
      const p = new Interpreter(assemble(`neg${width === 32 ? '32' : ''} %r1\nmov %r0, %r1\nexit`));
      for (const a of EDGE_VALUES) expect(run(p, { args: [a] }).r0).toBe(neg(width, a));
    });
  }
  for (const [width, bits] of [[64, 8], [64, 16], [64, 32], [32, 8], [32, 16]] as const) {
    it(`movsx${bits}${width}`, () => {
      const p = new Interpreter(assemble(`movsx${bits}${width} %r1, %r2\nmov %r0, %r1\nexit`));
      for (const b of EDGE_VALUES) expect(run(p, { args: [U64_MAX, b] }).r0).toBe(movsx(width, bits, b));
    });
  }
  for (const order of ['le', 'be', 'swap'] as const) {
    for (const bits of [16, 32, 64] as const) {
      const mnemonic = `${order === 'swap' ? 'bswap' : order}${bits}`;
      it(mnemonic, () => {
        const p = new Interpreter(assemble(`${mnemonic} %r1\nmov %r0, %r1\nexit`));
        for (const a of EDGE_VALUES) expect(run(p, { args: [a] }).r0).toBe(endian(order, bits, a));
      });
    }
  }
});

describe('lddw', () => {
  it('loads every 64-bit pattern exactly', () => {
    for (const v of EDGE_VALUES) expect(run(`${lddw(0, v)}\nexit`).r0).toBe(v);
  });
  it('continues after its second slot', () => {
    expect(run(`mov %r0, 1\n${lddw(2, 5n)}\nadd %r0, %r2\nexit`).r0).toBe(6n);
  });
  it('rejects lddw with a loader-resolved src at construction', () => {
    expect(() => new Interpreter(assemble('lddw map_fd %r1, 3\nexit'))).toThrowError(expect.objectContaining({ code: 'bad_lddw_src', pc: 0 }));
  });
});
