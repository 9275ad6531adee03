/**
 * `classicToEbpf`: a classic BPF program converted to an eBPF {@link Program} the way the Linux kernel's
 * `bpf_convert_filter` (net/core/filter.c) does it, for this repository's raw packet convention (r1 = the
 * packet's address, r2 = its length; r0 at exit = the number of bytes to accept, 0 = drop).
 *
 * Registers, as in the kernel: A = r0, X = r7, a temporary r8; the packet length is kept in r9 (the kernel
 * reads `skb->len`; here r2, or r3 with {@link ClassicConvertOptions.length} `wire`); the scratch words M[0..15] live at r10-64 .. r10-4 (M[k] at r10 - (16 - k) * 4).
 *
 * Translation:
 * - prologue `A = 0; X = 0; r9 = r2`;
 * - LD/LDX IMM, LEN, MEM → `mov32` and `ldxw` from the stack; ST/STX → `stxw`;
 * - LD ABS/IND (W/H/B) → eBPF LD_ABS/LD_IND (`ldpkt`): big-endian, zero-extended, and a load out of the packet
 *   ends the program with r0 = 0 (LD_IND's offset is X + k in signed 32-bit arithmetic, as in the kernel).
 *   Like the kernel's inline fast path, each load is preceded by a bounds check against the captured length
 *   (kept in r6) that jumps to a shared `A = 0; exit`: the engines end a run at an out-of-packet LD_ABS by a
 *   slow exit (microseconds on the JIT), and tcpdump's programs run off short packets all the time;
 * - LDX MSH → `r8 = A; A = P[k:1]; A &= 0xf; A <<= 2; X = A; A = r8`;
 * - ALU → 32-bit eBPF ALU (shifts by X use the low 5 bits, as the kernel's eBPF); DIV/MOD by X is preceded by
 *   `if X != 0 goto +2; A = 0; exit`, so division by zero returns 0 as in the kernel;
 * - jumps → JMP32 conditional jumps (A and X are 32-bit, so this is the kernel's compare without its dance to
 *   zero-extend negative immediates); when the false branch is not the next instruction the condition is
 *   inverted (`jeq`↔`jne`, `jgt`↔`jle`, `jge`↔`jlt`) or followed by a `ja`;
 * - RET K → `mov32 r0, k; exit`; RET A → `exit`.
 * Instructions no path from the entry reaches are dropped, so the result has no dead code (the strict verifier
 * refuses dead code); the checker (check.ts) has already guaranteed that scratch words are written before read.
 *
 * Not here: decoding and checking classic programs (decode.ts, check.ts).
 */

import type { AluOp, Insn, JmpOp, Operand, Reg } from '../isa/insn.js';
import { makeProgram, type Program } from '../isa/program.js';
import { checkClassic } from './check.js';
import {
  BPF_A, BPF_ABS, BPF_ALU, BPF_B, BPF_DIV, BPF_H, BPF_IMM, BPF_IND, BPF_JA, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP,
  BPF_JSET, BPF_LD, BPF_LDX, BPF_LEN, BPF_MEM, BPF_MEMWORDS, BPF_MISC, BPF_MOD, BPF_MSH, BPF_NEG, BPF_RET, BPF_ST,
  BPF_STX, BPF_TAX, BPF_X, bpfClass, bpfMode, bpfOp, bpfSize, bpfSrc, type ClassicInsn,
} from './insn.js';
import { ALU_NAMES } from './print.js';

/** eBPF registers of the classic machine. */
export const REG_A: Reg = 0, REG_X: Reg = 7, REG_TMP: Reg = 8, REG_LEN: Reg = 9, REG_CAPLEN: Reg = 6;
const FP: Reg = 10;

/** Stack offset (from r10) of scratch word M[k]. */
export const scratchOffset = (k: number): number => -(BPF_MEMWORDS - k) * 4;

/** An eBPF instruction without its slot. */
type InsnBody = Insn extends infer T ? (T extends Insn ? Omit<T, 'pc'> : never) : never;

/** An instruction before layout: jumps name a classic instruction (`to`) or a relative slot (`skip`). */
type Pending =
  | { readonly insn: InsnBody }
  | { readonly jump: 'ja'; readonly to: number | 'fail' }
  | { readonly jump: JmpOp; readonly src: Operand; readonly to: number | 'fail'; readonly reg?: Reg; readonly width?: 32 | 64 }
  | { readonly jump: JmpOp; readonly src: Operand; readonly skip: number; readonly reg: Reg };

const mov32 = (dst: Reg, src: Reg | { imm: number }): Pending => alu('mov', dst, src);
function alu(op: AluOp, dst: Reg, src: Reg | { imm: number }): Pending {
  const operand = typeof src === 'number' ? { kind: 'reg' as const, reg: src } : { kind: 'imm' as const, imm: src.imm | 0 };
  return { insn: { kind: 'alu', op, width: 32, dst, src: operand } };
}
const exit: Pending = { insn: { kind: 'exit' } };

