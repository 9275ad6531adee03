/**
 * `translate`: Program → a validated WebAssembly module (bytes, and optionally its text), plus statistics.
 *
 * The module (ABI in frame.ts):
 *
 *     (import "env" "memory" (memory 1 [65536 shared]))
 *     [(import "env" "mem_miss" ...)] [callx, helper_<id> ...]   ;; mem_miss: `cache` variant only
 *     [(import "env" "whelper_<id>" ...) (import "env" "whelper_<id>_key_size" ...) ...]   ;; WebAssembly helpers
 *     (global $stack_lo i64) (global $rd0_lo i64) ...           ;; per-run state, set by the entries
 *     (global $fault_pc (export "fault_pc") i32) ...              ;; what a trap means (frame.ts, TRAPS)
 *     (func $mem_slow ...)                                        ;; `cache` variant: the slot search
 *     (func $f0 (param $fp i32) (param $r0 i64) ... (param $r9 i64) (result i64) ...)   ;; one per eBPF function
 *     (func $run (export "run") ...)                              ;; sets the globals, calls $f0
 *     (func $bind (export "bind") ...) (func $run_packet ...) (func $run_batch ...)   ;; `slots`: the packet path
 *
 * Passes: Binaryen's passes cost more than the whole translation and buy little once V8's optimizing tier has
 * the code, so none run by default (see {@link DEFAULT_PASSES}); callers may name some.
 *
 * Every input is checked before Binaryen sees it ({@link checkProgram}): Binaryen aborts the process on
 * malformed IR instead of throwing.
 *
 * Not here: lowering of single instructions (lower-*.ts), control flow (cfg.ts, relooper.ts, structure.ts,
 * dispatch.ts), instantiation and the JS side (host.ts, compile.ts).
 */

import { InternalError, InvalidProgramError, assertNever } from '../src/errors.js';
import { STACK_SIZE, type WasmHelperShape } from '../src/exec.js';
import type { PacketContext } from '../src/packet.js';
import type { Insn, Reg } from '../src/isa/insn.js';
import type { Program } from '../src/isa/program.js';
import { WasmBuilder, binaryenLoaded, loadBinaryen, type Expr } from './binaryen.js';
import {
  ACCESS_SIZES, BIND_SLOTS_AT, ENTRY_PARAMS, F, L_ADDR, L_FAULT, StateUse, TRAP_LABEL, bindParams, slotGlobals, FN_LOCAL_NAMES, FN_PARAMS, FN_VARS, FnContext, G, HELPER_PARAMS, L_FP, L_R10,
  L_STACK_LO, REGION_SLOTS, fnName, helperImport, wasmHelperImport, type ArrayLayout, type ControlFlow, type LowerOptions, type RegionChecks,
} from './frame.js';
import { lowerAlu, lowerEndian, lowerLddw, lowerMovsx, lowerNeg } from './lower-alu.js';
import { lowerCall, lowerCallx, lowerExit } from './lower-call.js';
import { buildMemSlow, guardGroup, lowerAtomic, lowerLdPkt, lowerLoad, lowerStore, planGroups } from './lower-mem.js';
import { ProgramCfg, type BasicBlock } from './cfg.js';
import { renderFunction } from './relooper.js';

/**
 * Binaryen passes run by default: none. Measured on a 1,000-instruction program, each pass costs 1-9 ms
 * (`vacuum` 1.3, `merge-blocks` 2.9, `remove-unused-brs` 4.1, `simplify-locals-nostructure` 8.9), against a
 * whole translation of about 3 ms; what they tidy (nested blocks, local copies, i64/i32 round trips) V8's
 * optimizing tier removes anyway once code is hot, and structure.ts emits no Relooper clutter to begin with.
 */
export const DEFAULT_PASSES: readonly string[] = [];

/**
 * Binaryen passes {@link TranslateOptions.passes} may name: checked to exist in the bundled Binaryen and to need
 * no configuration. Binaryen aborts on an unknown pass name, so no other name reaches it.
 */
export const KNOWN_PASSES: ReadonlySet<string> = new Set([
  'code-folding', 'code-pushing', 'coalesce-locals', 'dae', 'dae-optimizing', 'dce', 'flatten', 'inlining',
  'inlining-optimizing', 'licm', 'local-cse', 'merge-blocks', 'merge-locals', 'merge-similar-functions',
  'optimize-instructions', 'pick-load-signs', 'precompute', 'precompute-propagate', 'remove-unused-brs',
  'remove-unused-names', 'reorder-locals', 'rse', 'simplify-locals', 'simplify-locals-nostructure',
  'simplify-locals-notee', 'simplify-locals-notee-nostructure', 'ssa', 'ssa-nomerge', 'tuple-optimization',
  'untee', 'vacuum',
]);

