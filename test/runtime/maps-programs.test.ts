/**
 * Programs using maps, end to end on every engine: `lddw map_idx`/`map_idx_value` resolved by
 * relocateMaps, the map helpers of `MapRegistry.helpers` (pointer arguments checked against the execution's
 * regions), the map regions added to every run, and the ELF fixtures maps.o (per-CPU array, LPM trie, ring
 * buffer, array of maps, prog array with a tail call) and globals.o (.rodata/.data/.bss).
 */

import { describe, expect, it } from 'vitest';
import { ExecutionError } from '../../src/errors.js';
import { UnwindSignal, type HelperFn, type HelperTable } from '../../src/exec.js';
import { assemble } from '../../src/isa/asm.js';
import { Runtime, type LoadedProgram } from '../../runtime/runtime.js';
import { ENGINES } from '../../runtime/engines.js';
import { relocateMaps } from '../../runtime/maps/relocate.js';
import { MAP_HELPER } from '../../runtime/maps/abi.js';
import type { AnyMap, KeyValueMap, PerCpuMap, RingBuffer } from '../../runtime/maps/map.js';
import { loadFixture, programNamed } from '../elf/fixtures.js';
import { faults } from './faults.js';

describe.each(ENGINES)('assembled programs on %s', (engine) => {
  const counter = [
    'lddw map_idx %r1, 0',
    'mov %r2, %r10',
    'add %r2, -8',
    'stdw [%r10-8], 5', // key 5 (the key is 4 bytes: its low half)
    'call 1',
    'jeq %r0, 0, +3',
    'mov %r1, 1',
    'lock add [%r0+0], %r1',
    'exit',
    'stdw [%r10-16], 1', // absent: insert 1
    'lddw map_idx %r1, 0',
    'mov %r2, %r10',
    'add %r2, -8',
    'mov %r3, %r10',
    'add %r3, -16',
    'mov %r4, 0',
    'call 2',
    'exit',
  ].join('\n');

  it('count in a hash map: lookup, atomic add through the value pointer, insert', async () => {
    const rt = new Runtime();
    const counts = rt.createMap({ name: 'counts', type: 'hash', keySize: 4, valueSize: 8, maxEntries: 16 }).typed('u32', 'u64');
    const loaded = await rt.load(relocateMaps(assemble(counter), [counts]), { engine, helpers: rt.maps.helpers });
    for (let i = 0; i < 5; i++) loaded.run();
    expect(counts.get(5)).toBe(5n);
    counts.set(5, 100n);
    loaded.run();
    expect(counts.get(5)).toBe(101n);
  });

  it('map_fd and map_value name maps by id; map_idx_value loads a value address', async () => {
    const rt = new Runtime();
    const data = rt.createMap({ name: '.data', type: 'array', keySize: 4, valueSize: 16, maxEntries: 1 });
    data.set(0, Buffer.from('0123456789abcdef'));
    const src = [
      `lddw map_idx_value %r1, ${(4n << 32n) | 0n}`, // &.data + 4
      'ldxw %r0, [%r1+0]',
      `lddw map_value %r2, ${(8n << 32n) | BigInt(data.id)}`, // &.data + 8, by id
      'stw [%r2+0], 0x21212121',
      `lddw map_fd %r3, ${data.id}`,
      'exit',
    ].join('\n');
    const loaded = await rt.load(relocateMaps(assemble(src), [data], rt.maps), { engine, helpers: rt.maps.helpers });
    expect(loaded.run().r0).toBe(BigInt(Buffer.from('4567').readUInt32LE(0)));
    expect(data.get(0)!.toString()).toBe('01234567!!!!cdef');
    expect(() => relocateMaps(assemble('lddw map_idx %r1, 3\nexit'), [data])).toThrow(/no such map/);
    expect(() => relocateMaps(assemble(`lddw map_idx_value %r1, ${16n << 32n}\nexit`), [data])).toThrow(/no direct value/);
  });

  it('queue, stack and bloom filter helpers from a program', async () => {
    const rt = new Runtime();
    const q = rt.createMap({ type: 'queue', valueSize: 8, maxEntries: 4 }).typed('u64');
    const bloom = rt.createMap({ type: 'bloom_filter', valueSize: 8, maxEntries: 16 }).typed('u64');
    q.push(7n).push(8n);
    const src = [
      'lddw map_idx %r1, 0', 'mov %r2, %r10', 'add %r2, -8', 'call 88', // pop 7 into [r10-8]
      'lddw map_idx %r1, 1', 'mov %r2, %r10', 'add %r2, -8', 'mov %r3, 0', 'call 87', // bloom push 7
      'lddw map_idx %r1, 0', 'mov %r2, %r10', 'add %r2, -16', 'call 89', // peek 8 into [r10-16]
      'ldxdw %r0, [%r10-16]', 'ldxdw %r1, [%r10-8]', 'lsh %r0, 8', 'or %r0, %r1', 'exit',
    ].join('\n');
    const loaded = await rt.load(relocateMaps(assemble(src), [q, bloom]), { engine, helpers: rt.maps.helpers });
    expect(loaded.run().r0).toBe((8n << 8n) | 7n);
    expect(bloom.has(7n)).toBe(true);
    expect([...q.drain()]).toEqual([8n]);
  });

  it('helpers fault on pointers outside the stack and regions, and on writes to read-only ones', async () => {
    const rt = new Runtime();
    const h = rt.createMap({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 4 });
    const q = rt.createMap({ type: 'queue', valueSize: 8, maxEntries: 4 }).typed('u64');
    const ro = rt.createMap({ name: '.rodata', type: 'array', keySize: 4, valueSize: 8, maxEntries: 1, flags: 1 << 7, frozen: true });
    q.push(1n);
    const load = (src: string): Promise<LoadedProgram> => rt.load(relocateMaps(assemble(src), [h, q, ro]), { engine, helpers: rt.maps.helpers });
    const bad = await load('lddw map_idx %r1, 0\nmov %r2, 0x1000\ncall 1\nexit');
    const e1 = faults(() => bad.run());
    expect(e1.code).toBe('out_of_bounds');
    expect(e1.pc).toBe(3);
    const straddle = await load('lddw map_idx %r1, 0\nmov %r2, %r10\nadd %r2, -2\ncall 1\nexit'); // 4-byte key, 2 bytes left
    expect(faults(() => straddle.run()).code).toBe('out_of_bounds');
    const popIntoRo = await load(`lddw map_idx %r1, 1\nlddw map_idx_value %r2, ${2}\ncall 88\nexit`);
    expect(faults(() => popIntoRo.run()).code).toBe('read_only');
    const storeRo = await load(`lddw map_idx_value %r1, 2\nstdw [%r1+0], 1\nexit`);
    expect(faults(() => storeRo.run()).code).toBe('read_only');
    // A bad handle is not a fault: the helper answers NULL / -EINVAL, as with any missing element.
    const badHandle = await load('mov %r1, 12345\nmov %r2, %r10\nadd %r2, -8\ncall 1\nexit');
    expect(badHandle.run().r0).toBe(0n);
    const badUpdate = await load('lddw %r1, 0xebf0a00000000063\nmov %r2, %r10\nadd %r2, -8\nmov %r3, %r2\nmov %r4, 0\ncall 2\nexit');
    expect(badUpdate.run().r0).toBe(BigInt.asUintN(64, -22n));
    // Dereferencing a handle faults on the region check: it is no address.
    const deref = await load('lddw map_idx %r1, 0\nldxdw %r0, [%r1+0]\nexit');
    expect(faults(() => deref.run()).code).toBe('out_of_bounds');
  });

  it('refuse to run without the execution\'s regions (an engine that does not pass HelperEnv.request)', () => {
    const rt = new Runtime();
    rt.createMap({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 4 });
    const lookup = rt.maps.helpers.get(MAP_HELPER.map_lookup_elem)!;
    expect(() => lookup(1n, 2n, 0n, 0n, 0n, { memory: rt.memory, pc: 9 })).toThrow(expect.objectContaining({ code: 'helper_failed', pc: 9 }));
  });
});

