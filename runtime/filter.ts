/**
 * The packet fast path of a loaded program: `run(packet) → number` and `runBatch(packets) → Uint32Array`, for
 * filters and the XDP-style API built on them. Where `LoadedProgram.run` (the general path: any input, r0 as a
 * u64 `bigint`, the input copied back out, a stack taken from the runtime and cleared from JS) costs about half a
 * microsecond a run, this path binds everything once and then crosses into WebAssembly with one `number` and
 * no `bigint` either way.
 *
 * A run, on either engine, sees exactly what `LoadedProgram.run` would show it, apart from where things are:
 * - r1 = the packet's address in linear memory (also for an empty packet), r2 = its length, r3 = its length on
 *   the wire when the caller gives it (a capture's original length; else 0), r4..r5 = 0;
 * - the regions: the packet (writable unless {@link PacketOptions.writable} is false) and the runtime's map
 *   regions; legacy packet loads (LD_ABS/LD_IND) read the same packet;
 * - a stack of its own (STACK_SIZE bytes, no other execution uses it), all zero when the run starts;
 * - the result is r0's low 32 bits (an XDP action, a filter verdict), as an unsigned number.
 *
 * Layout, allocated from the runtime once (and again, larger, when a packet or a batch does not fit):
 *
 *     stack (STACK_SIZE) │ [context mode: the struct │ its template] │ data: the packet, or a batch's packets
 *     back to back │ offsets u32[n+1] │ results u32[n] │ wire lengths u32[n]
 *
 * The stack must be all zero when a run starts, or a program could read what the previous run left there.
 * `LoadedProgram.run` clears the whole 4 KiB from JS before every run; that alone would cost more than this
 * path's whole budget. Instead the JIT clears, inside WebAssembly, only what the previous run may have written
 * (codegen/frame.ts, `PACKET_ENTRIES`): the entry frame's stores at constant r10 offsets, known when the
 * program is compiled, with a few inline stores; and the whole stack with `memory.fill` only after a run that
 * did something the compiler could not bound (a store through another register that landed in the stack, a
 * helper call, a local call). The interpreter's engine (src/interp/packet.ts) clears from the lowest address the
 * previous run stored to (the whole stack after a helper call or a fault); an executable without an engine of
 * its own gets {@link LoopPacketEngine}, which clears the whole stack before each run.
 *
 * Tail calls: the path of a program that calls `bpf_tail_call` drives the chain itself (`runChained`): after a
 * run that tail-called, the callee runs on the same packet (and context), on a packet engine of its own bound to
 * this path's buffers with a stack of its own, so each engine's lazy clearing stays exact; a batch of such a
 * program runs packet by packet. See tailcall.ts.
 *
 * Every engine uses the same layout, so they give the same results (the differential tests of
 * test/runtime/fastpath.test.ts and test/runtime/interp-packet.test.ts compare them).
 *
 * Not here: the JIT's entries (codegen/translate.ts, `buildPacketEntries`) and its engine (codegen/host.ts,
 * `JitPacketEngine`); the general path (runtime.ts).
 */

import { ExecutionError, InternalError } from '../src/errors.js';
import { STACK_SIZE, type Executable, type ExecRequest, type HelperTable, type Region } from '../src/exec.js';
import { fillPacketContext, packetRequest, type PacketBinding, type PacketContext, type PacketEngine } from '../src/packet.js';
import type { LoadedProgram, Runtime } from './runtime.js';
import type { TailCallState } from './tailcall.js';

/**
 * Packets for {@link PacketPath.runBatch}: an array of packets, or packets already back to back in one buffer,
 * packet i being `data[offsets[i] .. offsets[i + 1])` (`offsets` has one entry more than there are packets,
 * non-decreasing, the last at most `data.length`). The second form costs one copy for the whole batch, and may
 * give each packet's length on the wire (`wireLengths[i]`, a u32: a capture's original length, which r3 gets;
 * 0 without it).
 */
export type PacketBatch = readonly Uint8Array[] | {
  readonly data: Uint8Array;
  readonly offsets: ArrayLike<number>;
  readonly wireLengths?: ArrayLike<number>;
};

