/**
 * Lowering of the register-only instructions to Wasm: ALU (RFC 9669 section 4.1), negation, sign-extending
 * moves, byte swaps (section 4.2), 64-bit immediate loads (section 5.4) and jump conditions (section 4.3).
 *
 * Each function returns one Wasm statement (or, for conditions, an i32 value) built from fresh expressions.
 * The eBPF semantics that differ from Wasm's are guarded here: division by zero gives 0, modulo by zero leaves
 * dst, signed `INT_MIN / -1` is INT_MIN (Wasm traps), 32-bit results are zero-extended. Shift counts need no
 * mask: Wasm's shifts already take the count modulo the width, exactly as eBPF masks it.
 *
 * Not here: memory (lower-mem.ts), calls and exits (lower-call.ts), branches themselves (relooper.ts).
 */

import { InvalidProgramError, assertNever } from '../src/errors.js';
import type { AluInsn, EndianInsn, JcondInsn, LddwInsn, MovsxInsn, NegInsn } from '../src/isa/insn.js';
import type { Expr, IntBinOps } from './binaryen.js';
import { L_TMP, type FnContext } from './frame.js';

/**
 * `dst = dst op src` at 64 or 32 bits (RFC 9669 section 4.1). For ALU64 the immediate is sign-extended to 64
 * bits; for ALU it is used as 32 bits; 32-bit results are zero-extended.
 *
 *     ;; add r1, r2                     ;; div32 r1, r2
 *     (local.set $r1                    (local.set $r1 (i64.extend_i32_u
 *       (i64.add $r1 $r2))                (if (result i32) (i32.eqz (i32.wrap_i64 $r2))
 *                                           (then (i32.const 0))
 *                                           (else (i32.div_u (i32.wrap_i64 $r1) (i32.wrap_i64 $r2))))))
 */
export function lowerAlu(ctx: FnContext, insn: AluInsn): Expr {
  const b = ctx.b;
  const w64 = insn.width === 64;
  const ops: IntBinOps = w64 ? b.i64 : b.i32;
  const dst = (): Expr => (w64 ? ctx.get(insn.dst) : ctx.get32(insn.dst));
  const src = insn.src;
  const imm = src.kind === 'imm' ? src.imm : undefined;
  const s = (): Expr => {
    if (src.kind === 'reg') return w64 ? ctx.get(src.reg) : ctx.get32(src.reg);
    return w64 ? b.i64.const(BigInt(src.imm)) : b.i32.const(src.imm);
  };
  const zero = (): Expr => (w64 ? b.i64.const(0n) : b.i32.const(0));
  const minusOne = (): Expr => (w64 ? b.i64.const(-1n) : b.i32.const(-1));
  const isZero = (e: Expr): Expr => (w64 ? b.i64.eqz(e) : b.i32.eqz(e));
  const set = (v: Expr): Expr => (w64 ? ctx.set(insn.dst, v) : ctx.set32(insn.dst, v));
  const simple = (op: keyof IntBinOps): Expr => set(ops[op](dst(), s()));

  switch (insn.op) {
    case 'add': return simple('add');
    case 'sub': return simple('sub');
    case 'mul': return simple('mul');
    case 'or': return simple('or');
    case 'and': return simple('and');
    case 'xor': return simple('xor');
    case 'lsh': return simple('shl');
    case 'rsh': return simple('shr_u');
    case 'arsh': return simple('shr_s');
    case 'mov': return set(s());
    case 'div':
      // dst = src ? dst / src : 0
      if (imm !== undefined) return set(imm === 0 ? zero() : ops.div_u(dst(), s()));
      return set(b.if(isZero(s()), zero(), ops.div_u(dst(), s())));
    case 'sdiv':
      // dst = src == 0 ? 0 : src == -1 ? -dst (wraps: INT_MIN / -1 = INT_MIN, where Wasm traps) : dst s/ src
      if (imm !== undefined) return set(imm === 0 ? zero() : imm === -1 ? ops.sub(zero(), dst()) : ops.div_s(dst(), s()));
      return set(b.if(isZero(s()), zero(), b.if(ops.eq(s(), minusOne()), ops.sub(zero(), dst()), ops.div_s(dst(), s()))));
    case 'mod':
      // dst = src ? dst % src : dst (the 32-bit form still zero-extends dst)
      if (imm !== undefined) return set(imm === 0 ? dst() : ops.rem_u(dst(), s()));
      return set(b.if(isZero(s()), dst(), ops.rem_u(dst(), s())));
    case 'smod':
      // Wasm's rem_s does not trap on INT_MIN % -1 (it gives 0, as eBPF wants): only zero needs a guard.
      if (imm !== undefined) return set(imm === 0 ? dst() : ops.rem_s(dst(), s()));
      return set(b.if(isZero(s()), dst(), ops.rem_s(dst(), s())));
    default:
      return assertNever(insn.op, 'ALU operation');
  }
}

