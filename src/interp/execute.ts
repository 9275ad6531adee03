/**
 * The interpreter's hot loop: {@link execute} runs the pre-decoded code (code.ts) in the arena until the program
 * returns, faults, or needs something only the driver (interpreter.ts) does: a memory access outside the cached
 * regions, an atomic, a helper call, a 64-bit division of operands beyond 2^52, a budget refill.
 *
 * What makes it fast, beyond pre-decoding (each point was measured, see bench/RESULTS.md):
 * - The arena is a module-level constant, so V8 compiles the loop with the array's map, length and data
 *   pointer known: no per-instruction map check or reload.
 * - The loop makes no calls on any path that continues the loop (calls sit only on paths that throw). V8 saves
 *   every live value around a call, so a single call site would keep `pc` and the current word on the stack for
 *   every instruction. For the same reason the 64-bit multiply, shifts and divisions are written out inline
 *   rather than as helper functions (V8's inlining budget would not cover them all).
 * - All arithmetic is int32 (`| 0`, `>>> 0`) or, for division, exact doubles; no bigint, no heap numbers.
 *
 * Semantics are RFC 9669's (section numbers at each group of cases); the value-level definitions, and the tests
 * that hold this loop to them, are in semantics.ts and test/interp.
 *
 * Not here: pre-decoding (code.ts), region search, faults of memory accesses, helpers (interpreter.ts).
 */

import { ExecutionError, InternalError } from '../errors.js';
import { MAX_CALL_DEPTH, STACK_FRAME_SIZE } from '../exec.js';
import { ARENA_WORDS, Layout, Op, slotAt } from './code.js';

/**
 * The arena: the one machine array every run executes in (registers, run state, frames, then the running
 * program's code, copied in by the driver). A module-level constant on purpose: V8 then compiles `execute` with
 * the array as a known object (its map, length and data pointer folded in), which spares a map check and
 * several loads per instruction; a parameter or a field would be re-checked on every instruction.
 */
const M = new Int32Array(ARENA_WORDS);

/** The arena, for the driver (interpreter.ts). */
export const arena: Int32Array = M;

/** Why {@link execute} returned to the driver. The state is in the machine array; `M[Layout.Pc]` is the instruction. */
export const enum Exit {
  /** The program returned (or a legacy packet load ended it); r0 is in `M[0..1]`. */
  Return,
  /** A load or store missed the cached region, or an atomic: the driver performs it, then continues at pc + 4. */
  Memory,
  /** A helper call (`call` or `callx`): the driver performs it, then continues at pc + 4. */
  Helper,
  /** A 64-bit div/mod with an operand of magnitude 2^52 or more: the driver computes it (bigint), then pc + 4. */
  Divide,
  /**
   * The budget chunk ran out at a taken backward jump or a local call (`M[Layout.Left]` is -1). The driver refills
   * `M[Layout.Left]` (or faults) and re-enters at the same instruction, which then consumes one unit again.
   */
  Budget,
}

/**
 * Runs machine array `M` from `M[Layout.Pc]` until an {@link Exit}. `u8` and `dv` view the whole memory.
 *
 * Registers live in `M` as 32-bit halves; `w` is the current slot's first word (`op | A << 8 | B << 16`, register
 * fields pre-multiplied by two). Jump cases `break` out of the switch when taken, to the shared back-edge code
 * after it; others `continue`; exits `break run` with `why` set.
 *
 * @throws ExecutionError for faults the loop detects itself (call depth, kernel-function call, falling off the
 *   end).
 */
