// Calls on the JIT (RFC 9669 section 4.3.1): helpers (arguments as u64, r1-r5 untouched, results, exceptions,
// unwinding), callx, unknown helpers (rejected at load, or faulting at run time for callx and kernel-function
// calls), bpf-to-bpf calls (fresh frames, r6-r9 preserved, the depth limit, the budget), falling off the end,
// and nested runs of one executable from a helper. Every run also goes through the interpreter.

import { describe, expect, test } from 'vitest';
import { compileForRuntime } from '../../codegen/compile.js';
import { ExecutionError, InvalidProgramError } from '../../src/errors.js';
import { UnwindSignal, type HelperFn, type HelperTable } from '../../src/exec.js';
import { assemble } from '../../src/isa/asm.js';
import { Runtime } from '../../runtime/runtime.js';
import { STACK, faultOf, r0Of, runBoth, runJit, u64 } from './harness.js';

const table = (entries: [number, HelperFn][]): HelperTable => new Map(entries);

describe('helper calls', () => {
  test('arguments arrive as u64; r0 is the result; r1-r5 are unchanged', async () => {
    const seen: bigint[][] = [];
    const helpers = table([[7, (a, b, c, d, e) => (seen.push([a, b, c, d, e]), a + b + c + d + e)]]);
    const asm = `
      mov r1, -1
      mov r2, 2
      mov r3, 3
      mov r4, 4
      lddw r5, 0x8000000000000000
      call 7
      mov r6, r0
      add r6, r1
      add r6, r2
      add r6, r3
      add r6, r4
      add r6, r5
      mov r0, r6
      exit`;
    const sum = u64(-1n + 2n + 3n + 4n + 0x8000000000000000n);
    expect(await r0Of(asm, { helpers })).toBe(u64(2n * sum));
    expect(seen[0]).toEqual([u64(-1n), 2n, 3n, 4n, 0x8000000000000000n]);
  });

  test('results wrap to 64 bits; the helper sees its own pc', async () => {
    const pcs: number[] = [];
    const helpers = table([
      [1, (_a, _b, _c, _d, _e, env) => (pcs.push(env.pc), -2n)],
      [2, () => 2n ** 64n + 5n],
    ]);
    expect(await r0Of('mov r0, 0\ncall 1\nmov r6, r0\ncall 2\nadd r0, r6\nexit', { helpers })).toBe(u64(3n));
    expect(pcs).toEqual([1, 1]);
  });

  test('UnwindSignal ends the whole program with its r0, from any call depth', async () => {
    const helpers = table([[5, (a) => { if (a === 0n) throw new UnwindSignal(0x1234n); return a; }]]);
    expect(await r0Of('mov r1, 0\ncall local f\nmov r0, 1\nexit\nf:\ncall local g\nexit\ng:\ncall 5\nmov r0, 2\nexit', { helpers })).toBe(0x1234n);
    expect(await r0Of('mov r1, 9\ncall 5\nexit', { helpers })).toBe(9n);
  });

  test('env.unwind: ends the whole program without an exception, on every engine; engines without it take the throw', async () => {
    let offered = 0;
    const helpers = table([[5, (a, _b, _c, _d, _e, env) => {
      if (a !== 0n) return a;
      if (env.unwind === undefined) throw new UnwindSignal(0x4321n);
      offered++;
      return env.unwind(0x4321n);
    }]]);
    const src = 'mov r1, 0\ncall local f\nmov r0, 1\nexit\nf:\ncall local g\nexit\ng:\ncall 5\nmov r0, 2\nexit';
    expect(await r0Of(src, { helpers })).toBe(0x4321n);
    expect(offered).toBe(2); // the JIT's run and the interpreter's: both offer it
    // The next run starts with the flag cleared: the program runs to its end.
    expect(await r0Of('mov r1, 3\ncall 5\nmov r0, 8\nexit', { helpers })).toBe(8n);
  });

  test('an ExecutionError from a helper propagates as it is', async () => {
    const helpers = table([[3, () => { throw new ExecutionError('out_of_bounds', 'helper says no', 77); }]]);
    expect(await faultOf('mov r0, 0\ncall 3\nexit', { helpers })).toEqual({ code: 'out_of_bounds', pc: 77 });
  });

  test.each([
    ['a thrown Error', () => { throw new Error('boom'); }],
    ['a thrown string', () => { throw 'boom'; }],
    ['a number result', () => 5 as unknown as bigint],
    ['a string result', () => '5' as unknown as bigint],
    ['an UnwindSignal without a bigint', () => { throw new UnwindSignal(1 as unknown as bigint); }],
  ] as [string, HelperFn][])('%s is helper_failed at the call', async (_name, fn) => {
    const o = await runBoth('mov r0, 0\nmov r1, 1\ncall 4\nexit', { helpers: table([[4, fn]]) });
    expect(o.kind === 'fault' && { code: o.code, pc: o.pc }).toEqual({ code: 'helper_failed', pc: 2 });
  });

  test('a helper may grow the memory', async () => {
    const helpers = table([[8, (_a, _b, _c, _d, _e, env) => (env.memory.grow(1), 1n)]]);
    expect(await r0Of('stdw [r10-8], 6\ncall 8\nldxdw r0, [r10-8]\nexit', { helpers })).toBe(6n);
  });
});

