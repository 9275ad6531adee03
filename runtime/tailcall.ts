/**
 * Tail calls (`long bpf_tail_call(void *ctx, struct bpf_map *prog_array_map, u32 index)`, helper 12) and the
 * program slots PROG_ARRAY maps hold.
 *
 * A PROG_ARRAY value is a program SLOT id (a u32 the runtime hands out, see `Runtime.programSlot`); the slot
 * table maps it to a loaded program. Replacing the program of a slot, or the slot of an array index, swaps the
 * code every later tail call reaches while the maps keep their contents (hot swap).
 *
 * How a tail call runs, identically on both engines and without growing the JS or Wasm stack (a trampoline
 * returning to the host entry): the helper records the target in the run's {@link TailCallState} and ends the
 * caller (`HelperEnv.unwind`, or `UnwindSignal` where the engine has no unwind); the run's driver sees the
 * pending target and runs it in the same loop with r1 = ctx, the caller's other entry arguments, and a fresh
 * (zeroed) stack frame. So the callee replaces the caller: nothing after the call runs. As in Linux
 * (MAX_TAIL_CALL_CNT), at most 33 tail calls chain in one run; the 34th, like a call to an empty or
 * out-of-range slot, falls through: the helper returns a negative errno (-ENOENT for a missing program, -E2BIG
 * past the limit) and the caller continues.
 *
 * Two drivers: `runChain` (runtime.ts) for the general path (`LoadedProgram.run`, `BpfProgram.run` with an
 * explicit protocol), and the packet path's (filter.ts, `PacketPath.runChained`: each callee on a packet engine
 * of its own over the same packet and context, about 70 ns a hop on the JIT). Callbacks (helpers/callbacks.ts)
 * have no driver and refuse tail calls (`helper_failed`).
 *
 * Not here: the PROG_ARRAY map itself (maps/c), the driver loops.
 */

import { ExecutionError } from '../src/errors.js';
import { UnwindSignal, withoutMemoryWrites, type HelperFn } from '../src/exec.js';
import { ERRNO, type MapExports } from './maps/abi.js';

/** Linux's MAX_TAIL_CALL_CNT: tail calls one run may chain. */
export const MAX_TAIL_CALLS = 33;

/** The tail-call state of one run (a top-level `LoadedProgram.run`). */
export interface TailCallState<P> {
  /** Tail calls taken so far in this run. */
  count: number;
  /** The callee the last tail call asked for, for the driver to run next. */
  pending: { readonly program: P; readonly ctx: bigint } | undefined;
}

/** What the helper needs from the runtime. */
export interface TailCallHost<P> {
  /** The map module exports of this thread (for `prog_array_get`). */
  mapExports(): MapExports;
  /** The program in slot `slot`, if any. */
  programAt(slot: number): P | undefined;
  /** The state of the run in progress, or undefined outside a tail-call-capable run. */
  readonly tailState: TailCallState<P> | undefined;
}

const neg = (errno: number): bigint => BigInt.asUintN(64, BigInt(-errno));

/** `bpf_tail_call` (12) over `host` (see the file header). */
export function tailCallHelper<P>(host: TailCallHost<P>): HelperFn {
  // It writes no memory: a chain's programs keep their packet paths' stacks clean (src/exec.ts).
  return withoutMemoryWrites((ctx, map, index, _4, _5, env) => {
    const st = host.tailState;
    if (st === undefined) {
      // A run without a driver to take the callee (a callback; a packet path that did not see the helper's id
      // in the program, e.g. through callx): refuse loudly rather than end the program as if the callee had
      // returned 0.
      throw new ExecutionError('helper_failed', 'bpf_tail_call: this run has no tail-call driver (use LoadedProgram.run)', env.pc);
    }
    const slot = host.mapExports().prog_array_get(map, index & 0xffff_ffffn);
    if (slot < 0n) return BigInt.asUintN(64, slot);
    const program = host.programAt(Number(slot));
    if (program === undefined) return neg(ERRNO.ENOENT);
    if (st.count >= MAX_TAIL_CALLS) return neg(ERRNO.E2BIG);
    st.count++;
    st.pending = { program, ctx };
    // The caller ends here: without an exception where the engine can (the JIT), else by unwinding.
    if (env.unwind !== undefined) return env.unwind(0n);
    throw new UnwindSignal(0n);
  });
}

/** Program slots a runtime can number. */
const MAX_SLOTS = 1 << 20;

/** The program slots of a runtime: slot ids as PROG_ARRAY values, and the program each one runs. */
export class ProgramSlots<P extends object> {
  private readonly programs: (P | undefined)[] = [];
  private readonly ids = new WeakMap<P, number>();

  /** The slot of `program`, given one on first use (a program keeps its slot). */
  slotOf(program: P): number {
    let id = this.ids.get(program);
    if (id === undefined) {
      id = this.programs.length;
      this.programs.push(program);
      this.ids.set(program, id);
    }
    return id;
  }

  /** Puts `program` in slot `slot` (hot swap: every array index holding this slot now reaches `program`). */
  set(slot: number, program: P | undefined): void {
    // Any slot may be set (a worker mirrors the owner's numbering); new slots are handed out past the last.
    if (!Number.isInteger(slot) || slot < 0 || slot >= MAX_SLOTS) throw new RangeError(`program slot ${slot} is not in 0..${MAX_SLOTS - 1}`);
    while (this.programs.length < slot) this.programs.push(undefined);
    this.programs[slot] = program;
    if (program !== undefined && !this.ids.has(program)) this.ids.set(program, slot);
  }

  /** The program in slot `slot`. */
  at(slot: number): P | undefined {
    return this.programs[slot];
  }
}
