/**
 * BTF, the BPF Type Format (Linux `Documentation/bpf/btf.rst`): `parseBtf` reads the `.BTF` section (header, the
 * type section with every kind up to ENUM64, the string section) into a {@link Btf}; `parseBtfExt` reads `.BTF.ext`
 * (func_info, line_info and CO-RE relocation records, grouped by the code section they describe).
 *
 * Everything is checked while parsing: the header's offsets and lengths, each type's trailing data against the end
 * of the type section, every type id a type refers to, every string offset. Lookups that follow chains of types
 * (sizes, modifiers) stop after {@link MAX_RESOLVE_DEPTH} steps, so a loop in malformed BTF is an error, not a hang.
 * Errors are {@link InvalidProgramError}s with a `btf_*` code.
 *
 * Not here: applying CO-RE relocations (core.ts), reading map definitions out of BTF (maps.ts), mapping records to
 * linked programs (loader.ts), kernel (vmlinux) BTF, split BTF, BTF deduplication or writing BTF.
 */

import { assertNever, InvalidProgramError } from '../errors.js';
import { inBounds, readCString } from './elf.js';

/** Longest chain of modifiers, typedefs or nested arrays followed before giving up (the kernel's MAX_RESOLVE_DEPTH). */
export const MAX_RESOLVE_DEPTH = 32;

/** Magic number of `.BTF` and `.BTF.ext` headers. */
export const BTF_MAGIC = 0xeb9f;

/** Numeric BTF kinds (the `kind` bits of a type's info word). */
export const BTF_KIND = {
  UNKN: 0, INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10,
  RESTRICT: 11, FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16, DECL_TAG: 17, TYPE_TAG: 18, ENUM64: 19,
} as const;

/** Linkage of a FUNC (in its vlen bits) or a VAR. */
export type BtfLinkage = 'static' | 'global' | 'extern';

/** A struct or union member. `bitfieldSize` is 0 for a plain member. */
export interface BtfMember { readonly name: string; readonly type: number; readonly bitOffset: number; readonly bitfieldSize: number }
/** A FUNC_PROTO parameter; a last parameter of type 0 means `...`. */
export interface BtfParam { readonly name: string; readonly type: number }
/** An enumerator. ENUM values fit in a number; ENUM64 values are bigints. */
export interface BtfEnumValue<V> { readonly name: string; readonly value: V }
/** One variable of a DATASEC: a VAR type id and its place inside the section. */
export interface BtfVarSecinfo { readonly type: number; readonly offset: number; readonly size: number }

interface Base { readonly id: number; readonly name: string }

/** A BTF type. Id 0 is `void`; ids 1.. are the type section's entries in order. */
export type BtfType =
  | Base & { readonly kind: 'void' }
  | Base & { readonly kind: 'int'; readonly size: number; readonly signed: boolean; readonly char: boolean; readonly bool: boolean; readonly bitOffset: number; readonly bits: number }
  | Base & { readonly kind: 'ptr'; readonly type: number }
  | Base & { readonly kind: 'array'; readonly type: number; readonly indexType: number; readonly nelems: number }
  | Base & { readonly kind: 'struct' | 'union'; readonly size: number; readonly members: readonly BtfMember[] }
  | Base & { readonly kind: 'enum'; readonly size: number; readonly signed: boolean; readonly values: readonly BtfEnumValue<number>[] }
  | Base & { readonly kind: 'enum64'; readonly size: number; readonly signed: boolean; readonly values: readonly BtfEnumValue<bigint>[] }
  | Base & { readonly kind: 'fwd'; readonly union: boolean }
  | Base & { readonly kind: 'typedef' | 'volatile' | 'const' | 'restrict' | 'type_tag'; readonly type: number }
  | Base & { readonly kind: 'func'; readonly type: number; readonly linkage: BtfLinkage }
  | Base & { readonly kind: 'func_proto'; readonly returnType: number; readonly params: readonly BtfParam[] }
  | Base & { readonly kind: 'var'; readonly type: number; readonly linkage: BtfLinkage }
  | Base & { readonly kind: 'datasec'; readonly size: number; readonly vars: readonly BtfVarSecinfo[] }
  | Base & { readonly kind: 'float'; readonly size: number }
  | Base & { readonly kind: 'decl_tag'; readonly type: number; readonly componentIdx: number };

