/**
 * THE opcode table: every eBPF instruction of RFC 9669 (v1 to v4) is listed here once, with its mnemonic as
 * bpf_conformance spells it, its operand syntax, the allowed range of each field and the semantic IR it
 * decodes to. The decoder, encoder, assembler, disassembler and the round-trip tests are all derived from it.
 *
 * Instruction encoding (RFC 9669 section 3), little-endian:
 *
 *     byte  0        1           2..3         4..7
 *         +--------+-----+-----+------------+----------------+
 *         | opcode | src | dst |   offset   |      imm       |
 *         +--------+-----+-----+------------+----------------+
 *           8 bits  hi 4  lo 4   signed 16    signed 32
 *
 *     opcode, ALU/JMP classes:  | op (4) | s (1) | class (3) |   s: 0 = K (imm), 1 = X (src register)
 *     opcode, LD/ST classes:    | mode (3) | size (2) | class (3) |
 *
 * A wide instruction (`lddw`) is followed by a second slot whose opcode, registers and offset are zero and
 * whose imm holds the upper 32 bits.
 *
 * Several entries may share an opcode: they are told apart by a field pinned to a value (`{ eq: n }`), e.g. DIV
 * with offset 1 is `sdiv`, STX ATOMIC's imm selects the operation, END's imm the width. Every other field is
 * either free (`any`, a register `reg`) or reserved (`zero`); the decoder rejects a non-zero reserved field.
 *
 * Not here: what the instructions *do* (src/interp/semantics.ts) or how they are printed (disasm.ts).
 */

import type { AluOp, AtomicOp, EndianOrder, JmpOp, LddwSrc, Size, Width } from './insn.js';

/** Instruction classes (RFC 9669 section 3.3). */
export const CLASS = { LD: 0x00, LDX: 0x01, ST: 0x02, STX: 0x03, ALU: 0x04, JMP: 0x05, JMP32: 0x06, ALU64: 0x07 } as const;

/** Source bit of ALU/JMP opcodes. */
export const SRC = { K: 0x00, X: 0x08 } as const;

/** Size field of load/store opcodes, by byte count. */
export const SIZE_BITS: Readonly<Record<Size, number>> = { 4: 0x00, 2: 0x08, 1: 0x10, 8: 0x18 };

/** Mode field of load/store opcodes. */
export const MODE = { IMM: 0x00, ABS: 0x20, IND: 0x40, MEM: 0x60, MEMSX: 0x80, ATOMIC: 0xc0 } as const;

/** Rule for one instruction field. */
export type FieldRule =
  /** a register number 0..10 (dst/src only) */
  | 'reg'
  /** reserved: must be zero */
  | 'zero'
  /** any value of the field's width (offset: signed 16; imm: signed 32) */
  | 'any'
  /** pinned to a value that selects this entry among others sharing the opcode */
  | { readonly eq: number };

/** Operand syntax, shared by the assembler and the disassembler. */
export type Syntax =
  | 'dst_imm' // add %r0, 1
  | 'dst_src' // add %r0, %r1
  | 'dst' // neg %r0 ; be16 %r0
  | 'lddw' // lddw %r0, 0x1122334455667788
  | 'ldx' // ldxw %r0, [%r1+4]
  | 'st' // stw [%r1+4], 7
  | 'stx' // stxw [%r1+4], %r2
  | 'atomic' // lock add [%r1+4], %r2
  | 'ldabs' // ldabsw 12
  | 'ldind' // ldindw %r1, 12
  | 'jmp_imm' // jeq %r1, 5, +3
  | 'jmp_reg' // jeq %r1, %r2, +3
  | 'ja' // ja +3
  | 'call_helper' // call 5
  | 'call_local' // call local +3
  | 'call_btf' // call btf 42
  | 'callx' // callx %r2
  | 'exit'; // exit