/** Options for {@link translate}. */
export interface TranslateOptions {
  /** Import the memory as shared (it is backed by a SharedArrayBuffer). Default false. */
  readonly shared?: boolean;
  /** Count taken back-edges and local calls against `ExecRequest.budget`. Default false. */
  readonly budget?: boolean;
  /** Memory accesses proven in bounds (by the verifier): their run-time check is dropped. */
  readonly proven?: ReadonlySet<number> | ((pc: number) => boolean);
  /** Binaryen passes to run, from {@link KNOWN_PASSES}. Default {@link DEFAULT_PASSES}. */
  readonly passes?: readonly string[];
  /** Binaryen optimize level for the passes (0..4). Default 1. */
  readonly optimizeLevel?: number;
  /** Run Binaryen's validator (V8 validates again when it compiles). Default true. */
  readonly validate?: boolean;
  /** How unproven memory accesses are checked (see `RegionChecks` in frame.ts). Default `slots`. */
  readonly regionChecks?: RegionChecks;
  /** How to structure control flow. Default `auto`; the others serve tests. */
  readonly controlFlow?: ControlFlow;
  /** Also return the module as text (WAT). Default false. */
  readonly wat?: boolean;
  /**
   * Helpers to call as imported WebAssembly functions (src/exec.ts, `WasmHelper`), by id: each called one is
   * imported as `whelper_<id>` (with its size functions), its pointers checked inline. Default: none.
   */
  readonly wasmHelpers?: ReadonlyMap<number, WasmHelperShape>;
  /**
   * JS helpers (by id) that never write the execution's memory (src/exec.ts, `withoutMemoryWrites`): their calls
   * leave the stack clean for the packet path (frame.ts, `G.dirty`). Default: none (every call may write).
   */
  readonly readOnlyHelpers?: ReadonlySet<number>;
  /**
   * The packet entries' context mode (frame.ts, `PACKET_ENTRIES`): r1 = this context, set up before each run,
   * instead of the packet. Default: none (r1 = the packet, r2 = its length).
   */
  readonly packetContext?: PacketContext;
  /**
   * Array maps (ARRAY, not per-CPU) by the handle `lddw` loads: a `bpf_map_lookup_elem` (helper 1) whose r1 is
   * loaded with one of these handles earlier in its basic block is inlined as a bounds check and an address.
   */
  readonly arrays?: ReadonlyMap<bigint, ArrayLayout>;
}

/** Statistics of one translation, for the CLI and the benchmarks. */
export interface CompileStats {
  /** Instructions and slots of the program. */
  readonly insns: number;
  readonly slots: number;
  /** Wasm functions made from eBPF functions, and basic blocks lowered (a block shared by two functions counts twice). */
  readonly functions: number;
  readonly blocks: number;
  /** Building the Binaryen IR (ms). */
  readonly buildMs: number;
  /** Running the passes (ms). */
  readonly passesMs: number;
  /** Validation and emitting the binary (ms). */
  readonly emitMs: number;
  /** The whole translation (ms). */
  readonly translateMs: number;
  readonly passes: readonly string[];
  /** Size of the module (bytes). */
  readonly wasmBytes: number;
  /** `bpf_map_lookup_elem` calls on known array maps inlined ({@link TranslateOptions.arrays}). */
  readonly inlinedLookups: number;
}

/** The result of {@link translate}. */
export interface TranslateResult {
  /** The module's bytes. */
  readonly wasm: Uint8Array;
  /** The module as text, when asked for. */
  readonly wat?: string;
  /** Helper ids called through JS (each is an import `helper_<id>`), ascending. */
  readonly helperIds: readonly number[];
  /** Helper ids called as WebAssembly functions (imports `whelper_<id>...`: {@link TranslateOptions.wasmHelpers}), ascending. */
  readonly wasmHelperIds: readonly number[];
  readonly stats: CompileStats;
}

/**
 * Translates a program to a WebAssembly module (RFC 9669 semantics; memory rule and budget of src/exec.ts).
 * Loads Binaryen on first use.
 *
 * @throws InvalidProgramError for programs that cannot be compiled (malformed IR, unresolved `lddw` sources,
 *   kernel-function calls).
 */
export async function translate(program: Program, options: TranslateOptions = {}): Promise<TranslateResult> {
  await loadBinaryen();
  return translateSync(program, options);
}

/** The module as text (WAT), for debugging and goldens. */
export async function emitWat(program: Program, options: TranslateOptions = {}): Promise<string> {
  const r = await translate(program, { ...options, wat: true });
  return r.wat!;
}

