/**
 * Lowering of memory instructions (RFC 9669 section 5): loads, sign-extending loads, stores, atomics and the
 * legacy packet loads, with the run-time checks of the memory rule of src/exec.ts: an access of `size` bytes
 * at `addr` must lie wholly inside this execution's stack or one region (stores: a writable one).
 *
 * A checked access costs, inline, in the `slots` variant (frame.ts, `RegionChecks`), one compare against each
 * region slot until one holds, then one against the stack; failing all of them calls the JS host
 * (`mem_miss`), which raises `out_of_bounds` / `read_only` and never returns. That no call on the check path
 * returns is what keeps checked loops fast: V8 allocates registers around a returning call even on a cold
 * path. The `cache` variant (more regions than slots) compares against a one-entry cache per access kind and
 * calls `mem_slow` on a miss. Two kinds of access skip the check entirely:
 * - accesses the verifier proved safe (`LowerOptions.proven`);
 * - `r10`-relative accesses within the current frame (`-512 <= off`, `off + size <= 0`) in a function that
 *   never writes r10: r10 is then `fp`, whose frame lies inside the stack by construction (lower-call.ts keeps
 *   the depth under MAX_CALL_DEPTH).
 *
 * All address arithmetic of the check is in i64, so no register value can wrap a bad address into a good one;
 * the Wasm address is `i32.wrap` of an address that passed, hence exact.
 *
 * Not here: the region search in JS (host.ts), helper calls (lower-call.ts).
 */

import { assertNever } from '../src/errors.js';
import { STACK_FRAME_SIZE, STACK_SIZE } from '../src/exec.js';
import type { AtomicInsn, LdPktInsn, LoadInsn, Reg, StoreInsn } from '../src/isa/insn.js';
import type { Expr, WasmBuilder } from './binaryen.js';
import { F, G, L_ADDR, L_FP, L_STACK_LO, L_TMP, REGION_SLOTS, type FnContext } from './frame.js';
import { bswap16, bswap32 } from './lower-alu.js';

/** The checked address of one access: statements to run first, then the i32 address (a fresh expression per call). */
interface Access {
  readonly check: Expr | undefined;
  readonly ptr: () => Expr;
}

/**
 * Checks `[base + off, base + off + size)` and yields its i32 address. The `slots` variant:
 *
 *     (local.set $addr (i64.add $base (i64.const off)))
 *     (if (i64.lt_u (i64.sub $addr (global.get $rd0_lo)) (global.get $rd0_span4))  ;; in load slot 0?
 *       (then) (else <slots 1..3 alike, innermost:
 *         (if (i64.gt_u (i64.sub $addr $stack_lo) (i64.const 4096 - size))        ;; not in the stack either
 *           (then (call $mem_miss $addr (i32.const size) (i32.const write) (i32.const pc)) (unreachable)))>))
 *     ... (i32.wrap_i64 $addr)
 *
 * The `cache` variant checks the stack first, then the cached region, and calls `mem_slow` on a miss, which
 * returns when the access is allowed.
 */
function access(ctx: FnContext, pc: number, base: Reg, off: number, size: number, write: boolean): Access {
  const b = ctx.b;
  if (base === 10 && !ctx.r10Written && off >= -STACK_FRAME_SIZE && off + size <= 0) {
    return { check: undefined, ptr: () => b.i32.add(b.getLocal(L_FP, 'i32'), b.i32.const(off)) };
  }
  if (ctx.options.proven(pc)) {
    return { check: undefined, ptr: () => b.i32.add(ctx.get32(base), b.i32.const(off)) };
  }
  // With no offset the base register itself is the address: nothing writes it between check and access.
  const setAddr = off === 0 ? undefined : b.setLocal(L_ADDR, b.i64.add(ctx.get(base), b.i64.const(BigInt(off))));
  const addr = (): Expr => (off === 0 ? ctx.get(base) : b.getLocal(L_ADDR, 'i64'));
  const i64 = b.i64;
  const sizeC = (): Expr => i64.const(BigInt(size));
  const pcArgs = (): Expr[] => [b.i32.const(write ? 1 : 0), b.i32.const(pc)];
  const notStack = (): Expr => i64.gt_u(i64.sub(addr(), b.getLocal(L_STACK_LO, 'i64')), i64.const(BigInt(STACK_SIZE - size)));
  let check: Expr;
  if (ctx.options.regionChecks === 'slots') {
    // Built inside out: the fault, guarded by the stack, then by each slot from the last to the first. Regions
    // come first since pointers to the stack mostly travel in r10, whose accesses need no check at all.
    check = b.if(notStack(), b.block([b.call(F.memMiss, [addr(), b.i32.const(size), ...pcArgs()], 'none'), b.unreachable()]));
    for (let k = REGION_SLOTS - 1; k >= 0; k--) {
      const lo = write ? G.wrLo(k) : G.rdLo(k);
      const span = write ? G.wrSpan(k, size) : G.rdSpan(k, size);
      check = b.if(i64.lt_u(i64.sub(addr(), b.getGlobal(lo, 'i64')), b.getGlobal(span, 'i64')), b.nop(), check);
    }
  } else {
    const lo = write ? G.wrcLo : G.rdcLo;
    const len = write ? G.wrcLen : G.rdcLen;
    check = b.if(
      notStack(),
      b.if(
        i64.gt_u(i64.sub(addr(), b.getGlobal(lo, 'i64')), i64.sub(b.getGlobal(len, 'i64'), sizeC())),
        b.call(F.memSlow, [addr(), sizeC(), ...pcArgs()], 'none'),
      ),
    );
  }
  return { check: setAddr === undefined ? check : b.block([setAddr, check]), ptr: () => b.i32.wrap(addr()) };
}

