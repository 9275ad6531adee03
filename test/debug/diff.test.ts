/**
 * The stepper against the interpreter on random programs (test/diff/gen.ts, through test/diff/harness.ts): same
 * r0 and the same memory window, or the same `ExecutionError` code and pc, on every run of every case; a load
 * rejection must have the same code. The stepper (src/debug/stepper.ts) shares nothing with the interpreter but
 * the bigint reference operations, so each is an oracle for the other.
 *
 * A second property steps programs one event at a time (the stepper's recording path, which the engine's runs
 * skip) and checks each event against the machine: the registers it says changed are exactly those that did, and
 * the run ends as the interpreter's does, with the same memory.
 *
 * Environment: STEP_DIFF_RUNS (default 20000), STEP_EVENT_RUNS (default 5000), DIFF_SEED (default random;
 * printed for replay).
 *
 * Not here: the interpreter against the JIT (test/diff/diff.test.ts; `DIFF_ENGINES=interp,jit,step` adds the
 * stepper there too).
 */

import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExecutionError } from '../../src/errors.js';
import { STACK_SIZE, type ExecRequest, type Region } from '../../src/exec.js';
import { Interpreter } from '../../src/interp/interpreter.js';
import type { Program } from '../../src/isa/program.js';
import { Stepper, type StepEvent } from '../../src/debug/stepper.js';
import { Runtime } from '../../runtime/runtime.js';
import { diffHelpers } from '../diff/helpers.js';
import { GENEROUS_BUDGET, buildProgram, diffCaseArb, terminatesByConstruction, type DiffCase } from '../diff/gen.js';
import { DiffHarness, WATCHDOG_MS, describeCase, envInt, type RunSpec } from '../diff/harness.js';

const RUNS = envInt('STEP_DIFF_RUNS', 20_000);
/** Cases stepped one event at a time (the recording path of the stepper). */
const EVENT_RUNS = envInt('STEP_EVENT_RUNS', 5_000);
const SEED = envInt('DIFF_SEED', Math.floor(Math.random() * 0x7fffffff));

/**
 * The runs of a case, as test/diff/diff.test.ts chooses them: a program without backward jumps or local calls
 * runs without budget, twice; one that terminates by construction runs with its budget and then without
 * (budgets running out inside loops and calls are covered); anything else needs the budget, twice. A spec given
 * twice must give the same outcome twice.
 */
function runsOf(c: DiffCase, program: Program): RunSpec[] {
  const budgeted: RunSpec = { input: c.input, budget: c.budget, writable: c.writable, decoys: c.decoys };
  const unbudgeted: RunSpec = { ...budgeted, budget: undefined };
  const loopFree = !program.insns.some(
    (i) => ((i.kind === 'ja' || i.kind === 'jcond') && i.target <= i.pc) || (i.kind === 'call' && i.target.kind === 'local'),
  );
  if (loopFree) return [unbudgeted, unbudgeted];
  if (!terminatesByConstruction(c.recipe)) return [budgeted, budgeted];
  return c.budget < GENEROUS_BUDGET ? [budgeted, unbudgeted] : [budgeted, budgeted];
}

describe('the stepper against the interpreter', () => {
  it(`${RUNS} random programs agree (seed ${SEED})`, async () => {
    const harness = new DiffHarness(['interp', 'step'], undefined, WATCHDOG_MS);
    const outcomes = new Map<string, number>();
    let programs = 0;
    let index = 0;
    await fc.assert(
      fc.asyncProperty(diffCaseArb(), async (c) => {
        const program = buildProgram(c.recipe);
        const specs = runsOf(c, program);
        const res = await harness.diff(program, specs, `replay: DIFF_SEED=${SEED} (case ${index++}) npx vitest run test/debug/diff.test.ts`);
        programs++;
        const ref = res.runs[0][0].outcome;
        const key = ref.kind === 'fault' ? `fault:${ref.code}` : ref.kind;
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        if (res.mismatch) throw new Error(describeCase(program, specs, res));
        if (ref.kind === 'rejected' || ref.kind === 'crash') throw new Error(`the interpreter did not run the program\n${describeCase(program, specs, res)}`);
      }),
      { numRuns: RUNS, seed: SEED },
    ).finally(() => harness.close());
    console.log(`stepper vs interpreter: ${programs} programs, outcomes ${[...outcomes].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}; nested runs ${harness.nestedRuns}`);
    expect(programs).toBe(RUNS);
    if (RUNS >= 2_000) {
      // The comparison proves little unless runs end in every way: normally, and by each kind of fault.
      expect(outcomes.get('ok') ?? 0).toBeGreaterThan(RUNS / 4);
      for (const code of ['out_of_bounds', 'read_only', 'misaligned_atomic', 'budget_exceeded', 'call_depth', 'helper_failed', 'unknown_helper', 'fell_off_end']) {
        expect(outcomes.get(`fault:${code}`) ?? 0, code).toBeGreaterThan(0);
      }
    }
  }, 120_000);
});

