/**
 * Loads, stores, atomics and legacy packet loads (RFC 9669 section 5) on the interpreter: byte order, sizes,
 * sign extension, unaligned accesses, every region kind (stack, input, read-only, a region the fast path cannot
 * cache), atomics against semantics.atomic, and LD_ABS / LD_IND including their out-of-packet exit.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { STACK_SIZE, type HelperFn } from '../../src/exec.js';
import type { AtomicOp } from '../../src/isa/insn.js';
import { assemble } from '../../src/isa/asm.js';
import { Interpreter } from '../../src/interp/interpreter.js';
import { atomic, loadValue } from '../../src/interp/semantics.js';
import { EDGE_VALUES, FP, INPUT, RODATA, STACK_BASE, lddw, makeRequest, run } from './harness.js';

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
const INPUT16 = bytes(0x01, 0x82, 0x03, 0x84, 0x05, 0x86, 0x07, 0x88, 0x09, 0x8a, 0x0b, 0x8c, 0x0d, 0x8e, 0x0f, 0x90);

/** Little-endian value of `size` bytes of `b` at `off`. */
function le(b: Uint8Array, off: number, size: number): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[off + i]);
  return v;
}

describe('loads', () => {
  const cases = [['ldxb', 1, false], ['ldxh', 2, false], ['ldxw', 4, false], ['ldxdw', 8, false], ['ldxsb', 1, true], ['ldxsh', 2, true], ['ldxsw', 4, true]] as const;
  for (const [mnemonic, size, signed] of cases) {
    it(`${mnemonic}: little-endian, ${signed ? 'sign' : 'zero'}-extended, at every (unaligned) offset`, () => {
      for (let off = 0; off + size <= INPUT16.length; off++) {
        const r0 = run(`${mnemonic} %r0, [%r1+${off}]\nexit`, { input: INPUT16 }).r0;
        expect(r0, `offset ${off}`).toBe(loadValue(le(INPUT16, off, size), size, signed));
      }
    });
  }
  it('hand-computed sign extension', () => {
    expect(run('ldxsb %r0, [%r1+1]\nexit', { input: INPUT16 }).r0).toBe(0xffff_ffff_ffff_ff82n);
    expect(run('ldxsh %r0, [%r1+0]\nexit', { input: INPUT16 }).r0).toBe(0xffff_ffff_ffff_8201n);
    expect(run('ldxsw %r0, [%r1+4]\nexit', { input: INPUT16 }).r0).toBe(0xffff_ffff_8807_8605n);
    expect(run('ldxsw %r0, [%r1+0]\nexit', { input: INPUT16 }).r0).toBe(0xffff_ffff_8403_8201n);
    expect(run('ldxw %r0, [%r1+0]\nexit', { input: INPUT16 }).r0).toBe(0x8403_8201n);
  });
  it('loads from a read-only region', () => {
    expect(run(`${lddw(1, BigInt(RODATA))}\nldxdw %r0, [%r1+8]\nexit`).r0).toBe(0xafae_adac_abaa_a9a8n);
  });
  it('loads with a negative offset and with the base register as destination', () => {
    expect(run('add %r1, 8\nldxb %r1, [%r1-7]\nmov %r0, %r1\nexit', { input: INPUT16 }).r0).toBe(0x82n);
  });
});

