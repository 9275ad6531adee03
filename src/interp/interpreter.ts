/**
 * The reference interpreter: runs a {@link Program} against an {@link ExecRequest} with RFC 9669 semantics, every
 * memory access checked. It is both the oracle the JIT is tested against and the baseline it is measured
 * against, so it has to be exact *and* as fast as an honest interpreter can be.
 *
 * Three parts, one file each:
 * - code.ts pre-decodes the program once into a machine `Int32Array` (registers as 32-bit halves, run state,
 *   saved frames, then four words a slot with operations specialized by width and operand kind);
 * - execute.ts is the hot loop: a `switch` over those operations, run in one module-level arena array into which
 *   the driver copies the running program's code; it makes no calls, and returns to the driver for anything
 *   rare;
 * - this file is the driver: it validates the request, loads the arena (saving and restoring an outer run's
 *   state when runs nest), and handles what the loop hands back: memory accesses outside the cached regions
 *   (with the region search and the faults), atomics, helper calls, 64-bit division of operands beyond 2^52
 *   (bigint, via semantics.ts), budget refills. Besides `run` it has a lean entry, {@link Interpreter.runBound},
 *   for its packet engine (packet.ts): registers as numbers, a layout validated once, no request object.
 *
 * Conventions both engines follow (src/exec.ts has the contract):
 * - r1-r5 are left as they were after a helper call; r6-r10 are restored after a local call returns (r10 too:
 *   each function has its own frame pointer). Registers other than r1-r5 and r10 start at 0.
 * - A local call at depth 8 faults `call_depth`; depth is checked before the budget, so a call that cannot happen
 *   consumes no budget. A callee's frame is not cleared.
 * - An atomic is checked against the regions as a store (it needs a writable region) before its alignment
 *   (`misaligned_atomic`).
 * - On a shared memory (workers) atomics use `Atomics`, so concurrent threads never lose an update.
 * - `call btf N` (kernel functions) is not supported: executing one faults `unknown_helper`.
 * - Falling off the end faults `fell_off_end` at the pc of the last instruction.
 * - LD_IND's offset is `(u32)index + imm` in 32-bit arithmetic read as signed, as in Linux; a negative offset or
 *   any byte past the packet ends the program with r0 = 0.
 *
 * - A helper receives `{memory, pc}`; it may grow the memory (the views are re-derived) and may run programs
 *   itself, on this interpreter or another (nested runs).
 * - A helper declared with an exact WebAssembly form (src/exec.ts `withExactWasmForm`: the map helpers) is called through the form, its
 *   pointers checked here on numbers, with no `HelperEnv` and no request; a check that fails hands the call to
 *   the JS form, which faults as it always has. Either way the results, faults and memory effects are the JS
 *   form's.
 *
 * Not here: value-level definitions on bigint (semantics.ts), the packet engine (packet.ts), memory layout and
 * helper implementations (runtime/), verification (a verified program would let us drop checks; this engine
 * checks everything).
 */

import { ExecutionError, InternalError } from '../errors.js';
import {
  STACK_SIZE, UnwindSignal, frameTop, describeValue, validateRequest, wasmHelperOf, writesMemory, hasExactWasmForm, locateSpan,
  type ExecRequest, type Executable, type HelperEnv, type HelperFn, type HelperTable, type Region,
} from '../exec.js';
import type { AluOp } from '../isa/insn.js';
import type { Program } from '../isa/program.js';
import type { PacketEngine } from '../packet.js';
import { ATOMIC_OPS, Layout, Op, buildMachine, slotAt, type Machine } from './code.js';
import { Exit, arena, execute } from './execute.js';
import { sharedAtomic32, sharedAtomic64 } from './shared-atomics.js';
import { InterpPacketEngine } from './packet.js';
import { alu64, fromHalves, hiHalf, loHalf } from './semantics.js';

/** Default budget chunk: the loop's counter stays a small integer even for huge or unlimited budgets. */
const CHUNK = 0x3fff_ffff;

/** Options for {@link Interpreter}. */
export interface InterpreterOptions {
  /**
   * How much budget the loop counts down before returning to the driver for more (default 2^30 - 1). Results do
   * not depend on it; tests set it small to exercise refills.
   */
  readonly budgetChunk?: number;
}
/** Lowest region start the memory-check cache accepts (see `Interpreter.cacheBounds`). */
const CACHE_MIN = 0x8000;

/** Kinds of memory access, for checks and messages. */
const enum Access { Load, Store, Atomic }

const hex = (n: number | bigint): string => '0x' + n.toString(16);

/** `M[Layout.StoreLow]` when a run has stored nothing. */
const NO_STORE = 0x7fff_ffff;
/** The budget reserve of a run without a budget. */
const UNLIMITED = -1;

