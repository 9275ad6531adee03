/**
 * The JS side of a compiled program: the imports a generated module calls (helpers, `callx`, and in the `cache`
 * variant the region search), the meaning of its traps, {@link JitExecutable}, which runs the module under the
 * execution contract of src/exec.ts, and the JIT's side of the packet path ({@link PacketEngine}).
 *
 * Faults are Wasm traps: the generated code records what, where and at which address in exported globals, then
 * executes `unreachable` (frame.ts, `TRAPS`); the trap unwinds to `run`, which turns it into the
 * `ExecutionError`, so the caller never sees a raw trap. A trap with no record is a bug (`InternalError`).
 * Errors thrown by imports (helpers, the region search) unwind the same way. A run that must end early with an
 * r0 (a helper that unwinds, `HelperEnv.unwind`; a packet load out of bounds) does not trap: the import sets the
 * instance's `stop` flag and the code returns r0 through every frame (frame.ts, `G.stop`); an `UnwindSignal`
 * that reaches `run` anyway (a module without the flag) ends the run the same way. Each nesting level (a helper
 * that runs this same program again) gets its own instance, since the per-run state lives in the instance's
 * globals.
 *
 * Not here: building the module (translate.ts), the lowering (lower-*.ts), the packet path's layout
 * (runtime/filter.ts).
 */

import { ExecutionError, InternalError } from '../src/errors.js';
import {
  MAX_CALL_DEPTH, STACK_SIZE, UnwindSignal, describeValue, locateAccess, validateRequest, type ExecRequest, type Executable, type HelperEnv, type HelperFn, type HelperTable, type Region,
  type WasmHelper,
} from '../src/exec.js';
import { ACCESS_SIZES, BIND_SLOTS_AT, F, G, REGION_SLOTS, TRAPS, helperImport, slotParams, wasmHelperImport, wasmSizeImport, type RegionChecks } from './frame.js';
import type { CompileStats } from './translate.js';
import { packetRequest, type PacketBinding, type PacketContext, type PacketEngine } from '../src/packet.js';

/** The request of the run an instance is executing (read by the imports, only on their slow paths). */
interface HostState {
  readonly req: ExecRequest | undefined;
  /**
   * The helper table of the run in progress: what a helper call needs first, known without building the
   * request (which the packet engine builds only when a helper reads `HelperEnv.request`).
   */
  readonly helpers: HelperTable | undefined;
  /** The instance's `stop` global (frame.ts, `G.stop`), once instantiated, when the module has one. */
  stop?: WebAssembly.Global;
  /** `HelperEnv.unwind` for this instance: sets `stop` (defined with it, by {@link bindStop}). */
  unwind?: (r0: bigint) => bigint;
}

/** Gives `state` the instance's `stop` global and the `HelperEnv.unwind` built on it. */
function bindStop(state: HostState, ex: WebAssembly.Exports): void {
  const stop = ex[G.stop] as WebAssembly.Global | undefined;
  state.stop = stop;
  state.unwind = stop === undefined ? undefined : (r0) => {
    stop.value = 1;
    return r0;
  };
}

/**
 * What an import returns when its helper unwound (`UnwindSignal`): r0, with the instance's `stop` flag set so the
 * code returns it through every frame (frame.ts, `G.stop`). An exception through WebAssembly costs microseconds;
 * a module without the flag lets it propagate (`afterThrow` ends the run the same way, slowly).
 */
function unwound(state: HostState, e: unknown): bigint {
  if (!(e instanceof UnwindSignal) || state.stop === undefined) throw e;
  state.stop.value = 1;
  return BigInt.asIntN(64, e.r0);
}

type EntryFn = (budget: bigint, pktLo: number, pktLen: number, r1: bigint, r2: bigint, r3: bigint, r4: bigint, r5: bigint) => bigint;

