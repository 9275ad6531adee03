// Register-only instructions on the JIT (RFC 9669 sections 4.1-4.3, 5.4): every ALU operation at both widths
// and with both operand kinds, negation, sign-extending moves, byte swaps, lddw and every jump condition, with
// the edge cases where Wasm and eBPF disagree. Expected values are computed by hand; every case also runs on the
// interpreter and must agree with it byte for byte.

import { describe, expect, test } from 'vitest';
import { r0Of, u64 } from './harness.js';

const INT64_MIN = 0x8000000000000000n;

/** `setup` then `op`, result in r0. */
type Case = readonly [name: string, asm: string, expected: bigint];

const cases = (rows: readonly Case[]): void => {
  test.each(rows)('%s', async (_name, asm, expected) => {
    expect(await r0Of(asm + '\nexit')).toBe(u64(expected));
  });
};

describe('64-bit ALU', () => {
  cases([
    ['add reg', 'mov r0, 5\nmov r1, -7\nadd r0, r1', -2n],
    ['add imm sign-extends', 'mov r0, 0\nadd r0, -1', -1n],
    ['sub wraps', 'mov r0, 0\nsub r0, 1', -1n],
    ['mul wraps', 'lddw r0, 0x100000001\nlddw r1, 0x100000001\nmul r0, r1', 0x200000001n],
    ['mul imm negative', 'mov r0, 3\nmul r0, -2', -6n],
    ['div', 'mov r0, 100\nmov r1, 7\ndiv r0, r1', 14n],
    ['div by zero reg gives 0', 'mov r0, 100\nmov r1, 0\ndiv r0, r1', 0n],
    ['div by zero imm gives 0', 'mov r0, 100\ndiv r0, 0', 0n],
    ['div is unsigned', 'mov r0, -1\ndiv r0, 2', 0x7fffffffffffffffn],
    ['div by negative imm divides by 2^64-1', 'mov r0, -1\ndiv r0, -1', 1n],
    ['sdiv', 'mov r0, -100\nsdiv r0, 7', -14n],
    ['sdiv reg', 'mov r0, 100\nmov r1, -7\nsdiv r0, r1', -14n],
    ['sdiv by zero gives 0', 'mov r0, -100\nmov r1, 0\nsdiv r0, r1', 0n],
    ['sdiv INT_MIN / -1 reg is INT_MIN', 'lddw r0, 0x8000000000000000\nmov r1, -1\nsdiv r0, r1', INT64_MIN],
    ['sdiv INT_MIN / -1 imm is INT_MIN', 'lddw r0, 0x8000000000000000\nsdiv r0, -1', INT64_MIN],
    ['sdiv by -1 negates', 'mov r0, 42\nmov r1, -1\nsdiv r0, r1', -42n],
    ['mod', 'mov r0, 100\nmod r0, 7', 2n],
    ['mod by zero reg leaves dst', 'lddw r0, 0x123456789\nmov r1, 0\nmod r0, r1', 0x123456789n],
    ['mod by zero imm leaves dst', 'lddw r0, 0x123456789\nmod r0, 0', 0x123456789n],
    ['mod is unsigned', 'mov r0, -1\nmod r0, 10', 5n],
    ['smod sign follows the dividend', 'mov r0, -7\nsmod r0, 2', -1n],
    ['smod reg', 'mov r0, 7\nmov r1, -2\nsmod r0, r1', 1n],
    ['smod by zero leaves dst', 'mov r0, -7\nmov r1, 0\nsmod r0, r1', -7n],
    ['smod INT_MIN % -1 is 0', 'lddw r0, 0x8000000000000000\nmov r1, -1\nsmod r0, r1', 0n],
    ['smod INT_MIN % -1 imm is 0', 'lddw r0, 0x8000000000000000\nsmod r0, -1', 0n],
    ['or', 'mov r0, 0x0f\nor r0, 0xf0', 0xffn],
    ['and imm sign-extends', 'mov r0, -1\nand r0, -256', -256n],
    ['xor', 'mov r0, -1\nxor r0, 1', -2n],
    ['lsh', 'mov r0, 1\nlsh r0, 63', INT64_MIN],
    ['lsh count masked to 6 bits', 'mov r0, 1\nmov r1, 65\nlsh r0, r1', 2n],
    ['rsh is logical', 'mov r0, -1\nrsh r0, 60', 0xfn],
    ['rsh count masked', 'mov r0, 256\nmov r1, 68\nrsh r0, r1', 16n],
    ['arsh is arithmetic', 'mov r0, -256\narsh r0, 4', -16n],
    ['arsh count masked', 'mov r0, -256\nmov r1, 68\narsh r0, r1', -16n],
    ['mov imm sign-extends', 'mov r0, -1', -1n],
    ['mov reg', 'lddw r1, 0x1122334455667788\nmov r0, r1', 0x1122334455667788n],
    ['neg', 'mov r0, 5\nneg r0', -5n],
    ['neg INT_MIN', 'lddw r0, 0x8000000000000000\nneg r0', INT64_MIN],
  ]);
});

