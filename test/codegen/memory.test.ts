// Memory instructions on the JIT (RFC 9669 section 5) and the memory rule of src/exec.ts: loads, sign-extending
// loads, stores, atomics, legacy packet loads, and every way an access can fail (out of every region, straddling
// a region edge, a read-only region, a misaligned atomic), each with its code and pc. Every case also runs on
// the interpreter; the two must agree on the outcome and on every byte of the stack and the regions.

import { describe, expect, test } from 'vitest';
import { EXTRA, INPUT, STACK, faultOf, r0Of, runBoth, runJit, u64 } from './harness.js';

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
const seq = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 17 + 3) & 0xff);

describe('loads and stores', () => {
  const input = bytes(0x11, 0x22, 0x33, 0x44, 0x85, 0x96, 0xa7, 0xb8, 0xc9, 0xda);
  test.each([
    ['ldxb', 'ldxb r0, [r1+4]', 0x85n],
    ['ldxh', 'ldxh r0, [r1+1]', 0x3322n],
    ['ldxw', 'ldxw r0, [r1+2]', 0x96854433n],
    ['ldxdw', 'ldxdw r0, [r1+2]', 0xdac9b8a796854433n],
    ['ldxsb', 'ldxsb r0, [r1+4]', u64(-0x7bn)],
    ['ldxsh', 'ldxsh r0, [r1+4]', u64(-0x697bn)],
    ['ldxsw', 'ldxsw r0, [r1+4]', u64(-0x4758697bn)],
    ['ldxsb positive', 'ldxsb r0, [r1+0]', 0x11n],
    ['negative offset', 'add r1, 9\nldxb r0, [r1-9]', 0x11n],
    ['the base register is also the destination', 'ldxb r1, [r1+1]\nmov r0, r1', 0x22n],
  ] as const)('%s', async (_name, asm, expected) => {
    expect(await r0Of(`${asm}\nexit`, { input })).toBe(expected);
  });

  test('stores of every size, from registers and immediates', async () => {
    const o = await runBoth(
      `lddw r2, 0x8877665544332211
      stxb [r1+0], r2
      stxh [r1+1], r2
      stxw [r1+3], r2
      stxdw [r1+7], r2
      stb [r1+15], -1
      sth [r1+16], 0x1234
      stw [r1+18], -2
      stdw [r1+22], -3
      mov r0, 0
      exit`,
      { input: new Uint8Array(30) },
    );
    expect(o.kind).toBe('ok');
    if (o.kind !== 'ok') return;
    expect([...o.input]).toEqual([
      0x11, 0x11, 0x22, 0x11, 0x22, 0x33, 0x44, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0xff, 0x34, 0x12,
      0xfe, 0xff, 0xff, 0xff, 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    ]);
  });

  test('the stack through r10 and through another register', async () => {
    expect(
      await r0Of(`
        lddw r2, 0x0102030405060708
        stxdw [r10-8], r2
        mov r3, r10
        add r3, -8
        ldxw r0, [r3+4]
        stw [r3-504], 7
        ldxw r4, [r10-512]
        add r0, r4
        exit`),
    ).toBe(0x01020304n + 7n);
  });

  test('any byte of the execution stack is allowed, also below the current frame', async () => {
    expect(await r0Of('stdw [r10-4096], 9\nldxdw r0, [r10-4096]\nexit')).toBe(9n);
    expect(await r0Of('mov r1, r10\nstb [r1-4096], 3\nldxb r0, [r1-4096]\nexit')).toBe(3n);
  });

  test('two regions in turn, and more regions than the JIT keeps in globals', async () => {
    const extra = [0, 1, 2, 3, 4, 5].map((i) => ({ start: EXTRA + 0x100 * i, end: EXTRA + 0x100 * i + 16, writable: i % 2 === 0, name: `r${i}`, bytes: seq(16).map((b) => b ^ i) }));
    // Sums one byte of each region, in rounds, so that every access misses the one-entry caches.
    const asm = `
      mov r0, 0
      mov r6, 3
    loop:
      ${extra.map((r) => `lddw r2, ${r.start}\nldxb r3, [r2+5]\nadd r0, r3\nldxb r3, [r1+1]\nadd r0, r3`).join('\n')}
      lddw r2, ${extra[4].start}
      stxb [r2+15], r0
      sub r6, 1
      jne r6, 0, loop
      exit`;
    const o = await runBoth(asm, { input: seq(8), extra });
    expect(o.kind).toBe('ok');
  });

  test('regions smaller than 8 bytes', async () => {
    expect(await r0Of('ldxb r0, [r1+2]\nstb [r1+0], 5\nldxb r2, [r1+0]\nadd r0, r2\nexit', { input: bytes(1, 2, 3) })).toBe(8n);
    expect(await faultOf('ldxw r0, [r1+0]\nexit', { input: bytes(1, 2, 3) })).toEqual({ code: 'out_of_bounds', pc: 0 });
  });

  test('a function that writes r10 accesses memory through checks', async () => {
    // The decoder accepts writes to r10 (the verifier will not): the JIT then loses its unchecked stack path.
    expect(await r0Of('mov r10, r1\nldxb r0, [r10+1]\nexit', { input: bytes(7, 8) })).toBe(8n);
    expect(await faultOf('mov r10, 0\nldxb r0, [r10-8]\nexit')).toEqual({ code: 'out_of_bounds', pc: 1 });
  });
});

