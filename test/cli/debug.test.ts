/**
 * The CLI's debugging options of `run`, end to end through the built executable: `--trace` (one line per
 * executed instruction on the stepper, the fault line, `--trace-limit`), for raw programs and ELF objects; and
 * the engine comparison (`--engine interp,jit`, `--compare`): agreement, a disagreement with exit code 1.
 */

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, ensureBuilt, ROOT } from './cli.js';

const FILTER = join(ROOT, 'examples', 'ipv4_filter.s');
const PROTO_COUNTER = join(ROOT, 'examples', 'proto_counter', 'proto_counter.o');
/** r0 = bpf_ktime_get_ns(): no two runs agree (fixtures/clock.c). */
const CLOCK = join(ROOT, 'test', 'cli', 'fixtures', 'clock.o');
const IPV4_UDP = '02000000000102000000000208004500001c0000400040110000c0000207c6336401d90e076c00080000';

/** Sums 3 + 2 + 1 in a loop, stores the sum, calls helper 5 (`unwind`, which returns r1) and a local function. */
const LOOP = `
  mov %r6, %r1
  ldxw %r2, [%r1+0]
  mov %r0, 0
loop:
  add %r0, %r2
  sub %r2, 1
  jne %r2, 0, loop
  stxw [%r10-4], %r0
  mov %r1, %r0
  call 5
  call local f
  exit
f:
  mov %r6, 99
  add %r0, 1
  exit
`;

let dir: string;
let loop: string;
let oob: string;
beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'ebpf-wasm-cli-debug-'));
  loop = join(dir, 'loop.s');
  writeFileSync(loop, LOOP);
  oob = join(dir, 'oob.s');
  writeFileSync(oob, 'mov %r0, 0\nldxw %r0, [%r1+8]\nexit\n');
});

describe('run --trace', () => {
  it('prints one line per executed instruction, with what it changed, then the result', () => {
    const r = cli(['run', loop, '--mem', '03000000', '--trace']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    // 20 instructions (the loop runs three times), then r0.
    expect(lines).toHaveLength(21);
    expect(lines.slice(0, 20).map((l) => Number(l.split(':')[0]))).toEqual([0, 1, 2, 3, 4, 5, 3, 4, 5, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 10]);
    expect(lines[1]).toMatch(/^ {3}1: ldxw %r2, \[%r1\] +r2=0x3 \(was 0x4\)$/);
    expect(lines[5]).toMatch(/^ {3}5: jne %r2, 0, -3 +taken -> 3$/);
    expect(lines[11]).toMatch(/not taken$/);
    expect(lines[12]).toMatch(/^ {3}6: stxw \[%r10-4\], %r0 +\[0x[0-9a-f]+\] <- 4 bytes 06000000$/);
    expect(lines[14]).toMatch(/^ {3}8: call 5 +call unwind\(0x6, 0x0, 0x0, 0x0, 0x0\) = 0x6$/);
    expect(lines[15]).toMatch(/^ {3}9: call local \+1 +call -> 11 \(depth 1\); r10=0x[0-9a-f]+ \(was 0x[0-9a-f]+\)$/);
    expect(lines[16]).toMatch(/^ {2}11: {3}mov %r6, 99 +r6=0x63 \(was 0x[0-9a-f]+\)$/);
    expect(lines[18]).toMatch(/^ {2}13: {3}exit +return -> 10 \(depth 0\); r6=0x[0-9a-f]+ \(was 0x63\)/);
    expect(lines[19]).toMatch(/^ {2}10: exit +exit: r0 = 0x7$/);
    expect(lines[20]).toBe('0x7');
  });

  it('ends with the fault line, and the error with its pc on stderr, exit 1', () => {
    const r = cli(['run', oob, '--mem', '00010203', '--trace']);
    expect(r.status).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe('   0: mov %r0, 0');
    expect(lines[1]).toMatch(/^ {3}1: ldxw %r0, \[%r1\+8\] +FAULT out_of_bounds: load of 4 bytes at 0x[0-9a-f]+ is outside every region$/);
    expect(r.stderr).toMatch(/^error: pc 1: load of 4 bytes at 0x[0-9a-f]+ is outside every region\n$/);
  });

  it('stops printing at --trace-limit, says so, and still shows the result or the fault', () => {
    const r = cli(['run', loop, '--mem', '03000000', '--trace', '--trace-limit', '4']);
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[4]).toBe('... trace stopped after 4 instructions (--trace-limit 4); the run goes on untraced');
    expect(lines[5]).toBe('0x7');

    const forever = join(dir, 'forever.s');
    writeFileSync(forever, 'mov %r0, 0\nloop:\nadd %r0, 1\nja loop\n');
    const f = cli(['run', forever, '--trace', '--trace-limit', '3', '--budget', '100']);
    expect(f.status).toBe(1);
    const out = f.stdout.trimEnd().split('\n');
    expect(out).toHaveLength(5);
    expect(out[3]).toMatch(/^\.\.\. trace stopped after 3 instructions/);
    expect(out[4]).toMatch(/^ {3}2: ja -2 +FAULT budget_exceeded: execution budget of 100 backward jumps and calls exceeded$/);
    expect(f.stderr).toMatch(/^error: pc 2: execution budget of 100/);
  });

  it('traces a program of an ELF object on a packet, map lookups named', () => {
    const r = cli(['run', PROTO_COUNTER, '--packet', IPV4_UDP, '--trace']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.at(-1)).toBe('0x2');
    expect(lines.at(-2)).toMatch(/exit +exit: r0 = 0x2$/);
    expect(lines.some((l) => /call 1 +call bpf_map_lookup_elem\(0x[0-9a-f]+, 0x[0-9a-f]+\) = 0x[0-9a-f]+$/.test(l))).toBe(true);
    expect(lines.some((l) => /stxdw \[%r0\], %r1 +\[0x[0-9a-f]+\] <- 8 bytes 0100000000000000$/.test(l))).toBe(true);
  });

  it('refuses --trace on another engine', () => {
    const r = cli(['run', loop, '--trace', '--engine', 'jit']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: --trace runs on the stepper/);
  });
});

