/**
 * Differential testing: random well-formed programs (gen.ts) run on every engine in `ENGINES`, each compared
 * with the first (the interpreter): same r0 and memory, or the same `ExecutionError` code and pc.
 *
 * With only the interpreter in `ENGINES` this still checks that every generated program terminates within its
 * budget and never throws anything but an `ExecutionError`; and straight-line ALU programs are checked on every
 * engine against the bigint reference semantics (reference.ts), a second oracle independent of the engines.
 *
 * Environment (used by `npm run fuzz`, fuzz/diff.mjs): DIFF_RUNS (default 20000), DIFF_SEED (default random;
 * the seed is printed so a failure can be replayed), DIFF_PATH (with DIFF_SEED: replay from that case, as
 * fast-check's `path`), DIFF_STRAIGHT_RUNS (default 1000), DIFF_STRATEGY_RUNS (default 1000), DIFF_ENGINES
 * (default `ENGINES`).
 *
 * Not here: the regressions found so far (regressions.test.ts), which run as fixed cases.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { STACK_SIZE, frameTop } from '../../src/exec.js';
import { encode, toHex } from '../../src/isa/encode.js';
import type { Program } from '../../src/isa/program.js';
import { ENGINES } from '../../runtime/engines.js';
import { STACKS_BASE } from '../../runtime/runtime.js';
import { GENEROUS_BUDGET, HELPER_NESTED, buildProgram, diffCaseArb, straightLineArb, terminatesByConstruction, type DiffCase } from './gen.js';
import { DiffHarness, WATCHDOG_MS, describeCase, envInt, formatOutcome, type DiffResult, type RunSpec } from './harness.js';
import { HELPER_WINDOW } from './helpers.js';
import { evalStraightLine } from './reference.js';

const RUNS = envInt('DIFF_RUNS', 20_000);
const STRAIGHT_RUNS = envInt('DIFF_STRAIGHT_RUNS', 1_000);
const JIT_STRATEGY_RUNS = envInt('DIFF_STRATEGY_RUNS', 1_000);
const SEED = envInt('DIFF_SEED', Math.floor(Math.random() * 0x7fffffff));
/**
 * Engines to compare: `ENGINES` unless DIFF_ENGINES lists others (comma-separated, the reference first; names
 * as `engineConfig` takes them, e.g. `interp,jit,jit:dispatch`), so an engine or a JIT strategy can be fuzzed
 * before it joins `ENGINES`.
 */
const DIFF_ENGINES: readonly string[] = process.env.DIFF_ENGINES ? process.env.DIFF_ENGINES.split(',') : ENGINES;
/** Replays one case (with DIFF_SEED): its index as fast-check's `path`, as the watchdog prints it. */
const PATH = process.env.DIFF_PATH || undefined;
/** Coverage of outcomes is only asserted on runs big enough for every kind to show up. */
const ASSERT_COVERAGE = RUNS >= 5_000;

/** Outcome counts and per-engine costs over a run of the property. */
class Stats {
  readonly outcomes = new Map<string, number>();
  readonly load = new Map<string, number>();
  readonly run = new Map<string, number>();
  private readonly cpuStart = process.cpuUsage();
  private readonly wallStart = performance.now();
  programs = 0;
  nestedRuns = 0;
  slots = 0;
  maxSlots = 0;
  minSlots = Infinity;

  add(program: Program, res: DiffResult): void {
    this.programs++;
    this.slots += program.slotCount;
    this.maxSlots = Math.max(this.maxSlots, program.slotCount);
    this.minSlots = Math.min(this.minSlots, program.slotCount);
    const ref = res.runs[0][0].outcome;
    const key = ref.kind === 'fault' ? `fault:${ref.code}` : ref.kind;
    this.outcomes.set(key, (this.outcomes.get(key) ?? 0) + 1);
    for (const run of res.runs) {
      for (const r of run) {
        this.load.set(r.engine, (this.load.get(r.engine) ?? 0) + r.loadMs);
        this.run.set(r.engine, (this.run.get(r.engine) ?? 0) + r.runMs);
      }
    }
  }

