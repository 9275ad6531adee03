/**
 * bpf_loop (181) and bpf_for_each_map_elem (164) on every engine (runtime/helpers/callbacks.ts): callbacks from
 * `lddw code_addr`, run through a trampoline on the program's own engine, with the caller's stack reachable
 * through ctx; early stops, errno returns, faults located in the program's numbering, strict verification.
 */

import { describe, expect, it } from 'vitest';
import { ExecutionError } from '../../src/errors.js';
import { assemble as asm } from '../../src/isa/asm.js';
import type { Program } from '../../src/isa/program.js';
import { ENGINES } from '../../runtime/engines.js';
import { relocateMaps } from '../../runtime/maps/relocate.js';
import { Runtime } from '../../runtime/runtime.js';

/** `assemble`, plus `@label` in an lddw operand: a callback's address, `label - (pc + 1)` as libbpf encodes it. */
function assemble(text: string): Program {
  const lines = text.split('\n');
  const labels = new Map<string, number>();
  const pcs: number[] = [];
  let pc = 0;
  for (const l of lines) {
    pcs.push(pc);
    const m = /^(\w+):$/.exec(l.trim());
    if (m) labels.set(m[1], pc);
    else pc += l.trim().startsWith('lddw') ? 2 : 1;
  }
  return asm(lines.map((l, i) => l.replace(/@(\w+)/, (_, name: string) => String(labels.get(name)! - (pcs[i] + 1)))).join('\n'));
}

const EINVAL = BigInt.asUintN(64, -22n);
const E2BIG = BigInt.asUintN(64, -7n);

/** sum += index for nr loops (stop when index == stopAt); returns [r10-8] << 32 | the helper's result. */
const loopProgram = (nr: string, stopAt = 1000, flags = 0): string => [
  'stdw [%r10-8], 0', `mov %r1, ${nr}`, 'lddw code_addr %r2, @cb', 'mov %r3, %r10', 'add %r3, -8', `mov %r4, ${flags}`,
  'call 181', 'ldxdw %r1, [%r10-8]', 'lsh %r1, 32', 'mov %r0, %r0', 'and %r0, 0xffff', 'or %r0, %r1', 'exit',
  'cb:', 'ldxdw %r3, [%r2+0]', 'add %r3, %r1', 'stxdw [%r2+0], %r3', 'mov %r0, 0', `jne %r1, ${stopAt}, +1`, 'mov %r0, 1', 'exit',
].join('\n');

