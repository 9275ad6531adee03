/**
 * `Runtime`: owns one `WebAssembly.Memory`, lays it out (ARCHITECTURE.md), loads programs on an engine and
 * runs them against buffers placed in that memory.
 *
 * Layout of linear memory:
 *
 *     0x00000 ┌──────────────────────────┐
 *             │ reserved (NULL page)     │  never handed out: NULL and small integers are never pointers
 *     0x10000 ├──────────────────────────┤
 *             │ runtime metadata         │  kept free (engines keep their tables in globals); no program region
 *     0x20000 ├──────────────────────────┤
 *             │ stacks                   │  STACK_SIZE bytes per execution slot
 *     DATA    ├──────────────────────────┤
 *             │ buffers (input, packet)  │  allocated by {@link Runtime.alloc}
 *             │ map area                 │  on first use of {@link Runtime.maps}: metadata, value arena,
 *             │                          │  read-only arena (maps/c/core.c); the arenas are program regions
 *             └──────────────────────────┘
 *
 * Helpers: unless `load` is given a table, a program gets {@link Runtime.helpers}: the standard helpers
 * (helpers/standard.ts), `bpf_tail_call` (tailcall.ts), the map helpers (maps/helpers.ts), the host's own
 * ({@link Runtime.defineHelper}), and `bpf_loop` / `bpf_for_each_map_elem` bound to its callbacks
 * (helpers/callbacks.ts).
 *
 * Not here: the maps themselves (maps/), the helper implementations (helpers/), ELF objects (src/elf).
 */

import { ExecutionError, InvalidProgramError } from '../src/errors.js';
import { RESERVED_LOW, STACK_SIZE, wasmHelperOf, withExactWasmForm, withWasmHelper, type ExecRequest, type Executable, type HelperFn, type HelperTable, type Region } from '../src/exec.js';
import type { HelperProto } from '../src/verifier/helpers.js';
import { callBound } from '../src/verifier/termination.js';
import type { Program } from '../src/isa/program.js';
import { BPF_F, BPF_MAP_TYPE, type MapSpec } from '../src/elf/maps.js';
import { verify, type VerifiedProgram, type VerifyOptions } from '../src/verifier/verify.js';
import type { CompiledJit } from '../codegen/host.js';
import type { PacketContext } from '../src/packet.js';
import type { ArrayLayout } from '../codegen/frame.js';
import { prepareEngine, type EngineName } from './engines.js';
import { relocateMaps } from './maps/relocate.js';
import { PacketPath, type PacketBatch, type PacketOptions } from './filter.js';
import { MapRegistry, type CreateAllOptions, type MapAreaOptions, type MapDefinition, type MapFor, type SharedMaps } from './maps/registry.js';
import type { AnyMap, KeyValueMap, ProgArray } from './maps/map.js';
import { HANDLE_TAG, MAP_HELPER } from './maps/abi.js';
import { compileHelper, type CustomArg, type HelperDefinition } from './helpers/custom.js';
import { standardHelpers } from './helpers/standard.js';
import { callbackHelpers, callbackTargets, resolveCallbacks, trampoline } from './helpers/callbacks.js';
import { ProgramSlots, tailCallHelper, type TailCallState } from './tailcall.js';
import { WorkerPool, type PoolOptions } from './workers/pool.js';

/** Start of the runtime metadata area. */
export const META_BASE = RESERVED_LOW;
/** Bytes of runtime metadata. */
export const META_SIZE = 0x10000;
/** Start of the stack area. */
export const STACKS_BASE = META_BASE + META_SIZE;
/** Number of execution stacks (concurrent or nested executions on one runtime). */
export const STACK_SLOTS = 8;
/** Start of the buffer area. */
export const DATA_BASE = STACKS_BASE + STACK_SLOTS * STACK_SIZE;

const PAGE = 65536;

