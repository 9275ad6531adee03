/**
 * `translate`: Program → a validated WebAssembly module (bytes, and optionally its text), plus statistics.
 *
 * The module (ABI in frame.ts):
 *
 *     (import "env" "memory" (memory 1 [65536 shared]))
 *     (import "env" "fault" ...) (import "env" "mem_miss" ...) [pkt_abort, callx, helper_<id> ...]
 *     (global $stack_lo i64) (global $rd0_lo i64) ...           ;; per-run state, set by $run
 *     (func $mem_slow ...)                                        ;; `cache` variant: the slot search
 *     (func $f0 (param $fp i32) (param $r0 i64) ... (param $r9 i64) (result i64) ...)   ;; one per eBPF function
 *     (func $run (export "run") ...)                              ;; sets the globals, calls $f0
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
import { STACK_SIZE } from '../src/exec.js';
import type { Insn, Reg } from '../src/isa/insn.js';
import type { Program } from '../src/isa/program.js';
import { WasmBuilder, binaryenLoaded, loadBinaryen, type Expr } from './binaryen.js';
import {
  ACCESS_SIZES, ENTRY_ARGS_AT, ENTRY_PARAMS, ENTRY_RD_AT, ENTRY_WR_AT, F, FN_LOCAL_NAMES, FN_PARAMS, FN_VARS, FnContext, G, HELPER_PARAMS, L_FP, L_R10,
  L_STACK_LO, REGION_SLOTS, fnName, helperImport, type ControlFlow, type LowerOptions, type RegionChecks,
} from './frame.js';
import { lowerAlu, lowerEndian, lowerLddw, lowerMovsx, lowerNeg } from './lower-alu.js';
import { lowerCall, lowerCallx, lowerExit } from './lower-call.js';
import { buildMemSlow, lowerAtomic, lowerLdPkt, lowerLoad, lowerStore } from './lower-mem.js';
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
}

/** The result of {@link translate}. */
export interface TranslateResult {
  /** The module's bytes. */
  readonly wasm: Uint8Array;
  /** The module as text, when asked for. */
  readonly wat?: string;
  /** Helper ids called directly (each is an import `helper_<id>`), ascending. */
  readonly helperIds: readonly number[];
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
  };
  const helperIds = [...new Set(program.insns.flatMap((i) => (i.kind === 'call' && i.target.kind === 'helper' ? [i.target.id] : [])))].sort((a, b) => a - b);
  const callees = new Set(program.insns.flatMap((i) => (i.kind === 'call' && i.target.kind === 'local' ? [i.target.pc] : [])));

  const b = new WasmBuilder({ sharedMemory: options.shared ?? false });
  try {
    // Imports, in a fixed order.
    b.addFunctionImport(F.fault, ['i32', 'i32', 'i64', 'i32'], 'none');
    b.addFunctionImport(F.memMiss, ['i64', 'i32', 'i32', 'i32'], 'none');
    if (program.insns.some((i) => i.kind === 'ldpkt')) b.addFunctionImport(F.pktAbort, ['i32'], 'none');
    if (program.insns.some((i) => i.kind === 'callx')) b.addFunctionImport(F.callx, ['i32', 'i64', ...HELPER_PARAMS.slice(1)], 'i64');
    for (const id of helperIds) b.addFunctionImport(helperImport(id), HELPER_PARAMS, 'i64');

    const cache = lowerOptions.regionChecks === 'cache';
    for (const g of [G.stackLo, G.pktLo, G.pktLen]) b.addGlobal(g, 'i64', 0);
    if (cache) for (const g of [G.rdcLo, G.rdcLen, G.wrcLo, G.wrcLen]) b.addGlobal(g, 'i64', 0);
    if (lowerOptions.budget) b.addGlobal(G.budget, 'i64', 0);
    for (const r of [1, 2, 3, 4, 5] as const) b.addGlobal(G.ret(r), 'i64', 0);
    for (let k = 0; k < REGION_SLOTS; k++) {
      for (const g of [G.rdLo(k), G.rdLen(k), ...ACCESS_SIZES.map((s) => G.rdSpan(k, s))]) b.addGlobal(g, 'i64', 0);
      for (const g of [G.wrLo(k), G.wrLen(k), ...ACCESS_SIZES.map((s) => G.wrSpan(k, s))]) b.addGlobal(g, 'i64', 0);
    }

    if (cache) buildMemSlow(b);
    const cfg = new ProgramCfg(program);
    let blockCount = 0;
    for (const entry of program.functions) {
      const blocks = cfg.functionBlocks(entry);
      blockCount += blocks.length;
      const ctx = new FnContext(b, program, lowerOptions, entry, blocks.some((bb) => writesR10(program, bb)), callees.has(entry));
      const body = renderFunction(ctx, blocks, (bb) => lowerBlock(ctx, bb));
      const prologue = [b.setLocal(L_STACK_LO, b.getGlobal(G.stackLo, 'i64'))];
      if (ctx.r10Written) prologue.push(b.setLocal(L_R10, b.i64.extend_u(b.getLocal(L_FP, 'i32'))));
      b.addFunction(fnName(entry), FN_PARAMS, 'i64', FN_VARS, b.block([...prologue, body, b.unreachable()]), FN_LOCAL_NAMES);
    }
    buildEntry(b, lowerOptions);
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
    };
    return { wasm, wat, helperIds, stats };
  } finally {
    b.dispose();
  }
}

