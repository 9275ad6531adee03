/**
 * The Node API for real eBPF objects: `loadObject(bytesOrPath)` takes what `clang -O2 -g -target bpf` produced,
 * creates its maps in a runtime, verifies each program for its type (from its section name), resolves its map
 * references and loads it on an engine; `obj.program('xdp_filter').run(packet)` then runs it XDP-style.
 *
 * How a program is run, by type (the layouts are src/verifier/context.ts's, which the verifier proves against):
 *
 *     xdp     r1 → struct xdp_md { data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex }
 *             (24 bytes, read-only), data..data_end → a copy of the packet (writable); returns an XDP action
 *     socket  r1 → struct __sk_buff (144 bytes: len, protocol, data, data_end, ...; cb[] writable), packet
 *     tc      read-only for socket, writable for tc; returns the filter verdict / tc action
 *     raw     r1 → a copy of the input, r2 = its length (the CLI and conformance convention)
 *
 * Each run starts from a zeroed stack; its regions are the context, the packet and the runtime's map regions.
 *
 * Not here: maps themselves (maps/), engines (engines.ts), the ELF format (src/elf), the UDP socket
 * integration (dgram.ts).
 */

import { readFile } from 'node:fs/promises';
import { ExecutionError, InvalidProgramError } from '../src/errors.js';
import { STACK_SIZE, type HelperTable, type Region } from '../src/exec.js';
import { loadElf, type ElfObject, type ElfProgram } from '../src/elf/loader.js';
import { contextLayout, programTypeOfSection, type ContextLayout, type ProgramType } from '../src/verifier/context.js';
import type { VerifiedProgram } from '../src/verifier/verify.js';
import type { Program } from '../src/isa/program.js';
import type { EngineName } from './engines.js';
import type { AnyMap, ProgArray } from './maps/map.js';
import { LoadedProgram, Runtime, UNPROVEN_LOOP_BUDGET } from './runtime.js';
import type { TailCallState } from './tailcall.js';

/** XDP actions (Linux `enum xdp_action`). */
export const XDP_ABORTED = 0;
export const XDP_DROP = 1;
export const XDP_PASS = 2;
export const XDP_TX = 3;
export const XDP_REDIRECT = 4;

/** XDP action names by value, for printing. */
export const XDP_ACTION_NAMES: readonly string[] = ['XDP_ABORTED', 'XDP_DROP', 'XDP_PASS', 'XDP_TX', 'XDP_REDIRECT'];

/** Options for {@link loadObject}. */
export interface LoadObjectOptions {
  /** Engine for every program. Default `jit`. */
  readonly engine?: EngineName;
  /**
   * Verification: `strict` (default; rejects what cannot be proven, like Linux), `permissive` (accepts what is
   * structurally valid and checks the rest at run time) or `off` (every access checked at run time).
   */
  readonly verify?: 'strict' | 'permissive' | 'off';
  /** Execution budget of each run (taken backward jumps plus local calls). Default: none when the verifier proved termination, else 2^20. */
  readonly budget?: number;
  /** Extra helpers (by id) on top of the runtime's standard ones; a host helper replaces a standard one with its id. */
  readonly helpers?: HelperTable;
  /** Runtime to create the maps and load the programs in (share one to share memory). Default: a new one. */
  readonly runtime?: Runtime;
  /** Load only these programs (C function names). Default: all. */
  readonly programs?: readonly string[];
}

/** Extra context fields for one run. */
export interface PacketMeta {
  /** `ingress_ifindex` (xdp, socket, tc). Default 1. */
  readonly ingressIfindex?: number;
  /** `rx_queue_index` (xdp). Default 0. */
  readonly rxQueueIndex?: number;
  /** `protocol` of `__sk_buff` in network byte order, e.g. 0x0800 for IPv4 (socket, tc). Default: from the Ethernet header. */
  readonly protocol?: number;
  /** `remote_ip4` and `remote_port` of `__sk_buff` (socket), given as host-order numbers; stored in network byte order as in Linux. */
  readonly remoteIp4?: number;
  readonly remotePort?: number;
}

