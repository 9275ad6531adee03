// `ebpf-wasm filter` end to end through the built executable: classic BPF from tcpdump (-ddd, newline and comma
// forms), expressions and ELF programs over the shared corpus give tcpdump's decisions (recorded in
// test/fixtures/filter/expressions.json), on both engines; -w writes exactly the matched packets; bad input and
// damaged captures exit 1 with the reason on stderr.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeCapture } from '../../src/pcap/reader.js';
import { cli, ensureBuilt, ROOT } from './cli.js';

const CORPUS = join(ROOT, 'test', 'fixtures', 'filter', 'corpus.pcap');
interface Expression { expr: string; matches: number[]; cbpf: string }
const EXPRESSIONS = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'filter', 'expressions.json'), 'utf8')) as Expression[];
const expression = (expr: string): Expression => {
  const e = EXPRESSIONS.find((x) => x.expr === expr);
  if (!e) throw new Error(`no '${expr}' in expressions.json`);
  return e;
};
const PACKETS = decodeCapture(readFileSync(CORPUS));

let dir: string;
beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'ebpf-wasm-filter-'));
});

function json(args: string[]): { packets: number; matched: number; indices: number[] } {
  const r = cli(['filter', '-r', CORPUS, ...args, '--json']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as { packets: number; matched: number; indices: number[] };
}

describe('--cbpf', () => {
  it.each(['interp', 'jit'])('%s: tcpdump -ddd text gives tcpdump\'s matches, newline- or comma-separated', (engine) => {
    for (const expr of ['host 10.0.0.1', 'vlan and tcp', 'ip6 and udp']) {
      const e = expression(expr);
      expect(json(['--cbpf', e.cbpf, '--engine', engine])).toEqual({ packets: PACKETS.length, matched: e.matches.length, indices: e.matches });
      expect(json(['--cbpf', e.cbpf.replace(/\n/g, ','), '--engine', engine]).indices).toEqual(e.matches);
    }
  });

  it('decides `len` on the wire length, as tcpdump, for packets the capture truncated', () => {
    expect(PACKETS.some((p) => p.capturedLength < p.originalLength)).toBe(true);
    const e = expression('greater 100');
    expect(json(['--cbpf', e.cbpf]).indices).toEqual(e.matches);
  });

  it('prints the counts without --json', () => {
    const e = expression('host 10.0.0.1');
    const r = cli(['filter', '-r', CORPUS, '--cbpf', e.cbpf]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${e.matches.length} of ${PACKETS.length} packets matched\n`);
  });

  it('-w writes the matched packets with their timestamps and lengths', () => {
    const e = expression('udp');
    const out = join(dir, 'udp.pcap');
    expect(cli(['filter', '-r', CORPUS, '--cbpf', e.cbpf, '-w', out]).status).toBe(0);
    const written = decodeCapture(readFileSync(out));
    const expected = e.matches.map((i) => PACKETS[i]);
    expect(written.map((p) => [p.linkType, p.timestampNs, p.originalLength, Buffer.from(p.data).toString('hex')]))
      .toEqual(expected.map((p) => [p.linkType, p.timestampNs, p.originalLength, Buffer.from(p.data).toString('hex')]));
  });

  it('rejects a bad program naming the line', () => {
    const r = cli(['filter', '-r', CORPUS, '--cbpf', '2\n40 0 0 12\n52 0 0 0\n']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: line 3: pc 1: division by the constant 0/);
  });
});

describe('EXPRESSION', () => {
  it.each(['interp', 'jit'])('%s: compiled expressions give tcpdump\'s matches', (engine) => {
    for (const expr of ['tcp dst port 80 or 443', 'vlan and host 10.0.0.1', 'greater 100', 'not tcp port 80']) {
      expect(json([expr, '--engine', engine]).indices).toEqual(expression(expr).matches);
    }
    const words = json(['tcp', 'dst', 'port', '80', 'or', '443', '--engine', engine]);
    expect(words.indices).toEqual(expression('tcp dst port 80 or 443').matches);
  });

  it('reports a syntax error', () => {
    const r = cli(['filter', '-r', CORPUS, 'tcp port']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: /);
  });
});

describe('--prog', () => {
  it('an XDP program matches the packets it passes', () => {
    const all = json(['--prog', join(ROOT, 'examples', 'blocklist', 'blocklist.o'), '--section', 'xdp']);
    expect(all.matched).toBe(PACKETS.length); // an empty blocklist passes everything
  });

  it('a socket filter matches the packets for which it returns non-zero', () => {
    const r = json(['--prog', join(ROOT, 'examples', 'udp_filter', 'udp_filter.o'), '--program', 'udp_payload_filter']);
    // It keeps skb->len bytes unless the payload starts with "DROP": every non-empty packet here.
    expect(r.indices).toEqual(PACKETS.filter((p) => p.data.length > 0 && Buffer.from(p.data.subarray(0, 4)).toString('latin1') !== 'DROP').map((p) => p.index));
  });
});

describe('errors', () => {
  it('needs exactly one filter', () => {
    expect(cli(['filter', '-r', CORPUS]).stderr).toMatch(/exactly one filter/);
    const two = cli(['filter', '-r', CORPUS, '--cbpf', expression('udp').cbpf, 'tcp']);
    expect(two.status).toBe(1);
    expect(two.stderr).toMatch(/exactly one filter/);
  });

  it('a truncated capture: the error names the offset and the packets read before it', () => {
    const bytes = readFileSync(CORPUS);
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 3));
    const r = cli(['filter', '-r', cut, '--cbpf', expression('udp').cbpf]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^error: offset \\d+: the file ends inside the record of packet ${PACKETS.length - 1} .*\\(after ${PACKETS.length - 1} packets`));
  });

  it('a missing file', () => {
    const r = cli(['filter', '-r', join(dir, 'none.pcap'), 'tcp']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/ENOENT/);
  });
});
