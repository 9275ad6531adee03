/**
 * Checks on the differential harness itself: it must report a disagreement in r0, in memory, in fault codes and
 * between two runs of the same loaded program. The engines are all the interpreter here; the disagreement is
 * injected through a helper that behaves differently in each runtime's memory.
 *
 * Not here: random programs (diff.test.ts).
 */

import { describe, expect, it } from 'vitest';
import { ExecutionError } from '../../src/errors.js';
import type { HelperFn, HelperTable } from '../../src/exec.js';
import { assemble } from '../../src/isa/asm.js';
import { DiffHarness } from './harness.js';

/** A helper table whose helper 1 calls `perMemory(k)` with k = 0 for the first memory it sees, 1 for the next, ... */
function splitBrain(perMemory: (k: number, args: readonly bigint[], memory: WebAssembly.Memory, pc: number) => bigint): HelperTable {
  const seen: WebAssembly.Memory[] = [];
  const fn: HelperFn = (r1, r2, r3, r4, r5, env) => {
    let k = seen.indexOf(env.memory);
    if (k < 0) k = seen.push(env.memory) - 1;
    return perMemory(k, [r1, r2, r3, r4, r5], env.memory, env.pc);
  };
  return new Map([[1, fn]]);
}

const spec = { input: new Uint8Array(16), budget: 10, writable: true };
const callAndExit = assemble('call 1\nexit');

describe('differential harness', () => {
  it('agrees with itself when nothing differs', async () => {
    const h = new DiffHarness(['interp', 'interp'], splitBrain(() => 7n));
    expect((await h.diff(callAndExit, [spec, spec])).mismatch).toBeNull();
  });

  it('reports a different r0', async () => {
    const h = new DiffHarness(['interp', 'interp'], splitBrain((k) => BigInt(k)));
    expect((await h.diff(callAndExit, [spec, spec])).mismatch).toMatch(/interp: r0 = 0x1, but interp: r0 = 0x0/);
  });

  it('reports different memory', async () => {
    const h = new DiffHarness(['interp', 'interp'], splitBrain((k, [r1], memory) => {
      new Uint8Array(memory.buffer)[Number(r1) + 3] = k;
      return 0n;
    }));
    expect((await h.diff(callAndExit, [spec, spec])).mismatch).toMatch(/memory differs .* 1 byte\(s\)/);
  });

  it('reports different faults', async () => {
    const h = new DiffHarness(['interp', 'interp'], splitBrain((k, _args, _memory, pc) => {
      throw new ExecutionError(k === 0 ? 'helper_failed' : 'out_of_bounds', 'injected', pc);
    }));
    expect((await h.diff(callAndExit, [spec, spec])).mismatch).toMatch(/out_of_bounds at pc 0, but interp: ExecutionError helper_failed/);
  });

  it('reports a run that differs from the first run of the same loaded program', async () => {
    let calls = 0;
    const h = new DiffHarness(['interp'], new Map([[1, () => BigInt(calls++)]]));
    expect((await h.diff(callAndExit, [spec, spec])).mismatch).toContain('run 2 (budget 10): interp is not deterministic: r0 = 0x1, run 1: r0 = 0x0');
  });

  it('reports a crash of the reference engine (anything thrown but an ExecutionError)', async () => {
    // A negative budget is a host bug the engine reports as an InternalError.
    const h = new DiffHarness(['interp'], splitBrain(() => 0n));
    expect((await h.diff(callAndExit, [{ ...spec, budget: -1 }])).mismatch).toMatch(/interp crashed: InternalError/);
  });
});
