/**
 * `npm run bench` (after `npm run build`): the JIT's performance goals, measured side by side in this one
 * process, and printed with each goal and whether it is met (or, with `--json`, as a JSON document).
 *
 *     node dist/bench/run.js [--json] [--quick] [--no-compile] [--no-tier-check] [NAME...]
 *
 * 1. Compute programs (programs.ts): every engine, plus the JIT with the verifier's facts (`jit-verified`: the
 *    accesses it proves run unchecked), plus the JIT with every memory access marked proven (`jit-proven`: the
 *    bound; valid for these programs and inputs, which never fault), plus the native C
 *    twin when a C compiler exists. Timed through the packet path, `LoadedProgram.runPacket(input)`: the input
 *    copied into linear memory, one run, r0's low 32 bits back, as the native twin copies its input and calls a
 *    function; and, for reference, through the general path `LoadedProgram.run` (bigint arguments, the stack
 *    cleared and the input copied out on every run). Before timing, each program's result is checked against its
 *    JavaScript reference on every engine, and the interpreter counts the instructions a run executes.
 * 2. Call overhead: a trivial filter (`r0 = len > 60`) on a 64-byte packet, per call (`runPacket`, input copy
 *    included) and per packet in batches of 256 (`runBatch`, both batch forms), on every engine.
 * 3. Compile latency (compile.ts): decode + translate + `new WebAssembly.Module` for 1,000 and 10,000
 *    instructions, warm (median in this process) and cold (first compile in fresh processes).
 * 4. Tier check: the JIT's packet-path figures measured again in a child process running with `--no-liftoff`
 *    (TurboFan only), to show the warm-up reached the optimizing tier.
 *
 * Not here: the timing method (harness.ts), the programs (programs.ts, programs/, native/), compile latency
 * (compile.ts, cold.ts).
 */

import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { compileForRuntime } from '../codegen/compile.js';
import { assemble } from '../src/isa/asm.js';
import { execute } from '../src/interp/execute.js';
import type { Program } from '../src/isa/program.js';
import { ENGINES, type EngineName } from '../runtime/engines.js';
import { LoadedProgram, Runtime } from '../runtime/runtime.js';
import { coldCompile, warmCompile, type CompileSummary } from './compile.js';
import { benchProgram, countInstructions, timeInterleaved, type BenchOptions, type EngineTiming, type Runner } from './harness.js';
import { nativeToolchain, runNative, type NativeTiming } from './native.js';
import { BENCHMARKS, programSource } from './programs.js';

/** The goals (the JIT issue). */
const GOAL = {
  /** interpreter ns / JIT ns, at least, on each compute program. */
  speedup: 10,
  /** JIT ns / native ns, at most, on each compute program. */
  nativeRatio: 1.3,
  /** ns per `runPacket` call of a trivial filter on a 64-byte packet, copy included, at most. */
  callNs: 25,
  /** ns per packet in a batch, at most. */
  batchNs: 8,
  /** ms, median warm decode + translate + compile of 1,000 instructions, at most. */
  compileMs: 5,
} as const;

/** Packets in the batches timed. */
const BATCH = 256;

/** The JIT with every access proven: a name for it in tables. */
const PROVEN = 'jit-proven';
/**
 * The JIT with the verifier's own facts (`verify: {mode: 'permissive', rawWritable: true}`: the inputs of these
 * runs are writable): the accesses it proves run unchecked, the others keep their checks.
 */
const VERIFIED = 'jit-verified';

interface ComputeRow {
  readonly name: string;
  readonly description: string;
  readonly insnsPerRun: number;
  readonly result: bigint;
  /** The packet path, per engine, `jit-verified` and `jit-proven`. */
  readonly packet: Record<string, EngineTiming>;
  /** Memory accesses the verifier proved, of those it reached. */
  readonly verified: { readonly proven: number; readonly accesses: number };
  /** The general path, per engine. */
  readonly general: Record<string, EngineTiming>;
  /** Short programs: per packet in batches of {@link BATCH} copies of the input (`runBatch`), per engine. */
  readonly batch: Record<string, EngineTiming> | undefined;
  readonly native: NativeTiming | undefined;
}

