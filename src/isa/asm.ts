/**
 * `assemble`: eBPF assembly text → {@link Program}, in the syntax of bpf_conformance and uBPF:
 *
 *     # comment            (also `;` and `//`)
 *     loop:  add %r1, -1   labels end with `:`; an instruction may follow on the same line
 *     ldxw r0, [%r1+0x10]  registers with or without `%`; memory operands `[%rB]`, `[%rB+OFF]`, `[%rB-OFF]`
 *     jne %r1, 0, loop     jump targets: a label or a relative offset `+N` / `-N`
 *     lddw %r0, -1         full 64-bit value; `lddw map_fd %r1, 3` etc. for the other `src` variants
 *     call 5               helper; `call local LABEL`, `call btf N`, `call %r2` / `callx %r2`
 *     lock fetch add32 [%r10-8], %r1
 *
 * Everything is derived from the opcode table (spec.ts): a mnemonic names one or more rows, the row's
 * `syntax` says which operands it takes ({@link SYNTAX_OPERANDS}, shared with the disassembler) and which
 * instruction field each operand fills; the row's pinned fields supply the rest. The assembler therefore
 * produces raw slots and hands the bytes to `decode`, so assembled and decoded programs pass the one strict
 * path (reserved fields, jumps out of range or into an `lddw`, ...). Errors carry the 1-based source line.
 *
 * Immediates are decimal or hex (`0x`), optionally signed. A 32-bit immediate may be written
 * -2^31..2^32-1 (the bit pattern wraps: `0xffffffff` is -1), a 16-bit memory offset -2^15..2^16-1, an `lddw`
 * value -2^63..2^64-1. Relative jump targets are distances and must fit the field as signed numbers.
 *
 * bpf_conformance compatibility: a jump to the label `exit` that is not defined goes to the first `exit`
 * instruction (its assembler defines that label implicitly; `prime.data` and `subnet.data` rely on it).
 *
 * Not here: printing (disasm.ts), ELF objects (src/elf), any check decode does not do (that is the verifier).
 */

import { assertNever, InvalidProgramError, type InvalidProgramCode } from '../errors.js';
import { decode, type DecodeOptions, type RawSlot } from './decode.js';
import type { Program } from './program.js';
import { writeSlot } from './encode.js';
import { BY_MNEMONIC, LDDW_OPCODE, OPCODES, type FieldRule, type OpSpec, type Syntax } from './spec.js';

/** One operand of an assembly instruction and the instruction field(s) it fills. */
export type OperandSpec =
  /** `%rN` → the `dst` or `src` field */
  | { readonly kind: 'reg'; readonly field: 'dst' | 'src' }
  /** a 32-bit immediate → `imm`; `decimal` asks the disassembler to print it in decimal (ids, packet offsets) */
  | { readonly kind: 'imm'; readonly decimal: boolean }
  /** a 64-bit immediate → `imm` (low half) and the second slot's imm (high half) */
  | { readonly kind: 'imm64' }
  /** `[%rB+OFF]` → base register in `dst` or `src`, OFF in `offset` */
  | { readonly kind: 'mem'; readonly base: 'dst' | 'src' }
  /**
   * a jump or call target (label or `+N`/`-N`) → the relative slot distance in `offset` or `imm`; `auto` picks
   * whichever of the two the row leaves free (`ja` uses offset, `ja32`/`gotol` imm).
   */
  | { readonly kind: 'target'; readonly field: 'off' | 'imm' | 'auto' };

const reg = (field: 'dst' | 'src'): OperandSpec => ({ kind: 'reg', field });
const imm: OperandSpec = { kind: 'imm', decimal: false };
const immDec: OperandSpec = { kind: 'imm', decimal: true };
const mem = (base: 'dst' | 'src'): OperandSpec => ({ kind: 'mem', base });
const target = (field: 'off' | 'imm' | 'auto'): OperandSpec => ({ kind: 'target', field });

/**
 * The operands of each {@link Syntax}, in source order. The one place that knows how assembly operands map to
 * instruction fields (RFC 9669 section 3): the assembler reads it one way, the disassembler the other.
 */
