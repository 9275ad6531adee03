/**
 * The JS side of a compiled program: the imports a generated module calls (faults, the region search, helpers,
 * `callx`, packet aborts) and {@link JitExecutable}, which runs the module under the execution contract of
 * src/exec.ts.
 *
 * Faults are JS exceptions thrown from imports: they unwind through the Wasm frames and reach `run`, so the
 * host never sees a raw Wasm trap. `UnwindSignal` (from a helper) and the packet abort end the run with their
 * r0. Each nesting level (a helper that runs this same program again) gets its own instance, since the per-run
 * state lives in the instance's globals.
 *
 * Not here: building the module (translate.ts), the lowering (lower-*.ts).
 */

import { ExecutionError, InternalError } from '../src/errors.js';
import {
  MAX_CALL_DEPTH, STACK_SIZE, UnwindSignal, type ExecRequest, type Executable, type HelperFn, type Region,
} from '../src/exec.js';
import { F, FAULT_CODES, REGION_SLOTS, helperImport, type RegionChecks } from './frame.js';
import type { CompileStats } from './translate.js';

/** Thrown by `pkt_abort`: a legacy packet load out of bounds ends the program with r0 = 0 (RFC 9669 section 5.5). */
class PacketAbort {}
const PACKET_ABORT = new PacketAbort();

/** The request of the run an instance is executing (read by the imports). */
interface HostState {
  req: ExecRequest | undefined;
}

type EntryFn = (...args: (number | bigint)[]) => bigint;

interface JitInstance {
  readonly run: EntryFn;
  readonly state: HostState;
}

const hex = (a: bigint): string => '0x' + a.toString(16);

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
function callHelper(req: ExecRequest, f: HelperFn | undefined, id: bigint | number, pc: number, a: readonly bigint[]): bigint {
  if (f === undefined) throw new ExecutionError('unknown_helper', `call to unknown helper ${id}`, pc);
  let r: unknown;
  try {
    r = f(BigInt.asUintN(64, a[0]), BigInt.asUintN(64, a[1]), BigInt.asUintN(64, a[2]), BigInt.asUintN(64, a[3]), BigInt.asUintN(64, a[4]), { memory: req.memory, pc });
    if (typeof r !== 'bigint') throw new TypeError(`returned ${describe(r)}, not a bigint`);
  } catch (e) {
    if (e instanceof UnwindSignal) {
      if (typeof e.r0 !== 'bigint') throw new ExecutionError('helper_failed', `helper ${id} unwound with ${describe(e.r0)}, not a bigint`, pc);
      throw e;
    }
    if (e instanceof ExecutionError) throw e;
    throw new ExecutionError('helper_failed', `helper ${id} failed: ${describe(e)}`, pc, { cause: e });
  }
  return BigInt.asIntN(64, r);
}

function describe(x: unknown): string {
  if (x instanceof Error) return x.message;
  return typeof x === 'bigint' ? `${x}n` : `${typeof x} ${String(x)}`;
}

/**
 * The full region check behind `mem_slow`: returns when `[addr, addr + size)` lies in the stack or a region
 * (a writable one for stores), else throws `read_only` (it lies in read-only regions only) or `out_of_bounds`.
 */
function checkAccess(req: ExecRequest, addr: bigint, size: number, write: boolean, pc: number): void {
  const a = BigInt.asUintN(64, addr);
  let readOnly: Region | undefined;
  if (a < 2n ** 52n) {
    const lo = Number(a);
    const hi = lo + size;
    if (lo >= req.stackBase && hi <= req.stackBase + STACK_SIZE) return;
    for (const r of req.regions) {
      if (lo >= r.start && hi <= r.end) {
        if (!write || r.writable) return;
        readOnly ??= r;
      }
    }
  }
  if (readOnly !== undefined) throw new ExecutionError('read_only', `store of ${size} bytes at ${hex(a)} to read-only ${readOnly.name}`, pc);
  throw new ExecutionError('out_of_bounds', `out-of-bounds ${write ? 'store' : 'load'} of ${size} bytes at ${hex(a)}`, pc);
}

function faultError(req: ExecRequest, code: number, pc: number, addr: bigint, size: number): ExecutionError {
  const c = FAULT_CODES[code];
  switch (c) {
    case 'misaligned_atomic': return new ExecutionError(c, `misaligned atomic access of ${size} bytes at ${hex(BigInt.asUintN(64, addr))}`, pc);
    case 'budget_exceeded': return new ExecutionError(c, `execution budget of ${req.budget} exceeded`, pc);
    case 'call_depth': return new ExecutionError(c, `call depth exceeds ${MAX_CALL_DEPTH}`, pc);
    case 'fell_off_end': return new ExecutionError(c, 'execution fell off the end of the program', pc);
    case 'unknown_helper': return new ExecutionError(c, `call to kernel function (btf id ${addr}) is not supported`, pc);
    default: throw new InternalError(`unknown fault code ${code}`, pc);
  }
}

