/**
 * Lowering of memory instructions (RFC 9669 section 5): loads, sign-extending loads, stores, atomics and the
 * legacy packet loads, with the run-time checks of the memory rule of src/exec.ts: an access of `size` bytes
 * at `addr` must lie wholly inside this execution's stack or one region (stores: a writable one).
 *
 * A checked access costs, inline, in the `slots` variant (frame.ts, `RegionChecks`), one compare against each
 * region slot until one holds (biased: `addr - lo <u span(size)`, one unsigned compare a slot), then one against
 * the stack; failing all of them traps (frame.ts, `TRAPS`), and the host raises `out_of_bounds` / `read_only`.
 * No call sits on the check path: V8 allocates registers around a call even on a path never taken, and does not
 * unroll a loop that holds one. The `cache` variant (more regions than slots) compares against a one-entry
 * cache per access kind and calls `mem_slow` on a miss. What skips checks:
 * - accesses the verifier proved safe (`LowerOptions.proven`);
 * - `r10`-relative accesses within the current frame (`-512 <= off`, `off + size <= 0`) in a function that
 *   never writes r10: r10 is then `fp`, whose frame lies inside the stack by construction (lower-call.ts keeps
 *   the depth under MAX_CALL_DEPTH);
 * - access groups ({@link planGroups}): neighbouring accesses of one block through one base register share one
 *   check of their whole range, which picks an unchecked copy of their segment; when it fails, a copy with
 *   every check runs, so each access still faults at its own pc after the ones before it.
 *
 * All address arithmetic of the check is in i64, so no register value can wrap a bad address into a good one;
 * the Wasm address is `i32.wrap` of an address that passed, hence exact. Stores that land in the stack through a
 * check mark it dirty for the packet path (frame.ts, `PACKET_ENTRIES`).
 *
 * Not here: the region search in JS (host.ts), helper calls (lower-call.ts).
 */

import { assertNever } from '../src/errors.js';
import { STACK_FRAME_SIZE, STACK_SIZE } from '../src/exec.js';
import type { AtomicInsn, Insn, LdPktInsn, LoadInsn, Reg, StoreInsn } from '../src/isa/insn.js';
import type { Expr, WasmBuilder } from './binaryen.js';
import { ACCESS_SIZES, F, G, L_ADDR, L_FP, L_STACK_LO, L_TMP, REGION_SLOTS, type FnContext } from './frame.js';
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
 *           (then <fault mem_load pc $addr size>)                                  ;; frame.ts, FnContext.fault
 *           [(else (global.set $dirty (i32.const 1)))])>))                         ;; stores
 *     ... (i32.wrap_i64 $addr)
 *
 * The `cache` variant checks the stack first, then the cached region, and calls `mem_slow` on a miss, which
 * returns when the access is allowed.
 */
