// The assembler's syntax (what it accepts and what it encodes it to) and its errors with their line numbers;
// the disassembler's printing conventions.

import { describe, expect, test } from 'vitest';
import { assemble } from '../../src/isa/asm.js';
import { disassemble, disassembleInsn } from '../../src/isa/disasm.js';
import { encode, toHex } from '../../src/isa/encode.js';
import { InvalidProgramError, type InvalidProgramCode } from '../../src/errors.js';
import type { Insn } from '../../src/isa/insn.js';

const hex = (text: string): string => toHex(encode(assemble(text)));
const first = (text: string): Insn => assemble(text).insns[0];

function expectAsmError(text: string, code: InvalidProgramCode, line: number, detail?: RegExp): InvalidProgramError {
  let caught: unknown;
  try {
    assemble(text);
  } catch (e) {
    caught = e;
  }
  expect(caught, `no error for:\n${text}`).toBeInstanceOf(InvalidProgramError);
  const err = caught as InvalidProgramError;
  expect({ code: err.code, line: err.line }).toEqual({ code, line });
  expect(err.message.startsWith(`line ${line}: `)).toBe(true);
  if (detail) expect(err.message).toMatch(detail);
  return err;
}

describe('assembler syntax', () => {
  test('bytes of a small program', () => {
    // mov %r0, 1 / add32 %r0, %r1 / exit
    expect(hex('mov %r0, 1\nadd32 %r0, %r1\nexit')).toBe('b700000001000000' + '0c10000000000000' + '9500000000000000');
  });

  test('registers with or without %, mnemonics in any case', () => {
    expect(hex('mov r0, r1\nexit')).toBe(hex('mov %r0, %r1\nexit'));
    expect(hex('MOV %R0, 1\nExit')).toBe(hex('mov %r0, 1\nexit'));
  });

  test('comments: #, ; and //, whole-line and trailing; blank lines', () => {
    const text = '# header\n\nmov %r0, 1 # one\n; a semicolon comment\nadd %r0, 2 ; two\n// slashes\nexit // done\n';
    expect(hex(text)).toBe(hex('mov %r0, 1\nadd %r0, 2\nexit'));
  });

  test('labels on their own line, before an instruction on the same line, several per slot', () => {
    const a = assemble('ja end\nmov %r0, 1\nend:\nexit');
    expect(a.insns[0]).toMatchObject({ kind: 'ja', target: 2 });
    const b = assemble('ja end\nmov %r0, 1\nend: exit');
    expect(toHex(encode(b))).toBe(toHex(encode(a)));
    const c = assemble('start: again: mov %r0, 0\njeq %r0, 0, again\nja start\nexit');
    expect(c.insns[1]).toMatchObject({ kind: 'jcond', target: 0 });
    expect(c.insns[2]).toMatchObject({ kind: 'ja', target: 0 });
  });

  test('relative jump targets +N and -N count slots from the next instruction', () => {
    const p = assemble('mov %r0, 0\njne %r0, 5, +1\nja -3\nexit');
    expect(p.insns[1]).toMatchObject({ kind: 'jcond', target: 3 });
    expect(p.insns[2]).toMatchObject({ kind: 'ja', target: 0 });
    expect(hex('ja +0\nexit')).toBe('0500000000000000' + '9500000000000000');
  });

  test('labels count lddw as two slots', () => {
    const p = assemble('ja L\nlddw %r0, 1\nL: exit');
    expect(p.insns[0]).toMatchObject({ kind: 'ja', target: 3 });
    expect(toHex(encode(p)).slice(0, 16)).toBe('0500020000000000');
  });

  test('32-bit immediates: decimal, hex, negative; 0xffffffff wraps to -1', () => {
    expect(first('mov %r0, 42\nexit')).toMatchObject({ src: { kind: 'imm', imm: 42 } });
    expect(first('mov %r0, 0x2a\nexit')).toMatchObject({ src: { kind: 'imm', imm: 42 } });
    expect(first('mov %r0, -42\nexit')).toMatchObject({ src: { kind: 'imm', imm: -42 } });
    expect(first('mov %r0, -0x2a\nexit')).toMatchObject({ src: { kind: 'imm', imm: -42 } });
    expect(first('mov %r0, 0xffffffff\nexit')).toMatchObject({ src: { kind: 'imm', imm: -1 } });
    expect(first('mov %r0, 4294967295\nexit')).toMatchObject({ src: { kind: 'imm', imm: -1 } });
    expect(first('mov %r0, 0x80000000\nexit')).toMatchObject({ src: { kind: 'imm', imm: -0x80000000 } });
    expect(first('mov %r0, -2147483648\nexit')).toMatchObject({ src: { kind: 'imm', imm: -0x80000000 } });
  });

  test('lddw takes a full 64-bit value: decimal, hex, negative', () => {
    expect(first('lddw %r0, 0x1122334455667788\nexit')).toMatchObject({ kind: 'lddw', imm: 0x55667788, next: 0x11223344, value: 0x1122334455667788n });
    expect(first('lddw %r0, 18446744073709551615\nexit')).toMatchObject({ imm: -1, next: -1, value: 0xffffffffffffffffn });
    expect(first('lddw %r0, -1\nexit')).toMatchObject({ imm: -1, next: -1 });
    expect(first('lddw %r0, -9223372036854775808\nexit')).toMatchObject({ imm: 0, next: -0x80000000, value: 1n << 63n });
    expect(first('lddw %r3, 7\nexit')).toMatchObject({ dst: 3, imm: 7, next: 0, src: 'imm64' });
  });

  test('lddw source variants 1..6', () => {
    const srcs = ['map_fd', 'map_value', 'var_addr', 'code_addr', 'map_idx', 'map_idx_value'] as const;
    srcs.forEach((src, i) => {
      const p = assemble(`lddw ${src} %r1, 0x1000000003\nexit`);
      expect(p.insns[0]).toMatchObject({ kind: 'lddw', src, dst: 1, imm: 3, next: 16 });
      expect(toHex(encode(p)).slice(0, 4)).toBe(`18${(i + 1).toString(16)}1`);
    });
  });

  test('memory operands', () => {
    expect(first('ldxw %r0, [%r1]\nexit')).toMatchObject({ kind: 'load', size: 4, dst: 0, base: 1, off: 0 });
    expect(first('ldxw %r0, [%r1+4]\nexit')).toMatchObject({ base: 1, off: 4 });
    expect(first('ldxdw %r0, [%r10-8]\nexit')).toMatchObject({ size: 8, base: 10, off: -8 });
    expect(first('ldxb %r0, [%r1+0x10]\nexit')).toMatchObject({ size: 1, off: 16 });
    expect(first('ldxh %r0, [ r1 + 6 ]\nexit')).toMatchObject({ size: 2, base: 1, off: 6 });
    expect(first('ldxsh %r0, [%r2-2]\nexit')).toMatchObject({ signed: true, size: 2, base: 2, off: -2 });
    expect(first('stw [%r1+4], 7\nexit')).toMatchObject({ kind: 'store', size: 4, base: 1, off: 4, value: { kind: 'imm', imm: 7 } });
    expect(first('stxdw [%r10-16], %r3\nexit')).toMatchObject({ kind: 'store', size: 8, base: 10, off: -16, value: { kind: 'reg', reg: 3 } });
    expect(first('ldxw %r0, [%r1+0x7fff]\nexit')).toMatchObject({ off: 0x7fff });
    expect(first('ldxw %r0, [%r1-0x8000]\nexit')).toMatchObject({ off: -0x8000 });
  });

  test('atomics: lock [fetch] op[32]', () => {
    expect(first('lock add [%r10-8], %r1\nexit')).toMatchObject({ kind: 'atomic', op: 'add', fetch: false, size: 8, base: 10, off: -8, src: 1 });
    expect(first('lock fetch add32 [%r10-4], %r2\nexit')).toMatchObject({ op: 'add', fetch: true, size: 4, src: 2 });
    expect(first('lock xchg [%r1], %r2\nexit')).toMatchObject({ op: 'xchg', fetch: true, size: 8 });
    expect(first('lock cmpxchg32 [%r1+8], %r2\nexit')).toMatchObject({ op: 'cmpxchg', size: 4, off: 8 });
    expect(first('lock fetch xor [%r1], %r2\nexit')).toMatchObject({ op: 'xor', fetch: true });
  });

  test('calls: helper, local (label or +N), btf, indirect (call %rN and callx %rN)', () => {
    expect(first('call 5\nexit')).toMatchObject({ kind: 'call', target: { kind: 'helper', id: 5 } });
    expect(first('call local f\nexit\nf: exit')).toMatchObject({ kind: 'call', target: { kind: 'local', pc: 2 } });
    expect(first('call local +1\nexit\nexit')).toMatchObject({ target: { kind: 'local', pc: 2 } });
    expect(first('call btf 42\nexit')).toMatchObject({ target: { kind: 'btf', id: 42 } });
    expect(first('call %r2\nexit')).toMatchObject({ kind: 'callx', reg: 2 });
    expect(hex('callx %r2\nexit')).toBe(hex('call %r2\nexit'));
    expect(hex('callx %r2\nexit').slice(0, 16)).toBe('8d02000000000000');
  });

  test('aliases and variants: swap16 = bswap16, gotol = ja32, sdiv/smod, movsx, endianness', () => {
    expect(hex('swap16 %r1\nexit')).toBe(hex('bswap16 %r1\nexit'));
    expect(hex('gotol +0\nexit')).toBe(hex('ja32 +0\nexit'));
    expect(first('ja32 +0\nexit')).toMatchObject({ kind: 'ja', long: true, target: 1 });
    expect(first('sdiv32 %r1, -3\nexit')).toMatchObject({ kind: 'alu', op: 'sdiv', width: 32 });
    expect(first('smod %r1, %r2\nexit')).toMatchObject({ kind: 'alu', op: 'smod', width: 64, src: { kind: 'reg', reg: 2 } });
    expect(first('movsx1632 %r1, %r2\nexit')).toMatchObject({ kind: 'movsx', width: 32, bits: 16, dst: 1, src: 2 });
    expect(first('be32 %r3\nexit')).toMatchObject({ kind: 'endian', order: 'be', bits: 32, dst: 3 });
    expect(first('le64 %r3\nexit')).toMatchObject({ kind: 'endian', order: 'le', bits: 64 });
    expect(first('neg32 %r4\nexit')).toMatchObject({ kind: 'neg', width: 32, dst: 4 });
  });

  test('legacy packet loads', () => {
    expect(first('ldabsw 12\nexit')).toMatchObject({ kind: 'ldpkt', mode: 'abs', size: 4, index: null, imm: 12 });
    expect(first('ldindh %r3, -4\nexit')).toMatchObject({ kind: 'ldpkt', mode: 'ind', size: 2, index: 3, imm: -4 });
    expect(first('ldabsb 0x10\nexit')).toMatchObject({ size: 1, imm: 16 });
  });

  test('the implicit exit label goes to the first exit; an explicit one wins', () => {
    const p = assemble('jeq %r1, 0, exit\nmov %r0, 1\nexit\nmov %r0, 2\nexit');
    expect(p.insns[0]).toMatchObject({ kind: 'jcond', target: 2 });
    const q = assemble('jeq %r1, 0, exit\nmov %r0, 1\nexit\nexit: mov %r0, 2\nexit');
    expect(q.insns[0]).toMatchObject({ kind: 'jcond', target: 3 });
  });

  test('conditional jumps pick the K or X form from the operand', () => {
    expect(first('jsgt32 %r1, -1, +0\nexit')).toMatchObject({ cond: { op: 'sgt', width: 32 }, dst: 1, src: { kind: 'imm', imm: -1 } });
    expect(first('jset %r1, %r9, +0\nexit')).toMatchObject({ cond: { op: 'set', width: 64 }, src: { kind: 'reg', reg: 9 } });
  });
});

