/**
 * The reference interpreter: runs a {@link Program} against an {@link ExecRequest} with RFC 9669 semantics,
 * every memory access checked. It is both the oracle the JIT is tested against and the baseline it is measured
 * against, so it has to be exact *and* as fast as an honest interpreter can be.
 *
 * How it is fast:
 * - The program is pre-decoded once (constructor) into an `Int32Array`, four words a slot:
 *
 *       code[p]    code[p+1]   code[p+2]          code[p+3]
 *       op         A           B                  C
 *       Add64K     dst*2       imm                imm >> 31   (the sign-extended high half)
 *       Add64X     dst*2       src*2              -
 *       Ldxw       dst*2       base*2             off
 *       Stw / Stxw base*2      imm / src*2        off
 *       Jeq64K     dst*2       imm                target position
 *
 *   `op` is specialized by operation, width and operand kind (`Add64K`, `Jsgt32X`, ...), so the hot loop is one
 *   `switch` over small dense integers (a jump table in V8's optimizing tier: the cases are literals because
 *   {@link Op} is a `const enum`).
 * - Registers are 32-bit halves in an `Int32Array` (r`n` low half at `2n`, high half at `2n+1`): no bigint and
 *   no heap numbers on any common path. 64-bit multiply uses `Math.imul` plus one exact float product
 *   ({@link mulhu32}); only 64-bit division with operands beyond 32 bits falls back to bigint.
 * - Memory checks compare against the bounds of the last region that satisfied a load (and, separately, a store)
 *   held in locals; a miss goes to {@link Interpreter.resolve}, which searches every region, refreshes the cache
 *   or raises the fault. A check is therefore exact (the whole access must lie in one region) yet costs two
 *   compares in a loop that stays within one buffer.
 * - The budget is an int32 counter decremented only on taken backward jumps and local calls.
 *
 * Counting mode ({@link Interpreter.runCounting}) runs a second pre-decoded array in which every instruction is
 * preceded by a `Count` pseudo-op (jumps target the `Count`), so executed instructions are counted exactly while
 * the normal loop carries no counter at all. The same loop runs both arrays; only the slot arithmetic of fault
 * reports differs (`pos >> shift`).
 *
 * Conventions both engines follow (src/exec.ts has the contract):
 * - r1-r5 are left as they were after a helper call; r6-r10 are restored after a local call returns (r10 too,
 *   since each function has its own frame pointer).
 * - A local call at depth 8 faults `call_depth`; a call that faults does not consume budget (depth is checked
 *   first).
 * - An atomic access is checked against the regions (as a store: it needs a writable region) before its
 *   alignment (`misaligned_atomic`).
 * - `call btf N` (kernel functions) is not supported: executing one faults `unknown_helper`.
 * - Falling off the end reports the pc of the last instruction.
 * - LD_IND's offset is `(u32)index + imm` in 32-bit arithmetic, read as a signed 32-bit value (as Linux did);
 *   a negative offset or any byte past the packet ends the program with r0 = 0.
 *
 * Not here: the value-level definitions as bigint (semantics.ts), memory layout and helper implementations
 * (runtime/), verification (a verified program would let us drop checks; this engine checks everything).
 */

import { ExecutionError, InternalError, InvalidProgramError, assertNever } from '../errors.js';
import {
  MAX_CALL_DEPTH, STACK_SIZE, UnwindSignal, frameTop,
  type ExecRequest, type Executable, type HelperFn, type Region,
} from '../exec.js';
import type { AluOp, AtomicOp, JmpOp } from '../isa/insn.js';
import type { Program } from '../isa/program.js';
import { alu64, fromHalves, hiHalf, loHalf, mulhu32 } from './semantics.js';

/**
 * Specialized operations of the pre-decoded program. A `const enum`, so that tsc (and esbuild, within this
 * file) inline the values and every `case` is a literal: V8 compiles a switch over literal small integers to a
 * jump table, and a switch over identifiers to a chain of compares.
 *
 * ALU and jump rows come in groups of four: 64-bit K, 64-bit X, 32-bit K, 32-bit X (see {@link variant}).
 */