/** Options for {@link Runtime}. */
export interface RuntimeOptions {
  /** Back the memory with a SharedArrayBuffer (needed for workers). Default false. */
  readonly shared?: boolean;
  /** Initial size in 64 KiB pages. Default 16 (1 MiB). */
  readonly initialPages?: number;
  /** Maximum size in pages. Default 16384 (1 GiB). */
  readonly maximumPages?: number;
  /**
   * Execution contexts (the main thread and each worker) per-CPU maps keep a value for; CPU 0 is the
   * runtime's thread, workers attach as 1, 2, ... Default 1, at most 64.
   */
  readonly cpus?: number;
  /** Sizes of the map area, reserved on first use of `maps` (see maps/registry.ts). */
  readonly mapArea?: MapAreaOptions;
  /** Receives each `bpf_trace_printk` line. Default: lines are collected in {@link Runtime.traceLines}. */
  readonly trace?: (line: string) => void;
  /**
   * Make this runtime another thread's view of an existing runtime (workers/pool.ts does this in each worker):
   * its memory, an arena of it for this runtime's stacks and buffers, and its maps attached as CPU `cpu`.
   * `shared`, `initialPages`, `maximumPages`, `cpus` and `mapArea` are then ignored.
   */
  readonly attach?: RuntimeAttachment;
}

/** See {@link RuntimeOptions.attach}. Structured-cloneable. */
export interface RuntimeAttachment {
  readonly memory: WebAssembly.Memory;
  /** The span this runtime allocates from (reserved for it by the owner with `alloc`); at least 64 KiB. */
  readonly arena: { readonly start: number; readonly end: number };
  readonly maps: SharedMaps;
  readonly cpu: number;
}

/**
 * The budget a program whose termination is not known runs with when its run gives none (taken back-edges plus
 * local calls, see `ExecRequest.budget`): a verified program whose loops are not all proven to terminate, or an
 * unverified one with a backward jump. About a million loop iterations, milliseconds of work; a program that
 * needs more says so with a budget of its own (or `budget: 'none'`).
 */
export const UNPROVEN_LOOP_BUDGET = 1 << 20;

/**
 * The most taken back-edges plus local calls a verified program's proof may allow (`VerifiedProgram.backEdges`)
 * for its runs to go without a budget: about 67 million, a fraction of a second on the JIT, a second or two on
 * the interpreter. A proof that allows more (a loop bounded by a 32-bit value read from the packet, one that
 * ends only when a 64-bit counter wraps) is a proof of termination, not of an end in any useful time: such a
 * program gets {@link UNPROVEN_LOOP_BUDGET}.
 */
export const PROVEN_LOOP_LIMIT = 1 << 26;

/** Verifier options {@link LoadOptions.verify} may set; the program type is `raw` (the convention of `run`). */
export type LoadVerifyOptions = Pick<VerifyOptions, 'mode' | 'maps' | 'prototypes' | 'lineInfo' | 'maxSteps' | 'type' | 'rawWritable'>;

