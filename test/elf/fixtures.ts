// Access to the committed ELF fixtures (test/elf/fixtures/*.o, rebuilt by fixtures/build.sh) and small helpers to
// pick instructions out of loaded programs. The tests need no compiler.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Insn, LddwInsn } from '../../src/isa/insn.js';
import { loadElf, type ElfObject, type ElfProgram } from '../../src/elf/loader.js';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** Every committed object file name, sorted. */
export const ALL_OBJECTS: readonly string[] = readdirSync(FIXTURES).filter((f) => f.endsWith('.o')).sort();

/** A fresh copy of a fixture's bytes. */
export function fixtureBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, name)));
}

export function loadFixture(name: string): ElfObject {
  return loadElf(fixtureBytes(name));
}

export function programNamed(object: ElfObject, name: string): ElfProgram {
  const p = object.programs.find((q) => q.name === name);
  if (!p) throw new Error(`no program ${name}; have ${object.programs.map((q) => q.name).join(', ')}`);
  return p;
}

export function lddws(program: ElfProgram): LddwInsn[] {
  return program.program.insns.filter((i: Insn): i is LddwInsn => i.kind === 'lddw');
}

/** The pcs that local calls in `program` go to. */
export function localCallTargets(program: ElfProgram): number[] {
  return program.program.insns.flatMap((i) => (i.kind === 'call' && i.target.kind === 'local' ? [i.target.pc] : []));
}

/** ELF header and table offsets, for tests that damage an object in a precise place. */
export function le(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
