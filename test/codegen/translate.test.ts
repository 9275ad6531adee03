// The translator as a whole: every conformance program gives a module that Binaryen's validator and V8 accept
// (plain and budget variants, shared and unshared memory, each control-flow strategy); malformed programs are
// refused with an InvalidProgramError before Binaryen sees them (it would abort the process); compile
// statistics; the budget variant alone pays for counting; proven accesses lose their check.

import { describe, expect, test } from 'vitest';
import { DEFAULT_PASSES, emitWat, translate } from '../../codegen/compile.js';
import { KNOWN_PASSES } from '../../codegen/translate.js';
import { loadVectors } from '../../src/conformance/data.js';
import { InvalidProgramError } from '../../src/errors.js';
import { assemble } from '../../src/isa/asm.js';
import { decode } from '../../src/isa/decode.js';
import type { Insn } from '../../src/isa/insn.js';
import { makeProgram } from '../../src/isa/program.js';
import { r0Of } from './harness.js';

const count = (text: string, needle: string): number => text.split(needle).length - 1;

test('every conformance program translates to a valid module, in every variant', async () => {
  const vectors = [...loadVectors().values()];
  expect(vectors.length).toBeGreaterThan(300);
  const variants = [
    { budget: false, shared: false, controlFlow: 'auto' },
    { budget: true, shared: true, controlFlow: 'auto' },
    { budget: true, shared: false, controlFlow: 'relooper' },
    { budget: false, shared: true, controlFlow: 'dispatch', regionChecks: 'cache' },
  ] as const;
  for (const v of vectors) {
    const program = decode(v.program);
    for (const variant of variants) {
      // `validate` (the default) runs Binaryen's validator and fails the translation on a problem.
      const r = await translate(program, variant);
      expect(WebAssembly.validate(r.wasm), `${v.name} ${JSON.stringify(variant)}`).toBe(true);
    }
  }
});

describe('malformed programs are refused before Binaryen sees them', () => {
  const exit: Insn = { kind: 'exit', pc: 0 };
  const mov = (pc: number, dst: number): Insn => ({ kind: 'alu', pc, op: 'mov', width: 64, dst, src: { kind: 'imm', imm: 1 } });
  test.each([
    ['a register above r10', [mov(0, 11), { ...exit, pc: 1 }], 'bad_register'],
    ['a jump out of range', [{ kind: 'ja', pc: 0, target: 5, long: false }, { ...exit, pc: 1 }], 'jump_out_of_range'],
    ['a jump into an lddw', [{ kind: 'ja', pc: 0, target: 2, long: false }, { kind: 'lddw', pc: 1, dst: 0, src: 'imm64', imm: 0, next: 0, value: 0n }, { ...exit, pc: 3 }], 'jump_out_of_range'],
    ['a bad access size', [{ kind: 'load', pc: 0, size: 3, signed: false, dst: 0, base: 10, off: -8 } as unknown as Insn, { ...exit, pc: 1 }], 'data_format'],
    ['a bad width', [{ kind: 'alu', pc: 0, op: 'add', width: 16, dst: 0, src: { kind: 'imm', imm: 1 } } as unknown as Insn, { ...exit, pc: 1 }], 'data_format'],
    ['an immediate beyond 32 bits', [{ kind: 'alu', pc: 0, op: 'add', width: 64, dst: 0, src: { kind: 'imm', imm: 2 ** 32 } }, { ...exit, pc: 1 }], 'data_format'],
    ['an offset beyond 16 bits', [{ kind: 'store', pc: 0, size: 8, base: 10, off: -40000, value: { kind: 'imm', imm: 0 } }, { ...exit, pc: 1 }], 'data_format'],
  ] as [string, Insn[], string][])('%s', async (_name, insns, code) => {
    await expect(translate(makeProgram(insns))).rejects.toMatchObject({ name: 'InvalidProgramError', code });
  });

  test('an lddw that names a map must be resolved by the loader first', async () => {
    const program = assemble('lddw map_fd r1, 3\nmov r0, 0\nexit');
    await expect(translate(program)).rejects.toBeInstanceOf(InvalidProgramError);
    await expect(translate(program)).rejects.toMatchObject({ code: 'bad_lddw_src', pc: 0 });
  });

  test('an unknown Binaryen pass is refused (Binaryen would abort on it)', async () => {
    await expect(translate(assemble('mov r0, 0\nexit'), { passes: ['no-such-pass'] })).rejects.toBeInstanceOf(RangeError);
  });
});

