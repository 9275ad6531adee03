/**
 * Random, well-formed eBPF programs for differential testing (interpreter vs JIT).
 *
 * A program is generated as a *recipe* (a small tree of statements: ALU ops, memory accesses, if/else, counted
 * loops, gotos, calls) by fast-check arbitraries, then {@link buildProgram} lowers the recipe to IR, encodes it
 * and decodes it back, so every program is exactly what the strict decoder accepts. Shrinking works on the
 * recipe, and every shrunk recipe still builds a well-formed program: jump and call targets are chosen by index
 * modulo what exists, loop counters are protected by construction, not by luck.
 *
 * Well-formed means what a verifier-accepted program guarantees, no more:
 * - every register is written before it is read: each function starts with a prologue that sets r0 and the
 *   callee-saved r6-r9 (main also r3-r5; r1 and r2 are the input pointer and length, r1-r5 of a callee are its
 *   arguments). After a local call, eBPF's calling convention leaves r1-r5 undefined; both engines pass what the
 *   callee left there back to the caller, and half the generated calls rely on that (the other half re-set
 *   r1-r5). Should the engines stop agreeing on it by design, set `GenOptions.callerSavedReturned` to false;
 * - every function ends with `exit` (but rarely the last one, to fall off the program), and jumps stay inside
 *   their function (with one exception, below);
 * - every `lddw` is a plain 64-bit immediate (no map relocations).
 * Two things no verifier would accept are generated on purpose, rarely, because both engines define them and
 * they take separate paths in the JIT: writes to r10 and jumps from one function into another.
 * Anything else is fair game, including faults the program cannot avoid: out-of-bounds and misaligned accesses,
 * recursion past the call depth, loops only the budget stops, helpers that fail or unwind. Programs that fault
 * must fault identically on every engine.
 *
 * Each function saves its r1 at [r10-8] on entry, so the input pointer can be restored after calls (and the
 * chain survives into callees unless a random store hits that slot).
 *
 * Not here: running programs (harness.ts) or the helper implementations (helpers.ts).
 */

import fc from 'fast-check';
import { decode } from '../../src/isa/decode.js';
import { encode } from '../../src/isa/encode.js';
import type { AluOp, AtomicOp, EndianOrder, Insn, JmpOp, Operand, Reg, Size, Width } from '../../src/isa/insn.js';
import type { Program } from '../../src/isa/program.js';
import { InternalError } from '../../src/errors.js';

// ---------------------------------------------------------------------------------------------------------------
// Helper ids (their implementations, for the runtime side, are in helpers.ts)

/** `mix(r1..r5)`: an arithmetic mix of all five arguments, deliberately not truncated (the engine must). */
export const HELPER_MIX = 1;
/** `read(ptr = r1, len = r2)`: FNV-1a of min(len, 16) bytes at ptr, or -EFAULT outside the window. */
export const HELPER_READ = 2;
/** `fill(ptr = r1, len = r2, seed = r3)`: writes min(len, 16) bytes seed, seed+1, ...; -EFAULT outside the window. */
export const HELPER_FILL = 3;
/**
 * `check(r3, r4)`: when r3 is a multiple of 8 faults with `helper_failed`; when r3 % 8 == 4 throws a TypeError
 * (a buggy helper); else returns r3 ^ r4.
 */
export const HELPER_FAIL = 4;
/** `unwind(r1, r2)`: ends the program with r0 = r2 when r1 is 0, else returns r1 (bpf_conformance's helper 5). */
export const HELPER_UNWIND = 5;
/** An id in no table: `callx` to it must fault identically. */
export const UNKNOWN_HELPER = 6;
/**
 * `nested(r1, r2)`: runs the same program again inside this run (a nested execution, on the next stack slot)
 * and returns its r0; implemented by the harness (harness.ts), which bounds how many nested runs happen.
 */
export const HELPER_NESTED = 7;

/** Ids of the helpers in {@link diffHelpers}. */
export const HELPER_IDS: readonly number[] = [HELPER_MIX, HELPER_READ, HELPER_FILL, HELPER_FAIL, HELPER_UNWIND];

// ---------------------------------------------------------------------------------------------------------------
// Recipes

/**
 * Where a memory access goes: r10-relative, r1-relative (the input), or through any register. With `via`, a
 * stack or input address is first computed into a scratch register (`tmp = r10 + delta`, or the saved input
 * pointer + delta) and the access goes through it, so engines cannot treat it as a plain frame access.
 */
export interface MemRef {
  readonly space: 'stack' | 'input' | 'reg';
  /** Base register when `space` is `reg`. */
  readonly reg: Reg;
  /** Offset from the stack top or input start (the instruction's offset becomes `off - delta` with `via`). */
  readonly off: number;
  readonly via: { readonly tmp: Reg; readonly delta: number } | null;
}

/** A jump condition with its operands; with `vals`, the registers are set to those values first. */
export interface Cmp {
  readonly op: JmpOp;
  readonly width: Width;
  readonly dst: Reg;
  readonly src: Operand;
  readonly vals: { readonly dst: bigint; readonly src: bigint } | null;
}

