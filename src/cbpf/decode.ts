/**
 * Reading classic BPF programs: from bytes (`struct sock_filter` arrays, 8 bytes each, little-endian: `u16 code,
 * u8 jt, u8 jf, u32 k`) and from the three text forms tcpdump prints (`-d`, `-dd`, `-ddd`; see print.ts), with
 * {@link parseClassic} telling them apart. Every reader checks the result like the kernel (check.ts) unless told
 * not to; errors are {@link ClassicProgramError}s naming the instruction and the line.
 *
 * Not here: printing (print.ts), running (convert.ts turns a program into eBPF).
 */

import { checkClassic } from './check.js';
import {
  BPF_A, BPF_ABS, BPF_ALU, BPF_B, BPF_H, BPF_IMM, BPF_IND, BPF_JMP, BPF_K, BPF_LD, BPF_LDX, BPF_LEN, BPF_MEM,
  BPF_MISC, BPF_MSH, BPF_RET, BPF_ST, BPF_STX, BPF_TAX, BPF_TXA, BPF_W, BPF_X, ClassicProgramError, type ClassicInsn,
} from './insn.js';
import { ALU_NAMES, JMP_NAMES } from './print.js';

/** Options of the readers. */
export interface ClassicReadOptions {
  /** Run the kernel's checks (check.ts) on the result. Default true. */
  readonly check?: boolean;
}

/** Size of one `struct sock_filter`. */
export const SOCK_FILTER_SIZE = 8;

/** Decodes a `struct sock_filter` array (little-endian, as on x86 and arm64). */
export function decodeClassic(bytes: Uint8Array, options: ClassicReadOptions = {}): ClassicInsn[] {
  if (bytes.length % SOCK_FILTER_SIZE !== 0) {
    throw new ClassicProgramError('truncated', `${bytes.length} bytes is not a whole number of 8-byte instructions`, { index: Math.floor(bytes.length / SOCK_FILTER_SIZE) });
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const insns: ClassicInsn[] = [];
  for (let at = 0; at < bytes.length; at += SOCK_FILTER_SIZE) {
    insns.push({ code: v.getUint16(at, true), jt: v.getUint8(at + 2), jf: v.getUint8(at + 3), k: v.getUint32(at + 4, true) });
  }
  if (options.check !== false) checkClassic(insns);
  return insns;
}

/** Encodes a program as a `struct sock_filter` array (little-endian). */
export function encodeClassic(insns: readonly ClassicInsn[]): Uint8Array {
  const out = new Uint8Array(insns.length * SOCK_FILTER_SIZE);
  const v = new DataView(out.buffer);
  insns.forEach((insn, i) => {
    const at = i * SOCK_FILTER_SIZE;
    v.setUint16(at, insn.code, true);
    v.setUint8(at + 2, insn.jt);
    v.setUint8(at + 3, insn.jf);
    v.setUint32(at + 4, insn.k >>> 0, true);
  });
  return out;
}

/** The text forms of tcpdump. */
export type ClassicTextForm = 'd' | 'dd' | 'ddd';

/** Which form `text` is in: `-d` starts with `(`, `-dd` has `{ ... }` groups, anything else is `-ddd`. */
export function classicTextForm(text: string): ClassicTextForm {
  const first = text.trimStart();
  if (first.startsWith('(')) return 'd';
  if (first.includes('{')) return 'dd';
  return 'ddd';
}

/** Parses any of tcpdump's `-d`, `-dd` and `-ddd` outputs (see {@link classicTextForm}). */
export function parseClassic(text: string, options: ClassicReadOptions = {}): ClassicInsn[] {
  switch (classicTextForm(text)) {
    case 'd': return parseClassicD(text, options);
    case 'dd': return parseClassicDd(text, options);
    case 'ddd': return parseClassicDdd(text, options);
  }
}

/** A parsed program with the 1-based line of each instruction. */
interface Parsed {
  readonly insns: ClassicInsn[];
  readonly lines: number[];
}

function finish(p: Parsed, options: ClassicReadOptions): ClassicInsn[] {
  if (options.check !== false) checkClassic(p.insns, p.lines);
  return p.insns;
}

/**
 * Parses `tcpdump -ddd` output: a count line, then one `code jt jf k` line (decimal) per instruction. Lines may
 * also be separated by commas (`tcpdump -ddd | tr '\n' ','`); blank items are ignored.
 */
export function parseClassicDdd(text: string, options: ClassicReadOptions = {}): ClassicInsn[] {
  const items = text.split(/\r?\n|,/).map((s, i) => ({ s: s.trim(), line: i + 1 })).filter((x) => x.s !== '');
  if (items.length === 0) throw new ClassicProgramError('empty', 'no instructions: expected a count line then "code jt jf k" lines');
  const [head, ...rest] = items;
  const count = parseNumber(head.s, 0xffff, head.line, 'instruction count');
  const out: Parsed = { insns: [], lines: [] };
  for (const { s, line } of rest) {
    const f = s.split(/\s+/);
    if (f.length !== 4) throw new ClassicProgramError('syntax', `expected "code jt jf k", got "${s}"`, { line });
    out.insns.push(fields(f, line));
    out.lines.push(line);
  }
  if (count !== out.insns.length) {
    throw new ClassicProgramError('count_mismatch', `the count line says ${count} instructions, ${out.insns.length} follow`, { line: head.line });
  }
  return finish(out, options);
}

/** Parses `tcpdump -dd` output: `{ 0x28, 0, 0, 0x0000000c },` per instruction (several per line allowed). */
export function parseClassicDd(text: string, options: ClassicReadOptions = {}): ClassicInsn[] {
  const out: Parsed = { insns: [], lines: [] };
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1, s = raw.trim();
    if (s === '') return;
    const groups = [...s.matchAll(/\{([^{}]*)\}/g)];
    const rest = s.replace(/\{[^{}]*\}/g, '').replace(/[,\s]/g, '');
    if (groups.length === 0 || rest !== '') throw new ClassicProgramError('syntax', `expected "{ code, jt, jf, k }," got "${s}"`, { line });
    for (const g of groups) {
      const f = g[1].split(',').map((x) => x.trim());
      if (f.length !== 4) throw new ClassicProgramError('syntax', `expected 4 fields in "{${g[1]}}"`, { line });
      out.insns.push(fields(f, line));
      out.lines.push(line);
    }
  });
  return finish(out, options);
}