test('optional passes keep the semantics', async () => {
  const asm = 'mov r0, 0\nmov r1, 10\nl: add r0, r1\nstxdw [r10-8], r0\nldxdw r0, [r10-8]\nsub r1, 1\njne r1, 0, l\nexit';
  for (const passes of [['vacuum', 'merge-blocks', 'remove-unused-brs'], ['simplify-locals', 'coalesce-locals', 'optimize-instructions', 'precompute']]) {
    expect(passes.every((p) => KNOWN_PASSES.has(p))).toBe(true);
    expect(await r0Of(asm, { jit: { passes } })).toBe(55n);
  }
  expect(DEFAULT_PASSES).toEqual([]);
});

test('statistics describe the translation', async () => {
  const program = assemble('call local f\nexit\nf:\nmov r0, 1\njeq r0, 1, +1\nmov r0, 2\nexit');
  const r = await translate(program, { passes: ['vacuum'] });
  expect(r.stats).toMatchObject({ insns: 6, slots: 6, functions: 2, passes: ['vacuum'], wasmBytes: r.wasm.length });
  expect(r.stats.blocks).toBeGreaterThanOrEqual(4);
  for (const k of ['buildMs', 'passesMs', 'emitMs', 'translateMs'] as const) expect(r.stats[k]).toBeGreaterThanOrEqual(0);
  expect(r.stats.translateMs).toBeGreaterThanOrEqual(r.stats.buildMs);
  expect(r.wat).toBeUndefined();
  expect((await translate(program, { wat: true })).wat).toContain('(func $f2');
});

test('only the budget variant counts', async () => {
  const program = assemble('mov r0, 0\nl: add r0, 1\njlt r0, 10, l\ncall local f\nexit\nf:\nexit');
  const plain = await emitWat(program);
  const counted = await emitWat(program, { budget: true });
  expect(plain).not.toContain('global $budget');
  expect(counted).toContain('global $budget');
  // `run`, `run_one` and `run_packet` (the packet path) set it; then one charge on the back-edge and one on the
  // local call.
  expect(count(counted, '(global.set $budget\n')).toBe(5);
  expect(plain).not.toMatch(/global\.(get|set) \$budget(?![_a-z])/);
});

describe('memory checks', () => {
  // Each checked access has one miss path: a branch to the function's trap block (`slots` variant; these
  // programs have no other fault) or a call to `mem_slow` (`cache`).
  const checks = (wat: string): number => count(wat, '(br $trap)');
  const cacheChecks = (wat: string): number => count(wat, '(call $mem_slow');

  test('r10-relative accesses within the frame need no check', async () => {
    expect(checks(await emitWat(assemble('stdw [r10-8], 1\nldxdw r0, [r10-512]\nexit')))).toBe(0);
    // Outside the current frame the access may still be in the stack (a caller's frame), so it is checked.
    expect(checks(await emitWat(assemble('ldxdw r0, [r10+8]\nexit')))).toBe(1);
    expect(checks(await emitWat(assemble('ldxdw r0, [r10-520]\nexit')))).toBe(1);
  });

  test('a proven access loses its check, the others keep theirs', async () => {
    const program = assemble('ldxb r0, [r1+0]\nldxb r2, [r1+1]\nstb [r1+2], 7\nadd r0, r2\nexit');
    expect(checks(await emitWat(program))).toBe(3);
    expect(checks(await emitWat(program, { proven: new Set([0, 2]) }))).toBe(1);
    expect(checks(await emitWat(program, { proven: (pc) => pc < 3 }))).toBe(0);
    expect(cacheChecks(await emitWat(program, { regionChecks: 'cache' }))).toBe(3);
    expect(cacheChecks(await emitWat(program, { regionChecks: 'cache', proven: new Set([1]) }))).toBe(2);
    // Proven accesses still read and write the right bytes.
    expect(await r0Of(program, { input: [3, 4, 0], jit: { proven: new Set([0, 1, 2]) } })).toBe(7n);
  });
});
