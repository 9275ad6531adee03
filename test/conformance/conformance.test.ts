// THE conformance suite: every bpf_conformance `.data` file on every engine (ALL_ENGINES: those of ENGINES, and
// the stepper of src/debug, too slow for the other suites but not for this one), from one list, named
// `<engine> <file>`. Per test: parse, assemble (or take `-- raw`), check the bytes against vectors.json, load on
// a Runtime with the conformance helpers, run with the `-- mem` bytes, compare r0 (or the error text).
// When the suite is missing this file FAILS with the message saying where to get it; it never skips.

import { describe, expect, test } from 'vitest';
import { ALL_ENGINES, type EngineName } from '../../runtime/engines.js';
import { Runtime } from '../../runtime/runtime.js';
import { loadSuite, testProgram, type DataTest, type Suite } from '../../src/conformance/data.js';
import { CONFORMANCE_HELPERS } from '../../src/conformance/helpers.js';
import { encode, toHex } from '../../src/isa/encode.js';

/** Generous enough for every test of the suite (the longest loop runs a few hundred times), and a hang guard. */
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

/** One runtime per engine, shared by that engine's tests. */
const runtimes = new Map<EngineName, Runtime>();
function runtimeFor(engine: EngineName): Runtime {
  let rt = runtimes.get(engine);
  if (!rt) runtimes.set(engine, (rt = new Runtime()));
  return rt;
}

/**
 * Each engine runs the suite twice: as loaded (every access checked at run time) and with the verifier in the
 * path (`verify: 'permissive'`: what it proves, the JIT no longer checks).
 */
const PIPELINES = [
  { label: '', verify: undefined },
  { label: '+verify', verify: 'permissive' },
] as const;

async function runTest(engine: EngineName, t: DataTest, s: Suite, verify?: 'permissive'): Promise<bigint> {
  const program = testProgram(t);
  const vector = s.vectors.get(t.name);
  expect(vector, `vectors.json has no entry for ${t.name}`).toBeDefined();
  expect(toHex(encode(program)), 'assembled bytes differ from vectors.json').toBe(toHex(vector!.program));
  const loaded = await runtimeFor(engine).load(program, { engine, helpers: CONFORMANCE_HELPERS, verify });
  return loaded.run(t.mem, { budget: BUDGET }).r0;
}

if (suite !== undefined) {
  const s = suite;
  describe('bpf_conformance', () => {
    test('there is an engine to run', () => {
      expect(ALL_ENGINES.length).toBeGreaterThan(0);
    });
    for (const engine of ALL_ENGINES) {
      for (const { label, verify } of PIPELINES) {
        for (const t of s.tests) {
          test(`${engine}${label} ${t.name}.data`, async () => {
            if (t.error === undefined) {
              const r0 = await runTest(engine, t, s, verify);
              expect(hex64(r0)).toBe(hex64(t.result!));
              return;
            }
            // An `-- error` test passes when the run fails and the first line of the message is the text.
            let failure: unknown;
            let r0: bigint | undefined;
            try {
              r0 = await runTest(engine, t, s, verify);
            } catch (e) {
              failure = e;
            }
            expect(failure, `expected the error '${t.error}', got r0 = ${r0 === undefined ? '?' : hex64(r0)}`).toBeDefined();
            expect(String(failure instanceof Error ? failure.message : failure).split('\n')[0]).toBe(t.error);
          });
        }
      }
    }
  });
}
