/**
 * A second, independent oracle for straight-line programs: evaluates ALU-only code on `bigint` registers with
 * the reference definitions of `src/interp/semantics.ts`, without going through any engine.
 *
 * It understands exactly what {@link straightLineArb} programs contain: ALU, NEG, MOVSX, byte swaps, `lddw`
 * (imm64), 8-byte register stores relative to r10 (the prologue's save of r1 and the final register dump) and
 * `exit`. Anything else is an error here, never a silent skip.
 *
 * Not here: memory other than those stores, jumps, calls (the differential test covers those engine against
 * engine).
 */

import { InternalError } from '../../src/errors.js';
import type { Program } from '../../src/isa/program.js';
import * as sem from '../../src/interp/semantics.js';

/** What a straight-line program computes: r0 and the 8-byte values it stored, by r10-relative offset. */
export interface ReferenceResult {
  readonly r0: bigint;
  readonly stores: ReadonlyMap<number, bigint>;
}

/** Evaluates a straight-line program with r1..r5 = `args` and r10 = `frameTop`. */
export function evalStraightLine(program: Program, args: readonly bigint[], frameTop: bigint): ReferenceResult {
  const r: bigint[] = new Array<bigint>(11).fill(0n);
  args.forEach((v, i) => (r[i + 1] = sem.asU64(v)));
  r[10] = frameTop;
  const stores = new Map<number, bigint>();
  for (const insn of program.insns) {
    switch (insn.kind) {
      case 'alu': {
        const src = insn.src.kind === 'imm' ? sem.immOperand(insn.src.imm) : r[insn.src.reg];
        r[insn.dst] = sem.alu(insn.op, insn.width, r[insn.dst], src);
        break;
      }
      case 'neg': r[insn.dst] = sem.neg(insn.width, r[insn.dst]); break;
      case 'movsx': r[insn.dst] = sem.movsx(insn.width, insn.bits, r[insn.src]); break;
      case 'endian': r[insn.dst] = sem.endian(insn.order, insn.bits, r[insn.dst]); break;
      case 'lddw':
        if (insn.src !== 'imm64') throw new InternalError(`reference: lddw ${insn.src} is not straight-line`, insn.pc);
        r[insn.dst] = insn.value;
        break;
      case 'store':
        if (insn.size !== 8 || insn.base !== 10 || insn.value.kind !== 'reg') throw new InternalError('reference: only stxdw [r10+off] is supported', insn.pc);
        stores.set(insn.off, r[insn.value.reg]);
        break;
      case 'exit':
        return { r0: r[0], stores };
      default:
        throw new InternalError(`reference: ${insn.kind} is not straight-line`, insn.pc);
    }
  }
  throw new InternalError('reference: program fell off its end');
}
