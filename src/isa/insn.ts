/**
 * The semantic IR: every eBPF instruction decoded once into a tagged union that passes switch on.
 *
 * Conditions and operations are data (`{op: 'sgt', width: 32}`), not opcodes: the interpreter, the verifier,
 * the translator and the disassembler all read the same shape. The byte-level view (opcode, fields) lives in
 * `spec.ts`; `decode.ts` and `encode.ts` convert between the two and are exact inverses.
 *
 * Positions: `pc` is the instruction *slot* index (RFC 9669 section 3: a wide `lddw` occupies two slots and the
 * second is not an instruction). Jump and call targets are absolute slot indexes, already resolved from the
 * relative offsets.
 *
 * Not here: map relocations and program metadata (see `program.ts`), verifier facts (src/verifier).
 */

/** Register number 0..10 (r10 is the read-only frame pointer). */
export type Reg = number;

/** Operation width: ALU64/JMP (64) or ALU/JMP32 (32). */
export type Width = 32 | 64;

/** Access size in bytes. */
export type Size = 1 | 2 | 4 | 8;

/** Second operand of ALU and conditional-jump instructions: a register (BPF_X) or the 32-bit immediate (BPF_K). */
export type Operand =
  | { readonly kind: 'reg'; readonly reg: Reg }
  /** `imm` is the signed 32-bit value from the instruction; 64-bit ops sign-extend it (RFC 9669 section 4.1). */
  | { readonly kind: 'imm'; readonly imm: number };

/** Binary ALU operations (RFC 9669 section 4.1). `sdiv`/`smod` are the offset-1 forms of DIV/MOD. */
export type AluOp =
  | 'add' | 'sub' | 'mul' | 'div' | 'sdiv' | 'or' | 'and' | 'lsh' | 'rsh' | 'mod' | 'smod' | 'xor' | 'mov' | 'arsh';

/** Conditional jump operations (RFC 9669 section 4.3). */
export type JmpOp = 'eq' | 'gt' | 'ge' | 'set' | 'ne' | 'sgt' | 'sge' | 'lt' | 'le' | 'slt' | 'sle';

/** A jump condition as data. */
export interface Cond {
  readonly op: JmpOp;
  readonly width: Width;
}

/** Atomic operations (RFC 9669 section 5.3). `xchg` and `cmpxchg` always fetch. */
export type AtomicOp = 'add' | 'or' | 'and' | 'xor' | 'xchg' | 'cmpxchg';

/** The `src` field of a 64-bit immediate load (RFC 9669 section 5.4, table 12). */
export type LddwSrc =
  | 'imm64' // 0: dst = imm64
  | 'map_fd' // 1: dst = map_by_fd(imm)
  | 'map_value' // 2: dst = map_val(map_by_fd(imm)) + next_imm
  | 'var_addr' // 3: dst = var_addr(imm)
  | 'code_addr' // 4: dst = code_addr(imm)
  | 'map_idx' // 5: dst = map_by_idx(imm)
  | 'map_idx_value'; // 6: dst = map_val(map_by_idx(imm)) + next_imm

/** Byte-order operations: `le`/`be` convert from host order (ALU class), `swap` swaps unconditionally (ALU64). */
export type EndianOrder = 'le' | 'be' | 'swap';

/** Where a `call` goes. */
export type CallTarget =
  | { readonly kind: 'helper'; readonly id: number }
  /** bpf-to-bpf call; `pc` is the callee's first slot. */
  | { readonly kind: 'local'; readonly pc: number }
  | { readonly kind: 'btf'; readonly id: number };

