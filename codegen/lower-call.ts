/**
 * Lowering of calls and returns (RFC 9669 section 4.3.1): helper calls (imported JS functions, or the
 * WebAssembly functions of helpers that have that form, called directly), `callx`
 * (helper id in a register), bpf-to-bpf local calls (a direct Wasm call), `exit`, and the budget check that
 * taken back-edges and local calls share.
 *
 * Local calls: the callee gets the caller's r0..r9 as params (the interpreter has one register file, so a
 * callee starts from the caller's values) and a fresh frame, `fp - 512`; at `exit` it returns r0 and leaves
 * r1..r5 in the `ret` globals, which the caller copies back. r6..r9 and r10 are the caller's own locals, so
 * they survive the call by construction. The depth check keeps every frame inside the execution's stack: that
 * is what makes the unchecked r10 path of lower-mem.ts sound.
 *
 * Not here: the JS side of helpers (host.ts), the branch structure (relooper.ts).
 */

import { STACK_FRAME_SIZE, type WasmHelperShape } from '../src/exec.js';
import type { CallInsn, CallxInsn, Reg } from '../src/isa/insn.js';
import type { Expr } from './binaryen.js';
import { F, G, L_ADDR, L_FP, L_STACK_LO, L_TMP, fnName, helperImport, wasmHelperImport, wasmSizeImport, type ArrayLayout, type FnContext } from './frame.js';
import { checkRange, defs, lowerLoad } from './lower-mem.js';

const ARG_REGS = [1, 2, 3, 4, 5] as const;

/**
 * Charges one unit of budget (a taken back-edge or a local call), faulting with `budget_exceeded` at `pc` when
 * none is left. Only the budget variant of a module emits it.
 *
 *     (if (i64.eqz (global.get $budget)) (then <fault budget_exceeded pc>))
 *     (global.set $budget (i64.sub (global.get $budget) (i64.const 1)))
 */
export function chargeBudget(ctx: FnContext, pc: number): Expr {
  const b = ctx.b;
  return b.block([
    b.if(b.i64.eqz(b.getGlobal(G.budget, 'i64')), ctx.fault('budget_exceeded', pc)),
    b.setGlobal(G.budget, b.i64.sub(b.getGlobal(G.budget, 'i64'), b.i64.const(1n))),
  ]);
}

/**
 * `call imm`: a helper (imported as `helper_<id>`, r1..r5 in, r0 out, r1..r5 unchanged) or a local function.
 * A kernel-function call (`call btf`) faults with `unknown_helper` when executed. Both kinds of call mark the
 * stack dirty for the packet path (frame.ts, `PACKET_ENTRIES`): a helper may write through any pointer it is
 * given, a callee writes its own frame, below the range the packet path clears statically.
 *
 *     ;; call 5 (helper)
 *     (global.set $dirty (i32.const 1))
 *     (local.set $r0 (call $helper_5 (i32.const pc) $r1 $r2 $r3 $r4 $r5))
 *     (if (global.get $stop) (then (return $r0)))                  ;; the helper unwound
 *     ;; call local (callee at slot 12)
 *     (if (i32.lt_u $fp (i32.add (i32.wrap_i64 $stack_lo) (i32.const 1024))) (then <fault call_depth>))
 *     <charge budget>                                              ;; budget variant only
 *     (global.set $dirty (i32.const 1))
 *     (local.set $r0 (call $f12 (i32.sub $fp (i32.const 512)) $r0 $r1 ... $r9))
 *     [(if (global.get $stop) (then (return $r0)))]                 ;; programs with a stop flag
 *     (local.set $r1 (global.get $ret1)) ... (local.set $r5 (global.get $ret5))
 */