/** What an entry decodes to: the IR template, completed from the fields by the decoder. */
export type Sem =
  | { readonly kind: 'alu'; readonly op: AluOp; readonly width: Width; readonly source: 'imm' | 'reg' }
  | { readonly kind: 'neg'; readonly width: Width }
  | { readonly kind: 'movsx'; readonly width: Width; readonly bits: 8 | 16 | 32 }
  | { readonly kind: 'endian'; readonly order: EndianOrder; readonly bits: 16 | 32 | 64 }
  | { readonly kind: 'lddw'; readonly src: LddwSrc }
  | { readonly kind: 'load'; readonly size: Size; readonly signed: boolean }
  | { readonly kind: 'store'; readonly size: Size; readonly source: 'imm' | 'reg' }
  | { readonly kind: 'atomic'; readonly op: AtomicOp; readonly fetch: boolean; readonly size: 4 | 8 }
  | { readonly kind: 'ldpkt'; readonly mode: 'abs' | 'ind'; readonly size: 1 | 2 | 4 }
  | { readonly kind: 'ja'; readonly long: boolean }
  | { readonly kind: 'jcond'; readonly op: JmpOp; readonly width: Width; readonly source: 'imm' | 'reg' }
  | { readonly kind: 'call'; readonly target: 'helper' | 'local' | 'btf' }
  | { readonly kind: 'callx' }
  | { readonly kind: 'exit' };

/** Conformance groups of RFC 9669 section 2.2 (the runner's `--include_groups`). */
export type Group = 'base32' | 'base64' | 'atomic32' | 'atomic64' | 'divmul32' | 'divmul64' | 'packet' | 'callx';

/** One row of the opcode table. */
export interface OpSpec {
  /** The 8-bit opcode byte. */
  readonly opcode: number;
  /** Assembly mnemonic, as bpf_conformance spells it (`lock fetch add32` is one mnemonic). */
  readonly mnemonic: string;
  /** Other spellings the assembler accepts (e.g. `swap16` for `bswap16`). */
  readonly aliases: readonly string[];
  readonly syntax: Syntax;
  readonly dst: FieldRule;
  readonly src: FieldRule;
  readonly off: FieldRule;
  readonly imm: FieldRule;
  /** ISA version (clang's -mcpu) that introduced it. */
  readonly version: 1 | 2 | 3 | 4;
  readonly group: Group;
  readonly sem: Sem;
}

// ---------------------------------------------------------------------------------------------------------------
// The rows. Built from small per-class lists so that each opcode appears exactly once.

const rows: OpSpec[] = [];

function row(r: Omit<OpSpec, 'aliases'> & { aliases?: readonly string[] }): void {
  rows.push({ aliases: [], ...r });
}

/** ALU operations that take a second operand, with their op nibble (RFC 9669 table 5). */
const ALU_BINARY: ReadonlyArray<readonly [AluOp, number]> = [
  ['add', 0x00], ['sub', 0x10], ['mul', 0x20], ['div', 0x30], ['or', 0x40], ['and', 0x50], ['lsh', 0x60],
  ['rsh', 0x70], ['mod', 0x90], ['xor', 0xa0], ['mov', 0xb0], ['arsh', 0xc0],
];

for (const width of [64, 32] as const) {
  const cls = width === 64 ? CLASS.ALU64 : CLASS.ALU;
  const sfx = width === 64 ? '' : '32';
  for (const [op, code] of ALU_BINARY) {
    const group: Group = op === 'mul' || op === 'div' || op === 'mod' ? (width === 64 ? 'divmul64' : 'divmul32') : width === 64 ? 'base64' : 'base32';
    // div/mod/mov use `offset` to select a variant (sdiv/smod, movsx); for the plain form it must be zero.
    const pinned = op === 'div' || op === 'mod' || op === 'mov';
    const off: FieldRule = pinned ? { eq: 0 } : 'zero';
    row({ opcode: code | SRC.K | cls, mnemonic: op + sfx, syntax: 'dst_imm', dst: 'reg', src: 'zero', off, imm: 'any', version: 1, group, sem: { kind: 'alu', op, width, source: 'imm' } });
    row({ opcode: code | SRC.X | cls, mnemonic: op + sfx, syntax: 'dst_src', dst: 'reg', src: 'reg', off, imm: 'zero', version: 1, group, sem: { kind: 'alu', op, width, source: 'reg' } });
    if (op === 'div' || op === 'mod') {
      const sop: AluOp = op === 'div' ? 'sdiv' : 'smod';
      row({ opcode: code | SRC.K | cls, mnemonic: sop + sfx, syntax: 'dst_imm', dst: 'reg', src: 'zero', off: { eq: 1 }, imm: 'any', version: 4, group, sem: { kind: 'alu', op: sop, width, source: 'imm' } });
      row({ opcode: code | SRC.X | cls, mnemonic: sop + sfx, syntax: 'dst_src', dst: 'reg', src: 'reg', off: { eq: 1 }, imm: 'zero', version: 4, group, sem: { kind: 'alu', op: sop, width, source: 'reg' } });
    }
  }
  // NEG (0x80): K form only, every other field reserved.
  row({ opcode: 0x80 | SRC.K | cls, mnemonic: 'neg' + sfx, syntax: 'dst', dst: 'reg', src: 'zero', off: 'zero', imm: 'zero', version: 1, group: width === 64 ? 'base64' : 'base32', sem: { kind: 'neg', width } });
  // MOVSX: MOV X with offset 8/16/32 (v4). The 32-bit form sign-extends 8 or 16 bits only.
  for (const bits of width === 64 ? ([8, 16, 32] as const) : ([8, 16] as const)) {
    row({ opcode: 0xb0 | SRC.X | cls, mnemonic: `movsx${bits}${width}`, syntax: 'dst_src', dst: 'reg', src: 'reg', off: { eq: bits }, imm: 'zero', version: 4, group: width === 64 ? 'base64' : 'base32', sem: { kind: 'movsx', width, bits } });
  }
}

