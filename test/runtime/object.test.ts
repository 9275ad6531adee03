/**
 * The object API (runtime/object.ts) over every example of examples/: each prebuilt object loads, verifies in
 * strict mode with every memory access proven, runs XDP-style and gives the expected actions and map contents,
 * on every engine. Also: errors for unknown programs and maps, faults naming the pc and packet.
 */

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENGINES } from '../../runtime/engines.js';
import { loadObject, XDP_DROP, XDP_PASS, XDP_TX } from '../../runtime/object.js';
import type { KeyValueMap, PerCpuMap, ProgArray, RingBuffer } from '../../runtime/maps/map.js';
import { ExecutionError, InvalidProgramError } from '../../src/errors.js';

const EX = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', '..', 'examples');

/** An Ethernet + IPv4 frame: `proto` 6 (TCP, with `tcpFlags`), 17 (UDP) or 1 (ICMP), from `src` (dotted quad). */
function frame(src: string, proto = 17, opts: { dport?: number; tcpFlags?: number; pad?: number } = {}): Uint8Array {
  const l4 = proto === 6 ? 20 : 8;
  const f = new Uint8Array(14 + 20 + l4 + (opts.pad ?? 0));
  const v = new DataView(f.buffer);
  v.setUint16(12, 0x0800);
  v.setUint8(14, 0x45);
  v.setUint16(16, f.length - 14);
  v.setUint8(22, 64);
  v.setUint8(23, proto);
  src.split('.').forEach((b, i) => v.setUint8(26 + i, Number(b)));
  v.setUint32(30, 0x0a000001);
  v.setUint16(34, 40000);
  v.setUint16(36, opts.dport ?? 80);
  if (proto === 6) {
    v.setUint8(46, 0x50);
    v.setUint8(47, opts.tcpFlags ?? 0x10);
  }
  return f;
}
const ip = (s: string): Buffer => Buffer.from(s.split('.').map(Number));
const ARP = (() => {
  const f = new Uint8Array(42);
  f[12] = 0x08;
  f[13] = 0x06;
  return f;
})();

