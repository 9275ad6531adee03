/**
 * Printing classic programs in the three forms tcpdump prints them (libpcap's `bpf_image` and `bpf_dump`):
 * `-d` (`(000) ldh      [12]`), `-dd` (`{ 0x28, 0, 0, 0x0000000c },`) and `-ddd` (a count line, then
 * `code jt jf k` in decimal). Also the mnemonic of each opcode, which the `-d` parser (decode.ts) shares.
 *
 * Not here: parsing (decode.ts), validation (check.ts).
 */

import {
  BPF_A, BPF_ABS, BPF_ALU, BPF_AND, BPF_B, BPF_H, BPF_IMM, BPF_IND, BPF_JA, BPF_JMP, BPF_LD, BPF_LDX, BPF_LEN,
  BPF_MEM, BPF_MISC, BPF_MSH, BPF_NEG, BPF_OR, BPF_RET, BPF_ST, BPF_STX, BPF_TAX, BPF_X, BPF_XOR, bpfClass, bpfMode,
  bpfOp, bpfSize, bpfSrc, type ClassicInsn,
} from './insn.js';

/** Mnemonics of the ALU operations, by `BPF_OP`. */
export const ALU_NAMES: ReadonlyMap<number, string> = new Map([
  [0x00, 'add'], [0x10, 'sub'], [0x20, 'mul'], [0x30, 'div'], [0x40, 'or'], [0x50, 'and'], [0x60, 'lsh'],
  [0x70, 'rsh'], [0x80, 'neg'], [0x90, 'mod'], [0xa0, 'xor'],
]);
/** Mnemonics of the jumps, by `BPF_OP`. */
export const JMP_NAMES: ReadonlyMap<number, string> = new Map([[0x00, 'ja'], [0x10, 'jeq'], [0x20, 'jgt'], [0x30, 'jge'], [0x40, 'jset']]);

const signed = (k: number): string => String(k | 0);
const hex = (k: number): string => '0x' + (k >>> 0).toString(16);
const SIZE_SUFFIX: Record<number, string> = { [BPF_H]: 'h', [BPF_B]: 'b' };

/** Mnemonic and operand of one instruction at index `n`, as `tcpdump -d` prints them. */
export function insnImage(insn: ClassicInsn, n: number): { op: string; operand: string } {
  const { code, k } = insn;
  switch (bpfClass(code)) {
    case BPF_RET: return { op: 'ret', operand: code === (BPF_RET | BPF_A) ? 'a' : `#${signed(k)}` };
    case BPF_LD: return loadImage(code, k, 'ld');
    case BPF_LDX:
      if (bpfMode(code) === BPF_MSH) return { op: 'ldxb', operand: `4*([${signed(k)}]&0xf)` };
      return loadImage(code, k, 'ldx');
    case BPF_ST: return { op: 'st', operand: `M[${signed(k)}]` };
    case BPF_STX: return { op: 'stx', operand: `M[${signed(k)}]` };
    case BPF_MISC: return { op: bpfOp(code) === BPF_TAX ? 'tax' : 'txa', operand: '' };
    case BPF_ALU: {
      const op = bpfOp(code), name = ALU_NAMES.get(op) ?? 'unimp';
      if (op === BPF_NEG) return { op: name, operand: '' };
      if (bpfSrc(code) === BPF_X) return { op: name, operand: 'x' };
      return { op: name, operand: '#' + (op === BPF_AND || op === BPF_OR || op === BPF_XOR ? hex(k) : signed(k)) };
    }
    case BPF_JMP: {
      const op = bpfOp(code), name = JMP_NAMES.get(op) ?? 'unimp';
      if (op === BPF_JA) return { op: name, operand: String(n + 1 + k) };
      return { op: name, operand: bpfSrc(code) === BPF_X ? 'x' : '#' + hex(k) };
    }
  }
  return { op: 'unimp', operand: hex(code) };
}

function loadImage(code: number, k: number, base: 'ld' | 'ldx'): { op: string; operand: string } {
  const op = base + (SIZE_SUFFIX[bpfSize(code)] ?? '');
  switch (bpfMode(code)) {
    case BPF_IMM: return { op, operand: '#' + hex(k) };
    case BPF_ABS: return { op, operand: `[${signed(k)}]` };
    case BPF_IND: return { op, operand: `[x + ${signed(k)}]` };
    case BPF_MEM: return { op, operand: `M[${signed(k)}]` };
    case BPF_LEN: return { op, operand: '#pktlen' };
  }
  return { op: 'unimp', operand: hex(code) };
}

/** One line of `tcpdump -d` (no newline). */
export function formatInsn(insn: ClassicInsn, n: number): string {
  const { op, operand } = insnImage(insn, n);
  const index = String(n).padStart(3, '0');
  if (bpfClass(insn.code) === BPF_JMP && bpfOp(insn.code) !== BPF_JA) {
    return `(${index}) ${op.padEnd(8)} ${operand.padEnd(16)} jt ${n + 1 + insn.jt}\tjf ${n + 1 + insn.jf}`;
  }
  return `(${index}) ${op.padEnd(8)} ${operand}`;
}

/** The program as `tcpdump -d` prints it (one line per instruction, each ending in a newline). */
export function formatClassic(insns: readonly ClassicInsn[]): string {
  return insns.map((insn, n) => formatInsn(insn, n) + '\n').join('');
}

/** The program as `tcpdump -dd` prints it: a C array initialiser body. */
export function formatClassicDd(insns: readonly ClassicInsn[]): string {
  return insns.map((i) => `{ 0x${i.code.toString(16)}, ${i.jt}, ${i.jf}, 0x${(i.k >>> 0).toString(16).padStart(8, '0')} },\n`).join('');
}

/** The program as `tcpdump -ddd` prints it: the count, then `code jt jf k` in decimal. */
export function formatClassicDdd(insns: readonly ClassicInsn[]): string {
  return `${insns.length}\n` + insns.map((i) => `${i.code} ${i.jt} ${i.jf} ${i.k >>> 0}\n`).join('');
}