const JUMP_OPS: Record<number, JmpOp> = { [BPF_JEQ]: 'eq', [BPF_JGT]: 'gt', [BPF_JGE]: 'ge', [BPF_JSET]: 'set' };
const INVERSE: Partial<Record<JmpOp, JmpOp>> = { eq: 'ne', gt: 'le', ge: 'lt' };
const LOAD_SIZE: Record<number, 1 | 2 | 4> = { [BPF_B]: 1, [BPF_H]: 2, [0]: 4 };

/** Options of {@link classicToEbpf}. */
export interface ClassicConvertOptions {
  /** Run the kernel's checks first (check.ts). Default true; the conversion assumes a checked program. */
  readonly check?: boolean;
  /**
   * What `len` (LD/LDX LEN) reads: `captured` (default) the packet's length r2; `wire` r3, which the caller sets
   * to the length on the wire (a pcap record's original length), as libpcap's `bpf_filter` and tcpdump use.
   */
  readonly length?: 'captured' | 'wire';
}

/** Whether a classic program reads the packet length (`ld #pktlen` / `ldx #pktlen`). */
export function readsLength(insns: readonly ClassicInsn[]): boolean {
  return insns.some((i) => (bpfClass(i.code) === BPF_LD || bpfClass(i.code) === BPF_LDX) && bpfMode(i.code) === BPF_LEN);
}

/** Converts a classic program (see the file header); throws `ClassicProgramError` if it fails the checks. */
export function classicToEbpf(insns: readonly ClassicInsn[], options: ClassicConvertOptions = {}): Program {
  if (options.check !== false) checkClassic(insns);
  const reachable = reachableInsns(insns);
  const blocks: Pending[][] = insns.map((insn, i) => (reachable[i] ? convertInsn(insn, i) : []));
  // Layout: the slot where each classic instruction's code starts (an empty block starts where the next does).
  const lengthArg = options.length === 'wire' ? 3 : 2;
  const prologue: Pending[] = [
    mov32(REG_A, { imm: 0 }), mov32(REG_X, { imm: 0 }),
    { insn: { kind: 'alu', op: 'mov', width: 64, dst: REG_LEN, src: { kind: 'reg', reg: lengthArg } } },
    { insn: { kind: 'alu', op: 'mov', width: 64, dst: REG_CAPLEN, src: { kind: 'reg', reg: 2 } } },
  ];
  const epilogue: Pending[] = [mov32(REG_A, { imm: 0 }), exit]; // where failed packet-bound checks go
  const start = new Int32Array(insns.length + 1);
  let pc = prologue.length;
  blocks.forEach((b, i) => {
    start[i] = pc;
    pc += b.length;
  });
  start[insns.length] = pc;
  const fail = pc;
  const out: Insn[] = [];
  const emit = (p: Pending) => out.push(resolve(p, out.length, start, fail));
  prologue.forEach(emit);
  blocks.forEach((b) => b.forEach(emit));
  if (out.some((i) => (i.kind === 'jcond' || i.kind === 'ja') && i.target === fail)) epilogue.forEach(emit);
  return makeProgram(out);
}

function resolve(p: Pending, pc: number, start: Int32Array, fail: number): Insn {
  if ('insn' in p) return { ...p.insn, pc } as Insn;
  const target = 'to' in p ? (p.to === 'fail' ? fail : start[p.to]) : pc + 1 + p.skip;
  if (p.jump === 'ja') return { kind: 'ja', pc, target, long: false };
  const dst = p.reg ?? REG_A;
  return { kind: 'jcond', pc, cond: { op: p.jump, width: 'width' in p ? p.width ?? 32 : 32 }, dst, src: p.src, target };
}

/**
 * The bounds check before a packet load, as the kernel's inline fast path does it: out of the packet, the
 * program ends with 0 (from one shared `A = 0; exit`) without taking the engines' slow exit of LD_ABS/LD_IND.
 */
function boundsCheck(mode: 'abs' | 'ind', size: number, k: number): Pending[] {
  const imm = (v: number): Operand => ({ kind: 'imm', imm: v });
  if (mode === 'abs') {
    const end = (k | 0) + size; // in range: alwaysOutOfPacket took the others
    return [{ jump: 'lt', src: imm(end), to: 'fail', reg: REG_CAPLEN, width: 64 }];
  }
  // TMP = u32(X + k) + size, in 64 bits: past the packet also when X + k is negative as an int32.
  return [
    mov32(REG_TMP, REG_X), alu('add', REG_TMP, { imm: k }),
    { insn: { kind: 'alu', op: 'add', width: 64, dst: REG_TMP, src: imm(size) } },
    { jump: 'gt', src: { kind: 'reg', reg: REG_CAPLEN }, to: 'fail', reg: REG_TMP, width: 64 },
  ];
}

