/**
 * `encode`: {@link Program} (or instructions) → bytecode; the exact inverse of `decode`.
 *
 * The row of the opcode table is found from the instruction's semantic key, its pinned field (variant
 * selector) comes from the row, and the free fields from the instruction. Instructions that cannot be encoded
 * (a register above r10, an offset that does not fit 16 bits) raise an {@link InvalidProgramError}.
 *
 * Not here: label resolution (asm.ts) or any validation of control flow beyond field ranges.
 */

import { InternalError, InvalidProgramError } from '../errors.js';
import type { Insn } from './insn.js';
import type { Program } from './program.js';
import { BY_SEM, LDDW_SRCS, semKey, type OpSpec, type Sem } from './spec.js';
import type { RawSlot } from './decode.js';

/** The IR template of an instruction: the key into the opcode table. */
export function semOf(insn: Insn): Sem {
  switch (insn.kind) {
    case 'alu': return { kind: 'alu', op: insn.op, width: insn.width, source: insn.src.kind };
    case 'neg': return { kind: 'neg', width: insn.width };
    case 'movsx': return { kind: 'movsx', width: insn.width, bits: insn.bits };
    case 'endian': return { kind: 'endian', order: insn.order, bits: insn.bits };
    case 'lddw': return { kind: 'lddw', src: insn.src };
    case 'load': return { kind: 'load', size: insn.size, signed: insn.signed };
    case 'store': return { kind: 'store', size: insn.size, source: insn.value.kind };
    case 'atomic': return { kind: 'atomic', op: insn.op, fetch: insn.fetch, size: insn.size };
    case 'ldpkt': return { kind: 'ldpkt', mode: insn.mode, size: insn.size };
    case 'ja': return { kind: 'ja', long: insn.long };
    case 'jcond': return { kind: 'jcond', op: insn.cond.op, width: insn.cond.width, source: insn.src.kind };
    case 'call': return { kind: 'call', target: insn.target.kind };
    case 'callx': return { kind: 'callx' };
    case 'exit': return { kind: 'exit' };
  }
}

/** The opcode-table row an instruction is an instance of. */
export function specOf(insn: Insn): OpSpec {
  const row = BY_SEM.get(semKey(semOf(insn)));
  if (!row) throw new InternalError(`no opcode table row for ${semKey(semOf(insn))}`, insn.pc);
  return row;
}

/** The raw fields of an instruction's first slot (and, for `lddw`, the second slot's imm as `next`). */
export function fieldsOf(insn: Insn): RawSlot & { readonly next?: number } {
  const row = specOf(insn);
  const pinned = (rule: OpSpec['src']): number => (typeof rule === 'object' ? rule.eq : 0);
  let dst = 0, src = pinned(row.src), off = pinned(row.off), imm = pinned(row.imm);
  let next: number | undefined;
  const rel = (target: number): number => target - insn.pc - 1;
  switch (insn.kind) {
    case 'alu':
      dst = insn.dst;
      if (insn.src.kind === 'reg') src = insn.src.reg;
      else imm = insn.src.imm;
      break;
    case 'neg': case 'endian': dst = insn.dst; break;
    case 'movsx': dst = insn.dst; src = insn.src; break;
    case 'lddw': dst = insn.dst; src = LDDW_SRCS.indexOf(insn.src); imm = insn.imm; next = insn.next; break;
    case 'load': dst = insn.dst; src = insn.base; off = insn.off; break;
    case 'store':
      dst = insn.base; off = insn.off;
      if (insn.value.kind === 'reg') src = insn.value.reg;
      else imm = insn.value.imm;
      break;
    case 'atomic': dst = insn.base; src = insn.src; off = insn.off; break;
    case 'ldpkt': src = insn.index ?? 0; imm = insn.imm; break;
    case 'ja':
      if (insn.long) imm = rel(insn.target);
      else off = rel(insn.target);
      break;
    case 'jcond':
      dst = insn.dst; off = rel(insn.target);
      if (insn.src.kind === 'reg') src = insn.src.reg;
      else imm = insn.src.imm;
      break;
    case 'call': imm = insn.target.kind === 'local' ? rel(insn.target.pc) : insn.target.id; break;
    case 'callx': dst = insn.reg; break;
    case 'exit': break;
  }
  if (dst < 0 || dst > 10 || src < 0 || src > 15 || (row.src === 'reg' && src > 10)) {
    throw new InvalidProgramError('bad_register', `${row.mnemonic}: register out of range`, insn.pc);
  }
  if (off < -0x8000 || off > 0x7fff || !Number.isInteger(off)) {
    throw new InvalidProgramError('jump_out_of_range', `${row.mnemonic}: offset ${off} does not fit in 16 bits`, insn.pc);
  }
  if (imm < -0x80000000 || imm > 0xffffffff || !Number.isInteger(imm)) {
    throw new InvalidProgramError('asm_immediate_range', `${row.mnemonic}: immediate ${imm} does not fit in 32 bits`, insn.pc);
  }
  return { opcode: row.opcode, dst, src, off, imm: imm | 0, next };
}

/** Writes one slot's fields into slot number `slot` of `out`. */
export function writeSlot(out: Uint8Array, slot: number, f: RawSlot): void {
  const o = slot * 8;
  out[o] = f.opcode;
  out[o + 1] = (f.src << 4) | f.dst;
  out[o + 2] = f.off & 0xff;
  out[o + 3] = (f.off >> 8) & 0xff;
  out[o + 4] = f.imm & 0xff;
  out[o + 5] = (f.imm >>> 8) & 0xff;
  out[o + 6] = (f.imm >>> 16) & 0xff;
  out[o + 7] = (f.imm >>> 24) & 0xff;
}

/** Encodes instructions (contiguous, starting at slot 0) or a whole program into bytecode. */
export function encode(program: Program | readonly Insn[]): Uint8Array {
  const insns = 'insns' in program ? program.insns : program;
  let slots = 0;
  for (const insn of insns) slots += insn.kind === 'lddw' ? 2 : 1;
  const out = new Uint8Array(slots * 8);
  let slot = 0;
  for (const insn of insns) {
    const f = fieldsOf(insn);
    writeSlot(out, slot++, f);
    if (insn.kind === 'lddw') writeSlot(out, slot++, { opcode: 0, dst: 0, src: 0, off: 0, imm: f.next ?? 0 });
  }
  return out;
}

/** Formats bytes as lowercase hex without separators (the form of vectors.json). */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}
