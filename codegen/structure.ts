/**
 * Structured control flow for reducible CFGs, after Ramsey, "Beyond Relooper: recursive translation of
 * unstructured control flow to structured control flow" (ICFP 2022).
 *
 * On the dominator tree, in reverse postorder (RPO):
 * - a *loop header* (target of a back-edge) is wrapped in a Wasm `loop`; back-edges are `br` to it;
 * - a *merge node* (two or more forward in-edges) is placed right after a Wasm `block` that encloses its
 *   dominator's code; forward edges to it are `br` out of that block;
 * - any other node has exactly one forward in-edge, from its immediate dominator: it is emitted inline there.
 *
 *     ;; x dominates merge nodes y1 < y2 (RPO)        ;; x is a loop header
 *     (block $B_y2                                    (loop $L_x
 *       (block $B_y1 <x> ...)                           <x> ... (br $L_x) ...)
 *       <y1> ...)
 *     <y2> ...
 *
 * This is near-linear in the size of the CFG (Binaryen's Relooper, measured on compiled-C-like code, costs about
 * 10 µs a block and grows superlinearly with overlapping forward jumps) and needs no label variable. Emission
 * uses an explicit work stack, not recursion, so long chains of blocks cannot overflow the JS stack.
 *
 * Irreducible CFGs (a cycle with two entries) have no such structure: {@link structure} returns `undefined`
 * and relooper.ts hands them to Binaryen's Relooper.
 *
 * Not here: basic blocks and their contents (relooper.ts, lower-*.ts).
 */

import { InvalidProgramError } from '../src/errors.js';
import type { Expr } from './binaryen.js';
import type { FnContext } from './frame.js';
import { lowerCond } from './lower-alu.js';
import { chargeBudget } from './lower-call.js';
import { successors, type BasicBlock } from './cfg.js';

/** Node index of "falls off the end of the program". */
const OFF_END = -1;

/** One outgoing edge of a node, as the emitter sees it. */
interface Edge {
  readonly to: number;
  /** A taken backward jump in eBPF terms (`target <= pc`): charged against the budget. */
  readonly charge: boolean;
  /** pc of the jump, for the budget fault. */
  readonly pc: number;
}

/** A statement list being filled, and how deep in Wasm blocks, loops and ifs it sits. */
interface List {
  readonly items: Expr[];
  readonly depth: number;
}

type Task =
  | { readonly t: 'tree'; readonly x: number; readonly out: List }
  | { readonly t: 'node'; readonly x: number; readonly k: number; readonly out: List }
  | { readonly t: 'wrap'; readonly loop: boolean; readonly label: string; readonly inner: List; readonly out: List }
  | { readonly t: 'if'; readonly cond: Expr; readonly inner: List; readonly out: List }
  | { readonly t: 'edge'; readonly x: number; readonly e: Edge; readonly out: List };

/**
 * Deepest nesting of Wasm blocks, loops and ifs the JIT emits. Binaryen's binary writer recurses per level
 * (through JS frames): measured, 5,000 nested ifs pass and 10,000 overflow the JS stack. A function that would
 * nest deeper is refused with `InvalidProgramError('too_large')`; the interpreter still runs it.
 */
export const MAX_NESTING = 4096;

/** A new list one level inside `out`. */
function nest(out: List, pc: number): List {
  if (out.depth >= MAX_NESTING) {
    throw new InvalidProgramError('too_large', `control flow nests more than ${MAX_NESTING} levels deep, beyond what the JIT can compile`, pc);
  }
  return { items: [], depth: out.depth + 1 };
}

/**
 * The structured body of one function whose blocks are `blocks` (entry `ctx.entry`), or `undefined` when the
 * CFG is irreducible. `lowerBody` gives a block's straight-line code (called once per block; `undefined`: none).
 */