describe('stores', () => {
  it('st and stx of every size write little-endian bytes', () => {
    const src = [
      'stb [%r1+0], 0x1ff', // only the low byte
      'sth [%r1+1], -2',
      'stw [%r1+3], 0x11223344',
      'stdw [%r1+7], -3', // imm sign-extended to 64 bits
      lddw(2, 0x0102_0304_0506_0708n),
      'stxb [%r1+15], %r2',
      'stxh [%r1+16], %r2',
      'stxw [%r1+18], %r2',
      'stxdw [%r1+22], %r2',
      'mov %r0, 0',
      'exit',
    ].join('\n');
    const { mem } = run(src, { input: new Uint8Array(32) });
    expect([...mem]).toEqual([
      0xff, 0xfe, 0xff, 0x44, 0x33, 0x22, 0x11, 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0x08, 0x08, 0x07, 0x08, 0x07, 0x06, 0x05, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0, 0,
    ]);
  });
  it('stores and reloads through the stack (r10) at every offset of its frame', () => {
    const src = [lddw(1, 0x1122_3344_5566_7788n), 'stxdw [%r10-8], %r1', 'stxdw [%r10-512], %r1', 'ldxdw %r0, [%r10-8]', 'ldxdw %r2, [%r10-512]', 'sub %r0, %r2', 'ldxw %r3, [%r10-4]', 'add %r0, %r3', 'exit'].join('\n');
    expect(run(src).r0).toBe(0x1122_3344n);
  });
  it('alternates stack and input accesses (cache misses both ways)', () => {
    const src = ['mov %r0, 0', 'mov %r3, 0', 'loop:', 'ldxb %r4, [%r1+0]', 'stxb [%r10-1], %r4', 'ldxb %r5, [%r10-1]', 'add %r0, %r5', 'stxb [%r1+0], %r3', 'add %r1, 1', 'add %r3, 1', 'jlt %r3, 16, loop', 'exit'].join('\n');
    const { r0, mem } = run(src, { input: INPUT16 });
    expect(r0).toBe(BigInt(INPUT16.reduce((a, b) => a + b, 0)));
    expect([...mem]).toEqual([...Array(16).keys()]);
  });
  it('accesses a region the fast path cannot cache (below 32 KiB) exactly', () => {
    const interp = new Interpreter(assemble(`${lddw(1, 0x100n)}\nstxw [%r1+4], %r2\nldxw %r0, [%r1+4]\nldxb %r3, [%r1+7]\nadd %r0, %r3\nexit`));
    const req = makeRequest({ args: [0n, 0xab00_0001n] });
    const withLow = { ...req, regions: [...req.regions, { start: 0x100, end: 0x110, writable: true, name: 'low' }] };
    expect(interp.run(withLow)).toBe(0xab00_0001n + 0xabn);
    expect(new Uint8Array(req.memory.buffer, 0x104, 4)).toEqual(bytes(0x01, 0x00, 0x00, 0xab));
  });
  it('re-derives its views when a helper grows the memory', () => {
    const grow: HelperFn = (_a, _b, _c, _d, _e, env) => {
      env.memory.grow(2);
      return 0n;
    };
    const { r0, mem } = run('mov %r6, %r1\ncall 1\nldxb %r0, [%r6+1]\nstb [%r6+0], 9\nexit', { input: INPUT16, helpers: new Map([[1, grow]]) });
    expect(r0).toBe(0x82n);
    expect(mem[0]).toBe(9);
  });
});

describe('atomics against semantics.atomic', () => {
  const OPS: readonly AtomicOp[] = ['add', 'or', 'and', 'xor', 'xchg', 'cmpxchg'];
  const u64 = fc.oneof(fc.constantFrom(...EDGE_VALUES), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }));
  for (const size of [8, 4] as const) {
    for (const op of OPS) {
      for (const fetch of op === 'xchg' || op === 'cmpxchg' ? [true] : [false, true]) {
        const mnemonic = `lock ${fetch && op !== 'xchg' && op !== 'cmpxchg' ? 'fetch ' : ''}${op}${size === 4 ? '32' : ''}`;
        it(mnemonic, () => {
          // memory at [r1+8] = old; r2 = src; r0 = comparand (passed in r3); afterwards r0, r2 and the memory
          // word are reported.
          const interp = new Interpreter(assemble(`mov %r0, %r3\n${mnemonic} [%r1+8], %r2\nstxdw [%r1+16], %r0\nstxdw [%r1+24], %r2\nexit`));
          fc.assert(fc.property(u64, u64, u64, fc.boolean(), (old, src, r0, equal) => {
            const comparand = equal ? old : r0;
            const input = new Uint8Array(32);
            new DataView(input.buffer).setBigUint64(8, old, true);
            const req = makeRequest({ input, args: [BigInt(INPUT), src, comparand] });
            interp.run(req);
            const out = new DataView(req.memory.buffer, INPUT, 32);
            const want = atomic(op, size, old, src, comparand);
            const oldHigh = size === 4 ? old & 0xffff_ffff_0000_0000n : 0n;
            const stored = out.getBigUint64(8, true);
            const r0After = out.getBigUint64(16, true);
            const srcAfter = out.getBigUint64(24, true);
            expect(stored).toBe(oldHigh | want.stored);
            expect(r0After).toBe(op === 'cmpxchg' ? want.fetched : comparand);
            expect(srcAfter).toBe(fetch && op !== 'cmpxchg' ? want.fetched : src);
          }), { numRuns: 60 });
        });
      }
    }
  }
  it('hand-computed: fetch add returns the old value, cmpxchg swaps only on equality', () => {
    const input = new Uint8Array(16);
    new DataView(input.buffer).setBigUint64(0, 0xffff_ffffn, true);
    const { r0, mem } = run('mov %r2, 1\nlock fetch add32 [%r1+0], %r2\nmov %r0, %r2\nexit', { input });
    expect(r0).toBe(0xffff_ffffn);
    expect(le(mem, 0, 8)).toBe(0n); // 32-bit add wraps and leaves the upper word alone
    const swap = 'lddw %r0, 0x1122334455667788\nlddw %r2, 7\nlock cmpxchg [%r1+0], %r2\nexit';
    const hit = new Uint8Array(8);
    new DataView(hit.buffer).setBigUint64(0, 0x1122_3344_5566_7788n, true);
    const a = run(swap, { input: hit });
    expect(a.r0).toBe(0x1122_3344_5566_7788n);
    expect(le(a.mem, 0, 8)).toBe(7n);
    const miss = new Uint8Array(8).fill(1);
    const b = run(swap, { input: miss });
    expect(b.r0).toBe(0x0101_0101_0101_0101n);
    expect(le(b.mem, 0, 8)).toBe(0x0101_0101_0101_0101n);
  });
  it('atomics on the stack', () => {
    expect(run('stdw [%r10-8], 40\nmov %r1, 2\nlock add [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit').r0).toBe(42n);
  });
});