// END (0xd0): ALU class converts to little (K) or big (X) endian; ALU64|K is the unconditional bswap (v4).
for (const bits of [16, 32, 64] as const) {
  row({ opcode: 0xd0 | SRC.K | CLASS.ALU, mnemonic: `le${bits}`, syntax: 'dst', dst: 'reg', src: 'zero', off: 'zero', imm: { eq: bits }, version: 1, group: 'base32', sem: { kind: 'endian', order: 'le', bits } });
  row({ opcode: 0xd0 | SRC.X | CLASS.ALU, mnemonic: `be${bits}`, syntax: 'dst', dst: 'reg', src: 'zero', off: 'zero', imm: { eq: bits }, version: 1, group: 'base32', sem: { kind: 'endian', order: 'be', bits } });
  row({ opcode: 0xd0 | SRC.K | CLASS.ALU64, mnemonic: `bswap${bits}`, aliases: [`swap${bits}`], syntax: 'dst', dst: 'reg', src: 'zero', off: 'zero', imm: { eq: bits }, version: 4, group: 'base64', sem: { kind: 'endian', order: 'swap', bits } });
}

// Jumps (RFC 9669 table 8). JMP32 has no JA (but has gotol), CALL or EXIT.
const JMP_COND: ReadonlyArray<readonly [JmpOp, number, 1 | 2]> = [
  ['eq', 0x10, 1], ['gt', 0x20, 1], ['ge', 0x30, 1], ['set', 0x40, 1], ['ne', 0x50, 1], ['sgt', 0x60, 1],
  ['sge', 0x70, 1], ['lt', 0xa0, 2], ['le', 0xb0, 2], ['slt', 0xc0, 2], ['sle', 0xd0, 2],
];
for (const width of [64, 32] as const) {
  const cls = width === 64 ? CLASS.JMP : CLASS.JMP32;
  const sfx = width === 64 ? '' : '32';
  const group: Group = width === 64 ? 'base64' : 'base32';
  for (const [op, code, v] of JMP_COND) {
    const version = width === 32 ? 3 : v;
    row({ opcode: code | SRC.K | cls, mnemonic: `j${op}${sfx}`, syntax: 'jmp_imm', dst: 'reg', src: 'zero', off: 'any', imm: 'any', version, group, sem: { kind: 'jcond', op, width, source: 'imm' } });
    row({ opcode: code | SRC.X | cls, mnemonic: `j${op}${sfx}`, syntax: 'jmp_reg', dst: 'reg', src: 'reg', off: 'any', imm: 'zero', version, group, sem: { kind: 'jcond', op, width, source: 'reg' } });
  }
}
row({ opcode: 0x00 | CLASS.JMP, mnemonic: 'ja', syntax: 'ja', dst: 'zero', src: 'zero', off: 'any', imm: 'zero', version: 1, group: 'base32', sem: { kind: 'ja', long: false } });
row({ opcode: 0x00 | CLASS.JMP32, mnemonic: 'ja32', aliases: ['gotol'], syntax: 'ja', dst: 'zero', src: 'zero', off: 'zero', imm: 'any', version: 4, group: 'base32', sem: { kind: 'ja', long: true } });
row({ opcode: 0x80 | SRC.K | CLASS.JMP, mnemonic: 'call', syntax: 'call_helper', dst: 'zero', src: { eq: 0 }, off: 'zero', imm: 'any', version: 1, group: 'base32', sem: { kind: 'call', target: 'helper' } });
row({ opcode: 0x80 | SRC.K | CLASS.JMP, mnemonic: 'call local', syntax: 'call_local', dst: 'zero', src: { eq: 1 }, off: 'zero', imm: 'any', version: 1, group: 'base32', sem: { kind: 'call', target: 'local' } });
row({ opcode: 0x80 | SRC.K | CLASS.JMP, mnemonic: 'call btf', syntax: 'call_btf', dst: 'zero', src: { eq: 2 }, off: 'zero', imm: 'any', version: 1, group: 'base32', sem: { kind: 'call', target: 'btf' } });
// callx: the register is in dst, as clang and bpf_conformance encode it.
row({ opcode: 0x80 | SRC.X | CLASS.JMP, mnemonic: 'callx', syntax: 'callx', dst: 'reg', src: 'zero', off: 'zero', imm: 'zero', version: 1, group: 'callx', sem: { kind: 'callx' } });
row({ opcode: 0x90 | CLASS.JMP, mnemonic: 'exit', syntax: 'exit', dst: 'zero', src: 'zero', off: 'zero', imm: 'zero', version: 1, group: 'base32', sem: { kind: 'exit' } });

