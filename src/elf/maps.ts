/**
 * Map definitions of an eBPF object, read the way libbpf reads them, into {@link MapSpec}s:
 *
 * - BTF-defined maps (`SEC(".maps")`): one VAR of the `.maps` DATASEC per map, whose struct members encode the
 *   attributes (`__uint(x, N)` is a pointer to an array of N elements, `__type(key, T)` a pointer to T, whose size
 *   comes from BTF, `__array(values, ...)` a zero-length array of pointers to the inner map's definition or to a
 *   function prototype). Initial values of PROG_ARRAYs and maps of maps come from the relocations on `.maps`.
 * - Legacy maps (`SEC("maps")`): `struct bpf_map_def { type, key_size, value_size, max_entries, map_flags }`, one
 *   per symbol of the section.
 * - Global data (`.rodata*`, `.data*`, `.bss*`): one single-entry ARRAY per section, its value the section's bytes.
 *
 * Map types, flags and pinning values are Linux UAPI numbers (`include/uapi/linux/bpf.h`, libbpf's `bpf_helpers.h`).
 *
 * Not here: creating maps (the runtime), relocating instructions to them (loader.ts), `.kconfig`/`.ksyms` externs,
 * struct_ops maps (`SEC(".struct_ops")`), iproute2's `struct bpf_elf_map` extensions (rejected when non-zero).
 */

import { InvalidProgramError } from '../errors.js';
import { describeType, type Btf, type BtfMember } from './btf.js';
import { describeSection, SHT, type ElfFile, type ElfRelSection, type ElfSection, type ElfSymbol, R_BPF, relocationTypeName, sectionBytes, STT } from './elf.js';

/** Map types (`enum bpf_map_type`). */
export const BPF_MAP_TYPE = {
  UNSPEC: 0, HASH: 1, ARRAY: 2, PROG_ARRAY: 3, PERF_EVENT_ARRAY: 4, PERCPU_HASH: 5, PERCPU_ARRAY: 6, STACK_TRACE: 7,
  CGROUP_ARRAY: 8, LRU_HASH: 9, LRU_PERCPU_HASH: 10, LPM_TRIE: 11, ARRAY_OF_MAPS: 12, HASH_OF_MAPS: 13, DEVMAP: 14,
  SOCKMAP: 15, CPUMAP: 16, XSKMAP: 17, SOCKHASH: 18, CGROUP_STORAGE: 19, REUSEPORT_SOCKARRAY: 20,
  PERCPU_CGROUP_STORAGE: 21, QUEUE: 22, STACK: 23, SK_STORAGE: 24, DEVMAP_HASH: 25, STRUCT_OPS: 26, RINGBUF: 27,
  INODE_STORAGE: 28, TASK_STORAGE: 29, BLOOM_FILTER: 30, USER_RINGBUF: 31, CGRP_STORAGE: 32, ARENA: 33,
} as const;

/** Map flags (`BPF_F_*` of map creation). */
export const BPF_F = {
  NO_PREALLOC: 1 << 0, NO_COMMON_LRU: 1 << 1, NUMA_NODE: 1 << 2, RDONLY: 1 << 3, WRONLY: 1 << 4,
  STACK_BUILD_ID: 1 << 5, ZERO_SEED: 1 << 6, RDONLY_PROG: 1 << 7, WRONLY_PROG: 1 << 8, CLONE: 1 << 9,
  MMAPABLE: 1 << 10, PRESERVE_ELEMS: 1 << 11, INNER_MAP: 1 << 12,
} as const;

/** libbpf's pinning modes (`LIBBPF_PIN_*`). */
export const LIBBPF_PIN = { NONE: 0, BY_NAME: 1 } as const;

/** The UAPI name of a map type (`hash`, `prog_array`, ...), or `type N` for one this table does not know. */
export function mapTypeName(type: number): string {
  const entry = Object.entries(BPF_MAP_TYPE).find(([, v]) => v === type);
  return entry ? entry[0].toLowerCase() : `type ${type}`;
}

/** An initial element of a map, installed by whoever creates the map (libbpf's "init slots", global data). */
export type MapInitialValue =
  /** Global data: element `index` holds these bytes. */
  | { readonly kind: 'bytes'; readonly index: number; readonly value: Uint8Array }
  /** PROG_ARRAY: element `index` is the program with this C function name. */
  | { readonly kind: 'program'; readonly index: number; readonly program: string }
  /** ARRAY_OF_MAPS / HASH_OF_MAPS: element `index` (the u32 key) is `ElfObject.maps[map]`. */
  | { readonly kind: 'map'; readonly index: number; readonly map: number };