/** {@link translate} once Binaryen is loaded (used to build the budget variant lazily inside a run). */
export function translateSync(program: Program, options: TranslateOptions = {}): TranslateResult {
  if (!binaryenLoaded()) throw new InternalError('translateSync before Binaryen is loaded');
  checkProgram(program);
  const passes = options.passes ?? DEFAULT_PASSES;
  for (const p of passes) if (!KNOWN_PASSES.has(p)) throw new RangeError(`unknown or unsupported Binaryen pass "${p}"`);
  const t0 = performance.now();
  const proven = options.proven;
  const lowerOptions: LowerOptions = {
    regionChecks: options.regionChecks ?? 'slots',
    budget: options.budget ?? false,
    proven: proven === undefined ? () => false : typeof proven === 'function' ? proven : (pc) => proven.has(pc),
    controlFlow: options.controlFlow ?? 'auto',
    wasmHelpers: options.wasmHelpers ?? NO_WASM_HELPERS,
    readOnlyHelpers: options.readOnlyHelpers ?? NO_IDS,
    arrays: options.arrays ?? NO_ARRAYS,
    stopFlag: program.insns.some((i) => i.kind === 'ldpkt' || i.kind === 'callx'
      || (i.kind === 'call' && i.target.kind === 'helper' && !(options.wasmHelpers?.has(i.target.id) ?? false))),
  };
  const calledIds = [...new Set(program.insns.flatMap((i) => (i.kind === 'call' && i.target.kind === 'helper' ? [i.target.id] : [])))].sort((a, b) => a - b);
  const helperIds = calledIds.filter((id) => !lowerOptions.wasmHelpers.has(id));
  const wasmHelperIds = calledIds.filter((id) => lowerOptions.wasmHelpers.has(id));
  const callees = new Set(program.insns.flatMap((i) => (i.kind === 'call' && i.target.kind === 'local' ? [i.target.pc] : [])));

  const b = new WasmBuilder({ sharedMemory: options.shared ?? false, localNames: options.wat ?? false });
  try {
    // Imports, in a fixed order.
    if (lowerOptions.regionChecks === 'cache') b.addFunctionImport(F.memMiss, ['i64', 'i32', 'i32', 'i32'], 'none');
    if (program.insns.some((i) => i.kind === 'callx')) b.addFunctionImport(F.callx, ['i32', 'i64', ...HELPER_PARAMS.slice(1)], 'i64');
    for (const id of helperIds) b.addFunctionImport(helperImport(id), HELPER_PARAMS, 'i64');
    for (const id of wasmHelperIds) {
      const w = lowerOptions.wasmHelpers.get(id)!;
      b.addFunctionImport(wasmHelperImport(id), Array.from({ length: w.params }, () => 'i64' as const), 'i64');
    }

    const cache = lowerOptions.regionChecks === 'cache';
    b.addGlobal(G.stackLo, 'i64', 0);
    if (cache) for (const g of [G.rdcLo, G.rdcLen, G.wrcLo, G.wrcLen]) b.addGlobal(g, 'i64', 0);
    if (lowerOptions.budget) b.addGlobal(G.budget, 'i64', 0);
    for (const r of [1, 2, 3, 4, 5] as const) b.addGlobal(G.ret(r), 'i64', 0);
    b.addGlobal(G.dirty, 'i32', 1);
    if (lowerOptions.stopFlag) {
      b.addGlobal(G.stop, 'i32', 0);
      b.addGlobalExport(G.stop);
    }
    b.addGlobal(G.faultPc, 'i32', -1);
    b.addGlobal(G.faultWhat, 'i32', 0);
    b.addGlobal(G.faultAddr, 'i64', 0);
    for (const g of [G.faultPc, G.faultWhat, G.faultAddr]) b.addGlobalExport(g);
    for (const g of [G.pkStack, G.pkData, G.pkOffsets, G.pkResults, G.pkWire, G.batchPos]) b.addGlobal(g, 'i32', 0);
    b.addGlobal(G.pkWritable, 'i64', 0);
    if (lowerOptions.budget) b.addGlobal(G.budgetInit, 'i64', 0);

    if (cache) buildMemSlow(b);
    // What the code reads of the region slots and the legacy packet: the globals are declared, and the entries
    // set them, only when it does (Binaryen resolves global names when it emits the module).
    const use = new StateUse();
    const cfg = new ProgramCfg(program);
    let blockCount = 0;
    let frameStoreLow = 0;
    for (const entry of program.functions) {
      const blocks = cfg.functionBlocks(entry);
      blockCount += blocks.length;
      const ctx = new FnContext(b, program, lowerOptions, use, entry, blocks.some((bb) => writesR10(program, bb)), callees.has(entry));
      const body = renderFunction(ctx, blocks, (bb) => lowerBlock(ctx, bb));
      if (entry === 0) frameStoreLow = ctx.frameStoreLow;
      const prologue = [b.setLocal(L_STACK_LO, b.getGlobal(G.stackLo, 'i64'))];
      if (ctx.r10Written) prologue.push(b.setLocal(L_R10, b.i64.extend_u(b.getLocal(L_FP, 'i32'))));
      b.addFunction(fnName(entry), FN_PARAMS, 'i64', FN_VARS, trapBlock(b, [...prologue, body, b.unreachable()]), FN_LOCAL_NAMES);
    }
    for (let k = 0; k < REGION_SLOTS; k++) {
      for (const kind of ['rd', 'wr'] as const) for (const g of use.slotGlobals(lowerOptions.regionChecks, kind, k)) b.addGlobal(g, 'i64', 0);
    }
    if (use.packet) for (const g of [G.pktLo, G.pktLen]) b.addGlobal(g, 'i64', 0);
    // The size functions of the WebAssembly helpers whose checks some call kept (not proven).
    for (const name of use.wasmSizes) b.addFunctionImport(name, ['i64'], 'i32');
    if (use.faultSize) {
      b.addGlobal(G.faultSize, 'i32', 0);
      b.addGlobalExport(G.faultSize);
    }
    if (options.packetContext !== undefined) {
      checkPacketContext(options.packetContext);
      for (const g of [G.pkCtx, G.pkCtxTemplate]) b.addGlobal(g, 'i32', 0);
    }
    buildBind(b, lowerOptions, use, options.packetContext !== undefined);
    buildEntry(b, lowerOptions, use);
    if (!cache) buildPacketEntries(b, lowerOptions, use, frameStoreLow, options.packetContext);
    const t1 = performance.now();

    b.runPasses(passes, options.optimizeLevel ?? 1, 0);
    const t2 = performance.now();
    if ((options.validate ?? true) && !b.validate()) throw new InternalError('generated module failed Binaryen validation');
    const wasm = b.emitBinary();
    const wat = options.wat ? b.emitText() : undefined;
    const t3 = performance.now();
    const stats: CompileStats = {
      insns: program.insns.length,
      slots: program.slotCount,
      functions: program.functions.length,
      blocks: blockCount,
      buildMs: t1 - t0,
      passesMs: t2 - t1,
      emitMs: t3 - t2,
      translateMs: t3 - t0,
      passes: [...passes],
      wasmBytes: wasm.length,
      inlinedLookups: use.inlinedLookups,
    };
    return { wasm, wat, helperIds, wasmHelperIds, stats };
  } finally {
    b.dispose();
  }
}

