/**
 * `verify`: Program → {@link VerifiedProgram}, or a {@link VerifierError} saying why not.
 *
 * The stages, in order (ARCHITECTURE.md: the verifier never rewrites code; it only hands over facts):
 *
 *     buildCfg (cfg.ts: structure)  ─▶  Analyzer.run (analyze.ts: the fixpoint, with checks.ts and transfer.ts)
 *       ─▶  Analyzer.replay (facts per pc)  ─▶  stack depth per call chain (strict)  ─▶  proveTermination
 *
 * Modes:
 * - `strict` (the default): Linux-like. Everything must be proven: memory accesses in bounds, registers and stack
 *   bytes initialised before use, helper calls matching their prototypes, no pointer leaks, reservations
 *   released, loops bounded, call chains within 8 frames and 512 bytes of stack.
 * - `permissive`: everything structurally valid is accepted (the conformance suite's mode). What is not proven
 *   is checked at run time: the JIT keeps the check of every access not in {@link VerifiedProgram.proven}, and a
 *   program whose termination is not proven runs with an instruction budget.
 *
 * The facts a JIT reads: {@link VerifiedProgram.proven} (pass it as `translate`'s `proven`),
 * {@link VerifiedProgram.terminates}, {@link VerifiedProgram.constants}; the log reads
 * {@link VerifiedProgram.statesAt} (log.ts).
 *
 * Not here: the stages themselves, rendering the log (log.ts).
 */

import { VerifierError } from '../errors.js';
import type { MapSpec } from '../elf/maps.js';
import type { LineInfo } from '../elf/loader.js';
import type { Program } from '../isa/program.js';
import { disassembleInsn } from '../isa/disasm.js';
import { Analyzer, type Context } from './analyze.js';
import { buildCfg, type VerifierCfg } from './cfg.js';
import { contextLayout, type ProgramType } from './context.js';
import type { Env } from './env.js';
import { HELPERS, opaqueHelper, type HelperProto } from './helpers.js';
import { makeThresholds, scalarConst, scalarConstValue, scalarURange } from './scalar.js';
import { State, newFrame } from './state.js';
import { RAW_LENGTH } from './relations.js';
import { proveTermination, type LoopFailure } from './termination.js';
import { UNINIT, type Value } from './value.js';

/** Options for {@link verify}. */
export interface VerifyOptions {
  /** `strict` (default) or `permissive` (see the file header). */
  readonly mode?: 'strict' | 'permissive';
  /** The program type: what r1 holds at entry and which context fields exist (context.ts). Default `raw`. */
  readonly type?: ProgramType;
  /** The program's maps, as the ELF loader gives them (`lddw map_idx` immediates index this list). */
  readonly maps?: readonly MapSpec[];
  /**
   * Helper ids the host grants. A call to any other id is rejected (`helper_not_allowed`) in both modes.
   * Default: every helper of the prototype table (helpers.ts) the program type allows. An id granted but absent
   * from the table (and from `prototypes`) is treated as an opaque helper (any arguments, unknown effects).
   */
  readonly helpers?: Iterable<number>;
  /** Prototypes for host helpers, by id: they replace the table's entry (e.g. a host's own helper at id 1). */
  readonly prototypes?: ReadonlyMap<number, HelperProto>;
  /** `raw` programs: the host runs them on writable input, so stores to it may be proven. Default false. */
  readonly rawWritable?: boolean;
  /** Source lines (`ElfProgram.lineInfo`) for messages and the log. */
  readonly lineInfo?: readonly LineInfo[];
  /** Instruction visits the fixpoint may make before it gives up with `too_complex`. Default 500,000. */
  readonly maxSteps?: number;
}

/** A state the analysis proved at a pc, in one calling context. */
export interface StateAt {
  /** How the analysis got there: the chain of call sites, outermost first (empty for the entry function). */
  readonly callChain: readonly number[];
  readonly state: State;
}

/** What `verify` proved about a program. */
export interface VerifiedProgram {
  readonly program: Program;
  readonly mode: 'strict' | 'permissive';
  readonly type: ProgramType;
  readonly maps: readonly MapSpec[];
  readonly cfg: VerifierCfg;
  /** Slots of memory accesses (load, store, atomic) proven in bounds on every path: the JIT drops their checks. */
  readonly proven: ReadonlySet<number>;
  /** Slots of every memory access the analysis reached (the proven ones among them), for statistics. */
  readonly accesses: ReadonlySet<number>;
  /**
   * Slots of helper calls whose arguments matched the helper's prototype on every path (pointer arguments in
   * bounds for the sizes it reads or writes): the JIT drops the inline checks of a WebAssembly helper's
   * pointers there. Pass `proven ∪ provenCalls` as `translate`'s `proven`.
   */
  /** `raw` programs: whether they were verified for a writable input (then stores to it may be proven). */
  readonly rawWritable: boolean;
  readonly provenCalls: ReadonlySet<number>;
  /**
   * Whether every loop is proven to terminate. That is a mathematical claim: a loop may end only after 2^32
   * trips. See {@link backEdges} for how long.
   */
  readonly terminates: boolean;
  /**
   * When {@link terminates}: an upper bound on the taken backward jumps plus local calls of one run (what a
   * budget counts), when the proof gives one (not for loops in called functions or with callbacks). A runtime
   * runs without a budget only programs whose bound is small (runtime.ts, `PROVEN_LOOP_LIMIT`).
   */
  readonly backEdges?: bigint;
  /** Permissive mode: the first loop whose termination is not proven. */
  readonly unprovenLoop?: LoopFailure;
  /** Registers holding the same known constant before `pc` on every path that reaches it. */
  constants(pc: number): ReadonlyMap<number, bigint>;
  /** The states before `pc`, one per calling context (empty when no path reaches it). */
  statesAt(pc: number): readonly StateAt[];
  /** The source line of a slot, when known. */
  source(pc: number): string | undefined;
  readonly stats: { readonly steps: number; readonly contexts: number; readonly ms: number };
}

