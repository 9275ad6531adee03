/**
 * The benchmark harness: times one program on several engines in the same process, and counts the eBPF
 * instructions a run executes.
 *
 * Method (hand-timed rather than tinybench: tinybench times each iteration with `performance.now()`, whose
 * resolution and overhead are of the order of a short run, and it runs tasks one after the other; we want
 * batches of runs timed by `process.hrtime.bigint()`, engines interleaved batch by batch so that load on a
 * shared machine hits them alike, and an explicit warm-up):
 * 1. every engine runs the program once and must agree with the others on r0 and on the final input bytes;
 * 2. warm-up: each engine runs for at least `warmupMs` and `warmupRuns` runs, which takes V8's tiers up to the
 *    optimizing compiler (TurboFan), for the interpreter loop and for the JIT's WebAssembly (run.ts checks
 *    both: the interpreter loop's status, and the JIT's figures against a process where V8 has no baseline tier);
 * 3. each engine gets a batch size that lasts about `batchMs`;
 * 4. `batches` rounds, each timing one batch per engine in turn; an engine's figure is the median over its
 *    batches of (batch time / batch size).
 *
 * {@link benchProgram} times the general path, `LoadedProgram.run(input)`: the input is copied into linear
 * memory afresh (so each run starts from the same memory), the stack is cleared, and r0 and the input bytes are
 * read back. That per-run cost is included, the same for every engine. {@link timeInterleaved} times any set of
 * calls the same way (run.ts uses it for the packet path, `runPacket` / `runBatch`, and the call overhead).
 *
 * Timing loops live here and in run.ts, never in unit tests.
 */

import { STACK_SIZE, type HelperTable } from '../src/exec.js';
import { Interpreter } from '../src/interp/interpreter.js';
import type { Program } from '../src/isa/program.js';
import type { EngineName } from '../runtime/engines.js';
import { Runtime, type LoadedProgram } from '../runtime/runtime.js';

/** Options for {@link benchProgram}. */
export interface BenchOptions {
  /** Helpers the program calls. */
  readonly helpers?: HelperTable;
  /** `LoadOptions.budget` of the loaded programs. Default: the runtime's (a budget when termination is not known). */
  readonly budget?: number | 'none';
  /** Minimum warm-up time per engine, in ms. Default 300. */
  readonly warmupMs?: number;
  /** Minimum warm-up runs per engine. Default 50. */
  readonly warmupRuns?: number;
  /** Target duration of one timed batch, in ms. Default 20. */
  readonly batchMs?: number;
  /** Timed batches per engine. Default 15. */
  readonly batches?: number;
}

/** One engine's (or runner's) figures. */
export interface EngineTiming {
  /** Median over batches of the time per run (per unit, for a runner), in nanoseconds. */
  readonly nsPerRun: number;
  /** Fastest and slowest batch, ns per run: the spread of the measurement. */
  readonly minNsPerRun: number;
  readonly maxNsPerRun: number;
  /** Timed runs (warm-up excluded). */
  readonly runs: number;
}

/** What {@link benchProgram} measured. */
export interface BenchResult {
  readonly engines: Record<string, EngineTiming>;
  /** r0 of a run (the same on every engine). */
  readonly result: bigint;
}

const now = (): bigint => process.hrtime.bigint();

/**
 * Times `program` on each of `engines` with `input` (see the file header for the method), through the general
 * path, `LoadedProgram.run`.
 *
 * @throws Error when the engines disagree on r0 or on the input bytes after a run.
 */
