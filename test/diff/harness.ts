/**
 * The differential harness: runs one program with one input on every engine in `ENGINES` (or given engine
 * configurations) and compares what each observably did against the first engine (the interpreter).
 *
 * Observable = the outcome (r0, or the `ExecutionError` code and pc, or a load-time rejection) plus the whole
 * memory window programs and helpers can reach ({@link HELPER_WINDOW}: every stack slot and the input buffer),
 * compared byte for byte in place, after faults too: stores made before a fault are just as visible.
 *
 * Each engine has its own `Runtime` (one memory each), reused for every program, with its input buffer at the
 * same address, so pointer values agree. The harness prepares executables and builds the `ExecRequest`s itself,
 * the way `LoadedProgram.run` does, so that it can also add regions (to reach the JIT's other region-check
 * variant) and offer a helper that nests a run of the same program inside the current one.
 *
 * Not here: generating programs (gen.ts), the other helpers (helpers.ts), the watchdog (watchdog.ts).
 */

import { Buffer } from 'node:buffer';
import { ExecutionError, InvalidProgramError } from '../../src/errors.js';
import { disassemble } from '../../src/isa/disasm.js';
import { encode, toHex } from '../../src/isa/encode.js';
import type { ExecRequest, Executable, HelperTable, Region } from '../../src/exec.js';
import type { Program } from '../../src/isa/program.js';
import { ENGINES, prepareEngine, type EngineName, type PrepareContext } from '../../runtime/engines.js';
import { Runtime } from '../../runtime/runtime.js';
import { HELPER_NESTED } from './gen.js';
import { HELPER_WINDOW, SCRATCH_BYTES, diffHelpers } from './helpers.js';
import { Watchdog } from './watchdog.js';

/** What one run did. */
export type Outcome =
  | { readonly kind: 'ok'; readonly r0: bigint }
  | { readonly kind: 'fault'; readonly code: string; readonly pc: number }
  /** The engine refused to load the program (InvalidProgramError). */
  | { readonly kind: 'rejected'; readonly code: string; readonly message: string }
  /** Anything else thrown: always a bug, in any engine. */
  | { readonly kind: 'crash'; readonly error: string };

/** One run: the input (r1 points at a private copy), the budget and whether the input may be written. */
export interface RunSpec {
  readonly input: Uint8Array;
  /** Undefined: no budget (the JIT then runs its plain variant, without budget checks). */
  readonly budget: number | undefined;
  readonly writable: boolean;
  /** Add the decoy regions (more regions than the JIT's inline slots). */
  readonly decoys?: boolean;
}

/** One engine's result for a case, with timings in milliseconds. */
export interface EngineResult {
  readonly engine: string;
  readonly outcome: Outcome;
  readonly loadMs: number;
  readonly runMs: number;
}

/** The verdict on one case. */
export interface DiffResult {
  /** Every engine's result, per run (runs after the first disagreement are not made). */
  readonly runs: readonly (readonly EngineResult[])[];
  /** Why the engines disagree (or why the reference crashed); null when all agree. */
  readonly mismatch: string | null;
}

/** Renders an outcome on one line. */
export function formatOutcome(o: Outcome): string {
  switch (o.kind) {
    case 'ok': return `r0 = 0x${o.r0.toString(16)}`;
    case 'fault': return `ExecutionError ${o.code} at pc ${o.pc}`;
    case 'rejected': return `rejected at load: ${o.code} (${o.message})`;
    case 'crash': return `CRASH: ${o.error.split('\n')[0]}`;
  }
}

function sameOutcome(a: Outcome, b: Outcome): boolean {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'ok': return a.r0 === (b as typeof a).r0;
    case 'fault': return a.code === (b as typeof a).code && a.pc === (b as typeof a).pc;
    case 'rejected': return a.code === (b as typeof a).code;
    case 'crash': return false;
  }
}

