// `.wat` goldens: the text of what the JIT emits for a handful of representative programs, so that a change in
// the generated code shows up in review. `UPDATE_GOLDENS=1 npx vitest run test/codegen/golden.test.ts`
// rewrites them; a missing golden fails. One golden holds a whole module; the others only the eBPF functions.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { emitWat, type TranslateOptions } from '../../codegen/compile.js';
import { assemble } from '../../src/isa/asm.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), 'golden');
const UPDATE = process.env.UPDATE_GOLDENS === '1';

/** The eBPF functions of a module's text: from the first `$f<pc>` to the entries (`$bind`, then the others). */
function functionsOf(wat: string): string {
  const start = wat.search(/^ \(func \$f\d+ /m);
  const end = wat.search(/^ \(func \$bind /m);
  expect(start).toBeGreaterThanOrEqual(0);
  expect(end).toBeGreaterThan(start);
  return wat.slice(start, end);
}

const GOLDENS: readonly { name: string; asm: string; options?: TranslateOptions; whole?: boolean }[] = [
  {
    // The whole module: imports, globals, the entries (`bind`, `run`, the packet path); checked loads and stores.
    name: 'module',
    whole: true,
    asm: `
      ldxw r0, [r1+4]
      stxb [r1+0], r0
      exit`,
  },
  {
    name: 'alu',
    asm: `
      mov r0, r1
      add r0, 5
      div r0, r2
      sdiv32 r0, -1
      mod r0, r2
      arsh32 r0, 3
      be32 r0
      bswap64 r0
      movsx1664 r0, r0
      neg32 r0
      exit`,
  },
  {
    // A counted loop over the stack through r10: no checks, a Wasm loop, no label variable.
    name: 'stack-loop',
    asm: `
      mov r0, 0
      mov r2, 64
    loop:
      stxdw [r10-8], r2
      ldxdw r3, [r10-8]
      add r0, r3
      sub r2, 1
      jne r2, 0, loop
      exit`,
  },
  {
    name: 'stack-loop-budget',
    options: { budget: true },
    asm: `
      mov r0, 0
      mov r2, 64
    loop:
      add r0, r2
      sub r2, 1
      jne r2, 0, loop
      exit`,
  },
  {
    // if / else and a merge point, and a conditional exit.
    name: 'diamond',
    asm: `
      jeq r1, 0, fail
      jsgt r2, 10, big
      mov r0, 1
      ja done
    big:
      mov r0, 2
    done:
      add r0, r2
      exit
    fail:
      mov r0, -1
      exit`,
  },
  {
    name: 'calls',
    asm: `
      mov r6, r1
      call 5
      call local f
      add r0, r6
      exit
    f:
      mov r0, r1
      callx r2
      exit`,
  },
  {
    name: 'atomics-and-packet',
    asm: `
      mov r3, 1
      lock fetch add [r10-8], r3
      lock cmpxchg32 [r1+0], r3
      ldabsh 12
      ldindw r3, 2
      exit`,
  },
  {
    // An irreducible loop: Binaryen's Relooper and its label variable.
    name: 'irreducible',
    asm: `
      mov r0, 0
      jeq r2, 0, b
    a:
      add r0, 1
      jeq r0, 9, out
    b:
      add r0, 2
      jlt r0, 20, a
    out:
      exit`,
  },
  {
    // An access group: neighbouring fields through one register, one check of their whole range picking the
    // unchecked copy of the segment (lower-mem.ts, planGroups).
    name: 'access-group',
    asm: `
      ldxh r0, [r1+12]
      ldxb r2, [r1+23]
      add r0, r2
      stxw [r1+26], r0
      exit`,
  },
];

for (const g of GOLDENS) {
  test(`golden ${g.name}.wat`, async () => {
    const wat = await emitWat(assemble(g.asm), g.options);
    const text = g.whole ? wat : functionsOf(wat);
    const file = join(DIR, `${g.name}.wat`);
    if (UPDATE) {
      writeFileSync(file, text);
      return;
    }
    expect(existsSync(file), `${file} is missing: run with UPDATE_GOLDENS=1 to create it`).toBe(true);
    expect(text).toBe(readFileSync(file, 'utf8'));
  });
}
