/**
 * The error classes of ebpf-wasm.
 *
 * Three families, never mixed:
 * - {@link InvalidProgramError}: the input is bad (truncated bytecode, unknown opcode, assembly syntax, ...).
 *   Raised while decoding, assembling or loading; the host can report it to whoever supplied the program.
 * - {@link ExecutionError}: a program faulted while running (out-of-region access, budget exceeded, call depth).
 *   Both engines raise the same code at the same pc for the same fault.
 * - {@link InternalError}: a bug in ebpf-wasm itself. Never the user's fault; please report it.
 *
 * Every error carries a machine-readable `code` and, where one applies, the `pc` (instruction slot index; an
 * `lddw` occupies two slots). `message` renders as `pc 7: unknown opcode 0x8e`, the way uBPF does.
 *
 * This file deliberately holds no message catalogue per pass: each pass words its own `detail`.
 */

/** Codes of {@link InvalidProgramError}. */
export type InvalidProgramCode =
  | 'empty'
  | 'truncated'
  | 'unknown_opcode'
  | 'reserved_field'
  | 'bad_register'
  | 'bad_lddw_src'
  | 'lddw_incomplete'
  | 'jump_out_of_range'
  | 'jump_into_lddw'
  | 'call_out_of_range'
  | 'too_large'
  | 'asm_syntax'
  | 'asm_unknown_mnemonic'
  | 'asm_unknown_label'
  | 'asm_duplicate_label'
  | 'asm_immediate_range'
  | 'data_format'
  | 'unknown_helper'
  // ELF objects (src/elf/elf.ts, loader.ts)
  | 'elf_truncated'
  | 'elf_bad_ident'
  | 'elf_bad_class'
  | 'elf_bad_machine'
  | 'elf_bad_type'
  | 'elf_bad_section'
  | 'elf_bad_string'
  | 'elf_bad_symbol'
  | 'elf_bad_relocation'
  | 'elf_undefined_symbol'
  | 'elf_bad_function'
  | 'elf_bad_map'
  | 'elf_unsupported'
  | 'elf_no_program'
  // BTF and BTF.ext (src/elf/btf.ts, core.ts)
  | 'btf_bad_header'
  | 'btf_truncated'
  | 'btf_bad_type'
  | 'btf_bad_string'
  | 'btf_ext_bad'
  | 'btf_core_relo'
  // The verifier (src/verifier): see VerifierErrorCode
  | VerifierErrorCode;

/**
 * Codes of {@link VerifierError}: why the verifier (src/verifier) rejected a program. Structure first, then types,
 * memory, helpers, termination, and the analysis itself.
 */
export type VerifierErrorCode =
  // structure (src/verifier/cfg.ts)
  | 'unreachable' | 'fall_off_end' | 'jump_between_functions' | 'recursion' | 'bad_callback'
  // registers and the stack
  | 'write_r10' | 'uninit_register' | 'uninit_stack' | 'call_depth' | 'stack_too_deep'
  // pointers and memory
  | 'null_deref' | 'not_a_pointer' | 'ptr_arith' | 'packet_oob' | 'stack_oob' | 'map_value_oob' | 'mem_oob'
  | 'ctx_access' | 'raw_access' | 'misaligned' | 'readonly_map' | 'readonly_mem' | 'pointer_leak' | 'stale_pointer'
  // helpers and calls
  | 'helper_not_allowed' | 'helper_arg' | 'leaked_ringbuf' | 'bad_release' | 'bad_map_ref'
  // termination and analysis cost
  | 'unbounded_loop' | 'too_complex';

/** Codes of {@link ExecutionError}. */
export type ExecutionErrorCode =
  | 'out_of_bounds'
  | 'read_only'
  | 'misaligned_atomic'
  | 'budget_exceeded'
  | 'call_depth'
  | 'unknown_helper'
  | 'helper_failed'
  | 'fell_off_end'
  | 'bad_call_target';

/** Common base: every error thrown by ebpf-wasm is a `BpfError`. */
export abstract class BpfError extends Error {
  /** Machine-readable error code. */
  abstract readonly code: string;
  /** Instruction slot index the error refers to, when there is one. */
  readonly pc: number | undefined;
  /** The message without the `pc N: ` prefix. */
  readonly detail: string;

