/**
 * `ebpf-wasm run FILE`: one run of a program on one engine, traced on the stepper (`--trace`), or on several
 * engines compared (`--engine interp,jit`, `--compare`).
 *
 * A raw program (assembly, bytecode, hex, a `.data` file) runs as the conformance suite runs it: r1 = a copy of
 * the memory (`--mem`, else the `.data` file's), r2 = its length, the conformance helpers. A program of an ELF
 * object runs on `--packet` with its type's context, loaded by `loadObject` (maps created, verified as
 * `--verify` says), through `BpfProgram.run`. Each engine of a comparison gets a runtime of its own, so maps start
 * fresh on each.
 *
 * `--trace` runs on the stepper (src/debug/stepper.ts): its executable reports every instruction, which
 * src/debug/trace.ts prints one line each, up to `--trace-limit` lines (the run then goes on untraced).
 *
 * Not here: the option definitions (main.ts), reading program files (input.ts).
 */

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ALL_ENGINES, type EngineName } from '../../runtime/engines.js';
import { loadObject } from '../../runtime/object.js';
import { Runtime } from '../../runtime/runtime.js';
import { CONFORMANCE_HELPERS, UNWIND_HELPER_ID } from '../conformance/helpers.js';
import { StepperExecutable, type StepEvent } from '../debug/stepper.js';
import { formatEvent } from '../debug/trace.js';
import { ExecutionError, InvalidProgramError } from '../errors.js';
import type { Executable } from '../exec.js';
import { toHex } from '../isa/encode.js';
import { formatR0, parseMemOption, type ProgramInput } from './input.js';

/** The options of `run` this file reads. */
export interface RunOptions {
  readonly mem?: string;
  readonly packet?: string;
  readonly verify: 'strict' | 'permissive' | 'off';
  readonly budget?: number;
  readonly json?: boolean;
}

/** What one run left: r0, and the memory it could write (a raw program's input, an object's maps). */
export interface RunResult {
  readonly r0: bigint;
  /** Raw programs: the input memory after the run. */
  readonly mem?: Uint8Array;
  /** ELF objects: every map's entries as hex pairs, by map name. */
  readonly maps?: Record<string, [string, string][]>;
}

/** Parses `--engine a,b` (engine names, comma-separated) against every engine, the stepper included. */
export function parseEngineList(list: string): EngineName[] {
  const names = list.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const n of names) {
    if (!(ALL_ENGINES as readonly string[]).includes(n)) {
      throw new InvalidProgramError('data_format', `unknown engine '${n}' (known: ${ALL_ENGINES.join(', ')})`);
    }
  }
  if (names.length === 0) throw new InvalidProgramError('data_format', '--engine needs at least one engine');
  if (new Set(names).size !== names.length) throw new InvalidProgramError('data_format', `--engine names an engine twice: ${list}`);
  return names as EngineName[];
}

/** A map's entries as hex pairs (per-CPU values: every CPU's bytes, concatenated). */
function mapEntries(map: { entries(): Iterable<readonly [unknown, unknown]> }): [string, string][] {
  const hex = (v: unknown): string => (v instanceof Uint8Array ? toHex(v) : Array.isArray(v) ? v.map(hex).join('') : String(v));
  return [...map.entries()].map(([k, v]) => [hex(k), hex(v)]);
}

/**
 * Runs `input` (read from `file`) once on `engine`. `prepare` sees the executable the engine made before the
 * run (the tracer attaches itself there).
 *
 * @throws ExecutionError when the program faults; InvalidProgramError / VerifierError when it does not load.
 */
