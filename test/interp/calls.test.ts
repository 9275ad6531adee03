/**
 * Calls (RFC 9669 sections 4.3.1-4.3.2) on the interpreter: helper arguments, results and the registers a call
 * leaves; `callx`; local calls with their own frames and callee-saved r6-r9 (and r10); plus counting mode and
 * the runtime integration (`Runtime.load(..., {engine: 'interp'})`).
 */

import { describe, expect, it } from 'vitest';
import { STACK_FRAME_SIZE, type HelperEnv, type HelperFn } from '../../src/exec.js';
import { assemble } from '../../src/isa/asm.js';
import { Interpreter } from '../../src/interp/interpreter.js';
import { makeProgram } from '../../src/isa/program.js';
import type { Insn } from '../../src/isa/insn.js';
import { Runtime } from '../../runtime/runtime.js';
import { FP, lddw, makeRequest, run } from './harness.js';

describe('helper calls', () => {
  it('pass r1..r5 as u64, set r0 to the result, leave r1-r5 as they were', () => {
    const seen: bigint[][] = [];
    let env: HelperEnv | undefined;
    const helper: HelperFn = (a, b, c, d, e, en) => {
      seen.push([a, b, c, d, e]);
      env = en;
      return a + b + c + d + e;
    };
    const src = ['mov %r1, -1', 'mov %r2, 2', lddw(3, 0x1_0000_0000n), 'mov %r4, 4', 'mov32 %r5, -1', 'call 7', 'stxdw [%r10-8], %r0',
      'mov %r0, %r1', 'add %r0, %r2', 'add %r0, %r3', 'add %r0, %r4', 'add %r0, %r5', 'ldxdw %r6, [%r10-8]', 'sub %r0, %r6', 'exit'].join('\n');
    const r0 = run(src, { helpers: new Map([[7, helper]]) }).r0;
    expect(seen).toEqual([[0xffff_ffff_ffff_ffffn, 2n, 0x1_0000_0000n, 4n, 0xffff_ffffn]]);
    // r1..r5 are unchanged, so their sum equals what the helper returned: r0 = sum - result = 0 (mod 2^64).
    expect(r0).toBe(0n);
    expect(env?.pc).toBe(6);
    expect(env?.memory).toBeInstanceOf(WebAssembly.Memory);
  });
  it('truncate results to u64', () => {
    expect(run('call 1\nexit', { helpers: new Map([[1, () => -1n]]) }).r0).toBe(0xffff_ffff_ffff_ffffn);
    expect(run('call 1\nexit', { helpers: new Map([[1, () => (1n << 64n) + 5n]]) }).r0).toBe(5n);
  });
  it('callx takes the helper id from a register', () => {
    const helpers = new Map<number, HelperFn>([[5, (r1) => r1 + 1n], [6, (r1) => r1 + 2n]]);
    expect(run('mov %r1, 10\nmov %r2, 6\ncallx %r2\nexit', { helpers }).r0).toBe(12n);
    expect(run('mov %r1, 10\nmov %r2, 5\ncall %r2\nexit', { helpers }).r0).toBe(11n);
  });
  it('a helper may read and write the memory it is given', () => {
    const poke: HelperFn = (ptr, _b, _c, _d, _e, env) => {
      const view = new DataView(env.memory.buffer);
      view.setUint32(Number(ptr), view.getUint32(Number(ptr), true) * 2, true);
      return 0n;
    };
    const { r0, mem } = run('mov %r6, %r1\ncall 1\nldxw %r0, [%r6+0]\nexit', { input: Uint8Array.of(21, 0, 0, 0), helpers: new Map([[1, poke]]) });
    expect(r0).toBe(42n);
    expect([...mem]).toEqual([42, 0, 0, 0]);
  });
});

