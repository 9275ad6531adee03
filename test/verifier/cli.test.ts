// `ebpf-wasm verify`: exit 0 with a summary (or the log) when accepted, exit 1 with the verifier's message when
// rejected; ELF objects take their program type from the section and bring their maps and source lines.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { cli, ensureBuilt } from '../cli/cli.js';
import { FIXTURES } from '../elf/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'ebpf-verify-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

beforeAll(() => ensureBuilt(), 120_000);

describe('ebpf-wasm verify', () => {
  test('accepts a safe program', () => {
    const r = cli(['verify', file('ok.s', 'mov %r0, 0\njlt %r2, 4, +1\nldxw %r0, [%r1]\nexit\n')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('accepted (raw, strict): 1 of 1 memory accesses proven, every loop terminates\n');
  });

  test('rejects with the reason, the instruction, the registers and the path', () => {
    const r = cli(['verify', file('bad.s', 'mov %r0, 0\njlt %r2, 3, +1\nldxw %r0, [%r1]\nexit\n')]);
    expect(r.status).toBe(1);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('pc 2: read of 4 bytes at offset 0 may pass the end of the input: only 3 bytes from this pointer are proven in bounds (compare the length (r2), or r1 + r2, first)');
    expect(lines[1]).toBe('  2: ldxw %r0, [%r1]');
    expect(lines[2]).toBe('  r1 = input (3 bytes in bounds)');
    expect(lines).toContain('  path: 0 → 1 → 2');
    expect(lines).toContain('  pc 1: jlt %r2, 3, +1: not taken');
  });

  test('permissive mode accepts what strict mode rejects', () => {
    const r = cli(['verify', file('perm.s', 'ldxw %r0, [%r1]\nexit\n'), '--mode', 'permissive']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/0 of 1 memory accesses proven/);
  });

  test('--log prints the states', () => {
    const r = cli(['verify', file('log.s', 'mov %r0, 0\njlt %r2, 4, +1\nldxw %r0, [%r1]\nexit\n'), '--log']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^; raw program, strict mode: accepted, 1 of 1 memory accesses proven \(100%\), every loop terminates\n/);
    expect(r.stdout).toMatch(/;   r0 = 0 {2}r1 = input \(4 bytes in bounds\) {2}r2 = \[4, 0xffffffff\] \(input length\).*\n\s+2: ldxw %r0, \[%r1\]\s+; proven/);
  });

  test('--log on a rejection shows what permissive mode proves, then the reason', () => {
    const r = cli(['verify', file('logbad.s', 'ldxw %r0, [%r1]\nexit\n'), '--log']);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/checked at run time/);
    expect(r.stderr).toMatch(/^pc 0: /);
  });

  test('an ELF object: type from the section, maps, source lines', () => {
    const ok = cli(['verify', join(FIXTURES, 'maps.o'), '--program', 'dispatch']);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^accepted \(tc, strict\): 9 of 9 memory accesses proven/);
    const bad = cli(['verify', join(FIXTURES, 'text_only.o'), '--program', 'first']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^pc 0: read of 4 bytes/);
    expect(bad.stderr).toMatch(/; text_only\.c:\d+: return clamp\(\*ctx\);/);
  });

  test('--type overrides the section', () => {
    const r = cli(['verify', join(FIXTURES, 'core.o'), '--type', 'raw', '--mode', 'permissive']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^accepted \(raw, permissive\)/);
  });
});
