/**
 * Explaining a rejection: the instruction, its source line, the registers it involves and the shortest path of
 * branch decisions that led there, as the {@link VerifierDiagnostic} a `VerifierError` renders.
 *
 * The path is the shortest one in the graph of edges the analysis found feasible, from the origin of the faulty
 * value (a lookup's or a reservation's pc) when there is one in the same function, else from the entry of the
 * function being analysed. It prints as the slots where control could go two ways (`9 → 10 → 12`), with one
 * note per branch decision (`pc 10: jeq %r0, 0, +3: not taken`).
 *
 * Not here: deciding what is wrong (checks.ts, analyze.ts), the `--log` rendering (log.ts).
 */

import type { VerifierDiagnostic } from '../errors.js';
import type { Insn } from '../isa/insn.js';
import { disassembleInsn } from '../isa/disasm.js';
import type { Analyzer } from './analyze.js';
import type { State } from './state.js';
import { formatValue } from './value.js';

/** The shortest feasible path of slots from `from` to `to` within one function, or undefined. */
export function shortestPath(an: Analyzer, from: number, to: number): number[] | undefined {
  const { program, cfg } = an.env;
  const n = program.slotCount;
  const fn = cfg.functionOf(from);
  const prev = new Map<number, number>([[from, -1]]);
  const queue = [from];
  for (let i = 0; i < queue.length; i++) {
    const pc = queue[i];
    if (pc === to) break;
    const insn = program.insns[program.indexOfPc[pc]];
    let succs: readonly number[];
    if (insn.kind === 'ja' || insn.kind === 'jcond') succs = cfg.succs(pc).filter((s) => an.edges.has(pc * n + s));
    else if (insn.kind === 'exit') succs = [];
    else succs = cfg.succs(pc);
    for (const s of succs) {
      if (s >= n || prev.has(s) || cfg.functionOf(s) !== fn) continue;
      prev.set(s, pc);
      queue.push(s);
    }
  }
  if (!prev.has(to)) return undefined;
  const path: number[] = [];
  for (let pc = to; pc !== -1; pc = prev.get(pc)!) path.push(pc);
  return path.reverse();
}

/** Builds the diagnostic of a rejection at `insn` in context `ctx`, state `st`. */
export function explain(an: Analyzer, ctx: number, st: State, insn: Insn, regs: readonly number[], origin?: number): VerifierDiagnostic {
  const { program } = an.env;
  const c = an.contexts[ctx];
  const start = origin !== undefined && an.env.cfg.functionOf(origin) === an.env.cfg.functionOf(insn.pc) ? origin : c?.fn ?? 0;
  const full = shortestPath(an, start, insn.pc) ?? (start !== (c?.fn ?? 0) ? shortestPath(an, c?.fn ?? 0, insn.pc) : undefined) ?? [insn.pc];
  const path: number[] = [];
  const notes: string[] = [];
  full.forEach((pc, i) => {
    const at = program.insns[program.indexOfPc[pc]];
    const last = i === full.length - 1;
    if (i === 0 || last) {
      if (path[path.length - 1] !== pc) path.push(pc);
      if (last) return;
    }
    if (at.kind === 'jcond') {
      if (path[path.length - 1] !== pc) path.push(pc);
      const taken = full[i + 1] === at.target && at.target !== pc + 1;
      notes.push(`pc ${pc}: ${disassembleInsn(at)}: ${taken ? 'taken' : 'not taken'}`);
    }
  });
  if (notes.length > 8) notes.splice(0, notes.length - 8, '...');
  // The call chain, innermost last.
  const chain: string[] = [];
  for (let k = c; k !== undefined && k.parent >= 0; k = an.contexts[k.parent]) {
    chain.unshift(`${k.kind === 'callback' ? 'callback' : 'function'} at ${k.fn}, ${k.kind === 'callback' ? 'run by the helper call' : 'called'} at pc ${k.callsite}`);
  }
  if (chain.length > 0) notes.unshift(`in ${chain.join(' → ')}`);
  const names = { maps: an.env.maps, type: an.env.type };
  const pkt = (id: number) => st.pkts.get(id);
  return {
    insn: `${insn.pc}: ${disassembleInsn(insn)}`,
    source: an.env.source(insn.pc),
    registers: [...new Set(regs)].map((reg) => ({ reg, value: formatValue(st.reg(reg), names, st.depth, pkt) })),
    path,
    notes,
  };
}
