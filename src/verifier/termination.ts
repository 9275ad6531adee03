/**
 * Termination: a proof that every loop runs a bounded number of times, from the facts the analysis proved.
 *
 * A loop is a strongly connected component S of the instruction graph (feasible edges only, within one
 * function). S terminates when some register x (a counter or a pointer, at 64 or 32 bits, growing or shrinking)
 * is a *measure* for it:
 *
 *   1. monotone: every instruction of S that writes x moves it by an amount in [0, D] (or [-D, 0]), and at least
 *      one moves it by at least 1: call those the *steps*. Only moves after the loop's second backward edge count:
 *      before it, on the first trips through S (each on forward edges only, so finite), a write to x is its
 *      initialisation. x is a ghost value the register holds when it is written from a known difference (see
 *      `transfer`), so a register reused for something else inside the loop can still be the measure;
 *   2. bounded: at the instructions C of S where x is proven bounded (x <= U as a number, or, for a packet or
 *      input pointer, x <= the end), and C cuts every cycle of S. The bound comes from the analysis's states
 *      where the register holds x, or from the loop's own comparisons: the relational analysis below also keeps
 *      an interval for x, narrowed on each side of a jump that compares a register at a known distance from x
 *      with a constant (so a bound checked on a copy, `r4 = r3; r4 <<= 32; r4 >>= 32; if r4 > 8`, bounds r3,
 *      and a test made before the loop's entry is joined in still bounds the next trips);
 *   3. no wrap: U + M stays below the width's maximum (pointers: below 2^32 + that margin), where M, the sum of
 *      the largest moves of the steps, bounds how far x moves between two passes through C (C cuts every cycle,
 *      so no instruction of S runs twice between them). Or, bounded on the other side, L - M >= 0 for a growing
 *      x (L its lower bound at C): a wrap would leave it below M at the next pass through C, so there is none,
 *      and x grows as an integer up to the width's maximum (a shrinking x likewise, with U + M <= max);
 *   4. what remains once the steps are removed from S terminates too (each of its SCCs, recursively, with a
 *      measure of its own): loops nested in S, or paths of S that do not step x.
 * A loop whose steady phase (1) no path reaches needs none of this: every trip into it takes fewer than two
 * backward edges (the interval of x ran out first, as in `for (i = 0; i < 2; i++)`).
 *
 * Why that suffices: after x first passes a point of C, it can no longer wrap (3), so each trip around a cycle
 * of S, which passes a step (1, 4) and a point of C (2), leaves x strictly larger yet at most U: finitely many
 * trips. The moves of x are found by a small relational analysis over S: each register's difference from x
 * (`r - x`) as an interval, so `r2 = r1 + 1; r1 = r2` steps r1 by 1 as surely as `r1 += 1` does.
 *
 * Recursion needs no proof here: the call depth is bounded (8 frames), statically in strict mode and at run time
 * otherwise. Callbacks run by helpers are bounded by the helper (bpf_loop's count, a map's entries).
 *
 * Not here: the analysis (analyze.ts), the budget that enforces termination of unproven loops (the runtime).
 */

import type { Insn, JcondInsn } from '../isa/insn.js';
import type { Program } from '../isa/program.js';
import { MAX_CALL_DEPTH } from '../exec.js';
import { scalarConstValue } from './scalar.js';
import type { Analyzer, PcFacts } from './analyze.js';
import type { Env } from './env.js';
import type { State } from './state.js';

/** An unproven loop. */
export interface LoopFailure {
  /** A slot of the loop (its first). */
  readonly pc: number;
  /** The loop's slots, ascending. */
  readonly pcs: readonly number[];
  readonly detail: string;
}

type Iv = readonly [bigint, bigint] | null; // null = unknown
/** Backward edges after which a loop's moves must be monotone (see `tryMeasure`). */
const STEADY = 2;
const LIM = 1n << 40n;

function ivAdd(a: Iv, b: Iv): Iv {
  if (a === null || b === null) return null;
  const r: [bigint, bigint] = [a[0] + b[0], a[1] + b[1]];
  return r[0] < -LIM || r[1] > LIM ? null : r;
}
function ivNeg(a: Iv): Iv {
  return a === null ? null : [-a[1], -a[0]];
}
function ivJoin(a: Iv | undefined, b: Iv): Iv {
  if (a === undefined) return b;
  if (a === null || b === null) return null;
  return [a[0] < b[0] ? a[0] : b[0], a[1] > b[1] ? a[1] : b[1]];
}
function ivEq(a: Iv | undefined, b: Iv | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a === null || b === null) return a === b;
  return a[0] === b[0] && a[1] === b[1];
}

