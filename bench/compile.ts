/**
 * Compile latency: what loading a program on the JIT costs, from bytecode to a V8 module: `decode`, then
 * `translate` (Binaryen: building the IR, emitting the binary; the options `compileForRuntime` uses), then
 * `new WebAssembly.Module` (V8's baseline compile; the optimizing tier comes later, in the background, for hot
 * functions). The one-time load of Binaryen (about 0.3 s) is reported apart.
 *
 * - warm: in this process, after warm-up compiles, the median over many compiles. Every compile is of a
 *   different program (another seed of synth.ts): V8 caches modules by their bytes, so compiling the same bytes
 *   twice would time a cache hit.
 * - cold: the first compile in a fresh process (bench/cold.ts), where the translator's JavaScript and
 *   Binaryen's own code still run in V8's lower tiers; median over a few processes.
 *
 * Not here: the programs (synth.ts), the report (run.ts).
 */

import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBinaryen } from '../codegen/binaryen.js';
import { translateSync } from '../codegen/translate.js';
import { assemble } from '../src/isa/asm.js';
import { decode } from '../src/isa/decode.js';
import { encode } from '../src/isa/encode.js';
import { synthProgram } from './synth.js';

/** One compile, phase by phase (ms). */
export interface CompileTiming {
  readonly decodeMs: number;
  readonly translateMs: number;
  readonly moduleMs: number;
  readonly totalMs: number;
  /**
   * CPU time of the process over the compile, all its threads: V8 compiles and collects garbage on background
   * threads, so it can exceed the wall-clock time.
   */
  readonly cpuMs: number;
  readonly insns: number;
  readonly wasmBytes: number;
}

/** The bytecode of the synthetic program of about `insns` instructions and `seed`. */
export function programBytes(insns: number, seed: number): Uint8Array {
  return encode(assemble(synthProgram(insns, seed)));
}

/** Makes sure Binaryen is loaded; returns how long that took (about 0 when it already was). */
export async function loadTranslator(): Promise<number> {
  const t0 = performance.now();
  await loadBinaryen();
  return performance.now() - t0;
}

/** Decodes, translates and compiles `bytes` once (Binaryen must be loaded: {@link loadTranslator}). */
export function compileOnce(bytes: Uint8Array): CompileTiming {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const program = decode(bytes);
  const t1 = performance.now();
  const { wasm } = translateSync(program, { validate: false });
  const t2 = performance.now();
  new WebAssembly.Module(wasm);
  const t3 = performance.now();
  const c = process.cpuUsage(c0);
  return {
    decodeMs: t1 - t0, translateMs: t2 - t1, moduleMs: t3 - t2, totalMs: t3 - t0, cpuMs: (c.user + c.system) / 1000,
    insns: program.insns.length, wasmBytes: wasm.length,
  };
}

/** Median (by total) and fastest compile of a set, and the median CPU time. */
export interface CompileSummary {
  readonly median: CompileTiming;
  readonly bestMs: number;
  readonly medianCpuMs: number;
  readonly compiles: number;
}

function summarize(timings: readonly CompileTiming[]): CompileSummary {
  const sorted = [...timings].sort((a, b) => a.totalMs - b.totalMs);
  const cpu = timings.map((t) => t.cpuMs).sort((a, b) => a - b);
  return { median: sorted[sorted.length >> 1], bestMs: sorted[0].totalMs, medianCpuMs: cpu[cpu.length >> 1], compiles: sorted.length };
}

/** Warm compile latency of programs of about `insns` instructions: `runs` compiles after `warmup`. */
export async function warmCompile(insns: number, warmup: number, runs: number): Promise<CompileSummary> {
  await loadTranslator();
  const programs = Array.from({ length: warmup + runs }, (_, i) => programBytes(insns, 1000 + i));
  for (let i = 0; i < warmup; i++) compileOnce(programs[i]);
  const timings: CompileTiming[] = [];
  for (let i = warmup; i < warmup + runs; i++) timings.push(compileOnce(programs[i]));
  return summarize(timings);
}

/** What one fresh process measured (bench/cold.ts prints it as JSON). */
export interface ColdRun {
  /** Loading Binaryen. */
  readonly loadMs: number;
  /** The first compile of the process, then the second (another program of the same size). */
  readonly first: CompileTiming;
  readonly second: CompileTiming;
}

/** Cold compile latency: `processes` fresh processes, each timing its first compile of an `insns` program. */
export function coldCompile(insns: number, processes: number): { readonly first: CompileSummary; readonly second: CompileSummary; readonly loadMs: number } {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'cold.js');
  const runs: ColdRun[] = [];
  for (let i = 0; i < processes; i++) {
    const out = spawnSync(process.execPath, [script, String(insns), String(i + 1)], { encoding: 'utf8' });
    if (out.status !== 0) throw new Error(`cold compile (${insns} instructions) failed: ${out.stderr}`);
    runs.push(JSON.parse(out.stdout) as ColdRun);
  }
  const loads = runs.map((r) => r.loadMs).sort((a, b) => a - b);
  return { first: summarize(runs.map((r) => r.first)), second: summarize(runs.map((r) => r.second)), loadMs: loads[loads.length >> 1] };
}
