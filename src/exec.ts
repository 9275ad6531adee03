/**
 * The execution contract shared by both engines (interpreter and JIT): what one run of a program is given,
 * which memory it may touch, how helpers are called and how a run ends.
 *
 * Both engines take the same {@link ExecRequest} against the same `WebAssembly.Memory`, so their results (r0,
 * final memory, errors) can be compared byte for byte. The runtime (runtime/) builds requests; the engines only
 * read them.
 *
 * Memory model (ARCHITECTURE.md): an eBPF pointer is a linear-memory address. An access of `size` bytes at
 * `addr` is allowed iff `[addr, addr + size)` lies entirely inside one region: this execution's stack
 * (`[stackBase, stackBase + STACK_SIZE)`) or one of `regions`; a store also needs that region to be writable.
 * Anything else ends the run with `ExecutionError('out_of_bounds' | 'read_only', pc)`.
 *
 * Not here: the memory layout and allocation (runtime/), maps, the helper implementations.
 */

import { InternalError } from './errors.js';

/** Bytes of stack per eBPF function frame (Linux's MAX_BPF_STACK). */
export const STACK_FRAME_SIZE = 512;
/** Maximum call depth, frames included the entry function (Linux's MAX_CALL_FRAMES). */
export const MAX_CALL_DEPTH = 8;
/** Bytes of stack per execution: one frame per possible call level. */
export const STACK_SIZE = STACK_FRAME_SIZE * MAX_CALL_DEPTH;
/** The low memory never handed out, so NULL and small integers are never valid pointers. */
export const RESERVED_LOW = 0x10000;

/** A span of linear memory a program may access. */
export interface Region {
  /** First byte (inclusive). */
  readonly start: number;
  /** One past the last byte. */
  readonly end: number;
  readonly writable: boolean;
  /** For error messages: `input`, `packet`, `map value`, ... */
  readonly name: string;
}

/** What a helper sees besides its five arguments. */
export interface HelperEnv {
  /** The runtime's memory (read `.buffer` afresh: a helper may grow it). */
  readonly memory: WebAssembly.Memory;
  /** Slot of the `call` instruction. */
  readonly pc: number;
  /**
   * The running execution's request, so a helper can check pointer arguments against its stack and regions
   * (the map helpers of runtime/maps refuse to run without it). Engines should always pass it.
   */
  readonly request?: ExecRequest;
  /**
   * Ends the whole program with `r0` without an exception, where the engine supports it (the JIT): the helper
   * must `return env.unwind(r0)` at once. Otherwise a helper throws {@link UnwindSignal}, which every engine
   * understands but which costs microseconds when it crosses compiled code.
   */
  readonly unwind?: (r0: bigint) => bigint;
}

/**
 * A helper function: receives r1..r5 as unsigned 64-bit `bigint`s and returns the new r0 (truncated to 64 bits).
 * It may throw {@link UnwindSignal} to end the whole program at once, or an `ExecutionError` to fault it.
 */
export type HelperFn = (r1: bigint, r2: bigint, r3: bigint, r4: bigint, r5: bigint, env: HelperEnv) => bigint;

/** Helper functions by id (Linux UAPI numbering for the standard ones). */
export type HelperTable = ReadonlyMap<number, HelperFn>;

/**
 * A pointer argument the engine checks before calling a {@link WasmHelper}: `[r<reg>, r<reg> + size)` must be
 * readable (or, with `write`, writable) memory of the execution, `size` being the key or value size of the map
 * in r1 as the helper's own `keySize` / `valueSize` give it (a negative size, for a bad map handle, checks
 * nothing: the helper then fails without touching memory).
 */
export interface WasmArgCheck {
  readonly reg: 1 | 2 | 3 | 4 | 5;
  readonly size: 'key' | 'value';
  readonly write: boolean;
}

/** What a translator needs to know of a {@link WasmHelper} to call it: its arity and the checks of its pointers. */
export interface WasmHelperShape {
  /** Number of i64 parameters, taken from r1, r2, ... */
  readonly params: number;
  readonly checks: readonly WasmArgCheck[];
}

/**
 * A helper that is also a WebAssembly function (`(i64 × params) -> i64`, r0 = its result), which compiled code
 * may import and call without leaving WebAssembly: the map helpers (runtime/maps/helpers.ts), exported by the
 * map module. Engines that call helpers through JS keep calling the {@link HelperFn} it is attached to, which
 * must do the same checks and return the same result. The function may write the execution's memory only
 * through the pointers its `write` checks name (engines rely on it: a call without one leaves the stack as it
 * was).
 */
export interface WasmHelper extends WasmHelperShape {
  readonly fn: (...args: bigint[]) => bigint;
  /** `(map i64) -> i32` size functions the checks use. */
  readonly keySize?: (map: bigint) => number;
  readonly valueSize?: (map: bigint) => number;
}

const WASM_HELPER = Symbol('ebpf-wasm.wasmHelper');