/**
 * What the driver reads of a run besides the arena: the parts of its request that the slow paths need (region
 * search, helper calls, the budget fault), and the request itself, which only helpers get to see
 * (`HelperEnv.request`), so that the packet engine builds one only when a helper reads it.
 */
export interface RunSource {
  readonly memory: WebAssembly.Memory;
  readonly stackBase: number;
  /** Regions other than the stack, in the request's order (the first one a fault message can name wins). */
  readonly regions: readonly Region[];
  readonly helpers: HelperTable;
  readonly budget: number | undefined;
  request(): ExecRequest;
}

/**
 * The fast interpreter. Construct once per program (pre-decodes), run many times; runs may nest (a helper may
 * run another program, or this one).
 */
export class Interpreter implements Executable {
  readonly program: Program;
  private readonly main: Machine;
  private counting: Machine | undefined;
  /** Bounds of the region the last {@link resolve} found, for the loop's cache (read right after it returns). */
  private hitLo = 0;
  private hitHi = 0;
  private readonly chunk: number;
  /** The memory buffer of the last run and views of it (see {@link drive}). */
  private buf: ArrayBufferLike | undefined;
  private u8 = new Uint8Array(0);
  private dv = new DataView(new ArrayBuffer(0));

  /**
   * Pre-decodes `program`.
   *
   * @throws InvalidProgramError (`bad_lddw_src`) for an `lddw` whose src is not `imm64` (RFC 9669 section 5.4:
   *   map and variable references must be resolved by a loader first).
   */
  constructor(program: Program, options: InterpreterOptions = {}) {
    this.program = program;
    this.main = buildMachine(program, false);
    const chunk = options.budgetChunk ?? CHUNK;
    if (!(Number.isInteger(chunk) && chunk >= 1 && chunk <= CHUNK)) throw new InternalError(`budgetChunk ${chunk} is not in 1..${CHUNK}`);
    this.chunk = chunk;
  }

  /** Runs the program once (see {@link Executable.run}); returns r0 as u64. */
  run(req: ExecRequest): bigint {
    return this.start(req, this.main).r0;
  }

  /**
   * Runs the program once in counting mode and returns r0 with the number of instructions executed (an `lddw`
   * counts once). Same semantics as {@link run}, slower; for benchmarks and tooling, not the hot path.
   */
  runCounting(req: ExecRequest): { r0: bigint; steps: number } {
    this.counting ??= buildMachine(this.program, true);
    return this.start(req, this.counting);
  }

  /**
   * A packet engine for this program on `memory` (packet.ts), for runtime/filter.ts's `PacketPath`. The budget
   * comes with each binding, so the same engine serves with or without one.
   */
  packetEngine(_budget: boolean, memory: WebAssembly.Memory): PacketEngine {
    return new InterpPacketEngine(this, memory);
  }

  /**
   * The packet engine's entry: one run with r1..r3 given as u32 numbers (r4 = r5 = 0), the packet of legacy
   * loads at `[pktStart, pktStart + pktLen)`, and `u8`/`dv` viewing the whole memory. No validation: the
   * engine checked `src`'s stack and regions when it was bound, and the packet lies in its data area. Returns
   * r0's low 32 bits, unsigned; {@link lastStoreLow} then tells what the run may have written.
   */
  runBound(src: RunSource, u8: Uint8Array, dv: DataView, r1: number, r2: number, r3: number, pktStart: number, pktLen: number): number {
    const outer = enter();
    try {
      load(this.main);
      const M = arena;
      // The read cache starts on the packet, which filters read first (the result does not depend on it).
      const reserve = pktLen > 0
        ? this.setup(this.main, src.stackBase, src.budget, pktStart, pktLen, pktStart, pktStart + pktLen)
        : this.setup(this.main, src.stackBase, src.budget, pktStart, pktLen, src.stackBase, src.stackBase + STACK_SIZE);
      M[2] = r1;
      M[4] = r2;
      M[6] = r3;
      this.drive(src, M, reserve, u8, dv);
      this.lastStoreLow = M[Layout.StoreLow];
      return M[0] >>> 0;
    } finally {
      leave(outer);
    }
  }

  /**
   * After {@link runBound} returns: the lowest address its run stored to (int32 bits), 0 when it called a helper
   * (which may write anything), 2^31 - 1 when it stored nothing. Stores and atomics are counted wherever they
   * land; a run that faulted leaves this unchanged (the caller must assume anything was written).
   */
  lastStoreLow = NO_STORE;

