/**
 * Socket filters for `node:dgram`: attach a loaded eBPF program to a UDP socket so that the datagrams it drops
 * never reach the socket's `message` listeners, with counters.
 *
 * What the program sees: the datagram's payload as the packet (`data`..`data_end`, read-only), and for
 * `socket` programs a `struct __sk_buff` with `len` (payload bytes), `remote_ip4` and `remote_port` (the
 * sender, network byte order as in Linux), `family` (AF_INET). Verdicts follow the program type: a socket filter
 * returns the number of bytes to keep (0 drops the datagram; a datagram is never truncated here), an XDP
 * program an action (`XDP_DROP` and `XDP_ABORTED` drop), anything else drops on 0.
 *
 * A program that faults on a datagram drops it (as the kernel does with a filter that aborts) and counts it in
 * `errors`; `onError` sees the typed error.
 *
 * Not here: loading programs (object.ts).
 */

import type { RemoteInfo, Socket } from 'node:dgram';
import { isIPv4 } from 'node:net';
import { ExecutionError } from '../src/errors.js';
import { XDP_ABORTED, XDP_DROP, type BpfProgram } from './object.js';

/** Options for {@link attachFilter}. */
export interface AttachFilterOptions {
  /** Called with the error when the program faults on a datagram (which is then dropped). */
  readonly onError?: (error: ExecutionError, msg: Buffer, rinfo: RemoteInfo) => void;
}

/** A filter attached to a socket. */
export interface SocketFilter {
  /** Datagrams delivered to the socket's listeners. */
  readonly passed: number;
  /** Datagrams the program dropped. */
  readonly dropped: number;
  /** Datagrams dropped because the program faulted. */
  readonly errors: number;
  /** Removes the filter: every datagram is delivered again. */
  detach(): void;
}

function ipv4Number(address: string): number {
  if (!isIPv4(address)) return 0;
  return address.split('.').reduce((a, b) => ((a << 8) | Number(b)) >>> 0, 0);
}

/** Whether a program's verdict delivers the datagram (see the file header). */
function delivers(program: BpfProgram, verdict: number): boolean {
  if (program.type === 'xdp') return verdict !== XDP_DROP && verdict !== XDP_ABORTED;
  return verdict !== 0;
}

/**
 * Attaches `program` to `socket`: from now on each received datagram runs through it before any `message`
 * listener sees it. Returns the counters and a way to detach.
 */
export function attachFilter(socket: Socket, program: BpfProgram, options: AttachFilterOptions = {}): SocketFilter {
  const counters = { passed: 0, dropped: 0, errors: 0 };
  const originalEmit = socket.emit;
  let attached = true;
  // Intercepting emit('message') is the one place every datagram passes through before listeners, whichever
  // way they were added (on, once, prependListener); other events go through untouched.
  const filteredEmit = function (this: Socket, event: string | symbol, ...args: unknown[]): boolean {
    if (attached && event === 'message') {
      const msg = args[0] as Buffer;
      const rinfo = args[1] as RemoteInfo;
      let deliver: boolean;
      try {
        deliver = delivers(program, program.run(msg, { remoteIp4: ipv4Number(rinfo.address), remotePort: rinfo.port }));
      } catch (e) {
        if (!(e instanceof ExecutionError)) throw e;
        counters.errors++;
        options.onError?.(e, msg, rinfo);
        return false;
      }
      if (!deliver) {
        counters.dropped++;
        return false;
      }
      counters.passed++;
    }
    return (originalEmit as (this: Socket, event: string | symbol, ...a: unknown[]) => boolean).call(this, event, ...args);
  };
  socket.emit = filteredEmit as Socket['emit'];
  return {
    get passed() {
      return counters.passed;
    },
    get dropped() {
      return counters.dropped;
    },
    get errors() {
      return counters.errors;
    },
    detach() {
      attached = false;
      if (socket.emit === filteredEmit) socket.emit = originalEmit;
    },
  };
}
