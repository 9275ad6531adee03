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
import { STACK_SIZE, type Executable, type HelperTable, type Region } from '../src/exec.js';
import { fillPacketContext, type PacketContext } from '../src/packet.js';
import { loadElf, type ElfObject, type ElfProgram } from '../src/elf/loader.js';
import { contextLayout, programTypeOfSection, type ContextLayout, type CtxField, type ProgramType } from '../src/verifier/context.js';
import type { VerifiedProgram } from '../src/verifier/verify.js';
import type { Program } from '../src/isa/program.js';
import type { EngineName } from './engines.js';
import type { AnyMap, ProgArray } from './maps/map.js';
import { LoadedProgram, Runtime, mapSpecOf, runChain } from './runtime.js';
import type { MapDefinition } from './maps/registry.js';
import { assemble } from '../src/isa/asm.js';
import { decode } from '../src/isa/decode.js';
import { parseProgramBytes } from '../src/cli/input.js';
import { BatchExecutionError, batchList, type PacketBatch, type PacketPath } from './filter.js';

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
  /**
   * Execution budget of each run (taken backward jumps plus local calls). Default (`Runtime.load`'s): none when
   * the verifier proved termination or the program has no backward jump, else 2^20; `'none'`: no budget.
   */
  readonly budget?: number | 'none';
  /** Extra helpers (by id) on top of the runtime's standard ones; a host helper replaces a standard one with its id. */
  readonly helpers?: HelperTable;
  /** Runtime to create the maps and load the programs in (share one to share memory). Default: a new one. */
  readonly runtime?: Runtime;
  /**
   * The section (hence the program type: `xdp`, `socket`, `tc`, anything else runs raw) of code that is not an
   * ELF object: a path to an assembly or bytecode file, or bytes without the ELF magic. Default `raw`.
   */
  readonly section?: string;
  /** Load only these programs (C function names). Default: all. */
  readonly programs?: readonly string[];
}

/**
 * A program given as code rather than as an ELF object, for {@link loadObject}: eBPF assembly (this project's
 * syntax, src/isa/asm.ts) or raw bytecode (8-byte little-endian slots), with what an ELF object would say
 * about it.
 */
