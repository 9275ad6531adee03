/**
 * The interpreter's pre-decoded form of a program: the specialized operation codes ({@link Op}), the layout of
 * the machine array that holds registers, run state, saved frames and code in one `Int32Array` (the arena of
 * execute.ts at run time), and {@link buildMachine}, which pre-decodes a {@link Program} once.
 *
 * Machine array layout (words; {@link Layout}):
 *
 *     0 .. 21     registers: r`n` low half at 2n, high half at 2n+1 (int32 bit patterns)
 *     22 .. 35    run state shared by the loop and its driver (Pc, Depth, Left, region caches, StoreLow, ...)
 *     36 .. 123   saved frames of local calls: FrameWords per level
 *     124 ..      code, 4 words a slot:
 *
 *       word 0 = op | A << 8 | B << 16      word 1          word 2            word 3
 *       Add64K   A = dst*2                  imm             -                 -
 *       Add64X   A = dst*2, B = src*2       -               -                 -
 *       Ldxw     A = dst*2, B = base*2      off             -                 -
 *       Stw      A = base*2                 off             imm               -
 *       Stxw     A = base*2, B = src*2      off             -                 -
 *       Jeq64K   A = dst*2                  imm             -                 target position
 *       Lddw     A = dst*2                  low half        high half         next position
 *
 * Register fields hold the register number times two, so a register's halves are `M[d]` and `M[d | 1]`; code
 * positions are multiples of 4, so `M[pc | 1]` is a slot's second word: no additions, no overflow checks.
 * Registers and code share one array so that the hot loop touches a single typed array.
 *
 * Counting mode lays every instruction at `8*slot + 4` behind a `Count` pseudo-op at `8*slot`, and jumps target
 * the `Count`: the same loop then counts executed instructions exactly, and the normal code carries no counter.
 *
 * Not here: executing the code (execute.ts), faults, helpers and the driver (interpreter.ts).
 */

import { InternalError, InvalidProgramError, assertNever } from '../errors.js';
import { MAX_CALL_DEPTH } from '../exec.js';
import type { AluOp, AtomicOp, JmpOp } from '../isa/insn.js';
import type { Program } from '../isa/program.js';
import { hiHalf, loHalf } from './semantics.js';

/**
 * Specialized operations. A `const enum`, so that tsc inlines the values and every `case` of the loop is a
 * literal: V8 compiles a switch over literal small integers to a jump table.
 *
 * ALU and jump rows come in groups of four: 64-bit K, 64-bit X, 32-bit K, 32-bit X (see {@link variant}).
 */
