/**
 * Fixed cases for the differential test: small programs with a known outcome, run on every engine in
 * `ENGINES` (through the differential harness, so engines must also agree on memory and with themselves).
 *
 * Where they come from: the random differential test has found no interpreter/JIT mismatch so far. These cases
 * are the minimized counterexamples it produced when it was run against deliberately broken copies of the JIT
 * (mutation testing of the test: each mutant named below was caught), rewritten by hand into the smallest
 * program that shows the bug. They pin down, in a second, behaviour random programs reach only now and then.
 * A mismatch found in the future joins this list under its own name.
 *
 * Not here: random programs (diff.test.ts), the conformance suite (test/conformance).
 */

import { describe, expect, it } from 'vitest';
import type { ExecutionErrorCode } from '../../src/errors.js';
import { assemble } from '../../src/isa/asm.js';
import { decode, parseHex } from '../../src/isa/decode.js';
import { ENGINES } from '../../runtime/engines.js';
import { DiffHarness, formatOutcome, type Outcome } from './harness.js';

/** One case; diff.test.ts prints new ones in this form (with `hex`). */
interface Regression {
  readonly name: string;
  /** The engine bug it catches (the mutant it killed, or the mismatch it reproduces). */
  readonly catches: string;
  /** The program as assembly, or as bytecode in hex. */
  readonly asm?: string;
  readonly hex?: string;
  /** Input bytes in hex (r1 points at a copy); default: 64 bytes 0x00, 0x01, ..., 0x3f. */
  readonly input?: string;
  /** Default: no budget. */
  readonly budget?: number;
  /** Default true. */
  readonly writable?: boolean;
  /** Add the harness's decoy regions. Default false. */
  readonly decoys?: boolean;
  readonly expected: { readonly r0: bigint } | { readonly fault: ExecutionErrorCode; readonly pc: number };
}

const BYTES_0_TO_63 = Uint8Array.from({ length: 64 }, (_, i) => i);

