/**
 * Classic BPF (`struct sock_filter`): the instruction shape, the opcode fields and the error type shared by the
 * decoder, the checker, the printer and the converter to eBPF.
 *
 * An instruction is `{code: u16, jt: u8, jf: u8, k: u32}`: conditional jumps go forward `jt` / `jf`
 * instructions past the next one; `ja` forward `k`. The machine has an accumulator A, an index register X and
 * 16 scratch words M[0..15], all 32-bit.
 *
 * Not here: the opcode validation (check.ts), the decoding of bytes and text forms (decode.ts), the conversion (convert.ts).
 */

import { InvalidProgramError, type InvalidProgramCode } from '../errors.js';

/** One classic BPF instruction (`struct sock_filter`). */
export interface ClassicInsn {
  /** Opcode, u16. */
  readonly code: number;
  /** Forward offset of the true branch of a conditional jump, u8. */
  readonly jt: number;
  /** Forward offset of the false branch, u8. */
  readonly jf: number;
  /** Immediate, u32. */
  readonly k: number;
}

/** Instruction classes (`BPF_CLASS(code)`). */
export const BPF_LD = 0x00, BPF_LDX = 0x01, BPF_ST = 0x02, BPF_STX = 0x03, BPF_ALU = 0x04, BPF_JMP = 0x05,
  BPF_RET = 0x06, BPF_MISC = 0x07;
/** Load sizes (`BPF_SIZE(code)`). */
export const BPF_W = 0x00, BPF_H = 0x08, BPF_B = 0x10;
/** Load modes (`BPF_MODE(code)`). */
export const BPF_IMM = 0x00, BPF_ABS = 0x20, BPF_IND = 0x40, BPF_MEM = 0x60, BPF_LEN = 0x80, BPF_MSH = 0xa0;
/** ALU operations (`BPF_OP(code)`). */
export const BPF_ADD = 0x00, BPF_SUB = 0x10, BPF_MUL = 0x20, BPF_DIV = 0x30, BPF_OR = 0x40, BPF_AND = 0x50,
  BPF_LSH = 0x60, BPF_RSH = 0x70, BPF_NEG = 0x80, BPF_MOD = 0x90, BPF_XOR = 0xa0;
/** Jump operations (`BPF_OP(code)`). */
export const BPF_JA = 0x00, BPF_JEQ = 0x10, BPF_JGT = 0x20, BPF_JGE = 0x30, BPF_JSET = 0x40;
/** Operand source (`BPF_SRC(code)`): the immediate or X. */
export const BPF_K = 0x00, BPF_X = 0x08;
/** Return value source (`BPF_RVAL(code)`): RET K or RET A. */
export const BPF_A = 0x10;
/** MISC operations (`BPF_MISCOP(code)`). */
export const BPF_TAX = 0x00, BPF_TXA = 0x80;

/** Number of scratch words M[]. */
export const BPF_MEMWORDS = 16;
/** Longest program the kernel accepts (`BPF_MAXINSNS`). */
export const BPF_MAXINSNS = 4096;

export const bpfClass = (code: number): number => code & 0x07;
export const bpfSize = (code: number): number => code & 0x18;
export const bpfMode = (code: number): number => code & 0xe0;
export const bpfOp = (code: number): number => code & 0xf0;
export const bpfSrc = (code: number): number => code & 0x08;

/** Why a classic program was rejected (finer than {@link InvalidProgramError.code}). */
export type ClassicReason =
  | 'empty' | 'too_large' | 'truncated' | 'syntax' | 'count_mismatch' | 'unknown_opcode' | 'jump_out_of_range'
  | 'div_by_zero' | 'bad_shift' | 'bad_scratch' | 'uninit_scratch' | 'no_ret' | 'field_range';

const CODE_OF_REASON: Record<ClassicReason, InvalidProgramCode> = {
  empty: 'empty', too_large: 'too_large', truncated: 'truncated', syntax: 'asm_syntax', count_mismatch: 'data_format',
  unknown_opcode: 'unknown_opcode', jump_out_of_range: 'jump_out_of_range', div_by_zero: 'reserved_field',
  bad_shift: 'reserved_field', bad_scratch: 'reserved_field', uninit_scratch: 'reserved_field',
  no_ret: 'data_format', field_range: 'asm_immediate_range',
};

/**
 * A classic program that cannot be decoded or that the kernel's `bpf_check_classic` would refuse. `pc` is the
 * instruction index (from 0) when one is at fault; `line` the 1-based line (or `,`-separated item) of text input.
 * `code` is the nearest {@link InvalidProgramCode}; `reason` says exactly what is wrong.
 */
export class ClassicProgramError extends InvalidProgramError {
  readonly reason: ClassicReason;

  constructor(reason: ClassicReason, detail: string, where: { index?: number; line?: number } = {}) {
    super(CODE_OF_REASON[reason], detail, where.index, { line: where.line });
    Object.defineProperty(this, 'name', { value: 'ClassicProgramError', enumerable: true, configurable: true, writable: false });
    this.reason = reason;
    if (where.index !== undefined && where.line !== undefined) this.message = `line ${where.line}: ${this.message}`;
  }
}
