/**
 * `checkClassic`: the checks of the Linux kernel's `bpf_check_classic` (net/core/filter.c) on a classic
 * program, so that what is accepted here is what a socket filter accepts there:
 * - 1 to 4096 instructions, every opcode one of the kernel's classic opcodes;
 * - no division or modulo by a constant 0, no shift by a constant ≥ 32;
 * - scratch indexes (LD/LDX MEM, ST, STX) below 16;
 * - every jump lands inside the program;
 * - the last instruction is RET K or RET A;
 * - no scratch word is read before it is written on every path to the read (`check_load_and_stores`).
 *
 * Not here: decoding (decode.ts: bytes and tcpdump's text forms), ancillary loads (`SKF_AD_OFF + n`: they read out of the
 * packet here, so they end the filter with 0, as libpcap's own `bpf_filter` does).
 */

import {
  BPF_A, BPF_ABS, BPF_ADD, BPF_ALU, BPF_AND, BPF_B, BPF_DIV, BPF_H, BPF_IMM, BPF_IND, BPF_JA, BPF_JEQ, BPF_JGE,
  BPF_JGT, BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_LDX, BPF_LEN, BPF_LSH, BPF_MAXINSNS, BPF_MEM, BPF_MEMWORDS,
  BPF_MISC, BPF_MOD, BPF_MSH, BPF_MUL, BPF_NEG, BPF_OR, BPF_RET, BPF_RSH, BPF_ST, BPF_STX, BPF_SUB, BPF_TAX,
  BPF_TXA, BPF_W, BPF_X, BPF_XOR, ClassicProgramError, bpfClass, bpfMode, bpfOp, bpfSrc, type ClassicInsn,
} from './insn.js';

/** Every opcode the kernel accepts in a classic program (`codes` in `bpf_check_classic`'s table). */
export const CLASSIC_OPCODES: ReadonlySet<number> = new Set([
  ...[BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_MOD, BPF_AND, BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH]
    .flatMap((op) => [BPF_ALU | op | BPF_K, BPF_ALU | op | BPF_X]),
  BPF_ALU | BPF_NEG,
  ...[BPF_W, BPF_H, BPF_B].flatMap((size) => [BPF_LD | size | BPF_ABS, BPF_LD | size | BPF_IND]),
  BPF_LD | BPF_W | BPF_LEN, BPF_LD | BPF_IMM, BPF_LD | BPF_MEM,
  BPF_LDX | BPF_W | BPF_IMM, BPF_LDX | BPF_W | BPF_MEM, BPF_LDX | BPF_W | BPF_LEN, BPF_LDX | BPF_B | BPF_MSH,
  BPF_MISC | BPF_TAX, BPF_MISC | BPF_TXA,
  BPF_RET | BPF_K, BPF_RET | BPF_A,
  BPF_ST, BPF_STX,
  BPF_JMP | BPF_JA,
  ...[BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET].flatMap((op) => [BPF_JMP | op | BPF_K, BPF_JMP | op | BPF_X]),
]);

/** Whether the instruction reads or writes M[k]. */
export function usesScratch(code: number): 'load' | 'store' | undefined {
  const cls = bpfClass(code);
  if (cls === BPF_ST || cls === BPF_STX) return 'store';
  if ((cls === BPF_LD || cls === BPF_LDX) && bpfMode(code) === BPF_MEM) return 'load';
  return undefined;
}

/** Throws {@link ClassicProgramError} unless the kernel would accept `insns` (see the file header). */
export function checkClassic(insns: readonly ClassicInsn[], lines?: readonly number[]): void {
  const at = (index: number) => ({ index, line: lines?.[index] });
  if (insns.length === 0) throw new ClassicProgramError('empty', 'a classic program needs at least one instruction');
  if (insns.length > BPF_MAXINSNS) {
    throw new ClassicProgramError('too_large', `${insns.length} instructions, more than the ${BPF_MAXINSNS} allowed`);
  }
  insns.forEach((insn, pc) => checkInsn(insn, pc, insns.length, at(pc)));
  const last = insns[insns.length - 1].code;
  if (last !== (BPF_RET | BPF_K) && last !== (BPF_RET | BPF_A)) {
    throw new ClassicProgramError('no_ret', 'the last instruction must be RET (ret #k or ret a)', at(insns.length - 1));
  }
  checkLoadsAndStores(insns, at);
}

function checkInsn(insn: ClassicInsn, pc: number, length: number, where: { index: number; line?: number }): void {
  const { code, jt, jf, k } = insn;
  if (!CLASSIC_OPCODES.has(code)) {
    throw new ClassicProgramError('unknown_opcode', `unknown classic opcode 0x${code.toString(16)}`, where);
  }
  const cls = bpfClass(code), op = bpfOp(code);
  if (cls === BPF_ALU && bpfSrc(code) === BPF_K) {
    if ((op === BPF_DIV || op === BPF_MOD) && k === 0) throw new ClassicProgramError('div_by_zero', 'division by the constant 0', where);
    if ((op === BPF_LSH || op === BPF_RSH) && k >= 32) throw new ClassicProgramError('bad_shift', `shift by ${k}, not below 32`, where);
  }
  if (usesScratch(code) !== undefined && k >= BPF_MEMWORDS) {
    throw new ClassicProgramError('bad_scratch', `scratch index ${k} out of M[0..${BPF_MEMWORDS - 1}]`, where);
  }
  if (cls !== BPF_JMP) return;
  if (op === BPF_JA) {
    if (k >= length - pc - 1) throw new ClassicProgramError('jump_out_of_range', `ja +${k} jumps past the end`, where);
  } else if (pc + jt + 1 >= length || pc + jf + 1 >= length) {
    throw new ClassicProgramError('jump_out_of_range', `jump (jt ${jt}, jf ${jf}) past the end`, where);
  }
}

/** The kernel's `check_load_and_stores`: every M[k] read must follow a write of M[k] on all paths. */
function checkLoadsAndStores(insns: readonly ClassicInsn[], at: (i: number) => { index: number; line?: number }): void {
  const ALL = 0xffff;
  const masks = new Uint16Array(insns.length).fill(ALL);
  let valid = 0;
  insns.forEach((insn, pc) => {
    valid &= masks[pc];
    const { code, k } = insn;
    switch (usesScratch(code)) {
      case 'store': valid |= 1 << k; return;
      case 'load':
        if ((valid & (1 << k)) === 0) throw new ClassicProgramError('uninit_scratch', `M[${k}] may be read before it is written`, at(pc));
        return;
    }
    const cls = bpfClass(code);
    if (cls === BPF_RET) valid = ALL;
    else if (cls === BPF_JMP) {
      if (bpfOp(code) === BPF_JA) masks[pc + 1 + k] &= valid;
      else {
        masks[pc + 1 + insn.jt] &= valid;
        masks[pc + 1 + insn.jf] &= valid;
      }
      valid = ALL;
    }
  });
}