  /** Validates the request, takes a machine array, sets up registers and state, and drives the loop. */
  private start(req: ExecRequest, machine: Machine): { r0: bigint; steps: number } {
    // The loop indexes the memory with any address inside the stack or a cached region: those must be real
    // memory, or a view would throw a RangeError mid-run. Memory only grows, so checking once per run suffices.
    const buf = req.memory.buffer;
    validateRequest(req, buf.byteLength);
    const { budget, packet } = req;
    const src: RunSource = { memory: req.memory, stackBase: req.stackBase, regions: req.regions, helpers: req.helpers, budget, request: () => req };
    // Views of the last buffer seen, kept across runs: creating them costs as much as a short program.
    if (buf !== this.buf) {
      this.buf = buf;
      this.u8 = new Uint8Array(buf);
      this.dv = new DataView(buf);
    }
    const outer = enter();
    try {
      load(machine);
      const M = arena;
      const stackEnd = req.stackBase + STACK_SIZE;
      const reserve = this.setup(machine, req.stackBase, budget, packet ? packet.start : 0, packet ? packet.length : -1, req.stackBase, stackEnd);
      for (let i = 0; i < 5 && i < req.args.length; i++) {
        const v = BigInt.asUintN(64, req.args[i]);
        M[2 + 2 * i] = loHalf(v);
        M[3 + 2 * i] = hiHalf(v);
      }
      this.drive(src, M, reserve, this.u8, this.dv);
      return { r0: fromHalves(M[0], M[1]), steps: (M[Layout.Steps] >>> 0) + (M[Layout.Steps + 1] >>> 0) * 2 ** 32 };
    } finally {
      leave(outer);
    }
  }

  /**
   * Sets up the arena's header for a run of `machine` (whose code is loaded): registers 0 but r10, the run state,
   * the write cache on the stack and the read cache on `[readLo, readHi)` (a region of the run), the packet of
   * legacy loads (`pktLen` -1: none). Returns the budget left beyond the first chunk, or {@link UNLIMITED}.
   */
  private setup(machine: Machine, stackBase: number, budget: number | undefined, pktStart: number, pktLen: number, readLo: number, readHi: number): number {
    const M = arena;
    // Every header word, written out: a loop (or `fill`) over these 36 words costs several times as much, which
    // shows in the packet engine's runs.
    M[0] = 0; M[1] = 0; M[2] = 0; M[3] = 0; M[4] = 0; M[5] = 0; M[6] = 0; M[7] = 0; M[8] = 0; M[9] = 0;
    M[10] = 0; M[11] = 0; M[12] = 0; M[13] = 0; M[14] = 0; M[15] = 0; M[16] = 0; M[17] = 0; M[18] = 0; M[19] = 0;
    const top = frameTop(stackBase, 0);
    M[Layout.R10] = top;
    M[Layout.R10 + 1] = 0;
    M[Layout.StackTop] = top;
    M[Layout.Pc] = Layout.CodeBase;
    M[Layout.Depth] = 0;
    // No double in the common cases (no budget, a small one): a double returned from a call is allocated.
    const first = budget === undefined ? this.chunk : Math.min(budget, this.chunk);
    M[Layout.Left] = first;
    this.cacheBounds(stackBase, stackBase + STACK_SIZE);
    M[Layout.WrLo] = this.hitLo;
    M[Layout.WrHi] = this.hitHi;
    this.cacheBounds(readLo, readHi);
    M[Layout.RdLo] = this.hitLo;
    M[Layout.RdHi] = this.hitHi;
    M[Layout.PktStart] = pktStart;
    M[Layout.PktLen] = pktLen;
    M[Layout.Steps] = 0;
    M[Layout.Steps + 1] = 0;
    M[Layout.Shift] = machine.shift;
    M[Layout.StoreLow] = NO_STORE;
    return budget === undefined ? UNLIMITED : budget - first;
  }

  /**
   * Runs the loop and handles each {@link Exit} until the program returns (r0 is then in `M[0..1]`). `u8` and
   * `dv` view the memory's current buffer; `reserve` is the budget beyond the loop's chunk, or {@link UNLIMITED}.
   */
  private drive(src: RunSource, M: Int32Array, reserve: number, u8: Uint8Array, dv: DataView): void {
    const memory = src.memory;
    for (;;) {
      const why = execute(u8, dv);
      switch (why) {
        case Exit.Return:
          return;
        case Exit.Memory:
          this.access(src, M, u8, dv);
          M[Layout.Pc] += 4;
          break;
        case Exit.Helper:
          if (this.callHelper(src, M)) return;
          // A helper may have grown the memory, detaching the old buffer: re-derive the views. (Reading
          // `memory.buffer` costs as much as the rest of a map lookup; a detached view has length 0. A shared
          // memory is never detached, and its old buffer still holds every region: they were checked against it.)
          if (u8.length === 0) {
            const buf = memory.buffer;
            this.buf = buf;
            u8 = this.u8 = new Uint8Array(buf);
            dv = this.dv = new DataView(buf);
          }
          M[Layout.Pc] += 4;
          break;
        case Exit.Divide:
          divide(M);
          M[Layout.Pc] += 4;
          break;
        case Exit.Budget: {
          if (reserve === 0) {
            throw new ExecutionError('budget_exceeded', `execution budget of ${src.budget} backward jumps and calls exceeded`, slotAt(M, M[Layout.Pc]));
          }
          // The jump or call re-executes and takes one unit of the new chunk.
          const n = reserve === UNLIMITED ? this.chunk : Math.min(reserve, this.chunk);
          if (reserve !== UNLIMITED) reserve -= n;
          M[Layout.Left] = n;
          break;
        }
        default:
          throw new InternalError(`interpreter: unknown exit ${String(why)}`, slotAt(M, M[Layout.Pc]));
      }
    }
  }

