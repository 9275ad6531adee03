/**
 * CO-RE ("compile once, run everywhere") relocations from `.BTF.ext`, resolved against the object's own BTF.
 *
 * libbpf resolves each relocation twice, against the program's BTF (the "local" value clang already wrote into the
 * instruction) and against the running kernel's BTF (the "target" value it patches in). ebpf-wasm has no kernel: the
 * target is the object's own BTF, so the target value is computed exactly as libbpf computes it, the instruction is
 * checked to hold the local value where libbpf would check it, and the computed value is written back. For plain
 * fields this is the identity; for bitfields, where clang and libbpf may pick different load sizes, libbpf's choice
 * is written, as it would be against an identical kernel type.
 *
 * Every kind is handled: field byte offset/size/existence/signedness/shifts, local and target type ids, type
 * existence/size/match, enumerator existence/value. A relocation that cannot be resolved (bad access string, an
 * instruction of the wrong shape, a value that does not fit) raises `btf_core_relo` naming the section, the
 * instruction and the access, never silently left alone.
 *
 * Not here: kernel BTF, candidate matching by name across two BTFs (`___flavor` suffixes), instruction poisoning.
 */

import { InternalError, InvalidProgramError } from '../errors.js';
import { describeType, type Btf, type BtfCoreRelo, type BtfType } from './btf.js';

interface Accessor {
  /** Type id of the composite (member access) or of the element (array access), modifiers skipped. */
  readonly typeId: number;
  readonly idx: number;
  /** Member name for a named member access; undefined for array indexing (and the root `[n]`). */
  readonly name?: string;
}

interface Spec {
  readonly accessors: readonly Accessor[];
  /** Bit offset of the accessed field from the start of the root object. */
  readonly bitOffset: number;
}

/** A resolved relocation: the value to write and whether the instruction must already hold it. */
interface Resolution {
  readonly value: bigint;
  readonly validate: boolean;
}

const FIELD_KINDS = new Set<BtfCoreRelo['kind']>(['field_byte_offset', 'field_byte_size', 'field_exists', 'field_signed', 'field_lshift_u64', 'field_rshift_u64']);
const TYPE_KINDS = new Set<BtfCoreRelo['kind']>(['type_id_local', 'type_id_target', 'type_exists', 'type_size', 'type_matches']);

function skipModsId(btf: Btf, id: number): { id: number; type: BtfType } {
  const type = btf.skipModsAndTypedefs(id);
  return { id: type.id, type };
}

/** Parses an access string (`0:1:2`) over type `rootId` like libbpf's `bpf_core_parse_spec`. */
function parseSpec(btf: Btf, relo: BtfCoreRelo, fail: (msg: string) => never): Spec {
  const raw = relo.access.split(':').map((s) => (/^\d+$/.test(s) ? Number(s) : NaN));
  if (raw.length === 0 || raw.some((n) => !Number.isSafeInteger(n))) fail(`malformed access string "${relo.access}"`);
  if (raw.length > 64) fail(`access string "${relo.access}" is too deep`);
  let { id, type: t } = skipModsId(btf, relo.typeId);
  const accessors: Accessor[] = [{ typeId: id, idx: raw[0] }];
  let bitOffset = raw[0] * btf.resolveSize(id) * 8;
  for (let i = 1; i < raw.length; i++) {
    ({ id, type: t } = skipModsId(btf, id));
    const idx = raw[i];
    if (t.kind === 'struct' || t.kind === 'union') {
      const m = t.members[idx];
      if (m === undefined) fail(`access "${relo.access}": member ${idx} does not exist in ${describeType(btf, id)} (${t.members.length} members)`);
      bitOffset += m.bitOffset;
      if (m.name !== '') accessors.push({ typeId: id, idx, name: m.name });
      id = m.type;
    } else if (t.kind === 'array') {
      const prev = accessors[accessors.length - 1];
      const elem = skipModsId(btf, t.type);
      // A flexible array member (the last member, of 0 elements) may be indexed past its declared length.
      const prevType = btf.types[prev.typeId];
      const flex = t.nelems === 0 && prev.name !== undefined && (prevType.kind === 'struct' || prevType.kind === 'union') && prev.idx === prevType.members.length - 1;
      if (!flex && idx >= t.nelems) fail(`access "${relo.access}": index ${idx} is past the array's ${t.nelems} elements`);
      accessors.push({ typeId: elem.id, idx });
      bitOffset += idx * btf.resolveSize(elem.id) * 8;
      id = elem.id;
    } else {
      fail(`access "${relo.access}": step ${i} goes into ${describeType(btf, id)}, which is neither a struct, a union nor an array`);
    }
    if (bitOffset > 2 ** 40) fail(`access "${relo.access}": offset is implausibly large`);
  }
  return { accessors, bitOffset };
}