/** Options of a {@link PacketPath}, fixed for its lifetime. */
export interface PacketOptions {
  /** Execution budget of each run (see `ExecRequest.budget`). Default: none. */
  readonly budget?: number;
  /** Whether programs may write the packet. Default true. */
  readonly writable?: boolean;
  /**
   * Context mode: each run gets r1 = this context struct (XDP's `xdp_md`, a socket filter's `__sk_buff`) instead
   * of the packet, set up as `layout` says (codegen/host.ts, `PacketContext`). A JIT-compiled program must have
   * been compiled for the same layout (`LoadOptions.packetContext`). Its static fields come from
   * {@link PacketPath.setContext}.
   */
  readonly context?: PathContext;
}

/** A packet path's context (see {@link PacketOptions.context}). */
export interface PathContext {
  readonly layout: PacketContext;
  /**
   * The struct's regions, offsets relative to its start: what runs may load (with writability) and store. A
   * region inside another one needs no load slot of its own (the JIT has REGION_SLOTS - 1 for the context and the
   * map arenas).
   */
  readonly regions: readonly { readonly start: number; readonly end: number; readonly writable: boolean; readonly name: string }[];
}

/**
 * @internal How a packet path runs the callees of a program that tail-calls (`LoadedProgram.packetPath` makes
 * it): the budget each callee's runs get (the path's own, else the callee's default).
 */
export interface PacketChain {
  budget(callee: LoadedProgram): number | undefined;
}

/**
 * A callee of a tail-calling path's program: its engine, bound to the path's packet area, tables, regions and
 * context, with a stack of its own (so each engine's lazy stack clearing stays exact) and, in context mode, a
 * template of its own (see {@link PacketPath.runCallee}).
 */
interface Follower {
  readonly engine: PacketEngine;
  readonly stackBase: number;
  readonly template: number;
  /** The {@link PacketPath.bindings} generation it was last bound for. */
  bound: number;
}

/** The packets of a batch as a list (views into `data` for the `{data, offsets}` form), for paths that run them one by one. */
export function batchList(packets: PacketBatch): readonly Uint8Array[] {
  if (Array.isArray(packets)) return packets as readonly Uint8Array[];
  const { data, offsets } = packets as Exclude<PacketBatch, readonly Uint8Array[]>;
  return Array.from({ length: Math.max(offsets.length - 1, 0) }, (_, i) => data.subarray(offsets[i], offsets[i + 1]));
}

/** `w` when it is a u32 (a wire length, r3), else a RangeError naming it (`wireLengths[index]` in a batch). */
export function checkWireLength(w: number, index?: number): number {
  if (w >>> 0 !== w) throw new RangeError(index === undefined ? `wire length ${w} is not a u32` : `wireLengths[${index}] (${w}) is not a u32`);
  return w;
}

/** A fault in a batch: the `ExecutionError` of the run that faulted, naming its packet. */
export class BatchExecutionError extends ExecutionError {
  /** Index of the faulting packet in the batch; the packets before it ran to completion. */
  readonly packetIndex: number;

  constructor(packetIndex: number, cause: ExecutionError) {
    super(cause.code, `packet ${packetIndex}: ${cause.detail}`, cause.pc ?? 0, { cause });
    this.packetIndex = packetIndex;
  }
}

/** Initial sizes of the data area (bytes) and of the batch tables (packets). */
const INITIAL_DATA = 4096;
const INITIAL_TABLE = 256;
/** Nested packet paths (a helper re-entering the same program's path) allowed, as with the runtime's stacks. */
const MAX_NESTING = 8;

/**
 * An executable that provides its own packet engine (the JIT's `JitExecutable`, the `Interpreter`), on the
 * runtime's memory; for a path with or without a budget.
 */
interface HasPacketEngine {
  packetEngine(budget: boolean, memory: WebAssembly.Memory): PacketEngine;
}

function hasPacketEngine(exe: Executable): exe is Executable & HasPacketEngine {
  return typeof (exe as Partial<HasPacketEngine>).packetEngine === 'function';
}

/**
 * The packet fast path of one program on one runtime (see the file header). Get one with
 * `LoadedProgram.packetPath(options)`; `LoadedProgram.runPacket` / `runBatch` use a default one.
 */