/** The imports of a generated module, bound to one instance's state. */
function makeImports(memory: WebAssembly.Memory, helperIds: readonly number[], state: HostState): WebAssembly.Imports {
  const env: Record<string, WebAssembly.ImportValue> = {
    memory,
    [F.fault]: (code: number, pc: number, addr: bigint, size: number): never => {
      throw faultError(current(state), code, pc, addr, size);
    },
    [F.memMiss]: (addr: bigint, size: number, write: number, pc: number): void => {
      checkAccess(current(state), addr, size, write !== 0, pc);
    },
    [F.pktAbort]: (): never => {
      throw PACKET_ABORT;
    },
    [F.callx]: (pc: number, id: bigint, a1: bigint, a2: bigint, a3: bigint, a4: bigint, a5: bigint): bigint => {
      const req = current(state);
      // The register holds the helper id; a value beyond 32 bits names no helper.
      const v = BigInt.asUintN(64, id);
      const f = v <= 0xffffffffn ? req.helpers.get(Number(v)) : undefined;
      return callHelper(req, f, v, pc, [a1, a2, a3, a4, a5]);
    },
  };
  for (const id of helperIds) {
    env[helperImport(id)] = (pc: number, a1: bigint, a2: bigint, a3: bigint, a4: bigint, a5: bigint): bigint => {
      const req = current(state);
      return callHelper(req, req.helpers.get(id), id, pc, [a1, a2, a3, a4, a5]);
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
  /** Helper ids the modules import. */
  readonly helperIds: readonly number[];
  readonly stats: CompileStats;
}

/** A program compiled to WebAssembly, runnable under the execution contract of src/exec.ts. */
export class JitExecutable implements Executable {
  private readonly modules = new Map<string, WebAssembly.Module>();
  /** Instances by variant, then by nesting level. */
  private readonly pools = new Map<string, JitInstance[]>();
  /** Runs of this executable in progress (nested through helpers). */
  private active = 0;

  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly source: JitModules,
    first?: { readonly variant: Variant; readonly module: WebAssembly.Module },
  ) {
    if (first) this.modules.set(key(first.variant), first.module);
  }

  /** Statistics of the first translation. */
  get stats(): CompileStats {
    return this.source.stats;
  }

  private instance(variant: Variant, depth: number): JitInstance {
    const k = key(variant);
    let pool = this.pools.get(k);
    if (pool === undefined) this.pools.set(k, (pool = []));
    let inst = pool[depth];
    if (inst === undefined) {
      let module = this.modules.get(k);
      if (module === undefined) this.modules.set(k, (module = this.source.build(variant)));
      const state: HostState = { req: undefined };
      const wasm = new WebAssembly.Instance(module, makeImports(this.memory, this.source.helperIds, state));
      inst = { run: wasm.exports[F.run] as EntryFn, state };
      pool[depth] = inst;
    }
    return inst;
  }

  run(req: ExecRequest): bigint {
    checkRequest(req, this.memory);
    const regions = req.regions;
    const variant: Variant = { budget: req.budget !== undefined, regionChecks: regions.length <= REGION_SLOTS ? 'slots' : 'cache' };
    const inst = this.instance(variant, this.active);
    const args: (number | bigint)[] = [req.stackBase, variant.budget ? BigInt(req.budget!) : 0n, req.packet?.start ?? 0, req.packet?.length ?? 0];
    // Load slots: the first regions; store slots: the first writable ones. The `cache` variant leaves the rest
    // to the JS host.
    pushSlots(args, regions);
    pushSlots(args, regions.filter((r) => r.writable));
    for (let i = 0; i < 5; i++) args.push(req.args[i] ?? 0n);

    inst.state.req = req;
    this.active++;
    try {
      return BigInt.asUintN(64, inst.run(...args));
    } catch (e) {
      if (e instanceof UnwindSignal) return BigInt.asUintN(64, e.r0);
      if (e === PACKET_ABORT) return 0n;
      if (e instanceof WebAssembly.RuntimeError) throw new InternalError(`compiled code trapped: ${e.message}`, undefined, { cause: e });
      throw e;
    } finally {
      this.active--;
      inst.state.req = undefined;
    }
  }
}

function key(v: Variant): string {
  return `${v.regionChecks}${v.budget ? '+budget' : ''}`;
}

/** `lo, len` of the first REGION_SLOTS regions, padded with unused slots (`0, 0`). */
function pushSlots(args: (number | bigint)[], regions: readonly Region[]): void {
  for (let k = 0; k < REGION_SLOTS; k++) {
    const r = regions[k];
    if (r === undefined) args.push(0, 0);
    else args.push(r.start, r.end - r.start);
  }
}

/**
 * Rejects malformed requests with the interpreter's checks (an `InternalError`: the host is at fault, not the
 * program). Beyond agreeing with the interpreter, this is what makes the compiled checks sound: the stack,
 * every region and the packet lie inside the memory, so an access that passes them never traps.
 */
function checkRequest(req: ExecRequest, memory: WebAssembly.Memory): void {
  if (req.memory !== memory) throw new InternalError('a JIT-compiled program must run on the memory it was compiled for');
  const size = memory.buffer.byteLength;
  const inMemory = (start: number, end: number): boolean =>
    Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= size;
  if (!inMemory(req.stackBase, req.stackBase + STACK_SIZE)) {
    throw new InternalError(`invalid request: stack at ${req.stackBase} is outside the ${size}-byte memory`);
  }
  for (const r of req.regions) {
    if (!inMemory(r.start, r.end)) throw new InternalError(`invalid request: region ${r.name} [${r.start}, ${r.end}) is outside the ${size}-byte memory`);
  }
  if (req.packet && !inMemory(req.packet.start, req.packet.start + req.packet.length)) {
    throw new InternalError(`invalid request: packet at ${req.packet.start} (+${req.packet.length}) is outside the ${size}-byte memory`);
  }
  const budget = req.budget;
  if (budget !== undefined && !(Number.isSafeInteger(budget) && budget >= 0)) {
    throw new InternalError(`invalid request: budget ${budget} is not a non-negative integer`);
  }
}