/**
 * A basic block's straight-line instructions and its `exit`, as one statement (none: `undefined`); jumps become
 * edges. The segment of each access group (lower-mem.ts, `planGroups`) is lowered twice, and one check of the
 * group's whole range picks the copy:
 *
 *     (if <group in one region> (then <segment, the group's accesses unchecked>) (else <segment, all checked>))   ;; roughly
 */
function lowerBlock(ctx: FnContext, bb: BasicBlock): Expr | undefined {
  const out: Expr[] = [];
  const b = ctx.b;
  const lowerRange = (from: number, to: number): Expr[] => {
    const list: Expr[] = [];
    for (let i = from; i <= to; i++) {
      const e = lowerInsn(ctx, ctx.program.insns[i]);
      if (e !== undefined) list.push(e);
    }
    return list;
  };
  let i = bb.first;
  ctx.blockFirst = bb.first;
  for (const g of planGroups(ctx, bb.first, bb.last)) {
    out.push(...lowerRange(i, g.first - 1));
    ctx.covered = g.pcs;
    const fast = lowerRange(g.first, g.last);
    ctx.covered = NO_PCS;
    const checked = lowerRange(g.first, g.last);
    out.push(guardGroup(ctx, g, b.block(fast), b.block(checked)));
    i = g.last + 1;
  }
  out.push(...lowerRange(i, bb.last));
  return out.length === 0 ? undefined : b.block(out);
}

const NO_PCS: ReadonlySet<number> = new Set();
const NO_WASM_HELPERS: ReadonlyMap<number, WasmHelperShape> = new Map();
const NO_IDS: ReadonlySet<number> = new Set();
const NO_ARRAYS: ReadonlyMap<bigint, ArrayLayout> = new Map();

/** One instruction; `undefined` for the jumps, which the control-flow strategies turn into edges. */
function lowerInsn(ctx: FnContext, insn: Insn): Expr | undefined {
  switch (insn.kind) {
    case 'alu': return lowerAlu(ctx, insn);
    case 'neg': return lowerNeg(ctx, insn);
    case 'movsx': return lowerMovsx(ctx, insn);
    case 'endian': return lowerEndian(ctx, insn);
    case 'lddw': return lowerLddw(ctx, insn);
    case 'load': return lowerLoad(ctx, insn);
    case 'store': return lowerStore(ctx, insn);
    case 'atomic': return lowerAtomic(ctx, insn);
    case 'ldpkt': return lowerLdPkt(ctx, insn);
    case 'call': return lowerCall(ctx, insn);
    case 'callx': return lowerCallx(ctx, insn);
    case 'exit': return lowerExit(ctx);
    case 'ja':
    case 'jcond':
      return undefined;
    default:
      return assertNever(insn, 'instruction');
  }
}

/** The register an instruction writes, if it may be r10 (calls and packet loads write r0..r5 only). */
function writtenReg(insn: Insn): Reg | undefined {
  switch (insn.kind) {
    case 'alu': case 'neg': case 'movsx': case 'endian': case 'lddw': case 'load':
      return insn.dst;
    case 'atomic':
      return insn.fetch && insn.op !== 'cmpxchg' ? insn.src : undefined;
    case 'store': case 'ldpkt': case 'ja': case 'jcond': case 'call': case 'callx': case 'exit':
      return undefined;
    default:
      return assertNever(insn, 'instruction');
  }
}

function writesR10(program: Program, bb: BasicBlock): boolean {
  for (let i = bb.first; i <= bb.last; i++) if (writtenReg(program.insns[i]) === 10) return true;
  return false;
}

/**
 * A function body inside its trap block: a fault (frame.ts, `FnContext.fault`) branches out of the block with
 * the fault in `$fault` and its address in `$addr`; after the block, they go to the `fault_*` globals, and the
 * function traps. The body itself never falls out of the block (it ends with `unreachable`).
 *
 *     (block $trap <body> (unreachable))
 *     (global.set $fault_what (i32.wrap_i64 $fault)) (global.set $fault_addr $addr)
 *     (global.set $fault_pc (i32.wrap_i64 (i64.shr_u $fault (i64.const 32)))) (unreachable)
 */
function trapBlock(b: WasmBuilder, body: readonly Expr[]): Expr {
  const fault = (): Expr => b.getLocal(L_FAULT, 'i64');
  return b.block([
    b.namedBlock(TRAP_LABEL, body),
    b.setGlobal(G.faultWhat, b.i32.wrap(fault())),
    b.setGlobal(G.faultAddr, b.getLocal(L_ADDR, 'i64')),
    b.setGlobal(G.faultPc, b.i32.wrap(b.i64.shr_u(fault(), b.i64.const(32n)))),
    b.unreachable(),
  ]);
}

/**
 * `bind`: the state runs share until the next `bind`: the stack, the region slots (from the host: frame.ts,
 * `slotGlobals`), and the packet path's buffers, writability and budget. Starts the stack dirty (the packet path
 * clears it whole before its first run).
 *
 *     (func $bind (param $stack i32) (param $data i32) (param $offsets i32) (param $results i32) (param $writable i32)
 *                 (param $budget_lo i32) (param $budget_hi i32) (param $rd0_lo i32) (param $rd0_span1 i32) ... (param $wr3_span8 i32)
 *       (global.set $stack_lo (i64.extend_i32_u $stack)) (global.set $pk_stack $stack) ... (global.set $dirty (i32.const 1))
 *       (global.set $rd0_lo (i64.extend_i32_u $rd0_lo)) (global.set $rd0_span1 (i64.extend_i32_u $rd0_span1)) ...)
 */