/** A loaded eBPF object: its maps and programs by C name. */
export class BpfObject {
  constructor(
    readonly runtime: Runtime,
    /** What the ELF loader read. */
    readonly elf: ElfObject,
    /** Maps by their C names (global data by section name: `.rodata`, `.data`, `.bss`). */
    readonly maps: ReadonlyMap<string, AnyMap>,
    /** Programs by their C function names. */
    readonly programs: ReadonlyMap<string, BpfProgram>,
  ) {}

  /** The program named `name` (its C function name). */
  program(name: string): BpfProgram {
    const p = this.programs.get(name);
    if (!p) throw new InvalidProgramError('elf_no_program', `no program '${name}' (programs: ${[...this.programs.keys()].join(', ')})`);
    return p;
  }

  /** The map named `name` (its C name). */
  map(name: string): AnyMap {
    const m = this.maps.get(name);
    if (!m) throw new InvalidProgramError('elf_bad_map', `no map '${name}' (maps: ${[...this.maps.keys()].join(', ')})`);
    return m;
  }
}

/** One program of a {@link BpfObject}, ready to run. */
export class BpfProgram {
  /** The program type, from its section name. */
  readonly type: ProgramType;
  private readonly layout: ContextLayout | undefined;
  private buf = 0;
  private cap = 0;

  constructor(
    readonly object: { readonly runtime: Runtime },
    readonly elf: ElfProgram,
    /** The program as loaded on the runtime (map references resolved); also what tail calls run. */
    readonly loaded: LoadedProgram,
    private readonly budgetOption: number | undefined,
  ) {
    this.type = programTypeOfSection(elf.section);
    this.layout = contextLayout(this.type);
    this.ctxSpans = this.layout ? contextSpans(this.layout) : [];
  }

  /** The context as runs of fields of equal writability: a store may reach only the fields the type makes writable. */
  private readonly ctxSpans: readonly { start: number; end: number; writable: boolean }[];

  /** The program as run: map references resolved. */
  get program(): Program {
    return this.loaded.program;
  }

  /** The engine it runs on. */
  get engine(): EngineName {
    return this.loaded.engine;
  }

  /** What the verifier proved (absent with `verify: 'off'`). */
  get verified(): VerifiedProgram | undefined {
    return this.loaded.verified;
  }

  /** C function name. */
  get name(): string {
    return this.elf.name;
  }

  /** ELF section. */
  get section(): string {
    return this.elf.section;
  }

  /**
   * Runs the program once on a copy of `packet` (see the file header for what it sees) and returns r0's low 32
   * bits: an XDP action for `xdp` programs, a verdict for the others. Throws `ExecutionError` naming the pc when
   * the program faults; the object stays usable.
   */
  run(packet: Uint8Array, meta: PacketMeta = {}): number {
    const rt = this.object.runtime;
    const ctxSize = this.layout?.size ?? 0;
    if (ctxSize + packet.length > this.cap) this.grow(ctxSize + packet.length);
    const ctx = this.buf;
    const data = this.buf + ctxSize;
    const mem = new Uint8Array(rt.memory.buffer);
    mem.set(packet, data);
    const mapRegions = rt.mapRegions();
    if (this.regions === undefined || this.regionsFor !== mapRegions) this.buildRegions(ctx, data, mapRegions);
    // The packet region is exactly the packet: an unproven read past data_end faults rather than seeing the
    // bytes a longer, earlier packet left in the buffer.
    this.packetRegion!.end = data + packet.length;
    let args: bigint[] = this.args!;
    if (this.layout) {
      mem.fill(0, ctx, ctx + ctxSize);
      this.writeContext(new DataView(rt.memory.buffer), ctx, data, packet, meta);
    } else {
      args = [packet.length > 0 ? BigInt(data) : 0n, BigInt(packet.length)];
    }
    // One stack per program, taken from the runtime's shared pool only for a nested run (a helper running
    // this program again). A strictly verified program cannot read a stack byte it did not write, so its
    // stack needs no clearing; any other is cleared so it cannot read what an earlier run left there.
    const nested = this.running;
    const stackBase = nested ? rt.acquireStack() : this.stack;
    this.running = true;
    // Tail calls (tailcall.ts): the helper leaves the callee in `state.pending` and unwinds the caller; this
    // loop runs the callee on the same context with a fresh frame, so a chain never deepens any stack.
    const state: TailCallState<LoadedProgram> = { count: 0, pending: undefined };
    const outer = rt.enterTailCalls(state);
    try {
      let prog = this.loaded;
      for (;;) {
        if (nested || prog.verified?.mode !== 'strict' || prog !== this.loaded) mem.fill(0, stackBase, stackBase + STACK_SIZE);
        const r0 = prog.executable.run({
          memory: rt.memory,
          stackBase,
          regions: this.regions!,
          args,
          helpers: prog.helpers,
          budget: this.budgetOption ?? (prog.verified?.terminates === false || prog.verified === undefined ? UNPROVEN_LOOP_BUDGET : undefined),
          packet: { start: data, length: packet.length },
        });
        const next = state.pending;
        if (next === undefined) return Number(r0 & 0xffffffffn);
        state.pending = undefined;
        prog = next.program;
        args = [next.ctx, args[1] ?? 0n];
      }
    } finally {
      rt.leaveTailCalls(outer);
      if (nested) rt.releaseStack(stackBase);
      else this.running = false;
    }
  }