describe('32-bit ALU (results zero-extended)', () => {
  cases([
    ['add32 wraps and zero-extends', 'mov r0, -1\nadd32 r0, 1', 0n],
    ['add32 imm -1', 'mov r0, 0\nadd32 r0, -1', 0xffffffffn],
    ['sub32 clears the high half', 'lddw r0, 0xffffffff00000005\nsub32 r0, 1', 4n],
    ['mul32', 'mov r0, 0x10000\nmul32 r0, 0x10001', 0x10000n],
    ['div32', 'mov r0, -1\ndiv32 r0, 2', 0x7fffffffn],
    ['div32 uses the low halves only', 'lddw r0, 0x100000064\nlddw r1, 0x100000007\ndiv32 r0, r1', 14n],
    ['div32 by zero gives 0', 'mov r0, 9\nmov r1, 0\ndiv32 r0, r1', 0n],
    ['div32 by a zero low half gives 0', 'mov r0, 9\nlddw r1, 0x100000000\ndiv32 r0, r1', 0n],
    ['sdiv32', 'mov32 r0, -100\nsdiv32 r0, 7', 0xfffffff2n],
    ['sdiv32 INT_MIN / -1', 'mov32 r0, 0x80000000\nmov r1, -1\nsdiv32 r0, r1', 0x80000000n],
    ['sdiv32 INT_MIN / -1 imm', 'mov32 r0, 0x80000000\nsdiv32 r0, -1', 0x80000000n],
    ['sdiv32 by zero', 'mov32 r0, -5\nmov r1, 0\nsdiv32 r0, r1', 0n],
    ['mod32', 'mov r0, 100\nmod32 r0, 7', 2n],
    ['mod32 by zero leaves the low half, zero-extended', 'lddw r0, 0xaaaaaaaa12345678\nmov r1, 0\nmod32 r0, r1', 0x12345678n],
    ['mod32 by zero imm zero-extends', 'lddw r0, 0xaaaaaaaa12345678\nmod32 r0, 0', 0x12345678n],
    ['smod32', 'mov32 r0, -7\nsmod32 r0, 2', 0xffffffffn],
    ['smod32 INT_MIN % -1', 'mov32 r0, 0x80000000\nmov r1, -1\nsmod32 r0, r1', 0n],
    ['smod32 by zero zero-extends dst', 'lddw r0, 0xaaaaaaaa87654321\nmov r1, 0\nsmod32 r0, r1', 0x87654321n],
    ['or32', 'lddw r0, 0xff00000000\nor32 r0, 1', 1n],
    ['and32', 'mov r0, -1\nand32 r0, -1', 0xffffffffn],
    ['xor32', 'mov r0, -1\nxor32 r0, 0', 0xffffffffn],
    ['lsh32', 'mov r0, 1\nlsh32 r0, 31', 0x80000000n],
    ['lsh32 count masked to 5 bits', 'mov r0, 1\nmov r1, 33\nlsh32 r0, r1', 2n],
    ['rsh32 of a negative low half', 'mov r0, -1\nrsh32 r0, 28', 0xfn],
    ['arsh32 sign-extends within 32 bits, then zero-extends', 'mov r0, -256\narsh32 r0, 4', 0xfffffff0n],
    ['arsh32 count masked', 'mov32 r0, 0x80000000\nmov r1, 63\narsh32 r0, r1', 0xffffffffn],
    ['mov32 zero-extends', 'mov32 r0, -1', 0xffffffffn],
    ['mov32 reg truncates', 'lddw r1, 0x1122334455667788\nmov32 r0, r1', 0x55667788n],
    ['neg32', 'mov r0, 5\nneg32 r0', 0xfffffffbn],
    ['neg32 INT_MIN', 'mov32 r0, 0x80000000\nneg32 r0', 0x80000000n],
  ]);
});

describe('sign-extending moves (MOVSX)', () => {
  cases([
    ['movsx8 64', 'mov r1, 0x80\nmovsx864 r0, r1', -128n],
    ['movsx16 64', 'mov r1, 0x8001\nmovsx1664 r0, r1', -32767n],
    ['movsx32 64', 'mov32 r1, 0x80000000\nmovsx3264 r0, r1', -0x80000000n],
    ['movsx8 64 positive', 'mov r1, 0x17f\nmovsx864 r0, r1', 0x7fn],
    ['movsx8 32 zero-extends', 'mov r1, 0xff\nmovsx832 r0, r1', 0xffffffffn],
    ['movsx16 32', 'mov r1, 0x8000\nmovsx1632 r0, r1', 0xffff8000n],
  ]);
});