function buildBind(b: WasmBuilder, options: LowerOptions, use: StateUse, context: boolean): void {
  const p = (i: number): Expr => b.getLocal(i, 'i32');
  const u = (e: Expr): Expr => b.i64.extend_u(e);
  const body: Expr[] = [
    b.setGlobal(G.stackLo, u(p(0))),
    b.setGlobal(G.pkStack, p(0)),
    b.setGlobal(G.pkData, p(1)),
    b.setGlobal(G.pkOffsets, p(2)),
    b.setGlobal(G.pkResults, p(3)),
    b.setGlobal(G.pkWritable, b.select(p(4), b.i64.const(-1n), b.i64.const(0n))),
    b.setGlobal(G.dirty, b.i32.const(1)),
  ];
  if (options.budget) body.push(b.setGlobal(G.budgetInit, b.i64.or(u(p(5)), b.i64.shl(u(p(6)), b.i64.const(32n)))));
  if (context) body.push(b.setGlobal(G.pkCtx, p(7)), b.setGlobal(G.pkCtxTemplate, p(8)));
  body.push(b.setGlobal(G.pkWire, p(9)));
  const names = ['stack', 'data', 'offsets', 'results', 'writable', 'budget_lo', 'budget_hi', 'ctx', 'ctx_template', 'wire'];
  // Every slot's params, in the order of slotGlobals; only the globals the code reads are set.
  let at = BIND_SLOTS_AT;
  for (const kind of ['rd', 'wr'] as const) {
    for (let k = 0; k < REGION_SLOTS; k++) {
      const used = new Set(use.slotGlobals(options.regionChecks, kind, k));
      for (const g of slotGlobals(options.regionChecks, kind, k)) {
        if (used.has(g)) body.push(b.setGlobal(g, u(p(at))));
        names.push(g);
        at++;
      }
    }
  }
  b.addFunction(F.bind, bindParams(options.regionChecks), 'none', [], b.block(body), names);
  b.addExport(F.bind);
}

/**
 * `run`, after `bind`: the budget and the legacy packet of this run (in the `cache` variant also both caches,
 * started on the stack so that their invariant `len >= 8` holds), then the main function on a fresh frame.
 *
 *     (func $run (param $budget i64) (param $pkt_lo i32) (param $pkt_len i32) (param $r1 i64) ... (param $r5 i64) (result i64)
 *       (global.set $budget $budget) (global.set $pkt_lo (i64.extend_i32_u $pkt_lo)) ...
 *       (call $f0 (i32.add (global.get $pk_stack) (i32.const 4096)) (i64.const 0) $r1 $r2 $r3 $r4 $r5 (i64.const 0) ...))
 */
function buildEntry(b: WasmBuilder, options: LowerOptions, use: StateUse): void {
  const u = (i: number): Expr => b.i64.extend_u(b.getLocal(i, 'i32'));
  const body: Expr[] = use.packet ? [b.setGlobal(G.pktLo, u(1)), b.setGlobal(G.pktLen, u(2))] : [];
  if (options.regionChecks === 'cache') {
    body.push(
      b.setGlobal(G.rdcLo, b.getGlobal(G.stackLo, 'i64')),
      b.setGlobal(G.wrcLo, b.getGlobal(G.stackLo, 'i64')),
      b.setGlobal(G.rdcLen, b.i64.const(BigInt(STACK_SIZE))),
      b.setGlobal(G.wrcLen, b.i64.const(BigInt(STACK_SIZE))),
    );
  }
  if (options.budget) body.push(b.setGlobal(G.budget, b.getLocal(0, 'i64')));
  if (options.stopFlag) body.push(b.setGlobal(G.stop, b.i32.const(0)));
  const zero = (): Expr => b.i64.const(0n);
  const args = [1, 2, 3, 4, 5].map((r) => b.getLocal(2 + r, 'i64'));
  const fp = b.i32.add(b.getGlobal(G.pkStack, 'i32'), b.i32.const(STACK_SIZE));
  body.push(b.return(b.call(fnName(0), [fp, zero(), ...args, zero(), zero(), zero(), zero()], 'i64')));
  b.addFunction(F.run, ENTRY_PARAMS, 'i64', [], b.block(body), ['budget', 'pkt_lo', 'pkt_len', 'r1', 'r2', 'r3', 'r4', 'r5']);
  b.addExport(F.run);
}

