/**
 * The abstract state at a program point: per call frame the registers and the stack slots, the packet bases
 * and the outstanding references. Joins, widening, equality and canonical id numbering live here too.
 *
 *     State
 *       frames[0..depth]        frames[d].regs: r0..r10 (only the innermost frame's are live; a caller frame keeps
 *                               the r6..r10 it had at the call), frames[d].stack: 64 slots of 8 bytes (slot i =
 *                               bytes [-512 + 8i, -504 + 8i) from the frame top)
 *       pkts: id → {var, range} a packet base `data + var`; `range`: bytes from the base proven to lie before the
 *                               end (base + range <= end), -Infinity when nothing is proven. Base 0 is `data`
 *                               itself (var = 0), whose range is at least 0 (data <= data_end always holds).
 *       refs: id → {origin}     reservations (ringbuf_reserve) not yet submitted or discarded; `maybe` when only
 *                               some of the joined paths hold it
 *       frames[d].rels          length relations between the frame's registers (relations.ts): `p + k·x + c <= end`
 *
 * A stack slot is a spilled register (an 8-byte aligned store of a register keeps its abstract value, pointers
 * included) or "misc" bytes: a mask of initialised bytes and a mask of bytes known to be zero.
 *
 * Ids (packet bases, null-check identities, references) are names local to one state. {@link canonicalize}
 * renumbers them in order of first appearance so that equal states compare equal; {@link joinStates} pairs the
 * ids of its two arguments position by position, keeping a relation (two registers sharing a base, or a null
 * check identity) only where both states have it.
 *
 * Not here: what instructions do to a state (transfer.ts), the fixpoint (analyze.ts).
 */

import { InternalError } from '../errors.js';
import {
  SCALAR_UNKNOWN, scalarAlu, scalarConst, scalarConstValue, scalarEq, scalarJoin, scalarMeet, scalarSRange, scalarWiden, type Scalar,
  type Thresholds,
} from './scalar.js';
import { joinRels, relsEqual, relsWithout, type LenRel } from './relations.js';
import { ANY, UNINIT, sameRegion, valueEq, type Value } from './value.js';

/** Slots of 8 bytes in a 512-byte frame. */
export const SLOTS = 64;

/** One stack slot. */
export type Slot =
  | { readonly k: 'spill'; readonly v: Value }
  /** Bit i of `init` / `zero`: byte i of the slot (from its lowest address) is initialised / known to be 0. */
  | { readonly k: 'misc'; readonly init: number; readonly zero: number };

/** One call frame. */
export interface Frame {
  regs: Value[];
  /** Read freely; write through {@link State.slots} (copy on write: clones share stacks). */
  stack: Array<Slot | undefined>;
  /** Whether `stack` belongs to this frame alone (else it is shared with a clone and copied on first write). */
  ownStack: boolean;
  /** Slot of the call (or helper call, for callbacks) that created the frame; -1 for the entry function. */
  readonly callsite: number;
  /** Entry slot of the function running in this frame. */
  readonly fn: number;
  /** Length relations between this frame's registers (relations.ts), canonical. Replaced, never mutated. */
  rels: readonly LenRel[];
}

/** A packet base (see the file header). */
export interface PktBase {
  readonly var: Scalar;
  readonly range: number;
}

/** An outstanding reference. */
export interface RefInfo {
  readonly origin: number;
  readonly maybe: boolean;
}

/** The abstract state. Mutable while a block is being analysed; stored states are never mutated (clone first). */
export class State {
  constructor(
    public frames: Frame[],
    public pkts: Map<number, PktBase>,
    public refs: Map<number, RefInfo>,
    public nextId: number,
  ) {}

  /** The innermost frame. */
  get cur(): Frame {
    return this.frames[this.frames.length - 1];
  }

  get depth(): number {
    return this.frames.length - 1;
  }

  reg(r: number): Value {
    return this.cur.regs[r];
  }

  /** Writes a register: the relations naming it no longer hold (the caller re-adds those it can prove). */
  setReg(r: number, v: Value): void {
    const f = this.cur;
    f.regs[r] = v;
    if (f.rels.length > 0) f.rels = relsWithout(f.rels, r);
  }

  /** Replaces a register's value by a more precise view of the same number (a refined bound, a copy's id). */
  refineReg(r: number, v: Value): void {
    this.cur.regs[r] = v;
  }

  freshId(): number {
    return this.nextId++;
  }