interface JitInstance {
  readonly bind: BindFn;
  readonly run: EntryFn;
  readonly state: HostState & { req: ExecRequest | undefined };
  readonly traps: TrapRecord;
  /** `bind`'s last arguments: a run with the same stack and regions skips the call. */
  bound: number[] | undefined;
}

/** An instance's `fault_*` globals (frame.ts). */
interface TrapRecord {
  readonly pc: WebAssembly.Global;
  readonly what: WebAssembly.Global;
  readonly addr: WebAssembly.Global;
  /** The size of a failed access whose size was not a constant (modules that check helper pointers only). */
  readonly size: WebAssembly.Global | undefined;
}

function trapRecord(ex: WebAssembly.Exports): TrapRecord {
  return {
    pc: ex[G.faultPc] as WebAssembly.Global,
    what: ex[G.faultWhat] as WebAssembly.Global,
    addr: ex[G.faultAddr] as WebAssembly.Global,
    size: ex[G.faultSize] as WebAssembly.Global | undefined,
  };
}

/**
 * How a run that threw `e` ends: with r0 (an unwinding helper) or by throwing the error (a
 * recorded trap becomes its `ExecutionError`; anything else passes through).
 */
function afterThrow(e: unknown, traps: TrapRecord, request: () => ExecRequest): bigint {
  if (e instanceof UnwindSignal) return BigInt.asUintN(64, e.r0);
  if (!(e instanceof WebAssembly.RuntimeError)) throw e;
  const pc = traps.pc.value as number;
  if (pc < 0) throw new InternalError(`compiled code trapped: ${e.message}`, undefined, { cause: e });
  traps.pc.value = -1;
  const what = traps.what.value as number;
  const kind = TRAPS[what & 0xff];
  const size = what >>> 8 || ((traps.size?.value as number | undefined) ?? 0);
  switch (kind) {
    case 'mem_load':
    case 'mem_store':
      checkAccess(request(), traps.addr.value as bigint, size, kind === 'mem_store', pc);
      throw new InternalError(`an access the compiled checks refused is allowed (${size} bytes at ${hex(traps.addr.value as bigint)})`, pc);
    case undefined:
      throw new InternalError(`unknown trap ${what & 0xff}`, pc);
    default:
      throw faultError(request(), kind, pc, traps.addr.value as bigint, size);
  }
}

const hex = (a: bigint): string => '0x' + a.toString(16);

/** The helper table of the run in progress (see {@link HostState.helpers}). */
function currentHelpers(state: HostState): HelperTable {
  const helpers = state.helpers;
  if (helpers === undefined) throw new InternalError('JIT import called outside a run');
  return helpers;
}

/** A helper's {@link HelperEnv}: the request is the run's, built when (and only if) the helper reads it. */
class CallEnv implements HelperEnv {
  constructor(readonly memory: WebAssembly.Memory, readonly pc: number, private readonly state: HostState, readonly unwind: ((r0: bigint) => bigint) | undefined) {}

  get request(): ExecRequest | undefined {
    return this.state.req;
  }
}

function current(state: HostState): ExecRequest {
  const req = state.req;
  if (req === undefined) throw new InternalError('JIT import called outside a run');
  return req;
}

/**
 * Calls a helper with u64 arguments and returns its result for Wasm. `UnwindSignal` and `ExecutionError` pass
 * through; anything else a helper throws, or a result that is not a bigint, is `helper_failed` (as in the
 * interpreter).
 */
