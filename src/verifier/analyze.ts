/**
 * The abstract interpretation: a worklist fixpoint over (context, block) nodes, PREVAIL-style, with joins at
 * every block entry and widening at the CFG's widening points. Contexts are call strings: each bpf-to-bpf call
 * site (and each helper call that runs a callback) analyses its callee afresh with the caller's state, as Linux
 * does, so a callee's facts are as precise as its calls; the call depth (at most 8 frames) bounds them.
 *
 *     node (context c, block b) ── transfer through b ──▶ successors' nodes: join (widen at loop heads), requeue if changed
 *     call at pc in c           ──▶ (c + [pc], callee entry)       exit in c + [pc] ──▶ (c, pc + 1)
 *     helper with callback      ──▶ (c + [pc], callback entry) and (c, pc + 1)
 *                                    callback exit ──▶ callback entry again (another iteration) and (c, pc + 1)
 *
 * Partitions: a node keeps up to {@link MAX_PARTITIONS} states apart, one per *signature* (the constants and value
 * kinds of the live registers), and joins only states that share one (the last partition takes the overflow).
 * Paths that reach a block with `nh_off` = 14 and 18, or with a pointer on one and 0 on the other, stay apart,
 * as they do in Linux's path-by-path analysis; the first trips of a loop whose counter is a constant too (the
 * rest widen in the last partition). Partitions are a choice of precision only: every state a path brings is
 * joined into some partition of its node, so soundness does not depend on the signatures. The replay and
 * {@link PcFacts.statesAt} give one state per context (its partitions joined).
 *
 * Cost stays bounded: joins make each loop a few passes instead of one path per iteration; widening (with the
 * program's comparison constants as thresholds, forced after a few rounds) makes every ascending chain finite;
 * and a step limit ({@link Env.maxSteps}) turns anything else into a `too_complex` rejection, never a hang.
 *
 * Policy lives here: a failed check (checks.ts) or a forbidden operation (transfer.ts) is a rejection in strict
 * mode; in permissive mode the access is left unproven (the JIT checks it at run time), a store that could not
 * be placed forgets the stack, a helper call whose arguments do not match is treated as opaque. Structural
 * rules (writing r10, calling a helper the host does not grant) are rejections in both modes.
 *
 * After the fixpoint, {@link replay} runs every node once more over its final state to collect, per pc, the
 * states (for the log and termination), whether each memory access was proven in every context, and the stack
 * depth each function uses.
 *
 * Not here: the checks and transfer functions themselves, termination (termination.ts), rendering errors
 * (explain.ts).
 */

import { InternalError, VerifierError, assertNever, type VerifierErrorCode } from '../errors.js';
import { MAX_CALL_DEPTH } from '../exec.js';
import type { CallInsn, Insn } from '../isa/insn.js';
import { immOperand } from '../interp/semantics.js';
import { callbackTarget } from './cfg.js';
import { checkAccess, checkMapArg, checkMemArg, checkSimpleArg, checkSizeArg, isMapOfMaps, stackInitialized, type ArgVerdict } from './checks.js';
import type { Env } from './env.js';
import { explain } from './explain.js';
import { BPF_MAX_LOOPS, helperName, type HelperProto } from './helpers.js';
import {
  SCALAR_UNKNOWN, scalarConst, scalarConstValue, scalarEndian, scalarMovsx, scalarNeg, scalarOfSize, scalarURange,
} from './scalar.js';
import { State, canonicalize, joinStates, newFrame, statesEqual } from './state.js';
import {
  aluValues, branch, copyScalar, extendLoaded, havocStacks, popFrame, pushFrame, realizeRelations, stackFill, stackLoad, stackStore,
  unaryValue,
} from './transfer.js';
import { relsAfterAlu } from './relations.js';
import { ANY, PKT_END, UNINIT, isPointer, type Value } from './value.js';

/** Joins at a widening point before widening starts (small loops converge exactly). */
const WIDEN_AFTER = 2;
/** Widenings at one node before they ignore thresholds (guarantees convergence). */
const FORCE_AFTER = 12;
/** Narrowing passes after the fixpoint. */
const NARROWING_PASSES = 1;
/**
 * States kept apart per node (context, block): paths that reach a block with different constants in some register
 * (or different kinds of value: a pointer on one path, 0 on the other) keep one state each, up to this many; the
 * rest are joined into the last one. See {@link signature}.
 */
export const MAX_PARTITIONS = 8;

/**
 * The partition of a state at a node: the constants and value kinds of the current frame's registers. Two paths
 * that agree on them share a state (joined); two that do not are analysed apart, as Linux's verifier would
 * analyse them (it joins nothing): `nh_off` = 14 on one path and 18 on the other stay two constants, so that
 * `data + nh_off` keeps a constant offset, and a flag set on one path stays tied to the pointer checked there.
 */
function signature(st: State, live: number): string {
  let s = '';
  const regs = st.cur.regs;
  for (let r = 0; r < 10; r++) {
    if (((live >> r) & 1) === 0) {
      s += '-,';
      continue;
    }
    const v = regs[r];
    if (v.t === 'scalar') {
      const c = scalarConstValue(v.s);
      s += c === undefined ? 's,' : `${c},`;
    } else if (v.t === 'mem' || v.t === 'map') s += v.nullable ? `${v.t}?,` : `${v.t},`;
    else s += `${v.t},`;
  }
  return s;
}