/** Outcome of a run, for comparing the interpreter with the stepped run. */
function outcomeOf(f: () => bigint): string {
  try {
    return `r0 = 0x${f().toString(16)}`;
  } catch (e) {
    if (e instanceof ExecutionError) return `${e.code} at pc ${e.pc}`;
    throw e;
  }
}

describe('stepping event by event', () => {
  it(`${EVENT_RUNS} random programs stepped: every event tells exactly what changed (seed ${SEED})`, async () => {
    const rt = new Runtime();
    const stackBase = rt.acquireStack();
    const input = rt.scratch(1024);
    const window = (): Uint8Array => new Uint8Array(rt.memory.buffer, stackBase, STACK_SIZE);
    const inputView = (len: number): Uint8Array => new Uint8Array(rt.memory.buffer, input, len);
    await fc.assert(
      fc.asyncProperty(diffCaseArb(), async (c) => {
        const program = buildProgram(c.recipe);
        const interp = new Interpreter(program);
        const len = c.input.length;
        const regions: Region[] = len > 0 ? [{ start: input, end: input + len, writable: c.writable, name: 'input' }] : [];
        const req: ExecRequest = {
          memory: rt.memory, stackBase, regions, args: [len > 0 ? BigInt(input) : 0n, BigInt(len)], helpers: diffHelpers, budget: c.budget,
          packet: len > 0 ? { start: input, length: len } : undefined,
        };
        const reset = (): void => {
          window().fill(0);
          inputView(len).set(c.input);
        };
        reset();
        const want = outcomeOf(() => interp.run(req));
        const wantStack = window().slice();
        const wantInput = inputView(len).slice();

        reset();
        const stepper = new Stepper(program, req);
        let last: StepEvent | undefined;
        // Plain comparisons per step (an `expect` per step would dominate the time); details only on failure.
        const fail = (where: string, what: string): never => {
          throw new Error(`${where}: ${what}\n${describeCase(program, [{ input: c.input, budget: c.budget, writable: c.writable }])}`);
        };
        for (let n = 0; !stepper.done; n++) {
          const before = stepper.registers;
          const pc = stepper.pc;
          const event = stepper.step();
          const after = stepper.registers;
          last = event;
          if (event.kind === 'fault') {
            if (after.some((v, r) => v !== before[r])) fail(`step ${n} at pc ${pc}`, 'a faulting instruction changed registers');
            continue;
          }
          if (event.pc !== pc) fail(`step ${n} at pc ${pc}`, `the event names pc ${event.pc}`);
          let count = 0;
          for (let r = 0; r <= 10; r++) if (after[r] !== before[r]) count++;
          const right = event.regs.length === count && event.regs.every((ch) => ch.old === before[ch.reg] && ch.new === after[ch.reg] && ch.old !== ch.new);
          if (!right) {
            const changed = after.flatMap((v, r) => (v !== before[r] ? [`r${r}: ${before[r]} -> ${v}`] : []));
            const told = event.regs.map((ch) => `r${ch.reg}: ${ch.old} -> ${ch.new}`);
            fail(`step ${n} at pc ${pc}`, `registers changed: ${changed.join(', ')}; the event says ${told.join(', ')}`);
          }
          for (const w of event.writes) {
            const now = stepper.readMemory(w.addr, w.size);
            if (now.some((b, i) => b !== w.bytes[i])) fail(`step ${n} at pc ${pc}`, `memory at 0x${w.addr.toString(16)} is not what the event says`);
          }
          if (event.kind === 'step' && event.next !== stepper.pc) fail(`step ${n} at pc ${pc}`, `next ${event.next}, but the stepper is at ${stepper.pc}`);
        }
        const got = last?.kind === 'done' ? `r0 = 0x${last.r0.toString(16)}` : last?.kind === 'fault' ? `${last.error.code} at pc ${last.error.pc}` : '?';
        if (got !== want) fail('end of run', `the run ended with ${got}, the interpreter's with ${want}`);
        if (Buffer.compare(window(), wantStack) !== 0) fail('end of run', 'the stack differs from the interpreter\'s');
        if (Buffer.compare(inputView(len), wantInput) !== 0) fail('end of run', 'the input differs from the interpreter\'s');
      }),
      { numRuns: EVENT_RUNS, seed: SEED },
    );
  }, 120_000);
});
