// Every fixture expression (test/fixtures/filter/expressions*.json, recorded from tcpdump by
// scripts/record-filter-fixtures.mjs) compiled by compileFilter makes tcpdump's decisions on every packet of its
// corpus, on both engines, with the program verified in strict mode (so the JIT runs without its checks).
// `len`/`greater`/`less` read the captured length by default; with `length: 'wire'` (r3 = the original length,
// which runBatch takes as `wireLengths`) they equal tcpdump on snapped packets too.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileFilter, FILTER_ACCEPT } from '../../src/pcap-filter/index.js';
import { decodeCapture, type CapturePacket } from '../../src/pcap/reader.js';
import { ENGINES } from '../../runtime/engines.js';
import { Runtime } from '../../runtime/runtime.js';

interface Fixture {
  readonly expr: string;
  readonly matches: readonly number[];
  readonly cbpf: string;
}

const DIR = new URL('../fixtures/filter/', import.meta.url);
const CORPORA = [
  { pcap: 'corpus.pcap', fixtures: 'expressions.json', linkType: 1 },
  { pcap: 'corpus-raw.pcap', fixtures: 'expressions-raw.json', linkType: 101 },
  { pcap: 'corpus-sll.pcap', fixtures: 'expressions-sll.json', linkType: 113 },
];

/** Whether an expression reads the packet length (its decisions then depend on the wire length). */
const usesLength = (expr: string): boolean => /\b(len|greater|less)\b/.test(expr);

/** The indices of the packets whose verdict is ACCEPT (anything else must be 0). */
function matched(verdicts: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < verdicts.length; i++) {
    expect([0, FILTER_ACCEPT]).toContain(verdicts[i]);
    if (verdicts[i] !== 0) out.push(i);
  }
  return out;
}

const rt = new Runtime();

for (const corpus of CORPORA) {
  const packets: CapturePacket[] = decodeCapture(readFileSync(new URL(corpus.pcap, DIR)));
  const fixtures: Fixture[] = JSON.parse(readFileSync(new URL(corpus.fixtures, DIR), 'utf8'));
  const data = packets.map((p) => p.data);
  // The whole corpus back to back, with each packet's wire length (r3).
  const offsets = [0];
  for (const p of packets) offsets.push(offsets[offsets.length - 1] + p.data.length);
  const all = new Uint8Array(offsets[offsets.length - 1]);
  packets.forEach((p, i) => all.set(p.data, offsets[i]));
  const wireLengths = packets.map((p) => p.originalLength);
  const snapped = new Set(packets.filter((p) => p.capturedLength < p.originalLength).map((p) => p.index));

  describe(`${corpus.pcap} (link type ${corpus.linkType})`, () => {
    it('is the corpus the fixtures were recorded on', () => {
      expect(packets.length).toBeGreaterThanOrEqual(corpus.linkType === 1 ? 1000 : 300);
      expect(packets.every((p, i) => p.timestampNs === BigInt(i) * 1000n && p.linkType === corpus.linkType)).toBe(true);
      expect(snapped.size).toBeGreaterThan(0);
    });

    for (const engine of ENGINES) {
      it.each(fixtures)(`${engine}: $expr`, async ({ expr, matches }) => {
        const loaded = await rt.load(compileFilter(expr, { linkType: corpus.linkType }), { engine, verify: 'strict' });
        const got = matched(loaded.runBatch(data));
        if (!usesLength(expr)) return expect(got).toEqual(matches);
        // On snapped packets the captured length is not tcpdump's `len`; elsewhere the decisions agree.
        expect(got.filter((i) => !snapped.has(i))).toEqual(matches.filter((i) => !snapped.has(i)));
      });
    }

    const lengthFixtures = fixtures.filter((f) => usesLength(f.expr));
    if (lengthFixtures.length > 0) {
      for (const engine of ENGINES) {
        it.each(lengthFixtures)(`${engine}, wire length in r3: $expr`, async ({ expr, matches }) => {
          const loaded = await rt.load(compileFilter(expr, { linkType: corpus.linkType, length: 'wire' }), { engine, verify: 'strict' });
          expect(matched(loaded.runBatch({ data: all, offsets, wireLengths }))).toEqual(matches);
          // One packet at a time, the wire length as runPacket's second argument.
          expect(matched(packets.map((p) => loaded.runPacket(p.data, p.originalLength)))).toEqual(matches);
        });
      }
    }
  });
}
