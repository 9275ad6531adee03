/**
 * The verifier's control-flow graph and the structure checks that need nothing but the graph.
 *
 * Functions: the entry (slot 0), every bpf-to-bpf call target and every callback (`lddw` src 4, `code_addr`,
 * whose target is `pc + 1 + imm` as libbpf encodes it). A function owns the slots from its entry up to the next
 * entry, the way Linux cuts subprograms.
 *
 * Blocks: maximal straight-line runs, cut at function entries, jump targets, and after jumps, exits and calls
 * (a call ends a block because the analysis continues in the callee, or, for helpers taking a callback, in the
 * callback).
 *
 * Checks (Linux's `check_cfg`, `check_subprogs`), each a {@link VerifierError} at the first offending slot:
 * - `bad_callback`: a `code_addr` that does not point at an instruction;
 * - `fall_off_end`: a reachable instruction continues past the last slot, or (strict) into the next function;
 * - `jump_between_functions` (strict): a jump leaves its function;
 * - `unreachable` (strict): an instruction no path from the entry reaches (calls included);
 * - `recursion` (strict): a function calls itself, directly or not.
 * Jumps out of range and into the middle of an `lddw` never get here: `decode` rejects them.
 *
 * Also computed: an order for the analysis's worklist (reverse postorder per function) and the widening points
 * (targets of retreating edges: every cycle contains one, in reducible and irreducible graphs alike).
 *
 * Not here: anything about values (analyze.ts), loops' termination (termination.ts).
 */

import { VerifierError } from '../errors.js';
import type { Insn } from '../isa/insn.js';
import type { Program } from '../isa/program.js';

/** One function of the program. */
export interface FunctionInfo {
  /** Entry slot. */
  readonly entry: number;
  /** One past its last slot (the next function's entry, or the slot count). */
  readonly end: number;
  /** Entered by `call local` (bpf-to-bpf) or passed as a callback (`lddw code_addr`), or both; the entry by neither. */
  readonly calledBy: readonly number[];
  readonly callbackOf: readonly number[];
}

/** A basic block: `insns[first..last]`, starting at slot `start`. */
export interface Block {
  readonly start: number;
  readonly first: number;
  readonly last: number;
}

/** The control-flow graph the verifier works on. */
export interface VerifierCfg {
  readonly program: Program;
  /** Functions by ascending entry. */
  readonly functions: readonly FunctionInfo[];
  /** Blocks by start slot. */
  readonly blocks: ReadonlyMap<number, Block>;
  /** Successor slots of each instruction within its function (jumps and fall-through; a call continues after it). */
  succs(pc: number): readonly number[];
  /** The function owning `pc`. */
  functionOf(pc: number): FunctionInfo;
  /** Worklist priority of a block start: reverse postorder within its function, functions in entry order. */
  readonly order: ReadonlyMap<number, number>;
  /** Slots where the analysis widens (targets of retreating edges). */
  readonly wideningPoints: ReadonlySet<number>;
  /** Whether each slot is reachable from the entry (following calls and callbacks). */
  readonly reachable: Uint8Array;
}

/** Where a `code_addr` lddw points. */
export function callbackTarget(insn: Insn & { kind: 'lddw' }): number {
  return insn.pc + 1 + insn.imm;
}

/** Next slot after `insn`. */
function nextPc(insn: Insn): number {
  return insn.pc + (insn.kind === 'lddw' ? 2 : 1);
}

/**
 * Builds the CFG and runs the structure checks (`strict` adds the Linux-only ones; see the file header).
 *
 * @throws VerifierError `bad_callback`, `fall_off_end`, `jump_between_functions`, `unreachable`, `recursion`.
 */
