/**
 * `parseElf`: the ELF64 little-endian relocatable objects that `clang -target bpf -c` writes (e_machine EM_BPF,
 * ET_REL), read into plain tables: the header, the section headers with their names, the symbol table with its
 * strings, and the SHT_REL relocation sections.
 *
 * Every offset, size, count and index read from the file is checked before it is used, so malformed input raises an
 * {@link InvalidProgramError} with an `elf_*` code naming the section or offset, never a RangeError from a typed
 * array, and nothing is followed more than one level (sh_link, sh_info), so no input can make the reader loop.
 *
 * Not here: what the sections mean (programs, maps, global data, relocation semantics: loader.ts), BTF (btf.ts),
 * SHT_RELA entries (eBPF objects use SHT_REL; the loader rejects a RELA section that targets something it loads),
 * program headers and dynamic linking (an ET_REL object has neither), big-endian objects (`-target bpfeb`).
 */

import { InvalidProgramError } from '../errors.js';

/** e_machine of eBPF objects. */
export const EM_BPF = 247;

/** Section types (sh_type) the loader cares about. */
export const SHT = { NULL: 0, PROGBITS: 1, SYMTAB: 2, STRTAB: 3, RELA: 4, NOBITS: 8, REL: 9 } as const;

/** Section flags (sh_flags). */
export const SHF = { WRITE: 0x1, ALLOC: 0x2, EXECINSTR: 0x4 } as const;

/** Symbol types (low nibble of st_info). */
export const STT = { NOTYPE: 0, OBJECT: 1, FUNC: 2, SECTION: 3, FILE: 4 } as const;

/** Symbol bindings (high nibble of st_info). */
export const STB = { LOCAL: 0, GLOBAL: 1, WEAK: 2 } as const;

/** Special section indexes (st_shndx). */
export const SHN = { UNDEF: 0, LORESERVE: 0xff00, ABS: 0xfff1, COMMON: 0xfff2, XINDEX: 0xffff } as const;

/** eBPF relocation types (LLVM's BPF backend; the Linux docs' `Documentation/bpf/llvm_reloc.rst`). */
export const R_BPF = {
  NONE: 0,
  /** `lddw`: the 64-bit immediate of both slots (the offset names the first slot). */
  R64_64: 1,
  /** 64-bit data word (map-in-map and PROG_ARRAY initial values, debug info). */
  ABS64: 2,
  /** 32-bit data word (debug info, BTF). */
  ABS32: 3,
  /** 32-bit data word a dynamic loader must not touch (.BTF, .BTF.ext). */
  NODYLD32: 4,
  /** `call`: the 32-bit immediate of a bpf-to-bpf call. */
  R64_32: 10,
} as const;

/** Human name of a relocation type, for messages. */
export function relocationTypeName(type: number): string {
  switch (type) {
    case R_BPF.NONE: return 'R_BPF_NONE';
    case R_BPF.R64_64: return 'R_BPF_64_64';
    case R_BPF.ABS64: return 'R_BPF_64_ABS64';
    case R_BPF.ABS32: return 'R_BPF_64_ABS32';
    case R_BPF.NODYLD32: return 'R_BPF_64_NODYLD32';
    case R_BPF.R64_32: return 'R_BPF_64_32';
    default: return `relocation type ${type}`;
  }
}

/** Bytes a relocation of `type` patches, counted from its offset; `undefined` for a type this reader does not know. */
export function relocationWidth(type: number): number | undefined {
  switch (type) {
    case R_BPF.NONE: return 0;
    case R_BPF.R64_64: return 16; // both slots of the lddw
    case R_BPF.R64_32: return 8; // the whole call instruction
    case R_BPF.ABS64: return 8;
    case R_BPF.ABS32: case R_BPF.NODYLD32: return 4;
    default: return undefined;
  }
}

/** One section header, with its name resolved. Offsets and sizes are byte counts in the file. */
export interface ElfSection {
  readonly index: number;
  readonly name: string;
  readonly type: number;
  readonly flags: number;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly addralign: number;
  readonly entsize: number;
}

