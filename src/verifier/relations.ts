/**
 * Length relations: a small relational domain that ties a packet pointer (or the packet start) to a counter
 * register, so that a loop advancing a pointer while a counter bounded by the length counts down is proven in
 * bounds. One relation reads
 *
 *     {p, x, k, c}      p + k·x + c <= end          (over the integers: no wrap)
 *
 * - p: a register of the frame holding a packet pointer, or {@link DATA} (-1), the packet start (base 0);
 * - x: a register of the frame holding a scalar, read as an unsigned number;
 * - k: a multiplier in [0, {@link MAX_K}] (k = 0 is a plain "p + c <= end"); c: |c| <= {@link MAX_C};
 * - end: the packet's end (data_end; for `raw` programs data + r2). Pointers are the packet model's (state.ts):
 *   a pointer's offset from data is its base's variable part plus its constant, as integers.
 *
 * Why this and not a zone domain: every fact the packet model needs is an upper bound of a pointer against the
 * end, and the pointer's slack (state.ts `range`) already carries the non-relational half of it; the missing
 * half is how that slack grows with a counter. A relation per (pointer, counter, multiplier) is exactly that,
 * costs nothing for programs without one (the list is empty), and its join is an intersection with no closure to
 * compute. The relations of a frame live in {@link Frame.rels} (state.ts) and name registers only, so they need
 * no renaming when ids are canonicalised, and a write to a register drops every relation naming it
 * (`State.setReg`) unless the transfer below says how it moves.
 *
 * Where they come from: a `raw` program starts with {DATA, r2, 1, 0} (the length); `x = y` and `p = q` copy
 * relations; `p = data + f` turns {DATA, ...} into relations on p. How they move (each only when the concrete
 * operation cannot wrap, checked on the operands' ranges):
 *
 *     x += d (d in [lo, hi])      c -= k·hi               p += d          c -= hi
 *     x >>= n, x /= n            k *= 2^n, k *= n         x &= y, x %= y, x >>= y, x /= y (32 or 64 bits)    kept
 *     x <<= n (2^n divides k)    k /= 2^n
 *     p += x (k >= 1)            k -= 1                   anything else on p or x                              dropped
 *
 * What they give: `x >= umin(x)` so `p + k·umin(x) + c <= end`: the pointer's slack rises to k·umin(x) + c
 * ({@link relationSlacks}, applied by transfer.ts `realizeRelations` to the relations of a register an ALU step
 * just wrote or a branch just refined: where the slack or umin may have grown).
 * Joins keep a relation both sides have, with the smaller c; widening drops one whose c still shrinks.
 *
 * Not here: the packet model and its ranges (state.ts), applying the slacks (transfer.ts `realizeRelations`).
 */

import type { AluOp, Width } from '../isa/insn.js';
import type { Value } from './value.js';

/** `p` of a relation about the packet start itself (base 0, offset 0) rather than a register. */
export const DATA = -1;
/** Largest multiplier kept. */
export const MAX_K = 1 << 20;
/** Largest |c| kept: bounds every pointer a relation speaks of far below 2^63. */
export const MAX_C = 2 ** 40;
/** Relations per frame, at most (beyond that the newest are dropped: forgetting a fact is always sound). */
const MAX_RELS = 32;

/** `p + k·x + c <= end` (see the file header). */
export interface LenRel {
  readonly p: number;
  readonly x: number;
  readonly k: number;
  readonly c: number;
}

/** The relation every `raw` program starts with: data + 1·r2 + 0 <= end (r2 is the length). */
export const RAW_LENGTH: LenRel = Object.freeze({ p: DATA, x: 2, k: 1, c: 0 });

const TWO64 = 1n << 64n;

function valid(r: LenRel): boolean {
  return Number.isSafeInteger(r.c) && Math.abs(r.c) <= MAX_C && Number.isInteger(r.k) && r.k >= 0 && r.k <= MAX_K && r.p !== r.x;
}

function order(a: LenRel, b: LenRel): number {
  return a.p - b.p || a.x - b.x || a.k - b.k;
}

