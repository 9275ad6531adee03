/**
 * Test harness for the interpreter: assembles a program and runs it on `Interpreter` with a hand-built
 * `ExecRequest`, so each test controls the memory layout, the regions (writable or not), the packet, the
 * helpers and the budget exactly.
 *
 * Layout of the 256 KiB test memory:
 *
 *     0x10000  stack (STACK_SIZE bytes)       STACK_BASE
 *     0x20000  input region (writable unless told otherwise); also the packet by default
 *     0x30000  a 64-byte read-only region ("rodata"), filled with 0xa0, 0xa1, ...
 */

import { STACK_SIZE, type ExecRequest, type HelperTable, type Region } from '../../src/exec.js';
import { assemble } from '../../src/isa/asm.js';
import { Interpreter } from '../../src/interp/interpreter.js';

export const STACK_BASE = 0x10000;
export const INPUT = 0x20000;
export const RODATA = 0x30000;
export const RODATA_SIZE = 64;
/** r10 at entry. */
export const FP = STACK_BASE + STACK_SIZE;

export interface RunOptions {
  readonly input?: Uint8Array;
  /** Input region writable (default true). */
  readonly writable?: boolean;
  readonly helpers?: HelperTable;
  readonly budget?: number;
  /** The packet for legacy loads: default the input; `null` for none. */
  readonly packet?: { start: number; length: number } | null;
  /** r1..r5; default [INPUT, input length] when there is an input, else []. */
  readonly args?: readonly bigint[];
  /** Count instructions (runs `runCounting`). */
  readonly counting?: boolean;
  /** Memory to use (default: one 4-page memory shared by all runs; each run re-initializes what it can access). */
  readonly memory?: WebAssembly.Memory;
}

export interface RunOutcome {
  readonly r0: bigint;
  /** The input region after the run. */
  readonly mem: Uint8Array;
  /** Instructions executed (counting runs only). */
  readonly steps?: number;
}

let shared: WebAssembly.Memory | undefined;

/** Builds the request `run` uses (exported for tests that drive the interpreter themselves). */
export function makeRequest(options: RunOptions = {}): ExecRequest {
  const memory = options.memory ?? (shared ??= new WebAssembly.Memory({ initial: 4, maximum: 1024 }));
  const u8 = new Uint8Array(memory.buffer);
  u8.fill(0, STACK_BASE, STACK_BASE + STACK_SIZE);
  const input = options.input ?? new Uint8Array(0);
  u8.fill(0, INPUT, RODATA);
  u8.set(input, INPUT);
  for (let i = 0; i < RODATA_SIZE; i++) u8[RODATA + i] = 0xa0 + i;
  const regions: Region[] = [{ start: RODATA, end: RODATA + RODATA_SIZE, writable: false, name: 'rodata' }];
  if (input.length > 0) regions.unshift({ start: INPUT, end: INPUT + input.length, writable: options.writable ?? true, name: 'input' });
  const packet = options.packet === null ? undefined : options.packet ?? (input.length > 0 ? { start: INPUT, length: input.length } : undefined);
  return {
    memory,
    stackBase: STACK_BASE,
    regions,
    args: options.args ?? (input.length > 0 ? [BigInt(INPUT), BigInt(input.length)] : []),
    helpers: options.helpers ?? new Map(),
    budget: options.budget,
    packet,
  };
}

/** Runs `program` (assembly text or an Interpreter) once. */
export function run(program: string | Interpreter, options: RunOptions = {}): RunOutcome {
  const interp = typeof program === 'string' ? new Interpreter(assemble(program)) : program;
  const req = makeRequest(options);
  const len = options.input?.length ?? 0;
  if (options.counting) {
    const { r0, steps } = interp.runCounting(req);
    return { r0, steps, mem: new Uint8Array(req.memory.buffer, INPUT, len).slice() };
  }
  const r0 = interp.run(req);
  return { r0, mem: new Uint8Array(req.memory.buffer, INPUT, len).slice() };
}

/** Runs `program` and returns the thrown error (fails the test if it does not throw). */
export function runError(program: string | Interpreter, options: RunOptions = {}): unknown {
  try {
    run(program, options);
  } catch (e) {
    return e;
  }
  throw new Error('expected the run to fail');
}

/** `lddw` of a u64 as assembly text. */
export function lddw(reg: number, value: bigint): string {
  return `lddw %r${reg}, 0x${BigInt.asUintN(64, value).toString(16)}`;
}

/** Interesting 64-bit values: zero, ones, sign boundaries, 32-bit boundaries, small negatives. */
export const EDGE_VALUES: readonly bigint[] = [
  0n, 1n, 2n, 3n, 7n, 0x7fn, 0x80n, 0xffn, 0x7fffn, 0x8000n, 0xffffn,
  0x7fff_ffffn, 0x8000_0000n, 0xffff_ffffn, 0x1_0000_0000n, 0x1_0000_0001n,
  0x7fff_ffff_ffff_ffffn, 0x8000_0000_0000_0000n, 0xffff_ffff_ffff_ffffn, 0xffff_ffff_ffff_fffen,
  0xffff_ffff_8000_0000n, 0x0123_4567_89ab_cdefn, 0xfedc_ba98_7654_3210n, 0x0000_0001_ffff_ffffn,
];

/** Interesting 32-bit immediates (as signed numbers). */
export const EDGE_IMMS: readonly number[] = [0, 1, -1, 2, -2, 7, 31, 32, 33, 63, 64, 0x7fff_ffff, -0x8000_0000, 0x1234_5678, -0x1234_5678, 0xffff, 0x10000];