function resolveField(btf: Btf, relo: BtfCoreRelo, fail: (msg: string) => never): Resolution {
  if (relo.kind === 'field_exists') {
    parseSpec(btf, relo, fail); // the field must exist in the only BTF there is
    return { value: 1n, validate: true };
  }
  const spec = parseSpec(btf, relo, fail);
  const acc = spec.accessors[spec.accessors.length - 1];
  if (acc.name === undefined) {
    // Array element (or the root object itself): only its offset and size make sense.
    if (relo.kind === 'field_byte_offset') return { value: BigInt(Math.floor(spec.bitOffset / 8)), validate: true };
    if (relo.kind === 'field_byte_size') return { value: BigInt(btf.resolveSize(acc.typeId)), validate: true };
    fail(`${relo.kind} cannot be applied to an array element`);
  }
  const composite = btf.types[acc.typeId];
  if (composite.kind !== 'struct' && composite.kind !== 'union') throw new InternalError(`CO-RE accessor type is a ${composite.kind}`);
  const m = composite.members[acc.idx];
  const mt = btf.skipModsAndTypedefs(m.type);
  const bitOff = spec.bitOffset;
  let bitSz = m.bitfieldSize;
  const bitfield = bitSz > 0;
  let byteOff: number;
  let byteSz: number;
  if (bitfield) {
    // The smallest naturally aligned load, starting from the member type's size, that covers the bitfield.
    if (mt.kind !== 'int' && mt.kind !== 'enum' && mt.kind !== 'enum64') fail(`bitfield ${m.name} has non-integer type ${describeType(btf, mt.id)}`);
    byteSz = mt.size;
    if (![1, 2, 4, 8].includes(byteSz)) fail(`bitfield ${m.name} has a ${byteSz}-byte type`);
    byteOff = Math.floor(bitOff / 8 / byteSz) * byteSz;
    while (bitOff + bitSz - byteOff * 8 > byteSz * 8) {
      if (byteSz >= 8) fail(`bitfield ${m.name} cannot be read with one 64-bit load`);
      byteSz *= 2;
      byteOff = Math.floor(bitOff / 8 / byteSz) * byteSz;
    }
  } else {
    byteSz = btf.resolveSize(mt.id);
    byteOff = Math.floor(bitOff / 8);
    bitSz = byteSz * 8;
  }
  // libbpf skips the check of clang's value for bitfields (the two may choose different loads), except for the
  // signedness and the right shift, which are never ambiguous.
  switch (relo.kind) {
    case 'field_byte_offset': return { value: BigInt(byteOff), validate: !bitfield };
    case 'field_byte_size': return { value: BigInt(byteSz), validate: !bitfield };
    case 'field_signed': {
      const signed = ((mt.kind === 'enum' || mt.kind === 'enum64') && mt.signed) || (mt.kind === 'int' && mt.signed);
      return { value: signed ? 1n : 0n, validate: true };
    }
    case 'field_lshift_u64': return { value: BigInt(64 - (bitOff + bitSz - byteOff * 8)), validate: !bitfield };
    case 'field_rshift_u64': return { value: BigInt(64 - bitSz), validate: true };
    default: throw new InternalError(`${relo.kind} is not a field relocation`);
  }
}