describe('access groups: one check for neighbouring accesses through one register (lower-mem.ts, planGroups)', () => {
  // Two adjacent regions, the first read-only: a group's range may straddle them while each access lies in one.
  const pair = [
    { start: EXTRA, end: EXTRA + 8, writable: false, name: 'low', bytes: seq(8) },
    { start: EXTRA + 8, end: EXTRA + 24, writable: true, name: 'high', bytes: seq(16).map((b) => b ^ 0x5a) },
  ];
  const base = `lddw r2, ${EXTRA + 4}\n`;
  test.each([
    ['a group inside one region', 'ldxw r0, [r1+0]\nldxw r3, [r1+4]\nadd r0, r3\nstxw [r1+8], r0\nstxw [r1+12], r3'],
    ['a group of odd width (first and last byte)', 'ldxb r0, [r1+1]\nldxh r3, [r1+9]\nadd r0, r3\nstxb [r1+0], r0\nstxh [r1+11], r3'],
    ['a group straddling two regions, each access in one', `${base}ldxw r0, [r2+0]\nldxw r3, [r2+4]\nadd r0, r3`],
    ['a group of stores straddling a read-only and a writable region', `${base}ldxw r0, [r2+0]\nstxw [r2+4], r0\nstxw [r2+8], r0`],
    ['a group in the stack, through another register', 'mov r2, r10\nadd r2, -700\nstdw [r2+0], 5\nstdw [r2+8], 6\nldxdw r0, [r2+0]\nldxdw r3, [r2+8]\nadd r0, r3'],
    ['a group cut by a write to its base', 'ldxb r0, [r1+0]\nldxb r3, [r1+1]\nadd r1, 1\nldxb r4, [r1+1]\nadd r0, r4\nstxb [r1+0], r0'],
    ['a load into the base register ends its group', 'ldxb r3, [r1+0]\nldxdw r1, [r1+8]\nmov r0, r1'],
  ] as const)('%s', async (_name, asm) => {
    expect((await runBoth(`${asm}\nexit`, { input: seq(16), extra: pair })).kind).toBe('ok');
  });

  test.each([
    // The group's range fails; the accesses before the faulting one still ran (their stores are compared).
    ['the last access of a group out of bounds', 'stb [r1+0], 1\nstb [r1+1], 2\nldxb r0, [r1+16]', 'out_of_bounds', 2],
    ['a store of a group in the read-only region', `${base}ldxw r0, [r2+0]\nstxw [r2+4], r0\nstxw [r2+0], r0`, 'read_only', 4],
    ['a group straddling the end of the stack', 'mov r2, r10\nstb [r2-1], 1\nstb [r2+0], 2', 'out_of_bounds', 2],
    ['a group whose base points nowhere', 'mov r2, 8\nldxb r0, [r2+0]\nldxb r3, [r2+1]', 'out_of_bounds', 1],
  ] as const)('%s', async (_name, asm, code, pc) => {
    expect(await faultOf(`${asm}\nexit`, { input: seq(16), extra: pair })).toEqual({ code, pc });
  });
});

/** Regions besides the input, enough to exceed the JIT's region slots: runs then use its `cache` variant. */
const MANY = [0, 1, 2, 3].map((i) => ({ start: EXTRA + 0x100 * i, end: EXTRA + 0x100 * i + 32, writable: i % 2 === 0, name: `extra${i}` }));

