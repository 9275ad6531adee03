/**
 * Checked access to a running program's memory for helpers implemented in JS: a pointer argument becomes a
 * `Uint8Array` view only after the same check the engines make for a load or store (the execution's stack or
 * one of its regions, a writable one for writes; faults `out_of_bounds` / `read_only` at the call's pc).
 *
 * Not here: the check itself (runtime/maps/helpers.ts `checkPointer`, shared with the map helpers), the helpers.
 */

import { ExecutionError } from '../../src/errors.js';
import { STACK_SIZE, type ExecRequest, type HelperEnv } from '../../src/exec.js';
import { checkPointer } from '../maps/helpers.js';

export { checkPointer };

/** The execution's request, which a helper needs to check its pointers; refuses to run without it. */
export function requestOf(env: HelperEnv, what: string): ExecRequest {
  const req = env.request;
  // Without the request the pointers cannot be checked: refuse rather than trust them.
  if (req === undefined) throw new ExecutionError('helper_failed', `${what} needs the execution's regions (HelperEnv.request), which this engine does not pass`, env.pc);
  return req;
}

/**
 * A view of `size` bytes at `addr` after checking them (readable, or writable when `write`). Size 0 gives an
 * empty view without a check, as Linux's `ARG_CONST_SIZE_OR_ZERO`.
 */
export function view(env: HelperEnv, addr: bigint, size: number, write: boolean, what: string): Uint8Array {
  if (size <= 0) return new Uint8Array(0);
  checkPointer(requestOf(env, what), addr, size, write, env.pc, what);
  return new Uint8Array(env.memory.buffer, Number(addr), size);
}

/**
 * The readable span holding `addr`: `[addr, end)` up to the end of the stack or region it lies in, or undefined
 * when `addr` is in none (a string argument is read up to its NUL, which must lie in the same span).
 */
export function readableSpan(req: ExecRequest, addr: bigint): { start: number; end: number } | undefined {
  if (addr >= 2n ** 32n) return undefined;
  const a = Number(addr);
  if (a >= req.stackBase && a < req.stackBase + STACK_SIZE) return { start: a, end: req.stackBase + STACK_SIZE };
  for (const r of req.regions) if (a >= r.start && a < r.end) return { start: a, end: r.end };
  return undefined;
}

/**
 * The NUL-terminated string at `addr` (latin1 bytes, without the NUL), or undefined when `addr` is in no
 * readable span or no NUL follows within it (at most `max` bytes are scanned).
 */
export function readCString(env: HelperEnv, addr: bigint, max = 1 << 16): string | undefined {
  const span = readableSpan(requestOf(env, 'string argument'), addr);
  if (span === undefined) return undefined;
  const u8 = new Uint8Array(env.memory.buffer);
  const end = Math.min(span.end, span.start + max);
  const nul = u8.subarray(span.start, end).indexOf(0);
  if (nul < 0) return undefined;
  return latin1(u8.subarray(span.start, span.start + nul));
}

/** Bytes as a latin1 string (one char a byte, so lengths are byte counts). */
export function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 4096) s += String.fromCharCode(...bytes.subarray(i, i + 4096));
  return s;
}
