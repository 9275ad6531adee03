/**
 * The ABI of a generated module: what the translator and the JS host (host.ts) must agree on.
 *
 * - Locals of every eBPF function's Wasm function (one per eBPF function, RFC 9669 section 4.3.1 "local calls").
 * - Globals holding the per-run state (stack, region slots or caches, budget, packet, the r1..r5 a local call
 *   leaves behind, the packet path's buffers and stack state, the record of a fault).
 * - The imports (helpers, callx, and in the `cache` variant the region miss), the faults ({@link TRAPS}), and
 *   the exported entries: `bind` and `run` for `LoadedProgram.run`, `run_packet` and `run_batch` for the packet
 *   path ({@link PACKET_ENTRIES}).
 * - {@link FnContext}: what a lowering function gets to read and write registers and raise faults.
 *
 * Register model: eBPF r0..r9 are i64 locals (params of every function, so a callee starts from its caller's
 * registers exactly as in the interpreter's single register file); r10 is the frame pointer, kept as the i32
 * param `fp`. A function that writes r10 (the decoder allows it; the verifier will not) keeps it in an extra i64
 * local instead and loses the unchecked stack path. r6..r9 survive local calls by construction: they are the
 * caller's own locals.
 *
 * Not here: the lowering of instructions (lower-*.ts), control flow (relooper.ts), the JS side (host.ts).
 */

import { InternalError, type ExecutionErrorCode } from '../src/errors.js';
import type { WasmHelperShape } from '../src/exec.js';
import type { Reg } from '../src/isa/insn.js';
import type { Program } from '../src/isa/program.js';
import type { Expr, ValType, WasmBuilder } from './binaryen.js';

// --- locals ------------------------------------------------------------------------------------------------------

/** i32 param: this frame's r10, the top of its 512-byte frame (`frameTop(stackBase, depth)` of src/exec.ts). */
export const L_FP = 0;
/** Local of eBPF register r0..r9 (i64 params 1..10). */
export function regLocal(r: Reg): number {
  return 1 + r;
}
/** i64: r10, only in functions that write it. */
export const L_R10 = 11;
/** i64: the address of the memory access being checked. */
export const L_ADDR = 12;
/** i64: scratch (byte swaps). */
export const L_TMP = 13;
/** i64: first byte of this execution's stack (a copy of the `stack_lo` global, for tight loops). */
export const L_STACK_LO = 14;
/** i32: the Relooper's label helper (dispatch for irreducible control flow). */
export const L_LABEL = 15;
/** i64: the fault a branch to the function's trap block raises: pc << 32 | size << 8 | kind (see `FnContext.fault`). */
export const L_FAULT = 16;
/** Label of the block around every function body that records the fault in `L_FAULT` and traps. */
export const TRAP_LABEL = 'trap';

/** Params of every eBPF function: fp, r0..r9. */
export const FN_PARAMS: readonly ValType[] = ['i32', 'i64', 'i64', 'i64', 'i64', 'i64', 'i64', 'i64', 'i64', 'i64', 'i64'];
/** Vars of every eBPF function, from index {@link L_R10} on. */
export const FN_VARS: readonly ValType[] = ['i64', 'i64', 'i64', 'i64', 'i32', 'i64'];

/** Names of the locals, for the text form. */
export const FN_LOCAL_NAMES: readonly string[] = ['fp', 'r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9', 'r10', 'addr', 'tmp', 'stack_lo', 'label', 'fault'];

/** Wasm name of the eBPF function starting at slot `pc`. */
export function fnName(pc: number): string {
  return `f${pc}`;
}

// --- globals -----------------------------------------------------------------------------------------------------

/**
 * Regions passed to a run in globals: up to this many for loads (every region) and as many for stores (the
 * writable ones). A run with more regions uses the `cache` variant of the checks (see {@link RegionChecks}),
 * which handles any number through the JS host.
 */
export const REGION_SLOTS = 4;

/** Access sizes, for the per-size spans of a region slot. */
export const ACCESS_SIZES = [1, 2, 4, 8] as const;

