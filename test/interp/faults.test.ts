/**
 * Every fault the interpreter raises, with its class, code and pc, and the check that the interpreter (and the
 * host) carry on: after each fault the same Interpreter runs the same program again, successfully.
 *
 * Each faulting body is wrapped as `jeq %r5, 1, ok` + body + `ok: mov %r0, 42; exit`, so one program both faults
 * (r5 = 0) and succeeds (r5 = 1); pcs below are those of the wrapped program (the body starts at pc 1).
 */

import { describe, expect, it } from 'vitest';
import { ExecutionError, InternalError } from '../../src/errors.js';
import { UnwindSignal, type HelperFn, type HelperTable } from '../../src/exec.js';
import { assemble } from '../../src/isa/asm.js';
import { Interpreter } from '../../src/interp/interpreter.js';
import { INPUT, RODATA, lddw, makeRequest, run, type RunOptions } from './harness.js';

const INPUT16 = new Uint8Array(16).map((_, i) => i + 1);

/** Runs a wrapped body that must fault with `code` at `pc`, then checks the interpreter still runs it fine. */
function expectFault(body: string, code: string, pc: number, options: RunOptions & { interp?: Interpreter } = {}): ExecutionError {
  const interp = options.interp ?? new Interpreter(assemble(`jeq %r5, 1, ok\n${body}\nok:\nmov %r0, 42\nexit`));
  const input = options.input ?? INPUT16;
  const args = [BigInt(INPUT), BigInt(input.length), 0n, 0n];
  let error: unknown;
  try {
    run(interp, { ...options, input, args: [...args, 0n] });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ExecutionError);
  const err = error as ExecutionError;
  expect({ code: err.code, pc: err.pc }).toEqual({ code, pc });
  expect(err.message).toBe(`pc ${pc}: ${err.detail}`);
  // The same interpreter, the same program: a run that does not fault.
  expect(run(interp, { ...options, input, args: [...args, 1n] }).r0).toBe(42n);
  return err;
}

describe('memory faults', () => {
  it('load outside every region', () => {
    const e = expectFault('ldxw %r0, [%r1+16]\nexit', 'out_of_bounds', 1);
    expect(e.detail).toBe(`load of 4 bytes at 0x${(INPUT + 16).toString(16)} is outside every region`);
  });
  it('store outside every region', () => {
    const e = expectFault('stw [%r1+100], 1\nexit', 'out_of_bounds', 1);
    expect(e.detail).toContain('store of 4 bytes at 0x20064');
  });
  it('load straddling the end of the input', () => {
    const e = expectFault('ldxw %r0, [%r1+14]\nexit', 'out_of_bounds', 1);
    expect(e.detail).toContain('crosses the edge of region input');
  });
  it('store straddling the top of the stack', () => {
    expectFault('stxdw [%r10-4], %r1\nexit', 'out_of_bounds', 1);
  });
  it('load below the stack', () => {
    expectFault('ldxb %r0, [%r10-4097]\nexit', 'out_of_bounds', 1);
  });
  it('load through NULL', () => {
    expectFault('mov %r1, 0\nldxb %r0, [%r1+0]\nexit', 'out_of_bounds', 2);
  });
  it('address with the high half set', () => {
    const e = expectFault(`${lddw(1, 0x1_0000_0000n + BigInt(INPUT))}\nldxb %r0, [%r1+0]\nexit`, 'out_of_bounds', 3);
    expect(e.detail).toContain('at 0x100020000');
  });
  it('address wrapping around 2^64', () => {
    const e = expectFault('mov %r1, -8\nldxdw %r0, [%r1+16]\nexit', 'out_of_bounds', 2);
    expect(e.detail).toContain('at 0x8 ');
  });
  it('store to a read-only region', () => {
    const e = expectFault(`${lddw(1, BigInt(RODATA))}\nstb [%r1+0], 1\nexit`, 'read_only', 3);
    expect(e.detail).toBe(`store of 1 byte at 0x${RODATA.toString(16)} is in read-only region rodata`);
  });
  it('store to a read-only input', () => {
    expectFault('stxb [%r1+0], %r1\nexit', 'read_only', 1, { writable: false });
  });
  it('atomic on a read-only region (the region check comes first)', () => {
    expectFault(`${lddw(1, BigInt(RODATA) + 2n)}\nlock add [%r1+0], %r2\nexit`, 'read_only', 3);
  });
  it('misaligned atomic', () => {
    const e = expectFault('lock add [%r10-12], %r1\nexit', 'misaligned_atomic', 1);
    expect(e.detail).toContain('not 8-byte aligned');
    expectFault('lock fetch or32 [%r1+2], %r2\nexit', 'misaligned_atomic', 1);
  });
  it('misaligned atomic outside every region is out of bounds', () => {
    expectFault('lock xchg [%r1+17], %r2\nexit', 'out_of_bounds', 1);
  });
});