  clone(): State {
    return new State(
      this.frames.map((f) => {
        f.ownStack = false; // shared from now on, by both states
        return { regs: [...f.regs], stack: f.stack, ownStack: false, callsite: f.callsite, fn: f.fn, rels: f.rels };
      }),
      new Map(this.pkts),
      new Map(this.refs),
      this.nextId,
    );
  }

  /** The stack slots of frame `d`, ready to be written (copied first when shared with another state). */
  slots(d: number): Array<Slot | undefined> {
    const f = this.frames[d];
    if (!f.ownStack) {
      f.stack = [...f.stack];
      f.ownStack = true;
    }
    return f.stack;
  }

  /** Calls `f` on every value held in a register or spilled, in canonical order (frames, registers, slots). */
  forValues(f: (v: Value) => void): void {
    for (const fr of this.frames) {
      for (const v of fr.regs) f(v);
      for (const slot of fr.stack) if (slot !== undefined && slot.k === 'spill') f(slot.v);
    }
  }

  /** Replaces every value for which `f` returns a new one (registers and spills of every frame). */
  mapValues(f: (v: Value) => Value | undefined): void {
    this.frames.forEach((fr, d) => {
      for (let r = 0; r < fr.regs.length; r++) {
        const n = f(fr.regs[r]);
        if (n !== undefined && n !== fr.regs[r]) fr.regs[r] = n;
      }
      for (let i = 0; i < SLOTS; i++) {
        const slot = fr.stack[i];
        if (slot === undefined || slot.k !== 'spill') continue;
        const n = f(slot.v);
        if (n !== undefined && n !== slot.v) this.slots(d)[i] = { k: 'spill', v: n };
      }
    });
  }
}

/** An empty frame: every register and stack byte uninitialised, r10 the frame pointer. */
export function newFrame(depth: number, callsite: number, fn: number): Frame {
  const regs: Value[] = new Array(11).fill(UNINIT);
  regs[10] = { t: 'stack', frame: depth, off: scalarConst(0n) };
  return { regs, stack: new Array(SLOTS).fill(undefined), ownStack: true, callsite, fn, rels: [] };
}

// ---------------------------------------------------------------------------------------------------------------
// Canonical numbering

function idsOf(v: Value): number[] {
  switch (v.t) {
    case 'pkt': return [v.id];
    case 'mem': case 'map': return v.id === 0 ? [] : [v.id];
    case 'scalar': return v.id === undefined || v.id === 0 ? [] : [v.id];
    default: return [];
  }
}

function renameValue(v: Value, ren: (id: number) => number): Value {
  switch (v.t) {
    case 'pkt': return v.id === ren(v.id) ? v : { ...v, id: ren(v.id) };
    case 'mem': return v.id === 0 || v.id === ren(v.id) ? v : { ...v, id: ren(v.id) };
    case 'map': return v.id === 0 || v.id === ren(v.id) ? v : { ...v, id: ren(v.id) };
    case 'scalar': return v.id === undefined || v.id === 0 || v.id === ren(v.id) ? v : { ...v, id: ren(v.id) };
    default: return v;
  }
}

/** Whether any value of the state carries an id other than 0. */
function hasIds(s: State): boolean {
  const carries = (v: Value): boolean => (v.t === 'pkt' || v.t === 'mem' || v.t === 'map' || v.t === 'scalar') && (v.id ?? 0) !== 0;
  for (const f of s.frames) {
    for (const v of f.regs) if (carries(v)) return true;
    for (const slot of f.stack) if (slot !== undefined && slot.k === 'spill' && carries(slot.v)) return true;
  }
  return false;
}

/** Packets (and `raw` inputs) live in linear memory, so they are shorter than 4 GiB. */
export const MAX_PACKET = (1n << 32n) - 1n;

/**
 * A base whose range is proven lies before the end, so its variable part is at most the packet's length minus
 * the range: that keeps a loop's advancing pointer from seeming to overflow after widening.
 */
export function reducePkt(b: PktBase): PktBase {
  if (b.range === -Infinity || b.range > 2 ** 40) return b;
  const hi = MAX_PACKET - BigInt(b.range);
  if (b.var.smax <= hi) return b;
  const v = scalarMeet(b.var, { ...SCALAR_UNKNOWN, smax: hi });
  return v === undefined ? b : { var: v, range: b.range };
}