export class PacketPath {
  private readonly engine: PacketEngine;
  private readonly memory: WebAssembly.Memory;
  private readonly writable: boolean;
  private readonly budget: number | undefined;
  private readonly stackBase: number;
  private data = 0;
  private dataCap = 0;
  private offsets = 0;
  private results = 0;
  private wire = 0;
  /** Entries of the wire table that may be non-zero (batches without wire lengths must read 0 there). */
  private wireHigh = 0;
  private tableCap = 0;
  private u8: Uint8Array = new Uint8Array(0);
  private u32: Uint32Array = new Uint32Array(0);
  /** The map regions bound last (the runtime's list: a new list means new regions). */
  private boundRegions: readonly Region[] | undefined;
  /** Length of the last single packet, and of the last batch (for {@link packetView}). */
  private lastLength = 0;
  private lastCount = 0;
  private busy = false;
  private nested: PacketPath | undefined;
  /** The last binding given to the engine, and how many bindings there have been (followers rebind after). */
  private binding: PacketBinding | undefined;
  private bindings = 0;
  /** Tail calls: the run's state, the callees' engines, a stack for callees run on the general path. */
  private readonly tail: TailCallState<LoadedProgram> = { count: 0, pending: undefined };
  private readonly followers = new Map<LoadedProgram, Follower | null>();
  private generalStack = 0;
  /** Context mode: the struct (its template right after it) and its regions in linear memory. */
  private ctx = 0;
  private ctxRegions: readonly Region[] = [];
  private contextFill: ((view: DataView, at: number) => void) | undefined;

  constructor(
    private readonly runtime: Runtime,
    private readonly executable: Executable,
    private readonly helpers: HelperTable,
    private readonly options: PacketOptions = {},
    private readonly depth = 0,
    /** Set for a program that tail-calls: the path then drives the chain (see {@link runChained}). */
    private readonly chain?: PacketChain,
  ) {
    const budget = options.budget;
    if (budget !== undefined && !(Number.isSafeInteger(budget) && budget >= 0)) throw new RangeError(`budget ${budget} is not a non-negative integer`);
    this.budget = budget;
    this.writable = options.writable ?? true;
    this.memory = runtime.memory;
    this.engine = hasPacketEngine(executable) ? executable.packetEngine(budget !== undefined, runtime.memory) : new LoopPacketEngine(executable, runtime.memory);
    this.stackBase = runtime.alloc(STACK_SIZE, 16);
    const context = options.context;
    if (context !== undefined) {
      const size = context.layout.size;
      this.ctx = runtime.alloc(2 * size, 16);
      this.ctxRegions = context.regions.map((r) => ({ ...r, start: this.ctx + r.start, end: this.ctx + r.end }));
    }
    this.allocData(INITIAL_DATA);
    this.allocTables(INITIAL_TABLE);
    this.bind();
  }

  /**
   * Runs the program once on `packet` (copied into linear memory) and returns r0's low 32 bits, unsigned. r3 =
   * `wireLength`, the packet's length on the wire (a capture's original length, a u32), when given; else 0.
   *
   * @throws ExecutionError when the program faults (naming the pc); RangeError for a wire length that is no u32.
   */
  run(packet: Uint8Array, wireLength = 0): number {
    const n = packet.length;
    // The common case inline (this is most of the cost of a call besides the copy and the run); the rest apart.
    // An unshared memory's buffer is detached (length 0) when the memory grows.
    if (this.busy || n > this.dataCap || this.u8.length === 0 || this.regionsChanged() || wireLength >>> 0 !== wireLength) return this.runSlow(packet, wireLength);
    this.u8.set(packet, this.data);
    this.lastLength = n;
    this.lastCount = 0;
    this.busy = true;
    try {
      return this.chain === undefined ? this.engine.runOne(n, wireLength) : this.runChained(-1, n, wireLength);
    } finally {
      this.busy = false;
    }
  }

