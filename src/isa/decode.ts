/**
 * `decode`: bytecode → {@link Program}. Strict: every field is checked against the opcode table (spec.ts), so
 * anything that decodes is exactly what `encode` gives back.
 *
 * Rejected with an {@link InvalidProgramError} naming the slot: an empty or truncated program, unknown opcodes,
 * registers above r10, non-zero reserved fields, an `lddw` without a valid second slot, jumps and local calls
 * out of range or into the middle of an `lddw`.
 *
 * Not checked here (the verifier's job): reachability, falling off the end, writes to r10, uninitialized reads.
 */

import { InvalidProgramError } from '../errors.js';
import type { Insn, Operand } from './insn.js';
import { makeProgram, type Program } from './program.js';
import { BY_OPCODE, LDDW_OPCODE, type FieldRule, type OpSpec } from './spec.js';

/** The five fields of one 8-byte slot, as raw numbers (`off` and `imm` signed). */
export interface RawSlot {
  readonly opcode: number;
  readonly dst: number;
  readonly src: number;
  readonly off: number;
  readonly imm: number;
}

/** Options for {@link decode}. */
export interface DecodeOptions {
  /** Reject instructions newer than this ISA version (clang's -mcpu). Default 4: everything. */
  readonly maxVersion?: 1 | 2 | 3 | 4;
  /** Largest accepted program, in slots. Default 1,000,000 (Linux's limit for privileged programs). */
  readonly maxSlots?: number;
}

/** Reads the fields of slot `slot` of `bytes` (which must hold it). */
export function readSlot(bytes: Uint8Array, slot: number): RawSlot {
  const o = slot * 8;
  return {
    opcode: bytes[o],
    dst: bytes[o + 1] & 0x0f,
    src: bytes[o + 1] >> 4,
    off: ((bytes[o + 2] | (bytes[o + 3] << 8)) << 16) >> 16,
    imm: bytes[o + 4] | (bytes[o + 5] << 8) | (bytes[o + 6] << 16) | (bytes[o + 7] << 24),
  };
}

const hex = (n: number, digits = 2): string => '0x' + (n >>> 0).toString(16).padStart(digits, '0');

function fieldMatches(rule: FieldRule, value: number): boolean {
  return typeof rule !== 'object' || rule.eq === value;
}

/** Picks the row of the opcode table that `raw` is an instance of, or explains why there is none. */
function lookup(raw: RawSlot, pc: number): OpSpec {
  const candidates = BY_OPCODE[raw.opcode];
  if (candidates.length === 0) throw new InvalidProgramError('unknown_opcode', `unknown opcode ${hex(raw.opcode)}`, pc);
  const row = candidates.find((r) => fieldMatches(r.src, raw.src) && fieldMatches(r.off, raw.off) && fieldMatches(r.imm, raw.imm));
  if (row) return row;
  const r0 = candidates[0];
  if (r0.opcode === LDDW_OPCODE) throw new InvalidProgramError('bad_lddw_src', `lddw with unknown src ${raw.src}`, pc);
  // Name the field that selects the variant, e.g. "opcode 0x3f (div): offset 2 is not a known variant".
  const field = typeof r0.imm === 'object' ? 'imm' : typeof r0.off === 'object' ? 'offset' : 'src';
  const value = field === 'imm' ? raw.imm : field === 'offset' ? raw.off : raw.src;
  throw new InvalidProgramError('unknown_opcode', `unknown opcode ${hex(raw.opcode)} with ${field} ${field === 'imm' ? hex(value) : value} (${r0.mnemonic})`, pc);
}

function checkField(name: 'dst' | 'src' | 'offset' | 'imm', rule: FieldRule, value: number, row: OpSpec, pc: number): void {
  if (rule === 'zero' && value !== 0) {
    throw new InvalidProgramError('reserved_field', `${row.mnemonic}: reserved field ${name} is ${value}, must be 0`, pc);
  }
  if (rule === 'reg' && value > 10) {
    throw new InvalidProgramError('bad_register', `${row.mnemonic}: invalid ${name} register r${value}`, pc);
  }
}

