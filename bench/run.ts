/**
 * `npm run bench` (after `npm run build`): runs every benchmark of programs.ts on every engine of
 * runtime/engines.ts in this one process, plus the native C twin when a C compiler exists, and prints a table
 * (or, with `--json`, a JSON document).
 *
 *     node dist/bench/run.js [--json] [--quick] [NAME...]
 *
 * Before timing, each program's result is checked against its JavaScript reference on every engine, and the
 * interpreter counts the instructions one run executes (counting mode, untimed), which gives ns per eBPF
 * instruction. After timing, the report says whether the interpreter loop ran in V8's optimizing tier.
 *
 * Not here: the timing method (harness.ts), the programs (programs.ts, programs/, native/).
 */

import { cpus } from 'node:os';
import v8 from 'node:v8';
import { assemble } from '../src/isa/asm.js';
import { execute } from '../src/interp/execute.js';
import { ENGINES } from '../runtime/engines.js';
import { benchProgram, countInstructions, type BenchOptions, type EngineTiming } from './harness.js';
import { nativeToolchain, runNative, type NativeTiming } from './native.js';
import { BENCHMARKS, programSource } from './programs.js';

interface Row {
  readonly name: string;
  readonly description: string;
  readonly insnsPerRun: number;
  readonly result: bigint;
  readonly engines: Record<string, EngineTiming & { readonly nsPerInsn: number }>;
  readonly native: NativeTiming | undefined;
}

/**
 * V8's optimization status of `fn`: whether TurboFan compiled it. Uses the `%GetOptimizationStatus` intrinsic,
 * enabled at run time for this one diagnostic; 'unknown' if the intrinsic is unavailable.
 */
function optimizationStatus(fn: (...args: never[]) => unknown): 'TurboFan' | 'not optimized' | 'unknown' {
  try {
    v8.setFlagsFromString('--allow-natives-syntax');
    const status = (new Function('f', 'return %GetOptimizationStatus(f)') as (f: unknown) => number)(fn);
    // Bits of V8's OptimizationStatus: 16 = optimized, 64 = TurboFanned.
    return (status & 16) !== 0 && (status & 64) !== 0 ? 'TurboFan' : 'not optimized';
  } catch {
    return 'unknown';
  }
}

const fmt = (x: number, digits = 0): string => x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function table(rows: readonly Row[], withNative: boolean): string {
  const header = ['program', 'insns/run'];
  for (const e of ENGINES) {
    header.push(`${e} ns/run`, `${e} ns/insn`, 'best');
    if (e !== ENGINES[0]) header.push(`${ENGINES[0]}/${e}`);
  }
  if (withNative) header.push('native ns/run', ...ENGINES.map((e) => `${e}/native`));
  const lines = rows.map((r) => {
    const cells = [r.name, fmt(r.insnsPerRun)];
    for (const e of ENGINES) {
      const t = r.engines[e];
      cells.push(fmt(t.nsPerRun), fmt(t.nsPerInsn, 2), fmt(t.minNsPerRun / r.insnsPerRun, 2));
      if (e !== ENGINES[0]) cells.push(`${fmt(r.engines[ENGINES[0]].nsPerRun / t.nsPerRun, 2)}x`);
    }
    if (withNative) {
      if (r.native) cells.push(fmt(r.native.nsPerRun, 1), ...ENGINES.map((e) => `${fmt(r.engines[e].nsPerRun / r.native!.nsPerRun, 1)}x`));
      else cells.push('-', ...ENGINES.map(() => '-'));
    }
    return cells;
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const render = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [render(header), ...lines.map(render)].join('\n');
}

async function main(argv: readonly string[]): Promise<void> {
  const json = argv.includes('--json');
  const quick = argv.includes('--quick');
  const names = argv.filter((a) => !a.startsWith('--'));
  const unknown = names.filter((n) => !BENCHMARKS.some((b) => b.name === n));
  if (unknown.length > 0) throw new Error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}`);
  const specs = BENCHMARKS.filter((b) => names.length === 0 || names.includes(b.name));
  const options: BenchOptions = quick ? { warmupMs: 100, warmupRuns: 20, batchMs: 5, batches: 5 } : {};
  const toolchain = nativeToolchain();

  const rows: Row[] = [];
  for (const spec of specs) {
    const program = assemble(programSource(spec.name));
    const input = spec.input();
    const expected = spec.expected(input);
    const counted = countInstructions(program, input);
    if (counted.r0 !== expected) throw new Error(`${spec.name}: interpreter returns ${counted.r0}, the reference ${expected}`);
    const bench = await benchProgram(program, input, ENGINES, options);
    if (bench.result !== expected) throw new Error(`${spec.name}: engines return ${bench.result}, the reference ${expected}`);
    const engines: Row['engines'] = {};
    for (const [e, t] of Object.entries(bench.engines)) engines[e] = { ...t, nsPerInsn: t.nsPerRun / counted.steps };
    let native: NativeTiming | undefined;
    if (toolchain.ok) {
      native = runNative(toolchain, spec.name, input);
      if (native.result !== expected) throw new Error(`${spec.name}: native returns ${native.result}, the reference ${expected}`);
    }
    rows.push({ name: spec.name, description: spec.description, insnsPerRun: counted.steps, result: expected, engines, native });
    if (!json) process.stderr.write(`  ${spec.name} done\n`);
  }

  const loop = optimizationStatus(execute);
  const meta = {
    node: process.version,
    v8: process.versions.v8,
    cpu: cpus()[0]?.model ?? 'unknown',
    cpus: cpus().length,
    engines: ENGINES,
    native: toolchain.ok ? `${toolchain.cc} -O2 (${toolchain.version})` : null,
    method: quick
      ? 'quick: warm-up >= 100 ms and 20 runs per engine, then the median of 5 interleaved batches of ~5 ms'
      : 'warm-up >= 300 ms and 50 runs per engine, then the median of 15 interleaved batches of ~20 ms',
    interpreterLoop: loop,
    date: new Date().toISOString(),
  };

  if (json) {
    const doc = {
      meta,
      benchmarks: rows.map((r) => ({
        name: r.name,
        description: r.description,
        insnsPerRun: r.insnsPerRun,
        result: '0x' + r.result.toString(16),
        engines: r.engines,
        native: r.native ? { nsPerRun: r.native.nsPerRun, runs: r.native.runs } : null,
      })),
    };
    process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
    return;
  }
  const out = [
    `ebpf-wasm benchmarks: node ${meta.node} (V8 ${meta.v8}), ${meta.cpu} x${meta.cpus}`,
    `engines: ${ENGINES.join(', ')}; native: ${meta.native ?? `skipped, ${(toolchain as { reason: string }).reason}`}`,
    `method: ${meta.method}; ns/run includes copying the input in and reading it back (LoadedProgram.run);`,
    '  ns/insn = median ns/run / instructions per run; best = the fastest batch, the figure least disturbed by other load',
    '',
    table(rows, toolchain.ok),
    '',
    ...rows.map((r) => `  ${r.name}: ${r.description}`),
    '',
    `interpreter loop (src/interp/execute.ts) after the runs: ${loop}`,
  ];
  process.stdout.write(out.join('\n') + '\n');
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
