/**
 * How the CLI reads programs and memory from files and arguments.
 *
 * A program file may be: an ELF object from `clang -target bpf -c` (recognised by its magic; one program chosen
 * by C function name or section), eBPF assembly (`.s`, `.asm`, or any text that is not hex), raw bytecode
 * (`.bin`, or any binary file), bytecode as hex text (only hex digits and whitespace), or a bpf_conformance `.data`
 * file (which also brings its input memory and expected result).
 *
 * Not here: command definitions (main.ts), ELF loading itself (src/elf/loader.ts).
 */

import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { InvalidProgramError } from '../errors.js';
import { assemble } from '../isa/asm.js';
import { decode, parseHex } from '../isa/decode.js';
import type { Program } from '../isa/program.js';
import { parseDataFile, testProgram } from '../conformance/data.js';
import { loadElf, selectProgram, type ElfObject, type ElfProgram, type ProgramSelector } from '../elf/loader.js';

/** What a program file yielded. */
export interface ProgramInput {
  readonly program: Program;
  /** How the file was read. */
  readonly format: 'asm' | 'hex' | 'raw' | 'data' | 'elf';
  /** Input memory carried by the file (`.data` files only). */
  readonly mem?: Uint8Array;
  /** Expected r0 carried by the file (`.data` files only). */
  readonly expected?: bigint;
  /** ELF objects only: the whole object (maps, other programs) and the chosen program (name, line info). */
  readonly elf?: { readonly object: ElfObject; readonly program: ElfProgram };
}

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];

/** Whether `bytes` read as printable text (ASCII, tabs, newlines). */
function isText(bytes: Uint8Array): boolean {
  for (const b of bytes) {
    if (b === 9 || b === 10 || b === 13) continue;
    if (b < 32 || b > 126) return false;
  }
  return true;
}

/**
 * Decides how to read `bytes` (from a file named `path`) and returns the program. `select` chooses the program of
 * an ELF object (by C function name and/or section); without it the object must hold exactly one program.
 */
export function parseProgramBytes(bytes: Uint8Array, path: string, select?: ProgramSelector): ProgramInput {
  const ext = extname(path).toLowerCase();
  if (ELF_MAGIC.every((b, i) => bytes[i] === b)) {
    const object = loadElf(bytes);
    const chosen = selectProgram(object, select);
    return { program: chosen.program, format: 'elf', elf: { object, program: chosen } };
  }
  if (select?.program !== undefined || select?.section !== undefined) {
    throw new InvalidProgramError('data_format', `${path}: choosing a program by name or section needs an ELF object`);
  }
  const text = () => new TextDecoder().decode(bytes);
  if (ext === '.data') {
    const test = parseDataFile(text(), path);
    return { program: testProgram(test), format: 'data', mem: test.mem, expected: test.result };
  }
  if (ext === '.s' || ext === '.asm') return { program: assemble(text()), format: 'asm' };
  if (ext === '.bin' || !isText(bytes)) return { program: decode(bytes), format: 'raw' };
  const t = text();
  if (/^[\s0-9a-fA-Fx,]*$/.test(t) && /[0-9a-fA-F]/.test(t)) return { program: decode(parseHex(t)), format: 'hex' };
  return { program: assemble(t), format: 'asm' };
}

/** Reads a program file (see the file header for the accepted forms); `select` as for {@link parseProgramBytes}. */
export function readProgramFile(path: string, select?: ProgramSelector): ProgramInput {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new InvalidProgramError('data_format', `cannot read ${path}: ${(e as Error).message}`, undefined, { cause: e });
  }
  return parseProgramBytes(bytes, path, select);
}

/** Parses the `--mem` option: hex bytes, separators allowed (`aa bb`, `aabb`, `0xaa,0xbb`). */
export function parseMemOption(hex: string | undefined): Uint8Array | undefined {
  if (hex === undefined) return undefined;
  if (hex.trim() === '') return new Uint8Array(0);
  return parseHex(hex);
}

/** Formats r0 the way the conformance runner reads it: `0x` and lowercase hex. */
export function formatR0(r0: bigint): string {
  return '0x' + r0.toString(16);
}