describe.each(ENGINES)('callback helpers on %s', (engine) => {
  it('bpf_loop calls the callback with (index, ctx) until nr_loops, or until it returns 1', async () => {
    const rt = new Runtime();
    expect((await rt.load(assemble(loopProgram('10')), { engine })).run().r0).toBe((45n << 32n) | 10n);
    expect((await rt.load(assemble(loopProgram('10', 3)), { engine })).run().r0).toBe((6n << 32n) | 4n); // 0+1+2+3, 4 calls
    expect((await rt.load(assemble(loopProgram('0')), { engine })).run().r0).toBe(0n);
    // The verifier follows the callback; strict loading accepts it and runs the same.
    expect((await rt.load(assemble(loopProgram('100')), { engine, verify: 'strict' })).run().r0).toBe((4950n << 32n) | 100n);
  });

  it('bpf_loop errors: too many loops, flags, a value that is no callback', async () => {
    const rt = new Runtime();
    const low16 = (x: bigint): bigint => x & 0xffffn;
    expect(low16((await rt.load(assemble(loopProgram(String((1 << 23) + 1))), { engine })).run().r0)).toBe(low16(E2BIG));
    expect(low16((await rt.load(assemble(loopProgram('5', 1000, 1)), { engine })).run().r0)).toBe(low16(EINVAL));
    const noCallback = await rt.load(assemble('mov %r1, 3\nmov %r2, 77\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit'), { engine });
    expect(noCallback.run().r0).toBe(EINVAL);
  });

  it('a callback can call subprograms and nest bpf_loop; the caller may be a subprogram itself', async () => {
    const rt = new Runtime();
    // main → sub (depth 1) → bpf_loop(4, outer) ; outer(i) → bpf_loop(3, inner) ; inner(j) → add(ctx, i*j) via a local call.
    const src = [
      'stdw [%r10-8], 0', 'mov %r1, %r10', 'add %r1, -8', 'call local sub', 'ldxdw %r0, [%r10-8]', 'exit',
      'sub:', 'mov %r3, %r1', 'mov %r1, 4', 'lddw code_addr %r2, @outer', 'mov %r4, 0', 'call 181', 'exit',
      'outer:', 'stxdw [%r10-8], %r1', 'stxdw [%r10-16], %r2', // this frame: i, ctx
      'mov %r1, 3', 'lddw code_addr %r2, @inner', 'mov %r3, %r10', 'add %r3, -16', 'mov %r4, 0', 'call 181', 'mov %r0, 0', 'exit',
      'inner:', 'ldxdw %r3, [%r2+8]', 'mul %r3, %r1', 'ldxdw %r2, [%r2+0]', 'mov %r1, %r3', 'call local add', 'mov %r0, 0', 'exit',
      'add:', 'ldxdw %r3, [%r2+0]', 'add %r3, %r1', 'stxdw [%r2+0], %r3', 'exit',
    ].join('\n');
    // Σ i=0..3 Σ j=0..2 i*j = 6 * 3 = 18
    expect((await rt.load(assemble(src), { engine })).run().r0).toBe(18n);
  });

  it('a fault inside a callback names its pc in the program', async () => {
    const rt = new Runtime();
    const src = ['mov %r1, 2', 'lddw code_addr %r2, @cb', 'mov %r3, 0', 'mov %r4, 0', 'call 181', 'exit', 'cb:', 'mov %r0, 0', 'ldxdw %r0, [%r2+0]', 'exit'].join('\n');
    const lp = await rt.load(assemble(src), { engine });
    let err: unknown;
    try {
      lp.run();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ExecutionError);
    expect([(err as ExecutionError).code, (err as ExecutionError).pc]).toEqual(['out_of_bounds', 8]);
  });

  it('bpf_for_each_map_elem visits every element with (map, key, value, ctx) and stops on 1', async () => {
    const rt = new Runtime();
    const h = rt.createMap({ name: 'h', type: 'hash', keySize: 4, valueSize: 8, maxEntries: 32 }).typed('u32', 'u64');
    const a = rt.createMap({ name: 'a', type: 'array', keySize: 4, valueSize: 8, maxEntries: 5 }).typed('u32', 'u64');
    for (let k = 1; k <= 10; k++) h.set(k * 3, BigInt(k));
    for (let k = 0; k < 5; k++) a.set(k, 100n);
    // ctx: [r10-16] sum of key*value, [r10-8] stop key (0: none). Values are doubled through the value pointer.
    const src = (mapIdx: number, stopKey: number): string => [
      'stdw [%r10-16], 0', `stdw [%r10-8], ${stopKey}`, `lddw map_idx %r1, ${mapIdx}`, 'lddw code_addr %r2, @cb', 'mov %r3, %r10', 'add %r3, -16',
      'mov %r4, 0', 'call 164', 'ldxdw %r1, [%r10-16]', 'lsh %r1, 16', 'or %r0, %r1', 'exit',
      'cb:', 'ldxw %r6, [%r2+0]', 'ldxdw %r7, [%r3+0]', 'mov %r8, %r6', 'mul %r8, %r7', 'ldxdw %r9, [%r4+0]', 'add %r9, %r8', 'stxdw [%r4+0], %r9',
      'lsh %r7, 1', 'stxdw [%r3+0], %r7', 'mov %r0, 0', 'ldxdw %r9, [%r4+8]', 'jne %r9, %r6, +1', 'mov %r0, 1', 'exit',
    ].join('\n');
    const load = (s: string) => rt.load(relocateMaps(assemble(s), [h, a]), { engine });
    const all = (await load(src(0, 0))).run().r0;
    const want = [...Array(10).keys()].reduce((s, i) => s + (i + 1) * 3 * (i + 1), 0);
    expect(all).toBe((BigInt(want) << 16n) | 10n);
    for (let k = 1; k <= 10; k++) expect(h.get(k * 3)).toBe(BigInt(2 * k));
    // Stop at key 2 of the array: keys 0, 1, 2 visited.
    expect((await load(src(1, 2))).run().r0).toBe((BigInt(100 * (0 + 1 + 2)) << 16n) | 3n);
    expect([...Array(5).keys()].map((k) => a.get(k))).toEqual([200n, 200n, 200n, 100n, 100n]);
    // Flags must be 0.
    expect((await load(src(1, 0).replace('mov %r4, 0', 'mov %r4, 1'))).run().r0 & 0xffffn).toBe(EINVAL & 0xffffn);
  });
});
