/**
 * The filter compiler's assembler: instructions with symbolic labels → a {@link Program}, through a few
 * classic passes that keep the code tight and acceptable to the verifier's strict mode:
 *
 * 1. known-value threading: a jump to a test whose outcome the path already decided (`ldh [12]` was 0x86dd,
 *    so `ldh [12] == 0x800` is false) goes straight to that outcome, as libpcap's optimizer does;
 * 2. redundant-load elimination: an `ldabs` (or IHL computation) whose value its register already holds on
 *    every path is dropped (the repeated `ldh [12]` of `ip or ip6`);
 * 3. jump threading: a jump to an unconditional jump goes straight to its target;
 * 4. `jcond X, L1; ja L2; L1:` becomes `jcond !X, L2`, and jumps to the next instruction vanish;
 * 5. unreachable instructions are removed (the verifier rejects them), then labels become slot numbers.
 *
 * Every instruction takes one slot (constants fit in 32 bits), and every jump goes forward, as in classic BPF.
 *
 * Not here: what the code means (codegen.ts).
 */

import type { AluOp, Insn, JmpOp, Operand, Reg, Size } from '../isa/insn.js';
import { makeProgram, type Program } from '../isa/program.js';
import { InternalError } from '../errors.js';

/** A jump target, resolved by {@link Emitter.finish}. */
export type Label = number;

/** An instruction before layout: jumps name a label instead of a slot. */
type Item =
  | { readonly kind: 'label'; readonly label: Label }
  | { readonly kind: 'ja'; target: Label }
  | { readonly kind: 'jcond'; op: JmpOp; readonly dst: Reg; readonly src: Operand; target: Label }
  | { readonly kind: 'insn'; readonly insn: DistributiveOmit<Exclude<Insn, { kind: 'ja' | 'jcond' }>, 'pc'> }
  /** `reg = 4 * (packet[off] & 0xf)` through r0 (four instructions): tracked as one value by the passes. */
  | { readonly kind: 'ihl'; readonly reg: Reg; readonly off: number };

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

const NEGATE: Partial<Record<JmpOp, JmpOp>> = { eq: 'ne', ne: 'eq', gt: 'le', le: 'gt', ge: 'lt', lt: 'ge' };

/** Builds a straight-line list of instructions and labels; all ALU and jumps are 32-bit, as classic BPF. */
export class Emitter {
  private items: Item[] = [];
  private labels = 0;

  label(): Label {
    return this.labels++;
  }
  place(label: Label): void {
    this.items.push({ kind: 'label', label });
  }
  ja(target: Label): void {
    this.items.push({ kind: 'ja', target });
  }
  /** `if (u32) dst op src goto target`. */
  jcond(op: JmpOp, dst: Reg, src: number | Reg | { reg: Reg }, target: Label): void {
    this.items.push({ kind: 'jcond', op, dst, src: operand(src), target });
  }
  /** `r0 = ntoh(packet[off .. off+size])`, ending the run with r0 = 0 when out of the packet. */
  ldAbs(size: 1 | 2 | 4, off: number): void {
    this.items.push({ kind: 'insn', insn: { kind: 'ldpkt', mode: 'abs', size, index: null, imm: off | 0 } });
  }
  /** `reg = 4 * (packet[off] & 0xf)` (classic BPF's `ldxb 4*([off]&0xf)`); r0 = packet[off]. */
  ihl(reg: Reg, off: number): void {
    this.items.push({ kind: 'ihl', reg, off });
  }
  /** `r0 = ntoh(packet[index + off ..])` (the index as a signed 32-bit number, as Linux). */
  ldInd(size: 1 | 2 | 4, index: Reg, off: number): void {
    this.items.push({ kind: 'insn', insn: { kind: 'ldpkt', mode: 'ind', size, index, imm: off | 0 } });
  }
  /** `dst = (u32)(dst op src)`. */
  alu(op: AluOp, dst: Reg, src: number | { reg: Reg }): void {
    this.items.push({ kind: 'insn', insn: { kind: 'alu', op, width: 32, dst, src: operand(src) } });
  }
  neg(dst: Reg): void {
    this.items.push({ kind: 'insn', insn: { kind: 'neg', width: 32, dst } });
  }
  store32(off: number, src: Reg): void {
    this.items.push({ kind: 'insn', insn: { kind: 'store', size: 4, base: 10, off, value: { kind: 'reg', reg: src } } });
  }
  load32(dst: Reg, off: number): void {
    this.items.push({ kind: 'insn', insn: { kind: 'load', size: 4 as Size, signed: false, dst, base: 10, off } });
  }
  exit(): void {
    this.items.push({ kind: 'insn', insn: { kind: 'exit' } });
  }