/**
 * The packet path's entries (frame.ts, {@link PACKET_ENTRIES}), after `bind`: `run_packet`, `run_batch`. A run
 * sets region slot 0 (the spans the code reads: `StateUse`) and the legacy packet to the packet, resets the
 * stack and the budget, and calls the main function with r1 = the packet's address, r2 = its length, r3 = its
 * wire length (`wire`, or the batch's `pk_wire` table). Each entry
 * has the run inline (a call less per packet).
 *
 *     (func $run_packet (param $len i32) (param $wire i32) (result i32)
 *       <slot 0 := [pk_data, pk_data + len)> <stack reset> [(global.set $budget (global.get $budget_init))]
 *       (i32.wrap_i64 (call $f0 (i32.add (global.get $pk_stack) (i32.const 4096)) (i64.const 0)
 *         (i64.extend_i32_u (global.get $pk_data)) (i64.extend_i32_u $len) (i64.extend_i32_u $wire) (i64.const 0) ...)))
 *     (func $run_batch (param $i i32) (param $n i32) (result i32) (local $lo i32) (local $len i32) ...
 *       (block $done (loop $next
 *         (br_if $done (i32.ge_u $i $n))
 *         (global.set $batch_pos $i)
 *         (local.set $lo (i32.add (global.get $pk_data) (i32.load (i32.add (global.get $pk_offsets) (i32.shl $i (i32.const 2))))))
 *         (local.set $len (i32.sub (i32.add (global.get $pk_data) (i32.load offset=4 ...)) $lo))
 *         <as run_packet, on [lo, lo + len)>
 *         (i32.store (i32.add (global.get $pk_results) (i32.shl $i (i32.const 2))) (i32.wrap_i64 (call $f0 ...)))
 *         (local.set $i (i32.add $i (i32.const 1))) (br $next)))
 *       $n)
 *
 * The stack reset (`frameStoreLow`: the lowest r10 offset of the main function's unchecked stores, rounded down
 * to 64 bytes; see `zeroRange`):
 *
 *     (if (global.get $dirty)
 *       (then <zero [pk_stack, pk_stack + 4096)> (global.set $dirty (i32.const 0)))
 *       (else <zero [fp + frameStoreLow, fp)>))
 */
function buildPacketEntries(b: WasmBuilder, options: LowerOptions, use: StateUse, frameStoreLow: number, context: PacketContext | undefined): void {
  const i32 = b.i32;
  const i64 = b.i64;
  const u = (e: Expr): Expr => i64.extend_u(e);
  const p = (i: number): Expr => b.getLocal(i, 'i32');

  /**
   * Everything a run does, on the packet `[lo(), lo() + len())`: statements, then r0's low 32 bits (i32);
   * `SPAN`, `MASK` (i64) and `P` (i32) are spare locals. Slot 0's lengths are left alone: only the `cache`
   * variant reads them.
   */
  const runBody = (lo: () => Expr, len: () => Expr, wire: () => Expr, SPAN: number, MASK: number, P: number): { stmts: Expr[]; r0: Expr } => {
    const body: Expr[] = [];
    const rd = use.spans.rd;
    const wr = use.spans.wr;
    if (rd.size > 0) body.push(b.setGlobal(G.rdLo(0), u(lo())));
    if (wr.size > 0) body.push(b.setGlobal(G.wrLo(0), u(lo())), b.setLocal(MASK, b.getGlobal(G.pkWritable, 'i64')));
    if (use.packet) body.push(b.setGlobal(G.pktLo, u(lo())), b.setGlobal(G.pktLen, u(len())));
    for (const size of ACCESS_SIZES) {
      if (!rd.has(size) && !wr.has(size)) continue;
      // span(size) = len >= size ? len - size + 1 : 0, for loads; masked for stores.
      body.push(b.setLocal(SPAN, b.select(i32.ge_u(len(), i32.const(size)), u(i32.sub(len(), i32.const(size - 1))), i64.const(0n))));
      if (rd.has(size)) body.push(b.setGlobal(G.rdSpan(0, size), b.getLocal(SPAN, 'i64')));
      if (wr.has(size)) body.push(b.setGlobal(G.wrSpan(0, size), i64.and(b.getLocal(SPAN, 'i64'), b.getLocal(MASK, 'i64'))));
    }
    const stack = (): Expr => b.getGlobal(G.pkStack, 'i32');
    // The static range, rounded out to 64-byte blocks (it stays inside the frame: frames are 512-byte aligned
    // relative to the stack base). Cleared by stores, not `memory.fill`: V8 makes that a call into C, and a call
    // on any path makes V8 spill the run's live values on the path every run takes.
    const low = Math.floor(frameStoreLow / 64) * 64;
    body.push(
      b.if(
        b.getGlobal(G.dirty, 'i32'),
        b.block([zeroRange(b, stack, STACK_SIZE, P), b.setGlobal(G.dirty, i32.const(0))]),
        low === 0 ? b.nop() : zeroRange(b, () => i32.add(stack(), i32.const(STACK_SIZE + low)), -low, P),
      ),
    );
    if (options.budget) body.push(b.setGlobal(G.budget, b.getGlobal(G.budgetInit, 'i64')));
    if (options.stopFlag) body.push(b.setGlobal(G.stop, i32.const(0)));
    const zero = (): Expr => i64.const(0n);
    const fp = i32.add(stack(), i32.const(STACK_SIZE));
    let r1 = u(lo());
    let r2 = u(len());
    let r3 = u(wire());
    if (context !== undefined) {
      body.push(...setContext(b, context, lo, len));
      r1 = u(b.getGlobal(G.pkCtx, 'i32'));
      r2 = zero();
      r3 = zero();
    }
    const r0 = b.call(fnName(0), [fp, zero(), r1, r2, r3, zero(), zero(), zero(), zero(), zero(), zero()], 'i64');
    return { stmts: body, r0: i32.wrap(r0) };
  };

  // run_packet(len) and run_batch(first, count) each have the run inline: one call less per packet.
  const data = (): Expr => b.getGlobal(G.pkData, 'i32');
  {
    const one = runBody(data, () => p(0), () => p(1), 2, 3, 4);
    b.addFunction(F.runPacket, ['i32', 'i32'], 'i32', ['i64', 'i64', 'i32'], b.block([...one.stmts, b.return(one.r0)]), ['len', 'wire', 'span', 'mask', 'p']);
    b.addExport(F.runPacket);
  }
  {
    const I = 0, N = 1, LO = 2, LEN = 3;
    const entryAt = (table: string): Expr => i32.add(b.getGlobal(table, 'i32'), i32.shl(p(I), i32.const(2)));
    const one = runBody(() => p(LO), () => p(LEN), () => b.load32(entryAt(G.pkWire)), 4, 5, 6);
    const body = b.block([
      b.br('done', i32.ge_u(p(I), p(N))),
      b.setGlobal(G.batchPos, p(I)),
      b.setLocal(LO, i32.add(data(), b.load32(entryAt(G.pkOffsets)))),
      b.setLocal(LEN, i32.sub(i32.add(data(), b.load32(entryAt(G.pkOffsets), 4)), p(LO))),
      ...one.stmts,
      b.store32(entryAt(G.pkResults), one.r0),
      b.setLocal(I, i32.add(p(I), i32.const(1))),
      b.br('next'),
    ]);
    const fn = b.block([b.namedBlock('done', [b.loop('next', body)]), b.return(p(N))]);
    b.addFunction(F.runBatch, ['i32', 'i32'], 'i32', ['i32', 'i32', 'i64', 'i64', 'i32'], fn, ['first', 'count', 'lo', 'len', 'span', 'mask', 'p']);
    b.addExport(F.runBatch);
    b.addGlobalExport(G.batchPos);
  }
}