  /**
   * Performs the load, store or atomic at `M[Layout.Pc]` the slow way: exact address, region search (which raises
   * the fault, if any), then the access; and points the matching cache at the region found.
   */
  private access(src: RunSource, M: Int32Array, u8: Uint8Array, dv: DataView): void {
    const pc = M[Layout.Pc];
    const w = M[pc];
    const op = w & 0xff;
    const off = M[pc | 1];
    const slot = slotAt(M, pc);
    if (op >= Op.Ldxb && op <= Op.Ldxsw) {
      const size = LOAD_SIZE[op - Op.Ldxb];
      const b = w >>> 16;
      const a = this.resolve(src, M[b], M[b | 1], off, size, Access.Load, slot);
      M[Layout.RdLo] = this.hitLo;
      M[Layout.RdHi] = this.hitHi;
      let lo: number;
      let hi = 0;
      switch (op) {
        case Op.Ldxb: lo = u8[a]; break;
        case Op.Ldxh: lo = dv.getUint16(a, true); break;
        case Op.Ldxw: lo = dv.getInt32(a, true); break;
        case Op.Ldxdw: lo = dv.getInt32(a, true); hi = dv.getInt32(a + 4, true); break;
        case Op.Ldxsb: lo = dv.getInt8(a); hi = lo >> 31; break;
        case Op.Ldxsh: lo = dv.getInt16(a, true); hi = lo >> 31; break;
        default: lo = dv.getInt32(a, true); hi = lo >> 31; break;
      }
      const d = (w >> 8) & 0xff;
      M[d] = lo;
      M[d | 1] = hi;
      return;
    }
    const b = (w >> 8) & 0xff;
    if (op >= Op.Stb && op <= Op.Stxdw) {
      const size = STORE_SIZE[op - Op.Stb];
      const a = this.resolve(src, M[b], M[b | 1], off, size, Access.Store, slot);
      M[Layout.WrLo] = this.hitLo;
      M[Layout.WrHi] = this.hitHi;
      noteStore(M, a);
      // K forms store the immediate (sign-extended for 8 bytes), X forms a register.
      let lo: number;
      let hi: number;
      if (op <= Op.Stdw) {
        lo = M[pc | 2];
        hi = lo >> 31;
      } else {
        lo = M[w >>> 16];
        hi = M[(w >>> 16) | 1];
      }
      switch (size) {
        case 1: u8[a] = lo; break;
        case 2: dv.setInt16(a, lo, true); break;
        case 4: dv.setInt32(a, lo, true); break;
        default: dv.setInt32(a, lo, true); dv.setInt32(a + 4, hi, true); break;
      }
      return;
    }
    if (op === Op.Atomic32 || op === Op.Atomic64) {
      const size = op === Op.Atomic32 ? 4 : 8;
      const a = this.resolve(src, M[b], M[b | 1], off, size, Access.Atomic, slot);
      M[Layout.WrLo] = this.hitLo;
      M[Layout.WrHi] = this.hitHi;
      noteStore(M, a);
      // WebAssembly traps on a misaligned atomic; both engines fault instead.
      if (a % size !== 0) {
        throw new ExecutionError('misaligned_atomic', `atomic ${ATOMIC_OPS[M[pc | 2] & 0xf]} of ${size} bytes at ${hex(a)} is not ${size}-byte aligned`, slot);
      }
      // On a shared memory other threads (workers) may update the same word: use real atomics there.
      if (typeof SharedArrayBuffer !== 'undefined' && dv.buffer instanceof SharedArrayBuffer) atomicShared(M, dv.buffer, a, size, w >>> 16, M[pc | 2]);
      else atomic(M, dv, a, size, w >>> 16, M[pc | 2]);
      return;
    }
    throw new InternalError(`interpreter: op ${op} is not a memory access`, slot);
  }