function callHelper(memory: WebAssembly.Memory, state: HostState, f: HelperFn | undefined, id: bigint | number, pc: number, a: readonly bigint[]): bigint {
  if (f === undefined) throw new ExecutionError('unknown_helper', `call to unknown helper ${id}`, pc);
  let r: unknown;
  try {
    r = f(BigInt.asUintN(64, a[0]), BigInt.asUintN(64, a[1]), BigInt.asUintN(64, a[2]), BigInt.asUintN(64, a[3]), BigInt.asUintN(64, a[4]), new CallEnv(memory, pc, state, state.unwind));
    if (typeof r !== 'bigint') throw new TypeError(`returned ${describeValue(r)}, not a bigint`);
  } catch (e) {
    if (e instanceof UnwindSignal) {
      if (typeof e.r0 !== 'bigint') throw new ExecutionError('helper_failed', `helper ${id} unwound with ${describeValue(e.r0)}, not a bigint`, pc);
      throw e;
    }
    if (e instanceof ExecutionError) throw e;
    throw new ExecutionError('helper_failed', `helper ${id} failed: ${describeValue(e)}`, pc, { cause: e });
  }
  return BigInt.asIntN(64, r);
}

/**
 * The full region check behind `mem_slow`: returns when `[addr, addr + size)` lies in the stack or a region
 * (a writable one for stores), else throws `read_only` (it lies in read-only regions only) or `out_of_bounds`.
 */
function checkAccess(req: ExecRequest, addr: bigint, size: number, write: boolean, pc: number): void {
  const where = locateAccess(req, addr, size, write);
  if (where === true) return;
  const a = BigInt.asUintN(64, addr);
  if (where !== undefined) throw new ExecutionError('read_only', `store of ${size} bytes at ${hex(a)} to read-only ${where.name}`, pc);
  throw new ExecutionError('out_of_bounds', `out-of-bounds ${write ? 'store' : 'load'} of ${size} bytes at ${hex(a)}`, pc);
}

function faultError(req: ExecRequest, c: Exclude<(typeof TRAPS)[number], 'mem_load' | 'mem_store'>, pc: number, addr: bigint, size: number): ExecutionError {
  switch (c) {
    case 'misaligned_atomic': return new ExecutionError(c, `misaligned atomic access of ${size} bytes at ${hex(BigInt.asUintN(64, addr))}`, pc);
    case 'budget_exceeded': return new ExecutionError(c, `execution budget of ${req.budget} exceeded`, pc);
    case 'call_depth': return new ExecutionError(c, `call depth exceeds ${MAX_CALL_DEPTH}`, pc);
    case 'fell_off_end': return new ExecutionError(c, 'execution fell off the end of the program', pc);
    case 'unknown_helper': return new ExecutionError(c, `call to kernel function (btf id ${addr}) is not supported`, pc);
  }
}

/**
 * The imports of a generated module, bound to one instance's state: the JS side of helpers, `callx` and the
 * region search, and the WebAssembly helpers as they are (a call from the module to them never enters JS).
 */
function makeImports(memory: WebAssembly.Memory, source: JitModules, state: HostState): WebAssembly.Imports {
  const env: Record<string, WebAssembly.ImportValue> = {
    memory,
    [F.memMiss]: (addr: bigint, size: number, write: number, pc: number): void => {
      checkAccess(current(state), addr, size, write !== 0, pc);
    },
    [F.callx]: (pc: number, id: bigint, a1: bigint, a2: bigint, a3: bigint, a4: bigint, a5: bigint): bigint => {
      const helpers = currentHelpers(state);
      // The register holds the helper id; a value beyond 32 bits names no helper.
      const v = BigInt.asUintN(64, id);
      const f = v <= 0xffffffffn ? helpers.get(Number(v)) : undefined;
      try {
        return callHelper(memory, state, f, v, pc, [a1, a2, a3, a4, a5]);
      } catch (e) {
        return unwound(state, e);
      }
    },
  };
  for (const [id, w] of source.wasmHelpers) {
    env[wasmHelperImport(id)] = w.fn;
    if (w.keySize !== undefined) env[wasmSizeImport(id, 'key')] = w.keySize;
    if (w.valueSize !== undefined) env[wasmSizeImport(id, 'value')] = w.valueSize;
  }
  for (const id of source.helperIds) {
    env[helperImport(id)] = (pc: number, a1: bigint, a2: bigint, a3: bigint, a4: bigint, a5: bigint): bigint => {
      const helpers = currentHelpers(state);
      try {
        return callHelper(memory, state, helpers.get(id), id, pc, [a1, a2, a3, a4, a5]);
      } catch (e) {
        return unwound(state, e);
      }
    };
  }
  return { env };
}

