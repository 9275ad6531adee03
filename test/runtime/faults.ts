/** Test helper: the `ExecutionError` a call throws (failing the test when it throws nothing, or something else). */

import { ExecutionError } from '../../src/errors.js';

/** Runs `fn` expecting an `ExecutionError`; returns it. */
export function faults(fn: () => unknown): ExecutionError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ExecutionError) return e;
    throw e;
  }
  throw new Error('no fault');
}
