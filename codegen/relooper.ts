/**
 * Rendering a function's blocks (cfg.ts) into structured Wasm: by structure.ts when the CFG is reducible, by
 * Binaryen's Relooper for the rest (irreducible loops, which compilers do not emit but bytecode may contain),
 * or by dispatch.ts when an irreducible function is too large for the Relooper.
 *
 * Edges are de-duplicated before they reach the Relooper: a conditional jump whose target is its own
 * fall-through becomes one unconditional edge (two branches between the same pair of blocks abort Binaryen).
 * Taken backward jumps (`target <= pc`) carry the budget charge on their edge in the budget variant, so
 * straight-line code and forward jumps cost nothing.
 *
 * Not here: what a block's instructions become (lower-*.ts); the module around the functions (translate.ts).
 */

import { InternalError } from '../src/errors.js';
import type { CfgBlock, Expr } from './binaryen.js';
import type { BasicBlock } from './cfg.js';
import { L_LABEL, type FnContext } from './frame.js';
import { lowerCond } from './lower-alu.js';
import { chargeBudget } from './lower-call.js';
import { RELOOPER_MAX_BLOCKS, dispatchLoop } from './dispatch.js';
import { structure } from './structure.js';

/**
 * Renders one function's blocks as a structured Wasm statement: through structure.ts when the CFG is reducible
 * (always, for compiled code), else through Binaryen's Relooper, or for large irreducible functions through a
 * dispatch loop (dispatch.ts: the Relooper grows superlinearly). `lowerBody` lowers a block's straight-line
 * part (and its `exit`), `undefined` when there is none; the edges are added by each strategy.
 */
export function renderFunction(ctx: FnContext, blocks: readonly BasicBlock[], lowerBody: (bb: BasicBlock) => Expr | undefined): Expr {
  switch (ctx.options.controlFlow) {
    case 'relooper':
      return reloop(ctx, blocks, lowerBody);
    case 'dispatch':
      return dispatchLoop(ctx, blocks, lowerBody);
    case 'auto':
      return structure(ctx, blocks, lowerBody) ?? (blocks.length <= RELOOPER_MAX_BLOCKS ? reloop : dispatchLoop)(ctx, blocks, lowerBody);
  }
}

/**
 * Any CFG, irreducible ones included, through Binaryen's Relooper (which dispatches on a label variable where
 * a cycle has several entries).
 *
 *     ;; a loop `L: ...; jne r1, 0, L` becomes, roughly:
 *     (loop $shape$1$continue
 *       <body>
 *       (if (i64.ne $r1 (i64.const 0)) (then <charge budget> (br $shape$1$continue))))
 */
export function reloop(ctx: FnContext, blocks: readonly BasicBlock[], lowerBody: (bb: BasicBlock) => Expr | undefined): Expr {
  const b = ctx.b;
  // The Relooper refuses branches out of its blocks: faults trap where they are (frame.ts, `faultsInline`).
  ctx.faultsInline = true;
  const { program } = ctx;
  const cfg = b.cfg();
  const handles = new Map<number, CfgBlock>();
  for (const bb of blocks) handles.set(bb.start, cfg.addBlock(lowerBody(bb) ?? b.nop()));

  let offEnd: CfgBlock | undefined;
  const to = (slot: number): CfgBlock => {
    if (slot >= program.slotCount) {
      // Only the last instruction can fall off the end, so one block per function, naming its pc, serves all.
      const lastPc = program.insns[program.insns.length - 1].pc;
      offEnd ??= cfg.addBlock(ctx.fault('fell_off_end', lastPc));
      return offEnd;
    }
    const h = handles.get(slot);
    if (h === undefined) throw new InternalError(`branch to block ${slot} outside function ${ctx.entry}`);
    return h;
  };
  const charge = (pc: number, target: number): Expr | undefined => (ctx.options.budget && target <= pc ? chargeBudget(ctx, pc) : undefined);

  for (const bb of blocks) {
    const from = handles.get(bb.start)!;
    const e = bb.end;
    switch (e.kind) {
      case 'exit':
        break;
      case 'jump':
        cfg.addBranch(from, to(e.target), undefined, charge(e.pc, e.target));
        break;
      case 'cond':
        // A condition has no side effects, so a jump to its own fall-through is just the fall-through.
        if (e.insn.target !== e.next) cfg.addBranch(from, to(e.insn.target), lowerCond(ctx, e.insn), charge(e.insn.pc, e.insn.target));
        cfg.addBranch(from, to(e.next));
        break;
      case 'fall':
        cfg.addBranch(from, to(e.next));
        break;
    }
  }
  return cfg.render(handles.get(ctx.entry)!, L_LABEL);
}