describe('assembler errors carry the source line', () => {
  test('unknown mnemonic', () => {
    const err = expectAsmError('mov %r0, 1\n\naddd %r0, 1\nexit', 'asm_unknown_mnemonic', 3);
    expect(err.message).toBe("line 3: unknown mnemonic 'addd'");
    expectAsmError('lock nand [%r1], %r2\nexit', 'asm_unknown_mnemonic', 1, /'lock nand'/);
    // `call` is known, so the rest is read as its operand.
    expectAsmError('exit\ncall fancy 3', 'asm_syntax', 2, /expected immediate, found 'fancy 3'/);
  });

  test('unknown label', () => {
    expectAsmError('mov %r0, 0\nja nowhere\nexit', 'asm_unknown_label', 2, /'nowhere'/);
    expectAsmError('call local missing\nexit', 'asm_unknown_label', 1);
    // `exit` is only implicit when there is an exit instruction.
    expectAsmError('ja exit\nja -2', 'asm_unknown_label', 1);
  });

  test('duplicate label', () => {
    expectAsmError('a:\nmov %r0, 0\na: exit', 'asm_duplicate_label', 3, /'a'/);
  });

  test.each([
    ['32-bit immediate above 2^32-1', 'mov %r0, 0x100000000', /out of range/],
    ['32-bit immediate below -2^31', 'mov %r0, -2147483649', /out of range/],
    ['helper id above 32 bits', 'call 4294967296', /out of range/],
    ['lddw value above 2^64-1', 'lddw %r0, 0x10000000000000000', /out of range/],
    ['lddw value below -2^63', 'lddw %r0, -9223372036854775809', /out of range/],
    ['memory offset above 16 bits', 'ldxw %r0, [%r1+65536]', /offset/],
    ['memory offset below -2^15', 'stw [%r1-32769], 1', /offset/],
  ])('immediate out of range: %s', (_name, insn, detail) => {
    expectAsmError(`mov %r1, 0\n${insn}\nexit`, 'asm_immediate_range', 2, detail);
  });

  test.each([
    ['missing operand', 'mov %r0', /expected mov %rD, IMM or mov %rD, %rS/],
    ['extra operand', 'exit %r0', /bad operands for exit/],
    ['register where memory is expected', 'ldxw %r0, %r1', /\[%rB\+OFF\]/],
    ['memory where a register is expected', 'mov [%r1], 1', /bad operands/],
    ['not a number', 'mov %r0, abc', /expected immediate/],
    ['empty operand', 'mov %r0,, 1', /empty operand/],
    ['malformed memory operand', 'ldxw %r0, [%r1+]', /memory operand/],
    ['bare number as a jump target', 'ja 3', /label or a relative offset/],
    ['bad relative target', 'ja +x', /relative/],
    ['stray colon', 'mov %r0: 1', /bad label/],
  ])('syntax error: %s', (_name, insn, detail) => {
    expectAsmError(`mov %r1, 0\n${insn}\nexit`, 'asm_syntax', 2, detail);
  });

  test('registers above r10', () => {
    expectAsmError('exit\nmov %r11, 1', 'bad_register', 2, /r0\.\.r10/);
    expectAsmError('exit\nldxw %r0, [%r12+0]', 'bad_register', 2);
  });

  test('jump distances that do not fit the field', () => {
    expectAsmError('exit\nja +32768\nexit', 'jump_out_of_range', 2, /16 bits/);
    expectAsmError('exit\njeq %r1, 0, -32769\nexit', 'jump_out_of_range', 2);
  });

  test("decode's checks are reported at the instruction's line", () => {
    expectAsmError('mov %r0, 0\n\nja +5\nexit', 'jump_out_of_range', 3, /\(pc 1\)/);
    expectAsmError('ja +1\nlddw %r0, 1\nexit', 'jump_into_lddw', 1);
    expectAsmError('exit\n# comment\ncall local +7', 'call_out_of_range', 3);
    // A label after the last instruction names no instruction.
    expectAsmError('ja end\nexit\nend:', 'jump_out_of_range', 1);
  });

  test('an empty program', () => {
    for (const text of ['', '\n\n', '# only a comment\n', 'label:\n']) {
      let caught: unknown;
      try {
        assemble(text);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(InvalidProgramError);
      expect((caught as InvalidProgramError).code).toBe('empty');
    }
  });

  test('maxVersion applies to assembled programs', () => {
    expect(() => assemble('mov %r0, 1\nsdiv %r0, 2\nexit', { maxVersion: 3 })).toThrow(/^line 2: sdiv needs ISA v4/);
    expect(assemble('mov %r0, 1\nsdiv %r0, 2\nexit', { maxVersion: 4 }).insns).toHaveLength(3);
  });
});

describe('disassembler output', () => {
  const dis = (text: string): string => disassembleInsn(first(text));

  test('immediates: small and negative in decimal, others as hex bit patterns', () => {
    expect(dis('mov %r0, 7\nexit')).toBe('mov %r0, 7');
    expect(dis('mov %r0, 255\nexit')).toBe('mov %r0, 255');
    expect(dis('mov %r0, 256\nexit')).toBe('mov %r0, 0x100');
    expect(dis('mov %r0, -5\nexit')).toBe('mov %r0, -5');
    expect(dis('and32 %r0, 0xffff0000\nexit')).toBe('and32 %r0, -65536');
    expect(dis('mov32 %r0, 0x80000000\nexit')).toBe('mov32 %r0, 0x80000000');
    expect(dis('call 300\nexit')).toBe('call 300');
    expect(dis('ldabsw 300\nexit')).toBe('ldabsw 300');
  });

  test('lddw, memory, jumps, calls, atomics', () => {
    expect(dis('lddw %r0, 0x1122334455667788\nexit')).toBe('lddw %r0, 0x1122334455667788');
    expect(dis('lddw %r0, -1\nexit')).toBe('lddw %r0, 0xffffffffffffffff');
    expect(dis('lddw map_fd %r1, 3\nexit')).toBe('lddw map_fd %r1, 3');
    expect(dis('ldxw %r0, [%r1]\nexit')).toBe('ldxw %r0, [%r1]');
    expect(dis('stxdw [%r10-8], %r1\nexit')).toBe('stxdw [%r10-8], %r1');
    expect(dis('stb [%r1+0x10], 1\nexit')).toBe('stb [%r1+16], 1');
    expect(dis('jne %r1, 0x10, +1\nexit\nexit')).toBe('jne %r1, 16, +1');
    expect(dis('x: jsle32 %r1, %r2, x\nexit')).toBe('jsle32 %r1, %r2, -1');
    expect(dis('call local f\nexit\nf: exit')).toBe('call local +1');
    expect(dis('call %r3\nexit')).toBe('callx %r3');
    expect(dis('lock fetch or32 [%r10-4], %r3\nexit')).toBe('lock fetch or32 [%r10-4], %r3');
    expect(dis('swap64 %r1\nexit')).toBe('bswap64 %r1');
    expect(dis('gotol +0\nexit')).toBe('ja32 +0');
  });

  test('whole programs, with and without slot numbers', () => {
    const p = assemble('lddw %r0, 1\nja +0\nexit');
    expect(disassemble(p)).toBe('lddw %r0, 1\nja +0\nexit\n');
    expect(disassemble(p, { pcs: true })).toBe('0: lddw %r0, 1\n2: ja +0\n3: exit\n');
  });
});