interface CallRow {
  readonly engine: string;
  readonly call: EngineTiming;
  readonly batch: EngineTiming;
  readonly batchList: EngineTiming;
  readonly general: EngineTiming;
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
const met = (ok: boolean): string => (ok ? 'met' : 'NOT met');

function table(header: readonly string[], rows: readonly string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((l) => l[i].length)));
  const render = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [render(header), ...rows.map(render)].join('\n');
}

/** The program loaded on `engine`; for `jit-verified`, with the verifier's facts; for `jit-proven`, compiled with every access marked proven. */
async function load(program: Program, engine: string): Promise<LoadedProgram> {
  const runtime = new Runtime();
  // The bench's programs are trusted and end: they run without budget counting (LoadOptions.budget), as native code does.
  if (engine === VERIFIED) return runtime.load(program, { engine: 'jit', verify: { mode: 'permissive', rawWritable: true }, budget: 'none' });
  if (engine !== PROVEN) return runtime.load(program, { engine: engine as (typeof ENGINES)[number], budget: 'none' });
  const helpers = new Map();
  const exe = await compileForRuntime(program, { memory: runtime.memory, helpers }, { proven: () => true });
  return new LoadedProgram(runtime, program, 'jit', exe, helpers);
}

async function computeRows(names: readonly string[], options: BenchOptions, withNative: boolean, jitOnly: boolean, log: (s: string) => void): Promise<ComputeRow[]> {
  const toolchain = nativeToolchain();
  const rows: ComputeRow[] = [];
  for (const spec of BENCHMARKS.filter((b) => names.length === 0 || names.includes(b.name))) {
    const program = assemble(programSource(spec.name));
    const input = spec.input();
    const expected = spec.expected(input);
    const counted = countInstructions(program, input);
    if (counted.r0 !== expected) throw new Error(`${spec.name}: interpreter returns ${counted.r0}, the reference ${expected}`);
    const kinds = jitOnly ? ['jit', VERIFIED, PROVEN] : [...ENGINES, VERIFIED, PROVEN];
    const loaded = await Promise.all(kinds.map((k) => load(program, k)));
    const facts = loaded[kinds.indexOf(VERIFIED)].verified!;
    const verified = { proven: facts.proven.size, accesses: facts.accesses.size };
    const low = Number(BigInt.asUintN(32, expected));
    for (let i = 0; i < kinds.length; i++) {
      const full = loaded[i].run(input).r0;
      if (full !== expected) throw new Error(`${spec.name}: ${kinds[i]} returns ${full}, the reference ${expected}`);
      const r = loaded[i].runPacket(input);
      if (r !== low) throw new Error(`${spec.name}: ${kinds[i]} runPacket returns ${r}, the reference's low 32 bits are ${low}`);
    }
    const packet = timeInterleaved(kinds.map((k, i): Runner => ({ name: k, run: () => loaded[i].runPacket(input) })), options);
    let batch: Record<string, EngineTiming> | undefined;
    if (counted.steps < 1000) {
      const data = new Uint8Array(input.length * BATCH);
      for (let i = 0; i < BATCH; i++) data.set(input, i * input.length);
      const offsets = new Uint32Array(BATCH + 1).map((_, i) => i * input.length);
      const out = new Uint32Array(BATCH);
      for (let i = 0; i < kinds.length; i++) {
        if (loaded[i].runBatch({ data, offsets }, out).some((r) => r !== low)) throw new Error(`${spec.name}: ${kinds[i]} runBatch gives a wrong result`);
      }
      batch = timeInterleaved(kinds.map((k, i): Runner => ({ name: k, run: () => loaded[i].runBatch({ data, offsets }, out), per: BATCH })), options);
    }
    const general = jitOnly ? {} : (await benchProgram(program, input, ENGINES, { ...options, budget: 'none' })).engines;
    let native: NativeTiming | undefined;
    if (withNative && toolchain.ok) {
      native = runNative(toolchain, spec.name, input);
      if (native.result !== expected) throw new Error(`${spec.name}: native returns ${native.result}, the reference ${expected}`);
    }
    rows.push({ name: spec.name, description: spec.description, insnsPerRun: counted.steps, result: expected, packet, verified, general, batch, native });
    log(`  ${spec.name} done\n`);
  }
  return rows;
}

