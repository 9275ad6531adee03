/**
 * The last-resort structuring for large irreducible CFGs: a loop around a `br_table` on a label variable, one
 * arm per basic block, every edge a `label = target; br $dispatch`.
 *
 *     (local.set $label (i32.const <entry>))
 *     (loop $dispatch
 *       (block $d2 (block $d1 (block $d0
 *         (br_table $d0 $d1 $d2 (local.get $label)))
 *         <block 0> (local.set $label (i32.const 2)) (br $dispatch))
 *         <block 1> ...)
 *       <block 2> ...)
 *
 * It is linear in the size of the CFG, where Binaryen's Relooper, which makes better code for irreducible
 * loops, grows superlinearly (0.5 ms a loop at 40 two-entry loops, 4 s at 1,600): relooper.ts uses the Relooper
 * for small irreducible functions and this above {@link RELOOPER_MAX_BLOCKS}. Reducible functions never come
 * here (structure.ts).
 *
 * Not here: the straight-line code of blocks (lower-*.ts), choosing the strategy (relooper.ts).
 */

import { InternalError, InvalidProgramError } from '../src/errors.js';
import type { Expr } from './binaryen.js';
import type { BasicBlock } from './cfg.js';
import { L_LABEL, type FnContext } from './frame.js';
import { lowerCond } from './lower-alu.js';
import { chargeBudget } from './lower-call.js';
import { MAX_NESTING } from './structure.js';

/** Irreducible functions with more blocks than this go through {@link dispatchLoop} rather than the Relooper. */
export const RELOOPER_MAX_BLOCKS = 64;

const DISPATCH = 'dispatch';

/** The function body as a dispatch loop over its blocks (any CFG). */
export function dispatchLoop(ctx: FnContext, blocks: readonly BasicBlock[], lowerBody: (bb: BasicBlock) => Expr | undefined): Expr {
  if (blocks.length + 2 > MAX_NESTING) {
    throw new InvalidProgramError('too_large', `irreducible control flow of ${blocks.length} blocks, beyond what the JIT can compile`, ctx.entry);
  }
  const b = ctx.b;
  const { program } = ctx;
  const index = new Map<number, number>();
  blocks.forEach((bb, i) => index.set(bb.start, i));
  const lastPc = program.insns[program.insns.length - 1].pc;
  const armLabel = (i: number): string => `d${blocks[i].start}`;

  /** `[charge] label = target; br $dispatch`, or the fall-off-the-end fault. */
  const goTo = (slot: number, charge: number | undefined): Expr => {
    if (slot >= program.slotCount) return ctx.fault('fell_off_end', lastPc);
    const i = index.get(slot);
    if (i === undefined) throw new InternalError(`branch to block ${slot} outside function ${ctx.entry}`);
    const go = [b.setLocal(L_LABEL, b.i32.const(i)), b.br(DISPATCH)];
    return b.block(charge === undefined ? go : [chargeBudget(ctx, charge), ...go]);
  };
  const backward = (pc: number, target: number): number | undefined => (ctx.options.budget && target <= pc ? pc : undefined);

  const arm = (bb: BasicBlock): Expr => {
    const body = lowerBody(bb);
    const code = body === undefined ? [] : [body];
    const e = bb.end;
    switch (e.kind) {
      case 'exit':
        break;
      case 'jump':
        code.push(goTo(e.target, backward(e.pc, e.target)));
        break;
      case 'fall':
        code.push(goTo(e.next, undefined));
        break;
      case 'cond':
        if (e.insn.target !== e.next) code.push(b.if(lowerCond(ctx, e.insn), goTo(e.insn.target, backward(e.insn.pc, e.insn.target))));
        code.push(goTo(e.next, undefined));
        break;
    }
    return b.block(code);
  };

  const labels = blocks.map((_, i) => armLabel(i));
  let inner = b.namedBlock(labels[0], [b.switch(labels, labels[0], b.getLocal(L_LABEL, 'i32'))]);
  for (let i = 1; i < blocks.length; i++) inner = b.namedBlock(labels[i], [inner, arm(blocks[i - 1])]);
  const body = b.block([inner, arm(blocks[blocks.length - 1])]);
  return b.block([b.setLocal(L_LABEL, b.i32.const(index.get(ctx.entry)!)), b.loop(DISPATCH, body)]);
}