export function lowerCall(ctx: FnContext, insn: CallInsn): Expr {
  const b = ctx.b;
  const t = insn.target;
  switch (t.kind) {
    case 'helper': {
      if (t.id === MAP_LOOKUP_ELEM) {
        const array = knownArray(ctx, insn);
        if (array !== undefined) return lowerArrayLookup(ctx, insn.pc, array);
      }
      const wasm = ctx.options.wasmHelpers.get(t.id);
      if (wasm !== undefined) return lowerWasmHelperCall(ctx, insn.pc, t.id, wasm);
      // A helper may write anywhere it is given a pointer to, the stack included: mark it dirty (unless it
      // is declared to write nothing).
      const call = [ctx.set(0, b.call(helperImport(t.id), [b.i32.const(insn.pc), ...ARG_REGS.map((r) => ctx.get(r))], 'i64')), stopCheck(ctx)];
      return b.block(ctx.options.readOnlyHelpers.has(t.id) ? call : [ctx.markDirty(), ...call]);
    }
    case 'btf':
      // Kernel functions are not supported; like the interpreter, executing such a call faults (loading does not).
      return ctx.fault('unknown_helper', insn.pc, b.i64.const(BigInt(t.id)));
    case 'local': {
      const fp = (): Expr => b.getLocal(L_FP, 'i32');
      // Frames sit at fp = stackBase + STACK_SIZE - depth * 512, so the deepest allowed one (depth
      // MAX_CALL_DEPTH - 1) has fp = stackBase + 512: a caller with fp < stackBase + 1024 is already there.
      const minCallerFp = b.i32.add(b.i32.wrap(b.getLocal(L_STACK_LO, 'i64')), b.i32.const(2 * STACK_FRAME_SIZE));
      const regs = Array.from({ length: 10 }, (_, r) => ctx.get(r));
      // Depth before budget, as in the interpreter: a call that cannot happen consumes nothing.
      // The callee's frame lies below the entry frame, outside the range the packet path clears statically.
      return b.block([
        b.if(b.i32.lt_u(fp(), minCallerFp), ctx.fault('call_depth', insn.pc)),
        ...(ctx.options.budget ? [chargeBudget(ctx, insn.pc)] : []),
        ctx.markDirty(),
        ctx.set(0, b.call(fnName(t.pc), [b.i32.sub(fp(), b.i32.const(STACK_FRAME_SIZE)), ...regs], 'i64')),
        // The callee ended the run (a packet load out of bounds, a helper that unwound): pass its r0 up.
        ...(ctx.options.stopFlag ? [stopCheck(ctx)] : []),
        ...ARG_REGS.map((r) => ctx.set(r, b.getGlobal(G.ret(r), 'i64'))),
      ]);
    }
  }
}

/** Linux's `BPF_FUNC_map_lookup_elem`. */
const MAP_LOOKUP_ELEM = 1;

/**
 * The array map whose handle r1 holds at `call`, if an `lddw r1` earlier in its basic block loaded one of
 * `LowerOptions.arrays` and nothing wrote r1 since.
 */
function knownArray(ctx: FnContext, call: CallInsn): ArrayLayout | undefined {
  const insns = ctx.program.insns;
  for (let i = ctx.program.indexOfPc[call.pc] - 1; i >= ctx.blockFirst; i--) {
    const insn = insns[i];
    if (!defs(insn).includes(1)) continue;
    return insn.kind === 'lddw' && insn.dst === 1 && insn.src === 'imm64' ? ctx.options.arrays.get(BigInt.asUintN(64, insn.value)) : undefined;
  }
  return undefined;
}

/**
 * `bpf_map_lookup_elem` on a known array map, inlined: the 4-byte key is read as a load through r2 would be
 * (checked unless the verifier proved the call), then r0 = its value's address, or 0 past the end. Nothing is
 * written, so the stack stays clean.
 *
 *     <r0 = *(u32 *)(r2 + 0), checked as a load at this pc>
 *     (local.set $r0 (select (i64.add (i64.const base) (i64.mul $r0 (i64.const stride))) (i64.const 0)
 *                            (i64.lt_u $r0 (i64.const max_entries))))
 */
function lowerArrayLookup(ctx: FnContext, pc: number, a: ArrayLayout): Expr {
  const b = ctx.b;
  const i64 = b.i64;
  ctx.use.inlinedLookups++;
  const key = lowerLoad(ctx, { kind: 'load', pc, dst: 0, base: 2, off: 0, size: 4, signed: false });
  const addr = i64.add(i64.const(BigInt(a.base)), i64.mul(ctx.get(0), i64.const(BigInt(a.stride))));
  return b.block([key, ctx.set(0, b.select(i64.lt_u(ctx.get(0), i64.const(BigInt(a.maxEntries))), addr, i64.const(0n)))]);
}

