/**
 * The helper table the bpf_conformance suite expects of a runtime under test.
 *
 * The suite uses a single helper, id 5, "unwind" (`call_unwind_fail.data`, `callx.data`): it returns its first
 * argument, and when that argument is 0 it ends the whole program at once with r0 = 0, however deep the call
 * stack. Ending the run is signalled with {@link UnwindSignal}, which both engines turn into a normal return.
 *
 * Not here: the Linux helpers (runtime/), anything that only the CLI plugin needs.
 */

import { UnwindSignal, type HelperFn, type HelperTable } from '../exec.js';

/** Helper id of "unwind" in the conformance suite. */
export const UNWIND_HELPER_ID = 5;

/** `unwind(r1)`: returns r1; r1 = 0 ends the program immediately with r0 = 0. */
export const unwind: HelperFn = (r1) => {
  if (r1 === 0n) throw new UnwindSignal(0n);
  return r1;
};

/** The conformance suite's helpers by id. */
export const CONFORMANCE_HELPERS: HelperTable = new Map<number, HelperFn>([[UNWIND_HELPER_ID, unwind]]);