function describeError(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}${e.stack ? '\n' + e.stack.split('\n').slice(1, 6).join('\n') : ''}`;
  return `non-Error thrown: ${String(e)}`;
}

/** The program as assembly with slot numbers, falling back to hex if the disassembler fails. */
export function describeProgram(program: Program): string {
  let text: string;
  try {
    text = disassemble(program, { pcs: true });
  } catch (e) {
    text = `(disassembler failed: ${describeError(e)})\n`;
  }
  return text + `hex: ${toHex(encode(program))}`;
}

/**
 * An engine to compare: a name for reports and how to prepare a program against a runtime's memory. Besides
 * the engines of `ENGINES`, the JIT can be forced onto its other control-flow strategies (`jit:relooper`,
 * `jit:dispatch`), which programs this small never reach on their own.
 */
export interface EngineConfig {
  readonly name: string;
  prepare(program: Program, ctx: PrepareContext): Promise<Executable>;
}

/** The engine configuration named `name`: an `EngineName` (`step` too), or `jit:relooper` / `jit:dispatch`. */
export function engineConfig(name: string): EngineConfig {
  if ((ENGINES as readonly string[]).includes(name) || name === 'interp' || name === 'jit' || name === 'step') {
    return { name, prepare: (program, ctx) => prepareEngine(name as EngineName, program, ctx) };
  }
  const m = /^jit:(relooper|dispatch)$/.exec(name);
  if (!m) throw new Error(`unknown engine configuration ${name} (expected interp, jit, step, jit:relooper or jit:dispatch)`);
  const controlFlow = m[1] as 'relooper' | 'dispatch';
  return {
    name,
    prepare: async (program, ctx) => {
      const { compileForRuntime } = await import('../../codegen/compile.js');
      return compileForRuntime(program, ctx, { controlFlow });
    },
  };
}

/** A program prepared on one engine, or why it could not be. */
type Loaded = { readonly ok: true; readonly exec: Executable } | { readonly ok: false; readonly outcome: Outcome };

/**
 * Decoy regions, added to runs that ask for them: more regions than the JIT keeps in its inline slots, which
 * sends it down its other region-check variant. Small spans of the scratch buffer past any input; one of them
 * read-only. Programs reach them only by accident, identically on every engine.
 */
/** Nested runs (helper {@link HELPER_NESTED}) one outer run may make, in total. */
const MAX_NESTED_RUNS = 3;
const EBUSY = BigInt.asUintN(64, -16n);

/** Largest input a run takes: the decoys start right after it. */
const MAX_INPUT_BYTES = 1024;

const DECOYS: readonly { readonly at: number; readonly size: number; readonly writable: boolean }[] = [
  { at: 1024, size: 16, writable: true },
  { at: 1056, size: 8, writable: false },
  { at: 1072, size: 24, writable: true },
  { at: 1104, size: 4, writable: true },
];

/** Runs programs on every engine and compares them. */
/** A non-negative integer from the environment variable `name` (a run count, a seed), else `fallback`. */
export function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${v}`);
  return n;
}

/** A case that takes longer than this (a loop the budget failed to stop) kills the test process, loudly (watchdog.ts). */
export const WATCHDOG_MS = 20_000;

export class DiffHarness {
  readonly engines: readonly EngineConfig[];
  private readonly runtimes: Runtime[];
  /** Start of each runtime's scratch buffer (the same address in every runtime). */
  private readonly scratch: number[];
  private readonly watchdog: Watchdog | undefined;
  /** The given helpers plus {@link HELPER_NESTED}, bound to this harness. */
  private readonly helperTable: HelperTable;
  /** Nested runs made so far (for coverage statistics). */
  nestedRuns = 0;
  /** The run helper {@link HELPER_NESTED} nests into, while one is in progress. */
  private nesting: { readonly runtime: Runtime; readonly exec: Executable; readonly outer: ExecRequest; left: number } | undefined;

  /**
   * @param engines Engine configurations (names for {@link engineConfig}); the first is the reference.
   * @param watchdogMs With a value, a case (loads and runs on every engine) that takes longer than this kills
   *   the process after printing the case (see watchdog.ts): a run stuck in compiled code cannot be timed out.
   */
  constructor(
    engines: readonly string[] = ENGINES,
    helpers: HelperTable = diffHelpers,
    watchdogMs?: number,
  ) {
    if (engines.length === 0) throw new Error('DiffHarness needs at least one engine');
    this.engines = engines.map(engineConfig);
    this.helperTable = new Map([...helpers, [HELPER_NESTED, (r1: bigint, r2: bigint) => this.nested(r1, r2)]]);
    this.runtimes = engines.map(() => new Runtime());
    this.scratch = this.runtimes.map((rt) => rt.scratch(SCRATCH_BYTES));
    if (this.scratch.some((a) => a + SCRATCH_BYTES > HELPER_WINDOW.end)) throw new Error('scratch buffer outside the compared window');
    this.watchdog = watchdogMs === undefined ? undefined : new Watchdog(watchdogMs);
  }