/**
 * Context mode: the context of a run on the packet `[lo(), lo() + len())` (frame.ts, `PACKET_ENTRIES`): the
 * writable fields from the template, then the per-packet fields.
 *
 *     (i32.store offset=48 (global.get $pk_ctx) (i32.load offset=48 (global.get $pk_ctx_template)))   ;; each writable word
 *     (i32.store offset=0 (global.get $pk_ctx) $lo) (i32.store offset=4 (global.get $pk_ctx) (i32.add $lo $len)) ...
 *     (i32.store16 offset=16 (global.get $pk_ctx) (select (i32.load16_u offset=12 $lo) (i32.const 0) (i32.ge_u $len (i32.const 14))))
 */
function setContext(b: WasmBuilder, c: PacketContext, lo: () => Expr, len: () => Expr): Expr[] {
  const i32 = b.i32;
  const ctx = (): Expr => b.getGlobal(G.pkCtx, 'i32');
  const out: Expr[] = [];
  for (const w of c.writable) {
    for (let off = w.start; off < w.end; off += 4) out.push(b.store32(ctx(), b.load32(b.getGlobal(G.pkCtxTemplate, 'i32'), off), off));
  }
  for (const off of c.data) out.push(b.store32(ctx(), lo(), off));
  for (const off of c.dataEnd) out.push(b.store32(ctx(), i32.add(lo(), len()), off));
  for (const off of c.len) out.push(b.store32(ctx(), len(), off));
  if (c.etherType !== undefined) {
    out.push(b.store16(ctx(), b.select(i32.ge_u(len(), i32.const(14)), b.load16u(lo(), 12), i32.const(0)), c.etherType));
  }
  return out;
}

/** Rejects a context the entries cannot set up: fields outside the struct or misaligned. */
function checkPacketContext(c: PacketContext): void {
  const ok = (off: number, size: number): boolean => Number.isInteger(off) && off >= 0 && off % size === 0 && off + size <= c.size;
  if (!(Number.isInteger(c.size) && c.size > 0 && c.size % 4 === 0)) throw new RangeError(`packet context size ${c.size} is not a positive multiple of 4`);
  for (const off of [...c.data, ...c.dataEnd, ...c.len]) if (!ok(off, 4)) throw new RangeError(`packet context field at ${off} is not a 4-byte field inside the ${c.size}-byte struct`);
  if (c.etherType !== undefined && !ok(c.etherType, 2)) throw new RangeError(`packet context EtherType field at ${c.etherType} is not a 2-byte field inside the struct`);
  for (const w of c.writable) if (!(ok(w.start, 4) && w.end > w.start && w.end % 4 === 0 && w.end <= c.size)) throw new RangeError(`packet context writable range [${w.start}, ${w.end}) is not 4-byte aligned inside the struct`);
}

/**
 * Zeroes `bytes` (a multiple of 64) from `start()`: eight i64 stores, unrolled for one block, else in a loop
 * over the blocks with the spare i32 local `p`.
 *
 *     (local.set $p <start>)
 *     (loop $zero (i64.store (local.get $p) (i64.const 0)) ... (i64.store offset=56 (local.get $p) (i64.const 0))
 *       (local.set $p (i32.add (local.get $p) (i32.const 64)))
 *       (br_if $zero (i32.lt_u (local.get $p) <start + bytes>)))
 */
function zeroRange(b: WasmBuilder, start: () => Expr, bytes: number, p: number): Expr {
  const block = (at: () => Expr): Expr[] => Array.from({ length: 8 }, (_, w) => b.store64(8, at(), b.i64.const(0n), 8 * w));
  if (bytes === 64) return b.block(block(start));
  const ptr = (): Expr => b.getLocal(p, 'i32');
  const body = [...block(ptr), b.setLocal(p, b.i32.add(ptr(), b.i32.const(64))), b.br('zero', b.i32.lt_u(ptr(), b.i32.add(start(), b.i32.const(bytes))))];
  return b.block([b.setLocal(p, start()), b.loop('zero', b.block(body))]);
}

