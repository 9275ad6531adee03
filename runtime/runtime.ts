/**
 * `Runtime`: owns one `WebAssembly.Memory`, lays it out (ARCHITECTURE.md), loads programs on an engine and
 * runs them against buffers placed in that memory.
 *
 * Layout of linear memory:
 *
 *     0x00000 ┌──────────────────────────┐
 *             │ reserved (NULL page)     │  never handed out: NULL and small integers are never pointers
 *     0x10000 ├──────────────────────────┤
 *             │ runtime metadata         │  engine tables (e.g. the JIT's region table); no program region
 *     0x20000 ├──────────────────────────┤
 *             │ stacks                   │  STACK_SIZE bytes per execution slot
 *     DATA    ├──────────────────────────┤
 *             │ buffers (input, packet)  │  allocated by {@link Runtime.alloc}
 *             │ map area                 │  on first use of {@link Runtime.maps}: metadata, value arena,
 *             │                          │  read-only arena (maps/c/core.c); the arenas are program regions
 *             └──────────────────────────┘
 *
 * Not here: the maps themselves (maps/), the standard helpers, ELF objects (src/elf).
 */

import { ExecutionError, InvalidProgramError } from '../src/errors.js';
import { RESERVED_LOW, STACK_SIZE, type Executable, type HelperTable, type Region } from '../src/exec.js';
import type { Program } from '../src/isa/program.js';
import { verify, type VerifiedProgram, type VerifyOptions } from '../src/verifier/verify.js';
import { prepareEngine, type EngineName } from './engines.js';
import { PacketPath, type PacketBatch, type PacketOptions } from './filter.js';
import { MapRegistry, type CreateAllOptions, type MapAreaOptions, type MapDefinition, type MapFor } from './maps/registry.js';
import type { AnyMap } from './maps/map.js';

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
}

/**
 * The budget a verified program whose loops are not all proven to terminate runs with when its run gives none
 * (taken back-edges plus local calls, see `ExecRequest.budget`).
 */
export const UNPROVEN_LOOP_BUDGET = 1 << 20;

/** Verifier options {@link LoadOptions.verify} may set; the program type is `raw` (the convention of `run`). */
export type LoadVerifyOptions = Pick<VerifyOptions, 'mode' | 'maps' | 'prototypes' | 'lineInfo' | 'maxSteps'>;

/** Options for {@link Runtime.load}. */
export interface LoadOptions {
  /** Engine to run on. Default `interp` (the JIT becomes the default when it lands). */
  readonly engine?: EngineName;
  /** Helpers by id. Calls to an id missing here are rejected when the program is loaded. */
  readonly helpers?: HelperTable;
  /**
   * Verify the program first (src/verifier/verify.ts): `strict` rejects what it cannot prove safe, `permissive`
   * accepts whatever is structurally valid. It is verified as a `raw` program (r1 = the input, r2 = its length),
   * allowed the ids of `helpers` (those with a Linux id are assumed to behave as Linux's), with the input taken
   * as read-only (runs may make it so). The JIT then drops the checks of the accesses proven in bounds, and a
   * program whose termination is not proven runs with {@link UNPROVEN_LOOP_BUDGET} when a run sets no budget.
   * Throws `VerifierError` on rejection. Default: no verification.
   */
  readonly verify?: 'strict' | 'permissive' | LoadVerifyOptions;
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

/** A program loaded on a runtime and an engine, ready to run many times. */
export class LoadedProgram {
  constructor(
    readonly runtime: Runtime,
    readonly program: Program,
    readonly engine: EngineName,
    private readonly executable: Executable,
    private readonly helpers: HelperTable,
    /** What the verifier proved, when the program was loaded with `verify`. */
    readonly verified?: VerifiedProgram,
  ) {}

  /** The packet path behind {@link runPacket} and {@link runBatch}, made on first use. */
  private packets: PacketPath | undefined;

  /**
   * The fast path for packets (runtime/filter.ts): runs the program on a copy of `packet` (r1 = its address,
   * r2 = its length, on a stack of the path's own) and returns r0's low 32 bits as an unsigned number, with no
   * `bigint` on the way. A few tens of nanoseconds a call on the JIT, where {@link run} costs about half a
   * microsecond. Throws `ExecutionError` when the program faults.
   */
  runPacket(packet: Uint8Array): number {
    return (this.packets ??= this.packetPath()).run(packet);
  }

