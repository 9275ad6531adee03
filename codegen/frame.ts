/**
 * The ABI of a generated module: what the translator and the JS host (host.ts) must agree on.
 *
 * - Locals of every eBPF function's Wasm function (one per eBPF function, RFC 9669 section 4.3.1 "local calls").
 * - Globals holding the per-run state (stack, region slots or caches, budget, packet, the r1..r5 a local call
 *   leaves behind).
 * - The imports (fault, region miss, helpers, callx, packet abort) and the exported entry `run`.
 * - {@link FnContext}: what a lowering function gets to read and write registers and raise faults.
 *
 * Register model: eBPF r0..r9 are i64 locals (params of every function, so a callee starts from its caller's
 * registers exactly as in the interpreter's single register file); r10 is the frame pointer, kept as the i32
 * param `fp`. A function that writes r10 (the decoder allows it; the verifier will not) keeps it in an extra i64
 * local instead and loses the unchecked stack path. r6..r9 survive local calls by construction: they are the
 * caller's own locals.
 *
 * Not here: the lowering of instructions (lower-*.ts), control flow (relooper.ts), the JS side (host.ts).
 */

import { InternalError, type ExecutionErrorCode } from '../src/errors.js';
import type { Reg } from '../src/isa/insn.js';
import type { Program } from '../src/isa/program.js';
import type { Expr, ValType, WasmBuilder } from './binaryen.js';

// --- locals ------------------------------------------------------------------------------------------------------

/** i32 param: this frame's r10, the top of its 512-byte frame (`frameTop(stackBase, depth)` of src/exec.ts). */
export const L_FP = 0;
/** Local of eBPF register r0..r9 (i64 params 1..10). */
export function regLocal(r: Reg): number {
  return 1 + r;
}
/** i64: r10, only in functions that write it. */
export const L_R10 = 11;
/** i64: the address of the memory access being checked. */
export const L_ADDR = 12;
/** i64: scratch (byte swaps). */
export const L_TMP = 13;
/** i64: first byte of this execution's stack (a copy of the `stack_lo` global, for tight loops). */
export const L_STACK_LO = 14;
/** i32: the Relooper's label helper (dispatch for irreducible control flow). */
export const L_LABEL = 15;

/** Params of every eBPF function: fp, r0..r9. */
export const FN_PARAMS: readonly ValType[] = ['i32', 'i64', 'i64', 'i64', 'i64', 'i64', 'i64', 'i64', 'i64', 'i64', 'i64'];
/** Vars of every eBPF function, from index {@link L_R10} on. */
export const FN_VARS: readonly ValType[] = ['i64', 'i64', 'i64', 'i64', 'i32'];

/** Names of the locals, for the text form. */
export const FN_LOCAL_NAMES: readonly string[] = ['fp', 'r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9', 'r10', 'addr', 'tmp', 'stack_lo', 'label'];

/** Wasm name of the eBPF function starting at slot `pc`. */
export function fnName(pc: number): string {
  return `f${pc}`;
}

// --- globals -----------------------------------------------------------------------------------------------------

/**
 * Regions passed to a run in globals: up to this many for loads (every region) and as many for stores (the
 * writable ones). A run with more regions uses the `cache` variant of the checks (see {@link RegionChecks}),
 * which handles any number through the JS host.
 */
export const REGION_SLOTS = 4;

/** Access sizes, for the per-size spans of a region slot. */
export const ACCESS_SIZES = [1, 2, 4, 8] as const;

