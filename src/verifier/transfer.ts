/**
 * Transfer functions: what each instruction does to the abstract state (RFC 9669 semantics lifted to values),
 * with no policy. Where Linux forbids an operation (pointer + pointer, arithmetic on a maybe-null pointer, ...)
 * the result carries a `violation` and a sound value (`any`); the analysis (analyze.ts) turns violations into
 * rejections in strict mode.
 *
 * - ALU: scalars through scalar.ts; pointer + scalar moves the pointer (a variable amount on a packet pointer
 *   starts a new packet base, so the ranges proven for the old base are not mistaken for the new one's);
 *   pointer - pointer of one region gives their distance.
 * - Branches: scalar bounds from the condition; null checks (`mem`/`map` against 0) turn every copy of the
 *   checked pointer (same id) null or non-null; comparisons of packet pointers with `data_end` (or with one
 *   another) prove ranges: `p < q` gives slack(p) >= slack(q) + 1, where slack(p) = bytes proven between p and
 *   the end (state.ts); for `raw` programs, bounds on the length (r2) prove the range of r1's base.
 * - Stack: 8-byte aligned stores of a register spill its value, narrower stores make "misc" bytes; loads read
 *   spills back (part of a spilled scalar is computed), misc bytes as scalars of the load's size.
 * - Calls: frames pushed and popped; values pointing into a popped frame become `any`.
 *
 * Not here: the checks (checks.ts), the fixpoint (analyze.ts).
 */

import type { AluOp, JcondInsn, JmpOp, Width } from '../isa/insn.js';
import type { Env } from './env.js';
import {
  SCALAR_UNKNOWN, negateCond, refineCond, scalarAlu, scalarConst, scalarConstValue, scalarMeet, scalarMovsx, scalarNeg,
  scalarOfSize, scalarTruncate, scalarURange, type Scalar,
} from './scalar.js';
import { DATA, relationSlacks, relsWithout, type LenRel } from './relations.js';
import { SLOTS, State, newFrame, reducePkt, zeroMaskOf, type Slot } from './state.js';
import { ANY, PKT_END, UNINIT, isPointer, type Value } from './value.js';

/** Largest constant offset a pointer may carry (Linux's BPF_MAX_VAR_OFF is 1 << 29). */
const MAX_FIX = 1 << 29;

/** The result of an ALU operation: the value, and why Linux would forbid it, if it would. */
export interface AluOutcome {
  readonly value: Value;
  readonly violation?: string;
}

const forbid = (violation: string): AluOutcome => ({ value: ANY, violation });

/** `ptr + s`: the pointer moved by a scalar (see the file header). */
function addOffset(env: Env, st: State, p: Value, s: Value & { t: 'scalar' }): AluOutcome {
  const c = scalarConstValue(s.s);
  const cNum = c === undefined ? undefined : BigInt.asIntN(64, c);
  switch (p.t) {
    case 'stack':
      return { value: { t: 'stack', frame: p.frame, off: scalarAlu('add', 64, p.off, s.s) } };
    case 'ctx':
      if (cNum === undefined) return forbid('variable offset on the context pointer');
      if (cNum > BigInt(MAX_FIX) || cNum < -BigInt(MAX_FIX)) return forbid('context pointer offset out of range');
      return { value: { t: 'ctx', off: p.off + Number(cNum) } };
    case 'mem':
      if (p.nullable) return forbid(`arithmetic on a pointer that may be null (from pc ${p.origin}; check it against 0 first)`);
      return { value: { ...p, off: scalarAlu('add', 64, p.off, s.s) } };
    case 'pkt': {
      if (s.len === true && p.id === 0 && p.fix === 0 && env.type === 'raw') return { value: PKT_END };
      if (cNum !== undefined) {
        const fix = p.fix + Number(cNum);
        if (cNum > BigInt(MAX_FIX) || cNum < -BigInt(MAX_FIX) || Math.abs(fix) > MAX_FIX) return forbid('packet pointer offset out of range');
        return { value: { t: 'pkt', id: p.id, fix } };
      }
      const old = st.pkts.get(p.id);
      if (old === undefined) return { value: ANY };
      const id = st.freshId();
      const v = scalarAlu('add', 64, old.var, scalarAlu('add', 64, scalarConst(BigInt(p.fix)), s.s));
      const lim = 1n << 40n;
      const range = old.range === -Infinity || s.s.smax > lim || s.s.smax < -lim ? -Infinity : old.range - p.fix - Number(s.s.smax);
      st.pkts.set(id, { var: v, range });
      return { value: { t: 'pkt', id, fix: 0 } };
    }
    case 'pkt_meta':
      if (cNum === undefined || cNum > BigInt(MAX_FIX) || cNum < -BigInt(MAX_FIX)) return forbid('variable offset on the packet metadata pointer');
      return { value: { t: 'pkt_meta', off: p.off + Number(cNum) } };
    case 'pkt_end':
      return forbid('arithmetic on the end-of-packet pointer');
    case 'map':
      return forbid('arithmetic on a map pointer');
    case 'func':
      return forbid('arithmetic on a function address');
    default:
      return { value: ANY };
  }
}