  /**
   * The region check: computes the exact 64-bit address `(hi:lo) + off`, finds the region (the stack first)
   * holding all `size` bytes, and returns the address, with the region's bounds in `hitLo`/`hitHi` (see
   * {@link cacheBounds}). Stores and atomics need a writable region.
   *
   * @throws ExecutionError `out_of_bounds` or `read_only`, naming the access, its size and address.
   */
  private resolve(src: RunSource, lo: number, hi: number, off: number, size: number, kind: Access, slot: number): number {
    // In number arithmetic when the base is below 2^32 (the usual case): then exact. Otherwise in bigint, where
    // the precision lost above 2^53 does not matter: any address at or above 2^32 is outside every region.
    const a = hi === 0 ? (lo >>> 0) + off : Number(BigInt.asUintN(64, fromHalves(lo, hi) + BigInt(off)));
    const end = a + size;
    if (a >= 0 && end <= 0x1_0000_0000) {
      const sLo = src.stackBase;
      const sHi = sLo + STACK_SIZE;
      if (a >= sLo && end <= sHi) {
        this.cacheBounds(sLo, sHi);
        return a;
      }
      let readOnly: Region | undefined;
      for (const r of src.regions) {
        if (a >= r.start && end <= r.end) {
          if (kind !== Access.Load && !r.writable) {
            readOnly = r;
            continue;
          }
          this.cacheBounds(r.start, r.end);
          return a;
        }
      }
      if (readOnly) throw new ExecutionError('read_only', `${describeAccess(kind, size, lo, hi, off)} is in read-only region ${readOnly.name}`, slot);
      // Name a region the access straddles: the most common bug is reading one byte too far.
      const partial = [{ start: sLo, end: sHi, name: 'stack' }, ...src.regions].find((r) => a < r.end && end > r.start);
      if (partial) throw new ExecutionError('out_of_bounds', `${describeAccess(kind, size, lo, hi, off)} crosses the edge of region ${partial.name} [${hex(partial.start)}, ${hex(partial.end)})`, slot);
    }
    throw new ExecutionError('out_of_bounds', `${describeAccess(kind, size, lo, hi, off)} is outside every region`, slot);
  }

  /**
   * Sets `hitLo`/`hitHi` to the bounds of region `[start, end)` for the loop's cache, or to an empty range when
   * the region cannot be cached.
   *
   * Why the limits: the loop computes an address in int32 arithmetic, `a = (lo + off) | 0`, and accepts it when
   * the base's high half is 0 and `hitLo <= a <= hitHi - size` (signed compares). For a region inside
   * [CACHE_MIN, 2^31) that is exact: a true address at or above 2^31 (or below 0) wraps to a negative `a`, and
   * one at or above 2^32 wraps to below 32 KiB (|off| < 2^15), under CACHE_MIN; both fail the check and come to
   * {@link resolve}, which computes the address exactly. Regions elsewhere are simply never cached.
   */
  private cacheBounds(start: number, end: number): void {
    if (start >= CACHE_MIN && end <= 0x7fff_ffff) {
      this.hitLo = start;
      this.hitHi = end;
    } else {
      this.hitLo = 0x7fff_ffff;
      this.hitHi = 0;
    }
  }

  /**
   * Calls the helper of the `call` (id in the instruction) or `callx` (id in the register) at `M[Layout.Pc]` with
   * r1..r5 as u64, and puts its result in r0. Returns true when the helper unwound the program (r0 then holds
   * the unwind value). r1-r5 are left as they were.
   *
   * A helper declared with an exact WebAssembly form (src/exec.ts `withExactWasmForm`: the map helpers) is called through that form
   * when its pointer checks pass here ({@link callExact}); any other call, and one whose check fails, goes to
   * the JS form, which faults as it always has.
   */
  private callHelper(src: RunSource, M: Int32Array): boolean {
    const pc = M[Layout.Pc];
    const w = M[pc];
    const slot = slotAt(M, pc);
    let id: number;
    if ((w & 0xff) === Op.Callx) {
      // callx: the register holds the helper id; a value beyond 32 bits names no helper.
      const x = (w >> 8) & 0xff;
      if (M[x | 1] !== 0 || !src.helpers.has(M[x] >>> 0)) {
        throw new ExecutionError('unknown_helper', `callx to unknown helper ${fromHalves(M[x], M[x | 1])}`, slot);
      }
      id = M[x] >>> 0;
    } else {
      id = M[pc | 1];
    }
    const fn = src.helpers.get(id);
    if (fn === undefined) throw new ExecutionError('unknown_helper', `call to unknown helper ${id}`, slot);
    const plan = planOf(fn);
    // A helper may write anything the run can reach, the stack included; one with a WebAssembly form writes only
    // through the pointers of its write checks (src/exec.ts, `WasmHelper`).
    if (plan.writes) M[Layout.StoreLow] = 0;
    try {
      if (plan.wasm !== undefined && this.callExact(src, M, plan)) return false;
      const env = new CallEnv(src.memory, slot, src);
      const ret: unknown = fn(arg(M[2], M[3]), arg(M[4], M[5]), arg(M[6], M[7]), arg(M[8], M[9]), arg(M[10], M[11]), env);
      if (typeof ret !== 'bigint') throw new TypeError(`returned ${describeValue(ret)}, not a bigint`);
      setR0(M, ret);
      // `return env.unwind(r0)`: the program ends with r0, as with UnwindSignal but without an exception.
      return env.unwound;
    } catch (e) {
      if (e instanceof UnwindSignal) {
        if (typeof e.r0 !== 'bigint') throw new ExecutionError('helper_failed', `helper ${id} unwound with ${describeValue(e.r0)}, not a bigint`, slot);
        setR0(M, e.r0);
        return true;
      }
      if (e instanceof ExecutionError) throw e;
      throw new ExecutionError('helper_failed', `helper ${id} failed: ${describeValue(e)}`, slot, { cause: e });
    }
  }