export const enum Op {
  Add64K, Add64X, Add32K, Add32X,
  Sub64K, Sub64X, Sub32K, Sub32X,
  Mul64K, Mul64X, Mul32K, Mul32X,
  Div64K, Div64X, Div32K, Div32X,
  Sdiv64K, Sdiv64X, Sdiv32K, Sdiv32X,
  Or64K, Or64X, Or32K, Or32X,
  And64K, And64X, And32K, And32X,
  Lsh64K, Lsh64X, Lsh32K, Lsh32X,
  Rsh64K, Rsh64X, Rsh32K, Rsh32X,
  Mod64K, Mod64X, Mod32K, Mod32X,
  Smod64K, Smod64X, Smod32K, Smod32X,
  Xor64K, Xor64X, Xor32K, Xor32X,
  Mov64K, Mov64X, Mov32K, Mov32X,
  Arsh64K, Arsh64X, Arsh32K, Arsh32X,
  Neg64, Neg32,
  Movsx64s8, Movsx64s16, Movsx64s32, Movsx32s8, Movsx32s16,
  Zext16, Zext32, Nop, Bswap16, Bswap32, Bswap64,
  Lddw,
  Ldxb, Ldxh, Ldxw, Ldxdw, Ldxsb, Ldxsh, Ldxsw,
  Stb, Sth, Stw, Stdw, Stxb, Stxh, Stxw, Stxdw,
  /** Atomic read-modify-write: A = base*2, B = src*2, word 1 = off, word 2 = atomic op | fetch << 4. */
  Atomic32, Atomic64,
  /** Legacy packet load: A = index*2 (0xff for LD_ABS), word 1 = imm, word 2 = size. */
  LdPkt,
  Ja,
  Jeq64K, Jeq64X, Jeq32K, Jeq32X,
  Jne64K, Jne64X, Jne32K, Jne32X,
  Jgt64K, Jgt64X, Jgt32K, Jgt32X,
  Jge64K, Jge64X, Jge32K, Jge32X,
  Jlt64K, Jlt64X, Jlt32K, Jlt32X,
  Jle64K, Jle64X, Jle32K, Jle32X,
  Jset64K, Jset64X, Jset32K, Jset32X,
  Jsgt64K, Jsgt64X, Jsgt32K, Jsgt32X,
  Jsge64K, Jsge64X, Jsge32K, Jsge32X,
  Jslt64K, Jslt64X, Jslt32K, Jslt32X,
  Jsle64K, Jsle64X, Jsle32K, Jsle32X,
  /** Helper call: word 1 = helper id. */
  CallHelper,
  /** Local call: word 3 = callee position. */
  CallLocal,
  /** Kernel-function call: word 1 = BTF id. */
  CallBtf,
  /** Indirect helper call: A = the register holding the id. */
  Callx,
  Exit,
  /**
   * Superinstruction: a 64-bit `add`/`sub` with an immediate followed by a 64-bit conditional jump (other than
   * `jset`), the usual way a loop closes. Executes both with one dispatch; see {@link fuse}.
   */
  AddJcc64,
  /** Counting mode only: counts the instruction that follows. */
  Count,
  /** Sentinel after the last slot: the program fell off its end. Word 1 = slot of the last instruction. */
  End,
}

/** First row of each ALU operation's group of four. */
const ALU_BASE: Readonly<Record<AluOp, Op>> = {
  add: Op.Add64K, sub: Op.Sub64K, mul: Op.Mul64K, div: Op.Div64K, sdiv: Op.Sdiv64K, or: Op.Or64K, and: Op.And64K,
  lsh: Op.Lsh64K, rsh: Op.Rsh64K, mod: Op.Mod64K, smod: Op.Smod64K, xor: Op.Xor64K, mov: Op.Mov64K, arsh: Op.Arsh64K,
};

/** First row of each jump condition's group of four. */
const JMP_BASE: Readonly<Record<JmpOp, Op>> = {
  eq: Op.Jeq64K, ne: Op.Jne64K, gt: Op.Jgt64K, ge: Op.Jge64K, lt: Op.Jlt64K, le: Op.Jle64K, set: Op.Jset64K,
  sgt: Op.Jsgt64K, sge: Op.Jsge64K, slt: Op.Jslt64K, sle: Op.Jsle64K,
};

/** Offset of a row within its group of four. */
function variant(width: 32 | 64, operand: 'imm' | 'reg'): number {
  return (width === 32 ? 2 : 0) + (operand === 'reg' ? 1 : 0);
}

/** Atomic operations as numbered in word 2 of an atomic slot. */
export const ATOMIC_OPS: readonly AtomicOp[] = ['add', 'or', 'and', 'xor', 'xchg', 'cmpxchg'];

// ---- Machine array layout.

/**
 * Word indexes of the machine array (a `const enum`, so that uses compile to literals: the loop reads some of
 * them on hot paths).
 */