/**
 * Registers' differences from X (see `transfer`), then at index {@link XR} the interval X itself lies in on the
 * paths analysed (unsigned, at the measure's width; null: unknown), narrowed by the loop's own comparisons, then
 * from {@link SHL} the differences of registers shifted left by 32.
 */
type Rel = Iv[];
const XR = 11;
/** Where a register's difference waits while the register holds it shifted left by 32 (see `transfer`). */
const SHL = 12;

/** A measure candidate. */
interface Measure {
  readonly reg: number;
  readonly width: 64 | 32;
}

/** The instruction graph of one function restricted to reachable slots and feasible edges. */
function graph(an: Analyzer, facts: PcFacts): Map<number, number[]> {
  const { program, cfg } = an.env;
  const n = program.slotCount;
  const g = new Map<number, number[]>();
  for (const pc of facts.reached) {
    const insn = program.insns[program.indexOfPc[pc]];
    const fn = cfg.functionOf(pc);
    let succs: readonly number[];
    if (insn.kind === 'ja' || insn.kind === 'jcond') succs = cfg.succs(pc).filter((s) => an.edges.has(pc * n + s));
    else if (insn.kind === 'exit') succs = [];
    else succs = cfg.succs(pc);
    g.set(pc, succs.filter((s) => s < n && facts.reached.has(s) && cfg.functionOf(s) === fn));
  }
  return g;
}

