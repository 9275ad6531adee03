/**
 * The native column of the benchmarks: compiles each program's C twin (bench/native/NAME.c, with the shared
 * timing main in bench/native/harness.c) with `cc -O2` (or `$CC`) and runs it on the same input bytes.
 *
 * When no C compiler is found, {@link nativeToolchain} says so and the report leaves the column out.
 *
 * Not here: the JavaScript-side timing (harness.ts).
 */

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchDir } from './programs.js';

/** A usable C compiler, or why there is none. */
export type Toolchain = { readonly ok: true; readonly cc: string; readonly version: string } | { readonly ok: false; readonly reason: string };

/** Finds the C compiler: `$CC`, else `cc`. */
export function nativeToolchain(): Toolchain {
  const cc = process.env.CC ?? 'cc';
  const probe = spawnSync(cc, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return { ok: false, reason: `no C compiler (${cc}: ${probe.error?.message ?? `exit ${probe.status}`})` };
  return { ok: true, cc, version: probe.stdout.split('\n')[0].trim() };
}

/** What the native twin measured. */
export interface NativeTiming {
  readonly nsPerRun: number;
  readonly runs: number;
  readonly result: bigint;
}

let workDir: string | undefined;

/** Compiles and runs the C twin of benchmark `name` on `input`. */
export function runNative(toolchain: Toolchain & { ok: true }, name: string, input: Uint8Array): NativeTiming {
  workDir ??= mkdtempSync(join(tmpdir(), 'ebpf-wasm-bench-'));
  mkdirSync(workDir, { recursive: true });
  const dir = join(benchDir(), 'native');
  const exe = join(workDir, name);
  const build = spawnSync(toolchain.cc, ['-O2', '-o', exe, join(dir, 'harness.c'), join(dir, `${name}.c`)], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`cc failed for ${name}.c:\n${build.stderr}`);
  const inputFile = join(workDir, `${name}.input`);
  writeFileSync(inputFile, input);
  const out = spawnSync(exe, [inputFile], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`${name} (native) failed: ${out.stderr}`);
  const [result, ns, runs] = out.stdout.trim().split(/\s+/);
  return { result: BigInt(result), nsPerRun: Number(ns), runs: Number(runs) };
}