/**
 * The globals of region slot `k` of `kind` (load or store slots) in a variant: in `slots`, `lo` and the span for
 * each of {@link ACCESS_SIZES} (what the inline checks compare with); in `cache`, `lo` and `len` (what
 * `mem_slow` searches). `bind` takes them in this order, as i32 params computed by the host (host.ts,
 * `pushSlot`): doing the span arithmetic in every module was a fifth of a module's fixed cost.
 */
export function slotGlobals(checks: RegionChecks, kind: 'rd' | 'wr', k: number): string[] {
  if (checks === 'cache') return kind === 'rd' ? [G.rdLo(k), G.rdLen(k)] : [G.wrLo(k), G.wrLen(k)];
  return kind === 'rd' ? [G.rdLo(k), ...ACCESS_SIZES.map((s) => G.rdSpan(k, s))] : [G.wrLo(k), ...ACCESS_SIZES.map((s) => G.wrSpan(k, s))];
}

/** Params a slot takes in `bind` (see {@link slotGlobals}). */
export function slotParams(checks: RegionChecks): number {
  return checks === 'cache' ? 2 : 1 + ACCESS_SIZES.length;
}

/** Global names. All are mutable; the entries set them. Exported: the fault record and `batch_pos`. */
export const G = {
  /** i64: first byte of this execution's stack. */
  stackLo: 'stack_lo',
  /**
   * Region slots (i64), for loads (`rd`: every region) and stores (`wr`: the writable ones): start `lo`, length
   * `len`, and for each access size the number of addresses an access of that size may start at,
   * `span(size) = max(0, len - size + 1)`. An access of `size` bytes at `a` is in slot k iff
   * `a - lo_k <u span_k(size)`: one compare, exact (a span of 0 matches nothing: an unused slot is all zeros).
   */
  rdLo: (k: number): string => `rd${k}_lo`,
  rdLen: (k: number): string => `rd${k}_len`,
  rdSpan: (k: number, size: number): string => `rd${k}_span${size}`,
  wrLo: (k: number): string => `wr${k}_lo`,
  wrLen: (k: number): string => `wr${k}_len`,
  wrSpan: (k: number, size: number): string => `wr${k}_span${size}`,
  /**
   * `cache` variant only: the last region a load (`rdc`) / store (`wrc`) found, as `[lo, lo + len)`.
   * Invariant: `len >= 8`, so `len - size` never wraps; both start as the stack itself.
   */
  rdcLo: 'rdc_lo',
  rdcLen: 'rdc_len',
  wrcLo: 'wrc_lo',
  wrcLen: 'wrc_len',
  /** i64: remaining budget (taken back-edges + local calls), only in the budget variant. */
  budget: 'budget',
  /** i64: the packet legacy loads read (length 0 when there is none). */
  pktLo: 'pkt_lo',
  pktLen: 'pkt_len',
  /** i64: r1..r5 as a callee left them at `exit`, read back by the caller (the interpreter shares them). */
  ret: (r: 1 | 2 | 3 | 4 | 5): string => `ret${r}`,
  /**
   * i32: whether the stack may hold bytes outside the entry frame's static store range (see
   * {@link PACKET_ENTRIES}): set before any store the translator cannot place statically (a checked store that
   * lands in the stack, a helper call, a local call). Starts at 1, so the first packet run clears everything.
   */
  dirty: 'dirty',
  /** i32, packet path: its dedicated stack, packet data area, batch offset and result tables (set by `bind`). */
  pkStack: 'pk_stack',
  /** i32, packet path in context mode (`PacketContext`): the context struct r1 points at, and its template. */
  pkCtx: 'pk_ctx',
  pkCtxTemplate: 'pk_ctx_template',
  pkData: 'pk_data',
  pkOffsets: 'pk_offsets',
  pkResults: 'pk_results',
  /** i32, packet path: u32 table of each batch packet's r3 (its wire length), set by `bind`. */
  pkWire: 'pk_wire',
  /**
   * i32 (exported): set when the run must end at once with the r0 being returned: a legacy packet load out of
   * bounds (lower-mem.ts, `lowerLdPkt`, r0 = 0) or a helper that unwound (`UnwindSignal`, caught by the host's
   * import before it reaches WebAssembly: an exception through Wasm costs microseconds; `bpf_tail_call` ends its
   * caller this way). After each helper call and each local call, the code returns r0 when it is set. Declared
   * by programs that call JS helpers or have packet loads; reset by the entries.
   */
  stop: 'stop',
  /** i64, packet path: all ones when the packet is writable, else 0 (masks the store spans of slot 0). */
  pkWritable: 'pk_writable',
  /** i64, packet path, budget variant: the budget each packet starts with. */
  budgetInit: 'budget_init',
  /** i32, packet path: index of the batch packet in progress (exported, read by the host after a throw). */
  batchPos: 'batch_pos',
  /**
   * A fault (see {@link FnContext.fault}): its pc (i32, -1 when none is pending), what it is (i32,
   * `TRAPS` index | access size << 8) and the address involved (i64). Exported: the host reads them when the
   * trap that follows reaches it, and resets `fault_pc`.
   */
  faultPc: 'fault_pc',
  faultWhat: 'fault_what',
  faultAddr: 'fault_addr',
  /**
   * i32, declared (and exported) only by modules that check a helper's pointer arguments inline
   * (lower-call.ts): the size of a failed access whose size is not a constant, which `fault_what` then leaves 0.
   */
  faultSize: 'fault_size',
} as const;

