/**
 * `Program`: the decoded, immutable form of an eBPF program that every later stage reads.
 *
 * Holds the instructions (in slot order), the slot count and the function layout (entry at slot 0, plus every
 * bpf-to-bpf call target). It carries no maps: map references stay `lddw` immediates until `Runtime.load`
 * resolves them (runtime/maps/relocate.ts); the ELF loader keeps map specs and sections (src/elf/loader.ts).
 *
 * Not here: decoding (decode.ts) or verification facts (src/verifier).
 */

import type { Insn } from './insn.js';
import { InternalError } from '../errors.js';

/** A decoded eBPF program. Build one with `decode`, `assemble` or {@link makeProgram}. */
export interface Program {
  /** Instructions in slot order; `insns[i].pc` increases strictly. */
  readonly insns: readonly Insn[];
  /** Number of 8-byte slots (an `lddw` takes two). */
  readonly slotCount: number;
  /** Index into `insns` of the instruction starting at each slot; -1 for the second slot of an `lddw`. */
  readonly indexOfPc: Int32Array;
  /** Entry slots of the functions: 0 (the main function) then every local call target, ascending. */
  readonly functions: readonly number[];
}

/** Builds a {@link Program} from instructions already checked by the decoder or the assembler. */
export function makeProgram(insns: readonly Insn[]): Program {
  let slotCount = 0;
  for (const insn of insns) {
    if (insn.pc !== slotCount) throw new InternalError(`instruction list is not contiguous at slot ${slotCount}`);
    slotCount += insn.kind === 'lddw' ? 2 : 1;
  }
  const indexOfPc = new Int32Array(slotCount).fill(-1);
  insns.forEach((insn, i) => {
    indexOfPc[insn.pc] = i;
  });
  const entries = new Set<number>([0]);
  for (const insn of insns) {
    if (insn.kind === 'call' && insn.target.kind === 'local') entries.add(insn.target.pc);
  }
  const functions = [...entries].sort((a, b) => a - b);
  return Object.freeze({ insns: Object.freeze([...insns]), slotCount, indexOfPc, functions: Object.freeze(functions) });
}

/** The instruction starting at slot `pc`, or `undefined` (out of range or second slot of an `lddw`). */
export function insnAt(program: Program, pc: number): Insn | undefined {
  if (pc < 0 || pc >= program.slotCount) return undefined;
  const i = program.indexOfPc[pc];
  return i < 0 ? undefined : program.insns[i];
}