export async function runOnce(file: string, input: ProgramInput, engine: EngineName, opts: RunOptions, prepare?: (exe: Executable) => void): Promise<RunResult> {
  if (input.elf) {
    const name = input.elf.program.name;
    const obj = await loadObject(readFileSync(file), { engine, verify: opts.verify, budget: opts.budget, programs: [name] });
    const program = obj.program(name);
    prepare?.(program.loaded.executable);
    const packet = parseMemOption(opts.packet ?? opts.mem) ?? new Uint8Array(0);
    const r0 = BigInt(program.run(packet));
    const maps: Record<string, [string, string][]> = {};
    for (const [mapName, map] of obj.maps) {
      // Raw bytes whatever the map's default codecs (array maps default to u32 keys).
      const raw = map as unknown as { typed?: (k: 'bytes', v: 'bytes') => { entries(): Iterable<readonly [unknown, unknown]> } };
      maps[mapName] = typeof raw.typed === 'function' && 'entries' in map ? mapEntries(raw.typed('bytes', 'bytes')) : [];
    }
    return { r0, maps };
  }
  const mem = parseMemOption(opts.mem) ?? input.mem ?? new Uint8Array(0);
  const loaded = await new Runtime().load(input.program, { engine, helpers: CONFORMANCE_HELPERS });
  prepare?.(loaded.executable);
  const { r0, mem: after } = loaded.run(mem, { budget: opts.budget });
  return { r0, mem: after };
}

/** The result line(s) `run` prints: r0, or with `--json` r0 and the memory (or the maps). */
export function formatResult(result: RunResult, json: boolean): string {
  if (!json) return formatR0(result.r0) + '\n';
  if (result.maps !== undefined) return JSON.stringify({ result: formatR0(result.r0), maps: result.maps }) + '\n';
  return JSON.stringify({ result: formatR0(result.r0), mem: toHex(result.mem ?? new Uint8Array(0)) }) + '\n';
}

/**
 * `run --trace`: runs on the stepper and writes one line per executed instruction (see src/debug/trace.ts),
 * at most `limit` of them, then the result. A fault is the trace's last line, and is thrown on for the caller
 * to report (exit code 1).
 */
export async function traceRun(file: string, input: ProgramInput, opts: RunOptions, limit: number, write: (s: string) => void): Promise<void> {
  const pcWidth = Math.max(4, String(input.program.slotCount - 1).length);
  let lines = 0;
  let stopped = false;
  const trace = (event: StepEvent): void => {
    if (lines < limit) {
      lines++;
      write(formatEvent(event, { pcWidth }) + '\n');
    } else if (!stopped && event.kind !== 'fault') {
      stopped = true;
      write(`... trace stopped after ${limit} instructions (--trace-limit ${limit}); the run goes on untraced\n`);
    } else if (event.kind === 'fault') {
      // The fault is always shown, however long the trace.
      write(formatEvent(event, { pcWidth }) + '\n');
    }
  };
  const result = await runOnce(file, input, 'step', opts, (exe) => {
    if (!(exe instanceof StepperExecutable)) throw new InvalidProgramError('data_format', 'the stepper did not prepare this program');
    exe.trace = trace;
    // The conformance helpers have their own numbering: helper 5 is `unwind` there, not bpf_ktime_get_ns.
    if (!input.elf) exe.helperNames = new Map([[UNWIND_HELPER_ID, 'unwind']]);
  });
  write(formatResult(result, opts.json ?? false));
}

/** One engine's outcome in a comparison. */
type Outcome =
  | { readonly kind: 'ok'; readonly r0: bigint; readonly digest: string; readonly what: string }
  | { readonly kind: 'fault'; readonly code: string; readonly pc: number | undefined; readonly message: string }
  | { readonly kind: 'rejected'; readonly message: string };

/** A short digest of the memory a run could write: sha256, first 16 hex digits. */
function digest(result: RunResult): { digest: string; what: string } {
  const h = createHash('sha256');
  if (result.maps !== undefined) {
    for (const [name, entries] of Object.entries(result.maps)) {
      h.update(name + '\0');
      for (const [k, v] of entries) h.update(`${k}=${v};`);
    }
    const n = Object.keys(result.maps).length;
    return { digest: h.digest('hex').slice(0, 16), what: `${n} map${n === 1 ? '' : 's'}` };
  }
  const mem = result.mem ?? new Uint8Array(0);
  h.update(mem);
  return { digest: h.digest('hex').slice(0, 16), what: `${mem.length} bytes of input` };
}