/** Tarjan's SCCs of the subgraph induced by `nodes`; only the cyclic ones, each sorted ascending. */
function cyclicSccs(g: Map<number, number[]>, nodes: ReadonlySet<number>): number[][] {
  let index = 0;
  const idx = new Map<number, number>();
  const low = new Map<number, number>();
  const onStack = new Set<number>();
  const stack: number[] = [];
  const out: number[][] = [];
  const succ = (v: number): number[] => (g.get(v) ?? []).filter((w) => nodes.has(w));
  for (const root of [...nodes].sort((a, b) => a - b)) {
    if (idx.has(root)) continue;
    // Iterative Tarjan.
    const work: Array<[number, number]> = [[root, 0]];
    idx.set(root, index);
    low.set(root, index++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const top = work[work.length - 1];
      const [v] = top;
      const ss = succ(v);
      if (top[1] < ss.length) {
        const w = ss[top[1]++];
        if (!idx.has(w)) {
          idx.set(w, index);
          low.set(w, index++);
          stack.push(w);
          onStack.add(w);
          work.push([w, 0]);
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
      } else {
        work.pop();
        if (work.length > 0) {
          const u = work[work.length - 1][0];
          low.set(u, Math.min(low.get(u)!, low.get(v)!));
        }
        if (low.get(v) === idx.get(v)) {
          const comp: number[] = [];
          let w: number;
          do {
            w = stack.pop()!;
            onStack.delete(w);
            comp.push(w);
          } while (w !== v);
          if (comp.length > 1 || succ(v).includes(v)) out.push(comp.sort((a, b) => a - b));
        }
      }
    }
  }
  return out;
}

/** Whether the subgraph induced by `nodes` has no cycle. */
function acyclic(g: Map<number, number[]>, nodes: ReadonlySet<number>): boolean {
  return cyclicSccs(g, nodes).length === 0;
}

/** The union over contexts of a register's scalar interval at a pc, as a signed interval, or null. */
function scalarRange(states: ReadonlyArray<{ state: State }>, reg: number): Iv {
  let out: Iv | undefined;
  for (const { state } of states) {
    const v = state.reg(reg);
    if (v.t !== 'scalar') return null;
    out = ivJoin(out, [v.s.smin, v.s.smax]);
  }
  return out === undefined || out === null || out[0] < -LIM || out[1] > LIM ? null : out;
}

/**
 * How an instruction moves X and the other registers' differences from it. X is the measure's value, a ghost
 * kept in step with the measure register while the register holds it: a write of the register with a known
 * difference moves X (a step); one with an unknown value (a load, a call) leaves X where it was and the register
 * no longer holds it (its difference becomes unknown), until a copy or an addition puts X back in it. On the
 * first trips (not `steady`) such a write is the loop's initialisation instead: X becomes the new value.
 *
 * For a 32-bit measure, `r <<= 32` keeps r's difference aside (at {@link SHL} + r: r = (X + d) << 32, copies
 * included), and `r >>= 32` brings it back: the zero-extension clang emits without alu32 (`r4 = r3; r4 <<= 32;
 * r4 >>= 32; if r4 > 8 ...`).
 */
function transfer(insn: Insn, m: Measure, rel: Rel, states: ReadonlyArray<{ state: State }>, steady: boolean): { rel: Rel; step: Iv | undefined } {
  const out = [...rel];
  let step: Iv | undefined;
  const max = m.width === 64 ? (1n << 64n) - 1n : (1n << 32n) - 1n;
  /** Register r now holds X + d (d null: unknown); `from`, when given, holds the same value (a copy's source). */
  const set = (r: number, d: Iv, from?: number): void => {
    out[SHL + r] = null;
    if (r !== m.reg) {
      out[r] = d;
      return;
    }
    if (d !== null) {
      // X moves by d; every other difference shifts by -d.
      step = d;
      for (let k = 0; k < XR; k++) {
        if (k !== m.reg) out[k] = ivAdd(out[k], ivNeg(d));
        out[SHL + k] = ivAdd(out[SHL + k], ivNeg(d));
      }
      out[m.reg] = [0n, 0n];
      const x = out[XR];
      out[XR] = x === null || x[0] + d[0] < 0n || x[1] + d[1] > max ? null : [x[0] + d[0], x[1] + d[1]];
    } else if (!steady) {
      for (let k = 0; k < out.length; k++) out[k] = null;
      out[m.reg] = [0n, 0n];
      if (from !== undefined && from !== m.reg) out[from] = [0n, 0n];
    } else {
      // X stays where it was: a move by 0 here, so this instruction is no strict step (whatever its other runs).
      step = [0n, 0n];
      out[m.reg] = null;
    }
  };
  const clobber = (r: number): void => set(r, null);
  switch (insn.kind) {
    case 'alu': {
      const wide = insn.width === 64 || m.width === 32; // a 32-bit op keeps low-half differences only
      if (insn.op === 'mov') {
        if (insn.src.kind === 'reg' && wide) {
          set(insn.dst, rel[insn.src.reg], insn.src.reg);
          if (insn.width === 64 && insn.dst !== m.reg) out[SHL + insn.dst] = rel[SHL + insn.src.reg];
        } else clobber(insn.dst);
        break;
      }
      if ((insn.op === 'add' || insn.op === 'sub') && wide) {
        let d: Iv;
        if (insn.src.kind === 'imm') d = [BigInt(insn.src.imm), BigInt(insn.src.imm)];
        else if (insn.src.reg === m.reg) d = null;
        else d = scalarRange(states, insn.src.reg);
        if (insn.op === 'sub') d = ivNeg(d);
        set(insn.dst, ivAdd(rel[insn.dst], d));
        break;
      }
      const by32 = m.width === 32 && insn.width === 64 && insn.src.kind === 'imm' && insn.src.imm === 32;
      if (by32 && insn.op === 'lsh') {
        const d = rel[insn.dst];
        const anchors = insn.dst === m.reg && !steady;
        clobber(insn.dst);
        if (!anchors) out[SHL + insn.dst] = d;
        break;
      }
      if (by32 && insn.op === 'rsh') {
        set(insn.dst, rel[SHL + insn.dst]);
        break;
      }
      clobber(insn.dst);
      break;
    }
    case 'neg': case 'movsx': case 'endian': case 'lddw': case 'load':
      clobber(insn.dst);
      break;
    case 'atomic':
      if (insn.op === 'cmpxchg') clobber(0);
      else if (insn.fetch) clobber(insn.src);
      break;
    case 'ldpkt':
      clobber(0);
      break;
    case 'call': case 'callx':
      for (let r = 0; r <= 5; r++) clobber(r);
      break;
    case 'store': case 'ja': case 'jcond': case 'exit':
      break;
  }
  return { rel: out, step };
}

/**
 * The relation on one side of a conditional jump: X's interval narrowed when the jump compares a register at a
 * known distance from X (r = X + d) with a constant (an immediate, or a register holding one constant on every
 * path); undefined when that side cannot be taken. Unsigned comparisons only (equality modulo 2^width; orders
 * only where X + d cannot wrap); a 64-bit comparison for a 32-bit measure only where the register is known to
 * fit in 32 bits.
 */
function refineX(insn: JcondInsn, m: Measure, rel: Rel, states: ReadonlyArray<{ state: State }>, taken: boolean): Rel | undefined {
  const cw = insn.cond.width;
  if (m.width === 64 && cw === 32) return rel;
  const max = m.width === 64 ? (1n << 64n) - 1n : (1n << 32n) - 1n;
  /** r = X + d (mod 2^width) with d exact: d, else undefined. */
  const offsetOf = (r: number): bigint | undefined => {
    const d = rel[r];
    if (d === null || d[0] !== d[1]) return undefined;
    if (m.width === 32 && cw === 64 && !(states.length > 0 && states.every(({ state }) => { const v = state.reg(r); return v.t === 'scalar' && v.s.umax <= max; }))) return undefined;
    return d[0];
  };
  const constOf = (op: JcondInsn['src'] | number): bigint | undefined => {
    const trunc = (v: bigint): bigint => (cw === 64 ? BigInt.asUintN(64, v) : BigInt.asUintN(32, v));
    if (typeof op !== 'number' && op.kind === 'imm') return trunc(BigInt(op.imm));
    const r = typeof op === 'number' ? op : op.reg;
    let c: bigint | undefined;
    for (const { state } of states) {
      const v = state.reg(r);
      const k = v.t === 'scalar' ? scalarConstValue(v.s) : undefined;
      if (k === undefined || (c !== undefined && trunc(k) !== c)) return undefined;
      c = trunc(k);
    }
    return c;
  };
  type Op = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';
  const NEG: Record<Op, Op> = { eq: 'ne', ne: 'eq', lt: 'ge', ge: 'lt', le: 'gt', gt: 'le' };
  const FLIP: Record<Op, Op> = { eq: 'eq', ne: 'ne', lt: 'gt', gt: 'lt', le: 'ge', ge: 'le' };
  const base = insn.cond.op;
  if (!(base in NEG)) return rel;
  let op = (taken ? base : NEG[base as Op]) as Op;
  let c: bigint | undefined;
  let d = offsetOf(insn.dst);
  if (d !== undefined) c = constOf(insn.src);
  else if (insn.src.kind === 'reg' && (d = offsetOf(insn.src.reg)) !== undefined) {
    c = constOf(insn.dst);
    op = FLIP[op];
  }
  if (c === undefined || d === undefined) return rel;
  const x = rel[XR] ?? [0n, max];
  let [lo, hi] = x;
  const mod = max + 1n;
  if (op === 'eq' || op === 'ne') {
    // r = X + d (mod 2^width): r == c  <=>  X == c - d (mod 2^width), whatever X is. (A 64-bit comparison of a
    // register below 2^32 with a larger constant: never equal.)
    if (c > max) return op === 'eq' ? undefined : rel;
    const k = (((c - d) % mod) + mod) % mod;
    if (op === 'eq') {
      if (k > lo) lo = k;
      if (k < hi) hi = k;
    } else {
      if (lo === k) lo++;
      if (hi === k) hi--;
    }
  } else {
    // Orders hold for r = X + d as integers, when X + d cannot wrap: then r op c  <=>  X op c - d.
    if (lo + d < 0n || hi + d > max) return rel;
    const k = c - d;
    switch (op) {
      case 'lt': if (k - 1n < hi) hi = k - 1n; break;
      case 'le': if (k < hi) hi = k; break;
      case 'gt': if (k + 1n > lo) lo = k + 1n; break;
      case 'ge': if (k > lo) lo = k; break;
    }
  }
  if (lo > hi) return undefined;
  const out = [...rel];
  out[XR] = lo === 0n && hi === max ? null : [lo, hi];
  return out;
}

/**
 * Tries `m` as a measure of the loop `scc`; on success returns the steps (to remove for the inner loops) and a
 * bound on the loop's trips (see {@link TerminationProof.backEdges}).
 */
function tryMeasure(env: Env, facts: PcFacts, g: Map<number, number[]>, scc: readonly number[], m: Measure, dir: 1 | -1): { strict: Set<number>; trips: bigint } | undefined {
  const { program } = env;
  const inS = new Set(scc);
  const stateList = (pc: number): ReadonlyArray<{ state: State }> => facts.statesAt(pc);
  // Entry nodes: those with a predecessor outside S (or the function entry).
  const preds = new Map<number, number[]>();
  for (const [u, ss] of g) for (const s of ss) if (inS.has(s)) preds.set(s, [...(preds.get(s) ?? []), u]);
  const top: Rel = new Array(SHL + 11).fill(null).map((_, r) => (r === m.reg ? [0n, 0n] : null));
  // Phases: the first trips (phase p < STEADY after p backward edges since S was entered; forward edges alone
  // cannot cycle, so they are finite) and the steady phase (after STEADY backward edges: every cycle of S has
  // one). On the first trips a write to x is its initialisation (`x = n` at the loop's entry, or a loop entered
  // in its middle); only the steady phase's moves must be monotone.
  const inRel: Array<Map<number, Rel>> = Array.from({ length: STEADY + 1 }, () => new Map<number, Rel>());
  for (const pc of scc) if ((preds.get(pc) ?? []).some((p) => !inS.has(p)) || (preds.get(pc) ?? []).length === 0) inRel[0].set(pc, top);
  if (inRel[0].size === 0) inRel[0].set(scc[0], top);
  const steps = new Map<number, Iv>();
  const rounds = new Map<number, number>();
  const key = (pc: number, phase: number): number => pc * (STEADY + 1) + phase;
  const work: Array<[number, number]> = [...inRel[0].keys()].map((pc) => [pc, 0]);
  const queued = new Set<number>(work.map(([pc]) => key(pc, 0)));
  let guard = 0;
  while (work.length > 0) {
    if (++guard > 50_000) return undefined;
    const [pc, phase] = work.shift()!;
    queued.delete(key(pc, phase));
    const insn = program.insns[program.indexOfPc[pc]];
    const { rel: out, step } = transfer(insn, m, inRel[phase].get(pc)!, stateList(pc), phase === STEADY);
    if (step !== undefined && phase === STEADY) steps.set(pc, ivJoin(steps.get(pc), step));
    for (const s of g.get(pc) ?? []) {
      if (!inS.has(s)) continue;
      let rel = out;
      if (insn.kind === 'jcond' && insn.target !== pc + 1) {
        const side = refineX(insn, m, out, stateList(pc), s === insn.target);
        if (side === undefined) continue;
        rel = side;
      }
      const to = s <= pc ? Math.min(phase + 1, STEADY) : phase;
      const old = inRel[to].get(s);
      const k = key(s, to);
      const r = (rounds.get(k) ?? 0) + 1;
      rounds.set(k, r);
      const joined = old === undefined ? rel : rel.map((iv, j) => {
        const u = ivJoin(old[j], iv);
        return r > 6 && !ivEq(u, old[j]) ? null : u; // widening: a difference still changing is unknown
      });
      if (old !== undefined && joined.every((iv, j) => ivEq(iv, old[j]))) continue;
      inRel[to].set(s, joined);
      if (!queued.has(k)) {
        queued.add(k);
        work.push([s, to]);
      }
    }
  }
  // No path gets to the steady phase: every trip into S takes fewer than STEADY backward edges (X's interval ran
  // out first, as in `for (i = 0; i < 2; i++)`), and nothing inside it can cycle either.
  if (inRel[STEADY].size === 0) return { strict: new Set(scc), trips: BigInt(STEADY) };
  // 1. Monotone, with strict steps.
  // The margin: how far x may move between two consecutive passes through the bound points C. C cuts every
  // cycle, so the path between them visits each instruction of S at most once: at most the sum of the steps.
  let margin = 0n;
  const strict = new Set<number>();
  for (const [pc, s] of steps) {
    if (s === null) return undefined;
    const [lo, hi] = dir === 1 ? s : [-s[1], -s[0]];
    if (lo < 0n) return undefined;
    margin += hi;
    if (lo >= 1n) strict.add(pc);
  }
  if (strict.size === 0) return undefined;
  // 2-3. Bounded at a set of points that cuts every cycle, without wrapping.
  const max = m.width === 64 ? (1n << 64n) - 1n : (1n << 32n) - 1n;
  const smax = m.width === 64 ? (1n << 63n) - 1n : (1n << 31n) - 1n;
  /** The bound the states give X at pc (the register holding it): an upper one when `toward` is 1, else lower. */
  const bounded = (pc: number, kind: 'u' | 's' | 'ptr', toward: 1 | -1): bigint | undefined => {
    let bound: bigint | undefined;
    for (const { state } of stateList(pc)) {
      const v = state.reg(m.reg);
      let b: bigint | undefined;
      if (kind === 'ptr') {
        if (m.width !== 64 || dir !== 1) return undefined;
        if (v.t === 'pkt') {
          const base = state.pkts.get(v.id);
          if (base === undefined || base.range === -Infinity || base.range - v.fix < 0) return undefined;
          b = 0n;
        } else if ((v.t === 'mem' || v.t === 'stack') && v.off.smax < LIM) b = 0n;
        else return undefined;
      } else {
        if (v.t !== 'scalar') return undefined;
        const s = v.s;
        if (kind === 'u') b = toward === 1 ? (m.width === 64 ? s.umax : s.u32max) : (m.width === 64 ? s.umin : s.u32min);
        else b = toward === 1 ? (m.width === 64 ? s.smax : s.s32max) : (m.width === 64 ? s.smin : s.s32min);
      }
      bound = bound === undefined ? b : toward === 1 ? (b > bound ? b : bound) : (b < bound ? b : bound);
    }
    return bound;
  };
  const fits = (kind: 'u' | 'away' | 's' | 'ptr', U: bigint): boolean => {
    if (kind === 'ptr') return margin < 1n << 40n;
    if (kind === 'away') return dir === 1 ? U - margin >= 0n : U + margin <= max;
    if (dir === 1) return U + margin <= (kind === 'u' ? max : smax);
    return U - margin >= (kind === 'u' ? 0n : -smax - 1n);
  };
  // C: the bound points whose bound is at most U (dir -1: at least U), for the tightest U that still cuts every
  // cycle and leaves no room to wrap: a bound checked in the loop, not one merely inherited from its entry.
  // `away` bounds X on the other side (dir 1: at least L, with L - M >= 0): a wrap between two passes through C
  // would leave X below M at the next, so there is none, and X grows as an integer up to the width's maximum.
  let ok = false;
  let trips = 0n;
  for (const kind of ['u', 'away', 's', 'ptr'] as const) {
    const bounds = new Map<number, bigint>();
    const toward = kind === 'away' ? -dir as 1 | -1 : dir;
    for (const pc of scc) {
      const at = inRel[STEADY].get(pc);
      if (at === undefined) continue;
      // A bound point: where the register holds X on every steady path (the states bound it), or where the
      // loop's own comparisons bound X.
      const held = at[m.reg];
      const fromState = held !== null && held[0] === 0n && held[1] === 0n ? bounded(pc, kind === 'away' ? 'u' : kind, toward) : undefined;
      const x = kind === 'u' || kind === 'away' ? at[XR] : null;
      const fromX = x === null ? undefined : toward === 1 ? x[1] : x[0];
      const b = fromState === undefined ? fromX : fromX === undefined ? fromState : toward === 1 ? (fromX < fromState ? fromX : fromState) : (fromX > fromState ? fromX : fromState);
      if (b !== undefined) bounds.set(pc, b);
    }
    const candidates = [...new Set(bounds.values())].sort((a, b) => (toward === 1 ? (a < b ? -1 : a > b ? 1 : 0) : (a > b ? -1 : a < b ? 1 : 0)));
    for (const U of candidates) {
      if (!fits(kind, U)) continue;
      const C = new Set([...bounds].filter(([, b]) => (toward === 1 ? b <= U : b >= U)).map(([pc]) => pc));
      if (acyclic(g, new Set(scc.filter((pc) => !C.has(pc))))) {
        ok = true;
        // The trips: passes through a strict step. Between two of them the path passes a point where x is at
        // most U', for the tightest U' whose points cut every cycle through a strict step (cycles without one are
        // the nested loops', bounded on their own), so the trips are bounded by x's range up to U' (x no longer
        // wraps: see above). Not for `away`, whose bound is on the other side.
        trips = tripBound(kind, U, C);
        if (kind !== 'away') {
          for (const V of candidates) {
            if (toward === 1 ? V >= U : V <= U) break;
            const Cv = new Set([...bounds].filter(([, b]) => (toward === 1 ? b <= V : b >= V)).map(([pc]) => pc));
            const left = new Set(scc.filter((pc) => !Cv.has(pc)));
            if (cyclicSccs(g, left).every((cycle) => !cycle.some((pc) => strict.has(pc)))) {
              trips = tripBound(kind, V, Cv);
              break;
            }
          }
        }
        break;
      }
    }
    if (ok) break;
  }
  return ok ? { strict, trips } : undefined;

  /**
   * How many trips the loop may take: each passes a point of C and a strict step (x moves by at least 1), so at
   * most the distance x can cover, from the other side of its range at C to the bound U, plus the first trips.
   * A pointer covers at most its object (a packet: 2^16; the stack; a map value: taken as 2^32).
   */
  function tripBound(kind: 'u' | 'away' | 's' | 'ptr', U: bigint, C: ReadonlySet<number>): bigint {
    let range: bigint;
    if (kind === 'ptr') {
      range = 0n;
      for (const pc of C) {
        for (const { state } of stateList(pc)) {
          const t = state.reg(m.reg).t;
          const r = t === 'pkt' ? 1n << 16n : t === 'stack' ? 1n << 12n : 1n << 32n;
          if (r > range) range = r;
        }
      }
    } else if (kind === 'away') {
      // Bounded on the other side only: x may run to the end of its width.
      range = max;
    } else {
      // The start side: the other bound of x at the points of C (states and the loop's own comparisons).
      let start: bigint | undefined;
      for (const pc of C) {
        const at = inRel[STEADY].get(pc);
        const x = kind === 'u' && at !== undefined ? at[XR] : null;
        const fromState = at !== undefined && at[m.reg] !== null && at[m.reg]![0] === 0n && at[m.reg]![1] === 0n ? bounded(pc, kind, dir === 1 ? -1 : 1) : undefined;
        const fromX = x === null ? undefined : dir === 1 ? x[0] : x[1];
        let b = fromState;
        if (fromX !== undefined) b = b === undefined ? fromX : dir === 1 ? (fromX > b ? fromX : b) : (fromX < b ? fromX : b);
        if (b === undefined) {
          start = undefined;
          break;
        }
        start = start === undefined ? b : dir === 1 ? (b < start ? b : start) : (b > start ? b : start);
      }
      const lo = kind === 'u' ? 0n : -smax - 1n;
      const hi = kind === 'u' ? max : smax;
      const from = start ?? (dir === 1 ? lo : hi);
      range = dir === 1 ? U - from : from - U;
      if (range < 0n) range = 0n;
    }
    return range + 1n + BigInt(STEADY);
  }
}

/**
 * Proves the loop `scc` terminates (see the file header): a bound on the backward jumps one entry into it takes
 * (its trips, times those of the loops nested in it), or the innermost failure.
 */
function proveLoop(env: Env, facts: PcFacts, g: Map<number, number[]>, scc: readonly number[], depth: number): LoopFailure | bigint {
  if (depth > 16) return { pc: scc[0], pcs: scc, detail: 'loops nest too deeply to prove' };
  let innermost: LoopFailure | undefined;
  // Candidates: registers some instruction of the loop moves by addition, subtraction or a copy.
  const moved = new Set<number>();
  for (const pc of scc) {
    const insn = env.program.insns[env.program.indexOfPc[pc]];
    if (insn.kind === 'alu' && (insn.op === 'add' || insn.op === 'sub' || (insn.op === 'mov' && insn.src.kind === 'reg'))) moved.add(insn.dst);
  }
  let best: bigint | undefined;
  const tries: Measure[] = [];
  for (const width of [64, 32] as const) for (const reg of [...moved].sort((a, b) => a - b)) tries.push({ reg, width });
  for (const m of tries) {
    for (const dir of [1, -1] as const) {
      const measured = tryMeasure(env, facts, g, scc, m, dir);
      if (measured === undefined) continue;
      const rest = new Set(scc.filter((pc) => !measured.strict.has(pc)));
      let failed: LoopFailure | undefined;
      let inner = 0n;
      for (const loop of cyclicSccs(g, rest)) {
        const r = proveLoop(env, facts, g, loop, depth + 1);
        if (typeof r !== 'bigint') {
          failed = r;
          break;
        }
        inner = capped(inner + r);
      }
      // Each trip runs the nested loops once each at most (they are SCCs of what the steps leave).
      if (failed === undefined) {
        const bound = capped(measured.trips * (1n + inner));
        if (best === undefined || bound < best) best = bound;
        // Another measure may bound the loop more tightly (a counter rather than an accumulator that only
        // grows): look on while the bound is large.
        if (best <= GOOD_ENOUGH) return best;
        continue;
      }
      innermost ??= failed;
    }
  }
  if (best !== undefined) return best;
  return innermost ?? {
    pc: scc[0],
    pcs: scc,
    detail: `the loop at pcs ${scc[0]}..${scc[scc.length - 1]} may not terminate: no register moves toward a proven bound on every iteration (count with a register compared against a constant, or advance a pointer compared against the end)`,
  };
}

/** A loop bound small enough that {@link proveLoop} looks for no tighter one. */
const GOOD_ENOUGH = 1n << 20n;
/** Bounds stop growing here: beyond it, a bound means nothing to a run. */
const CAP = 1n << 80n;
const capped = (x: bigint): bigint => (x > CAP ? CAP : x);

/** What {@link proveTermination} found. */
export interface TerminationProof {
  /** The first unproven loop (in pc order); undefined when every loop is proven to terminate. */
  readonly failure: LoopFailure | undefined;
  /**
   * When every loop is proven: an upper bound on the taken backward jumps plus local calls of one run (what a
   * run's budget counts), so that a runtime can tell a loop that ends in practice from one that ends after 2^64
   * trips; undefined when the proof gives none (a loop outside the main function, or callbacks).
   */
  readonly backEdges: bigint | undefined;
}

/** Proves every loop of the program terminates; the first unproven loop otherwise (in pc order). */
export function proveTermination(an: Analyzer, facts: PcFacts): TerminationProof {
  const g = graph(an, facts);
  const all = new Set(g.keys());
  const { program } = an.env;
  const functions = program.functions;
  const mainEnd = functions.length > 1 ? functions[1] : Infinity;
  let loops = 0n;
  let bounded = !program.insns.some((i) => i.kind === 'lddw' && i.src === 'code_addr'); // callbacks: run by helpers
  for (const scc of cyclicSccs(g, all).sort((a, b) => a[0] - b[0])) {
    const r = proveLoop(an.env, facts, g, scc, 0);
    if (typeof r !== 'bigint') return { failure: r, backEdges: undefined };
    // A loop in a called function runs once per call, which the sum below does not count.
    if (scc[0] >= mainEnd) bounded = false;
    loops = capped(loops + r);
  }
  return { failure: undefined, backEdges: bounded ? capped(loops + callBound(program, loops)) : undefined };
}

/**
 * A bound on the local calls of one run whose main function takes at most `loops` backward jumps and whose other
 * functions have no loop: each call instruction of main runs at most `loops + 1` times, and a call makes at most
 * C calls of its own down a chain as deep as the call graph's longest path (MAX_CALL_DEPTH with recursion).
 */
export function callBound(program: Program, loops: bigint): bigint {
  const fnOf = (pc: number): number => {
    let f = 0;
    for (let i = 0; i < program.functions.length && program.functions[i] <= pc; i++) f = i;
    return f;
  };
  const calls: { from: number; to: number }[] = [];
  for (const i of program.insns) {
    if (i.kind === 'call' && i.target.kind === 'local') calls.push({ from: fnOf(i.pc), to: fnOf(i.target.pc) });
  }
  if (calls.length === 0) return 0n;
  // Longest call chain: depth-first over the call graph; a cycle means recursion, bounded by the frame limit.
  const memo = new Map<number, number>();
  const onPath = new Set<number>();
  let cyclic = false;
  const longest = (f: number): number => {
    const known = memo.get(f);
    if (known !== undefined) return known;
    if (onPath.has(f)) {
      cyclic = true;
      return 0;
    }
    onPath.add(f);
    let d = 0;
    for (const c of calls) if (c.from === f) d = Math.max(d, 1 + longest(c.to));
    onPath.delete(f);
    memo.set(f, d);
    return d;
  };
  const depth = longest(0);
  const chain = cyclic ? MAX_CALL_DEPTH : Math.min(depth, MAX_CALL_DEPTH);
  const c = BigInt(calls.length);
  let perEntry = 0n;
  for (let k = 1, p = c; k <= chain; k++, p *= c) perEntry = capped(perEntry + p);
  return capped((loops + 1n) * perEntry);
}
