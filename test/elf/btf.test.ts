// parseBtf on hand-built type sections holding every kind (the compiler fixtures do not use FLOAT, ENUM64,
// DECL_TAG, TYPE_TAG, RESTRICT, FWD...), the lookups (sizes, modifier chains) and their loop guards, and on the
// BTF of a real object.

import { describe, expect, test } from 'vitest';
import { parseBtf, BTF_KIND, MAX_RESOLVE_DEPTH, type Btf } from '../../src/elf/btf.js';
import { InvalidProgramError } from '../../src/errors.js';
import { loadFixture } from './fixtures.js';

/** Builds a .BTF blob: strings get offsets as they are added, types are [name, kind, vlen, kflag, sizeOrType, ...u32 extra]. */
class BtfBuilder {
  private strings: number[] = [0];
  private words: number[] = [];

  str(s: string): number {
    const off = this.strings.length;
    this.strings.push(...new TextEncoder().encode(s), 0);
    return off;
  }

  type(name: string, kind: number, vlen: number, kflag: boolean, sizeOrType: number, ...extra: number[]): this {
    this.words.push(name ? this.str(name) : 0, ((kflag ? 1 : 0) << 31) | (kind << 24) | vlen, sizeOrType, ...extra);
    return this;
  }

  build(): Uint8Array {
    const typeLen = this.words.length * 4;
    const out = new Uint8Array(24 + typeLen + this.strings.length);
    const v = new DataView(out.buffer);
    v.setUint16(0, 0xeb9f, true);
    out[2] = 1;
    v.setUint32(4, 24, true);
    v.setUint32(8, 0, true);
    v.setUint32(12, typeLen, true);
    v.setUint32(16, typeLen, true);
    v.setUint32(20, this.strings.length, true);
    this.words.forEach((w, i) => v.setUint32(24 + i * 4, w >>> 0, true));
    out.set(this.strings, 24 + typeLen);
    return out;
  }
}