export function execute(u8: Uint8Array, dv: DataView): Exit {
  let pc = M[Layout.Pc];
  let depth = M[Layout.Depth];
  let left = M[Layout.Left];
  // Lowest address stored to (see Layout.StoreLow): one compare a store, kept in a local like `left`.
  let low = M[Layout.StoreLow];
  // The region caches only change in the driver, between calls of this function.
  const rdLo = M[Layout.RdLo];
  const rdHi = M[Layout.RdHi];
  const wrLo = M[Layout.WrLo];
  const wrHi = M[Layout.WrHi];
  let why: Exit;

  run: for (;;) {
    const w = M[pc];
    switch (w & 0xff) {
      // ---- ALU (RFC 9669 section 4.1). K forms: word 1 = imm; 64-bit forms sign-extend it (`k >> 31`).
      case Op.Add64K: {
        const d = (w >> 8) & 0xff, k = M[pc | 1], al = M[d], lo = (al + k) | 0;
        M[d] = lo;
        M[d | 1] = (M[d | 1] + (k >> 31) + ((lo >>> 0) < (al >>> 0) ? 1 : 0)) | 0;
        pc = (pc + 4) | 0; continue;
      }
      case Op.Add64X: {
        const d = (w >> 8) & 0xff, s = w >>> 16, al = M[d], lo = (al + M[s]) | 0;
        M[d] = lo;
        M[d | 1] = (M[d | 1] + M[s | 1] + ((lo >>> 0) < (al >>> 0) ? 1 : 0)) | 0;
        pc = (pc + 4) | 0; continue;
      }
      case Op.Add32K: { const d = (w >> 8) & 0xff; M[d] = (M[d] + M[pc | 1]) | 0; M[d | 1] = 0; pc = (pc + 4) | 0; continue; }
      case Op.Add32X: { const d = (w >> 8) & 0xff; M[d] = (M[d] + M[w >>> 16]) | 0; M[d | 1] = 0; pc = (pc + 4) | 0; continue; }
      case Op.Sub64K: {
        const d = (w >> 8) & 0xff, al = M[d], bl = M[pc | 1];
        M[d] = (al - bl) | 0;
        M[d | 1] = (M[d | 1] - (bl >> 31) - ((al >>> 0) < (bl >>> 0) ? 1 : 0)) | 0;
        pc = (pc + 4) | 0; continue;
      }
      case Op.Sub64X: {
        const d = (w >> 8) & 0xff, s = w >>> 16, al = M[d], bl = M[s];
        M[d] = (al - bl) | 0;
        M[d | 1] = (M[d | 1] - M[s | 1] - ((al >>> 0) < (bl >>> 0) ? 1 : 0)) | 0;
        pc = (pc + 4) | 0; continue;
      }
      case Op.Sub32K: { const d = (w >> 8) & 0xff; M[d] = (M[d] - M[pc | 1]) | 0; M[d | 1] = 0; pc = (pc + 4) | 0; continue; }
      case Op.Sub32X: { const d = (w >> 8) & 0xff; M[d] = (M[d] - M[w >>> 16]) | 0; M[d | 1] = 0; pc = (pc + 4) | 0; continue; }
      // 64-bit multiply: the low product's high half by mulhu32, plus the cross products' low halves.
      // 64-bit multiply: the high half of lo*lo from four 16x16-bit products (see semantics.mulhu32), plus the
      // cross products' low halves. Int32 arithmetic only.
      case Op.Mul64K: case Op.Mul64X: {
        const d = (w >> 8) & 0xff, al = M[d];
        let bl: number, bh: number;
        if ((w & 0xff) === Op.Mul64K) { bl = M[pc | 1]; bh = bl >> 31; } else { const s = w >>> 16; bl = M[s]; bh = M[s | 1]; }
        const a0 = al & 0xffff, a1 = al >>> 16, b0 = bl & 0xffff, b1 = bl >>> 16;
        const p00 = Math.imul(a0, b0), p01 = Math.imul(a0, b1), p10 = Math.imul(a1, b0);
        const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
        M[d | 1] = (Math.imul(a1, b1) + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16) + Math.imul(al, bh) + Math.imul(M[d | 1], bl)) | 0;
        M[d] = Math.imul(al, bl);
        pc = (pc + 4) | 0; continue;
      }
      case Op.Mul32K: { const d = (w >> 8) & 0xff; M[d] = Math.imul(M[d], M[pc | 1]); M[d | 1] = 0; pc = (pc + 4) | 0; continue; }
      case Op.Mul32X: { const d = (w >> 8) & 0xff; M[d] = Math.imul(M[d], M[w >>> 16]); M[d | 1] = 0; pc = (pc + 4) | 0; continue; }
      // Division (RFC 9669 section 4.1): by zero gives 0, modulo by zero leaves dst. 64-bit forms are done here
      // in doubles when both magnitudes lie below 2^52: the quotient `floor(a / b)` of the rounded division is
      // then off by at most one, `q * b` (below a + b < 2^53) and `a - q * b` are exact, and one correction
      // step gives the exact quotient and remainder. Signed forms work on magnitudes and truncate toward zero,
      // the remainder taking the dividend's sign, as RFC 9669 asks. Storing a double below 2^53 into the
      // Int32Array keeps its low 32 bits; `/ 2^32` floored is the high half. Larger operands go to the driver.
      case Op.Div64K: case Op.Div64X: case Op.Mod64K: case Op.Mod64X: {
        const op = w & 0xff, d = (w >> 8) & 0xff, ah = M[d | 1];
        let bl: number, bh: number;
        if (op === Op.Div64K || op === Op.Mod64K) { bl = M[pc | 1]; bh = bl >> 31; } else { const s = w >>> 16; bl = M[s]; bh = M[s | 1]; }
        if ((ah >>> 20) !== 0 || (bh >>> 20) !== 0) { why = Exit.Divide; break run; }
        const a = ah * 4294967296 + (M[d] >>> 0), b = bh * 4294967296 + (bl >>> 0);
        const div = op === Op.Div64K || op === Op.Div64X;
        if (b !== 0) {
          let q = Math.floor(a / b), r = a - q * b;
          if (r < 0) { r += b; q -= 1; } else if (r >= b) { r -= b; q += 1; }
          const v = div ? q : r;
          M[d] = v; M[d | 1] = Math.floor(v / 4294967296);
        } else if (div) {
          M[d] = 0; M[d | 1] = 0;
        }
        pc = (pc + 4) | 0; continue;
      }
      case Op.Sdiv64K: case Op.Sdiv64X: case Op.Smod64K: case Op.Smod64X: {
        const op = w & 0xff, d = (w >> 8) & 0xff, ah = M[d | 1];
        let bl: number, bh: number;
        if (op === Op.Sdiv64K || op === Op.Smod64K) { bl = M[pc | 1]; bh = bl >> 31; } else { const s = w >>> 16; bl = M[s]; bh = M[s | 1]; }
        // Magnitudes below 2^52: the high half's top 12 bits all equal its sign.
        if ((ah >> 20) !== (ah >> 31) || (bh >> 20) !== (bh >> 31)) { why = Exit.Divide; break run; }
        const a = ah * 4294967296 + (M[d] >>> 0), b = bh * 4294967296 + (bl >>> 0);
        const div = op === Op.Sdiv64K || op === Op.Sdiv64X;
        if (b !== 0) {
          const ua = Math.abs(a), ub = Math.abs(b);
          let q = Math.floor(ua / ub), r = ua - q * ub;
          if (r < 0) { r += ub; q -= 1; } else if (r >= ub) { r -= ub; q += 1; }
          const v = div ? ((a < 0) !== (b < 0) ? -q : q) : a < 0 ? -r : r;
          M[d] = v; M[d | 1] = Math.floor(v / 4294967296);
        } else if (div) {
          M[d] = 0; M[d | 1] = 0;
        }
        pc = (pc + 4) | 0; continue;
      }
      case Op.Div32K: case Op.Div32X: {
        const d = (w >> 8) & 0xff, b = ((w & 0xff) === Op.Div32K ? M[pc | 1] : M[w >>> 16]) >>> 0;
        M[d] = b === 0 ? 0 : ((M[d] >>> 0) / b) >>> 0; M[d | 1] = 0;
        pc = (pc + 4) | 0; continue;
      }
      case Op.Mod32K: case Op.Mod32X: {
        const d = (w >> 8) & 0xff, b = ((w & 0xff) === Op.Mod32K ? M[pc | 1] : M[w >>> 16]) >>> 0;
        if (b !== 0) M[d] = (M[d] >>> 0) % b;
        M[d | 1] = 0;
        pc = (pc + 4) | 0; continue;
      }
      // (INT32_MIN / -1) | 0 wraps to INT32_MIN, and INT32_MIN % -1 is -0, stored as 0: RFC 9669's results.
      case Op.Sdiv32K: case Op.Sdiv32X: {
        const d = (w >> 8) & 0xff, b = (w & 0xff) === Op.Sdiv32K ? M[pc | 1] : M[w >>> 16];
        M[d] = b === 0 ? 0 : (M[d] / b) | 0; M[d | 1] = 0;
        pc = (pc + 4) | 0; continue;
      }
      case Op.Smod32K: case Op.Smod32X: {
        const d = (w >> 8) & 0xff, b = (w & 0xff) === Op.Smod32K ? M[pc | 1] : M[w >>> 16];
        if (b !== 0) M[d] = M[d] % b;
        M[d | 1] = 0;
        pc = (pc + 4) | 0; continue;
      }
      case Op.Or64K: { const d = (w >> 8) & 0xff, k = M[pc | 1]; M[d] |= k; M[d | 1] |= k >> 31; pc = (pc + 4) | 0; continue; }
      case Op.Or64X: { const d = (w >> 8) & 0xff, s = w >>> 16; M[d] |= M[s]; M[d | 1] |= M[s | 1]; pc = (pc + 4) | 0; continue; }
      case Op.Or32K: { const d = (w >> 8) & 0xff; M[d] |= M[pc | 1]; M[d | 1] = 0; pc = (pc + 4) | 0; continue; }
      case Op.Or32X: { const d = (w >> 8) & 0xff; M[d] |= M[w >>> 16]; M[d | 1] = 0; pc = (pc + 4) | 0; continue; }
      case Op.And64K: { const d = (w >> 8) & 0xff, k = M[pc | 1]; M[d] &= k; M[d | 1] &= k >> 31; pc = (pc + 4) | 0; continue; }
      case Op.And64X: { const d = (w >> 8) & 0xff, s = w >>> 16; M[d] &= M[s]; M[d | 1] &= M[s | 1]; pc = (pc + 4) | 0; continue; }
      case Op.And32K: { const d = (w >> 8) & 0xff; M[d] &= M[pc | 1]; M[d | 1] = 0; pc = (pc + 4) | 0; continue; }
      case Op.And32X: { const d = (w >> 8) & 0xff; M[d] &= M[w >>> 16]; M[d | 1] = 0; pc = (pc + 4) | 0; continue; }
      case Op.Xor64K: { const d = (w >> 8) & 0xff, k = M[pc | 1]; M[d] ^= k; M[d | 1] ^= k >> 31; pc = (pc + 4) | 0; continue; }
      case Op.Xor64X: { const d = (w >> 8) & 0xff, s = w >>> 16; M[d] ^= M[s]; M[d | 1] ^= M[s | 1]; pc = (pc + 4) | 0; continue; }
      case Op.Xor32K: { const d = (w >> 8) & 0xff; M[d] ^= M[pc | 1]; M[d | 1] = 0; pc = (pc + 4) | 0; continue; }
      case Op.Xor32X: { const d = (w >> 8) & 0xff; M[d] ^= M[w >>> 16]; M[d | 1] = 0; pc = (pc + 4) | 0; continue; }
      case Op.Mov64K: { const d = (w >> 8) & 0xff, k = M[pc | 1]; M[d] = k; M[d | 1] = k >> 31; pc = (pc + 4) | 0; continue; }
      case Op.Mov64X: { const d = (w >> 8) & 0xff, s = w >>> 16; M[d] = M[s]; M[d | 1] = M[s | 1]; pc = (pc + 4) | 0; continue; }
      case Op.Mov32K: { const d = (w >> 8) & 0xff; M[d] = M[pc | 1]; M[d | 1] = 0; pc = (pc + 4) | 0; continue; }
      case Op.Mov32X: { const d = (w >> 8) & 0xff; M[d] = M[w >>> 16]; M[d | 1] = 0; pc = (pc + 4) | 0; continue; }
      // 64-bit shifts, count masked to 6 bits. JS masks its own counts to 5 bits, so `x << n` with n >= 32
      // shifts by n - 32, which is what the high-half cases want.
      case Op.Lsh64K: case Op.Lsh64X: {
        const d = (w >> 8) & 0xff, n = ((w & 0xff) === Op.Lsh64K ? M[pc | 1] : M[w >>> 16]) & 63;
        if (n >= 32) { M[d | 1] = M[d] << n; M[d] = 0; } else if (n !== 0) { M[d | 1] = (M[d | 1] << n) | (M[d] >>> (32 - n)); M[d] <<= n; }
        pc = (pc + 4) | 0; continue;
      }
      case Op.Rsh64K: case Op.Rsh64X: {
        const d = (w >> 8) & 0xff, n = ((w & 0xff) === Op.Rsh64K ? M[pc | 1] : M[w >>> 16]) & 63;
        if (n >= 32) { M[d] = M[d | 1] >>> n; M[d | 1] = 0; } else if (n !== 0) { M[d] = (M[d] >>> n) | (M[d | 1] << (32 - n)); M[d | 1] >>>= n; }
        pc = (pc + 4) | 0; continue;
      }
      case Op.Arsh64K: case Op.Arsh64X: {
        const d = (w >> 8) & 0xff, n = ((w & 0xff) === Op.Arsh64K ? M[pc | 1] : M[w >>> 16]) & 63;
        if (n >= 32) { M[d] = M[d | 1] >> n; M[d | 1] >>= 31; } else if (n !== 0) { M[d] = (M[d] >>> n) | (M[d | 1] << (32 - n)); M[d | 1] >>= n; }
        pc = (pc + 4) | 0; continue;
      }
      // 32-bit shifts: JS masks shift counts to 5 bits, exactly as RFC 9669 asks.
      case Op.Lsh32K: { const d = (w >> 8) & 0xff; M[d] <<= M[pc | 1]; M[d | 1] = 0; pc = (pc + 4) | 0; continue; }
      case Op.Lsh32X: { const d = (w >> 8) & 0xff; M[d] <<= M[w >>> 16]; M[d | 1] = 0; pc = (pc + 4) | 0; continue; }
      case Op.Rsh32K: { const d = (w >> 8) & 0xff; M[d] >>>= M[pc | 1]; M[d | 1] = 0; pc = (pc + 4) | 0; continue; }
      case Op.Rsh32X: { const d = (w >> 8) & 0xff; M[d] >>>= M[w >>> 16]; M[d | 1] = 0; pc = (pc + 4) | 0; continue; }
      case Op.Arsh32K: { const d = (w >> 8) & 0xff; M[d] >>= M[pc | 1]; M[d | 1] = 0; pc = (pc + 4) | 0; continue; }
      case Op.Arsh32X: { const d = (w >> 8) & 0xff; M[d] >>= M[w >>> 16]; M[d | 1] = 0; pc = (pc + 4) | 0; continue; }
      case Op.Neg64: {
        const d = (w >> 8) & 0xff, lo = M[d];
        M[d] = -lo | 0;
        M[d | 1] = (-M[d | 1] - (lo !== 0 ? 1 : 0)) | 0;
        pc = (pc + 4) | 0; continue;
      }
      case Op.Neg32: { const d = (w >> 8) & 0xff; M[d] = -M[d] | 0; M[d | 1] = 0; pc = (pc + 4) | 0; continue; }
      case Op.Movsx64s8: { const d = (w >> 8) & 0xff, v = (M[w >>> 16] << 24) >> 24; M[d] = v; M[d | 1] = v >> 31; pc = (pc + 4) | 0; continue; }
      case Op.Movsx64s16: { const d = (w >> 8) & 0xff, v = (M[w >>> 16] << 16) >> 16; M[d] = v; M[d | 1] = v >> 31; pc = (pc + 4) | 0; continue; }
      case Op.Movsx64s32: { const d = (w >> 8) & 0xff, v = M[w >>> 16]; M[d] = v; M[d | 1] = v >> 31; pc = (pc + 4) | 0; continue; }
      case Op.Movsx32s8: { const d = (w >> 8) & 0xff; M[d] = (M[w >>> 16] << 24) >> 24; M[d | 1] = 0; pc = (pc + 4) | 0; continue; }
      case Op.Movsx32s16: { const d = (w >> 8) & 0xff; M[d] = (M[w >>> 16] << 16) >> 16; M[d | 1] = 0; pc = (pc + 4) | 0; continue; }


      // ---- Byte swaps (RFC 9669 section 4.2), little-endian host.
      case Op.Zext16: { const d = (w >> 8) & 0xff; M[d] &= 0xffff; M[d | 1] = 0; pc = (pc + 4) | 0; continue; }
      case Op.Zext32: M[((w >> 8) & 0xff) | 1] = 0; pc = (pc + 4) | 0; continue;
      case Op.Nop: pc = (pc + 4) | 0; continue;
      case Op.Bswap16: { const d = (w >> 8) & 0xff, v = M[d]; M[d] = ((v & 0xff) << 8) | ((v >>> 8) & 0xff); M[d | 1] = 0; pc = (pc + 4) | 0; continue; }
      case Op.Bswap32: { const d = (w >> 8) & 0xff; const v = M[d]; M[d] = ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24); M[d | 1] = 0; pc = (pc + 4) | 0; continue; }
      case Op.Bswap64: {
        const d = (w >> 8) & 0xff, lo = M[d], hi = M[d | 1];
        M[d] = ((hi & 0xff) << 24) | ((hi & 0xff00) << 8) | ((hi >>> 8) & 0xff00) | (hi >>> 24);
        M[d | 1] = ((lo & 0xff) << 24) | ((lo & 0xff00) << 8) | ((lo >>> 8) & 0xff00) | (lo >>> 24);
        pc = (pc + 4) | 0; continue;
      }

      // ---- 64-bit immediate (RFC 9669 section 5.4): words 1-2 = the value, word 3 = where execution continues.
      case Op.Lddw: { const d = (w >> 8) & 0xff; M[d] = M[pc | 1]; M[d | 1] = M[pc | 2]; pc = M[pc | 3]; continue; }

      // ---- Loads (RFC 9669 sections 5.1-5.2): A = dst, B = base, word 1 = off. The fast path needs the base's
      // high half to be 0 and the whole access inside the cached region; the address is then exactly `a` (see
      // Interpreter.cacheBounds for why int32 arithmetic is exact here). Anything else goes to the driver.
      case Op.Ldxb: {
        const b = w >>> 16, a = (M[b] + M[pc | 1]) | 0;
        if (M[b | 1] !== 0 || a < rdLo || a > rdHi - 1) { why = Exit.Memory; break run; }
        const d = (w >> 8) & 0xff;
        M[d] = u8[a]; M[d | 1] = 0;
        pc = (pc + 4) | 0; continue;
      }
      case Op.Ldxh: {
        const b = w >>> 16, a = (M[b] + M[pc | 1]) | 0;
        if (M[b | 1] !== 0 || a < rdLo || a > rdHi - 2) { why = Exit.Memory; break run; }
        const d = (w >> 8) & 0xff;
        M[d] = dv.getUint16(a, true); M[d | 1] = 0;
        pc = (pc + 4) | 0; continue;
      }
      case Op.Ldxw: {
        const b = w >>> 16, a = (M[b] + M[pc | 1]) | 0;
        if (M[b | 1] !== 0 || a < rdLo || a > rdHi - 4) { why = Exit.Memory; break run; }
        const d = (w >> 8) & 0xff;
        M[d] = dv.getInt32(a, true); M[d | 1] = 0;
        pc = (pc + 4) | 0; continue;
      }
      case Op.Ldxdw: {
        const b = w >>> 16, a = (M[b] + M[pc | 1]) | 0;
        if (M[b | 1] !== 0 || a < rdLo || a > rdHi - 8) { why = Exit.Memory; break run; }
        const d = (w >> 8) & 0xff;
        M[d] = dv.getInt32(a, true); M[d | 1] = dv.getInt32(a + 4, true);
        pc = (pc + 4) | 0; continue;
      }
      case Op.Ldxsb: {
        const b = w >>> 16, a = (M[b] + M[pc | 1]) | 0;
        if (M[b | 1] !== 0 || a < rdLo || a > rdHi - 1) { why = Exit.Memory; break run; }
        const d = (w >> 8) & 0xff;
        const v = dv.getInt8(a); M[d] = v; M[d | 1] = v >> 31;
        pc = (pc + 4) | 0; continue;
      }
      case Op.Ldxsh: {
        const b = w >>> 16, a = (M[b] + M[pc | 1]) | 0;
        if (M[b | 1] !== 0 || a < rdLo || a > rdHi - 2) { why = Exit.Memory; break run; }
        const d = (w >> 8) & 0xff;
        const v = dv.getInt16(a, true); M[d] = v; M[d | 1] = v >> 31;
        pc = (pc + 4) | 0; continue;
      }
      case Op.Ldxsw: {
        const b = w >>> 16, a = (M[b] + M[pc | 1]) | 0;
        if (M[b | 1] !== 0 || a < rdLo || a > rdHi - 4) { why = Exit.Memory; break run; }
        const d = (w >> 8) & 0xff;
        const v = dv.getInt32(a, true); M[d] = v; M[d | 1] = v >> 31;
        pc = (pc + 4) | 0; continue;
      }
      // ---- Stores (RFC 9669 section 5.1): A = base, B = src (X forms), word 1 = off, word 2 = imm (K forms),
      // checked against the cached writable region.
      case Op.Stb: case Op.Stxb: {
        const b = (w >> 8) & 0xff, a = (M[b] + M[pc | 1]) | 0;
        if (M[b | 1] !== 0 || a < wrLo || a > wrHi - 1) { why = Exit.Memory; break run; }
        if (a < low) low = a;
        u8[a] = (w & 0xff) === Op.Stb ? M[pc | 2] : M[w >>> 16];
        pc = (pc + 4) | 0; continue;
      }
      case Op.Sth: case Op.Stxh: {
        const b = (w >> 8) & 0xff, a = (M[b] + M[pc | 1]) | 0;
        if (M[b | 1] !== 0 || a < wrLo || a > wrHi - 2) { why = Exit.Memory; break run; }
        if (a < low) low = a;
        dv.setInt16(a, (w & 0xff) === Op.Sth ? M[pc | 2] : M[w >>> 16], true);
        pc = (pc + 4) | 0; continue;
      }
      case Op.Stw: case Op.Stxw: {
        const b = (w >> 8) & 0xff, a = (M[b] + M[pc | 1]) | 0;
        if (M[b | 1] !== 0 || a < wrLo || a > wrHi - 4) { why = Exit.Memory; break run; }
        if (a < low) low = a;
        dv.setInt32(a, (w & 0xff) === Op.Stw ? M[pc | 2] : M[w >>> 16], true);
        pc = (pc + 4) | 0; continue;
      }
      case Op.Stdw: case Op.Stxdw: {
        const b = (w >> 8) & 0xff, a = (M[b] + M[pc | 1]) | 0;
        if (M[b | 1] !== 0 || a < wrLo || a > wrHi - 8) { why = Exit.Memory; break run; }
        if (a < low) low = a;
        // ST DW stores the sign-extended imm.
        if ((w & 0xff) === Op.Stdw) { const k = M[pc | 2]; dv.setInt32(a, k, true); dv.setInt32(a + 4, k >> 31, true); } else { const s = w >>> 16; dv.setInt32(a, M[s], true); dv.setInt32(a + 4, M[s | 1], true); }
        pc = (pc + 4) | 0; continue;
      }
      // ---- Atomics (RFC 9669 section 5.3) are rare: the driver does them, region check and alignment included.
      case Op.Atomic32: case Op.Atomic64: why = Exit.Memory; break run;

      // ---- Legacy packet loads (RFC 9669 section 5.5): big-endian from the packet. LD_IND's offset is the low
      // half of the index plus imm in 32-bit arithmetic, read signed (as Linux did). Any byte outside the
      // packet, or no packet, ends the program at once with r0 = 0.
      case Op.LdPkt: {
        const size = M[pc | 2], x = (w >> 8) & 0xff, len = M[Layout.PktLen];
        const off = x === 0xff ? M[pc | 1] : (M[x] + M[pc | 1]) | 0;
        if (len < 0 || off < 0 || off > len - size) { M[0] = 0; M[1] = 0; why = Exit.Return; break run; }
        const p = (M[Layout.PktStart] >>> 0) + off;
        M[0] = size === 1 ? u8[p] : size === 2 ? dv.getUint16(p, false) : dv.getInt32(p, false);
        M[1] = 0;
        pc = (pc + 4) | 0; continue;
      }

      // ---- Jumps (RFC 9669 section 4.3): A = dst, B = src (X forms), word 1 = imm (K forms), word 3 = target
      // position. Taken jumps `break` to the back-edge code after the switch. Ordered 64-bit compares look at
      // the high halves first (unsigned, or signed for s*), then the low halves unsigned.
      //
      // First the superinstruction (code.ts, `fuse`): add a 64-bit value (words 1-2), then run the 64-bit
      // conditional jump in the next slot, its condition a truth table over (eq, unsigned less, signed less) in
      // bits 16-23 of `w`; bit 24 says whether the jump compares with a register.
      case Op.AddJcc64: {
        const d = (w >> 8) & 0xff, al = M[d], lo = (al + M[pc | 1]) | 0;
        M[d] = lo;
        M[d | 1] = (M[d | 1] + M[pc | 2] + ((lo >>> 0) < (al >>> 0) ? 1 : 0)) | 0;
        // Now the jump, from its own slot.
        pc = (pc + 4) | 0;
        const j = M[pc], x = (j >> 8) & 0xff, xl = M[x], xh = M[x | 1];
        let bl: number, bh: number;
        if ((w >>> 24) !== 0) { const s = j >>> 16; bl = M[s]; bh = M[s | 1]; } else { bl = M[pc | 1]; bh = bl >> 31; }
        const i = (xl === bl && xh === bh ? 1 : 0) |
          (xh !== bh ? ((xh >>> 0) < (bh >>> 0) ? 2 : 0) | (xh < bh ? 4 : 0) : (xl >>> 0) < (bl >>> 0) ? 6 : 0);
        if ((((w >>> 16) & 0xff) >>> i) & 1) break;
        pc = (pc + 4) | 0; continue;
      }
      case Op.Ja: break;
      case Op.Jeq64K: { const d = (w >> 8) & 0xff, k = M[pc | 1]; if (M[d] === k && M[d | 1] === k >> 31) break; pc = (pc + 4) | 0; continue; }
      case Op.Jeq64X: { const d = (w >> 8) & 0xff, s = w >>> 16; if (M[d] === M[s] && M[d | 1] === M[s | 1]) break; pc = (pc + 4) | 0; continue; }
      case Op.Jeq32K: if (M[(w >> 8) & 0xff] === M[pc | 1]) break; pc = (pc + 4) | 0; continue;
      case Op.Jeq32X: if (M[(w >> 8) & 0xff] === M[w >>> 16]) break; pc = (pc + 4) | 0; continue;
      case Op.Jne64K: { const d = (w >> 8) & 0xff, k = M[pc | 1]; if (M[d] !== k || M[d | 1] !== k >> 31) break; pc = (pc + 4) | 0; continue; }
      case Op.Jne64X: { const d = (w >> 8) & 0xff, s = w >>> 16; if (M[d] !== M[s] || M[d | 1] !== M[s | 1]) break; pc = (pc + 4) | 0; continue; }
      case Op.Jne32K: if (M[(w >> 8) & 0xff] !== M[pc | 1]) break; pc = (pc + 4) | 0; continue;
      case Op.Jne32X: if (M[(w >> 8) & 0xff] !== M[w >>> 16]) break; pc = (pc + 4) | 0; continue;
      case Op.Jset64K: { const d = (w >> 8) & 0xff, k = M[pc | 1]; if ((M[d] & k) !== 0 || (M[d | 1] & (k >> 31)) !== 0) break; pc = (pc + 4) | 0; continue; }
      case Op.Jset64X: { const d = (w >> 8) & 0xff, s = w >>> 16; if ((M[d] & M[s]) !== 0 || (M[d | 1] & M[s | 1]) !== 0) break; pc = (pc + 4) | 0; continue; }
      case Op.Jset32K: if ((M[(w >> 8) & 0xff] & M[pc | 1]) !== 0) break; pc = (pc + 4) | 0; continue;
      case Op.Jset32X: if ((M[(w >> 8) & 0xff] & M[w >>> 16]) !== 0) break; pc = (pc + 4) | 0; continue;
      case Op.Jgt64K: { const d = (w >> 8) & 0xff, k = M[pc | 1], ah = M[d | 1] >>> 0, bh = (k >> 31) >>> 0; if (ah > bh || (ah === bh && (M[d] >>> 0) > (k >>> 0))) break; pc = (pc + 4) | 0; continue; }
      case Op.Jgt64X: { const d = (w >> 8) & 0xff, s = w >>> 16, ah = M[d | 1] >>> 0, bh = M[s | 1] >>> 0; if (ah > bh || (ah === bh && (M[d] >>> 0) > (M[s] >>> 0))) break; pc = (pc + 4) | 0; continue; }
      case Op.Jgt32K: if ((M[(w >> 8) & 0xff] >>> 0) > (M[pc | 1] >>> 0)) break; pc = (pc + 4) | 0; continue;
      case Op.Jgt32X: if ((M[(w >> 8) & 0xff] >>> 0) > (M[w >>> 16] >>> 0)) break; pc = (pc + 4) | 0; continue;
      case Op.Jge64K: { const d = (w >> 8) & 0xff, k = M[pc | 1], ah = M[d | 1] >>> 0, bh = (k >> 31) >>> 0; if (ah > bh || (ah === bh && (M[d] >>> 0) >= (k >>> 0))) break; pc = (pc + 4) | 0; continue; }
      case Op.Jge64X: { const d = (w >> 8) & 0xff, s = w >>> 16, ah = M[d | 1] >>> 0, bh = M[s | 1] >>> 0; if (ah > bh || (ah === bh && (M[d] >>> 0) >= (M[s] >>> 0))) break; pc = (pc + 4) | 0; continue; }
      case Op.Jge32K: if ((M[(w >> 8) & 0xff] >>> 0) >= (M[pc | 1] >>> 0)) break; pc = (pc + 4) | 0; continue;
      case Op.Jge32X: if ((M[(w >> 8) & 0xff] >>> 0) >= (M[w >>> 16] >>> 0)) break; pc = (pc + 4) | 0; continue;
      case Op.Jlt64K: { const d = (w >> 8) & 0xff, k = M[pc | 1], ah = M[d | 1] >>> 0, bh = (k >> 31) >>> 0; if (ah < bh || (ah === bh && (M[d] >>> 0) < (k >>> 0))) break; pc = (pc + 4) | 0; continue; }
      case Op.Jlt64X: { const d = (w >> 8) & 0xff, s = w >>> 16, ah = M[d | 1] >>> 0, bh = M[s | 1] >>> 0; if (ah < bh || (ah === bh && (M[d] >>> 0) < (M[s] >>> 0))) break; pc = (pc + 4) | 0; continue; }
      case Op.Jlt32K: if ((M[(w >> 8) & 0xff] >>> 0) < (M[pc | 1] >>> 0)) break; pc = (pc + 4) | 0; continue;
      case Op.Jlt32X: if ((M[(w >> 8) & 0xff] >>> 0) < (M[w >>> 16] >>> 0)) break; pc = (pc + 4) | 0; continue;
      case Op.Jle64K: { const d = (w >> 8) & 0xff, k = M[pc | 1], ah = M[d | 1] >>> 0, bh = (k >> 31) >>> 0; if (ah < bh || (ah === bh && (M[d] >>> 0) <= (k >>> 0))) break; pc = (pc + 4) | 0; continue; }
      case Op.Jle64X: { const d = (w >> 8) & 0xff, s = w >>> 16, ah = M[d | 1] >>> 0, bh = M[s | 1] >>> 0; if (ah < bh || (ah === bh && (M[d] >>> 0) <= (M[s] >>> 0))) break; pc = (pc + 4) | 0; continue; }
      case Op.Jle32K: if ((M[(w >> 8) & 0xff] >>> 0) <= (M[pc | 1] >>> 0)) break; pc = (pc + 4) | 0; continue;
      case Op.Jle32X: if ((M[(w >> 8) & 0xff] >>> 0) <= (M[w >>> 16] >>> 0)) break; pc = (pc + 4) | 0; continue;
      case Op.Jsgt64K: { const d = (w >> 8) & 0xff, k = M[pc | 1], ah = M[d | 1], bh = k >> 31; if (ah > bh || (ah === bh && (M[d] >>> 0) > (k >>> 0))) break; pc = (pc + 4) | 0; continue; }
      case Op.Jsgt64X: { const d = (w >> 8) & 0xff, s = w >>> 16, ah = M[d | 1], bh = M[s | 1]; if (ah > bh || (ah === bh && (M[d] >>> 0) > (M[s] >>> 0))) break; pc = (pc + 4) | 0; continue; }
      case Op.Jsgt32K: if (M[(w >> 8) & 0xff] > M[pc | 1]) break; pc = (pc + 4) | 0; continue;
      case Op.Jsgt32X: if (M[(w >> 8) & 0xff] > M[w >>> 16]) break; pc = (pc + 4) | 0; continue;
      case Op.Jsge64K: { const d = (w >> 8) & 0xff, k = M[pc | 1], ah = M[d | 1], bh = k >> 31; if (ah > bh || (ah === bh && (M[d] >>> 0) >= (k >>> 0))) break; pc = (pc + 4) | 0; continue; }
      case Op.Jsge64X: { const d = (w >> 8) & 0xff, s = w >>> 16, ah = M[d | 1], bh = M[s | 1]; if (ah > bh || (ah === bh && (M[d] >>> 0) >= (M[s] >>> 0))) break; pc = (pc + 4) | 0; continue; }
      case Op.Jsge32K: if (M[(w >> 8) & 0xff] >= M[pc | 1]) break; pc = (pc + 4) | 0; continue;
      case Op.Jsge32X: if (M[(w >> 8) & 0xff] >= M[w >>> 16]) break; pc = (pc + 4) | 0; continue;
      case Op.Jslt64K: { const d = (w >> 8) & 0xff, k = M[pc | 1], ah = M[d | 1], bh = k >> 31; if (ah < bh || (ah === bh && (M[d] >>> 0) < (k >>> 0))) break; pc = (pc + 4) | 0; continue; }
      case Op.Jslt64X: { const d = (w >> 8) & 0xff, s = w >>> 16, ah = M[d | 1], bh = M[s | 1]; if (ah < bh || (ah === bh && (M[d] >>> 0) < (M[s] >>> 0))) break; pc = (pc + 4) | 0; continue; }
      case Op.Jslt32K: if (M[(w >> 8) & 0xff] < M[pc | 1]) break; pc = (pc + 4) | 0; continue;
      case Op.Jslt32X: if (M[(w >> 8) & 0xff] < M[w >>> 16]) break; pc = (pc + 4) | 0; continue;
      case Op.Jsle64K: { const d = (w >> 8) & 0xff, k = M[pc | 1], ah = M[d | 1], bh = k >> 31; if (ah < bh || (ah === bh && (M[d] >>> 0) <= (k >>> 0))) break; pc = (pc + 4) | 0; continue; }
      case Op.Jsle64X: { const d = (w >> 8) & 0xff, s = w >>> 16, ah = M[d | 1], bh = M[s | 1]; if (ah < bh || (ah === bh && (M[d] >>> 0) <= (M[s] >>> 0))) break; pc = (pc + 4) | 0; continue; }
      case Op.Jsle32K: if (M[(w >> 8) & 0xff] <= M[pc | 1]) break; pc = (pc + 4) | 0; continue;
      case Op.Jsle32X: if (M[(w >> 8) & 0xff] <= M[w >>> 16]) break; pc = (pc + 4) | 0; continue;

      // ---- Calls and exit (RFC 9669 sections 4.3.1-4.3.2).
      case Op.CallHelper: case Op.Callx: why = Exit.Helper; break run;
      case Op.CallBtf:
        throw new ExecutionError('unknown_helper', `call to kernel function (btf id ${M[pc | 1]}) is not supported`, slotAt(M, pc));
      case Op.CallLocal: {
        // MAX_CALL_DEPTH frames in all, the entry function's included. Depth is checked before the budget: a
        // call that cannot happen consumes nothing.
        if (depth + 1 >= MAX_CALL_DEPTH) {
          throw new ExecutionError('call_depth', `call depth exceeds ${MAX_CALL_DEPTH} frames`, slotAt(M, pc));
        }
        if (--left < 0) { why = Exit.Budget; break run; }
        // Save the return position and r6..r10 (each function has its own frame pointer), then enter the
        // callee with a fresh 512-byte frame below the caller's.
        const f = Layout.Frames + depth * Layout.FrameWords;
        M[f] = pc + 4;
        for (let i = 0; i < 10; i++) M[f + 1 + i] = M[Layout.R6 + i];
        depth++;
        M[Layout.R10] = M[Layout.StackTop] - depth * STACK_FRAME_SIZE;
        M[Layout.R10 | 1] = 0;
        pc = M[pc | 3];
        continue;
      }
      case Op.Exit: {
        if (depth === 0) { why = Exit.Return; break run; }
        depth--;
        const f = Layout.Frames + depth * Layout.FrameWords;
        for (let i = 0; i < 10; i++) M[Layout.R6 + i] = M[f + 1 + i];
        pc = M[f];
        continue;
      }
      case Op.Count:
        M[Layout.Steps] = (M[Layout.Steps] + 1) | 0;
        if (M[Layout.Steps] === 0) M[Layout.Steps + 1]++;
        pc = (pc + 4) | 0; continue;
      case Op.End:
        throw new ExecutionError('fell_off_end', 'execution fell off the end of the program', M[pc | 1]);
      default:
        throw new InternalError(`interpreter: bad pre-decoded op ${w & 0xff} at position ${pc - Layout.CodeBase}`, slotAt(M, pc));
    }

    // A taken jump (every `break` above). A backward one (target <= pc) consumes budget.
    const t = M[pc | 3];
    if (t <= pc && --left < 0) { why = Exit.Budget; break run; }
    pc = t;
  }
  M[Layout.Pc] = pc;
  M[Layout.Depth] = depth;
  M[Layout.Left] = left;
  M[Layout.StoreLow] = low;
  return why;
}