describe.each(ENGINES)('ELF objects on %s', (engine) => {
  it('maps.o: per-CPU array, LPM trie, ring buffer, array of maps and a tail call through the prog array', async () => {
    const obj = loadFixture('maps.o');
    const rt = new Runtime();
    const slots = new Map<string, number>();
    obj.programs.forEach((p, i) => slots.set(p.name, i));
    const maps = rt.createMaps(obj.maps, { programSlot: (name) => slots.get(name) });
    const byName = (n: string): AnyMap => maps[obj.maps.findIndex((s) => s.name === n)];

    // bpf_tail_call (12) for this test: run the program in the slot and end with its r0; fall through when empty.
    const loaded: LoadedProgram[] = [];
    let ctxBytes: Uint8Array = new Uint8Array(0);
    const tailCall: HelperFn = (_ctx, map, index) => {
      const slot = rt.maps.exports.prog_array_get(map, index);
      if (slot < 0n) return slot;
      throw new UnwindSignal(loaded[Number(slot)].run(ctxBytes).r0);
    };
    const helpers: HelperTable = new Map([...rt.maps.helpers, [MAP_HELPER.tail_call, tailCall]]);
    for (const p of obj.programs) loaded.push(await rt.load(relocateMaps(p.program, maps), { engine, helpers }));
    const dispatch = loaded[obj.programs.indexOf(programNamed(obj, 'dispatch'))];

    const routes = (byName('routes') as KeyValueMap).typed('ipv4/lpm', 'u32');
    routes.set('10.0.0.0/8', 77);
    const events = byName('events') as RingBuffer;
    const perCpu = (byName('per_cpu') as PerCpuMap).typed('u32', 'u64');
    const pinned = (byName('pinned') as KeyValueMap).typed('u32', 'ipv4/lpm');

    const skb = (mark: number, ip: number[]): Uint8Array => {
      const b = new Uint8Array(192);
      new DataView(b.buffer).setUint32(8, mark, true); // __sk_buff.mark
      b.set(ip, 92); // __sk_buff.remote_ip4
      return b;
    };
    ctxBytes = skb(0, [10, 1, 2, 3]);
    expect(dispatch.run(ctxBytes).r0).toBe(1n); // jump_table[0] = tail_a
    ctxBytes = skb(2, [10, 1, 2, 3]);
    expect(dispatch.run(ctxBytes).r0).toBe(2n); // jump_table[2] = tail_b
    ctxBytes = skb(1, [192, 168, 0, 1]);
    expect(dispatch.run(ctxBytes).r0).toBe(0n); // jump_table[1] is empty: falls through
    expect(perCpu.get(0)).toEqual([3n]);
    expect(events.poll().map((r) => r.readUInt32LE(0))).toEqual([77, 77]); // the third address matched no route
    expect(pinned.get(0)).toBe('192.168.0.1/32'); // outer[0] = inner_a exists, so pinned[0] got the key
  });

  it('globals.o: .data and .bss written by the program, .rodata set before freezing and read-only after', async () => {
    const obj = loadFixture('globals.o');
    const rt = new Runtime();
    const maps = rt.createMaps(obj.maps, { freeze: false });
    const byName = (n: string): KeyValueMap<number, Buffer> => maps[obj.maps.findIndex((s) => s.name === n)] as KeyValueMap<number, Buffer>;
    const rodata = byName('.rodata');
    // libbpf lets user space set const volatile values before load: threshold is the first u32 of .rodata.
    const ro = Buffer.from(rodata.get(0)!);
    expect(ro.readUInt32LE(0)).toBe(0x11223344);
    ro.writeUInt32LE(100, 0);
    rodata.set(0, ro);
    rodata.freeze();
    expect(() => rodata.set(0, ro)).toThrow(expect.objectContaining({ code: 'EPERM' }));
    const printk: HelperFn = () => 0n;
    const helpers: HelperTable = new Map([...rt.maps.helpers, [6, printk]]);
    const prog = await rt.load(relocateMaps(programNamed(obj, 'xdp_globals').program, maps), { engine, helpers });
    const md = (len: number): Uint8Array => {
      const b = new Uint8Array(24);
      new DataView(b.buffer).setUint32(4, len, true); // xdp_md.data_end - xdp_md.data = len
      return b;
    };
    expect(prog.run(md(50)).r0).toBe(2n); // XDP_PASS
    expect(prog.run(md(101)).r0).toBe(1n); // XDP_DROP: above the threshold set through .rodata
    const data = byName('.data').get(0)!;
    expect(data.readBigUInt64LE(0)).toBe(0x0102030405060708n + 2n); // hits
    const bss = byName('.bss').get(0)!;
    expect(bss.readUInt32LE(4 * (50 & 3))).toBe(50); // scratch[len & 3] = len
    expect(bss.readUInt32LE(4 * (101 & 3))).toBe(101);
    expect(bss.readBigUInt64LE(16)).toBe(1n); // dropped
  });
});
