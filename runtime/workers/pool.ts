/**
 * {@link WorkerPool}: runs programs on N `worker_threads` workers over a runtime's shared memory and maps.
 *
 *     const rt = new Runtime({ shared: true, cpus: 3 });       // CPU 0 = this thread, 1 and 2 = workers
 *     const counts = rt.createMap({ type: 'percpu_array', keySize: 4, valueSize: 8, maxEntries: 1 });
 *     const pool = await rt.workers(2);
 *     const prog = await pool.load(program, { engine: 'jit' });
 *     const verdicts = await prog.runBatch(packets);          // Uint32Array, r0 of each packet, in order
 *     await pool.close();
 *
 * Each worker is one CPU: it attaches to the map area as CPU 1..N (per-CPU maps see distinct CPU ids, and
 * `bpf_get_smp_processor_id` returns them), and gets an arena of the memory for its own stacks and packet
 * buffers. A batch is split into N contiguous shares, one per worker; packets, offsets and results travel in
 * SharedArrayBuffers (no copy between threads). `bpf_trace_printk` lines from workers reach the runtime's sink.
 *
 * Programs are posted as decoded instructions and prepared in each worker on the engine asked for; for the JIT,
 * the pool compiles the program once on this thread and posts its `WebAssembly.Module`s, which each worker
 * instantiates against its own helpers and map module (map helpers are WebAssembly imports: the worker's
 * instance is attached as its CPU). Host-defined helpers (`defineHelper`) are functions and cannot be posted:
 * workers have the standard, tail-call and map helpers only. Tail calls: PROG_ARRAY values are program slot
 * ids, shared with the maps; which program a slot runs is per thread, so give workers the same mapping with
 * {@link WorkerPool.setSlot} (e.g. `pool.setSlot(rt.programSlot(mainProgram), poolProgram)`).
 *
 * Not here: the worker's side (worker.ts), the messages (protocol.ts).
 */

import { Worker } from 'node:worker_threads';
import { ExecutionError } from '../../src/errors.js';
import type { Program } from '../../src/isa/program.js';
import type { EngineName } from '../engines.js';
import { BatchExecutionError, type PacketBatch } from '../filter.js';
import type { Runtime } from '../runtime.js';
import type { CompiledJit, JitExecutable, Variant } from '../../codegen/host.js';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';

/** Options of {@link Runtime.workers}. */
export interface PoolOptions {
  /** Bytes of memory each worker allocates its stacks and packet buffers from. Default 16 MiB. */
  readonly arenaBytes?: number;
  /** The worker script (default: worker.js next to this file; tests running TypeScript sources pass their own entry). */
  readonly workerUrl?: URL;
}

/** Options of {@link WorkerPool.load}. */
export interface PoolLoadOptions {
  /** Default `interp`. */
  readonly engine?: EngineName;
  readonly verify?: 'strict' | 'permissive';
}

type Distributive<T> = T extends unknown ? Omit<T, 'id'> : never;
type OkMessage = Extract<FromWorker, { type: 'ok' }>;

/** One worker and its outstanding requests. */
class PoolWorker {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (ok: OkMessage) => void; reject: (e: Error) => void }>();
  private failure: Error | undefined;

  constructor(readonly worker: Worker, trace: (line: string) => void) {
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'trace') return trace(m.line);
      const w = this.waiting.get(m.id);
      if (w === undefined) return;
      this.waiting.delete(m.id);
      if (m.type === 'ok') return w.resolve(m);
      let err: Error;
      if (m.code !== undefined && m.name.endsWith('ExecutionError')) {
        const cause = new ExecutionError(m.code as ExecutionError['code'], m.message, m.pc ?? 0);
        err = m.packet !== undefined ? new BatchExecutionError(m.packet, cause) : cause;
      } else {
        err = new Error(`worker: ${m.name}: ${m.message}`);
      }
      w.reject(err);
    });
    const fail = (e: Error): void => {
      this.failure = e;
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`worker exited (code ${code})`)));
  }

  request(m: Distributive<ToWorker>): Promise<OkMessage> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ ...m, id });
    });
  }
}