/** Which module a run needs: budget counting or not, and how regions are checked (frame.ts, `RegionChecks`). */
export interface Variant {
  readonly budget: boolean;
  readonly regionChecks: RegionChecks;
}

/** The modules of a program: built on first need (the first one by `compileForRuntime`), then reused. */
export interface JitModules {
  /** Builds the module of a variant synchronously (Binaryen is loaded by then). */
  readonly build: (variant: Variant) => WebAssembly.Module;
  /** Helper ids the modules import as JS functions. */
  readonly helperIds: readonly number[];
  /** The context the packet entries were compiled for (context mode), if any. */
  readonly packetContext?: PacketContext;
  /**
   * Helpers the modules import as WebAssembly functions (src/exec.ts, `WasmHelper`), bound when the program was
   * compiled: a run's `ExecRequest.helpers` does not replace them.
   */
  readonly wasmHelpers: ReadonlyMap<number, WasmHelper>;
  readonly stats: CompileStats;
}

/** Compiled modules of a program, as {@link JitExecutable.compiled} gives them to another thread. */
export interface CompiledJit {
  readonly modules: readonly { readonly variant: Variant; readonly module: WebAssembly.Module }[];
  /** Helpers the modules import as JS functions, and as WebAssembly functions (`JitModules`). */
  readonly helperIds: readonly number[];
  readonly wasmHelperIds: readonly number[];
  readonly stats: CompileStats;
  readonly packetContext?: PacketContext;
}

