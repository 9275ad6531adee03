/**
 * The map benchmark's programs (bench/maps.ts) compute the right thing: run once with small workloads on every
 * engine, and by the native twin when a C compiler is present, each result compared with a JavaScript
 * computation. No timing here (that is `node dist/bench/maps.js`).
 *
 * Not here: the figures, the timing method (bench/harness.ts).
 */

import { describe, expect, it } from 'vitest';
import { buildNative, createLookupMap, createRing, expectedRecords, loadMapProgram, lookupWorkload, ringFillInput, runNativeLookups } from '../../bench/maps.js';
import { nativeToolchain } from '../../bench/native.js';
import { ENGINES } from '../../runtime/engines.js';
import { Runtime } from '../../runtime/runtime.js';

/** The sum the lookup programs compute, from the map itself through the JS API: independent of the program. */
function sumThroughJsApi(map: ReturnType<typeof createLookupMap>, keys: Uint8Array, keySize: number): { sum: bigint; hits: number } {
  let sum = 0n;
  let hits = 0;
  for (let at = 0; at < keys.length; at += keySize) {
    const v = map.get(keys.subarray(at, at + keySize));
    if (v !== undefined) {
      sum += v.readBigUInt64LE(0);
      hits++;
    }
  }
  return { sum: BigInt.asUintN(64, sum), hits };
}

describe.each([4, 16] as const)('hash lookups, %i-byte keys', (keySize) => {
  const w = lookupWorkload(keySize, 200, 64, 7);

  it('the workload: half the keys looked up are present, and its sum is what the JS API gives', () => {
    const rt = new Runtime();
    const map = createLookupMap(rt, w);
    const { sum, hits } = sumThroughJsApi(map, w.lookups, keySize);
    expect(hits).toBe(32);
    expect(sum).toBe(w.expected);
    expect(w.expected).not.toBe(0n);
  });

  it('every engine returns the sum of the values found', async () => {
    const results: bigint[] = [];
    for (const engine of ENGINES) {
      const rt = new Runtime();
      const map = createLookupMap(rt, w);
      const lp = await loadMapProgram(rt, w.program, engine, [map]);
      results.push(lp.run(w.lookups).r0);
      expect(lp.runPacket(w.lookups)).toBe(Number(w.expected & 0xffff_ffffn));
    }
    expect(results).toEqual(ENGINES.map(() => w.expected));
  });

  it('an empty key list sums to 0', async () => {
    const rt = new Runtime();
    const map = createLookupMap(rt, w);
    for (const engine of ENGINES) expect((await loadMapProgram(rt, w.program, engine, [map])).run(new Uint8Array(0)).r0).toBe(0n);
  });

  const toolchain = nativeToolchain();
  it.skipIf(!toolchain.ok)('the native twin (runtime/maps/c compiled natively) returns the same sum', () => {
    if (!toolchain.ok) return;
    expect(runNativeLookups(buildNative(toolchain), w, true).sum).toBe(w.expected);
  });
});

describe.each(ENGINES)('ring buffer fill on %s', (engine) => {
  it('writes n records {i, 3i} that poll() returns in order', async () => {
    const rt = new Runtime();
    const ring = createRing(rt);
    const lp = await loadMapProgram(rt, 'ringbuf_fill', engine, [ring]);
    expect(lp.run(ringFillInput(5)).r0).toBe(5n);
    expect(ring.poll()).toEqual(expectedRecords(5));
    expect(ring.poll()).toEqual([]);
  });

  it('stops at the first failed output when the ring is full', async () => {
    const rt = new Runtime();
    const ring = createRing(rt);
    const lp = await loadMapProgram(rt, 'ringbuf_fill', engine, [ring]);
    // 24 bytes a record (8-byte header + 16): a 256 KiB ring holds 10,922 of them.
    expect(lp.run(ringFillInput(20_000)).r0).toBe(BigInt(Math.floor((256 * 1024) / 24)));
    expect(ring.poll(3)).toEqual(expectedRecords(3));
  });
});