export const enum Layout {
  /** Words per code slot. */
  Stride = 4,
  /** Index of r6's low half; r6..r10 are the ten words from here. */
  R6 = 12,
  /** Index of r10's low half (the frame pointer). */
  R10 = 20,
  /** Current position (written by the loop when it returns to the driver, read by it on entry). */
  Pc = 22,
  /** Current call depth (0 = entry function). */
  Depth = 23,
  /** Budget left in the current chunk (taken backward jumps and local calls); see the driver. */
  Left = 24,
  /** Bounds of the region the last load went to: the loads' cache (see `Interpreter.cacheBounds`). */
  RdLo = 25,
  RdHi = 26,
  /** Bounds of the writable region the last store went to: the stores' cache. */
  WrLo = 27,
  WrHi = 28,
  /** r10 of the entry function (the top of the stack); at depth `d`, r10 = StackTop - 512 * d. */
  StackTop = 29,
  /** The packet of legacy loads: start address (int32 bits) and length, -1 when there is none. */
  PktStart = 30,
  PktLen = 31,
  /** Executed instructions (counting mode), low and high words. */
  Steps = 32,
  /** `slot = (position - CodeBase) >> M[Shift]` for an instruction's position: 2, or 3 in counting mode. */
  Shift = 34,
  /**
   * Lowest address a store or atomic of this run wrote (int32 bits; 0x7fffffff when none), and 0 after a helper
   * call (which may write anything): the packet engine (packet.ts) clears only the stack above it before the
   * next run.
   */
  StoreLow = 35,
  /** First saved frame of local calls. Every word below is set by `Interpreter.setup` at the start of a run. */
  Frames = 36,
  /** Words per saved frame: return position, then r6..r10 as halves. */
  FrameWords = 11,
  /** First code word: after MAX_CALL_DEPTH frames (checked in {@link buildMachine}), at a multiple of 4. */
  CodeBase = 124,
}

/** Largest program the interpreter runs, in slots (decode's default limit, Linux's for privileged programs). */
export const MAX_SLOTS = 1_000_000;

/**
 * Words of the interpreter's arena (execute.ts): the layout's header, then room for the code of the largest
 * program (4 words a slot; counting mode takes 8, so it handles programs up to half the size), then the end
 * sentinel. 16 MiB of address space, which the OS commits only as far as programs actually use it.
 */
export const ARENA_WORDS = Layout.CodeBase + Layout.Stride * MAX_SLOTS + Layout.Stride;

/** A pre-decoded program: what {@link buildMachine} returns. */
export interface Machine {
  /** The machine array: header words (unused here) then the code from `Layout.CodeBase`. */
  readonly template: Int32Array;
  /** 2, or 3 in counting mode (see {@link Layout.Shift}). */
  readonly shift: number;
}

/** The slot of the instruction at position `pc` of machine array `M`. */
export function slotAt(M: Int32Array, pc: number): number {
  return (pc - Layout.CodeBase) >> M[Layout.Shift];
}

/** Packs word 0 of a slot. */
function word(op: Op, a = 0, b = 0): number {
  return op | (a << 8) | (b << 16);
}

/**
 * Pre-decodes `program` into a machine array. With `counting`, every instruction sits at `8*slot + 4` behind a
 * `Count` at `8*slot`, and jumps target the `Count`.
 *
 * @throws InvalidProgramError (`bad_lddw_src`) for an `lddw` whose src is not `imm64` (RFC 9669 section 5.4: map
 *   and variable references are for a loader to resolve first).
 */