/** A program compiled to WebAssembly, runnable under the execution contract of src/exec.ts. */
export class JitExecutable implements Executable {
  /** Modules by variant index ({@link variantIndex}). */
  private readonly modules: (WebAssembly.Module | undefined)[] = [];
  /** The first translation's bytes, compiled by V8 only if a run needs that variant. */
  private pending: { readonly index: number; readonly wasm: Uint8Array; readonly compile: (wasm: Uint8Array) => WebAssembly.Module } | undefined;
  /** Instances by variant index, then by nesting level. */
  private readonly pools: JitInstance[][] = [[], [], [], []];
  /** Runs of this executable in progress (nested through helpers). */
  private active = 0;
  /** A memory size every region of an earlier request fitted in (memories only grow): see `checkRequest`. */
  private checkedSize = 0;

  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly source: JitModules,
    first?: { readonly variant: Variant; readonly wasm: Uint8Array; readonly compile: (wasm: Uint8Array) => WebAssembly.Module },
  ) {
    if (first) this.pending = { index: variantIndex(first.variant.budget, first.variant.regionChecks), wasm: first.wasm, compile: first.compile };
  }

  /** Statistics of the first translation. */
  get stats(): CompileStats {
    return this.source.stats;
  }

  /**
   * The compiled modules of `variants` (built now if need be) and what instantiating them needs, for another
   * thread over the same memory: `WebAssembly.Module` is structured-cloneable, so a worker instantiates it with
   * its own helpers instead of translating again (compile.ts, `jitFromCompiled`).
   */
  compiled(variants: readonly Variant[]): CompiledJit {
    return {
      modules: variants.map((variant) => ({ variant, module: this.module(variant) })),
      helperIds: this.source.helperIds,
      wasmHelperIds: [...this.source.wasmHelpers.keys()],
      stats: this.source.stats,
      ...(this.source.packetContext ? { packetContext: this.source.packetContext } : {}),
    };
  }

  /** The module of `variant`, built on first need. */
  private module(variant: Variant): WebAssembly.Module {
    const k = variantIndex(variant.budget, variant.regionChecks);
    let module = this.modules[k];
    if (module === undefined) {
      const p = this.pending;
      module = p !== undefined && p.index === k ? p.compile(p.wasm) : this.source.build(variant);
      if (p?.index === k) this.pending = undefined;
      this.modules[k] = module;
    }
    return module;
  }

  /**
   * A packet path on this program (frame.ts, `PACKET_ENTRIES`): its own instance of the `slots` module with
   * (`budget`) or without budget counting, bound by {@link PacketEngine.bind}. runtime/filter.ts lays out the
   * memory and drives it.
   */
  /** The context the packet entries were compiled for (frame.ts, `PACKET_ENTRIES`, context mode), if any. */
  get packetContext(): PacketContext | undefined {
    return this.source.packetContext;
  }

  packetEngine(budget: boolean): PacketEngine {
    return new JitPacketEngine(this.memory, this.module({ budget, regionChecks: 'slots' }), this.source);
  }

  private instance(budget: boolean, checks: RegionChecks, depth: number): JitInstance {
    const pool = this.pools[variantIndex(budget, checks)];
    let inst = pool[depth];
    if (inst === undefined) {
      const module = this.module({ budget, regionChecks: checks });
      const state: JitInstance['state'] = {
        req: undefined,
        get helpers() {
          return this.req?.helpers;
        },
      };
      const wasm = new WebAssembly.Instance(module, makeImports(this.memory, this.source, state));
      bindStop(state, wasm.exports);
      inst = { bind: wasm.exports[F.bind] as BindFn, run: wasm.exports[F.run] as EntryFn, state, traps: trapRecord(wasm.exports), bound: undefined };
      pool[depth] = inst;
    }
    return inst;
  }

  run(req: ExecRequest): bigint {
    this.checkedSize = checkRequest(req, this.memory, this.checkedSize);
    const regions = req.regions;
    const budgeted = req.budget !== undefined;
    const checks: RegionChecks = regions.length <= REGION_SLOTS ? 'slots' : 'cache';
    const inst = this.instance(budgeted, checks, this.active);
    const a = req.args;
    const budget = budgeted ? BigInt(req.budget!) : 0n;
    inst.state.req = req;
    this.active++;
    try {
      // The stack and the regions usually repeat from run to run: `bind` only when they change.
      const key = bindKey(req.stackBase, regions);
      if (!sameArgs(inst.bound, key)) {
        // The instance forgets its binding first: if `bind` does not complete, the next run binds again.
        inst.bound = undefined;
        inst.bind(...bindArgs(req.stackBase, regions, checks));
        inst.bound = key;
      }
      return BigInt.asUintN(64, inst.run(budget, req.packet?.start ?? 0, req.packet?.length ?? 0, a[0] ?? 0n, a[1] ?? 0n, a[2] ?? 0n, a[3] ?? 0n, a[4] ?? 0n));
    } catch (e) {
      return afterThrow(e, inst.traps, () => req);
    } finally {
      this.active--;
      inst.state.req = undefined;
    }
  }
}

type BindFn = (...args: number[]) => void;

/** The JIT's {@link PacketEngine}: one dedicated instance, driven through `bind`, `run_packet`, `run_batch`. */
class JitPacketEngine implements PacketEngine {
  position = 0;
  private readonly bindFn: BindFn;
  private readonly one: (len: number, wire: number) => number;
  private readonly batch: (first: number, count: number) => number;
  private readonly pos: WebAssembly.Global;
  private readonly traps: TrapRecord;
  private readonly req = (): ExecRequest => this.request();
  private binding: PacketBinding | undefined;
  /** What the run in progress is: a single packet of `len` bytes (r3 = `wire`), or batch packet `pos`. */
  private batchMode = false;
  private len = 0;
  private wire = 0;
  /** The last request built for the imports, and the packet it describes. */
  private cached: { start: number; length: number; wire: number; req: ExecRequest } | undefined;

  /** The context the entries were compiled for (context mode), if any: a binding must bring the same one. */
  private readonly context: PacketContext | undefined;

