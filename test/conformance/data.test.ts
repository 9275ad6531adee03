// The `.data` parser, the suite locator and the conformance helpers, on small inline files (the corpus
// itself is checked in test/isa/vectors.test.ts and run in conformance.test.ts).

import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import {
  CONFORMANCE_DIR_ENV, conformanceDir, loadSuite, loadTests, parseDataFile, SuiteMissingError, testProgram, vendoredConformanceDir,
} from '../../src/conformance/data.js';
import { CONFORMANCE_HELPERS, UNWIND_HELPER_ID } from '../../src/conformance/helpers.js';
import { InvalidProgramError } from '../../src/errors.js';
import { UnwindSignal, type HelperEnv } from '../../src/exec.js';
import { encode, toHex } from '../../src/isa/encode.js';

const SAMPLE = `# Copyright (c) Somebody
# SPDX-License-Identifier: MIT
-- asm
mov %r0, %r1   # pointer to mem
ldxb %r0, [%r0+1]
exit
-- mem
aa bb
cc
-- result
0xbb
-- no register offset
anything goes here
-- c
#include <stdint.h>
`;

function expectFormatError(text: string, line: number, detail: RegExp): void {
  let caught: unknown;
  try {
    parseDataFile(text, 'dir/bad.data');
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(InvalidProgramError);
  const err = caught as InvalidProgramError;
  expect({ code: err.code, line: err.line }).toEqual({ code: 'data_format', line });
  expect(err.message).toContain('dir/bad.data');
  expect(err.message).toMatch(detail);
}

describe('parseDataFile', () => {
  test('sections: asm, mem, result, and ignored notes', () => {
    const t = parseDataFile(SAMPLE, 'tests/sample.data');
    expect(t.name).toBe('sample');
    expect(t.file).toBe('tests/sample.data');
    expect(t.asmLine).toBe(4);
    expect(t.asm).toBe('mov %r0, %r1   # pointer to mem\nldxb %r0, [%r0+1]\nexit');
    expect([...t.mem]).toEqual([0xaa, 0xbb, 0xcc]);
    expect(t.result).toBe(0xbbn);
    expect(t.raw).toBeUndefined();
    expect(t.error).toBeUndefined();
  });

  test('raw words are little-endian slots; decimal results; CRLF line ends', () => {
    const t = parseDataFile('-- raw\r\n0x5566778800000018 0x1122334400000000\r\n149\r\n-- result\r\n18446744073709551615\r\n', 'x.data');
    expect(toHex(t.raw!)).toBe('1800000088776655' + '0000000044332211' + '9500000000000000');
    expect(t.result).toBe(0xffffffffffffffffn);
    expect(t.mem).toHaveLength(0);
    expect(testProgram(t).insns[0]).toMatchObject({ kind: 'lddw', value: 0x1122334455667788n });
  });

  test('an error section and no result', () => {
    const t = parseDataFile('-- asm\nexit\n-- error\nFailed to load: # not a comment here\n', 'e.data');
    expect(t.error).toBe('Failed to load: # not a comment here');
    expect(t.result).toBeUndefined();
  });

  test('format errors name the file and the line', () => {
    expectFormatError('-- asm\nexit\n-- result\n0x1\n-- output\n', 5, /unknown section '-- output'/);
    expectFormatError('-- asm\nexit\n-- asm\nexit\n-- result\n1', 3, /duplicate section/);
    expectFormatError('# ok\nmov %r0, 1\n-- asm\nexit\n', 2, /before the first section/);
    expectFormatError('-- asm\nexit\n-- mem\n00 01\n0g\n-- result\n1\n', 5, /bad byte '0g'/);
    expectFormatError('-- asm\nexit\n-- mem\n001\n-- result\n1\n', 4, /bad byte '001'/);
    expectFormatError('-- asm\nexit\n-- result\nzero\n', 4, /bad result 'zero'/);
    expectFormatError('-- asm\nexit\n-- result\n0x10000000000000000\n', 4, /bad result/);
    expectFormatError('-- asm\nexit\n-- result\n1\n2\n', 4, /exactly one value/);
    expectFormatError('-- raw\n0x95 xyz\n-- result\n1\n', 2, /bad 64-bit word 'xyz'/);
    expectFormatError('-- result\n1\n', 3, /no program/);
    expectFormatError('-- asm\nexit\n', 3, /no expectation/);
  });

  test('testProgram reports assembly errors at the line of the file', () => {
    const t = parseDataFile('# header\n-- asm\nmov %r0, 1\n\nfrob %r0\nexit\n-- result\n1\n', 'f.data');
    let caught: unknown;
    try {
      testProgram(t);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(InvalidProgramError);
    const err = caught as InvalidProgramError;
    expect(err.code).toBe('asm_unknown_mnemonic');
    expect(err.line).toBe(5);
    expect(err.message).toBe("line 5: f.data: unknown mnemonic 'frob'");
  });

  test('testProgram assembles -- asm', () => {
    const t = parseDataFile(SAMPLE, 'sample.data');
    expect(toHex(encode(testProgram(t)))).toBe('bf10000000000000' + '7100010000000000' + '9500000000000000');
  });
});

describe('suite location', () => {
  const saved = process.env[CONFORMANCE_DIR_ENV];
  afterEach(() => {
    if (saved === undefined) delete process.env[CONFORMANCE_DIR_ENV];
    else process.env[CONFORMANCE_DIR_ENV] = saved;
  });

  test('defaults to shared/conformance next to the repository, else the committed copy', () => {
    delete process.env[CONFORMANCE_DIR_ENV];
    const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
    const shared = resolve(repo, '..', 'shared', 'conformance');
    expect(conformanceDir()).toBe(existsSync(join(shared, 'tests')) ? shared : resolve(repo, 'vendor', 'bpf_conformance'));
    expect(vendoredConformanceDir()).toBe(resolve(repo, 'vendor', 'bpf_conformance'));
  });

  test('the committed copy is the whole suite, and the same files as shared/conformance where that exists', () => {
    const vendored = vendoredConformanceDir();
    const suite = loadSuite(vendored);
    expect(suite.tests).toHaveLength(313);
    expect(suite.vectors.size).toBe(313);
    const shared = resolve(vendored, '..', '..', '..', 'shared', 'conformance');
    if (!existsSync(join(shared, 'tests'))) return;
    for (const f of [...readdirSync(join(shared, 'tests')).map((n) => join('tests', n)), 'vectors.json', 'LICENSE.bpf_conformance']) {
      expect(readFileSync(join(vendored, f)).equals(readFileSync(join(shared, f))), f).toBe(true);
    }
  });

  test('the environment variable overrides it', () => {
    process.env[CONFORMANCE_DIR_ENV] = '/some/where';
    expect(conformanceDir()).toBe(resolve('/some/where'));
  });

  test('a missing suite is a clear error saying where it was looked for and where to get it', () => {
    const dir = join(tmpdir(), 'ebpf-wasm-no-such-suite');
    process.env[CONFORMANCE_DIR_ENV] = dir;
    expect(() => loadSuite()).toThrow(SuiteMissingError);
    expect(() => loadSuite()).toThrow(join(dir, 'tests'));
    expect(() => loadSuite()).toThrow('github.com/Alan-Jowett/bpf_conformance');
    expect(() => loadSuite()).toThrow('f558566');
  });

  test('missing vectors.json is reported too; tests load without it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ebpf-wasm-suite-'));
    try {
      mkdirSync(join(dir, 'tests'));
      writeFileSync(join(dir, 'tests', 'b.data'), '-- asm\nexit\n-- result\n0\n');
      writeFileSync(join(dir, 'tests', 'a.data'), '-- asm\nmov %r0, 1\nexit\n-- result\n1\n');
      writeFileSync(join(dir, 'tests', 'notes.txt'), 'not a test');
      expect(loadTests(dir).map((t) => t.name)).toEqual(['a', 'b']);
      expect(() => loadSuite(dir)).toThrow(/no vectors\.json at/);
      writeFileSync(join(dir, 'vectors.json'), JSON.stringify([{ name: 'a', program: 'b7000000010000009500000000000000', memory: '', result: '0x1', error: null }]));
      const suite = loadSuite(dir);
      expect(suite.vectors.get('a')).toMatchObject({ result: 1n, error: null });
      expect(toHex(suite.vectors.get('a')!.program)).toBe(toHex(encode(testProgram(suite.tests[0]))));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('conformance helpers', () => {
  const env = { memory: new WebAssembly.Memory({ initial: 1 }), pc: 0 } satisfies HelperEnv;
  const unwind = CONFORMANCE_HELPERS.get(UNWIND_HELPER_ID)!;

  test('helper 5 (unwind) returns its r1', () => {
    expect(UNWIND_HELPER_ID).toBe(5);
    expect(unwind(7n, 0n, 0n, 0n, 0n, env)).toBe(7n);
    expect(unwind(0xffffffffffffffffn, 1n, 2n, 3n, 4n, env)).toBe(0xffffffffffffffffn);
  });

  test('unwind(0) ends the program with r0 = 0', () => {
    let caught: unknown;
    try {
      unwind(0n, 5n, 0n, 0n, 0n, env);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(UnwindSignal);
    expect((caught as UnwindSignal).r0).toBe(0n);
  });
});