/** One statement of a recipe. */
export type Stmt =
  | { readonly t: 'alu'; readonly op: AluOp; readonly width: Width; readonly dst: Reg; readonly src: Operand }
  /** A register-register ALU op whose operands are first set to chosen (mostly edge-case) values. */
  | { readonly t: 'aluEdge'; readonly op: AluOp; readonly width: Width; readonly dst: Reg; readonly src: Reg; readonly dstValue: bigint | null; readonly srcValue: bigint }
  | { readonly t: 'neg'; readonly width: Width; readonly dst: Reg }
  /** An ALU op on r10, the frame pointer: legal bytecode no verifier accepts; both engines let it move. */
  | { readonly t: 'r10'; readonly op: AluOp; readonly width: Width; readonly src: Operand }
  | { readonly t: 'movsx'; readonly width: Width; readonly bits: 8 | 16 | 32; readonly dst: Reg; readonly src: Reg }
  | { readonly t: 'endian'; readonly order: EndianOrder; readonly bits: 16 | 32 | 64; readonly dst: Reg }
  | { readonly t: 'lddw'; readonly dst: Reg; readonly value: bigint }
  | { readonly t: 'load'; readonly size: Size; readonly signed: boolean; readonly dst: Reg; readonly mem: MemRef }
  | { readonly t: 'store'; readonly size: Size; readonly mem: MemRef; readonly value: Operand }
  | { readonly t: 'atomic'; readonly op: AtomicOp; readonly fetch: boolean; readonly size: 4 | 8; readonly mem: MemRef; readonly src: Reg }
  | { readonly t: 'ldpkt'; readonly mode: 'abs' | 'ind'; readonly size: 1 | 2 | 4; readonly index: Reg; readonly imm: number }
  /** `if (!cmp) { then } else { else }`: the jump is taken to the else branch (or past `then`). */
  | { readonly t: 'if'; readonly cmp: Cmp; readonly then: readonly Stmt[]; readonly else: readonly Stmt[] | null; readonly long: boolean }
  /** A counted loop on one of r6-r9 (`counter` picks among the free ones); `form` picks the counting idiom. */
  | { readonly t: 'loop'; readonly counter: number; readonly n: number; readonly form: number; readonly body: readonly Stmt[] }
  /**
   * A jump (conditional or not) to the `k`-th statement boundary of the function, modulo their number; with
   * `cross`, of the whole program (legal bytecode that no verifier would accept, and both engines define).
   */
  | { readonly t: 'goto'; readonly k: number; readonly cmp: Cmp | null; readonly long: boolean; readonly cross: boolean }
  /**
   * A local call: to a later function (`k` modulo their number), or to any function when `recursive`. With
   * `reinit`, the caller re-sets r1-r5 afterwards instead of reading what the callee left there.
   */
  | { readonly t: 'call'; readonly k: number; readonly recursive: boolean; readonly reinit: boolean }
  /** A helper call; `setup` first points r1 at memory and sets r2 to a length. */
  | { readonly t: 'helper'; readonly id: number; readonly setup: { readonly mem: MemRef; readonly len: number } | null }
  /** `callx` through a register set to `id` (a helper id, or any value: then no helper). */
  | { readonly t: 'callx'; readonly id: bigint; readonly reg: Reg }
  /** A kernel-function call (`call btf`), which this runtime does not support: it faults when executed. */
  | { readonly t: 'btf'; readonly id: number }
  | { readonly t: 'exit' };

/** A whole program: initial register values, the main function and its subprograms. */
export interface Recipe {
  /** Values for r0..r9 set by the prologues (r1 and r2 are never set: they are the input pointer and length). */
  readonly init: readonly bigint[];
  readonly main: readonly Stmt[];
  readonly subs: readonly (readonly Stmt[])[];
  /** Store r0..r9 to the stack before main's final exit, so the whole register file is compared. */
  readonly dump: boolean;
  /** The last function ends without `exit` (a `mov` instead): reaching its end falls off the program. */
  readonly fallOff: boolean;
}

/** A recipe with the input memory and budget it runs with. */
export interface DiffCase {
  readonly recipe: Recipe;
  readonly input: Uint8Array;
  readonly budget: number;
  /** Whether the input is writable (stores to a read-only input fault with `read_only`). */
  readonly writable: boolean;
  /** Whether the run also gets the harness's decoy regions (more regions than the JIT's inline slots). */
  readonly decoys: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// Lowering: recipe → IR → bytes → Program

type Resolve = (label: number) => number;
type Make = (pc: number, resolve: Resolve) => Insn;

/** Collects instructions whose jump targets are labels, then lays them out in slots. */
class Emitter {
  private readonly makes: Make[] = [];
  private readonly slots: number[] = [];
  private readonly labelAt: number[] = [];

  label(): number {
    this.labelAt.push(-1);
    return this.labelAt.length - 1;
  }

  bind(label: number): void {
    this.labelAt[label] = this.makes.length;
  }

  /** A new label bound here. */
  here(): number {
    const l = this.label();
    this.bind(l);
    return l;
  }

  emit(make: Make, slots: 1 | 2 = 1): void {
    this.makes.push(make);
    this.slots.push(slots);
  }

