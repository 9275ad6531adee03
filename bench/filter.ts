/**
 * The packet-filter benchmark: packets per second filtering a capture with a typical tcpdump expression,
 *
 *   (a) tcpdump's own classic BPF (`tcpdump -ddd` of the expression, recorded in
 *       test/fixtures/filter/expressions.json) converted to eBPF (src/cbpf) and run on the interpreter: the
 *       baseline the issue names;
 *   (b) the same converted classic program on the JIT;
 *   (c) `compileFilter`'s eBPF for the expression (src/pcap-filter) on the JIT;
 *   (d) reading the capture: the pcap parser (src/pcap/reader.ts) over the file in memory;
 *
 * over the shared corpus (test/fixtures/filter/corpus.pcap) repeated to PACKETS packets in memory, run in
 * batches of 4096 through `LoadedProgram.runBatch({data, offsets})` as `ebpf-wasm filter` does. (a)-(c) are
 * timed interleaved after a warm-up (bench/harness.ts, `timeInterleaved`); the ratios come from the same run.
 * Every variant must make the same decisions as tcpdump did on the corpus before anything is timed.
 *
 *     npx tsc -p tsconfig.json && node dist/bench/filter.js [--expr 'EXPRESSION'] [--packets N]
 *
 * Not here: the other benchmarks (run.ts), the filter command (src/cli/filter.ts).
 */

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { classicToEbpf } from '../src/cbpf/convert.js';
import { parseClassic } from '../src/cbpf/decode.js';
import { compileFilter } from '../src/pcap-filter/index.js';
import { CaptureParser, decodeCapture } from '../src/pcap/reader.js';
import { encodePcap } from '../src/pcap/writer.js';
import { Runtime, type LoadedProgram } from '../runtime/runtime.js';
import { timeInterleaved } from './harness.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'filter');
const BATCH = 4096;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

interface Expression { expr: string; matches: number[]; cbpf: string }

/** The corpus repeated to `total` packets, cut in batches of {@link BATCH} packets back to back. */
function batches(packets: readonly Uint8Array[], total: number): { data: Uint8Array; offsets: Uint32Array }[] {
  const out: { data: Uint8Array; offsets: Uint32Array }[] = [];
  for (let start = 0; start < total; start += BATCH) {
    const n = Math.min(BATCH, total - start);
    const offsets = new Uint32Array(n + 1);
    let size = 0;
    for (let i = 0; i < n; i++) size += packets[(start + i) % packets.length].length;
    const data = new Uint8Array(size);
    for (let i = 0, at = 0; i < n; i++) {
      const p = packets[(start + i) % packets.length];
      data.set(p, at);
      offsets[i] = at;
      at += p.length;
      offsets[i + 1] = at;
    }
    out.push({ data, offsets });
  }
  return out;
}

/** Packet indices (in the corpus) a program matches, for the correctness check. */
function matched(lp: LoadedProgram, packets: readonly Uint8Array[]): number[] {
  const v = lp.runBatch(packets);
  return [...v.keys()].filter((i) => v[i] !== 0);
}

async function main(): Promise<void> {
  const exprText = arg('--expr') ?? 'host 10.0.0.1 and (port 80 or port 53)';
  const total = Number(arg('--packets') ?? 300_000);
  const expressions = JSON.parse(readFileSync(join(FIXTURES, 'expressions.json'), 'utf8')) as Expression[];
  const expr = expressions.find((e) => e.expr === exprText);
  if (!expr) throw new Error(`'${exprText}' is not in test/fixtures/filter/expressions.json`);
  const capture = decodeCapture(readFileSync(join(FIXTURES, 'corpus.pcap')));
  const packets = capture.map((p) => p.data);

  const classic = classicToEbpf(parseClassic(expr.cbpf));
  const compiled = compileFilter(expr.expr, { linkType: capture[0].linkType });
  const variants: [string, LoadedProgram][] = [
    ['tcpdump cBPF → eBPF, interpreter', await new Runtime().load(classic, { engine: 'interp', verify: 'strict' })],
    ['tcpdump cBPF → eBPF, JIT', await new Runtime().load(classic, { engine: 'jit', verify: 'strict' })],
    ['compileFilter eBPF, JIT', await new Runtime().load(compiled, { engine: 'jit', verify: 'strict' })],
  ];
  for (const [name, lp] of variants) {
    const got = matched(lp, packets);
    if (JSON.stringify(got) !== JSON.stringify(expr.matches)) throw new Error(`${name}: decisions differ from tcpdump's on the corpus`);
  }

  const work = batches(packets, total);
  const bytes = work.reduce((s, b) => s + b.data.length, 0);
  const runners = variants.map(([name, lp]) => {
    let next = 0;
    const out = new Uint32Array(BATCH);
    return { name, per: BATCH, run: () => lp.runBatch(work[next++ % work.length], out) };
  });
  const timings = timeInterleaved(runners, { warmupMs: 500, batches: 21 });

  // (d) Parsing: the corpus as one pcap file of `total` packets, parsed from memory.
  const file = encodePcap(Array.from({ length: total }, (_, i) => ({ data: packets[i % packets.length], timestampNs: BigInt(i) * 1000n })), { linkType: 1 });
  const parse = timeInterleaved([{ name: 'parse', per: total, run: () => {
    const parser = new CaptureParser();
    parser.push(file);
    let n = 0;
    for (const _ of parser.packets()) n++;
    parser.finish();
    if (n !== total) throw new Error('parser lost packets');
  } }], { warmupMs: 500, warmupRuns: 2, batchMs: 1, batches: 7 });

  const base = timings[variants[0][0]].nsPerRun;
  const lines = [
    `expression: ${expr.expr}  (${expr.matches.length} of ${packets.length} corpus packets match; classic program ${parseClassic(expr.cbpf).length} insns, compileFilter ${compiled.insns.length} insns)`,
    `workload: the corpus repeated to ${total} packets (${(bytes / total).toFixed(0)} bytes average), batches of ${BATCH} through runBatch({data, offsets})`,
    '',
    '| variant | ns / packet | packets / s | vs (a) |',
    '|---|---:|---:|---:|',
    ...variants.map(([name], i) => {
      const t = timings[name];
      return `| (${'abc'[i]}) ${name} | ${t.nsPerRun.toFixed(1)} (${t.minNsPerRun.toFixed(1)}–${t.maxNsPerRun.toFixed(1)}) | ${(1e9 / t.nsPerRun / 1e6).toFixed(2)} M | ${(base / t.nsPerRun).toFixed(2)}× |`;
    }),
    `| (d) pcap parsing (CaptureParser, in memory) | ${parse.parse.nsPerRun.toFixed(1)} | ${(1e9 / parse.parse.nsPerRun / 1e6).toFixed(2)} M | |`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exitCode = 1;
});
