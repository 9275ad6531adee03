/**
 * A watchdog for runs that may never end: a program stuck in a loop inside compiled Wasm (a JIT whose budget
 * check is wrong, say) blocks the thread, and with it every timer vitest could use to time the test out. The
 * test would hang forever, silently.
 *
 * So a small worker thread watches a shared clock: the harness arms it (with a description of the case) before
 * each load-and-run and disarms it after. If a case stays armed longer than the limit, the worker writes the
 * description straight to file descriptor 2 (the main thread's streams are stuck) and kills the process, which
 * vitest reports as a failed test file.
 *
 * Not here: anything about engines; the harness decides what to describe.
 */

import { Worker } from 'node:worker_threads';

/** Bytes of description the watchdog can print: a text and a blob it prints as hex. */
const TEXT_BYTES = 1 << 12;
const BLOB_BYTES = 1 << 16;

// Plain JavaScript run by the worker (CommonJS, since it is evaluated from a string).
const WORKER_SOURCE = /* js */ `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const armedAt = new BigInt64Array(workerData.sab, 0, 1);
const lens = new Int32Array(workerData.sab, 8, 2);
const text = new Uint8Array(workerData.sab, 16, ${TEXT_BYTES});
const blob = new Uint8Array(workerData.sab, 16 + ${TEXT_BYTES});
const nap = new Int32Array(new SharedArrayBuffer(4));
for (;;) {
  Atomics.wait(nap, 0, 0, 200);
  const t = Atomics.load(armedAt, 0);
  if (t !== 0n && Date.now() - Number(t) > workerData.limitMs) {
    const what = Buffer.from(text.slice(0, Atomics.load(lens, 0))).toString('utf8') +
      Buffer.from(blob.slice(0, Atomics.load(lens, 1))).toString('hex');
    writeSync(2, '\\n[diff watchdog] a case ran for more than ' + workerData.limitMs + ' ms: killing the test process.\\n' + what + '\\n');
    process.kill(process.pid, 'SIGKILL');
  }
}
`;

/** Kills the process when a case stays armed for longer than `limitMs`. */
export class Watchdog {
  private readonly sab = new SharedArrayBuffer(16 + TEXT_BYTES + BLOB_BYTES);
  private readonly armedAt = new BigInt64Array(this.sab, 0, 1);
  private readonly lens = new Int32Array(this.sab, 8, 2);
  private readonly text = new Uint8Array(this.sab, 16, TEXT_BYTES);
  private readonly blob = new Uint8Array(this.sab, 16 + TEXT_BYTES, BLOB_BYTES);
  private readonly worker: Worker;

  constructor(readonly limitMs: number) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { sab: this.sab, limitMs } });
    // Never keeps the process alive on its own.
    this.worker.unref();
  }

  /**
   * Starts the clock for a case, described by `text` followed by `blob` in hex (formatting is left to the
   * worker, so that arming costs a copy, not a string build, per case).
   */
  arm(text: string, blob: Uint8Array): void {
    const { written } = new TextEncoder().encodeInto(text, this.text);
    const b = blob.subarray(0, BLOB_BYTES);
    this.blob.set(b);
    Atomics.store(this.lens, 0, written);
    Atomics.store(this.lens, 1, b.length);
    Atomics.store(this.armedAt, 0, BigInt(Date.now()));
  }

  disarm(): void {
    Atomics.store(this.armedAt, 0, 0n);
  }

  /** Stops the worker. */
  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