  constructor(private readonly memory: WebAssembly.Memory, module: WebAssembly.Module, source: JitModules) {
    this.context = source.packetContext;
    // The imports only read the request on their slow paths (helpers): built then, from the binding.
    const engine = this;
    const state: HostState = {
      get req(): ExecRequest {
        return engine.request();
      },
      get helpers(): HelperTable | undefined {
        return engine.binding?.helpers;
      },
    };
    const ex = new WebAssembly.Instance(module, makeImports(memory, source, state)).exports;
    bindStop(state, ex);
    this.traps = trapRecord(ex);
    this.bindFn = ex[F.bind] as BindFn;
    this.one = ex[F.runPacket] as (len: number, wire: number) => number;
    this.batch = ex[F.runBatch] as (first: number, count: number) => number;
    this.pos = ex[G.batchPos] as WebAssembly.Global;
  }

  bind(binding: PacketBinding): void {
    const regions = binding.regions;
    const loads = loadRegions(regions);
    const writable = regions.filter((r) => r.writable);
    if (loads.length > REGION_SLOTS - 1 || writable.length > REGION_SLOTS - 1) {
      throw new RangeError(`the packet path takes at most ${REGION_SLOTS - 1} regions besides the packet, got ${loads.length} (${writable.length} writable)`);
    }
    if (binding.context?.layout !== this.context) {
      throw new InternalError(`packet path bound ${binding.context ? 'with' : 'without'} a context, compiled ${this.context ? 'with another one' : 'without one'}`);
    }
    const size = this.memory.buffer.byteLength;
    for (const r of regions) {
      if (!(Number.isInteger(r.start) && Number.isInteger(r.end) && r.start >= 0 && r.start <= r.end && r.end <= size)) {
        throw new InternalError(`invalid packet binding: region ${r.name} [${r.start}, ${r.end}) is outside the ${size}-byte memory`);
      }
    }
    const budget = binding.budget ?? 0;
    if (!(Number.isSafeInteger(budget) && budget >= 0)) throw new InternalError(`invalid packet binding: budget ${budget} is not a non-negative integer`);
    const args: number[] = [
      binding.stackBase, binding.data, binding.offsets, binding.results, binding.writable ? 1 : 0,
      budget % 2 ** 32, Math.floor(budget / 2 ** 32), binding.context?.ctx ?? 0, binding.context?.template ?? 0, binding.wire,
    ];
    // Slot 0 is the packet, set by each run; the static regions take slots 1..3.
    for (const list of [loads, writable]) for (let k = 0; k < REGION_SLOTS; k++) pushSlot(args, k === 0 ? undefined : list[k - 1], 'slots');
    if (args.length !== BIND_SLOTS_AT + 2 * REGION_SLOTS * slotParams('slots')) throw new InternalError('bind arguments do not match its params');
    this.binding = binding;
    this.cached = undefined;
    this.bindFn(...args);
  }

  runOne(len: number, wire: number): number {
    this.batchMode = false;
    this.len = len;
    this.wire = wire;
    try {
      return this.one(len, wire) >>> 0;
    } catch (e) {
      return Number(BigInt.asUintN(32, afterThrow(e, this.traps, this.req)));
    }
  }

  runBatch(count: number, from = 0): void {
    this.batchMode = true;
    let first = from;
    while (first < count) {
      try {
        this.batch(first, count);
        return;
      } catch (e) {
        // An unwind that reached here as an exception ends only this packet's run: record its r0 and go on.
        const i = this.pos.value as number;
        this.position = i;
        const r0 = Number(BigInt.asUintN(32, afterThrow(e, this.traps, this.req)));
        new DataView(this.memory.buffer).setUint32(this.binding!.results + 4 * i, r0, true);
        first = i + 1;
      }
    }
  }

