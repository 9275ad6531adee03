// Control flow on the JIT: degenerate and irreducible CFGs never abort Binaryen and run exactly like the
// interpreter; the three strategies (structure.ts for reducible CFGs, Binaryen's Relooper and the dispatch
// loop for irreducible ones, each forced here with `controlFlow`) agree with the interpreter on random CFGs;
// long chains, deep nesting and large irreducible functions compile in reasonable time.

import { describe, expect, test } from 'vitest';
import { emitWat } from '../../codegen/compile.js';
import { MAX_NESTING } from '../../codegen/structure.js';
import type { Insn } from '../../src/isa/insn.js';
import { makeProgram, type Program } from '../../src/isa/program.js';
import { assemble } from '../../src/isa/asm.js';
import { faultOf, r0Of, runBoth, runJit, runInterp } from './harness.js';

const usesRelooperDispatch = (wat: string): boolean => wat.includes('local.set $label');
const CONTROL_FLOWS = ['auto', 'relooper', 'dispatch'] as const;

describe('degenerate control flow', () => {
  test('a conditional jump to its own fall-through (offset 0)', async () => {
    for (const controlFlow of CONTROL_FLOWS) {
      expect(await r0Of('mov r0, 1\njeq r0, 1, +0\njne r0, 1, +0\nja +0\nadd r0, 1\nexit', { jit: { controlFlow } })).toBe(2n);
    }
  });

  test('a jump to itself ends with budget_exceeded at its pc', async () => {
    for (const controlFlow of CONTROL_FLOWS) {
      expect(await faultOf('mov r0, 0\nja -1\nexit', { budget: 10, jit: { controlFlow } })).toEqual({ code: 'budget_exceeded', pc: 1 });
      expect(await faultOf('mov r0, 0\njeq r0, 0, -1\nexit', { budget: 3, jit: { controlFlow } })).toEqual({ code: 'budget_exceeded', pc: 1 });
      expect(await faultOf('ja -1', { budget: 0, jit: { controlFlow } })).toEqual({ code: 'budget_exceeded', pc: 0 });
    }
  });

  test('a conditional jump as the last instruction', async () => {
    expect(await faultOf('mov r0, 4\njeq r0, 3, -2', { budget: 5 })).toEqual({ code: 'fell_off_end', pc: 1 });
    expect(await faultOf('mov r0, 3\njeq r0, 3, -2', { budget: 5 })).toEqual({ code: 'budget_exceeded', pc: 1 });
  });

  test('an irreducible loop (two entries) goes through the Relooper and runs exactly', async () => {
    const asm = `
      mov r0, 0
      mov r3, 10
      jeq r2, 0, b
    a:
      add r0, 1
      sub r3, 1
      jeq r3, 0, out
    b:
      lsh r0, 1
      sub r3, 1
      jne r3, 0, a
    out:
      exit`;
    expect(usesRelooperDispatch(await emitWat(assemble(asm)))).toBe(true);
    // r2 (the input length) picks the entry: b first gives 31, a first gives 62.
    expect(await r0Of(asm)).toBe(31n);
    expect(await r0Of(asm, { input: [1] })).toBe(62n);
    expect(await faultOf(asm, { budget: 2 })).toEqual({ code: 'budget_exceeded', pc: 8 });
  });

  test('a reducible program needs no Relooper dispatch', async () => {
    const wat = await emitWat(assemble('mov r0, 0\nmov r1, 9\nl: add r0, r1\nsub r1, 1\njne r1, 0, l\nexit'));
    expect(usesRelooperDispatch(wat)).toBe(false);
    expect(wat).toContain('(loop $L2');
  });

  test('a jump into the middle of another function, and falling from one function into the next', async () => {
    const cross = 'mov r0, 0\njeq r1, 0, +4\ncall local f\nexit\nf:\nmov r0, 1\nadd r0, 10\nadd r0, 100\nexit';
    expect(await r0Of(cross)).toBe(100n);
    expect(await r0Of(cross, { input: [1] })).toBe(111n);
    expect(await r0Of('call local f\nmov r0, 5\nf:\nadd r0, 1\nexit')).toBe(6n);
  });

  test('a loop entered in its middle: the Wasm back-edge is an eBPF fall-through', async () => {
    // Reverse postorder 0 1 4 5 2 3: the loop header is pc 4 and its back-edge the fall-through 3 -> 4, while the
    // eBPF backward jump (charged to the budget) is 5 -> 2, a forward edge of the Wasm loop.
    const asm = 'mov r0, 0\nja +2\nadd r0, 3\nadd r0, 1\nadd r0, 1\njlt r0, 20, -4\nexit';
    expect(await r0Of(asm, { budget: 4 })).toBe(21n);
    expect(await faultOf(asm, { budget: 3 })).toEqual({ code: 'budget_exceeded', pc: 5 });
  });
});