export function structure(ctx: FnContext, blocks: readonly BasicBlock[], lowerBody: (bb: BasicBlock) => Expr | undefined): Expr | undefined {
  const n = blocks.length;
  const slotCount = ctx.program.slotCount;
  const index = new Map<number, number>();
  blocks.forEach((bb, i) => index.set(bb.start, i));
  const node = (slot: number): number => (slot >= slotCount ? OFF_END : index.get(slot)!);
  const succ = blocks.map((bb) => successors(bb).map(node));
  const entry = index.get(ctx.entry)!;

  // One iterative DFS from the entry (every block is reachable by construction): preorder numbers and tree
  // parents for the dominators, postorder for the reverse postorder (RPO).
  const rpo = new Int32Array(n).fill(-1);
  const dfnum = new Int32Array(n).fill(-1);
  const vertex = new Int32Array(n);
  const parent = new Int32Array(n);
  const post: number[] = [];
  {
    let count = 0;
    const stack: number[] = [entry];
    const next: number[] = [0];
    dfnum[entry] = count;
    vertex[count++] = entry;
    while (stack.length > 0) {
      const top = stack.length - 1;
      const x = stack[top];
      const ss = succ[x];
      if (next[top] < ss.length) {
        const y = ss[next[top]++];
        if (y !== OFF_END && dfnum[y] < 0) {
          dfnum[y] = count;
          vertex[count++] = y;
          parent[dfnum[y]] = dfnum[x];
          stack.push(y);
          next.push(0);
        }
      } else {
        post.push(x);
        stack.pop();
        next.pop();
      }
    }
  }
  const order = post.reverse();
  order.forEach((x, i) => (rpo[x] = i));
  const preds: number[][] = blocks.map(() => []);
  for (let x = 0; x < n; x++) for (const y of succ[x]) if (y !== OFF_END) preds[y].push(x);
  const idom = immediateDominators(n, parent, (w) => preds[vertex[w]].map((p) => dfnum[p]));

  // Dominator-tree intervals, for O(1) "a dominates b".
  const kids: number[][] = blocks.map(() => []);
  for (const x of order) if (x !== entry) kids[vertex[idom[dfnum[x]]]].push(x);
  const pre = new Int32Array(n);
  const fin = new Int32Array(n);
  {
    let clock = 0;
    const stack: number[] = [entry];
    const next: number[] = [0];
    pre[entry] = clock++;
    while (stack.length > 0) {
      const top = stack.length - 1;
      const x = stack[top];
      if (next[top] < kids[x].length) {
        const y = kids[x][next[top]++];
        pre[y] = clock++;
        stack.push(y);
        next.push(0);
      } else {
        fin[x] = clock++;
        stack.pop();
        next.pop();
      }
    }
  }
  const dominates = (a: number, b: number): boolean => pre[a] <= pre[b] && fin[b] <= fin[a];

  // Classify: a retreating edge whose target does not dominate its source makes the CFG irreducible.
  const header = new Uint8Array(n);
  const forwardIn = new Int32Array(n);
  for (let x = 0; x < n; x++) {
    for (const y of succ[x]) {
      if (y === OFF_END) continue;
      if (rpo[y] <= rpo[x]) {
        if (!dominates(y, x)) return undefined;
        header[y] = 1;
      } else forwardIn[y]++;
    }
  }
  const merge = (y: number): boolean => forwardIn[y] >= 2;
  // Merge children, outermost block first: the child latest in RPO encloses the others.
  const mergeKids = kids.map((ks) => ks.filter(merge).sort((a, b) => rpo[b] - rpo[a]));

  const b = ctx.b;
  const blockLabel = (y: number): string => `B${blocks[y].start}`;
  const loopLabel = (y: number): string => `L${blocks[y].start}`;
  const backward = (x: number, y: number): boolean => rpo[y] <= rpo[x];
  const inline = (x: number, y: number): boolean => y === OFF_END || (!backward(x, y) && !merge(y));
  const lastPc = ctx.program.insns[ctx.program.insns.length - 1].pc;
  /** The label a branch x → y targets: the loop of a back-edge, else the block a merge node follows. */
  const label = (x: number, y: number): string => (backward(x, y) ? loopLabel(y) : blockLabel(y));
  /** `[charge] br label` for an edge that leaves by a branch. */
  const brSeq = (x: number, e: Edge): Expr => {
    const br = b.br(label(x, e.to));
    return e.charge ? b.block([chargeBudget(ctx, e.pc), br]) : br;
  };

  const body: List = { items: [], depth: 0 };
  const work: Task[] = [{ t: 'tree', x: entry, out: body }];
  while (work.length > 0) {
    const task = work.pop()!;
    switch (task.t) {
      case 'tree': {
        const { x, out } = task;
        if (header[x]) {
          const inner = nest(out, blocks[x].start);
          work.push({ t: 'wrap', loop: true, label: loopLabel(x), inner, out });
          work.push({ t: 'node', x, k: 0, out: inner });
        } else work.push({ t: 'node', x, k: 0, out });
        break;
      }
      case 'node': {
        const { x, k, out } = task;
        const ys = mergeKids[x];
        if (k < ys.length) {
          // (block $B_y <x and the inner merge children>) <y>
          const inner = nest(out, blocks[x].start);
          work.push({ t: 'tree', x: ys[k], out });
          work.push({ t: 'wrap', loop: false, label: blockLabel(ys[k]), inner, out });
          work.push({ t: 'node', x, k: k + 1, out: inner });
          break;
        }
        const bb = blocks[x];
        const code = lowerBody(bb);
        if (code !== undefined) out.items.push(code);
        const e = bb.end;
        switch (e.kind) {
          case 'exit':
            break;
          case 'jump':
            work.push({ t: 'edge', x, e: { to: node(e.target), charge: ctx.options.budget && e.target <= e.pc, pc: e.pc }, out });
            break;
          case 'fall':
            work.push({ t: 'edge', x, e: { to: node(e.next), charge: false, pc: bb.start }, out });
            break;
          case 'cond': {
            const fall: Edge = { to: node(e.next), charge: false, pc: e.insn.pc };
            if (e.insn.target === e.next) {
              // The condition has no effect: jumping to the fall-through is falling through.
              work.push({ t: 'edge', x, e: fall, out });
              break;
            }
            const taken: Edge = { to: node(e.insn.target), charge: ctx.options.budget && e.insn.target <= e.insn.pc, pc: e.insn.pc };
            const cond = (): Expr => lowerCond(ctx, e.insn);
            if (!inline(x, taken.to)) {
              out.items.push(taken.charge ? b.if(cond(), brSeq(x, taken)) : b.br(label(x, taken.to), cond()));
              work.push({ t: 'edge', x, e: fall, out });
            } else if (!inline(x, fall.to)) {
              out.items.push(b.br(label(x, fall.to), lowerCond(ctx, e.insn, true)));
              work.push({ t: 'edge', x, e: taken, out });
            } else {
              // (if cond (then <taken>)) <fall>: the taken arm never falls out of the `if`.
              const inner = nest(out, e.insn.pc);
              work.push({ t: 'edge', x, e: fall, out });
              work.push({ t: 'if', cond: cond(), inner, out });
              work.push({ t: 'edge', x, e: taken, out: inner });
            }
            break;
          }
        }
        break;
      }
      case 'edge': {
        const { x, e, out } = task;
        if (e.to === OFF_END) out.items.push(ctx.fault('fell_off_end', lastPc));
        else if (inline(x, e.to)) {
          if (e.charge) out.items.push(chargeBudget(ctx, e.pc));
          work.push({ t: 'tree', x: e.to, out });
        } else out.items.push(brSeq(x, e));
        break;
      }
      case 'wrap':
        task.out.items.push(task.loop ? b.loop(task.label, b.block(task.inner.items)) : b.namedBlock(task.label, task.inner.items));
        break;
      case 'if':
        task.out.items.push(b.if(task.cond, b.block(task.inner.items)));
        break;
    }
  }
  return b.block(body.items);
}