/** A basic block's straight-line instructions and its `exit`, as one statement (none: `undefined`); jumps become edges. */
function lowerBlock(ctx: FnContext, bb: BasicBlock): Expr | undefined {
  const out: Expr[] = [];
  for (let i = bb.first; i <= bb.last; i++) {
    const e = lowerInsn(ctx, ctx.program.insns[i]);
    if (e !== undefined) out.push(e);
  }
  return out.length === 0 ? undefined : ctx.b.block(out);
}

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
 * The exported entry: stores the run's parameters in the globals (in the `cache` variant, starting both caches
 * on the stack, so that their invariant `len >= 8` holds from the start) and calls the main function with a
 * fresh frame.
 *
 *     (func $run (param $stack_base i32) (param $budget i64) (param $pkt_lo i32) (param $pkt_len i32)
 *                (param $rd0_lo i32) (param $rd0_len i32) ... (param $wr3_len i32) (param $r1 i64) ... (result i64)
 *       (global.set $stack_lo (i64.extend_i32_u $stack_base)) ... (global.set $rd0_lo (i64.extend_i32_u $rd0_lo)) ...
 *       (global.set $rd0_span4 (if (result i64) (i64.ge_u <len> (i64.const 4)) (then <len - 3>) (else (i64.const 0)))) ...
 *       (call $f0 (i32.add $stack_base (i32.const 4096)) (i64.const 0) $r1 $r2 $r3 $r4 $r5 (i64.const 0) ...))
 */
function buildEntry(b: WasmBuilder, options: LowerOptions): void {
  const p32 = (i: number): Expr => b.getLocal(i, 'i32');
  const u = (i: number): Expr => b.i64.extend_u(p32(i));
  const body: Expr[] = [b.setGlobal(G.stackLo, u(0)), b.setGlobal(G.pktLo, u(2)), b.setGlobal(G.pktLen, u(3))];
  if (options.regionChecks === 'cache') {
    body.push(
      b.setGlobal(G.rdcLo, u(0)),
      b.setGlobal(G.wrcLo, u(0)),
      b.setGlobal(G.rdcLen, b.i64.const(BigInt(STACK_SIZE))),
      b.setGlobal(G.wrcLen, b.i64.const(BigInt(STACK_SIZE))),
    );
  }
  if (options.budget) body.push(b.setGlobal(G.budget, b.getLocal(1, 'i64')));
  const names = ['stack_base', 'budget', 'pkt_lo', 'pkt_len'];
  for (const [at, kind] of [[ENTRY_RD_AT, 'rd'], [ENTRY_WR_AT, 'wr']] as const) {
    for (let k = 0; k < REGION_SLOTS; k++) {
      const len = (): Expr => u(at + 2 * k + 1);
      body.push(
        b.setGlobal(kind === 'rd' ? G.rdLo(k) : G.wrLo(k), u(at + 2 * k)),
        b.setGlobal(kind === 'rd' ? G.rdLen(k) : G.wrLen(k), len()),
      );
      // span(size) = len >= size ? len - size + 1 : 0
      for (const size of ACCESS_SIZES) {
        const span = b.if(b.i64.ge_u(len(), b.i64.const(BigInt(size))), b.i64.sub(len(), b.i64.const(BigInt(size - 1))), b.i64.const(0n));
        body.push(b.setGlobal(kind === 'rd' ? G.rdSpan(k, size) : G.wrSpan(k, size), span));
      }
      names.push(`${kind}${k}_lo`, `${kind}${k}_len`);
    }
  }
  names.push('r1', 'r2', 'r3', 'r4', 'r5');
  const zero = (): Expr => b.i64.const(0n);
  const args = [1, 2, 3, 4, 5].map((r) => b.getLocal(ENTRY_ARGS_AT + r - 1, 'i64'));
  const fp = b.i32.add(p32(0), b.i32.const(STACK_SIZE));
  body.push(b.return(b.call(fnName(0), [fp, zero(), ...args, zero(), zero(), zero(), zero()], 'i64')));
  b.addFunction(F.run, ENTRY_PARAMS, 'i64', [], b.block(body), names);
  b.addExport(F.run);
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