/** Options for {@link Runtime.load}. */
export interface LoadOptions {
  /** Engine to run on. Default `interp` (the reference; `loadObject` and the CLI default to `jit`). */
  readonly engine?: EngineName;
  /** Helpers by id (default {@link Runtime.helpers}). Calls to an id missing here are rejected when the program is loaded. */
  readonly helpers?: HelperTable;
  /**
   * Verify the program first (src/verifier/verify.ts): `strict` rejects what it cannot prove safe, `permissive`
   * accepts whatever is structurally valid. It is verified as a `raw` program (r1 = the input, r2 = its length),
   * allowed the ids of `helpers` (those with a Linux id are assumed to behave as Linux's), with the input taken
   * as read-only (runs may make it so) unless `rawWritable` is set: then stores to the input may be proven too,
   * and runs on a read-only input are refused. The JIT then drops the checks of the accesses proven in bounds, and a
   * program whose termination is not proven runs with {@link UNPROVEN_LOOP_BUDGET} when a run sets no budget.
   * Throws `VerifierError` on rejection. Default: no verification.
   */
  readonly verify?: 'strict' | 'permissive' | LoadVerifyOptions;
  /**
   * The budget of every run that sets none (taken back-edges plus local calls, `ExecRequest.budget`), so that
   * no program can hang the host. Default: none for a program that ends by construction (no backward jump, and
   * calls that cannot fan out past the budget) or that the verifier proved ends within {@link PROVEN_LOOP_LIMIT}
   * (`VerifiedProgram.backEdges`); else {@link UNPROVEN_LOOP_BUDGET}, also for loops proven to end only after
   * more trips (bounded by a 32-bit value, or by a counter's wrap). `'none'`: no budget at all (a trusted
   * program; a loop may then run forever).
   */
  readonly budget?: number | 'none';
  /**
   * The maps the program's `lddw map_idx` / `map_idx_value` refer to (what `createMaps(elf.maps)` returned):
   * the references are resolved after verification. The verifier knows the maps from `verify.maps` when it is
   * given (an ELF object's specs), else from these maps' info (maps of maps then have no known inner map).
   */
  readonly maps?: readonly AnyMap[];
  /**
   * @internal JIT only: the program's modules as another thread compiled them (`JitExecutable.compiled`), used
   * instead of translating (workers/pool.ts posts them). Callbacks (`bpf_loop`, `bpf_for_each_map_elem`) are
   * still compiled here.
   */
  readonly compiled?: CompiledJit;
  /**
   * @internal JIT only: the context the packet path's runs get in r1 (runtime/object.ts, for XDP and socket
   * filter programs): the packet entries are compiled for it (codegen/host.ts, `PacketContext`).
   */
  readonly packetContext?: PacketContext;
}

/** Options for one run. */
export interface RunOptions {
  /** Instruction budget (see `ExecRequest.budget`). Default: none. */
  readonly budget?: number;
  /** Whether the input is writable by the program. Default true. */
  readonly writable?: boolean;
  /** Extra arguments r3..r5 (r1 and r2 are the input pointer and length). */
  readonly extraArgs?: readonly bigint[];
  /** Copy the input memory out after the run into `RunResult.mem`. Default true; false gives an empty `mem`. */
  readonly collectMem?: boolean;
}

/** The outcome of one run. */
export interface RunResult {
  /** r0 at exit, as u64. */
  readonly r0: bigint;
  /** The input memory after the run (a copy; empty when `collectMem` is false). */
  readonly mem: Uint8Array;
}

/** What a run of a tail-call chain shares between its programs (see {@link runChain}). */
export interface ChainRequest {
  readonly stackBase: number;
  readonly regions: readonly Region[];
  /** r1.. of the first program; each callee gets r1 = the context its caller passed, the rest as they are. */
  readonly args: readonly bigint[];
  readonly packet: ExecRequest['packet'];
}

/**
 * Runs `first`, then the programs its tail calls name, on one stack, regions and packet: the tail-call helper
 * (tailcall.ts) leaves the callee in the run's `pending` and ends its caller; this loop runs the callee with r1 =
 * the context the caller passed and a fresh frame, so a chain never deepens the JS or WebAssembly stack.
 * `each(prog)` gives each program's budget and whether to zero the stack before it. Returns the last r0.
 * The driver of `LoadedProgram.run` and of `BpfProgram.run` (object.ts).
 */
export function runChain(first: LoadedProgram, req: ChainRequest, each: (prog: LoadedProgram) => { budget: number | undefined; clearStack: boolean }): bigint {
  const rt = first.runtime;
  const state: TailCallState<LoadedProgram> = { count: 0, pending: undefined };
  const outer = rt.enterTailCalls(state);
  try {
    const args = [...req.args];
    let prog = first;
    for (;;) {
      const { budget, clearStack } = each(prog);
      if (clearStack) new Uint8Array(rt.memory.buffer, req.stackBase, STACK_SIZE).fill(0);
      const r0 = prog.executable.run({
        memory: rt.memory, stackBase: req.stackBase, regions: req.regions, args, helpers: prog.helpers, budget, packet: req.packet,
      });
      const next = state.pending;
      if (next === undefined) return r0;
      state.pending = undefined;
      prog = next.program;
      args[0] = next.ctx;
    }
  } finally {
    rt.leaveTailCalls(outer);
  }
}