/** The `kind` tags of {@link BtfType}. */
export type BtfKindName = BtfType['kind'];

/** Types whose `type` field is the only thing they add (C qualifiers, typedefs, type tags). */
const MODIFIERS: ReadonlySet<BtfKindName> = new Set(['typedef', 'volatile', 'const', 'restrict', 'type_tag']);

/** Parsed `.BTF`: the types by id and the string section. Immutable. */
export class Btf {
  /** `types[id]`; `types[0]` is void. */
  readonly types: readonly BtfType[];
  /** The raw string section (shared with `.BTF.ext`). */
  readonly strings: Uint8Array;

  constructor(types: readonly BtfType[], strings: Uint8Array) {
    this.types = types;
    this.strings = strings;
  }

  /** The string at `offset` of the string section. */
  string(offset: number, what: () => string): string {
    return readCString(this.strings, offset, what, 'btf_bad_string');
  }

  /** The type with id `id`; `what` words the error when there is none. */
  type(id: number, what: () => string = () => 'type reference'): BtfType {
    const t = this.types[id];
    if (!Number.isInteger(id) || t === undefined) throw new InvalidProgramError('btf_bad_type', `${what()}: type id ${id} does not exist (${this.types.length - 1} types)`);
    return t;
  }

  /** Follows typedefs and qualifiers from `id` to the underlying type. */
  skipModsAndTypedefs(id: number): BtfType {
    let t = this.type(id);
    for (let depth = 0; MODIFIERS.has(t.kind); depth++) {
      if (depth >= MAX_RESOLVE_DEPTH) throw new InvalidProgramError('btf_bad_type', `type [${id}]: typedef/qualifier chain longer than ${MAX_RESOLVE_DEPTH} (a loop?)`);
      t = this.type((t as { type: number }).type);
    }
    return t;
  }

  /** The size in bytes of a value of type `id` (like libbpf's `btf__resolve_size`). */
  resolveSize(id: number): number {
    let t = this.type(id);
    let multiplier = 1;
    for (let depth = 0; ; depth++) {
      if (depth >= MAX_RESOLVE_DEPTH) throw new InvalidProgramError('btf_bad_type', `type [${id}]: size depends on a chain longer than ${MAX_RESOLVE_DEPTH} types (a loop?)`);
      switch (t.kind) {
        case 'int': case 'float': case 'enum': case 'enum64': case 'struct': case 'union': case 'datasec': {
          const size = multiplier * t.size;
          if (size > 0xffffffff) throw new InvalidProgramError('btf_bad_type', `type [${id}]: size overflows 32 bits`);
          return size;
        }
        case 'ptr': return multiplier * 8;
        case 'typedef': case 'volatile': case 'const': case 'restrict': case 'type_tag': case 'var':
          t = this.type(t.type);
          break;
        case 'array':
          multiplier *= t.nelems;
          if (multiplier > 0xffffffff) throw new InvalidProgramError('btf_bad_type', `type [${id}]: array size overflows 32 bits`);
          t = this.type(t.type);
          break;
        case 'void': case 'fwd': case 'func': case 'func_proto': case 'decl_tag':
          throw new InvalidProgramError('btf_bad_type', `type [${id}]: ${describeType(this, id)} has no size (it resolves to a ${t.kind})`);
        default: return assertNever(t, 'BTF type');
      }
    }
  }

  /** The first type of the given kind and name, or undefined. */
  find<K extends BtfKindName>(kind: K, name: string): (BtfType & { readonly kind: K }) | undefined {
    return this.types.find((t): t is BtfType & { readonly kind: K } => t.kind === kind && t.name === name);
  }
}

/** A short C-like description of a type for messages: `struct record`, `int`, `typedef u32`. */
export function describeType(btf: Btf, id: number): string {
  const t = btf.types[id];
  if (t === undefined) return `[${id}]`;
  switch (t.kind) {
    case 'void': return 'void';
    case 'struct': case 'union': case 'enum': return `${t.kind} ${t.name || '(anon)'}`;
    case 'enum64': return `enum ${t.name || '(anon)'}`;
    default: return t.name ? `${t.kind} ${t.name}` : t.kind;
  }
}