describe('budget', () => {
  const loop = (n: number) => `mov %r0, 0\nloop:\nadd %r0, 1\njlt %r0, ${n}, loop\nexit`;
  it('faults at the backward jump that would exceed it', () => {
    // 10 iterations = 9 taken backward jumps (the jlt at pc 3 of the wrapped program).
    expectFault(loop(10), 'budget_exceeded', 3, { budget: 8 });
    expect(run(`jeq %r5, 1, ok\n${loop(10)}\nok:\nmov %r0, 42\nexit`, { budget: 9 }).r0).toBe(10n);
  });
  it('does not count forward jumps or straight-line code', () => {
    expect(run('mov %r0, 1\nja +1\nmov %r0, 2\njeq %r0, 1, +0\nexit', { budget: 0 }).r0).toBe(1n);
  });
  it('counts local calls', () => {
    const src = 'call local f\ncall local f\nexit\nf:\nadd %r0, 1\nexit';
    expect(run(src, { budget: 2 }).r0).toBe(2n);
    expect(() => run(src, { budget: 1 })).toThrowError(expect.objectContaining({ code: 'budget_exceeded', pc: 1 }));
  });
  it('is refilled chunk by chunk with identical results', () => {
    const interp = new Interpreter(assemble(loop(100)), { budgetChunk: 3 });
    expect(run(interp, { budget: 99 }).r0).toBe(100n);
    expect(run(interp).r0).toBe(100n);
    expect(() => run(interp, { budget: 98 })).toThrowError(expect.objectContaining({ code: 'budget_exceeded', pc: 2 }));
    const calls = new Interpreter(assemble('mov %r6, 0\nloop:\ncall local f\nadd %r6, 1\njlt %r6, 10, loop\nexit\nf:\nadd %r0, 1\nexit'), { budgetChunk: 2 });
    expect(run(calls, { budget: 19 }).r0).toBe(10n);
    expect(() => run(calls, { budget: 18 })).toThrowError(expect.objectContaining({ code: 'budget_exceeded' }));
  });
});

describe('call faults', () => {
  it('call depth past 8 frames, at the call', () => {
    // f calls itself forever: the 8th nested call (9th frame) faults at the call inside f.
    expectFault('call local f\nexit\nf:\ncall local f\nexit', 'call_depth', 3);
  });
  it('exactly 8 frames are fine', () => {
    const chain = ['call local f1', 'exit'];
    for (let i = 1; i <= 7; i++) chain.push(`f${i}:`, i < 7 ? `call local f${i + 1}` : 'mov %r0, 8', 'exit');
    expect(run(chain.join('\n')).r0).toBe(8n);
  });
  it('unknown helper (call and callx)', () => {
    expectFault('call 99\nexit', 'unknown_helper', 1);
    expectFault('mov %r3, 5\ncallx %r3\nexit', 'unknown_helper', 2);
    expectFault(`${lddw(3, 0x1_0000_0005n)}\ncallx %r3\nexit`, 'unknown_helper', 3, { helpers: new Map([[5, () => 0n]]) });
  });
  it('kernel-function calls are not supported', () => {
    expectFault('call btf 7\nexit', 'unknown_helper', 1);
  });
  it('a helper that throws an ExecutionError: propagated as is', () => {
    const own = new ExecutionError('out_of_bounds', 'helper says no', 1);
    const e = expectFault('call 1\nexit', 'out_of_bounds', 1, { helpers: new Map([[1, () => { throw own; }]]) });
    expect(e).toBe(own);
  });
  it('a helper that throws anything else: helper_failed with the cause', () => {
    const boom = new Error('boom');
    const e = expectFault('mov %r0, 1\ncall 1\nexit', 'helper_failed', 2, { helpers: new Map([[1, () => { throw boom; }]]) });
    expect(e.cause).toBe(boom);
    expect(e.detail).toContain('boom');
  });
  it('a helper that returns a non-bigint: helper_failed', () => {
    const bad = (() => 5) as unknown as HelperFn;
    expectFault('call 1\nexit', 'helper_failed', 1, { helpers: new Map([[1, bad]]) });
  });
  it('falls off the end: at the last instruction', () => {
    // Here the good path comes first, so that the body is the end of the program: it starts at pc 3.
    const last = (body: string) => new Interpreter(assemble(`jne %r5, 1, body\nmov %r0, 42\nexit\nbody:\n${body}`));
    expectFault('', 'fell_off_end', 3, { interp: last('mov %r0, 1') });
    expectFault('', 'fell_off_end', 4, { interp: last('mov %r0, 1\njeq %r0, 2, -2') });
    expectFault('', 'fell_off_end', 3, { interp: last('lddw %r0, 5') });
    expectFault('', 'fell_off_end', 5, { interp: last('call local f\nexit\nf:\nmov %r0, 1') });
  });
});