  /** The request of the run in progress, for the imports. */
  private request(): ExecRequest {
    const b = this.binding;
    if (b === undefined) throw new InternalError('packet path used before bind');
    let start = b.data;
    let length = this.len;
    let wire = this.wire;
    if (this.batchMode) {
      const view = new DataView(this.memory.buffer);
      const i = this.pos.value as number;
      const at = b.offsets + 4 * i;
      start = b.data + view.getUint32(at, true);
      length = b.data + view.getUint32(at + 4, true) - start;
      wire = view.getUint32(b.wire + 4 * i, true);
    }
    const c = this.cached;
    if (c !== undefined && c.start === start && c.length === length && c.wire === wire) return c.req;
    const req = packetRequest(this.memory, b, start, length, wire);
    this.cached = { start, length, wire, req };
    return req;
  }
}

/** The regions that need a load slot: those no other region contains (the others' loads are in its slot). */
function loadRegions(regions: readonly Region[]): Region[] {
  return regions.filter((r, i) => !regions.some((o, j) => j !== i && o.start <= r.start && r.end <= o.end && (o.end - o.start > r.end - r.start || j < i)));
}

/** What `bind` depends on in a request: the stack, then each region's start, end and writability. */
function bindKey(stackBase: number, regions: readonly Region[]): number[] {
  const key = [stackBase];
  for (const r of regions) key.push(r.start, r.end, r.writable ? 1 : 0);
  return key;
}

/**
 * `bind`'s arguments for a general run: load slots, the first regions; store slots, the first writable ones (the
 * `cache` variant leaves the rest to the JS host); no packet path.
 */
function bindArgs(stackBase: number, regions: readonly Region[], checks: RegionChecks): number[] {
  const args: number[] = [stackBase, ...new Array<number>(BIND_SLOTS_AT - 1).fill(0)];
  for (let k = 0; k < REGION_SLOTS; k++) pushSlot(args, regions[k], checks);
  for (let k = 0, n = 0; n < REGION_SLOTS; k++) {
    const r = k < regions.length ? regions[k] : undefined;
    if (r === undefined || r.writable) {
      pushSlot(args, r, checks);
      n++;
    }
  }
  return args;
}

/** Index of a variant in {@link JitExecutable}'s tables. */
function variantIndex(budget: boolean, checks: RegionChecks): number {
  return (budget ? 1 : 0) | (checks === 'cache' ? 2 : 0);
}

function sameArgs(a: readonly number[] | undefined, b: readonly number[]): boolean {
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * A region slot as `bind` takes it (frame.ts, `slotGlobals`): `lo` and the span for each access size,
 * `max(0, len - size + 1)` (`slots` variant), or `lo, len` (`cache`); all 0 for an unused slot.
 */
function pushSlot(args: number[], r: Region | undefined, checks: RegionChecks): void {
  if (r === undefined) {
    for (let i = slotParams(checks); i > 0; i--) args.push(0);
    return;
  }
  const len = r.end - r.start;
  args.push(r.start);
  if (checks === 'cache') args.push(len);
  else for (const size of ACCESS_SIZES) args.push(len >= size ? len - size + 1 : 0);
}

/**
 * Rejects malformed requests with `validateRequest` (src/exec.ts), the checks both engines share. This is what
 * makes the compiled checks sound: the stack, every region and the packet lie inside the memory, so an access
 * that passes them never traps. Returns the memory size it checked against, for the next call.
 */
function checkRequest(req: ExecRequest, memory: WebAssembly.Memory, knownSize: number): number {
  if (req.memory !== memory) throw new InternalError('a JIT-compiled program must run on the memory it was compiled for');
  // Reading `memory.buffer` costs as much as a short run; a memory never shrinks, so a size seen before still
  // holds, and the buffer is only read again when something ends beyond it.
  let size = knownSize;
  let end = req.stackBase + STACK_SIZE;
  for (const r of req.regions) if (r.end > end) end = r.end;
  if (req.packet && req.packet.start + req.packet.length > end) end = req.packet.start + req.packet.length;
  if (!(end <= size)) size = memory.buffer.byteLength;
  validateRequest(req, size);
  return size;
}