function resolve(btf: Btf, relo: BtfCoreRelo, fail: (msg: string) => never): Resolution {
  if (FIELD_KINDS.has(relo.kind)) return resolveField(btf, relo, fail);
  if (TYPE_KINDS.has(relo.kind)) {
    if (relo.access !== '0') fail(`type relocation with access string "${relo.access}" (expected "0")`);
    switch (relo.kind) {
      case 'type_id_local': case 'type_id_target': return { value: BigInt(relo.typeId), validate: true };
      case 'type_exists': case 'type_matches': return { value: 1n, validate: true };
      case 'type_size': return { value: BigInt(btf.resolveSize(relo.typeId)), validate: true };
      default: throw new InternalError(`${relo.kind} is not a type relocation`);
    }
  }
  // enumval_exists / enumval_value: "N" selects enumerator N of the (modifier-stripped) enum.
  const t = btf.skipModsAndTypedefs(relo.typeId);
  if (t.kind !== 'enum' && t.kind !== 'enum64') fail(`enum relocation on ${describeType(btf, t.id)}, which is not an enum`);
  if (!/^\d+$/.test(relo.access)) fail(`enum relocation with access string "${relo.access}" (expected one index)`);
  const e = t.values[Number(relo.access)];
  if (e === undefined) fail(`enumerator ${relo.access} does not exist in ${describeType(btf, t.id)} (${t.values.length} enumerators)`);
  return { value: relo.kind === 'enumval_exists' ? 1n : BigInt(e.value), validate: true };
}

/**
 * Applies the CO-RE relocations of one code section, in place, to `code` (a private copy of the section's bytes).
 *
 * @throws InvalidProgramError `btf_core_relo` naming the section, byte offset, kind and access string.
 */
export function applyCoreRelocations(code: Uint8Array, section: string, relos: readonly BtfCoreRelo[], btf: Btf): void {
  const view = new DataView(code.buffer, code.byteOffset, code.byteLength);
  for (const relo of relos) {
    const where = `CO-RE ${relo.kind} relocation at ${section}+0x${relo.insnOff.toString(16)} (type [${relo.typeId}] ${describeType(btf, relo.typeId)}, access "${relo.access}")`;
    const fail = (msg: string): never => {
      throw new InvalidProgramError('btf_core_relo', `${where}: ${msg}`);
    };
    const o = relo.insnOff;
    if (o % 8 !== 0 || o + 8 > code.length) fail(`instruction offset is not an instruction of the section (${code.length} bytes)`);
    const { value, validate } = resolve(btf, relo, fail);
    const opcode = code[o];
    const cls = opcode & 7;
    // Patch the field each instruction class carries the value in, as libbpf's bpf_core_patch_insn does.
    if (cls === 4 || cls === 7) {
      // ALU / ALU64 with an immediate operand: imm.
      if ((opcode & 0x08) !== 0) fail(`ALU instruction 0x${opcode.toString(16)} takes a register, not an immediate`);
      if (value > 0xffffffffn || value < -0x80000000n) fail(`value ${value} does not fit a 32-bit immediate`);
      const v = BigInt.asUintN(32, value); // negative enumerators as their 32-bit pattern
      const imm = view.getUint32(o + 4, true);
      if (validate && BigInt(imm) !== v) fail(`instruction holds ${imm}, expected ${value}`);
      view.setUint32(o + 4, Number(v), true);
    } else if (cls === 1 || cls === 2 || cls === 3) {
      // LDX / ST / STX: the 16-bit offset.
      if (relo.kind !== 'field_byte_offset') fail(`a memory instruction can only take a field_byte_offset`);
      if (value > 0x7fffn) fail(`offset ${value} does not fit a 16-bit instruction offset`);
      const off = view.getInt16(o + 2, true);
      if (validate && BigInt(off) !== value) fail(`instruction offset is ${off}, expected ${value}`);
      view.setInt16(o + 2, Number(value), true);
    } else if (opcode === 0x18) {
      // lddw with a plain 64-bit constant: both immediates.
      if (o + 16 > code.length || (code[o + 1] >> 4) !== 0 || view.getInt16(o + 2, true) !== 0 || code[o + 8] !== 0) fail('lddw has an unexpected form (a relocated or truncated lddw)');
      const imm = (BigInt(view.getUint32(o + 12, true)) << 32n) | BigInt(view.getUint32(o + 4, true));
      const v = BigInt.asUintN(64, value);
      if (validate && imm !== v) fail(`lddw holds ${imm}, expected ${v}`);
      view.setUint32(o + 4, Number(v & 0xffffffffn), true);
      view.setUint32(o + 12, Number(v >> 32n), true);
    } else {
      fail(`instruction with opcode 0x${opcode.toString(16)} cannot carry a CO-RE value`);
    }
  }
}