  /** Stops the watchdog, if any. */
  async close(): Promise<void> {
    await this.watchdog?.close();
  }

  /** The memory window of engine `i`'s runtime (a live view). */
  window(i: number): Uint8Array {
    return new Uint8Array(this.runtimes[i].memory.buffer, HELPER_WINDOW.start, HELPER_WINDOW.end - HELPER_WINDOW.start);
  }

  private async load(i: number, program: Program): Promise<Loaded> {
    try {
      return { ok: true, exec: await this.engines[i].prepare(program, { memory: this.runtimes[i].memory, helpers: this.helperTable }) };
    } catch (e) {
      return { ok: false, outcome: e instanceof InvalidProgramError ? { kind: 'rejected', code: e.code, message: e.message } : { kind: 'crash', error: describeError(e) } };
    }
  }

  /**
   * One run on engine `i`, from a cleared window; the window holds the final state afterwards. Laid out as
   * `LoadedProgram.run` does (r1 = a private copy of the input or 0, r2 = its length, the input is also the
   * packet), plus the decoy regions when the spec asks for them.
   */
  private run(i: number, loaded: Loaded, spec: RunSpec): Outcome {
    if (!loaded.ok) return loaded.outcome;
    const rt = this.runtimes[i];
    this.window(i).fill(0);
    const len = spec.input.length;
    const ptr = len > 0 ? this.scratch[i] : 0;
    if (len > MAX_INPUT_BYTES) throw new Error(`inputs are limited to ${MAX_INPUT_BYTES} bytes`);
    if (len > 0) new Uint8Array(rt.memory.buffer, ptr, len).set(spec.input);
    const regions: Region[] = len > 0 ? [{ start: ptr, end: ptr + len, writable: spec.writable, name: 'input' }] : [];
    if (spec.decoys) {
      for (const d of DECOYS) regions.push({ start: this.scratch[i] + d.at, end: this.scratch[i] + d.at + d.size, writable: d.writable, name: 'decoy' });
    }
    const stackBase = rt.acquireStack();
    const req: ExecRequest = {
      memory: rt.memory,
      stackBase,
      regions,
      args: [BigInt(ptr), BigInt(len)],
      helpers: this.helperTable,
      budget: spec.budget,
      packet: len > 0 ? { start: ptr, length: len } : undefined,
    };
    this.nesting = { runtime: rt, exec: loaded.exec, outer: req, left: MAX_NESTED_RUNS };
    try {
      return { kind: 'ok', r0: loaded.exec.run(req) };
    } catch (e) {
      return e instanceof ExecutionError ? { kind: 'fault', code: e.code, pc: e.pc ?? -1 } : { kind: 'crash', error: describeError(e) };
    } finally {
      this.nesting = undefined;
      rt.releaseStack(stackBase);
    }
  }

  /**
   * Helper {@link HELPER_NESTED}: runs the current program again, nested inside the current run, on the next
   * stack slot, with r1, r2 = the helper's r1, r2 and the outer run's regions, packet and budget. At most
   * {@link MAX_NESTED_RUNS} nested runs per outer run (later calls return -EBUSY), so every run stays bounded.
   * An inner fault propagates, as any helper's `ExecutionError` does.
   */
  private nested(r1: bigint, r2: bigint): bigint {
    const n = this.nesting;
    if (n === undefined || n.left <= 0) return EBUSY;
    n.left--;
    this.nestedRuns++;
    const stackBase = n.runtime.acquireStack();
    try {
      return n.exec.run({ ...n.outer, stackBase, args: [r1, r2] });
    } finally {
      n.runtime.releaseStack(stackBase);
    }
  }

  /** Loads and runs `program` once on engine `i`. */
  async runOn(i: number, program: Program, spec: RunSpec): Promise<EngineResult> {
    const t0 = performance.now();
    const loaded = await this.load(i, program);
    const t1 = performance.now();
    const outcome = this.run(i, loaded, spec);
    return { engine: this.engines[i].name, outcome, loadMs: t1 - t0, runMs: performance.now() - t1 };
  }