  /**
   * Tail calls: runs the program on the single packet (`index` -1) or on batch packet `index`, then each callee
   * its tail calls name (tailcall.ts: the helper leaves the callee in the run's state and ends its caller), on
   * the same packet and context, each on a zeroed stack, as `runChain` does for the general path; returns the
   * last program's r0 (low 32 bits).
   */
  private runChained(index: number, len: number, wire: number): number {
    const st = this.tail;
    st.count = 0;
    st.pending = undefined;
    const outer = this.runtime.enterTailCalls(st);
    try {
      let r0: number;
      if (index < 0) r0 = this.engine.runOne(len, wire);
      else {
        this.engine.runBatch(index + 1, index);
        r0 = this.views32()[(this.results >>> 2) + index];
      }
      while (st.pending !== undefined) r0 = this.runCallee(index, len, wire);
      return r0;
    } finally {
      st.pending = undefined;
      this.runtime.leaveTailCalls(outer);
    }
  }

  /**
   * Runs the pending callee (see {@link runChained}). On its own packet engine when it has one for this path's
   * mode: bound like the path's, with its own stack, and (context mode) a template that is a copy of the context
   * as the caller left it, so that the entry's restoring of the writable fields keeps the caller's values (a
   * callee sees the context its caller passed, as on the general path). Else, and when the caller passed
   * another context than the run's, on the general path.
   */
  private runCallee(index: number, len: number, wire: number): number {
    const next = this.tail.pending!;
    this.tail.pending = undefined;
    const callee = next.program;
    const u32 = this.views32();
    const start = index < 0 ? this.data : this.data + u32[(this.offsets >>> 2) + index];
    const layout = this.options.context?.layout;
    const f = this.follower(callee);
    if (f === null || next.ctx !== BigInt(layout !== undefined ? this.ctx : start)) return this.runCalleeGeneral(callee, next.ctx, index, start, len, wire);
    if (layout !== undefined) new Uint8Array(this.memory.buffer).copyWithin(f.template, this.ctx, this.ctx + layout.size);
    if (index < 0) return f.engine.runOne(len, wire);
    f.engine.runBatch(index + 1, index);
    return this.views32()[(this.results >>> 2) + index];
  }

  /** The packet engine `callee` runs on in this path (bound for its current binding), or null: the general path. */
  private follower(callee: LoadedProgram): Follower | null {
    let f = this.followers.get(callee);
    if (f === undefined) {
      f = this.makeFollower(callee);
      this.followers.set(callee, f);
    }
    if (f !== null && f.bound !== this.bindings) {
      const b = this.binding!;
      f.engine.bind({
        ...b, stackBase: f.stackBase, helpers: callee.helpers, budget: this.chain!.budget(callee),
        ...(b.context ? { context: { ...b.context, template: f.template } } : {}),
      });
      f.bound = this.bindings;
    }
    return f;
  }

  private makeFollower(callee: LoadedProgram): Follower | null {
    const exe = callee.executable;
    if (!hasPacketEngine(exe) || callee.runtime !== this.runtime) return null;
    const context = this.options.context;
    // A JIT program's entries set up the context they were compiled for (or none).
    if (callee.engine === 'jit' && (exe as { readonly packetContext?: PacketContext }).packetContext !== context?.layout) return null;
    // Store regions wider than the writable fields (object.ts `pathRegions`, strict programs) only for strict callees.
    if (context !== undefined && callee.verified?.mode !== 'strict' && !exactStores(context)) return null;
    const size = context?.layout.size ?? 0;
    return {
      engine: exe.packetEngine(this.chain!.budget(callee) !== undefined, this.memory),
      stackBase: this.runtime.alloc(STACK_SIZE, 16),
      template: size > 0 ? this.runtime.alloc(size, 16) : 0,
      bound: -1,
    };
  }

