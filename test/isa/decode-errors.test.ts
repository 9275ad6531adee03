// decode's rejection table: every class of bad bytecode, each asserting the error class, its code and the
// slot it names. Programs are built slot by slot so each case shows exactly which field is wrong.

import { describe, expect, test } from 'vitest';
import { decode, type DecodeOptions } from '../../src/isa/decode.js';
import { InvalidProgramError, type InvalidProgramCode } from '../../src/errors.js';

interface SlotFields {
  dst?: number;
  src?: number;
  off?: number;
  imm?: number;
}

/** One 8-byte slot (RFC 9669 section 3 layout). */
function slot(opcode: number, f: SlotFields = {}): number[] {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setUint8(0, opcode);
  v.setUint8(1, ((f.src ?? 0) << 4) | (f.dst ?? 0));
  v.setInt16(2, f.off ?? 0, true);
  v.setInt32(4, f.imm ?? 0, true);
  return [...b];
}

const prog = (...slots: number[][]): Uint8Array => Uint8Array.from(slots.flat());

const EXIT = slot(0x95);
const MOV_IMM = (dst: number, imm: number): number[] => slot(0xb7, { dst, imm });
const LDDW = (dst: number, lo: number, hi: number, src = 0): number[][] => [slot(0x18, { dst, src, imm: lo }), slot(0x00, { imm: hi })];