/**
 * Renumbers ids 1, 2, ... in order of first appearance (registers and spills frame by frame, then references),
 * drops packet bases nothing refers to (base 0 stays when present), and sets `nextId`. Mutates and returns `s`.
 */
export function canonicalize(s: State): State {
  if (s.refs.size === 0 && !hasIds(s)) {
    // Nothing to renumber: only base 0 (if any) survives.
    const base0 = s.pkts.get(0);
    if (s.pkts.size > (base0 === undefined ? 0 : 1) || (base0 !== undefined && reducePkt(base0) !== base0)) {
      s.pkts = base0 === undefined ? new Map() : new Map([[0, reducePkt(base0)]]);
    }
    s.nextId = 1;
    return s;
  }
  const map = new Map<number, number>([[0, 0]]);
  let next = 1;
  const see = (id: number): void => {
    if (!map.has(id)) map.set(id, next++);
  };
  s.forValues((v) => {
    for (const id of idsOf(v)) see(id);
  });
  for (const id of [...s.refs.keys()].sort((a, b) => a - b)) see(id);
  const ren = (id: number): number => map.get(id)!;
  let identity = true;
  for (const [k, v] of map) if (k !== v) identity = false;
  if (!identity) s.mapValues((v) => renameValue(v, ren));
  const pkts = new Map<number, PktBase>();
  const base0 = s.pkts.get(0);
  if (base0 !== undefined) pkts.set(0, base0);
  for (const [id, b] of s.pkts) if (id !== 0 && map.has(id)) pkts.set(ren(id), b);
  s.pkts = new Map([...pkts].sort((a, b) => a[0] - b[0]).map(([id, b]) => [id, reducePkt(b)]));
  const refs = new Map<number, RefInfo>();
  for (const [id, r] of s.refs) refs.set(ren(id), r);
  s.refs = new Map([...refs].sort((a, b) => a[0] - b[0]));
  s.nextId = next;
  return s;
}

// ---------------------------------------------------------------------------------------------------------------
// Equality

function slotEq(a: Slot | undefined, b: Slot | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  if (a.k === 'spill') return b.k === 'spill' && valueEq(a.v, b.v);
  return b.k === 'misc' && a.init === b.init && a.zero === b.zero;
}