  /**
   * Runs the program on each packet of a batch (see {@link PacketBatch}: the `{data, offsets}` form costs one
   * copy for the whole batch) and returns r0's low 32 bits for each; the JIT enters WebAssembly once for the
   * whole batch. Throws `BatchExecutionError` (an `ExecutionError` naming the packet) when a run faults.
   */
  runBatch(packets: PacketBatch, out?: Uint32Array): Uint32Array {
    return (this.packets ??= this.packetPath()).runBatch(packets, out);
  }

  /** A packet path of its own, with options (budget, read-only packets): see runtime/filter.ts. */
  packetPath(options: PacketOptions = {}): PacketPath {
    return new PacketPath(this.runtime, this.executable, this.helpers, options);
  }

  /**
   * Runs the program the way the conformance suite does: r1 = pointer to a private copy of `input` (0 when
   * there is none or it is empty), r2 = its length, r10 = top of a fresh stack.
   */
  run(input?: Uint8Array, options: RunOptions = {}): RunResult {
    const rt = this.runtime;
    const len = input?.length ?? 0;
    const ptr = len > 0 ? rt.scratch(len) : 0;
    if (len > 0) new Uint8Array(rt.memory.buffer, ptr, len).set(input!);
    const regions: Region[] = len > 0 ? [{ start: ptr, end: ptr + len, writable: options.writable ?? true, name: 'input' }] : [];
    regions.push(...rt.mapRegions());
    const stackBase = rt.acquireStack();
    try {
      new Uint8Array(rt.memory.buffer, stackBase, STACK_SIZE).fill(0);
      const r0 = this.executable.run({
        memory: rt.memory,
        stackBase,
        regions,
        args: [BigInt(ptr), BigInt(len), ...(options.extraArgs ?? [])],
        helpers: this.helpers,
        budget: options.budget ?? (this.verified?.terminates === false ? UNPROVEN_LOOP_BUDGET : undefined),
        packet: len > 0 ? { start: ptr, length: len } : undefined,
      });
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
  private scratchPtr = 0;
  private scratchCap = 0;
  private readonly freeStacks: number[] = [];
  private mapRegistry: MapRegistry | undefined;
  /** Number of CPUs (see {@link RuntimeOptions.cpus}). */
  readonly cpus: number;
  private readonly mapArea: MapAreaOptions | undefined;

  constructor(options: RuntimeOptions = {}) {
    this.cpus = options.cpus ?? 1;
    this.mapArea = options.mapArea;
    const initial = Math.max(options.initialPages ?? 16, Math.ceil((DATA_BASE + PAGE) / PAGE));
    const maximum = options.maximumPages ?? 16384;
    this.memory = new WebAssembly.Memory({ initial, maximum, shared: options.shared ?? false });
    for (let i = STACK_SLOTS - 1; i >= 0; i--) this.freeStacks.push(STACKS_BASE + i * STACK_SIZE);
  }

  /** Loads a program on an engine. Throws `InvalidProgramError('unknown_helper')` for calls to missing helpers, `VerifierError` when `verify` rejects it. */
  async load(program: Program, options: LoadOptions = {}): Promise<LoadedProgram> {
    const engine = options.engine ?? 'interp';
    const helpers = options.helpers ?? new Map();
    for (const insn of program.insns) {
      if (insn.kind === 'call' && insn.target.kind === 'helper' && !helpers.has(insn.target.id)) {
        throw new InvalidProgramError('unknown_helper', `call to unknown helper ${insn.target.id}`, insn.pc);
      }
    }
    let verified: VerifiedProgram | undefined;
    if (options.verify !== undefined) {
      const v: LoadVerifyOptions = typeof options.verify === 'string' ? { mode: options.verify } : options.verify;
      verified = verify(program, { ...v, type: 'raw', rawWritable: false, helpers: helpers.keys() });
    }
    const executable = await prepareEngine(engine, program, { memory: this.memory, helpers, proven: verified?.proven });
    return new LoadedProgram(this, program, engine, executable, helpers, verified);
  }

  /** Allocates `size` bytes (aligned to `align`) in the buffer area, growing memory as needed. */
  alloc(size: number, align = 8): number {
    const start = Math.ceil(this.next / align) * align;
    const end = start + size;
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
    return this.mapRegistry?.regions() ?? [];
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