export interface ProgramCode {
  /** Assembly text; or give `bytecode`. */
  readonly asm?: string;
  /** Raw bytecode; or give `asm`. */
  readonly bytecode?: Uint8Array;
  /** The program's name in {@link BpfObject.programs}. Default `main`. */
  readonly name?: string;
  /** Its section, which gives its type as in an ELF object. Default {@link LoadObjectOptions.section}, else `raw`. */
  readonly section?: string;
  /** The maps `lddw map_idx N` refers to (N indexes this list), created in the runtime; named by `name`, else `map<N>`. */
  readonly maps?: readonly MapDefinition[];
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
  ) {
    this.type = programTypeOfSection(elf.section);
    this.layout = contextLayout(this.type);
    this.ctxSpans = this.layout ? contextSpans(this.layout) : [];
    this.strict = loaded.verified?.mode === 'strict';
    this.packetContextFor = pathContext(this.layout, this.strict);
  }

  private readonly packetContextFor: PacketContext | undefined;
  /** Whether the program was verified in strict mode (every access proven: see `pathRegions`). */
  private readonly strict: boolean;

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
    const path = this.fastPath(meta);
    if (path !== undefined) return path.run(packet);
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
    // Tail calls: runChain runs the callees on the same context, each with a fresh frame.
    try {
      const r0 = runChain(this.loaded, { stackBase, regions: this.regions!, args, packet: { start: data, length: packet.length } }, (prog) => ({
        budget: prog.defaultBudget,
        clearStack: nested || prog.verified?.mode !== 'strict' || prog !== this.loaded,
      }));
      return Number(r0 & 0xffffffffn);
    } finally {
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
   * Runs the program over every packet in order and returns r0's low 32 bits for each (in `out` when given).
   * `packets` is an array, or packets back to back in one buffer (`{data, offsets}`: packet i is
   * `data[offsets[i] .. offsets[i + 1])`, one copy for the whole batch). XDP and socket filter programs run the
   * whole batch in one call into WebAssembly on the JIT. Throws an `ExecutionError` (a `BatchExecutionError`
   * naming the packet index) when a run faults; the packets before it were run.
   */
  runBatch(packets: PacketBatch, meta: PacketMeta = {}, out?: Uint32Array): Uint32Array {
    const path = this.fastPath(meta);
    if (path !== undefined) return path.runBatch(packets, out);
    const list = batchList(packets);
    const result = out ?? new Uint32Array(list.length);
    if (result.length < list.length) throw new RangeError(`out has room for ${result.length} results, the batch has ${list.length} packets`);
    for (let i = 0; i < list.length; i++) {
      try {
        result[i] = this.run(list[i], meta);
      } catch (e) {
        if (e instanceof ExecutionError) throw new BatchExecutionError(i, e);
        throw e;
      }
    }
    return result;
  }

  /** The packet path (runtime/filter.ts) in context mode, once made; `null`: this program cannot take it. */
  private path: PacketPath | null | undefined;
  /** The meta the path's context template was written for. */
  private pathMeta: PacketMeta | undefined;

  /**
   * The packet path for runs with `meta`, or undefined when they take the general path: a program type without
   * a context the path can set up (`tc` unless verified strict: its writable fields need more store slots than
   * the JIT has), a JIT program compiled without the context, or an explicit `protocol` (the path derives it
   * from each packet). A program that tail-calls takes it too: the path drives the chain (filter.ts).
   */
  private fastPath(meta: PacketMeta): PacketPath | undefined {
    if (meta.protocol !== undefined) return undefined;
    if (this.path === undefined) this.path = this.makePath();
    if (this.path === null) return undefined;
    if (this.layout !== undefined && (this.pathMeta === undefined || !sameMeta(this.pathMeta, meta))) {
      this.path.setContext((dv, at) => this.writeStatic(dv, at, meta));
      this.pathMeta = { ...meta };
    }
    return this.path;
  }

  private makePath(): PacketPath | null {
    const budget = this.loaded.defaultBudget;
    const budgetOption = budget !== undefined ? { budget } : {};
    // Raw programs: the packet path's own convention (r1 = the packet, r2 = its length, r3 = its wire length).
    if (this.layout === undefined) return this.loaded.packetPath(budgetOption);
    const pc = this.packetContext;
    if (pc === undefined) return null;
    const exe = this.loaded.executable as Executable & { readonly packetContext?: PacketContext };
    if (this.loaded.engine === 'jit' && exe.packetContext !== pc) return null;
    return this.loaded.packetPath({ ...budgetOption, writable: this.layout.packetWritable, context: { layout: pc, regions: pathRegions(this.layout, this.strict) } });
  }

  /** The context the packet path sets up for this program's type, if it can (see `pathContext`). */
  get packetContext(): PacketContext | undefined {
    return this.packetContextFor;
  }

  /** A fresh context of the general path: all zero, the per-packet fields, then the static ones. */
  private writeContext(dv: DataView, ctx: number, data: number, packet: Uint8Array, meta: PacketMeta): void {
    const layout = this.layout!;
    fillPacketContext(dv, ctx, packetContextOf(layout), data, packet.length);
    this.writeStatic(dv, ctx, meta);
    if (meta.protocol !== undefined && layout.struct === '__sk_buff') {
      dv.setUint16(ctx + 16, meta.protocol, false); // protocol: network byte order
    }
  }

  /** The context fields that are the same for every packet (from `meta`); the rest is left as it is. */
  private writeStatic(dv: DataView, ctx: number, meta: PacketMeta): void {
    if (this.type === 'xdp') {
      dv.setUint32(ctx + 12, meta.ingressIfindex ?? 1, true);
      dv.setUint32(ctx + 16, meta.rxQueueIndex ?? 0, true);
      return;
    }
    // __sk_buff (socket, tc): the fields a filter commonly reads.
    dv.setUint32(ctx + 36, meta.ingressIfindex ?? 1, true); // ingress_ifindex
    dv.setUint32(ctx + 40, meta.ingressIfindex ?? 1, true); // ifindex
    dv.setUint32(ctx + 88, 2, true); // family: AF_INET
    dv.setUint32(ctx + 92, meta.remoteIp4 ?? 0, false); // remote_ip4: network byte order, as in Linux
    dv.setUint16(ctx + 132, meta.remotePort ?? 0, false); // remote_port: network byte order in the low 16 bits
  }
}