describe('local calls', () => {
  it('pass r1-r5 and r0, restore r6-r9 and r10 after the callee clobbers them', () => {
    const src = [
      'mov %r6, 6', 'mov %r7, 7', 'mov %r8, 8', 'mov %r9, 9', 'mov %r1, 100',
      'call local f',
      // r0 = callee result + r6..r9 + (r10 == FP ? 1 : 0)
      'add %r0, %r6', 'add %r0, %r7', 'add %r0, %r8', 'add %r0, %r9',
      `${lddw(2, BigInt(FP))}`, 'jne %r10, %r2, bad', 'add %r0, 1000', 'bad:', 'exit',
      'f:', 'mov %r0, %r1', 'add %r0, 1', 'mov %r6, 0', 'mov %r7, 0', 'mov %r8, 0', 'mov %r9, 0', 'mov %r10, 0', 'exit',
    ].join('\n');
    expect(run(src).r0).toBe(101n + 30n + 1000n);
  });
  it('give each call its own 512-byte frame below the caller\'s', () => {
    const src = [
      'stdw [%r10-8], 1', 'call local f', 'ldxdw %r1, [%r10-8]', 'add %r0, %r1', 'exit',
      // f: r0 = its r10; writes its own frame; g: nested.
      'f:', 'stdw [%r10-8], 2', 'call local g', 'ldxdw %r1, [%r10-8]', 'lsh %r1, 8', 'add %r0, %r1', 'exit',
      'g:', 'stdw [%r10-8], 3', 'mov %r0, %r10', 'ldxdw %r1, [%r10-8]', 'lsh %r1, 4', 'add %r0, %r1', 'exit',
    ].join('\n');
    // g's r10 = FP - 1024; + 3 << 4 (its slot), + 2 << 8 (f's slot, intact), + 1 (main's slot, intact).
    expect(run(src).r0).toBe(BigInt(FP - 2 * STACK_FRAME_SIZE) + 0x30n + 0x200n + 1n);
  });
  it('may reach the caller\'s frame through a pointer (one stack region)', () => {
    const src = 'stdw [%r10-8], 5\nmov %r1, %r10\ncall local f\nldxdw %r0, [%r10-8]\nexit\nf:\nstdw [%r1-8], 9\nexit';
    expect(run(src).r0).toBe(9n);
  });
  it('recursion: sum 1..6 with one frame per level (8 frames in all)', () => {
    const src = 'mov %r1, 6\ncall local sum\nexit\nsum:\njeq %r1, 0, base\nmov %r6, %r1\nsub %r1, 1\ncall local sum\nadd %r0, %r6\nexit\nbase:\nmov %r0, 0\nexit';
    expect(run(src).r0).toBe(21n);
    expect(() => run(src.replace('mov %r1, 6', 'mov %r1, 7'))).toThrowError(expect.objectContaining({ code: 'call_depth', pc: 6 }));
  });
});

describe('counting mode', () => {
  it('counts every executed instruction, an lddw once, without changing results', () => {
    expect(run('mov %r0, 1\nlddw %r1, 5\nadd %r0, %r1\nexit', { counting: true })).toMatchObject({ r0: 6n, steps: 4 });
    // mov, then 10 × (add, jlt), then exit.
    expect(run('mov %r0, 0\nloop:\nadd %r0, 1\njlt %r0, 10, loop\nexit', { counting: true })).toMatchObject({ r0: 10n, steps: 22 });
    // call + callee (2) + exit, with the helper call counted once.
    expect(run('call local f\ncall 1\nexit\nf:\nmov %r0, 1\nexit', { counting: true, helpers: new Map([[1, () => 3n]]) })).toMatchObject({ r0: 3n, steps: 5 });
  });
  it('counts up to a fault or an early end', () => {
    expect(run('mov %r0, 9\nldabsb 100\nmov %r0, 1\nexit', { counting: true, input: new Uint8Array(4) })).toMatchObject({ r0: 0n, steps: 2 });
  });
  it('takes programs up to half the normal size limit (500,000 slots)', () => {
    const insns: Insn[] = Array.from({ length: 500_001 }, (_, pc) => ({ kind: 'exit', pc }));
    const interp = new Interpreter(makeProgram(insns));
    expect(interp.run(makeRequest())).toBe(0n);
    expect(() => interp.runCounting(makeRequest())).toThrowError(expect.objectContaining({ code: 'too_large' }));
    expect(new Interpreter(makeProgram(insns.slice(0, 500_000))).runCounting(makeRequest())).toEqual({ r0: 0n, steps: 1 });
  });
  it('agrees with a normal run on a program with memory, loops and calls', () => {
    const src = 'mov %r0, 0\nmov %r3, 0\nloop:\nldxb %r4, [%r1+0]\ncall local f\nadd %r1, 1\nadd %r3, 1\njlt %r3, 8, loop\nexit\nf:\nadd %r0, %r4\nexit';
    const input = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const interp = new Interpreter(assemble(src));
    const a = interp.run(makeRequest({ input }));
    const b = interp.runCounting(makeRequest({ input }));
    expect(a).toBe(36n);
    expect(b).toEqual({ r0: 36n, steps: 2 + 8 * 7 + 1 });
  });
});

describe('runtime integration', () => {
  it('Runtime.load(..., {engine: "interp"}) runs with r1 = input copy and r2 = length', async () => {
    const rt = new Runtime();
    const program = assemble('mov %r0, %r2\nldxb %r3, [%r1+2]\nadd %r0, %r3\nstb [%r1+0], 0x55\nexit');
    const loaded = await rt.load(program, { engine: 'interp' });
    const input = Uint8Array.from([1, 2, 40, 4]);
    const first = loaded.run(input);
    expect(first.r0).toBe(44n);
    expect([...first.mem]).toEqual([0x55, 2, 40, 4]);
    expect([...input]).toEqual([1, 2, 40, 4]); // the caller's bytes are a copy
    expect(loaded.run(input).r0).toBe(44n);
    expect(() => loaded.run(input, { writable: false })).toThrowError(expect.objectContaining({ code: 'read_only', pc: 3 }));
    expect(loaded.run(new Uint8Array(3)).r0).toBe(3n);
  });
  it('passes the budget through', async () => {
    const loaded = await new Runtime().load(assemble('mov %r0, 0\nloop:\nadd %r0, 1\nja loop'), { engine: 'interp' });
    expect(() => loaded.run(undefined, { budget: 1000 })).toThrowError(expect.objectContaining({ code: 'budget_exceeded', pc: 2 }));
  });
});
