/**
 * Checks on the generator itself: every recipe builds a program the strict decoder accepts, of the intended
 * size, and together the programs use every row of the opcode table a runtime without maps can run.
 *
 * Not here: running anything (diff.test.ts).
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { semKey } from '../../src/isa/spec.js';
import { OPCODES } from '../../src/isa/spec.js';
import { semOf } from '../../src/isa/encode.js';
import { buildProgram, diffCaseArb, straightLineArb } from './gen.js';

/** Rows no generated program uses: map relocations need a loader and maps this runtime does not have yet. */
const UNUSED = new Set(['lddw:map_fd', 'lddw:map_value', 'lddw:var_addr', 'lddw:code_addr', 'lddw:map_idx', 'lddw:map_idx_value']);

describe('program generator', () => {
  it('covers every runnable row of the opcode table and stays within 5..~100 slots', () => {
    const seen = new Map<string, number>();
    const sizes: number[] = [];
    for (const { recipe } of fc.sample(diffCaseArb(), { numRuns: 3000, seed: 42 })) {
      const program = buildProgram(recipe);
      sizes.push(program.slotCount);
      for (const insn of program.insns) {
        const k = semKey(semOf(insn));
        seen.set(k, (seen.get(k) ?? 0) + 1);
      }
    }
    const missing = OPCODES.map((r) => semKey(r.sem)).filter((k) => !UNUSED.has(k) && !seen.has(k));
    expect(missing).toEqual([]);
    sizes.sort((a, b) => a - b);
    expect(sizes[0]).toBeGreaterThanOrEqual(5);
    // The median program is small (JIT compile cost dominates the differential test); the tail may be larger.
    expect(sizes[sizes.length >> 1]).toBeLessThanOrEqual(60);
  });

  it('builds straight-line programs of ALU instructions only', () => {
    for (const recipe of fc.sample(straightLineArb, { numRuns: 300, seed: 7 })) {
      const kinds = new Set(buildProgram(recipe).insns.map((i) => i.kind));
      for (const k of kinds) expect(['alu', 'neg', 'movsx', 'endian', 'lddw', 'store', 'exit']).toContain(k);
    }
  });
});