/** What the timing loop itself costs a call (an empty runner), from the last {@link callRows}. */
let emptyCall: EngineTiming | undefined;

async function callRows(options: BenchOptions, engines: readonly EngineName[] = ENGINES): Promise<CallRow[]> {
  const program = assemble('mov r0, 0\njle r2, 60, out\nmov r0, 1\nout:\nexit');
  const packet = new Uint8Array(64).map((_, i) => i);
  const N = 256;
  const list = Array.from({ length: N }, (_, i) => new Uint8Array(64).fill(i & 0xff));
  const data = new Uint8Array(64 * N);
  const offsets = new Uint32Array(N + 1).map((_, i) => 64 * i);
  list.forEach((p, i) => data.set(p, 64 * i));
  const out = new Uint32Array(N);
  const rows: CallRow[] = [];
  const loaded = await Promise.all(engines.map((engine) => new Runtime().load(program, { engine })));
  for (const lp of loaded) {
    if (lp.runPacket(packet) !== 1 || lp.runBatch({ data, offsets }, out)[N - 1] !== 1) throw new Error(`${lp.engine}: the trivial filter gives a wrong answer`);
  }
  const runners: Runner[] = [];
  engines.forEach((engine, e) => {
    const lp = loaded[e];
    runners.push(
      { name: `${engine} call`, run: () => lp.runPacket(packet) },
      { name: `${engine} batch`, run: () => lp.runBatch({ data, offsets }, out), per: N },
      { name: `${engine} batch list`, run: () => lp.runBatch(list, out), per: N },
      { name: `${engine} general`, run: () => lp.run(packet, { collectMem: false }) },
    );
  });
  runners.push({ name: 'empty', run: () => 0 });
  const t = timeInterleaved(runners, options);
  emptyCall = t.empty;
  for (const engine of engines) {
    rows.push({ engine, call: t[`${engine} call`], batch: t[`${engine} batch`], batchList: t[`${engine} batch list`], general: t[`${engine} general`] });
  }
  return rows;
}

/**
 * The call overhead of one engine in a process of its own, where V8's feedback at every call site of the packet
 * path has seen one program: what a process that filters with one program gets. (In this process, after the
 * compute benchmarks, those sites have seen a dozen programs on two engines, and calls cost more.)
 */
function dedicatedCalls(engine: EngineName, quick: boolean): CallRow | string {
  const args = [fileURLToPath(import.meta.url), `--calls-engine=${engine}`, '--json', ...(quick ? ['--quick'] : [])];
  const out = spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (out.status !== 0) return `the child process failed: ${out.stderr.trim()}`;
  return (JSON.parse(out.stdout) as { calls: CallRow[] }).calls[0];
}

let setTiming: EngineTiming | undefined;

/** The cost of copying 64 bytes into linear memory with `Uint8Array.prototype.set`, the copy `runPacket` makes. */
function setCost(): EngineTiming {
  if (setTiming === undefined) {
    const memory = new WebAssembly.Memory({ initial: 2 });
    const u8 = new Uint8Array(memory.buffer);
    const packet = new Uint8Array(64).fill(1);
    setTiming = timeInterleaved([{ name: 'set', run: () => u8.set(packet, 4096) }], { warmupMs: 100, batchMs: 10, batches: 9 }).set;
  }
  return setTiming;
}

/** The JIT's packet-path figures from a child process that has no baseline tier (`--no-liftoff`). */
function tierCheck(names: readonly string[], quick: boolean): Record<string, Record<string, EngineTiming>> | string {
  const script = fileURLToPath(import.meta.url);
  const args = ['--no-liftoff', script, '--json', '--jit-only', '--no-compile', '--no-tier-check', '--no-calls', '--no-native', ...(quick ? ['--quick'] : []), ...names];
  const out = spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (out.status !== 0) return `the child process failed: ${out.stderr.trim()}`;
  const doc = JSON.parse(out.stdout) as { compute: { name: string; packet: Record<string, EngineTiming> }[] };
  return Object.fromEntries(doc.compute.map((r) => [r.name, r.packet]));
}