/** Registers an instruction reads and writes, as bit masks (r0 = bit 0), for {@link liveRegisters}. */
function useDef(insn: Insn): [number, number] {
  const bit = (r: number): number => 1 << r;
  const ARGS = 0b111110;
  switch (insn.kind) {
    case 'alu': {
      const src = insn.src.kind === 'reg' ? bit(insn.src.reg) : 0;
      return [insn.op === 'mov' ? src : src | bit(insn.dst), bit(insn.dst)];
    }
    case 'neg': case 'endian': return [bit(insn.dst), bit(insn.dst)];
    case 'movsx': return [bit(insn.src), bit(insn.dst)];
    case 'lddw': return [0, bit(insn.dst)];
    case 'load': return [bit(insn.base), bit(insn.dst)];
    case 'store': return [bit(insn.base) | (insn.value.kind === 'reg' ? bit(insn.value.reg) : 0), 0];
    case 'atomic': {
      const use = bit(insn.base) | bit(insn.src) | (insn.op === 'cmpxchg' ? 1 : 0);
      return [use, insn.op === 'cmpxchg' ? 1 : insn.fetch ? bit(insn.src) : 0];
    }
    case 'ldpkt': return [bit(6) | (insn.index !== null ? bit(insn.index) : 0), 0b111111];
    case 'jcond': return [bit(insn.dst) | (insn.src.kind === 'reg' ? bit(insn.src.reg) : 0), 0];
    case 'call': return [ARGS, 0b111111];
    case 'callx': return [ARGS | bit(insn.reg), 0b111111];
    case 'exit': return [1, 0];
    case 'ja': return [0, 0];
  }
}

/**
 * Registers live at each slot (bit r: r may be read before it is written), within each function: what decides
 * which registers a state's partition looks at (a dead register's constant cannot matter). A heuristic only:
 * partitions never affect soundness.
 */
function liveRegisters(env: Env): Uint16Array {
  const { program, cfg } = env;
  const live = new Uint16Array(program.slotCount);
  const ud = program.insns.map(useDef);
  for (let changed = true; changed;) {
    changed = false;
    for (let i = program.insns.length - 1; i >= 0; i--) {
      const pc = program.insns[i].pc;
      let out = 0;
      for (const s of cfg.succs(pc)) if (s < program.slotCount) out |= live[s];
      const v = ud[i][0] | (out & ~ud[i][1]);
      if (v !== live[pc]) {
        live[pc] = v;
        changed = true;
      }
    }
  }
  return live;
}

/** A call string: how the analysis got into the function it analyses. */
export interface Context {
  readonly id: number;
  /** The calling context (-1 for the entry). */
  readonly parent: number;
  /** The call (or helper-call) slot in the parent; -1 for the entry. */
  readonly callsite: number;
  /** Entry slot of the function analysed in this context. */
  readonly fn: number;
  readonly kind: 'main' | 'call' | 'callback';
  /** Frames: 1 for the entry. */
  readonly depth: number;
}

/** What the fixpoint produced. */
export interface Fixpoint {
  readonly contexts: readonly Context[];
  /**
   * Final state at each node's block entry, one per partition: key = (context id * slotCount + block start) *
   * {@link MAX_PARTITIONS} + partition.
   */
  readonly entries: ReadonlyMap<number, State>;
  /** Edges found feasible (`from * slotCount + to`), for explanations. */
  readonly edges: ReadonlySet<number>;
  /** Instructions visited. */
  readonly steps: number;
}

/** What the replay records per pc. */
export interface PcFacts {
  /** Slots the analysis reaches (in some context). */
  readonly reached: ReadonlySet<number>;
  /**
   * States before the instruction at `pc`, one per context that reaches it. Computed on demand (the block is run
   * again from its final entry state) and cached: keeping every pc's state would cost memory for nothing.
   */
  statesAt(pc: number): ReadonlyArray<{ ctx: number; state: State }>;
  /** Memory accesses (load, store, atomic) and whether each was proven in every context that reaches it. */
  readonly accesses: Map<number, boolean>;
  /** Helper calls and whether their arguments matched the prototype (pointers proven) in every context. */
  readonly calls: Map<number, boolean>;
  /** Bytes of stack each function uses (by entry slot). */
  readonly stackDepth: Map<number, number>;
}

/** Receives what {@link Analyzer.runBlock} finds, in the replay. */
interface Recorder {
  before(ctx: number, pc: number, st: State): void;
  access(pc: number, proven: boolean): void;
  call(pc: number, proven: boolean): void;
}

/** A minimal binary heap of node keys by priority. */
class Queue {
  private readonly heap: Array<[number, number]> = [];
  private readonly queued = new Set<number>();

  push(key: number, prio: number): void {
    if (this.queued.has(key)) return;
    this.queued.add(key);
    const h = this.heap;
    h.push([prio, key]);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p][0] <= h[i][0]) break;
      [h[p], h[i]] = [h[i], h[p]];
      i = p;
    }
  }

  pop(): number | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l][0] < h[m][0]) m = l;
        if (r < h.length && h[r][0] < h[m][0]) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i], h[m]];
        i = m;
      }
    }
    this.queued.delete(top[1]);
    return top[1];
  }
}

/** The abstract interpreter of one program. */
export class Analyzer {
  readonly contexts: Context[] = [];
  private readonly ctxIndex = new Map<string, number>();
  readonly entries = new Map<number, State>();
  private readonly visits = new Map<number, number>();
  readonly edges = new Set<number>();
  private readonly queue = new Queue();
  private readonly n: number;
  private readonly orderSpan: number;
  steps = 0;
  /** Replay mode: record, do not propagate. */
  private rec: Recorder | undefined;
  /** During a narrowing pass: the states being recomputed. */
  private narrowing: Map<number, State> | undefined;
  /** Partitions of each node (context * slotCount + pc): signature → partition index. */
  private partitions = new Map<number, Map<string, number>>();
  /** Live registers per slot (for partitions). */
  private readonly live: Uint16Array;
  /** Stack bytes used per function entry (replay). */
  readonly stackDepth = new Map<number, number>();

