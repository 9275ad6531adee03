/**
 * The command-line tool, end to end through the built executable: asm, disasm, run, bench, conformance, demo,
 * and error reporting (stderr, exit code 1, the pc in the message).
 */

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { conformanceDir } from '../../src/conformance/data.js';
import { cli, ensureBuilt, ROOT } from './cli.js';

const FILTER = join(ROOT, 'examples', 'ipv4_filter.s');
// UDP 192.0.2.7 -> port 1900: dropped by the example filter.
const BLOCKED_FRAME = '02000000000102000000000208004500001c0000400040110000c0000207c6336401d90e076c00080000';

let dir: string;
beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'ebpf-wasm-cli-'));
});

describe('asm and disasm', () => {
  it('assembles to hex on stdout and to a file with -o', () => {
    const src = join(dir, 'seven.s');
    writeFileSync(src, 'mov %r0, 7\nexit\n');
    const r = cli(['asm', src]);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('b7000000070000009500000000000000');
    const out = join(dir, 'seven.bin');
    expect(cli(['asm', src, '-o', out]).status).toBe(0);
    expect(Buffer.from(readFileSync(out)).toString('hex')).toBe('b7000000070000009500000000000000');
  });

  it('disassembles raw bytecode, hex text and .data files', () => {
    const bin = join(dir, 'p.bin');
    writeFileSync(bin, Buffer.from('b7000000070000009500000000000000', 'hex'));
    expect(cli(['disasm', bin]).stdout).toBe('mov %r0, 7\nexit\n');
    const hex = join(dir, 'p.hex');
    writeFileSync(hex, 'b700000007000000 9500000000000000\n');
    expect(cli(['disasm', hex]).stdout).toBe('mov %r0, 7\nexit\n');
    const data = cli(['disasm', '--pcs', join(conformanceDir(), 'tests', 'lddw.data')]);
    expect(data.status).toBe(0);
    expect(data.stdout).toMatch(/^\s*0: lddw %r0, 0x1122334455667788\n\s*2: exit\n$/);
  });

  it('reports assembly errors with the line, on stderr, exit 1', () => {
    const src = join(dir, 'bad.s');
    writeFileSync(src, 'mov %r0, 1\naddd %r0, 2\nexit\n');
    const r = cli(['asm', src]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: line 2: .*addd/);
  });
});