/** Sizes of `raw` input buffers are below 4 GiB (they live in linear memory). */
const MAX_INPUT = 0xffff_ffffn;

/** The state at the program's entry. */
function initialState(env: Env): State {
  const f = newFrame(0, -1, 0);
  const unknown: Value = { t: 'scalar', s: scalarURange(0n, (1n << 64n) - 1n) };
  for (const r of [0, 6, 7, 8, 9]) f.regs[r] = env.strict ? UNINIT : { t: 'scalar', s: scalarConst(0n) }; // both engines zero them
  for (const r of [2, 3, 4, 5]) f.regs[r] = env.strict ? UNINIT : unknown;
  if (env.type === 'raw') {
    f.regs[1] = { t: 'pkt', id: 0, fix: 0 };
    f.regs[2] = { t: 'scalar', s: scalarURange(0n, MAX_INPUT), len: true };
    // r3..r5 are always set for raw programs: 0, or what the host passes (a packet's wire length in r3).
    for (const r of [3, 4, 5]) f.regs[r] = unknown;
    f.rels = [RAW_LENGTH]; // data + r2 <= end (relations.ts)
  } else f.regs[1] = { t: 'ctx', off: 0 };
  return new State([f], new Map([[0, { var: scalarConst(0n), range: 0 }]]), new Map(), 1);
}

/** Line info lookup: the last entry at or before `pc`. */
function sourceLookup(lines: readonly LineInfo[] | undefined): (pc: number) => string | undefined {
  if (lines === undefined || lines.length === 0) return () => undefined;
  return (pc) => {
    let lo = 0;
    let hi = lines.length - 1;
    let found: LineInfo | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (lines[mid].pc <= pc) {
        found = lines[mid];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found === undefined || found.line === 0) return undefined;
    const file = found.file.split('/').pop();
    return `${file}:${found.line}: ${found.text.trim()}`;
  };
}

/** The environment of one verification (env.ts). */
function makeEnv(program: Program, options: VerifyOptions, cfg: VerifierCfg): Env {
  const strict = (options.mode ?? 'strict') === 'strict';
  const type = options.type ?? 'raw';
  const maps: MapSpec[] = [...(options.maps ?? [])];
  const innerMap = new Map<number, number>();
  const outer = maps.length;
  for (let i = 0; i < outer; i++) {
    const inner = maps[i].innerMap;
    if (inner !== undefined) {
      innerMap.set(i, maps.length);
      maps.push(inner);
    }
  }
  const table = new Map<number, HelperProto>(HELPERS);
  for (const [id, p] of options.prototypes ?? []) table.set(id, p);
  const granted = options.helpers === undefined ? undefined : new Set(options.helpers);
  const helpers = new Map<number, HelperProto>();
  const deniedByType = new Set<number>();
  for (const [id, p] of table) {
    if (granted !== undefined && !granted.has(id)) continue;
    if (p.types !== undefined && !p.types.includes(type)) deniedByType.add(id);
    else helpers.set(id, p);
  }
  for (const id of granted ?? []) if (!table.has(id)) helpers.set(id, opaqueHelper(id));
  // Widening thresholds: comparison constants (loop bounds), the offsets added to pointers and counters, and
  // +-2^29, beyond which no pointer offset is meaningful: a widened offset stops there instead of overflowing.
  const constants = new Set<bigint>([0n, 1n << 29n, -(1n << 29n)]);
  for (const insn of program.insns) {
    if (insn.kind === 'jcond' && insn.src.kind === 'imm') constants.add(BigInt(insn.src.imm));
    if (insn.kind === 'alu' && (insn.op === 'add' || insn.op === 'sub') && insn.src.kind === 'imm' && constants.size < 256) constants.add(BigInt(insn.src.imm));
  }
  return {
    program, cfg, strict, type, layout: contextLayout(type), maps, programMaps: outer, innerMap, helpers, deniedByType,
    rawWritable: options.rawWritable ?? false, thresholds: makeThresholds(constants),
    source: sourceLookup(options.lineInfo), maxSteps: options.maxSteps ?? 500_000,
  };
}