  /** Puts `prologue`'s instructions before everything emitted so far. */
  prepend(prologue: (e: Emitter) => void): void {
    const body = this.items;
    this.items = [];
    prologue(this);
    this.items.push(...body);
  }

  /** Runs the passes and lays the code out. */
  finish(): Program {
    let items = threadKnownValues(this.items);
    items = eliminateLoads(items);
    items = threadJumps(items);
    items = removeUnreachable(items);
    return layout(items);
  }
}

function operand(src: number | Reg | { reg: Reg }): Operand {
  return typeof src === 'number' ? { kind: 'imm', imm: src | 0 } : { kind: 'reg', reg: src.reg };
}

/** Index of each label in `items`. */
function labelIndex(items: readonly Item[]): Map<Label, number> {
  const at = new Map<Label, number>();
  items.forEach((it, i) => {
    if (it.kind === 'label') at.set(it.label, i);
  });
  return at;
}

/** Symbolic register contents: reg → what it holds (`size@off` for a load, `ihl@off`). */
type Regs = ReadonlyMap<Reg, string>;

/** The registers an item writes, with what they then hold (undefined: unknown); null for none. */
function effect(it: Item, regs: Regs): [Reg, string | undefined][] | null {
  if (it.kind === 'ihl') return [[0, `1@${it.off}`], [it.reg, `ihl@${it.off}`]];
  if (it.kind !== 'insn') return null;
  const i = it.insn;
  if (i.kind === 'ldpkt') return [[0, i.mode === 'abs' ? `${i.size}@${i.imm}` : undefined]];
  if (i.kind === 'alu' && i.op === 'and' && i.src.kind === 'imm' && regs.has(i.dst)) return [[i.dst, `${regs.get(i.dst)}&${i.src.imm}`]];
  if (i.kind === 'alu' || i.kind === 'neg' || i.kind === 'load') return [[i.dst, undefined]];
  return null;
}

function apply(regs: Map<Reg, string>, eff: [Reg, string | undefined][] | null): void {
  for (const [r, k] of eff ?? []) {
    if (k === undefined) regs.delete(r);
    else regs.set(r, k);
  }
}

function meetRegs(list: readonly Regs[]): Map<Reg, string> {
  const out = new Map(list[0]);
  for (const m of list.slice(1)) for (const [r, k] of out) if (m.get(r) !== k) out.delete(r);
  return out;
}

/** The item is a pure (re)computation of what its register already holds. */
function redundant(it: Item, regs: Regs): boolean {
  if (it.kind === 'ihl') return regs.get(it.reg) === `ihl@${it.off}`;
  return it.kind === 'insn' && it.insn.kind === 'ldpkt' && it.insn.mode === 'abs' && regs.get(0) === `${it.insn.size}@${it.insn.imm}`;
}

/** Pass 2: forward dataflow of register contents over the (acyclic, forward) code; drops recomputations. */
function eliminateLoads(items: Item[]): Item[] {
  const at = labelIndex(items);
  const incoming = new Map<number, Regs[]>();
  const drop = new Set<number>();
  let cur = new Map<Reg, string>();
  let live = true; // whether the previous item falls through
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    if (it.kind === 'label') {
      const from = incoming.get(i) ?? [];
      if (live) from.push(cur);
      live = from.length > 0;
      cur = live ? meetRegs(from) : new Map();
      continue;
    }
    if (!live) continue;
    if (it.kind === 'ja' || it.kind === 'jcond') {
      const t = at.get(it.target)!;
      incoming.set(t, [...(incoming.get(t) ?? []), new Map(cur)]);
      if (it.kind === 'ja') live = false;
      continue;
    }
    if (it.kind === 'insn' && it.insn.kind === 'exit') live = false;
    if (redundant(it, cur)) drop.add(i);
    else apply(cur, effect(it, cur));
  }
  return items.filter((_, i) => !drop.has(i));
}

/** What a path knows of a loaded value: equal to `eq`, or different from each of `ne`. */
interface Fact {
  readonly eq?: number;
  readonly ne: ReadonlySet<number>;
}
type Facts = ReadonlyMap<string, Fact>;

function meetFacts(list: readonly Facts[]): Map<string, Fact> {
  const out = new Map<string, Fact>();
  for (const [k, f0] of list[0]) {
    let f: Fact | undefined = f0;
    for (const m of list.slice(1)) {
      const g = m.get(k);
      if (f === undefined || g === undefined) {
        f = undefined;
        break;
      }
      if (f.eq !== undefined && f.eq === g.eq) continue;
      const excl = (x: Fact): Set<number> => (x.eq !== undefined ? new Set<number>() : new Set(x.ne));
      const a = f.eq !== undefined ? new Set([...g.ne].filter((v) => v !== f!.eq)) : excl(f);
      const b = g.eq !== undefined ? new Set([...f.ne].filter((v) => v !== g.eq)) : excl(g);
      const ne: Set<number> = f.eq !== undefined ? a : g.eq !== undefined ? b : new Set([...a].filter((v) => b.has(v)));
      f = ne.size > 0 ? { ne } : undefined;
    }
    if (f !== undefined) out.set(k, f);
  }
  return out;
}

