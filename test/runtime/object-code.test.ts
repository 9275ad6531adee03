/**
 * `loadObject` for code (assembly, bytecode, code files) and the context mode of the packet path that XDP and
 * socket filter programs take (runtime/object.ts, `fastPath`; codegen/translate.ts, `setContext`): the
 * context's per-packet fields, its static fields from the run's meta, writable fields reset before every run,
 * the packet's writability, batches in both forms, faults naming their packet, on every engine.
 */

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExecutionError, InvalidProgramError, VerifierError } from '../../src/errors.js';
import { encode } from '../../src/isa/encode.js';
import { assemble } from '../../src/isa/asm.js';
import { ENGINES } from '../../runtime/engines.js';
import { BatchExecutionError, PacketPath } from '../../runtime/filter.js';
import { Runtime } from '../../runtime/runtime.js';
import type { ProgArray } from '../../runtime/maps/map.js';
import { loadObject, XDP_DROP, XDP_PASS } from '../../runtime/object.js';

/** XDP: r0 = len + 1000 * ingress_ifindex + 100000 * rx_queue_index + ((packet[0] + 1) & 0xff) << 20, which it stores back. */
const XDP_FIELDS = [
  'ldxw %r2, [%r1+0]', 'ldxw %r3, [%r1+4]', 'ldxw %r5, [%r1+12]', 'ldxw %r6, [%r1+16]',
  'mov %r0, %r3', 'sub %r0, %r2', 'mul %r5, 1000', 'add %r0, %r5', 'mul %r6, 100000', 'add %r0, %r6',
  'mov %r7, %r2', 'add %r7, 1', 'jgt %r7, %r3, +6',
  'ldxb %r8, [%r2+0]', 'add %r8, 1', 'stxb [%r2+0], %r8', 'and %r8, 0xff', 'lsh %r8, 20', 'add %r0, %r8',
  'exit',
].join('\n');

const xdpExpected = (p: Uint8Array, ifindex = 1, rxq = 0): number =>
  p.length + 1000 * ifindex + 100000 * rxq + (p.length >= 1 ? ((p[0] + 1) & 0xff) << 20 : 0);

/** Socket filter: r0 = len + (protocol as stored) << 16 + cb[0] << 8 (always 0: reset every run), then cb[0] = 77. */
const SOCKET_FIELDS = [
  'ldxw %r0, [%r1+0]', 'ldxw %r2, [%r1+16]', 'lsh %r2, 16', 'add %r0, %r2',
  'ldxw %r3, [%r1+48]', 'lsh %r3, 8', 'add %r0, %r3', 'stw [%r1+48], 77',
  'ldxw %r4, [%r1+76]', 'ldxw %r5, [%r1+80]', 'sub %r5, %r4', 'add %r0, %r5', // data_end - data: len again
  'exit',
].join('\n');

const socketExpected = (p: Uint8Array): number => (2 * p.length + (p.length >= 14 ? p[12] | (p[13] << 8) : 0) * 65536) >>> 0;

function packets(n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => Uint8Array.from({ length: (i * 7) % 70 }, (_, j) => (i * 31 + j * 7) & 0xff));
}

