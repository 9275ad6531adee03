// "Equal to tcpdump" for classic BPF: every program tcpdump compiled for the shared filter corpus
// (test/fixtures/filter/expressions*.json: {expr, matches, cbpf = tcpdump -ddd}) converted to eBPF and run on
// both engines over the corpus (test/fixtures/filter/corpus*.pcap) matches exactly the packets tcpdump matched.
//
// One known difference: classic `len` (`ld #pktlen`, tcpdump's `greater`/`less`/`len`) is the wire length for
// libpcap but the captured length here (the runtime's packet path gives a program only the captured bytes), so
// for programs that read it, packets the capture truncated are left out of the comparison.

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
      const lp = await rt.load(classicToEbpf(insns), { engine, verify: 'strict' });
      const verdicts = lp.runBatch(packets);
      const readsLen = insns.some((i) => i.code === (BPF_LD | BPF_W | BPF_LEN) || i.code === (BPF_LDX | BPF_W | BPF_LEN));
      const compared = (i: number) => !readsLen || !truncated.has(i);
      const matched = [...verdicts.keys()].filter((i) => verdicts[i] !== 0 && compared(i));
      expect({ expr: e.expr, matched }).toEqual({ expr: e.expr, matched: e.matches.filter(compared) });
    }
  }, 300_000);
});