// Loads and stores (RFC 9669 section 5).
const SIZE_SFX: Readonly<Record<Size, string>> = { 1: 'b', 2: 'h', 4: 'w', 8: 'dw' };
for (const size of [1, 2, 4, 8] as const) {
  const sz = SIZE_BITS[size];
  const s = SIZE_SFX[size];
  const group: Group = size === 8 ? 'base64' : 'base32';
  row({ opcode: MODE.MEM | sz | CLASS.LDX, mnemonic: `ldx${s}`, syntax: 'ldx', dst: 'reg', src: 'reg', off: 'any', imm: 'zero', version: 1, group, sem: { kind: 'load', size, signed: false } });
  if (size !== 8) {
    row({ opcode: MODE.MEMSX | sz | CLASS.LDX, mnemonic: `ldxs${s}`, syntax: 'ldx', dst: 'reg', src: 'reg', off: 'any', imm: 'zero', version: 4, group, sem: { kind: 'load', size, signed: true } });
    row({ opcode: MODE.ABS | sz | CLASS.LD, mnemonic: `ldabs${s}`, syntax: 'ldabs', dst: 'zero', src: 'zero', off: 'zero', imm: 'any', version: 1, group: 'packet', sem: { kind: 'ldpkt', mode: 'abs', size } });
    row({ opcode: MODE.IND | sz | CLASS.LD, mnemonic: `ldind${s}`, syntax: 'ldind', dst: 'zero', src: 'reg', off: 'zero', imm: 'any', version: 1, group: 'packet', sem: { kind: 'ldpkt', mode: 'ind', size } });
  }
  row({ opcode: MODE.MEM | sz | CLASS.ST, mnemonic: `st${s}`, syntax: 'st', dst: 'reg', src: 'zero', off: 'any', imm: 'any', version: 1, group, sem: { kind: 'store', size, source: 'imm' } });
  row({ opcode: MODE.MEM | sz | CLASS.STX, mnemonic: `stx${s}`, syntax: 'stx', dst: 'reg', src: 'reg', off: 'any', imm: 'zero', version: 1, group, sem: { kind: 'store', size, source: 'reg' } });
}

// Atomics (RFC 9669 section 5.3): STX|ATOMIC|W and |DW, imm selects the operation.
const ATOMIC_OPS: ReadonlyArray<readonly [AtomicOp, number]> = [['add', 0x00], ['or', 0x40], ['and', 0x50], ['xor', 0xa0]];
const FETCH = 0x01;
for (const size of [8, 4] as const) {
  const opcode = MODE.ATOMIC | SIZE_BITS[size] | CLASS.STX;
  const sfx = size === 8 ? '' : '32';
  const group: Group = size === 8 ? 'atomic64' : 'atomic32';
  for (const [op, code] of ATOMIC_OPS) {
    // `lock add` (the old XADD) exists since v1; everything else arrived with v3.
    row({ opcode, mnemonic: `lock ${op}${sfx}`, syntax: 'atomic', dst: 'reg', src: 'reg', off: 'any', imm: { eq: code }, version: op === 'add' ? 1 : 3, group, sem: { kind: 'atomic', op, fetch: false, size } });
    row({ opcode, mnemonic: `lock fetch ${op}${sfx}`, syntax: 'atomic', dst: 'reg', src: 'reg', off: 'any', imm: { eq: code | FETCH }, version: 3, group, sem: { kind: 'atomic', op, fetch: true, size } });
  }
  row({ opcode, mnemonic: `lock xchg${sfx}`, syntax: 'atomic', dst: 'reg', src: 'reg', off: 'any', imm: { eq: 0xe0 | FETCH }, version: 3, group, sem: { kind: 'atomic', op: 'xchg', fetch: true, size } });
  row({ opcode, mnemonic: `lock cmpxchg${sfx}`, syntax: 'atomic', dst: 'reg', src: 'reg', off: 'any', imm: { eq: 0xf0 | FETCH }, version: 3, group, sem: { kind: 'atomic', op: 'cmpxchg', fetch: true, size } });
}

