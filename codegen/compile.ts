/**
 * The JIT's entry points: {@link compileForRuntime} (what `runtime/engines.ts` calls: translate, compile with
 * V8, wrap as an `Executable`), and re-exports of {@link translate} / {@link emitWat} for the CLI and tests.
 *
 * A program has up to four module variants (host.ts, `Variant`): with or without budget counting, and with the
 * `slots` or `cache` region checks. The first is translated here (which checks the program) and compiled by V8
 * when a run first needs it; the others are built only when a run first needs them, so runs without a budget
 * pay nothing for counting, and a program whose first run has a budget is compiled by V8 once.
 *
 * Not here: the translation itself (translate.ts), the run-time glue (host.ts).
 */

import { InternalError, InvalidProgramError } from '../src/errors.js';
import type { HelperTable } from '../src/exec.js';
import type { Program } from '../src/isa/program.js';
import { JitExecutable, type Variant } from './host.js';
import { translate, translateSync, type TranslateOptions } from './translate.js';

export { DEFAULT_PASSES, KNOWN_PASSES, emitWat, translate, type CompileStats, type TranslateOptions, type TranslateResult } from './translate.js';
export { JitExecutable, type Variant } from './host.js';

/** What compiling for a runtime needs: the memory the program will run on and the helpers it may call. */
export interface CompileContext {
  readonly memory: WebAssembly.Memory;
  readonly helpers: HelperTable;
}

/** Translation options a caller of {@link compileForRuntime} may set (the rest follow from the context). */
export type CompileOptions = Pick<TranslateOptions, 'proven' | 'passes' | 'optimizeLevel' | 'validate' | 'controlFlow'>;

/**
 * Compiles `program` for a runtime's memory: checks its static helper ids against `ctx.helpers` (an unknown
 * id is a load-time error), translates it, compiles the module with V8, and returns an `Executable` whose runs
 * behave exactly like the interpreter's.
 *
 * @throws InvalidProgramError (`unknown_helper`, or anything {@link translate} rejects).
 */
export async function compileForRuntime(program: Program, ctx: CompileContext, options: CompileOptions = {}): Promise<JitExecutable> {
  for (const insn of program.insns) {
    if (insn.kind === 'call' && insn.target.kind === 'helper' && !ctx.helpers.has(insn.target.id)) {
      throw new InvalidProgramError('unknown_helper', `call to unknown helper ${insn.target.id}`, insn.pc);
    }
  }
  const shared = typeof SharedArrayBuffer !== 'undefined' && ctx.memory.buffer instanceof SharedArrayBuffer;
  const topts: TranslateOptions = { validate: false, ...options, shared };
  // The common variant now (no budget; at most REGION_SLOTS regions): translating it also checks the program.
  // V8 compiles it when a run first needs it: a first run with a budget compiles only the budget variant.
  const first: Variant = { budget: false, regionChecks: 'slots' };
  const t = await translate(program, { ...topts, ...first });
  return new JitExecutable(
    ctx.memory,
    {
      build: (variant) => compileModule(translateSync(program, { ...topts, ...variant }).wasm),
      helperIds: t.helperIds,
      stats: t.stats,
    },
    { variant: first, wasm: t.wasm, compile: compileModule },
  );
}

function compileModule(bytes: Uint8Array): WebAssembly.Module {
  try {
    return new WebAssembly.Module(bytes);
  } catch (e) {
    throw new InternalError(`V8 rejected the generated module: ${e instanceof Error ? e.message : String(e)}`, undefined, { cause: e });
  }
}

