/**
 * `loadElf`: a `clang -O2 -g -target bpf -c` object → {@link ElfObject}: its programs, each a self-contained
 * {@link Program}, its maps as {@link MapSpec}s, its license, and per-instruction source lines.
 *
 * The stages, in order:
 *
 *   parseElf ─▶ .BTF / .BTF.ext (their own relocations applied, then parsed) ─▶ maps: legacy `maps`, BTF `.maps`
 *   (with initial values from `.rel.maps`), global data ─▶ functions of each code section (FUNC symbols) ─▶ CO-RE
 *   relocations on private copies of the code ─▶ instruction relocations resolved ─▶ per entry program: link the
 *   subprograms it calls, rewrite its lddw/call immediates, decode, map line info to linked pcs.
 *
 * Relocations on instructions (libbpf's rules, written into the bytecode so the Program needs no side table):
 *
 *   R_BPF_64_64 on an lddw, symbol a map              → src 5 (map_idx),        imm = map index
 *   R_BPF_64_64 on an lddw, symbol in global data      → src 6 (map_idx_value),  imm = data map index,
 *                                                         next = symbol value + the imm clang left in the lddw
 *   R_BPF_64_64 on an lddw, symbol in code (callback)  → src 4 (code_addr),      imm = callee pc - (pc + 1)
 *   R_BPF_64_32 on a call (or a local call without one) → callee linked in,       imm = callee pc - (pc + 1)
 *
 * Programs: every global function of an executable section other than `.text` (libbpf allows several per section);
 * `.text` holds subprograms, appended to each program that calls them (transitively, in order of first call). An
 * object whose only code is `.text` (no SEC() at all) gets its global functions as programs, and a code section
 * without any function symbol (hand-written assembly) is one program named after the section.
 *
 * Unsupported, each an {@link InvalidProgramError} naming the section and relocation: extern variables and
 * functions (`__kconfig`, `__ksym`, kfuncs), relocations in data sections (pointers in initialised globals),
 * SHT_RELA, `SEC(".struct_ops")`, relocation types other than the four above where they appear.
 *
 * Not here: the ELF, BTF and map-definition formats themselves (elf.ts, btf.ts, maps.ts), CO-RE (core.ts),
 * creating maps or running programs (runtime/).
 */

import { InvalidProgramError } from '../errors.js';
import { decode } from '../isa/decode.js';
import type { Program } from '../isa/program.js';
import { parseBtf, parseBtfExt, type Btf, type BtfExt } from './btf.js';
import { applyCoreRelocations } from './core.js';
import {
  describeSection, parseElf, R_BPF, relocationTypeName, sectionBytes, SHF, SHN, SHT, STB, STT,
  type ElfFile, type ElfRelSection, type ElfSection, type ElfSymbol,
} from './elf.js';
import {
  applyMapsRelocations, btfDefinedMaps, globalDataMap, isGlobalDataSection, legacyMaps, type LocatedMap, type MapSpec,
} from './maps.js';

export { BPF_MAP_TYPE, BPF_F, LIBBPF_PIN, mapTypeName, type MapSpec, type MapInitialValue } from './maps.js';

/** Options for {@link loadElf}. */
export interface LoadElfOptions {
  /** Reject instructions newer than this ISA version (clang's -mcpu). Default 4: everything. */
  readonly maxVersion?: 1 | 2 | 3 | 4;
  /** Largest accepted program after linking, in slots. Default: decode's (1,000,000). */
  readonly maxSlots?: number;
}

/** The source position of the instructions from `pc` up to the next entry (`.BTF.ext` line_info). */
export interface LineInfo {
  readonly pc: number;
  /** Source file as the compiler named it. */
  readonly file: string;
  /** 1-based line (0 when the compiler did not know it). */
  readonly line: number;
  readonly column: number;
  /** The source line's text, as BTF carries it. */
  readonly text: string;
}

/** A function linked into a program: the entry (pc 0) or a subprogram/callback. */
export interface ElfFunction {
  readonly name: string;
  /** The ELF section it came from. */
  readonly section: string;
  /** Its first slot in the linked program. */
  readonly pc: number;
  /** BTF FUNC type id (from `.BTF.ext` func_info), when the object has it. */
  readonly btfTypeId?: number;
}