export const SYNTAX_OPERANDS: Readonly<Record<Syntax, readonly OperandSpec[]>> = {
  dst_imm: [reg('dst'), imm],
  dst_src: [reg('dst'), reg('src')],
  dst: [reg('dst')],
  lddw: [reg('dst'), { kind: 'imm64' }],
  ldx: [reg('dst'), mem('src')],
  st: [mem('dst'), imm],
  stx: [mem('dst'), reg('src')],
  atomic: [mem('dst'), reg('src')],
  ldabs: [immDec],
  ldind: [reg('src'), immDec],
  jmp_imm: [reg('dst'), imm, target('off')],
  jmp_reg: [reg('dst'), reg('src'), target('off')],
  ja: [target('auto')],
  call_helper: [immDec],
  call_local: [target('imm')],
  call_btf: [immDec],
  callx: [reg('dst')],
  exit: [],
};

/** The field a `target` operand fills for a given row. */
export function targetField(spec: OperandSpec & { kind: 'target' }, row: OpSpec): 'off' | 'imm' {
  if (spec.field !== 'auto') return spec.field;
  return row.off === 'any' ? 'off' : 'imm';
}

/**
 * Mnemonics → rows, as the assembler reads them: the table's mnemonics and aliases, plus `call` for the
 * `callx` syntax (bpf_conformance and uBPF write an indirect call `call %r2`). Rows sharing a mnemonic are
 * told apart by the shape of their operands (register or not).
 */
const MNEMONICS: ReadonlyMap<string, readonly OpSpec[]> = (() => {
  const m = new Map<string, OpSpec[]>();
  for (const [name, rows] of BY_MNEMONIC) m.set(name, [...rows]);
  for (const row of OPCODES) if (row.syntax === 'callx') m.get('call')?.push(row);
  return m;
})();

/** Longest mnemonic, in words (`lock fetch add32`). */
const MAX_MNEMONIC_WORDS = Math.max(...[...MNEMONICS.keys()].map((k) => k.split(' ').length));

// ---------------------------------------------------------------------------------------------------------------
// Lexical helpers

const REG_RE = /^%?r(\d+)$/i;
const INT_RE = /^([+-]?)(0x[0-9a-f]+|\d+)$/i;
const LABEL_RE = /^[A-Za-z_.$][\w.$]*$/;
const LABEL_DEF_RE = /^([A-Za-z_.$][\w.$]*)\s*:\s*(.*)$/;
const MEM_RE = /^\[\s*(%?r\d+)\s*(?:([+-])\s*(\S+?))?\s*\]$/i;

/** Removes a `#`, `;` or `//` comment. */
function stripComment(line: string): string {
  let end = line.length;
  for (const marker of ['#', ';', '//']) {
    const i = line.indexOf(marker);
    if (i >= 0 && i < end) end = i;
  }
  return line.slice(0, end);
}

function fail(code: InvalidProgramCode, detail: string, line: number): never {
  throw new InvalidProgramError(code, detail, undefined, { line });
}

/** Parses a decimal or `0x` integer with an optional sign, or returns undefined. */
function parseInteger(text: string): bigint | undefined {
  const m = INT_RE.exec(text);
  if (!m) return undefined;
  const magnitude = BigInt(m[2]); // BigInt accepts "0x..." and decimal
  return m[1] === '-' ? -magnitude : magnitude;
}

/**
 * An integer that must fit a field of `bits` bits, written either as a signed value or as the unsigned bit
 * pattern (-2^(bits-1) .. 2^bits - 1). Returns the signed field value.
 */
function fieldValue(text: string, bits: 16 | 32 | 64, what: string, line: number): bigint {
  const v = parseInteger(text);
  if (v === undefined) fail('asm_syntax', `expected ${what}, found '${text}'`, line);
  const min = -(1n << BigInt(bits - 1));
  const max = (1n << BigInt(bits)) - 1n;
  if (v < min || v > max) fail('asm_immediate_range', `${what} ${text} out of range ${min}..${max}`, line);
  return BigInt.asIntN(bits, v);
}

function parseRegister(text: string, line: number): number {
  const m = REG_RE.exec(text);
  if (!m) fail('asm_syntax', `expected a register, found '${text}'`, line);
  const n = Number(m[1]);
  if (n > 10) fail('bad_register', `invalid register ${text}: registers are r0..r10`, line);
  return n;
}

/** How an operand looks, which is enough to choose among rows sharing a mnemonic. */
function shapeOf(text: string): 'reg' | 'mem' | 'other' {
  if (REG_RE.test(text)) return 'reg';
  if (text.startsWith('[')) return 'mem';
  return 'other';
}