/** `a - b` for two pointers: their distance when both point into one region, else an unknown number. */
function subPointers(st: State, a: Value, b: Value): Value {
  if (a.t === 'stack' && b.t === 'stack' && a.frame === b.frame) return { t: 'scalar', s: scalarAlu('sub', 64, a.off, b.off) };
  if (a.t === 'pkt' && b.t === 'pkt' && a.id === b.id) return { t: 'scalar', s: scalarConst(BigInt(a.fix - b.fix)) };
  if (a.t === 'mem' && b.t === 'mem' && a.id === b.id && a.id !== 0) return { t: 'scalar', s: scalarAlu('sub', 64, a.off, b.off) };
  if (a.t === 'pkt_end' && b.t === 'pkt') {
    // end - p is at least p's slack.
    const base = st.pkts.get(b.id);
    if (base !== undefined && base.range !== -Infinity && base.range - b.fix >= 0) return { t: 'scalar', s: scalarURange(BigInt(base.range - b.fix), 0xffff_ffffn) };
  }
  return { t: 'scalar', s: SCALAR_UNKNOWN };
}

/** `dst = dst op src` on abstract values (RFC 9669 section 4.1; pointer rules as Linux's `adjust_ptr_min_max_vals`). */
export function aluValues(env: Env, st: State, op: AluOp, width: Width, a: Value, b: Value): AluOutcome {
  if (op === 'mov') {
    if (width === 64) return { value: b };  // a scalar copy keeps the identity: see copyScalar
    if (b.t === 'scalar') return { value: { t: 'scalar', s: scalarAlu('mov', 32, b.s, b.s) } };
    return { value: { t: 'scalar', s: scalarOfSize(4) } };
  }
  if (a.t === 'scalar' && b.t === 'scalar') return { value: { t: 'scalar', s: scalarAlu(op, width, a.s, b.s) } };
  if (a.t === 'any' || b.t === 'any' || a.t === 'uninit' || b.t === 'uninit') return { value: ANY };
  if (width === 32) {
    if (op === 'sub' && isPointer(a) && isPointer(b)) return { value: { t: 'scalar', s: scalarOfSize(4) } };
    return forbid(`32-bit ${op} on a pointer`);
  }
  if (op === 'add') {
    if (isPointer(a) && b.t === 'scalar') return addOffset(env, st, a, b);
    if (a.t === 'scalar' && isPointer(b)) return addOffset(env, st, b, a);
    return forbid('pointer + pointer');
  }
  if (op === 'sub') {
    if (isPointer(a) && b.t === 'scalar') return addOffset(env, st, a, { t: 'scalar', s: scalarNeg(64, b.s) });
    if (isPointer(a) && isPointer(b)) return { value: subPointers(st, a, b) };
    return forbid('scalar - pointer');
  }
  return forbid(`${op} on a pointer`);
}

/** `dst = -dst`, `movsx`, byte swaps on a value: scalars only. */
export function unaryValue(v: Value, f: (s: Scalar) => Scalar, what: string): AluOutcome {
  if (v.t === 'scalar') return { value: { t: 'scalar', s: f(v.s) } };
  if (v.t === 'any' || v.t === 'uninit') return { value: ANY };
  return forbid(`${what} on a pointer`);
}

// ---------------------------------------------------------------------------------------------------------------
// Branches

