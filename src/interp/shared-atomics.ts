/**
 * Atomic read-modify-writes on a shared memory with `Atomics`, so that concurrent threads' operations on a word
 * are indivisible (a DataView read-modify-write could lose updates). The engines that run in JS (the
 * interpreter, the stepper of src/debug) use these on a SharedArrayBuffer; their own DataView paths give the same
 * results on an unshared one. Addresses are checked and aligned by the caller.
 *
 * Not here: the semantics of each operation (RFC 9669 section 5.3; semantics.ts `atomic`), which registers
 * receive the old value (the engines).
 */

import type { AtomicOp } from '../isa/insn.js';
import { assertNever } from '../errors.js';

/** Views of the last shared buffer worked on. */
let sharedBuf: SharedArrayBuffer | undefined;
let sharedI32: Int32Array<ArrayBufferLike> = new Int32Array(0);
let sharedI64: BigInt64Array<ArrayBufferLike> = new BigInt64Array(0);

function views(buf: SharedArrayBuffer): void {
  if (buf !== sharedBuf) {
    sharedBuf = buf;
    sharedI32 = new Int32Array(buf);
    sharedI64 = new BigInt64Array(buf);
  }
}

/** `op` on the 32-bit word at byte address `a` with `v` (`expected`: cmpxchg's r0, low 32 bits); the old word, as i32. */
export function sharedAtomic32(buf: SharedArrayBuffer, op: AtomicOp, a: number, v: number, expected: number): number {
  views(buf);
  const i = a >>> 2;
  switch (op) {
    case 'add': return Atomics.add(sharedI32, i, v);
    case 'or': return Atomics.or(sharedI32, i, v);
    case 'and': return Atomics.and(sharedI32, i, v);
    case 'xor': return Atomics.xor(sharedI32, i, v);
    case 'xchg': return Atomics.exchange(sharedI32, i, v);
    case 'cmpxchg': return Atomics.compareExchange(sharedI32, i, expected, v);
    default: return assertNever(op, 'atomic operation');
  }
}

/** `op` on the 64-bit word at byte address `a` with `v` (`expected`: cmpxchg's r0); the old word, as u64. */
export function sharedAtomic64(buf: SharedArrayBuffer, op: AtomicOp, a: number, v: bigint, expected: bigint): bigint {
  views(buf);
  const i = a >>> 3;
  const s = BigInt.asIntN(64, v);
  let old: bigint;
  switch (op) {
    case 'add': old = Atomics.add(sharedI64, i, s); break;
    case 'or': old = Atomics.or(sharedI64, i, s); break;
    case 'and': old = Atomics.and(sharedI64, i, s); break;
    case 'xor': old = Atomics.xor(sharedI64, i, s); break;
    case 'xchg': old = Atomics.exchange(sharedI64, i, s); break;
    case 'cmpxchg': old = Atomics.compareExchange(sharedI64, i, BigInt.asIntN(64, expected), s); break;
    default: return assertNever(op, 'atomic operation');
  }
  return BigInt.asUintN(64, old);
}