function shapeOfSpec(spec: OperandSpec): 'reg' | 'mem' | 'other' {
  return spec.kind === 'reg' ? 'reg' : spec.kind === 'mem' ? 'mem' : 'other';
}

/** `%rD, IMM`: the operand forms of a row, for error messages. */
function usage(row: OpSpec): string {
  const ops = SYNTAX_OPERANDS[row.syntax].map((s) => {
    switch (s.kind) {
      case 'reg': return s.field === 'dst' ? '%rD' : '%rS';
      case 'imm': return 'IMM';
      case 'imm64': return 'IMM64';
      case 'mem': return '[%rB+OFF]';
      case 'target': return 'LABEL|+N';
      default: return assertNever(s, 'operand spec');
    }
  });
  return ops.length ? `${row.mnemonic} ${ops.join(', ')}` : row.mnemonic;
}

// ---------------------------------------------------------------------------------------------------------------
// The assembler

/** One instruction after the first pass: its row, operand texts, source line and slot. */
interface Stmt {
  readonly row: OpSpec;
  readonly operands: readonly string[];
  readonly line: number;
  readonly pc: number;
}

/** Splits `text` (comment and labels removed) into a mnemonic known to the table and its operand texts. */
function splitInstruction(text: string, line: number): { mnemonic: string; operands: string[] } {
  const words = text.split(/\s+/);
  for (let n = Math.min(MAX_MNEMONIC_WORDS, words.length); n >= 1; n--) {
    const mnemonic = words.slice(0, n).join(' ').toLowerCase();
    if (!MNEMONICS.has(mnemonic)) continue;
    const rest = words.slice(n).join(' ').trim();
    const operands = rest === '' ? [] : rest.split(',').map((s) => s.trim());
    if (operands.some((o) => o === '')) fail('asm_syntax', `empty operand in '${text}'`, line);
    return { mnemonic, operands };
  }
  // Name what the user most likely meant as the mnemonic: the words before the first operand-looking one.
  const named: string[] = [];
  for (const w of words.slice(0, MAX_MNEMONIC_WORDS)) {
    if (/^[%[+\-\d]/.test(w) || REG_RE.test(w.replace(/,$/, ''))) break;
    named.push(w.replace(/,$/, ''));
  }
  fail('asm_unknown_mnemonic', `unknown mnemonic '${named.join(' ') || words[0]}'`, line);
}

/** Chooses among the rows of a mnemonic by operand count and shape. */
function chooseRow(mnemonic: string, operands: readonly string[], line: number): OpSpec {
  const rows = MNEMONICS.get(mnemonic)!;
  const shapes = operands.map(shapeOf);
  const row = rows.find((r) => {
    const specs = SYNTAX_OPERANDS[r.syntax];
    return specs.length === shapes.length && specs.every((s, i) => shapeOfSpec(s) === shapes[i]);
  });
  if (row) return row;
  const forms = [...new Set(rows.map(usage))].join(' or ');
  fail('asm_syntax', `bad operands for ${mnemonic}: expected ${forms}`, line);
}

/** The value a row pins a field to, or 0. */
function pinned(rule: FieldRule): number {
  return typeof rule === 'object' ? rule.eq : 0;
}

/**
 * Assembles eBPF assembly text into a {@link Program} (RFC 9669 section 3 encoding), validated by `decode`.
 *
 * @throws InvalidProgramError with `line` set: `asm_syntax`, `asm_unknown_mnemonic`, `asm_unknown_label`,
 *   `asm_duplicate_label`, `asm_immediate_range`, `bad_register`, `jump_out_of_range`, or any code `decode`
 *   raises for the assembled bytes (e.g. `jump_into_lddw`), located at the instruction's line.
 */
export function assemble(text: string, options: DecodeOptions = {}): Program {
  const lines = text.split(/\r?\n/);
  const labels = new Map<string, number>();
  const stmts: Stmt[] = [];
  let pc = 0;

  // Pass 1: labels, mnemonics, rows and slot positions.
  lines.forEach((raw, i) => {
    const line = i + 1;
    let rest = stripComment(raw).trim();
    for (let m = LABEL_DEF_RE.exec(rest); m; m = LABEL_DEF_RE.exec(rest)) {
      if (labels.has(m[1])) fail('asm_duplicate_label', `duplicate label '${m[1]}'`, line);
      labels.set(m[1], pc);
      rest = m[2];
    }
    if (rest === '') return;
    if (rest.includes(':')) fail('asm_syntax', `bad label in '${rest}'`, line);
    const { mnemonic, operands } = splitInstruction(rest, line);
    const row = chooseRow(mnemonic, operands, line);
    stmts.push({ row, operands, line, pc });
    pc += row.opcode === LDDW_OPCODE ? 2 : 1;
  });
  if (stmts.length === 0) throw new InvalidProgramError('empty', 'program is empty: no instructions');

  // bpf_conformance's implicit label: `exit` names the first exit instruction unless defined explicitly.
  const firstExit = stmts.find((s) => s.row.syntax === 'exit');
  if (firstExit && !labels.has('exit')) labels.set('exit', firstExit.pc);

  // Pass 2: operand values into raw slots.
  const bytes = new Uint8Array(pc * 8);
  const lineOfPc = new Int32Array(pc);
  for (const s of stmts) {
    const slot: { -readonly [K in keyof RawSlot]: number } = {
      opcode: s.row.opcode, dst: pinned(s.row.dst), src: pinned(s.row.src), off: pinned(s.row.off), imm: pinned(s.row.imm),
    };
    let next = 0;
    SYNTAX_OPERANDS[s.row.syntax].forEach((spec, i) => {
      const text = s.operands[i];
      switch (spec.kind) {
        case 'reg':
          slot[spec.field] = parseRegister(text, s.line);
          break;
        case 'imm':
          slot.imm = Number(fieldValue(text, 32, 'immediate', s.line));
          break;
        case 'imm64': {
          const v = BigInt.asUintN(64, fieldValue(text, 64, '64-bit immediate', s.line));
          slot.imm = Number(BigInt.asIntN(32, v));
          next = Number(BigInt.asIntN(32, v >> 32n));
          break;
        }
        case 'mem': {
          const m = MEM_RE.exec(text);
          if (!m) fail('asm_syntax', `expected a memory operand [%rB+OFF], found '${text}'`, s.line);
          slot[spec.base] = parseRegister(m[1], s.line);
          slot.off = m[3] === undefined ? 0 : Number(fieldValue(m[2] + m[3], 16, 'offset', s.line));
          break;
        }
        case 'target': {
          const field = targetField(spec, s.row);
          slot[field] = resolveTarget(text, s, field === 'off' ? 16 : 32, labels);
          break;
        }
        default:
          assertNever(spec, 'operand spec');
      }
    });
    writeSlot(bytes, s.pc, slot);
    lineOfPc[s.pc] = s.line;
    if (s.row.opcode === LDDW_OPCODE) {
      writeSlot(bytes, s.pc + 1, { opcode: 0, dst: 0, src: 0, off: 0, imm: next });
      lineOfPc[s.pc + 1] = s.line;
    }
  }

  try {
    return decode(bytes, options);
  } catch (e) {
    // Locate decode's complaint (which names a slot) at the source line of that slot.
    if (e instanceof InvalidProgramError && e.pc !== undefined && e.pc < pc) {
      throw new InvalidProgramError(e.code, `${e.detail} (pc ${e.pc})`, undefined, { line: lineOfPc[e.pc], cause: e });
    }
    throw e;
  }
}

/** A label or `+N`/`-N` → the relative distance from the slot after `s`, checked against the field width. */
function resolveTarget(text: string, s: Stmt, bits: 16 | 32, labels: ReadonlyMap<string, number>): number {
  let rel: number;
  if (/^[+-]/.test(text)) {
    const v = parseInteger(text);
    if (v === undefined) fail('asm_syntax', `bad relative jump target '${text}'`, s.line);
    rel = Number(v);
  } else if (LABEL_RE.test(text)) {
    const at = labels.get(text);
    if (at === undefined) fail('asm_unknown_label', `unknown label '${text}'`, s.line);
    rel = at - s.pc - 1;
  } else {
    fail('asm_syntax', `expected a label or a relative offset +N/-N, found '${text}'`, s.line);
  }
  const limit = 2 ** (bits - 1);
  if (rel < -limit || rel >= limit) {
    fail('jump_out_of_range', `${s.row.mnemonic}: distance ${rel} to '${text}' does not fit in ${bits} bits`, s.line);
  }
  return rel;
}