  /**
   * The call of {@link callHelper} through the helper's exact WebAssembly form (`plan.wasm`): checks each pointer
   * of the form's checks as the JS form would (`[r<reg>, r<reg> + size)` in the stack or one region, a writable
   * one for a write; a size of 0 or less checks nothing), on numbers against the run's stack and regions, then
   * calls the form with r1..r<params> and puts its result in r0. Returns false, having called nothing, when a
   * check does not pass: the JS form then makes the call and faults.
   */
  private callExact(src: RunSource, M: Int32Array, plan: HelperPlan): boolean {
    const map = arg(M[2], M[3]);
    const checks = plan.checks;
    for (let i = 0; i < checks.length; i++) {
      const c = checks[i];
      const size = c.size(map);
      if (size > 0 && !covers(src, M[c.at], M[c.at | 1], size, c.write)) return false;
    }
    const f = plan.wasm!;
    let ret: bigint;
    switch (plan.params) {
      case 0: ret = f(); break;
      case 1: ret = f(map); break;
      case 2: ret = f(map, arg(M[4], M[5])); break;
      case 3: ret = f(map, arg(M[4], M[5]), arg(M[6], M[7])); break;
      case 4: ret = f(map, arg(M[4], M[5]), arg(M[6], M[7]), arg(M[8], M[9])); break;
      default: ret = f(map, arg(M[4], M[5]), arg(M[6], M[7]), arg(M[8], M[9]), arg(M[10], M[11])); break;
    }
    setR0(M, ret);
    return true;
  }
}

/** A pointer check of a helper's exact WebAssembly form, ready for {@link Interpreter.callExact}. */
interface PlanCheck {
  /** Index of the pointer register's low half in the arena. */
  readonly at: number;
  /** The key or value size of the map in r1 (negative for a bad handle). */
  readonly size: (map: bigint) => number;
  readonly write: boolean;
}

/** What a helper call needs to know of the helper, worked out on its first call (see `callHelper`). */
interface HelperPlan {
  readonly fn: HelperFn;
  /** Whether the call may write the execution's memory (src/exec.ts, `writesMemory`). */
  readonly writes: boolean;
  /** The WebAssembly function to call instead of `fn` (its exact form, src/exec.ts `withExactWasmForm`), with its arity and checks. */
  readonly wasm: ((...args: bigint[]) => bigint) | undefined;
  readonly params: number;
  readonly checks: readonly PlanCheck[];
}

/** Plans by helper, and the last one asked for (a loop calls the same helper again and again). */
const PLANS = new WeakMap<HelperFn, HelperPlan>();
let lastPlan: HelperPlan | undefined;

function planOf(fn: HelperFn): HelperPlan {
  if (lastPlan !== undefined && lastPlan.fn === fn) return lastPlan;
  let plan = PLANS.get(fn);
  if (plan === undefined) PLANS.set(fn, (plan = makePlan(fn)));
  return (lastPlan = plan);
}

function makePlan(fn: HelperFn): HelperPlan {
  const writes = writesMemory(fn);
  const form = hasExactWasmForm(fn) ? wasmHelperOf(fn) : undefined;
  if (form === undefined) return { fn, writes, wasm: undefined, params: 0, checks: [] };
  const checks = form.checks.map((c): PlanCheck => ({ at: 2 * c.reg, size: (c.size === 'key' ? form.keySize : form.valueSize)!, write: c.write }));
  return { fn, writes, wasm: form.fn, params: form.params, checks };
}