function withCheck(ctx: FnContext, a: Access, stmt: Expr): Expr {
  return a.check === undefined ? stmt : ctx.b.block([a.check, stmt]);
}

/**
 * `dst = *(size *)(src + off)`, zero-extended, or sign-extended for MEMSX (RFC 9669 section 5.2).
 *
 *     <check>  (local.set $r0 (i64.load32_u (i32.wrap_i64 $addr)))
 */
export function lowerLoad(ctx: FnContext, insn: LoadInsn): Expr {
  const a = access(ctx, insn.pc, insn.base, insn.off, insn.size, false);
  return withCheck(ctx, a, ctx.set(insn.dst, ctx.b.load64(insn.size, insn.signed, a.ptr())));
}

/**
 * `*(size *)(dst + off) = src` (STX) or `= imm` (ST; the immediate sign-extended, then truncated to `size`).
 *
 *     <check>  (i64.store16 (i32.wrap_i64 $addr) $r2)
 */
export function lowerStore(ctx: FnContext, insn: StoreInsn): Expr {
  const b = ctx.b;
  const a = access(ctx, insn.pc, insn.base, insn.off, insn.size, true);
  const value = insn.value.kind === 'reg' ? ctx.get(insn.value.reg) : b.i64.const(BigInt(insn.value.imm));
  return withCheck(ctx, a, b.store64(insn.size, a.ptr(), value));
}

/**
 * Atomic read-modify-write (RFC 9669 section 5.3) as a Wasm atomic, so it stays atomic on shared memory. Wasm
 * atomics trap on a misaligned address, so alignment is checked first and raises `misaligned_atomic`.
 *
 *     <check (as a store)>
 *     (if (i32.and (i32.wrap_i64 $addr) (i32.const size - 1)) (then <fault misaligned_atomic>))
 *     (local.set $r2 (i64.atomic.rmw32.add_u (i32.wrap_i64 $addr) $r2))          ;; add32 with fetch
 *     (local.set $r0 (i64.atomic.rmw.cmpxchg (i32.wrap_i64 $addr) $r0 $r2))      ;; cmpxchg64
 */
export function lowerAtomic(ctx: FnContext, insn: AtomicInsn): Expr {
  const b = ctx.b;
  const a = access(ctx, insn.pc, insn.base, insn.off, insn.size, true);
  const aligned = b.if(
    b.i32.and(a.ptr(), b.i32.const(insn.size - 1)),
    ctx.fault('misaligned_atomic', insn.pc, b.i64.extend_u(a.ptr()), insn.size),
  );
  let op: Expr;
  switch (insn.op) {
    case 'cmpxchg':
      op = ctx.set(0, b.atomicCmpxchg(insn.size, a.ptr(), ctx.get(0), ctx.get(insn.src)));
      break;
    case 'xchg':
      op = ctx.set(insn.src, b.atomicRmw('xchg', insn.size, a.ptr(), ctx.get(insn.src)));
      break;
    case 'add':
    case 'or':
    case 'and':
    case 'xor': {
      const rmw = b.atomicRmw(insn.op, insn.size, a.ptr(), ctx.get(insn.src));
      op = insn.fetch ? ctx.set(insn.src, rmw) : b.drop(rmw);
      break;
    }
    default:
      return assertNever(insn.op, 'atomic operation');
  }
  return b.block([...(a.check === undefined ? [] : [a.check]), aligned, op]);
}