describe('run on several engines', () => {
  it('prints each engine\'s r0 and memory digest, then `engines agree`', () => {
    const r = cli(['run', FILTER, '--mem', IPV4_UDP, '--engine', 'interp,jit']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^interp +r0 = 0x0 +memory sha256:([0-9a-f]{16}) \(42 bytes of input\)\njit +r0 = 0x0 +memory sha256:\1 \(42 bytes of input\)\nengines agree\n$/);
  });

  it('--compare runs every engine, the stepper included, on raw programs and objects; faults compare by code and pc', () => {
    const obj = cli(['run', PROTO_COUNTER, '--packet', IPV4_UDP, '--compare']);
    expect(obj.status).toBe(0);
    expect(obj.stdout).toMatch(/^interp +r0 = 0x2 +memory sha256:([0-9a-f]{16}) \(1 map\)\njit +r0 = 0x2 +memory sha256:\1 \(1 map\)\nstep +r0 = 0x2 +memory sha256:\1 \(1 map\)\nengines agree\n$/);
    const fault = cli(['run', oob, '--mem', '00010203', '--compare']);
    expect(fault.status).toBe(0);
    expect(fault.stdout.match(/fault out_of_bounds at pc 1/g)).toHaveLength(3);
    expect(fault.stdout).toMatch(/engines agree\n$/);
  });

  it('reports a disagreement with the differing fields, exit code 1', () => {
    const r = cli(['run', CLOCK, '--engine', 'interp,step']);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^interp +r0 = 0x[0-9a-f]+ +memory sha256:([0-9a-f]{16}) \(0 maps\)\nstep +r0 = 0x[0-9a-f]+ +memory sha256:\1 \(0 maps\)\nengines DISAGREE:\n {2}r0: interp 0x[0-9a-f]+, step 0x[0-9a-f]+\n$/);
    const json = cli(['run', CLOCK, '--compare', '--json']);
    expect(json.status).toBe(1);
    const out = JSON.parse(json.stdout) as { engines: Record<string, { result: string }>; agree: boolean; differences: string[] };
    expect(Object.keys(out.engines)).toEqual(['interp', 'jit', 'step']);
    expect(out.agree).toBe(false);
    expect(out.differences).toHaveLength(2);
  });

  it('rejects an unknown engine', () => {
    const r = cli(['run', loop, '--engine', 'interp,wasm']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/unknown engine 'wasm' \(known: interp, jit, step\)/);
  });
});
