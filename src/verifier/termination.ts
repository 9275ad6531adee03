/**
 * Termination: a proof that every loop runs a bounded number of times, from the facts the analysis proved.
 *
 * A loop is a strongly connected component S of the instruction graph (feasible edges only, within one
 * function). S terminates when some register x (a counter or a pointer, at 64 or 32 bits, growing or shrinking)
 * is a *measure* for it:
 *
 *   1. monotone: every instruction of S that writes x moves it by an amount in [0, D] (or [-D, 0]), and at least
 *      one moves it by at least 1: call those the *steps*;
 *   2. bounded: at the instructions C of S where the analysis proves a bound on x (x <= U as a number, or, for a
 *      packet or input pointer, x <= the end), and C cuts every cycle of S;
 *   3. no wrap: U + |S| * D stays below the width's maximum (pointers: below 2^32 + that margin);
 *   4. what remains once the steps are removed from S terminates too (each of its SCCs, recursively, with a
 *      measure of its own): loops nested in S, or paths of S that do not step x.
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

import type { Insn } from '../isa/insn.js';
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

/** Registers' differences from x (x itself is always [0, 0]). */
type Rel = Iv[];

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

/** How an instruction moves x and the other registers' differences from it. */
function transfer(insn: Insn, m: Measure, rel: Rel, states: ReadonlyArray<{ state: State }>): { rel: Rel; step: Iv | undefined } {
  const out = [...rel];
  let step: Iv | undefined;
  const set = (r: number, d: Iv, isCopyOrAdd: boolean): void => {
    if (r === m.reg) {
      // x moves by d (null: unknown); every other difference shifts by -d.
      const s = isCopyOrAdd ? d : null;
      step = s;
      for (let k = 0; k < out.length; k++) if (k !== m.reg) out[k] = ivAdd(out[k], ivNeg(s));
      out[m.reg] = [0n, 0n];
    } else out[r] = isCopyOrAdd ? d : null;
  };
  const clobber = (r: number): void => set(r, null, false);
  switch (insn.kind) {
    case 'alu': {
      const wide = insn.width === 64 || m.width === 32; // a 32-bit op keeps low-half differences only
      if (insn.op === 'mov') {
        if (insn.src.kind === 'reg' && wide) set(insn.dst, insn.dst === m.reg ? rel[insn.src.reg] : rel[insn.src.reg], true);
        else clobber(insn.dst);
        break;
      }
      if ((insn.op === 'add' || insn.op === 'sub') && wide) {
        let d: Iv;
        if (insn.src.kind === 'imm') d = [BigInt(insn.src.imm), BigInt(insn.src.imm)];
        else if (insn.src.reg === m.reg) d = null;
        else d = scalarRange(states, insn.src.reg);
        if (insn.op === 'sub') d = ivNeg(d);
        if (insn.dst === m.reg) set(insn.dst, d, true);
        else set(insn.dst, ivAdd(rel[insn.dst], d), true);
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

/** Tries `m` as a measure of the loop `scc`; on success returns the steps (to remove for the inner loops). */
function tryMeasure(env: Env, facts: PcFacts, g: Map<number, number[]>, scc: readonly number[], m: Measure, dir: 1 | -1): Set<number> | undefined {
  const { program } = env;
  const inS = new Set(scc);
  const stateList = (pc: number): ReadonlyArray<{ state: State }> => facts.statesAt(pc);
  // Entry nodes: those with a predecessor outside S (or the function entry).
  const preds = new Map<number, number[]>();
  for (const [u, ss] of g) for (const s of ss) if (inS.has(s)) preds.set(s, [...(preds.get(s) ?? []), u]);
  const top: Rel = new Array(11).fill(null).map((_, r) => (r === m.reg ? [0n, 0n] : null));
  const inRel = new Map<number, Rel>();
  for (const pc of scc) if ((preds.get(pc) ?? []).some((p) => !inS.has(p)) || (preds.get(pc) ?? []).length === 0) inRel.set(pc, top);
  if (inRel.size === 0) inRel.set(scc[0], top);
  const steps = new Map<number, Iv>();
  const rounds = new Map<number, number>();
  const work = [...inRel.keys()];
  let guard = 0;
  while (work.length > 0) {
    if (++guard > 50_000) return undefined;
    const pc = work.shift()!;
    const insn = program.insns[program.indexOfPc[pc]];
    const { rel, step } = transfer(insn, m, inRel.get(pc)!, stateList(pc));
    if (step !== undefined) steps.set(pc, ivJoin(steps.get(pc), step));
    for (const s of g.get(pc) ?? []) {
      if (!inS.has(s)) continue;
      const old = inRel.get(s);
      const r = (rounds.get(s) ?? 0) + 1;
      rounds.set(s, r);
      const joined = old === undefined ? rel : rel.map((iv, k) => {
        const j = ivJoin(old[k], iv);
        return r > 6 && !ivEq(j, old[k]) ? null : j; // widening: a difference still changing is unknown
      });
      if (old !== undefined && joined.every((iv, k) => ivEq(iv, old[k]))) continue;
      inRel.set(s, joined);
      if (!work.includes(s)) work.push(s);
    }
  }
  // 1. Monotone, with strict steps.
  let D = 0n;
  const strict = new Set<number>();
  for (const [pc, s] of steps) {
    if (s === null) return undefined;
    const [lo, hi] = dir === 1 ? s : [-s[1], -s[0]];
    if (lo < 0n) return undefined;
    if (hi > D) D = hi;
    if (lo >= 1n) strict.add(pc);
  }
  if (strict.size === 0) return undefined;
  // 2-3. Bounded at a set of points that cuts every cycle, without wrapping.
  const margin = BigInt(scc.length) * D;
  const max = m.width === 64 ? (1n << 64n) - 1n : (1n << 32n) - 1n;
  const smax = m.width === 64 ? (1n << 63n) - 1n : (1n << 31n) - 1n;
  const bounded = (pc: number, kind: 'u' | 's' | 'ptr'): bigint | undefined => {
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
        if (kind === 'u') b = dir === 1 ? (m.width === 64 ? s.umax : s.u32max) : (m.width === 64 ? s.umin : s.u32min);
        else b = dir === 1 ? (m.width === 64 ? s.smax : s.s32max) : (m.width === 64 ? s.smin : s.s32min);
      }
      bound = bound === undefined ? b : dir === 1 ? (b > bound ? b : bound) : (b < bound ? b : bound);
    }
    return bound;
  };
  const fits = (kind: 'u' | 's' | 'ptr', U: bigint): boolean => {
    if (kind === 'ptr') return margin < 1n << 40n;
    if (dir === 1) return U + margin <= (kind === 'u' ? max : smax);
    return U - margin >= (kind === 'u' ? 0n : -smax - 1n);
  };
  let ok = false;
  for (const kind of ['u', 's', 'ptr'] as const) {
    const C = new Set<number>();
    let U: bigint | undefined;
    for (const pc of scc) {
      const b = bounded(pc, kind);
      if (b === undefined) continue;
      C.add(pc);
      U = U === undefined ? b : dir === 1 ? (b > U ? b : U) : (b < U ? b : U);
    }
    if (U === undefined || !fits(kind, U)) continue;
    const rest = new Set(scc.filter((pc) => !C.has(pc)));
    if (acyclic(g, rest)) {
      ok = true;
      break;
    }
  }
  return ok ? strict : undefined;
}

/** Proves the loop `scc` terminates (see the file header); the innermost failure otherwise. */
function proveLoop(env: Env, facts: PcFacts, g: Map<number, number[]>, scc: readonly number[], depth: number): LoopFailure | undefined {
  if (depth > 16) return { pc: scc[0], pcs: scc, detail: 'loops nest too deeply to prove' };
  let innermost: LoopFailure | undefined;
  // Candidates: registers some instruction of the loop moves by addition, subtraction or a copy.
  const moved = new Set<number>();
  for (const pc of scc) {
    const insn = env.program.insns[env.program.indexOfPc[pc]];
    if (insn.kind === 'alu' && (insn.op === 'add' || insn.op === 'sub' || (insn.op === 'mov' && insn.src.kind === 'reg'))) moved.add(insn.dst);
  }
  for (const width of [64, 32] as const) {
    for (const reg of [...moved].sort((a, b) => a - b)) {
      for (const dir of [1, -1] as const) {
        const strict = tryMeasure(env, facts, g, scc, { reg, width }, dir);
        if (strict === undefined) continue;
        const rest = new Set(scc.filter((pc) => !strict.has(pc)));
        let failed: LoopFailure | undefined;
        for (const inner of cyclicSccs(g, rest)) {
          failed = proveLoop(env, facts, g, inner, depth + 1);
          if (failed !== undefined) break;
        }
        if (failed === undefined) return undefined;
        innermost ??= failed;
      }
    }
  }
  return innermost ?? {
    pc: scc[0],
    pcs: scc,
    detail: `the loop at pcs ${scc[0]}..${scc[scc.length - 1]} may not terminate: no register moves toward a proven bound on every iteration (count with a register compared against a constant, or advance a pointer compared against the end)`,
  };
}

/** Proves every loop of the program terminates; the first unproven loop otherwise (in pc order). */
export function proveTermination(an: Analyzer, facts: PcFacts): LoopFailure | undefined {
  const g = graph(an, facts);
  const all = new Set(g.keys());
  for (const scc of cyclicSccs(g, all).sort((a, b) => a[0] - b[0])) {
    const f = proveLoop(an.env, facts, g, scc, 0);
    if (f !== undefined) return f;
  }
  return undefined;
}