/** One program of an object. */
export interface ElfProgram {
  /** The C function name (or the section name for a section without function symbols). */
  readonly name: string;
  /** The ELF section (`xdp`, `tracepoint/syscalls/sys_enter_openat`, ...): what libbpf derives the program type from. */
  readonly section: string;
  /** The linked, relocated bytecode: lddw instructions refer to maps by index into {@link ElfObject.maps}. */
  readonly program: Program;
  /** The functions in the program, ascending by pc; the first is the entry. */
  readonly functions: readonly ElfFunction[];
  /** Source positions, ascending by pc; empty without `-g`. See {@link lineInfoAt}. */
  readonly lineInfo: readonly LineInfo[];
  /** Indexes into {@link ElfObject.maps} the program refers to, ascending. */
  readonly maps: readonly number[];
}

/** A loaded object file. */
export interface ElfObject {
  /** Programs in section order, then by offset in the section. */
  readonly programs: readonly ElfProgram[];
  /** Maps: legacy `maps` definitions, then `.maps`, then one per global-data section (libbpf's order). */
  readonly maps: readonly MapSpec[];
  /** The `license` section's string, when present. */
  readonly license?: string;
  /** The `version` section's value (LINUX_VERSION_CODE for old kprobes), when present. */
  readonly kernelVersion?: number;
  /** The object's BTF, when compiled with -g. */
  readonly btf?: Btf;
  readonly btfExt?: BtfExt;
}

