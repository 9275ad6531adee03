/**
 * bpf_tail_call (12) through PROG_ARRAY maps on every engine (runtime/tailcall.ts): the callee replaces the
 * caller with r1 = ctx and a fresh frame, chains stop after 33 tail calls (the 34th falls through with -E2BIG),
 * a missing slot falls through with -ENOENT, the packet path (runPacket, runBatch, packetPath) drives chains
 * itself with each callee on the same packet and a zeroed frame, and bpf_loop callbacks refuse tail calls
 * rather than misreport them.
 */

import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/isa/asm.js';
import { ENGINES } from '../../runtime/engines.js';
import { relocateMaps } from '../../runtime/maps/relocate.js';
import { MAX_TAIL_CALLS } from '../../runtime/tailcall.js';
import { Runtime, type LoadedProgram } from '../../runtime/runtime.js';
import type { PerCpuMap } from '../../runtime/maps/map.js';
import { loadFixture, programNamed } from '../elf/fixtures.js';

const ENOENT = BigInt.asUintN(64, -2n);
const E2BIG = BigInt.asUintN(64, -7n);

describe.each(ENGINES)('tail calls on %s', (engine) => {
  /** A runtime with a prog array (map 0) and a counter array (map 1). */
  function setup() {
    const rt = new Runtime();
    const jt = rt.createMap({ name: 'jt', type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 4 });
    const counts = rt.createMap({ name: 'counts', type: 'array', keySize: 4, valueSize: 8, maxEntries: 4 }).typed('u32', 'u64');
    const load = (src: string): Promise<LoadedProgram> => rt.load(relocateMaps(assemble(src), [jt, counts]), { engine });
    return { rt, jt, counts, load };
  }
  /** Adds 1 to counts[key] (clobbers r1-r5, r0). */
  const bump = (key: number): string[] => [
    `stw [%r10-4], ${key}`, 'lddw map_idx %r1, 1', 'mov %r2, %r10', 'add %r2, -4', 'call 1',
    'jeq %r0, 0, +2', 'mov %r1, 1', 'lock add [%r0+0], %r1',
  ];
  /** Tail-calls jt[index] with the saved ctx (r6). */
  const tail = (index: number): string[] => ['mov %r1, %r6', 'lddw map_idx %r2, 0', `mov %r3, ${index}`, 'call 12'];

  it('the callee replaces the caller: r1 = ctx, a fresh frame, the caller never resumes', async () => {
    const { rt, jt, load } = setup();
    // The callee returns input[0] + its own [r10-8] (0 in a fresh frame) + 100.
    const callee = await load(['ldxb %r0, [%r1+0]', 'ldxdw %r2, [%r10-8]', 'add %r0, %r2', 'add %r0, 100', 'exit'].join('\n'));
    const caller = await load(['mov %r6, %r1', 'stdw [%r10-8], 77', ...tail(1), 'mov %r0, 1', 'exit'].join('\n'));
    rt.setProgram(jt, 1, callee);
    expect(caller.run(Uint8Array.of(5)).r0).toBe(105n);
    // Emptying the slot: the call falls through with -ENOENT and the caller continues.
    rt.setProgram(jt, 1, undefined);
    const show = await load(['mov %r6, %r1', ...tail(1), 'exit'].join('\n'));
    expect(show.run(Uint8Array.of(5)).r0).toBe(ENOENT);
    expect(caller.run(Uint8Array.of(5)).r0).toBe(1n);
    // An index beyond max_entries falls through too.
    expect((await load(['mov %r6, %r1', ...tail(9), 'exit'].join('\n'))).run(Uint8Array.of(5)).r0).toBe(ENOENT);
  });

  it(`at most ${MAX_TAIL_CALLS} tail calls chain in one run; the next falls through with -E2BIG`, async () => {
    const { rt, jt, counts, load } = setup();
    // Counts itself, then tail-calls itself; returns the failed call's result.
    const self = await load(['mov %r6, %r1', ...bump(0), ...tail(0), 'exit'].join('\n'));
    rt.setProgram(jt, 0, self);
    expect(self.run(Uint8Array.of(1)).r0).toBe(E2BIG);
    expect(counts.get(0)).toBe(BigInt(MAX_TAIL_CALLS + 1)); // the first run and 33 callees
    // Each run starts a new chain.
    expect(self.run(Uint8Array.of(1)).r0).toBe(E2BIG);
    expect(counts.get(0)).toBe(BigInt(2 * (MAX_TAIL_CALLS + 1)));
  });

  it('a chain across programs: A → B → C, each counting once', async () => {
    const { rt, jt, counts, load } = setup();
    const c = await load(['mov %r6, %r1', ...bump(2), 'mov %r0, 3', 'exit'].join('\n'));
    const b = await load(['mov %r6, %r1', ...bump(1), ...tail(2), 'mov %r0, 20', 'exit'].join('\n'));
    const a = await load(['mov %r6, %r1', ...bump(0), ...tail(1), 'mov %r0, 10', 'exit'].join('\n'));
    rt.setProgram(jt, 1, b);
    rt.setProgram(jt, 2, c);
    expect(a.run(Uint8Array.of(0)).r0).toBe(3n);
    expect([counts.get(0), counts.get(1), counts.get(2)]).toEqual([1n, 1n, 1n]);
  });

  it('a tail call from a bpf_loop callback faults (it cannot replace the program that called the helper)', async () => {
    const { rt, jt, load } = setup();
    rt.setProgram(jt, 0, await load('mov %r0, 1\nexit'));
    const src = [
      'mov %r6, %r1', 'mov %r1, 1', 'lddw code_addr %r2, 5', 'mov %r3, %r6', 'mov %r4, 0', 'call 181', 'exit', // callback at slot 8
      'mov %r1, %r2', 'lddw map_idx %r2, 0', 'mov %r3, 0', 'call 12', 'exit',
    ].join('\n');
    const lp = await load(src);
    expect(() => lp.run(Uint8Array.of(1))).toThrow(expect.objectContaining({ code: 'helper_failed', pc: 12 }));
  });

  it('an ELF object: PROG_ARRAY initial values name programs by slot (createMaps programSlot + setSlot)', async () => {
    const obj = loadFixture('maps.o');
    const rt = new Runtime();
    const maps = rt.createMaps(obj.maps, { programSlot: (name) => obj.programs.findIndex((p) => p.name === name) });
    const loaded: LoadedProgram[] = [];
    for (const p of obj.programs) loaded.push(await rt.load(relocateMaps(p.program, maps), { engine }));
    loaded.forEach((p, i) => rt.setSlot(i, p));
    const dispatch = loaded[obj.programs.indexOf(programNamed(obj, 'dispatch'))];
    const skb = (mark: number): Uint8Array => {
      const b = new Uint8Array(192);
      new DataView(b.buffer).setUint32(8, mark, true); // __sk_buff.mark
      b.set([10, 1, 2, 3], 92); // __sk_buff.remote_ip4
      return b;
    };
    expect(dispatch.run(skb(0)).r0).toBe(1n); // jump_table[0] = tail_a
    expect(dispatch.run(skb(2)).r0).toBe(2n); // jump_table[2] = tail_b
    expect(dispatch.run(skb(1)).r0).toBe(0n); // jump_table[1] is empty: falls through
    const perCpu = (maps[obj.maps.findIndex((m) => m.name === 'per_cpu')] as PerCpuMap).typed('u32', 'u64');
    expect(perCpu.get(0)).toEqual([3n]);
  });

  it('the packet path runs the chain: runPacket, runBatch (both forms), a bare packetPath, each callee on the same packet', async () => {
    const { rt, jt, counts, load } = setup();
    // The callee writes packet[0] += 1 and returns it; the caller's tail call never returns.
    const callee = await load(['mov %r6, %r1', ...bump(3), 'ldxb %r0, [%r6+0]', 'add %r0, 1', 'stxb [%r6+0], %r0', 'exit'].join('\n'));
    const caller = await load(['mov %r6, %r1', ...tail(0), 'mov %r0, 2', 'exit'].join('\n'));
    rt.setProgram(jt, 0, callee);
    expect(caller.runPacket(Uint8Array.of(7))).toBe(8);
    expect([...caller.runBatch([Uint8Array.of(1), Uint8Array.of(2)])]).toEqual([2, 3]);
    expect([...caller.runBatch({ data: Uint8Array.of(9, 8, 7), offsets: [0, 1, 3], wireLengths: [60, 61] })]).toEqual([10, 9]);
    const path = caller.packetPath();
    expect(path.run(Uint8Array.of(40))).toBe(41);
    expect([...path.packetView()]).toEqual([41]); // the callee's write, in the path's packet
    expect(counts.get(3)).toBe(6n); // one callee run a packet
    // A fault in a callee names the packet of the batch (the callee reads byte 0: an empty packet faults).
    expect(() => caller.runBatch([Uint8Array.of(1), new Uint8Array(0)])).toThrow(expect.objectContaining({ packetIndex: 1, code: 'out_of_bounds' }));
    expect(caller.runPacket(Uint8Array.of(3))).toBe(4); // and the path still works
    // Hot swap between runs; an empty slot falls through to the caller's own r0.
    rt.setProgram(jt, 0, await load('mov %r0, 77\nexit'));
    expect(caller.runPacket(Uint8Array.of(3))).toBe(77);
    rt.setProgram(jt, 0, undefined);
    expect([...caller.runBatch([Uint8Array.of(1), Uint8Array.of(2)])]).toEqual([2, 2]);
  });

  it('on the packet path, every program of a chain starts on a zeroed frame, run after run', async () => {
    const { rt, jt, load } = setup();
    // Stores at constant frame offsets only (the packet path clears them statically), and reads of what the
    // other program writes: each program of a chain must see its own zeroed stack.
    const callee = await load(['ldxdw %r0, [%r10-16]', 'ldxdw %r3, [%r10-8]', 'add %r0, %r3', 'stdw [%r10-24], -1', 'exit'].join('\n'));
    const caller = await load([
      'mov %r6, %r1', 'ldxdw %r7, [%r10-24]', 'stdw [%r10-16], -1', 'stdw [%r10-8], -1', ...tail(1), 'mov %r0, %r7', 'exit',
    ].join('\n'));
    rt.setProgram(jt, 1, callee);
    for (let k = 0; k < 3; k++) {
      expect(caller.runPacket(Uint8Array.of(k))).toBe(0);
      expect([...caller.runBatch([Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(3)])]).toEqual([0, 0, 0]);
    }
    // The caller alone (the slot emptied) sees a zeroed frame too, after its callee ran.
    rt.setProgram(jt, 1, undefined);
    expect(caller.runPacket(Uint8Array.of(0))).toBe(0);
    expect(caller.runPacket(Uint8Array.of(0))).toBe(0);
  });

  it('on the packet path: the chain limit, per-callee budgets, and a callee given another ctx (the general path) agree with run', async () => {
    const { rt, jt, counts, load } = setup();
    const self = await load(['mov %r6, %r1', ...bump(0), ...tail(0), 'exit'].join('\n'));
    rt.setProgram(jt, 0, self);
    expect(self.runPacket(Uint8Array.of(1))).toBe(Number(E2BIG & 0xffff_ffffn));
    expect(counts.get(0)).toBe(BigInt(MAX_TAIL_CALLS + 1));
    expect([...self.runBatch([Uint8Array.of(1), Uint8Array.of(2)])]).toEqual([Number(E2BIG & 0xffff_ffffn), Number(E2BIG & 0xffff_ffffn)]);
    expect(counts.get(0)).toBe(BigInt(3 * (MAX_TAIL_CALLS + 1)));
    // A callee whose loop never ends stops at its budget (its own default: termination unproven), on both paths.
    const spin = await load('mov %r0, 0\nadd %r0, 1\nja -2\nexit');
    const toSpin = await load(['mov %r6, %r1', ...tail(2), 'mov %r0, 5', 'exit'].join('\n'));
    rt.setProgram(jt, 2, spin);
    expect(() => toSpin.runPacket(Uint8Array.of(1))).toThrow(expect.objectContaining({ code: 'budget_exceeded' }));
    expect(() => toSpin.run(Uint8Array.of(1))).toThrow(expect.objectContaining({ code: 'budget_exceeded' }));
    expect(() => toSpin.packetPath({ budget: 10 }).run(Uint8Array.of(1))).toThrow(expect.objectContaining({ code: 'budget_exceeded' }));
    // The caller passes r1 + 1 as the ctx: the callee gets exactly that (r1 = the packet's second byte).
    const second = await load('ldxb %r0, [%r1+0]\nexit');
    const shifted = await load(['mov %r6, %r1', 'add %r6, 1', ...tail(3), 'mov %r0, 5', 'exit'].join('\n'));
    rt.setProgram(jt, 3, second);
    expect(shifted.runPacket(Uint8Array.of(1, 42))).toBe(42);
    expect(shifted.run(Uint8Array.of(1, 42)).r0).toBe(42n);
    expect([...shifted.runBatch([Uint8Array.of(1, 43), Uint8Array.of(1, 44, 0)])]).toEqual([43, 44]);
  });
});
