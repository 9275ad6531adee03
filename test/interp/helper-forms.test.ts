/**
 * The interpreter's helper calls beyond the basics of calls.test.ts: registers converted to and from bigints
 * without allocating where they fit (r0 from any bigint result, taken mod 2^64; arguments at or above 2^32,
 * which the driver caches), memory growth on a shared memory, and helpers declared with an exact WebAssembly
 * form (src/interp/exact.ts): called through the form after the interpreter's own pointer checks, the JS form
 * called only to fault; the same results and faults as the JS form.
 */

import wabt from 'wabt';
import { describe, expect, it } from 'vitest';
import { ExecutionError } from '../../src/errors.js';
import { UnwindSignal, wasmHelperOf, withWasmHelper, type HelperFn, type WasmHelper } from '../../src/exec.js';
import { hasExactWasmForm, withExactWasmForm } from '../../src/exec.js';
import { Interpreter } from '../../src/interp/interpreter.js';
import { assemble } from '../../src/isa/asm.js';
import { EDGE_VALUES, FP, INPUT, RODATA, lddw, makeRequest, run } from './harness.js';

/** Results a helper may return, in and beyond the u64 range. */
const RESULTS: readonly bigint[] = [
  ...EDGE_VALUES, -1n, -22n, -(2n ** 31n), -(2n ** 31n) - 1n, -(2n ** 32n), 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n,
  -(2n ** 53n) + 1n, -(2n ** 53n), -(2n ** 53n) - 1n, -(2n ** 63n), 2n ** 64n, 2n ** 64n + 5n, -(2n ** 64n) - 3n, 3n * 2n ** 70n + 9n,
];

describe('helper results and arguments', () => {
  it('r0 is the result mod 2^64, whatever bigint a helper returns or unwinds with', () => {
    const interp = new Interpreter(assemble('call 1\nexit'));
    const unwinding = new Interpreter(assemble('call 2\nmov %r0, 0\nexit'));
    const viaEnv = new Interpreter(assemble('call 3\nmov %r0, 0\nexit'));
    for (const v of RESULTS) {
      const helpers = new Map<number, HelperFn>([
        [1, () => v],
        [2, () => { throw new UnwindSignal(v); }],
        [3, (_a, _b, _c, _d, _e, env) => env.unwind!(v)],
      ]);
      const want = BigInt.asUintN(64, v);
      expect(run(interp, { helpers }).r0, `${v}`).toBe(want);
      expect(run(unwinding, { helpers }).r0, `${v}`).toBe(want);
      expect(run(viaEnv, { helpers }).r0, `${v}`).toBe(want);
    }
  });

  it('arguments at or above 2^32 alternating between calls arrive exactly', () => {
    const seen: bigint[][] = [];
    const record: HelperFn = (a, b, c, d, e) => {
      seen.push([a, b, c, d, e]);
      return a ^ e;
    };
    const A = 0xebf0_a000_0000_0001n;
    const B = 0xebf0_a000_0000_0002n;
    const C = 0x1_0000_0000n;
    const src = [lddw(1, A), lddw(2, B), lddw(3, A), 'mov %r4, -1', lddw(5, C), 'call 1', 'mov %r6, %r0',
      lddw(1, B), 'mov %r2, 0', lddw(3, C), lddw(4, A), lddw(5, B), 'call 1', 'xor %r0, %r6', 'exit'].join('\n');
    for (let i = 0; i < 3; i++) {
      seen.length = 0;
      expect(run(src, { helpers: new Map([[1, record]]) }).r0).toBe((A ^ C) ^ (B ^ B));
      expect(seen).toEqual([[A, B, A, 2n ** 64n - 1n, C], [B, 0n, C, A, B]]);
    }
  });

  it('after a helper grows a shared memory, the run reads and writes its regions in the same buffer', () => {
    const memory = new WebAssembly.Memory({ initial: 4, maximum: 64, shared: true });
    const grow: HelperFn = (_a, _b, _c, _d, _e, env) => {
      env.memory.grow(2);
      return 0n;
    };
    const input = Uint8Array.of(1, 0x82, 3, 4);
    const { r0, mem } = run('mov %r6, %r1\ncall 1\nldxb %r7, [%r6+1]\nstb [%r6+0], 9\ncall 1\nldxb %r0, [%r6+0]\nadd %r0, %r7\nexit', { input, memory, helpers: new Map([[1, grow]]) });
    expect(r0).toBe(0x82n + 9n);
    expect(mem[0]).toBe(9);
    expect(memory.buffer.byteLength).toBe(8 * 65536);
  });
});

/** A module on `memory` with forms: `sum(r1, r2)` = r1 + the u32 at r2 (size r1's low 32 bits, read); `put(r1, r2)`
 * stores r1 (8 bytes) at r2 and returns 7 (size 8, written); `trap(r1, r2)` traps; and the size functions. */
