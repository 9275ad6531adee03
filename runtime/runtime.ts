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
 *             └──────────────────────────┘
 *
 * Not here (yet): maps, the standard helpers and workers (the runtime issue); ELF objects (the loader issue).
 */

import { ExecutionError, InvalidProgramError } from '../src/errors.js';
import { RESERVED_LOW, STACK_SIZE, type Executable, type HelperTable, type Region } from '../src/exec.js';
import type { Program } from '../src/isa/program.js';
import { prepareEngine, type EngineName } from './engines.js';

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
}

/** Options for {@link Runtime.load}. */
export interface LoadOptions {
  /** Engine to run on. Default `interp` (the JIT becomes the default when it lands). */
  readonly engine?: EngineName;
  /** Helpers by id. Calls to an id missing here are rejected when the program is loaded. */
  readonly helpers?: HelperTable;
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
  ) {}

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
    const stackBase = rt.acquireStack();
    try {
      new Uint8Array(rt.memory.buffer, stackBase, STACK_SIZE).fill(0);
      const r0 = this.executable.run({
        memory: rt.memory,
        stackBase,
        regions,
        args: [BigInt(ptr), BigInt(len), ...(options.extraArgs ?? [])],
        helpers: this.helpers,
        budget: options.budget,
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

  constructor(options: RuntimeOptions = {}) {
    const initial = Math.max(options.initialPages ?? 16, Math.ceil((DATA_BASE + PAGE) / PAGE));
    const maximum = options.maximumPages ?? 16384;
    this.memory = new WebAssembly.Memory({ initial, maximum, shared: options.shared ?? false });
    for (let i = STACK_SLOTS - 1; i >= 0; i--) this.freeStacks.push(STACKS_BASE + i * STACK_SIZE);
  }

  /** Loads a program on an engine. Throws `InvalidProgramError('unknown_helper')` for calls to missing helpers. */
  async load(program: Program, options: LoadOptions = {}): Promise<LoadedProgram> {
    const engine = options.engine ?? 'interp';
    const helpers = options.helpers ?? new Map();
    for (const insn of program.insns) {
      if (insn.kind === 'call' && insn.target.kind === 'helper' && !helpers.has(insn.target.id)) {
        throw new InvalidProgramError('unknown_helper', `call to unknown helper ${insn.target.id}`, insn.pc);
      }
    }
    const executable = await prepareEngine(engine, program, { memory: this.memory, helpers });
    return new LoadedProgram(this, program, engine, executable, helpers);
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