/** `a op b` on u32, or undefined for an operator this pass does not decide. */
function evalCond(op: JmpOp, a: number, b: number): boolean | undefined {
  switch (op) {
    case 'eq': return a === b;
    case 'ne': return a !== b;
    case 'gt': return a > b;
    case 'ge': return a >= b;
    case 'lt': return a < b;
    case 'le': return a <= b;
    case 'set': return (a & b) !== 0;
    default: return undefined;
  }
}

/** Whether `op imm` holds of a value with fact `f`, when the fact decides it. */
function decide(f: Fact | undefined, op: JmpOp, imm: number): boolean | undefined {
  if (f === undefined) return undefined;
  if (f.eq !== undefined) return evalCond(op, f.eq, imm);
  if (f.ne.has(imm) && (op === 'eq' || op === 'ne')) return op === 'ne';
  return undefined;
}

/** The fact a branch adds about `value op imm` (taken or not). */
function learn(facts: Map<string, Fact>, key: string | undefined, op: JmpOp, imm: number, taken: boolean): void {
  if (key === undefined) return;
  const positive = (op === 'eq' && taken) || (op === 'ne' && !taken);
  const negative = (op === 'ne' && taken) || (op === 'eq' && !taken);
  const old = facts.get(key);
  if (positive) facts.set(key, { eq: imm, ne: new Set() });
  else if (negative && old?.eq === undefined) facts.set(key, { ne: new Set([...(old?.ne ?? []), imm]) });
}

/**
 * Pass 1 (on the code as generated, where every test loads its own value just before comparing): a jump whose
 * target is `ldabs K [; and r0, m]; jcond r0, imm` already decided by what the path learnt of K goes to that
 * test's outcome instead. Repeated until nothing changes.
 */
function threadKnownValues(input: Item[]): Item[] {
  // A label after every test: where a path goes when the test is decided false. They exist before the
  // analysis so that every edge's facts reach the point they arrive at (the unused ones are removed later).
  let labels = Math.max(-1, ...input.map((it) => (it.kind === 'label' ? it.label : -1))) + 1;
  const items: Item[] = input.flatMap((it): Item[] => (it.kind === 'jcond' ? [it, { kind: 'label', label: labels++ }] : [it]));
  const at = labelIndex(items);
  /** The decided outcome of the test at label `l` for a path with `known`: where to go instead. */
  const shortcut = (l: Label, known: Facts): Label | undefined => {
    let i = at.get(l)!;
    while (items[i]?.kind === 'label') i++;
    const first = i;
    const r = new Map<Reg, string>();
    for (; i < items.length; i++) {
      const eff = effect(items[i], r);
      if (eff === null || eff.length !== 1 || eff[0][0] !== 0) break;
      apply(r, eff);
    }
    const j = items[i];
    if (j?.kind !== 'jcond' || j.dst !== 0 || j.src.kind !== 'imm' || i === first) return undefined;
    const outcome = decide(known.get(r.get(0) ?? ''), j.op, j.src.imm >>> 0);
    if (outcome === undefined) return undefined;
    return outcome ? j.target : (items[i + 1] as { label: Label }).label;
  };
  for (let round = 0, changed = true; changed && round < 64; round++) {
    changed = false;
    const incoming = new Map<number, Facts[]>();
    let facts = new Map<string, Fact>();
    let regs = new Map<Reg, string>();
    let live = true;
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      if (it.kind === 'label') {
        const from = incoming.get(i) ?? [];
        if (live) from.push(facts);
        live = from.length > 0;
        facts = live ? meetFacts(from) : new Map();
        regs = new Map();
        continue;
      }
      if (!live) continue;
      if (it.kind === 'ja' || it.kind === 'jcond') {
        const taken = new Map(facts);
        if (it.kind === 'jcond' && it.dst === 0 && it.src.kind === 'imm') {
          learn(taken, regs.get(0), it.op, it.src.imm >>> 0, true);
          learn(facts, regs.get(0), it.op, it.src.imm >>> 0, false);
        }
        const s = shortcut(it.target, taken);
        if (s !== undefined && s !== it.target) {
          it.target = s;
          changed = true;
        }
        const t = at.get(it.target)!;
        incoming.set(t, [...(incoming.get(t) ?? []), taken]);
        if (it.kind === 'ja') live = false;
        continue;
      }
      if (it.kind === 'insn' && it.insn.kind === 'exit') live = false;
      apply(regs, effect(it, regs));
    }
  }
  return items;
}

