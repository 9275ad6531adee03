// Round trip over the whole opcode table: for every row of OPCODES, many instances with random valid field
// values go bytes → decode → disassemble → assemble → encode and must come back as the same bytes. Field
// ranges come from the row's rules; jump and call distances from the syntax table, with the program padded
// so that the target exists.

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { assemble, SYNTAX_OPERANDS, targetField } from '../../src/isa/asm.js';
import { decode } from '../../src/isa/decode.js';
import { disassemble, disassembleInsn } from '../../src/isa/disasm.js';
import { encode, specOf, toHex } from '../../src/isa/encode.js';
import { LDDW_OPCODE, OPCODES, type FieldRule, type OpSpec } from '../../src/isa/spec.js';

const EXIT = 0x95;

interface Fields {
  dst: number;
  src: number;
  off: number;
  imm: number;
  next: number;
}

function writeSlot(out: Uint8Array, slot: number, opcode: number, f: Omit<Fields, 'next'>): void {
  const v = new DataView(out.buffer, out.byteOffset + slot * 8, 8);
  v.setUint8(0, opcode);
  v.setUint8(1, (f.src << 4) | f.dst);
  v.setInt16(2, f.off, true);
  v.setInt32(4, f.imm, true);
}

/** The field of a row that holds a relative jump/call distance, if any. */
function distanceField(row: OpSpec): 'off' | 'imm' | undefined {
  for (const spec of SYNTAX_OPERANDS[row.syntax]) if (spec.kind === 'target') return targetField(spec, row);
  return undefined;
}

/**
 * A program holding one instance of `row` with fields `f`, padded with `exit`s before (`pre`) and after so that
 * a jump's target is a real instruction.
 */
function programFor(row: OpSpec, f: Fields, pre: number, post: number): Uint8Array {
  const field = distanceField(row);
  const rel = field === undefined ? 0 : f[field];
  const at = pre + Math.max(0, -rel - 1);
  const width = row.opcode === LDDW_OPCODE ? 2 : 1;
  // The target of a forward jump is at + 1 + rel: keep one slot beyond it.
  const slots = at + width + Math.max(0, rel) + 1 + post;
  const bytes = new Uint8Array(slots * 8);
  for (let i = 0; i < slots; i++) writeSlot(bytes, i, EXIT, { dst: 0, src: 0, off: 0, imm: 0 });
  writeSlot(bytes, at, row.opcode, f);
  if (width === 2) writeSlot(bytes, at + 1, 0, { dst: 0, src: 0, off: 0, imm: f.next });
  return bytes;
}

function fieldArb(rule: FieldRule, kind: 'reg4' | 'off' | 'imm', distance: boolean): fc.Arbitrary<number> {
  if (rule === 'zero') return fc.constant(0);
  if (typeof rule === 'object') return fc.constant(rule.eq);
  if (rule === 'reg') return fc.integer({ min: 0, max: 10 });
  // Distances stay small so that the padded program stays small; the extremes are tested separately.
  if (distance) return fc.integer({ min: -40, max: 40 });
  return kind === 'off' ? fc.integer({ min: -0x8000, max: 0x7fff }) : fc.integer({ min: -0x80000000, max: 0x7fffffff });
}

function instanceArb(row: OpSpec): fc.Arbitrary<Fields> {
  const field = distanceField(row);
  return fc.record({
    dst: fieldArb(row.dst, 'reg4', false),
    src: fieldArb(row.src, 'reg4', false),
    off: fieldArb(row.off, 'off', field === 'off'),
    imm: fieldArb(row.imm, 'imm', field === 'imm'),
    next: row.opcode === LDDW_OPCODE ? fc.integer({ min: -0x80000000, max: 0x7fffffff }) : fc.constant(0),
  });
}

/** bytes → decode → disassemble → assemble → encode, checking the row and the bytes. */
function roundTrip(row: OpSpec, bytes: Uint8Array): void {
  const program = decode(bytes);
  const insn = program.insns.find((i) => i.kind !== 'exit' || row.syntax === 'exit')!;
  expect(specOf(insn)).toBe(row);
  const line = disassembleInsn(insn);
  expect(line.startsWith(row.mnemonic)).toBe(true);
  expect(line).not.toContain('\n');
  const text = disassemble(program);
  expect(toHex(encode(assemble(text))), text).toBe(toHex(bytes));
  expect(toHex(encode(program))).toBe(toHex(bytes));
}

const label = (row: OpSpec): string => `${row.mnemonic} (opcode 0x${row.opcode.toString(16).padStart(2, '0')}, ${row.syntax})`;

describe('every opcode-table row round-trips through the disassembler and the assembler', () => {
  test('the table is non-trivial', () => {
    expect(OPCODES.length).toBeGreaterThan(150);
  });

  test.each(OPCODES.map((r) => [label(r), r] as const))('%s: random instances', (_name, row) => {
    fc.assert(
      fc.property(instanceArb(row), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), (f, pre, post) => {
        roundTrip(row, programFor(row, f, pre, post));
      }),
      { numRuns: 60 },
    );
  });

  test.each(OPCODES.map((r) => [label(r), r] as const))('%s: field extremes', (_name, row) => {
    const field = distanceField(row);
    for (const end of ['min', 'max'] as const) {
      const pick = (rule: FieldRule, lo: number, hi: number, isDistance: boolean): number => {
        if (rule === 'zero') return 0;
        if (typeof rule === 'object') return rule.eq;
        if (rule === 'reg') return end === 'min' ? 0 : 10;
        // A distance needs a program as long as itself; the field limits get their own test below.
        if (isDistance) return end === 'min' ? -100 : 100;
        return end === 'min' ? lo : hi;
      };
      const f: Fields = {
        dst: pick(row.dst, 0, 0, false),
        src: pick(row.src, 0, 0, false),
        off: pick(row.off, -0x8000, 0x7fff, field === 'off'),
        imm: pick(row.imm, -0x80000000, 0x7fffffff, field === 'imm'),
        next: end === 'min' ? -0x80000000 : 0x7fffffff,
      };
      if (row.opcode !== LDDW_OPCODE) f.next = 0;
      roundTrip(row, programFor(row, f, 0, 0));
    }
  });

  test('jump and call distances at and beyond the 16-bit limits', () => {
    const row = (mnemonic: string, syntax: string): OpSpec => OPCODES.find((r) => r.mnemonic === mnemonic && r.syntax === syntax)!;
    const cases: ReadonlyArray<readonly [OpSpec, number]> = [
      [row('ja', 'ja'), -0x8000],
      [row('ja', 'ja'), 0x7fff],
      [row('jsle32', 'jmp_reg'), -0x8000],
      [row('jsle32', 'jmp_reg'), 0x7fff],
      // 32-bit distances (imm field): beyond what a 16-bit offset could hold.
      [row('ja32', 'ja'), -40000],
      [row('ja32', 'ja'), 40000],
      [row('call local', 'call_local'), 40000],
    ];
    for (const [r, rel] of cases) {
      const field = distanceField(r)!;
      const value = (rule: FieldRule, reg: number): number => (typeof rule === 'object' ? rule.eq : rule === 'reg' ? reg : 0);
      const f: Fields = { dst: value(r.dst, 3), src: value(r.src, 4), off: value(r.off, 0), imm: value(r.imm, 0), next: 0 };
      f[field] = rel;
      roundTrip(r, programFor(r, f, 0, 0));
    }
  });
});