/** Structural equality of two canonical states. */
export function statesEqual(a: State, b: State): boolean {
  if (a.frames.length !== b.frames.length || a.nextId !== b.nextId || a.pkts.size !== b.pkts.size || a.refs.size !== b.refs.size) return false;
  for (let d = 0; d < a.frames.length; d++) {
    const fa = a.frames[d];
    const fb = b.frames[d];
    if (fa.callsite !== fb.callsite || fa.fn !== fb.fn || !relsEqual(fa.rels, fb.rels)) return false;
    for (let r = 0; r < 11; r++) if (!valueEq(fa.regs[r], fb.regs[r])) return false;
    for (let i = 0; i < SLOTS; i++) if (!slotEq(fa.stack[i], fb.stack[i])) return false;
  }
  for (const [id, p] of a.pkts) {
    const q = b.pkts.get(id);
    if (q === undefined || q.range !== p.range || !scalarEq(q.var, p.var)) return false;
  }
  for (const [id, r] of a.refs) {
    const q = b.refs.get(id);
    if (q === undefined || q.maybe !== r.maybe || q.origin !== r.origin) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// Join and widening

/** Bytes of a slot known to be zero when it holds `v` (a spilled constant). */
export function zeroMaskOf(v: Value): number {
  const c = v.t === 'scalar' ? scalarConstValue(v.s) : undefined;
  if (c === undefined) return 0;
  let m = 0;
  for (let i = 0; i < 8; i++) if (((c >> BigInt(8 * i)) & 0xffn) === 0n) m |= 1 << i;
  return m;
}

/**
 * Widening of a packet base's variable part, for a pointer at constant `fix` from it: {@link scalarWiden}, except
 * that a minimum at or above -fix (every pointer joined lies at or after the packet start) stops there, even
 * when forced. A pointer with a smaller constant, met after one with a larger (the order in which paths reach a
 * loop head), shifts the variable part down; widening must not then send its minimum below the packet start,
 * where no access could be proven again. Convergence is kept: -fix is one fixed floor.
 */
function widenPktVar(old: Scalar, next: Scalar, ts: Thresholds, force: boolean, fix: number): Scalar {
  const w = scalarWiden(old, next, ts, force);
  const floor = BigInt(-fix);
  if (w.smin >= floor || old.smin < floor || next.smin < floor) return w;
  return scalarMeet(w, scalarSRange(floor, (1n << 63n) - 1n)) ?? w;
}

/** Pairs ids of the two joined states. */
class Joiner {
  private readonly pktPairs = new Map<string, number>();
  private readonly nullPairs = new Map<string, number>();
  private readonly nullA = new Map<number, number>();
  private readonly nullB = new Map<number, number>();
  readonly refPairs = new Map<number, [number, number]>();
  readonly pkts = new Map<number, PktBase>();
  next = 1;

  constructor(private readonly a: State, private readonly b: State, private readonly widen: boolean, private readonly ts: Thresholds, private readonly force: boolean) {}

  scalar(x: Scalar, y: Scalar): Scalar {
    return this.widen ? scalarWiden(x, y, this.ts, this.force) : scalarJoin(x, y);
  }

  /** The joined range: the smaller; when widening, a shrinking range drops to 0 (still before the end) or to nothing. */
  private range(ra: number, rb: number): number {
    if (rb >= ra) return ra;
    if (!this.widen) return rb;
    return rb >= 0 && ra > 0 ? 0 : -Infinity;
  }

  private base(s: State, id: number): PktBase {
    const b = s.pkts.get(id);
    if (b === undefined) throw new InternalError(`packet base ${id} missing from a state`);
    return b;
  }

  /**
   * Two packet pointers: base_j = base_a in the first state and base_b + shift in the second (shift = fix_b -
   * fix_a), so the pointer keeps fix_a. Pointers pairing the same bases with the same shift share j (their
   * relation holds in both states); base 0 stays base 0 (data itself) when it is paired with itself unshifted.
   */
  pkt(va: Value & { t: 'pkt' }, vb: Value & { t: 'pkt' }): Value {
    const shift = vb.fix - va.fix;
    const key = `${va.id}:${vb.id}:${shift}`;
    let j = this.pktPairs.get(key);
    if (j === undefined) {
      const ba = this.base(this.a, va.id);
      const bb = this.base(this.b, vb.id);
      j = va.id === 0 && vb.id === 0 && shift === 0 ? 0 : this.next++;
      this.pktPairs.set(key, j);
      const varB = shift === 0 ? bb.var : scalarAlu('add', 64, bb.var, scalarConst(BigInt(shift)));
      const v = j === 0 ? ba.var : this.widen ? widenPktVar(ba.var, varB, this.ts, this.force, va.fix) : scalarJoin(ba.var, varB);
      this.pkts.set(j, { var: v, range: this.range(ba.range, bb.range - shift) });
    }
    return { t: 'pkt', id: j, fix: va.fix };
  }

  /** The joined null identity of two ids (0 = none on both sides). */
  nullId(ia: number, ib: number, ref: boolean): number {
    if (ia === 0 && ib === 0) return 0;
    const key = `${ia}:${ib}`;
    const j = this.nullPairs.get(key);
    if (j !== undefined) return j;
    if ((ia !== 0 && this.nullA.has(ia)) || (ib !== 0 && this.nullB.has(ib))) return this.next++;
    const n = this.next++;
    this.nullPairs.set(key, n);
    if (ia !== 0) this.nullA.set(ia, n);
    if (ib !== 0) this.nullB.set(ib, n);
    if (ref) this.refPairs.set(n, [ia, ib]);
    return n;
  }

  value(va: Value, vb: Value): Value {
    if (va.t === 'uninit' || vb.t === 'uninit') return UNINIT;
    if (va.t === 'any' || vb.t === 'any') return ANY;
    switch (va.t) {
      case 'scalar': {
        if (vb.t !== 'scalar') return ANY;
        const s = this.scalar(va.s, vb.s);
        const len = va.len === true && vb.len === true;
        // Copies stay copies only where both states pair the same two identities.
        const id = va.id !== undefined && vb.id !== undefined ? this.nullId(va.id, vb.id, false) : 0;
        const out: Value = { t: 'scalar', s, ...(len ? { len } : {}), ...(id !== 0 ? { id } : {}) };
        return valueEq(out, va) ? va : out;
      }
      case 'ctx': return vb.t === 'ctx' && vb.off === va.off ? va : ANY;
      case 'stack': return vb.t === 'stack' && vb.frame === va.frame ? { t: 'stack', frame: va.frame, off: this.scalar(va.off, vb.off) } : ANY;
      case 'mem': {
        if (vb.t !== 'mem' || !sameRegion(va.region, vb.region) || va.ref !== vb.ref) return ANY;
        const id = this.nullId(va.id, vb.id, va.ref);
        return { t: 'mem', region: va.region, off: this.scalar(va.off, vb.off), id, nullable: va.nullable || vb.nullable, ref: va.ref, origin: Math.min(va.origin, vb.origin) };
      }
      case 'map': {
        if (vb.t !== 'map' || vb.map !== va.map) return ANY;
        const id = this.nullId(va.id, vb.id, false);
        return { t: 'map', map: va.map, id, nullable: va.nullable || vb.nullable, origin: Math.min(va.origin, vb.origin) };
      }
      case 'pkt': return vb.t === 'pkt' ? this.pkt(va, vb) : ANY;
      case 'pkt_end': return vb.t === 'pkt_end' ? va : ANY;
      case 'pkt_meta': return vb.t === 'pkt_meta' && vb.off === va.off ? va : ANY;
      case 'func': return vb.t === 'func' && vb.pc === va.pc ? va : ANY;
    }
  }

  slot(sa: Slot | undefined, sb: Slot | undefined): Slot | undefined {
    if (sa === undefined || sb === undefined) return undefined;
    if (sa.k === 'spill' && sb.k === 'spill') {
      const v = this.value(sa.v, sb.v);
      return v.t === 'uninit' ? undefined : { k: 'spill', v };
    }
    const ia = sa.k === 'spill' ? 0xff : sa.init;
    const ib = sb.k === 'spill' ? 0xff : sb.init;
    const za = sa.k === 'spill' ? zeroMaskOf(sa.v) : sa.zero;
    const zb = sb.k === 'spill' ? zeroMaskOf(sb.v) : sb.zero;
    const init = ia & ib;
    return init === 0 ? undefined : { k: 'misc', init, zero: za & zb & init };
  }
}

/**
 * The join (or, with `widen`, the widening of `a` by `b`) of two states of the same context (same frames).
 * The result is canonical. `force` makes widening jump straight to the ends of ranges (for a loop head that
 * keeps changing).
 */
export function joinStates(a: State, b: State, widen: boolean, ts: Thresholds, force = false): State {
  if (a.frames.length !== b.frames.length) throw new InternalError('joining states of different call depths');
  const J = new Joiner(a, b, widen, ts, force);
  const frames: Frame[] = a.frames.map((fa, d) => {
    const fb = b.frames[d];
    if (fa.callsite !== fb.callsite || fa.fn !== fb.fn) throw new InternalError('joining states of different call chains');
    const regs = fa.regs.map((v, r) => J.value(v, fb.regs[r]));
    const stack = fa.stack.map((s, i) => J.slot(s, fb.stack[i]));
    return { regs, stack, ownStack: true, callsite: fa.callsite, fn: fa.fn, rels: joinRels(fa.rels, fb.rels, widen) };
  });
  // Packet base 0 exists in every state of a program with packets; keep it even when no register holds it.
  const pkts = J.pkts;
  if (!pkts.has(0) && a.pkts.has(0) && b.pkts.has(0)) {
    const ra = a.pkts.get(0)!.range;
    const rb = b.pkts.get(0)!.range;
    pkts.set(0, { var: scalarConst(0n), range: rb >= ra ? ra : widen ? (rb >= 0 ? 0 : -Infinity) : rb });
  }
  // References: those paired through the values that hold them, then the rest (only held on some paths).
  const refs = new Map<number, RefInfo>();
  const usedA = new Set<number>();
  const usedB = new Set<number>();
  for (const [j, [ia, ib]] of J.refPairs) {
    const ra = a.refs.get(ia);
    const rb = b.refs.get(ib);
    if (ra === undefined && rb === undefined) continue;
    usedA.add(ia);
    usedB.add(ib);
    refs.set(j, { origin: Math.min(ra?.origin ?? Infinity, rb?.origin ?? Infinity), maybe: ra === undefined || rb === undefined || ra.maybe || rb.maybe });
  }
  for (const [id, r] of a.refs) if (!usedA.has(id)) refs.set(J.next++, { origin: r.origin, maybe: true });
  for (const [id, r] of b.refs) if (!usedB.has(id)) refs.set(J.next++, { origin: r.origin, maybe: true });
  return canonicalize(new State(frames, pkts, refs, J.next));
}