function sameMeta(a: PacketMeta, b: PacketMeta): boolean {
  return a.ingressIfindex === b.ingressIfindex && a.rxQueueIndex === b.rxQueueIndex && a.protocol === b.protocol
    && a.remoteIp4 === b.remoteIp4 && a.remotePort === b.remotePort;
}

/**
 * What the packet path sets up in a context of this layout for each packet (src/packet.ts, `PacketContext`):
 * `data` and `data_meta` (no metadata area: it is empty) = the packet, `data_end` = its end, `len` = its length,
 * `protocol` = its EtherType; the writable fields restored. Also what the general path sets up per packet.
 */
export function packetContextOf(layout: ContextLayout): PacketContext {
  let c = CONTEXTS.get(layout);
  if (c === undefined) CONTEXTS.set(layout, (c = makePacketContext(layout)));
  return c;
}

/**
 * The packet context of this layout when the packet path can serve it for a program verified as `strict` says
 * (its store regions fit the JIT's slots: see {@link pathRegions}), else undefined (the general path).
 */
function pathContext(layout: ContextLayout | undefined, strict: boolean): PacketContext | undefined {
  if (layout === undefined || pathRegions(layout, strict).filter((r) => r.writable).length > MAX_CONTEXT_STORE_REGIONS) return undefined;
  return packetContextOf(layout);
}

/** One {@link PacketContext} per layout: a program compiled for it is recognised by identity. */
const CONTEXTS = new WeakMap<ContextLayout, PacketContext>();

function makePacketContext(layout: ContextLayout): PacketContext {
  const offs = (pred: (f: CtxField) => boolean): number[] => layout.fields.filter(pred).map((f) => f.off);
  const protocol = layout.fields.find((f) => f.name === 'protocol');
  return {
    size: layout.size,
    data: offs((f) => f.kind === 'pkt' || f.kind === 'pkt_meta'),
    dataEnd: offs((f) => f.kind === 'pkt_end'),
    len: offs((f) => f.name === 'len'),
    ...(protocol !== undefined ? { etherType: protocol.off } : {}),
    writable: contextSpans(layout).filter((s) => s.writable).map(({ start, end }) => ({ start, end })),
  };
}

/**
 * Writable regions the packet path leaves for the context: its store slots are the packet's, the map value
 * arena's, and these (codegen/frame.ts, REGION_SLOTS = 4).
 */
const MAX_CONTEXT_STORE_REGIONS = 1;

/**
 * The context's regions on the packet path: the whole struct for loads (its fields leave no gap), its writable
 * spans for stores. For a program verified `strict`, the writable spans are one store region from the first to
 * the last (a tc `__sk_buff` has four, more than the JIT's store slots): the verifier has proven every context
 * access against the fields themselves, strict mode leaves no access unproven (so no region check ever runs), and
 * no helper may take the context as memory; the regions then only describe the context, as for the general path.
 */