/** The budget runs of `program` get when they set none (see `LoadOptions.budget`). */
function defaultBudget(program: Program, verified: VerifiedProgram | undefined, option: number | 'none' | undefined): number | undefined {
  if (option === 'none') return undefined;
  if (option !== undefined) {
    if (!(Number.isSafeInteger(option) && option >= 0)) throw new RangeError(`budget ${option} is not a non-negative integer or 'none'`);
    return option;
  }
  // Proven to end, and soon: no budget. A proof that allows more (PROVEN_LOOP_LIMIT) gets the budget anyway, so
  // that no program can hold the host for minutes.
  if (verified !== undefined) return verified.terminates && verified.backEdges !== undefined && verified.backEdges <= BigInt(PROVEN_LOOP_LIMIT) ? undefined : UNPROVEN_LOOP_BUDGET;
  // Unverified: without a backward jump a run ends, but calls may still fan out (eight levels of functions each
  // calling the next many times).
  const loops = program.insns.some((i) => (i.kind === 'ja' || i.kind === 'jcond') && i.target <= i.pc);
  return loops || callBound(program, 0n) > BigInt(UNPROVEN_LOOP_BUDGET) ? UNPROVEN_LOOP_BUDGET : undefined;
}

/** The map regions of a runtime without maps (one shared list: the packet path asks on every run). */
const NO_REGIONS: readonly Region[] = Object.freeze([]);

/** The verifier's view of a map created on a runtime (no inner map: a map of maps' lookups are opaque). */
export function mapSpecOf(map: AnyMap): MapSpec {
  const i = map.info;
  return {
    name: i.name, type: i.type, keySize: i.keySize, valueSize: i.valueSize, maxEntries: i.maxEntries, flags: i.flags,
    pinning: 0, mapExtra: i.mapExtra, frozen: (i.flags & BPF_F.RDONLY_PROG) !== 0, section: 'runtime',
  };
}

/** A program loaded on a runtime and an engine, ready to run many times. */
export class LoadedProgram {
  constructor(
    readonly runtime: Runtime,
    readonly program: Program,
    readonly engine: EngineName,
    /** @internal What the engine prepared (runtime/object.ts runs it with a program type's context). */
    readonly executable: Executable,
    /** @internal The helper table the program was loaded with. */
    readonly helpers: HelperTable,
    /** What the verifier proved, when the program was loaded with `verify`. */
    readonly verified?: VerifiedProgram,
    /** The budget of runs that set none (see `LoadOptions.budget`); undefined: none. */
    readonly defaultBudget?: number,
  ) {}

  /**
   * Whether the program was verified for a writable input (`rawWritable`): stores to the input may run
   * unchecked, so runs on a read-only input are refused.
   */
  private get writableInputOnly(): boolean {
    return this.verified?.rawWritable === true;
  }

  /** The packet path behind {@link runPacket} and {@link runBatch}, made on first use. */
  private packets: PacketPath | undefined;

  /**
   * The fast path for packets (runtime/filter.ts): runs the program on a copy of `packet` (r1 = its address,
   * r2 = its length, on a stack of the path's own) and returns r0's low 32 bits as an unsigned number, with no
   * `bigint` on the way. A few tens of nanoseconds a call on the JIT, where {@link run} costs about half a
   * microsecond. r3 = `wireLength`, the packet's length on the wire (a capture's original length), when given.
   * Throws `ExecutionError` when the program faults.
   */
  runPacket(packet: Uint8Array, wireLength?: number): number {
    return (this.packets ??= this.packetPath()).run(packet, wireLength);
  }

  /**
   * Runs the program on each packet of a batch (see {@link PacketBatch}: the `{data, offsets}` form costs one
   * copy for the whole batch) and returns r0's low 32 bits for each; the JIT enters WebAssembly once for the
   * whole batch. Throws `BatchExecutionError` (an `ExecutionError` naming the packet) when a run faults.
   */
  runBatch(packets: PacketBatch, out?: Uint32Array): Uint32Array {
    return (this.packets ??= this.packetPath()).runBatch(packets, out);
  }

