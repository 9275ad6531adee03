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
import { wasmHelperOf, writesMemory, type HelperTable, type WasmHelper } from '../src/exec.js';
import type { Program } from '../src/isa/program.js';
import { JitExecutable, type CompiledJit, type Variant } from './host.js';
import { translate, translateSync, type TranslateOptions } from './translate.js';

export { DEFAULT_PASSES, KNOWN_PASSES, emitWat, translate, type CompileStats, type TranslateOptions, type TranslateResult } from './translate.js';
export { JitExecutable, type CompiledJit, type Variant } from './host.js';

/** What compiling for a runtime needs: the memory the program will run on and the helpers it may call. */
export interface CompileContext {
  readonly memory: WebAssembly.Memory;
  readonly helpers: HelperTable;
}

/** Translation options a caller of {@link compileForRuntime} may set (the rest follow from the context). */
export type CompileOptions = Pick<TranslateOptions, 'proven' | 'passes' | 'optimizeLevel' | 'validate' | 'controlFlow' | 'packetContext' | 'arrays'>;

/**
 * Compiles `program` for a runtime's memory: checks its static helper ids against `ctx.helpers` (an unknown
 * id is a load-time error), translates it (helpers with a WebAssembly form, `wasmHelperOf`, are called as such), compiles the module with V8, and returns an `Executable` whose runs
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
  // Helpers with a WebAssembly form (the map helpers) are imported as such: their calls never leave Wasm.
  const wasmHelpers = new Map<number, WasmHelper>();
  // JS helpers declared to write no memory leave the stack clean (src/exec.ts, `withoutMemoryWrites`).
  const readOnlyHelpers = new Set<number>();
  for (const insn of program.insns) {
    if (insn.kind !== 'call' || insn.target.kind !== 'helper') continue;
    const f = ctx.helpers.get(insn.target.id);
    const w = wasmHelperOf(f);
    if (w !== undefined) wasmHelpers.set(insn.target.id, w);
    else if (!writesMemory(f)) readOnlyHelpers.add(insn.target.id);
  }
  const topts: TranslateOptions = { validate: false, ...options, shared, wasmHelpers, readOnlyHelpers };
  // The common variant now (no budget; at most REGION_SLOTS regions): translating it also checks the program.
  // V8 compiles it when a run first needs it: a first run with a budget compiles only the budget variant.
  const first: Variant = { budget: false, regionChecks: 'slots' };
  const t = await translate(program, { ...topts, ...first });
  return new JitExecutable(
    ctx.memory,
    {
      build: (variant) => compileModule(translateSync(program, { ...topts, ...variant }).wasm),
      helperIds: t.helperIds,
      wasmHelpers,
      stats: t.stats,
      ...(options.packetContext ? { packetContext: options.packetContext } : {}),
    },
    { variant: first, wasm: t.wasm, compile: compileModule },
  );
}

/**
 * A JIT executable on `memory` from modules compiled elsewhere (another thread's {@link JitExecutable.compiled}),
 * bound to `helpers`, this thread's table: the WebAssembly helpers the modules import are taken from it (a worker
 * passes its own map module's exports). No translation: a run that needs a variant that was not compiled fails
 * with an `InternalError` naming it.
 *
 * @throws InvalidProgramError (`unknown_helper`) when `helpers` lacks a helper the modules import;
 *   InternalError when one of them has no WebAssembly form here.
 */
export function jitFromCompiled(memory: WebAssembly.Memory, helpers: HelperTable, compiled: CompiledJit): JitExecutable {
  for (const id of [...compiled.helperIds, ...compiled.wasmHelperIds]) {
    if (!helpers.has(id)) throw new InvalidProgramError('unknown_helper', `call to unknown helper ${id}`);
  }
  const wasmHelpers = new Map<number, WasmHelper>();
  for (const id of compiled.wasmHelperIds) {
    const w = wasmHelperOf(helpers.get(id));
    if (w === undefined) throw new InternalError(`helper ${id} was compiled as a WebAssembly call, but this thread's helper ${id} has no WebAssembly form`);
    wasmHelpers.set(id, w);
  }
  const modules = new Map(compiled.modules.map((m) => [variantKey(m.variant), m.module]));
  return new JitExecutable(memory, {
    build: (variant) => {
      const m = modules.get(variantKey(variant));
      if (m === undefined) throw new InternalError(`the ${variant.budget ? 'budget' : 'no-budget'} / ${variant.regionChecks} variant of this program was not compiled for this thread`);
      return m;
    },
    helperIds: compiled.helperIds,
    wasmHelpers,
    stats: compiled.stats,
    ...(compiled.packetContext ? { packetContext: compiled.packetContext } : {}),
  });
}

const variantKey = (v: Variant): string => `${v.budget}/${v.regionChecks}`;

function compileModule(bytes: Uint8Array): WebAssembly.Module {
  try {
    return new WebAssembly.Module(bytes);
  } catch (e) {
    throw new InternalError(`V8 rejected the generated module: ${e instanceof Error ? e.message : String(e)}`, undefined, { cause: e });
  }
}