/** A map an object defines. Sizes are bytes. */
export interface MapSpec {
  /** The C variable's name; a global-data map is named after its section (`.rodata`, `.bss`, `.data.custom`). */
  readonly name: string;
  /** `BPF_MAP_TYPE_*` number. */
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  /** `BPF_F_*` bits. */
  readonly flags: number;
  /** `LIBBPF_PIN_*` (0 when not pinned). */
  readonly pinning: number;
  /** `numa_node`, when the definition sets it. */
  readonly numaNode?: number;
  /** `map_extra` (bloom filter hash count, arena address), when the definition sets it. */
  readonly mapExtra?: bigint;
  /** Definition of the maps stored in a map of maps (`__array(values, struct {...})`). */
  readonly innerMap?: MapSpec;
  readonly initialValues?: readonly MapInitialValue[];
  /**
   * Global data of a `.rodata*` section: programs may not write it (`BPF_F_RDONLY_PROG` is in `flags`) and the host
   * freezes it after setting its contents (libbpf lets user space change `const volatile` values before load).
   */
  readonly frozen: boolean;
  /** The ELF section the definition came from: `.maps`, `maps` or the data section. */
  readonly section: string;
  /** BTF type ids of the key and value, when BTF describes them (a DATASEC for global data). */
  readonly btfKeyType?: number;
  readonly btfValueType?: number;
}

/** Where a map's definition sits, so relocations against a symbol can find it. */
export interface MapLocation {
  readonly section: number;
  readonly offset: number;
  readonly size: number;
}

const badMap = (detail: string): InvalidProgramError => new InvalidProgramError('elf_bad_map', detail);

// ---------------------------------------------------------------------------------------------------------------
// BTF-defined maps

interface RawMapDef {
  spec: MapSpec;
  /** Byte offset of the `values` member inside the definition, when it has one. */
  valuesOffset?: number;
  valuesKind?: 'program' | 'map';
}

/**
 * Reads one BTF map definition (a struct whose members encode the attributes) like libbpf's `parse_btf_map_def`.
 * Member order does not matter; unknown members are errors (libbpf's strict mode).
 */
