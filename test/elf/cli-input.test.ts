// The CLI's file reader on ELF objects: recognised by magic, one program chosen by C function name or section,
// the only program taken when there is one, and an error listing the programs otherwise.

import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { readProgramFile } from '../../src/cli/input.js';
import { encode } from '../../src/isa/encode.js';
import { FIXTURES, loadFixture, programNamed } from './fixtures.js';

describe('readProgramFile with ELF objects', () => {
  test('an object with one program needs no selector', () => {
    const input = readProgramFile(join(FIXTURES, 'xdp_hash.o'));
    expect(input.format).toBe('elf');
    expect(input.elf?.program.name).toBe('xdp_count');
    expect(input.elf?.object.maps.map((m) => m.name)).toEqual(['counts']);
    expect(encode(input.program)).toEqual(encode(programNamed(loadFixture('xdp_hash.o'), 'xdp_count').program));
  });

  test('by C function name, by a section with one program, or an error listing the programs', () => {
    const path = join(FIXTURES, 'multi.o');
    expect(readProgramFile(path, { program: 'tc_mark' }).elf?.program.section).toBe('tc');
    expect(readProgramFile(path, { section: 'classifier' }).elf?.program.name).toBe('cls_ok');
    expect(() => readProgramFile(path)).toThrow(expect.objectContaining({ code: 'elf_no_program', message: expect.stringContaining('xdp_pass (xdp), xdp_drop_odd (xdp)') }));
    expect(() => readProgramFile(path, { section: 'nope' })).toThrow(/no section 'nope'; the object has: /);
  });

  test('a selector on a file that is not an ELF object is an error', () => {
    expect(() => readProgramFile(join(FIXTURES, 'asm.s'), { program: 'x' })).toThrow(expect.objectContaining({ code: 'data_format' }));
  });
});