export function buildCfg(program: Program, strict: boolean): VerifierCfg {
  const { insns, slotCount, indexOfPc } = program;
  const isInsn = (pc: number): boolean => pc >= 0 && pc < slotCount && indexOfPc[pc] >= 0;

  // Functions: entries from calls and callbacks.
  const calledBy = new Map<number, number[]>();
  const callbackOf = new Map<number, number[]>();
  for (const insn of insns) {
    if (insn.kind === 'call' && insn.target.kind === 'local') {
      const list = calledBy.get(insn.target.pc) ?? [];
      list.push(insn.pc);
      calledBy.set(insn.target.pc, list);
    } else if (insn.kind === 'lddw' && insn.src === 'code_addr') {
      const t = callbackTarget(insn);
      if (!isInsn(t)) throw new VerifierError('bad_callback', `callback address ${t} is not the start of an instruction`, insn.pc);
      const list = callbackOf.get(t) ?? [];
      list.push(insn.pc);
      callbackOf.set(t, list);
    }
  }
  const entries = [...new Set([0, ...calledBy.keys(), ...callbackOf.keys()])].sort((a, b) => a - b);
  const functions: FunctionInfo[] = entries.map((entry, i) => ({
    entry,
    end: i + 1 < entries.length ? entries[i + 1] : slotCount,
    calledBy: calledBy.get(entry) ?? [],
    callbackOf: callbackOf.get(entry) ?? [],
  }));
  const fnIndex = new Int32Array(slotCount);
  functions.forEach((fn, i) => fnIndex.fill(i, fn.entry, fn.end));
  const functionOf = (pc: number): FunctionInfo => functions[fnIndex[pc]];

  // Instruction successors.
  const succ: number[][] = new Array(slotCount);
  for (const insn of insns) {
    const next = nextPc(insn);
    switch (insn.kind) {
      case 'exit': succ[insn.pc] = []; break;
      case 'ja': succ[insn.pc] = [insn.target]; break;
      case 'jcond': succ[insn.pc] = insn.target === next ? [next] : [insn.target, next]; break;
      default: succ[insn.pc] = [next];
    }
  }

  // Reachability from the entry through jumps, calls and callbacks; structure checks on what is reached.
  const reachable = new Uint8Array(slotCount);
  const work = [0];
  reachable[0] = 1;
  const visit = (pc: number): void => {
    if (!reachable[pc]) {
      reachable[pc] = 1;
      work.push(pc);
    }
  };
  while (work.length > 0) {
    const pc = work.pop()!;
    const insn = insns[indexOfPc[pc]];
    const fn = functionOf(pc);
    for (const s of succ[pc]) {
      if (s >= slotCount) {
        throw new VerifierError('fall_off_end', `control falls off the end of the program after ${insn.kind === 'lddw' ? 'this lddw' : 'this instruction'}: the last instruction of a function must be exit or ja`, pc);
      }
      if (strict && (s < fn.entry || s >= fn.end)) {
        const jumps = insn.kind === 'ja' || (insn.kind === 'jcond' && insn.target === s);
        if (!jumps) {
          throw new VerifierError('fall_off_end', `control falls through from the function at ${fn.entry} into the function at ${s}: a function must end with exit or ja`, pc);
        }
        throw new VerifierError('jump_between_functions', `jump from the function at ${fn.entry} to ${s}, inside the function at ${functionOf(s).entry}`, pc);
      }
      visit(s);
    }
    if (insn.kind === 'call' && insn.target.kind === 'local') visit(insn.target.pc);
    if (insn.kind === 'lddw' && insn.src === 'code_addr') visit(callbackTarget(insn));
  }
  if (strict) {
    for (const insn of insns) {
      if (!reachable[insn.pc]) throw new VerifierError('unreachable', 'unreachable instruction: no path from the entry gets here', insn.pc);
    }
    checkRecursion(program, functions, functionOf);
  }

  // Blocks.
  const leader = new Uint8Array(slotCount + 1);
  for (const fn of functions) leader[fn.entry] = 1;
  for (const insn of insns) {
    const next = nextPc(insn);
    if (insn.kind === 'ja' || insn.kind === 'jcond') leader[insn.target] = 1;
    if (insn.kind === 'ja' || insn.kind === 'jcond' || insn.kind === 'exit' || insn.kind === 'call' || insn.kind === 'callx') leader[next] = 1;
  }
  const blocks = new Map<number, Block>();
  for (let i = 0; i < insns.length; ) {
    const start = insns[i].pc;
    let j = i;
    while (j + 1 < insns.length && !leader[insns[j + 1].pc]) j++;
    blocks.set(start, { start, first: i, last: j });
    i = j + 1;
  }

  // Order and widening points: DFS from each function entry over block successors.
  const order = new Map<number, number>();
  const wideningPoints = new Set<number>();
  let counter = 0;
  const blockSuccs = (b: Block): readonly number[] => succ[insns[b.last].pc].filter((s) => s < slotCount);
  for (const fn of functions) {
    const post: number[] = [];
    const state = new Map<number, 1 | 2>(); // 1 on stack, 2 done
    // Iterative DFS keeping the stack of (block, next successor index).
    const stack: Array<[number, number]> = [[fn.entry, 0]];
    state.set(fn.entry, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const ss = blockSuccs(blocks.get(top[0])!);
      if (top[1] < ss.length) {
        const s = ss[top[1]++];
        const st = state.get(s);
        if (st === 1) wideningPoints.add(s);
        else if (st === undefined && blocks.has(s)) {
          state.set(s, 1);
          stack.push([s, 0]);
        }
      } else {
        state.set(top[0], 2);
        post.push(top[0]);
        stack.pop();
      }
    }
    for (let k = post.length - 1; k >= 0; k--) if (!order.has(post[k])) order.set(post[k], counter++);
  }
  for (const b of blocks.keys()) if (!order.has(b)) order.set(b, counter++);

  return {
    program, functions, blocks, order, wideningPoints, reachable, functionOf,
    succs: (pc) => succ[pc] ?? [],
  };
}

/** Strict mode: the call graph (local calls and callbacks) must be acyclic, as Linux requires. */
function checkRecursion(program: Program, functions: readonly FunctionInfo[], functionOf: (pc: number) => FunctionInfo): void {
  const callees = new Map<number, Array<[number, number]>>(); // fn entry → [callee entry, call pc]
  for (const insn of program.insns) {
    let target: number | undefined;
    if (insn.kind === 'call' && insn.target.kind === 'local') target = insn.target.pc;
    else if (insn.kind === 'lddw' && insn.src === 'code_addr') target = callbackTarget(insn);
    if (target === undefined) continue;
    const from = functionOf(insn.pc).entry;
    const list = callees.get(from) ?? [];
    list.push([target, insn.pc]);
    callees.set(from, list);
  }
  const color = new Map<number, number>();
  const dfs = (fn: number): void => {
    color.set(fn, 1);
    for (const [callee, pc] of callees.get(fn) ?? []) {
      const c = color.get(callee);
      if (c === 1) throw new VerifierError('recursion', `recursive call: the function at ${callee} is already on the call chain`, pc);
      if (c === undefined) dfs(callee);
    }
    color.set(fn, 2);
  };
  for (const fn of functions) if (!color.has(fn.entry)) dfs(fn.entry);
}