// --- imports and internal functions ------------------------------------------------------------------------------

/** Import and internal function names. */
export const F = {
  /**
   * import, `cache` variant only: `(addr i64, size i32, write i32, pc i32)`: checks the access against every
   * region; returns when it is allowed (a region beyond the slots), else throws the fault (`out_of_bounds` /
   * `read_only`). The `slots` variant traps instead ({@link TRAPS}).
   */
  memMiss: 'mem_miss',
  /** import `(pc i32, id i64, r1..r5 i64) -> i64`: helper call through a register. */
  callx: 'callx',
  /** internal, `cache` variant: `(addr i64, size i64, write i32, pc i32)`, the slot search behind the caches. */
  memSlow: 'mem_slow',
  /**
   * export `(stack, data, offsets, results, writable, budget_lo, budget_hi, ctx, ctx_template, wire, <load slots
   * 0..3>, <store slots 0..3>)`, all i32 (slots as {@link slotGlobals}): sets the per-run state that the next runs share: the stack,
   * the regions, and for the packet path its buffers and budget (see {@link PACKET_ENTRIES}).
   */
  bind: 'bind',
  /** export, after `bind`: the entry of `LoadedProgram.run`, see {@link ENTRY_PARAMS}. */
  run: 'run',
  /** export `(len i32, wire i32) -> i32`: one run on the packet of `len` bytes at `pk_data`, r3 = `wire`; r0's low 32 bits. */
  runPacket: 'run_packet',
  /** export `(first i32, count i32) -> i32`: runs packets `first..count-1` of the batch tables; returns `count`. */
  runBatch: 'run_batch',
} as const;

/** Import name of helper `id` (`(pc i32, r1..r5 i64) -> i64`). */
export function helperImport(id: number): string {
  return `helper_${id >>> 0}`;
}
/** Import name of helper `id`'s WebAssembly form (src/exec.ts, `WasmHelper`): `(i64 × params) -> i64`. */
export function wasmHelperImport(id: number): string {
  return `whelper_${id >>> 0}`;
}
/** Import name of the key or value size function of helper `id`'s WebAssembly form: `(map i64) -> i32`. */
export function wasmSizeImport(id: number, size: 'key' | 'value'): string {
  return `whelper_${id >>> 0}_${size}_size`;
}
/** Params of a helper import. */
export const HELPER_PARAMS: readonly ValType[] = ['i32', 'i64', 'i64', 'i64', 'i64', 'i64'];