/*
 * .BTF header (24 bytes, little-endian; the sections follow it, their offsets counted from its end):
 *
 *   0 magic u16 = 0xeb9f   2 version u8 = 1   3 flags u8   4 hdr_len u32
 *   8 type_off u32        12 type_len u32    16 str_off u32  20 str_len u32
 *
 * Each type: a 12-byte btf_type then kind-specific data.
 *
 *   0 name_off u32
 *   4 info u32:   31 30..29 28......24 23....16 15..............0
 *                 kflag  0    kind        0           vlen
 *   8 size_or_type u32   (size for INT/ENUM/STRUCT/UNION/DATASEC/FLOAT/ENUM64, a type id for the others)
 *
 *   INT         +4:  u32 bits  [27..24 encoding: 1 signed, 2 char, 4 bool] [23..16 offset] [7..0 nr_bits]
 *   ARRAY       +12: type, index_type, nelems
 *   STRUCT/UNION +12*vlen: name_off, type, offset (kflag: [31..24 bitfield size][23..0 bit offset])
 *   ENUM        +8*vlen:  name_off, val (i32 when kflag, else u32)
 *   ENUM64      +12*vlen: name_off, val_lo32, val_hi32
 *   FUNC_PROTO  +8*vlen:  name_off, type
 *   VAR         +4:  linkage
 *   DATASEC     +12*vlen: type, offset, size
 *   DECL_TAG    +4:  component_idx (i32, -1 for the whole declaration)
 */
const BTF_HEADER_SIZE = 24;
const TYPE_HEADER_SIZE = 12;

const LINKAGES: readonly BtfLinkage[] = ['static', 'global', 'extern'];

/**
 * Parses a `.BTF` section.
 *
 * @throws InvalidProgramError `btf_bad_header`, `btf_truncated`, `btf_bad_type` or `btf_bad_string`.
 */
