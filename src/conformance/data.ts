/**
 * The bpf_conformance test corpus: the `.data` file parser, the suite locator and loaders for the test files
 * and `vectors.json` (the bytes the suite's own assembler produced for each test).
 *
 * A `.data` file is a list of sections, each opened by a line `-- NAME`:
 *
 *     -- asm      the program in assembly (asm.ts syntax)       -- result   expected r0 (hex with 0x, or decimal)
 *     -- raw      the program as 64-bit words, one slot each     -- mem      initial memory, hex bytes
 *     -- error    expected error text (first line)               -- c, -- no register offset   notes, ignored
 *
 * `#` starts a comment outside `-- asm` (the assembler strips its own) and outside `-- error`. A `-- raw`
 * program takes precedence over `-- asm`, as in the suite's runner.
 *
 * Not here: running the tests (test/conformance, the CLI's conformance plugin) or the helpers they need
 * (helpers.ts).
 */

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BpfError, InvalidProgramError } from '../errors.js';
import { assemble } from '../isa/asm.js';
import { decode, parseHex } from '../isa/decode.js';
import type { Program } from '../isa/program.js';

/** One test file. */
export interface DataTest {
  /** File name without `.data` (the key of `vectors.json`). */
  readonly name: string;
  /** File name or path, for messages. */
  readonly file: string;
  /** The `-- asm` section's text (lines as in the file, comments included). */
  readonly asm?: string;
  /** 1-based file line of the first line of {@link asm}. */
  readonly asmLine?: number;
  /** The `-- raw` section as bytes (each 64-bit word little-endian, as a slot is laid out in memory). */
  readonly raw?: Uint8Array;
  /** Initial memory; empty when there is no `-- mem` section (the program then gets r1 = 0). */
  readonly mem: Uint8Array;
  /** Expected r0 as u64. */
  readonly result?: bigint;
  /** Expected error text. */
  readonly error?: string;
}

/** One entry of `vectors.json`. */
export interface Vector {
  readonly name: string;
  readonly program: Uint8Array;
  readonly memory: Uint8Array;
  readonly result: bigint;
  readonly error: string | null;
}

/** The suite as loaded from disk. */
export interface Suite {
  /** The directory holding `tests/` and `vectors.json`. */
  readonly dir: string;
  /** Every `tests/*.data` file, sorted by name. */
  readonly tests: readonly DataTest[];
  /** `vectors.json` by test name. */
  readonly vectors: ReadonlyMap<string, Vector>;
}

/** Where the suite comes from, for the message when it is missing. */
export const SUITE_SOURCE =
  "the tests/ directory of the bpf_conformance suite (https://github.com/Alan-Jowett/bpf_conformance, commit f558566)";

/** The environment variable that overrides {@link conformanceDir}. */
export const CONFORMANCE_DIR_ENV = 'EBPF_CONFORMANCE_DIR';

/** The conformance suite could not be found or read. An environment problem, not a bad program. */
export class SuiteMissingError extends BpfError {
  override readonly name = 'SuiteMissingError';
  readonly code = 'suite_missing';

  constructor(detail: string) {
    super(detail, undefined);
  }
}

const SECTIONS = ['asm', 'result', 'mem', 'raw', 'error', 'c', 'no register offset'] as const;
type SectionName = (typeof SECTIONS)[number];

function formatError(file: string, line: number, detail: string): InvalidProgramError {
  return new InvalidProgramError('data_format', `${file}: ${detail}`, undefined, { line });
}

/** Integer literal (`0x` hex or decimal, optionally negative) → u64, or undefined. */
function parseU64(text: string): bigint | undefined {
  const m = /^(-?)(0x[0-9a-f]+|\d+)$/i.exec(text);
  if (!m) return undefined;
  const v = BigInt(m[2]);
  if (v >= 1n << 64n) return undefined;
  return BigInt.asUintN(64, m[1] === '-' ? -v : v);
}

/**
 * Parses one `.data` file.
 *
 * @param file name or path used in messages; the test's `name` is its base name without `.data`.
 * @throws InvalidProgramError `data_format` naming the file and (in `line`) the line.
 */
