/**
 * The packet path's contract between the runtime and the engines (runtime/filter.ts lays out the memory and
 * drives an engine; codegen/host.ts and src/interp/packet.ts are the engines): where a path's buffers lie
 * ({@link PacketBinding}), what an engine does with them ({@link PacketEngine}), the context of XDP- and
 * socket-filter-style runs ({@link PacketContext}, set up by {@link fillPacketContext} for engines driven from
 * JS and by the JIT's generated entries), and the request helpers see ({@link packetRequest}).
 *
 * Not here: the layout and the API (runtime/filter.ts), the engines themselves.
 */

import type { ExecRequest, HelperTable, Region } from './exec.js';

/**
 * The context a packet path's runs get in r1 instead of the packet (frame.ts, `PACKET_ENTRIES`, context mode):
 * a struct such as XDP's `xdp_md` or a socket filter's `__sk_buff`, with the fields each run sets. Compiled
 * into the entries (`TranslateOptions.packetContext`); offsets are from the struct's start, fields are u32
 * unless said otherwise.
 */
export interface PacketContext {
  /** Bytes of the struct (a multiple of 4). */
  readonly size: number;
  /** Fields set to the packet's address, to its end (address + length), to its length. */
  readonly data: readonly number[];
  readonly dataEnd: readonly number[];
  readonly len: readonly number[];
  /** A u16 field set to packet bytes 12..13 as they are (the EtherType, network order) when the packet has 14 bytes, else 0. */
  readonly etherType?: number;
  /** Byte ranges (4-byte aligned) a program may write: restored from the template before each run. */
  readonly writable: readonly { readonly start: number; readonly end: number }[];
}

/**
 * Where a packet path's buffers lie in linear memory, and what its runs may access (runtime/filter.ts lays
 * them out). Fixed until the next {@link PacketEngine.bind}.
 */
export interface PacketBinding {
  /** This path's own stack (STACK_SIZE bytes): no other execution uses it. */
  readonly stackBase: number;
  /** The packet area: a single packet at `data`; batch packet i at `data + offsets[i]`. */
  readonly data: number;
  /** u32 table of `count + 1` batch offsets, relative to `data` (non-decreasing, within the area). */
  readonly offsets: number;
  /** u32 table of `count` batch results. */
  readonly results: number;
  /** u32 table of each batch packet's r3, its wire length (0 when the host has none). */
  readonly wire: number;
  /** Whether programs may write the packet. */
  readonly writable: boolean;
  /** Budget of each run (see `ExecRequest.budget`); undefined: none. */
  readonly budget: number | undefined;
  /**
   * Regions besides the packet (the context's, the map arenas). Loads get a slot for each region no other one
   * contains, stores one for each writable region: at most REGION_SLOTS - 1 of each.
   */
  readonly regions: readonly Region[];
  readonly helpers: HelperTable;
  /**
   * Context mode (the module must have been compiled with the same `PacketContext`): the struct r1 points at,
   * and its template (the same size), which holds the static fields and the initial value of the writable ones.
   */
  readonly context?: { readonly ctx: number; readonly template: number; readonly layout: PacketContext };
}

/**
 * An engine's side of the packet path: runs on packets already placed in linear memory, with r1 = the
 * packet's address, r2 = its length, and an all-zero stack at the start of every run. Results are r0's low 32
 * bits. The JIT implements it with its `run_packet` / `run_batch` exports, the interpreter with a lean entry
 * (src/interp/packet.ts); runtime/filter.ts implements it for any other `Executable` by looping in JS, with the
 * same layout, so that they all give the same results.
 */
export interface PacketEngine {
  /** (Re)binds the buffers and regions. */
  bind(binding: PacketBinding): void;
  /** Runs on the packet of `len` bytes at `data`, with r3 = `wire` (its wire length, or 0); returns r0's low 32 bits (unsigned). */
  runOne(len: number, wire: number): number;
  /**
   * Runs batch packets `first`..`count`-1 (`first` defaults to 0), writing each r0's low 32 bits to the results
   * table. A fault ends the batch (the `ExecutionError` propagates) with {@link position} = the faulting packet.
   */
  runBatch(count: number, first?: number): void;
  /** The batch packet that was running when `runBatch` threw. */
  readonly position: number;
}

/**
 * The request of a packet path's run on the packet `[start, start + length)` with wire length `wire`: the
 * path's stack, the packet region (when not empty) before the bound regions, r1..r3 as the file header says
 * (r1 = the context in context mode), the budget, the packet for legacy loads. What engines that run packets
 * without a request give helpers that ask for one (`HelperEnv.request`).
 */
export function packetRequest(memory: WebAssembly.Memory, b: PacketBinding, start: number, length: number, wire: number): ExecRequest {
  return {
    memory,
    stackBase: b.stackBase,
    regions: length > 0 ? [{ start, end: start + length, writable: b.writable, name: 'packet' }, ...b.regions] : b.regions,
    args: b.context ? [BigInt(b.context.ctx), 0n] : [BigInt(start), BigInt(length), BigInt(wire)],
    helpers: b.helpers,
    budget: b.budget,
    packet: { start, length },
  };
}

/**
 * Context mode, for engines driven from JS: what the JIT's entries do before a run (codegen/translate.ts,
 * `setContext`): the writable fields from the template (when given), then the per-packet fields of the packet
 * `[start, start + length)`.
 */
export function fillPacketContext(dv: DataView, ctx: number, c: PacketContext, start: number, length: number, template?: number): void {
  if (template !== undefined) for (const w of c.writable) for (let off = w.start; off < w.end; off += 4) dv.setUint32(ctx + off, dv.getUint32(template + off, true), true);
  for (const off of c.data) dv.setUint32(ctx + off, start, true);
  for (const off of c.dataEnd) dv.setUint32(ctx + off, start + length, true);
  for (const off of c.len) dv.setUint32(ctx + off, length, true);
  if (c.etherType !== undefined) dv.setUint16(ctx + c.etherType, length >= 14 ? dv.getUint16(start + 12, true) : 0, true);
}