  finish(): Insn[] {
    const pcs: number[] = [];
    let pc = 0;
    for (const s of this.slots) {
      pcs.push(pc);
      pc += s;
    }
    const resolve: Resolve = (l) => {
      const at = this.labelAt[l];
      if (at === undefined || at < 0 || at >= this.makes.length) throw new InternalError(`generator: label ${l} not bound to an instruction`);
      return pcs[at];
    };
    return this.makes.map((m, i) => m(pcs[i], resolve));
  }
}

const imm = (v: number): Operand => ({ kind: 'imm', imm: v });
const reg = (r: Reg): Operand => ({ kind: 'reg', reg: r });
const alu = (op: AluOp, width: Width, dst: Reg, src: Operand): Make => (pc) => ({ kind: 'alu', pc, op, width, dst, src });
const ldxdw = (dst: Reg, base: Reg, off: number): Make => (pc) => ({ kind: 'load', pc, size: 8, signed: false, dst, base, off });
const stxdw = (base: Reg, off: number, src: Reg): Make => (pc) => ({ kind: 'store', pc, size: 8, base, off, value: reg(src) });
const exit: Make = (pc) => ({ kind: 'exit', pc });

/** Sets `dst` to a 64-bit value: one `mov` when it fits a sign-extended imm32, else an `lddw`. */
function emitConst(e: Emitter, dst: Reg, value: bigint): void {
  const v = BigInt.asUintN(64, value);
  const s = BigInt.asIntN(64, v);
  if (s >= -0x80000000n && s <= 0x7fffffffn) e.emit(alu('mov', 64, dst, imm(Number(s))));
  else e.emit(lddwMake(dst, v), 2);
}

function lddwMake(dst: Reg, value: bigint): Make {
  const v = BigInt.asUintN(64, value);
  const lo = Number(BigInt.asIntN(32, v));
  const hi = Number(BigInt.asIntN(32, v >> 32n));
  return (pc) => ({ kind: 'lddw', pc, dst, src: 'imm64', imm: lo, next: hi, value: v });
}

/**
 * Counting idioms for loops: `init` the counter, run the body, `step` it, and jump back while `cond` holds.
 * Each terminates after exactly n iterations when the body leaves the counter alone (which lowering ensures).
 */
interface LoopForm {
  readonly up: boolean;
  readonly step: { readonly op: 'add' | 'sub'; readonly width: Width };
  readonly cond: (n: number) => { readonly op: JmpOp; readonly width: Width; readonly imm: number };
}
const LOOP_FORMS: readonly LoopForm[] = [
  { up: false, step: { op: 'sub', width: 64 }, cond: () => ({ op: 'ne', width: 64, imm: 0 }) },
  { up: false, step: { op: 'add', width: 64 }, cond: () => ({ op: 'gt', width: 64, imm: 0 }) },
  { up: false, step: { op: 'sub', width: 32 }, cond: () => ({ op: 'sgt', width: 64, imm: 0 }) },
  { up: false, step: { op: 'add', width: 32 }, cond: () => ({ op: 'ge', width: 32, imm: 1 }) },
  { up: false, step: { op: 'sub', width: 64 }, cond: () => ({ op: 'sge', width: 64, imm: 1 }) },
  { up: false, step: { op: 'sub', width: 64 }, cond: () => ({ op: 'set', width: 64, imm: -1 }) },
  { up: false, step: { op: 'sub', width: 32 }, cond: () => ({ op: 'ne', width: 32, imm: 0 }) },
  { up: false, step: { op: 'sub', width: 64 }, cond: () => ({ op: 'sgt', width: 32, imm: 0 }) },
  { up: true, step: { op: 'add', width: 64 }, cond: (n) => ({ op: 'lt', width: 64, imm: n }) },
  { up: true, step: { op: 'add', width: 64 }, cond: (n) => ({ op: 'le', width: 64, imm: n - 1 }) },
  { up: true, step: { op: 'add', width: 32 }, cond: (n) => ({ op: 'slt', width: 64, imm: n }) },
  { up: true, step: { op: 'add', width: 64 }, cond: (n) => ({ op: 'sle', width: 32, imm: n - 1 }) },
  { up: true, step: { op: 'add', width: 64 }, cond: (n) => ({ op: 'lt', width: 32, imm: n }) },
  { up: true, step: { op: 'add', width: 64 }, cond: (n) => ({ op: 'ne', width: 64, imm: n }) },
];

/** Per-function state while lowering. */
interface FnCtx {
  readonly index: number;
  /** Loop counters live in the enclosing loops: never written by the statements inside. */
  readonly reserved: ReadonlySet<Reg>;
  /** Statement boundaries of this function (goto targets), filled while lowering. */
  readonly labels: number[];
  /** Statement boundaries of every function. */
  readonly allLabels: number[];
  readonly entries: readonly number[];
}

/** Lowers a recipe to a decoded {@link Program}. */
export function buildProgram(recipe: Recipe): Program {
  return decode(encode(lowerRecipe(recipe)));
}

/** Lowers a recipe to IR (not yet round-tripped through the encoder). */
export function lowerRecipe(recipe: Recipe): Insn[] {
  const e = new Emitter();
  const count = 1 + recipe.subs.length;
  const entries = Array.from({ length: count }, () => e.label());
  const bodies = [recipe.main, ...recipe.subs];
  const allLabels: number[] = [];
  bodies.forEach((body, index) => {
    e.bind(entries[index]);
    e.emit(stxdw(10, -8, 1));
    for (const r of index === 0 ? [0, 3, 4, 5, 6, 7, 8, 9] : [0, 6, 7, 8, 9]) emitConst(e, r, recipe.init[r] ?? 0n);
    const ctx: FnCtx = { index, reserved: new Set(), labels: [], allLabels, entries };
    lowerBlock(e, body, ctx);
    ctx.labels.push(e.here());
    allLabels.push(...ctx.labels);
    if (index === 0 && recipe.dump) for (let r = 0; r <= 9; r++) e.emit(stxdw(10, -8 * (r + 1), r));
    if (recipe.fallOff && index === bodies.length - 1) e.emit(alu('mov', 64, 0, reg(0)));
    else e.emit(exit);
  });
  return e.finish();
}

function lowerBlock(e: Emitter, stmts: readonly Stmt[], ctx: FnCtx): void {
  for (const s of stmts) {
    ctx.labels.push(e.here());
    lowerStmt(e, s, ctx);
  }
}

function memBase(m: MemRef): Reg {
  return m.space === 'stack' ? 10 : m.space === 'input' ? 1 : m.reg;
}

/** Emits the address computation of `m`, if any, and gives the base register and offset of the access. */
function lowerMem(e: Emitter, m: MemRef, w: (r: Reg) => Reg): { base: Reg; off: number } {
  const off = m.via ? m.off - m.via.delta : m.off;
  if (!m.via || m.space === 'reg' || off < -0x8000 || off > 0x7fff) return { base: memBase(m), off: m.off };
  const tmp = w(m.via.tmp);
  if (m.space === 'stack') e.emit(alu('mov', 64, tmp, reg(10)));
  else e.emit(ldxdw(tmp, 10, -8));
  e.emit(alu('add', 64, tmp, imm(m.via.delta)));
  return { base: tmp, off };
}

/** Sets the operands of `cmp` when it asks for values, and gives the condition to test. */
function lowerCmp(e: Emitter, cmp: Cmp, w: (r: Reg) => Reg): { op: JmpOp; width: Width; dst: Reg; src: Operand } {
  if (!cmp.vals) return cmp;
  const writable = (r: Reg): Reg => w(r === 10 ? 0 : r);
  const dst = writable(cmp.dst);
  emitConst(e, dst, cmp.vals.dst);
  if (cmp.src.kind === 'imm') return { op: cmp.op, width: cmp.width, dst, src: cmp.src };
  const src = writable(cmp.src.reg);
  if (src !== dst) emitConst(e, src, cmp.vals.src);
  return { op: cmp.op, width: cmp.width, dst, src: reg(src) };
}

function lowerStmt(e: Emitter, s: Stmt, ctx: FnCtx): void {
  // A destination that is a live loop counter is redirected to r0, which is never a counter.
  const w = (r: Reg): Reg => (ctx.reserved.has(r) ? 0 : r);
  switch (s.t) {
    case 'alu':
      e.emit(alu(s.op, s.width, w(s.dst), s.src));
      return;
    case 'aluEdge': {
      const dst = w(s.dst);
      const src = w(s.src);
      if (s.dstValue !== null && dst !== src) emitConst(e, dst, s.dstValue);
      emitConst(e, src, s.srcValue);
      e.emit(alu(s.op, s.width, dst, reg(src)));
      return;
    }
    case 'r10':
      e.emit(alu(s.op, s.width, 10, s.src));
      return;
    case 'neg': {
      const dst = w(s.dst);
      e.emit((pc) => ({ kind: 'neg', pc, width: s.width, dst }));
      return;
    }
    case 'movsx': {
      const dst = w(s.dst);
      e.emit((pc) => ({ kind: 'movsx', pc, width: s.width, bits: s.bits, dst, src: s.src }));
      return;
    }
    case 'endian': {
      const dst = w(s.dst);
      e.emit((pc) => ({ kind: 'endian', pc, order: s.order, bits: s.bits, dst }));
      return;
    }
    case 'lddw':
      e.emit(lddwMake(w(s.dst), s.value), 2);
      return;
    case 'load': {
      const dst = w(s.dst);
      const { base, off } = lowerMem(e, s.mem, w);
      e.emit((pc) => ({ kind: 'load', pc, size: s.size, signed: s.signed, dst, base, off }));
      return;
    }
    case 'store': {
      const { base, off } = lowerMem(e, s.mem, w);
      e.emit((pc) => ({ kind: 'store', pc, size: s.size, base, off, value: s.value }));
      return;
    }
    case 'atomic': {
      // Fetching forms (other than cmpxchg, which writes r0) write the old value back into src.
      const src = s.fetch && s.op !== 'cmpxchg' ? w(s.src) : s.src;
      const { base, off } = lowerMem(e, s.mem, w);
      e.emit((pc) => ({ kind: 'atomic', pc, op: s.op, fetch: s.fetch, size: s.size, base, off, src }));
      return;
    }
    case 'ldpkt':
      e.emit((pc) => ({ kind: 'ldpkt', pc, mode: s.mode, size: s.size, index: s.mode === 'ind' ? s.index : null, imm: s.imm }));
      return;
    case 'if': {
      const elseL = e.label();
      const endL = e.label();
      const cmp = lowerCmp(e, s.cmp, w);
      const first = s.else ? elseL : endL;
      e.emit((pc, at) => ({ kind: 'jcond', pc, cond: { op: cmp.op, width: cmp.width }, dst: cmp.dst, src: cmp.src, target: at(first) }));
      lowerBlock(e, s.then, ctx);
      if (s.else) {
        e.emit((pc, at) => ({ kind: 'ja', pc, long: s.long, target: at(endL) }));
        e.bind(elseL);
        lowerBlock(e, s.else, ctx);
      }
      // Never dangling: every block is followed by another statement's label or the function's final exit.
      e.bind(endL);
      return;
    }
    case 'loop': {
      const free = [6, 7, 8, 9].filter((r) => !ctx.reserved.has(r));
      if (free.length === 0) {
        lowerBlock(e, s.body, ctx);
        return;
      }
      const c = free[s.counter % free.length];
      const form = LOOP_FORMS[s.form % LOOP_FORMS.length];
      const n = Math.max(1, s.n);
      e.emit(alu('mov', 64, c, imm(form.up ? 0 : n)));
      const top = e.here();
      lowerBlock(e, s.body, { ...ctx, reserved: new Set([...ctx.reserved, c]) });
      const delta = form.up === (form.step.op === 'add') ? 1 : -1;
      e.emit(alu(form.step.op, form.step.width, c, imm(delta)));
      const cond = form.cond(n);
      e.emit((pc, at) => ({ kind: 'jcond', pc, cond: { op: cond.op, width: cond.width }, dst: c, src: imm(cond.imm), target: at(top) }));
      return;
    }
    case 'goto': {
      const labels = s.cross ? ctx.allLabels : ctx.labels;
      const pick = (at: Resolve): number => at(labels[s.k % labels.length]);
      const cmp = s.cmp && lowerCmp(e, s.cmp, w);
      if (cmp) e.emit((pc, at) => ({ kind: 'jcond', pc, cond: { op: cmp.op, width: cmp.width }, dst: cmp.dst, src: cmp.src, target: pick(at) }));
      else e.emit((pc, at) => ({ kind: 'ja', pc, long: s.long, target: pick(at) }));
      return;
    }
    case 'call': {
      const targets = s.recursive
        ? ctx.entries
        : ctx.entries.slice(ctx.index + 1);
      if (targets.length === 0) return;
      const entry = targets[s.k % targets.length];
      e.emit((pc, at) => ({ kind: 'call', pc, target: { kind: 'local', pc: at(entry) } }));
      if (s.reinit) {
        // Restore the saved r1 and give r2-r5 values that do not depend on the callee.
        e.emit(ldxdw(1, 10, -8));
        for (let r = 2; r <= 5; r++) e.emit(alu('mov', 64, r, reg(r + 4)));
      }
      return;
    }
    case 'helper': {
      if (s.setup) {
        const { mem, len } = s.setup;
        if (mem.space === 'input') e.emit(ldxdw(1, 10, -8));
        else e.emit(alu('mov', 64, 1, reg(memBase(mem))));
        e.emit(alu('add', 64, 1, imm(mem.off)));
        e.emit(alu('mov', 64, 2, imm(len)));
      }
      e.emit((pc) => ({ kind: 'call', pc, target: { kind: 'helper', id: s.id } }));
      if (s.setup) e.emit(ldxdw(1, 10, -8));
      return;
    }
    case 'btf':
      e.emit((pc) => ({ kind: 'call', pc, target: { kind: 'btf', id: s.id } }));
      return;
    case 'callx': {
      const r = w(s.reg);
      emitConst(e, r, s.id);
      e.emit((pc) => ({ kind: 'callx', pc, reg: r }));
      return;
    }
    case 'exit':
      e.emit(exit);
      return;
  }
}

/**
 * Whether every run of the recipe's program ends without a budget: its only backward jumps are the counted
 * loops and its calls cannot recurse (no `goto`, no recursive `call`). Faults and early exits only end runs
 * sooner.
 */
export function terminatesByConstruction(recipe: Recipe): boolean {
  const ok = (stmts: readonly Stmt[]): boolean =>
    stmts.every((s) => {
      switch (s.t) {
        case 'goto': return false;
        case 'call': return !s.recursive;
        case 'if': return ok(s.then) && (s.else === null || ok(s.else));
        case 'loop': return ok(s.body);
        default: return true;
      }
    });
  return ok(recipe.main) && recipe.subs.every(ok);
}

// ---------------------------------------------------------------------------------------------------------------
// Arbitraries

/** Upper bound of generated input lengths. */
export const MAX_INPUT = 64;

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

/** 32-bit immediates with the edge cases weighted in. */
export const imm32Arb: fc.Arbitrary<number> = fc.oneof(
  { arbitrary: fc.constantFrom(0, 1, -1, INT32_MIN, INT32_MAX, 63, 64, 31, 32, 2, -2, 7, 8, 15, 16, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, -0x7fffffff), weight: 4 },
  { arbitrary: fc.integer({ min: -16, max: 16 }), weight: 3 },
  { arbitrary: fc.integer({ min: INT32_MIN, max: INT32_MAX }), weight: 3 },
);

const U64 = (1n << 64n) - 1n;

/** 64-bit values with the edge cases weighted in. */
export const value64Arb: fc.Arbitrary<bigint> = fc.oneof(
  {
    arbitrary: fc.constantFrom(
      0n, 1n, U64, 1n << 63n, (1n << 63n) - 1n, 0xffffffffn, 0x80000000n, 0x7fffffffn, 1n << 32n, 0xffffffff80000000n,
      0x8000000000000001n, 0xffffffff00000000n, 0x00000000ffff8000n, 0xff00ff00ff00ff00n, 63n, 64n,
    ),
    weight: 3,
  },
  { arbitrary: fc.bigInt({ min: 0n, max: U64 }), weight: 3 },
  { arbitrary: imm32Arb.map((v) => BigInt.asUintN(64, BigInt(v))), weight: 2 },
  { arbitrary: fc.bigInt({ min: 0n, max: 300n }), weight: 1 },
);

/** Registers a statement may write (r10 is read-only; r1, the input pointer, is written less often). */
const dstArb: fc.Arbitrary<Reg> = fc.oneof(
  { arbitrary: fc.constantFrom(0, 2, 3, 4, 5, 6, 7, 8, 9), weight: 18 },
  { arbitrary: fc.constant(1), weight: 1 },
);
/** Any readable register. */
const srcArb: fc.Arbitrary<Reg> = fc.integer({ min: 0, max: 10 });
const operandArb: fc.Arbitrary<Operand> = fc.oneof(imm32Arb.map(imm), srcArb.map(reg));

const ALU_OPS: readonly AluOp[] = ['add', 'sub', 'mul', 'div', 'sdiv', 'or', 'and', 'lsh', 'rsh', 'mod', 'smod', 'xor', 'mov', 'arsh'];
const JMP_OPS: readonly JmpOp[] = ['eq', 'gt', 'ge', 'set', 'ne', 'sgt', 'sge', 'lt', 'le', 'slt', 'sle'];
const widthArb: fc.Arbitrary<Width> = fc.constantFrom(64, 32);

/** Stack offsets: mostly inside the 512-byte frame, sometimes in deeper frames, past the top or anywhere. */
function stackOffArb(size: number): fc.Arbitrary<number> {
  return fc.oneof(
    { arbitrary: fc.integer({ min: 1, max: 512 / 8 }).map((k) => -8 * k), weight: 12 },
    { arbitrary: fc.integer({ min: 1, max: 512 / size }).map((k) => -size * k), weight: 4 },
    { arbitrary: fc.integer({ min: -512, max: -1 }), weight: 4 },
    { arbitrary: fc.integer({ min: -4200, max: -500 }), weight: 2 },
    { arbitrary: fc.integer({ min: -16, max: 16 }), weight: 1 },
    { arbitrary: fc.integer({ min: -0x8000, max: 0x7fff }), weight: 1 },
  );
}

/** Input offsets for inputs of up to {@link MAX_INPUT} bytes: mostly inside, sometimes just past either end. */
function inputOffArb(size: number): fc.Arbitrary<number> {
  return fc.oneof(
    { arbitrary: fc.integer({ min: 0, max: MAX_INPUT / size - 1 }).map((k) => k * size), weight: 12 },
    { arbitrary: fc.integer({ min: 0, max: MAX_INPUT - 1 }), weight: 3 },
    { arbitrary: fc.integer({ min: -16, max: MAX_INPUT + 16 }), weight: 1 },
    { arbitrary: fc.integer({ min: -0x8000, max: 0x7fff }), weight: 1 },
  );
}

/** Mostly none; else a scratch register and a displacement, small or large. */
const viaArb: fc.Arbitrary<MemRef['via']> = fc.oneof(
  { arbitrary: fc.constant(null), weight: 3 },
  {
    arbitrary: fc.record({
      tmp: dstArb,
      delta: fc.oneof({ arbitrary: fc.integer({ min: -600, max: 600 }), weight: 3 }, { arbitrary: imm32Arb, weight: 1 }),
    }),
    weight: 1,
  },
);

function memArb(size: number): fc.Arbitrary<MemRef> {
  return fc.oneof(
    { arbitrary: fc.record({ space: fc.constant('stack' as const), reg: fc.constant(10), off: stackOffArb(size), via: viaArb }), weight: 6 },
    { arbitrary: fc.record({ space: fc.constant('input' as const), reg: fc.constant(1), off: inputOffArb(size), via: viaArb }), weight: 5 },
    { arbitrary: fc.record({ space: fc.constant('reg' as const), reg: srcArb, off: fc.integer({ min: -64, max: 64 }), via: fc.constant(null) }), weight: 1 },
  );
}

const sizeArb: fc.Arbitrary<Size> = fc.constantFrom(1, 2, 4, 8);

/** 64-bit values where operations change behaviour: zero, ±1, the signed and unsigned limits of both widths. */
export const edge64Arb: fc.Arbitrary<bigint> = fc.constantFrom(
  0n, 1n, 2n, U64, U64 - 1n, 1n << 63n, (1n << 63n) - 1n, (1n << 63n) + 1n, 0xffffffff80000000n, 0x80000000n, 0x7fffffffn,
  0xffffffffn, 0x100000000n, 0xffffffff00000000n, 31n, 32n, 63n, 64n,
);
/** Operand pairs that trap or overflow in naive code: INT_MIN / -1 at both widths, division by zero. */
const edgePairArb: fc.Arbitrary<[bigint | null, bigint]> = fc.oneof(
  fc.constantFrom<[bigint | null, bigint]>(
    [1n << 63n, U64],
    [0xffffffff80000000n, U64],
    [0x80000000n, 0xffffffffn],
    [0x80000000n, U64],
    [U64, 0xffffffff00000000n],
  ),
  fc.bigInt({ min: 0n, max: U64 }).map((v): [bigint | null, bigint] => [v, 0n]),
  fc.bigInt({ min: 0n, max: U64 }).map((v): [bigint | null, bigint] => [v, 0xffffffff00000000n]),
);
const operandValueArb: fc.Arbitrary<bigint> = fc.oneof({ arbitrary: edge64Arb, weight: 3 }, { arbitrary: value64Arb, weight: 1 });

const cmpArb: fc.Arbitrary<Cmp> = fc.record({
  op: fc.constantFrom(...JMP_OPS),
  width: widthArb,
  dst: srcArb,
  src: operandArb,
  vals: fc.option(fc.record({ dst: operandValueArb, src: operandValueArb }), { freq: 3, nil: null }),
});

/** Statements without control flow or memory: the straight-line ALU subset. */
export const aluStmtArb: fc.Arbitrary<Stmt> = fc.oneof(
  { arbitrary: fc.record({ t: fc.constant('alu' as const), op: fc.constantFrom(...ALU_OPS), width: widthArb, dst: dstArb, src: operandArb }), weight: 12 },
  {
    arbitrary: fc.record({
      t: fc.constant('aluEdge' as const),
      op: fc.constantFrom(...ALU_OPS),
      width: widthArb,
      dst: dstArb,
      src: dstArb,
      values: fc.oneof(
        { arbitrary: fc.tuple(fc.option(operandValueArb, { freq: 4, nil: null }), operandValueArb), weight: 3 },
        { arbitrary: edgePairArb, weight: 2 },
      ),
    }).map(({ values, ...rest }): Stmt => ({ ...rest, dstValue: values[0], srcValue: values[1] })),
    weight: 3,
  },
  { arbitrary: fc.record({ t: fc.constant('neg' as const), width: widthArb, dst: dstArb }), weight: 1 },
  {
    arbitrary: fc.record({
      t: fc.constant('movsx' as const),
      wb: fc.constantFrom([64, 8], [64, 16], [64, 32], [32, 8], [32, 16]),
      dst: dstArb,
      src: srcArb,
    }).map(({ wb, dst, src }): Stmt => ({ t: 'movsx', width: wb[0] as Width, bits: wb[1] as 8 | 16 | 32, dst, src })),
    weight: 2,
  },
  { arbitrary: fc.record({ t: fc.constant('endian' as const), order: fc.constantFrom<EndianOrder>('le', 'be', 'swap'), bits: fc.constantFrom<16 | 32 | 64>(16, 32, 64), dst: dstArb }), weight: 2 },
  { arbitrary: fc.record({ t: fc.constant('lddw' as const), dst: dstArb, value: value64Arb }), weight: 1 },
);

const loadArb: fc.Arbitrary<Stmt> = sizeArb.chain((size) =>
  fc.record({ t: fc.constant('load' as const), size: fc.constant(size), signed: size === 8 ? fc.constant(false) : fc.boolean(), dst: dstArb, mem: memArb(size) }),
);
const storeArb: fc.Arbitrary<Stmt> = sizeArb.chain((size) =>
  fc.record({ t: fc.constant('store' as const), size: fc.constant(size), mem: memArb(size), value: operandArb }),
);
const atomicArb: fc.Arbitrary<Stmt> = fc
  .record({
    opf: fc.constantFrom<[AtomicOp, boolean]>(
      ['add', false], ['or', false], ['and', false], ['xor', false],
      ['add', true], ['or', true], ['and', true], ['xor', true], ['xchg', true], ['cmpxchg', true],
    ),
    size: fc.constantFrom<4 | 8>(4, 8),
    src: srcArb,
  })
  .chain(({ opf, size, src }) =>
    fc
      .oneof(
        // Mostly aligned (atomics fault when misaligned), sometimes not.
        { arbitrary: memArb(size).map((m): MemRef => ({ ...m, off: m.off - (((m.off % size) + size) % size) })), weight: 6 },
        { arbitrary: memArb(size), weight: 1 },
      )
      .map((mem): Stmt => ({ t: 'atomic', op: opf[0], fetch: opf[1], size, mem, src })),
  );
const ldpktArb: fc.Arbitrary<Stmt> = fc.record({
  t: fc.constant('ldpkt' as const),
  mode: fc.constantFrom<'abs' | 'ind'>('abs', 'ind'),
  size: fc.constantFrom<1 | 2 | 4>(1, 2, 4),
  index: srcArb,
  imm: fc.oneof({ arbitrary: fc.integer({ min: 0, max: MAX_INPUT + 8 }), weight: 4 }, { arbitrary: imm32Arb, weight: 1 }),
});
const helperArb: fc.Arbitrary<Stmt> = fc.record({
  t: fc.constant('helper' as const),
  id: fc.oneof({ arbitrary: fc.constantFrom(...HELPER_IDS), weight: 5 }, { arbitrary: fc.constant(HELPER_NESTED), weight: 1 }),
  setup: fc.option(fc.record({ mem: memArb(8), len: fc.integer({ min: 0, max: 24 }) }), { freq: 2, nil: null }),
});

/** Options of {@link programArb}. */
export interface GenOptions {
  /** Statements in main, at most. Default 6. */
  readonly mainLength?: number;
  /** Subprograms, at most. Default 2. */
  readonly maxSubs?: number;
  /** Nesting depth of if/loop blocks. Default 2. */
  readonly maxDepth?: number;
  /** Weight of `callx` statements, relative to 140 for ALU statements (0 disables them). Default 5. */
  readonly callxWeight?: number;
  /** Weight of legacy packet loads, relative to 140 for ALU statements (0 disables them). Default 10. */
  readonly ldpktWeight?: number;
  /**
   * Whether callers may read r1-r5 as the callee left them (both engines define them so, though eBPF leaves them
   * undefined). Default true; false re-sets them after every call.
   */
  readonly callerSavedReturned?: boolean;
}

/** Initial register values: mostly a single `mov` (imm32), sometimes a full 64-bit `lddw`. */
const initArb: fc.Arbitrary<bigint> = fc.oneof(
  { arbitrary: imm32Arb.map((v) => BigInt.asUintN(64, BigInt(v))), weight: 3 },
  { arbitrary: value64Arb, weight: 1 },
);

/** Random recipes of whole programs: every statement kind, control flow and subprograms. */
export function recipeArb(options: GenOptions = {}): fc.Arbitrary<Recipe> {
  const maxDepth = options.maxDepth ?? 2;
  const { stmt } = fc.letrec<{ stmt: Stmt; block: Stmt[] }>((tie) => ({
    stmt: fc.oneof(
      { maxDepth, depthIdentifier: 'stmt', withCrossShrink: true },
      // The first arbitrary is what deep levels fall back to: a leaf.
      { arbitrary: aluStmtArb, weight: 140 },
      { arbitrary: loadArb, weight: 40 },
      { arbitrary: storeArb, weight: 40 },
      { arbitrary: atomicArb, weight: 30 },
      { arbitrary: ldpktArb, weight: options.ldpktWeight ?? 10 },
      { arbitrary: helperArb, weight: 20 },
      {
        arbitrary: fc.record({
          t: fc.constant('callx' as const),
          id: fc.oneof(
            { arbitrary: fc.constantFrom(...HELPER_IDS, UNKNOWN_HELPER).map(BigInt), weight: 4 },
            { arbitrary: value64Arb, weight: 1 },
          ),
          reg: dstArb,
        }),
        weight: options.callxWeight ?? 5,
      },
      { arbitrary: fc.record({ t: fc.constant('btf' as const), id: fc.nat(100) }), weight: 1 },
      { arbitrary: fc.record({ t: fc.constant('exit' as const) }), weight: 4 },
      {
        arbitrary: fc.oneof(
          // Mostly moving the frame by a few slots, so that r10-relative accesses keep landing in the stack.
          { arbitrary: fc.integer({ min: -8, max: 8 }).map((k): Stmt => ({ t: 'r10', op: 'add', width: 64, src: imm(8 * k) })), weight: 4 },
          { arbitrary: fc.record({ t: fc.constant('r10' as const), op: fc.constantFrom(...ALU_OPS), width: widthArb, src: operandArb }), weight: 1 },
        ),
        weight: 3,
      },
      {
        arbitrary: fc.record({
          t: fc.constant('goto' as const),
          k: fc.nat(64),
          cmp: fc.option(cmpArb, { freq: 4, nil: null }),
          long: fc.boolean(),
          cross: fc.oneof({ arbitrary: fc.constant(false), weight: 5 }, { arbitrary: fc.constant(true), weight: 1 }),
        }),
        weight: 10,
      },
      {
        arbitrary: fc.record({
          t: fc.constant('call' as const),
          k: fc.nat(8),
          recursive: fc.oneof({ arbitrary: fc.constant(false), weight: 6 }, { arbitrary: fc.constant(true), weight: 1 }),
          reinit: options.callerSavedReturned === false ? fc.constant(true) : fc.boolean(),
        }),
        weight: 20,
      },
      {
        arbitrary: fc.record({ t: fc.constant('if' as const), cmp: cmpArb, then: tie('block'), else: fc.option(tie('block'), { freq: 2, nil: null }), long: fc.boolean() }),
        weight: 30,
      },
      {
        arbitrary: fc.record({ t: fc.constant('loop' as const), counter: fc.nat(3), n: fc.integer({ min: 1, max: 4 }), form: fc.nat(LOOP_FORMS.length - 1), body: tie('block') }),
        weight: 20,
      },
    ),
    block: fc.array(tie('stmt'), { maxLength: 3 }),
  }));
  return fc.record({
    init: fc.array(initArb, { minLength: 10, maxLength: 10 }),
    main: fc.array(stmt, { minLength: 1, maxLength: options.mainLength ?? 6 }),
    subs: fc.array(fc.array(stmt, { minLength: 1, maxLength: 3 }), { maxLength: options.maxSubs ?? 2 }),
    dump: fc.oneof({ arbitrary: fc.constant(false), weight: 2 }, { arbitrary: fc.constant(true), weight: 1 }),
    fallOff: fc.oneof({ arbitrary: fc.constant(false), weight: 30 }, { arbitrary: fc.constant(true), weight: 1 }),
  });
}

/** Input memory: usually the full {@link MAX_INPUT} bytes, sometimes shorter or empty (r1 = 0). */
export const inputArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { arbitrary: fc.uint8Array({ minLength: MAX_INPUT, maxLength: MAX_INPUT }), weight: 12 },
  { arbitrary: fc.uint8Array({ minLength: 1, maxLength: MAX_INPUT - 1 }), weight: 2 },
  { arbitrary: fc.constant(new Uint8Array(0)), weight: 1 },
);