describe.each(ENGINES)('examples on %s', (engine) => {
  it('blocklist: drops listed sources, counts drops per source, passes the rest (v3 and v4 objects)', async () => {
    for (const file of ['blocklist.o', 'blocklist.v4.o']) {
      const obj = await loadObject(join(EX, 'blocklist', file), { engine });
      const p = obj.program('xdp_blocklist');
      expect(p.type).toBe('xdp');
      expect(p.verified?.proven.size).toBe(p.verified?.accesses.size);
      const bl = obj.map('blocklist') as KeyValueMap<Buffer, Buffer>;
      expect(p.run(frame('192.0.2.7'))).toBe(XDP_PASS);
      bl.set(ip('192.0.2.7'), Buffer.alloc(8));
      expect(p.runBatch([frame('192.0.2.7'), frame('192.0.2.8'), frame('192.0.2.7', 6), ARP, new Uint8Array(5)])).toEqual(
        Uint32Array.from([XDP_DROP, XDP_PASS, XDP_DROP, XDP_PASS, XDP_PASS]),
      );
      expect(bl.get(ip('192.0.2.7'))!.readBigUInt64LE(0)).toBe(2n);
      bl.delete(ip('192.0.2.7'));
      expect(p.run(frame('192.0.2.7'))).toBe(XDP_PASS);
    }
  });

  it('proto_counter: counts per IPv4 protocol in a per-CPU array', async () => {
    const obj = await loadObject(join(EX, 'proto_counter', 'proto_counter.o'), { engine });
    const p = obj.program('xdp_count_protocols');
    for (const f of [frame('1.1.1.1', 6), frame('1.1.1.1', 6), frame('1.1.1.1', 17), frame('1.1.1.1', 1), ARP]) expect(p.run(f)).toBe(XDP_PASS);
    const counts = (obj.map('proto_count') as PerCpuMap<number, bigint>).typed('u32', 'u64');
    expect(counts.get(6)).toEqual([2n]);
    expect(counts.get(17)).toEqual([1n]);
    expect(counts.get(1)).toEqual([1n]);
    expect(counts.get(2)).toEqual([0n]);
  });

  it('lpm_acl: the longest matching prefix decides the action', async () => {
    const obj = await loadObject(join(EX, 'lpm_acl', 'lpm_acl.o'), { engine });
    const p = obj.program('xdp_acl');
    const acl = obj.map('acl') as KeyValueMap<Buffer, Buffer>;
    const key = (len: number, addr: string) => Buffer.concat([Buffer.from(Uint32Array.of(len).buffer), ip(addr)]);
    const action = (a: number) => Buffer.from(Uint32Array.of(a).buffer);
    acl.set(key(8, '10.0.0.0'), action(XDP_DROP));
    acl.set(key(24, '10.1.2.0'), action(XDP_PASS));
    acl.set(key(32, '10.1.2.3'), action(XDP_TX));
    expect(p.runBatch([frame('10.9.9.9'), frame('10.1.2.9'), frame('10.1.2.3'), frame('11.0.0.1')])).toEqual(
      Uint32Array.from([XDP_DROP, XDP_PASS, XDP_TX, XDP_PASS]),
    );
  });

  it('ringbuf_logger: logs each TCP SYN as a record, in order', async () => {
    const obj = await loadObject(join(EX, 'ringbuf_logger', 'ringbuf_logger.o'), { engine });
    const p = obj.program('xdp_log_syn');
    const packets = [frame('10.0.0.1', 6, { tcpFlags: 0x02, dport: 22 }), frame('10.0.0.2', 6, { tcpFlags: 0x12 }), frame('10.0.0.3', 17), frame('10.0.0.4', 6, { tcpFlags: 0x02, dport: 443, pad: 6 })];
    expect([...p.runBatch(packets)]).toEqual([XDP_PASS, XDP_PASS, XDP_PASS, XDP_PASS]);
    const records = (obj.map('events') as RingBuffer).poll();
    expect(records.map((r) => [r.subarray(0, 4).join('.'), r.readUInt16LE(10), r.readUInt32LE(12)])).toEqual([
      ['10.0.0.1', 22, 54],
      ['10.0.0.4', 443, 60],
    ]);
  });

  it('tailcall_pipeline: parse -> classify -> act through the object\'s own PROG_ARRAY, counting per class', async () => {
    const obj = await loadObject(join(EX, 'tailcall_pipeline', 'tailcall_pipeline.o'), { engine });
    for (const p of obj.programs.values()) expect(p.verified?.proven.size).toBe(p.verified?.accesses.size);
    const parse = obj.program('parse');
    const icmpBig = frame('10.0.0.1', 1, { pad: 1200 });
    expect([...parse.runBatch([frame('10.0.0.1', 6), frame('10.0.0.1', 17), frame('10.0.0.1', 1), icmpBig, ARP, new Uint8Array(8)])]).toEqual([
      XDP_PASS, XDP_PASS, XDP_PASS, XDP_DROP, XDP_PASS, XDP_DROP,
    ]);
    const counts = (obj.map('class_count') as KeyValueMap<number, bigint>).typed('u32', 'u64');
    expect([0, 1, 2, 3].map((c) => counts.get(c))).toEqual([1n, 1n, 1n, 2n]); // other (ARP), tcp, udp, icmp x2
    // Hot swap: empty the act slot; classify then falls through to XDP_PASS and nothing more is counted.
    obj.runtime.setProgram(obj.map('stages') as ProgArray, 2, undefined);
    expect(parse.run(icmpBig)).toBe(XDP_PASS);
    expect(counts.get(3)).toBe(2n);
  });

  it('reports unknown programs and maps; runs unverified with every access checked', async () => {
    const obj = await loadObject(join(EX, 'blocklist', 'blocklist.o'), { engine, verify: 'off' });
    expect(() => obj.program('nope')).toThrow(InvalidProgramError);
    expect(() => obj.map('nope')).toThrow(/no map 'nope' \(maps: blocklist\)/);
    // Unverified, every access is checked at run time, and the answers are the same.
    expect(obj.program('xdp_blocklist').verified).toBeUndefined();
    expect(obj.program('xdp_blocklist').run(frame('1.2.3.4'))).toBe(XDP_PASS);
  });
});

describe('loadObject', () => {
  const textOnly = join(EX, '..', 'test', 'elf', 'fixtures', 'text_only.o');

  it('rejects a program the strict verifier cannot prove, with the reason and the pc', async () => {
    // `first` reads *ctx (a raw input of unknown length) without checking its length.
    const err = await loadObject(textOnly, { engine: 'interp', programs: ['first'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidProgramError);
    expect((err as Error).message).toMatch(/^pc 0: /);
  });

  it.each(ENGINES)('checks what it cannot prove at run time (%s): a short input faults with the pc and the packet', async (engine) => {
    const obj = await loadObject(textOnly, { engine, verify: 'permissive' });
    const second = obj.program('second');
    expect(second.type).toBe('raw');
    expect(second.run(Uint8Array.of(1, 0, 0, 0, 250, 0, 0, 0))).toBe(101); // clamp(250) + 1
    const err = (() => {
      try {
        second.runBatch([new Uint8Array(8), new Uint8Array(6)]);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ExecutionError);
    expect((err as ExecutionError).code).toBe('out_of_bounds');
    expect((err as ExecutionError).message).toMatch(/^pc 0: packet 1: /);
    expect(second.run(Uint8Array.of(0, 0, 0, 0, 7, 0, 0, 0))).toBe(8); // still usable
    await expect(loadObject(textOnly, { engine, programs: ['nope'] })).rejects.toThrow(/no program 'nope'/);
  });
});