/** Passes 3 and 4: thread jumps through `ja`s and labels, invert `jcond; ja` pairs, drop jumps to the next insn. */
function threadJumps(input: Item[]): Item[] {
  let items = input;
  for (let changed = true; changed; ) {
    changed = false;
    // Labels no jump names any more would hide `jcond; ja; label` patterns.
    const used = new Set(items.flatMap((it) => (it.kind === 'ja' || it.kind === 'jcond' ? [it.target] : [])));
    items = items.filter((it) => it.kind !== 'label' || used.has(it.label));
    const at = labelIndex(items);
    /** The first non-label item at or after label `l`'s position. */
    const resolve = (l: Label): Label => {
      for (let hops = 0; hops < items.length; hops++) {
        let i = at.get(l)!;
        while (i < items.length && items[i].kind === 'label') i++;
        const it = items[i];
        if (it === undefined || it.kind !== 'ja' || it.target === l) return l;
        l = it.target;
      }
      return l;
    };
    const next = (i: number, l: Label): boolean => {
      for (let j = i + 1; j < items.length && items[j].kind === 'label'; j++) if ((items[j] as { label: Label }).label === l) return true;
      return false;
    };
    const out: Item[] = [];
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      if (it.kind === 'ja' || it.kind === 'jcond') {
        const t = resolve(it.target);
        if (t !== it.target) {
          it.target = t;
          changed = true;
        }
        if (next(i, it.target)) {
          changed = true;
          continue; // a jump (taken or not) to the next instruction
        }
        const after = items[i + 1];
        const neg = it.kind === 'jcond' ? NEGATE[it.op] : undefined;
        if (neg !== undefined && it.kind === 'jcond' && after?.kind === 'ja' && next(i + 1, it.target)) {
          out.push({ ...it, op: neg, target: after.target });
          i++;
          changed = true;
          continue;
        }
      }
      out.push(it);
    }
    items = out;
  }
  return items;
}

/** Pass 5: keeps what is reachable from the first instruction (and the labels of kept code). */
function removeUnreachable(items: Item[]): Item[] {
  const at = labelIndex(items);
  const reach = new Uint8Array(items.length);
  const work = [0];
  while (work.length > 0) {
    let i = work.pop()!;
    for (; i < items.length && reach[i] === 0; i++) {
      reach[i] = 1;
      const it = items[i];
      if (it.kind === 'ja' || it.kind === 'jcond') work.push(at.get(it.target)!);
      if (it.kind === 'ja' || (it.kind === 'insn' && it.insn.kind === 'exit')) break;
    }
  }
  return items.filter((_, i) => reach[i] === 1);
}

function layout(items: readonly Item[]): Program {
  const pcOf = new Map<Label, number>();
  let pc = 0;
  for (const it of items) {
    if (it.kind === 'label') pcOf.set(it.label, pc);
    else pc += it.kind === 'ihl' ? 4 : 1;
  }
  const insns: Insn[] = [];
  pc = 0;
  for (const it of items) {
    if (it.kind === 'label') continue;
    const target = it.kind === 'ja' || it.kind === 'jcond' ? pcOf.get(it.target) : undefined;
    if ((it.kind === 'ja' || it.kind === 'jcond') && target === undefined) throw new InternalError(`filter code jumps to an unplaced label ${it.target}`);
    if (it.kind === 'ja') insns.push({ kind: 'ja', pc, target: target!, long: false });
    else if (it.kind === 'jcond') insns.push({ kind: 'jcond', pc, cond: { op: it.op, width: 32 }, dst: it.dst, src: it.src, target: target! });
    else if (it.kind === 'ihl') {
      insns.push({ kind: 'ldpkt', pc, mode: 'abs', size: 1, index: null, imm: it.off });
      insns.push({ kind: 'alu', pc: pc + 1, op: 'mov', width: 32, dst: it.reg, src: { kind: 'reg', reg: 0 } });
      insns.push({ kind: 'alu', pc: pc + 2, op: 'and', width: 32, dst: it.reg, src: { kind: 'imm', imm: 0xf } });
      insns.push({ kind: 'alu', pc: pc + 3, op: 'lsh', width: 32, dst: it.reg, src: { kind: 'imm', imm: 2 } });
      pc += 3;
    } else insns.push({ ...it.insn, pc } as Insn);
    pc++;
  }
  return makeProgram(insns);
}
