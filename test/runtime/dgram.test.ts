/**
 * attachFilter (runtime/dgram.ts): a real UDP socket on 127.0.0.1 with the udp_filter example attached; the
 * datagrams the program drops never reach the `message` listener, and the counters (ours and the program's own
 * map) agree. On every engine.
 */

import { createSocket, type Socket } from 'node:dgram';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { attachFilter } from '../../runtime/dgram.js';
import { ENGINES } from '../../runtime/engines.js';
import { loadObject } from '../../runtime/object.js';
import type { KeyValueMap } from '../../runtime/maps/map.js';

const OBJ = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', '..', 'examples', 'udp_filter', 'udp_filter.o');

const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

function bound(): Promise<Socket> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    sockets.push(s);
    s.bind(0, '127.0.0.1', () => resolve(s));
  });
}

function send(from: Socket, to: Socket, text: string): Promise<void> {
  return new Promise((resolve, reject) => from.send(text, to.address().port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
}

describe.each(ENGINES)('a socket filter on a UDP socket (%s)', (engine) => {
  it('drops what the program drops, before any listener, with counters', async () => {
    const obj = await loadObject(OBJ, { engine });
    const [server, good, bad] = [await bound(), await bound(), await bound()];
    (obj.map('blocked_ports') as KeyValueMap<Buffer, Buffer>).typed('u32', 'u8').set(bad.address().port, 1);
    const filter = attachFilter(server, obj.program('udp_payload_filter'));
    const received: string[] = [];
    const all = new Promise<void>((resolve) => {
      server.on('message', (msg) => {
        received.push(msg.toString());
        if (msg.toString() === 'last') resolve();
      });
    });
    await send(good, server, 'hello');
    await send(good, server, 'DROP me');
    await send(bad, server, 'from a blocked port');
    await send(good, server, 'DRO');
    await send(good, server, 'last');
    await all;
    expect(received).toEqual(['hello', 'DRO', 'last']);
    expect({ passed: filter.passed, dropped: filter.dropped, errors: filter.errors }).toEqual({ passed: 3, dropped: 2, errors: 0 });
    const verdicts = (obj.map('verdicts') as KeyValueMap<number, Buffer>).typed('u32', 'u64');
    expect([verdicts.get(0), verdicts.get(1)]).toEqual([3n, 2n]);

    filter.detach();
    const after = new Promise<string>((resolve) => server.once('message', (m) => resolve(m.toString())));
    await send(good, server, 'DROP but detached');
    expect(await after).toBe('DROP but detached');
  });
});