async function main(argv: readonly string[]): Promise<void> {
  const flag = (f: string): boolean => argv.includes(f);
  const json = flag('--json');
  const quick = flag('--quick');
  const jitOnly = flag('--jit-only');
  const names = argv.filter((a) => !a.startsWith('--'));
  const unknown = names.filter((n) => !BENCHMARKS.some((b) => b.name === n));
  if (unknown.length > 0) throw new Error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}`);
  const options: BenchOptions = quick ? { warmupMs: 100, warmupRuns: 20, batchMs: 5, batches: 5 } : {};
  const log = (s: string): void => {
    if (!json) process.stderr.write(s);
  };
  const toolchain = nativeToolchain();
  const load0 = loadavg()[0];
  const callsEngine = argv.find((a) => a.startsWith('--calls-engine='))?.slice('--calls-engine='.length);
  if (callsEngine !== undefined) {
    if (!(ENGINES as readonly string[]).includes(callsEngine)) throw new Error(`unknown engine ${callsEngine}`);
    process.stdout.write(JSON.stringify({ calls: await callRows(options, [callsEngine as EngineName]) }) + '\n');
    return;
  }

  const compute = await computeRows(names, options, !flag('--no-native'), jitOnly, log);
  const calls = flag('--no-calls') ? [] : await callRows(options);
  const dedicated = flag('--no-calls') ? [] : ENGINES.map((e) => dedicatedCalls(e, quick));
  log('  call overhead done\n');
  let compile: { warm1k: CompileSummary; warm10k: CompileSummary; cold1k: ReturnType<typeof coldCompile>; cold10k: ReturnType<typeof coldCompile> } | undefined;
  if (!flag('--no-compile')) {
    compile = {
      warm1k: await warmCompile(1000, quick ? 20 : 60, quick ? 20 : 60),
      warm10k: await warmCompile(10000, quick ? 3 : 6, quick ? 5 : 11),
      cold1k: coldCompile(1000, quick ? 3 : 5),
      cold10k: coldCompile(10000, 3),
    };
    log('  compile latency done\n');
  }
  const tier = flag('--no-tier-check') ? undefined : tierCheck(names, quick);
  if (tier !== undefined) log('  tier check done\n');
  const loop = optimizationStatus(execute);

  const meta = {
    node: process.version,
    v8: process.versions.v8,
    cpu: cpus()[0]?.model ?? 'unknown',
    cpus: cpus().length,
    loadAverage: [load0, loadavg()[0]],
    engines: ENGINES,
    native: toolchain.ok ? `${toolchain.cc} -O2 (${toolchain.version})` : null,
    method: quick
      ? 'quick: warm-up >= 100 ms and 20 runs per runner, then the median of 5 interleaved batches of ~5 ms'
      : 'warm-up >= 300 ms and 50 runs per runner, then the median of 15 interleaved batches of ~20 ms',
    interpreterLoop: loop,
    date: new Date().toISOString(),
  };
  if (json) {
    const doc = {
      meta,
      goals: GOAL,
      compute: compute.map((r) => ({ ...r, result: '0x' + r.result.toString(16), native: r.native ? { nsPerRun: r.native.nsPerRun, runs: r.native.runs } : null })),
      calls,
      dedicatedCalls: dedicated,
      compile,
      tierCheck: tier,
    };
    process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
    return;
  }

  const out: string[] = [
    `ebpf-wasm benchmarks: node ${meta.node} (V8 ${meta.v8}), ${meta.cpu} x${meta.cpus}, load average ${fmt(load0, 1)} at the start, ${fmt(meta.loadAverage[1], 1)} at the end`,
    `engines: ${ENGINES.join(', ')}, ${VERIFIED} (the JIT with the verifier's facts) and ${PROVEN} (every memory access marked proven); native: ${meta.native ?? `skipped, ${(toolchain as { reason: string }).reason}`}`,
    `method: ${meta.method}; best = the fastest batch, the figure least disturbed by other load`,
    '',
    '1. Compute programs, through the packet path (runPacket: the input copied in, one run, r0 low 32 bits out)',
    '',
  ];
  const hasNative = compute.some((r) => r.native !== undefined);
  const kinds = jitOnly ? ['jit', VERIFIED, PROVEN] : [...ENGINES, VERIFIED, PROVEN];
  const header = ['program', 'insns/run', 'proven', ...kinds.flatMap((k) => [`${k} ns`, 'best']), ...(jitOnly ? [] : [`interp/jit >=${GOAL.speedup}x`])];
  if (hasNative) header.push('native ns', `jit/native <=${GOAL.nativeRatio}x`, `${VERIFIED}/native`, `${PROVEN}/native`);
  const rows = compute.map((r) => {
    const cells = [r.name, fmt(r.insnsPerRun), `${r.verified.proven}/${r.verified.accesses}`];
    for (const k of kinds) cells.push(fmt(r.packet[k].nsPerRun), fmt(r.packet[k].minNsPerRun));
    if (!jitOnly) {
      const speedup = r.packet.interp.nsPerRun / r.packet.jit.nsPerRun;
      cells.push(`${fmt(speedup, 1)}x ${met(speedup >= GOAL.speedup)}`);
    }
    if (hasNative) {
      if (r.native) {
        const ratio = r.packet.jit.nsPerRun / r.native.nsPerRun;
        const verifiedRatio = r.packet[VERIFIED].nsPerRun / r.native.nsPerRun;
        cells.push(fmt(r.native.nsPerRun, 1), `${fmt(ratio, 2)}x ${met(ratio <= GOAL.nativeRatio)}`, `${fmt(verifiedRatio, 2)}x ${met(verifiedRatio <= GOAL.nativeRatio)}`, `${fmt(r.packet[PROVEN].nsPerRun / r.native.nsPerRun, 2)}x`);
      } else cells.push('-', '-', '-', '-');
    }
    return cells;
  });
  out.push(table(header, rows), '', ...compute.map((r) => `  ${r.name}: ${r.description}`), '');
  for (const r of compute.filter((c) => c.batch !== undefined)) {
    const b = r.batch!;
    const native = r.native ? `, native ${fmt(r.native.nsPerRun, 1)} ns a call: jit/native ${fmt(b.jit.nsPerRun / r.native.nsPerRun, 2)}x ${met(b.jit.nsPerRun / r.native.nsPerRun <= GOAL.nativeRatio)}` : '';
    out.push(`  ${r.name} per packet in batches of ${BATCH} (runBatch): ${kinds.map((k) => `${k} ${fmt(b[k].nsPerRun, 1)} ns (best ${fmt(b[k].minNsPerRun, 1)})`).join(', ')}${native}`);
  }
  out.push('');
  if (!jitOnly) {
    out.push('   The same programs through the general path (LoadedProgram.run: bigint arguments, the stack cleared and the input copied out)', '');
    out.push(
      table(
        ['program', ...ENGINES.flatMap((e) => [`${e} ns`, 'best']), 'interp/jit'],
        compute.map((r) => [r.name, ...ENGINES.flatMap((e) => [fmt(r.general[e].nsPerRun), fmt(r.general[e].minNsPerRun)]), `${fmt(r.general.interp.nsPerRun / r.general.jit.nsPerRun, 1)}x`]),
      ),
      '',
    );
  }
  if (calls.length > 0) {
    out.push(`2. Call overhead: r0 = len > 60 on a 64-byte packet (ns; goals: a call <= ${GOAL.callNs} ns with the copy, a batched packet <= ${GOAL.batchNs} ns)`, '');
    const rowsOf = (list: readonly (CallRow | string)[], where: string): string[][] =>
      list.map((c, i) => (typeof c === 'string' ? [`${ENGINES[i]}, ${where}`, c, '', '', '', '', '', '', ''] : [
          `${c.engine}, ${where}`,
          `${fmt(c.call.nsPerRun, 1)}${c.engine === 'jit' ? ` ${met(c.call.nsPerRun <= GOAL.callNs)}` : ''}`, fmt(c.call.minNsPerRun, 1),
          `${fmt(c.batch.nsPerRun, 1)}${c.engine === 'jit' ? ` ${met(c.batch.nsPerRun <= GOAL.batchNs)}` : ''}`, fmt(c.batch.minNsPerRun, 1),
          fmt(c.batchList.nsPerRun, 1), fmt(c.batchList.minNsPerRun, 1),
          fmt(c.general.nsPerRun), fmt(c.general.minNsPerRun),
        ]));
    out.push(
      table(
        ['engine, process', 'runPacket', 'best', 'runBatch {data,offsets} /pkt', 'best', 'runBatch [] /pkt', 'best', 'run (general)', 'best'],
        [...rowsOf(dedicated, 'its own'), ...rowsOf(calls, 'shared')],
      ),
      '   its own: a process running only this program on this engine (what a filtering process sees); shared: this',
      '   process, whose call sites V8 has by now seen a dozen programs on two engines go through (polymorphic).',
      `   The timing loop's own cost, an empty call: ${emptyCall ? fmt(emptyCall.nsPerRun, 1) : '-'} ns (included above). Uint8Array.prototype.set of`,
      `   64 bytes alone: ${fmt(setCost().nsPerRun, 1)} ns (best ${fmt(setCost().minNsPerRun, 1)}).`,
      '',
    );
  }
  if (compile !== undefined) {
    const c = compile;
    const line = (name: string, s: CompileSummary): string[] => [
      name, fmt(s.median.totalMs, 2), fmt(s.bestMs, 2), fmt(s.median.decodeMs, 2), fmt(s.median.translateMs, 2), fmt(s.median.moduleMs, 2), fmt(s.median.wasmBytes), String(s.compiles),
    ];
    out.push(`3. Compile latency: decode + translate + new WebAssembly.Module, synthetic programs (synth.ts), ms; goal: 1,000 instructions warm <= ${GOAL.compileMs} ms median`, '');
    out.push(
      table(
        ['program', 'median', 'best', 'decode', 'translate', 'V8 module', 'wasm bytes', 'compiles'],
        [
          line(`1,000 insns, warm: ${met(c.warm1k.median.totalMs <= GOAL.compileMs)}`, c.warm1k),
          line('10,000 insns, warm', c.warm10k),
          line('1,000 insns, cold (1st in a process)', c.cold1k.first),
          line('1,000 insns, 2nd in a process', c.cold1k.second),
          line('10,000 insns, cold (1st in a process)', c.cold10k.first),
          line('10,000 insns, 2nd in a process', c.cold10k.second),
        ],
      ),
      `   Wall-clock ms; the phases are those of the median compile. Loading Binaryen, once per process, is not included:`,
      `   ${fmt(c.cold1k.loadMs)} ms (median).`,
      '',
    );
  }
  if (tier !== undefined) {
    out.push('4. Tier check: the JIT through the packet path here (Liftoff, then tier-up during the warm-up) and in a child process with --no-liftoff (TurboFan only)', '');
    if (typeof tier === 'string') out.push(`   skipped: ${tier}`, '');
    else {
      out.push(
        table(
          ['program', 'jit ns here', 'best', 'jit ns --no-liftoff', 'best', 'here / --no-liftoff (best)'],
          compute.filter((r) => tier[r.name] !== undefined).map((r) => {
            const t = tier[r.name].jit;
            return [r.name, fmt(r.packet.jit.nsPerRun), fmt(r.packet.jit.minNsPerRun), fmt(t.nsPerRun), fmt(t.minNsPerRun), `${fmt(r.packet.jit.minNsPerRun / t.minNsPerRun, 2)}x`];
          }),
        ),
        "   A ratio near 1 means the warm-up's figures are the optimizing tier's.",
        '',
      );
    }
  }
  out.push(`interpreter loop (src/interp/execute.ts) after the runs: ${loop}`);
  process.stdout.write(out.join('\n') + '\n');
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exitCode = 1;
});