const REG_MAX = 10;

/**
 * Checks that a {@link Program} is well-formed before any of it reaches Binaryen: registers, sizes, targets
 * and function entries. `decode` and the assembler already guarantee all this; hand-built programs may not.
 */
export function checkProgram(program: Program): void {
  const { insns, slotCount, indexOfPc, functions } = program;
  if (insns.length === 0 || slotCount === 0) throw new InvalidProgramError('empty', 'program is empty');
  if (indexOfPc.length !== slotCount) throw new InvalidProgramError('data_format', 'program slot index does not match its slot count');
  const isStart = (pc: number): boolean => Number.isInteger(pc) && pc >= 0 && pc < slotCount && indexOfPc[pc] >= 0;
  const reg = (r: number, pc: number): void => {
    if (!Number.isInteger(r) || r < 0 || r > REG_MAX) throw new InvalidProgramError('bad_register', `invalid register r${r}`, pc);
  };
  const int32 = (v: number, pc: number): void => {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new InvalidProgramError('data_format', `immediate ${v} is not a 32-bit integer`, pc);
  };
  const off16 = (v: number, pc: number): void => {
    if (!Number.isInteger(v) || v < -0x8000 || v > 0x7fff) throw new InvalidProgramError('data_format', `offset ${v} is not a 16-bit integer`, pc);
  };
  const oneOf = (v: number, allowed: readonly number[], what: string, pc: number): void => {
    if (!allowed.includes(v)) throw new InvalidProgramError('data_format', `invalid ${what} ${v}`, pc);
  };
  const target = (t: number, pc: number, what: 'jump' | 'call'): void => {
    if (!isStart(t)) throw new InvalidProgramError(what === 'jump' ? 'jump_out_of_range' : 'call_out_of_range', `${what} target ${t} is not an instruction`, pc);
  };
  let expectPc = 0;
  for (let i = 0; i < insns.length; i++) {
    const insn = insns[i];
    const pc = insn.pc;
    if (pc !== expectPc || indexOfPc[pc] !== i) throw new InvalidProgramError('data_format', `instruction ${i} is not at slot ${expectPc}`, pc);
    expectPc += insn.kind === 'lddw' ? 2 : 1;
    switch (insn.kind) {
      case 'alu':
        oneOf(insn.width, [32, 64], 'width', pc);
        reg(insn.dst, pc);
        if (insn.src.kind === 'reg') reg(insn.src.reg, pc);
        else int32(insn.src.imm, pc);
        break;
      case 'neg':
        oneOf(insn.width, [32, 64], 'width', pc);
        reg(insn.dst, pc);
        break;
      case 'endian':
        oneOf(insn.bits, [16, 32, 64], 'byte-swap width', pc);
        reg(insn.dst, pc);
        break;
      case 'movsx':
        oneOf(insn.width, [32, 64], 'width', pc);
        oneOf(insn.bits, [8, 16, 32], 'sign-extension width', pc);
        reg(insn.dst, pc);
        reg(insn.src, pc);
        break;
      case 'lddw':
        reg(insn.dst, pc);
        if (typeof insn.value !== 'bigint') throw new InvalidProgramError('data_format', 'lddw value is not a bigint', pc);
        break;
      case 'load':
        oneOf(insn.size, [1, 2, 4, 8], 'access size', pc);
        reg(insn.dst, pc);
        reg(insn.base, pc);
        off16(insn.off, pc);
        break;
      case 'store':
        oneOf(insn.size, [1, 2, 4, 8], 'access size', pc);
        reg(insn.base, pc);
        off16(insn.off, pc);
        if (insn.value.kind === 'reg') reg(insn.value.reg, pc);
        else int32(insn.value.imm, pc);
        break;
      case 'atomic':
        oneOf(insn.size, [4, 8], 'atomic size', pc);
        reg(insn.base, pc);
        reg(insn.src, pc);
        off16(insn.off, pc);
        break;
      case 'ldpkt':
        oneOf(insn.size, [1, 2, 4], 'packet load size', pc);
        if (insn.index !== null) reg(insn.index, pc);
        int32(insn.imm, pc);
        break;
      case 'ja': case 'jcond':
        target(insn.target, pc, 'jump');
        if (insn.kind === 'jcond') {
          oneOf(insn.cond.width, [32, 64], 'width', pc);
          reg(insn.dst, pc);
          if (insn.src.kind === 'reg') reg(insn.src.reg, pc);
          else int32(insn.src.imm, pc);
        }
        break;
      case 'call':
        if (insn.target.kind === 'local') target(insn.target.pc, pc, 'call');
        else int32(insn.target.id, pc);
        break;
      case 'callx':
        reg(insn.reg, pc);
        break;
      case 'exit':
        break;
      default:
        assertNever(insn, 'instruction');
    }
  }
  if (expectPc !== slotCount) throw new InvalidProgramError('data_format', `instructions cover ${expectPc} slots, program has ${slotCount}`);
  if (functions[0] !== 0) throw new InvalidProgramError('data_format', 'the first function must start at slot 0');
  for (const f of functions) if (!isStart(f)) throw new InvalidProgramError('call_out_of_range', `function entry ${f} is not an instruction`);
  const entries = new Set(functions);
  for (const insn of insns) {
    if (insn.kind === 'call' && insn.target.kind === 'local' && !entries.has(insn.target.pc)) {
      throw new InvalidProgramError('data_format', `call target ${insn.target.pc} is not listed as a function`, insn.pc);
    }
  }
}