/** Which instructions a path from instruction 0 reaches (jumps only go forward). */
function reachableInsns(insns: readonly ClassicInsn[]): boolean[] {
  const seen = insns.map(() => false);
  seen[0] = true;
  insns.forEach((insn, i) => {
    if (!seen[i]) return;
    const cls = bpfClass(insn.code);
    if (cls === BPF_RET || alwaysOutOfPacket(insn)) return;
    if (cls !== BPF_JMP) seen[i + 1] = true;
    else if (bpfOp(insn.code) === BPF_JA) seen[i + 1 + insn.k] = true;
    else seen[i + 1 + insn.jt] = seen[i + 1 + insn.jf] = true;
  });
  return seen;
}

/** Whether an instruction is an absolute packet load (LD ABS, LDX MSH) whose offset no packet reaches. */
function alwaysOutOfPacket(insn: ClassicInsn): boolean {
  const cls = bpfClass(insn.code), mode = bpfMode(insn.code);
  if (!((cls === BPF_LD && mode === BPF_ABS) || (cls === BPF_LDX && mode === BPF_MSH))) return false;
  const size = cls === BPF_LDX ? 1 : LOAD_SIZE[bpfSize(insn.code)];
  return (insn.k | 0) < 0 || (insn.k | 0) + size > 0x7fffffff;
}

/** The eBPF code of classic instruction `i`. */
function convertInsn(insn: ClassicInsn, i: number): Pending[] {
  const { code, k } = insn;
  if (alwaysOutOfPacket(insn)) return [{ jump: 'ja', to: 'fail' }];
  switch (bpfClass(code)) {
    case BPF_LD: return convertLoad(code, k, REG_A);
    case BPF_LDX:
      if (bpfMode(code) === BPF_MSH) {
        return [
          ...boundsCheck('abs', 1, k),
          mov32(REG_TMP, REG_A),
          { insn: { kind: 'ldpkt', mode: 'abs', size: 1, index: null, imm: k | 0 } },
          alu('and', REG_A, { imm: 0xf }), alu('lsh', REG_A, { imm: 2 }),
          mov32(REG_X, REG_A), mov32(REG_A, REG_TMP),
        ];
      }
      return convertLoad(code, k, REG_X);
    case BPF_ST: case BPF_STX:
      return [{ insn: { kind: 'store', size: 4, base: FP, off: scratchOffset(k), value: { kind: 'reg', reg: bpfClass(code) === BPF_ST ? REG_A : REG_X } } }];
    case BPF_ALU: return convertAlu(code, k);
    case BPF_JMP: return convertJump(insn, i);
    case BPF_RET: return code === (BPF_RET | BPF_A) ? [exit] : [mov32(REG_A, { imm: k }), exit];
    case BPF_MISC: return [bpfOp(code) === BPF_TAX ? mov32(REG_X, REG_A) : mov32(REG_A, REG_X)];
  }
  return [];
}

function convertLoad(code: number, k: number, dst: Reg): Pending[] {
  switch (bpfMode(code)) {
    case BPF_IMM: return [mov32(dst, { imm: k })];
    case BPF_LEN: return [mov32(dst, REG_LEN)];
    case BPF_MEM: return [{ insn: { kind: 'load', size: 4, signed: false, dst, base: FP, off: scratchOffset(k) } }];
    case BPF_ABS: case BPF_IND: {
      const ind = bpfMode(code) === BPF_IND, size = LOAD_SIZE[bpfSize(code)];
      return [
        ...boundsCheck(ind ? 'ind' : 'abs', size, k),
        { insn: { kind: 'ldpkt', mode: ind ? 'ind' : 'abs', size, index: ind ? REG_X : null, imm: k | 0 } },
      ];
    }
  }
  return [];
}

function convertAlu(code: number, k: number): Pending[] {
  const op = bpfOp(code);
  if (op === BPF_NEG) return [{ insn: { kind: 'neg', width: 32, dst: REG_A } }];
  const name = ALU_NAMES.get(op) as AluOp;
  if (bpfSrc(code) !== BPF_X) return [alu(name, REG_A, { imm: k })];
  const guard: Pending[] = op === BPF_DIV || op === BPF_MOD
    ? [{ jump: 'ne', src: { kind: 'imm', imm: 0 }, skip: 2, reg: REG_X }, mov32(REG_A, { imm: 0 }), exit]
    : [];
  return [...guard, alu(name, REG_A, REG_X)];
}

function convertJump(insn: ClassicInsn, i: number): Pending[] {
  const { code, jt, jf, k } = insn;
  if (bpfOp(code) === BPF_JA) return k === 0 ? [] : [{ jump: 'ja', to: i + 1 + k }];
  const t = i + 1 + jt, f = i + 1 + jf;
  if (t === f) return jt === 0 ? [] : [{ jump: 'ja', to: t }];
  const op = JUMP_OPS[bpfOp(code)];
  const src: Operand = bpfSrc(code) === BPF_X ? { kind: 'reg', reg: REG_X } : { kind: 'imm', imm: k | 0 };
  if (jf === 0) return [{ jump: op, src, to: t }];
  const inverse = INVERSE[op];
  if (jt === 0 && inverse !== undefined) return [{ jump: inverse, src, to: f }];
  return [{ jump: op, src, to: t }, { jump: 'ja', to: f }];
}