/**
 * The packet path's entries (translate.ts, `buildPacketEntries`): `bind` once, then `run_packet(len)` or
 * `run_batch(first, count)` many times, with no BigInt crossing the JS/Wasm boundary.
 *
 * - Region slot 0 (loads, and stores when the packet is writable) is the packet, set per run; slots 1..3 are
 *   the static regions given to `bind` (the map arenas), which leaves slot 0 empty. r1 = the packet's address, r2 = its length, r3 = its
 *   wire length (0 unless the host gives one: `run_packet`'s `wire`, the `pk_wire` table), r4..r5 = 0, as in
 *   `LoadedProgram.run`; legacy packet loads read the same packet.
 * - Batch: packet i is `[data + offsets[i], data + offsets[i + 1])` (u32 tables in linear memory), its r3
 *   `wire[i]`; its r0's low 32 bits go to `results[i]`; `batch_pos` says which packet is running when a fault unwinds the loop.
 * - Context mode (translate.ts, `TranslateOptions.packetContext`): r1 = a context struct (XDP's `xdp_md`, a socket
 *   filter's `__sk_buff`) at `pk_ctx`, r2 = 0, instead of the packet. Before each run its writable fields are
 *   restored from the template at `pk_ctx_template` (the host writes both at `bind`: the static fields) and its
 *   per-packet fields are set: the packet's address, end and length, and the EtherType. The host binds the
 *   context as a region (loads) and its writable fields as regions (stores).
 * - Stack: every run starts on an all-zero stack, as with `LoadedProgram.run`, at the cost of what the
 *   previous run may have written. The entry function's stores through r10 with constant in-frame offsets
 *   (unchecked: lower-mem.ts) cover a range known statically, `[fp + minOff, fp)`, cleared before each run by
 *   a few inline stores; every other way of writing the stack sets {@link G.dirty} first (a checked store that
 *   lands in the stack, a helper call, a local call), and a dirty stack is cleared whole with `memory.fill`.
 */
export const PACKET_ENTRIES = [F.bind, F.runPacket, F.runBatch] as const;
/** Params of `bind` in a variant: 10, then the load slots and the store slots ({@link slotParams} each). */
export function bindParams(checks: RegionChecks): readonly ValType[] {
  return Array.from({ length: BIND_SLOTS_AT + 2 * REGION_SLOTS * slotParams(checks) }, () => 'i32' as const);
}
/** Index in `bind`'s params of the first load slot. */
export const BIND_SLOTS_AT = 10;

/**
 * Params of the exported `run`, in order: budget, packet start and length, r1..r5. Returns r0. The stack and
 * the regions are `bind`'s.
 */
export const ENTRY_PARAMS: readonly ValType[] = ['i64', 'i32', 'i32', 'i64', 'i64', 'i64', 'i64', 'i64'];

/**
 * What ends a run by a trap, by number (the low byte of `fault_what`): the faults the translator can name
 * itself; `mem_load` / `mem_store`, an access outside every slot and the stack, which the host turns into
 * `out_of_bounds` or `read_only` by searching all regions. (A legacy packet load out of bounds, which ends the
 * run with r0 = 0, is no trap: it returns, lower-mem.ts `lowerLdPkt`; a trap costs microseconds, and filters
 * converted from classic BPF end that way on every short packet.)
 *
 * Why traps and not calls to a throwing import: V8 does not unroll a loop that contains a call, even on a path
 * never taken, and allocates registers around it; a trap is out-of-line code. Measured on a bubble sort with one
 * checked access per iteration: 2.39 µs with a call on the miss path, 2.05 µs with a trap.
 */
export const TRAPS = [
  'misaligned_atomic', 'budget_exceeded', 'call_depth', 'fell_off_end', 'unknown_helper', 'mem_load', 'mem_store',
] as const satisfies readonly (ExecutionErrorCode | 'mem_load' | 'mem_store')[];
export type TrapKind = (typeof TRAPS)[number];

// --- the lowering context ----------------------------------------------------------------------------------------

/**
 * How functions get structured control flow: `auto` (structure.ts for reducible CFGs; Binaryen's Relooper for
 * small irreducible ones; a dispatch loop for large irreducible ones), or one strategy for every function
 * (`relooper` and `dispatch` handle any CFG; for tests).
 */
export type ControlFlow = 'auto' | 'relooper' | 'dispatch';

/**
 * How unproven memory accesses are checked (lower-mem.ts):
 * - `slots`: inline compares against each region slot, then the stack; a miss is always a fault. No call can
 *   return into the code, which keeps V8's register allocation of loops intact (2.5x faster than `cache` on a
 *   byte loop). For runs with at most {@link REGION_SLOTS} regions.
 * - `cache`: the stack, then a one-entry cache per access kind; a miss calls `mem_slow`, which may return.
 *   Any number of regions.
 */