  /**
   * Loads `program` on every engine, runs it once per spec and compares every run with the first engine's.
   * A spec given twice (the same object) must also give the same outcome again on each engine: that catches
   * state an engine leaks from one run to the next (call depth, budget, caches). `label` names the case in the
   * watchdog's report.
   */
  async diff(program: Program, specs: readonly RunSpec[], label = ''): Promise<DiffResult> {
    if (!this.watchdog) return this.diffUnwatched(program, specs);
    this.watchdog.arm(
      `${label}\nengines: ${this.engines.map((e) => e.name).join(', ')}; budgets of the runs: ${specs.map((s) => s.budget ?? 'none').join(', ')}\nprogram: `,
      encode(program),
    );
    try {
      return await this.diffUnwatched(program, specs);
    } finally {
      this.watchdog.disarm();
    }
  }

  private async diffUnwatched(program: Program, specs: readonly RunSpec[]): Promise<DiffResult> {
    const n = this.engines.length;
    const loaded: Loaded[] = [];
    const loadMs: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      loaded.push(await this.load(i, program));
      loadMs.push(performance.now() - t0);
    }
    const problems: string[] = [];
    const byRun: EngineResult[][] = [];
    for (let k = 0; k < specs.length && problems.length === 0; k++) {
      const spec = specs[k];
      const results: EngineResult[] = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        const outcome = this.run(i, loaded[i], spec);
        results.push({ engine: this.engines[i].name, outcome, loadMs: k === 0 ? loadMs[i] : 0, runMs: performance.now() - t0 });
      }
      byRun.push(results);
      const tag = specs.length === 1 ? '' : `run ${k + 1} (${spec.budget === undefined ? 'no budget' : `budget ${spec.budget}`}): `;
      const ref = results[0];
      if (ref.outcome.kind === 'crash') problems.push(`${tag}${ref.engine} crashed: ${ref.outcome.error}`);
      const earlier = specs.indexOf(spec);
      for (let i = 0; i < n; i++) {
        const r = results[i];
        const before = byRun[earlier][i].outcome;
        if (earlier < k && r.outcome.kind !== 'crash' && !sameOutcome(before, r.outcome)) {
          problems.push(`${tag}${r.engine} is not deterministic: ${formatOutcome(r.outcome)}, run ${earlier + 1}: ${formatOutcome(before)}`);
        }
        if (i === 0) continue;
        if (!sameOutcome(ref.outcome, r.outcome)) {
          problems.push(`${tag}${r.engine}: ${formatOutcome(r.outcome)}, but ${ref.engine}: ${formatOutcome(ref.outcome)}`);
        } else if (ref.outcome.kind === 'ok' || ref.outcome.kind === 'fault') {
          const a = this.window(0);
          const b = this.window(i);
          if (Buffer.compare(a, b) !== 0) problems.push(`${tag}${r.engine}: memory differs from ${ref.engine}: ${firstDifference(a, b)}`);
        }
      }
    }
    return { runs: byRun, mismatch: problems.length === 0 ? null : problems.join('\n') };
  }
}

/** Where two memory windows first differ, as an address and both bytes. */
function firstDifference(a: Uint8Array, b: Uint8Array): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  let count = 0;
  for (let j = i; j < a.length; j++) if (a[j] !== b[j]) count++;
  const addr = HELPER_WINDOW.start + i;
  return `${count} byte(s), first at 0x${addr.toString(16)}: 0x${b[i].toString(16)} vs 0x${a[i].toString(16)}`;
}

/** A full report of one case: program, input, budget and every engine's outcome. */
export function describeCase(program: Program, specs: readonly RunSpec[], result?: DiffResult): string {
  const { input, writable } = specs[0];
  const lines = [
    describeProgram(program),
    `input (${input.length} bytes${writable ? '' : ', read-only'}): ${toHex(input) || '(none)'}`,
    `budgets of the runs: ${specs.map((s) => s.budget ?? 'none').join(', ')}${specs[0].decoys ? ', with the decoy regions' : ''}`,
  ];
  result?.runs.forEach((run, k) => {
    for (const r of run) lines.push(`run ${k + 1}, ${r.engine}: ${formatOutcome(r.outcome)}`);
  });
  if (result?.mismatch) lines.push(`mismatch:\n${result.mismatch}`);
  return lines.join('\n');
}