export function parseBtf(bytes: Uint8Array): Btf {
  if (bytes.length < BTF_HEADER_SIZE) throw new InvalidProgramError('btf_truncated', `.BTF: header is truncated (${bytes.length} bytes, need ${BTF_HEADER_SIZE})`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint16(0, true);
  if (magic !== BTF_MAGIC) throw new InvalidProgramError('btf_bad_header', `.BTF: magic 0x${magic.toString(16)} is not 0xeb9f${magic === 0x9feb ? ' (big-endian BTF is not supported)' : ''}`);
  if (bytes[2] !== 1) throw new InvalidProgramError('btf_bad_header', `.BTF: version ${bytes[2]} is not 1`);
  const hdrLen = view.getUint32(4, true);
  if (hdrLen < BTF_HEADER_SIZE || hdrLen > bytes.length) throw new InvalidProgramError('btf_bad_header', `.BTF: header length ${hdrLen} is outside ${BTF_HEADER_SIZE}..${bytes.length}`);
  const typeOff = view.getUint32(8, true);
  const typeLen = view.getUint32(12, true);
  const strOff = view.getUint32(16, true);
  const strLen = view.getUint32(20, true);
  const dataLen = bytes.length - hdrLen;
  if (typeOff % 4 !== 0) throw new InvalidProgramError('btf_bad_header', `.BTF: type section offset ${typeOff} is not 4-byte aligned`);
  if (!inBounds(typeOff, typeLen, dataLen)) throw new InvalidProgramError('btf_truncated', `.BTF: type section (offset ${typeOff}, ${typeLen} bytes) runs past the end (${dataLen} bytes of data)`);
  if (!inBounds(strOff, strLen, dataLen)) throw new InvalidProgramError('btf_truncated', `.BTF: string section (offset ${strOff}, ${strLen} bytes) runs past the end (${dataLen} bytes of data)`);
  if (typeOff < strOff + strLen && strOff < typeOff + typeLen && typeLen > 0 && strLen > 0) {
    throw new InvalidProgramError('btf_bad_header', '.BTF: the type and string sections overlap');
  }
  const strings = bytes.subarray(hdrLen + strOff, hdrLen + strOff + strLen);
  if (strLen === 0 || strings[0] !== 0 || strings[strLen - 1] !== 0) {
    throw new InvalidProgramError('btf_bad_string', '.BTF: the string section must start and end with a NUL byte');
  }

  const btf = new Btf([{ kind: 'void', id: 0, name: '' }], strings);
  const types = btf.types as BtfType[];
  const refs: { from: number; to: number; what: string }[] = [];
  const base = hdrLen + typeOff;
  let pos = 0;
  while (pos < typeLen) {
    const id = types.length;
    if (typeLen - pos < TYPE_HEADER_SIZE) throw new InvalidProgramError('btf_truncated', `.BTF: type [${id}] at offset ${pos} is truncated`);
    const o = base + pos;
    const info = view.getUint32(o + 4, true);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const kflag = info >>> 31 === 1;
    const sizeOrType = view.getUint32(o + 8, true);
    const extra = extraSize(kind, vlen);
    if (extra === undefined) throw new InvalidProgramError('btf_bad_type', `.BTF: type [${id}] at offset ${pos} has unknown kind ${kind}`);
    if (typeLen - pos - TYPE_HEADER_SIZE < extra) throw new InvalidProgramError('btf_truncated', `.BTF: type [${id}] at offset ${pos} (kind ${kind}, vlen ${vlen}) runs past the end of the type section`);
    const what = (): string => `.BTF: type [${id}]`;
    const name = btf.string(view.getUint32(o, true), what);
    const d = o + TYPE_HEADER_SIZE; // kind-specific data
    const ref = (to: number, field: string): number => {
      refs.push({ from: id, to, what: field });
      return to;
    };
    const str = (off: number, field: string): string => btf.string(off, () => `${what()} ${field}`);
    let t: BtfType;
    switch (kind) {
      case BTF_KIND.INT: {
        const enc = view.getUint32(d, true);
        const bits = enc & 0xff;
        const bitOffset = (enc >>> 16) & 0xff;
        const encoding = (enc >>> 24) & 0xf;
        if (bits > 128 || bitOffset + bits > sizeOrType * 8) throw new InvalidProgramError('btf_bad_type', `${what()}: int of ${bits} bits at bit ${bitOffset} does not fit its ${sizeOrType} bytes`);
        t = { kind: 'int', id, name, size: sizeOrType, signed: (encoding & 1) !== 0, char: (encoding & 2) !== 0, bool: (encoding & 4) !== 0, bitOffset, bits };
        break;
      }
      case BTF_KIND.PTR: t = { kind: 'ptr', id, name, type: ref(sizeOrType, 'pointee') }; break;
      case BTF_KIND.ARRAY:
        t = { kind: 'array', id, name, type: ref(view.getUint32(d, true), 'element type'), indexType: ref(view.getUint32(d + 4, true), 'index type'), nelems: view.getUint32(d + 8, true) };
        break;
      case BTF_KIND.STRUCT: case BTF_KIND.UNION: {
        const members: BtfMember[] = [];
        for (let i = 0; i < vlen; i++) {
          const m = d + i * 12;
          const offset = view.getUint32(m + 8, true);
          members.push({
            name: str(view.getUint32(m, true), `member ${i} name`),
            type: ref(view.getUint32(m + 4, true), `member ${i} type`),
            bitOffset: kflag ? offset & 0xffffff : offset,
            bitfieldSize: kflag ? offset >>> 24 : 0,
          });
        }
        t = { kind: kind === BTF_KIND.STRUCT ? 'struct' : 'union', id, name, size: sizeOrType, members };
        break;
      }
      case BTF_KIND.ENUM: {
        const values: BtfEnumValue<number>[] = [];
        for (let i = 0; i < vlen; i++) {
          const e = d + i * 8;
          values.push({ name: str(view.getUint32(e, true), `enumerator ${i} name`), value: kflag ? view.getInt32(e + 4, true) : view.getUint32(e + 4, true) });
        }
        t = { kind: 'enum', id, name, size: sizeOrType, signed: kflag, values };
        break;
      }
      case BTF_KIND.ENUM64: {
        const values: BtfEnumValue<bigint>[] = [];
        for (let i = 0; i < vlen; i++) {
          const e = d + i * 12;
          const raw = (BigInt(view.getUint32(e + 8, true)) << 32n) | BigInt(view.getUint32(e + 4, true));
          values.push({ name: str(view.getUint32(e, true), `enumerator ${i} name`), value: kflag ? BigInt.asIntN(64, raw) : raw });
        }
        t = { kind: 'enum64', id, name, size: sizeOrType, signed: kflag, values };
        break;
      }
      case BTF_KIND.FWD: t = { kind: 'fwd', id, name, union: kflag }; break;
      case BTF_KIND.TYPEDEF: t = { kind: 'typedef', id, name, type: ref(sizeOrType, 'type') }; break;
      case BTF_KIND.VOLATILE: t = { kind: 'volatile', id, name, type: ref(sizeOrType, 'type') }; break;
      case BTF_KIND.CONST: t = { kind: 'const', id, name, type: ref(sizeOrType, 'type') }; break;
      case BTF_KIND.RESTRICT: t = { kind: 'restrict', id, name, type: ref(sizeOrType, 'type') }; break;
      case BTF_KIND.TYPE_TAG: t = { kind: 'type_tag', id, name, type: ref(sizeOrType, 'type') }; break;
      case BTF_KIND.FUNC: {
        const linkage = LINKAGES[vlen];
        if (linkage === undefined) throw new InvalidProgramError('btf_bad_type', `${what()}: function linkage ${vlen} is not static (0), global (1) or extern (2)`);
        t = { kind: 'func', id, name, type: ref(sizeOrType, 'prototype'), linkage };
        break;
      }
      case BTF_KIND.FUNC_PROTO: {
        const params: BtfParam[] = [];
        for (let i = 0; i < vlen; i++) {
          const p = d + i * 8;
          params.push({ name: str(view.getUint32(p, true), `parameter ${i} name`), type: ref(view.getUint32(p + 4, true), `parameter ${i} type`) });
        }
        t = { kind: 'func_proto', id, name, returnType: ref(sizeOrType, 'return type'), params };
        break;
      }
      case BTF_KIND.VAR: {
        const raw = view.getUint32(d, true);
        const linkage = LINKAGES[raw];
        if (linkage === undefined) throw new InvalidProgramError('btf_bad_type', `${what()}: variable linkage ${raw} is not static (0), global (1) or extern (2)`);
        t = { kind: 'var', id, name, type: ref(sizeOrType, 'type'), linkage };
        break;
      }
      case BTF_KIND.DATASEC: {
        const vars: BtfVarSecinfo[] = [];
        for (let i = 0; i < vlen; i++) {
          const v = d + i * 12;
          vars.push({ type: ref(view.getUint32(v, true), `variable ${i}`), offset: view.getUint32(v + 4, true), size: view.getUint32(v + 8, true) });
        }
        t = { kind: 'datasec', id, name, size: sizeOrType, vars };
        break;
      }
      case BTF_KIND.FLOAT: t = { kind: 'float', id, name, size: sizeOrType }; break;
      case BTF_KIND.DECL_TAG: t = { kind: 'decl_tag', id, name, type: ref(sizeOrType, 'tagged type'), componentIdx: view.getInt32(d, true) }; break;
      default: throw new InvalidProgramError('btf_bad_type', `${what()}: unknown kind ${kind}`);
    }
    types.push(t);
    pos += TYPE_HEADER_SIZE + extra;
  }

  // References are checked once every type is known: BTF may refer forward (a struct pointing to itself or later).
  for (const r of refs) {
    if (r.to >= types.length) throw new InvalidProgramError('btf_bad_type', `.BTF: type [${r.from}] ${r.what} refers to type id ${r.to}, which does not exist (${types.length - 1} types)`);
  }
  for (const t of types) {
    if (t.kind === 'func' && types[t.type].kind !== 'func_proto') {
      throw new InvalidProgramError('btf_bad_type', `.BTF: function [${t.id}] ${t.name} has type [${t.type}], a ${types[t.type].kind}, not a func_proto`);
    }
    if (t.kind === 'datasec') {
      for (const v of t.vars) {
        const vt = types[v.type];
        if (vt.kind !== 'var' && vt.kind !== 'func') throw new InvalidProgramError('btf_bad_type', `.BTF: section [${t.id}] ${t.name} lists type [${v.type}], a ${vt.kind}, not a var`);
      }
    }
  }
  return btf;
}

/** Bytes of kind-specific data after the 12-byte header, or undefined for an unknown kind. */
function extraSize(kind: number, vlen: number): number | undefined {
  switch (kind) {
    case BTF_KIND.INT: case BTF_KIND.VAR: case BTF_KIND.DECL_TAG: return 4;
    case BTF_KIND.PTR: case BTF_KIND.FWD: case BTF_KIND.TYPEDEF: case BTF_KIND.VOLATILE: case BTF_KIND.CONST:
    case BTF_KIND.RESTRICT: case BTF_KIND.FUNC: case BTF_KIND.FLOAT: case BTF_KIND.TYPE_TAG: return 0;
    case BTF_KIND.ARRAY: return 12;
    case BTF_KIND.STRUCT: case BTF_KIND.UNION: case BTF_KIND.DATASEC: case BTF_KIND.ENUM64: return 12 * vlen;
    case BTF_KIND.ENUM: case BTF_KIND.FUNC_PROTO: return 8 * vlen;
    default: return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// .BTF.ext

/** A func_info record: the function starting at byte `insnOff` of its section has BTF FUNC type `typeId`. */
export interface BtfFuncInfo { readonly insnOff: number; readonly typeId: number }

/** A line_info record: the instruction at byte `insnOff` of its section comes from `file:line:column`, whose text is `text`. */
export interface BtfLineInfo { readonly insnOff: number; readonly file: string; readonly text: string; readonly line: number; readonly column: number }

/** CO-RE relocation kinds (libbpf's `enum bpf_core_relo_kind`, in order). */
export const CORE_RELO_KINDS = [
  'field_byte_offset', 'field_byte_size', 'field_exists', 'field_signed', 'field_lshift_u64', 'field_rshift_u64',
  'type_id_local', 'type_id_target', 'type_exists', 'type_size', 'enumval_exists', 'enumval_value', 'type_matches',
] as const;

/** A CO-RE relocation kind. */
export type CoreReloKind = (typeof CORE_RELO_KINDS)[number];

/** A core_relo record: patch the instruction at byte `insnOff` with `kind` of the access `access` ("0:1:2") into type `typeId`. */
export interface BtfCoreRelo { readonly insnOff: number; readonly typeId: number; readonly access: string; readonly kind: CoreReloKind }

/** Records of one kind for one code section. */
export interface BtfExtSection<R> { readonly section: string; readonly records: readonly R[] }

/** Parsed `.BTF.ext`. Instruction offsets are in bytes from the start of the named section, as clang writes them. */
export interface BtfExt {
  readonly funcInfo: readonly BtfExtSection<BtfFuncInfo>[];
  readonly lineInfo: readonly BtfExtSection<BtfLineInfo>[];
  readonly coreRelos: readonly BtfExtSection<BtfCoreRelo>[];
}

/*
 * .BTF.ext header (offsets counted from the header's end):
 *
 *   0 magic u16 = 0xeb9f   2 version u8 = 1   3 flags u8   4 hdr_len u32
 *   8 func_info_off u32   12 func_info_len u32   16 line_info_off u32   20 line_info_len u32
 *  24 core_relo_off u32   28 core_relo_len u32   (present when hdr_len >= 32)
 *
 * Each info block:  rec_size u32, then until the block's end:  sec_name_off u32, num_info u32, num_info records.
 *
 *   func_info (8):  insn_off u32, type_id u32
 *   line_info (16): insn_off u32, file_name_off u32, line_off u32, line_col u32 = line << 10 | column (10 bits)
 *   core_relo (16): insn_off u32, type_id u32, access_str_off u32, kind u32
 */
const EXT_HEADER_MIN = 24;

/**
 * Parses a `.BTF.ext` section; its strings live in `btf`'s string section.
 *
 * @throws InvalidProgramError `btf_ext_bad`, `btf_bad_string`, `btf_bad_type` (a record naming a missing type) or
 *   `btf_core_relo` (an unknown CO-RE kind).
 */
export function parseBtfExt(bytes: Uint8Array, btf: Btf): BtfExt {
  if (bytes.length < EXT_HEADER_MIN) throw new InvalidProgramError('btf_ext_bad', `.BTF.ext: header is truncated (${bytes.length} bytes, need ${EXT_HEADER_MIN})`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint16(0, true);
  if (magic !== BTF_MAGIC) throw new InvalidProgramError('btf_ext_bad', `.BTF.ext: magic 0x${magic.toString(16)} is not 0xeb9f`);
  if (bytes[2] !== 1) throw new InvalidProgramError('btf_ext_bad', `.BTF.ext: version ${bytes[2]} is not 1`);
  const hdrLen = view.getUint32(4, true);
  if (hdrLen < EXT_HEADER_MIN || hdrLen > bytes.length) throw new InvalidProgramError('btf_ext_bad', `.BTF.ext: header length ${hdrLen} is outside ${EXT_HEADER_MIN}..${bytes.length}`);
  const dataLen = bytes.length - hdrLen;

  const block = <R>(name: string, offField: number, minRec: number, record: (o: number, what: () => string) => R): BtfExtSection<R>[] => {
    if (offField + 8 > hdrLen) return []; // an older, shorter header without this block
    const off = view.getUint32(offField, true);
    const len = view.getUint32(offField + 4, true);
    if (len === 0) return [];
    if (!inBounds(off, len, dataLen)) throw new InvalidProgramError('btf_ext_bad', `.BTF.ext: ${name} (offset ${off}, ${len} bytes) runs past the end (${dataLen} bytes of data)`);
    if (len < 4) throw new InvalidProgramError('btf_ext_bad', `.BTF.ext: ${name} is too short for its record size`);
    const start = hdrLen + off;
    const end = start + len;
    const recSize = view.getUint32(start, true);
    if (recSize < minRec || recSize % 4 !== 0) throw new InvalidProgramError('btf_ext_bad', `.BTF.ext: ${name} record size ${recSize} is below ${minRec} or not a multiple of 4`);
    const out: BtfExtSection<R>[] = [];
    let p = start + 4;
    while (p < end) {
      if (end - p < 8) throw new InvalidProgramError('btf_ext_bad', `.BTF.ext: ${name} section header at offset ${p - hdrLen} is truncated`);
      const section = btf.string(view.getUint32(p, true), () => `.BTF.ext: ${name} section name`);
      const count = view.getUint32(p + 4, true);
      p += 8;
      if (count > (end - p) / recSize) throw new InvalidProgramError('btf_ext_bad', `.BTF.ext: ${name} for section ${section}: ${count} records of ${recSize} bytes run past the end of the block`);
      const records: R[] = [];
      for (let i = 0; i < count; i++, p += recSize) records.push(record(p, () => `.BTF.ext: ${name} record ${i} for section ${section}`));
      out.push({ section, records });
    }
    return out;
  };

  const funcInfo = block<BtfFuncInfo>('func_info', 8, 8, (o, what) => {
    const typeId = view.getUint32(o + 4, true);
    const t = btf.type(typeId, what);
    if (t.kind !== 'func') throw new InvalidProgramError('btf_ext_bad', `${what()}: type [${typeId}] is a ${t.kind}, not a func`);
    return { insnOff: view.getUint32(o, true), typeId };
  });
  const lineInfo = block<BtfLineInfo>('line_info', 16, 16, (o, what) => {
    const lineCol = view.getUint32(o + 12, true);
    return {
      insnOff: view.getUint32(o, true),
      file: btf.string(view.getUint32(o + 4, true), () => `${what()} file name`),
      text: btf.string(view.getUint32(o + 8, true), () => `${what()} line text`),
      line: lineCol >>> 10,
      column: lineCol & 0x3ff,
    };
  });
  const coreRelos = block<BtfCoreRelo>('core_relo', 24, 16, (o, what) => {
    const typeId = view.getUint32(o + 4, true);
    btf.type(typeId, what);
    const kindNumber = view.getUint32(o + 12, true);
    const kind = CORE_RELO_KINDS[kindNumber];
    if (kind === undefined) throw new InvalidProgramError('btf_core_relo', `${what()}: unknown CO-RE relocation kind ${kindNumber}`);
    return { insnOff: view.getUint32(o, true), typeId, access: btf.string(view.getUint32(o + 8, true), () => `${what()} access string`), kind };
  });
  return { funcInfo, lineInfo, coreRelos };
}