  private tailCalls: boolean | undefined;

  /**
   * Whether the program calls the runtime's `bpf_tail_call`: then its packet paths drive the chain (filter.ts,
   * `PacketChain`), running the callees on the same packet.
   */
  private takesTailCalls(): boolean {
    return (this.tailCalls ??= this.helpers.get(MAP_HELPER.tail_call) === this.runtime.helpers.get(MAP_HELPER.tail_call)
      && this.program.insns.some((i) => i.kind === 'call' && i.target.kind === 'helper' && i.target.id === MAP_HELPER.tail_call));
  }

  /** A packet path of its own, with options (budget, read-only packets): see runtime/filter.ts. */
  packetPath(options: PacketOptions = {}): PacketPath {
    if (options.writable === false && this.writableInputOnly) throw new RangeError('this program was verified for a writable input (rawWritable): it cannot run on read-only packets');
    const budget = options.budget ?? this.defaultBudget;
    // Tail calls: each callee runs with the path's budget when one was asked for, else with its own default.
    const chain = this.takesTailCalls() ? { budget: (callee: LoadedProgram) => options.budget ?? callee.defaultBudget } : undefined;
    return new PacketPath(this.runtime, this.executable, this.helpers, budget === undefined ? options : { ...options, budget }, 0, chain);
  }

  /**
   * Runs the program the way the conformance suite does: r1 = pointer to a private copy of `input` (0 when
   * there is none or it is empty), r2 = its length, r10 = top of a fresh stack.
   */
  run(input?: Uint8Array, options: RunOptions = {}): RunResult {
    if (options.writable === false && this.writableInputOnly) throw new RangeError('this program was verified for a writable input (rawWritable): it cannot run on a read-only input');
    const rt = this.runtime;
    const len = input?.length ?? 0;
    const ptr = len > 0 ? rt.scratch(len) : 0;
    if (len > 0) new Uint8Array(rt.memory.buffer, ptr, len).set(input!);
    const regions: Region[] = len > 0 ? [{ start: ptr, end: ptr + len, writable: options.writable ?? true, name: 'input' }] : [];
    regions.push(...rt.mapRegions());
    const stackBase = rt.acquireStack();
    try {
      const args = [BigInt(ptr), BigInt(len), ...(options.extraArgs ?? [])];
      const r0 = runChain(this, { stackBase, regions, args, packet: len > 0 ? { start: ptr, length: len } : undefined }, (prog) => ({
        budget: options.budget ?? prog.defaultBudget,
        clearStack: true,
      }));
      const mem = len > 0 && options.collectMem !== false ? new Uint8Array(rt.memory.buffer, ptr, len).slice() : new Uint8Array(0);
      return { r0, mem };
    } finally {
      rt.releaseStack(stackBase);
    }
  }
}

/** Owns the memory and everything placed in it. */
export class Runtime {
  readonly memory: WebAssembly.Memory;
  private next = DATA_BASE;
  /** End of what {@link alloc} may hand out (an attached runtime's arena). */
  private limit = Infinity;
  private scratchPtr = 0;
  private scratchCap = 0;
  private readonly freeStacks: number[] = [];
  private mapRegistry: MapRegistry | undefined;
  /** Number of CPUs (see {@link RuntimeOptions.cpus}). */
  readonly cpus: number;
  private readonly mapArea: MapAreaOptions | undefined;
  private helperTable: Map<number, HelperFn> | undefined;
  private readonly customProtos = new Map<number, HelperProto>();
  private readonly slots = new ProgramSlots<LoadedProgram>();
  private tailCallState: TailCallState<LoadedProgram> | undefined;
  private readonly traceSink: (line: string) => void;
  /** The `bpf_trace_printk` lines of the runs so far, when no {@link RuntimeOptions.trace} sink was given (clear it at will). */
  readonly traceLines: string[] = [];