/** The source position covering `pc` (the last line_info entry at or before it), if any. */
export function lineInfoAt(program: ElfProgram, pc: number): LineInfo | undefined {
  let lo = 0;
  let hi = program.lineInfo.length - 1;
  let found: LineInfo | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (program.lineInfo[mid].pc <= pc) {
      found = program.lineInfo[mid];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** How to choose one program of an object (the CLI's `--program` / `--section`). */
export interface ProgramSelector {
  /** C function name. */
  readonly program?: string;
  /** Section name; enough on its own when the section holds one program. */
  readonly section?: string;
}

/**
 * Picks one program: by name, by section when that section holds only one, or the only program of the object.
 *
 * @throws InvalidProgramError `elf_no_program`, listing the programs there are.
 */
export function selectProgram(object: ElfObject, select: ProgramSelector = {}): ElfProgram {
  const list = (ps: readonly ElfProgram[]): string => ps.map((p) => `${p.name} (${p.section})`).join(', ');
  const all = object.programs;
  if (all.length === 0) throw new InvalidProgramError('elf_no_program', 'the object has no programs');
  let candidates = all;
  if (select.program !== undefined) candidates = candidates.filter((p) => p.name === select.program);
  if (select.section !== undefined) candidates = candidates.filter((p) => p.section === select.section);
  if (candidates.length === 1) return candidates[0];
  const wanted = [select.program !== undefined ? `program '${select.program}'` : '', select.section !== undefined ? `section '${select.section}'` : ''].filter(Boolean).join(' in ');
  if (candidates.length === 0) throw new InvalidProgramError('elf_no_program', `no ${wanted}; the object has: ${list(all)}`);
  const where = select.section !== undefined ? `section '${select.section}' holds` : 'the object has';
  throw new InvalidProgramError('elf_no_program', `${where} ${candidates.length} programs: ${list(candidates)}; choose one by name`);
}

// ---------------------------------------------------------------------------------------------------------------

/** A function of a code section: [start, end) in bytes. */
interface Fn {
  readonly section: ElfSection;
  readonly name: string;
  readonly start: number;
  readonly end: number;
  /** A program entry point (see the file header for the rule). */
  entry: boolean;
}

/** What an instruction relocation resolved to. */
type InsnReloc =
  | { readonly kind: 'map'; readonly map: number }
  | { readonly kind: 'data'; readonly map: number; readonly offset: number }
  | { readonly kind: 'func'; readonly target: Fn }
  | { readonly kind: 'call'; readonly target: Fn };

const hex = (n: number): string => '0x' + n.toString(16);
const LDDW = 0x18;
const CALL = 0x85;
const PSEUDO_CALL = 1;

function isCode(section: ElfSection): boolean {
  return section.type === SHT.PROGBITS && (section.flags & SHF.EXECINSTR) !== 0;
}

/**
 * Loads an eBPF object file.
 *
 * @throws InvalidProgramError with an `elf_*` or `btf_*` code naming the section, symbol or relocation at fault,
 *   or a decoder code (`unknown_opcode`, ...) naming the program and pc.
 */
export function loadElf(bytes: Uint8Array, options: LoadElfOptions = {}): ElfObject {
  const elf = parseElf(bytes);
  const byName = new Map<string, ElfSection>();
  for (const s of elf.sections) if (!byName.has(s.name)) byName.set(s.name, s);
  const relFor = new Map<number, ElfRelSection>(elf.relocations.map((r) => [r.target, r]));

  for (const s of elf.sections) {
    if (s.type !== SHT.RELA) continue;
    const target = elf.sections[s.info];
    if (target && (isCode(target) || isGlobalDataSection(target) || target.name === '.maps' || target.name === 'maps')) {
      throw new InvalidProgramError('elf_unsupported', `${describeSection(s)}: SHT_RELA relocations (for ${target.name}) are not supported; eBPF objects use SHT_REL`);
    }
  }
  if (byName.has('.struct_ops') || byName.has('.struct_ops.link')) throw new InvalidProgramError('elf_unsupported', 'SEC(".struct_ops") maps are not supported');
  for (const name of ['.kconfig', '.ksyms']) {
    if (byName.has(name)) throw new InvalidProgramError('elf_unsupported', `section ${name} (extern variables) is not supported`);
  }

  // BTF first: BTF-defined maps and line info need it.
  let btf: Btf | undefined;
  let btfExt: BtfExt | undefined;
  const btfSection = byName.get('.BTF');
  if (btfSection) btf = parseBtf(relocatedCopy(elf, btfSection, relFor.get(btfSection.index)));
  const extSection = byName.get('.BTF.ext');
  if (extSection) {
    if (!btf) throw new InvalidProgramError('btf_ext_bad', '.BTF.ext without .BTF');
    btfExt = parseBtfExt(relocatedCopy(elf, extSection, relFor.get(extSection.index)), btf);
  }

  const license = readLicense(elf, byName.get('license'));
  const kernelVersion = readVersion(elf, byName.get('version'));

  // Maps, in libbpf's order.
  const located: LocatedMap[] = [];
  const legacy = byName.get('maps');
  if (legacy) located.push(...legacyMaps(elf, legacy));
  const btfMapsSection = byName.get('.maps');
  const btfMaps = btfMapsSection ? btfDefinedMaps(btf, btfMapsSection) : [];
  located.push(...btfMaps);
  const dataMapOf = new Map<number, number>();
  for (const s of elf.sections) {
    if (!isGlobalDataSection(s) || s.size === 0) continue;
    dataMapOf.set(s.index, located.length);
    located.push(globalDataMap(elf, s, btf));
  }
  const mapIndex = new Map<string, number>();
  located.forEach((m, i) => {
    if (!dataMapOf.has(m.location.section)) mapIndex.set(`${m.location.section}:${m.location.offset}`, i);
  });
  const mapAt = (section: number, offset: number): number | undefined => mapIndex.get(`${section}:${offset}`);

  // Functions of each code section.
  const functions = collectFunctions(elf);
  const entrySymbol = (sym: ElfSymbol): boolean => {
    const fn = functions.at(sym.shndx, sym.value);
    return fn !== undefined && fn.entry && fn.name === sym.name;
  };

  for (const rel of elf.relocations) {
    const target = elf.sections[rel.target];
    if (btfMapsSection && rel.target === btfMapsSection.index) {
      applyMapsRelocations(rel, btfMaps, { symbols: elf.symbols, mapAt, isProgram: entrySymbol });
    } else if (legacy && rel.target === legacy.index && rel.relocations.length > 0) {
      throw new InvalidProgramError('elf_unsupported', `${describeSection(rel.section)}: relocations in the legacy maps section are not supported`);
    } else if (isGlobalDataSection(target) && rel.relocations.length > 0) {
      const r = rel.relocations[0];
      throw new InvalidProgramError('elf_unsupported', `${describeSection(rel.section)}: ${relocationTypeName(r.type)} against '${elf.symbols[r.symbol].name}' at ${target.name}+${hex(r.offset)}: addresses in initialised global data are not supported`);
    }
  }
  const maps = located.map((m) => m.spec);

  // Private copies of the code, CO-RE relocations applied.
  const code = new Map<number, Uint8Array>();
  for (const s of elf.sections) {
    if (!isCode(s)) continue;
    if (s.size % 8 !== 0) throw new InvalidProgramError('elf_bad_section', `${describeSection(s)}: code size ${s.size} is not a multiple of 8`);
    code.set(s.index, new Uint8Array(sectionBytes(elf, s)));
  }
  const sectionNamed = (name: string, what: string): ElfSection => {
    const s = byName.get(name);
    if (!s || !code.has(s.index)) throw new InvalidProgramError('btf_ext_bad', `.BTF.ext: ${what} for section '${name}', which is not a code section`);
    return s;
  };
  if (btf && btfExt) {
    for (const { section, records } of btfExt.coreRelos) applyCoreRelocations(code.get(sectionNamed(section, 'CO-RE relocations').index)!, section, records, btf);
  }

  const relocs = resolveInsnRelocations(elf, code, functions, relFor, { mapAt, dataMapOf });

  // Line and function info by section, checked against the sections they describe.
  const lineRecords = new Map<number, { insnOff: number; info: Omit<LineInfo, 'pc'> }[]>();
  const funcRecords = new Map<number, Map<number, number>>();
  if (btfExt) {
    for (const { section, records } of btfExt.lineInfo) {
      const s = sectionNamed(section, 'line_info');
      const list = lineRecords.get(s.index) ?? [];
      for (const r of records) {
        checkInsnOff(s, r.insnOff, 'line_info');
        list.push({ insnOff: r.insnOff, info: { file: r.file, line: r.line, column: r.column, text: r.text } });
      }
      lineRecords.set(s.index, list);
    }
    for (const { section, records } of btfExt.funcInfo) {
      const s = sectionNamed(section, 'func_info');
      const m = funcRecords.get(s.index) ?? new Map<number, number>();
      for (const r of records) {
        checkInsnOff(s, r.insnOff, 'func_info');
        m.set(r.insnOff, r.typeId);
      }
      funcRecords.set(s.index, m);
    }
  }

  for (const list of lineRecords.values()) list.sort((a, b) => a.insnOff - b.insnOff);
  const programs: ElfProgram[] = [];
  const budget = { slots: MAX_LINKED_SLOTS };
  for (const s of elf.sections) {
    for (const fn of functions.bySection.get(s.index) ?? []) {
      if (fn.entry) programs.push(link(fn, { code, functions, relocs, lineRecords, funcRecords, options, budget }));
    }
  }

  return {
    programs,
    maps,
    ...(license !== undefined ? { license } : {}),
    ...(kernelVersion !== undefined ? { kernelVersion } : {}),
    ...(btf ? { btf } : {}),
    ...(btfExt ? { btfExt } : {}),
  };
}

function checkInsnOff(s: ElfSection, insnOff: number, what: string): void {
  if (insnOff % 8 !== 0 || insnOff >= s.size) {
    throw new InvalidProgramError('btf_ext_bad', `.BTF.ext: ${what} record at ${s.name}+${hex(insnOff)} is not an instruction of the section (${s.size} bytes)`);
  }
}

/**
 * A copy of a section with its REL relocations applied the way a static linker would inside one object: every
 * symbol's address is its offset in its section. This is how clang leaves the `.BTF` DATASEC variable offsets and
 * the `.BTF.ext` instruction offsets to be filled in.
 */
function relocatedCopy(elf: ElfFile, section: ElfSection, rel: ElfRelSection | undefined): Uint8Array {
  const out = new Uint8Array(sectionBytes(elf, section));
  if (!rel) return out;
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  rel.relocations.forEach((r, i) => {
    const sym = elf.symbols[r.symbol];
    const value = sym.shndx === SHN.UNDEF ? 0 : sym.value;
    switch (r.type) {
      case R_BPF.NONE: break;
      case R_BPF.ABS32: case R_BPF.NODYLD32:
        view.setUint32(r.offset, (view.getUint32(r.offset, true) + value) >>> 0, true);
        break;
      case R_BPF.ABS64: {
        const v = BigInt.asUintN(64, view.getBigUint64(r.offset, true) + BigInt(Math.min(value, Number.MAX_SAFE_INTEGER)));
        view.setBigUint64(r.offset, v, true);
        break;
      }
      default:
        throw new InvalidProgramError('elf_unsupported', `${describeSection(rel.section)}: relocation ${i} has type ${relocationTypeName(r.type)}, not expected in ${section.name}`);
    }
  });
  return out;
}

function readLicense(elf: ElfFile, section: ElfSection | undefined): string | undefined {
  if (!section) return undefined;
  const data = sectionBytes(elf, section);
  const end = data.indexOf(0);
  return new TextDecoder().decode(data.subarray(0, end < 0 ? data.length : end));
}

function readVersion(elf: ElfFile, section: ElfSection | undefined): number | undefined {
  if (!section) return undefined;
  const data = sectionBytes(elf, section);
  if (data.length !== 4) throw new InvalidProgramError('elf_bad_section', `${describeSection(section)}: the version section must hold one u32 (${data.length} bytes)`);
  return new DataView(data.buffer, data.byteOffset, 4).getUint32(0, true);
}

/** The functions of the code sections. */
interface Functions {
  /** By section index, sorted by start. */
  readonly bySection: ReadonlyMap<number, readonly Fn[]>;
  /** The function starting at byte `offset` of section `section`. */
  at(section: number, offset: number): Fn | undefined;
}

/** The functions of every code section, sorted by start, with their extents and entry flags. */
function collectFunctions(elf: ElfFile): Functions {
  const out = new Map<number, Fn[]>();
  for (const sym of elf.symbols) {
    if (sym.type !== STT.FUNC || sym.shndx === SHN.UNDEF || sym.shndx >= SHN.LORESERVE) continue;
    const section = elf.sections[sym.shndx];
    const where = `function '${sym.name}' (symbol ${sym.index})`;
    if (!isCode(section)) throw new InvalidProgramError('elf_bad_function', `${where} is in ${describeSection(section)}, which is not executable code`);
    if (sym.value % 8 !== 0 || sym.value >= section.size) throw new InvalidProgramError('elf_bad_function', `${where}: start ${hex(sym.value)} is not an instruction of ${describeSection(section)} (${section.size} bytes)`);
    if (sym.size % 8 !== 0 || sym.size > section.size - sym.value) throw new InvalidProgramError('elf_bad_function', `${where}: size ${sym.size} does not fit ${describeSection(section)} from ${hex(sym.value)}`);
    const list = out.get(section.index) ?? [];
    const global = sym.bind === STB.GLOBAL || sym.bind === STB.WEAK;
    list.push({ section, name: sym.name, start: sym.value, end: sym.value + sym.size, entry: global && section.name !== '.text' });
    out.set(section.index, list);
  }
  for (const [index, list] of out) {
    list.sort((a, b) => a.start - b.start);
    list.forEach((fn, i) => {
      const next = list[i + 1];
      // Hand-written assembly may leave sizes at 0: the function then runs to the next one or the section's end.
      if (fn.end === fn.start) (fn as { end: number }).end = next ? next.start : fn.section.size;
      if (next && next.start < fn.end) {
        throw new InvalidProgramError('elf_bad_function', `functions '${fn.name}' and '${next.name}' overlap in ${describeSection(elf.sections[index])}`);
      }
    });
  }
  // Code sections without any function symbol: the whole section is one program (or one .text subprogram).
  for (const s of elf.sections) {
    if (isCode(s) && s.size > 0 && !out.has(s.index)) out.set(s.index, [{ section: s, name: s.name, start: 0, end: s.size, entry: s.name !== '.text' }]);
  }
  // An object with no SEC() at all: its global .text functions are the programs.
  const anyEntry = [...out.values()].some((l) => l.some((f) => f.entry));
  if (!anyEntry) {
    const text = elf.sections.find((s) => s.name === '.text');
    const globals = text ? new Set(elf.symbols.filter((s) => s.shndx === text.index && s.type === STT.FUNC && s.bind !== STB.LOCAL).map((s) => s.value)) : new Set<number>();
    for (const fn of (text && out.get(text.index)) ?? []) fn.entry = globals.has(fn.start) || fn.name === '.text';
  }
  const byStart = new Map<string, Fn>();
  for (const [index, list] of out) for (const fn of list) byStart.set(`${index}:${fn.start}`, fn);
  return { bySection: out, at: (section, offset) => byStart.get(`${section}:${offset}`) };
}

interface ResolveContext {
  mapAt(section: number, offset: number): number | undefined;
  readonly dataMapOf: ReadonlyMap<number, number>;
}

/** Resolves every relocation of every code section, keyed by section index then byte offset. */
function resolveInsnRelocations(
  elf: ElfFile, code: ReadonlyMap<number, Uint8Array>, functions: Functions, relFor: ReadonlyMap<number, ElfRelSection>, ctx: ResolveContext,
): Map<number, Map<number, InsnReloc>> {
  const out = new Map<number, Map<number, InsnReloc>>();
  for (const [index, bytes] of code) {
    const rel = relFor.get(index);
    const section = elf.sections[index];
    const resolved = new Map<number, InsnReloc>();
    out.set(index, resolved);
    if (!rel) continue;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    rel.relocations.forEach((r, i) => {
      const sym = elf.symbols[r.symbol];
      const at = `${section.name}+${hex(r.offset)}`;
      const where = `${describeSection(rel.section)}: relocation ${i} (${relocationTypeName(r.type)} at ${at} against '${sym.name || `symbol ${sym.index}`}')`;
      if (r.type === R_BPF.NONE) return;
      if (r.offset % 8 !== 0) throw new InvalidProgramError('elf_bad_relocation', `${where}: offset is not at an instruction`);
      if (resolved.has(r.offset)) throw new InvalidProgramError('elf_bad_relocation', `${where}: the instruction is already relocated`);
      if (sym.shndx === SHN.UNDEF) {
        throw new InvalidProgramError('elf_undefined_symbol', `${where}: the symbol is not defined in this object (extern variables and functions, __kconfig, __ksym and kfuncs are not supported)`);
      }
      if (sym.shndx >= SHN.LORESERVE) throw new InvalidProgramError('elf_unsupported', `${where}: the symbol is absolute or common, not in a section`);
      const symSection = elf.sections[sym.shndx];
      // Both supported types cover at least one whole instruction (checked by parseElf against the section size).
      const opcode = bytes[r.offset];
      const imm = (): number => view.getInt32(r.offset + 4, true);
      switch (r.type) {
        case R_BPF.R64_64: {
          if (opcode !== LDDW) throw new InvalidProgramError('elf_bad_relocation', `${where}: the instruction (opcode ${hex(opcode)}) is not an lddw`);
          if (ctx.dataMapOf.has(sym.shndx)) {
            // libbpf: the lddw's own imm is an addend (clang puts the offset there for section symbols).
            const offset = sym.value + imm();
            if (offset < 0 || offset > symSection.size) throw new InvalidProgramError('elf_bad_relocation', `${where}: offset ${offset} is outside ${symSection.name} (${symSection.size} bytes)`);
            resolved.set(r.offset, { kind: 'data', map: ctx.dataMapOf.get(sym.shndx)!, offset });
          } else if (symSection.name === '.maps' || symSection.name === 'maps') {
            const offset = sym.value + (sym.type === STT.SECTION ? imm() : 0);
            const map = ctx.mapAt(sym.shndx, offset);
            if (map === undefined) throw new InvalidProgramError('elf_bad_relocation', `${where}: no map is defined at ${symSection.name}+${hex(offset)}`);
            if (sym.type !== STT.SECTION && imm() !== 0) throw new InvalidProgramError('elf_bad_relocation', `${where}: a map reference with a non-zero addend ${imm()}`);
            resolved.set(r.offset, { kind: 'map', map });
          } else if (isCode(symSection)) {
            // The address of a function (a callback for bpf_loop, bpf_for_each_map_elem, timers).
            const offset = sym.value + imm();
            const target = functions.at(sym.shndx, offset);
            if (!target) throw new InvalidProgramError('elf_bad_relocation', `${where}: ${symSection.name}+${hex(offset)} is not the start of a function`);
            resolved.set(r.offset, { kind: 'func', target });
          } else {
            throw new InvalidProgramError('elf_unsupported', `${where}: the symbol is in ${describeSection(symSection)}, which is not a map, global data or code`);
          }
          break;
        }
        case R_BPF.R64_32: {
          if (opcode !== CALL || bytes[r.offset + 1] >> 4 !== PSEUDO_CALL) throw new InvalidProgramError('elf_bad_relocation', `${where}: the instruction is not a bpf-to-bpf call`);
          if (!isCode(symSection)) throw new InvalidProgramError('elf_bad_relocation', `${where}: call target is in ${describeSection(symSection)}, which is not code`);
          // libbpf: callee = symbol offset / 8 + imm + 1 (imm is -1 for a global function, the slot distance for a section symbol).
          const offset = sym.value + (imm() + 1) * 8;
          const target = functions.at(sym.shndx, offset);
          if (!target) throw new InvalidProgramError('elf_bad_relocation', `${where}: ${symSection.name}+${hex(offset)} is not the start of a function`);
          resolved.set(r.offset, { kind: 'call', target });
          break;
        }
        default:
          throw new InvalidProgramError('elf_unsupported', `${where}: relocation type not supported in code`);
      }
    });
  }
  return out;
}

interface LinkContext {
  readonly code: ReadonlyMap<number, Uint8Array>;
  readonly functions: Functions;
  readonly relocs: ReadonlyMap<number, ReadonlyMap<number, InsnReloc>>;
  readonly lineRecords: ReadonlyMap<number, readonly { insnOff: number; info: Omit<LineInfo, 'pc'> }[]>;
  readonly funcRecords: ReadonlyMap<number, ReadonlyMap<number, number>>;
  readonly options: LoadElfOptions;
  /** Slots all programs may still link: the same subprogram is copied into every program calling it. */
  readonly budget: { slots: number };
}

/**
 * Most slots linked over all programs of one object (128 MiB of bytecode): an object with many programs that all
 * call one large subprogram is quadratic to link, and a hostile one must not make loading take minutes.
 */
const MAX_LINKED_SLOTS = 16 * 1024 * 1024;

/**
 * Builds one program: the entry function, then every function it reaches through calls and function addresses,
 * each appended once in order of first reference (as libbpf does), with the immediates rewritten.
 */
function link(entry: Fn, ctx: LinkContext): ElfProgram {
  const progWhere = `program '${entry.name}' (section ${entry.section.name})`;
  const placed = new Map<Fn, number>(); // function → first slot
  const order: Fn[] = [];
  let slots = 0;
  const place = (fn: Fn): number => {
    let base = placed.get(fn);
    if (base === undefined) {
      base = slots;
      placed.set(fn, base);
      order.push(fn);
      const size = (fn.end - fn.start) / 8;
      slots += size;
      ctx.budget.slots -= size;
      if (ctx.budget.slots < 0) throw new InvalidProgramError('too_large', `${progWhere}: linking the object's programs takes more than ${MAX_LINKED_SLOTS} instructions`);
    }
    return base;
  };
  place(entry);
  const chunks: Uint8Array[] = [];
  const usedMaps = new Set<number>();

  for (let k = 0; k < order.length; k++) {
    const fn = order[k];
    const base = placed.get(fn)!;
    const out = new Uint8Array(ctx.code.get(fn.section.index)!.subarray(fn.start, fn.end));
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    const relocs = ctx.relocs.get(fn.section.index)!;
    for (let o = 0; o < out.length; o += 8) {
      const at = `${fn.section.name}+${hex(fn.start + o)}`;
      const slot = base + o / 8;
      const opcode = out[o];
      const reloc = relocs.get(fn.start + o);
      if (opcode === LDDW) {
        if (o + 16 > out.length) throw new InvalidProgramError('elf_bad_function', `${progWhere}: lddw at ${at} runs past the end of function '${fn.name}'`);
        if (reloc) {
          // Rewrite the first slot's src nibble and both immediates (slot layout: opcode, dst|src<<4, off, imm).
          const setSrc = (src: number): void => { out[o + 1] = (out[o + 1] & 0x0f) | (src << 4); };
          switch (reloc.kind) {
            case 'map':
              setSrc(5);
              view.setInt32(o + 4, reloc.map, true);
              view.setInt32(o + 12, 0, true);
              usedMaps.add(reloc.map);
              break;
            case 'data':
              setSrc(6);
              view.setInt32(o + 4, reloc.map, true);
              view.setInt32(o + 12, reloc.offset, true);
              usedMaps.add(reloc.map);
              break;
            case 'func':
              setSrc(4);
              view.setInt32(o + 4, place(reloc.target) - slot - 1, true);
              view.setInt32(o + 12, 0, true);
              break;
            case 'call':
              throw new InvalidProgramError('elf_bad_relocation', `${progWhere}: call relocation on the lddw at ${at}`);
          }
        }
        o += 8;
        continue;
      }
      if (opcode === CALL && out[o + 1] >> 4 === PSEUDO_CALL) {
        let target: Fn | undefined;
        if (reloc?.kind === 'call') target = reloc.target;
        else if (reloc) throw new InvalidProgramError('elf_bad_relocation', `${progWhere}: ${reloc.kind} relocation on the call at ${at}`);
        else {
          // No relocation: a call inside the same section, imm relative to the instruction's place in the section.
          const offset = fn.start + o + (view.getInt32(o + 4, true) + 1) * 8;
          target = ctx.functions.at(fn.section.index, offset);
          if (!target) throw new InvalidProgramError('elf_bad_function', `${progWhere}: call at ${at} targets ${fn.section.name}+${hex(offset)}, which is not the start of a function`);
        }
        view.setInt32(o + 4, place(target) - slot - 1, true);
        continue;
      }
      if (reloc) throw new InvalidProgramError('elf_bad_relocation', `${progWhere}: relocation on the instruction at ${at} (opcode ${hex(opcode)}), which is neither an lddw nor a call`);
    }
    chunks.push(out);
  }

  const linked = new Uint8Array(slots * 8);
  order.forEach((fn, k) => linked.set(chunks[k], placed.get(fn)! * 8));
  let program: Program;
  try {
    program = decode(linked, { ...(ctx.options.maxVersion !== undefined ? { maxVersion: ctx.options.maxVersion } : {}), ...(ctx.options.maxSlots !== undefined ? { maxSlots: ctx.options.maxSlots } : {}) });
  } catch (e) {
    if (e instanceof InvalidProgramError) throw new InvalidProgramError(e.code, `${progWhere}: ${e.detail}`, e.pc, { cause: e });
    throw e;
  }

  const functions: ElfFunction[] = order.map((fn) => {
    const typeId = ctx.funcRecords.get(fn.section.index)?.get(fn.start);
    return { name: fn.name, section: fn.section.name, pc: placed.get(fn)!, ...(typeId !== undefined ? { btfTypeId: typeId } : {}) };
  });
  const lineInfo: LineInfo[] = [];
  for (const fn of order) {
    const base = placed.get(fn)!;
    const records = ctx.lineRecords.get(fn.section.index) ?? [];
    for (let i = firstAtOrAfter(records, fn.start); i < records.length && records[i].insnOff < fn.end; i++) {
      lineInfo.push({ pc: base + (records[i].insnOff - fn.start) / 8, ...records[i].info });
    }
  }
  lineInfo.sort((a, b) => a.pc - b.pc);
  return { name: entry.name, section: entry.section.name, program, functions, lineInfo, maps: [...usedMaps].sort((a, b) => a - b) };
}

/** Index of the first record (sorted by insnOff) at or after `offset`. */
function firstAtOrAfter(records: readonly { insnOff: number }[], offset: number): number {
  let lo = 0;
  let hi = records.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (records[mid].insnOff < offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