/** Global names. All are mutable and internal; `run` sets them from its params. */
export const G = {
  /** i64: first byte of this execution's stack. */
  stackLo: 'stack_lo',
  /**
   * Region slots (i64), for loads (`rd`: every region) and stores (`wr`: the writable ones): start `lo`, length
   * `len`, and for each access size the number of addresses an access of that size may start at,
   * `span(size) = max(0, len - size + 1)`. An access of `size` bytes at `a` is in slot k iff
   * `a - lo_k <u span_k(size)`: one compare, exact (a span of 0 matches nothing: an unused slot is all zeros).
   */
  rdLo: (k: number): string => `rd${k}_lo`,
  rdLen: (k: number): string => `rd${k}_len`,
  rdSpan: (k: number, size: number): string => `rd${k}_span${size}`,
  wrLo: (k: number): string => `wr${k}_lo`,
  wrLen: (k: number): string => `wr${k}_len`,
  wrSpan: (k: number, size: number): string => `wr${k}_span${size}`,
  /**
   * `cache` variant only: the last region a load (`rdc`) / store (`wrc`) found, as `[lo, lo + len)`.
   * Invariant: `len >= 8`, so `len - size` never wraps; both start as the stack itself.
   */
  rdcLo: 'rdc_lo',
  rdcLen: 'rdc_len',
  wrcLo: 'wrc_lo',
  wrcLen: 'wrc_len',
  /** i64: remaining budget (taken back-edges + local calls), only in the budget variant. */
  budget: 'budget',
  /** i64: the packet legacy loads read (length 0 when there is none). */
  pktLo: 'pkt_lo',
  pktLen: 'pkt_len',
  /** i64: r1..r5 as a callee left them at `exit`, read back by the caller (the interpreter shares them). */
  ret: (r: 1 | 2 | 3 | 4 | 5): string => `ret${r}`,
} as const;

// --- imports and internal functions ------------------------------------------------------------------------------

/** Import and internal function names. */
export const F = {
  /** import `(code i32, pc i32, addr i64, size i32)`: throws the ExecutionError; never returns (`addr`: the
   * faulting address, or the BTF id of an unsupported kernel-function call). */
  fault: 'fault',
  /**
   * import `(addr i64, size i32, write i32, pc i32)`: checks the access against every region and throws the
   * fault (`out_of_bounds` / `read_only`). In the `slots` variant it is only called for accesses that fail
   * every check, and never returns; in the `cache` variant it returns for allowed accesses beyond the slots.
   */
  memMiss: 'mem_miss',
  /** import `(pc i32)`: a legacy packet load out of bounds; throws so the run ends with r0 = 0. */
  pktAbort: 'pkt_abort',
  /** import `(pc i32, id i64, r1..r5 i64) -> i64`: helper call through a register. */
  callx: 'callx',
  /** internal, `cache` variant: `(addr i64, size i64, write i32, pc i32)`, the slot search behind the caches. */
  memSlow: 'mem_slow',
  /** export: the entry, see {@link ENTRY_PARAMS}. */
  run: 'run',
} as const;

/** Import name of helper `id` (`(pc i32, r1..r5 i64) -> i64`). */
export function helperImport(id: number): string {
  return `helper_${id >>> 0}`;
}
/** Params of a helper import. */
export const HELPER_PARAMS: readonly ValType[] = ['i32', 'i64', 'i64', 'i64', 'i64', 'i64'];

/**
 * Params of the exported `run`, in order: stackBase, budget, packet start and length, then `lo, len` of each
 * load slot and of each store slot ({@link REGION_SLOTS} each, `0, 0` when unused), then r1..r5. Returns r0.
 */
export const ENTRY_PARAMS: readonly ValType[] = [
  'i32', 'i64', 'i32', 'i32',
  ...Array.from({ length: 4 * REGION_SLOTS }, () => 'i32' as const),
  'i64', 'i64', 'i64', 'i64', 'i64',
];
/** Index in {@link ENTRY_PARAMS} of the first load slot, the first store slot, and r1. */
export const ENTRY_RD_AT = 4;
export const ENTRY_WR_AT = ENTRY_RD_AT + 2 * REGION_SLOTS;
export const ENTRY_ARGS_AT = ENTRY_WR_AT + 2 * REGION_SLOTS;