describe('byte order (RFC 9669 section 4.2)', () => {
  const v = 'lddw r0, 0x1122334455667788\n';
  cases([
    ['le16 truncates', v + 'le16 r0', 0x7788n],
    ['le32 truncates', v + 'le32 r0', 0x55667788n],
    ['le64 is a no-op', v + 'le64 r0', 0x1122334455667788n],
    ['be16', v + 'be16 r0', 0x8877n],
    ['be32', v + 'be32 r0', 0x88776655n],
    ['be64', v + 'be64 r0', 0x8877665544332211n],
    ['bswap16', v + 'bswap16 r0', 0x8877n],
    ['bswap32', v + 'bswap32 r0', 0x88776655n],
    ['bswap64', v + 'bswap64 r0', 0x8877665544332211n],
    ['bswap64 with high bits set', 'lddw r0, 0x80000000000000ff\nbswap64 r0', 0xff00000000000080n],
  ]);
});

describe('lddw (RFC 9669 section 5.4)', () => {
  cases([
    ['full 64-bit value', 'lddw r0, 0xfedcba9876543210', 0xfedcba9876543210n],
    ['negative', 'lddw r0, -2', -2n],
  ]);
});

describe('conditional jumps (RFC 9669 section 4.3)', () => {
  // r0 = 1 when the jump is taken, 0 when not.
  const jump = (setup: string, j: string): string => `${setup}\nmov r0, 1\n${j}, +1\nmov r0, 0`;
  const rows: [string, string, string, bigint][] = [
    ['jeq taken', 'mov r1, 5', 'jeq r1, 5', 1n],
    ['jeq not taken', 'mov r1, 5', 'jeq r1, 6', 0n],
    ['jeq imm sign-extends', 'mov r1, -1', 'jeq r1, -1', 1n],
    ['jeq32 compares low halves', 'lddw r1, 0x100000005', 'jeq32 r1, 5', 1n],
    ['jeq 64 sees the high half', 'lddw r1, 0x100000005', 'jeq r1, 5', 0n],
    ['jne', 'mov r1, 5', 'jne r1, 6', 1n],
    ['jgt is unsigned', 'mov r1, -1', 'jgt r1, 5', 1n],
    ['jsgt is signed', 'mov r1, -1', 'jsgt r1, 5', 0n],
    ['jge equal', 'mov r1, 5', 'jge r1, 5', 1n],
    ['jsge', 'mov r1, -5', 'jsge r1, -5', 1n],
    ['jlt unsigned', 'mov r1, 5', 'jlt r1, -1', 1n],
    ['jslt signed', 'mov r1, 5', 'jslt r1, -1', 0n],
    ['jle', 'mov r1, 5', 'jle r1, 5', 1n],
    ['jsle', 'mov r1, -6', 'jsle r1, -5', 1n],
    ['jset', 'mov r1, 6', 'jset r1, 2', 1n],
    ['jset clear', 'mov r1, 6', 'jset r1, 1', 0n],
    ['jset 64 sees the high half', 'lddw r1, 0x100000000\nlddw r2, 0x100000000', 'jset r1, r2', 1n],
    ['jset32 ignores the high half', 'lddw r1, 0x100000000\nlddw r2, 0x100000000', 'jset32 r1, r2', 0n],
    ['jgt32 unsigned on low halves', 'mov32 r1, -1', 'jgt32 r1, 1', 1n],
    ['jsgt32 signed on low halves', 'mov32 r1, -1', 'jsgt32 r1, 1', 0n],
    ['jslt32 with a huge high half', 'lddw r1, 0x7fffffff00000001\nmov r2, 2', 'jslt32 r1, r2', 1n],
    ['jsge32 reg', 'mov32 r1, -3\nmov32 r2, -4', 'jsge32 r1, r2', 1n],
    ['jle32 reg', 'mov r1, 3\nlddw r2, 0xff00000003', 'jle32 r1, r2', 1n],
    ['jlt reg unsigned', 'mov r1, 3\nmov r2, -3', 'jlt r1, r2', 1n],
    ['jsle reg signed', 'mov r1, 3\nmov r2, -3', 'jsle r1, r2', 0n],
  ];
  test.each(rows)('%s', async (_name, setup, j, expected) => {
    expect(await r0Of(jump(setup, j) + '\nexit')).toBe(expected);
  });
});