/**
 * Whether `[(hi:lo), (hi:lo) + size)` (size >= 1) lies in the stack or in one of the run's regions, a writable
 * one for a `write` (src/exec.ts `locateSpan`). An address at or above 2^32 lies in no region (every region is
 * inside the memory).
 */
function covers(src: RunSource, lo: number, hi: number, size: number, write: boolean): boolean {
  return hi === 0 && locateSpan(src.stackBase, src.regions, lo >>> 0, size, write) === true;
}

/** The last register value at or above 2^32 {@link arg} converted (a map handle, as a rule), and its halves. */
let wideLo = 0;
let wideHi = 0;
let wide = 0n;

/**
 * A register as the u64 bigint a helper receives, from its halves: without allocating for 0 and for the value
 * converted last at or above 2^32 (bigints are immutable, so sharing one is safe).
 */
function arg(lo: number, hi: number): bigint {
  if (hi === 0) return lo === 0 ? 0n : BigInt(lo >>> 0);
  if (lo === wideLo && hi === wideHi) return wide;
  wideLo = lo;
  wideHi = hi;
  return (wide = fromHalves(lo, hi));
}

/** Max safe integer: a number up to it in magnitude is exact, and `Number` of a bigint beyond it stays beyond. */
const SAFE = Number.MAX_SAFE_INTEGER;

/**
 * Puts `v` (any bigint, taken mod 2^64) in r0. Results that fit in 53 bits (addresses, 0, negative errnos as
 * the WebAssembly forms return them) are split as numbers, without allocating.
 */
function setR0(M: Int32Array, v: bigint): void {
  const n = Number(v);
  if (n >= -SAFE && n <= SAFE) {
    M[0] = n | 0;
    M[1] = Math.floor(n / 0x1_0000_0000) | 0;
  } else {
    const u = BigInt.asUintN(64, v);
    M[0] = loHalf(u);
    M[1] = hiHalf(u);
  }
}

/** The machine whose code is in the arena, and the number of runs in progress (nested runs count). */
let loaded: Machine | undefined;
let active = 0;

/**
 * The `HelperEnv` of a helper call, with the request read on demand: the packet engine builds one only when a
 * helper reads it. A class (the getter on its prototype): an object literal with a getter costs more than many
 * helper calls.
 */
class CallEnv implements HelperEnv {
  /** Set by {@link unwind}: the helper ends the program. */
  unwound = false;

  constructor(readonly memory: WebAssembly.Memory, readonly pc: number, private readonly src: RunSource) {}

  get request(): ExecRequest {
    return this.src.request();
  }

  /** `HelperEnv.unwind`: a method, so that `env.unwind(r0)` binds `this`. */
  unwind(r0: bigint): bigint {
    this.unwound = true;
    return r0;
  }
}

/** What a nested run saves of the run it interrupts: the arena's header and the machine loaded. */
interface Outer {
  readonly header: Int32Array;
  readonly machine: Machine | undefined;
}

/**
 * Starts a run in the arena, which every run shares: one that starts while another is suspended in a helper
 * call (a nested run) saves the outer run's header words, for {@link leave} to put back with its code.
 */
function enter(): Outer | undefined {
  const outer = active > 0 ? { header: arena.slice(0, Layout.CodeBase), machine: loaded } : undefined;
  active++;
  return outer;
}

/** Ends a run: restores the run it interrupted, if any (see {@link enter}). */
function leave(outer: Outer | undefined): void {
  active--;
  if (outer) {
    if (outer.machine) load(outer.machine);
    arena.set(outer.header, 0);
  }
}

/** Lowers `M[Layout.StoreLow]` to store address `a` (an address at or above 2^31 wraps below every other). */
function noteStore(M: Int32Array, a: number): void {
  if ((a | 0) < M[Layout.StoreLow]) M[Layout.StoreLow] = a | 0;
}

/** A memory access in words, for fault messages: what, how many bytes, at which 64-bit address `(hi:lo) + off`. */
function describeAccess(kind: Access, size: number, lo: number, hi: number, off: number): string {
  const what = kind === Access.Load ? 'load' : kind === Access.Store ? 'store' : 'atomic';
  return `${what} of ${size} byte${size === 1 ? '' : 's'} at ${hex(BigInt.asUintN(64, fromHalves(lo, hi) + BigInt(off)))}`;
}

/** Copies `machine`'s code into the arena unless it is there already. */
function load(machine: Machine): void {
  if (loaded === machine) return;
  arena.set(machine.template.subarray(Layout.CodeBase), Layout.CodeBase);
  loaded = machine;
}