/** Parses `tcpdump -d` output: `(000) ldh      [12]`, jumps with absolute `jt N jf M` targets. */
export function parseClassicD(text: string, options: ClassicReadOptions = {}): ClassicInsn[] {
  const out: Parsed = { insns: [], lines: [] };
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1, s = raw.trim();
    if (s === '') return;
    const m = /^\((\d+)\)\s+(\S+)\s*(.*?)\s*$/.exec(s);
    if (!m) throw new ClassicProgramError('syntax', `expected "(NNN) op operand", got "${s}"`, { line });
    const n = Number(m[1]);
    if (n !== out.insns.length) throw new ClassicProgramError('syntax', `instruction (${m[1]}) out of sequence: expected (${out.insns.length})`, { line });
    out.insns.push(parseImage(m[2], m[3], n, line));
    out.lines.push(line);
  });
  return finish(out, options);
}

function fields(f: readonly string[], line: number): ClassicInsn {
  return {
    code: parseNumber(f[0], 0xffff, line, 'code'),
    jt: parseNumber(f[1], 0xff, line, 'jt'),
    jf: parseNumber(f[2], 0xff, line, 'jf'),
    k: parseNumber(f[3], 0xffffffff, line, 'k'),
  };
}

/** A decimal or 0x-hex number in 0..max. */
function parseNumber(s: string, max: number, line: number, what: string): number {
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(s)) throw new ClassicProgramError('syntax', `${what}: "${s}" is not a number`, { line });
  const v = Number(s);
  if (v > max) throw new ClassicProgramError('field_range', `${what}: ${s} does not fit in 0..${max}`, { line });
  return v;
}

/** An immediate of the `-d` form (`0x1f`, `-5`, `262144`) as a u32. */
function parseK(s: string, line: number): number {
  if (!/^(-?\d+|0x[0-9a-f]+)$/i.test(s)) throw new ClassicProgramError('syntax', `"${s}" is not a number`, { line });
  const v = Number(s);
  if (v < -0x80000000 || v > 0xffffffff) throw new ClassicProgramError('field_range', `${s} does not fit in 32 bits`, { line });
  return v >>> 0;
}