  protected constructor(detail: string, pc: number | undefined, options?: { cause?: unknown }) {
    super(pc === undefined ? detail : `pc ${pc}: ${detail}`, options);
    this.pc = pc;
    this.detail = detail;
  }
}

/** The program given to ebpf-wasm is malformed: bad bytecode, bad assembly, bad object file. */
export class InvalidProgramError extends BpfError {
  override readonly name = 'InvalidProgramError';
  readonly code: InvalidProgramCode;
  /** For assembly errors: 1-based source line, when known. */
  readonly line: number | undefined;

  constructor(code: InvalidProgramCode, detail: string, pc?: number, extra?: { line?: number; cause?: unknown }) {
    super(extra?.line !== undefined && pc === undefined ? `line ${extra.line}: ${detail}` : detail, pc, extra);
    this.code = code;
    this.line = extra?.line;
  }
}

/** One register's abstract value, as a rejection reports it (`r1 = map_value_or_null(counts)`). */
export interface VerifierRegister {
  readonly reg: number;
  readonly value: string;
}

/** Where and why the verifier rejected a program: everything {@link VerifierError} renders. */
export interface VerifierDiagnostic {
  /** The instruction disassembled (`ldxdw %r2, [%r1+0]`). */
  readonly insn: string;
  /** Source position and text, when the program carries line info (`xdp_hash.c:21: __u64 v = *value;`). */
  readonly source?: string;
  /** The abstract values of the registers the instruction involves, at that point. */
  readonly registers: readonly VerifierRegister[];
  /** The shortest path of slots from the program entry (or from the origin of the faulty value) to `pc`. */
  readonly path: readonly number[];
  /** Further explanation lines (branch decisions on the path, where a value came from), already rendered. */
  readonly notes: readonly string[];
}

/**
 * The verifier rejected a program (src/verifier). `message` is a few readable lines: the first starts
 * `pc N: ` and says what is wrong; the next show the instruction (and source line), the registers involved and
 * the path that led there.
 */
export class VerifierError extends InvalidProgramError {
  declare readonly code: VerifierErrorCode;
  readonly diagnostic: VerifierDiagnostic | undefined;

  constructor(code: VerifierErrorCode, detail: string, pc: number | undefined, diagnostic?: VerifierDiagnostic) {
    super(code, detail, pc);
    // InvalidProgramError's `name` is a literal type; this subclass names itself at run time.
    Object.defineProperty(this, 'name', { value: 'VerifierError', enumerable: true, configurable: true, writable: false });
    this.diagnostic = diagnostic;
    if (diagnostic !== undefined) this.message = renderDiagnostic(this.message, diagnostic);
  }
}

/** The lines of a {@link VerifierError} after its first. */
function renderDiagnostic(first: string, d: VerifierDiagnostic): string {
  const lines = [first, `  ${d.insn}${d.source !== undefined ? `    ; ${d.source}` : ''}`];
  for (const r of d.registers) lines.push(`  r${r.reg} = ${r.value}`);
  if (d.path.length > 0) lines.push(`  path: ${d.path.join(' → ')}`);
  for (const n of d.notes) lines.push(`  ${n}`);
  return lines.join('\n');
}

/** A program faulted at run time. The run is over; the host and its other programs are unaffected. */
export class ExecutionError extends BpfError {
  override readonly name = 'ExecutionError';
  readonly code: ExecutionErrorCode;

  constructor(code: ExecutionErrorCode, detail: string, pc: number, options?: { cause?: unknown }) {
    super(detail, pc, options);
    this.code = code;
  }
}

/** A bug in ebpf-wasm itself (an invariant did not hold). */
export class InternalError extends BpfError {
  override readonly name = 'InternalError';
  readonly code = 'internal';

  constructor(detail: string, pc?: number, options?: { cause?: unknown }) {
    super(detail, pc, options);
  }
}

/** Exhaustiveness check for `switch (insn.kind)`: a compile error when a case is missing. */
export function assertNever(x: never, what = 'value'): never {
  throw new InternalError(`unexpected ${what}: ${JSON.stringify(x)}`);
}