/** Strict mode: each call chain's frames, 32-byte rounded as Linux counts them, fit in 512 bytes together. */
function checkStackDepth(contexts: readonly Context[], depth: ReadonlyMap<number, number>): void {
  for (const c of contexts) {
    let total = 0;
    const chain: string[] = [];
    for (let k: Context | undefined = c; k !== undefined; k = k.parent >= 0 ? contexts[k.parent] : undefined) {
      const d = depth.get(k.fn) ?? 0;
      total += Math.ceil(Math.max(d, 1) / 32) * 32;
      chain.unshift(`${d} bytes in the function at ${k.fn}`);
    }
    if (total > 512) {
      throw new VerifierError('stack_too_deep', `the call chain through pc ${c.callsite} uses ${total} bytes of stack (${chain.join(', ')}); at most 512 are allowed`, c.callsite);
    }
  }
}

/**
 * Verifies `program` (see the file header).
 *
 * @throws VerifierError with the code, pc, instruction, source line, registers and path of the first problem.
 */
export function verify(program: Program, options: VerifyOptions = {}): VerifiedProgram {
  const t0 = performance.now();
  const mode = options.mode ?? 'strict';
  /** Structural rejections (no state to show): the instruction and its source line added to the message. */
  const located = (e: unknown): unknown => {
    if (!(e instanceof VerifierError) || e.pc === undefined || e.diagnostic !== undefined) return e;
    const insn = program.insns[program.indexOfPc[e.pc]];
    const source = sourceLookup(options.lineInfo)(e.pc);
    return new VerifierError(e.code, e.detail, e.pc, { insn: `${e.pc}: ${disassembleInsn(insn)}`, ...(source !== undefined ? { source } : {}), registers: [], path: [], notes: [] });
  };
  let cfg: VerifierCfg;
  try {
    cfg = buildCfg(program, mode === 'strict');
  } catch (e) {
    throw located(e);
  }
  const env = makeEnv(program, options, cfg);
  const an = new Analyzer(env);
  const fix = an.run(initialState(env));
  const facts = an.replay();
  try {
    if (env.strict) checkStackDepth(fix.contexts, facts.stackDepth);
  } catch (e) {
    throw located(e);
  }
  const termination = proveTermination(an, facts);
  const loop = termination.failure;
  if (loop !== undefined && env.strict) {
    const states = facts.statesAt(loop.pc);
    const insn = program.insns[program.indexOfPc[loop.pc]];
    if (states.length > 0) an.reject('unbounded_loop', loop.detail, states[0].ctx, states[0].state, insn, []);
    throw new VerifierError('unbounded_loop', loop.detail, loop.pc);
  }
  const proven = new Set<number>();
  const accesses = new Set<number>();
  for (const [pc, ok] of [...facts.accesses].sort((a, b) => a[0] - b[0])) {
    accesses.add(pc);
    if (ok) proven.add(pc);
  }
  const provenCalls = new Set([...facts.calls].filter(([, ok]) => ok).map(([pc]) => pc));
  const chainOf = (ctx: number): number[] => {
    const out: number[] = [];
    for (let c = fix.contexts[ctx]; c.parent >= 0; c = fix.contexts[c.parent]) out.unshift(c.callsite);
    return out;
  };
  const chains = fix.contexts.map((c) => chainOf(c.id));
  const statesCache = new Map<number, readonly StateAt[]>();
  const constantsCache = new Map<number, ReadonlyMap<number, bigint>>();
  const ms = performance.now() - t0;
  return {
    program, mode, type: env.type, maps: env.maps, cfg, proven, accesses, provenCalls, rawWritable: env.rawWritable,
    terminates: loop === undefined,
    ...(termination.backEdges !== undefined ? { backEdges: termination.backEdges } : {}),
    ...(loop !== undefined ? { unprovenLoop: loop } : {}),
    constants(pc) {
      let c = constantsCache.get(pc);
      if (c !== undefined) return c;
      const out = new Map<number, bigint>();
      const list = facts.statesAt(pc);
      for (let r = 0; r <= 9 && list.length > 0; r++) {
        let value: bigint | undefined;
        let same = true;
        for (const { state } of list) {
          const v = state.reg(r);
          const k = v.t === 'scalar' ? scalarConstValue(v.s) : undefined;
          if (k === undefined || (value !== undefined && k !== value)) same = false;
          value = k;
        }
        if (same && value !== undefined) out.set(r, value);
      }
      c = out;
      constantsCache.set(pc, c);
      return c;
    },
    statesAt(pc) {
      let list = statesCache.get(pc);
      if (list === undefined) {
        list = facts.statesAt(pc).map(({ ctx, state }) => ({ callChain: chains[ctx], state }));
        statesCache.set(pc, list);
      }
      return list;
    },
    source: env.source,
    stats: { steps: fix.steps, contexts: fix.contexts.length, ms },
  };
}
