/**
 * The standard helpers (runtime/helpers/standard.ts) and host-defined helpers (runtime/helpers/custom.ts) from
 * programs, on every engine with identical results: clocks, random numbers, the CPU id, trace_printk and
 * snprintf (the kernel's printf subset and its -EINVAL cases), strtol/strtoul (kernel semantics and errnos),
 * pointer arguments faulting at the call's pc, custom helpers' conversions and their verifier prototypes.
 */

import { uptime } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ExecutionError, VerifierError } from '../../src/errors.js';
import { assemble } from '../../src/isa/asm.js';
import { ENGINES } from '../../runtime/engines.js';
import { Runtime } from '../../runtime/runtime.js';
import { bpfFormat } from '../../runtime/helpers/format.js';
import { faults } from './faults.js';

const EINVAL = BigInt.asUintN(64, -22n);
const ERANGE = BigInt.asUintN(64, -34n);

/** Input bytes: `text` at offset 0, zero-padded to `size`. */
function input(text: string, size = 128): Uint8Array {
  const b = new Uint8Array(size);
  b.set(Buffer.from(text, 'latin1'));
  return b;
}

describe('the printf subset', () => {
  const read = (): string => 'str';
  it.each([
    ['%d %i %u', [BigInt.asUintN(64, -5n), 7n, 0xffff_ffffn], '-5 7 4294967295'],
    ['%x %X %lx', [0x1_0000_00abn, 0xabn, 0x1_0000_00abn], 'ab AB 1000000ab'],
    ['%ld %lld %llu', [BigInt.asUintN(64, -1n), 2n ** 63n, BigInt.asUintN(64, -1n)], '-1 -9223372036854775808 18446744073709551615'],
    ['[%5d|%-5d|%05d|%+d|% d]', [42n, 42n, BigInt.asUintN(64, -42n), 3n, 3n], '[   42|42   |-0042|+3| 3]'],
    ['%c%c %s %% %p %px', [0x68n, 0x69n, 1n, 0x1234n, 0xffn], 'hi str % 0x1234 0xff'],
  ])('%s', (fmt, args, out) => {
    expect(bpfFormat(fmt, args, read)).toBe(out);
  });
  it.each(['%q', '%', '%.3d', '%lc', '%pS', 'a\x01b', '%d %d %d %d'])('refuses %j', (fmt) => {
    expect(() => bpfFormat(fmt, [1n, 2n, 3n], read)).toThrow();
  });
});