export function buildMachine(program: Program, counting: boolean): Machine {
  if (Layout.Frames + MAX_CALL_DEPTH * Layout.FrameWords > Layout.CodeBase || Layout.CodeBase % Layout.Stride !== 0) {
    throw new InternalError('machine layout: frames overlap the code, or the code is misaligned');
  }
  const n = program.slotCount;
  const limit = counting ? MAX_SLOTS / 2 : MAX_SLOTS;
  if (n > limit) {
    throw new InvalidProgramError('too_large', `program has ${n} instructions, more than the interpreter's limit of ${limit}${counting ? ' in counting mode' : ''}`);
  }
  const M = new Int32Array(Layout.CodeBase + (counting ? n * 8 + Layout.Stride : (n + 1) * Layout.Stride));
  const at = (slot: number): number => Layout.CodeBase + (counting ? slot * 8 + 4 : slot * Layout.Stride);
  const entry = (slot: number): number => Layout.CodeBase + (counting ? slot * 8 : slot * Layout.Stride);
  const put = (slot: number, w: number, x = 0, y = 0, z = 0): void => {
    const p = at(slot);
    M[p] = w;
    M[p + 1] = x;
    M[p + 2] = y;
    M[p + 3] = z;
    if (counting) M[p - 4] = Op.Count;
  };
  let last = 0;
  for (const insn of program.insns) {
    const pc = insn.pc;
    last = pc;
    switch (insn.kind) {
      case 'alu': {
        const op = (ALU_BASE[insn.op] + variant(insn.width, insn.src.kind)) as Op;
        if (insn.src.kind === 'imm') put(pc, word(op, insn.dst * 2), insn.src.imm | 0);
        else put(pc, word(op, insn.dst * 2, insn.src.reg * 2));
        break;
      }
      case 'neg':
        put(pc, word(insn.width === 64 ? Op.Neg64 : Op.Neg32, insn.dst * 2));
        break;
      case 'movsx': {
        const op = insn.width === 64
          ? (insn.bits === 8 ? Op.Movsx64s8 : insn.bits === 16 ? Op.Movsx64s16 : Op.Movsx64s32)
          : insn.bits === 8 ? Op.Movsx32s8 : insn.bits === 16 ? Op.Movsx32s16 : undefined;
        if (op === undefined) throw new InternalError(`movsx${insn.bits}32 does not exist`, pc);
        put(pc, word(op, insn.dst * 2, insn.src * 2));
        break;
      }
      case 'endian': {
        // On a little-endian host `le` only truncates; `be` and `swap` both reverse the bytes.
        const op = insn.order === 'le'
          ? (insn.bits === 16 ? Op.Zext16 : insn.bits === 32 ? Op.Zext32 : Op.Nop)
          : insn.bits === 16 ? Op.Bswap16 : insn.bits === 32 ? Op.Bswap32 : Op.Bswap64;
        put(pc, word(op, insn.dst * 2));
        break;
      }
      case 'lddw':
        if (insn.src !== 'imm64') {
          throw new InvalidProgramError('bad_lddw_src', `lddw ${insn.src} must be resolved by a loader first; only lddw imm64 can run`, pc);
        }
        put(pc, word(Op.Lddw, insn.dst * 2), loHalf(insn.value), hiHalf(insn.value), entry(pc + 2));
        break;
      case 'load': {
        const op = insn.signed
          ? (insn.size === 1 ? Op.Ldxsb : insn.size === 2 ? Op.Ldxsh : insn.size === 4 ? Op.Ldxsw : undefined)
          : insn.size === 1 ? Op.Ldxb : insn.size === 2 ? Op.Ldxh : insn.size === 4 ? Op.Ldxw : Op.Ldxdw;
        if (op === undefined) throw new InternalError('ldxsdw does not exist', pc);
        put(pc, word(op, insn.dst * 2, insn.base * 2), insn.off);
        break;
      }
      case 'store': {
        const s = insn.size;
        if (insn.value.kind === 'imm') {
          put(pc, word(s === 1 ? Op.Stb : s === 2 ? Op.Sth : s === 4 ? Op.Stw : Op.Stdw, insn.base * 2), insn.off, insn.value.imm | 0);
        } else {
          put(pc, word(s === 1 ? Op.Stxb : s === 2 ? Op.Stxh : s === 4 ? Op.Stxw : Op.Stxdw, insn.base * 2, insn.value.reg * 2), insn.off);
        }
        break;
      }
      case 'atomic':
        put(pc, word(insn.size === 4 ? Op.Atomic32 : Op.Atomic64, insn.base * 2, insn.src * 2), insn.off,
          ATOMIC_OPS.indexOf(insn.op) | ((insn.fetch ? 1 : 0) << 4));
        break;
      case 'ldpkt':
        put(pc, word(Op.LdPkt, insn.index === null ? 0xff : insn.index * 2), insn.imm | 0, insn.size);
        break;
      case 'ja':
        put(pc, word(Op.Ja), 0, 0, entry(insn.target));
        break;
      case 'jcond': {
        const op = (JMP_BASE[insn.cond.op] + variant(insn.cond.width, insn.src.kind)) as Op;
        if (insn.src.kind === 'imm') put(pc, word(op, insn.dst * 2), insn.src.imm | 0, 0, entry(insn.target));
        else put(pc, word(op, insn.dst * 2, insn.src.reg * 2), 0, 0, entry(insn.target));
        break;
      }
      case 'call':
        switch (insn.target.kind) {
          case 'helper': put(pc, word(Op.CallHelper), insn.target.id); break;
          case 'local': put(pc, word(Op.CallLocal), 0, 0, entry(insn.target.pc)); break;
          case 'btf': put(pc, word(Op.CallBtf), insn.target.id); break;
          default: assertNever(insn.target, 'call target');
        }
        break;
      case 'callx':
        put(pc, word(Op.Callx, insn.reg * 2));
        break;
      case 'exit':
        put(pc, word(Op.Exit));
        break;
      default:
        assertNever(insn, 'instruction');
    }
  }
  const end = Layout.CodeBase + (counting ? n * 8 : n * Layout.Stride);
  M[end] = Op.End;
  M[end + 1] = last;
  // Counting mode executes one `Count` per instruction, so it does not fuse.
  if (!counting) fuse(program, M, at);
  M[Layout.Shift] = counting ? 3 : 2;
  return { template: M, shift: M[Layout.Shift] };
}