  summary(): string {
    const per = (ms: number): string => `${((ms / this.programs) * 1000).toFixed(0)} µs`;
    const engines = [...this.load.keys()].map((e) => `${e}: load ${per(this.load.get(e)!)}, run ${per(this.run.get(e)!)} per program`);
    const outcomes = [...this.outcomes.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${((100 * n) / this.programs).toFixed(1)}%`);
    const cpu = process.cpuUsage(this.cpuStart);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    return [
      `${this.programs} programs, ${this.minSlots}..${this.maxSlots} slots (mean ${(this.slots / this.programs).toFixed(1)}); ` +
        `per program ${per(performance.now() - this.wallStart)} wall, ${per(cpuMs)} CPU (this process, all threads)`,
      ...engines,
      `outcomes: ${outcomes.join(', ')}`,
      `nested runs (helper ${HELPER_NESTED}): ${this.nestedRuns}`,
    ].join('\n');
  }
}

/**
 * A counterexample as an entry of regressions.test.ts (its last run, the one that disagreed). The expected
 * outcome is the reference engine's: check it against RFC 9669 before committing the case.
 */
function regressionSnippet(program: Program, specs: readonly RunSpec[], res: DiffResult): string {
  const k = res.runs.length - 1;
  const { input, budget, writable, decoys } = specs[k];
  const ref = res.runs[k][0].outcome;
  const expected =
    ref.kind === 'ok' ? `{ r0: 0x${ref.r0.toString(16)}n }` : ref.kind === 'fault' ? `{ fault: '${ref.code}', pc: ${ref.pc} }` : `/* ${formatOutcome(ref)} */`;
  return [
    `{ name: 'TODO', catches: 'TODO', hex: '${toHex(encode(program))}', input: '${toHex(input)}'`,
    budget === undefined ? '' : `, budget: ${budget}`,
    writable ? '' : ', writable: false',
    decoys ? ', decoys: true' : '',
    `, expected: ${expected} }`,
  ].join('');
}

/**
 * The runs of a case, chosen so that both JIT variants are exercised and each program is compiled as few times
 * as possible (the JIT compiles its plain variant when loading and its budget-counting variant at the first run
 * with a budget; compiling dominates the cost of this test):
 * - no backward jump and no local call: the budget cannot matter, so the plain variant runs, twice;
 * - terminating by construction (counted loops, non-recursive calls): the plain variant runs, twice; with a
 *   tight budget the budget variant runs first, so that budgets running out inside loops and calls are covered;
 * - anything else (gotos, recursion) needs the budget to end: the budget variant runs, twice.
 * A spec given twice must give the same outcome twice: nothing may leak from one run to the next.
 */
function runsOf(c: DiffCase, program: Program): RunSpec[] {
  const budgeted: RunSpec = { input: c.input, budget: c.budget, writable: c.writable, decoys: c.decoys };
  const unbudgeted: RunSpec = { ...budgeted, budget: undefined };
  const loopFree = !program.insns.some(
    (i) => ((i.kind === 'ja' || i.kind === 'jcond') && i.target <= i.pc) || (i.kind === 'call' && i.target.kind === 'local'),
  );
  if (loopFree) return [unbudgeted, unbudgeted];
  if (!terminatesByConstruction(c.recipe)) return [budgeted, budgeted];
  return c.budget < GENEROUS_BUDGET ? [budgeted, unbudgeted] : [unbudgeted, unbudgeted];
}

/**
 * Runs `runs` random cases on `engines` (the first is the reference) and fails on the first disagreement, with
 * the shrunk case disassembled and a ready-to-paste regression. Returns the statistics.
 */
async function checkRandomPrograms(engines: readonly string[], runs: number, seed: number, path?: string): Promise<Stats> {
  const harness = new DiffHarness(engines, undefined, WATCHDOG_MS);
  const stats = new Stats();
  let index = path === undefined ? 0 : Number(path.split(':')[0]);
  await fc.assert(
    fc.asyncProperty(diffCaseArb(), async (c) => {
      const program = buildProgram(c.recipe);
      const specs = runsOf(c, program);
      const label = `replay: DIFF_ENGINES=${engines.join(',')} DIFF_SEED=${seed} DIFF_PATH=${index++} npx vitest run test/diff/diff.test.ts`;
      const res = await harness.diff(program, specs, label);
      stats.add(program, res);
      const ref = res.runs[0][0].outcome;
      if (res.mismatch) {
        throw new Error(`${describeCase(program, specs, res)}\nregression: ${regressionSnippet(program, specs, res)}`);
      }
      if (ref.kind === 'rejected') {
        throw new Error(`the reference engine rejected a well-formed program: ${ref.code}: ${ref.message}\n${describeCase(program, specs, res)}`);
      }
    }),
    { numRuns: runs, seed, path },
  ).finally(() => harness.close());
  stats.nestedRuns = harness.nestedRuns;
  return stats;
}

describe(`differential testing over ${DIFF_ENGINES.join(', ')}`, () => {
  it(`${RUNS} random programs agree on every engine (seed ${SEED})`, async () => {
    const stats = await checkRandomPrograms(DIFF_ENGINES, RUNS, SEED, PATH);
    console.log(stats.summary());
    if (ASSERT_COVERAGE) {
      // The generator must keep exercising every way a run can end, or this test proves little.
      const share = (k: string): number => (stats.outcomes.get(k) ?? 0) / stats.programs;
      expect(share('ok')).toBeGreaterThan(0.25);
      for (const code of ['out_of_bounds', 'read_only', 'misaligned_atomic', 'budget_exceeded', 'call_depth', 'helper_failed', 'unknown_helper', 'fell_off_end']) {
        expect(share(`fault:${code}`), code).toBeGreaterThan(0.002);
      }
    }
  }, 60_000 + RUNS * 20);

  // Programs this small always get the JIT's default structuring; its other strategies (Binaryen's Relooper for
  // any CFG, the dispatch loop for large irreducible functions) are forced here on a smaller sample.
  it.runIf(JIT_STRATEGY_RUNS > 0 && DIFF_ENGINES.includes('jit'))(
    `${JIT_STRATEGY_RUNS} random programs agree with the JIT forced onto its other control-flow strategies`,
    async () => {
      const stats = await checkRandomPrograms([DIFF_ENGINES[0], 'jit:relooper', 'jit:dispatch'], JIT_STRATEGY_RUNS, SEED);
      console.log(stats.summary());
    },
    60_000 + JIT_STRATEGY_RUNS * 40,
  );

  it(`${STRAIGHT_RUNS} straight-line ALU programs match the reference semantics on every engine`, async () => {
    const harness = new DiffHarness(DIFF_ENGINES);
    const top = frameTop(STACKS_BASE, 0);
    const stackOffset = STACKS_BASE - HELPER_WINDOW.start;
    await fc.assert(
      fc.asyncProperty(straightLineArb, async (recipe) => {
        const program = buildProgram(recipe);
        const want = evalStraightLine(program, [0n, 0n], BigInt(top));
        for (let i = 0; i < harness.engines.length; i++) {
          const spec = { input: new Uint8Array(0), budget: 0, writable: true };
          const res = await harness.runOn(i, program, spec);
          const where = `${res.engine}\n${describeCase(program, [spec])}`;
          expect(res.outcome, where).toEqual({ kind: 'ok', r0: want.r0 });
          const view = new DataView(harness.window(i).buffer, harness.window(i).byteOffset + stackOffset, STACK_SIZE);
          for (const [off, value] of want.stores) {
            expect(view.getBigUint64(STACK_SIZE + off, true), `[r10${off}] on ${where}`).toBe(value);
          }
        }
      }),
      { numRuns: STRAIGHT_RUNS, seed: SEED },
    );
  }, 60_000);
});
