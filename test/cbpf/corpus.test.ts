// "Equal to tcpdump" for classic BPF: every program tcpdump compiled for the shared filter corpus
// (test/fixtures/filter/expressions*.json: {expr, matches, cbpf = tcpdump -ddd}) converted to eBPF and run on
// both engines over the corpus (test/fixtures/filter/corpus*.pcap) matches exactly the packets tcpdump matched.
//
// Classic `len` (`ld #pktlen`, tcpdump's `greater`/`less`/`len`) is the wire length for libpcap: the programs are
// converted with `length: 'wire'` and the batch gives each packet's original length (r3). Converted with the
// default (`captured`), they agree with tcpdump wherever the capture did not truncate the packet.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classicToEbpf } from '../../src/cbpf/convert.js';
import { parseClassic } from '../../src/cbpf/decode.js';
import { BPF_LD, BPF_LDX, BPF_LEN, BPF_W } from '../../src/cbpf/insn.js';
import { decodeCapture } from '../../src/pcap/reader.js';
import { ENGINES } from '../../runtime/engines.js';
import { Runtime } from '../../runtime/runtime.js';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'filter');
const SETS = [['corpus.pcap', 'expressions.json'], ['corpus-raw.pcap', 'expressions-raw.json'], ['corpus-sll.pcap', 'expressions-sll.json']]
  .filter(([pcap, json]) => existsSync(join(DIR, pcap)) && existsSync(join(DIR, json)));

interface Expression { expr: string; matches: number[]; cbpf: string }

describe.each(SETS)('%s', (pcap, json) => {
  const capture = decodeCapture(readFileSync(join(DIR, pcap)));
  const packets = capture.map((p) => p.data);
  const offsets = [0];
  for (const p of packets) offsets.push(offsets[offsets.length - 1] + p.length);
  const data = new Uint8Array(offsets[offsets.length - 1]);
  packets.forEach((p, i) => data.set(p, offsets[i]));
  const wireLengths = capture.map((p) => p.originalLength);
  const truncated = new Set(capture.filter((p) => p.capturedLength < p.originalLength).map((p) => p.index));
  const expressions = (JSON.parse(readFileSync(join(DIR, json), 'utf8')) as Expression[]).filter((e) => typeof e.cbpf === 'string');

  it('has expressions', () => {
    expect(expressions.length).toBeGreaterThan(0);
    expect(packets.length).toBeGreaterThan(0);
  });

  it.each(ENGINES)('%s: every converted tcpdump program matches what tcpdump matched', async (engine) => {
    const rt = new Runtime();
    for (const e of expressions) {
      const insns = parseClassic(e.cbpf);
      const wire = await rt.load(classicToEbpf(insns, { length: 'wire' }), { engine, verify: 'strict' });
      const verdicts = wire.runBatch({ data, offsets, wireLengths });
      expect({ expr: e.expr, matched: [...verdicts.keys()].filter((i) => verdicts[i] !== 0) }).toEqual({ expr: e.expr, matched: e.matches });
      // With the captured length, only packets the capture truncated may differ, and only for programs reading it.
      const captured = (await rt.load(classicToEbpf(insns), { engine, verify: 'strict' })).runBatch(packets);
      const readsLen = insns.some((i) => i.code === (BPF_LD | BPF_W | BPF_LEN) || i.code === (BPF_LDX | BPF_W | BPF_LEN));
      const compared = (i: number) => !readsLen || !truncated.has(i);
      const matched = [...captured.keys()].filter((i) => captured[i] !== 0 && compared(i));
      expect({ expr: e.expr, matched }).toEqual({ expr: e.expr, matched: e.matches.filter(compared) });
    }
  }, 300_000);
});