export type RegionChecks = 'slots' | 'cache';

/** Translation options the lowering reads. */
export interface LowerOptions {
  /** How memory accesses are checked. */
  readonly regionChecks: RegionChecks;
  /** Emit budget counting at taken back-edges and local calls. */
  readonly budget: boolean;
  /** Memory accesses at these pcs are proven in bounds (by the verifier): no run-time check. */
  readonly proven: (pc: number) => boolean;
  /** How to structure control flow (see {@link ControlFlow}). */
  readonly controlFlow: ControlFlow;
  /** Whether the program calls JS helpers (which may unwind) or has legacy packet loads: then it has {@link G.stop}. */
  readonly stopFlag: boolean;
  /** Helpers called as imported WebAssembly functions, by id (src/exec.ts, `WasmHelper`); the rest go through JS. */
  readonly wasmHelpers: ReadonlyMap<number, WasmHelperShape>;
  /** JS helpers that never write memory: no {@link FnContext.markDirty} before their calls. */
  readonly readOnlyHelpers: ReadonlySet<number>;
  /** Array maps whose lookups are inlined, by handle (translate.ts, `TranslateOptions.arrays`). */
  readonly arrays: ReadonlyMap<bigint, ArrayLayout>;
}

/**
 * Where an array map's values lie, for lookups the translator inlines (lower-call.ts): value `i` (i <
 * `maxEntries`) is at `base + i * stride`. Array storage never moves and array elements always exist, so a
 * lookup with a known map is a bounds check and an address.
 */
export interface ArrayLayout {
  readonly base: number;
  readonly stride: number;
  readonly maxEntries: number;
}

/** What lowering one eBPF function needs: the builder, register access, faults. */
/**
 * What a module's lowered code reads of the per-run state, collected while lowering, so that the module declares
 * and its entries set no more than that: the span globals of the slots by access kind and size (`slots`
 * variant), and the legacy packet. A filter with only 2-byte loads reads `rd<k>_lo` and `rd<k>_span2`.
 */
export class StateUse {
  /** Access sizes (or group widths) whose span some check reads, for loads (`rd`) and stores (`wr`). */
  readonly spans: { readonly rd: Set<number>; readonly wr: Set<number> } = { rd: new Set(), wr: new Set() };
  /** Whether some legacy packet load reads `pkt_lo` / `pkt_len`. */
  packet = false;
  /** Whether some fault sets `fault_size` ({@link FnContext.faultSized}). */
  faultSize = false;
  /** Size functions of WebAssembly helpers that some inline check calls (imports, `wasmSizeImport`). */
  readonly wasmSizes = new Set<string>();
  /** Array lookups inlined (lower-call.ts), for the statistics. */
  inlinedLookups = 0;

  /** The slot globals of `kind` slot `k` that some check reads. */
  slotGlobals(checks: RegionChecks, kind: 'rd' | 'wr', k: number): string[] {
    if (checks === 'cache') return slotGlobals(checks, kind, k);
    const sizes = ACCESS_SIZES.filter((s) => this.spans[kind].has(s));
    if (sizes.length === 0) return [];
    return [kind === 'rd' ? G.rdLo(k) : G.wrLo(k), ...sizes.map((s) => (kind === 'rd' ? G.rdSpan(k, s) : G.wrSpan(k, s)))];
  }
}

export class FnContext {
  constructor(
    readonly b: WasmBuilder,
    readonly program: Program,
    readonly options: LowerOptions,
    /** What the module's code reads of the per-run state (shared by its functions). */
    readonly use: StateUse,
    /** Entry slot of this function. */
    readonly entry: number,
    /** Whether some instruction of this function writes r10 (then r10 is an ordinary local). */
    readonly r10Written: boolean,
    /** Whether this function is a local-call target (its exits publish r1..r5). */
    readonly isCallee: boolean,
  ) {}

  /**
   * Lowest offset from r10 of a store or atomic that lowering left unchecked (in-frame, r10 never written), or
   * 0 when there is none: for the entry function, the stores the packet path clears statically.
   */
  frameStoreLow = 0;