  constructor(options: RuntimeOptions = {}) {
    this.mapArea = options.mapArea;
    this.traceSink = options.trace ?? ((line) => void this.traceLines.push(line));
    const at = options.attach;
    if (at !== undefined) {
      // Another thread's view: allocate only inside the arena, stacks included, and share the maps.
      this.memory = at.memory;
      this.next = at.arena.start;
      this.limit = at.arena.end;
      this.mapRegistry = MapRegistry.attach(at.maps, { cpu: at.cpu });
      this.cpus = this.mapRegistry.cpus;
      const stacks = this.alloc(STACK_SLOTS * STACK_SIZE, 16);
      for (let i = STACK_SLOTS - 1; i >= 0; i--) this.freeStacks.push(stacks + i * STACK_SIZE);
      return;
    }
    this.cpus = options.cpus ?? 1;
    const initial = Math.max(options.initialPages ?? 16, Math.ceil((DATA_BASE + PAGE) / PAGE));
    const maximum = options.maximumPages ?? 16384;
    this.memory = new WebAssembly.Memory({ initial, maximum, shared: options.shared ?? false });
    for (let i = STACK_SLOTS - 1; i >= 0; i--) this.freeStacks.push(STACKS_BASE + i * STACK_SIZE);
  }

  /** Loads a program on an engine. Throws `InvalidProgramError('unknown_helper')` for calls to missing helpers, `VerifierError` when `verify` rejects it. */
  async load(program: Program, options: LoadOptions = {}): Promise<LoadedProgram> {
    const engine = options.engine ?? 'interp';
    let helpers = options.helpers ?? this.helpers;
    // Callbacks (helpers/callbacks.ts): with the default table, bpf_loop and bpf_for_each_map_elem are bound to
    // this program's callbacks, each prepared behind a trampoline on the same engine.
    const callbacks = new Map<number, Executable>();
    if (options.helpers === undefined) {
      const bound = new Map(helpers);
      for (const [id, fn] of callbackHelpers({
        callbacks,
        acquireStack: () => this.acquireStack(),
        releaseStack: (base) => this.releaseStack(base),
        alloc: (size, align) => this.alloc(size, align),
        mapExports: () => this.maps.exports,
        withoutTailCalls: (f) => {
          const outer = this.enterTailCalls(undefined);
          try {
            return f();
          } finally {
            this.leaveTailCalls(outer);
          }
        },
      })) bound.set(id, fn);
      helpers = bound;
    }
    for (const insn of program.insns) {
      if (insn.kind === 'call' && insn.target.kind === 'helper' && !helpers.has(insn.target.id)) {
        throw new InvalidProgramError('unknown_helper', `call to unknown helper ${insn.target.id}`, insn.pc);
      }
    }
    let verified: VerifiedProgram | undefined;
    if (options.verify !== undefined) {
      const v: LoadVerifyOptions = typeof options.verify === 'string' ? { mode: options.verify } : options.verify;
      const prototypes = new Map([...this.customProtos, ...(v.prototypes ?? [])]);
      const maps = v.maps ?? options.maps?.map(mapSpecOf);
      verified = verify(program, { ...v, type: v.type ?? 'raw', rawWritable: v.rawWritable ?? false, helpers: helpers.keys(), prototypes, ...(maps ? { maps } : {}) });
    }
    if (options.maps !== undefined) program = relocateMaps(program, options.maps);
    const resolved = resolveCallbacks(program);
    for (const target of callbackTargets(program)) {
      callbacks.set(target, await prepareEngine(engine, trampoline(resolved, target), { memory: this.memory, helpers }));
    }
    const proven = verified === undefined ? undefined : new Set([...verified.proven, ...verified.provenCalls]);
    const executable = await prepareEngine(engine, resolved, {
      memory: this.memory, helpers, proven, arrays: engine === 'jit' && !options.compiled ? this.inlineArrays(resolved, helpers) : undefined,
      ...(options.compiled ? { compiled: options.compiled } : {}),
      ...(options.packetContext ? { packetContext: options.packetContext } : {}),
    });
    return new LoadedProgram(this, program, engine, executable, helpers, verified, defaultBudget(program, verified, options.budget));
  }

