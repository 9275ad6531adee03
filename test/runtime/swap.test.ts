/**
 * Hot swap on every engine: a dispatcher tail-calls the program in a PROG_ARRAY slot; replacing that program
 * (by array index, `Runtime.setProgram`, or behind a slot id, `Runtime.setSlot`) while a packet stream is
 * being processed changes the code from the next packet on, and the maps keep their contents: counters
 * continue across the swap.
 */

import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/isa/asm.js';
import { ENGINES } from '../../runtime/engines.js';
import { relocateMaps } from '../../runtime/maps/relocate.js';
import { Runtime } from '../../runtime/runtime.js';

describe.each(ENGINES)('hot swap on %s', (engine) => {
  it('replacing the program in a slot mid-stream keeps the counters counting', async () => {
    const rt = new Runtime();
    const jt = rt.createMap({ name: 'jt', type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 1 });
    const counts = rt.createMap({ name: 'counts', type: 'hash', keySize: 4, valueSize: 8, maxEntries: 16 }).typed('u32', 'u64');
    const load = (src: string) => rt.load(relocateMaps(assemble(src), [jt, counts]), { engine });
    // counts[packet[0]] += 1 (insert when absent); r0 = version.
    const counter = (version: number, weight: number): string => [
      'mov %r6, %r1', 'ldxb %r7, [%r6+0]', 'stxw [%r10-4], %r7',
      'lddw map_idx %r1, 1', 'mov %r2, %r10', 'add %r2, -4', 'call 1',
      'jeq %r0, 0, +3', `mov %r1, ${weight}`, 'lock add [%r0+0], %r1', 'ja +7',
      `stdw [%r10-16], ${weight}`, 'lddw map_idx %r1, 1', 'mov %r2, %r10', 'add %r2, -4', 'mov %r3, %r10', 'add %r3, -16', 'mov %r4, 0', 'call 2',
      `mov %r0, ${version}`, 'exit',
    ].join('\n');
    const dispatch = await load(['mov %r6, %r1', 'mov %r1, %r6', 'lddw map_idx %r2, 0', 'mov %r3, 0', 'call 12', 'mov %r0, 0', 'exit'].join('\n'));
    const v1 = await load(counter(1, 1));
    const v2 = await load(counter(2, 10));
    const v3 = await load(counter(3, 100));
    rt.setProgram(jt, 0, v1);
    const verdicts: bigint[] = [];
    for (let i = 0; i < 300; i++) {
      if (i === 100) rt.setProgram(jt, 0, v2); // by array index
      if (i === 200) rt.setSlot(rt.programSlot(v2), v3); // behind the slot id the array holds
      verdicts.push(dispatch.run(Uint8Array.of(i % 3)).r0);
    }
    expect(verdicts.slice(0, 100).every((v) => v === 1n)).toBe(true);
    expect(verdicts.slice(100, 200).every((v) => v === 2n)).toBe(true);
    expect(verdicts.slice(200).every((v) => v === 3n)).toBe(true);
    // Per key: 33 or 34 packets of each phase, weighted 1, 10 and 100.
    const per = (phase: number, key: number): number => [...Array(100).keys()].filter((i) => (phase * 100 + i) % 3 === key).length;
    for (const key of [0, 1, 2]) {
      expect(counts.get(key)).toBe(BigInt(per(0, key) + 10 * per(1, key) + 100 * per(2, key)));
    }
    // The array still holds v2's slot; emptying it stops the stream's processing (dispatch falls through).
    expect(jt.get(0)).toBe(rt.programSlot(v2));
    rt.setProgram(jt, 0, undefined);
    expect(dispatch.run(Uint8Array.of(0)).r0).toBe(0n);
  });
});