describe('callx', () => {
  const helpers = table([[5, (a) => a * 2n]]);
  test('the register holds the helper id', async () => {
    expect(await r0Of('mov r1, 21\nmov r2, 5\ncallx r2\nexit', { helpers })).toBe(42n);
  });
  test.each([
    ['an unknown id', 'mov r2, 6'],
    ['an id beyond 32 bits', 'lddw r2, 0x100000005'],
  ])('%s faults unknown_helper at run time', async (_name, setup) => {
    expect(await faultOf(`mov r1, 1\n${setup}\ncallx r2\nexit`, { helpers })).toEqual({ code: 'unknown_helper', pc: setup.startsWith('lddw') ? 3 : 2 });
  });
});

describe('unknown helpers and kernel functions', () => {
  test('a call to an unknown helper id is rejected when the program is loaded', async () => {
    const o = await runJit('mov r0, 0\ncall 99\nexit');
    expect(o.kind === 'rejected' && { code: o.code, pc: o.pc }).toEqual({ code: 'unknown_helper', pc: 1 });
    const rt = new Runtime();
    await expect(rt.load(assemble('call 99\nexit'), { engine: 'jit' })).rejects.toBeInstanceOf(InvalidProgramError);
  });

  test('a kernel-function call loads but faults unknown_helper when executed', async () => {
    expect(await faultOf('mov r0, 0\njne r1, 0, +1\ncall btf 4\nexit')).toEqual({ code: 'unknown_helper', pc: 2 });
    expect(await r0Of('mov r0, 3\njne r1, 0, +1\ncall btf 4\nexit', { input: [1] })).toBe(3n);
  });
});

