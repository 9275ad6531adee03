/**
 * Basic blocks: the program cut at jump targets, after jumps and exits, and at function entries; and, per
 * eBPF function, the blocks it reaches by jumps and fall-through (calls are not edges).
 *
 * A Wasm function holds the blocks reachable from its entry, so a block reachable from two entries is lowered
 * once per function, which keeps jumps between "functions" (legal bytecode, if odd) exact.
 *
 * Not here: turning blocks into structured Wasm (structure.ts, relooper.ts).
 */

import { InternalError } from '../src/errors.js';
import type { Insn, JcondInsn } from '../src/isa/insn.js';
import type { Program } from '../src/isa/program.js';

/** How a basic block ends. `next` may be `slotCount`: control falls off the end of the program. */
export type BlockEnd =
  | { readonly kind: 'exit' }
  | { readonly kind: 'jump'; readonly pc: number; readonly target: number }
  | { readonly kind: 'cond'; readonly insn: JcondInsn; readonly next: number }
  | { readonly kind: 'fall'; readonly next: number };

/** A maximal straight-line run of instructions: `insns[first..last]`. */
export interface BasicBlock {
  readonly start: number;
  readonly first: number;
  readonly last: number;
  readonly end: BlockEnd;
}

/** The basic blocks of a program (shared by all its functions). */
export class ProgramCfg {
  private readonly leaders: Uint8Array;
  private readonly blocks = new Map<number, BasicBlock>();

  constructor(readonly program: Program) {
    const { insns, slotCount } = program;
    const leaders = new Uint8Array(slotCount + 1);
    for (const f of program.functions) leaders[f] = 1;
    for (const insn of insns) {
      const next = insn.pc + (insn.kind === 'lddw' ? 2 : 1);
      if (insn.kind === 'ja' || insn.kind === 'jcond') leaders[insn.target] = 1;
      if (insn.kind === 'ja' || insn.kind === 'jcond' || insn.kind === 'exit') leaders[next] = 1;
    }
    this.leaders = leaders;
  }

  /** The block starting at slot `start` (a leader). */
  block(start: number): BasicBlock {
    let bb = this.blocks.get(start);
    if (bb !== undefined) return bb;
    const { insns, indexOfPc, slotCount } = this.program;
    const first = indexOfPc[start];
    if (first === undefined || first < 0 || !this.leaders[start]) throw new InternalError(`no basic block starts at ${start}`);
    let i = first;
    let end: BlockEnd;
    for (;;) {
      const insn: Insn = insns[i];
      const next = insn.pc + (insn.kind === 'lddw' ? 2 : 1);
      if (insn.kind === 'exit') end = { kind: 'exit' };
      else if (insn.kind === 'ja') end = { kind: 'jump', pc: insn.pc, target: insn.target };
      else if (insn.kind === 'jcond') end = { kind: 'cond', insn, next };
      else if (next >= slotCount || this.leaders[next]) end = { kind: 'fall', next };
      else {
        i++;
        continue;
      }
      break;
    }
    bb = { start, first, last: i, end };
    this.blocks.set(start, bb);
    return bb;
  }

  /** Blocks reachable from the function entry `entry` by jumps and fall-through, in slot order. */
  functionBlocks(entry: number): BasicBlock[] {
    const seen = new Set<number>([entry]);
    const work = [entry];
    const out: BasicBlock[] = [];
    const slotCount = this.program.slotCount;
    while (work.length > 0) {
      const bb = this.block(work.pop()!);
      out.push(bb);
      for (const s of successors(bb)) {
        if (s < slotCount && !seen.has(s)) {
          seen.add(s);
          work.push(s);
        }
      }
    }
    return out.sort((a, b) => a.start - b.start);
  }
}

/** Successor slots of a block (`slotCount` for falling off the end). */
export function successors(bb: BasicBlock): number[] {
  const e = bb.end;
  switch (e.kind) {
    case 'exit': return [];
    case 'jump': return [e.target];
    case 'cond': return e.insn.target === e.next ? [e.next] : [e.insn.target, e.next];
    case 'fall': return [e.next];
  }
}