async function forms(memory: WebAssembly.Memory) {
  const w = await wabt();
  const wat = `(module (import "env" "memory" (memory 4 1024))
    (func (export "sum") (param i64 i64) (result i64) (i64.add (local.get 0) (i64.load32_u (i32.wrap_i64 (local.get 1)))))
    (func (export "put") (param i64 i64) (result i64) (i64.store (i32.wrap_i64 (local.get 1)) (local.get 0)) (i64.const 7))
    (func (export "trap") (param i64 i64) (result i64) unreachable)
    (func (export "low") (param i64) (result i32) (i32.wrap_i64 (local.get 0)))
    (func (export "eight") (param i64) (result i32) (i32.const 8)))`;
  const mod = w.parseWat('forms.wat', wat);
  const { buffer } = mod.toBinary({});
  mod.destroy();
  const ex = new WebAssembly.Instance(new WebAssembly.Module(buffer), { env: { memory } }).exports as Record<string, (...a: bigint[]) => never>;
  const sizes = { keySize: ex.low as unknown as (m: bigint) => number, valueSize: ex.eight as unknown as (m: bigint) => number };
  const sum: WasmHelper = { fn: ex.sum, params: 2, checks: [{ reg: 2, size: 'key', write: false }], ...sizes };
  const put: WasmHelper = { fn: ex.put, params: 2, checks: [{ reg: 2, size: 'value', write: true }], ...sizes };
  const trap: WasmHelper = { fn: ex.trap, params: 2, checks: [], ...sizes };
  return { sum, put, trap };
}

/** A JS form doing what `form` does, as the map helpers' JS forms do: the checks against the request, then the call. */
function jsFormOf(form: WasmHelper, calls: { n: number }): HelperFn {
  return (a, b, c, d, e, env) => {
    calls.n++;
    const req = env.request!;
    const regs = [a, b, c, d, e];
    for (const check of form.checks) {
      const size = (check.size === 'key' ? form.keySize! : form.valueSize!)(a);
      if (size <= 0) continue;
      const addr = Number(regs[check.reg - 1]);
      const inStack = addr >= req.stackBase && addr + size <= req.stackBase + 4096;
      const region = req.regions.find((r) => addr >= r.start && addr + size <= r.end && (!check.write || r.writable));
      if (regs[check.reg - 1] >= 2n ** 32n || (!inStack && region === undefined)) throw new ExecutionError('out_of_bounds', `form check of r${check.reg}`, env.pc);
    }
    return BigInt.asUintN(64, form.fn(a, b, c, d, e));
  };
}