describe.each(ENGINES)('programs from code, context mode, on %s', (engine) => {
  it('an XDP program sees data, data_end, ingress_ifindex and rx_queue_index, and writes the packet', async () => {
    const obj = await loadObject({ asm: XDP_FIELDS, section: 'xdp' }, { engine });
    const prog = obj.program('main');
    expect(prog.type).toBe('xdp');
    expect(prog.verified?.mode).toBe('strict');
    expect(prog.packetContext).toBeDefined();
    // The JIT compiled its packet entries for this context: a batch is one call into WebAssembly.
    if (engine === 'jit') expect((prog.loaded.executable as { packetContext?: unknown }).packetContext).toBe(prog.packetContext);
    const list = packets(40);
    for (const p of list.slice(0, 10)) expect(prog.run(p)).toBe(xdpExpected(p));
    expect([...prog.runBatch(list)]).toEqual(list.map((p) => xdpExpected(p)));
    // The meta's static fields: a change applies from the next run on.
    expect([...prog.runBatch(list, { ingressIfindex: 7, rxQueueIndex: 3 })]).toEqual(list.map((p) => xdpExpected(p, 7, 3)));
    expect(prog.run(list[5], { ingressIfindex: 2 })).toBe(xdpExpected(list[5], 2));
    expect(prog.run(list[5])).toBe(xdpExpected(list[5]));
    // The {data, offsets} form: one copy for the whole batch.
    const data = new Uint8Array(list.reduce((n, p) => n + p.length, 0));
    const offsets = [0];
    for (const p of list) {
      data.set(p, offsets[offsets.length - 1]);
      offsets.push(offsets[offsets.length - 1] + p.length);
    }
    const out = new Uint32Array(list.length);
    expect(prog.runBatch({ data, offsets }, {}, out)).toBe(out);
    expect([...out]).toEqual(list.map((p) => xdpExpected(p)));
  });

  it('a socket filter sees len, protocol, data and data_end; its writable cb[] starts at 0 every run', async () => {
    const obj = await loadObject({ asm: SOCKET_FIELDS, section: 'socket' }, { engine });
    const prog = obj.program('main');
    expect(prog.packetContext).toBeDefined();
    const list = packets(30);
    expect([...prog.runBatch(list)]).toEqual(list.map(socketExpected));
    for (const p of list.slice(0, 5)) expect(prog.run(p)).toBe(socketExpected(p));
    // An explicit protocol takes the general path, which writes it as given (network byte order).
    const p = list[20];
    expect(prog.run(p, { protocol: 0x86dd })).toBe((2 * p.length + (0x86 | (0xdd << 8)) * 65536) >>> 0);
  });

  it('a tail-calling socket filter takes the packet path: the callee sees the context as its caller left it (cb[]), reset every packet', async () => {
    const rt = new Runtime();
    // Caller: cb[0] = len when len >= 3, then tail-calls jt[0]. Callee: r0 = cb[0] * 1000 + len.
    const callerAsm = [
      'mov %r6, %r1', 'ldxw %r2, [%r6+0]', 'jlt %r2, 3, +1', 'stxw [%r6+48], %r2',
      'mov %r1, %r6', 'lddw map_idx %r2, 0', 'mov %r3, 0', 'call 12', 'mov %r0, 9', 'exit',
    ].join('\n');
    const calleeAsm = 'ldxw %r0, [%r1+48]\nmul %r0, 1000\nldxw %r2, [%r1+0]\nadd %r0, %r2\nexit';
    const callee = (await loadObject({ asm: calleeAsm, section: 'socket' }, { engine, runtime: rt })).program('main');
    const callerObj = await loadObject({ asm: callerAsm, section: 'socket', maps: [{ name: 'jt', type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 1 }] }, { engine, runtime: rt });
    const caller = callerObj.program('main');
    expect(caller.verified?.mode).toBe('strict');
    rt.setProgram(callerObj.map('jt') as ProgArray, 0, callee.loaded);
    const list = [5, 1, 7, 2, 0, 3].map((n) => new Uint8Array(n).fill(n));
    const expected = list.map((p) => (p.length >= 3 ? p.length * 1001 : p.length));
    expect([...caller.runBatch(list)]).toEqual(expected);
    expect(list.map((p) => caller.run(p))).toEqual(expected);
    // The same through the general path (an explicit protocol takes it).
    expect(list.map((p) => caller.run(p, { protocol: 8 }))).toEqual(expected);
    expect((caller as unknown as { path: unknown }).path).toBeInstanceOf(PacketPath);
    rt.setProgram(callerObj.map('jt') as ProgArray, 0, undefined);
    expect([...caller.runBatch(list)]).toEqual(list.map(() => 9));
  });

  it('a tc program takes the packet path when verified strict (its writable fields as one store region), else the general path', async () => {
    // The socket program, plus: r0 += mark << 24 (0 every run: restored), then mark = 7 and tc_classid = 9.
    const tc = SOCKET_FIELDS.replace('exit', 'ldxw %r6, [%r1+8]\nlsh %r6, 24\nadd %r0, %r6\nstw [%r1+8], 7\nstw [%r1+72], 9\nexit');
    const list = packets(12);
    const strict = (await loadObject({ asm: tc, section: 'tc' }, { engine })).program('main');
    expect(strict.packetContext).toBeDefined();
    if (engine === 'jit') expect((strict.loaded.executable as { packetContext?: unknown }).packetContext).toBe(strict.packetContext);
    expect([...strict.runBatch(list)]).toEqual(list.map(socketExpected));
    expect([...strict.runBatch(list)]).toEqual(list.map(socketExpected));
    const permissive = (await loadObject({ asm: tc, section: 'tc' }, { engine, verify: 'permissive' })).program('main');
    expect(permissive.packetContext).toBeUndefined();
    expect([...permissive.runBatch(list)]).toEqual(list.map(socketExpected));
  });

  it('a fault in a batch names its packet; the object stays usable', async () => {
    // Reads byte 10 without a bounds check: permissive, so the access is checked at run time.
    const obj = await loadObject({ asm: 'ldxw %r2, [%r1+0]\nldxb %r0, [%r2+10]\nexit', section: 'xdp' }, { engine, verify: 'permissive' });
    const prog = obj.program('main');
    const list = [new Uint8Array(20), new Uint8Array(20), new Uint8Array(5), new Uint8Array(20)];
    const e = (() => {
      try {
        prog.runBatch(list);
      } catch (x) {
        return x;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(BatchExecutionError);
    expect(e).toMatchObject({ packetIndex: 2, code: 'out_of_bounds', pc: 1 });
    expect(() => prog.run(new Uint8Array(3))).toThrow(ExecutionError);
    expect(prog.run(new Uint8Array(11).fill(9))).toBe(9);
  });

  it('bytecode, and code files: assembly, hex and raw bytecode, typed by the section option', async () => {
    const code = 'mov %r0, 1\nldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r4, %r2\nadd %r4, 1\njgt %r4, %r3, +1\nmov %r0, 2\nexit';
    const bytes = encode(assemble(code));
    const fromBytes = await loadObject(bytes, { engine, section: 'xdp' });
    expect(fromBytes.program('main').run(new Uint8Array(1))).toBe(XDP_PASS);
    expect(fromBytes.program('main').run(new Uint8Array(0))).toBe(XDP_DROP);
    const named = await loadObject({ bytecode: bytes, name: 'filter', section: 'xdp' }, { engine });
    expect([...named.programs.keys()]).toEqual(['filter']);
    const dir = mkdtempSync(join(tmpdir(), 'ebpf-code-'));
    writeFileSync(join(dir, 'f.s'), code);
    writeFileSync(join(dir, 'f.bin'), bytes);
    writeFileSync(join(dir, 'f.hex'), Buffer.from(bytes).toString('hex'));
    for (const f of ['f.s', 'f.bin', 'f.hex']) {
      expect((await loadObject(join(dir, f), { engine, section: 'xdp' })).program('main').run(new Uint8Array(4))).toBe(XDP_PASS);
    }
    // Without a section, code runs raw: r1 = the packet, r2 = its length.
    const raw = await loadObject({ asm: 'mov %r0, %r2\nexit' }, { engine });
    expect(raw.program('main').type).toBe('raw');
    expect(raw.program('main').run(new Uint8Array(9))).toBe(9);
  });

  it('maps declared with the code: named, created in the runtime, verified against, shared with JS', async () => {
    // r0 = DROP (1) when the first 4 bytes are a key of `blocked`, else PASS (2).
    const fixed = [
      'mov %r0, 2', 'ldxw %r2, [%r1+0]', 'ldxw %r3, [%r1+4]', 'mov %r4, %r2', 'add %r4, 4', 'jgt %r4, %r3, +11',
      'ldxw %r5, [%r2+0]', 'stxw [%r10-4], %r5', 'lddw map_idx %r1, 0', 'mov %r2, %r10', 'add %r2, -4', 'call 1',
      'mov %r6, %r0', 'mov %r0, 2', 'jeq %r6, 0, +1', 'mov %r0, 1',
      'exit',
    ].join('\n');
    const obj = await loadObject({ asm: fixed, section: 'xdp', maps: [{ name: 'blocked', type: 'hash', keySize: 4, valueSize: 1, maxEntries: 8 }] }, { engine });
    const blocked = obj.map('blocked');
    expect(blocked.info.typeName).toBe('hash');
    const prog = obj.program('main');
    const pkt = Uint8Array.of(10, 0, 0, 1, 99);
    expect(prog.run(pkt)).toBe(XDP_PASS);
    (blocked as import('../../runtime/maps/map.js').KeyValueMap).set(Uint8Array.of(10, 0, 0, 1), Uint8Array.of(1));
    expect(prog.run(pkt)).toBe(XDP_DROP);
    expect([...prog.runBatch([pkt, Uint8Array.of(1, 2, 3, 4), Uint8Array.of(1)])]).toEqual([XDP_DROP, XDP_PASS, XDP_PASS]);
  });

  it('bad code gets typed errors', async () => {
    await expect(loadObject({ asm: 'mov %r0, 1\nbogus', section: 'xdp' }, { engine })).rejects.toThrow(InvalidProgramError);
    await expect(loadObject(new Uint8Array([0x95, 0, 0]), { engine })).rejects.toThrow(InvalidProgramError);
    await expect(loadObject({ asm: 'ldxb %r0, [%r1+0]\nexit', section: 'xdp' }, { engine })).rejects.toThrow(VerifierError);
    await expect(loadObject({} as never, { engine })).rejects.toThrow(/exactly one of asm and bytecode/);
  });
});