describe('large control-flow graphs', () => {
  test('a long chain of forward branches and a deep nest of exits compile and run', async () => {
    const n = 3000;
    const chain = ['mov r0, 0', ...Array.from({ length: n }, (_, i) => `jeq r2, ${i % 7}, +1\nadd r0, 1`), 'exit'].join('\n');
    expect(await r0Of(chain)).toBe(BigInt(n - Math.ceil(n / 7)));
    const exits = ['mov r0, 0', ...Array.from({ length: n }, (_, i) => `jeq r0, ${n + 5 + i}, out\nadd r0, 1`), 'out:', 'exit'].join('\n');
    expect(await r0Of(exits)).toBe(BigInt(n));
  });

  test('a switch with many cases nests as many blocks', async () => {
    const n = 2000;
    const asm = [
      'mov r0, 0',
      ...Array.from({ length: n }, (_, i) => `jeq r2, ${i}, c${i}`),
      'exit',
      ...Array.from({ length: n }, (_, i) => `c${i}:\nadd r0, 1`),
      'exit',
    ].join('\n');
    expect(await r0Of(asm)).toBe(BigInt(n));
    expect(await r0Of(asm, { input: [1, 2, 3] })).toBe(BigInt(n - 3));
  });

  test('a large irreducible function goes through the dispatch loop', async () => {
    // 100 two-entry loops in a row: above RELOOPER_MAX_BLOCKS, so no Relooper (which would take seconds).
    const loop = (j: number): string => `jeq r2, 0, b${j}\na${j}:\nadd r0, 1\njge r0, ${40 * j + 30}, out${j}\nb${j}:\nadd r0, 2\njlt r0, ${40 * j + 20}, a${j}\nout${j}:`;
    const asm = ['mov r0, 0', ...Array.from({ length: 100 }, (_, j) => loop(j)), 'exit'].join('\n');
    const wat = await emitWat(assemble(asm));
    expect(wat).toContain('(loop $dispatch');
    const o = await runBoth(asm, { budget: 100_000 });
    expect(o.kind).toBe('ok');
    expect(await r0Of(asm, { budget: 100_000, input: [1] })).toBe((await runJit(asm, { budget: 100_000, input: [1], jit: { controlFlow: 'relooper' } }) as { r0: bigint }).r0);
  });

  test('control flow nested deeper than MAX_NESTING is refused cleanly (Binaryen would overflow the stack)', async () => {
    // n ifs, each inside the previous one's then-arm: `if (r2 == i) { <the rest> } else exit`.
    const nested = (n: number): Program => {
      const insns: Insn[] = [];
      for (let i = 0; i < n; i++) {
        insns.push({ kind: 'jcond', pc: 2 * i, cond: { op: 'eq', width: 64 }, dst: 0, src: { kind: 'imm', imm: 0 }, target: 2 * i + 2 });
        insns.push({ kind: 'exit', pc: 2 * i + 1 });
      }
      insns.push({ kind: 'exit', pc: 2 * n });
      return makeProgram(insns);
    };
    expect(await r0Of(nested(MAX_NESTING - 10))).toBe(0n);
    const o = await runJit(nested(MAX_NESTING + 10));
    expect(o.kind === 'rejected' && o.code).toBe('too_large');
    expect(runInterp(nested(MAX_NESTING + 10)).kind).toBe('ok');
  });

  test('a long chain of diamonds', async () => {
    const n = 2000;
    const asm = ['mov r0, 0', ...Array.from({ length: n }, () => 'jset r0, 1, +2\nadd r0, 3\nja +1\nadd r0, 1'), 'exit'].join('\n');
    const o = await runBoth(asm);
    expect(o.kind).toBe('ok');
  });
});

/** A small deterministic PRNG (xorshift32). */
function rng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n) => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s % n;
  };
}

/** A random CFG: ALU on r0-r3, conditional and unconditional jumps anywhere (irreducible loops included). */
function randomCfg(seed: number): Program {
  const r = rng(seed);
  const n = 6 + r(30);
  const insns: Insn[] = [];
  for (let pc = 0; pc < n; pc++) {
    const k = r(10);
    const target = r(n);
    if (k < 4) insns.push({ kind: 'alu', pc, op: (['add', 'sub', 'xor', 'mul', 'rsh'] as const)[r(5)], width: r(2) ? 64 : 32, dst: r(4), src: r(2) ? { kind: 'imm', imm: r(9) - 3 } : { kind: 'reg', reg: r(4) } });
    else if (k < 7) insns.push({ kind: 'jcond', pc, cond: { op: (['eq', 'ne', 'gt', 'slt', 'set'] as const)[r(5)], width: r(2) ? 64 : 32 }, dst: r(4), src: { kind: 'imm', imm: r(5) }, target });
    else if (k < 8) insns.push({ kind: 'ja', pc, target, long: false });
    else if (k < 9) insns.push({ kind: 'exit', pc });
    else insns.push({ kind: 'store', pc, size: 8, base: 10, off: -8 * (1 + r(4)), value: { kind: 'reg', reg: r(4) } });
  }
  return makeProgram(insns);
}

test('random CFGs: structured, relooped, dispatched and interpreted runs agree', async () => {
  let irreducible = 0;
  for (let seed = 1; seed <= 150; seed++) {
    const program = randomCfg(seed);
    for (const budget of [0, 3, 40]) {
      const interp = runInterp(program, { budget, input: [seed & 0xff] });
      for (const controlFlow of CONTROL_FLOWS) {
        const jit = await runJit(program, { budget, input: [seed & 0xff], jit: { controlFlow } });
        const summary = (o: typeof jit): unknown => (o.kind === 'ok' ? o.r0 : o.kind === 'fault' ? `${o.code}@${o.pc}` : o.code);
        expect(summary(jit), `seed ${seed}, budget ${budget}, ${controlFlow}`).toEqual(summary(interp));
      }
    }
    if (usesRelooperDispatch(await emitWat(program))) irreducible++;
  }
  // The generator must exercise the fallback too.
  expect(irreducible).toBeGreaterThan(5);
});