/**
 * `dst = -dst`.
 *
 *     (local.set $r1 (i64.sub (i64.const 0) $r1))
 */
export function lowerNeg(ctx: FnContext, insn: NegInsn): Expr {
  const b = ctx.b;
  if (insn.width === 64) return ctx.set(insn.dst, b.i64.sub(b.i64.const(0n), ctx.get(insn.dst)));
  return ctx.set32(insn.dst, b.i32.sub(b.i32.const(0), ctx.get32(insn.dst)));
}

/**
 * `dst = (s8/s16/s32) src`, sign-extended to the operation width (RFC 9669 section 4.1, MOVSX).
 *
 *     ;; movsx8 r1, r2 (64-bit)         ;; movsx8 w1, w2 (32-bit)
 *     (local.set $r1                    (local.set $r1 (i64.extend_i32_u
 *       (i64.extend8_s $r2))              (i32.extend8_s (i32.wrap_i64 $r2))))
 */
export function lowerMovsx(ctx: FnContext, insn: MovsxInsn): Expr {
  const b = ctx.b;
  if (insn.width === 64) {
    const v = ctx.get(insn.src);
    const ext = insn.bits === 8 ? b.i64.extend8_s(v) : insn.bits === 16 ? b.i64.extend16_s(v) : b.i64.extend32_s(v);
    return ctx.set(insn.dst, ext);
  }
  const v = ctx.get32(insn.src);
  return ctx.set32(insn.dst, insn.bits === 8 ? b.i32.extend8_s(v) : insn.bits === 16 ? b.i32.extend16_s(v) : v);
}

/**
 * Byte-order conversion (RFC 9669 section 4.2). The host (Wasm) is little-endian: `le` truncates to `bits` and
 * zero-extends; `be` and `bswap` reverse the bytes of the low `bits`. Wasm has no byte swap, so it is built
 * from masks and rotates.
 *
 *     ;; be32 r1: rotr(x & 0x00ff00ff, 8) | rotl(x & 0xff00ff00, 8), on x = (i32.wrap_i64 $r1)
 *     ;; be64 r1: two swap steps through $tmp, then a rotate by 32:
 *     (local.set $r1 (i64.rotl (step16 (step8 $r1)) (i64.const 32)))
 */
export function lowerEndian(ctx: FnContext, insn: EndianInsn): Expr {
  const b = ctx.b;
  if (insn.order === 'le') {
    if (insn.bits === 64) return b.nop();
    const mask = insn.bits === 16 ? 0xffffn : 0xffffffffn;
    return ctx.set(insn.dst, b.i64.and(ctx.get(insn.dst), b.i64.const(mask)));
  }
  if (insn.bits === 16) return ctx.set32(insn.dst, bswap16(ctx, () => ctx.get32(insn.dst)));
  if (insn.bits === 32) return ctx.set32(insn.dst, bswap32(ctx, () => ctx.get32(insn.dst)));
  return ctx.set(insn.dst, bswap64(ctx, ctx.get(insn.dst)));
}

/** The low 16 bits of `v()` byte-swapped, zero-extended (i32). `v` is evaluated twice. */
export function bswap16(ctx: FnContext, v: () => Expr): Expr {
  const i = ctx.b.i32;
  return i.or(i.and(i.shr_u(v(), i.const(8)), i.const(0xff)), i.and(i.shl(v(), i.const(8)), i.const(0xff00)));
}