/** Builds the IR for one (non-`lddw`) slot from its row and fields. Targets are absolute slot indexes. */
function build(row: OpSpec, raw: RawSlot, pc: number): Insn {
  const s = row.sem;
  const operand = (source: 'imm' | 'reg'): Operand => (source === 'imm' ? { kind: 'imm', imm: raw.imm } : { kind: 'reg', reg: raw.src });
  switch (s.kind) {
    case 'alu': return { kind: 'alu', pc, op: s.op, width: s.width, dst: raw.dst, src: operand(s.source) };
    case 'neg': return { kind: 'neg', pc, width: s.width, dst: raw.dst };
    case 'movsx': return { kind: 'movsx', pc, width: s.width, dst: raw.dst, src: raw.src, bits: s.bits };
    case 'endian': return { kind: 'endian', pc, order: s.order, bits: s.bits, dst: raw.dst };
    case 'load': return { kind: 'load', pc, size: s.size, signed: s.signed, dst: raw.dst, base: raw.src, off: raw.off };
    case 'store': return { kind: 'store', pc, size: s.size, base: raw.dst, off: raw.off, value: operand(s.source) };
    case 'atomic': return { kind: 'atomic', pc, op: s.op, fetch: s.fetch, size: s.size, base: raw.dst, off: raw.off, src: raw.src };
    case 'ldpkt': return { kind: 'ldpkt', pc, mode: s.mode, size: s.size, index: s.mode === 'ind' ? raw.src : null, imm: raw.imm };
    case 'ja': return { kind: 'ja', pc, long: s.long, target: pc + 1 + (s.long ? raw.imm : raw.off) };
    case 'jcond': return { kind: 'jcond', pc, cond: { op: s.op, width: s.width }, dst: raw.dst, src: operand(s.source), target: pc + 1 + raw.off };
    case 'call':
      if (s.target === 'local') return { kind: 'call', pc, target: { kind: 'local', pc: pc + 1 + raw.imm } };
      return { kind: 'call', pc, target: { kind: s.target, id: raw.imm } };
    case 'callx': return { kind: 'callx', pc, reg: raw.dst };
    case 'exit': return { kind: 'exit', pc };
    case 'lddw': throw new Error('unreachable: lddw is built by decode');
  }
}

/**
 * Decodes eBPF bytecode (RFC 9669 section 3) into a {@link Program}.
 *
 * @throws InvalidProgramError with the slot index of the first bad instruction.
 */
export function decode(bytes: Uint8Array, options: DecodeOptions = {}): Program {
  const maxVersion = options.maxVersion ?? 4;
  const maxSlots = options.maxSlots ?? 1_000_000;
  if (bytes.length === 0) throw new InvalidProgramError('empty', 'program is empty');
  const slotCount = Math.floor(bytes.length / 8);
  if (bytes.length % 8 !== 0) {
    throw new InvalidProgramError('truncated', `program is truncated: ${bytes.length} bytes is not a whole number of 8-byte instructions`, slotCount);
  }
  if (slotCount > maxSlots) throw new InvalidProgramError('too_large', `program has ${slotCount} instructions, more than the limit of ${maxSlots}`);

  const insns: Insn[] = [];
  const secondSlot = new Uint8Array(slotCount); // 1 where a slot is the upper half of an lddw
  for (let pc = 0; pc < slotCount; pc++) {
    const raw = readSlot(bytes, pc);
    const row = lookup(raw, pc);
    checkField('dst', row.dst, raw.dst, row, pc);
    checkField('src', row.src, raw.src, row, pc);
    checkField('offset', row.off, raw.off, row, pc);
    checkField('imm', row.imm, raw.imm, row, pc);
    if (row.version > maxVersion) {
      throw new InvalidProgramError('unknown_opcode', `${row.mnemonic} needs ISA v${row.version}, above the allowed v${maxVersion}`, pc);
    }
    if (row.sem.kind === 'lddw') {
      if (pc + 1 >= slotCount) throw new InvalidProgramError('lddw_incomplete', 'lddw is missing its second slot', pc);
      const next = readSlot(bytes, pc + 1);
      if (next.opcode !== 0 || next.dst !== 0 || next.src !== 0 || next.off !== 0) {
        throw new InvalidProgramError('lddw_incomplete', `lddw second slot must have opcode, registers and offset 0 (found opcode ${hex(next.opcode)})`, pc + 1);
      }
      const value = (BigInt(next.imm >>> 0) << 32n) | BigInt(raw.imm >>> 0);
      insns.push({ kind: 'lddw', pc, dst: raw.dst, src: row.sem.src, imm: raw.imm, next: next.imm, value });
      secondSlot[pc + 1] = 1;
      pc++;
      continue;
    }
    insns.push(build(row, raw, pc));
  }

  // Targets are checked once every lddw is known, since a jump may go forward into one.
  for (const insn of insns) {
    let target: number | undefined;
    let what = 'jump';
    if (insn.kind === 'ja' || insn.kind === 'jcond') target = insn.target;
    else if (insn.kind === 'call' && insn.target.kind === 'local') {
      target = insn.target.pc;
      what = 'call';
    }
    if (target === undefined) continue;
    if (target < 0 || target >= slotCount) {
      throw new InvalidProgramError(what === 'jump' ? 'jump_out_of_range' : 'call_out_of_range', `${what} out of range: target ${target} outside 0..${slotCount - 1}`, insn.pc);
    }
    if (secondSlot[target]) throw new InvalidProgramError('jump_into_lddw', `${what} into the middle of the lddw at ${target - 1}`, insn.pc);
  }
  return makeProgram(insns);
}

/** Parses hex text (whitespace, `0x` prefixes and commas ignored) into bytes: the conformance and CLI form. */
export function parseHex(text: string): Uint8Array {
  const clean = text.replace(/0x/gi, '').replace(/[\s,]+/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) {
    throw new InvalidProgramError('data_format', 'invalid hex: expected pairs of hex digits');
  }
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}