/** Every copy of the pointer with null identity `id` becomes null (scalar 0) or known non-null. */
function settleNull(st: State, id: number, isNull: boolean): void {
  st.mapValues((v) => {
    if ((v.t === 'mem' || v.t === 'map') && v.id === id && v.nullable) {
      return isNull ? { t: 'scalar', s: scalarConst(0n) } : { ...v, nullable: false };
    }
    return undefined;
  });
  if (isNull) st.refs.delete(id); // a null reservation holds nothing
}

/** Bytes proven between a packet pointer and the end (see state.ts); 0 for the end itself. */
function slack(st: State, v: Value): number {
  if (v.t === 'pkt_end') return 0;
  if (v.t !== 'pkt') return -Infinity;
  const b = st.pkts.get(v.id);
  return b === undefined || b.range === -Infinity ? -Infinity : b.range - v.fix;
}

/** Raises the slack of packet pointer `p` to at least `k` (proves `p + k <= end`). */
function raiseSlack(st: State, p: Value, k: number): void {
  if (p.t !== 'pkt' || k === -Infinity) return;
  const b = st.pkts.get(p.id);
  if (b !== undefined && p.fix + k > b.range) st.pkts.set(p.id, reducePkt({ var: b.var, range: p.fix + k }));
}

type Rel = '<' | '<=' | '>' | '>=' | '==' | undefined;

function relOf(op: JmpOp | 'nset'): Rel {
  switch (op) {
    case 'lt': case 'slt': return '<';
    case 'le': case 'sle': return '<=';
    case 'gt': case 'sgt': return '>';
    case 'ge': case 'sge': return '>=';
    case 'eq': return '==';
    default: return undefined;
  }
}

/** Applies `a rel b` between packet pointers / the end; `false` when it contradicts what is proven. */
function relatePackets(st: State, a: Value, b: Value, rel: Rel): boolean {
  const sa = slack(st, a);
  const sb = slack(st, b);
  // With the end on one side the relation may be decided already: p <= end - slack(p).
  if (b.t === 'pkt_end' && a.t === 'pkt' && sa !== -Infinity) {
    if ((rel === '>' && sa >= 0) || (rel === '>=' && sa >= 1) || (rel === '==' && sa >= 1)) return false;
  }
  if (a.t === 'pkt_end' && b.t === 'pkt' && sb !== -Infinity) {
    if ((rel === '<' && sb >= 0) || (rel === '<=' && sb >= 1) || (rel === '==' && sb >= 1)) return false;
  }
  switch (rel) {
    case '<': raiseSlack(st, a, sb + 1); break;
    case '<=': raiseSlack(st, a, sb); break;
    case '>': raiseSlack(st, b, sa + 1); break;
    case '>=': raiseSlack(st, b, sa); break;
    case '==': raiseSlack(st, a, sb); raiseSlack(st, b, sa); break;
    default: break;
  }
  return true;
}

/** Whether a pointer value is certainly not 0 (linear-memory addresses start at 64 KiB). */
function nonNull(env: Env, v: Value): boolean {
  switch (v.t) {
    case 'stack': case 'ctx': case 'func': return true;
    case 'mem': case 'map': return !v.nullable;
    case 'pkt': case 'pkt_end': case 'pkt_meta': return env.type !== 'raw'; // the raw input pointer is 0 when there is no input
    default: return false;
  }
}

/** Writes back a refined scalar to a register, keeping its length tag and identity. */
function withScalar(v: Value, s: Scalar): Value {
  if (v.t !== 'scalar') return { t: 'scalar', s };
  return { t: 'scalar', s, ...(v.len === true ? { len: true } : {}), ...(v.id !== undefined && v.id !== 0 ? { id: v.id } : {}) };
}

/**
 * `dst = src` (64-bit) of a scalar: both now hold one value, so they share an identity (a fresh one when `src`
 * had none), and a later bound on either holds for both. Returns the value for dst; updates src's register.
 */
export function copyScalar(st: State, srcReg: number, v: Value & { t: 'scalar' }): Value {
  if (v.id !== undefined && v.id !== 0) return v;
  if (scalarConstValue(v.s) !== undefined) return v; // constants need no identity
  const id = st.freshId();
  const shared: Value = { ...v, id };
  st.refineReg(srcReg, shared);
  return shared;
}