function pathRegions(layout: ContextLayout, strict: boolean): { start: number; end: number; writable: boolean; name: string }[] {
  const writable = contextSpans(layout).filter((s) => s.writable);
  const stores = strict && writable.length > 1
    ? [{ start: writable[0].start, end: writable[writable.length - 1].end, writable: true }]
    : writable;
  return [{ start: 0, end: layout.size, writable: false, name: layout.struct }, ...stores.map((s) => ({ ...s, name: layout.struct }))];
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

/** The program of a {@link ProgramCode}. */
function programOfCode(code: ProgramCode): Program {
  if ((code.asm === undefined) === (code.bytecode === undefined)) throw new TypeError('ProgramCode takes exactly one of asm and bytecode');
  return code.asm !== undefined ? assemble(code.asm) : decode(code.bytecode!);
}

/** A one-program object for code: its maps created in `runtime` (the verifier sees their specs, as for ELF maps). */
function codeObject(runtime: Runtime, program: Program, code: Omit<ProgramCode, 'asm' | 'bytecode'>): { elf: ElfObject; maps: AnyMap[] } {
  const maps = runtime.maps.createAll((code.maps ?? []).map((d, i) => ({ ...d, name: d.name ?? `map${i}` })));
  const name = code.name ?? 'main';
  const section = code.section ?? 'raw';
  const prog: ElfProgram = { name, section, program, functions: [{ name, section, pc: 0 }], lineInfo: [], maps: maps.map((_, i) => i) };
  return { elf: { programs: [prog], maps: maps.map(mapSpecOf) }, maps };
}

function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

/**
 * Loads an eBPF ELF object (bytes, or a file path) into a runtime: creates its maps (with their initial
 * values: global data, PROG_ARRAY slots, inner maps), verifies every program for the type its section implies,
 * resolves map references and loads each program on the engine. Code loads the same way, as a one-program
 * object: a {@link ProgramCode} (assembly or bytecode), bytes that are not ELF (bytecode), or a path to an
 * assembly, hex or bytecode file (as the CLI reads them); its type comes from `section` (default `raw`).
 *
 * @throws InvalidProgramError for a malformed object, VerifierError when a program is rejected.
 */
export async function loadObject(source: Uint8Array | string | ProgramCode, options: LoadObjectOptions = {}): Promise<BpfObject> {
  const runtime = options.runtime ?? new Runtime();
  let elf: ElfObject;
  let maps: AnyMap[];
  if (source instanceof Uint8Array || typeof source === 'string') {
    const bytes = typeof source === 'string' ? new Uint8Array(await readFile(source)) : source;
    if (isElf(bytes)) {
      elf = loadElf(bytes);
      // PROG_ARRAY slots naming programs are filled once the programs are loaded (below).
      maps = runtime.maps.createAll(elf.maps);
    } else {
      const code = parseProgramBytes(bytes, typeof source === 'string' ? source : 'program.bin');
      ({ elf, maps } = codeObject(runtime, code.program, { section: options.section ?? 'raw' }));
    }
  } else {
    ({ elf, maps } = codeObject(runtime, programOfCode(source), source.section === undefined && options.section !== undefined ? { ...source, section: options.section } : source));
  }
  const engine = options.engine ?? 'jit';
  const mode = options.verify ?? 'strict';
  const wanted = options.programs ? new Set(options.programs) : undefined;
  const chosen = elf.programs.filter((p) => wanted === undefined || wanted.has(p.name));
  if (wanted) {
    for (const n of wanted) if (!chosen.some((p) => p.name === n)) throw new InvalidProgramError('elf_no_program', `no program '${n}' in the object`);
  }
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
      const layout = contextLayout(type);
      const packetContext = pathContext(layout, mode === 'strict');
      loaded = await runtime.load(p.program, {
        engine,
        helpers,
        maps,
        ...(options.budget !== undefined ? { budget: options.budget } : {}),
        ...(packetContext ? { packetContext } : {}),
        verify: mode === 'off' ? undefined : { mode, type, maps: elf.maps, lineInfo: p.lineInfo },
      });
    } catch (e) {
      if (e instanceof InvalidProgramError && e.code === 'unknown_helper') {
        throw new InvalidProgramError('unknown_helper', `${p.name}: ${e.detail}`, e.pc, { cause: e });
      }
      throw e;
    }
    programs.set(p.name, new BpfProgram({ runtime }, p, loaded));
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
