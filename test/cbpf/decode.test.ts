// Reading and printing classic programs (src/cbpf/decode.ts, print.ts, check.ts): tcpdump's own -d, -dd and -ddd
// outputs (recorded in test/fixtures/pcap/tcpdump-programs.json by `tcpdump -d/-dd/-ddd -y LINKTYPE EXPR`) parse
// to the same program and print back byte for byte; bytes round-trip; every kernel check rejects with the
// instruction and the line.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CLASSIC_OPCODES, checkClassic } from '../../src/cbpf/check.js';
import { classicTextForm, decodeClassic, encodeClassic, parseClassic, parseClassicD, parseClassicDd, parseClassicDdd } from '../../src/cbpf/decode.js';
import { ClassicProgramError, type ClassicInsn } from '../../src/cbpf/insn.js';
import { formatClassic, formatClassicDd, formatClassicDdd } from '../../src/cbpf/print.js';
import { InvalidProgramError } from '../../src/errors.js';

const ROOT = join(import.meta.dirname, '..', '..');
interface Sample { expr: string; linkType: string; d: string; dd: string; ddd: string }
const SAMPLES = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/pcap/tcpdump-programs.json'), 'utf8')) as Sample[];

const I = (code: number, k = 0, jt = 0, jf = 0): ClassicInsn => ({ code, jt, jf, k });

/** Whether `-d` prints the instruction's k (it does not for X operands, RET A, TAX, TXA, NEG, LEN). */
function printsK(code: number): boolean {
  const cls = code & 7;
  if (cls === 6) return code !== 0x16;
  if (cls === 7) return false;
  if (cls === 4) return (code & 0x08) === 0 && code !== 0x84;
  if (cls === 5) return (code & 0x08) === 0;
  if (cls === 0 || cls === 1) return (code & 0xe0) !== 0x80;
  return true;
}
/** What `-d` keeps of a program: k where it is printed. */
const asPrinted = (insns: readonly ClassicInsn[]): ClassicInsn[] => insns.map((i) => (printsK(i.code) ? i : { ...i, k: 0 }));

function rejects(f: () => unknown, reason: string, where: { index?: number; line?: number } = {}): ClassicProgramError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ClassicProgramError);
    expect(e).toBeInstanceOf(InvalidProgramError);
    const err = e as ClassicProgramError;
    expect({ reason: err.reason, index: err.pc, line: err.line }).toEqual({ reason, index: where.index, line: where.line });
    return err;
  }
  throw new Error('expected a ClassicProgramError');
}

describe("tcpdump's text forms", () => {
  it.each(SAMPLES.map((s) => [`${s.linkType} ${s.expr}`, s]))('%s: -d, -dd and -ddd give one program and print back exactly', (_, s) => {
    const fromDdd = parseClassicDdd(s.ddd);
    expect(parseClassicD(s.d)).toEqual(asPrinted(fromDdd));
    expect(parseClassicDd(s.dd)).toEqual(fromDdd);
    expect(formatClassic(fromDdd)).toBe(s.d);
    expect(formatClassicDd(fromDdd)).toBe(s.dd);
    expect(formatClassicDdd(fromDdd)).toBe(s.ddd);
    expect(parseClassic(s.d)).toEqual(asPrinted(fromDdd));
    expect(parseClassic(s.dd)).toEqual(fromDdd);
    expect(parseClassic(s.ddd)).toEqual(fromDdd);
  });

  it('tells the forms apart', () => {
    const s = SAMPLES[0];
    expect([classicTextForm(s.d), classicTextForm(s.dd), classicTextForm(s.ddd)]).toEqual(['d', 'dd', 'ddd']);
  });

  it('reads the one-line -ddd form that `tr "\\n" ","` gives', () => {
    const s = SAMPLES[0];
    expect(parseClassic(s.ddd.replace(/\n/g, ','))).toEqual(parseClassicDdd(s.ddd));
    expect(parseClassic(s.ddd.replace(/\n/g, '\r\n'))).toEqual(parseClassicDdd(s.ddd));
  });

  it('random valid programs print and parse back in every form, and as bytes', () => {
    const codes = [...CLASSIC_OPCODES];
    const insnArb = fc.record({ code: fc.constantFrom(...codes), k: fc.nat({ max: 15 }), big: fc.nat({ max: 0xffffffff }), jt: fc.nat({ max: 3 }), jf: fc.nat({ max: 3 }) });
    fc.assert(fc.property(fc.array(insnArb, { maxLength: 30 }), (body) => {
      const insns: ClassicInsn[] = [...Array.from({ length: 16 }, (_, i) => I(0x02, i)), ...body.map((b) => {
        const cls = b.code & 7, op = b.code & 0xf0, mode = b.code & 0xe0;
        const small = cls === 2 || cls === 3 || ((cls === 0 || cls === 1) && mode === 0x60) || (cls === 4 && (op === 0x60 || op === 0x70));
        const k = small ? b.k : cls === 4 && (op === 0x30 || op === 0x90) ? b.big || 1 : cls === 5 && op === 0 ? b.k % 4 : b.big;
        return cls === 5 && op !== 0 ? I(b.code, k, b.jt, b.jf) : I(b.code, k);
      }), I(0x06, 0), I(0x06, 0), I(0x06, 0), I(0x06, 0), I(0x16)];
      checkClassic(insns);
      expect(parseClassicD(formatClassic(insns))).toEqual(asPrinted(insns));
      expect(parseClassicDd(formatClassicDd(insns))).toEqual(insns);
      expect(parseClassicDdd(formatClassicDdd(insns))).toEqual(insns);
      expect(decodeClassic(encodeClassic(insns))).toEqual(insns);
    }));
  });
});