const LOAD_SIZES: Record<string, number> = { ld: BPF_W, ldh: BPF_H, ldb: BPF_B };
const JUMP_CODES = new Map([...JMP_NAMES].map(([op, name]) => [name, op]));
const ALU_CODES = new Map([...ALU_NAMES].map(([op, name]) => [name, op]));

/** One `-d` instruction: mnemonic, operand (`#k`, `x`, `[k]`, `[x + k]`, `M[k]`, ...) and jump targets. */
function parseImage(op: string, rest: string, n: number, line: number): ClassicInsn {
  const bad = (): never => { throw new ClassicProgramError('syntax', `cannot read "${op} ${rest}"`, { index: n, line }); };
  const k = (s: string) => parseK(s, line);
  const plain = (code: number, kk = 0): ClassicInsn => ({ code, jt: 0, jf: 0, k: kk });
  let m: RegExpExecArray | null;
  if (op === 'ret') {
    if (rest === '' || /^a$/i.test(rest)) return plain(BPF_RET | BPF_A);
    return (m = /^#(\S+)$/.exec(rest)) ? plain(BPF_RET | BPF_K, k(m[1])) : bad();
  }
  if (op in LOAD_SIZES || op === 'ldx') {
    const cls = op === 'ldx' ? BPF_LDX : BPF_LD, size = op === 'ldx' ? BPF_W : LOAD_SIZES[op];
    if (/^#(pkt)?len$/.test(rest)) return size === BPF_W ? plain(cls | BPF_W | BPF_LEN) : bad();
    if ((m = /^#(\S+)$/.exec(rest))) return size === BPF_W ? plain(cls | BPF_IMM, k(m[1])) : bad();
    if ((m = /^M\[(\S+)\]$/.exec(rest))) return size === BPF_W ? plain(cls | BPF_MEM, k(m[1])) : bad();
    if (cls === BPF_LDX) return bad();
    if ((m = /^\[x\s*\+\s*(\S+)\]$/.exec(rest))) return plain(BPF_LD | size | BPF_IND, k(m[1]));
    return (m = /^\[(\S+)\]$/.exec(rest)) ? plain(BPF_LD | size | BPF_ABS, k(m[1])) : bad();
  }
  if (op === 'ldxb') return (m = /^4\s*\*\s*\(\[(\S+)\]\s*&\s*0xf\)$/.exec(rest)) ? plain(BPF_LDX | BPF_B | BPF_MSH, k(m[1])) : bad();
  if (op === 'st' || op === 'stx') return (m = /^M\[(\S+)\]$/.exec(rest)) ? plain(op === 'st' ? BPF_ST : BPF_STX, k(m[1])) : bad();
  if (op === 'tax' || op === 'txa') return rest === '' ? plain(BPF_MISC | (op === 'tax' ? BPF_TAX : BPF_TXA)) : bad();
  if (op === 'ja' || op === 'jmp') {
    const target = /^\d+$/.test(rest) ? Number(rest) : bad();
    return target > n ? plain(BPF_JMP, target - n - 1) : bad();
  }
  const jop = JUMP_CODES.get(op);
  if (jop !== undefined) return parseJump(jop, rest, n, line, bad);
  const aop = ALU_CODES.get(op);
  if (aop !== undefined) {
    if (op === 'neg') return rest === '' ? plain(BPF_ALU | aop) : bad();
    if (rest === 'x') return plain(BPF_ALU | aop | BPF_X);
    return (m = /^#(\S+)$/.exec(rest)) ? plain(BPF_ALU | aop | BPF_K, k(m[1])) : bad();
  }
  return bad();
}

function parseJump(op: number, rest: string, n: number, line: number, bad: () => never): ClassicInsn {
  const m = /^(x|#\S+)\s+jt\s+(\d+)\s+jf\s+(\d+)$/.exec(rest) ?? bad();
  const jt = Number(m[2]) - n - 1, jf = Number(m[3]) - n - 1;
  if (jt < 0 || jt > 0xff || jf < 0 || jf > 0xff) {
    throw new ClassicProgramError('jump_out_of_range', `jump targets ${m[2]} / ${m[3]} are not 1 to 256 instructions ahead`, { index: n, line });
  }
  if (m[1] === 'x') return { code: BPF_JMP | op | BPF_X, jt, jf, k: 0 };
  return { code: BPF_JMP | op | BPF_K, jt, jf, k: parseK(m[1].slice(1), line) };
}