describe('the host carries on', () => {
  it('runs nest: a helper may run the same interpreter again', () => {
    const interp: Interpreter = new Interpreter(assemble('jeq %r1, 0, leaf\nmov %r6, %r1\nsub %r1, 1\ncall 1\nadd %r0, %r6\nexit\nleaf:\nmov %r0, 0\nexit'));
    const helpers: HelperTable = new Map([[1, (r1: bigint) => interp.run(makeRequest({ args: [r1], helpers }))]]);
    expect(interp.run(makeRequest({ args: [5n], helpers }))).toBe(15n);
  });
  it('runs nest across programs: the outer run\'s frames, registers and code survive an inner run', () => {
    // The inner program uses a local call (a frame) and r6, r7; the outer one calls the helper from inside a
    // local call and relies on its r6 and its saved frame afterwards. The second inner run faults.
    const inner = new Interpreter(assemble('mov %r6, 66\nmov %r7, 77\ncall local g\nmov %r0, %r6\nadd %r0, %r7\nexit\ng:\nmov %r6, 1\nldxb %r0, [%r1+0]\nexit'));
    let calls = 0;
    const helpers: HelperTable = new Map([[1, () => {
      calls++;
      if (calls === 1) return inner.run(makeRequest({ input: Uint8Array.of(5) })); // 66 + 77
      try {
        inner.run(makeRequest({ args: [0n] })); // r1 = NULL: faults in g
      } catch (e) {
        if (e instanceof ExecutionError && e.code === 'out_of_bounds' && e.pc === 7) return 10n;
      }
      return 99n;
    }]]);
    const outer = new Interpreter(assemble([
      'mov %r6, 6', 'mov %r7, 7', 'mov %r8, 8', 'mov %r9, 9', 'call local f', 'add %r0, %r6', 'add %r0, %r7', 'add %r0, %r8', 'add %r0, %r9', 'exit',
      'f:', 'mov %r6, 60', 'call 1', 'mov %r7, %r0', 'call 1', 'add %r0, %r7', 'add %r0, %r6', 'exit',
    ].join('\n')));
    // f: 143 + 10 + 60; then main adds its own r6..r9.
    expect(outer.run(makeRequest({ helpers }))).toBe(143n + 10n + 60n + 6n + 7n + 8n + 9n);
    expect(calls).toBe(2);
    expect(inner.run(makeRequest({ input: Uint8Array.of(5) }))).toBe(143n);
  });
  it('an unwinding helper ends the program at once, even inside a local call', () => {
    const unwind: HelperFn = (r1) => { throw new UnwindSignal(r1 * 2n); };
    const { r0, mem } = run('call local f\nstb [%r1+0], 99\nexit\nf:\nmov %r6, %r1\nmov %r1, 21\ncall 5\nstb [%r6+0], 77\nexit', {
      input: new Uint8Array(4),
      helpers: new Map([[5, unwind]]),
    });
    expect(r0).toBe(42n);
    expect(mem[0]).toBe(0);
  });
  it('rejects a request whose regions lie outside the memory', () => {
    const interp = new Interpreter(assemble('mov %r0, 0\nexit'));
    const req = makeRequest();
    expect(() => interp.run({ ...req, regions: [{ start: 0x3fff0, end: 0x50000, writable: true, name: 'big' }] })).toThrow(InternalError);
    expect(() => interp.run({ ...req, stackBase: 0x3ff00 })).toThrow(InternalError);
    expect(() => interp.run({ ...req, budget: -1 })).toThrow(InternalError);
    expect(interp.run(req)).toBe(0n);
  });
});