  private grow(need: number): void {
    const rt = this.object.runtime;
    this.cap = Math.max(need, 2048);
    this.buf = rt.alloc(this.cap, 16);
    if (this.stack === 0) this.stack = rt.alloc(STACK_SIZE, 16);
    this.regions = undefined;
  }

  /** The regions of a run, kept between runs; only the packet region's end changes from packet to packet. */
  private buildRegions(ctx: number, data: number, mapRegions: readonly Region[]): void {
    const regions: Region[] = [];
    if (this.layout) {
      for (const span of this.ctxSpans) regions.push({ start: ctx + span.start, end: ctx + span.end, writable: span.writable, name: this.layout.struct });
      this.packetRegion = { start: data, end: data, writable: this.layout.packetWritable, name: 'packet' };
      this.args = [BigInt(ctx), 0n];
    } else {
      this.packetRegion = { start: data, end: data, writable: true, name: 'input' };
    }
    regions.push(this.packetRegion, ...mapRegions);
    this.regions = regions;
    this.regionsFor = mapRegions;
  }

  private stack = 0;
  private running = false;
  private regions: Region[] | undefined;
  private regionsFor: readonly Region[] | undefined;
  private packetRegion: { start: number; end: number; writable: boolean; name: string } | undefined;
  private args: bigint[] | undefined;

  /**
   * Runs the program over every packet in order and returns r0's low 32 bits for each. Throws an
   * `ExecutionError` whose message names the packet index when a run faults; the packets before it were run.
   */
  runBatch(packets: readonly Uint8Array[], meta: PacketMeta = {}): Uint32Array {
    const out = new Uint32Array(packets.length);
    for (let i = 0; i < packets.length; i++) {
      try {
        out[i] = this.run(packets[i], meta);
      } catch (e) {
        if (e instanceof ExecutionError) throw new ExecutionError(e.code, `packet ${i}: ${e.detail}`, e.pc ?? 0, { cause: e });
        throw e;
      }
    }
    return out;
  }

