/**
 * Jumps (RFC 9669 section 4.3) on the interpreter: every condition, width and operand kind against
 * semantics.cond; `ja` / `gotol`; and the fused `add/sub imm` + conditional jump superinstruction, which must
 * behave exactly like the two instructions (checked against counting mode, which never fuses).
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JmpOp } from '../../src/isa/insn.js';
import { assemble } from '../../src/isa/asm.js';
import { Interpreter } from '../../src/interp/interpreter.js';
import { alu64, cond, immOperand } from '../../src/interp/semantics.js';
import { EDGE_IMMS, EDGE_VALUES, makeRequest, run } from './harness.js';

const JMP_OPS: readonly JmpOp[] = ['eq', 'gt', 'ge', 'set', 'ne', 'sgt', 'sge', 'lt', 'le', 'slt', 'sle'];
const U64_MAX = (1n << 64n) - 1n;
const u64 = fc.oneof(fc.constantFrom(...EDGE_VALUES), fc.bigInt({ min: 0n, max: U64_MAX }));

/** r0 = 1 when `jcc` (with operands already in the text) jumps, else 0. */
function branchProgram(jcc: string): Interpreter {
  return new Interpreter(assemble(`${jcc}, taken\nmov %r0, 0\nexit\ntaken:\nmov %r0, 1\nexit`));
}

describe('conditional jumps against semantics.cond', () => {
  for (const width of [64, 32] as const) {
    for (const op of JMP_OPS) {
      const name = `j${op}${width === 32 ? '32' : ''}`;
      it(`${name} reg`, () => {
        const p = branchProgram(`${name} %r1, %r2`);
        for (const a of EDGE_VALUES) {
          for (const b of EDGE_VALUES) {
            expect(run(p, { args: [a, b] }).r0, `${name} ${a} ${b}`).toBe(cond(op, width, a, b) ? 1n : 0n);
          }
        }
        fc.assert(fc.property(u64, u64, (a, b) => run(p, { args: [a, b] }).r0 === (cond(op, width, a, b) ? 1n : 0n)), { numRuns: 200 });
      });
      it(`${name} imm`, () => {
        for (const imm of EDGE_IMMS) {
          const p = branchProgram(`${name} %r1, ${imm}`);
          for (const a of EDGE_VALUES) {
            expect(run(p, { args: [a] }).r0, `${name} ${a}, ${imm}`).toBe(cond(op, width, a, immOperand(imm)) ? 1n : 0n);
          }
        }
      });
    }
  }
});

describe('unconditional jumps', () => {
  it('ja skips forward and loops backward', () => {
    expect(run('mov %r0, 1\nja +1\nmov %r0, 2\nexit').r0).toBe(1n);
    // Counts r1 down from 5 with a backward ja.
    expect(run('mov %r0, 0\nmov %r1, 5\nloop:\njeq %r1, 0, out\nadd %r0, 3\nsub %r1, 1\nja loop\nout:\nexit').r0).toBe(15n);
  });
  it('gotol (ja32) uses the 32-bit offset', () => {
    expect(run('mov %r0, 7\ngotol +2\nmov %r0, 1\nmov %r0, 2\nexit').r0).toBe(7n);
  });
  it('jumps over an lddw land after its second slot', () => {
    expect(run('mov %r0, 1\nja +2\nlddw %r0, 5\nexit').r0).toBe(1n);
  });
});

describe('fused add/sub imm + conditional jump', () => {
  // r1 += k (or -= k); then jcc r1 against r2 or an immediate.
  const ORDERED: readonly JmpOp[] = ['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'sgt', 'sge', 'slt', 'sle'];
  const imm = fc.oneof(fc.constantFrom(...EDGE_IMMS), fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }));

  it('matches add-then-compare for every ordered condition, register and immediate forms', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ORDERED), fc.constantFrom('add', 'sub'), imm, fc.boolean(), imm, u64, u64, (op, alu, k, regForm, j, a, b) => {
        const operand = regForm ? '%r2' : String(j);
        const p = new Interpreter(assemble(`${alu} %r1, ${k}\nj${op} %r1, ${operand}, taken\nmov %r0, 0\nexit\ntaken:\nmov %r0, 1\nexit`));
        const r1 = alu64(alu, a, immOperand(k));
        const expected = cond(op, 64, r1, regForm ? b : immOperand(j)) ? 1n : 0n;
        const req = () => makeRequest({ args: [a, b] });
        return p.run(req()) === expected && p.runCounting(req()).r0 === expected;
      }),
      { numRuns: 400 },
    );
  });

  it('runs the jump alone when it is itself a jump target', () => {
    // The loop jumps back to the jlt, which also follows an add: the pair is fused, the target is not.
    const src = 'mov %r0, 0\nmov %r1, 0\nja check\nloop:\nadd %r0, 2\nadd %r1, 1\ncheck:\njlt %r1, 10, loop\nexit';
    expect(run(src).r0).toBe(20n);
    expect(run(src, { counting: true }).r0).toBe(20n);
  });

  it('counts budget and faults at the jump, as the unfused pair does', () => {
    const src = 'mov %r1, 0\nloop:\nadd %r1, 1\njne %r1, 100, loop\nmov %r0, %r1\nexit';
    expect(run(src, { budget: 99 }).r0).toBe(100n);
    expect(() => run(src, { budget: 98 })).toThrowError(expect.objectContaining({ code: 'budget_exceeded', pc: 2 }));
    expect(() => run(src, { budget: 98, counting: true })).toThrowError(expect.objectContaining({ code: 'budget_exceeded', pc: 2 }));
  });
});