/** `v()` byte-swapped (i32). `v` is evaluated twice. */
export function bswap32(ctx: FnContext, v: () => Expr): Expr {
  const i = ctx.b.i32;
  return i.or(i.rotr(i.and(v(), i.const(0x00ff00ff)), i.const(8)), i.rotl(i.and(v(), i.const(0xff00ff00)), i.const(8)));
}

/** `v` byte-swapped (i64), through the scratch local. */
function bswap64(ctx: FnContext, v: Expr): Expr {
  const b = ctx.b;
  const i = b.i64;
  // One step swaps adjacent `shift`-bit groups: ((x >> s) & m) | ((x & m) << s).
  const step = (x: Expr, shift: bigint, mask: bigint): Expr =>
    i.or(
      i.and(i.shr_u(b.teeLocal(L_TMP, x, 'i64'), i.const(shift)), i.const(mask)),
      i.shl(i.and(b.getLocal(L_TMP, 'i64'), i.const(mask)), i.const(shift)),
    );
  return i.rotl(step(step(v, 8n, 0x00ff00ff00ff00ffn), 16n, 0x0000ffff0000ffffn), i.const(32n));
}

/**
 * `dst = imm64` (RFC 9669 section 5.4, src 0). The other sources name maps, variables or code and must be
 * resolved by the loader before translation.
 *
 *     (local.set $r1 (i64.const 0x1122334455667788))
 */
export function lowerLddw(ctx: FnContext, insn: LddwInsn): Expr {
  if (insn.src !== 'imm64') {
    throw new InvalidProgramError('bad_lddw_src', `lddw with src ${insn.src} must be resolved by the loader before it can be compiled`, insn.pc);
  }
  return ctx.set(insn.dst, ctx.b.i64.const(insn.value));
}

/** The opposite of each jump condition (`!(a op b)` is `a inverse b`). */
const INVERSE: Readonly<Record<JcondInsn['cond']['op'], JcondInsn['cond']['op']>> = {
  eq: 'ne', ne: 'eq', gt: 'le', le: 'gt', ge: 'lt', lt: 'ge', sgt: 'sle', sle: 'sgt', sge: 'slt', slt: 'sge', set: 'set',
};

/**
 * The condition of a conditional jump as an i32 (RFC 9669 section 4.3), or its negation: 64-bit compares the
 * registers (the immediate sign-extended), JMP32 their low halves.
 *
 *     ;; jsgt r1, 5                     ;; jset32 w1, w2
 *     (i64.gt_s $r1 (i64.const 5))      (i32.ne (i32.and (i32.wrap_i64 $r1) (i32.wrap_i64 $r2)) (i32.const 0))
 */
export function lowerCond(ctx: FnContext, insn: JcondInsn, negate = false): Expr {
  const b = ctx.b;
  const w64 = insn.cond.width === 64;
  const ops: IntBinOps = w64 ? b.i64 : b.i32;
  const a = w64 ? ctx.get(insn.dst) : ctx.get32(insn.dst);
  const src = insn.src;
  const c = src.kind === 'reg' ? (w64 ? ctx.get(src.reg) : ctx.get32(src.reg)) : w64 ? b.i64.const(BigInt(src.imm)) : b.i32.const(src.imm);
  const op = negate ? INVERSE[insn.cond.op] : insn.cond.op;
  switch (op) {
    case 'eq': return ops.eq(a, c);
    case 'ne': return ops.ne(a, c);
    case 'gt': return ops.gt_u(a, c);
    case 'ge': return ops.ge_u(a, c);
    case 'lt': return ops.lt_u(a, c);
    case 'le': return ops.le_u(a, c);
    case 'sgt': return ops.gt_s(a, c);
    case 'sge': return ops.ge_s(a, c);
    case 'slt': return ops.lt_s(a, c);
    case 'sle': return ops.le_s(a, c);
    case 'set': {
      const zero = w64 ? b.i64.const(0n) : b.i32.const(0);
      return negate ? ops.eq(ops.and(a, c), zero) : ops.ne(ops.and(a, c), zero);
    }
    default:
      return assertNever(op, 'jump condition');
  }
}