const CASES: readonly Regression[] = [
  {
    name: 'arsh32 shifts in the sign of bit 31 and masks the count to 5 bits',
    catches: 'arsh lowered as a logical shift',
    asm: 'lddw %r1, 0x80000000\nmov %r2, -1\narsh32 %r1, %r2\nmov %r0, %r1\nexit',
    expected: { r0: 0xffffffffn },
  },
  {
    name: 'arsh by 63 of INT64_MIN gives all ones',
    catches: 'arsh lowered as a logical shift',
    asm: 'lddw %r1, 0x8000000000000000\narsh %r1, 63\nmov %r0, %r1\nexit',
    expected: { r0: 0xffffffffffffffffn },
  },
  {
    name: 'jsle32 loops while the counter is <= 1: two iterations',
    catches: 'sle lowered as slt',
    asm: 'mov %r6, 0\nloop: add %r6, 1\njsle32 %r6, 1, loop\nmov %r0, %r6\nexit',
    budget: 10,
    expected: { r0: 2n },
  },
  {
    name: 'jsle32 compares the low halves as signed: 0xffffffff <= 0',
    catches: 'a 32-bit signed compare done at 64 bits',
    asm: 'lddw %r1, 0xffffffff\nmov %r0, 1\njsle32 %r1, 0, +1\nmov %r0, 2\nexit',
    expected: { r0: 1n },
  },
  {
    name: 'a store at [r10] is past the top of the stack',
    catches: 'the unchecked frame-access range extended past the frame top',
    asm: 'mov %r0, 0\nstxdw [%r10], %r0\nexit',
    expected: { fault: 'out_of_bounds', pc: 1 },
  },
  {
    name: 'a store at [r10-4] of 8 bytes crosses the top of the stack',
    catches: 'the unchecked frame-access range extended past the frame top',
    asm: 'mov %r0, 0\nstxdw [%r10-4], %r0\nexit',
    expected: { fault: 'out_of_bounds', pc: 1 },
  },
  {
    name: 'a misaligned atomic on the stack faults misaligned_atomic, not a Wasm trap',
    catches: 'a wrong alignment mask in the atomic check',
    asm: 'mov %r4, 1\nmov %r0, %r10\nlock xchg [%r0-351], %r4\nexit',
    expected: { fault: 'misaligned_atomic', pc: 2 },
  },
  {
    name: 'cmpxchg32 crossing the end of the input is out of bounds before it is misaligned',
    catches: 'region bounds one byte too long',
    asm: 'mov %r0, 0\nmov %r7, 0\nlock cmpxchg32 [%r1+61], %r7\nexit',
    expected: { fault: 'out_of_bounds', pc: 2 },
  },
  {
    name: 'cmpxchg32 inside the input but misaligned faults misaligned_atomic',
    catches: 'a wrong alignment mask in the atomic check',
    asm: 'mov %r0, 0\nmov %r7, 0\nlock cmpxchg32 [%r1+58], %r7\nexit',
    expected: { fault: 'misaligned_atomic', pc: 2 },
  },
  {
    name: 'cmpxchg32 on the last word of the input swaps when r0 matches',
    catches: 'region bounds one byte too short',
    asm: 'mov32 %r0, 0x3f3e3d3c\nmov32 %r7, 0x11223344\nlock cmpxchg32 [%r1+60], %r7\nldxw %r0, [%r1+60]\nexit',
    expected: { r0: 0x11223344n },
  },
  {
    name: 'ldabsh over the last byte of the packet ends the program with r0 = 0',
    catches: 'the packet bound off by one',
    asm: 'mov %r0, 7\nldabsh 63\nmov %r0, 1\nexit',
    expected: { r0: 0n },
  },
  {
    name: 'ldabsh of the last two bytes reads them big-endian',
    catches: 'the packet bound off by one',
    asm: 'ldabsh 62\nexit',
    expected: { r0: 0x3e3fn },
  },
  {
    // The store goes through a copy of r10, so that it is checked: a frame below the stack is out of bounds.
    name: 'unbounded recursion that writes its frame faults call_depth at the call, never below the stack',
    catches: 'the call-depth limit one frame too deep (the ninth frame lies below the stack)',
    asm: 'f: mov %r2, %r10\nstxdw [%r2-8], %r1\ncall local f\nexit',
    expected: { fault: 'call_depth', pc: 2 },
  },
  {
    name: 'recursion within the depth limit runs out of budget at the call',
    catches: 'calls not charged against the budget',
    asm: 'f: mov %r2, %r10\nstxdw [%r2-8], %r1\ncall local f\nexit',
    budget: 3,
    expected: { fault: 'budget_exceeded', pc: 2 },
  },
  {
    name: 'a ja to itself is a backward jump: it consumes budget',
    catches: 'self-loops (target == pc) not charged: without the budget the run never ends',
    asm: 'ja -1',
    budget: 5,
    expected: { fault: 'budget_exceeded', pc: 0 },
  },
  {
    name: 'a conditional jump to itself is a backward jump: it consumes budget',
    catches: 'self-loops (target == pc) not charged: without the budget the run never ends',
    asm: 'mov %r0, 0\njeq %r0, 0, -1\nexit',
    budget: 3,
    expected: { fault: 'budget_exceeded', pc: 1 },
  },
  {
    name: 'mod by a zero register leaves dst',
    catches: 'mod by zero giving 0',
    asm: 'mov %r6, 1\nmov %r0, 0\nmod %r6, %r0\nmov %r0, %r6\nexit',
    expected: { r0: 1n },
  },
  {
    name: 'mod32 by a register whose low half is zero leaves the low half of dst, zero-extended',
    catches: 'mod by zero giving 0; a 32-bit result not zero-extended',
    asm: 'lddw %r6, 0xffffffff00000007\nlddw %r0, 0x100000000\nmod32 %r6, %r0\nmov %r0, %r6\nexit',
    expected: { r0: 7n },
  },
  {
    name: 'div by a zero register gives 0',
    catches: 'an unguarded Wasm division (traps)',
    asm: 'mov %r6, 5\nmov %r1, 0\ndiv %r6, %r1\nmov %r0, %r6\nexit',
    expected: { r0: 0n },
  },
  {
    name: 'movsx1632 sign-extends bit 15 and zero-extends the result',
    catches: 'movsx 16 lowered as movsx 8',
    asm: 'mov %r9, 0x8000\nmovsx1632 %r0, %r9\nexit',
    expected: { r0: 0xffff8000n },
  },
  {
    name: 'movsx1632 of 0x80 is 0x80',
    catches: 'movsx 16 lowered as movsx 8',
    asm: 'mov %r9, 128\nmovsx1632 %r0, %r9\nexit',
    expected: { r0: 0x80n },
  },
  {
    name: 'sdiv INT64_MIN by a -1 register is INT64_MIN',
    catches: 'the sdiv -1 guard removed (Wasm traps: divide result unrepresentable)',
    asm: 'lddw %r1, 0x8000000000000000\nmov %r2, -1\nsdiv %r1, %r2\nmov %r0, %r1\nexit',
    expected: { r0: 0x8000000000000000n },
  },
  {
    name: 'sdiv32 INT32_MIN by a -1 register is INT32_MIN, zero-extended',
    catches: 'the sdiv -1 guard removed (Wasm traps: divide result unrepresentable)',
    asm: 'mov32 %r1, 0x80000000\nmov %r2, -1\nsdiv32 %r1, %r2\nmov %r0, %r1\nexit',
    expected: { r0: 0x80000000n },
  },
  {
    name: 'smod INT64_MIN by a -1 register is 0',
    catches: 'an unguarded signed remainder',
    asm: 'lddw %r1, 0x8000000000000000\nmov %r2, -1\nsmod %r1, %r2\nmov %r0, %r1\nexit',
    expected: { r0: 0n },
  },
];

function expectedOutcome(c: Regression): Outcome {
  return 'r0' in c.expected ? { kind: 'ok', r0: c.expected.r0 } : { kind: 'fault', code: c.expected.fault, pc: c.expected.pc };
}

describe(`regressions on ${ENGINES.join(', ')}`, () => {
  const harness = new DiffHarness(ENGINES, undefined, 20_000);

  for (const c of CASES) {
    it(`${c.name} (catches: ${c.catches})`, async () => {
      const program = c.asm !== undefined ? assemble(c.asm) : decode(parseHex(c.hex ?? ''));
      const input = c.input !== undefined ? parseHex(c.input) : BYTES_0_TO_63;
      const spec = { input, budget: c.budget, writable: c.writable ?? true, decoys: c.decoys ?? false };
      const res = await harness.diff(program, [spec, spec], `regression: ${c.name}`);
      expect(res.mismatch).toBeNull();
      for (const r of res.runs[0]) expect(formatOutcome(r.outcome), r.engine).toBe(formatOutcome(expectedOutcome(c)));
    });
  }
});