async function outcomeOn(file: string, input: ProgramInput, engine: EngineName, opts: RunOptions): Promise<Outcome> {
  try {
    const result = await runOnce(file, input, engine, opts);
    return { kind: 'ok', r0: result.r0, ...digest(result) };
  } catch (e) {
    if (e instanceof ExecutionError) return { kind: 'fault', code: e.code, pc: e.pc, message: e.message };
    if (e instanceof InvalidProgramError) return { kind: 'rejected', message: e.message.split('\n')[0] };
    throw e;
  }
}

function describeOutcome(o: Outcome): string {
  switch (o.kind) {
    case 'ok': return `r0 = ${formatR0(o.r0)}  memory sha256:${o.digest} (${o.what})`;
    case 'fault': return `fault ${o.code} at pc ${o.pc ?? '?'}  (${o.message})`;
    case 'rejected': return `rejected: ${o.message}`;
  }
}

/** The fields in which engine `bn`'s outcome `b` differs from engine `an`'s `a`: `r0: interp 0x1, jit 0x2`. */
function differences(an: string, a: Outcome, bn: string, b: Outcome): string[] {
  const pair = (field: string, x: string, y: string): string => `${field}: ${an} ${x}, ${bn} ${y}`;
  if (a.kind !== b.kind) return [pair('outcome', describeOutcome(a), describeOutcome(b))];
  const out: string[] = [];
  if (a.kind === 'ok' && b.kind === 'ok') {
    if (a.r0 !== b.r0) out.push(pair('r0', formatR0(a.r0), formatR0(b.r0)));
    if (a.digest !== b.digest) out.push(pair('memory', `sha256:${a.digest}`, `sha256:${b.digest}`));
  } else if (a.kind === 'fault' && b.kind === 'fault') {
    if (a.code !== b.code) out.push(pair('fault', a.code, b.code));
    if (a.pc !== b.pc) out.push(pair('fault pc', String(a.pc), String(b.pc)));
  } else if (a.kind === 'rejected' && b.kind === 'rejected' && a.message !== b.message) {
    out.push(pair('rejection', a.message, b.message));
  }
  return out;
}

/**
 * `run --engine a,b` / `--compare`: runs on each engine (each in a runtime of its own) and prints each r0 and
 * memory digest (or fault), then `engines agree` or `engines DISAGREE` with the differing fields against the
 * first engine. Returns the exit code: 1 on disagreement.
 */
export async function compareRun(file: string, input: ProgramInput, engines: readonly EngineName[], opts: RunOptions, write: (s: string) => void): Promise<number> {
  const outcomes: [EngineName, Outcome][] = [];
  for (const engine of engines) outcomes.push([engine, await outcomeOn(file, input, engine, opts)]);
  const [refName, ref] = outcomes[0];
  const problems: string[] = [];
  for (const [name, o] of outcomes.slice(1)) {
    problems.push(...differences(refName, ref, name, o));
  }
  if (opts.json) {
    const engineJson = Object.fromEntries(outcomes.map(([name, o]) => [name,
      o.kind === 'ok' ? { result: formatR0(o.r0), memory: o.digest } : o.kind === 'fault' ? { fault: o.code, pc: o.pc, message: o.message } : { rejected: o.message }]));
    write(JSON.stringify({ engines: engineJson, agree: problems.length === 0, differences: problems }) + '\n');
  } else {
    const width = Math.max(...engines.map((e) => e.length));
    for (const [name, o] of outcomes) write(`${name.padEnd(width)}  ${describeOutcome(o)}\n`);
    if (problems.length === 0) write('engines agree\n');
    else write(`engines DISAGREE:\n${problems.map((p) => `  ${p}\n`).join('')}`);
  }
  return problems.length === 0 ? 0 : 1;
}