const enum Op {
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
  Atomic32, Atomic64,
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
  CallHelper, CallLocal, CallBtf, Callx, Exit,
  /** Counting mode only: counts the instruction that follows. */
  Count,
  /** Sentinel after the last slot: the program fell off its end. C = slot of the last instruction. */
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

/** Atomic sub-operations, packed into B as `src*2 | aop << 8 | fetch << 12`. */
const AOP: Readonly<Record<AtomicOp, number>> = { add: 0, or: 1, and: 2, xor: 3, xchg: 4, cmpxchg: 5 };
const AOP_NAME: readonly AtomicOp[] = ['add', 'or', 'and', 'xor', 'xchg', 'cmpxchg'];

/** Words per slot in the pre-decoded program. */
const STRIDE = 4;
/** Words per saved frame: return position, then r6..r10 as halves. */
const FRAME_WORDS = 11;
/** Index of r6's low half in the register file; r6..r10 are the ten words from here. */
const R6 = 12;
/** Budget refill unit: keeps the counter a small integer even for huge or unlimited budgets. */
const CHUNK = 0x3fff_ffff;

/** Kinds of memory access, for checks and messages. */
const enum Access { Load, Store, Atomic }

/** The pre-decoded program: `code` plus how positions map back to slots. */
interface Code {
  readonly code: Int32Array;
  /** `slot = position >> shift` for any position of an instruction. */
  readonly shift: number;
}

/**
 * Pre-decodes `program` (see the file header for the layout). With `counting`, every instruction sits at
 * `8*slot + 4` behind a `Count` at `8*slot`, and jumps target the `Count`.
 */
function buildCode(program: Program, counting: boolean): Code {
  const n = program.slotCount;
  const code = new Int32Array(counting ? n * 8 + STRIDE : (n + 1) * STRIDE);
  const at = (slot: number): number => (counting ? slot * 8 + 4 : slot * STRIDE);
  const entry = (slot: number): number => (counting ? slot * 8 : slot * STRIDE);
  const put = (slot: number, op: Op, a = 0, b = 0, c = 0): void => {
    const p = at(slot);
    code[p] = op;
    code[p + 1] = a;
    code[p + 2] = b;
    code[p + 3] = c;
    if (counting) code[p - 4] = Op.Count;
  };
  let last = 0;
  for (const insn of program.insns) {
    const pc = insn.pc;
    last = pc;
    switch (insn.kind) {
      case 'alu': {
        const op = (ALU_BASE[insn.op] + variant(insn.width, insn.src.kind)) as Op;
        if (insn.src.kind === 'imm') put(pc, op, insn.dst * 2, insn.src.imm | 0, insn.src.imm >> 31);
        else put(pc, op, insn.dst * 2, insn.src.reg * 2);
        break;
      }
      case 'neg':
        put(pc, insn.width === 64 ? Op.Neg64 : Op.Neg32, insn.dst * 2);
        break;
      case 'movsx': {
        const op = insn.width === 64
          ? (insn.bits === 8 ? Op.Movsx64s8 : insn.bits === 16 ? Op.Movsx64s16 : Op.Movsx64s32)
          : insn.bits === 8 ? Op.Movsx32s8 : insn.bits === 16 ? Op.Movsx32s16 : undefined;
        if (op === undefined) throw new InternalError(`movsx${insn.bits}32 does not exist`, pc);
        put(pc, op, insn.dst * 2, insn.src * 2);
        break;
      }
      case 'endian': {
        // On a little-endian host `le` only truncates; `be` and `swap` both reverse the bytes.
        const op = insn.order === 'le'
          ? (insn.bits === 16 ? Op.Zext16 : insn.bits === 32 ? Op.Zext32 : Op.Nop)
          : insn.bits === 16 ? Op.Bswap16 : insn.bits === 32 ? Op.Bswap32 : Op.Bswap64;
        put(pc, op, insn.dst * 2);
        break;
      }
      case 'lddw':
        if (insn.src !== 'imm64') {
          throw new InvalidProgramError('bad_lddw_src', `lddw ${insn.src} needs the loader to resolve it; only lddw imm64 can run`, pc);
        }
        put(pc, Op.Lddw, insn.dst * 2, loHalf(insn.value), hiHalf(insn.value));
        // The word after the slot (the lddw's unused second slot, or in counting mode the Count of that slot,
        // which no jump can target) holds where execution continues.
        code[at(pc) + STRIDE] = entry(pc + 2);
        break;
      case 'load': {
        const op = insn.signed
          ? (insn.size === 1 ? Op.Ldxsb : insn.size === 2 ? Op.Ldxsh : insn.size === 4 ? Op.Ldxsw : undefined)
          : insn.size === 1 ? Op.Ldxb : insn.size === 2 ? Op.Ldxh : insn.size === 4 ? Op.Ldxw : Op.Ldxdw;
        if (op === undefined) throw new InternalError('ldxsdw does not exist', pc);
        put(pc, op, insn.dst * 2, insn.base * 2, insn.off);
        break;
      }
      case 'store': {
        const s = insn.size;
        if (insn.value.kind === 'imm') {
          put(pc, s === 1 ? Op.Stb : s === 2 ? Op.Sth : s === 4 ? Op.Stw : Op.Stdw, insn.base * 2, insn.value.imm | 0, insn.off);
        } else {
          put(pc, s === 1 ? Op.Stxb : s === 2 ? Op.Stxh : s === 4 ? Op.Stxw : Op.Stxdw, insn.base * 2, insn.value.reg * 2, insn.off);
        }
        break;
      }
      case 'atomic':
        put(pc, insn.size === 4 ? Op.Atomic32 : Op.Atomic64, insn.base * 2,
          insn.src * 2 | (AOP[insn.op] << 8) | ((insn.fetch ? 1 : 0) << 12), insn.off);
        break;
      case 'ldpkt':
        put(pc, Op.LdPkt, insn.index === null ? -1 : insn.index * 2, insn.imm | 0, insn.size);
        break;
      case 'ja':
        put(pc, Op.Ja, 0, 0, entry(insn.target));
        break;
      case 'jcond': {
        const op = (JMP_BASE[insn.cond.op] + variant(insn.cond.width, insn.src.kind)) as Op;
        put(pc, op, insn.dst * 2, insn.src.kind === 'imm' ? insn.src.imm | 0 : insn.src.reg * 2, entry(insn.target));
        break;
      }
      case 'call':
        switch (insn.target.kind) {
          case 'helper': put(pc, Op.CallHelper, insn.target.id); break;
          case 'local': put(pc, Op.CallLocal, 0, 0, entry(insn.target.pc)); break;
          case 'btf': put(pc, Op.CallBtf, insn.target.id); break;
          default: assertNever(insn.target, 'call target');
        }
        break;
      case 'callx':
        put(pc, Op.Callx, insn.reg * 2);
        break;
      case 'exit':
        put(pc, Op.Exit);
        break;
      default:
        assertNever(insn, 'instruction');
    }
  }
  const end = counting ? n * 8 : n * STRIDE;
  code[end] = Op.End;
  code[end + 3] = last;
  return { code, shift: counting ? 3 : 2 };
}

const hex = (n: number | bigint): string => '0x' + n.toString(16);

/** Describes a value that may not be a bigint, for messages about misbehaving helpers. */
function describe(x: unknown): string {
  if (x instanceof Error) return x.message;
  return typeof x === 'bigint' ? `${x}n` : `${typeof x} ${String(x)}`;
}

/** The register file and frame stack of one run (reused across runs that do not nest). */
interface RunState {
  readonly regs: Int32Array;
  readonly frames: Int32Array;
}

function newState(): RunState {
  return { regs: new Int32Array(22), frames: new Int32Array(MAX_CALL_DEPTH * FRAME_WORDS) };
}

// ---------------------------------------------------------------------------------------------------------------
// 64-bit operations on register halves, small enough for V8 to inline into the loop.
// `R` is the register file, `d` the index of dst's low half, (bl, bh) the second operand's halves.

/** dst = dst * b (mod 2^64): low*low's high half via {@link mulhu32}, plus the two cross products' low halves. */
function mul64(R: Int32Array, d: number, bl: number, bh: number): void {
  const al = R[d];
  R[d + 1] = (mulhu32(al, bl) + Math.imul(al, bh) + Math.imul(R[d + 1], bl)) | 0;
  R[d] = Math.imul(al, bl);
}

/** dst <<= n (n already masked to 0..63). JS masks its own shift counts to 5 bits, hence the three cases. */
function lsh64(R: Int32Array, d: number, n: number): void {
  if (n === 0) return;
  if (n < 32) {
    R[d + 1] = (R[d + 1] << n) | (R[d] >>> (32 - n));
    R[d] = R[d] << n;
  } else {
    R[d + 1] = R[d] << (n - 32);
    R[d] = 0;
  }
}

/** dst >>= n, logical. */
function rsh64(R: Int32Array, d: number, n: number): void {
  if (n === 0) return;
  if (n < 32) {
    R[d] = (R[d] >>> n) | (R[d + 1] << (32 - n));
    R[d + 1] = R[d + 1] >>> n;
  } else {
    R[d] = R[d + 1] >>> (n - 32);
    R[d + 1] = 0;
  }
}

/** dst >>= n, arithmetic. */
function arsh64(R: Int32Array, d: number, n: number): void {
  if (n === 0) return;
  if (n < 32) {
    R[d] = (R[d] >>> n) | (R[d + 1] << (32 - n));
    R[d + 1] = R[d + 1] >> n;
  } else {
    R[d] = R[d + 1] >> (n - 32);
    R[d + 1] = R[d + 1] >> 31;
  }
}

/**
 * 64-bit div/mod/sdiv/smod. Fast when both operands fit 32 bits (unsigned ops) or are sign-extended 32-bit
 * values (signed ops): a double quotient of two integers below 2^53 truncates exactly. Otherwise bigint.
 */
function divmod64(R: Int32Array, d: number, bl: number, bh: number, op: AluOp): void {
  const al = R[d];
  const ah = R[d + 1];
  if (op === 'div' || op === 'mod') {
    if (ah === 0 && bh === 0) {
      const a = al >>> 0;
      const b = bl >>> 0;
      if (op === 'div') R[d] = b === 0 ? 0 : Math.floor(a / b);
      else if (b !== 0) R[d] = a % b;
      return;
    }
  } else if (ah === al >> 31 && bh === bl >> 31) {
    // Both are int32 values. INT32_MIN / -1 = 2^31 is not an overflow in 64 bits: the halves come out right.
    if (bl === 0) {
      if (op === 'sdiv') R[d] = R[d + 1] = 0;
      return;
    }
    const r = op === 'sdiv' ? Math.trunc(al / bl) : al % bl;
    R[d] = r;
    R[d + 1] = r < 0 ? -1 : 0;
    return;
  }
  const v = alu64(op, fromHalves(al, ah), fromHalves(bl, bh));
  R[d] = loHalf(v);
  R[d + 1] = hiHalf(v);
}

/** 32-bit div/mod/sdiv/smod on the low halves; the result is zero-extended. */
function divmod32(R: Int32Array, d: number, b: number, op: AluOp): void {
  const a = R[d];
  if (op === 'div') R[d] = b === 0 ? 0 : Math.floor((a >>> 0) / (b >>> 0));
  else if (op === 'mod') R[d] = b === 0 ? a : (a >>> 0) % (b >>> 0);
  // (INT32_MIN / -1) | 0 wraps to INT32_MIN and INT32_MIN % -1 is -0, stored as 0: RFC 9669's results.
  else if (op === 'sdiv') R[d] = b === 0 ? 0 : (a / b) | 0;
  else R[d] = b === 0 ? a : a % b;
  R[d + 1] = 0;
}

/** Unsigned 64-bit `a < b` on halves. */
function ltu64(al: number, ah: number, bl: number, bh: number): boolean {
  return ah !== bh ? (ah >>> 0) < (bh >>> 0) : (al >>> 0) < (bl >>> 0);
}

/** Signed 64-bit `a < b` on halves: the high halves compare signed, the low halves unsigned. */
function lts64(al: number, ah: number, bl: number, bh: number): boolean {
  return ah !== bh ? ah < bh : (al >>> 0) < (bl >>> 0);
}

/** Reverses the bytes of a 32-bit value. */
function bswap32(x: number): number {
  return ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
}

/**
 * Atomic read-modify-write at `a` (checked, aligned) per RFC 9669 section 5.3. `b` packs src, the operation and
 * the fetch flag (see {@link AOP}). 32-bit forms zero-extend the fetched value; cmpxchg compares with r0 at the
 * access size and always loads the old value into r0.
 */
function atomicRmw(R: Int32Array, dv: DataView, a: number, size: 4 | 8, b: number): void {
  const s = b & 0xff;
  const aop = (b >> 8) & 0xf;
  const fetch = (b >> 12) & 1;
  const sl = R[s];
  if (size === 4) {
    const old = dv.getInt32(a, true);
    let v: number;
    switch (aop) {
      case 0: v = (old + sl) | 0; break;
      case 1: v = old | sl; break;
      case 2: v = old & sl; break;
      case 3: v = old ^ sl; break;
      case 4: v = sl; break;
      default: v = old === R[0] ? sl : old; break;
    }
    dv.setInt32(a, v, true);
    if (aop === 5) {
      R[0] = old;
      R[1] = 0;
    } else if (fetch) {
      R[s] = old;
      R[s + 1] = 0;
    }
    return;
  }
  const sh = R[s + 1];
  const ol = dv.getInt32(a, true);
  const oh = dv.getInt32(a + 4, true);
  let vl: number;
  let vh: number;
  switch (aop) {
    case 0: {
      vl = (ol + sl) | 0;
      vh = (oh + sh + ((vl >>> 0) < (ol >>> 0) ? 1 : 0)) | 0;
      break;
    }
    case 1: vl = ol | sl; vh = oh | sh; break;
    case 2: vl = ol & sl; vh = oh & sh; break;
    case 3: vl = ol ^ sl; vh = oh ^ sh; break;
    case 4: vl = sl; vh = sh; break;
    default: {
      const eq = ol === R[0] && oh === R[1];
      vl = eq ? sl : ol;
      vh = eq ? sh : oh;
      break;
    }
  }
  dv.setInt32(a, vl, true);
  dv.setInt32(a + 4, vh, true);
  if (aop === 5) {
    R[0] = ol;
    R[1] = oh;
  } else if (fetch) {
    R[s] = ol;
    R[s + 1] = oh;
  }
}

/**
 * The fast interpreter. Construct once per program (pre-decodes), run many times; runs may nest (a helper may
 * run another program, or this one).
 */
export class Interpreter implements Executable {
  readonly program: Program;
  private readonly main: Code;
  private counting: Code | undefined;
  private spare: RunState | undefined = newState();
  /** Bounds of the region the last {@link resolve} found (read right after it returns). */
  private hitLo = 0;
  private hitHi = 0;
  /** Instructions executed by the current counting run. */
  private steps = 0;

  /**
   * Pre-decodes `program`.
   *
   * @throws InvalidProgramError (`bad_lddw_src`) for an `lddw` whose src is not `imm64` (RFC 9669 section 5.4:
   *   map and variable references must be resolved by a loader first).
   */
  constructor(program: Program) {
    this.program = program;
    this.main = buildCode(program, false);
  }

  /** Runs the program once (see {@link Executable.run}); returns r0 as u64. */
  run(req: ExecRequest): bigint {
    return this.start(req, this.main);
  }

  /**
   * Runs the program once in counting mode and returns r0 with the number of instructions executed (an `lddw`
   * counts once). Same semantics as {@link run}, slower; meant for benchmarks and tooling, not the hot path.
   */
  runCounting(req: ExecRequest): { r0: bigint; steps: number } {
    this.counting ??= buildCode(this.program, true);
    const outer = this.steps;
    this.steps = 0;
    try {
      const r0 = this.start(req, this.counting);
      return { r0, steps: this.steps };
    } finally {
      this.steps = outer;
    }
  }

  /** Validates the request, sets up the register file and runs the loop. */
  private start(req: ExecRequest, code: Code): bigint {
    const size = req.memory.buffer.byteLength;
    const inMemory = (start: number, end: number): boolean =>
      Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= size;
    // The fast paths index the memory with any address inside the stack or a region: those must be real memory,
    // or a view would throw a RangeError mid-run. Memory only grows, so checking once per run suffices.
    if (!inMemory(req.stackBase, req.stackBase + STACK_SIZE)) {
      throw new InternalError(`invalid request: stack at ${req.stackBase} is outside the ${size}-byte memory`);
    }
    for (const r of req.regions) {
      if (!inMemory(r.start, r.end)) throw new InternalError(`invalid request: region ${r.name} [${r.start}, ${r.end}) is outside the ${size}-byte memory`);
    }
    if (req.packet && !inMemory(req.packet.start, req.packet.start + req.packet.length)) {
      throw new InternalError(`invalid request: packet at ${req.packet.start} (+${req.packet.length}) is outside the ${size}-byte memory`);
    }
    const budget = req.budget;
    if (budget !== undefined && !(Number.isSafeInteger(budget) && budget >= 0)) {
      throw new InternalError(`invalid request: budget ${budget} is not a non-negative integer`);
    }

    const state = this.spare ?? newState();
    this.spare = undefined;
    try {
      const R = state.regs;
      R.fill(0);
      for (let i = 0; i < 5 && i < req.args.length; i++) {
        const v = BigInt.asUintN(64, req.args[i]);
        R[2 + 2 * i] = loHalf(v);
        R[3 + 2 * i] = hiHalf(v);
      }
      R[20] = frameTop(req.stackBase, 0);
      return this.loop(req, code.code, code.shift, R, state.frames);
    } finally {
      this.spare = state;
    }
  }

  /**
   * The interpreter loop. `pc` is a position in `code` (a multiple of 4); `pc >> shift` is the slot, used only
   * when reporting a fault. Jump cases `break` out of the switch when taken, to the shared back-edge code below
   * it; every other case `continue`s.
   */
  private loop(req: ExecRequest, code: Int32Array, shift: number, R: Int32Array, F: Int32Array): bigint {
    const memory = req.memory;
    const helpers = req.helpers;
    const stackBase = req.stackBase;
    let buf = memory.buffer;
    let u8 = new Uint8Array(buf);
    let dv = new DataView(buf);
    // Last region a load / a store hit; both start as the stack.
    let rdLo = stackBase;
    let rdHi = stackBase + STACK_SIZE;
    let wrLo = rdLo;
    let wrHi = rdHi;
    const budget = req.budget;
    let left = budget === undefined ? CHUNK : Math.min(budget, CHUNK);
    let reserve = budget === undefined ? Infinity : budget - left;
    let depth = 0;
    let pc = 0;

    for (;;) {
      switch (code[pc]) {
        // ---- ALU (RFC 9669 section 4.1). K forms: B = imm, C = imm's sign (64-bit high half).
        case Op.Add64K: {
          const d = code[pc + 1], al = R[d], lo = (al + code[pc + 2]) | 0;
          R[d] = lo;
          R[d + 1] = (R[d + 1] + code[pc + 3] + ((lo >>> 0) < (al >>> 0) ? 1 : 0)) | 0;
          pc += 4; continue;
        }
        case Op.Add64X: {
          const d = code[pc + 1], s = code[pc + 2], al = R[d], lo = (al + R[s]) | 0;
          R[d] = lo;
          R[d + 1] = (R[d + 1] + R[s + 1] + ((lo >>> 0) < (al >>> 0) ? 1 : 0)) | 0;
          pc += 4; continue;
        }
        case Op.Add32K: R[code[pc + 1]] = (R[code[pc + 1]] + code[pc + 2]) | 0; R[code[pc + 1] + 1] = 0; pc += 4; continue;
        case Op.Add32X: R[code[pc + 1]] = (R[code[pc + 1]] + R[code[pc + 2]]) | 0; R[code[pc + 1] + 1] = 0; pc += 4; continue;
        case Op.Sub64K: case Op.Sub64X: {
          const d = code[pc + 1];
          let bl: number, bh: number;
          if (code[pc] === Op.Sub64K) { bl = code[pc + 2]; bh = code[pc + 3]; } else { const s = code[pc + 2]; bl = R[s]; bh = R[s + 1]; }
          const al = R[d];
          R[d] = (al - bl) | 0;
          R[d + 1] = (R[d + 1] - bh - ((al >>> 0) < (bl >>> 0) ? 1 : 0)) | 0;
          pc += 4; continue;
        }
        case Op.Sub32K: R[code[pc + 1]] = (R[code[pc + 1]] - code[pc + 2]) | 0; R[code[pc + 1] + 1] = 0; pc += 4; continue;
        case Op.Sub32X: R[code[pc + 1]] = (R[code[pc + 1]] - R[code[pc + 2]]) | 0; R[code[pc + 1] + 1] = 0; pc += 4; continue;
        case Op.Mul64K: mul64(R, code[pc + 1], code[pc + 2], code[pc + 3]); pc += 4; continue;
        case Op.Mul64X: { const s = code[pc + 2]; mul64(R, code[pc + 1], R[s], R[s + 1]); pc += 4; continue; }
        case Op.Mul32K: R[code[pc + 1]] = Math.imul(R[code[pc + 1]], code[pc + 2]); R[code[pc + 1] + 1] = 0; pc += 4; continue;
        case Op.Mul32X: R[code[pc + 1]] = Math.imul(R[code[pc + 1]], R[code[pc + 2]]); R[code[pc + 1] + 1] = 0; pc += 4; continue;
        case Op.Div64K: divmod64(R, code[pc + 1], code[pc + 2], code[pc + 3], 'div'); pc += 4; continue;
        case Op.Div64X: { const s = code[pc + 2]; divmod64(R, code[pc + 1], R[s], R[s + 1], 'div'); pc += 4; continue; }
        case Op.Div32K: divmod32(R, code[pc + 1], code[pc + 2], 'div'); pc += 4; continue;
        case Op.Div32X: divmod32(R, code[pc + 1], R[code[pc + 2]], 'div'); pc += 4; continue;
        case Op.Sdiv64K: divmod64(R, code[pc + 1], code[pc + 2], code[pc + 3], 'sdiv'); pc += 4; continue;
        case Op.Sdiv64X: { const s = code[pc + 2]; divmod64(R, code[pc + 1], R[s], R[s + 1], 'sdiv'); pc += 4; continue; }
        case Op.Sdiv32K: divmod32(R, code[pc + 1], code[pc + 2], 'sdiv'); pc += 4; continue;
        case Op.Sdiv32X: divmod32(R, code[pc + 1], R[code[pc + 2]], 'sdiv'); pc += 4; continue;
        case Op.Mod64K: divmod64(R, code[pc + 1], code[pc + 2], code[pc + 3], 'mod'); pc += 4; continue;
        case Op.Mod64X: { const s = code[pc + 2]; divmod64(R, code[pc + 1], R[s], R[s + 1], 'mod'); pc += 4; continue; }
        case Op.Mod32K: divmod32(R, code[pc + 1], code[pc + 2], 'mod'); pc += 4; continue;
        case Op.Mod32X: divmod32(R, code[pc + 1], R[code[pc + 2]], 'mod'); pc += 4; continue;
        case Op.Smod64K: divmod64(R, code[pc + 1], code[pc + 2], code[pc + 3], 'smod'); pc += 4; continue;
        case Op.Smod64X: { const s = code[pc + 2]; divmod64(R, code[pc + 1], R[s], R[s + 1], 'smod'); pc += 4; continue; }
        case Op.Smod32K: divmod32(R, code[pc + 1], code[pc + 2], 'smod'); pc += 4; continue;
        case Op.Smod32X: divmod32(R, code[pc + 1], R[code[pc + 2]], 'smod'); pc += 4; continue;
        case Op.Or64K: { const d = code[pc + 1]; R[d] |= code[pc + 2]; R[d + 1] |= code[pc + 3]; pc += 4; continue; }
        case Op.Or64X: { const d = code[pc + 1], s = code[pc + 2]; R[d] |= R[s]; R[d + 1] |= R[s + 1]; pc += 4; continue; }
        case Op.Or32K: R[code[pc + 1]] |= code[pc + 2]; R[code[pc + 1] + 1] = 0; pc += 4; continue;
        case Op.Or32X: R[code[pc + 1]] |= R[code[pc + 2]]; R[code[pc + 1] + 1] = 0; pc += 4; continue;
        case Op.And64K: { const d = code[pc + 1]; R[d] &= code[pc + 2]; R[d + 1] &= code[pc + 3]; pc += 4; continue; }
        case Op.And64X: { const d = code[pc + 1], s = code[pc + 2]; R[d] &= R[s]; R[d + 1] &= R[s + 1]; pc += 4; continue; }
        case Op.And32K: R[code[pc + 1]] &= code[pc + 2]; R[code[pc + 1] + 1] = 0; pc += 4; continue;
        case Op.And32X: R[code[pc + 1]] &= R[code[pc + 2]]; R[code[pc + 1] + 1] = 0; pc += 4; continue;
        case Op.Xor64K: { const d = code[pc + 1]; R[d] ^= code[pc + 2]; R[d + 1] ^= code[pc + 3]; pc += 4; continue; }
        case Op.Xor64X: { const d = code[pc + 1], s = code[pc + 2]; R[d] ^= R[s]; R[d + 1] ^= R[s + 1]; pc += 4; continue; }
        case Op.Xor32K: R[code[pc + 1]] ^= code[pc + 2]; R[code[pc + 1] + 1] = 0; pc += 4; continue;
        case Op.Xor32X: R[code[pc + 1]] ^= R[code[pc + 2]]; R[code[pc + 1] + 1] = 0; pc += 4; continue;
        case Op.Mov64K: { const d = code[pc + 1]; R[d] = code[pc + 2]; R[d + 1] = code[pc + 3]; pc += 4; continue; }
        case Op.Mov64X: { const d = code[pc + 1], s = code[pc + 2]; R[d] = R[s]; R[d + 1] = R[s + 1]; pc += 4; continue; }
        case Op.Mov32K: R[code[pc + 1]] = code[pc + 2]; R[code[pc + 1] + 1] = 0; pc += 4; continue;
        case Op.Mov32X: R[code[pc + 1]] = R[code[pc + 2]]; R[code[pc + 1] + 1] = 0; pc += 4; continue;
        case Op.Lsh64K: lsh64(R, code[pc + 1], code[pc + 2] & 63); pc += 4; continue;
        case Op.Lsh64X: lsh64(R, code[pc + 1], R[code[pc + 2]] & 63); pc += 4; continue;
        case Op.Lsh32K: R[code[pc + 1]] <<= code[pc + 2]; R[code[pc + 1] + 1] = 0; pc += 4; continue; // JS masks & 31
        case Op.Lsh32X: R[code[pc + 1]] <<= R[code[pc + 2]]; R[code[pc + 1] + 1] = 0; pc += 4; continue;
        case Op.Rsh64K: rsh64(R, code[pc + 1], code[pc + 2] & 63); pc += 4; continue;
        case Op.Rsh64X: rsh64(R, code[pc + 1], R[code[pc + 2]] & 63); pc += 4; continue;
        case Op.Rsh32K: R[code[pc + 1]] >>>= code[pc + 2]; R[code[pc + 1] + 1] = 0; pc += 4; continue;
        case Op.Rsh32X: R[code[pc + 1]] >>>= R[code[pc + 2]]; R[code[pc + 1] + 1] = 0; pc += 4; continue;
        case Op.Arsh64K: arsh64(R, code[pc + 1], code[pc + 2] & 63); pc += 4; continue;
        case Op.Arsh64X: arsh64(R, code[pc + 1], R[code[pc + 2]] & 63); pc += 4; continue;
        case Op.Arsh32K: R[code[pc + 1]] >>= code[pc + 2]; R[code[pc + 1] + 1] = 0; pc += 4; continue;
        case Op.Arsh32X: R[code[pc + 1]] >>= R[code[pc + 2]]; R[code[pc + 1] + 1] = 0; pc += 4; continue;
        case Op.Neg64: {
          const d = code[pc + 1];
          const lo = R[d];
          R[d] = -lo | 0;
          R[d + 1] = (-R[d + 1] - (lo !== 0 ? 1 : 0)) | 0;
          pc += 4; continue;
        }
        case Op.Neg32: R[code[pc + 1]] = -R[code[pc + 1]] | 0; R[code[pc + 1] + 1] = 0; pc += 4; continue;
        case Op.Movsx64s8: { const d = code[pc + 1], v = (R[code[pc + 2]] << 24) >> 24; R[d] = v; R[d + 1] = v >> 31; pc += 4; continue; }
        case Op.Movsx64s16: { const d = code[pc + 1], v = (R[code[pc + 2]] << 16) >> 16; R[d] = v; R[d + 1] = v >> 31; pc += 4; continue; }
        case Op.Movsx64s32: { const d = code[pc + 1], v = R[code[pc + 2]]; R[d] = v; R[d + 1] = v >> 31; pc += 4; continue; }
        case Op.Movsx32s8: { const d = code[pc + 1]; R[d] = (R[code[pc + 2]] << 24) >> 24; R[d + 1] = 0; pc += 4; continue; }
        case Op.Movsx32s16: { const d = code[pc + 1]; R[d] = (R[code[pc + 2]] << 16) >> 16; R[d + 1] = 0; pc += 4; continue; }

        // ---- Byte swaps (RFC 9669 section 4.2), little-endian host.
        case Op.Zext16: R[code[pc + 1]] &= 0xffff; R[code[pc + 1] + 1] = 0; pc += 4; continue;
        case Op.Zext32: R[code[pc + 1] + 1] = 0; pc += 4; continue;
        case Op.Nop: pc += 4; continue;
        case Op.Bswap16: { const d = code[pc + 1], v = R[d]; R[d] = ((v & 0xff) << 8) | ((v >>> 8) & 0xff); R[d + 1] = 0; pc += 4; continue; }
        case Op.Bswap32: { const d = code[pc + 1]; R[d] = bswap32(R[d]); R[d + 1] = 0; pc += 4; continue; }
        case Op.Bswap64: { const d = code[pc + 1], lo = R[d]; R[d] = bswap32(R[d + 1]); R[d + 1] = bswap32(lo); pc += 4; continue; }

        // ---- 64-bit immediate (RFC 9669 section 5.4): the next word holds the position after the second slot.
        case Op.Lddw: { const d = code[pc + 1]; R[d] = code[pc + 2]; R[d + 1] = code[pc + 3]; pc = code[pc + 4]; continue; }

        // ---- Loads (RFC 9669 sections 5.1-5.2): A = dst*2, B = base*2, C = off. The fast check needs the base's
        // high half to be 0 and the whole access inside the cached region; `a` is then the exact address.
        case Op.Ldxb: {
          const b = code[pc + 2];
          let a = (R[b] >>> 0) + code[pc + 3];
          if (R[b + 1] !== 0 || a < rdLo || a + 1 > rdHi) {
            a = this.resolve(req, R[b], R[b + 1], code[pc + 3], 1, Access.Load, pc >> shift);
            rdLo = this.hitLo; rdHi = this.hitHi;
          }
          const d = code[pc + 1];
          R[d] = u8[a]; R[d + 1] = 0;
          pc += 4; continue;
        }
        case Op.Ldxh: {
          const b = code[pc + 2];
          let a = (R[b] >>> 0) + code[pc + 3];
          if (R[b + 1] !== 0 || a < rdLo || a + 2 > rdHi) {
            a = this.resolve(req, R[b], R[b + 1], code[pc + 3], 2, Access.Load, pc >> shift);
            rdLo = this.hitLo; rdHi = this.hitHi;
          }
          const d = code[pc + 1];
          R[d] = dv.getUint16(a, true); R[d + 1] = 0;
          pc += 4; continue;
        }
        case Op.Ldxw: {
          const b = code[pc + 2];
          let a = (R[b] >>> 0) + code[pc + 3];
          if (R[b + 1] !== 0 || a < rdLo || a + 4 > rdHi) {
            a = this.resolve(req, R[b], R[b + 1], code[pc + 3], 4, Access.Load, pc >> shift);
            rdLo = this.hitLo; rdHi = this.hitHi;
          }
          const d = code[pc + 1];
          R[d] = dv.getInt32(a, true); R[d + 1] = 0;
          pc += 4; continue;
        }
        case Op.Ldxdw: {
          const b = code[pc + 2];
          let a = (R[b] >>> 0) + code[pc + 3];
          if (R[b + 1] !== 0 || a < rdLo || a + 8 > rdHi) {
            a = this.resolve(req, R[b], R[b + 1], code[pc + 3], 8, Access.Load, pc >> shift);
            rdLo = this.hitLo; rdHi = this.hitHi;
          }
          const d = code[pc + 1];
          R[d] = dv.getInt32(a, true); R[d + 1] = dv.getInt32(a + 4, true);
          pc += 4; continue;
        }
        case Op.Ldxsb: {
          const b = code[pc + 2];
          let a = (R[b] >>> 0) + code[pc + 3];
          if (R[b + 1] !== 0 || a < rdLo || a + 1 > rdHi) {
            a = this.resolve(req, R[b], R[b + 1], code[pc + 3], 1, Access.Load, pc >> shift);
            rdLo = this.hitLo; rdHi = this.hitHi;
          }
          const d = code[pc + 1], v = dv.getInt8(a);
          R[d] = v; R[d + 1] = v >> 31;
          pc += 4; continue;
        }
        case Op.Ldxsh: {
          const b = code[pc + 2];
          let a = (R[b] >>> 0) + code[pc + 3];
          if (R[b + 1] !== 0 || a < rdLo || a + 2 > rdHi) {
            a = this.resolve(req, R[b], R[b + 1], code[pc + 3], 2, Access.Load, pc >> shift);
            rdLo = this.hitLo; rdHi = this.hitHi;
          }
          const d = code[pc + 1], v = dv.getInt16(a, true);
          R[d] = v; R[d + 1] = v >> 31;
          pc += 4; continue;
        }
        case Op.Ldxsw: {
          const b = code[pc + 2];
          let a = (R[b] >>> 0) + code[pc + 3];
          if (R[b + 1] !== 0 || a < rdLo || a + 4 > rdHi) {
            a = this.resolve(req, R[b], R[b + 1], code[pc + 3], 4, Access.Load, pc >> shift);
            rdLo = this.hitLo; rdHi = this.hitHi;
          }
          const d = code[pc + 1], v = dv.getInt32(a, true);
          R[d] = v; R[d + 1] = v >> 31;
          pc += 4; continue;
        }

        // ---- Stores (RFC 9669 section 5.1): A = base*2, B = imm or src*2, C = off. Checked against the cached
        // writable region.
        case Op.Stb: case Op.Stxb: {
          const b = code[pc + 1];
          let a = (R[b] >>> 0) + code[pc + 3];
          if (R[b + 1] !== 0 || a < wrLo || a + 1 > wrHi) {
            a = this.resolve(req, R[b], R[b + 1], code[pc + 3], 1, Access.Store, pc >> shift);
            wrLo = this.hitLo; wrHi = this.hitHi;
          }
          u8[a] = code[pc] === Op.Stb ? code[pc + 2] : R[code[pc + 2]];
          pc += 4; continue;
        }
        case Op.Sth: case Op.Stxh: {
          const b = code[pc + 1];
          let a = (R[b] >>> 0) + code[pc + 3];
          if (R[b + 1] !== 0 || a < wrLo || a + 2 > wrHi) {
            a = this.resolve(req, R[b], R[b + 1], code[pc + 3], 2, Access.Store, pc >> shift);
            wrLo = this.hitLo; wrHi = this.hitHi;
          }
          dv.setInt16(a, code[pc] === Op.Sth ? code[pc + 2] : R[code[pc + 2]], true);
          pc += 4; continue;
        }
        case Op.Stw: case Op.Stxw: {
          const b = code[pc + 1];
          let a = (R[b] >>> 0) + code[pc + 3];
          if (R[b + 1] !== 0 || a < wrLo || a + 4 > wrHi) {
            a = this.resolve(req, R[b], R[b + 1], code[pc + 3], 4, Access.Store, pc >> shift);
            wrLo = this.hitLo; wrHi = this.hitHi;
          }
          dv.setInt32(a, code[pc] === Op.Stw ? code[pc + 2] : R[code[pc + 2]], true);
          pc += 4; continue;
        }
        case Op.Stdw: case Op.Stxdw: {
          const b = code[pc + 1];
          let a = (R[b] >>> 0) + code[pc + 3];
          if (R[b + 1] !== 0 || a < wrLo || a + 8 > wrHi) {
            a = this.resolve(req, R[b], R[b + 1], code[pc + 3], 8, Access.Store, pc >> shift);
            wrLo = this.hitLo; wrHi = this.hitHi;
          }
          // ST DW stores the sign-extended imm.
          let lo: number, hi: number;
          if (code[pc] === Op.Stdw) { lo = code[pc + 2]; hi = lo >> 31; } else { const s = code[pc + 2]; lo = R[s]; hi = R[s + 1]; }
          dv.setInt32(a, lo, true);
          dv.setInt32(a + 4, hi, true);
          pc += 4; continue;
        }

        // ---- Atomics (RFC 9669 section 5.3): region check as a store, then alignment.
        case Op.Atomic32: case Op.Atomic64: {
          const size = code[pc] === Op.Atomic32 ? 4 : 8;
          const b = code[pc + 1];
          let a = (R[b] >>> 0) + code[pc + 3];
          if (R[b + 1] !== 0 || a < wrLo || a + size > wrHi) {
            a = this.resolve(req, R[b], R[b + 1], code[pc + 3], size, Access.Atomic, pc >> shift);
            wrLo = this.hitLo; wrHi = this.hitHi;
          }
          if ((a & (size - 1)) !== 0) {
            throw new ExecutionError('misaligned_atomic', `atomic ${AOP_NAME[(code[pc + 2] >> 8) & 0xf]} of ${size} bytes at ${hex(a)} is not ${size}-byte aligned`, pc >> shift);
          }
          atomicRmw(R, dv, a, size, code[pc + 2]);
          pc += 4; continue;
        }

        // ---- Legacy packet loads (RFC 9669 section 5.5): A = index*2 or -1, B = imm, C = size. Big-endian.
        case Op.LdPkt: {
          const packet = req.packet;
          const size = code[pc + 3];
          const x = code[pc + 1];
          const off = x < 0 ? code[pc + 2] : (R[x] + code[pc + 2]) | 0;
          // Outside the packet (or no packet): the program ends at once with r0 = 0, as in Linux.
          if (packet === undefined || off < 0 || off + size > packet.length) return 0n;
          const p = packet.start + off;
          R[0] = size === 1 ? u8[p] : size === 2 ? dv.getUint16(p, false) : dv.getInt32(p, false);
          R[1] = 0;
          pc += 4; continue;
        }

        // ---- Jumps (RFC 9669 section 4.3): C = target position. Taken jumps `break` to the back-edge code.
        case Op.Ja: break;
        case Op.Jeq64K: { const d = code[pc + 1], k = code[pc + 2]; if (R[d] === k && R[d + 1] === k >> 31) break; pc += 4; continue; }
        case Op.Jeq64X: { const d = code[pc + 1], s = code[pc + 2]; if (R[d] === R[s] && R[d + 1] === R[s + 1]) break; pc += 4; continue; }
        case Op.Jeq32K: if (R[code[pc + 1]] === code[pc + 2]) break; pc += 4; continue;
        case Op.Jeq32X: if (R[code[pc + 1]] === R[code[pc + 2]]) break; pc += 4; continue;
        case Op.Jne64K: { const d = code[pc + 1], k = code[pc + 2]; if (R[d] !== k || R[d + 1] !== k >> 31) break; pc += 4; continue; }
        case Op.Jne64X: { const d = code[pc + 1], s = code[pc + 2]; if (R[d] !== R[s] || R[d + 1] !== R[s + 1]) break; pc += 4; continue; }
        case Op.Jne32K: if (R[code[pc + 1]] !== code[pc + 2]) break; pc += 4; continue;
        case Op.Jne32X: if (R[code[pc + 1]] !== R[code[pc + 2]]) break; pc += 4; continue;
        case Op.Jset64K: { const d = code[pc + 1], k = code[pc + 2]; if ((R[d] & k) !== 0 || (R[d + 1] & (k >> 31)) !== 0) break; pc += 4; continue; }
        case Op.Jset64X: { const d = code[pc + 1], s = code[pc + 2]; if ((R[d] & R[s]) !== 0 || (R[d + 1] & R[s + 1]) !== 0) break; pc += 4; continue; }
        case Op.Jset32K: if ((R[code[pc + 1]] & code[pc + 2]) !== 0) break; pc += 4; continue;
        case Op.Jset32X: if ((R[code[pc + 1]] & R[code[pc + 2]]) !== 0) break; pc += 4; continue;
        // 64-bit ordered compares: high halves first (unsigned or signed), then low halves unsigned.
        case Op.Jgt64K: { const d = code[pc + 1], k = code[pc + 2]; if (ltu64(k, k >> 31, R[d], R[d + 1])) break; pc += 4; continue; }
        case Op.Jgt64X: { const d = code[pc + 1], s = code[pc + 2]; if (ltu64(R[s], R[s + 1], R[d], R[d + 1])) break; pc += 4; continue; }
        case Op.Jge64K: { const d = code[pc + 1], k = code[pc + 2]; if (!ltu64(R[d], R[d + 1], k, k >> 31)) break; pc += 4; continue; }
        case Op.Jge64X: { const d = code[pc + 1], s = code[pc + 2]; if (!ltu64(R[d], R[d + 1], R[s], R[s + 1])) break; pc += 4; continue; }
        case Op.Jlt64K: { const d = code[pc + 1], k = code[pc + 2]; if (ltu64(R[d], R[d + 1], k, k >> 31)) break; pc += 4; continue; }
        case Op.Jlt64X: { const d = code[pc + 1], s = code[pc + 2]; if (ltu64(R[d], R[d + 1], R[s], R[s + 1])) break; pc += 4; continue; }
        case Op.Jle64K: { const d = code[pc + 1], k = code[pc + 2]; if (!ltu64(k, k >> 31, R[d], R[d + 1])) break; pc += 4; continue; }
        case Op.Jle64X: { const d = code[pc + 1], s = code[pc + 2]; if (!ltu64(R[s], R[s + 1], R[d], R[d + 1])) break; pc += 4; continue; }
        case Op.Jgt32K: if ((R[code[pc + 1]] >>> 0) > (code[pc + 2] >>> 0)) break; pc += 4; continue;
        case Op.Jgt32X: if ((R[code[pc + 1]] >>> 0) > (R[code[pc + 2]] >>> 0)) break; pc += 4; continue;
        case Op.Jge32K: if ((R[code[pc + 1]] >>> 0) >= (code[pc + 2] >>> 0)) break; pc += 4; continue;
        case Op.Jge32X: if ((R[code[pc + 1]] >>> 0) >= (R[code[pc + 2]] >>> 0)) break; pc += 4; continue;
        case Op.Jlt32K: if ((R[code[pc + 1]] >>> 0) < (code[pc + 2] >>> 0)) break; pc += 4; continue;
        case Op.Jlt32X: if ((R[code[pc + 1]] >>> 0) < (R[code[pc + 2]] >>> 0)) break; pc += 4; continue;
        case Op.Jle32K: if ((R[code[pc + 1]] >>> 0) <= (code[pc + 2] >>> 0)) break; pc += 4; continue;
        case Op.Jle32X: if ((R[code[pc + 1]] >>> 0) <= (R[code[pc + 2]] >>> 0)) break; pc += 4; continue;
        case Op.Jsgt64K: { const d = code[pc + 1], k = code[pc + 2]; if (lts64(k, k >> 31, R[d], R[d + 1])) break; pc += 4; continue; }
        case Op.Jsgt64X: { const d = code[pc + 1], s = code[pc + 2]; if (lts64(R[s], R[s + 1], R[d], R[d + 1])) break; pc += 4; continue; }
        case Op.Jsge64K: { const d = code[pc + 1], k = code[pc + 2]; if (!lts64(R[d], R[d + 1], k, k >> 31)) break; pc += 4; continue; }
        case Op.Jsge64X: { const d = code[pc + 1], s = code[pc + 2]; if (!lts64(R[d], R[d + 1], R[s], R[s + 1])) break; pc += 4; continue; }
        case Op.Jslt64K: { const d = code[pc + 1], k = code[pc + 2]; if (lts64(R[d], R[d + 1], k, k >> 31)) break; pc += 4; continue; }
        case Op.Jslt64X: { const d = code[pc + 1], s = code[pc + 2]; if (lts64(R[d], R[d + 1], R[s], R[s + 1])) break; pc += 4; continue; }
        case Op.Jsle64K: { const d = code[pc + 1], k = code[pc + 2]; if (!lts64(k, k >> 31, R[d], R[d + 1])) break; pc += 4; continue; }
        case Op.Jsle64X: { const d = code[pc + 1], s = code[pc + 2]; if (!lts64(R[s], R[s + 1], R[d], R[d + 1])) break; pc += 4; continue; }
        case Op.Jsgt32K: if (R[code[pc + 1]] > code[pc + 2]) break; pc += 4; continue;
        case Op.Jsgt32X: if (R[code[pc + 1]] > R[code[pc + 2]]) break; pc += 4; continue;
        case Op.Jsge32K: if (R[code[pc + 1]] >= code[pc + 2]) break; pc += 4; continue;
        case Op.Jsge32X: if (R[code[pc + 1]] >= R[code[pc + 2]]) break; pc += 4; continue;
        case Op.Jslt32K: if (R[code[pc + 1]] < code[pc + 2]) break; pc += 4; continue;
        case Op.Jslt32X: if (R[code[pc + 1]] < R[code[pc + 2]]) break; pc += 4; continue;
        case Op.Jsle32K: if (R[code[pc + 1]] <= code[pc + 2]) break; pc += 4; continue;
        case Op.Jsle32X: if (R[code[pc + 1]] <= R[code[pc + 2]]) break; pc += 4; continue;

        // ---- Calls and exit (RFC 9669 sections 4.3.1-4.3.2).
        case Op.CallHelper: case Op.Callx: {
          let id: number;
          if (code[pc] === Op.CallHelper) id = code[pc + 1];
          else {
            // callx: the register holds the helper id; a value beyond 32 bits names no helper.
            const x = code[pc + 1];
            id = R[x + 1] === 0 ? R[x] >>> 0 : -1;
          }
          const fn = helpers.get(id);
          if (fn === undefined) {
            const what = code[pc] === Op.Callx ? `callx to unknown helper ${id < 0 ? hex(fromHalves(R[code[pc + 1]], R[code[pc + 1] + 1])) : id}` : `call to unknown helper ${id}`;
            throw new ExecutionError('unknown_helper', what, pc >> shift);
          }
          if (this.callHelper(fn, id, R, memory, pc >> shift)) return fromHalves(R[0], R[1]);
          // A helper may have grown the memory, detaching the old buffer: re-derive the views.
          if (memory.buffer !== buf) {
            buf = memory.buffer;
            u8 = new Uint8Array(buf);
            dv = new DataView(buf);
          }
          pc += 4; continue;
        }
        case Op.CallBtf:
          throw new ExecutionError('unknown_helper', `call to kernel function (btf id ${code[pc + 1]}) is not supported`, pc >> shift);
        case Op.CallLocal: {
          // MAX_CALL_DEPTH frames in all, the entry function's included.
          if (depth + 1 >= MAX_CALL_DEPTH) {
            throw new ExecutionError('call_depth', `call depth exceeds ${MAX_CALL_DEPTH} frames`, pc >> shift);
          }
          if (--left < 0) {
            if (reserve <= 0) throw this.budgetFault(budget, pc >> shift);
            const n = Math.min(reserve, CHUNK);
            reserve -= n;
            left = n - 1;
          }
          const f = depth * FRAME_WORDS;
          F[f] = pc + 4;
          for (let i = 0; i < 10; i++) F[f + 1 + i] = R[R6 + i];
          depth++;
          R[20] = frameTop(stackBase, depth);
          R[21] = 0;
          pc = code[pc + 3];
          continue;
        }
        case Op.Exit: {
          if (depth === 0) return fromHalves(R[0], R[1]);
          depth--;
          const f = depth * FRAME_WORDS;
          for (let i = 0; i < 10; i++) R[R6 + i] = F[f + 1 + i];
          pc = F[f];
          continue;
        }
        case Op.Count: this.steps++; pc += 4; continue;
        case Op.End:
          throw new ExecutionError('fell_off_end', 'execution fell off the end of the program', code[pc + 3]);
        default:
          throw new InternalError(`interpreter: bad pre-decoded op ${code[pc]} at position ${pc}`, pc >> shift);
      }

      // A taken jump (every `break` above). Backward ones (target <= pc) consume budget.
      const t = code[pc + 3];
      if (t <= pc && --left < 0) {
        if (reserve <= 0) throw this.budgetFault(budget, pc >> shift);
        const n = Math.min(reserve, CHUNK);
        reserve -= n;
        left = n - 1;
      }
      pc = t;
    }
  }

  private budgetFault(budget: number | undefined, slot: number): ExecutionError {
    return new ExecutionError('budget_exceeded', `execution budget of ${budget} backward jumps and calls exceeded`, slot);
  }

  /**
   * The slow path of a memory check: computes the exact 64-bit address `(hi:lo) + off`, finds the region (the
   * stack first) that holds all `size` bytes, and returns the address with the region's bounds in
   * `hitLo`/`hitHi`. Stores and atomics need a writable region.
   *
   * @throws ExecutionError `out_of_bounds` or `read_only`, naming the access, its size and address.
   */
  private resolve(req: ExecRequest, lo: number, hi: number, off: number, size: number, kind: Access, slot: number): number {
    const addr = BigInt.asUintN(64, fromHalves(lo, hi) + BigInt(off));
    const what = kind === Access.Load ? 'load' : kind === Access.Store ? 'store' : 'atomic';
    const access = `${what} of ${size} byte${size === 1 ? '' : 's'} at ${hex(addr)}`;
    if (addr + BigInt(size) <= 0x1_0000_0000n) {
      const a = Number(addr);
      const end = a + size;
      const sLo = req.stackBase;
      const sHi = sLo + STACK_SIZE;
      if (a >= sLo && end <= sHi) {
        this.hitLo = sLo;
        this.hitHi = sHi;
        return a;
      }
      let readOnly: Region | undefined;
      for (const r of req.regions) {
        if (a >= r.start && end <= r.end) {
          if (kind !== Access.Load && !r.writable) {
            readOnly = r;
            continue;
          }
          this.hitLo = r.start;
          this.hitHi = r.end;
          return a;
        }
      }
      if (readOnly) throw new ExecutionError('read_only', `${access} is in read-only region ${readOnly.name}`, slot);
      // Name a region the access straddles: the most common bug is reading one byte too far.
      const partial = [{ start: sLo, end: sHi, name: 'stack' }, ...req.regions].find((r) => a < r.end && end > r.start);
      if (partial) throw new ExecutionError('out_of_bounds', `${access} crosses the edge of region ${partial.name} [${hex(partial.start)}, ${hex(partial.end)})`, slot);
    }
    throw new ExecutionError('out_of_bounds', `${access} is outside every region`, slot);
  }

  /**
   * Calls helper `fn` with r1..r5 and puts its result in r0. Returns true when the helper unwound the program
   * (r0 then holds the unwind value). r1-r5 are left as they were.
   */
  private callHelper(fn: HelperFn, id: number, R: Int32Array, memory: WebAssembly.Memory, slot: number): boolean {
    let v: bigint;
    try {
      const ret: unknown = fn(fromHalves(R[2], R[3]), fromHalves(R[4], R[5]), fromHalves(R[6], R[7]), fromHalves(R[8], R[9]), fromHalves(R[10], R[11]), { memory, pc: slot });
      if (typeof ret !== 'bigint') throw new TypeError(`returned ${describe(ret)}, not a bigint`);
      v = BigInt.asUintN(64, ret);
    } catch (e) {
      if (e instanceof UnwindSignal) {
        if (typeof e.r0 !== 'bigint') throw new ExecutionError('helper_failed', `helper ${id} unwound with ${describe(e.r0)}, not a bigint`, slot);
        v = BigInt.asUintN(64, e.r0);
        R[0] = loHalf(v);
        R[1] = hiHalf(v);
        return true;
      }
      if (e instanceof ExecutionError) throw e;
      throw new ExecutionError('helper_failed', `helper ${id} failed: ${describe(e)}`, slot, { cause: e });
    }
    R[0] = loHalf(v);
    R[1] = hiHalf(v);
    return false;
  }
}