/**
 * Immediate dominators by Lengauer and Tarjan's algorithm ("A fast algorithm for finding dominators in a
 * flowgraph", 1979; the simple version, with path compression: O(m log n)). Everything is in DFS preorder
 * numbers: vertex 0 is the entry, `parent` the DFS tree, `predsOf(w)` the predecessors of w. Returns `idom` by
 * preorder number (`idom[0] = 0`).
 *
 * Why not the iterative Cooper-Harvey-Kennedy algorithm: its `intersect` walks dominator chains, quadratic on a
 * long chain of blocks that each branch to a shared successor (a switch with many cases): 16 M steps at 4,000.
 */
function immediateDominators(n: number, parent: Int32Array, predsOf: (w: number) => number[]): Int32Array {
  const semi = Int32Array.from({ length: n }, (_, i) => i);
  const label = Int32Array.from({ length: n }, (_, i) => i);
  const ancestor = new Int32Array(n).fill(-1);
  const idom = new Int32Array(n);
  const bucket: number[][] = Array.from({ length: n }, () => []);
  const path: number[] = [];
  const evaluate = (v: number): number => {
    if (ancestor[v] < 0) return v;
    // Path compression, iteratively: collect the chain, then fold labels down from its top.
    let x = v;
    while (ancestor[ancestor[x]] >= 0) {
      path.push(x);
      x = ancestor[x];
    }
    while (path.length > 0) {
      const y = path.pop()!;
      const a = ancestor[y];
      if (semi[label[a]] < semi[label[y]]) label[y] = label[a];
      ancestor[y] = ancestor[a];
    }
    return label[v];
  };
  for (let w = n - 1; w >= 1; w--) {
    for (const v of predsOf(w)) {
      const u = evaluate(v);
      if (semi[u] < semi[w]) semi[w] = semi[u];
    }
    bucket[semi[w]].push(w);
    const p = parent[w];
    ancestor[w] = p;
    for (const v of bucket[p]) {
      const u = evaluate(v);
      idom[v] = semi[u] < semi[v] ? u : p;
    }
    bucket[p].length = 0;
  }
  for (let w = 1; w < n; w++) if (idom[w] !== semi[w]) idom[w] = idom[idom[w]];
  idom[0] = 0;
  return idom;
}