// 64-bit immediate loads (RFC 9669 section 5.4): src selects how imm is interpreted.
export const LDDW_SRCS: readonly LddwSrc[] = ['imm64', 'map_fd', 'map_value', 'var_addr', 'code_addr', 'map_idx', 'map_idx_value'];
LDDW_SRCS.forEach((src, i) => {
  row({ opcode: MODE.IMM | SIZE_BITS[8] | CLASS.LD, mnemonic: i === 0 ? 'lddw' : `lddw ${src}`, syntax: 'lddw', dst: 'reg', src: { eq: i }, off: 'zero', imm: 'any', version: 1, group: 'base64', sem: { kind: 'lddw', src } });
});

/** Every row of the opcode table, in a fixed order. */
export const OPCODES: readonly OpSpec[] = rows;

/** Opcode of `lddw`, whose second slot is not an instruction. */
export const LDDW_OPCODE = 0x18;

/** Rows sharing each opcode byte (empty for unassigned opcodes). */
export const BY_OPCODE: ReadonlyArray<readonly OpSpec[]> = (() => {
  const t: OpSpec[][] = Array.from({ length: 256 }, () => []);
  for (const r of rows) t[r.opcode].push(r);
  return t;
})();

/** Rows by mnemonic (aliases included); several rows share a mnemonic when they differ in syntax (K vs X). */
export const BY_MNEMONIC: ReadonlyMap<string, readonly OpSpec[]> = (() => {
  const m = new Map<string, OpSpec[]>();
  for (const r of rows) {
    for (const name of [r.mnemonic, ...r.aliases]) {
      const list = m.get(name) ?? [];
      list.push(r);
      m.set(name, list);
    }
  }
  return m;
})();

/** The field a row pins to select itself among rows of the same opcode, if any. */
export function discriminator(r: OpSpec): { field: 'src' | 'off' | 'imm'; value: number } | undefined {
  for (const field of ['src', 'off', 'imm'] as const) {
    const rule = r[field];
    if (typeof rule === 'object') return { field, value: rule.eq };
  }
  return undefined;
}

/**
 * The key of an IR template: rows and decoded instructions map to the same key, which is how the encoder finds
 * the row for an instruction.
 */
export function semKey(s: Sem): string {
  switch (s.kind) {
    case 'alu': return `alu:${s.op}:${s.width}:${s.source}`;
    case 'neg': return `neg:${s.width}`;
    case 'movsx': return `movsx:${s.width}:${s.bits}`;
    case 'endian': return `endian:${s.order}:${s.bits}`;
    case 'lddw': return `lddw:${s.src}`;
    case 'load': return `load:${s.size}:${s.signed}`;
    case 'store': return `store:${s.size}:${s.source}`;
    case 'atomic': return `atomic:${s.op}:${s.fetch}:${s.size}`;
    case 'ldpkt': return `ldpkt:${s.mode}:${s.size}`;
    case 'ja': return `ja:${s.long}`;
    case 'jcond': return `jcond:${s.op}:${s.width}:${s.source}`;
    case 'call': return `call:${s.target}`;
    case 'callx': return 'callx';
    case 'exit': return 'exit';
  }
}

/** Rows by {@link semKey} (one row per key). */
export const BY_SEM: ReadonlyMap<string, OpSpec> = (() => {
  const m = new Map<string, OpSpec>();
  for (const r of rows) {
    const k = semKey(r.sem);
    if (m.has(k)) throw new Error(`opcode table: two rows for ${k}`);
    m.set(k, r);
  }
  return m;
})();