describe.each([
  ['', []],
  [' (more regions than slots)', MANY],
] as const)('memory faults name the code and the pc%s', (_title, extra) => {
  const input = seq(16);
  test.each([
    ['load just past the end', 'ldxb r0, [r1+16]', 'out_of_bounds', 0],
    ['load straddling the end', 'mov r0, 0\nldxw r0, [r1+14]', 'out_of_bounds', 1],
    ['store straddling the start', 'stdw [r1-1], 0', 'out_of_bounds', 0],
    ['load at NULL', 'mov r2, 0\nldxb r0, [r2+0]', 'out_of_bounds', 1],
    ['load at a negative address', 'mov r2, -8\nldxdw r0, [r2+0]', 'out_of_bounds', 1],
    ['an address 2^32 above the input does not wrap into it', 'lddw r2, 0x100000000\nadd r2, r1\nldxb r0, [r2+0]', 'out_of_bounds', 3],
    ['a base 2^32 below the input does not wrap into it', 'lddw r2, 0xffffffff00000000\nadd r2, r1\nldxb r0, [r2+1]', 'out_of_bounds', 3],
    ['above the stack', 'ldxb r0, [r10+0]', 'out_of_bounds', 0],
    ['below the stack', 'ldxb r0, [r10-4097]', 'out_of_bounds', 0],
    ['straddling the top of the stack', 'ldxdw r0, [r10-4]', 'out_of_bounds', 0],
    ['store after other stores', 'stb [r1+0], 1\nstb [r10-1], 2\nstb [r1+16], 3', 'out_of_bounds', 2],
  ] as const)('%s', async (_name, asm, code, pc) => {
    expect(await faultOf(`${asm}\nexit`, { input, extra })).toEqual({ code, pc });
  });

  test('stores to a read-only region fault read_only; loads from it are fine', async () => {
    expect(await faultOf('ldxb r0, [r1+0]\nstb [r1+0], 1\nexit', { input, writable: false, extra })).toEqual({ code: 'read_only', pc: 1 });
    expect(await r0Of('ldxb r0, [r1+3]\nexit', { input, writable: false, extra })).toBe(BigInt(input[3]));
  });

  test('accesses to every region, small ones included', async () => {
    const asm = `ldxb r0, [r1+15]\nstb [r1+15], 9\n${extra.map((r) => `lddw r2, ${r.start}\nldxdw r3, [r2+24]\nadd r0, r3`).join('\n')}\nexit`;
    expect((await runBoth(asm, { input, extra })).kind).toBe('ok');
    expect(await r0Of('ldxh r0, [r1+1]\nsth [r1+0], 7\nexit', { input: bytes(1, 2, 3), extra })).toBe(0x0302n);
  });

  test('the host keeps running after a fault', async () => {
    const o = await runJit('ldxb r0, [r1+100]\nexit', { input });
    expect(o.kind).toBe('fault');
    expect(await r0Of('ldxb r0, [r1+1]\nexit', { input })).toBe(BigInt(input[1]));
  });
});

describe('atomics (RFC 9669 section 5.3)', () => {
  const start = 'lddw r2, 0x00000001000000f0\nstxdw [r10-8], r2\n';
  test.each([
    ['add64', 'mov r3, 0x10\nlock add [r10-8], r3\nldxdw r0, [r10-8]', 0x100000100n],
    ['add32 leaves the upper word', 'mov r3, 0x10\nlock add32 [r10-8], r3\nldxdw r0, [r10-8]', 0x100000100n],
    ['add32 ignores the high half of src', 'lddw r3, 0xff00000010\nlock add32 [r10-8], r3\nldxdw r0, [r10-8]', 0x100000100n],
    ['fetch add64 returns the old value', 'mov r3, 1\nlock fetch add [r10-8], r3\nmov r0, r3', 0x1000000f0n],
    ['fetch add32 zero-extends the old value', 'lddw r3, 0xffffffff00000001\nlock fetch add32 [r10-8], r3\nmov r0, r3', 0xf0n],
    ['or', 'mov r3, 0x0f\nlock or [r10-8], r3\nldxdw r0, [r10-8]', 0x1000000ffn],
    ['fetch and32', 'mov r3, 0x30\nlock fetch and32 [r10-8], r3\nldxdw r0, [r10-8]\nadd r0, r3', 0x100000030n + 0xf0n],
    ['fetch xor', 'mov r3, -1\nlock fetch xor [r10-8], r3\nldxdw r0, [r10-8]\nxor r0, r3', u64(-1n)],
    ['xchg64', 'mov r3, 7\nlock xchg [r10-8], r3\nldxdw r0, [r10-8]\nadd r0, r3', 7n + 0x1000000f0n],
    ['xchg32', 'mov r3, 7\nlock xchg32 [r10-8], r3\nldxdw r0, [r10-8]\nadd r0, r3', 0x100000007n + 0xf0n],
    ['cmpxchg64 success', 'lddw r0, 0x1000000f0\nmov r3, 5\nlock cmpxchg [r10-8], r3\nldxdw r4, [r10-8]\nadd r0, r4', 0x1000000f0n + 5n],
    ['cmpxchg64 failure leaves memory', 'mov r0, 1\nmov r3, 5\nlock cmpxchg [r10-8], r3\nldxdw r4, [r10-8]\nadd r0, r4', 2n * 0x1000000f0n],
    ['cmpxchg32 compares the low half of r0', 'lddw r0, 0xaaaa0000000000f0\nmov r3, 5\nlock cmpxchg32 [r10-8], r3\nldxdw r4, [r10-8]\nadd r0, r4', 0xf0n + 0x100000005n],
    ['cmpxchg32 zero-extends the old value into r0', 'mov r0, 0\nmov r3, 5\nlock cmpxchg32 [r10-8], r3', 0xf0n],
  ] as const)('%s', async (_name, asm, expected) => {
    expect(await r0Of(`${start}${asm}\nexit`)).toBe(expected);
  });

  test('atomics on a region, through a checked address, on a shared memory', async () => {
    const asm = 'mov r3, 3\nmov r4, 3\nlock fetch add [r1+8], r3\nlock add32 [r1+4], r4\nldxdw r0, [r1+0]\nldxdw r5, [r1+8]\nadd r0, r5\nadd r0, r3\nexit';
    for (const shared of [false, true]) expect(await r0Of(asm, { input: new Uint8Array(16), shared })).toBe(0x300000003n);
  });

  test('a misaligned atomic faults misaligned_atomic', async () => {
    expect(await faultOf('mov r3, 1\nlock add [r10-12], r3\nexit')).toEqual({ code: 'misaligned_atomic', pc: 1 });
    expect(await faultOf('mov r3, 1\nlock fetch add32 [r1+2], r3\nexit', { input: new Uint8Array(16) })).toEqual({ code: 'misaligned_atomic', pc: 1 });
  });

  test('regions are checked before alignment, as for stores', async () => {
    expect(await faultOf('mov r3, 1\nlock add [r1+0], r3\nexit', { input: new Uint8Array(16), writable: false })).toEqual({ code: 'read_only', pc: 1 });
    expect(await faultOf('mov r3, 1\nlock add [r1+13], r3\nexit', { input: new Uint8Array(16) })).toEqual({ code: 'out_of_bounds', pc: 1 });
  });
});