/** Canonical form: valid relations only, one per (p, x, k) with the largest c, sorted, at most {@link MAX_RELS}. */
export function canonicalRels(rels: readonly LenRel[]): readonly LenRel[] {
  if (rels.length === 0) return rels;
  const out: LenRel[] = [];
  for (const r of [...rels].filter(valid).sort((a, b) => order(a, b) || b.c - a.c)) {
    const last = out[out.length - 1];
    if (last === undefined || order(last, r) !== 0) out.push(r);
  }
  return out.length > MAX_RELS ? out.slice(0, MAX_RELS) : out;
}

/** The relations that do not name register `r` (after a write to it that no rule explains). */
export function relsWithout(rels: readonly LenRel[], r: number): readonly LenRel[] {
  if (rels.length === 0) return rels;
  let hit = false;
  for (const x of rels) if (x.p === r || x.x === r) hit = true;
  return hit ? rels.filter((x) => x.p !== r && x.x !== r) : rels;
}

/** Equality of two canonical lists. */
export function relsEqual(a: readonly LenRel[], b: readonly LenRel[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (order(a[i], b[i]) !== 0 || a[i].c !== b[i].c) return false;
  return true;
}

/**
 * The join of two canonical lists: the relations both hold, with the smaller c. With `widen` (`a` the old
 * state), a relation whose c shrinks is dropped, so that every chain of joins is short.
 */
export function joinRels(a: readonly LenRel[], b: readonly LenRel[], widen: boolean): readonly LenRel[] {
  if (a.length === 0 || b.length === 0) return a.length === 0 ? a : b;
  const out: LenRel[] = [];
  let j = 0;
  for (const r of a) {
    while (j < b.length && order(b[j], r) < 0) j++;
    if (j >= b.length) break;
    const s = b[j];
    if (order(s, r) !== 0) continue;
    if (s.c >= r.c) out.push(r);
    else if (!widen) out.push(s);
  }
  return out;
}

/** A scalar's bounds as needed here: unsigned range and signed range. */
interface Bounds {
  readonly umin: bigint;
  readonly umax: bigint;
  readonly smin: bigint;
  readonly smax: bigint;
}

function boundsOf(v: Value): Bounds | undefined {
  return v.t === 'scalar' ? v.s : undefined;
}

/** The amount `op` adds to the destination, as a signed interval, when it is an addition or subtraction. */
function delta(op: AluOp, b: Bounds): [bigint, bigint] | undefined {
  const lim = BigInt(MAX_C);
  if (b.smin < -lim || b.smax > lim) return undefined;
  if (op === 'add') return [b.smin, b.smax];
  if (op === 'sub') return [-b.smax, -b.smin];
  return undefined;
}

/**
 * For an operation whose result y satisfies m·y <= x for the old x (both unsigned), the multiplier m; else
 * undefined. Holds at 32 bits too: the result is at most the low half of x, which is at most x.
 */
function shrinkFactor(op: AluOp, width: Width, src: Value, srcIsImm: boolean): number | undefined {
  const c = srcIsImm && src.t === 'scalar' && src.s.umin === src.s.umax ? src.s.umin : undefined;
  switch (op) {
    case 'and': case 'mod': return 1;
    case 'rsh': return c !== undefined ? 2 ** Number(c & (width === 64 ? 63n : 31n)) : 1;
    case 'div': return c === undefined || c === 0n ? 1 : c <= BigInt(MAX_K) ? Number(c) : undefined;
    default: return undefined;
  }
}

/** An ALU instruction as the relations see it. */
export interface AluStep {
  readonly op: AluOp;
  readonly width: Width;
  readonly dst: number;
  /** The source register, when the source is one. */
  readonly srcReg?: number;
  /** dst before, src, and dst after. */
  readonly before: Value;
  readonly src: Value;
  readonly after: Value;
}

/**
 * The relations after `dst = dst op src` (see the file header's table). The result is canonical, and `rels`
 * itself when the instruction neither names a related register nor makes a pointer from the packet start.
 */
export function relsAfterAlu(rels: readonly LenRel[], step: AluStep): readonly LenRel[] {
  const { op, width, dst, srcReg, before, src, after } = step;
  if (rels.length === 0) return rels;
  if (op === 'mov' && srcReg === dst && width === 64) return rels;
  const from = op === 'mov' ? src : before;
  const fromStart = from.t === 'pkt' && from.id === 0;
  if (!fromStart && !rels.some((r) => r.p === dst || r.x === dst || (op === 'mov' && (r.p === srcReg || r.x === srcReg)))) return rels;
  const out: LenRel[] = rels.filter((r) => r.p !== dst && r.x !== dst);
  const mine = rels.filter((r) => r.p === dst || r.x === dst);
  // Copies: dst = src (64-bit; a 32-bit copy of a counter is at most the counter).
  if (op === 'mov' && srcReg !== undefined && srcReg !== dst) {
    for (const r of rels) {
      if (r.x === srcReg && after.t === 'scalar') out.push({ ...r, x: dst });
      if (r.p === srcReg && width === 64 && after.t === 'pkt') out.push({ ...r, p: dst });
    }
    if (width === 64 && src.t === 'pkt' && src.id === 0) for (const r of rels) if (r.p === DATA) out.push({ ...r, p: dst, c: r.c - src.fix });
    return canonicalRels(out);
  }
  // dst is the counter x of some relations: x += d, or x shrinks (a 32-bit `mov32 x, x` keeps the low half).
  const xb = boundsOf(before);
  if (xb !== undefined && after.t === 'scalar') {
    const d = width === 64 && srcReg !== dst && src.t === 'scalar' ? delta(op, src.s) : undefined;
    const m = op === 'mov' ? (srcReg === dst ? 1 : undefined) : shrinkFactor(op, width, src, srcReg === undefined);
    // x <<= n (64-bit, no bit lost): k·x = (k / 2^n)·(x << n), when 2^n divides k.
    const n = op === 'lsh' && width === 64 && srcReg === undefined && src.t === 'scalar' ? Number(src.s.umin & 63n) : undefined;
    for (const r of mine) {
      if (r.x !== dst) continue;
      if (n !== undefined) {
        if (r.k % 2 ** n === 0 && xb.umax << BigInt(n) < TWO64) out.push({ ...r, k: r.k / 2 ** n });
      } else if (d !== undefined) {
        if (xb.umin + d[0] >= 0n && xb.umax + d[1] < TWO64) out.push({ ...r, c: r.c - r.k * Number(d[1]) });
      } else if (m !== undefined) out.push({ ...r, k: r.k * m });
    }
  }
  // dst is the pointer p of some relations, or becomes one: p += d.
  if (after.t === 'pkt' && width === 64 && (op === 'add' || op === 'sub')) {
    const d = src.t === 'scalar' ? delta(op, src.s) : undefined;
    const grow = (r: LenRel, base: number): void => {
      if (op === 'add' && srcReg !== undefined && r.x === srcReg && r.k >= 1) out.push({ p: dst, x: r.x, k: r.k - 1, c: r.c - base });
      else if (d !== undefined && r.x !== dst) out.push({ p: dst, x: r.x, k: r.k, c: r.c - base - Number(d[1]) });
    };
    if (before.t === 'pkt') for (const r of mine) if (r.p === dst) grow(r, 0);
    if (before.t === 'pkt' && before.id === 0) for (const r of rels) if (r.p === DATA) grow(r, before.fix);
  }
  return canonicalRels(out);
}

/** What a relation proves now: pointer register p (or DATA) has at least `slack` bytes before the end. */
export interface RelSlack {
  readonly p: number;
  readonly slack: number;
}

/** The slacks the relations prove, given each register's value (`p + k·umin(x) + c <= end`). */
export function relationSlacks(rels: readonly LenRel[], reg: (r: number) => Value): RelSlack[] {
  const out: RelSlack[] = [];
  for (const r of rels) {
    const x = reg(r.x);
    if (x.t !== 'scalar') continue;
    if (r.p !== DATA && reg(r.p).t !== 'pkt') continue;
    const s = BigInt(r.k) * x.s.umin + BigInt(r.c);
    if (s <= 0n) continue;
    out.push({ p: r.p, slack: s > 1n << 33n ? 2 ** 33 : Number(s) });
  }
  return out;
}

/** `r4 + 4·r5 + 4 <= input_end`, for the log; `start` names {@link DATA}. */
export function formatRel(r: LenRel, start: string, end: string): string {
  const p = r.p === DATA ? start : `r${r.p}`;
  const kx = r.k === 0 ? '' : ` + ${r.k === 1 ? '' : `${r.k}·`}r${r.x}`;
  const c = r.c === 0 ? '' : r.c > 0 ? ` + ${r.c}` : ` - ${-r.c}`;
  return `${p}${kx}${c} <= ${end}`;
}