/** A bound proven on one copy holds for all: narrows every scalar sharing `v`'s identity to `s`. */
function narrowCopies(st: State, v: Value, s: Scalar): boolean {
  if (v.t !== 'scalar' || v.id === undefined || v.id === 0) return true;
  let ok = true;
  const id = v.id;
  st.mapValues((w) => {
    if (w.t !== 'scalar' || w.id !== id) return undefined;
    const m = scalarMeet(w.s, s);
    if (m === undefined) {
      ok = false;
      return undefined;
    }
    return { ...w, s: m };
  });
  return ok;
}

/**
 * What the length relations of the frame (relations.ts) prove now: each pointer's slack rises to
 * `k·umin(x) + c` (the packet start's is base 0's range). Call after anything that may raise a counter's minimum
 * or create a relation; only the relations `changed` selects (those of the registers just written or refined).
 */
export function realizeRelations(st: State, changed: (r: LenRel) => boolean): void {
  const rels = st.cur.rels.filter(changed);
  if (rels.length === 0) return;
  for (const { p, slack: k } of relationSlacks(rels, (r) => st.reg(r))) {
    if (p !== DATA) raiseSlack(st, st.reg(p), k);
    else {
      const b = st.pkts.get(0);
      if (b !== undefined && k > b.range) st.pkts.set(0, reducePkt({ var: b.var, range: k }));
    }
  }
}

/** For `raw` programs: a bound on the length proves bytes of the input. */
function lengthProves(st: State, v: Value): void {
  if (v.t !== 'scalar' || v.len !== true) return;
  const b = st.pkts.get(0);
  const n = v.s.umin > 1n << 40n ? 1 << 30 : Number(v.s.umin);
  if (b !== undefined && n > b.range) st.pkts.set(0, { var: b.var, range: n });
}

/** One side of a branch: the state where `op` holds between `a` and `b`, or `undefined` when it cannot. */
function side(env: Env, st: State, insn: JcondInsn, op: JmpOp | 'nset', a: Value, b: Value): State | undefined {
  const out = st.clone();
  const { width } = insn.cond;
  if (a.t === 'scalar' && b.t === 'scalar') {
    const r = refineCond(op, width, a.s, b.s);
    if (r === undefined) return undefined;
    const na = withScalar(a, r[0]);
    out.refineReg(insn.dst, na);
    if (!narrowCopies(out, na, r[0])) return undefined;
    lengthProves(out, out.reg(insn.dst));
    if (insn.src.kind === 'reg') {
      const nb = withScalar(b, r[1]);
      out.refineReg(insn.src.reg, nb);
      if (!narrowCopies(out, nb, r[1])) return undefined;
      lengthProves(out, out.reg(insn.src.reg));
    }
    realizeRelations(out, (r) => out.reg(r.x) !== st.reg(r.x)); // the counters refined
    return out;
  }
  const zero = (v: Value): boolean => v.t === 'scalar' && scalarConstValue(width === 64 ? v.s : scalarTruncate(v.s, 4)) === 0n;
  const ptr = isPointer(a) && zero(b) ? a : isPointer(b) && zero(a) ? b : undefined;
  if (ptr !== undefined && (op === 'eq' || op === 'ne')) {
    if ((ptr.t === 'mem' || ptr.t === 'map') && ptr.nullable) {
      settleNull(out, ptr.id, op === 'eq');
      return out;
    }
    if (nonNull(env, ptr)) return op === 'eq' ? undefined : out;
    return out;
  }
  if (width === 64 && (a.t === 'pkt' || a.t === 'pkt_end') && (b.t === 'pkt' || b.t === 'pkt_end')) {
    return relatePackets(out, a, b, relOf(op)) ? out : undefined;
  }
  // Two pointers into one region (a stack frame, or one map value): their order is their offsets' order (the
  // region's base plus offsets far below 2^63 cannot wrap, so signed and unsigned comparisons agree).
  const sameRegion =
    (a.t === 'stack' && b.t === 'stack' && a.frame === b.frame) ||
    (a.t === 'mem' && b.t === 'mem' && !a.nullable && !b.nullable && a.id === b.id && a.region.kind === 'map_value' && b.region.kind === 'map_value' && a.region.map === b.region.map);
  if (width === 64 && sameRegion && op !== 'set' && op !== 'nset') {
    const lim = 1n << 40n;
    const ao = (a as { off: Scalar }).off;
    const bo = (b as { off: Scalar }).off;
    if (ao.smin < -lim || ao.smax > lim || bo.smin < -lim || bo.smax > lim) return out;
    const signed: Record<string, JmpOp | 'nset'> = { gt: 'sgt', ge: 'sge', lt: 'slt', le: 'sle' };
    const r = refineCond(signed[op] ?? op, 64, ao, bo);
    if (r === undefined) return undefined;
    out.refineReg(insn.dst, { ...(a as Value & { off: Scalar }), off: r[0] } as Value);
    if (insn.src.kind === 'reg') out.refineReg(insn.src.reg, { ...(b as Value & { off: Scalar }), off: r[1] } as Value);
    return out;
  }
  return out;
}