function expectInvalid(bytes: Uint8Array, code: InvalidProgramCode, pc: number | undefined, options?: DecodeOptions): InvalidProgramError {
  let caught: unknown;
  try {
    decode(bytes, options);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(InvalidProgramError);
  const err = caught as InvalidProgramError;
  expect({ code: err.code, pc: err.pc }).toEqual({ code, pc });
  if (pc !== undefined) expect(err.message.startsWith(`pc ${pc}: `)).toBe(true);
  return err;
}

describe('decode rejects bad bytecode with a coded, located error', () => {
  test('empty program', () => {
    expectInvalid(new Uint8Array(0), 'empty', undefined);
  });

  test('truncated program: a partial slot', () => {
    expectInvalid(Uint8Array.from(EXIT.slice(0, 7)), 'truncated', 0);
    expectInvalid(prog(MOV_IMM(0, 1), EXIT.slice(0, 4)), 'truncated', 1);
  });

  test('program larger than maxSlots', () => {
    expectInvalid(prog(MOV_IMM(0, 1), MOV_IMM(0, 2), EXIT), 'too_large', undefined, { maxSlots: 2 });
    expect(decode(prog(MOV_IMM(0, 1), EXIT), { maxSlots: 2 }).slotCount).toBe(2);
  });

  test.each([
    ['0x00 (LD|IMM|W)', 0x00],
    ['0x8e (JMP32|0x80|X: no call in JMP32)', 0x8e],
    ['0xff', 0xff],
    ['0x96 (JMP32 exit)', 0x96],
    ['0xe7 (ALU64 op 0xe)', 0xe7],
    ['0x38 (LD|ABS|DW: legacy packet loads have no DW form)', 0x38],
  ])('unknown opcode %s', (_name, opcode) => {
    const err = expectInvalid(prog(MOV_IMM(0, 0), slot(opcode), EXIT), 'unknown_opcode', 1);
    expect(err.detail).toContain(`0x${opcode.toString(16).padStart(2, '0')}`);
  });

  test.each([
    ['div with offset 2', slot(0x3f, { dst: 1, src: 2, off: 2 })],
    ['mov reg with offset 4 (no movsx4)', slot(0xbf, { dst: 1, src: 2, off: 4 })],
    ['mov32 reg with offset 32 (movsx3232 does not exist)', slot(0xbc, { dst: 1, src: 2, off: 32 })],
    ['atomic with imm 0x02', slot(0xdb, { dst: 10, src: 1, off: -8, imm: 0x02 })],
    ['end with imm 17', slot(0xd4, { dst: 1, imm: 17 })],
    ['call with src 3', slot(0x85, { src: 3, imm: 1 })],
  ])('known opcode, unknown variant: %s', (_name, s) => {
    expectInvalid(prog(s, EXIT), 'unknown_opcode', 0);
  });

  test.each([
    ['add imm with src 1', slot(0x07, { dst: 1, src: 1, imm: 5 })],
    ['add reg with imm 5', slot(0x0f, { dst: 1, src: 2, imm: 5 })],
    ['add with offset 1', slot(0x07, { dst: 1, off: 1 })],
    ['neg with imm 1', slot(0x87, { dst: 1, imm: 1 })],
    ['exit with imm 1', slot(0x95, { imm: 1 })],
    ['exit with dst 1', slot(0x95, { dst: 1 })],
    ['ja with dst 2', slot(0x05, { dst: 2, off: 0 })],
    ['ja32 with offset 1', slot(0x06, { off: 1, imm: 0 })],
    ['ldxw with imm 7', slot(0x61, { dst: 0, src: 1, imm: 7 })],
    ['stxw with imm 7', slot(0x63, { dst: 10, src: 1, off: -4, imm: 7 })],
    ['stw with src 1', slot(0x62, { dst: 10, src: 1, off: -4, imm: 7 })],
    ['callx with src 1', slot(0x8d, { dst: 2, src: 1 })],
    ['call with offset 1', slot(0x85, { off: 1, imm: 5 })],
    ['be16 with src 1', slot(0xdc, { dst: 1, src: 1, imm: 16 })],
    ['ldabsw with dst 1', slot(0x20, { dst: 1, imm: 4 })],
    ['jeq imm with src 3', slot(0x15, { dst: 1, src: 3, off: 0, imm: 1 })],
  ])('non-zero reserved field: %s', (_name, s) => {
    expectInvalid(prog(MOV_IMM(0, 0), s, EXIT), 'reserved_field', 1);
  });

  test('a non-zero reserved field of the first lddw slot', () => {
    expectInvalid(prog(slot(0x18, { dst: 1, off: 3, imm: 1 }), slot(0), EXIT), 'reserved_field', 0);
  });

  test.each([
    ['dst r11', slot(0xb7, { dst: 11, imm: 1 })],
    ['dst r15', slot(0x07, { dst: 15, imm: 1 })],
    ['src r12', slot(0xbf, { dst: 1, src: 12 })],
    ['load base r11', slot(0x79, { dst: 0, src: 11 })],
    ['store base r13', slot(0x7b, { dst: 13, src: 1 })],
    ['callx r11', slot(0x8d, { dst: 11 })],
    ['jeq dst r14', slot(0x1d, { dst: 14, src: 1, off: 0 })],
  ])('bad register: %s', (_name, s) => {
    expectInvalid(prog(s, EXIT), 'bad_register', 0);
  });

  test('jump out of range, forward', () => {
    expectInvalid(prog(slot(0x05, { off: 1 }), EXIT), 'jump_out_of_range', 0); // target 2 of 0..1
    expectInvalid(prog(MOV_IMM(1, 0), slot(0x15, { dst: 1, off: 5, imm: 0 }), EXIT), 'jump_out_of_range', 1);
    expectInvalid(prog(MOV_IMM(1, 0), slot(0x06, { imm: 1 }), EXIT), 'jump_out_of_range', 1);
  });

  test('jump out of range, backward', () => {
    expectInvalid(prog(MOV_IMM(1, 0), slot(0x05, { off: -3 }), EXIT), 'jump_out_of_range', 1); // target -1
    expectInvalid(prog(EXIT, slot(0x1d, { dst: 1, src: 2, off: -0x8000 })), 'jump_out_of_range', 1);
    // -2 from slot 1 lands on slot 0: fine.
    expect(decode(prog(MOV_IMM(1, 0), slot(0x05, { off: -2 }), EXIT)).insns[1]).toMatchObject({ kind: 'ja', target: 0 });
  });

  test('jump into the middle of an lddw', () => {
    expectInvalid(prog(slot(0x05, { off: 1 }), ...LDDW(0, 1, 2), EXIT), 'jump_into_lddw', 0);
    // backward, into the second slot at 1
    expectInvalid(prog(...LDDW(0, 1, 2), slot(0x15, { dst: 0, off: -2, imm: 0 }), EXIT), 'jump_into_lddw', 2);
  });

  test('local call out of range or into an lddw', () => {
    expectInvalid(prog(slot(0x85, { src: 1, imm: 10 }), EXIT), 'call_out_of_range', 0);
    expectInvalid(prog(EXIT, slot(0x85, { src: 1, imm: -3 }), EXIT), 'call_out_of_range', 1);
    expectInvalid(prog(slot(0x85, { src: 1, imm: 1 }), ...LDDW(0, 1, 2), EXIT), 'jump_into_lddw', 0);
  });

  test('incomplete lddw: no second slot', () => {
    expectInvalid(prog(MOV_IMM(0, 0), slot(0x18, { dst: 0, imm: 1 })), 'lddw_incomplete', 1);
  });

  test.each([
    ['an opcode', slot(0x95)],
    ['a register', slot(0x00, { dst: 1, imm: 2 })],
    ['an offset', slot(0x00, { off: 1, imm: 2 })],
  ])('incomplete lddw: second slot with %s', (_name, second) => {
    expectInvalid(prog(slot(0x18, { dst: 0, imm: 1 }), second, EXIT), 'lddw_incomplete', 1);
  });

  test('bad lddw src', () => {
    for (const src of [7, 8, 15]) expectInvalid(prog(EXIT, ...LDDW(1, 1, 0, src), EXIT), 'bad_lddw_src', 1);
    for (let src = 0; src <= 6; src++) expect(decode(prog(...LDDW(1, 1, 0, src), EXIT)).insns[0].kind).toBe('lddw');
  });

  test.each([
    ['sdiv (v4) under v3', slot(0x3f, { dst: 1, src: 2, off: 1 }), 3],
    ['movsx (v4) under v3', slot(0xbf, { dst: 1, src: 2, off: 8 }), 3],
    ['ldxsw (v4) under v3', slot(0x81, { dst: 1, src: 2 }), 3],
    ['bswap16 (v4) under v3', slot(0xd7, { dst: 1, imm: 16 }), 3],
    ['gotol (v4) under v3', slot(0x06, { imm: 0 }), 3],
    ['lock fetch add (v3) under v2', slot(0xdb, { dst: 10, src: 1, off: -8, imm: 0x01 }), 2],
    ['jeq32 (v3) under v2', slot(0x16, { dst: 1, off: 0, imm: 1 }), 2],
    ['jlt (v2) under v1', slot(0xa5, { dst: 1, off: 0, imm: 1 }), 1],
  ] as const)('maxVersion rejects %s', (_name, s, maxVersion) => {
    const err = expectInvalid(prog(s, EXIT), 'unknown_opcode', 0, { maxVersion });
    expect(err.detail).toContain(`above the allowed v${maxVersion}`);
    // One version up, it is accepted.
    expect(decode(prog(s, EXIT), { maxVersion: (maxVersion + 1) as 2 | 3 | 4 }).insns).toHaveLength(2);
  });

  test('the first bad slot is the one reported', () => {
    expectInvalid(prog(MOV_IMM(0, 0), slot(0x95, { imm: 1 }), slot(0xff), EXIT), 'reserved_field', 1);
  });
});