/**
 * Attaches `wasm` to `f` (a function of the caller's own, which this marks) and returns it: engines that can call
 * WebAssembly directly use it (see {@link wasmHelperOf}). `wasm` may be a function giving the form on first
 * need (a helper whose implementation is set up lazily).
 */
export function withWasmHelper(f: HelperFn, wasm: WasmHelper | (() => WasmHelper | undefined)): HelperFn {
  if (typeof wasm !== 'function') checkWasmHelper(wasm);
  return Object.assign(f, { [WASM_HELPER]: wasm });
}

function checkWasmHelper(wasm: WasmHelper): WasmHelper {
  for (const c of wasm.checks) {
    if (c.reg > wasm.params) throw new RangeError(`check of r${c.reg} beyond the helper's ${wasm.params} parameters`);
    if ((c.size === 'key' ? wasm.keySize : wasm.valueSize) === undefined) throw new RangeError(`check of r${c.reg} needs a ${c.size} size function`);
  }
  return wasm;
}

/*
 * Helpers whose JS form is exactly their WebAssembly form behind its checks: for those an engine that calls
 * helpers through JS (the interpreter) may make the checks itself and call the form's function directly, with no
 * `HelperEnv`, no request and no JS form on the way. A check that fails must send the call to the JS form after
 * all, which then faults as it always has (same code, pc and message), so the declaration only has to hold for
 * calls whose checks pass. The declaration is the helper author's: a JS form may do more than its WebAssembly
 * form (count its calls, log, refuse), and then it is not declared. The map helpers (runtime/maps/helpers.ts) are.
 */
const EXACT = Symbol('ebpf-wasm.exactWasmForm');

/**
 * Declares that `f` (which carries a WebAssembly form, `withWasmHelper`) does nothing but the form's checks and
 * then return `BigInt.asUintN(64, form.fn(r1, .., r<params>))`: when every check passes (a size of 0 or less
 * passing too), calling the form instead of `f` gives the same r0, the same memory effects and the same errors.
 * Returns `f`.
 */
export function withExactWasmForm(f: HelperFn): HelperFn {
  return Object.assign(f, { [EXACT]: true });
}

/** Whether `f` was declared with {@link withExactWasmForm} (and has a WebAssembly form). */
export function hasExactWasmForm(f: HelperFn): boolean {
  return (f as { [EXACT]?: boolean })[EXACT] === true && wasmHelperOf(f) !== undefined;
}

const NO_WRITES = Symbol('ebpf-wasm.noMemoryWrites');

/**
 * Declares that helper `f` never writes the execution's memory (it may read what its pointer arguments point
 * at): a call to it then does not count as a write to the stack, which the packet path would otherwise clear
 * whole before the next run (filter.ts). `bpf_tail_call`, `bpf_ktime_get_ns` and `bpf_trace_printk` are such
 * helpers. A helper declared so that writes anyway may leave stack bytes a later run of the same path reads.
 * Returns `f`.
 */
export function withoutMemoryWrites(f: HelperFn): HelperFn {
  return Object.assign(f, { [NO_WRITES]: true });
}

/**
 * Whether a call to `f` may write the execution's memory: not when declared with {@link withoutMemoryWrites};
 * for a helper with a WebAssembly form, only through the pointers its checks mark `write`.
 */
export function writesMemory(f: HelperFn | undefined): boolean {
  if (f === undefined) return true;
  if ((f as { [NO_WRITES]?: boolean })[NO_WRITES] === true) return false;
  const form = wasmHelperOf(f);
  return form === undefined || form.checks.some((c) => c.write);
}

/** The WebAssembly form of a helper, if it has one. */
export function wasmHelperOf(f: HelperFn | undefined): WasmHelper | undefined {
  const w = f === undefined ? undefined : (f as { [WASM_HELPER]?: WasmHelper | (() => WasmHelper | undefined) })[WASM_HELPER];
  if (typeof w !== 'function') return w;
  const resolved = w();
  return resolved === undefined ? undefined : checkWasmHelper(resolved);
}

/**
 * Calling conventions, identical in both engines (the differential tests rely on them):
 * - helper call: r1..r5 are passed as arguments and are left unchanged afterwards; r0 receives the result.
 * - local (bpf-to-bpf) call: the callee starts with the caller's r0..r9 and a fresh frame (r10 =
 *   `frameTop(stackBase, depth + 1)`); on return the caller gets r0..r5 as the callee left them, while r6..r9 and
 *   r10 are restored to the caller's values. (Linux leaves r1..r5 undefined after a call; we define them.)
 */

/** Thrown by a helper to end the program immediately with the given r0 (the conformance suite's "unwind"). */
export class UnwindSignal {
  constructor(readonly r0: bigint) {}
}