  /**
   * A callee on the general path (`Executable.run`): r1 = the context its caller passed, r2.. as the path's
   * runs get them, a zeroed stack of the path's, the packet's and the map regions, and the context's own
   * regions (the whole struct for loads, the writable fields for stores).
   */
  private runCalleeGeneral(callee: LoadedProgram, ctx: bigint, index: number, start: number, len: number, wire: number): number {
    if (this.generalStack === 0) this.generalStack = this.runtime.alloc(STACK_SIZE, 16);
    new Uint8Array(this.memory.buffer, this.generalStack, STACK_SIZE).fill(0);
    const b = this.binding!;
    const c = b.context;
    const ctxRegions: Region[] = c === undefined ? [] : [
      { start: c.ctx, end: c.ctx + c.layout.size, writable: false, name: 'context' },
      ...c.layout.writable.map((w) => ({ start: c.ctx + w.start, end: c.ctx + w.end, writable: true, name: 'context' })),
    ];
    const base = packetRequest(this.memory, { ...b, regions: [...ctxRegions, ...this.runtime.mapRegions()] }, start, len, wire);
    const r0 = Number(BigInt.asUintN(32, callee.executable.run({
      ...base, stackBase: this.generalStack, args: [ctx, ...base.args.slice(1)], helpers: callee.helpers, budget: this.chain!.budget(callee),
    })));
    if (index >= 0) this.views32()[(this.results >>> 2) + index] = r0;
    return r0;
  }

  /** {@link run} when the path is busy (a nested run), the packet does not fit, or the memory or regions changed. */
  private runSlow(packet: Uint8Array, wireLength: number): number {
    checkWireLength(wireLength);
    if (this.busy) return this.inner().run(packet, wireLength);
    if (packet.length > this.dataCap) {
      this.allocData(packet.length);
      this.bind();
    }
    if (this.regionsChanged()) this.bind();
    if (this.u8.length === 0) this.views();
    return this.run(packet, wireLength);
  }

  /**
   * Runs the program on each packet of a batch, in order, each on a fresh stack, and returns r0's low 32 bits
   * for each (in `out` when given: it must have room for them). The packets are copied into linear memory back
   * to back; the JIT runs the whole batch in one call into WebAssembly.
   *
   * @throws BatchExecutionError (an `ExecutionError` naming the packet and the pc) when a run faults: the batch
   *   stops there.
   * @throws RangeError for malformed offsets or an `out` too small.
   */
  runBatch(packets: PacketBatch, out?: Uint32Array): Uint32Array {
    if (this.busy) return this.inner().runBatch(packets, out);
    const isList = Array.isArray(packets);
    let count: number;
    let total: number;
    let wireLengths: ArrayLike<number> | undefined;
    if (isList) {
      const list = packets as readonly Uint8Array[];
      count = list.length;
      total = 0;
      for (let i = 0; i < count; i++) total += list[i].length;
    } else {
      const { data, offsets } = packets as Exclude<PacketBatch, readonly Uint8Array[]>;
      count = offsets.length - 1;
      if (count < 0) throw new RangeError('a batch needs at least one offset');
      // Non-decreasing integers within the data: then every packet lies in the copy (the region checks rely on it).
      let prev = 0;
      let bad = -1;
      if (offsets instanceof Uint32Array) {
        for (let i = 0; i <= count; i++) {
          const o = offsets[i];
          if (o < prev) bad = i;
          prev = o;
        }
        if (prev > data.length) bad = count;
      } else {
        for (let i = 0; i <= count && bad < 0; i++) {
          const o = offsets[i];
          if (!(Number.isInteger(o) && o >= prev && o <= data.length)) bad = i;
          prev = o;
        }
      }
      if (bad >= 0) throw new RangeError(`batch offset ${bad} (${offsets[bad]}) is not an integer between the previous offset and the data length (${data.length})`);
      total = data.length;
      wireLengths = (packets as Exclude<PacketBatch, readonly Uint8Array[]>).wireLengths;
      if (wireLengths !== undefined && wireLengths.length < count) throw new RangeError(`wireLengths has ${wireLengths.length} entries, the batch has ${count} packets`);
    }
    const result = out ?? new Uint32Array(count);
    if (result.length < count) throw new RangeError(`out has room for ${result.length} results, the batch has ${count} packets`);
    if (count === 0) return result;
    let rebind = false;
    if (total > this.dataCap) {
      this.allocData(total);
      rebind = true;
    }
    if (count + 1 > this.tableCap) {
      this.allocTables(count + 1);
      rebind = true;
    }
    if (rebind || this.regionsChanged()) this.bind();
    let u8 = this.u8;
    if (u8.length === 0) u8 = this.views();
    const u32 = this.u32;
    const table = this.offsets >>> 2;
    if (isList) {
      const list = packets as readonly Uint8Array[];
      let at = 0;
      for (let i = 0; i < count; i++) {
        const p = list[i];
        u32[table + i] = at;
        u8.set(p, this.data + at);
        at += p.length;
      }
      u32[table + count] = at;
    } else {
      const { data, offsets } = packets as Exclude<PacketBatch, readonly Uint8Array[]>;
      u8.set(data, this.data);
      if (offsets instanceof Uint32Array) u32.set(offsets.subarray(0, count + 1), table);
      else for (let i = 0; i <= count; i++) u32[table + i] = offsets[i];
    }
    // r3 of each packet: its wire length (u32; 0 without one: the table is zeroed only after a batch that had them).
    const wire = this.wire >>> 2;
    if (wireLengths === undefined) {
      if (this.wireHigh > 0) u32.fill(0, wire, wire + this.wireHigh);
      this.wireHigh = 0;
    } else if (wireLengths instanceof Uint32Array) u32.set(wireLengths.subarray(0, count), wire);
    else {
      for (let i = 0; i < count; i++) {
        u32[wire + i] = checkWireLength(wireLengths[i], i);
      }
    }
    if (wireLengths !== undefined) this.wireHigh = Math.max(this.wireHigh, count);
    this.busy = true;
    // A tail-calling program runs packet by packet: its chain's driver is here (runChained).
    let i = 0;
    try {
      if (this.chain === undefined) this.engine.runBatch(count);
      else {
        for (; i < count; i++) {
          const v = this.views32();
          this.runChained(i, v[table + i + 1] - v[table + i], v[wire + i]);
        }
      }
    } catch (e) {
      if (e instanceof ExecutionError) throw new BatchExecutionError(this.chain === undefined ? this.engine.position : i, e);
      throw e;
    } finally {
      this.lastLength = 0;
      this.lastCount = count;
      this.busy = false;
    }
    const res = this.results >>> 2;
    result.set(this.views32().subarray(res, res + count));
    return result;
  }

