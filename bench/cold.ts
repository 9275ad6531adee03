/**
 * One cold-compile measurement, in a fresh process (run by compile.ts, `coldCompile`):
 *
 *     node dist/bench/cold.js INSNS SEED
 *
 * Builds two synthetic programs of INSNS instructions (untimed), loads Binaryen (timed apart), then times the
 * first and the second compile of the process, and prints them as JSON (`ColdRun`).
 *
 * Not here: the method (compile.ts).
 */

import { compileOnce, loadTranslator, programBytes, type ColdRun } from './compile.js';

async function main(argv: readonly string[]): Promise<void> {
  const insns = Number(argv[0]);
  const seed = Number(argv[1] ?? 1);
  if (!(Number.isInteger(insns) && insns > 0)) throw new Error('usage: cold.js INSNS [SEED]');
  const a = programBytes(insns, seed);
  const b = programBytes(insns, seed + 7919);
  const loadMs = await loadTranslator();
  const run: ColdRun = { loadMs, first: compileOnce(a), second: compileOnce(b) };
  process.stdout.write(JSON.stringify(run) + '\n');
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`cold: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