function expectBtfError(build: () => unknown, code: string, message: RegExp): void {
  let caught: unknown;
  try {
    build();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(InvalidProgramError);
  expect((caught as InvalidProgramError).code).toBe(code);
  expect((caught as InvalidProgramError).message).toMatch(message);
}

describe('parseBtf: every kind', () => {
  const b = new BtfBuilder();
  const K = BTF_KIND;
  b.type('int', K.INT, 0, false, 4, (1 << 24) | 32); // [1] signed int
  b.type('', K.PTR, 0, false, 1); // [2] int *
  b.type('', K.ARRAY, 0, false, 0, 1, 1, 5); // [3] int[5]
  b.type('s', K.STRUCT, 3, true, 24, b.str('a'), 1, 0, b.str('bits'), 1, (3 << 24) | 32, b.str('arr'), 3, 64); // [4]
  b.type('u', K.UNION, 2, false, 8, b.str('x'), 1, 0, b.str('p'), 2, 0); // [5]
  b.type('e', K.ENUM, 2, true, 4, b.str('NEG'), -5, b.str('POS'), 9); // [6] signed enum
  b.type('fwd_u', K.FWD, 0, true, 0); // [7] union forward
  b.type('myint', K.TYPEDEF, 0, false, 1); // [8]
  b.type('', K.VOLATILE, 0, false, 8); // [9]
  b.type('', K.CONST, 0, false, 9); // [10]
  b.type('', K.RESTRICT, 0, false, 2); // [11]
  b.type('', K.FUNC_PROTO, 2, false, 1, b.str('a'), 1, 0, 0); // [12] int (int a, ...)
  b.type('f', K.FUNC, 1, false, 12); // [13] global func
  b.type('v', K.VAR, 0, false, 10, 1); // [14] global var of const volatile myint
  b.type('.data', K.DATASEC, 1, false, 4, 14, 0, 4); // [15]
  b.type('double', K.FLOAT, 0, false, 8); // [16]
  b.type('tag', K.DECL_TAG, 0, false, 4, -1); // [17] on struct s
  b.type('user', K.TYPE_TAG, 0, false, 1); // [18]
  b.type('e64', K.ENUM64, 1, false, 8, b.str('BIG'), 0x89abcdef, 0x01234567); // [19]
  const btf: Btf = parseBtf(b.build());

  test('each kind becomes its typed record', () => {
    expect(btf.types).toHaveLength(20);
    expect(btf.types[0]).toEqual({ kind: 'void', id: 0, name: '' });
    expect(btf.types[1]).toEqual({ kind: 'int', id: 1, name: 'int', size: 4, signed: true, char: false, bool: false, bitOffset: 0, bits: 32 });
    expect(btf.types[2]).toEqual({ kind: 'ptr', id: 2, name: '', type: 1 });
    expect(btf.types[3]).toEqual({ kind: 'array', id: 3, name: '', type: 1, indexType: 1, nelems: 5 });
    expect(btf.types[4]).toEqual({
      kind: 'struct', id: 4, name: 's', size: 24,
      members: [{ name: 'a', type: 1, bitOffset: 0, bitfieldSize: 0 }, { name: 'bits', type: 1, bitOffset: 32, bitfieldSize: 3 }, { name: 'arr', type: 3, bitOffset: 64, bitfieldSize: 0 }],
    });
    expect(btf.types[5]).toMatchObject({ kind: 'union', size: 8, members: [{ name: 'x' }, { name: 'p', type: 2 }] });
    expect(btf.types[6]).toEqual({ kind: 'enum', id: 6, name: 'e', size: 4, signed: true, values: [{ name: 'NEG', value: -5 }, { name: 'POS', value: 9 }] });
    expect(btf.types[7]).toEqual({ kind: 'fwd', id: 7, name: 'fwd_u', union: true });
    expect(btf.types.slice(8, 12).map((t) => t.kind)).toEqual(['typedef', 'volatile', 'const', 'restrict']);
    expect(btf.types[12]).toEqual({ kind: 'func_proto', id: 12, name: '', returnType: 1, params: [{ name: 'a', type: 1 }, { name: '', type: 0 }] });
    expect(btf.types[13]).toEqual({ kind: 'func', id: 13, name: 'f', type: 12, linkage: 'global' });
    expect(btf.types[14]).toEqual({ kind: 'var', id: 14, name: 'v', type: 10, linkage: 'global' });
    expect(btf.types[15]).toEqual({ kind: 'datasec', id: 15, name: '.data', size: 4, vars: [{ type: 14, offset: 0, size: 4 }] });
    expect(btf.types[16]).toEqual({ kind: 'float', id: 16, name: 'double', size: 8 });
    expect(btf.types[17]).toEqual({ kind: 'decl_tag', id: 17, name: 'tag', type: 4, componentIdx: -1 });
    expect(btf.types[18]).toEqual({ kind: 'type_tag', id: 18, name: 'user', type: 1 });
    expect(btf.types[19]).toEqual({ kind: 'enum64', id: 19, name: 'e64', size: 8, signed: false, values: [{ name: 'BIG', value: 0x0123456789abcdefn }] });
  });

  test('sizes resolve through modifiers, typedefs, arrays and variables', () => {
    expect(btf.resolveSize(3)).toBe(20);
    expect(btf.resolveSize(10)).toBe(4); // const volatile myint
    expect(btf.resolveSize(14)).toBe(4); // the variable
    expect(btf.resolveSize(2)).toBe(8);
    expect(btf.resolveSize(4)).toBe(24);
    expect(btf.skipModsAndTypedefs(10).id).toBe(1);
    expect(btf.find('datasec', '.data')?.id).toBe(15);
    expectBtfError(() => btf.resolveSize(13), 'btf_bad_type', /has no size/);
    expectBtfError(() => btf.resolveSize(99), 'btf_bad_type', /type id 99 does not exist/);
  });
});

describe('parseBtf: loops and bad references', () => {
  test('a typedef loop is an error, not a hang', () => {
    const b = new BtfBuilder();
    b.type('a', BTF_KIND.TYPEDEF, 0, false, 2).type('b', BTF_KIND.TYPEDEF, 0, false, 1);
    const btf = parseBtf(b.build());
    expectBtfError(() => btf.resolveSize(1), 'btf_bad_type', new RegExp(`longer than ${MAX_RESOLVE_DEPTH}`));
    expectBtfError(() => btf.skipModsAndTypedefs(1), 'btf_bad_type', /a loop\?/);
  });
  test('an array whose size overflows 32 bits', () => {
    const b = new BtfBuilder();
    b.type('int', BTF_KIND.INT, 0, false, 4, 32).type('', BTF_KIND.ARRAY, 0, false, 0, 1, 1, 0x40000000).type('', BTF_KIND.ARRAY, 0, false, 0, 2, 1, 16);
    expectBtfError(() => parseBtf(b.build()).resolveSize(3), 'btf_bad_type', /overflows 32 bits/);
  });
  test('a member type id past the last type', () => {
    const b = new BtfBuilder();
    b.type('s', BTF_KIND.STRUCT, 1, false, 4, b.str('m'), 7, 0);
    expectBtfError(() => parseBtf(b.build()), 'btf_bad_type', /type \[1\] member 0 type refers to type id 7/);
  });
  test('a function whose type is not a prototype', () => {
    const b = new BtfBuilder();
    b.type('int', BTF_KIND.INT, 0, false, 4, 32).type('f', BTF_KIND.FUNC, 0, false, 1);
    expectBtfError(() => parseBtf(b.build()), 'btf_bad_type', /not a func_proto/);
  });
  test('a name offset outside the string section', () => {
    const blob = new BtfBuilder().type('int', BTF_KIND.INT, 0, false, 4, 32).build();
    new DataView(blob.buffer).setUint32(24, 0x1000, true);
    expectBtfError(() => parseBtf(blob), 'btf_bad_string', /string offset 4096 is outside the string table/);
  });
  test('a string section that does not end with NUL', () => {
    const blob = new BtfBuilder().type('int', BTF_KIND.INT, 0, false, 4, 32).build();
    blob[blob.length - 1] = 0x41;
    expectBtfError(() => parseBtf(blob), 'btf_bad_string', /start and end with a NUL/);
  });
  test('an int wider than its size', () => {
    const blob = new BtfBuilder().type('int', BTF_KIND.INT, 0, false, 2, 32).build();
    expectBtfError(() => parseBtf(blob), 'btf_bad_type', /does not fit its 2 bytes/);
  });
  test('a truncated header', () => expectBtfError(() => parseBtf(new Uint8Array(10)), 'btf_truncated', /header is truncated/));
});

describe('BTF and BTF.ext of a real object', () => {
  test('core.o: the struct with bitfields, the enum, the functions and the line table', () => {
    const object = loadFixture('core.o');
    const btf = object.btf!;
    const record = btf.find('struct', 'record')!;
    expect(record.members.map((m) => [m.name, m.bitOffset, m.bitfieldSize])).toEqual([['id', 0, 0], ['flag', 64, 3], ['level', 67, 9], ['in', 96, 0], ['list', 192, 0], ['color', 384, 0]]);
    expect(btf.find('enum', 'color')!.values).toEqual([{ name: 'RED', value: 1 }, { name: 'GREEN', value: 7 }, { name: 'BLUE', value: 9 }]);
    expect(btf.resolveSize(record.id)).toBe(56);
    const ext = object.btfExt!;
    expect(ext.funcInfo).toEqual([{ section: 'socket', records: [{ insnOff: 0, typeId: btf.find('func', 'core_read')!.id }] }]);
    expect(ext.lineInfo[0].section).toBe('socket');
    expect(ext.lineInfo[0].records.some((r) => r.text.includes('total += r->in.a;') && r.file === './core.c')).toBe(true);
    expect(ext.coreRelos[0].records.find((r) => r.access === '0:4:1:1:2')).toMatchObject({ kind: 'field_byte_offset', typeId: record.id });
  });

  test('clang leaves .maps DATASEC offsets to relocations; the loader applies them', () => {
    const object = loadFixture('maps.o');
    const datasec = object.btf!.find('datasec', '.maps')!;
    const offsets = datasec.vars.map((v) => v.offset);
    expect(offsets[0]).toBe(0);
    expect(offsets.slice(1).every((o) => o > 0)).toBe(true);
    expect(new Set(offsets).size).toBe(offsets.length);
  });
});
