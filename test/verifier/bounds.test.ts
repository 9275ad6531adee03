/**
 * `VerifiedProgram.backEdges` (src/verifier/termination.ts): a bound on the taken backward jumps plus local calls
 * of one run, from the termination proof, that a runtime compares with PROVEN_LOOP_LIMIT to decide whether runs
 * need a budget. It must never be below what a run takes (checked by running the programs and counting), and is
 * absent where the proof cannot give one.
 */

import { describe, expect, test } from 'vitest';
import { assemble } from '../../src/isa/asm.js';
import { verify } from '../../src/verifier/verify.js';
import { Runtime } from '../../runtime/runtime.js';
import { ExecutionError } from '../../src/errors.js';

/** The smallest budget a run of `src` on `input` completes with (what it takes), by bisection. */
async function taken(src: string, input: Uint8Array): Promise<number> {
  const lp = await new Runtime().load(assemble(src), { engine: 'interp', budget: 'none' });
  let lo = 0;
  let hi = 1 << 22;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    try {
      lp.run(input, { budget: mid });
      hi = mid;
    } catch (e) {
      if (!(e instanceof ExecutionError) || e.code !== 'budget_exceeded') throw e;
      lo = mid + 1;
    }
  }
  return lo;
}

describe('backEdges', () => {
  const cases: Record<string, { src: string; input?: Uint8Array }> = {
    'no loop': { src: 'mov r0, 1\nexit' },
    'a counted loop': { src: 'mov r0, 0\nmov r1, 0\nloop:\nadd r0, 3\nadd r1, 1\njlt r1, 10, loop\nexit' },
    'a countdown': { src: 'mov r0, 0\nmov r1, 50\nloop:\nadd r0, 1\nsub r1, 1\njne r1, 0, loop\nexit' },
    'nested loops': {
      src: 'mov r0, 0\nmov r1, 0\nouter:\nmov r2, 0\ninner:\nadd r0, 1\nadd r2, 1\njlt r2, 7, inner\nadd r1, 1\njlt r1, 5, outer\nexit',
    },
    'two loops in a row': { src: 'mov r1, 0\na:\nadd r1, 1\njlt r1, 20, a\nmov r2, 0\nb:\nadd r2, 1\njlt r2, 30, b\nmov r0, r1\nexit' },
    'a loop over the packet': {
      src: 'mov r0, 0\nmov r3, r1\nadd r1, r2\nloop:\nmov r4, r3\nadd r4, 1\njgt r4, r1, out\nldxb r5, [r3+0]\nadd r0, r5\nmov r3, r4\nja loop\nout:\nexit',
      input: new Uint8Array(300).fill(1),
    },
    'calls from a loop': { src: 'mov r0, 0\nmov r6, 0\nloop:\ncall local f\nadd r6, 1\njlt r6, 12, loop\nexit\nf:\nadd r0, 1\nexit' },
  };
  for (const [name, { src, input }] of Object.entries(cases)) {
    test(`${name}: the bound covers what a run takes`, async () => {
      const v = verify(assemble(src), { mode: 'permissive' });
      expect(v.terminates).toBe(true);
      expect(v.backEdges).toBeDefined();
      expect(v.backEdges!).toBeGreaterThanOrEqual(BigInt(await taken(src, input ?? new Uint8Array(8))));
    });
  }

  test('nested loops multiply; a loop in a called function, or callbacks, give no bound', () => {
    const nested = verify(assemble(cases['nested loops'].src), { mode: 'permissive' });
    expect(nested.backEdges!).toBeGreaterThanOrEqual(35n);
    expect(nested.backEdges!).toBeLessThan(100n);
    const inCallee = verify(assemble('call local f\nexit\nf:\nmov r0, 0\nmov r1, 0\nloop:\nadd r1, 1\njlt r1, 10, loop\nexit'), { mode: 'permissive' });
    expect(inCallee.terminates).toBe(true);
    expect(inCallee.backEdges).toBeUndefined();
  });

  test('a loop bounded by a 32-bit value, or by a wrap, has a bound far beyond any budget', () => {
    const byPacket = verify(assemble('mov r0, 0\njlt r2, 4, out\nldxw r3, [r1+0]\nmov r4, 0\nloop:\nadd r0, 1\nadd r4, 1\njlt r4, r3, loop\nout:\nexit'), { mode: 'permissive' });
    expect(byPacket.terminates).toBe(true);
    expect(byPacket.backEdges!).toBeGreaterThanOrEqual(1n << 32n);
    const wraps = verify(assemble('mov r0, 0\nmov r1, 1\nloop:\nadd r1, 1\njne r1, 0, loop\nexit'), { mode: 'permissive' });
    if (wraps.terminates) expect(wraps.backEdges!).toBeGreaterThanOrEqual((1n << 64n) - 2n);
  });
});
