/**
 * The engine list: every engine that can run a {@link Program} against a runtime's memory. Tests, the CLI and
 * the benchmarks iterate over {@link ENGINES} rather than naming engines, so a new engine joins every suite.
 *
 * The JIT is imported lazily: loading Binaryen costs about 0.3 s, and paths that only interpret (the
 * conformance plugin with --interpret) must not pay for it.
 */

import type { CompiledJit } from '../codegen/host.js';
import type { PacketContext } from '../src/packet.js';
import type { ArrayLayout } from '../codegen/frame.js';
import type { Executable, HelperTable } from '../src/exec.js';
import type { Program } from '../src/isa/program.js';
import { Interpreter } from '../src/interp/interpreter.js';
import { StepperExecutable } from '../src/debug/stepper.js';

/**
 * Names of the engines. `step` is the stepper (src/debug/stepper.ts): a deliberately simple instruction-at-a-time
 * engine for debugging and as an extra oracle, some fifty times slower than the interpreter.
 */
export type EngineName = 'interp' | 'jit' | 'step';

/**
 * The engines suites run, in order (the interpreter, the reference, first). The stepper is not among them: it is
 * too slow for every suite: the conformance test runs it (ALL_ENGINES), and test/debug against the interpreter.
 */
export const ENGINES: readonly EngineName[] = ['interp', 'jit'];

/** Every engine name, the stepper included (for CLI choices). */
export const ALL_ENGINES: readonly EngineName[] = ['interp', 'jit', 'step'];

/** What an engine needs to prepare a program. */
export interface PrepareContext {
  readonly memory: WebAssembly.Memory;
  readonly helpers: HelperTable;
  /** Memory accesses the verifier proved in bounds (src/verifier): the JIT drops their checks. */
  readonly proven?: ReadonlySet<number>;
  /** JIT only: modules another thread compiled for this program (codegen/host.ts, `CompiledJit`): no translation. */
  readonly compiled?: CompiledJit;
  /** JIT only: compile the packet entries for this context (codegen/host.ts, `PacketContext`). */
  readonly packetContext?: PacketContext;
  /** JIT only: array maps whose lookups may be inlined, by handle (codegen/frame.ts, `ArrayLayout`). */
  readonly arrays?: ReadonlyMap<bigint, ArrayLayout>;
}

/**
 * Prepares `program` on `engine`: pre-decodes it (interpreter), compiles and instantiates it (JIT), or checks it
 * (stepper, which runs the instructions as they are).
 */
export async function prepareEngine(engine: EngineName, program: Program, ctx: PrepareContext): Promise<Executable> {
  switch (engine) {
    case 'interp':
      return new Interpreter(program);
    case 'step':
      return new StepperExecutable(program);
    case 'jit': {
      const { compileForRuntime, jitFromCompiled } = await import('../codegen/compile.js');
      if (ctx.compiled !== undefined) return jitFromCompiled(ctx.memory, ctx.helpers, ctx.compiled);
      return compileForRuntime(program, ctx, {
        ...(ctx.proven !== undefined ? { proven: ctx.proven } : {}),
        ...(ctx.packetContext !== undefined ? { packetContext: ctx.packetContext } : {}),
        ...(ctx.arrays !== undefined ? { arrays: ctx.arrays } : {}),
      });
    }
  }
}
