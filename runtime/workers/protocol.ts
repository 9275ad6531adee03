/**
 * The messages between a {@link WorkerPool} (pool.ts) and its workers (worker.ts). Everything here is
 * structured-cloneable; packet data, offsets and results travel in SharedArrayBuffers, so a batch is never
 * copied between threads (each worker copies its share once, into the runtime's memory).
 */

import type { RuntimeAttachment } from '../runtime.js';
import type { EngineName } from '../engines.js';
import type { Insn } from '../../src/isa/insn.js';
import type { CompiledJit } from '../../codegen/host.js';

/** `workerData` of a pool worker. */
export interface WorkerInit {
  readonly attach: RuntimeAttachment;
}

/** Pool → worker. */
export type ToWorker =
  | {
    readonly type: 'load'; readonly id: number;
    /** The pool program's index (loads may complete out of order: the index, not the order, names the program). */
    readonly index: number;
    readonly insns: readonly Insn[]; readonly engine: EngineName; readonly verify?: 'strict' | 'permissive';
    /** JIT: the modules the pool compiled (instantiated by the worker, not translated again). */
    readonly compiled?: CompiledJit;
  }
  | {
    readonly type: 'batch'; readonly id: number; readonly program: number;
    /** Packet bytes, back to back. */
    readonly data: SharedArrayBuffer;
    /** u32 offsets: packet i is `data[offsets[i], offsets[i + 1])`. */
    readonly offsets: SharedArrayBuffer;
    /** u32 results, one per packet. */
    readonly results: SharedArrayBuffer;
    /** u32 wire lengths (r3), one per packet, when the batch has them. */
    readonly wire?: SharedArrayBuffer;
    /** This worker's packets: `[first, end)`. */
    readonly first: number;
    readonly end: number;
  }
  /** Program slot `slot` (the owner's numbering, see tailcall.ts) runs pool program `program` (undefined: none). */
  | { readonly type: 'slot'; readonly id: number; readonly slot: number; readonly program: number | undefined }
  | { readonly type: 'close'; readonly id: number };

/** Worker → pool. */
export type FromWorker =
  | {
    readonly type: 'ok'; readonly id: number;
    /** For `load`: whether the worker translated code itself (JIT without posted modules, or callbacks). */
    readonly translated?: boolean;
  }
  | {
    readonly type: 'error'; readonly id: number; readonly name: string; readonly message: string;
    /** For BpfErrors: the code and pc; for a fault in a batch, the packet's index in the whole batch. */
    readonly code?: string; readonly pc?: number; readonly packet?: number;
  }
  | { readonly type: 'trace'; readonly line: string };