/** One run of a program. */
export interface ExecRequest {
  readonly memory: WebAssembly.Memory;
  /** First byte of this execution's stack (STACK_SIZE bytes); frame r10 values come from {@link frameTop}. */
  readonly stackBase: number;
  /** Regions other than the stack that the program may access. */
  readonly regions: readonly Region[];
  /** Initial r1..r5 (missing ones are 0), as u64. */
  readonly args: readonly bigint[];
  readonly helpers: HelperTable;
  /**
   * Execution budget, identical in both engines: the number of taken backward jumps (loop iterations) plus
   * local calls a run may make. The jump or call that would exceed it ends the run with
   * `ExecutionError('budget_exceeded', pc)` at its pc. Straight-line code needs no budget, so this bounds every
   * run (at most `(budget + 1) * slotCount` instructions) while costing the JIT a check only at back-edges and
   * calls. Undefined: no budget.
   */
  readonly budget?: number;
  /** The packet legacy loads (LD_ABS/LD_IND) read, big-endian; an access outside it ends the program with r0 = 0. */
  readonly packet?: { readonly start: number; readonly length: number };
}

/**
 * r10 of the frame at call depth `depth` (0 = entry function). Frames are laid out from the top of the stack
 * down, so a callee's frame sits below its caller's, as on a native stack.
 */
export function frameTop(stackBase: number, depth: number): number {
  return stackBase + STACK_SIZE - depth * STACK_FRAME_SIZE;
}

/** Converts a number or bigint to the u64 bigint form registers use. */
export function u64(x: bigint | number): bigint {
  return BigInt.asUintN(64, typeof x === 'bigint' ? x : BigInt(x));
}

/** A program prepared by an engine (pre-decoded for the interpreter, compiled and instantiated for the JIT). */
export interface Executable {
  /** Runs once and returns r0 as u64. Throws `ExecutionError` on a fault; never leaves the memory regions. */
  run(req: ExecRequest): bigint;
}

/** Addresses from here up are no linear-memory address (and are exact as numbers below it). */
const ADDRESS_LIMIT = 2n ** 52n;

/**
 * Where an access of `size` bytes at `addr` (a register's value, any u64) falls for the execution `req`: `true`
 * when it lies wholly in the stack or in one region (a writable one for a `write`), the read-only region it lies
 * in when only read-only ones hold it (a write), else `undefined` (outside). The hosts' full region checks
 * (the JIT's slow path, the map helpers' pointer checks) phrase their faults from it.
 */
export function locateAccess(req: ExecRequest, addr: bigint, size: number, write: boolean): true | Region | undefined {
  const a = BigInt.asUintN(64, addr);
  if (a >= ADDRESS_LIMIT) return undefined;
  return locateSpan(req.stackBase, req.regions, Number(a), size, write);
}

/**
 * {@link locateAccess} on a number address `lo` (below {@link ADDRESS_LIMIT}), for an engine that keeps its stack
 * and regions apart from a request (the interpreter's exact helper calls).
 */
export function locateSpan(stackBase: number, regions: readonly Region[], lo: number, size: number, write: boolean): true | Region | undefined {
  const hi = lo + size;
  if (lo >= stackBase && hi <= stackBase + STACK_SIZE) return true;
  let readOnly: Region | undefined;
  for (const r of regions) {
    if (lo >= r.start && hi <= r.end) {
      if (!write || r.writable) return true;
      readOnly ??= r;
    }
  }
  return readOnly;
}

/**
 * Rejects a malformed request the same way in both engines (an `InternalError`: the host is at fault, not the
 * program): the stack, every region and the packet must lie inside the `size` bytes of memory, and the budget
 * must be a non-negative integer. The engines rely on it: an access that passes their region checks then never
 * reads or writes outside the memory.
 */
export function validateRequest(req: ExecRequest, size: number): void {
  const inMemory = (start: number, end: number): boolean =>
    Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= size;
  if (!inMemory(req.stackBase, req.stackBase + STACK_SIZE)) {
    throw new InternalError(`invalid request: stack at ${req.stackBase} is outside the ${size}-byte memory`);
  }
  for (const r of req.regions) {
    if (!inMemory(r.start, r.end)) throw new InternalError(`invalid request: region ${r.name} [${r.start}, ${r.end}) is outside the ${size}-byte memory`);
  }
  const packet = req.packet;
  if (packet && !(inMemory(packet.start, packet.start + packet.length) && packet.length <= 0x7fff_ffff)) {
    throw new InternalError(`invalid request: packet at ${packet.start} (+${packet.length}) is outside the ${size}-byte memory`);
  }
  const budget = req.budget;
  if (budget !== undefined && !(Number.isSafeInteger(budget) && budget >= 0)) {
    throw new InternalError(`invalid request: budget ${budget} is not a non-negative integer`);
  }
}

/** A thrown or returned value in words, for `helper_failed` messages (both engines word them alike). */
export function describeValue(x: unknown): string {
  if (x instanceof Error) return x.message;
  return typeof x === 'bigint' ? `${x}n` : `${typeof x} ${String(x)}`;
}