export function parseDataFile(text: string, file = 'test.data'): DataTest {
  const name = file.replace(/^.*[\\/]/, '').replace(/\.data$/, '');
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const seen = new Set<SectionName>();
  const body = new Map<SectionName, { line: number; text: string }[]>();
  const start = new Map<SectionName, number>();
  let current: SectionName | undefined;

  lines.forEach((content, i) => {
    const line = i + 1;
    const header = /^--\s*(.*?)\s*$/.exec(content);
    if (header) {
      const section = SECTIONS.find((s) => s === header[1]);
      if (!section) throw formatError(file, line, `unknown section '-- ${header[1]}'`);
      if (seen.has(section)) throw formatError(file, line, `duplicate section '-- ${section}'`);
      seen.add(section);
      body.set(section, []);
      start.set(section, line + 1);
      current = section;
      return;
    }
    if (current === undefined) {
      // Before the first section only comments (licence headers) and blank lines may appear.
      if (content.trim() !== '' && !content.trimStart().startsWith('#')) {
        throw formatError(file, line, 'text before the first section (expected a line "-- asm", "-- result", ...)');
      }
      return;
    }
    body.get(current)!.push({ line, text: content });
  });

  /** The section's non-empty lines with `#` comments removed. */
  const values = (s: SectionName): { line: number; text: string }[] =>
    (body.get(s) ?? []).map((l) => ({ line: l.line, text: l.text.replace(/#.*$/, '').trim() })).filter((l) => l.text !== '');

  let asm: string | undefined;
  let asmLine: number | undefined;
  if (body.has('asm')) {
    asm = body.get('asm')!.map((l) => l.text).join('\n');
    asmLine = start.get('asm');
  }

  let raw: Uint8Array | undefined;
  if (body.has('raw')) {
    const words: bigint[] = [];
    for (const l of values('raw')) {
      for (const tok of l.text.split(/\s+/)) {
        const w = parseU64(tok);
        if (w === undefined) throw formatError(file, l.line, `bad 64-bit word '${tok}' in -- raw`);
        words.push(w);
      }
    }
    raw = new Uint8Array(words.length * 8);
    const view = new DataView(raw.buffer);
    words.forEach((w, i) => view.setBigUint64(i * 8, w, true));
  }

  const bytes: number[] = [];
  for (const l of values('mem')) {
    for (const tok of l.text.split(/\s+/)) {
      if (!/^(0x)?[0-9a-f]{1,2}$/i.test(tok)) throw formatError(file, l.line, `bad byte '${tok}' in -- mem (expected two hex digits)`);
      bytes.push(parseInt(tok.replace(/^0x/i, ''), 16));
    }
  }

  let result: bigint | undefined;
  if (body.has('result')) {
    const v = values('result');
    if (v.length !== 1) throw formatError(file, start.get('result')!, `-- result must hold exactly one value, found ${v.length}`);
    result = parseU64(v[0].text);
    if (result === undefined) throw formatError(file, v[0].line, `bad result '${v[0].text}' (expected 0x hex or decimal, 64 bits)`);
  }

  let error: string | undefined;
  if (body.has('error')) {
    // The error text is compared verbatim: no comment stripping.
    const v = body.get('error')!.filter((l) => l.text.trim() !== '');
    if (v.length !== 1) throw formatError(file, start.get('error')!, `-- error must hold exactly one line, found ${v.length}`);
    error = v[0].text.trim();
  }

  if (asm === undefined && raw === undefined) throw formatError(file, lines.length, 'no program: expected a -- asm or -- raw section');
  if (result === undefined && error === undefined) throw formatError(file, lines.length, 'no expectation: expected a -- result or -- error section');
  return { name, file, asm, asmLine, raw, mem: Uint8Array.from(bytes), result, error };
}

/**
 * The program of a test: its `-- raw` bytes decoded, else its `-- asm` assembled. Assembly errors are re-thrown
 * with the same code, the file name in the message and `line` counted in the file.
 */
export function testProgram(test: DataTest): Program {
  if (test.raw !== undefined) return decode(test.raw);
  try {
    return assemble(test.asm ?? '');
  } catch (e) {
    if (e instanceof InvalidProgramError && e.line !== undefined && test.asmLine !== undefined) {
      const line = test.asmLine + e.line - 1;
      const detail = e.detail.replace(/^line \d+: /, '');
      throw new InvalidProgramError(e.code, `${test.file}: ${detail}`, undefined, { line, cause: e });
    }
    throw e;
  }
}

/** The repository root: the nearest directory above this module holding a `package.json`. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return dirname(fileURLToPath(import.meta.url));
    dir = up;
  }
}

/**
 * The directory holding the suite (`tests/*.data` and `vectors.json`): `$EBPF_CONFORMANCE_DIR` when set, else
 * `shared/conformance` next to the repository (`<repo>/../shared/conformance`) when it exists, else the copy
 * committed in the repository (`vendor/bpf_conformance`, the same files: a clone anywhere runs the suite). The
 * directory may not exist; the loaders say so.
 */
export function conformanceDir(): string {
  const fromEnv = process.env[CONFORMANCE_DIR_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv);
  const shared = resolve(repoRoot(), '..', 'shared', 'conformance');
  return existsSync(join(shared, 'tests')) ? shared : vendoredConformanceDir();
}

/** The copy of the suite committed in the repository. */
export function vendoredConformanceDir(): string {
  return resolve(repoRoot(), 'vendor', 'bpf_conformance');
}

function missing(what: string, where: string, dir: string): SuiteMissingError {
  return new SuiteMissingError(
    `conformance suite not found: no ${what} at ${where}. Get ${SUITE_SOURCE} to ${join(dir, 'tests')} ` +
      `(vectors.json beside it holds the bytes the suite's own assembler produces), ` +
      `or set ${CONFORMANCE_DIR_ENV} to a directory holding tests/*.data and vectors.json`,
  );
}

/** Reads and parses every `tests/*.data` file of the suite, sorted by name. */
export function loadTests(dir = conformanceDir()): DataTest[] {
  const testsDir = join(dir, 'tests');
  if (!existsSync(testsDir)) throw missing('tests/ directory', testsDir, dir);
  const files = readdirSync(testsDir).filter((f) => f.endsWith('.data')).sort();
  if (files.length === 0) throw missing('*.data files', testsDir, dir);
  return files.map((f) => parseDataFile(readFileSync(join(testsDir, f), 'utf8'), f));
}

/** Reads `vectors.json`: for each test, the program and memory bytes and the expected result. */
export function loadVectors(dir = conformanceDir()): Map<string, Vector> {
  const path = join(dir, 'vectors.json');
  if (!existsSync(path)) throw missing('vectors.json', path, dir);
  const entries: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (!Array.isArray(entries)) throw new InvalidProgramError('data_format', `${path}: expected a JSON array`);
  const out = new Map<string, Vector>();
  for (const e of entries as Record<string, unknown>[]) {
    const { name, program, memory, result, error } = e;
    if (typeof name !== 'string' || typeof program !== 'string' || typeof memory !== 'string' || typeof result !== 'string') {
      throw new InvalidProgramError('data_format', `${path}: malformed entry ${JSON.stringify(e).slice(0, 80)}`);
    }
    const r = parseU64(result);
    if (r === undefined) throw new InvalidProgramError('data_format', `${path}: ${name}: bad result '${result}'`);
    out.set(name, {
      name,
      program: program === '' ? new Uint8Array(0) : parseHex(program),
      memory: memory === '' ? new Uint8Array(0) : parseHex(memory),
      result: r,
      error: typeof error === 'string' ? error : null,
    });
  }
  return out;
}

/** Loads the whole suite: test files and vectors. Throws {@link SuiteMissingError} when either is absent. */
export function loadSuite(dir = conformanceDir()): Suite {
  return { dir, tests: loadTests(dir), vectors: loadVectors(dir) };
}