describe('legacy packet loads (RFC 9669 section 5.5)', () => {
  const packet = bytes(0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08);
  test.each([
    ['ldabsb', 'ldabsb 3', 0x04n],
    ['ldabsh is big-endian', 'ldabsh 2', 0x0304n],
    ['ldabsw is big-endian', 'ldabsw 4', 0x05060708n],
    ['ldindw', 'mov r6, 2\nldindw r6, 1', 0x04050607n],
    ['ldindb with a negative immediate', 'mov r6, 5\nldindb r6, -2', 0x04n],
    ['out of bounds ends the program with 0', 'mov r0, 9\nldabsw 5\nmov r0, 7', 0n],
    ['a negative offset ends the program with 0', 'mov r6, 1\nldindb r6, -2\nmov r0, 7', 0n],
    ['the index sum wraps at 32 bits', 'mov32 r6, -1\nldindb r6, 1', 0x01n],
    ['only the low half of the index counts', 'lddw r6, 0x100000003\nldindb r6, 0', 0x04n],
    ['a sum past 2^31 is a negative offset', 'mov32 r6, 0x7fffffff\nldindb r6, 1\nmov r0, 9', 0n],
  ] as const)('%s', async (_name, asm, expected) => {
    expect(await r0Of(`${asm}\nexit`, { input: packet })).toBe(expected);
  });

  test('without a packet every packet load ends the program with 0', async () => {
    expect(await r0Of('mov r0, 3\nldabsb 0\nmov r0, 4\nexit')).toBe(0n);
  });

  test('an abort inside a local call ends the whole program', async () => {
    const o = await runBoth('stb [r1+0], 0x55\ncall local f\nmov r0, 5\nexit\nf:\nldabsw 6\nmov r0, 6\nexit', { input: packet });
    expect(o.kind === 'ok' && o.r0).toBe(0n);
    expect(o.kind === 'ok' && o.input[0]).toBe(0x55);
    // Two calls deep; and the same program on a packet that is long enough returns normally, twice in a row.
    const nested = 'call local f\nmov r0, 5\nexit\nf:\ncall local g\nmov r0, 6\nexit\ng:\nldabsw 6\nmov r0, 7\nexit';
    expect(await r0Of(nested, { input: packet })).toBe(0n);
    expect(await r0Of(nested, { input: bytes(1, 2, 3, 4, 5, 6, 7, 8, 9, 10) })).toBe(5n);
  });
});

test('layout assumptions of these tests', () => {
  expect(INPUT).toBeGreaterThan(STACK + 4096);
});