/** Faults raised through the `fault` import, by number. (`out_of_bounds`/`read_only` come from `mem_miss`.) */
export const FAULT_CODES = ['misaligned_atomic', 'budget_exceeded', 'call_depth', 'fell_off_end', 'unknown_helper'] as const satisfies readonly ExecutionErrorCode[];
export type FaultCode = (typeof FAULT_CODES)[number];

// --- the lowering context ----------------------------------------------------------------------------------------

/**
 * How functions get structured control flow: `auto` (structure.ts for reducible CFGs; Binaryen's Relooper for
 * small irreducible ones; a dispatch loop for large irreducible ones), or one strategy for every function
 * (`relooper` and `dispatch` handle any CFG; for tests).
 */
export type ControlFlow = 'auto' | 'relooper' | 'dispatch';

/**
 * How unproven memory accesses are checked (lower-mem.ts):
 * - `slots`: inline compares against each region slot, then the stack; a miss is always a fault. No call can
 *   return into the code, which keeps V8's register allocation of loops intact (2.5x faster than `cache` on a
 *   byte loop). For runs with at most {@link REGION_SLOTS} regions.
 * - `cache`: the stack, then a one-entry cache per access kind; a miss calls `mem_slow`, which may return.
 *   Any number of regions.
 */
export type RegionChecks = 'slots' | 'cache';

/** Translation options the lowering reads. */
export interface LowerOptions {
  /** How memory accesses are checked. */
  readonly regionChecks: RegionChecks;
  /** Emit budget counting at taken back-edges and local calls. */
  readonly budget: boolean;
  /** Memory accesses at these pcs are proven in bounds (by the verifier): no run-time check. */
  readonly proven: (pc: number) => boolean;
  /** How to structure control flow (see {@link ControlFlow}). */
  readonly controlFlow: ControlFlow;
}

/** What lowering one eBPF function needs: the builder, register access, faults. */
export class FnContext {
  constructor(
    readonly b: WasmBuilder,
    readonly program: Program,
    readonly options: LowerOptions,
    /** Entry slot of this function. */
    readonly entry: number,
    /** Whether some instruction of this function writes r10 (then r10 is an ordinary local). */
    readonly r10Written: boolean,
    /** Whether this function is a local-call target (its exits publish r1..r5). */
    readonly isCallee: boolean,
  ) {}

  /** Register `r` as i64. */
  get(r: Reg): Expr {
    const b = this.b;
    if (r === 10) return this.r10Written ? b.getLocal(L_R10, 'i64') : b.i64.extend_u(b.getLocal(L_FP, 'i32'));
    return b.getLocal(regLocal(r), 'i64');
  }

  /** The low 32 bits of register `r`, as i32. */
  get32(r: Reg): Expr {
    if (r === 10 && !this.r10Written) return this.b.getLocal(L_FP, 'i32');
    return this.b.i32.wrap(this.get(r));
  }

  /** `r = value` (i64). */
  set(r: Reg, value: Expr): Expr {
    if (r === 10) {
      if (!this.r10Written) throw new InternalError('r10 written in a function not marked as writing it');
      return this.b.setLocal(L_R10, value);
    }
    return this.b.setLocal(regLocal(r), value);
  }

  /** `r = zext(value)` for an i32 value (32-bit ALU results, RFC 9669 section 4.1). */
  set32(r: Reg, value: Expr): Expr {
    return this.set(r, this.b.i64.extend_u(value));
  }

  /**
   * A fault: calls the `fault` import (which throws) and is `unreachable` afterwards, so it can stand wherever a
   * value or statement is expected.
   *
   *     (call $fault (i32.const code) (i32.const pc) (addr) (i32.const size)) (unreachable)
   */
  fault(code: FaultCode, pc: number, addr?: Expr, size = 0): Expr {
    const b = this.b;
    return b.block([
      b.call(F.fault, [b.i32.const(FAULT_CODES.indexOf(code)), b.i32.const(pc), addr ?? b.i64.const(0n), b.i32.const(size)], 'none'),
      b.unreachable(),
    ]);
  }
}