  /**
   * The helpers programs get by default: the standard helpers (5, 6, 7, 8, 105, 106, 125, 165), `bpf_tail_call`
   * (12), the map helpers (1-3, 87-89, 130-134, 195; their map module is set up on first call) and those of
   * {@link defineHelper}; `load` adds `bpf_for_each_map_elem` (164) and `bpf_loop` (181), bound to each
   * program's callbacks. Programs loaded before a `defineHelper` keep the table they were loaded with.
   */
  get helpers(): HelperTable {
    if (this.helperTable === undefined) {
      const t = new Map<number, HelperFn>(standardHelpers({ trace: this.traceSink, cpu: () => this.mapRegistry?.cpu ?? 0 }));
      const self = this;
      t.set(MAP_HELPER.tail_call, tailCallHelper<LoadedProgram>({
        mapExports: () => this.maps.exports,
        programAt: (slot) => this.slots.at(slot),
        get tailState() { return self.tailCallState; },
      }));
      for (const id of [1, 2, 3, 87, 88, 89, 130, 131, 132, 133, 134, 195]) {
        // Bound on first call, so a runtime without maps never lays out a map area.
        // Its WebAssembly form (for the JIT) binds the same way.
        let f: HelperFn | undefined;
        const bound = (): HelperFn => (f ??= this.maps.helpers.get(id)!);
        // Exact (src/exec.ts): it only forwards to the map module's helper, exact wherever it has a form.
        t.set(id, withExactWasmForm(withWasmHelper((a, b, c, d, e, env) => bound()(a, b, c, d, e, env), () => wasmHelperOf(bound()))));
      }
      this.helperTable = t;
    }
    return this.helperTable;
  }

  /**
   * Registers a host helper (helpers/custom.ts): `fn` receives the declared arguments converted (`u32` as a
   * number, `u64` as a bigint, pointers as checked `Uint8Array` views) and returns r0. Later loads get it in
   * {@link helpers}, and strict verification checks calls against its declared signature. Replaces an earlier
   * definition of the same id.
   */
  defineHelper<const A extends readonly CustomArg[]>(def: HelperDefinition<A>): void {
    const { fn, proto } = compileHelper(def as unknown as HelperDefinition);
    // A fresh table: programs loaded earlier keep theirs.
    this.helperTable = new Map(this.helpers);
    this.helperTable.set(def.id, fn);
    this.customProtos.set(def.id, proto);
  }

  /**
   * The array maps `program` loads by handle whose lookups the JIT may inline (codegen/lower-call.ts): plain
   * ARRAYs, when helper 1 of `helpers` is this runtime's own map lookup (a host's own helper 1 is called).
   */
  private inlineArrays(program: Program, helpers: HelperTable): ReadonlyMap<bigint, ArrayLayout> | undefined {
    const handles = new Set<bigint>();
    for (const insn of program.insns) {
      if (insn.kind === 'lddw' && insn.src === 'imm64' && BigInt.asUintN(64, insn.value) >> 32n === BigInt(HANDLE_TAG)) handles.add(BigInt.asUintN(64, insn.value));
    }
    if (handles.size === 0 || wasmHelperOf(helpers.get(MAP_HELPER.map_lookup_elem))?.fn !== this.maps.exports.bpf_map_lookup_elem) return undefined;
    const arrays = new Map<bigint, ArrayLayout>();
    for (const handle of handles) {
      const map = this.maps.byId(Number(handle & 0xffff_ffffn));
      if (map === undefined || map.info.type !== BPF_MAP_TYPE.ARRAY) continue;
      const values = map as KeyValueMap<number, unknown>;
      const base = values.pointer(0)!;
      const n = map.info.maxEntries;
      arrays.set(handle, { base, stride: n > 1 ? values.pointer(1)! - base : map.info.valueSize, maxEntries: n });
    }
    return arrays;
  }

  /** Sends a `bpf_trace_printk` line to this runtime's sink (workers' lines come here). */
  trace(line: string): void {
    this.traceSink(line);
  }