  /**
   * Accesses (by pc) whose check a group check already made (lower-mem.ts, `planGroups`), while lowering the
   * unchecked copy of a group's segment.
   */
  covered: ReadonlySet<number> = new Set();

  /** Index (in `program.insns`) of the first instruction of the basic block being lowered. */
  blockFirst = 0;

  /** Records an unchecked store at `fp + off` (see {@link frameStoreLow}). */
  noteFrameStore(off: number): void {
    if (off < this.frameStoreLow) this.frameStoreLow = off;
  }

  /** Register `r` as i64. */
  get(r: Reg): Expr {
    const b = this.b;
    if (r === 10) return this.r10Written ? b.getLocal(L_R10, 'i64') : b.i64.extend_u(b.getLocal(L_FP, 'i32'));
    return b.getLocal(regLocal(r), 'i64');
  }

  /** The low 32 bits of register `r`, as i32. */
  get32(r: Reg): Expr {
    if (r === 10 && !this.r10Written) return this.b.getLocal(L_FP, 'i32');
    return this.b.i32.wrap(this.get(r));
  }

  /** `r = value` (i64). */
  set(r: Reg, value: Expr): Expr {
    if (r === 10) {
      if (!this.r10Written) throw new InternalError('r10 written in a function not marked as writing it');
      return this.b.setLocal(L_R10, value);
    }
    return this.b.setLocal(regLocal(r), value);
  }

  /** `r = zext(value)` for an i32 value (32-bit ALU results, RFC 9669 section 4.1). */
  set32(r: Reg, value: Expr): Expr {
    return this.set(r, this.b.i64.extend_u(value));
  }

  /**
   * Marks the stack dirty ({@link G.dirty}): a write the packet path cannot bound statically may follow.
   *
   *     (global.set $dirty (i32.const 1))
   */
  markDirty(): Expr {
    return this.b.setGlobal(G.dirty, this.b.i32.const(1));
  }

  /**
   * A fault ({@link TRAPS}): the fault and its address go to locals, and a branch to the function's trap block
   * (translate.ts, `trapBlock`), which records them in the `fault_*` globals and traps; the host turns the trap
   * into the error. One trap site per function keeps the code of each check small. Unreachable afterwards, so
   * it can stand wherever a value or statement is expected.
   *
   *     [(local.set $addr addr)] (local.set $fault (i64.const pc << 32 | size << 8 | kind)) (br $trap)
   */
  fault(kind: TrapKind, pc: number, addr?: Expr, size = 0): Expr {
    const b = this.b;
    const what = TRAPS.indexOf(kind) | (size << 8);
    const out: Expr[] = [];
    if (this.faultsInline) {
      // Binaryen's Relooper refuses code that branches to a label outside its blocks.
      out.push(b.setGlobal(G.faultWhat, b.i32.const(what)));
      if (addr !== undefined) out.push(b.setGlobal(G.faultAddr, addr));
      out.push(b.setGlobal(G.faultPc, b.i32.const(pc)), b.unreachable());
    } else {
      if (addr !== undefined) out.push(b.setLocal(L_ADDR, addr));
      out.push(b.setLocal(L_FAULT, b.i64.const((BigInt(pc) << 32n) | BigInt(what))), b.br(TRAP_LABEL));
    }
    return b.block(out);
  }

  /**
   * A memory fault whose size is known only at run time (`size`, i32, at most 2^31): as {@link fault} with size 0
   * in `fault_what`, the size in `fault_size`.
   *
   *     (global.set $fault_size size) <fault kind pc addr>
   */
  faultSized(kind: 'mem_load' | 'mem_store', pc: number, addr: Expr, size: Expr): Expr {
    this.use.faultSize = true;
    return this.b.block([this.b.setGlobal(G.faultSize, size), this.fault(kind, pc, addr)]);
  }

  /**
   * Whether faults record themselves in the `fault_*` globals and trap on the spot rather than branch to the
   * trap block: in code that goes through Binaryen's Relooper (relooper.ts).
   *
   *     (global.set $fault_what (i32.const kind | size << 8)) [(global.set $fault_addr addr)]
   *     (global.set $fault_pc (i32.const pc)) (unreachable)
   */
  faultsInline = false;
}