describe('bytes', () => {
  it('decodes struct sock_filter little-endian', () => {
    const bytes = Uint8Array.from([0x28, 0, 0, 0, 0x0c, 0, 0, 0, 0x06, 0, 0, 0, 0xff, 0xff, 0, 0]);
    expect(decodeClassic(bytes)).toEqual([I(0x28, 12), I(0x06, 0xffff)]);
    expect(encodeClassic(decodeClassic(bytes))).toEqual(bytes);
  });

  it('rejects a partial instruction', () => {
    rejects(() => decodeClassic(new Uint8Array(12)), 'truncated', { index: 1 });
  });
});

describe('the kernel checks (bpf_check_classic)', () => {
  it('rejects each kind of bad program naming the instruction', () => {
    rejects(() => checkClassic([]), 'empty');
    rejects(() => checkClassic(Array.from({ length: 4097 }, () => I(0x06))), 'too_large');
    rejects(() => checkClassic([I(0x28, 12), I(0xff), I(0x06)]), 'unknown_opcode', { index: 1 });
    rejects(() => checkClassic([I(0x08, 12), I(0x06)]), 'unknown_opcode', { index: 0 }); // there is no LD H IMM
    rejects(() => checkClassic([I(0x34, 0), I(0x06)]), 'div_by_zero', { index: 0 });
    rejects(() => checkClassic([I(0x94, 0), I(0x06)]), 'div_by_zero', { index: 0 });
    rejects(() => checkClassic([I(0x64, 32), I(0x06)]), 'bad_shift', { index: 0 });
    rejects(() => checkClassic([I(0x02, 16), I(0x06)]), 'bad_scratch', { index: 0 });
    rejects(() => checkClassic([I(0x61, 16), I(0x06)]), 'bad_scratch', { index: 0 });
    rejects(() => checkClassic([I(0x15, 0, 1, 0), I(0x06)]), 'jump_out_of_range', { index: 0 });
    rejects(() => checkClassic([I(0x05, 1), I(0x06)]), 'jump_out_of_range', { index: 0 });
    rejects(() => checkClassic([I(0x06), I(0x28, 12)]), 'no_ret', { index: 1 });
  });

  it('rejects a scratch read that some path reaches before the write', () => {
    // jeq #0 → st M[3] / skip it; then ld M[3]: the false path skips the store.
    const prog = [I(0x15, 0, 0, 1), I(0x02, 3), I(0x60, 3), I(0x16)];
    rejects(() => checkClassic(prog), 'uninit_scratch', { index: 2 });
    expect(() => checkClassic([I(0x02, 3), ...prog.slice(0)])).not.toThrow(); // stored on every path
  });

  it('names the line of text input', () => {
    rejects(() => parseClassic('2\n40 0 0 12\n0 0 0 0\n'), 'no_ret', { index: 1, line: 3 });
    rejects(() => parseClassic('3\n40 0 0 12\n52 0 0 0\n6 0 0 0\n'), 'div_by_zero', { index: 1, line: 3 });
    rejects(() => parseClassic('1\n6 0 0\n'), 'syntax', { line: 2 });
    rejects(() => parseClassic('2\n6 0 0 0\n'), 'count_mismatch', { line: 1 });
    rejects(() => parseClassic('1\n6 0 0 4294967296\n'), 'field_range', { line: 2 });
    rejects(() => parseClassic('1\n70000 0 0 0\n'), 'field_range', { line: 2 });
    rejects(() => parseClassic('(000) ldh [12]\n(002) ret #0\n'), 'syntax', { line: 2 });
    rejects(() => parseClassic('(000) ldw [12]\n'), 'syntax', { index: 0, line: 1 });
    rejects(() => parseClassic('(000) jeq #1 jt 5 jf 1\n(001) ret #0\n'), 'jump_out_of_range', { index: 0, line: 1 });
    rejects(() => parseClassic('{ 0x28, 0, 0, 0x0000000c },\nbogus\n'), 'syntax', { line: 2 });
    rejects(() => parseClassic(''), 'empty');
  });

  it('reads the -d variants of other libpcap versions (`ret a`, bare `ret`, `#len`)', () => {
    expect(parseClassic('(000) ld #len\n(001) ret\n')).toEqual([I(0x80), I(0x16)]);
    expect(parseClassic('(000) ldx #pktlen\n(001) ret a\n')).toEqual([I(0x81), I(0x16)]);
    expect(parseClassic('(000) ret #-1\n')).toEqual([I(0x06, 0xffffffff)]);
  });
});