/**
 * A call of a helper's WebAssembly form (src/exec.ts, `WasmHelper`: the map module's exports): no JS on the way.
 * Its pointer arguments are checked inline first, as the helper's JS form checks them, unless the verifier
 * proved the call's arguments (`proven`); a size the helper's size function gives as negative (a bad map handle)
 * checks nothing, and the helper then fails without touching memory.
 *
 *     [(global.set $dirty (i32.const 1))]                                    ;; when a check writes
 *     (local.set $tmp (i64.extend_i32_s (call $whelper_1_key_size $r1)))        ;; each check
 *     (local.set $addr $r2)
 *     (if (i64.gt_s $tmp (i64.const 0)) (then <checkRange (lower-mem.ts)>))
 *     (local.set $r0 (call $whelper_1 $r1 $r2))
 */
function lowerWasmHelperCall(ctx: FnContext, pc: number, id: number, wasm: WasmHelperShape): Expr {
  const b = ctx.b;
  // A WebAssembly helper writes only its map's storage and the buffers its checks name (runtime/maps/abi.ts):
  // the stack is dirty for the packet path only when one of them may be written.
  const out: Expr[] = wasm.checks.some((c) => c.write) ? [ctx.markDirty()] : [];
  if (!ctx.options.proven(pc)) {
    for (const c of wasm.checks) {
      const size = wasmSizeImport(id, c.size);
      ctx.use.wasmSizes.add(size);
      out.push(
        b.setLocal(L_TMP, b.i64.extend_s(b.call(size, [ctx.get(1)], 'i32'))),
        b.setLocal(L_ADDR, ctx.get(c.reg)),
        b.if(b.i64.gt_s(b.getLocal(L_TMP, 'i64'), b.i64.const(0n)), checkRange(ctx, pc, c.write)),
      );
    }
  }
  const args = Array.from({ length: wasm.params }, (_, i) => ctx.get((i + 1) as Reg));
  out.push(ctx.set(0, b.call(wasmHelperImport(id), args, 'i64')));
  return b.block(out);
}

/**
 * `callx reg`: a helper call whose id is the register's value, resolved by the host at run time (an unknown id
 * faults with `unknown_helper`).
 *
 *     (global.set $dirty (i32.const 1))
 *     (local.set $r0 (call $callx (i32.const pc) $rN $r1 $r2 $r3 $r4 $r5))
 *     (if (global.get $stop) (then (return $r0)))
 */
export function lowerCallx(ctx: FnContext, insn: CallxInsn): Expr {
  const b = ctx.b;
  return b.block([ctx.markDirty(), ctx.set(0, b.call(F.callx, [b.i32.const(insn.pc), ctx.get(insn.reg), ...ARG_REGS.map((r) => ctx.get(r))], 'i64')), stopCheck(ctx)]);
}

/**
 * After a JS helper call or a local call: when the run was stopped (frame.ts, `G.stop`: a helper unwound, a
 * packet load ended it), return r0 at once, through every caller.
 *
 *     (if (global.get $stop) (then (return $r0)))
 */
function stopCheck(ctx: FnContext): Expr {
  const b = ctx.b;
  return b.if(b.getGlobal(G.stop, 'i32'), b.return(ctx.get(0)));
}

/**
 * `exit`: return r0; a local-call target also publishes r1..r5 for its caller.
 *
 *     (global.set $ret1 $r1) ... (global.set $ret5 $r5)                   ;; callees only
 *     (return $r0)
 */
export function lowerExit(ctx: FnContext): Expr {
  const b = ctx.b;
  const ret = b.return(ctx.get(0));
  if (!ctx.isCallee) return ret;
  return b.block([...ARG_REGS.map((r) => b.setGlobal(G.ret(r), ctx.get(r))), ret]);
}