export async function benchProgram(program: Program, input: Uint8Array, engines: readonly EngineName[], options: BenchOptions = {}): Promise<BenchResult> {
  if (engines.length === 0) throw new Error('benchProgram: no engines');
  const loaded: LoadedProgram[] = [];
  for (const engine of engines) loaded.push(await new Runtime().load(program, { engine, helpers: options.helpers, ...(options.budget !== undefined ? { budget: options.budget } : {}) }));

  // 1. Same answer everywhere.
  const first = loaded[0].run(input);
  for (let i = 1; i < loaded.length; i++) {
    const other = loaded[i].run(input);
    if (other.r0 !== first.r0) throw new Error(`engines disagree: ${engines[0]} returns ${first.r0}, ${engines[i]} returns ${other.r0}`);
    if (other.mem.length !== first.mem.length || other.mem.some((b, j) => b !== first.mem[j])) {
      throw new Error(`engines disagree on the input bytes after a run: ${engines[0]} vs ${engines[i]}`);
    }
  }
  // 2-4.
  const timings = timeInterleaved(engines.map((engine, e) => ({ name: engine, run: () => loaded[e].run(input) })), options);
  return { engines: timings, result: first.r0 };
}

/** Something to time: one call of `run` is one unit (a run, a call, a batch). */
export interface Runner {
  readonly name: string;
  readonly run: () => unknown;
  /** Units of work in one call (packets in a batch): the figures are per unit. Default 1. */
  readonly per?: number;
}

/**
 * Steps 2-4 of the method (file header) for any set of runners: warm-up, a batch size per runner, interleaved
 * timed batches; returns each runner's median and spread, in ns per unit.
 */
export function timeInterleaved(runners: readonly Runner[], options: BenchOptions = {}): Record<string, EngineTiming> {
  const warmupMs = options.warmupMs ?? 300;
  const warmupRuns = options.warmupRuns ?? 50;
  const batchMs = options.batchMs ?? 20;
  const batches = options.batches ?? 15;

  // 2-3. Warm-up, and a batch size per runner from the warm-up rate.
  const batchSize: number[] = [];
  for (const r of runners) {
    let runs = 0;
    const t0 = now();
    let elapsed = 0;
    while (runs < warmupRuns || elapsed < warmupMs * 1e6) {
      r.run();
      runs++;
      elapsed = Number(now() - t0);
    }
    batchSize.push(Math.max(1, Math.round((batchMs * 1e6 * runs) / elapsed)));
  }

  // 4. Interleaved timed batches.
  const samples: number[][] = runners.map(() => []);
  for (let b = 0; b < batches; b++) {
    for (let e = 0; e < runners.length; e++) {
      const run = runners[e].run;
      const n = batchSize[e];
      const t0 = now();
      for (let i = 0; i < n; i++) run();
      samples[e].push(Number(now() - t0) / n / (runners[e].per ?? 1));
    }
  }

  const out: Record<string, EngineTiming> = {};
  runners.forEach((r, e) => {
    const sorted = [...samples[e]].sort((x, y) => x - y);
    out[r.name] = {
      nsPerRun: median(sorted),
      minNsPerRun: sorted[0],
      maxNsPerRun: sorted[sorted.length - 1],
      runs: batchSize[e] * batches * (r.per ?? 1),
    };
  });
  return out;
}

function median(sorted: readonly number[]): number {
  const m = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
}

/**
 * The number of eBPF instructions one run of `program` on `input` executes (an `lddw` counts once), from the
 * interpreter's counting mode: a separate, untimed run set up the way `LoadedProgram.run` sets one up.
 */
export function countInstructions(program: Program, input: Uint8Array, helpers: HelperTable = new Map()): { steps: number; r0: bigint } {
  const rt = new Runtime();
  const len = input.length;
  const ptr = len > 0 ? rt.scratch(len) : 0;
  if (len > 0) new Uint8Array(rt.memory.buffer, ptr, len).set(input);
  const stackBase = rt.acquireStack();
  new Uint8Array(rt.memory.buffer, stackBase, STACK_SIZE).fill(0);
  return new Interpreter(program).runCounting({
    memory: rt.memory,
    stackBase,
    regions: len > 0 ? [{ start: ptr, end: ptr + len, writable: true, name: 'input' }] : [],
    args: [BigInt(ptr), BigInt(len)],
    helpers,
    packet: len > 0 ? { start: ptr, length: len } : undefined,
  });
}