function access(ctx: FnContext, pc: number, base: Reg, off: number, size: number, write: boolean): Access {
  const b = ctx.b;
  if (inFrame(ctx, base, off, size)) {
    if (write) ctx.noteFrameStore(off);
    return { check: undefined, ptr: () => b.i32.add(b.getLocal(L_FP, 'i32'), b.i32.const(off)) };
  }
  if (ctx.options.proven(pc) || ctx.covered.has(pc)) {
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
    ctx.use.spans[write ? 'wr' : 'rd'].add(size);
    // Built inside out: the fault, guarded by the stack, then by each slot from the last to the first. Regions
    // come first since pointers to the stack mostly travel in r10, whose accesses need no check at all.
    // A store that lands in the stack marks it dirty for the packet path (frame.ts, PACKET_ENTRIES).
    const miss = ctx.fault(write ? 'mem_store' : 'mem_load', pc, addr(), size);
    check = write ? b.if(notStack(), miss, ctx.markDirty()) : b.if(notStack(), miss);
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

/** An r10-relative access within the current frame, in a function that never writes r10: never checked. */
function inFrame(ctx: FnContext, base: Reg, off: number, size: number): boolean {
  return base === 10 && !ctx.r10Written && off >= -STACK_FRAME_SIZE && off + size <= 0;
}

/**
 * Checked accesses of one basic block through one base register that nothing writes between the first and the
 * last of them (see {@link planGroups}): `[base + lo, base + hi)` covers them all.
 */
export interface AccessGroup {
  readonly base: Reg;
  /** Index (in `program.insns`) of the first and of the last access: the segment the group spans. */
  readonly first: number;
  readonly last: number;
  /** The accesses, by pc. */
  readonly pcs: ReadonlySet<number>;
  readonly lo: number;
  readonly hi: number;
  /** Whether one of them writes (then the whole range must be in a writable region). */
  readonly write: boolean;
}

/** Widest range a group may cover (bytes): a wider one is no run of neighbouring fields, and would often fail. */
const MAX_GROUP_SPAN = 64;
/** Most instructions a group's segment may span (it is lowered twice). */
const MAX_GROUP_SEGMENT = 24;

/** The memory access of an instruction, if it has one that may need a check. */
function accessOf(insn: Insn): { base: Reg; off: number; size: number; write: boolean } | undefined {
  switch (insn.kind) {
    case 'load': return { base: insn.base, off: insn.off, size: insn.size, write: false };
    case 'store': case 'atomic': return { base: insn.base, off: insn.off, size: insn.size, write: true };
    default: return undefined;
  }
}

/** The registers an instruction writes (after its memory access, for loads). */
export function defs(insn: Insn): readonly Reg[] {
  switch (insn.kind) {
    case 'alu': case 'neg': case 'movsx': case 'endian': case 'lddw': case 'load':
      return [insn.dst];
    case 'atomic':
      return insn.op === 'cmpxchg' ? [0] : insn.op === 'xchg' || insn.fetch ? [insn.src] : [];
    case 'call':
      return insn.target.kind === 'local' ? [0, 1, 2, 3, 4, 5] : [0];
    case 'callx': case 'ldpkt':
      return [0];
    case 'store': case 'ja': case 'jcond': case 'exit':
      return [];
    default:
      return assertNever(insn, 'instruction');
  }
}

/**
 * The access groups of `insns[first..last]` (one basic block) worth one check for all: two or more checked
 * accesses through a base register no instruction between them writes, within {@link MAX_GROUP_SPAN} bytes;
 * where two groups' segments overlap, the larger one. `slots` variant only.
 *
 * Why: a check costs a few instructions and a branch, and in a loop it keeps V8 from unrolling; neighbouring
 * fields (headers, array elements, swaps) are the common case. Measured on the bubble sort (two loads, then two
 * stores, per iteration): 4.6 µs with four checks an iteration, 2.6 µs with one a block.
 */
export function planGroups(ctx: FnContext, first: number, last: number): AccessGroup[] {
  if (ctx.options.regionChecks !== 'slots') return [];
  interface Draft { base: Reg; first: number; last: number; pcs: Set<number>; lo: number; hi: number; write: boolean }
  const open = new Map<Reg, Draft>();
  const done: Draft[] = [];
  const insns = ctx.program.insns;
  for (let i = first; i <= last; i++) {
    const insn = insns[i];
    const a = accessOf(insn);
    if (a !== undefined && !inFrame(ctx, a.base, a.off, a.size) && !ctx.options.proven(insn.pc)) {
      let g = open.get(a.base);
      if (g !== undefined && (Math.max(g.hi, a.off + a.size) - Math.min(g.lo, a.off) > MAX_GROUP_SPAN || i - g.first >= MAX_GROUP_SEGMENT)) {
        done.push(g);
        g = undefined;
      }
      if (g === undefined) open.set(a.base, (g = { base: a.base, first: i, last: i, pcs: new Set(), lo: a.off, hi: a.off + a.size, write: false }));
      g.last = i;
      g.pcs.add(insn.pc);
      g.lo = Math.min(g.lo, a.off);
      g.hi = Math.max(g.hi, a.off + a.size);
      g.write ||= a.write;
    }
    for (const r of defs(insn)) {
      const g = open.get(r);
      if (g !== undefined) {
        done.push(g);
        open.delete(r);
      }
    }
  }
  done.push(...open.values());
  const picked: AccessGroup[] = [];
  for (const g of done.filter((d) => d.pcs.size >= 2).sort((x, y) => y.pcs.size - x.pcs.size || x.first - y.first)) {
    if (picked.every((p) => g.last < p.first || g.first > p.last)) picked.push(g);
  }
  return picked.sort((x, y) => x.first - y.first);
}

/**
 * The segment of access group `g` twice: `fast`, lowered with the group's accesses unchecked, runs when the
 * group's whole range lies in one region slot (store slots if it writes); `checked`, lowered as usual,
 * otherwise (the stack through a register other than r10, too: rare, and the checks find it). A range of 1, 2,
 * 4 or 8 bytes is one compare against the slot's span for that size; another width checks its first and its
 * last byte (both in one slot, whose length is below 2^32, cannot wrap around).
 *
 *     (block $d (block $c (block $f
 *           (local.set $addr (i64.add $base (i64.const lo)))
 *           (br_if $f (i64.lt_u (i64.sub $addr (global.get $rd0_lo)) (global.get $rd0_span8)))  ;; slots 0..3
 *           (br $c))
 *         <fast> (br $d))
 *       <checked>)
 */
export function guardGroup(ctx: FnContext, g: AccessGroup, fast: Expr, checked: Expr): Expr {
  const b = ctx.b;
  const i64 = b.i64;
  const width = g.hi - g.lo;
  const x = (): Expr => b.getLocal(L_ADDR, 'i64');
  const single = (ACCESS_SIZES as readonly number[]).includes(width);
  ctx.use.spans[g.write ? 'wr' : 'rd'].add(single ? width : 1);
  const inSlot = (k: number): Expr => {
    const lo = (): Expr => b.getGlobal(g.write ? G.wrLo(k) : G.rdLo(k), 'i64');
    if (single) return i64.lt_u(i64.sub(x(), lo()), b.getGlobal(g.write ? G.wrSpan(k, width) : G.rdSpan(k, width), 'i64'));
    const span1 = (): Expr => b.getGlobal(g.write ? G.wrSpan(k, 1) : G.rdSpan(k, 1), 'i64');
    return b.i32.and(i64.lt_u(i64.sub(x(), lo()), span1()), i64.lt_u(i64.sub(i64.add(x(), i64.const(BigInt(width - 1))), lo()), span1()));
  };
  const at = ctx.program.insns[g.first].pc;
  const [F_, C_, D_] = [`g${at}f`, `g${at}c`, `g${at}d`];
  const tests: Expr[] = [b.setLocal(L_ADDR, i64.add(ctx.get(g.base), i64.const(BigInt(g.lo))))];
  for (let k = 0; k < REGION_SLOTS; k++) tests.push(b.br(F_, inSlot(k)));
  tests.push(b.br(C_));
  return b.namedBlock(D_, [b.namedBlock(C_, [b.namedBlock(F_, tests), fast, b.br(D_)]), checked]);
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
 * `off = (s32)(src + imm)` (ind). Outside the packet the whole program ends with r0 = 0: the function sets
 * `stop`, which makes every caller return too (lower-call.ts), and returns 0.
 *
 *     (local.set $addr (i64.extend_i32_s (i32.add (i32.wrap_i64 $src) (i32.const imm))))
 *     (if (i32.or (i64.lt_s $addr (i64.const 0))
 *                 (i64.gt_s (i64.add $addr (i64.const size)) (global.get $pkt_len)))
 *       (then (global.set $stop (i32.const 1)) (return (i64.const 0))))
 *     (local.set $tmp (i64.load32_u (i32.wrap_i64 (i64.add (global.get $pkt_lo) $addr))))
 *     (local.set $r0 (i64.extend_i32_u (bswap32 (i32.wrap_i64 $tmp))))
 */
export function lowerLdPkt(ctx: FnContext, insn: LdPktInsn): Expr {
  const b = ctx.b;
  ctx.use.packet = true;
  const i64 = b.i64;
  const off = insn.index === null ? b.i32.const(insn.imm) : b.i32.add(ctx.get32(insn.index), b.i32.const(insn.imm));
  const abort = b.block([b.setGlobal(G.stop, b.i32.const(1)), b.return(i64.const(0n))]);
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

/**
 * Checks a helper's pointer argument (lower-call.ts): `[$addr, $addr + $tmp)`, the size in `$tmp` known only at
 * run time (1 <= size < 2^31), against the region slots (each: first and last byte in it; the first being in a
 * slot puts the address below 2^32, so adding the size cannot wrap) and the stack, faulting as an access of
 * that size would (`mem_load` / `mem_store`, with the size in `fault_size`). The `cache` variant checks the
 * stack, then calls `mem_slow`.
 *
 *     (if (i32.and (i64.lt_u (i64.sub $addr (global.get $rd0_lo)) (global.get $rd0_span1))
 *                  (i64.lt_u (i64.sub (i64.add $addr (i64.sub $tmp (i64.const 1))) (global.get $rd0_lo)) (global.get $rd0_span1)))
 *       (then) (else <slots 1..3 alike, innermost:
 *         (if <not both ends in [stack_lo, stack_lo + 4096)> (then <fault mem_load pc $addr, fault_size $tmp>)
 *           [(else (global.set $dirty (i32.const 1)))])>))                                    ;; writes
 */
export function checkRange(ctx: FnContext, pc: number, write: boolean): Expr {
  const b = ctx.b;
  const i64 = b.i64;
  const addr = (): Expr => b.getLocal(L_ADDR, 'i64');
  const last = (): Expr => i64.add(addr(), i64.sub(b.getLocal(L_TMP, 'i64'), i64.const(1n)));
  const within = (lo: () => Expr, len: () => Expr): Expr =>
    b.i32.and(i64.lt_u(i64.sub(addr(), lo()), len()), i64.lt_u(i64.sub(last(), lo()), len()));
  const stackLo = (): Expr => b.getLocal(L_STACK_LO, 'i64');
  const notStack = (): Expr => b.i32.eqz(within(stackLo, () => i64.const(BigInt(STACK_SIZE))));
  if (ctx.options.regionChecks === 'cache') {
    return b.if(notStack(), b.call(F.memSlow, [addr(), b.getLocal(L_TMP, 'i64'), b.i32.const(write ? 1 : 0), b.i32.const(pc)], 'none'));
  }
  ctx.use.spans[write ? 'wr' : 'rd'].add(1);
  const miss = ctx.faultSized(write ? 'mem_store' : 'mem_load', pc, addr(), b.i32.wrap(b.getLocal(L_TMP, 'i64')));
  let check = write ? b.if(notStack(), miss, ctx.markDirty()) : b.if(notStack(), miss);
  for (let k = REGION_SLOTS - 1; k >= 0; k--) {
    const lo = (): Expr => b.getGlobal(write ? G.wrLo(k) : G.rdLo(k), 'i64');
    const len = (): Expr => b.getGlobal(write ? G.wrSpan(k, 1) : G.rdSpan(k, 1), 'i64');
    check = b.if(within(lo, len), b.nop(), check);
  }
  return check;
}