function parseBtfMapDef(btf: Btf, name: string, structId: number, inner: boolean): RawMapDef {
  const def = btf.skipModsAndTypedefs(structId);
  if (def.kind !== 'struct') throw badMap(`map '${name}': definition is ${describeType(btf, def.id)}, not a struct`);
  const fields = new Map<string, BtfMember>();
  for (const m of def.members) {
    if (fields.has(m.name)) throw badMap(`map '${name}': field '${m.name}' appears twice`);
    fields.set(m.name, m);
  }
  /** `__uint(x, N)`: pointer to an array of N elements; newer libbpf's `__ulong(x, N)`: an enum whose only value is N. */
  const int = (field: string): bigint | undefined => {
    const m = fields.get(field);
    if (m === undefined) return undefined;
    const t = btf.skipModsAndTypedefs(m.type);
    if (t.kind === 'ptr') {
      const arr = btf.type(t.type);
      if (arr.kind !== 'array') throw badMap(`map '${name}': field '${field}' must point to an array (__uint), found ${describeType(btf, arr.id)}`);
      return BigInt(arr.nelems);
    }
    if ((t.kind === 'enum' || t.kind === 'enum64') && t.values.length === 1) return BigInt.asUintN(64, BigInt(t.values[0].value));
    throw badMap(`map '${name}': field '${field}' must be declared with __uint (a pointer to an array), found ${describeType(btf, t.id)}`);
  };
  const u32 = (field: string): number | undefined => {
    const v = int(field);
    if (v !== undefined && v > 0xffffffffn) throw badMap(`map '${name}': field '${field}' value ${v} does not fit 32 bits`);
    return v === undefined ? undefined : Number(v);
  };
  /** `__type(x, T)`: pointer to T; the size is T's. */
  const typed = (field: string): { type: number; size: number } | undefined => {
    const m = fields.get(field);
    if (m === undefined) return undefined;
    const t = btf.type(m.type);
    if (t.kind !== 'ptr') throw badMap(`map '${name}': field '${field}' must be declared with __type (a pointer), found ${describeType(btf, t.id)}`);
    return { type: t.type, size: btf.resolveSize(t.type) };
  };

  for (const field of fields.keys()) {
    if (!KNOWN_FIELDS.has(field)) throw badMap(`map '${name}': unknown field '${field}'`);
  }
  const type = u32('type');
  if (type === undefined) throw badMap(`map '${name}': missing 'type'`);
  const key = typed('key');
  const value = typed('value');
  let keySize = u32('key_size');
  let valueSize = u32('value_size');
  if (key) {
    if (keySize !== undefined && keySize !== key.size) throw badMap(`map '${name}': key_size ${keySize} conflicts with the key type's size ${key.size}`);
    keySize = key.size;
  }
  if (value) {
    if (valueSize !== undefined && valueSize !== value.size) throw badMap(`map '${name}': value_size ${valueSize} conflicts with the value type's size ${value.size}`);
    valueSize = value.size;
  }

  let innerMap: MapSpec | undefined;
  let valuesKind: 'program' | 'map' | undefined;
  let valuesOffset: number | undefined;
  const values = fields.get('values');
  if (values !== undefined) {
    const isMapInMap = type === BPF_MAP_TYPE.ARRAY_OF_MAPS || type === BPF_MAP_TYPE.HASH_OF_MAPS;
    if (inner) throw badMap(`map '${name}': an inner map cannot have 'values' (maps of maps of maps are not supported)`);
    if (!isMapInMap && type !== BPF_MAP_TYPE.PROG_ARRAY) throw badMap(`map '${name}': 'values' needs a map of maps or a prog_array, not ${mapTypeName(type)}`);
    if (def.members[def.members.length - 1] !== values) throw badMap(`map '${name}': 'values' must be the last field`);
    if (valueSize !== undefined && valueSize !== 4) throw badMap(`map '${name}': value_size ${valueSize} conflicts with 'values' (4)`);
    valueSize = 4;
    const arr = btf.type(values.type);
    if (arr.kind !== 'array' || arr.nelems !== 0) throw badMap(`map '${name}': 'values' must be a zero-length array (__array)`);
    const ptr = btf.skipModsAndTypedefs(arr.type);
    if (ptr.kind !== 'ptr') throw badMap(`map '${name}': 'values' must be an array of pointers`);
    const target = btf.skipModsAndTypedefs(ptr.type);
    if (values.bitOffset % 8 !== 0) throw badMap(`map '${name}': 'values' is not byte-aligned`);
    valuesOffset = values.bitOffset / 8;
    if (type === BPF_MAP_TYPE.PROG_ARRAY) {
      if (target.kind !== 'func_proto') throw badMap(`map '${name}': 'values' of a prog_array must be function pointers`);
      valuesKind = 'program';
    } else {
      if (target.kind !== 'struct') throw badMap(`map '${name}': 'values' of a map of maps must point to a map definition struct`);
      innerMap = parseBtfMapDef(btf, `${name}.inner`, target.id, true).spec;
      valuesKind = 'map';
    }
  }

  const mapExtra = int('map_extra');
  const numaNode = u32('numa_node');
  const spec: MapSpec = {
    name,
    type,
    keySize: keySize ?? 0,
    valueSize: valueSize ?? 0,
    maxEntries: u32('max_entries') ?? 0,
    flags: u32('map_flags') ?? 0,
    pinning: u32('pinning') ?? LIBBPF_PIN.NONE,
    ...(numaNode !== undefined ? { numaNode } : {}),
    ...(mapExtra !== undefined ? { mapExtra } : {}),
    ...(innerMap ? { innerMap } : {}),
    frozen: false,
    section: '.maps',
    ...(key ? { btfKeyType: key.type } : {}),
    ...(value ? { btfValueType: value.type } : {}),
  };
  if (spec.pinning !== LIBBPF_PIN.NONE && spec.pinning !== LIBBPF_PIN.BY_NAME) throw badMap(`map '${name}': unknown pinning mode ${spec.pinning}`);
  return { spec, ...(valuesOffset !== undefined ? { valuesOffset } : {}), ...(valuesKind ? { valuesKind } : {}) };
}

const KNOWN_FIELDS = new Set(['type', 'max_entries', 'map_flags', 'numa_node', 'key_size', 'key', 'value_size', 'value', 'values', 'pinning', 'map_extra']);

/** A map found in a section, with where it lives. */
export interface LocatedMap {
  spec: MapSpec;
  readonly location: MapLocation;
  readonly valuesOffset?: number;
  readonly valuesKind?: 'program' | 'map';
}

/**
 * The maps of the `.maps` section, in the order of its BTF DATASEC. `btf` is the object's BTF after its own
 * relocations were applied (clang leaves the DATASEC offsets to relocations).
 */
