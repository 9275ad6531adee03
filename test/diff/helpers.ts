/**
 * The small, deterministic helper table generated programs call.
 *
 * Every helper is a pure function of its arguments and of the memory inside {@link HELPER_WINDOW}, which the
 * harness clears before each run and which is laid out identically in every engine's runtime (stacks, then the
 * input scratch buffer). Helpers never look outside it: the runtime metadata area below it holds
 * engine-specific tables that legitimately differ between engines.
 *
 * Not here: the standard Linux helpers (runtime/), which need maps.
 */

import { ExecutionError } from '../../src/errors.js';
import { UnwindSignal, type HelperFn, type HelperTable } from '../../src/exec.js';
import { DATA_BASE, STACKS_BASE } from '../../runtime/runtime.js';
import { HELPER_FAIL, HELPER_FILL, HELPER_MIX, HELPER_READ, HELPER_UNWIND } from './gen.js';

/** Bytes of the input scratch buffer the runtime hands out first (Runtime.scratch allocates at least this). */
export const SCRATCH_BYTES = 4096;

/** The memory helpers may touch and the harness compares: every stack slot and the input scratch buffer. */
export const HELPER_WINDOW = { start: STACKS_BASE, end: DATA_BASE + SCRATCH_BYTES } as const;

const EFAULT = BigInt.asUintN(64, -14n);

function inWindow(addr: bigint, len: number): boolean {
  return addr >= BigInt(HELPER_WINDOW.start) && addr + BigInt(len) <= BigInt(HELPER_WINDOW.end);
}

const mix: HelperFn = (r1, r2, r3, r4, r5) => r1 * 0x9e3779b97f4a7c15n + ((r2 << 7n) ^ r3) + r4 * 3n - r5;

const read: HelperFn = (r1, r2, _r3, _r4, _r5, env) => {
  const len = r2 < 16n ? Number(r2) : 16;
  if (!inWindow(r1, len)) return EFAULT;
  const bytes = new Uint8Array(env.memory.buffer, Number(r1), len);
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  return h;
};

const fill: HelperFn = (r1, r2, r3, _r4, _r5, env) => {
  const len = r2 < 16n ? Number(r2) : 16;
  if (!inWindow(r1, len)) return EFAULT;
  const bytes = new Uint8Array(env.memory.buffer, Number(r1), len);
  const seed = Number(r3 & 0xffn);
  for (let i = 0; i < len; i++) bytes[i] = (seed + i) & 0xff;
  return BigInt(len);
};

const check: HelperFn = (_r1, _r2, r3, r4, _r5, env) => {
  if ((r3 & 7n) === 0n) throw new ExecutionError('helper_failed', `helper ${HELPER_FAIL} refused r3 = ${r3}`, env.pc);
  // A helper with a bug: the engines must turn whatever it throws into a fault of the call.
  if ((r3 & 7n) === 4n) throw new TypeError(`helper ${HELPER_FAIL} crashed on r3 = ${r3}`);
  return r3 ^ r4;
};

const unwind: HelperFn = (r1, r2) => {
  if (r1 === 0n) throw new UnwindSignal(r2);
  return r1;
};

/** The helper table every engine gets in differential runs. */
export const diffHelpers: HelperTable = new Map<number, HelperFn>([
  [HELPER_MIX, mix],
  [HELPER_READ, read],
  [HELPER_FILL, fill],
  [HELPER_FAIL, check],
  [HELPER_UNWIND, unwind],
]);
