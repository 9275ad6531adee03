/**
 * Test harness for the JIT: runs a program on the JIT and on the interpreter (the oracle) against identical
 * fresh memories and compares everything observable: r0 or the fault (code and pc), and every byte of the
 * stack and the regions afterwards.
 *
 * Layout of each test memory: the stack at {@link STACK}, the input (r1, r2, and the packet) at {@link INPUT},
 * optional extra regions wherever a test puts them (below {@link MEM_END}).
 *
 * Not here: random programs (test/diff is the differential fuzzer), conformance (test/conformance).
 */

import { expect } from 'vitest';
import { compileForRuntime, type CompileOptions } from '../../codegen/compile.js';
import { ExecutionError, InvalidProgramError } from '../../src/errors.js';
import { STACK_SIZE, type ExecRequest, type Executable, type HelperTable, type Region } from '../../src/exec.js';
import { Interpreter } from '../../src/interp/interpreter.js';
import { assemble } from '../../src/isa/asm.js';
import type { Program } from '../../src/isa/program.js';

export const STACK = 0x20000;
export const INPUT = 0x30000;
export const EXTRA = 0x40000;
export const MEM_END = 0x50000;
const PAGES = MEM_END / 0x10000 + 1;

/** What one run did. */
export type Outcome =
  | { readonly kind: 'ok'; readonly r0: bigint; readonly input: Uint8Array }
  | { readonly kind: 'fault'; readonly code: string; readonly pc: number; readonly message: string }
  | { readonly kind: 'rejected'; readonly code: string; readonly pc: number | undefined };

/** How to run a program. */
export interface RunOptions {
  /** Copied to {@link INPUT}; r1 = its address (0 when absent), r2 = its length; also the packet. */
  readonly input?: Uint8Array | readonly number[];
  /** Whether the input region is writable. Default true. */
  readonly writable?: boolean;
  /** Regions besides the input, with their initial bytes. */
  readonly extra?: readonly (Region & { readonly bytes?: Uint8Array })[];
  /** r1..r5 instead of the input pointer and length. */
  readonly args?: readonly bigint[];
  readonly budget?: number;
  readonly helpers?: HelperTable;
  /** Options for the JIT's compile (e.g. `proven`). */
  readonly jit?: CompileOptions;
  /** A shared memory. Default false. */
  readonly shared?: boolean;
}

/** A program from assembly text or as is. */
export function prog(p: string | Program): Program {
  return typeof p === 'string' ? assemble(p) : p;
}

function setup(options: RunOptions): { memory: WebAssembly.Memory; req: ExecRequest } {
  const memory = new WebAssembly.Memory({ initial: PAGES, maximum: PAGES + 16, shared: options.shared ?? false });
  const bytes = new Uint8Array(memory.buffer);
  const input = options.input === undefined ? undefined : Uint8Array.from(options.input);
  const regions: Region[] = [];
  if (input !== undefined && input.length > 0) {
    bytes.set(input, INPUT);
    regions.push({ start: INPUT, end: INPUT + input.length, writable: options.writable ?? true, name: 'input' });
  }
  for (const r of options.extra ?? []) {
    if (r.bytes) bytes.set(r.bytes, r.start);
    regions.push({ start: r.start, end: r.end, writable: r.writable, name: r.name });
  }
  const len = input?.length ?? 0;
  const req: ExecRequest = {
    memory,
    stackBase: STACK,
    regions,
    args: options.args ?? [len > 0 ? BigInt(INPUT) : 0n, BigInt(len)],
    helpers: options.helpers ?? new Map(),
    budget: options.budget,
    packet: len > 0 ? { start: INPUT, length: len } : undefined,
  };
  return { memory, req };
}

function execute(exe: Executable, req: ExecRequest, inputLen: number): Outcome {
  try {
    const r0 = exe.run(req);
    return { kind: 'ok', r0, input: new Uint8Array(req.memory.buffer, INPUT, inputLen).slice() };
  } catch (e) {
    if (e instanceof ExecutionError) return { kind: 'fault', code: e.code, pc: e.pc ?? -1, message: e.message };
    throw e;
  }
}

/** Runs on the JIT only; also returns the memory for inspection. */
export async function runJit(p: string | Program, options: RunOptions = {}): Promise<Outcome & { readonly memory: WebAssembly.Memory }> {
  const { memory, req } = setup(options);
  let exe: Executable;
  try {
    exe = await compileForRuntime(prog(p), { memory, helpers: req.helpers }, options.jit);
  } catch (e) {
    if (e instanceof InvalidProgramError) return { kind: 'rejected', code: e.code, pc: e.pc, memory };
    throw e;
  }
  return { ...execute(exe, req, options.input?.length ?? 0), memory };
}

/** Runs on the interpreter only. */
export function runInterp(p: string | Program, options: RunOptions = {}): Outcome & { readonly memory: WebAssembly.Memory } {
  const { memory, req } = setup(options);
  let exe: Executable;
  try {
    exe = new Interpreter(prog(p));
  } catch (e) {
    if (e instanceof InvalidProgramError) return { kind: 'rejected', code: e.code, pc: e.pc, memory };
    throw e;
  }
  return { ...execute(exe, req, options.input?.length ?? 0), memory };
}

/** What the comparison looks at: the outcome without messages, and the stack and data bytes. */
function observable(o: Outcome & { readonly memory: WebAssembly.Memory }): unknown {
  const window = Buffer.from(new Uint8Array(o.memory.buffer, STACK, MEM_END - STACK)).toString('hex');
  switch (o.kind) {
    case 'ok': return { kind: 'ok', r0: '0x' + o.r0.toString(16), window };
    case 'fault': return { kind: 'fault', code: o.code, pc: o.pc, window };
    case 'rejected': return { kind: 'rejected', code: o.code };
  }
}

/**
 * Runs on both engines, expects them to agree on everything observable, and returns the JIT's outcome.
 * (A load-time rejection by the JIT of something the interpreter rejects only when executed, `unknown_helper`,
 * is the one allowed difference: `Runtime.load` rejects those before either engine sees them.)
 */
export async function runBoth(p: string | Program, options: RunOptions = {}): Promise<Outcome> {
  const program = prog(p);
  const jit = await runJit(program, options);
  const interp = runInterp(program, options);
  expect(observable(jit)).toEqual(observable(interp));
  return jit;
}

/** Runs on both engines and returns r0 (failing the test on a fault). */
export async function r0Of(p: string | Program, options: RunOptions = {}): Promise<bigint> {
  const o = await runBoth(p, options);
  if (o.kind !== 'ok') throw new Error(`expected a result, got ${JSON.stringify({ ...o, input: undefined })}`);
  return o.r0;
}

/** Runs on both engines and returns the fault (failing the test when there is none). */
export async function faultOf(p: string | Program, options: RunOptions = {}): Promise<{ code: string; pc: number }> {
  const o = await runBoth(p, options);
  if (o.kind !== 'fault') throw new Error(`expected a fault, got ${o.kind === 'ok' ? 'r0 = 0x' + o.r0.toString(16) : o.kind}`);
  return { code: o.code, pc: o.pc };
}

/** u64 of a signed value, for expected results written naturally. */
export const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);

/** The stack size, re-exported for tests that compute addresses. */
export { STACK_SIZE };
