/**
 * `ebpf-wasm bench FILE`: times one program on the chosen engines in one process with the benchmark harness
 * (bench/harness.ts: warm-up into V8's optimized tier, batches, median), and prints ns per run for each engine
 * and the ratio of each to the first. A raw program runs as `run` runs it (r1 = a copy of the memory, r2 = its
 * length); a program of an ELF object runs on a packet with its type's context, loaded by `loadObject` once per
 * engine (each in a runtime of its own, its maps fresh), through `BpfProgram.run` (the packet path).
 *
 * Not here: the measurement method (bench/harness.ts) or the benchmark programs (bench/programs).
 */

import { benchProgram, timeInterleaved, type BenchOptions, type BenchResult } from '../../bench/harness.js';
import { CONFORMANCE_HELPERS } from '../conformance/helpers.js';
import { ENGINES, type EngineName } from '../../runtime/engines.js';
import { InvalidProgramError } from '../errors.js';
import type { Program } from '../isa/program.js';
import { formatR0 } from './input.js';

/** `--quick`: a short warm-up and five short batches (a smoke run; the figures are rougher). */
const QUICK: BenchOptions = { warmupMs: 100, warmupRuns: 20, batchMs: 5, batches: 5 };

/** Parses `--engines a,b` against the known engines. */
export function parseEngines(list: string): EngineName[] {
  const names = list.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const n of names) {
    if (!(ENGINES as readonly string[]).includes(n)) {
      throw new InvalidProgramError('data_format', `unknown engine '${n}' (known: ${ENGINES.join(', ')})`);
    }
  }
  if (names.length === 0) throw new InvalidProgramError('data_format', '--engines needs at least one engine');
  return names as EngineName[];
}

/** An ELF object's program to time: the file's bytes and the program's C name. */
export interface ObjectProgram {
  readonly bytes: Uint8Array;
  readonly name: string;
}

/** Times an ELF object's program on `packet` on each engine (results checked equal first). */
async function benchObject(object: ObjectProgram, packet: Uint8Array, engines: readonly EngineName[], options: BenchOptions): Promise<BenchResult> {
  const { loadObject } = await import('../../runtime/object.js');
  const programs = await Promise.all(engines.map(async (engine) => (await loadObject(object.bytes, { engine, programs: [object.name] })).program(object.name)));
  const results = programs.map((p) => p.run(packet));
  engines.forEach((e, i) => {
    if (results[i] !== results[0]) throw new Error(`engines disagree: ${engines[0]} returns ${results[0]}, ${e} returns ${results[i]}`);
  });
  const engineTimings = timeInterleaved(engines.map((name, i) => ({ name, run: () => programs[i].run(packet) })), options);
  return { engines: engineTimings, result: BigInt(results[0]) };
}

/** Runs the benchmark (of a raw program on `mem`, or of an object's program on the packet `mem`) and returns what the command prints. */
export async function benchCommand(program: Program | ObjectProgram, mem: Uint8Array, engineList: string, json: boolean, quick = false): Promise<string> {
  const engines = parseEngines(engineList);
  const options: BenchOptions = quick ? QUICK : {};
  const r = 'bytes' in program ? await benchObject(program, mem, engines, options) : await benchProgram(program, mem, engines, { ...options, helpers: CONFORMANCE_HELPERS });
  if (json) {
    const out = {
      engines: Object.fromEntries(engines.map((e) => [e, { nsPerRun: r.engines[e].nsPerRun, runs: r.engines[e].runs }])),
      result: formatR0(r.result),
    };
    return JSON.stringify(out) + '\n';
  }
  const base = r.engines[engines[0]].nsPerRun;
  const lines = engines.map((e) => {
    const t = r.engines[e];
    const ratio = e === engines[0] ? '' : `   ${(base / t.nsPerRun).toFixed(2)}x vs ${engines[0]}`;
    return `${e.padEnd(7)} ${t.nsPerRun.toFixed(1).padStart(12)} ns/run  (${t.runs} runs, spread ${t.minNsPerRun.toFixed(1)}..${t.maxNsPerRun.toFixed(1)})${ratio}`;
  });
  return `${lines.join('\n')}\nresult ${formatR0(r.result)}\n`;
}
