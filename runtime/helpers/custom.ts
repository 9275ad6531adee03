/**
 * Host-defined helpers: a JS function registered by id and name with a declared signature, turned into a
 * {@link HelperFn} that converts registers to JS values and a {@link HelperProto} the verifier checks calls with.
 *
 *     runtime.defineHelper({ id: 0x10000, name: 'lookup_user', args: ['u32', { ptr: 'in', size: 16 }],
 *                            fn: (id, bytes) => ... });
 *
 * Argument kinds (each one register except `mem`, which takes two: pointer, then length):
 *
 *     'u32'                          number (low 32 bits of the register)          verifier: anything
 *     'u64'                          bigint                                         verifier: anything
 *     { mem: 'in' | 'out' }          Uint8Array of `length` bytes at the pointer    verifier: mem / mem_out + size_or_zero
 *     { ptr: 'in' | 'out' | 'inout', size: N }   Uint8Array of N bytes              verifier: long_out for an 8-byte
 *                                                                                  'out', otherwise anything (opaque)
 *
 * Pointers never reach the function as addresses: each is checked against the execution's stack and regions
 * (writable ones for 'out' and 'inout') exactly as the engines check a load or store, and arrives as a view
 * into the memory, valid during the call only. The result (bigint, number or undefined = 0) becomes r0 as u64.
 *
 * Not here: the registry of definitions (runtime.ts `defineHelper`), the verifier's checks (src/verifier).
 */

import type { HelperFn } from '../../src/exec.js';
import type { ArgKind, HelperProto } from '../../src/verifier/helpers.js';
import { view } from './memory.js';

/** One declared argument (see the file header). */
export type CustomArg =
  | 'u32'
  | 'u64'
  | { readonly mem: 'in' | 'out' }
  | { readonly ptr: 'in' | 'out' | 'inout'; readonly size: number };

/** The JS value an argument kind arrives as. */
export type ArgValue<A> = A extends 'u32' ? number : A extends 'u64' ? bigint : Uint8Array;

/** A custom helper's definition. */
export interface HelperDefinition<A extends readonly CustomArg[] = readonly CustomArg[]> {
  /** Helper id the program calls (`call id`). Any u32 not taken by a standard helper the program uses. */
  readonly id: number;
  /** Name for messages and the verifier (without `bpf_`). */
  readonly name: string;
  /** At most five registers' worth of arguments. */
  readonly args: A;
  readonly fn: (...args: { [K in keyof A]: ArgValue<A[K]> }) => bigint | number | void;
}

/** A definition compiled: the helper function and its prototype. */
export interface CompiledHelper {
  readonly fn: HelperFn;
  readonly proto: HelperProto;
}

const u32 = (v: bigint): number => Number(v & 0xffff_ffffn);

/** Checks a definition and builds its {@link HelperFn} and {@link HelperProto}. Throws TypeError for a bad definition (a host bug). */
export function compileHelper(def: HelperDefinition): CompiledHelper {
  const bad = (why: string): never => {
    throw new TypeError(`helper ${def.id} (${def.name}): ${why}`);
  };
  if (!Number.isInteger(def.id) || def.id < 0 || def.id > 0xffff_ffff) bad('the id is not a u32');
  if (typeof def.fn !== 'function') bad('fn is not a function');
  // Per register: how to convert it, and what the verifier requires of it.
  const convert: ((regs: readonly bigint[], env: Parameters<HelperFn>[5]) => unknown)[] = [];
  const kinds: ArgKind[] = [];
  let opaque = false;
  for (const a of def.args) {
    const r = kinds.length;
    if (a === 'u32') {
      convert.push((regs) => u32(regs[r]));
      kinds.push('anything');
    } else if (a === 'u64') {
      convert.push((regs) => regs[r]);
      kinds.push('anything');
    } else if (typeof a === 'object' && 'mem' in a) {
      const write = a.mem === 'out';
      const what = `${def.name} argument ${r + 1}`;
      convert.push((regs, env) => {
        const len = regs[r + 1];
        // A length beyond any region cannot pass the check; refuse it before converting to a number.
        return view(env, regs[r], len >= 2n ** 32n ? 2 ** 32 : Number(len), write, what);
      });
      kinds.push(write ? 'mem_out' : 'mem', 'size_or_zero');
    } else if (typeof a === 'object' && 'ptr' in a) {
      if (!Number.isInteger(a.size) || a.size < 1 || a.size > 1 << 29) bad(`pointer size ${a.size} is not in 1..2^29`);
      const write = a.ptr !== 'in';
      const what = `${def.name} argument ${r + 1}`;
      convert.push((regs, env) => view(env, regs[r], a.size, write, what));
      // The verifier has a fixed-size kind only for 8-byte outputs; other fixed pointers are checked at run time.
      if (a.ptr === 'out' && a.size === 8) kinds.push('long_out');
      else {
        kinds.push('anything');
        if (write) opaque = true;
      }
    } else {
      bad(`argument ${convert.length + 1} has no known kind`);
    }
  }
  if (kinds.length > 5) bad(`the arguments need ${kinds.length} registers; helpers take five`);
  const fn = def.fn as (...args: unknown[]) => unknown;
  const n = convert.length;
  const helper: HelperFn = (r1, r2, r3, r4, r5, env) => {
    const regs = [r1, r2, r3, r4, r5];
    const values = new Array<unknown>(n);
    for (let i = 0; i < n; i++) values[i] = convert[i](regs, env);
    const ret = fn(...values);
    if (ret === undefined) return 0n;
    if (typeof ret === 'number') {
      if (!Number.isInteger(ret)) throw new TypeError(`${def.name} returned ${ret}, not an integer`);
      return BigInt.asUintN(64, BigInt(ret));
    }
    if (typeof ret === 'bigint') return BigInt.asUintN(64, ret);
    throw new TypeError(`${def.name} returned ${typeof ret}, not a bigint or number`);
  };
  const proto: HelperProto = Object.freeze({ id: def.id, name: def.name, args: kinds, ret: 'integer', ...(opaque ? { effects: 'opaque' as const } : {}) });
  return { fn: helper, proto };
}