export function btfDefinedMaps(btf: Btf | undefined, section: ElfSection): LocatedMap[] {
  if (btf === undefined) throw badMap(`SEC(".maps") (${describeSection(section)}) needs BTF to describe its maps: compile with -g`);
  const datasec = btf.find('datasec', '.maps');
  if (datasec === undefined) throw badMap(`SEC(".maps") has no BTF DATASEC describing it`);
  const size = section.type === SHT.NOBITS ? 0 : section.size;
  return datasec.vars.map((v) => {
    const variable = btf.type(v.type);
    if (variable.kind !== 'var') throw badMap(`.maps DATASEC entry [${v.type}] is a ${variable.kind}, not a variable`);
    if (v.offset + v.size > size) throw badMap(`map '${variable.name}': definition at offset ${v.offset} (${v.size} bytes) is outside .maps (${size} bytes)`);
    const raw = parseBtfMapDef(btf, variable.name, variable.type, false);
    return { spec: raw.spec, location: { section: section.index, offset: v.offset, size: v.size }, ...(raw.valuesOffset !== undefined ? { valuesOffset: raw.valuesOffset, valuesKind: raw.valuesKind } : {}) };
  });
}

/** What `.maps` relocations may refer to, supplied by the loader. */
export interface MapRelocationContext {
  readonly symbols: readonly ElfSymbol[];
  /** Index into the object's maps of the map defined at (section, offset). */
  mapAt(section: number, offset: number): number | undefined;
  /** Whether the symbol names an entry program (a PROG_ARRAY element). */
  isProgram(symbol: ElfSymbol): boolean;
}

/**
 * Reads the initial values of PROG_ARRAYs and maps of maps from the relocations on `.maps` (each patches one
 * pointer slot of the definition's `values` array) into `maps[i].spec.initialValues`.
 */