/** The budget most runs get: more than any terminating generated program needs. */
export const GENEROUS_BUDGET = 250;

/** Budgets: mostly generous, sometimes tight enough that loops and calls run out. */
export const budgetArb: fc.Arbitrary<number> = fc.oneof(
  { arbitrary: fc.constant(GENEROUS_BUDGET), weight: 6 },
  { arbitrary: fc.constantFrom(0, 1, 2, 3, 5, 8, 20), weight: 2 },
);

/** Whole differential cases: a program, its input and its budget. */
export function diffCaseArb(options: GenOptions = {}): fc.Arbitrary<DiffCase> {
  return fc.record({
    recipe: recipeArb(options),
    input: inputArb,
    budget: budgetArb,
    writable: fc.oneof({ arbitrary: fc.constant(true), weight: 6 }, { arbitrary: fc.constant(false), weight: 1 }),
    decoys: fc.oneof({ arbitrary: fc.constant(false), weight: 7 }, { arbitrary: fc.constant(true), weight: 1 }),
  });
}

/** Straight-line programs of ALU statements only (no memory, no jumps), with every register dumped. */
export const straightLineArb: fc.Arbitrary<Recipe> = fc.record({
  init: fc.array(value64Arb, { minLength: 10, maxLength: 10 }),
  main: fc.array(aluStmtArb, { minLength: 1, maxLength: 30 }),
  subs: fc.constant([]),
  dump: fc.constant(true),
  fallOff: fc.constant(false),
});
