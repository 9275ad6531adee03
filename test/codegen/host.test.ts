// The JIT's run-time side (codegen/host.ts): one executable serves every module variant (budget or not, region
// slots or the region cache) in any order; malformed requests are refused like the interpreter refuses them;
// helpers come from each run's request.

import { expect, test } from 'vitest';
import { compileForRuntime } from '../../codegen/compile.js';
import { InternalError } from '../../src/errors.js';
import type { ExecRequest, HelperTable, Region } from '../../src/exec.js';
import { Interpreter } from '../../src/interp/interpreter.js';
import { assemble } from '../../src/isa/asm.js';
import { EXTRA, INPUT, STACK } from './harness.js';

const PAGES = 6;

test('one executable runs every variant, in any order, like the interpreter', async () => {
  const memory = new WebAssembly.Memory({ initial: PAGES });
  // Sums the first byte of every region it is given pointers to (r1: a table of up to 6 pointers, r2: count),
  // in a loop, so that the budget matters.
  const program = assemble(`
    mov r0, 0
    mov r6, r1
    mov r7, r2
  loop:
    jeq r7, 0, done
    ldxdw r3, [r6+0]
    ldxb r4, [r3+0]
    add r0, r4
    stb [r3+1], 1
    add r6, 8
    sub r7, 1
    ja loop
  done:
    exit`);
  const jit = await compileForRuntime(program, { memory, helpers: new Map() });
  const interp = new Interpreter(program);
  const bytes = new Uint8Array(memory.buffer);
  const view = new DataView(memory.buffer);
  const request = (count: number, budget?: number): ExecRequest => {
    const regions: Region[] = [{ start: INPUT, end: INPUT + 8 * count, writable: false, name: 'table' }];
    for (let i = 0; i < count; i++) {
      const start = EXTRA + 0x100 * i;
      view.setBigUint64(INPUT + 8 * i, BigInt(start), true);
      bytes[start] = 10 + i;
      regions.push({ start, end: start + 2, writable: true, name: `r${i}` });
    }
    return { memory, stackBase: STACK, regions, args: [BigInt(INPUT), BigInt(count)], helpers: new Map(), budget };
  };
  const outcome = (f: () => bigint): string => {
    try {
      return `r0 ${f()}`;
    } catch (e) {
      return `${(e as { code?: string }).code} at ${(e as { pc?: number }).pc}`;
    }
  };
  for (const [count, budget] of [[1, undefined], [5, undefined], [2, 10], [6, 100], [6, 3], [3, undefined], [3, 2]] as const) {
    const got = outcome(() => jit.run(request(count, budget)));
    expect(got, `${count} regions, budget ${budget}`).toBe(outcome(() => interp.run(request(count, budget))));
    expect(got).toMatch(/^(r0 \d+|budget_exceeded at \d+)$/);
  }
});

test('malformed requests are refused with an InternalError, as by the interpreter', async () => {
  const memory = new WebAssembly.Memory({ initial: PAGES });
  const jit = await compileForRuntime(assemble('mov r0, 1\nexit'), { memory, helpers: new Map() });
  const base: ExecRequest = { memory, stackBase: STACK, regions: [], args: [], helpers: new Map() };
  const size = memory.buffer.byteLength;
  for (const req of [
    { ...base, stackBase: size - 100 },
    { ...base, regions: [{ start: size - 4, end: size + 4, writable: true, name: 'past the end' }] },
    { ...base, packet: { start: size, length: 1 } },
    { ...base, budget: -1 },
    { ...base, budget: 1.5 },
    { ...base, memory: new WebAssembly.Memory({ initial: PAGES }) },
  ]) {
    expect(() => jit.run(req)).toThrow(InternalError);
  }
  expect(jit.run(base)).toBe(1n);
});

test('helpers are looked up in each run\'s table', async () => {
  const memory = new WebAssembly.Memory({ initial: PAGES });
  const program = assemble('mov r1, 4\ncall 1\nexit');
  const jit = await compileForRuntime(program, { memory, helpers: new Map([[1, () => 0n]]) });
  const run = (helpers: HelperTable): bigint => jit.run({ memory, stackBase: STACK, regions: [], args: [], helpers });
  expect(run(new Map([[1, (a) => a + 1n]]))).toBe(5n);
  expect(run(new Map([[1, (a) => a * 3n]]))).toBe(12n);
  expect(() => run(new Map())).toThrow(expect.objectContaining({ code: 'unknown_helper', pc: 1 }));
});