  /**
   * The bytes of the last single packet (no `index`) or of packet `index` of the last batch, as the program
   * left them: a view of linear memory, valid until the next run on this path or a growth of the memory.
   */
  packetView(index?: number): Uint8Array {
    const u8 = this.u8.length === 0 ? this.views() : this.u8;
    if (index === undefined) return u8.subarray(this.data, this.data + this.lastLength);
    if (!(Number.isInteger(index) && index >= 0 && index < this.lastCount)) throw new RangeError(`no packet ${index} in the last batch of ${this.lastCount}`);
    const u32 = this.views32();
    const o = this.offsets >>> 2;
    return u8.subarray(this.data + u32[o + index], this.data + u32[o + index + 1]);
  }

  /**
   * Context mode: writes the context's static fields (`fill` writes the struct at `at` in `view`; everything it
   * leaves alone is 0) into the template every run starts from. Takes effect from the next run.
   */
  setContext(fill: (view: DataView, at: number) => void): void {
    const layout = this.options.context?.layout;
    if (layout === undefined) throw new RangeError('this packet path has no context');
    this.contextFill = fill;
    const template = this.ctx + layout.size;
    new Uint8Array(this.memory.buffer, template, layout.size).fill(0);
    fill(new DataView(this.memory.buffer), template);
    new Uint8Array(this.memory.buffer).copyWithin(this.ctx, template, template + layout.size);
    this.nested?.setContext(fill);
  }

  /** The path a helper re-entering this one (during a run) gets: its own stack and buffers. */
  private inner(): PacketPath {
    if (this.depth + 1 >= MAX_NESTING) throw new ExecutionError('call_depth', `more than ${MAX_NESTING} nested packet runs of one program`, 0);
    if (this.nested === undefined) {
      this.nested = new PacketPath(this.runtime, this.executable, this.helpers, this.options, this.depth + 1, this.chain);
      if (this.contextFill !== undefined) this.nested.setContext(this.contextFill);
    }
    return this.nested;
  }

