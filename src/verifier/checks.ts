/**
 * Safety checks: whether one memory access is proven in bounds of its region, and whether one helper argument
 * satisfies its prototype. Each returns a verdict as data ({@link Access}, {@link ArgVerdict}); the analysis
 * (analyze.ts) decides what a failure means: a rejection in strict mode, a run-time check (or an opaque helper
 * call) in permissive mode.
 *
 * The bounds rules, per region (offsets in bytes; `off` is the instruction's offset, `size` the access size):
 *
 *     stack    frame top + o,  o ∈ ptr.off + off:   -512 <= min o  and  max o + size <= 0
 *     ctx      constant offset inside one field of the layout (context.ts); pointer fields read whole (4 bytes);
 *              stores only to writable fields, of scalars
 *     mem      0 <= min(ptr.off) + off  and  max(ptr.off) + off + size <= region size; never while `nullable`;
 *              stores not to read-only maps (`.rodata`, BPF_F_RDONLY_PROG) or map keys
 *     pkt      base + fix + off with  min(var) + fix + off >= 0  and  fix + off + size <= range(base)
 *     pkt_end  end + off with  off + size <= 0  and  -off <= range(base 0)  (the packet has at least -off bytes)
 *
 * Atomics also need natural alignment (strict mode; the run time checks it anyway) and a stack, map value or
 * ring buffer region. Stores of pointers anywhere but the stack leak addresses (`pointer_leak`, strict).
 *
 * Not here: what the access does to the state (transfer.ts), the policy (analyze.ts).
 */

import type { VerifierErrorCode } from '../errors.js';
import { BPF_F, BPF_MAP_TYPE } from '../elf/maps.js';
import { fieldAt, type CtxField } from './context.js';
import type { Env } from './env.js';
import type { ArgKind, HelperProto } from './helpers.js';
import { MAX_HELPER_MEM, MAX_RINGBUF_RESERVE } from './helpers.js';
import { scalarConst, scalarConstValue, type Scalar } from './scalar.js';
import type { State } from './state.js';
import { formatValue, isPointer, mapName, regionSize, type Value } from './value.js';

/** Kinds of memory access. */
export type AccessKind = 'load' | 'store' | 'atomic';

/** A failed check: the error code and what to say. */
export interface Failure {
  readonly ok: false;
  readonly code: VerifierErrorCode;
  readonly detail: string;
}

/** The verdict on one memory access. */
export type Access =
  /** Bytes `[lo, hi)` from the top of frame `frame` (all the bytes the access may touch); `exact`: a constant offset. */
  | { readonly ok: true; readonly region: 'stack'; readonly frame: number; readonly lo: number; readonly hi: number; readonly exact: boolean }
  | { readonly ok: true; readonly region: 'ctx'; readonly field: CtxField; readonly off: number }
  | { readonly ok: true; readonly region: 'mem' | 'pkt' }
  | Failure;

const fail = (code: VerifierErrorCode, detail: string): Failure => ({ ok: false, code, detail });

/** `1 byte`, `4 bytes`. */
const bytes = (n: number): string => `${n} byte${n === 1 ? '' : 's'}`;

/** Bounds of an offset scalar as numbers, or undefined when it may be too large to mean anything. */
function bounds(off: Scalar): [number, number] | undefined {
  const lim = 1n << 40n;
  if (off.smin < -lim || off.smax > lim) return undefined;
  return [Number(off.smin), Number(off.smax)];
}

/** Whether every address the access may use is a multiple of its size (for atomics). */
function aligned(off: Scalar, insnOff: number, size: number): boolean {
  const m = BigInt(size - 1);
  return (off.t.mask & m) === 0n && ((off.t.value + BigInt(insnOff)) & m) === 0n;
}

/** Whether a map is read-only for programs (`.rodata`: frozen, or BPF_F_RDONLY_PROG). */
export function mapReadOnly(env: Env, map: number): boolean {
  const spec = env.maps[map];
  return spec !== undefined && (spec.frozen || (spec.flags & BPF_F.RDONLY_PROG) !== 0);
}

/**
 * Checks an access of `size` bytes at `base + off` (a load, a store of `stored`, or an atomic). See the file
 * header for the rules.
 */