/** Access sizes of Ldxb..Ldxsw and Stb..Stxdw, in Op order. */
const LOAD_SIZE: readonly number[] = [1, 2, 4, 8, 1, 2, 4];
const STORE_SIZE: readonly number[] = [1, 2, 4, 8, 1, 2, 4, 8];

/** The 64-bit div/mod/sdiv/smod at `M[Layout.Pc]` on bigints (RFC 9669 section 4.1, via semantics.ts). */
function divide(M: Int32Array): void {
  const pc = M[Layout.Pc];
  const w = M[pc];
  const op = w & 0xff;
  const d = (w >> 8) & 0xff;
  const aluOp: AluOp | undefined = op === Op.Div64K || op === Op.Div64X ? 'div' : op === Op.Mod64K || op === Op.Mod64X ? 'mod'
    : op === Op.Sdiv64K || op === Op.Sdiv64X ? 'sdiv' : op === Op.Smod64K || op === Op.Smod64X ? 'smod' : undefined;
  if (aluOp === undefined) throw new InternalError(`interpreter: op ${op} is not a 64-bit division`, slotAt(M, pc));
  const k = op === Op.Div64K || op === Op.Mod64K || op === Op.Sdiv64K || op === Op.Smod64K;
  const src = k ? fromHalves(M[pc | 1], M[pc | 1] >> 31) : fromHalves(M[w >>> 16], M[(w >>> 16) | 1]);
  const v = alu64(aluOp, fromHalves(M[d], M[d | 1]), src);
  M[d] = loHalf(v);
  M[d | 1] = hiHalf(v);
}

/**
 * {@link atomic} on a shared memory, with `Atomics` (shared-atomics.ts) so that concurrent threads' operations on
 * the word are indivisible (the DataView read-modify-write of {@link atomic} could lose updates). Same results
 * otherwise.
 */
function atomicShared(M: Int32Array, buf: SharedArrayBuffer, a: number, size: 4 | 8, s: number, opFetch: number): void {
  const op = ATOMIC_OPS[opFetch & 0xf];
  const fetch = (opFetch >> 4) & 1;
  let ol: number;
  let oh: number;
  if (size === 4) {
    ol = sharedAtomic32(buf, op, a, M[s], M[0]);
    oh = 0;
  } else {
    const u = sharedAtomic64(buf, op, a, fromHalves(M[s], M[s | 1]), fromHalves(M[0], M[1]));
    ol = loHalf(u);
    oh = hiHalf(u);
  }
  const dst = op === 'cmpxchg' ? 0 : fetch ? s : -1;
  if (dst >= 0) {
    M[dst] = ol;
    M[dst | 1] = oh;
  }
}

/**
 * Atomic read-modify-write at `a` (checked, aligned) per RFC 9669 section 5.3, with register `s` (index of its
 * low half); `opFetch` is the operation (index in {@link ATOMIC_OPS}) | fetch << 4. The fetched (old) value goes
 * to `src` (fetch forms) or r0 (cmpxchg), zero-extended for 32-bit forms; cmpxchg compares with r0 at the access
 * size. Reads the operands before writing any register, so `src` may be r0 or the base.
 */
function atomic(M: Int32Array, dv: DataView, a: number, size: 4 | 8, s: number, opFetch: number): void {
  const aop = opFetch & 0xf;
  const fetch = (opFetch >> 4) & 1;
  const sl = M[s];
  const sh = size === 8 ? M[s | 1] : 0;
  const ol = dv.getInt32(a, true);
  const oh = size === 8 ? dv.getInt32(a + 4, true) : 0;
  let vl: number;
  let vh: number;
  switch (ATOMIC_OPS[aop]) {
    case 'add':
      vl = (ol + sl) | 0;
      vh = (oh + sh + ((vl >>> 0) < (ol >>> 0) ? 1 : 0)) | 0;
      break;
    case 'or': vl = ol | sl; vh = oh | sh; break;
    case 'and': vl = ol & sl; vh = oh & sh; break;
    case 'xor': vl = ol ^ sl; vh = oh ^ sh; break;
    case 'xchg': vl = sl; vh = sh; break;
    case 'cmpxchg': {
      const eq = ol === M[0] && (size === 4 || oh === M[1]);
      vl = eq ? sl : ol;
      vh = eq ? sh : oh;
      break;
    }
    default: throw new InternalError(`interpreter: atomic operation ${aop}`);
  }
  dv.setInt32(a, vl, true);
  if (size === 8) dv.setInt32(a + 4, vh, true);
  const dst = ATOMIC_OPS[aop] === 'cmpxchg' ? 0 : fetch ? s : -1;
  if (dst >= 0) {
    M[dst] = ol;
    M[dst | 1] = oh;
  }
}