describe('local calls', () => {
  test('r6-r9 survive; r1-r5 are what the callee left; the callee starts from the caller registers', async () => {
    const asm = `
      mov r0, 100
      mov r1, 1
      mov r6, 6
      mov r9, 9
      call local f
      add r0, r6
      add r0, r9
      add r0, r1
      add r0, r5
      exit
    f:
      add r0, r6
      add r0, r1
      mov r1, 1000
      mov r5, 5000
      mov r6, 0
      mov r9, 0
      exit`;
    expect(await r0Of(asm)).toBe(100n + 6n + 1n + 6n + 9n + 1000n + 5000n);
  });

  test('each call gets a fresh 512-byte frame below its caller', async () => {
    const asm = `
      stdw [r10-8], 1
      call local f
      ldxdw r0, [r10-520]
      ldxdw r1, [r10-8]
      add r0, r1
      exit
    f:
      stdw [r10-8], 40
      ldxdw r0, [r10+504]
      exit`;
    expect(await r0Of(asm)).toBe(41n);
  });

  test('eight frames are allowed; a ninth faults call_depth at the call', async () => {
    // f(n): n == 0 ? 0 : 1 + f(n - 1), entered from main: depth n + 1.
    const rec = (n: number): string => `mov r1, ${n}\ncall local f\nexit\nf:\nmov r0, 0\njeq r1, 0, +4\nsub r1, 1\ncall local f\nadd r0, 1\nexit\nexit`;
    expect(await r0Of(rec(6))).toBe(6n);
    expect(await faultOf(rec(7))).toEqual({ code: 'call_depth', pc: 6 });
  });

  test('unbounded recursion with a budget: the depth limit comes first, and a failing call costs no budget', async () => {
    const asm = 'call local f\nexit\nf:\ncall local f\nexit';
    expect(await faultOf(asm, { budget: 7 })).toEqual({ code: 'call_depth', pc: 2 });
    expect(await faultOf(asm, { budget: 6 })).toEqual({ code: 'budget_exceeded', pc: 2 });
    expect(await faultOf(asm, { budget: 0 })).toEqual({ code: 'budget_exceeded', pc: 0 });
  });

  test('the budget counts local calls and taken backward jumps only', async () => {
    // 3 calls, each running a loop of 4 iterations (3 taken back-edges), and 2 taken outer back-edges: 14.
    const asm = `
      mov r6, 3
    again:
      call local f
      sub r6, 1
      jne r6, 0, again
      exit
    f:
      mov r1, 4
    loop:
      sub r1, 1
      jne r1, 0, loop
      exit`;
    expect(await r0Of(asm, { budget: 14 })).toBe(0n);
    expect(await faultOf(asm, { budget: 13 })).toEqual({ code: 'budget_exceeded', pc: 7 });
    expect(await r0Of(asm)).toBe(0n);
  });
});

describe('falling off the end', () => {
  test.each([
    ['straight-line code', 'mov r0, 1', 0],
    ['an untaken conditional jump', 'mov r0, 1\njeq r0, 0, -2', 1],
    ['an lddw', 'mov r0, 1\nlddw r1, 5', 1],
    ['a callee', 'call local f\nexit\nf:\nmov r0, 2', 2],
  ] as const)('%s faults fell_off_end at the last instruction', async (_name, asm, pc) => {
    expect(await faultOf(asm)).toEqual({ code: 'fell_off_end', pc });
  });
});

test('a helper may run the same executable again (each nesting level has its own state)', async () => {
  const rt = new Runtime();
  const program = assemble(`
    mov r6, r1
    mov r7, r2
    stxdw [r10-8], r7
    jeq r7, 0, done
    mov r1, r7
    call 9
    add r0, r7
    ldxdw r2, [r10-8]
    jne r2, r7, bad
    exit
  done:
    mov r0, 0
    exit
  bad:
    mov r0, -1
    exit`);
  let loaded: Awaited<ReturnType<Runtime['load']>> | undefined;
  // Helper 9 runs the program on an input one byte shorter: f(n) = n + f(n - 1), f(0) = 0.
  const helpers = table([[9, (n) => loaded!.run(new Uint8Array(Number(n) - 1)).r0]]);
  loaded = await rt.load(program, { engine: 'jit', helpers });
  expect(loaded.run(new Uint8Array(6)).r0).toBe(21n);
  const interp = await rt.load(program, { engine: 'interp', helpers });
  loaded = interp;
  expect(interp.run(new Uint8Array(6)).r0).toBe(21n);
});

test('compileForRuntime checks static helper ids against the table', async () => {
  const memory = new WebAssembly.Memory({ initial: 8 });
  await expect(compileForRuntime(assemble('call 1\nexit'), { memory, helpers: new Map() })).rejects.toMatchObject({ code: 'unknown_helper', pc: 0 });
  expect(STACK).toBeGreaterThan(0);
});