/**
 * Legacy packet load (RFC 9669 section 5.5): `r0 = ntoh(*(size *)(packet + off))` with `off = imm` (abs) or
 * `off = (s32)(src + imm)` (ind). Outside the packet the whole program ends with r0 = 0 (`pkt_abort`).
 *
 *     (local.set $addr (i64.extend_i32_s (i32.add (i32.wrap_i64 $src) (i32.const imm))))
 *     (if (i32.or (i64.lt_s $addr (i64.const 0))
 *                 (i64.gt_s (i64.add $addr (i64.const size)) (global.get $pkt_len)))
 *       (then (call $pkt_abort (i32.const pc)) (unreachable)))
 *     (local.set $tmp (i64.load32_u (i32.wrap_i64 (i64.add (global.get $pkt_lo) $addr))))
 *     (local.set $r0 (i64.extend_i32_u (bswap32 (i32.wrap_i64 $tmp))))
 */
export function lowerLdPkt(ctx: FnContext, insn: LdPktInsn): Expr {
  const b = ctx.b;
  const i64 = b.i64;
  const off = insn.index === null ? b.i32.const(insn.imm) : b.i32.add(ctx.get32(insn.index), b.i32.const(insn.imm));
  const abort = b.block([b.call(F.pktAbort, [b.i32.const(insn.pc)], 'none'), b.unreachable()]);
  const addr = (): Expr => b.getLocal(L_ADDR, 'i64');
  const check = b.if(
    b.i32.or(
      i64.lt_s(addr(), i64.const(0n)),
      i64.gt_s(i64.add(addr(), i64.const(BigInt(insn.size))), b.getGlobal(G.pktLen, 'i64')),
    ),
    abort,
  );
  const ptr = (): Expr => b.i32.wrap(i64.add(b.getGlobal(G.pktLo, 'i64'), addr()));
  // The word is read once (into $tmp): on shared memory two reads could see two different values.
  const word = (): Expr => b.i32.wrap(b.getLocal(L_TMP, 'i64'));
  const load =
    insn.size === 1
      ? ctx.set(0, b.load64(1, false, ptr()))
      : b.block([b.setLocal(L_TMP, b.load64(insn.size, false, ptr())), ctx.set32(0, insn.size === 2 ? bswap16(ctx, word) : bswap32(ctx, word))]);
  return b.block([b.setLocal(L_ADDR, i64.extend_s(off)), check, load]);
}

/**
 * The `cache` variant's slow path, `mem_slow(addr i64, size i64, write i32, pc i32)`: searches the load or store
 * slots; a hit refills the cache of its kind (when the region has at least 8 bytes: the cache invariant) and
 * returns; a miss calls the JS host, which checks every region (there may be more than the slots) and returns
 * or raises the fault.
 *
 *     (func $mem_slow (param $addr i64) (param $size i64) (param $write i32) (param $pc i32)
 *       (if $write (then <for each store slot k:
 *         (if (i32.and (i64.ge_u (global.get $wrk_len) $size)
 *                      (i64.le_u (i64.sub $addr (global.get $wrk_lo)) (i64.sub (global.get $wrk_len) $size)))
 *           (then <if $wrk_len >= 8: $wrc_lo = $wrk_lo, $wrc_len = $wrk_len> (return)))>)
 *         (else <the same over the load slots, refilling $rdc_lo / $rdc_len>))
 *       (call $mem_miss $addr (i32.wrap_i64 $size) $write $pc))
 */
export function buildMemSlow(b: WasmBuilder): void {
  const i64 = b.i64;
  const pa = (): Expr => b.getLocal(0, 'i64');
  const psize = (): Expr => b.getLocal(1, 'i64');
  const search = (write: boolean): Expr => {
    const out: Expr[] = [];
    for (let k = 0; k < REGION_SLOTS; k++) {
      const lo = (): Expr => b.getGlobal(write ? G.wrLo(k) : G.rdLo(k), 'i64');
      const len = (): Expr => b.getGlobal(write ? G.wrLen(k) : G.rdLen(k), 'i64');
      const refill = b.block([b.setGlobal(write ? G.wrcLo : G.rdcLo, lo()), b.setGlobal(write ? G.wrcLen : G.rdcLen, len())]);
      out.push(
        b.if(
          // Both operands are evaluated; `len - size` may wrap, but then the first one is false.
          b.i32.and(i64.ge_u(len(), psize()), i64.le_u(i64.sub(pa(), lo()), i64.sub(len(), psize()))),
          b.block([b.if(i64.ge_u(len(), i64.const(8n)), refill), b.return()]),
        ),
      );
    }
    return b.block(out);
  };
  const body = [
    b.if(b.getLocal(2, 'i32'), search(true), search(false)),
    b.call(F.memMiss, [pa(), b.i32.wrap(psize()), b.getLocal(2, 'i32'), b.getLocal(3, 'i32')], 'none'),
  ];
  b.addFunction(F.memSlow, ['i64', 'i64', 'i32', 'i32'], 'none', [], b.block(body), ['addr', 'size', 'write', 'pc']);
}
