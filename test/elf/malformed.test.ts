// loadElf's rejection table: one real object damaged in one precise place per case, each asserting the error class
// (InvalidProgramError, never a RangeError from deep inside), its code and what the message names. Offsets come
// from parsing the pristine object, so each case shows exactly which field is wrong.

import { describe, expect, test } from 'vitest';
import { parseElf, type ElfFile, type ElfSection } from '../../src/elf/elf.js';
import { loadElf } from '../../src/elf/loader.js';
import { InvalidProgramError, type InvalidProgramCode } from '../../src/errors.js';
import { fixtureBytes, le } from './fixtures.js';

function expectInvalid(bytes: Uint8Array, code: InvalidProgramCode, message?: RegExp): void {
  let caught: unknown;
  try {
    loadElf(bytes);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(InvalidProgramError);
  const err = caught as InvalidProgramError;
  expect(err.code).toBe(code);
  if (message) expect(err.message).toMatch(message);
}

/** A damaged copy of a fixture: `edit` gets the bytes, a little-endian view and the pristine parse. */
function damaged(name: string, edit: (bytes: Uint8Array, view: DataView, elf: ElfFile) => void): Uint8Array {
  const bytes = fixtureBytes(name);
  edit(bytes, le(bytes), parseElf(fixtureBytes(name)));
  return bytes;
}

const section = (elf: ElfFile, name: string): ElfSection => {
  const s = elf.sections.find((x) => x.name === name);
  if (!s) throw new Error(`no section ${name}`);
  return s;
};
/** File offset of section `index`'s header. */
const shdr = (view: DataView, index: number): number => view.getUint32(40, true) + index * 64;
/** File offset of symbol `name`'s entry. */
const sym = (elf: ElfFile, name: string): number => {
  const symtab = elf.sections.find((s) => s.type === 2)!;
  return symtab.offset + elf.symbols.find((s) => s.name === name)!.index * 24;
};
/** File offset of relocation `i` of the section relocating `target`. */
const rel = (elf: ElfFile, target: string, i = 0): number => {
  const r = elf.relocations.find((x) => elf.sections[x.target].name === target)!;
  return r.section.offset + i * 16;
};

const XDP = 'xdp_hash.o';

describe('ELF header', () => {
  test('truncated header', () => expectInvalid(fixtureBytes(XDP).subarray(0, 40), 'elf_truncated', /ELF header is truncated: 40 bytes/));
  test('not an ELF file', () => expectInvalid(damaged(XDP, (b) => { b[0] = 0; }), 'elf_bad_ident', /magic/));
  test('wrong class (32-bit)', () => expectInvalid(damaged(XDP, (b) => { b[4] = 1; }), 'elf_bad_class', /ELFCLASS64/));
  test('big-endian', () => expectInvalid(damaged(XDP, (b) => { b[5] = 2; }), 'elf_bad_class', /big-endian/));
  test('wrong machine', () => expectInvalid(damaged(XDP, (_, v) => v.setUint16(18, 62, true)), 'elf_bad_machine', /62 is not EM_BPF/));
  test('not a relocatable object', () => expectInvalid(damaged(XDP, (_, v) => v.setUint16(16, 2, true)), 'elf_bad_type', /ET_REL/));
  test('file cut short: the section headers are gone', () => {
    const b = fixtureBytes(XDP);
    expectInvalid(b.subarray(0, b.length - 100), 'elf_bad_section', /section header table .* runs past the end/);
  });
  test('section header table offset past the end', () => expectInvalid(damaged(XDP, (b, v) => v.setUint32(40, b.length, true)), 'elf_bad_section', /past the end of the file/));
});

describe('sections', () => {
  test('section offset past the end of the file', () => {
    expectInvalid(damaged(XDP, (b, v, elf) => v.setUint32(shdr(v, section(elf, 'xdp').index) + 24, b.length, true)), 'elf_bad_section', /section \d+: data at offset .* runs past the end/);
  });
  test('section size past the end of the file', () => {
    expectInvalid(damaged(XDP, (_, v, elf) => v.setUint32(shdr(v, section(elf, '.BTF').index) + 32, 0x7fffffff, true)), 'elf_bad_section', /runs past the end/);
  });
  test('bad section name index', () => {
    expectInvalid(damaged(XDP, (_, v, elf) => v.setUint32(shdr(v, section(elf, 'xdp').index), 0xffffff, true)), 'elf_bad_string', /section \d+: name: string offset 16777215 is outside the string table/);
  });
  test('symbol table linked to a non-string section', () => {
    expectInvalid(damaged(XDP, (_, v, elf) => v.setUint32(shdr(v, elf.sections.find((s) => s.type === 2)!.index) + 40, 0, true)), 'elf_bad_section', /string table link 0/);
  });
  test('a relocation section that relocates itself', () => {
    expectInvalid(damaged(XDP, (_, v, elf) => {
      const r = section(elf, '.relxdp');
      v.setUint32(shdr(v, r.index) + 44, r.index, true);
    }), 'elf_bad_section', /cannot be relocated/);
  });
  test('SHT_RELA for code is rejected by name', () => {
    expectInvalid(damaged(XDP, (_, v, elf) => v.setUint32(shdr(v, section(elf, '.relxdp').index) + 4, 4, true)), 'elf_unsupported', /SHT_RELA relocations \(for xdp\)/);
  });
});

describe('symbols', () => {
  test('symbol with a section index out of range', () => {
    expectInvalid(damaged(XDP, (_, v, elf) => v.setUint16(sym(elf, 'counts') + 6, 999, true)), 'elf_bad_symbol', /section index 999 is not a section/);
  });
  test('symbol with a bad name index', () => {
    expectInvalid(damaged(XDP, (_, v, elf) => v.setUint32(sym(elf, 'counts'), 0xfffffff, true)), 'elf_bad_string', /symbol \d+: name/);
  });
  test('function running past its section', () => {
    expectInvalid(damaged(XDP, (_, v, elf) => v.setUint32(sym(elf, 'xdp_count') + 16, 0x10000, true)), 'elf_bad_function', /function 'xdp_count'.*does not fit/);
  });
});

describe('relocations', () => {
  test('bad symbol index in a relocation', () => {
    expectInvalid(damaged(XDP, (_, v, elf) => v.setUint32(rel(elf, 'xdp') + 12, 9999, true)), 'elf_bad_relocation', /relocation 0 .*symbol index 9999 is out of range/);
  });
  test('relocation against a missing (undefined) symbol', () => {
    expectInvalid(damaged(XDP, (_, v, elf) => v.setUint32(rel(elf, 'xdp') + 12, 0, true)), 'elf_undefined_symbol', /not defined in this object/);
  });
  test('relocation offset outside its section', () => {
    expectInvalid(damaged(XDP, (_, v, elf) => v.setUint32(rel(elf, 'xdp'), section(elf, 'xdp').size, true)), 'elf_bad_relocation', /offset is outside section \d+ \(xdp\)/);
  });
  test('relocation not at an instruction boundary', () => {
    expectInvalid(damaged(XDP, (_, v, elf) => v.setUint32(rel(elf, 'xdp'), 0x21, true)), 'elf_bad_relocation', /not at an instruction/);
  });
  test('map relocation on an instruction that is not an lddw', () => {
    expectInvalid(damaged(XDP, (_, v, elf) => v.setUint32(rel(elf, 'xdp'), 0, true)), 'elf_bad_relocation', /is not an lddw/);
  });
  test('unsupported relocation type in code, named', () => {
    expectInvalid(damaged(XDP, (_, v, elf) => v.setUint32(rel(elf, 'xdp') + 8, 2, true)), 'elf_unsupported', /R_BPF_64_ABS64 at xdp\+0x\w+ against 'counts'.*not supported in code/);
  });
  test('a call relocation to something that is not a function start', () => {
    // calls.o: xdp_calls calls add_square through R_BPF_64_32; point that call one instruction further.
    expectInvalid(damaged('calls.o', (b, v, elf) => {
      const r = elf.relocations.find((x) => elf.sections[x.target].name === 'xdp')!;
      const call = r.relocations.find((x) => x.type === 10 && elf.symbols[x.symbol].name === 'add_square')!;
      const at = section(elf, 'xdp').offset + call.offset;
      expect(b[at]).toBe(0x85);
      v.setInt32(at + 4, 0, true);
    }), 'elf_bad_relocation', /\.text\+0x8 is not the start of a function/);
  });
});

describe('BTF', () => {
  const btfHeader = (elf: ElfFile): number => section(elf, '.BTF').offset;
  test('bad magic', () => expectInvalid(damaged(XDP, (_, v, elf) => v.setUint16(btfHeader(elf), 0x1234, true)), 'btf_bad_header', /magic 0x1234/));
  test('type referring to a type id that does not exist', () => {
    expectInvalid(damaged(XDP, (_, v, elf) => {
      const h = btfHeader(elf);
      const first = h + v.getUint32(h + 4, true) + v.getUint32(h + 8, true);
      expect((v.getUint32(first + 4, true) >>> 24) & 0x1f).toBe(2); // clang's first type is a pointer
      v.setUint32(first + 8, 0xffff, true);
    }), 'btf_bad_type', /type \[1\] pointee refers to type id 65535, which does not exist/);
  });
  test('truncated type section', () => {
    expectInvalid(damaged(XDP, (_, v, elf) => v.setUint32(btfHeader(elf) + 12, v.getUint32(btfHeader(elf) + 12, true) - 4, true)), 'btf_truncated', /type \[\d+\] .* (is truncated|runs past the end of the type section)/);
  });
  test('type section running past the end of .BTF', () => {
    expectInvalid(damaged(XDP, (_, v, elf) => v.setUint32(btfHeader(elf) + 12, 0x100000, true)), 'btf_truncated', /type section .* runs past the end/);
  });
  test('unknown kind', () => {
    expectInvalid(damaged(XDP, (_, v, elf) => {
      const h = btfHeader(elf);
      const first = h + v.getUint32(h + 4, true) + v.getUint32(h + 8, true);
      v.setUint32(first + 4, 0x1f << 24, true);
    }), 'btf_bad_type', /unknown kind 31/);
  });
  test('.BTF.ext with a bad line_info record size', () => {
    expectInvalid(damaged(XDP, (_, v, elf) => {
      const h = section(elf, '.BTF.ext').offset;
      v.setUint32(h + v.getUint32(h + 4, true) + v.getUint32(h + 16, true), 3, true);
    }), 'btf_ext_bad', /line_info record size 3/);
  });
  test('CO-RE: an instruction that disagrees with the BTF is named', () => {
    // core.o pc 5 is `r1 = *(u32 *)(r1 + 12)`, r->in.a; BTF says offset 12.
    expectInvalid(damaged('core.o', (b, v, elf) => {
      const at = section(elf, 'socket').offset + 5 * 8;
      expect(v.getInt16(at + 2, true)).toBe(12);
      v.setInt16(at + 2, 16, true);
    }), 'btf_core_relo', /field_byte_offset relocation at socket\+0x28 \(type \[2\] struct record, access "0:3:0"\): instruction offset is 16, expected 12/);
  });
});

describe('maps', () => {
  test('a legacy map definition that does not divide the section', () => {
    expectInvalid(damaged('legacy_maps.nog.o', (_, v, elf) => v.setUint32(shdr(v, section(elf, 'maps').index) + 32, 39, true)), 'elf_bad_map', /39 bytes do not divide into 2 map definitions/);
  });
  test('an unknown field in a BTF map definition', () => {
    // Rename the member `max_entries` of the hash map's struct to a string that is not a known field.
    expectInvalid(damaged(XDP, (b, _v, elf) => {
      const btf = section(elf, '.BTF');
      const text = new TextDecoder('latin1').decode(b.subarray(btf.offset, btf.offset + btf.size));
      const at = text.indexOf('\0max_entries\0');
      expect(at).toBeGreaterThan(0);
      b.set(new TextEncoder().encode('max_entrieZ'), btf.offset + at + 1);
    }), 'elf_bad_map', /map 'counts': unknown field 'max_entrieZ'/);
  });
});
