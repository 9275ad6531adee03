/**
 * `ebpf-wasm-conformance-plugin` (= `ebpf-wasm conformance-plugin`) driven exactly as the official
 * bpf_conformance runner drives it: one process per test, the memory as argv[1] in the runner's `aa  bb  ` form
 * (an empty string when there is none), the plugin options as ONE argument, the program hex on stdin, r0 read
 * from stdout. Every file of the suite, on every engine.
 */

import { spawn } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadVectors, type Vector } from '../../src/conformance/data.js';
import { ENGINES } from '../../runtime/engines.js';
import { ensureBuilt, MAIN, PLUGIN, runNode } from './cli.js';

/** The runner's encoding of bytes: two hex digits and two spaces per byte. */
function runnerHex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0') + '  ').join('');
}

interface Outcome { status: number | null; stdout: string }

function runPluginProcess(script: string, args: string[], stdin: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['pipe', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout }));
    child.stdin.end(stdin);
  });
}

/** Runs `jobs` with at most `limit` at a time. */
async function pool<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]();
    }
  }));
  return out;
}

const pluginOption = { interp: '--interpret', jit: '--jit', step: '--step' } as const;

beforeAll(() => ensureBuilt());

describe('the plugin protocol', () => {
  it('prints r0 in hex and exits 0; errors on stdout with exit 1, one line', () => {
    expect(runNode(PLUGIN, ['', '--interpret'], 'b7000000070000009500000000000000\n')).toMatchObject({ status: 0, stdout: '0x7\n' });
    const bad = runNode(PLUGIN, ['', ''], 'b7000000070000008e00000000000000\n');
    expect(bad).toMatchObject({ status: 1, stdout: 'pc 1: unknown opcode 0x8e\n' });
    const fault = runNode(PLUGIN, ['', '--jit'], '61100000000000009500000000000000\n'); // ldxw r0, [r1+0] with r1 = 0
    expect(fault.status).toBe(1);
    expect(fault.stdout).toMatch(/^pc 0: .*\n$/);
  });

  it('takes the memory in the runner\'s form and the options as one argument, or as separate ones', () => {
    const prog = '61100000000000009500000000000000'; // r0 = *(u32 *)r1
    expect(runNode(PLUGIN, ['2a  00  00  00  ', '--jit --interpret'], prog).stdout).toBe('0x2a\n');
    expect(runNode(MAIN, ['conformance-plugin', '2a  01  00  00  ', '--jit'], prog).stdout).toBe('0x12a\n');
  });

  it('rejects unknown options and --elf clearly', () => {
    const r = runNode(PLUGIN, ['', '--frobnicate'], 'b7000000070000009500000000000000');
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/unknown option --frobnicate/);
  });
});

describe.each(ENGINES)('every conformance file through the plugin on %s', (engine) => {
  it('passes 313 of 313', async () => {
    const vectors: Vector[] = [...loadVectors().values()];
    expect(vectors.length).toBe(313);
    const jobs = vectors.map((v) => async () => {
      const r = await runPluginProcess(PLUGIN, [runnerHex(v.memory), pluginOption[engine]], runnerHex(v.program) + '\n');
      const ok = r.status === 0 && BigInt(r.stdout.trim()) === v.result;
      return ok ? '' : `${v.name}: exit ${r.status}, output ${JSON.stringify(r.stdout)}, expected 0x${v.result.toString(16)}`;
    });
    const failures = (await pool(jobs, 3)).filter((f) => f !== '');
    expect(failures).toEqual([]);
  }, 300_000);
});
