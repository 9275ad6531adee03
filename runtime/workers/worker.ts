/**
 * A pool worker (see pool.ts): one CPU of the runtime. It makes an attached {@link Runtime} (the owner's
 * memory, its own arena for stacks and packet buffers, the maps as CPU n), loads the programs the pool sends
 * (same order, so program slots agree; JIT programs arrive compiled, and are instantiated against this thread's
 * helpers and map module), and runs its share of each batch on the packet fast path.
 *
 * Not here: splitting batches (pool.ts).
 */

import { parentPort, workerData } from 'node:worker_threads';
import { BpfError, ExecutionError } from '../../src/errors.js';
import { BatchExecutionError } from '../filter.js';
import { makeProgram } from '../../src/isa/program.js';
import { Runtime, type LoadedProgram } from '../runtime.js';
import { callbackTargets } from '../helpers/callbacks.js';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';

const port = parentPort!;
const init = workerData as WorkerInit;
const post = (m: FromWorker): void => port.postMessage(m);
const rt = new Runtime({ attach: init.attach, trace: (line) => post({ type: 'trace', line }) });
const programs: LoadedProgram[] = [];

/** Handles one request; for `load`, says whether this worker translated code itself. */
async function handle(m: ToWorker): Promise<boolean | undefined> {
  switch (m.type) {
    case 'load': {
      const program = makeProgram(m.insns);
      programs[m.index] = await rt.load(program, { engine: m.engine, ...(m.verify ? { verify: m.verify } : {}), ...(m.compiled ? { compiled: m.compiled } : {}) });
      return m.engine === 'jit' && (m.compiled === undefined || callbackTargets(program).length > 0);
    }
    case 'batch': {
      const offsets = new Uint32Array(m.offsets);
      const base = offsets[m.first];
      // Offsets relative to this worker's first packet (its data is a view starting there).
      const rel = new Uint32Array(m.end - m.first + 1);
      for (let i = 0; i < rel.length; i++) rel[i] = offsets[m.first + i] - base;
      const data = new Uint8Array(m.data, base, offsets[m.end] - base);
      const wireLengths = m.wire ? new Uint32Array(m.wire, 4 * m.first, m.end - m.first) : undefined;
      const program = programs[m.program];
      if (program === undefined) throw new RangeError(`pool program ${m.program} is not loaded in this worker`);
      program.runBatch({ data, offsets: rel, ...(wireLengths ? { wireLengths } : {}) }, new Uint32Array(m.results, 4 * m.first, m.end - m.first));
      return;
    }
    case 'slot':
      rt.setSlot(m.slot, m.program === undefined ? undefined : programs[m.program]);
      return;
    case 'close':
      rt.maps.detach();
      return;
  }
}

port.on('message', (m: ToWorker) => {
  handle(m).then(
    (translated) => {
      post({ type: 'ok', id: m.id, ...(translated !== undefined ? { translated } : {}) });
      if (m.type === 'close') port.close();
    },
    (e: unknown) => {
      let err = e instanceof Error ? e : new Error(String(e));
      let packet: number | undefined;
      if (err instanceof BatchExecutionError && m.type === 'batch') {
        packet = m.first + err.packetIndex;
        if (err.cause instanceof ExecutionError) err = err.cause;
      }
      post({
        type: 'error', id: m.id, name: err.name, message: err instanceof BpfError ? err.detail : err.message,
        ...(err instanceof BpfError ? { code: err.code, pc: err.pc } : {}),
        ...(packet !== undefined ? { packet } : {}),
      });
    },
  );
});