  /**
   * Starts `n` worker threads that run programs over this runtime's memory and maps, each as one CPU (see
   * workers/pool.ts). Needs `shared: true` and `cpus` of at least n + 1.
   */
  workers(n: number, options?: PoolOptions): Promise<WorkerPool> {
    return WorkerPool.start(this, n, options);
  }

  /** The PROG_ARRAY value that names `program` (its slot id, given on first use). */
  programSlot(program: LoadedProgram): number {
    if (program.runtime !== this) throw new RangeError('programSlot: the program is loaded on another runtime');
    return this.slots.slotOf(program);
  }

  /** Puts `program` at `index` of a PROG_ARRAY (`undefined` empties it). Takes effect at the next tail call. */
  setProgram(progArray: ProgArray, index: number, program: LoadedProgram | undefined): void {
    if (program === undefined) progArray.delete(index);
    else progArray.set(index, this.programSlot(program));
  }

  /**
   * Hot swap: makes slot `slot` run `program` from the next tail call on, wherever the slot is stored (and
   * gives ELF objects' `createMaps(..., { programSlot })` slots their programs).
   */
  setSlot(slot: number, program: LoadedProgram | undefined): void {
    if (program !== undefined && program.runtime !== this) throw new RangeError('setSlot: the program is loaded on another runtime');
    this.slots.set(slot, program);
  }

  /** @internal The run driver's tail-call state (see tailcall.ts); returns the outer run's, for {@link leaveTailCalls}. */
  enterTailCalls(state: TailCallState<LoadedProgram> | undefined): TailCallState<LoadedProgram> | undefined {
    const outer = this.tailCallState;
    this.tailCallState = state;
    return outer;
  }

  /** @internal */
  leaveTailCalls(outer: TailCallState<LoadedProgram> | undefined): void {
    this.tailCallState = outer;
  }

  /** Allocates `size` bytes (aligned to `align`) in the buffer area, growing memory as needed. */
  alloc(size: number, align = 8): number {
    const start = Math.ceil(this.next / align) * align;
    const end = start + size;
    if (end > this.limit) throw new RangeError(`runtime arena exhausted: ${size} bytes wanted, ${Math.max(0, this.limit - start)} left`);
    const have = this.memory.buffer.byteLength;
    if (end > have) this.memory.grow(Math.ceil((end - have) / PAGE));
    this.next = end;
    return start;
  }

  /** A reusable buffer of at least `size` bytes for per-run inputs. */
  scratch(size: number): number {
    if (size > this.scratchCap) {
      this.scratchCap = Math.max(size, 4096);
      this.scratchPtr = this.alloc(this.scratchCap, 16);
    }
    return this.scratchPtr;
  }

  /** The maps of this runtime (this thread's registry; the map area is laid out on first use). */
  get maps(): MapRegistry {
    return (this.mapRegistry ??= MapRegistry.create(this.memory, (size, align) => this.alloc(size, align), this.cpus, this.mapArea));
  }

  /** Creates a map: `runtime.createMap({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 1024 })`. */
  createMap<const D extends MapDefinition>(def: D): MapFor<D['type']> {
    return this.maps.create(def);
  }

  /** Creates an ELF object's maps (`createMaps(elfObject.maps)`), in order, with their initial values. */
  createMaps(specs: readonly MapDefinition[], options?: CreateAllOptions): AnyMap[] {
    return this.maps.createAll(specs, options);
  }

  /** The map regions programs may access (none before the first map). */
  mapRegions(): readonly Region[] {
    return this.mapRegistry?.regions() ?? NO_REGIONS;
  }

  /** Takes an execution stack. */
  acquireStack(): number {
    const s = this.freeStacks.pop();
    if (s === undefined) throw new ExecutionError('call_depth', `more than ${STACK_SLOTS} nested executions on one runtime`, 0);
    return s;
  }

  /** Returns an execution stack. */
  releaseStack(base: number): void {
    this.freeStacks.push(base);
  }
}