  /**
   * Whether the runtime's map regions changed since the last bind: they appear when the map area is laid out,
   * once, and never move afterwards (runtime/maps), so only an empty list needs looking at again.
   */
  private regionsChanged(): boolean {
    return this.boundRegions!.length === 0 && this.runtime.mapRegions().length !== 0;
  }

  private allocData(size: number): void {
    this.dataCap = Math.max(size, 2 * this.dataCap);
    this.data = this.runtime.alloc(this.dataCap, 16);
  }

  private allocTables(entries: number): void {
    this.tableCap = Math.max(entries, 2 * this.tableCap);
    this.offsets = this.runtime.alloc(4 * this.tableCap, 16);
    this.results = this.runtime.alloc(4 * this.tableCap, 16);
    this.wire = this.runtime.alloc(4 * this.tableCap, 16);
    this.wireHigh = this.tableCap; // fresh memory is not known to be zero
  }

  private views(): Uint8Array {
    this.u32 = new Uint32Array(this.memory.buffer);
    return (this.u8 = new Uint8Array(this.memory.buffer));
  }

  private views32(): Uint32Array {
    if (this.u32.length === 0) this.views();
    return this.u32;
  }

  private bind(): void {
    const regions = this.runtime.mapRegions();
    this.boundRegions = regions;
    this.views();
    const layout = this.options.context?.layout;
    this.bindings++;
    this.engine.bind(this.binding = {
      stackBase: this.stackBase,
      data: this.data,
      offsets: this.offsets,
      results: this.results,
      wire: this.wire,
      writable: this.writable,
      budget: this.budget,
      regions: [...this.ctxRegions, ...regions],
      helpers: this.helpers,
      ...(layout ? { context: { ctx: this.ctx, template: this.ctx + layout.size, layout } } : {}),
    });
  }
}

/**
 * The {@link PacketEngine} of an `Executable` that has none of its own (the engines of runtime/engines.ts all
 * have one; a foreign executable given to `LoadedProgram` may not): one `run` per packet from JS, on the same
 * layout as the JIT's, with the whole stack cleared before each run. The reference the others are held to.
 */
class LoopPacketEngine implements PacketEngine {
  position = 0;
  private binding: PacketBinding | undefined;

  constructor(private readonly executable: Executable, private readonly memory: WebAssembly.Memory) {}

  bind(binding: PacketBinding): void {
    this.binding = binding;
  }

  runOne(len: number, wire: number): number {
    const b = this.bound();
    return this.runAt(b, b.data, len, wire);
  }

  runBatch(count: number, first = 0): void {
    const b = this.bound();
    for (let i = first; i < count; i++) {
      const view = new DataView(this.memory.buffer);
      const start = b.data + view.getUint32(b.offsets + 4 * i, true);
      const end = b.data + view.getUint32(b.offsets + 4 * i + 4, true);
      const wire = view.getUint32(b.wire + 4 * i, true);
      let r0: number;
      try {
        r0 = this.runAt(b, start, end - start, wire);
      } catch (e) {
        this.position = i;
        throw e;
      }
      new DataView(this.memory.buffer).setUint32(b.results + 4 * i, r0, true);
    }
  }

  private bound(): PacketBinding {
    if (this.binding === undefined) throw new InternalError('packet path used before bind');
    return this.binding;
  }

  private runAt(b: PacketBinding, start: number, length: number, wire: number): number {
    new Uint8Array(this.memory.buffer, b.stackBase, STACK_SIZE).fill(0);
    if (b.context !== undefined) fillPacketContext(new DataView(this.memory.buffer), b.context.ctx, b.context.layout, start, length, b.context.template);
    return Number(BigInt.asUintN(32, this.executable.run(packetRequest(this.memory, b, start, length, wire))));
  }
}

/** Whether a path context's store regions are exactly the layout's writable fields (see `PacketPath.makeFollower`). */
function exactStores(context: PathContext): boolean {
  const stores = context.regions.filter((r) => r.writable);
  const fields = context.layout.writable;
  return stores.length === fields.length && stores.every((r, k) => r.start === fields[k].start && r.end === fields[k].end);
}