/** One symbol-table entry, with its name resolved. `value` is an offset inside section `shndx` for an ET_REL. */
export interface ElfSymbol {
  readonly index: number;
  readonly name: string;
  readonly value: number;
  readonly size: number;
  /** STT_* */
  readonly type: number;
  /** STB_* */
  readonly bind: number;
  /** STV_* (low 2 bits of st_other) */
  readonly visibility: number;
  readonly shndx: number;
}

/** One SHT_REL entry: patch `offset` in the target section according to `type`, against symbol `symbol`. */
export interface ElfRelocation {
  readonly offset: number;
  readonly type: number;
  /** Index into {@link ElfFile.symbols} (checked to be in range). */
  readonly symbol: number;
}

/** A relocation section and the section it applies to. */
export interface ElfRelSection {
  /** The SHT_REL section itself. */
  readonly section: ElfSection;
  /** Index of the section it patches (sh_info). */
  readonly target: number;
  readonly relocations: readonly ElfRelocation[];
}

/** A parsed relocatable object. Tables only: see loader.ts for what they mean to eBPF. */
export interface ElfFile {
  readonly bytes: Uint8Array;
  /** All section headers, index 0 (SHT_NULL) included. */
  readonly sections: readonly ElfSection[];
  /** The symbol table (index 0 is the null symbol), or empty when the object has none. */
  readonly symbols: readonly ElfSymbol[];
  /** SHT_REL sections, in section order. */
  readonly relocations: readonly ElfRelSection[];
}

/*
 * ELF64 header (64 bytes, little-endian):
 *
 *   0  e_ident[16]   7f 'E' 'L' 'F' | class(1=64) | data(1=LSB) | version(1) | osabi | abiversion | pad[7]
 *  16  e_type    u16    18  e_machine u16    20  e_version u32
 *  24  e_entry   u64    32  e_phoff   u64    40  e_shoff   u64
 *  48  e_flags   u32    52  e_ehsize  u16    54  e_phentsize u16   56 e_phnum u16
 *  58  e_shentsize u16  60  e_shnum   u16    62  e_shstrndx u16
 *
 * Section header (64 bytes):
 *
 *   0 sh_name u32   4 sh_type u32   8 sh_flags u64   16 sh_addr u64   24 sh_offset u64   32 sh_size u64
 *  40 sh_link u32  44 sh_info u32  48 sh_addralign u64   56 sh_entsize u64
 *
 * Symbol (24 bytes):                       Relocation, SHT_REL (16 bytes):
 *
 *   0 st_name u32   4 st_info u8              0 r_offset u64
 *   5 st_other u8   6 st_shndx u16            8 r_info   u64 = symbol index << 32 | type
 *   8 st_value u64 16 st_size u64
 *
 *   st_info = bind << 4 | type
 */
const EHDR_SIZE = 64;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;
const REL_SIZE = 16;
const ET_REL = 1;

/** Reads a u64 as a number. Values above 2^53 lose precision but stay larger than any real size, so bounds checks still reject them. */
function u64(view: DataView, offset: number): number {
  return view.getUint32(offset + 4, true) * 2 ** 32 + view.getUint32(offset, true);
}

/** Whether [offset, offset + size) lies inside [0, limit). */
export function inBounds(offset: number, size: number, limit: number): boolean {
  return offset >= 0 && size >= 0 && offset <= limit && size <= limit - offset;
}

const utf8 = new TextDecoder('utf-8');

/** Reads the NUL-terminated string at `offset` of a string table held in `table`. */
export function readCString(table: Uint8Array, offset: number, what: () => string, code: 'elf_bad_string' | 'btf_bad_string' = 'elf_bad_string'): string {
  if (!Number.isInteger(offset) || offset < 0 || offset >= table.length) {
    throw new InvalidProgramError(code, `${what()}: string offset ${offset} is outside the string table (${table.length} bytes)`);
  }
  const end = table.indexOf(0, offset);
  if (end < 0) throw new InvalidProgramError(code, `${what()}: string at offset ${offset} is not NUL-terminated`);
  return utf8.decode(table.subarray(offset, end));
}