  private writeContext(dv: DataView, ctx: number, data: number, packet: Uint8Array, meta: PacketMeta): void {
    const end = data + packet.length;
    if (this.type === 'xdp') {
      dv.setUint32(ctx + 0, data, true);
      dv.setUint32(ctx + 4, end, true);
      dv.setUint32(ctx + 8, data, true); // data_meta: no metadata area
      dv.setUint32(ctx + 12, meta.ingressIfindex ?? 1, true);
      dv.setUint32(ctx + 16, meta.rxQueueIndex ?? 0, true);
      return;
    }
    // __sk_buff (socket, tc): the fields a filter commonly reads.
    const etherType = packet.length >= 14 ? (packet[12] << 8) | packet[13] : 0;
    const protocol = meta.protocol ?? etherType;
    dv.setUint32(ctx + 0, packet.length, true); // len
    dv.setUint32(ctx + 16, ((protocol & 0xff) << 8) | ((protocol >> 8) & 0xff), true); // protocol, network order
    dv.setUint32(ctx + 36, meta.ingressIfindex ?? 1, true); // ingress_ifindex
    dv.setUint32(ctx + 40, meta.ingressIfindex ?? 1, true); // ifindex
    dv.setUint32(ctx + 76, data, true); // data
    dv.setUint32(ctx + 80, end, true); // data_end
    dv.setUint32(ctx + 88, 2, true); // family: AF_INET
    dv.setUint32(ctx + 92, meta.remoteIp4 ?? 0, false); // remote_ip4: network byte order, as in Linux
    dv.setUint16(ctx + 132, meta.remotePort ?? 0, false); // remote_port: network byte order in the low 16 bits
    dv.setUint32(ctx + 140, data, true); // data_meta
  }
}

/** Splits a context layout into maximal runs of fields with the same writability, in offset order. */
function contextSpans(layout: ContextLayout): { start: number; end: number; writable: boolean }[] {
  const spans: { start: number; end: number; writable: boolean }[] = [];
  for (const f of layout.fields) {
    const last = spans[spans.length - 1];
    if (last && last.end === f.off && last.writable === f.writable) last.end = f.off + f.size;
    else spans.push({ start: f.off, end: f.off + f.size, writable: f.writable });
  }
  return spans;
}

/**
 * Loads an eBPF ELF object (bytes, or a file path) into a runtime: creates its maps (with their initial
 * values: global data, PROG_ARRAY slots, inner maps), verifies every program for the type its section implies,
 * resolves map references and loads each program on the engine.
 *
 * @throws InvalidProgramError for a malformed object, VerifierError when a program is rejected.
 */
export async function loadObject(source: Uint8Array | string, options: LoadObjectOptions = {}): Promise<BpfObject> {
  const bytes = typeof source === 'string' ? new Uint8Array(await readFile(source)) : source;
  const elf = loadElf(bytes);
  const runtime = options.runtime ?? new Runtime();
  const engine = options.engine ?? 'jit';
  const mode = options.verify ?? 'strict';
  const wanted = options.programs ? new Set(options.programs) : undefined;
  const chosen = elf.programs.filter((p) => wanted === undefined || wanted.has(p.name));
  if (wanted) {
    for (const n of wanted) if (!chosen.some((p) => p.name === n)) throw new InvalidProgramError('elf_no_program', `no program '${n}' in the object`);
  }
  // PROG_ARRAY slots naming programs are filled once the programs are loaded (below).
  const maps = runtime.maps.createAll(elf.maps);
  let helpers: HelperTable | undefined;
  if (options.helpers !== undefined) {
    const table = new Map(runtime.helpers);
    for (const [id, fn] of options.helpers) table.set(id, fn);
    helpers = table;
  }

  const programs = new Map<string, BpfProgram>();
  for (const p of chosen) {
    const type = programTypeOfSection(p.section);
    let loaded: LoadedProgram;
    try {
      // Runtime.load verifies before resolving map references: the verifier reads them to know the maps.
      loaded = await runtime.load(p.program, {
        engine,
        helpers,
        maps,
        verify: mode === 'off' ? undefined : { mode, type, maps: elf.maps, lineInfo: p.lineInfo },
      });
    } catch (e) {
      if (e instanceof InvalidProgramError && e.code === 'unknown_helper') {
        throw new InvalidProgramError('unknown_helper', `${p.name}: ${e.detail}`, e.pc, { cause: e });
      }
      throw e;
    }
    programs.set(p.name, new BpfProgram({ runtime }, p, loaded, options.budget));
  }
  elf.maps.forEach((spec, i) => {
    for (const init of spec.initialValues ?? []) {
      if (init.kind !== 'program') continue;
      const target = programs.get(init.program);
      if (target) runtime.setProgram(maps[i] as ProgArray, init.index, target.loaded);
    }
  });
  const byName = new Map<string, AnyMap>();
  maps.forEach((m) => byName.set(m.name, m));
  return new BpfObject(runtime, elf, byName, programs);
}
