/**
 * Resolving a program's map references (RFC 9669 section 5.4, table 12) into plain 64-bit immediates, so
 * that any engine can run it:
 *
 *   lddw dst, map_idx N          (src 5)  → dst = handle of maps[N]                     (abi.ts: mapHandle)
 *   lddw dst, map_idx_value N, k (src 6)  → dst = address of byte k of maps[N]'s value (map_direct_value_addr)
 *   lddw dst, map_fd F           (src 1)  → dst = handle of map id F
 *   lddw dst, map_value F, k     (src 2)  → dst = address of byte k of map id F's value
 *
 * `maps` is what `MapRegistry.createAll(elfObject.maps)` returned (the ELF loader's map_idx is an index into
 * `elfObject.maps`); "fd" forms name maps by id, for hand-written assembly.
 *
 * Not here: var_addr and code_addr sources (left as they are), creating the maps (registry.ts).
 */

import { InvalidProgramError } from '../../src/errors.js';
import type { Insn, LddwInsn } from '../../src/isa/insn.js';
import { makeProgram, type Program } from '../../src/isa/program.js';
import type { BpfMap } from './map.js';
import type { MapRegistry } from './registry.js';

/** Rewrites the map references of `program`: see the file header. Throws InvalidProgramError naming the pc. */
export function relocateMaps(program: Program, maps: readonly BpfMap[], registry?: MapRegistry): Program {
  let changed = false;
  const insns = program.insns.map((insn): Insn => {
    if (insn.kind !== 'lddw' || insn.src === 'imm64' || insn.src === 'var_addr' || insn.src === 'code_addr') return insn;
    changed = true;
    const byIndex = insn.src === 'map_idx' || insn.src === 'map_idx_value';
    const map = byIndex ? maps[insn.imm] : registry?.byId(insn.imm) ?? maps.find((m) => m.id === insn.imm);
    if (map === undefined) {
      throw new InvalidProgramError('data_format', `lddw ${insn.src} ${insn.imm}: no such map${byIndex ? ` (${maps.length} given)` : ''}`, insn.pc);
    }
    if (insn.src === 'map_idx' || insn.src === 'map_fd') return imm64(insn, map.handle);
    const addr = map.directValueAddress(insn.next >>> 0);
    if (addr === undefined) {
      throw new InvalidProgramError('data_format', `lddw ${insn.src} ${insn.imm}, ${insn.next >>> 0}: map '${map.name}' has no direct value there (an ARRAY with one element and an offset below its value size is needed)`, insn.pc);
    }
    return imm64(insn, BigInt(addr));
  });
  return changed ? makeProgram(insns) : program;
}

function imm64(insn: LddwInsn, value: bigint): LddwInsn {
  const v = BigInt.asUintN(64, value);
  return { ...insn, src: 'imm64', imm: Number(BigInt.asIntN(32, v)), next: Number(BigInt.asIntN(32, v >> 32n)), value: v };
}