  constructor(readonly env: Env) {
    this.n = env.program.slotCount;
    this.orderSpan = env.cfg.order.size + 1;
    this.live = liveRegisters(env);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Contexts and nodes

  private context(parent: number, callsite: number, fn: number, kind: Context['kind']): number {
    const key = `${parent}:${callsite}:${fn}`;
    const known = this.ctxIndex.get(key);
    if (known !== undefined) return known;
    const depth = parent < 0 ? 1 : this.contexts[parent].depth + 1;
    const id = this.contexts.length;
    this.contexts.push({ id, parent, callsite, fn, kind, depth });
    this.ctxIndex.set(key, id);
    return id;
  }

  /** The key of the partition of node (ctx, pc) that state `st` belongs to (allocated on first sight). */
  private keyOf(ctx: number, pc: number, st: State): number {
    const node = ctx * this.n + pc;
    let parts = this.partitions.get(node);
    if (parts === undefined) this.partitions.set(node, (parts = new Map()));
    const sig = signature(st, this.live[pc]);
    let part = parts.get(sig);
    if (part === undefined) {
      // The last partition takes every signature that does not fit: it is never given to one signature.
      part = parts.size < MAX_PARTITIONS - 1 ? parts.size : MAX_PARTITIONS - 1;
      if (part < MAX_PARTITIONS - 1) parts.set(sig, part);
    }
    return node * MAX_PARTITIONS + part;
  }

  private ctxOf(key: number): number {
    return Math.floor(Math.floor(key / MAX_PARTITIONS) / this.n);
  }

  private pcOf(key: number): number {
    return Math.floor(key / MAX_PARTITIONS) % this.n;
  }

  private propagate(ctx: number, pc: number, st: State, from: number): void {
    if (this.rec !== undefined) return;
    this.edges.add(from * this.n + pc);
    const key = this.keyOf(ctx, pc, st);
    if (this.narrowing !== undefined) {
      // A narrowing pass: the join of what the predecessors' current states give, nothing of the old state.
      const cur = this.narrowing.get(key);
      this.narrowing.set(key, cur === undefined ? canonicalize(st) : joinStates(cur, st, false, this.env.thresholds));
      return;
    }
    const old = this.entries.get(key);
    let next: State;
    if (old === undefined) next = canonicalize(st);
    else {
      const visits = (this.visits.get(key) ?? 0) + 1;
      this.visits.set(key, visits);
      const widen = (this.env.cfg.wideningPoints.has(pc) || this.contexts[ctx].fn === pc) && visits > WIDEN_AFTER;
      next = joinStates(old, st, widen, this.env.thresholds, visits > FORCE_AFTER);
      if (statesEqual(next, old)) return;
    }
    this.entries.set(key, next);
    this.queue.push(key, ctx * this.orderSpan + (this.env.cfg.order.get(pc) ?? 0));
  }

  /**
   * Runs the fixpoint from the initial state (widening where needed), then {@link NARROWING_PASSES} narrowing
   * passes: each recomputes every node's state from its predecessors' states alone, which recovers bounds that
   * widening overshot (a loop head's counter widened to infinity, bounded again by the loop's own test).
   */
  run(initial: State): Fixpoint {
    const main = this.context(-1, -1, 0, 'main');
    const start = canonicalize(initial);
    const first = this.keyOf(main, 0, start);
    this.entries.set(first, start);
    this.queue.push(first, 0);
    for (let key = this.queue.pop(); key !== undefined; key = this.queue.pop()) {
      this.runBlock(this.ctxOf(key), this.pcOf(key), this.entries.get(key)!.clone());
    }
    for (let pass = 0; pass < NARROWING_PASSES; pass++) {
      // Sound at every pass: each state is the transfer of states that over-approximate the reachable ones.
      // Partitions are assigned afresh: a narrowed state may fit another partition than its old one.
      this.partitions = new Map();
      const next = new Map<number, State>([[this.keyOf(main, 0, start), start]]);
      this.narrowing = next;
      for (const key of [...this.entries.keys()].sort((a, b) => a - b)) {
        this.runBlock(this.ctxOf(key), this.pcOf(key), this.entries.get(key)!.clone());
      }
      this.narrowing = undefined;
      this.entries.clear();
      for (const [k, v] of next) this.entries.set(k, v);
    }
    return { contexts: this.contexts, entries: this.entries, edges: this.edges, steps: this.steps };
  }

  /** Re-runs every node over its final state, recording facts (see {@link PcFacts}). */
  replay(): PcFacts {
    const reached = new Set<number>();
    const accesses = new Map<number, boolean>();
    const calls = new Map<number, boolean>();
    this.rec = {
      before: (_ctx, pc) => reached.add(pc),
      access: (pc, ok) => accesses.set(pc, (accesses.get(pc) ?? true) && ok),
      call: (pc, ok) => calls.set(pc, (calls.get(pc) ?? true) && ok),
    };
    // In slot order (contexts in order of discovery), so that a rejection names the first problem of the program.
    const keys = [...this.entries.keys()].sort((a, b) => this.pcOf(a) - this.pcOf(b) || a - b);
    for (const key of keys) this.runBlock(this.ctxOf(key), this.pcOf(key), this.entries.get(key)!.clone());
    this.rec = undefined;
    // Per-pc states, on demand: block start of each pc, then the block's states per context, cached.
    const blockOf = new Int32Array(this.n).fill(-1);
    for (const b of this.env.cfg.blocks.values()) {
      for (let i = b.first; i <= b.last; i++) blockOf[this.env.program.insns[i].pc] = b.start;
    }
    const byStart = new Map<number, number[]>(); // block start → keys of its entry states (contexts, partitions)
    for (const key of keys) {
      const start = this.pcOf(key);
      const list = byStart.get(start) ?? [];
      list.push(key);
      byStart.set(start, list);
    }
    const cache = new Map<number, Map<number, Array<{ ctx: number; state: State }>>>();
    const statesAt = (pc: number): ReadonlyArray<{ ctx: number; state: State }> => {
      const start = pc >= 0 && pc < this.n ? blockOf[pc] : -1;
      if (start < 0) return [];
      let block = cache.get(start);
      if (block === undefined) {
        const found = new Map<number, Array<{ ctx: number; state: State }>>();
        block = found;
        this.rec = {
          before: (ctx, at, st) => {
            const list = found.get(at) ?? [];
            list.push({ ctx, state: st.clone() });
            found.set(at, list);
          },
          access: () => undefined,
          call: () => undefined,
        };
        try {
          for (const key of (byStart.get(start) ?? []).sort((a, b) => a - b)) this.runBlock(this.ctxOf(key), start, this.entries.get(key)!.clone());
        } finally {
          this.rec = undefined;
        }
        // One state per context: the partitions of a context joined.
        for (const [at, list] of found) {
          const byCtx = new Map<number, State>();
          for (const { ctx, state } of list) {
            const had = byCtx.get(ctx);
            byCtx.set(ctx, had === undefined ? state : joinStates(had, state, false, this.env.thresholds));
          }
          found.set(at, [...byCtx].map(([ctx, state]) => ({ ctx, state })));
        }
        if (cache.size > 4096) cache.clear();
        cache.set(start, block);
      }
      return block.get(pc) ?? [];
    };
    return { reached, statesAt, accesses, calls, stackDepth: this.stackDepth };
  }

  // -------------------------------------------------------------------------------------------------------------
  // Errors

  /** A rejection, explained (explain.ts). */
  reject(code: VerifierErrorCode, detail: string, ctx: number, st: State, insn: Insn, regs: readonly number[], origin?: number): never {
    const d = explain(this, ctx, st, insn, regs, origin);
    let text = detail;
    if (code === 'null_deref' && origin !== undefined && regs.length > 0 && d.path[0] === origin) {
      const at = this.env.program.insns[this.env.program.indexOfPc[origin]];
      const name = at.kind === 'call' && at.target.kind === 'helper' ? helperName(at.target.id) : 'the value';
      text = `r${regs[0]} may be null here: r${regs[0]} = ${name}(...) at pc ${origin} is not checked against 0 on the path ${d.path.join(' → ')}`;
    }
    throw new VerifierError(code, text, insn.pc, d);
  }

  /**
   * A failed check: `false`, and the caller falls back to what permissive mode does (a run-time check, an opaque
   * helper). In strict mode it is a rejection, but only once the states are final (the replay): while the
   * fixpoint is still growing, widening may have overshot what narrowing brings back.
   */
  private soft(code: VerifierErrorCode, detail: string, ctx: number, st: State, insn: Insn, regs: readonly number[], origin?: number): false {
    if (this.env.strict && this.rec !== undefined) this.reject(code, detail, ctx, st, insn, regs, origin);
    return false;
  }

  /** Reads a register: uninitialised is a rejection in strict mode, `any` in permissive mode. */
  private read(ctx: number, st: State, insn: Insn, r: number): Value {
    const v = st.reg(r);
    if (v.t !== 'uninit') return v;
    // When a call precedes the read in its function, the likely cause is the call convention: say so.
    const fn = this.env.cfg.functionOf(insn.pc);
    const callBefore = r >= 1 && r <= 5 && this.env.program.insns.some((i) => i.pc >= fn.entry && i.pc < insn.pc && (i.kind === 'call' || i.kind === 'callx'));
    this.soft('uninit_register', `r${r} is read before it is written on some path${callBefore ? ' (after a call, r1-r5 hold no defined value)' : ''}`, ctx, st, insn, [r]);
    return ANY;
  }

  private write(ctx: number, st: State, insn: Insn, r: number, v: Value): void {
    if (r === 10) this.reject('write_r10', 'r10, the frame pointer, is read-only', ctx, st, insn, [10]);
    st.setReg(r, v);
  }

  private noteStack(st: State, frame: number, lo: number): void {
    if (this.rec === undefined) return;
    const fn = st.frames[frame].fn;
    this.stackDepth.set(fn, Math.max(this.stackDepth.get(fn) ?? 0, -lo));
  }

  /** Counts an instruction visit of the fixpoint (narrowing and replay revisit final states: a bounded multiple). */
  private step(pc: number): void {
    if (this.narrowing !== undefined || this.rec !== undefined) return;
    if (++this.steps > this.env.maxSteps) {
      throw new VerifierError('too_complex', `the analysis visited ${this.env.maxSteps} instructions (the last here) without reaching a fixed point: the program is too complex to verify (raise maxSteps, or simplify its loops and calls)`, pc);
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // One block

  /** Runs the block starting at `start` in context `ctx` from state `st` (mutated). */
  runBlock(ctx: number, start: number, st: State): void {
    const block = this.env.cfg.blocks.get(start);
    if (block === undefined) throw new InternalError(`no block starts at ${start}`);
    const insns = this.env.program.insns;
    for (let i = block.first; i <= block.last; i++) {
      const insn = insns[i];
      this.step(insn.pc);
      this.rec?.before(ctx, insn.pc, st);
      const next = insn.pc + (insn.kind === 'lddw' ? 2 : 1);
      switch (insn.kind) {
        case 'alu': {
          const a = insn.op === 'mov' ? UNINIT : this.read(ctx, st, insn, insn.dst);
          const b = insn.src.kind === 'imm' ? { t: 'scalar' as const, s: scalarConst(immOperand(insn.src.imm)) } : this.read(ctx, st, insn, insn.src.reg);
          const out = aluValues(this.env, st, insn.op, insn.width, a, b);
          if (out.violation !== undefined) this.soft('ptr_arith', `${out.violation} is not allowed`, ctx, st, insn, insn.src.kind === 'reg' ? [insn.dst, insn.src.reg] : [insn.dst]);
          let value = out.value;
          if (insn.op === 'mov' && insn.width === 64 && insn.src.kind === 'reg' && value.t === 'scalar' && insn.dst !== 10) value = copyScalar(st, insn.src.reg, value);
          const rels = st.cur.rels;
          this.write(ctx, st, insn, insn.dst, value);
          if (rels.length > 0) {
            const srcReg = insn.src.kind === 'reg' ? insn.src.reg : undefined;
            const next = relsAfterAlu(rels, { op: insn.op, width: insn.width, dst: insn.dst, srcReg, before: a, src: b, after: value });
            st.cur.rels = next;
            if (next !== rels) realizeRelations(st, (r) => r.p === insn.dst || r.x === insn.dst);
          }
          break;
        }
        case 'neg':
        case 'movsx':
        case 'endian': {
          const srcReg = insn.kind === 'movsx' ? insn.src : insn.dst;
          const v = this.read(ctx, st, insn, srcReg);
          const out =
            insn.kind === 'neg' ? unaryValue(v, (s) => scalarNeg(insn.width, s), 'neg')
            : insn.kind === 'movsx' ? unaryValue(v, (s) => scalarMovsx(insn.width, insn.bits, s), 'movsx')
            : unaryValue(v, (s) => scalarEndian(insn.order, insn.bits, s), 'byte swap');
          if (out.violation !== undefined) this.soft('ptr_arith', `${out.violation} is not allowed`, ctx, st, insn, [srcReg]);
          this.write(ctx, st, insn, insn.dst, out.value);
          break;
        }
        case 'lddw':
          this.write(ctx, st, insn, insn.dst, this.lddw(ctx, st, insn));
          break;
        case 'load': {
          if (insn.dst === 10) this.reject('write_r10', 'r10, the frame pointer, is read-only', ctx, st, insn, [10]);
          const base = this.read(ctx, st, insn, insn.base);
          const acc = checkAccess(this.env, st, base, insn.off, insn.size, 'load');
          let v: Value = { t: 'scalar', s: scalarOfSize(insn.size) };
          if (!acc.ok) this.soft(acc.code, acc.detail, ctx, st, insn, [insn.base], originOf(base));
          else if (acc.region === 'stack') {
            this.noteStack(st, acc.frame, acc.lo);
            const r = stackLoad(st, acc.frame, acc.lo, acc.hi, acc.exact, insn.size);
            if (r.uninit) this.soft('uninit_stack', `read of stack bytes that may not be initialised (fp${acc.lo}..fp${acc.hi - 1})`, ctx, st, insn, [insn.base]);
            v = r.value;
          } else if (acc.region === 'ctx') {
            const k = acc.field.kind;
            v = k === 'pkt' ? { t: 'pkt', id: 0, fix: 0 } : k === 'pkt_end' ? PKT_END : k === 'pkt_meta' ? { t: 'pkt_meta', off: 0 } : v;
          }
          this.rec?.access(insn.pc, acc.ok);
          this.write(ctx, st, insn, insn.dst, extendLoaded(v, insn.size, insn.signed));
          break;
        }
        case 'store': {
          const base = this.read(ctx, st, insn, insn.base);
          const value: Value = insn.value.kind === 'imm' ? { t: 'scalar', s: scalarConst(immOperand(insn.value.imm)) } : this.read(ctx, st, insn, insn.value.reg);
          const acc = checkAccess(this.env, st, base, insn.off, insn.size, 'store', insn.value.kind === 'reg' ? value : undefined);
          if (!acc.ok) {
            this.soft(acc.code, acc.detail, ctx, st, insn, insn.value.kind === 'reg' ? [insn.base, insn.value.reg] : [insn.base], originOf(base));
            havocStacks(st); // it may land anywhere in the stack
          } else if (acc.region === 'stack') {
            this.noteStack(st, acc.frame, acc.lo);
            stackStore(st, acc.frame, acc.lo, acc.hi, acc.exact, insn.size, value);
          }
          this.rec?.access(insn.pc, acc.ok);
          break;
        }
        case 'atomic': {
          const base = this.read(ctx, st, insn, insn.base);
          const src = this.read(ctx, st, insn, insn.src);
          if (insn.op === 'cmpxchg') this.read(ctx, st, insn, 0);
          const acc = checkAccess(this.env, st, base, insn.off, insn.size, 'atomic', src);
          let old: Value = { t: 'scalar', s: scalarOfSize(insn.size) };
          if (!acc.ok) {
            this.soft(acc.code, acc.detail, ctx, st, insn, [insn.base, insn.src], originOf(base));
            havocStacks(st);
          } else if (acc.region === 'stack') {
            this.noteStack(st, acc.frame, acc.lo);
            if (!stackInitialized(st, acc.frame, acc.lo, acc.hi)) this.soft('uninit_stack', 'atomic update of stack bytes that may not be initialised', ctx, st, insn, [insn.base]);
            const r = stackLoad(st, acc.frame, acc.lo, acc.hi, acc.exact, insn.size);
            if (r.value.t === 'scalar') old = { t: 'scalar', s: r.value.s };
            else this.soft('ptr_arith', 'atomic update of a spilled pointer', ctx, st, insn, [insn.base]);
            stackFill(st, acc.frame, acc.lo, acc.hi);
          }
          this.rec?.access(insn.pc, acc.ok);
          if (insn.op === 'cmpxchg') this.write(ctx, st, insn, 0, old);
          else if (insn.fetch) this.write(ctx, st, insn, insn.src, old);
          break;
        }
        case 'ldpkt': {
          if (insn.index !== null) {
            const idx = this.read(ctx, st, insn, insn.index);
            if (idx.t !== 'scalar') this.soft('ptr_arith', 'the index of a legacy packet load must be a scalar', ctx, st, insn, [insn.index]);
          }
          if (this.env.strict && st.refs.size > 0) {
            const [, r] = st.refs.entries().next().value!;
            this.soft('leaked_ringbuf', `a legacy packet load may end the program while the ring buffer reservation from pc ${r.origin} is still held`, ctx, st, insn, [], r.origin);
          }
          st.setReg(0, { t: 'scalar', s: scalarOfSize(insn.size) });
          break;
        }
        case 'ja':
          this.propagate(ctx, insn.target, st, insn.pc);
          return;
        case 'jcond': {
          const a = this.read(ctx, st, insn, insn.dst);
          const b: Value = insn.src.kind === 'imm' ? { t: 'scalar', s: scalarConst(immOperand(insn.src.imm)) } : this.read(ctx, st, insn, insn.src.reg);
          const out = branch(this.env, st, insn, a, b);
          if (out.taken !== undefined) this.propagate(ctx, insn.target, out.taken, insn.pc);
          if (out.fall !== undefined) this.propagate(ctx, next, out.fall, insn.pc);
          return;
        }
        case 'call':
          this.call(ctx, st, insn, next);
          return;
        case 'callx': {
          const v = this.read(ctx, st, insn, insn.reg);
          const id = v.t === 'scalar' ? scalarConstValue(v.s) : undefined;
          if (id !== undefined && id < 1n << 31n) this.helperCall(ctx, st, insn, Number(id), next);
          else {
            this.soft('helper_not_allowed', `callx through r${insn.reg}, which does not hold a known helper id`, ctx, st, insn, [insn.reg]);
            this.opaque(st);
            this.propagate(ctx, next, st, insn.pc);
          }
          return;
        }
        case 'exit':
          this.exit(ctx, st, insn);
          return;
        default:
          assertNever(insn, 'instruction');
      }
    }
    // Fell through to the next block.
    const lastInsn = insns[block.last];
    const next = lastInsn.pc + (lastInsn.kind === 'lddw' ? 2 : 1);
    if (next < this.n) this.propagate(ctx, next, st, lastInsn.pc);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Instructions with more to them

  private lddw(ctx: number, st: State, insn: Insn & { kind: 'lddw' }): Value {
    const env = this.env;
    switch (insn.src) {
      case 'imm64':
        return { t: 'scalar', s: scalarConst(insn.value) };
      case 'map_idx': {
        if (insn.imm >= 0 && insn.imm < env.programMaps) return { t: 'map', map: insn.imm, id: 0, nullable: false, origin: insn.pc };
        this.soft('bad_map_ref', `lddw refers to map ${insn.imm}, but the program has ${env.programMaps} map${env.programMaps === 1 ? '' : 's'}`, ctx, st, insn, []);
        return ANY;
      }
      case 'map_idx_value': {
        const spec = insn.imm >= 0 && insn.imm < env.programMaps ? env.maps[insn.imm] : undefined;
        if (spec === undefined) {
          this.soft('bad_map_ref', `lddw refers to the value of map ${insn.imm}, but the program has ${env.programMaps} map${env.programMaps === 1 ? '' : 's'}`, ctx, st, insn, []);
          return ANY;
        }
        if (insn.next < 0 || insn.next >= Math.max(spec.valueSize, 1)) {
          this.soft('bad_map_ref', `offset ${insn.next} is outside the value of ${spec.name} (${spec.valueSize} bytes)`, ctx, st, insn, []);
          return ANY;
        }
        return { t: 'mem', region: { kind: 'map_value', map: insn.imm }, off: scalarConst(BigInt(insn.next)), id: 0, nullable: false, ref: false, origin: insn.pc };
      }
      case 'code_addr':
        return { t: 'func', pc: callbackTarget(insn) };
      case 'map_fd':
      case 'map_value':
      case 'var_addr':
        this.soft('bad_map_ref', `lddw with src '${insn.src}' needs a loader to resolve it first (maps are referred to by index: src map_idx)`, ctx, st, insn, []);
        return ANY;
      default:
        return assertNever(insn.src, 'lddw src');
    }
  }

  private call(ctx: number, st: State, insn: CallInsn, next: number): void {
    const t = insn.target;
    switch (t.kind) {
      case 'helper':
        this.helperCall(ctx, st, insn, t.id, next);
        return;
      case 'btf':
        this.reject('helper_not_allowed', `kernel function calls (call btf ${t.id}) are not supported`, ctx, st, insn, []);
        return;
      case 'local': {
        if (st.frames.length >= MAX_CALL_DEPTH) {
          this.soft('call_depth', `call depth exceeds ${MAX_CALL_DEPTH} frames`, ctx, st, insn, []);
          return; // the call faults at run time: the path ends
        }
        pushFrame(this.env, st, insn.pc, t.pc);
        this.propagate(this.context(ctx, insn.pc, t.pc, 'call'), t.pc, st, insn.pc);
        return;
      }
      default:
        assertNever(t, 'call target');
    }
  }

  /** A helper whose effects are unknown: it may have written any stack slot; r0 is a number. */
  private opaque(st: State): void {
    havocStacks(st);
    st.setReg(0, { t: 'scalar', s: SCALAR_UNKNOWN });
    if (this.env.strict) for (let r = 1; r <= 5; r++) st.setReg(r, UNINIT);
  }

  private helperCall(ctx: number, st: State, insn: Insn, id: number, next: number): void {
    const env = this.env;
    const proto = env.helpers.get(id);
    if (proto === undefined) {
      const why = env.deniedByType.has(id) ? `${env.type} programs may not call it` : 'the host does not provide it';
      this.reject('helper_not_allowed', `call to ${helperName(id)} (helper ${id}), which is not allowed: ${why}`, ctx, st, insn, []);
    }
    if (proto.effects === 'opaque') {
      this.rec?.call(insn.pc, false);
      this.opaque(st);
      this.propagate(ctx, next, st, insn.pc);
      return;
    }
    const checked = this.checkArgs(ctx, st, insn, proto);
    this.rec?.call(insn.pc, checked !== undefined);
    if (checked === undefined) {
      // Permissive mode, arguments that do not match the prototype: assume nothing about the effects.
      this.opaque(st);
      st.setReg(0, ANY);
      this.propagate(ctx, next, st, insn.pc);
      return;
    }
    if (proto.id === 12 && env.strict && st.refs.size > 0) {
      const [, r] = st.refs.entries().next().value!;
      this.soft('leaked_ringbuf', `tail_call would leave the ring buffer reservation from pc ${r.origin} unreleased`, ctx, st, insn, [], r.origin);
    }
    // Effects of the arguments: memory written, references released.
    for (const w of checked.writes) stackFill(st, w.frame, w.lo, w.hi);
    if (checked.release !== undefined) {
      const id2 = checked.release;
      st.refs.delete(id2);
      st.mapValues((v) => (v.t === 'mem' && v.id === id2 ? { t: 'scalar', s: SCALAR_UNKNOWN } : undefined));
    }
    if (proto.callback !== undefined) {
      const cb = checked.callback!;
      const cbCtx = this.context(ctx, insn.pc, cb, 'callback');
      const inner = st.clone();
      this.enterCallback(inner, insn.pc, proto, cb, checked.map);
      this.propagate(cbCtx, cb, inner, insn.pc);
    }
    this.helperReturn(st, proto, insn.pc, checked.map, checked.allocSize);
    this.propagate(ctx, next, st, insn.pc);
  }

  /** The state after a helper returns: r0 by the prototype, r1-r5 clobbered in strict mode. */
  private helperReturn(st: State, proto: HelperProto, pc: number, map: number | undefined, allocSize: number | undefined): void {
    const env = this.env;
    let r0: Value;
    switch (proto.ret) {
      case 'integer':
        r0 = { t: 'scalar', s: proto.retRange !== undefined ? scalarURange(proto.retRange[0], proto.retRange[1]) : SCALAR_UNKNOWN };
        break;
      case 'void':
        r0 = env.strict ? UNINIT : ANY;
        break;
      case 'map_value_or_null': {
        const spec = map === undefined ? undefined : env.maps[map];
        if (map === undefined || spec === undefined) r0 = ANY;
        else if (isMapOfMaps(spec.type)) {
          const inner = env.innerMap.get(map);
          r0 = inner === undefined ? ANY : { t: 'map', map: inner, id: st.freshId(), nullable: true, origin: pc };
        } else r0 = { t: 'mem', region: { kind: 'map_value', map }, off: scalarConst(0n), id: st.freshId(), nullable: true, ref: false, origin: pc };
        break;
      }
      case 'ringbuf_mem_or_null': {
        const id = st.freshId();
        st.refs.set(id, { origin: pc, maybe: false });
        r0 = { t: 'mem', region: { kind: 'ringbuf', size: allocSize ?? 0 }, off: scalarConst(0n), id, nullable: true, ref: true, origin: pc };
        break;
      }
      default:
        r0 = assertNever(proto.ret, 'helper return');
    }
    st.setReg(0, r0);
    if (env.strict) for (let r = 1; r <= 5; r++) st.setReg(r, UNINIT);
  }

  /** Pushes a callback's frame: its arguments from the helper call's (the caller frame's registers at the call). */
  private enterCallback(st: State, callsite: number, proto: HelperProto, cb: number, map: number | undefined): void {
    const caller = st.cur;
    const f = newFrame(st.frames.length, callsite, cb);
    proto.callback!.args.forEach((a, i) => {
      let v: Value;
      switch (a) {
        case 'index': v = { t: 'scalar', s: scalarURange(0n, BigInt(BPF_MAX_LOOPS - 1)) }; break;
        case 'map': v = map === undefined ? ANY : { t: 'map', map, id: 0, nullable: false, origin: callsite }; break;
        case 'map_key': v = map === undefined ? ANY : { t: 'mem', region: { kind: 'map_key', map }, off: scalarConst(0n), id: 0, nullable: false, ref: false, origin: callsite }; break;
        case 'map_value': v = map === undefined ? ANY : { t: 'mem', region: { kind: 'map_value', map }, off: scalarConst(0n), id: 0, nullable: false, ref: false, origin: callsite }; break;
        case 'ctx': v = caller.regs[proto.args.indexOf('stack_or_null') + 1]; break;
        default: v = assertNever(a, 'callback argument');
      }
      f.regs[i + 1] = v;
    });
    if (!this.env.strict) for (const r of [0, 6, 7, 8, 9]) f.regs[r] = ANY;
    st.frames.push(f);
  }

  /** Checks a helper call's arguments; `undefined` when they do not match (permissive mode only). */
  private checkArgs(ctx: number, st: State, insn: Insn, proto: HelperProto):
    { writes: Array<{ frame: number; lo: number; hi: number }>; release?: number; callback?: number; map?: number; allocSize?: number } | undefined {
    const env = this.env;
    const out: { writes: Array<{ frame: number; lo: number; hi: number }>; release?: number; callback?: number; map?: number; allocSize?: number } = { writes: [] };
    const args = proto.args;
    for (let i = 0; i < args.length; i++) {
      const kind = args[i];
      const r = i + 1;
      const v = this.read(ctx, st, insn, r);
      const bad = (verdict: ArgVerdict & { ok: false }, regs: number[] = [r]): undefined => {
        this.soft(verdict.code, `${proto.name} argument ${r} (r${r}): ${verdict.detail}`, ctx, st, insn, regs, originOf(v));
        return undefined;
      };
      let verdict: ArgVerdict;
      switch (kind) {
        case 'map':
          verdict = checkMapArg(env, proto, v);
          if (verdict.ok) out.map = verdict.map;
          break;
        case 'map_key':
        case 'map_value':
        case 'map_value_out': {
          const spec = out.map === undefined ? undefined : env.maps[out.map];
          if (spec === undefined) return bad({ ok: false, code: 'helper_arg', detail: 'no map argument precedes it' });
          const n = kind === 'map_key' ? spec.keySize : spec.valueSize;
          verdict = checkMemArg(env, st, v, n, kind === 'map_value_out', kind !== 'map_value_out');
          if (verdict.ok && kind === 'map_value_out' && verdict.stack !== undefined) out.writes.push(verdict.stack);
          if (verdict.ok && kind !== 'map_value_out' && verdict.stack !== undefined && spillsPointer(st, verdict.stack)) {
            verdict = { ok: false, code: 'pointer_leak', detail: `the ${kind === 'map_key' ? 'key' : 'value'} holds a spilled pointer, which would leak into the map` };
          }
          break;
        }
        case 'mem':
        case 'mem_or_null':
        case 'mem_out': {
          const sizeKind = args[i + 1];
          const sv = this.read(ctx, st, insn, r + 1);
          const sizeVerdict = checkSizeArg(sv, sizeKind === 'size_or_zero');
          if (!sizeVerdict.ok) return bad(sizeVerdict, [r + 1]);
          const size = sizeVerdict.size!;
          if (kind === 'mem_or_null' && v.t === 'scalar' && scalarConstValue(v.s) === 0n) {
            verdict = size.umax === 0n ? { ok: true } : { ok: false, code: 'helper_arg', detail: 'a null pointer needs a size of 0' };
          } else {
            verdict = checkMemArg(env, st, v, Number(size.umax), kind === 'mem_out', kind !== 'mem_out');
            if (verdict.ok && kind === 'mem_out' && verdict.stack !== undefined) out.writes.push(verdict.stack);
          }
          i++; // the size argument is done
          break;
        }
        case 'size':
        case 'size_or_zero':
          verdict = checkSizeArg(v, kind === 'size_or_zero');
          break;
        case 'func':
          verdict = checkSimpleArg(env, st, kind, v);
          if (verdict.ok && v.t === 'func') {
            if (env.cfg.functions.find((f) => f.entry === v.pc) === undefined) verdict = { ok: false, code: 'bad_callback', detail: `no function starts at ${v.pc}` };
            else out.callback = v.pc;
          }
          break;
        case 'ringbuf_mem':
          verdict = checkSimpleArg(env, st, kind, v);
          if (verdict.ok && v.t === 'mem') out.release = v.id;
          break;
        case 'alloc_size':
          verdict = checkSimpleArg(env, st, kind, v);
          if (verdict.ok) out.allocSize = Number(verdict.size!.umin);
          break;
        case 'long_out':
          verdict = checkSimpleArg(env, st, kind, v);
          if (verdict.ok && verdict.stack !== undefined) out.writes.push(verdict.stack);
          break;
        default:
          verdict = checkSimpleArg(env, st, kind, v);
      }
      if (!verdict.ok) return bad(verdict);
      if (verdict.stack !== undefined) this.noteStack(st, verdict.stack.frame, verdict.stack.lo);
    }
    return out;
  }

  private exit(ctx: number, st: State, insn: Insn): void {
    const c = this.contexts[ctx];
    const env = this.env;
    const r0 = this.read(ctx, st, insn, 0);
    switch (c.kind) {
      case 'main': {
        if (isPointer(r0)) this.soft('pointer_leak', 'the program returns a pointer (r0 must be a scalar at exit)', ctx, st, insn, [0]);
        if (env.strict && st.refs.size > 0) {
          const [, r] = st.refs.entries().next().value!;
          this.soft('leaked_ringbuf', `the ring buffer reservation from pc ${r.origin} is neither submitted nor discarded on this path`, ctx, st, insn, [], r.origin);
        }
        return;
      }
      case 'call': {
        if (r0.t === 'stack' && r0.frame === st.depth) {
          this.soft('stale_pointer', 'the function returns a pointer to its own stack frame, which is gone after the return', ctx, st, insn, [0]);
        }
        popFrame(env, st, 'call');
        this.propagate(c.parent, c.callsite + 1, st, insn.pc);
        return;
      }
      case 'callback': {
        const helperInsn = env.program.insns[env.program.indexOfPc[c.callsite]];
        const id = helperInsn.kind === 'call' && helperInsn.target.kind === 'helper' ? helperInsn.target.id : -1;
        const proto = env.helpers.get(id);
        if (proto?.callback === undefined) throw new InternalError(`callback context without a callback helper at ${c.callsite}`);
        const [lo, hi] = proto.callback.ret;
        if (r0.t !== 'scalar' || r0.s.umin < lo || r0.s.umax > hi) {
          this.soft('helper_arg', `a ${proto.name} callback must return a value in [${lo}, ${hi}]`, ctx, st, insn, [0]);
        }
        popFrame(env, st, 'callback');
        // Another iteration, with the caller's stack as this one left it ...
        const map = findMapArg(proto, st);
        const again = st.clone();
        this.enterCallback(again, c.callsite, proto, c.fn, map);
        this.propagate(ctx, c.fn, again, insn.pc);
        // ... or the helper returns.
        this.helperReturn(st, proto, c.callsite, map, undefined);
        this.propagate(c.parent, c.callsite + 1, st, insn.pc);
        return;
      }
      default:
        assertNever(c.kind, 'context kind');
    }
  }
}

/** Whether bytes `[lo, hi)` of a frame overlap a spilled pointer. */
function spillsPointer(st: State, at: { frame: number; lo: number; hi: number }): boolean {
  const f = st.frames[at.frame];
  for (let i = (512 + at.lo) >> 3; i <= (512 + at.hi - 1) >> 3 && i < f.stack.length; i++) {
    const slot = f.stack[i];
    if (slot?.k === 'spill' && isPointer(slot.v)) return true;
  }
  return false;
}

/** The map a callback helper was called with (its `map` argument register in the caller frame). */
function findMapArg(proto: HelperProto, st: State): number | undefined {
  const i = proto.args.indexOf('map');
  if (i < 0) return undefined;
  const v = st.cur.regs[i + 1];
  return v.t === 'map' ? v.map : undefined;
}

/** The pc a pointer came from, when it has one worth citing (a lookup or a reservation). */
function originOf(v: Value): number | undefined {
  return v.t === 'mem' && (v.nullable || v.ref) ? v.origin : undefined;
}