/** How many of a section's bytes are in the file: 0 for SHT_NOBITS and SHT_NULL, else its size. */
export function sectionFileSize(section: ElfSection): number {
  return section.type === SHT.NOBITS || section.type === SHT.NULL ? 0 : section.size;
}

/** The bytes of a section (empty for SHT_NOBITS and SHT_NULL). Bounds were checked by {@link parseElf}. */
export function sectionBytes(elf: ElfFile, section: ElfSection): Uint8Array {
  return elf.bytes.subarray(section.offset, section.offset + sectionFileSize(section));
}

/** A readable name for a section in messages: `section 4 (xdp)`. */
export function describeSection(section: ElfSection): string {
  return section.name === '' ? `section ${section.index}` : `section ${section.index} (${section.name})`;
}

const hex = (n: number): string => '0x' + n.toString(16);

function readHeader(bytes: Uint8Array): { shoff: number; shnum: number; shstrndx: number } {
  if (bytes.length < 4 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw new InvalidProgramError('elf_bad_ident', 'not an ELF file: missing the \\x7fELF magic');
  }
  if (bytes.length < EHDR_SIZE) {
    throw new InvalidProgramError('elf_truncated', `ELF header is truncated: ${bytes.length} bytes, need ${EHDR_SIZE}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[4] !== 2) throw new InvalidProgramError('elf_bad_class', `ELF class ${bytes[4]} is not ELFCLASS64 (2): eBPF objects are 64-bit`);
  if (bytes[5] !== 1) {
    throw new InvalidProgramError('elf_bad_class', `ELF data encoding ${bytes[5]} is not little-endian (1)${bytes[5] === 2 ? ': big-endian objects (-target bpfeb) are not supported' : ''}`);
  }
  if (bytes[6] !== 1) throw new InvalidProgramError('elf_bad_ident', `ELF identification version ${bytes[6]} is not 1`);
  const type = view.getUint16(16, true);
  if (type !== ET_REL) throw new InvalidProgramError('elf_bad_type', `ELF type ${type} is not ET_REL (1): expected a relocatable object (clang -c)`);
  const machine = view.getUint16(18, true);
  if (machine !== EM_BPF) throw new InvalidProgramError('elf_bad_machine', `ELF machine ${machine} is not EM_BPF (${EM_BPF}): compile with clang -target bpf`);
  const shoff = u64(view, 40);
  let shnum = view.getUint16(60, true);
  const shentsize = view.getUint16(58, true);
  let shstrndx = view.getUint16(62, true);
  if (shnum === 0 && shoff === 0) return { shoff, shnum, shstrndx };
  if (shentsize !== SHDR_SIZE) throw new InvalidProgramError('elf_bad_section', `section header size ${shentsize} is not ${SHDR_SIZE}`);
  if (!inBounds(shoff, SHDR_SIZE, bytes.length)) {
    throw new InvalidProgramError('elf_bad_section', `section header table at offset ${hex(shoff)} is past the end of the file (${bytes.length} bytes)`);
  }
  // Extended numbering (gABI): with 0 sections or SHN_XINDEX in the header, the real values are in section 0.
  if (shnum === 0) shnum = u64(view, shoff + 32);
  if (shstrndx === SHN.XINDEX) shstrndx = view.getUint32(shoff + 40, true);
  if (shnum > 0xffffff) throw new InvalidProgramError('elf_bad_section', `section count ${shnum} is implausible`);
  if (!inBounds(shoff, shnum * SHDR_SIZE, bytes.length)) {
    throw new InvalidProgramError('elf_bad_section', `section header table (${shnum} entries at offset ${hex(shoff)}) runs past the end of the file (${bytes.length} bytes)`);
  }
  return { shoff, shnum, shstrndx };
}

/**
 * Parses an eBPF relocatable object (ELF64, little-endian, EM_BPF, ET_REL).
 *
 * @throws InvalidProgramError (`elf_*`) naming the offending section, symbol or relocation.
 */
export function parseElf(input: Uint8Array): ElfFile {
  // A plain view, so that subarrays of it are plain Uint8Arrays even when the caller passed a Node Buffer (whose
  // slice() shares memory): nothing downstream may write into the caller's bytes.
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const { shoff, shnum, shstrndx } = readHeader(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  // Raw headers first: names need the section-name table, which is itself one of them.
  const raw: Omit<ElfSection, 'name'>[] = [];
  const nameOffsets: number[] = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * SHDR_SIZE;
    const sh = {
      index: i,
      type: view.getUint32(o + 4, true),
      flags: u64(view, o + 8),
      offset: u64(view, o + 24),
      size: u64(view, o + 32),
      link: view.getUint32(o + 40, true),
      info: view.getUint32(o + 44, true),
      addralign: u64(view, o + 48),
      entsize: u64(view, o + 56),
    };
    nameOffsets.push(view.getUint32(o, true));
    if (i === 0) {
      raw.push({ ...sh, type: SHT.NULL, offset: 0, size: 0 }); // section 0 may carry extended-numbering fields
      continue;
    }
    if (sh.type !== SHT.NOBITS && sh.type !== SHT.NULL && !inBounds(sh.offset, sh.size, bytes.length)) {
      throw new InvalidProgramError('elf_bad_section', `section ${i}: data at offset ${hex(sh.offset)} size ${hex(sh.size)} runs past the end of the file (${bytes.length} bytes)`);
    }
    raw.push(sh);
  }

  let names: Uint8Array | undefined;
  if (shnum > 0) {
    if (shstrndx === 0 || shstrndx >= shnum) throw new InvalidProgramError('elf_bad_section', `section-name table index ${shstrndx} is not a section (0..${shnum - 1})`);
    const s = raw[shstrndx];
    if (s.type !== SHT.STRTAB) throw new InvalidProgramError('elf_bad_section', `section-name table (section ${shstrndx}) has type ${s.type}, not SHT_STRTAB`);
    names = bytes.subarray(s.offset, s.offset + s.size);
  }
  const sections: ElfSection[] = raw.map((sh, i) => ({
    ...sh,
    name: i === 0 ? '' : readCString(names!, nameOffsets[i], () => `section ${i}: name`),
  }));

  const symbols = readSymbols(bytes, view, sections);
  const relocations = readRelocations(view, sections, symbols);
  return { bytes, sections, symbols, relocations };
}

function readSymbols(bytes: Uint8Array, view: DataView, sections: readonly ElfSection[]): ElfSymbol[] {
  const tables = sections.filter((s) => s.type === SHT.SYMTAB);
  if (tables.length === 0) return [];
  if (tables.length > 1) throw new InvalidProgramError('elf_bad_section', `${tables.length} symbol tables (sections ${tables.map((t) => t.index).join(', ')}); an object has at most one`);
  const symtab = tables[0];
  const where = describeSection(symtab);
  if (symtab.entsize !== SYM_SIZE) throw new InvalidProgramError('elf_bad_section', `${where}: entry size ${symtab.entsize} is not ${SYM_SIZE}`);
  if (symtab.size % SYM_SIZE !== 0) throw new InvalidProgramError('elf_bad_section', `${where}: size ${symtab.size} is not a multiple of ${SYM_SIZE}`);
  if (symtab.link === 0 || symtab.link >= sections.length || sections[symtab.link].type !== SHT.STRTAB) {
    throw new InvalidProgramError('elf_bad_section', `${where}: string table link ${symtab.link} is not an SHT_STRTAB section`);
  }
  const strtab = sections[symtab.link];
  const strings = bytes.subarray(strtab.offset, strtab.offset + strtab.size);
  const count = symtab.size / SYM_SIZE;
  const symbols: ElfSymbol[] = [];
  for (let i = 0; i < count; i++) {
    const o = symtab.offset + i * SYM_SIZE;
    const info = bytes[o + 4];
    const shndx = view.getUint16(o + 6, true);
    const what = (): string => `symbol ${i}`;
    if (shndx === SHN.XINDEX) throw new InvalidProgramError('elf_unsupported', `${what()}: extended section index (SHN_XINDEX) is not supported`);
    if (shndx !== SHN.UNDEF && shndx < SHN.LORESERVE && shndx >= sections.length) {
      throw new InvalidProgramError('elf_bad_symbol', `${what()}: section index ${shndx} is not a section (0..${sections.length - 1})`);
    }
    symbols.push({
      index: i,
      name: readCString(strings, view.getUint32(o, true), () => `${what()}: name`),
      type: info & 0xf,
      bind: info >> 4,
      visibility: bytes[o + 5] & 3,
      shndx,
      value: u64(view, o + 8),
      size: u64(view, o + 16),
    });
  }
  return symbols;
}

function readRelocations(view: DataView, sections: readonly ElfSection[], symbols: readonly ElfSymbol[]): ElfRelSection[] {
  const out: ElfRelSection[] = [];
  const seenTargets = new Map<number, ElfSection>();
  for (const section of sections) {
    if (section.type !== SHT.REL) continue;
    const where = describeSection(section);
    if (section.entsize !== REL_SIZE) throw new InvalidProgramError('elf_bad_section', `${where}: entry size ${section.entsize} is not ${REL_SIZE}`);
    if (section.size % REL_SIZE !== 0) throw new InvalidProgramError('elf_bad_section', `${where}: size ${section.size} is not a multiple of ${REL_SIZE}`);
    if (section.link >= sections.length || sections[section.link].type !== SHT.SYMTAB) {
      throw new InvalidProgramError('elf_bad_section', `${where}: symbol table link ${section.link} is not the SHT_SYMTAB section`);
    }
    const target = section.info;
    if (target === 0 || target >= sections.length) throw new InvalidProgramError('elf_bad_section', `${where}: target section ${target} is not a section (1..${sections.length - 1})`);
    const targetSection = sections[target];
    // A relocation section patching itself or another relocation section would make "apply" ill-defined.
    if (targetSection.type === SHT.REL || targetSection.type === SHT.RELA || targetSection.type === SHT.SYMTAB || targetSection.type === SHT.STRTAB) {
      throw new InvalidProgramError('elf_bad_section', `${where}: targets ${describeSection(targetSection)} of type ${targetSection.type}, which cannot be relocated`);
    }
    const previous = seenTargets.get(target);
    if (previous) throw new InvalidProgramError('elf_bad_section', `${where}: ${describeSection(previous)} already relocates ${describeSection(targetSection)}`);
    seenTargets.set(target, section);
    const targetSize = sectionFileSize(targetSection);
    const relocations: ElfRelocation[] = [];
    for (let i = 0; i < section.size / REL_SIZE; i++) {
      const o = section.offset + i * REL_SIZE;
      const offset = u64(view, o);
      const type = view.getUint32(o + 8, true);
      const symbol = view.getUint32(o + 12, true);
      const what = `${where}: relocation ${i} (${relocationTypeName(type)} at ${hex(offset)})`;
      if (symbol >= symbols.length) {
        throw new InvalidProgramError('elf_bad_relocation', `${what}: symbol index ${symbol} is out of range (${symbols.length} symbols)`);
      }
      const width = relocationWidth(type) ?? 1;
      if (!inBounds(offset, width, targetSize)) {
        throw new InvalidProgramError('elf_bad_relocation', `${what}: offset is outside ${describeSection(targetSection)} (${targetSize} bytes)`);
      }
      relocations.push({ offset, type, symbol });
    }
    out.push({ section, target, relocations });
  }
  return out;
}