describe('helpers with an exact WebAssembly form', () => {
  it('withExactWasmForm marks a helper; one without a WebAssembly form is not exact', async () => {
    const { sum } = await forms(makeRequest().memory);
    const plain: HelperFn = () => 0n;
    expect(hasExactWasmForm(plain)).toBe(false);
    expect(hasExactWasmForm(withExactWasmForm(() => 0n))).toBe(false);
    expect(hasExactWasmForm(withWasmHelper(() => 0n, sum))).toBe(false);
    const exact = withExactWasmForm(withWasmHelper(() => 0n, sum));
    expect(hasExactWasmForm(exact)).toBe(true);
    expect(wasmHelperOf(exact)).toBe(sum);
  });

  it('are called through the form when the checks pass (stack, regions), the JS form otherwise, which faults', async () => {
    const memory = makeRequest().memory;
    const { sum } = await forms(memory);
    const calls = { n: 0 };
    const exact = withExactWasmForm(withWasmHelper(jsFormOf(sum, calls), sum));
    const plain = jsFormOf(sum, calls);
    const input = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
    // r1 = the size (4, or -1: nothing checked), r2 = the pointer; r0 = r1 + the u32 there.
    const cases: [string, bigint | undefined][] = [
      [`mov %r1, 4\nmov %r2, ${INPUT}`, 0x04030201n + 4n],
      [`mov %r1, 4\nmov %r2, ${INPUT + 4}`, 0x08070605n + 4n],
      [`mov %r1, 4\nmov %r2, ${INPUT + 5}`, undefined],
      [`mov %r1, 4\nmov %r2, ${INPUT - 1}`, undefined],
      [`mov %r1, 4\nmov %r2, %r10\nadd %r2, -8`, 0x11223344n + 4n],
      [`mov %r1, 4\nmov %r2, %r10\nadd %r2, -2`, undefined],
      [`mov %r1, 4\nmov %r2, ${RODATA}`, 0xa3a2a1a0n + 4n],
      [`mov %r1, 4\n${lddw(2, 2n ** 32n + BigInt(INPUT))}`, undefined],
      [`mov %r1, 4\nmov %r2, -8`, undefined],
      [`mov %r1, 0\nmov %r2, ${INPUT}`, 0x04030201n],
    ];
    for (const [setup, want] of cases) {
      const src = `stw [%r10-8], 0x11223344\n${setup}\ncall 1\nexit`;
      const interp = new Interpreter(assemble(src));
      calls.n = 0;
      const got = (() => {
        try {
          return run(interp, { input, helpers: new Map([[1, exact]]) }).r0;
        } catch (e) {
          return e;
        }
      })();
      const viaForm = calls.n;
      calls.n = 0;
      let asJs: unknown;
      try {
        asJs = run(interp, { input, helpers: new Map([[1, plain]]) }).r0;
      } catch (e) {
        asJs = e;
      }
      expect(got, setup).toEqual(asJs);
      if (want === undefined) {
        expect(got, setup).toBeInstanceOf(ExecutionError);
        expect(got, setup).toMatchObject({ code: 'out_of_bounds', pc: interp.program.insns.find((i) => i.kind === 'call')!.pc });
        // The JS form made the call, to fault.
        expect(viaForm, setup).toBe(1);
      } else {
        expect(got, setup).toBe(want);
        expect(viaForm, setup).toBe(0);
      }
    }
  });

  it('a write check needs a writable region; the form writes through it and the JS form is not called', async () => {
    const memory = makeRequest().memory;
    const { put } = await forms(memory);
    const calls = { n: 0 };
    const exact = withExactWasmForm(withWasmHelper(jsFormOf(put, calls), put));
    const helpers = new Map([[1, exact]]);
    const input = new Uint8Array(16);
    const ok = run(`${lddw(1, 0x0102_0304_0506_0708n)}\nmov %r2, ${INPUT + 8}\ncall 1\nexit`, { input, helpers });
    expect(ok.r0).toBe(7n);
    expect([...ok.mem.subarray(8)]).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
    const stack = run(`${lddw(1, 0x0102_0304_0506_0708n)}\nmov %r2, %r10\nadd %r2, -8\ncall 1\nldxdw %r0, [%r10-8]\nexit`, { input, helpers });
    expect(stack.r0).toBe(0x0102_0304_0506_0708n);
    expect(calls.n).toBe(0);
    // Read-only input, read-only region, one byte past the input: the JS form faults.
    expect(() => run(`mov %r1, 1\nmov %r2, ${INPUT}\ncall 1\nexit`, { input, helpers, writable: false })).toThrow(expect.objectContaining({ code: 'out_of_bounds', pc: 2 }));
    expect(() => run(`mov %r1, 1\nmov %r2, ${RODATA}\ncall 1\nexit`, { input, helpers })).toThrow(expect.objectContaining({ code: 'out_of_bounds', pc: 2 }));
    expect(() => run(`mov %r1, 1\nmov %r2, ${INPUT + 9}\ncall 1\nexit`, { input, helpers })).toThrow(expect.objectContaining({ code: 'out_of_bounds', pc: 2 }));
    expect(calls.n).toBe(3);
    expect(new Uint8Array(memory.buffer, RODATA, 1)[0]).toBe(0xa0);
  });

  it('a form that traps fails the call as helper_failed, as its JS form does', async () => {
    const memory = makeRequest().memory;
    const { trap } = await forms(memory);
    const calls = { n: 0 };
    const exact = withExactWasmForm(withWasmHelper(jsFormOf(trap, calls), trap));
    const viaForm = (() => { try { run('call 9\nexit', { helpers: new Map([[9, exact]]) }); } catch (e) { return e; } })();
    const viaJs = (() => { try { run('call 9\nexit', { helpers: new Map([[9, jsFormOf(trap, calls)]]) }); } catch (e) { return e; } })();
    expect(viaForm).toBeInstanceOf(ExecutionError);
    expect(viaForm).toMatchObject({ code: 'helper_failed', pc: 0, message: (viaJs as Error).message });
    expect((viaForm as ExecutionError).cause).toBeInstanceOf(WebAssembly.RuntimeError);
    expect(calls.n).toBe(1);
  });

  it('a helper with a WebAssembly form that is not declared exact is called through its JS form', async () => {
    const memory = makeRequest().memory;
    const { sum } = await forms(memory);
    let jsCalls = 0;
    const notExact = withWasmHelper(() => {
      jsCalls++;
      return 5n;
    }, sum);
    expect(run(`mov %r1, 4\nmov %r2, ${FP - 8}\ncall 1\nexit`, { helpers: new Map([[1, notExact]]) }).r0).toBe(5n);
    expect(jsCalls).toBe(1);
  });
});
