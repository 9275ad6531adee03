#!/usr/bin/env node
/**
 * `npm run fuzz -- --runs N [--seed S]`: the differential fuzzer (interpreter vs every other engine).
 *
 * It runs the property of test/diff/diff.test.ts with more programs, through vitest, so the generator, the
 * harness and the reporting are the very code `npm test` runs (and no build step is needed: vitest compiles
 * the TypeScript). A failure prints the shrunk program disassembled, its input, every engine's outcome and a
 * ready-to-paste regression case; the seed is printed so a run can be replayed with --seed.
 *
 * Plain JavaScript on purpose: it only parses arguments and starts vitest, and tsc's `include` (src codegen
 * runtime bench) stays as it is.
 */

import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function usage(message) {
  if (message) console.error(`fuzz: ${message}`);
  console.error('usage: npm run fuzz -- [--runs N] [--seed S] [--straight-runs N] [--strategy-runs N] [--engines interp,jit[,jit:relooper,jit:dispatch]]');
  process.exit(2);
}

const env = { ...process.env, DIFF_RUNS: '100000', DIFF_STRAIGHT_RUNS: '10000', DIFF_STRATEGY_RUNS: '10000' };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const [flag, inline] = args[i].split('=', 2);
  const value = inline ?? args[++i];
  const name = {
    '--runs': 'DIFF_RUNS',
    '--seed': 'DIFF_SEED',
    '--straight-runs': 'DIFF_STRAIGHT_RUNS',
    '--strategy-runs': 'DIFF_STRATEGY_RUNS',
    '--engines': 'DIFF_ENGINES',
  }[flag];
  if (!name) usage(flag === '--help' || flag === '-h' ? undefined : `unknown option ${flag}`);
  if (name === 'DIFF_ENGINES' ? !/^[a-z:]+(,[a-z:]+)*$/.test(value ?? '') : value === undefined || !/^\d+$/.test(value)) {
    usage(`${flag} needs ${name === 'DIFF_ENGINES' ? 'a comma-separated list of engines' : 'a non-negative integer'}`);
  }
  env[name] = value;
}

const vitest = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');
const result = spawnSync(process.execPath, [vitest, 'run', 'test/diff/diff.test.ts'], { cwd: root, env, stdio: 'inherit' });
process.exit(result.status ?? 1);
