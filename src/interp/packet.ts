/**
 * The interpreter's packet engine: the `PacketEngine` (src/packet.ts) that runtime/filter.ts's `PacketPath`
 * drives for programs loaded on the interpreter. Same results, faults, memory effects and helper view as the
 * general path (`Interpreter.run` on the request `packetRequest` of runtime/filter.ts describes, which is what
 * the generic `LoopPacketEngine` does), at a fraction of the fixed cost of a run:
 * - the binding (stack, regions, budget) is validated once, at `bind`, with `validateRequest`; a run only
 *   checks that its packet lies in the memory (one compare);
 * - registers go into the arena as numbers (`Interpreter.runBound`): no bigint, no request, no arrays; the
 *   request is built only when a helper reads `HelperEnv.request`, and kept for the packet's other calls;
 * - the stack is not cleared whole before every run: the loop records the lowest address each run stored to
 *   (`Layout.StoreLow`; a helper call counts as the whole stack, a faulting run too), and the next run clears
 *   only from there to the top. Every run still starts from an all-zero stack.
 * - the memory's views are re-derived only when the buffer was detached (a growth): reading
 *   `WebAssembly.Memory.buffer` costs as much as a short run.
 *
 * Not here: the layout of the path's buffers and the batch bookkeeping (runtime/filter.ts), the loop and the
 * driver (execute.ts, interpreter.ts).
 */

import { InternalError } from '../errors.js';
import { STACK_SIZE, validateRequest, type ExecRequest, type HelperTable, type Region } from '../exec.js';
import { fillPacketContext, packetRequest, type PacketBinding, type PacketEngine } from '../packet.js';
import type { Interpreter, RunSource } from './interpreter.js';

/** The {@link PacketEngine} of an {@link Interpreter} (see the file header). */
export class InterpPacketEngine implements PacketEngine, RunSource {
  position = 0;
  /** The bound stack, helpers and budget, and the current run's regions ({@link RunSource}). */
  stackBase = 0;
  helpers: HelperTable = new Map();
  budget: number | undefined;
  regions: readonly Region[] = [];
  private binding: PacketBinding | undefined;
  /** The packet region of the current run, first of {@link withPacket} (the bound regions follow). */
  private readonly packet = { start: 0, end: 0, writable: true, name: 'packet' };
  private withPacket: readonly Region[] = [];
  /** Views of the memory, and its size when they were made. */
  private u8 = new Uint8Array(0);
  private dv = new DataView(new ArrayBuffer(0));
  private size = 0;
  /** The stack below this address is all zero (the stack's top: all of it). */
  private dirtyFrom = 0;
  /** The packet of the run in progress, and the request last built for a helper (with its packet). */
  private start = 0;
  private len = 0;
  private wire = 0;
  private cached: { readonly start: number; readonly len: number; readonly wire: number; readonly req: ExecRequest } | undefined;

  constructor(private readonly interp: Interpreter, readonly memory: WebAssembly.Memory) {}

  /**
   * Binds the path's buffers after checking, as `Interpreter.run` checks a request, that the stack and the
   * regions lie in the memory and that the budget is a non-negative integer.
   *
   * @throws InternalError for a binding that does not.
   */
  bind(binding: PacketBinding): void {
    this.views();
    validateRequest(packetRequest(this.memory, binding, binding.data, 0, 0), this.size);
    this.binding = binding;
    this.stackBase = binding.stackBase;
    this.helpers = binding.helpers;
    this.budget = binding.budget;
    this.packet.writable = binding.writable;
    this.withPacket = [this.packet, ...binding.regions];
    this.cached = undefined;
    // Nothing is known of a stack just bound.
    this.dirtyFrom = binding.stackBase;
  }

  runOne(len: number, wire: number): number {
    return this.runAt(this.bound().data, len, wire);
  }

  runBatch(count: number, first = 0): void {
    const b = this.bound();
    for (let i = first; i < count; i++) {
      if (this.u8.length === 0) this.views();
      const dv = this.dv;
      const start = b.data + dv.getUint32(b.offsets + 4 * i, true);
      const end = b.data + dv.getUint32(b.offsets + 4 * i + 4, true);
      let r0: number;
      try {
        r0 = this.runAt(start, end - start, dv.getUint32(b.wire + 4 * i, true));
      } catch (e) {
        this.position = i;
        throw e;
      }
      // The run may have grown (detached) the memory.
      if (this.u8.length === 0) this.views();
      this.dv.setUint32(b.results + 4 * i, r0, true);
    }
  }

  /** The request of the run in progress, for helpers that read `HelperEnv.request` ({@link RunSource}). */
  request(): ExecRequest {
    const c = this.cached;
    if (c !== undefined && c.start === this.start && c.len === this.len && c.wire === this.wire) return c.req;
    const req = packetRequest(this.memory, this.bound(), this.start, this.len, this.wire);
    this.cached = { start: this.start, len: this.len, wire: this.wire, req };
    return req;
  }

  /** One run on the packet `[start, start + len)` with r3 = `wire`; returns r0's low 32 bits. */
  private runAt(start: number, len: number, wire: number): number {
    const b = this.bound();
    if (this.u8.length === 0) this.views();
    if (!(start + len <= this.size && len <= 0x7fff_ffff)) this.checkPacket(start, len);
    const top = this.stackBase + STACK_SIZE;
    if (this.dirtyFrom < top) this.clearStack(top);
    const c = b.context;
    if (c !== undefined) fillPacketContext(this.dv, c.ctx, c.layout, start, len, c.template);
    this.start = start;
    this.len = len;
    this.wire = wire;
    this.packet.start = start;
    this.packet.end = start + len;
    this.regions = len > 0 ? this.withPacket : b.regions;
    let r0: number;
    try {
      r0 = c !== undefined
        ? this.interp.runBound(this, this.u8, this.dv, c.ctx, 0, 0, start, len)
        : this.interp.runBound(this, this.u8, this.dv, start, len, wire, start, len);
    } catch (e) {
      // A fault leaves no record of what the run wrote.
      this.dirtyFrom = this.stackBase;
      throw e;
    }
    // Stores below the stack (other regions) make the whole stack suspect; the loop tracks one minimum.
    const low = this.interp.lastStoreLow;
    if (low < top) this.dirtyFrom = Math.max(low, this.stackBase);
    return r0;
  }

  /** Zeroes the stack from {@link dirtyFrom} to `top`: a few words by hand (a `fill` call costs more), else `fill`. */
  private clearStack(top: number): void {
    const u8 = this.u8;
    const from = this.dirtyFrom;
    if (top - from <= 32) for (let i = from; i < top; i++) u8[i] = 0;
    else u8.fill(0, from, top);
    this.dirtyFrom = top;
  }

  /** A packet beyond the memory size known: looks again (the memory may have grown), else refuses it. */
  private checkPacket(start: number, len: number): void {
    this.views();
    if (!(start + len <= this.size && len <= 0x7fff_ffff)) throw new InternalError(`invalid packet run: packet at ${start} (+${len}) is outside the ${this.size}-byte memory`);
  }

  private views(): void {
    const buf = this.memory.buffer;
    this.u8 = new Uint8Array(buf);
    this.dv = new DataView(buf);
    this.size = buf.byteLength;
  }

  private bound(): PacketBinding {
    if (this.binding === undefined) throw new InternalError('packet path used before bind');
    return this.binding;
  }
}