describe('run', () => {
  it('prints r0 in hex for the example filter', () => {
    expect(cli(['run', FILTER, '--mem', BLOCKED_FRAME]).stdout).toBe('0x0\n');
    // Same frame from 198.51.100.2: still dropped for its port 1900; to port 53 it passes.
    const otherSource = BLOCKED_FRAME.replace('c0000207', 'c6336402');
    expect(cli(['run', FILTER, '--mem', otherSource]).stdout).toBe('0x0\n');
    expect(cli(['run', FILTER, '--mem', otherSource.replace('076c0008', '00350008')]).stdout).toBe('0x1\n');
  });

  it('uses a .data file\'s own memory and prints JSON with --json', () => {
    const r = cli(['run', '--json', join(conformanceDir(), 'tests', 'ldxb.data')]);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { result: string; mem: string };
    expect(out.result).toBe('0x11');
    expect(out.mem).toMatch(/^[0-9a-f]+$/);
  });

  it('reports decode errors and run-time faults with the pc, exit 1', () => {
    const bad = join(dir, 'unknown.bin');
    writeFileSync(bad, Buffer.from('b7000000070000008e00000000000000', 'hex'));
    const r1 = cli(['run', bad]);
    expect(r1.status).toBe(1);
    expect(r1.stderr).toBe('error: pc 1: unknown opcode 0x8e\n');

    const oob = join(dir, 'oob.s');
    writeFileSync(oob, 'mov %r0, 0\nldxw %r0, [%r1+8]\nexit\n');
    const r2 = cli(['run', oob, '--mem', '00010203']);
    expect(r2.status).toBe(1);
    expect(r2.stderr).toMatch(/^error: pc 1: .*outside/);

    const loop = join(dir, 'loop.s');
    writeFileSync(loop, 'mov %r0, 0\nloop:\nadd %r0, 1\nja loop\n');
    const r3 = cli(['run', loop, '--budget', '1000']);
    expect(r3.status).toBe(1);
    expect(r3.stderr).toMatch(/^error: pc 2: .*budget/);
  });

  it('rejects a missing file and a bad --mem clearly', () => {
    const r = cli(['run', join(dir, 'nope.s')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: cannot read .*nope\.s/);
    const r2 = cli(['run', FILTER, '--mem', 'xyz']);
    expect(r2.status).toBe(1);
    expect(r2.stderr).toMatch(/^error: .*hex/);
  });
});

describe('ELF objects', () => {
  const IPV4_UDP = '02000000000102000000000208004500001c0000400040110000c0000207c6336401d90e076c00080000';

  it('runs a program of an object on a packet and prints the map contents with --json', () => {
    for (const engine of ['interp', 'jit']) {
      const r = cli(['run', join(ROOT, 'examples', 'proto_counter', 'proto_counter.o'), '--packet', IPV4_UDP, '--engine', engine, '--json']);
      expect(r.stderr).toBe('');
      const out = JSON.parse(r.stdout) as { result: string; maps: Record<string, [string, string][]> };
      expect(out.result).toBe('0x2'); // XDP_PASS
      expect(out.maps.proto_count).toHaveLength(256);
      expect(out.maps.proto_count[17]).toEqual(['11000000', '0100000000000000']); // one UDP packet counted
      expect(out.maps.proto_count[6]).toEqual(['06000000', '0000000000000000']);
    }
  });

  it('bench times a raw program and an object\'s program on both engines (--json), checking they agree first', () => {
    const raw = cli(['bench', join(ROOT, 'examples', 'ipv4_filter.s'), '--mem', IPV4_UDP, '--engines', 'interp,jit', '--json', '--quick']);
    expect(raw.stderr).toBe('');
    const r = JSON.parse(raw.stdout) as { engines: Record<string, { nsPerRun: number; runs: number }>; result: string };
    expect(Object.keys(r.engines)).toEqual(['interp', 'jit']);
    for (const e of Object.values(r.engines)) expect(e.nsPerRun).toBeGreaterThan(0);
    const obj = cli(['bench', join(ROOT, 'examples', 'blocklist', 'blocklist.o'), '--packet', IPV4_UDP, '--engines', 'interp,jit', '--quick']);
    expect(obj.stderr).toBe('');
    expect(obj.stdout).toMatch(/^interp +[\d.]+ ns\/run .*\njit +[\d.]+ ns\/run .*x vs interp\nresult 0x2\n$/);
    expect(cli(['bench', join(ROOT, 'test', 'elf', 'fixtures', 'multi.o'), '--engines', 'jit']).stderr).toMatch(/has 8 programs/);
  });

  it('chooses programs by name or section and explains a rejection', () => {
    const multi = join(ROOT, 'test', 'elf', 'fixtures', 'multi.o');
    const r = cli(['run', multi]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/has 8 programs: xdp_pass \(xdp\)/);
    expect(cli(['run', multi, '--program', 'xdp_pass', '--packet', IPV4_UDP]).stdout).toBe('0x2\n');
    const textOnly = join(ROOT, 'test', 'elf', 'fixtures', 'text_only.o');
    const rejected = cli(['run', textOnly, '--program', 'first', '--mem', '05000000']);
    expect(rejected.status).toBe(1);
    expect(rejected.stderr).toMatch(/^error: pc 0: read of 4 bytes/);
    expect(cli(['run', textOnly, '--program', 'first', '--mem', '05000000', '--verify', 'permissive']).stdout).toBe('0x5\n');
  });
});

describe('conformance and demo', () => {
  it('runs the whole suite in process on the interpreter', () => {
    const r = cli(['conformance', '--engine', 'interp']);
    expect(r.stdout).toMatch(/interp: 313 passed, 0 failed/);
    expect(r.status).toBe(0);
  });

  it('runs the demo: the blocklist on both engines, identical verdicts, counters read from the map', () => {
    const r = cli(['demo', '--packets', '4000']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/interp\s+[\d,]+ packets\/s .*dropped [\d,]+, passed [\d,]+/);
    expect(r.stdout).toMatch(/jit\s+[\d,]+ packets\/s .*dropped [\d,]+, passed [\d,]+/);
    expect(r.stdout).toMatch(/identical verdicts on all 4,000 frames and identical counters in all four passes/);
    expect(r.stdout).toMatch(/1,000 frames a call \(runBatch/);
    const dropped = [...r.stdout.matchAll(/dropped ([\d,]+)/g)].map((m) => Number(m[1].replace(/,/g, '')));
    expect(dropped).toHaveLength(4);
    expect(dropped[0]).toBeGreaterThan(0);
    expect(new Set(dropped).size).toBe(1);
    expect(r.stdout).toMatch(/drop counters read from the map \(sources still blocked: \d+, drops counted: [1-9]\d*\)/);
  });
});