/**
 * Truth table of an ordered 64-bit jump condition over the index `eq | ltu << 1 | lts << 2` (dst == src,
 * dst < src unsigned, dst < src signed): bit `i` of the mask is the condition's value.
 */
function condMask(op: JmpOp): number {
  let mask = 0;
  for (let i = 0; i < 8; i++) {
    const eq = (i & 1) !== 0;
    const ltu = (i & 2) !== 0;
    const lts = (i & 4) !== 0;
    let v: boolean;
    switch (op) {
      case 'eq': v = eq; break;
      case 'ne': v = !eq; break;
      case 'lt': v = ltu; break;
      case 'le': v = ltu || eq; break;
      case 'gt': v = !ltu && !eq; break;
      case 'ge': v = !ltu; break;
      case 'slt': v = lts; break;
      case 'sle': v = lts || eq; break;
      case 'sgt': v = !lts && !eq; break;
      case 'sge': v = !lts; break;
      case 'set': throw new InternalError('jset is not an ordered condition');
      default: return assertNever(op, 'jump condition');
    }
    if (v) mask |= 1 << i;
  }
  return mask;
}

/**
 * Rewrites `add64/sub64 dst, imm` followed by a 64-bit conditional jump (not `jset`) into {@link Op.AddJcc64}:
 * word 0 = op | dst*2 << 8 | condition mask << 16 | (jump has a register operand) << 24, words 1-2 = the 64-bit
 * value added (a `sub` adds the negated immediate). The jump keeps its own slot: the fused op reads its
 * operands there, and a jump straight to it still executes it alone. A taken fused jump is reported from the
 * jump's own position, so budget accounting and fault pcs are exactly those of the two instructions.
 */
function fuse(program: Program, M: Int32Array, at: (slot: number) => number): void {
  const insns = program.insns;
  for (let i = 0; i + 1 < insns.length; i++) {
    const a = insns[i];
    const j = insns[i + 1];
    if (a.kind !== 'alu' || a.width !== 64 || a.src.kind !== 'imm' || (a.op !== 'add' && a.op !== 'sub')) continue;
    if (j.kind !== 'jcond' || j.cond.width !== 64 || j.cond.op === 'set') continue;
    const v = BigInt.asUintN(64, a.op === 'add' ? BigInt(a.src.imm) : -BigInt(a.src.imm));
    const p = at(a.pc);
    M[p] = word(Op.AddJcc64, a.dst * 2, condMask(j.cond.op)) | ((j.src.kind === 'reg' ? 1 : 0) << 24);
    M[p + 1] = loHalf(v);
    M[p + 2] = hiHalf(v);
  }
}
