/**
 * `disassemble`: {@link Program} (or one instruction) → assembly text in the syntax `assemble` reads, so that
 * `assemble(disassemble(p))` encodes to the same bytes as `p` for every program.
 *
 * Derived from the opcode table like the assembler: the row gives the mnemonic and syntax, `SYNTAX_OPERANDS`
 * (asm.ts) which field each operand shows, `fieldsOf` (encode.ts) the raw field values. Printing conventions,
 * close to bpf_conformance's disassembler:
 *
 *     registers      %r0 .. %r10
 *     immediates     -255..255 and negatives (but INT32_MIN) in decimal, other values as the 32-bit pattern in hex (0xffff00ff);
 *                    helper ids, BTF ids and packet offsets always in decimal
 *     lddw values    the unsigned 64-bit value: decimal up to 255, else hex
 *     memory         [%r1], [%r1+4], [%r10-8]
 *     jump targets   relative slot distances +N / -N (labels are not reconstructed)
 *
 * Not here: parsing (asm.ts), symbolic names for helpers or maps (they need a program's metadata).
 */

import { assertNever } from '../errors.js';
import { SYNTAX_OPERANDS, targetField, type OperandSpec } from './asm.js';
import { fieldsOf, specOf } from './encode.js';
import type { Insn } from './insn.js';
import type { Program } from './program.js';
import type { OpSpec } from './spec.js';

/** Options for {@link disassemble}. */
export interface DisassembleOptions {
  /** Prefix each line with the instruction's slot number (`  12: `). The result is then not assemblable. */
  readonly pcs?: boolean;
}

/** A 32-bit immediate: small and negative values in decimal, the rest as the bit pattern in hex. */
function formatImm(imm: number): string {
  if ((imm >= -255 && imm <= 255) || (imm < 0 && imm !== -0x80000000)) return String(imm);
  return '0x' + (imm >>> 0).toString(16);
}

function formatOffset(off: number): string {
  return off >= 0 ? `+${off}` : String(off);
}

function formatOperand(spec: OperandSpec, row: OpSpec, f: ReturnType<typeof fieldsOf>): string {
  switch (spec.kind) {
    case 'reg': return `%r${f[spec.field]}`;
    case 'imm': return spec.decimal ? String(f.imm) : formatImm(f.imm);
    case 'imm64': {
      const value = (BigInt((f.next ?? 0) >>> 0) << 32n) | BigInt(f.imm >>> 0);
      return value <= 255n ? String(value) : '0x' + value.toString(16);
    }
    case 'mem': return f.off === 0 ? `[%r${f[spec.base]}]` : `[%r${f[spec.base]}${formatOffset(f.off)}]`;
    case 'target': return formatOffset(f[targetField(spec, row)]);
    default: return assertNever(spec, 'operand spec');
  }
}

/**
 * One instruction as assembly text, e.g. `jne %r1, 0x10, -3` (RFC 9669 sections 4 and 5 for the mnemonics'
 * meaning). Jump and local-call targets print as distances relative to the next slot.
 */
export function disassembleInsn(insn: Insn): string {
  const row = specOf(insn);
  const f = fieldsOf(insn);
  const operands = SYNTAX_OPERANDS[row.syntax].map((spec) => formatOperand(spec, row, f));
  return operands.length === 0 ? row.mnemonic : `${row.mnemonic} ${operands.join(', ')}`;
}

/** A whole program, one instruction per line (an `lddw` is one line for its two slots), ending with a newline. */
export function disassemble(program: Program, options: DisassembleOptions = {}): string {
  const width = String(Math.max(0, program.slotCount - 1)).length;
  let out = '';
  for (const insn of program.insns) {
    if (options.pcs) out += `${String(insn.pc).padStart(width)}: `;
    out += disassembleInsn(insn) + '\n';
  }
  return out;
}