/** A program loaded on every worker of a pool. */
export class PoolProgram {
  constructor(
    private readonly pool: WorkerPool,
    readonly index: number,
    /**
     * How many workers translated code for this program themselves: 0 when the pool posted the JIT's compiled
     * modules (or the engine is the interpreter); a program with callbacks (`bpf_loop`, `bpf_for_each_map_elem`)
     * has them compiled in each worker.
     */
    readonly workerTranslations: number,
  ) {}

  /**
   * Runs the program on each packet, spread over the workers in contiguous shares, and resolves to r0's low 32
   * bits per packet, in batch order. Rejects with `BatchExecutionError` (its packet index in the whole batch)
   * when a run faults; other shares may have run.
   */
  runBatch(packets: PacketBatch): Promise<Uint32Array> {
    return this.pool.runBatch(this.index, packets);
  }
}

/** Workers running programs over one runtime's memory and maps (see the file header). */
export class WorkerPool {
  private programs = 0;
  private closed = false;

  private constructor(private readonly runtime: Runtime, private readonly workers: readonly PoolWorker[]) {}

  /** Starts `n` workers on `runtime` (which needs a shared memory and at least n + 1 CPUs). */
  static async start(runtime: Runtime, n: number, options: PoolOptions = {}): Promise<WorkerPool> {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`a pool has at least one worker, not ${n}`);
    if (!(runtime.memory.buffer instanceof SharedArrayBuffer)) throw new RangeError('workers need a runtime with a shared memory (new Runtime({ shared: true }))');
    if (runtime.cpus < n + 1) throw new RangeError(`${n} workers need ${n + 1} CPUs (this thread is CPU 0): new Runtime({ cpus: ${n + 1} })`);
    const maps = runtime.maps.share();
    const arenaBytes = options.arenaBytes ?? 16 << 20;
    const url = options.workerUrl ?? new URL('./worker.js', import.meta.url);
    const trace = (line: string): void => runtime.trace(line);
    const workers: PoolWorker[] = [];
    for (let cpu = 1; cpu <= n; cpu++) {
      const start = runtime.alloc(arenaBytes, 65536);
      const init: WorkerInit = { attach: { memory: runtime.memory, arena: { start, end: start + arenaBytes }, maps, cpu } };
      workers.push(new PoolWorker(new Worker(url, { workerData: init }), trace));
    }
    // Wait until every worker runs; a failure to attach afterwards rejects the worker's first request.
    await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => {
      w.worker.once('online', resolve);
      w.worker.once('error', reject);
    })));
    return new WorkerPool(runtime, workers);
  }

  /** Number of workers. */
  get size(): number {
    return this.workers.length;
  }

  /**
   * Loads `program` on every worker (maps must be relocated first, as for `Runtime.load`). On the JIT, the
   * program is compiled once, here, and the compiled `WebAssembly.Module`s are posted: each worker instantiates
   * them against its own map module (as its CPU), without translating again.
   */
  async load(program: Program, options: PoolLoadOptions = {}): Promise<PoolProgram> {
    if (this.closed) throw new RangeError('the pool is closed');
    const engine = options.engine ?? 'interp';
    const verify = options.verify ? { verify: options.verify } : {};
    let compiled: CompiledJit | undefined;
    if (engine === 'jit') {
      const local = await this.runtime.load(program, { engine, ...verify });
      // What a worker runs: the packet path (a tail-calling program's callees too, on their own packet engines;
      // one given another context takes the general path), with the program's default budget when it has one
      // (termination not known: LoadOptions.budget).
      const variants: Variant[] = [{ budget: local.defaultBudget !== undefined, regionChecks: 'slots' }];
      compiled = (local.executable as JitExecutable).compiled(variants);
    }
    // The index is taken when the load is posted: concurrent loads finish in any order, in any worker.
    const index = this.programs++;
    const m = { type: 'load' as const, index, insns: program.insns, engine, ...verify, ...(compiled ? { compiled } : {}) };
    const replies = await Promise.all(this.workers.map((w) => w.request(m)));
    return new PoolProgram(this, index, replies.filter((r) => r.translated === true).length);
  }

  /** @internal See {@link PoolProgram.runBatch}. */
  async runBatch(program: number, packets: PacketBatch): Promise<Uint32Array> {
    if (this.closed) throw new RangeError('the pool is closed');
    const isList = Array.isArray(packets);
    const list = packets as readonly Uint8Array[];
    const b = packets as Exclude<PacketBatch, readonly Uint8Array[]>;
    const count = isList ? list.length : b.offsets.length - 1;
    let total = 0;
    if (isList) for (const p of list) total += p.length;
    else total = b.offsets[count] - b.offsets[0];
    // The shared buffers of the last batch, when they are free and large enough: a fresh SharedArrayBuffer is
    // zero-filled, a pass over the whole batch for nothing.
    const buffers = this.takeBuffers(total, count + 1);
    const { data, offsets } = buffers;
    const u8 = new Uint8Array(data);
    const off = new Uint32Array(offsets);
    if (isList) {
      let at = 0;
      for (let i = 0; i < count; i++) {
        off[i] = at;
        u8.set(list[i], at);
        at += list[i].length;
      }
      off[count] = at;
    } else {
      const first = b.offsets[0];
      u8.set(b.data.subarray(first, b.offsets[count]));
      for (let i = 0; i <= count; i++) off[i] = b.offsets[i] - first;
    }
    const results = await this.runShares(program, packets, count, data, offsets);
    // Kept only after a batch every worker finished (after a failure, another worker may not have read its share yet).
    this.spare = buffers;
    return results;
  }

  /** Shared buffers for the packets of a batch: {@link spare} when it fits (and no batch uses it), else new ones. */
  private takeBuffers(bytes: number, entries: number): { data: SharedArrayBuffer; offsets: SharedArrayBuffer } {
    const s = this.spare;
    this.spare = undefined;
    if (s !== undefined && s.data.byteLength >= bytes && s.offsets.byteLength >= 4 * entries) return s;
    return { data: new SharedArrayBuffer(Math.max(bytes, 1)), offsets: new SharedArrayBuffer(4 * entries) };
  }

  /** Buffers of a finished batch, kept for the next one. */
  private spare: { data: SharedArrayBuffer; offsets: SharedArrayBuffer } | undefined;

  /** Splits the batch in `data`/`offsets` among the workers and gathers the results. */
  private async runShares(program: number, packets: PacketBatch, count: number, data: SharedArrayBuffer, offsets: SharedArrayBuffer): Promise<Uint32Array> {
    let wire: SharedArrayBuffer | undefined;
    const wireLengths = Array.isArray(packets) ? undefined : (packets as Exclude<PacketBatch, readonly Uint8Array[]>).wireLengths;
    if (wireLengths !== undefined) {
      if (wireLengths.length < count) throw new RangeError(`wireLengths has ${wireLengths.length} entries, the batch has ${count} packets`);
      wire = new SharedArrayBuffer(4 * Math.max(count, 1));
      const w = new Uint32Array(wire);
      for (let i = 0; i < count; i++) w[i] = wireLengths[i];
    }
    const results = new SharedArrayBuffer(4 * Math.max(count, 1));
    const n = this.workers.length;
    const share = Math.ceil(count / n);
    const runs: Promise<unknown>[] = [];
    for (let k = 0; k < n && k * share < count; k++) {
      const first = k * share;
      const end = Math.min(count, first + share);
      runs.push(this.workers[k].request({ type: 'batch', program, data, offsets, results, first, end, ...(wire ? { wire } : {}) }));
    }
    await Promise.all(runs);
    return new Uint32Array(results, 0, count);
  }

  /**
   * Makes program slot `slot` run `program` in every worker (hot swap included: from the next tail call on);
   * the runtime's own mapping is set with `Runtime.setSlot`.
   */
  async setSlot(slot: number, program: PoolProgram | undefined): Promise<void> {
    if (this.closed) throw new RangeError('the pool is closed');
    await Promise.all(this.workers.map((w) => w.request({ type: 'slot', slot, program: program?.index })));
  }

  /** Detaches every worker from the maps (giving their CPUs back) and ends them. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.workers.map(async (w) => {
      // Listen before asking: the worker may be gone before the reply's continuation runs.
      const exited = new Promise<void>((resolve) => {
        w.worker.once('exit', () => resolve());
      });
      await w.request({ type: 'close' });
      await exited;
    }));
  }
}
