// The bpf_conformance suite on the stepper (engine `step`, src/debug/stepper.ts), exactly as
// test/conformance/conformance.test.ts runs it on the engines of ENGINES: every `.data` file, as loaded and with
// the verifier in the path, r0 compared (or the error text). The stepper is not in ENGINES (too slow for every
// suite), so it gets this file. When the suite is missing this file FAILS, it never skips.

import { describe, expect, test } from 'vitest';
import { Runtime } from '../../runtime/runtime.js';
import { loadSuite, testProgram, type DataTest, type Suite } from '../../src/conformance/data.js';
import { CONFORMANCE_HELPERS } from '../../src/conformance/helpers.js';
import { encode, toHex } from '../../src/isa/encode.js';

/** As test/conformance: generous enough for every test of the suite, and a hang guard. */
const BUDGET = 1_000_000;

let suite: Suite | undefined;
let loadError: unknown;
try {
  suite = loadSuite();
} catch (e) {
  loadError = e;
}

test('the conformance suite is present', () => {
  if (loadError !== undefined) throw loadError;
  expect(suite!.tests.length).toBeGreaterThan(0);
});

const hex64 = (v: bigint): string => '0x' + v.toString(16);
const runtime = new Runtime();

const PIPELINES = [
  { label: '', verify: undefined },
  { label: '+verify', verify: 'permissive' },
] as const;

async function runTest(t: DataTest, s: Suite, verify?: 'permissive'): Promise<bigint> {
  const program = testProgram(t);
  const vector = s.vectors.get(t.name);
  expect(vector, `vectors.json has no entry for ${t.name}`).toBeDefined();
  expect(toHex(encode(program)), 'assembled bytes differ from vectors.json').toBe(toHex(vector!.program));
  const loaded = await runtime.load(program, { engine: 'step', helpers: CONFORMANCE_HELPERS, verify });
  expect(loaded.engine).toBe('step');
  return loaded.run(t.mem, { budget: BUDGET }).r0;
}

if (suite !== undefined) {
  const s = suite;
  describe('bpf_conformance on the stepper', () => {
    for (const { label, verify } of PIPELINES) {
      for (const t of s.tests) {
        test(`step${label} ${t.name}.data`, async () => {
          if (t.error === undefined) {
            const r0 = await runTest(t, s, verify);
            expect(hex64(r0)).toBe(hex64(t.result!));
            return;
          }
          let failure: unknown;
          let r0: bigint | undefined;
          try {
            r0 = await runTest(t, s, verify);
          } catch (e) {
            failure = e;
          }
          expect(failure, `expected the error '${t.error}', got r0 = ${r0 === undefined ? '?' : hex64(r0)}`).toBeDefined();
          expect(String(failure instanceof Error ? failure.message : failure).split('\n')[0]).toBe(t.error);
        });
      }
    }
  });
}