describe.each(ENGINES)('standard helpers on %s', (engine) => {
  it('ktime_get_ns is monotonic; ktime_get_boot_ns counts from boot; get_prandom_u32 gives u32s; the CPU is 0', async () => {
    const rt = new Runtime();
    const prog = [
      'mov %r9, %r1',
      'call 5', 'mov %r6, %r0', 'call 5', 'sub %r0, %r6', 'stxdw [%r9+0], %r0',
      'call 125', 'stxdw [%r9+8], %r0',
      'call 7', 'stxdw [%r9+16], %r0', 'call 7', 'stxdw [%r9+24], %r0',
      'call 8', 'stxdw [%r9+32], %r0',
      'mov %r0, 0', 'exit',
    ].join('\n');
    const lp = await rt.load(assemble(prog), { engine });
    const { mem } = lp.run(new Uint8Array(40));
    const dv = new DataView(mem.buffer);
    const elapsed = dv.getBigUint64(0, true);
    expect(elapsed < 1_000_000_000n).toBe(true); // t2 >= t1 (unsigned difference is small)
    expect(Math.abs(Number(dv.getBigUint64(8, true)) / 1e9 - uptime())).toBeLessThan(5);
    const a = dv.getBigUint64(16, true);
    const b = dv.getBigUint64(24, true);
    expect(a < 2n ** 32n && b < 2n ** 32n).toBe(true);
    expect(a).not.toBe(b);
    expect(dv.getBigUint64(32, true)).toBe(0n);
  });

  it('trace_printk formats up to three arguments into the trace sink and returns the length', async () => {
    const lines: string[] = [];
    const rt = new Runtime({ trace: (l) => lines.push(l) });
    // fmt at input+0 (NUL included in the size), the %s string at input+64.
    const fmt = 'pkt %d len %llx %s\n\0';
    const prog = (size: number, r3 = 'mov %r3, -5'): string => [
      'mov %r6, %r1', `mov %r2, ${size}`, r3, 'mov %r4, 0xabc', 'mov %r5, %r6', 'add %r5, 64', 'call 6', 'exit',
    ].join('\n');
    const data = input(fmt);
    data.set(Buffer.from('eth0\0'), 64);
    const lp = await rt.load(assemble(prog(fmt.length)), { engine });
    expect(lp.run(data).r0).toBe(BigInt('pkt -5 len abc eth0\n'.length));
    expect(lines).toEqual(['pkt -5 len abc eth0']);
    // The default sink collects lines.
    const rt2 = new Runtime();
    await (await rt2.load(assemble(prog(fmt.length)), { engine })).run(data);
    expect(rt2.traceLines).toEqual(['pkt -5 len abc eth0']);
    // No NUL at fmt[size - 1]; a conversion Linux refuses: -EINVAL, nothing printed.
    expect((await rt.load(assemble(prog(fmt.length - 1)), { engine })).run(data).r0).toBe(EINVAL);
    expect((await rt.load(assemble(prog(6)), { engine })).run(input('%q %d\0')).r0).toBe(EINVAL);
    expect((await rt.load(assemble(prog(12)), { engine })).run(input('%d%d%d%d\0')).r0).toBe(EINVAL);
    expect(lines).toHaveLength(1);
    // A %s pointer outside every region prints as empty, as the kernel's failed copy does.
    const badStr = await rt.load(assemble(prog(5).replace('add %r5, 64', 'mov %r5, 0x1000')), { engine });
    expect(badStr.run(input('[%s]\0')).r0).toBe(2n);
    expect(lines).toEqual(['pkt -5 len abc eth0', '[]']);
  });

  it('trace_printk: a bad format pointer faults out_of_bounds at the call', async () => {
    const rt = new Runtime();
    const lp = await rt.load(assemble('mov %r1, 0x1000\nmov %r2, 4\ncall 6\nexit'), { engine });
    const e = faults(() => lp.run());
    expect([e.code, e.pc]).toEqual(['out_of_bounds', 2]);
    const straddle = await rt.load(assemble('mov %r2, 200\ncall 6\nexit'), { engine }); // 200 bytes of a 16-byte input
    expect(faults(() => straddle.run(new Uint8Array(16))).code).toBe('out_of_bounds');
  });

  it('snprintf writes the truncated, NUL-terminated text and returns its length + 1', async () => {
    const rt = new Runtime();
    // input: [0..32) fmt, [32..56) data (3 u64), [64..) output buffer of r2 bytes.
    const prog = (size: number, dataLen = 24): string => [
      'mov %r6, %r1', 'mov %r3, %r6', 'mov %r1, %r6', 'add %r1, 64', `mov %r2, ${size}`,
      'mov %r4, %r6', 'add %r4, 32', `mov %r5, ${dataLen}`, 'call 165', 'exit',
    ].join('\n');
    const data = input('%u-%lx-%s\0');
    const dv = new DataView(data.buffer);
    dv.setBigUint64(32, 7n, true);
    dv.setBigUint64(40, 0xbeefn, true);
    data.set(Buffer.from('ok\0'), 120);
    const run = async (size: number, dataLen?: number): Promise<{ r0: bigint; out: string }> => {
      const d = data.slice();
      new DataView(d.buffer).setBigUint64(48, BigInt(rt.scratch(128) + 120), true); // %s → input+120 (the run's copy)
      const r = (await rt.load(assemble(prog(size, dataLen)), { engine })).run(d);
      return { r0: r.r0, out: Buffer.from(r.mem.subarray(64, 64 + Math.max(size, 1))).toString('latin1') };
    };
    expect(await run(32)).toEqual({ r0: 10n, out: '7-beef-ok\0'.padEnd(32, '\0') });
    const cut = await run(5);
    expect(cut.r0).toBe(10n);
    expect(cut.out).toBe('7-be\0');
    expect((await run(32, 12)).r0).toBe(EINVAL); // data_len not a multiple of 8
    expect((await run(32, 16)).r0).toBe(EINVAL); // three conversions, two arguments
    // Output to read-only memory faults at the call.
    const ro = await rt.load(assemble(prog(8)), { engine });
    expect(faults(() => ro.run(data, { writable: false })).code).toBe('read_only');
  });

  describe('strtol and strtoul', () => {
    // [text, flags, strtol (r0, res), strtoul (r0, res)]
    const cases: [string, number, [bigint, bigint?], [bigint, bigint?]][] = [
      ['123', 0, [3n, 123n], [3n, 123n]],
      ['  -42xyz', 10, [5n, BigInt.asUintN(64, -42n)], [EINVAL]],
      ['0x1F', 0, [4n, 31n], [4n, 31n]],
      ['0x1F', 16, [4n, 31n], [4n, 31n]],
      ['0755', 0, [4n, 493n], [4n, 493n]],
      ['0x', 0, [1n, 0n], [1n, 0n]], // "0x" without a hex digit: octal 0
      ['ff', 16, [2n, 255n], [2n, 255n]],
      ['xyz', 10, [EINVAL], [EINVAL]],
      ['   ', 10, [EINVAL], [EINVAL]],
      ['12', 7, [EINVAL], [EINVAL]], // base 7
      ['12', 0x20 | 10, [EINVAL], [EINVAL]], // flags beyond the base
      ['9223372036854775807', 10, [19n, 2n ** 63n - 1n], [19n, 2n ** 63n - 1n]],
      ['9223372036854775808', 10, [ERANGE], [19n, 2n ** 63n]],
      ['-9223372036854775808', 10, [20n, 2n ** 63n], [EINVAL]],
      ['18446744073709551616', 10, [ERANGE], [ERANGE]],
    ];
    it.each(cases)('%j base flags %i', async (text, flags, sl, su) => {
      const rt = new Runtime();
      for (const [id, want] of [[105, sl], [106, su]] as const) {
        const prog = ['mov %r6, %r1', 'mov %r4, %r1', 'add %r4, 64', `mov %r2, ${text.length}`, `mov %r3, ${flags}`, `call ${id}`, 'exit'].join('\n');
        const d = input(text);
        new DataView(d.buffer).setBigUint64(64, 0xdeadn, true);
        const r = (await rt.load(assemble(prog), { engine })).run(d);
        expect(r.r0).toBe(want[0]);
        expect(new DataView(r.mem.buffer).getBigUint64(64, true)).toBe(want[1] ?? 0xdeadn); // untouched on error
      }
    });
    it('a zero length is -EINVAL; a res pointer outside memory faults', async () => {
      const rt = new Runtime();
      const zero = await rt.load(assemble('mov %r4, %r1\nmov %r2, 0\ncall 105\nexit'), { engine });
      expect(zero.run(input('1')).r0).toBe(EINVAL);
      const bad = await rt.load(assemble('mov %r4, 0x1000\nmov %r2, 1\nmov %r3, 0\ncall 106\nexit'), { engine });
      expect([faults(() => bad.run(input('1'))).code, faults(() => bad.run(input('1'))).pc]).toEqual(['out_of_bounds', 3]);
    });
  });

  it('custom helpers: u32, u64, fixed pointers and pointer + length arrive converted and checked', async () => {
    const rt = new Runtime();
    const seen: unknown[] = [];
    rt.defineHelper({
      id: 0x10000, name: 'lookup_user', args: ['u32', { ptr: 'in', size: 16 }, 'u64'],
      fn: (id, bytes, big) => {
        seen.push(id, Buffer.from(bytes).toString('latin1'), big);
        return BigInt(id) + big;
      },
    });
    rt.defineHelper({
      id: 0x10001, name: 'fill', args: [{ mem: 'out' }, { ptr: 'out', size: 8 }],
      fn: (out, res) => {
        out.fill(0x41);
        new DataView(res.buffer, res.byteOffset, 8).setBigUint64(0, 0x1122n, true);
        return out.length;
      },
    });
    const lookup = await rt.load(assemble('mov %r2, %r1\nlddw %r1, 0x100000007\nlddw %r3, 0x500000000\ncall 0x10000\nexit'), { engine });
    expect(lookup.run(input('0123456789abcdef-rest')).r0).toBe(7n + 0x5_0000_0000n);
    expect(seen).toEqual([7, '0123456789abcdef', 0x5_0000_0000n]);
    const fill = await rt.load(assemble('mov %r3, %r1\nadd %r3, 16\nmov %r2, 4\ncall 0x10001\nexit'), { engine });
    const r = fill.run(new Uint8Array(24));
    expect(r.r0).toBe(4n);
    expect([...r.mem]).toEqual([0x41, 0x41, 0x41, 0x41, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x22, 0x11, 0, 0, 0, 0, 0, 0]);
    // A buffer shorter than declared, a length past the input, a write to read-only input: faults at the call.
    expect([faults(() => lookup.run(new Uint8Array(8))).code, faults(() => lookup.run(new Uint8Array(8))).pc]).toEqual(['out_of_bounds', 5]);
    const long = await rt.load(assemble('mov %r3, %r1\nmov %r2, 100\ncall 0x10001\nexit'), { engine });
    expect(faults(() => long.run(new Uint8Array(24))).code).toBe('out_of_bounds');
    expect(faults(() => fill.run(new Uint8Array(24), { writable: false })).code).toBe('read_only');
    // Unknown ids stay a load-time error.
    await expect(rt.load(assemble('call 0x10002\nexit'), { engine })).rejects.toMatchObject({ code: 'unknown_helper' });
  });

  it('custom helpers: strict verification checks calls against the declared signature', async () => {
    const rt = new Runtime();
    rt.defineHelper({ id: 0x20000, name: 'sum', args: [{ mem: 'in' }], fn: (b) => b.reduce((a, x) => a + x, 0) });
    const good = ['stdw [%r10-8], 0x0102', 'mov %r1, %r10', 'add %r1, -8', 'mov %r2, 8', 'call 0x20000', 'exit'].join('\n');
    expect((await rt.load(assemble(good), { engine, verify: 'strict' })).run().r0).toBe(3n);
    // A scalar where memory is declared, or uninitialised stack, is rejected before it runs.
    await expect(rt.load(assemble('mov %r1, 5\nmov %r2, 8\ncall 0x20000\nexit'), { engine, verify: 'strict' })).rejects.toBeInstanceOf(VerifierError);
    await expect(rt.load(assemble('mov %r1, %r10\nadd %r1, -8\nmov %r2, 8\ncall 0x20000\nexit'), { engine, verify: 'strict' })).rejects.toBeInstanceOf(VerifierError);
  });
});
