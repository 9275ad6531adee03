/**
 * `ebpf-wasm conformance`: the bpf_conformance suite run in this process on one engine, with a summary line
 * (`313 passed, 0 failed`). The vitest harness (test/conformance) is the authority; this command is for users
 * who want to see it on their machine without the test tooling.
 *
 * Not here: the plugin protocol (plugin.ts), parsing (src/conformance/data.ts).
 */

import { conformanceDir, loadTests, testProgram } from '../conformance/data.js';
import { CONFORMANCE_HELPERS } from '../conformance/helpers.js';
import { Runtime } from '../../runtime/runtime.js';
import type { EngineName } from '../../runtime/engines.js';
import { formatR0 } from './input.js';

/** Runs every test file on `engine`, prints failures (and passes when `verbose`) and a summary. Returns the exit code. */
export async function runSuite(engine: EngineName, dir = conformanceDir(), verbose = false): Promise<number> {
  const tests = loadTests(dir);
  const runtime = new Runtime();
  let passed = 0;
  let failed = 0;
  const started = performance.now();
  for (const test of tests) {
    let outcome: string;
    try {
      const loaded = await runtime.load(testProgram(test), { engine, helpers: CONFORMANCE_HELPERS });
      const { r0 } = loaded.run(test.mem);
      outcome = test.error !== undefined ? `expected error '${test.error}', got ${formatR0(r0)}` : r0 === test.result ? '' : `expected ${formatR0(test.result ?? 0n)}, got ${formatR0(r0)}`;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      outcome = test.error !== undefined && msg.split('\n')[0] === test.error ? '' : `error: ${msg}`;
    }
    if (outcome === '') {
      passed++;
      if (verbose) process.stdout.write(`PASS ${test.name}\n`);
    } else {
      failed++;
      process.stdout.write(`FAIL ${test.name}: ${outcome}\n`);
    }
  }
  const ms = (performance.now() - started).toFixed(0);
  process.stdout.write(`${engine}: ${passed} passed, ${failed} failed (${tests.length} files, ${ms} ms)\n`);
  return failed === 0 ? 0 : 1;
}