export function applyMapsRelocations(rel: ElfRelSection, maps: LocatedMap[], ctx: MapRelocationContext): void {
  const slots = new Map<LocatedMap, Map<number, MapInitialValue>>();
  const byOffset = [...maps].sort((a, b) => a.location.offset - b.location.offset);
  /** The map whose definition covers `offset` (definitions do not overlap: they are distinct variables). */
  const covering = (offset: number): LocatedMap | undefined => {
    let lo = 0;
    let hi = byOffset.length - 1;
    let found: LocatedMap | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (byOffset[mid].location.offset <= offset) {
        found = byOffset[mid];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found && offset < found.location.offset + found.location.size ? found : undefined;
  };
  rel.relocations.forEach((r, i) => {
    const sym = ctx.symbols[r.symbol];
    const where = `${describeSection(rel.section)}: relocation ${i} (${relocationTypeName(r.type)} at 0x${r.offset.toString(16)} against '${sym.name}')`;
    if (r.type !== R_BPF.ABS64) throw new InvalidProgramError('elf_unsupported', `${where}: only R_BPF_64_ABS64 (a pointer in __array(values, ...)) is supported in .maps`);
    const map = covering(r.offset);
    if (map === undefined) throw badMap(`${where}: no map definition covers this offset`);
    if (map.valuesOffset === undefined || map.valuesKind === undefined) throw badMap(`${where}: map '${map.spec.name}' has no 'values' field to initialise`);
    const rel0 = r.offset - map.location.offset - map.valuesOffset;
    if (rel0 < 0 || rel0 % 8 !== 0) throw badMap(`${where}: not a pointer slot of map '${map.spec.name}' values`);
    const index = rel0 / 8;
    if (index >= map.spec.maxEntries) throw badMap(`${where}: slot ${index} is past max_entries ${map.spec.maxEntries} of map '${map.spec.name}'`);
    let value: MapInitialValue;
    if (map.valuesKind === 'program') {
      if (sym.type !== STT.FUNC || !ctx.isProgram(sym)) throw badMap(`${where}: prog_array '${map.spec.name}' slot ${index} must be a program (a global function in a SEC() section)`);
      value = { kind: 'program', index, program: sym.name };
    } else {
      const target = ctx.mapAt(sym.shndx, sym.value);
      if (target === undefined || sym.type === STT.SECTION) throw badMap(`${where}: map of maps '${map.spec.name}' slot ${index} must be a map defined in .maps`);
      value = { kind: 'map', index, map: target };
    }
    let m = slots.get(map);
    if (!m) slots.set(map, (m = new Map()));
    if (m.has(index)) throw badMap(`${where}: slot ${index} of map '${map.spec.name}' is initialised twice`);
    m.set(index, value);
  });
  for (const [map, m] of slots) {
    map.spec = { ...map.spec, initialValues: [...m.values()].sort((a, b) => a.index - b.index) };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Legacy maps

/** Size of `struct bpf_map_def` (five u32s). */
const MAP_DEF_SIZE = 20;
/** The fields before map_flags; older definitions stopped there. */
const MAP_DEF_MIN = 16;

/**
 * The maps of a legacy `maps` section: one `struct bpf_map_def` per (non-section) symbol of the section, the
 * definition size being the section size divided by the number of maps, as libbpf before 1.0 did.
 */
export function legacyMaps(elf: ElfFile, section: ElfSection): LocatedMap[] {
  const symbols = elf.symbols.filter((s) => s.shndx === section.index && s.type !== STT.SECTION && s.type !== STT.FILE);
  if (symbols.length === 0) {
    if (section.size === 0) return [];
    throw badMap(`legacy ${describeSection(section)}: ${section.size} bytes but no symbol naming a map`);
  }
  if (section.type === SHT.NOBITS) throw badMap(`legacy ${describeSection(section)} has no contents (SHT_NOBITS)`);
  const data = sectionBytes(elf, section);
  if (data.length % symbols.length !== 0) throw badMap(`legacy ${describeSection(section)}: ${data.length} bytes do not divide into ${symbols.length} map definitions`);
  const defSize = data.length / symbols.length;
  if (defSize < MAP_DEF_MIN) throw badMap(`legacy ${describeSection(section)}: map definitions of ${defSize} bytes are shorter than struct bpf_map_def`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return symbols.map((sym) => {
    if (sym.value % 4 !== 0 || sym.value + defSize > data.length) throw badMap(`legacy map '${sym.name}': definition at offset ${sym.value} is outside ${describeSection(section)}`);
    const o = sym.value;
    for (let i = MAP_DEF_SIZE; i < defSize; i++) {
      if (data[o + i] !== 0) throw new InvalidProgramError('elf_unsupported', `legacy map '${sym.name}': non-zero bytes after struct bpf_map_def (byte ${i}); extended definitions (iproute2's bpf_elf_map) are not supported`);
    }
    const spec: MapSpec = {
      name: sym.name,
      type: view.getUint32(o, true),
      keySize: view.getUint32(o + 4, true),
      valueSize: view.getUint32(o + 8, true),
      maxEntries: view.getUint32(o + 12, true),
      flags: defSize >= MAP_DEF_SIZE ? view.getUint32(o + 16, true) : 0,
      pinning: LIBBPF_PIN.NONE,
      frozen: false,
      section: section.name,
    };
    return { spec, location: { section: section.index, offset: o, size: defSize } };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Global data

/** Largest global-data section accepted (a `.bss` is not in the file, so its size alone must be bounded). */
export const MAX_GLOBAL_DATA = 64 * 1024 * 1024;

/** Whether a section holds global data that becomes a map: `.rodata`, `.data`, `.bss` and their `.name.*` variants. */
export function isGlobalDataSection(section: ElfSection): boolean {
  return (section.type === SHT.PROGBITS || section.type === SHT.NOBITS) && /^\.(rodata|data|bss)(\..*)?$/.test(section.name);
}

/** The single-entry ARRAY map holding one global-data section, as libbpf creates it. */
export function globalDataMap(elf: ElfFile, section: ElfSection, btf: Btf | undefined): LocatedMap {
  if (section.size > MAX_GLOBAL_DATA) throw new InvalidProgramError('elf_bad_section', `${describeSection(section)}: ${section.size} bytes of global data is above the limit of ${MAX_GLOBAL_DATA}`);
  const readOnly = /^\.rodata(\..*)?$/.test(section.name);
  const value = section.type === SHT.NOBITS ? new Uint8Array(section.size) : new Uint8Array(sectionBytes(elf, section));
  const datasec = btf?.find('datasec', section.name);
  const spec: MapSpec = {
    name: section.name,
    type: BPF_MAP_TYPE.ARRAY,
    keySize: 4,
    valueSize: section.size,
    maxEntries: 1,
    flags: BPF_F.MMAPABLE | (readOnly ? BPF_F.RDONLY_PROG : 0),
    pinning: LIBBPF_PIN.NONE,
    initialValues: [{ kind: 'bytes', index: 0, value }],
    frozen: readOnly,
    section: section.name,
    ...(datasec ? { btfValueType: datasec.id } : {}),
  };
  return { spec, location: { section: section.index, offset: 0, size: section.size } };
}
