/**
 * `ebpf-wasm bench FILE`: times one program on the chosen engines in one process with the benchmark harness
 * (bench/harness.ts: warm-up into V8's optimized tier, batches, median), and prints ns per run for each engine
 * and the ratio of each to the first.
 *
 * Not here: the measurement method (bench/harness.ts) or the benchmark programs (bench/programs).
 */

import { benchProgram } from '../../bench/harness.js';
import { CONFORMANCE_HELPERS } from '../conformance/helpers.js';
import { ENGINES, type EngineName } from '../../runtime/engines.js';
import { InvalidProgramError } from '../errors.js';
import type { Program } from '../isa/program.js';
import { formatR0 } from './input.js';

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

/** Runs the benchmark and returns what the command prints. */
export async function benchCommand(program: Program, mem: Uint8Array, engineList: string, json: boolean): Promise<string> {
  const engines = parseEngines(engineList);
  const r = await benchProgram(program, mem, engines, { helpers: CONFORMANCE_HELPERS });
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