export function checkAccess(env: Env, st: State, base: Value, off: number, size: number, kind: AccessKind, stored?: Value): Access {
  const write = kind !== 'load';
  const what = kind === 'load' ? 'read' : kind === 'store' ? 'write' : 'atomic update';
  if (write && stored !== undefined && isPointer(stored) && base.t !== 'stack') {
    return fail('pointer_leak', `storing a pointer (${formatValue(stored, env)}) into ${base.t === 'ctx' ? 'the context' : base.t === 'pkt' ? 'the packet' : 'memory outside the stack'} leaks a kernel address`);
  }
  switch (base.t) {
    case 'uninit':
      return fail('uninit_register', 'the base register is not initialised');
    case 'any':
      return fail('not_a_pointer', 'the base register holds a scalar on some paths and a pointer on others');
    case 'scalar': {
      const c = scalarConstValue(base.s);
      if (c === 0n) return fail('null_deref', `${what} through a null pointer`);
      return fail('not_a_pointer', `${what} through a scalar (${formatValue(base, env)}) rather than a pointer`);
    }
    case 'stack': {
      const b = bounds(base.off);
      if (b === undefined) return fail('stack_oob', `${what} at an unbounded stack offset`);
      const lo = b[0] + off;
      const hi = b[1] + off + size;
      if (lo < -512 || hi > 0) {
        const where = b[0] === b[1] ? `fp${lo >= 0 ? '+' : ''}${lo}` : `fp+[${lo}, ${hi - size}]`;
        return fail('stack_oob', `${what} of ${bytes(size)} at ${where} is outside the 512-byte stack frame [fp-512, fp)`);
      }
      if (kind === 'atomic' && env.strict && !aligned(base.off, off, size)) return fail('misaligned', `atomic update of ${bytes(size)} at a stack offset that is not a multiple of ${size}`);
      return { ok: true, region: 'stack', frame: base.frame, lo, hi, exact: b[0] === b[1] };
    }
    case 'ctx': {
      const layout = env.layout;
      if (layout === undefined) return fail('ctx_access', 'this program type has no context');
      const o = base.off + off;
      const field = fieldAt(layout, o);
      if (field === undefined || o + size > field.off + field.size) {
        return fail('ctx_access', `${what} of ${bytes(size)} at offset ${o} of struct ${layout.struct} (${layout.size} bytes) does not fit in one field`);
      }
      if (kind === 'atomic') return fail('ctx_access', `atomic update of the context field ${layout.struct}.${field.name}`);
      if (size > field.size || o % size !== 0) return fail('ctx_access', `misaligned ${size}-byte ${what} of ${layout.struct}.${field.name}`);
      if (field.kind !== 'scalar' && (size !== 4 || o !== field.off || write)) {
        return fail('ctx_access', write ? `${layout.struct}.${field.name} is read-only` : `${layout.struct}.${field.name} must be read whole, with a 4-byte load`);
      }
      if (write && !field.writable) return fail('ctx_access', `${layout.struct}.${field.name} is read-only for ${env.type} programs`);
      return { ok: true, region: 'ctx', field, off: o };
    }
    case 'mem': {
      const name = base.region.kind === 'ringbuf' ? 'ring buffer memory' : base.region.kind === 'map_key' ? `key of ${mapName(env, base.region.map)}` : `value of ${mapName(env, base.region.map)}`;
      if (base.nullable) {
        return fail('null_deref', `${what} through a pointer that may be null: the ${base.region.kind === 'ringbuf' ? 'ringbuf_reserve' : 'map_lookup_elem'} result from pc ${base.origin} is not checked against 0`);
      }
      const size_ = regionSize(base.region, env.maps);
      const b = bounds(base.off);
      const code: VerifierErrorCode = base.region.kind === 'map_value' ? 'map_value_oob' : 'mem_oob';
      if (b === undefined) return fail(code, `${what} at an unbounded offset into the ${name}`);
      const lo = b[0] + off;
      const hi = b[1] + off + size;
      if (lo < 0 || hi > size_) {
        const at = b[0] === b[1] ? `offset ${lo}` : `offsets ${lo}..${hi - size}`;
        return fail(code, `${what} of ${bytes(size)} at ${at} is outside the ${name} (${bytes(size_)})`);
      }
      if (write && base.region.kind === 'map_value' && mapReadOnly(env, base.region.map)) {
        return fail('readonly_map', `${what} into ${mapName(env, base.region.map)}, which is read-only for programs`);
      }
      if (write && base.region.kind === 'map_key') return fail('readonly_mem', `${what} into a map key passed to a callback`);
      if (kind === 'atomic' && env.strict && !aligned(base.off, off, size)) return fail('misaligned', `atomic update of ${bytes(size)} at an offset that is not a multiple of ${size}`);
      return { ok: true, region: 'mem' };
    }
    case 'pkt': {
      const raw = env.type === 'raw';
      const code: VerifierErrorCode = raw ? 'raw_access' : 'packet_oob';
      const pb = st.pkts.get(base.id);
      const what2 = raw ? 'the input' : 'the packet';
      if (pb === undefined) return fail(code, `${what} through a stale packet pointer`);
      if (kind === 'atomic') return fail(code, `atomic update of ${what2}`);
      if (write && !(raw ? env.rawWritable : env.layout?.packetWritable === true)) {
        return fail('readonly_mem', `${what} into ${what2}, which is read-only for ${env.type} programs`);
      }
      // The lower end: base >= data. The upper end is the proven range, whatever the variable part's maximum.
      if (pb.var.smin + BigInt(base.fix + off) < 0n) {
        return fail(code, `${what} at a variable offset into ${what2} that may be negative`);
      }
      const need = base.fix + off + size;
      if (need > pb.range) {
        const n = pb.range === -Infinity ? 0 : pb.range - base.fix;
        const have = n <= 0 ? 'no byte from this pointer is proven in bounds' : `only ${bytes(n)} from this pointer ${n === 1 ? 'is' : 'are'} proven in bounds`;
        const how = raw ? 'compare the length (r2), or r1 + r2, first' : 'compare against data_end first';
        return fail(code, `${what} of ${bytes(size)} at offset ${off} may pass the end of ${what2}: ${have} (${how})`);
      }
      return { ok: true, region: 'pkt' };
    }
    case 'pkt_end': {
      // end + off with off + size <= 0 lies in the packet when data + (-off) <= end: base 0's range.
      const raw = env.type === 'raw';
      const code: VerifierErrorCode = raw ? 'raw_access' : 'packet_oob';
      const what2 = raw ? 'the input' : 'the packet';
      if (kind === 'atomic') return fail(code, `atomic update of ${what2}`);
      if (off + size > 0) return fail(code, `${what} of ${bytes(size)} at offset ${off} from the end-of-packet pointer passes the end of ${what2}`);
      if (write && !(raw ? env.rawWritable : env.layout?.packetWritable === true)) {
        return fail('readonly_mem', `${what} into ${what2}, which is read-only for ${env.type} programs`);
      }
      const range = st.pkts.get(0)?.range ?? -Infinity;
      if (-off > range) {
        return fail(code, `${what} at offset ${off} from the end may precede the start of ${what2}: ${range <= 0 ? 'no byte' : `only ${bytes(range)}`} of it ${range === 1 ? 'is' : 'are'} proven to exist (${raw ? 'compare the length (r2) first' : 'compare against data_end first'})`);
      }
      return { ok: true, region: 'pkt' };
    }
    case 'pkt_meta':
      return fail('packet_oob', `${what} through the packet metadata pointer, which the verifier does not track`);
    case 'map':
      return fail('not_a_pointer', `${what} through a map pointer (use map_lookup_elem to get at a value)`);
    case 'func':
      return fail('not_a_pointer', `${what} through a function address`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Helper arguments

/** What an argument check found. */
export type ArgVerdict =
  | { readonly ok: true; readonly map?: number; readonly size?: Scalar; readonly stack?: { frame: number; lo: number; hi: number } }
  | Failure;

/** Whether bytes `[lo, hi)` of frame `frame` (offsets from its top) are all initialised. */
export function stackInitialized(st: State, frame: number, lo: number, hi: number): boolean {
  const f = st.frames[frame];
  for (let o = lo; o < hi; o++) {
    const i = (512 + o) >> 3;
    const slot = f.stack[i];
    if (slot === undefined) return false;
    if (slot.k === 'misc' && ((slot.init >> ((512 + o) & 7)) & 1) === 0) return false;
  }
  return true;
}

/**
 * A memory argument: readable (and, with `init`, initialised) or writable memory of up to `max` bytes at `v`.
 * The whole span is checked: a size argument known only as a range may reach its maximum.
 */
export function checkMemArg(env: Env, st: State, v: Value, max: number, write: boolean, init: boolean): ArgVerdict {
  if (max === 0) return { ok: true };
  const acc = checkAccess(env, st, v, 0, Math.max(max, 1), write ? 'store' : 'load');
  if (!acc.ok) return acc;
  if (acc.region === 'ctx') return fail('helper_arg', 'a helper may not access the context as memory');
  if (acc.region === 'stack') {
    // [lo, hi): every byte the helper may touch (the whole span when the pointer's offset varies).
    if (init && env.strict && !stackInitialized(st, acc.frame, acc.lo, acc.hi)) {
      return fail('uninit_stack', `the helper reads stack bytes fp${acc.lo}..fp${acc.hi - 1}, not all of them initialised`);
    }
    return { ok: true, stack: { frame: acc.frame, lo: acc.lo, hi: acc.hi } };
  }
  return { ok: true };
}

/** Checks a size argument (`size`, `size_or_zero`): a bounded scalar. */
export function checkSizeArg(v: Value, zeroOk: boolean): ArgVerdict {
  if (v.t !== 'scalar') return fail('helper_arg', 'a size argument must be a scalar');
  if (v.s.smin < 0n) return fail('helper_arg', `the size may be negative (${formatValue(v, { maps: [] })})`);
  if (!zeroOk && v.s.umin === 0n) return fail('helper_arg', `the size may be 0 (${formatValue(v, { maps: [] })}); it must be at least 1`);
  if (v.s.umax > BigInt(MAX_HELPER_MEM)) return fail('helper_arg', `the size is not bounded (${formatValue(v, { maps: [] })})`);
  return { ok: true, size: v.s };
}

/** Checks a map argument against the prototype's allowed map types. */
export function checkMapArg(env: Env, proto: HelperProto, v: Value): ArgVerdict {
  if (v.t !== 'map') return fail('helper_arg', `${proto.name} needs a map pointer (lddw map), got ${formatValue(v, env)}`);
  if (v.nullable) return fail('null_deref', `the map from the lookup at pc ${v.origin} may be null`);
  const spec = env.maps[v.map];
  if (spec === undefined) return fail('helper_arg', `unknown map #${v.map}`);
  if (proto.mapTypes !== undefined && !proto.mapTypes.includes(spec.type)) {
    return fail('helper_arg', `${proto.name} does not work on ${mapName(env, v.map)} (map type ${spec.type})`);
  }
  if (proto.mapTypesNot?.includes(spec.type)) return fail('helper_arg', `${proto.name} does not work on ${mapName(env, v.map)} (map type ${spec.type})`);
  return { ok: true, map: v.map };
}

/** Checks one argument of a prototype that needs neither a map nor the previous argument. */
export function checkSimpleArg(env: Env, st: State, kind: ArgKind, v: Value): ArgVerdict {
  switch (kind) {
    case 'anything':
      return { ok: true };
    case 'ctx':
      return v.t === 'ctx' && v.off === 0 ? { ok: true } : fail('helper_arg', `expected the context pointer, got ${formatValue(v, env)}`);
    case 'func':
      return v.t === 'func' ? { ok: true } : fail('helper_arg', `expected a callback (lddw of a function address), got ${formatValue(v, env)}`);
    case 'stack_or_null': {
      if (v.t === 'scalar' && scalarConstValue(v.s) === 0n) return { ok: true };
      if (v.t !== 'stack') return fail('helper_arg', `expected a stack pointer or 0, got ${formatValue(v, env)}`);
      const acc = checkAccess(env, st, v, 0, 1, 'load');
      return acc.ok ? { ok: true } : acc;
    }
    case 'ringbuf_mem': {
      if (v.t !== 'mem' || v.region.kind !== 'ringbuf' || !v.ref) return fail('bad_release', `expected memory from ringbuf_reserve, got ${formatValue(v, env)}`);
      if (v.nullable) return fail('null_deref', `the reservation from pc ${v.origin} may be null: check it against 0 first`);
      if (scalarConstValue(v.off) !== 0n) return fail('bad_release', 'the pointer must be the one ringbuf_reserve returned (offset 0)');
      if (!st.refs.has(v.id)) return fail('bad_release', 'this reservation was already submitted or discarded');
      return { ok: true };
    }
    case 'alloc_size': {
      const c = v.t === 'scalar' ? scalarConstValue(v.s) : undefined;
      if (c === undefined) return fail('helper_arg', 'ringbuf_reserve needs a constant size');
      if (c === 0n || c > BigInt(MAX_RINGBUF_RESERVE)) return fail('helper_arg', `ringbuf_reserve size ${c} is out of range 1..${MAX_RINGBUF_RESERVE}`);
      return { ok: true, size: scalarConst(c) };
    }
    case 'const_str': {
      if (v.t !== 'mem' || v.region.kind !== 'map_value' || v.nullable || !mapReadOnly(env, v.region.map)) {
        return fail('helper_arg', `expected a constant string in a read-only map (.rodata), got ${formatValue(v, env)}`);
      }
      const acc = checkAccess(env, st, v, 0, 1, 'load');
      return acc.ok ? { ok: true } : acc;
    }
    case 'long_out':
      return checkMemArg(env, st, v, 8, true, false);
    default:
      return fail('helper_arg', `internal: argument kind ${kind} needs context`);
  }
}

/** Whether a map type's lookups return an inner map (maps of maps). */
export function isMapOfMaps(type: number): boolean {
  return type === BPF_MAP_TYPE.ARRAY_OF_MAPS || type === BPF_MAP_TYPE.HASH_OF_MAPS;
}