/** `dst = dst op src` (or `dst = src` for mov), at the given width. */
export interface AluInsn { readonly kind: 'alu'; readonly pc: number; readonly op: AluOp; readonly width: Width; readonly dst: Reg; readonly src: Operand }
/** `dst = -dst`. */
export interface NegInsn { readonly kind: 'neg'; readonly pc: number; readonly width: Width; readonly dst: Reg }
/** `dst = (s{bits}) src`, sign-extended to `width` (v4). 32-bit results are zero-extended to 64 bits. */
export interface MovsxInsn { readonly kind: 'movsx'; readonly pc: number; readonly width: Width; readonly dst: Reg; readonly src: Reg; readonly bits: 8 | 16 | 32 }
/** Byte swap / order conversion of the low `bits` of dst; the result is zero-extended. */
export interface EndianInsn { readonly kind: 'endian'; readonly pc: number; readonly order: EndianOrder; readonly bits: 16 | 32 | 64; readonly dst: Reg }
/** Wide immediate load (two slots). `imm` is the first slot's imm, `next` the second's; `value` = next:imm as u64. */
export interface LddwInsn { readonly kind: 'lddw'; readonly pc: number; readonly dst: Reg; readonly src: LddwSrc; readonly imm: number; readonly next: number; readonly value: bigint }
/** `dst = *(size *)(base + off)`, zero- or (MEMSX) sign-extended. */
export interface LoadInsn { readonly kind: 'load'; readonly pc: number; readonly size: Size; readonly signed: boolean; readonly dst: Reg; readonly base: Reg; readonly off: number }
/** `*(size *)(base + off) = value` (ST with imm, STX with reg). */
export interface StoreInsn { readonly kind: 'store'; readonly pc: number; readonly size: Size; readonly base: Reg; readonly off: number; readonly value: Operand }
/** Atomic read-modify-write on `*(size *)(base + off)` with `src`; with `fetch`, src receives the old value (cmpxchg: r0). */
export interface AtomicInsn { readonly kind: 'atomic'; readonly pc: number; readonly op: AtomicOp; readonly fetch: boolean; readonly size: 4 | 8; readonly base: Reg; readonly off: number; readonly src: Reg }
/** Legacy packet load (LD_ABS / LD_IND): `r0 = ntoh(*(size *)(packet + [index +] imm))`; out of bounds ends the program with r0 = 0. */
export interface LdPktInsn { readonly kind: 'ldpkt'; readonly pc: number; readonly mode: 'abs' | 'ind'; readonly size: 1 | 2 | 4; readonly index: Reg | null; readonly imm: number }
/** Unconditional jump; `long` for `gotol` (JMP32 class, 32-bit offset in imm). */
export interface JaInsn { readonly kind: 'ja'; readonly pc: number; readonly target: number; readonly long: boolean }
/** Conditional jump to `target` when `cond(dst, src)`; falls through to the next slot otherwise. */
export interface JcondInsn { readonly kind: 'jcond'; readonly pc: number; readonly cond: Cond; readonly dst: Reg; readonly src: Operand; readonly target: number }
/** Call a helper, a local subprogram, or a BTF-identified kernel function. */
export interface CallInsn { readonly kind: 'call'; readonly pc: number; readonly target: CallTarget }
/** Indirect call through a register (the conformance suite's `callx`: the register holds a helper id). */
export interface CallxInsn { readonly kind: 'callx'; readonly pc: number; readonly reg: Reg }
/** Return from the current function (r0 is the result). */
export interface ExitInsn { readonly kind: 'exit'; readonly pc: number }

/** One decoded instruction. Switch on `kind` and close with `assertNever`. */
export type Insn =
  | AluInsn | NegInsn | MovsxInsn | EndianInsn | LddwInsn | LoadInsn | StoreInsn | AtomicInsn | LdPktInsn
  | JaInsn | JcondInsn | CallInsn | CallxInsn | ExitInsn;

/** The `kind` tags of {@link Insn}. */
export type InsnKind = Insn['kind'];

/** Number of slots an instruction occupies (2 for `lddw`, else 1). */
export function slotsOf(insn: Insn): 1 | 2 {
  return insn.kind === 'lddw' ? 2 : 1;
}

/** Whether control can continue to the next slot after `insn`. */
export function fallsThrough(insn: Insn): boolean {
  return insn.kind !== 'exit' && insn.kind !== 'ja';
}

/** Jump target of a branch instruction, or `undefined` for everything else. */
export function branchTarget(insn: Insn): number | undefined {
  return insn.kind === 'ja' || insn.kind === 'jcond' ? insn.target : undefined;
}