/**
 * The states after a conditional jump (RFC 9669 section 4.3): `taken` (at the target) and `fall` (after the
 * jump), each `undefined` when the analysis proves that path impossible. `a` and `b` are the operands' values.
 */
export function branch(env: Env, st: State, insn: JcondInsn, a: Value, b: Value): { taken: State | undefined; fall: State | undefined } {
  return {
    taken: side(env, st, insn, insn.cond.op, a, b),
    fall: side(env, st, insn, negateCond(insn.cond.op), a, b),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Stack memory

function toMisc(slot: Slot | undefined): { init: number; zero: number } {
  if (slot === undefined) return { init: 0, zero: 0 };
  if (slot.k === 'spill') return { init: 0xff, zero: zeroMaskOf(slot.v) };
  return { init: slot.init, zero: slot.zero };
}

/** The bytes of `value` as stored by a store of `size` bytes: a mask of those known to be zero (bit i = byte i). */
function zeroBytes(v: Value, size: number): number {
  const c = v.t === 'scalar' ? scalarConstValue(v.s) : undefined;
  if (c === undefined) return 0;
  let m = 0;
  for (let i = 0; i < size; i++) if (((c >> BigInt(8 * i)) & 0xffn) === 0n) m |= 1 << i;
  return m;
}

/**
 * A store to the stack of frame `frame`: `size` bytes of `v` at offset `lo` when `exact`, else somewhere in
 * `[lo, hi)` (then no byte is known to be written, but every slot touched loses what it held).
 */
export function stackStore(st: State, frame: number, lo: number, hi: number, exact: boolean, size: number, v: Value): void {
  const stack = st.slots(frame);
  if (exact && size === 8 && ((512 + lo) & 7) === 0) {
    const i = (512 + lo) >> 3;
    stack[i] = { k: 'spill', v: v.t === 'uninit' ? ANY : v };
    return;
  }
  const z = exact ? zeroBytes(v, size) : 0;
  for (let o = lo; o < hi; ) {
    const i = (512 + o) >> 3;
    const slotEnd = -512 + (i + 1) * 8;
    const m = toMisc(stack[i]);
    let init = m.init;
    let zero = m.zero;
    for (let p = o; p < Math.min(hi, slotEnd); p++) {
      const bit = 1 << ((512 + p) & 7);
      if (exact) {
        init |= bit;
        if ((z >> (p - lo)) & 1) zero |= bit;
        else zero &= ~bit;
      } else zero &= ~bit;
    }
    stack[i] = init === 0 ? undefined : { k: 'misc', init, zero };
    o = slotEnd;
  }
}

/**
 * A load of `size` bytes from the stack (offset `lo` when `exact`, else anywhere in `[lo, hi)`): the value and
 * whether some byte read may be uninitialised.
 */
export function stackLoad(st: State, frame: number, lo: number, hi: number, exact: boolean, size: 1 | 2 | 4 | 8): { value: Value; uninit: boolean } {
  const f = st.frames[frame];
  let uninit = false;
  let allZero = exact;
  for (let o = lo; o < hi; o++) {
    const slot = f.stack[(512 + o) >> 3];
    const bit = 1 << ((512 + o) & 7);
    const m = toMisc(slot);
    if ((m.init & bit) === 0) uninit = true;
    if ((m.zero & bit) === 0) allZero = false;
  }
  if (!exact) return { value: { t: 'scalar', s: scalarOfSize(size) }, uninit };
  const i = (512 + lo) >> 3;
  const slot = f.stack[i];
  const pos = (512 + lo) & 7;
  if (slot?.k === 'spill' && pos + size <= 8) {
    if (size === 8) return { value: slot.v, uninit: false };
    if (slot.v.t === 'scalar') {
      const shifted = pos === 0 ? slot.v.s : scalarAlu('rsh', 64, slot.v.s, scalarConst(BigInt(8 * pos)));
      return { value: { t: 'scalar', s: scalarTruncate(shifted, size) }, uninit: false };
    }
  }
  if (allZero) return { value: { t: 'scalar', s: scalarConst(0n) }, uninit };
  return { value: { t: 'scalar', s: scalarOfSize(size) }, uninit };
}

/** Forgets what every stack slot of every frame holds (keeps which bytes are initialised): after a write the
 * analysis cannot place, e.g. an unproven store, which may land anywhere in the stack. */
export function havocStacks(st: State): void {
  st.frames.forEach((f, d) => {
    for (let i = 0; i < SLOTS; i++) {
      const s = f.stack[i];
      if (s !== undefined && (s.k === 'spill' || s.zero !== 0)) st.slots(d)[i] = { k: 'misc', init: s.k === 'spill' ? 0xff : s.init, zero: 0 };
    }
  });
}

/** Marks bytes `[lo, hi)` of a frame initialised with unknown contents (a helper wrote them). */
export function stackFill(st: State, frame: number, lo: number, hi: number): void {
  const stack = st.slots(frame);
  for (let o = lo; o < hi; o++) {
    const i = (512 + o) >> 3;
    const m = toMisc(stack[i]);
    const bit = 1 << ((512 + o) & 7);
    stack[i] = { k: 'misc', init: m.init | bit, zero: m.zero & ~bit };
  }
}

/** A loaded value: sign-extended for MEMSX loads. */
export function extendLoaded(v: Value, size: 1 | 2 | 4 | 8, signed: boolean): Value {
  if (!signed || size === 8) return v;
  if (v.t !== 'scalar') return { t: 'scalar', s: scalarMovsx(64, (size * 8) as 8 | 16 | 32, scalarOfSize(size)) };
  return { t: 'scalar', s: scalarMovsx(64, (size * 8) as 8 | 16 | 32, v.s) };
}

// ---------------------------------------------------------------------------------------------------------------
// Calls

/**
 * Enters a function: a new frame whose r1..r5 are the caller's (arguments). r0 and r6..r9 are uninitialised in
 * strict mode (Linux), the caller's values in permissive mode (both engines start a callee with them).
 */
export function pushFrame(env: Env, st: State, callsite: number, fn: number): void {
  const caller = st.cur;
  const f = newFrame(st.frames.length, callsite, fn);
  for (let r = 0; r < 10; r++) {
    if (r >= 1 && r <= 5) f.regs[r] = caller.regs[r];
    else f.regs[r] = env.strict ? UNINIT : caller.regs[r];
  }
  st.frames.push(f);
}

/** Values pointing into frames deeper than `depth` (which are gone) become `any`. */
export function forgetFramesBelow(st: State, depth: number): void {
  st.mapValues((v) => (v.t === 'stack' && v.frame > depth ? ANY : undefined));
}

/**
 * Leaves the innermost frame (RFC-less eBPF convention, src/exec.ts): for a local call the caller gets r0 and,
 * in permissive mode, r1..r5 from the callee (strict: r1..r5 uninitialised, as Linux says); r6..r10 are its own.
 * For a callback the caller's registers are as they were at the helper call (r0 is set by the caller's helper
 * semantics afterwards).
 */
export function popFrame(env: Env, st: State, kind: 'call' | 'callback'): void {
  const callee = st.frames.pop()!;
  const caller = st.cur;
  if (kind === 'call') {
    caller.regs[0] = callee.regs[0];
    for (let r = 1; r <= 5; r++) caller.regs[r] = env.strict ? UNINIT : callee.regs[r];
    for (let r = 0; r <= 5; r++) caller.rels = relsWithout(caller.rels, r);
  }
  forgetFramesBelow(st, st.depth);
}