describe('legacy packet loads', () => {
  const PKT = bytes(0x45, 0x00, 0x00, 0x54, 0xab, 0xcd, 0x40, 0x00, 0x40, 0x01, 0xff, 0xee);
  it('ldabs reads big-endian bytes, halves and words, zero-extended', () => {
    expect(run('ldabsb 4\nexit', { input: PKT }).r0).toBe(0xabn);
    expect(run('ldabsh 4\nexit', { input: PKT }).r0).toBe(0xabcdn);
    expect(run('ldabsw 8\nexit', { input: PKT }).r0).toBe(0x4001_ffeen);
  });
  it('ldind adds the index register (low 32 bits) to imm', () => {
    expect(run('mov %r6, 6\nldindh %r6, 2\nexit', { input: PKT }).r0).toBe(0x4001n);
    expect(run(`${lddw(6, 0x7_0000_0002n)}\nldindb %r6, 2\nexit`, { input: PKT }).r0).toBe(0xabn);
    // 32-bit arithmetic: 0xffffffff + 2 = 1.
    expect(run(`${lddw(6, 0xffff_ffffn)}\nldindb %r6, 2\nexit`, { input: PKT }).r0).toBe(0x00n);
    expect(run(`${lddw(6, 0xffff_ffffn)}\nldindb %r6, 6\nexit`, { input: PKT }).r0).toBe(0xcdn);
  });
  it('leaves r1-r5 unchanged', () => {
    expect(run('mov %r2, 5\nmov %r5, 9\nldabsw 0\nadd %r2, %r5\nmov %r0, %r2\nexit', { input: PKT }).r0).toBe(14n);
  });
  it('ends the program with r0 = 0 on any byte outside the packet, or without a packet', () => {
    const tail = '\nmov %r0, 77\nexit';
    expect(run('mov %r0, 5\nldabsw 8' + tail, { input: PKT }).r0).toBe(77n); // last four bytes: inside
    expect(run('mov %r0, 5\nldabsw 9' + tail, { input: PKT }).r0).toBe(0n);
    expect(run('mov %r0, 5\nldabsb 12' + tail, { input: PKT }).r0).toBe(0n);
    expect(run('mov %r0, 5\nldabsh -1' + tail, { input: PKT }).r0).toBe(0n);
    expect(run('mov %r6, -4\nldindb %r6, 2' + tail, { input: PKT }).r0).toBe(0n);
    expect(run('mov %r0, 5\nldabsb 0' + tail, { input: PKT, packet: null }).r0).toBe(0n);
    expect(run('mov %r0, 5\nldabsb 0' + tail).r0).toBe(0n);
  });
  it('ends the whole program, even inside a local call, before later stores', () => {
    const src = 'call local f\nstb [%r1+0], 1\nmov %r0, 3\nexit\nf:\nldabsw 100\nmov %r0, 4\nexit';
    const { r0, mem } = run(src, { input: PKT });
    expect(r0).toBe(0n);
    expect(mem[0]).toBe(0x45);
  });
});

describe('the stack', () => {
  it('is STACK_SIZE bytes below r10 of the entry function', () => {
    expect(run('mov %r0, %r10\nexit').r0).toBe(BigInt(FP));
    expect(FP - STACK_SIZE).toBe(STACK_BASE);
  });
});
