// The assembler against the bpf_conformance corpus: every `-- asm` section must assemble to exactly the bytes
// the suite's own assembler produced (vectors.json), the `-- raw` sections must agree, and every vector
// program must survive disassemble → assemble unchanged. Fails (never skips) when the suite is missing.

import { describe, expect, test } from 'vitest';
import { assemble } from '../../src/isa/asm.js';
import { decode } from '../../src/isa/decode.js';
import { disassemble } from '../../src/isa/disasm.js';
import { encode, toHex } from '../../src/isa/encode.js';
import { loadSuite, type Suite } from '../../src/conformance/data.js';

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
  expect(suite!.vectors.size).toBe(suite!.tests.length);
});

// Registered only when the suite loaded; the test above fails otherwise.
if (suite !== undefined) describe('vectors.json', () => {
  const { tests, vectors } = suite!;

  test.each(tests.map((t) => [t.name, t] as const))('asm of %s gives the suite bytes', (name, t) => {
    const vector = vectors.get(name);
    expect(vector, `no vector for ${name}`).toBeDefined();
    expect(t.asm, `${name} has no -- asm`).toBeDefined();
    expect(toHex(encode(assemble(t.asm!)))).toBe(toHex(vector!.program));
  });

  test('every -- raw section agrees with its -- asm and its vector', () => {
    const withRaw = tests.filter((t) => t.raw !== undefined);
    expect(withRaw.length).toBeGreaterThan(0);
    for (const t of withRaw) {
      expect(toHex(t.raw!), t.name).toBe(toHex(vectors.get(t.name)!.program));
      expect(toHex(encode(assemble(t.asm!))), t.name).toBe(toHex(t.raw!));
    }
  });

  test('every -- mem and -- result agrees with its vector', () => {
    for (const t of tests) {
      const v = vectors.get(t.name)!;
      expect(toHex(t.mem), t.name).toBe(toHex(v.memory));
      expect(t.result, t.name).toBe(v.result);
    }
  });

  test('every vector program survives disassemble → assemble', () => {
    for (const v of vectors.values()) {
      const text = disassemble(decode(v.program));
      expect(toHex(encode(assemble(text))), `${v.name}:\n${text}`).toBe(toHex(v.program));
    }
  });
});
