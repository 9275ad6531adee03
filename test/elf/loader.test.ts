// loadElf over the committed clang objects (test/elf/fixtures): programs and sections, maps, rewritten lddw and
// call instructions, linked subprograms, global data, CO-RE, line info. Expectations come from the C sources next
// to the objects and, where the layout is the compiler's choice, from the objects' own symbol tables.

import { describe, expect, test } from 'vitest';
import { parseElf, sectionBytes, type ElfFile } from '../../src/elf/elf.js';
import { BPF_F, BPF_MAP_TYPE, LIBBPF_PIN, lineInfoAt, loadElf, selectProgram, type ElfObject, type ElfProgram } from '../../src/elf/loader.js';
import { InvalidProgramError } from '../../src/errors.js';
import { assemble } from '../../src/isa/asm.js';
import { disassemble } from '../../src/isa/disasm.js';
import { encode } from '../../src/isa/encode.js';
import { insnAt } from '../../src/isa/program.js';
import { ALL_OBJECTS, fixtureBytes, lddws, loadFixture, localCallTargets, programNamed } from './fixtures.js';

const WITH_BTF = ALL_OBJECTS.filter((f) => !f.includes('.nog.') && f !== 'asm.o');
const LOADABLE = ALL_OBJECTS.filter((f) => f !== 'xdp_hash.nog.o');
const variants = (base: string): string[] => ALL_OBJECTS.filter((f) => f.startsWith(base + '.') && !f.includes('.nog.'));

const symbolNamed = (elf: ElfFile, name: string) => {
  const s = elf.symbols.find((x) => x.name === name);
  if (!s) throw new Error(`no symbol ${name}`);
  return s;
};

describe('every fixture', () => {
  test('the fixture set covers each source at several ISA versions and compilers', () => {
    for (const cpu of ['v1', 'v2', 'v4', 'clang14', 'clang22']) expect(ALL_OBJECTS).toContain(`xdp_hash.${cpu}.o`);
    for (const cpu of ['v1', 'v2', 'v4', 'clang14', 'clang22']) expect(ALL_OBJECTS).toContain(`calls.${cpu}.o`);
    expect(ALL_OBJECTS).toEqual(expect.arrayContaining(['legacy_maps.o', 'legacy_maps.nog.o', 'multi.o', 'globals.o', 'maps.o', 'maps.clang14.o', 'core.o', 'asm.o', 'text_only.o']));
  });

  test.each(LOADABLE)('%s loads, and each program disassembles and reassembles to the same bytes', (name) => {
    const bytes = fixtureBytes(name);
    const copy = new Uint8Array(bytes);
    const object = loadElf(bytes);
    expect(bytes).toEqual(copy); // the loader works on copies
    expect(object.programs.length).toBeGreaterThan(0);
    for (const p of object.programs) {
      const text = disassemble(p.program);
      expect(text.split('\n').length - 1).toBe(p.program.insns.length);
      expect(encode(assemble(text))).toEqual(encode(p.program));
      expect(p.functions[0]).toMatchObject({ name: p.name, section: p.section, pc: 0 });
      for (const m of p.maps) expect(m).toBeLessThan(object.maps.length);
    }
  });

  test.each(WITH_BTF)('%s carries line info for every program, at instruction starts, in pc order', (name) => {
    const object = loadFixture(name);
    expect(object.btf).toBeDefined();
    for (const p of object.programs) {
      expect(p.lineInfo.length).toBeGreaterThan(0);
      let last = -1;
      for (const l of p.lineInfo) {
        expect(l.pc).toBeGreaterThanOrEqual(last);
        last = l.pc;
        expect(insnAt(p.program, l.pc)).toBeDefined();
        expect(l.file).toMatch(/\.c$/);
        expect(l.line).toBeGreaterThanOrEqual(0); // clang-14 emits line 0 for compiler-made code
      }
      expect(p.lineInfo.some((l) => l.line > 0 && l.text.trim() !== '')).toBe(true);
      expect(lineInfoAt(p, 0)).toBeDefined();
      for (const f of p.functions) expect(f.btfTypeId).toBeDefined();
      for (const f of p.functions) expect(object.btf!.types[f.btfTypeId!]).toMatchObject({ kind: 'func', name: f.name });
    }
  });
});

describe('xdp_hash: a BTF-defined hash map', () => {
  test.each(variants('xdp_hash'))('%s', (name) => {
    const object = loadFixture(name);
    expect(object.license).toBe('GPL');
    expect(object.maps).toEqual([
      expect.objectContaining({ name: 'counts', type: BPF_MAP_TYPE.HASH, keySize: 4, valueSize: 8, maxEntries: 1024, flags: BPF_F.NO_COMMON_LRU, pinning: 0, section: '.maps', frozen: false }),
    ]);
    expect(object.programs.map((p) => [p.name, p.section])).toEqual([['xdp_count', 'xdp']]);
    const p = object.programs[0];
    // Two references to &counts (lookup, update), each rewritten to map_idx 0.
    const refs = lddws(p);
    expect(refs).toHaveLength(2);
    for (const l of refs) expect(l).toMatchObject({ src: 'map_idx', imm: 0, next: 0 });
    expect(p.maps).toEqual([0]);
    // The helper calls follow the lddw that loads their map argument.
    const helpers = p.program.insns.flatMap((i) => (i.kind === 'call' && i.target.kind === 'helper' ? [i.target.id] : []));
    expect(helpers).toEqual([1, 2]); // bpf_map_lookup_elem, bpf_map_update_elem
    const key = object.btf!.types[object.maps[0].btfKeyType!];
    expect(object.btf!.skipModsAndTypedefs(key.id)).toMatchObject({ kind: 'int', size: 4 });
    expect(lineInfoAt(p, refs[0].pc)?.text).toContain('bpf_map_lookup_elem(&counts, &key)');
  });

  test('without -g, BTF-defined maps cannot be read, and the error says why', () => {
    expect(() => loadFixture('xdp_hash.nog.o')).toThrow(expect.objectContaining({ code: 'elf_bad_map', message: expect.stringContaining('compile with -g') }));
  });
});

describe('legacy maps section', () => {
  test.each(['legacy_maps.o', 'legacy_maps.nog.o'])('%s', (name) => {
    const object = loadFixture(name);
    expect(object.maps).toEqual([
      expect.objectContaining({ name: 'packets', type: BPF_MAP_TYPE.ARRAY, keySize: 4, valueSize: 8, maxEntries: 4, flags: 0, section: 'maps' }),
      expect.objectContaining({ name: 'lengths', type: BPF_MAP_TYPE.PERCPU_HASH, keySize: 4, valueSize: 4, maxEntries: 256, flags: BPF_F.NO_PREALLOC, section: 'maps' }),
    ]);
    expect(object.license).toBe('GPL');
    expect(object.kernelVersion).toBe(0x050a00);
    const p = programNamed(object, 'count_packets');
    expect(p.section).toBe('socket');
    expect(lddws(p).map((l) => [l.src, l.imm])).toEqual([['map_idx', 0], ['map_idx', 1]]);
    expect(p.maps).toEqual([0, 1]);
    if (name.includes('.nog.')) {
      expect(object.btf).toBeUndefined();
      expect(p.lineInfo).toEqual([]);
    }
  });
});

describe('several programs per section, common section names', () => {
  const object = loadFixture('multi.o');

  test('each global function of a SEC() is a program, in section then offset order', () => {
    expect(object.programs.map((p) => [p.name, p.section])).toEqual([
      ['xdp_pass', 'xdp'], ['xdp_drop_odd', 'xdp'], ['xdp_aborted', 'xdp'], ['sock_len', 'socket'], ['tc_mark', 'tc'],
      ['cls_ok', 'classifier'], ['trace_openat', 'tracepoint/syscalls/sys_enter_openat'], ['probe_unlinkat', 'kprobe/do_unlinkat'],
    ]);
    expect(object.license).toBe('Dual BSD/GPL');
    // Each program holds only its own function: xdp_pass is `r0 = 2; exit`.
    const pass = programNamed(object, 'xdp_pass');
    expect(pass.program.insns).toEqual([expect.objectContaining({ kind: 'alu', op: 'mov', src: { kind: 'imm', imm: 2 } }), expect.objectContaining({ kind: 'exit' })]);
  });

  test('selectProgram picks by name, by a section holding one program, or lists the candidates', () => {
    expect(selectProgram(object, { program: 'tc_mark' }).name).toBe('tc_mark');
    expect(selectProgram(object, { section: 'kprobe/do_unlinkat' }).name).toBe('probe_unlinkat');
    expect(selectProgram(object, { program: 'xdp_pass', section: 'xdp' }).name).toBe('xdp_pass');
    expect(() => selectProgram(object, { section: 'xdp' })).toThrow(/section 'xdp' holds 3 programs: xdp_pass \(xdp\), xdp_drop_odd \(xdp\), xdp_aborted \(xdp\)/);
    expect(() => selectProgram(object)).toThrow(/the object has 8 programs/);
    expect(() => selectProgram(object, { program: 'nope' })).toThrow(expect.objectContaining({ code: 'elf_no_program', message: expect.stringContaining('sock_len (socket)') }));
    expect(() => selectProgram(object, { program: 'tc_mark', section: 'xdp' })).toThrow(InvalidProgramError);
    expect(selectProgram(loadFixture('xdp_hash.o')).name).toBe('xdp_count');
  });
});

describe('bpf-to-bpf calls: .text subprograms are linked into each program', () => {
  /** Which function (by name) each call in the program goes from and to. */
  function callGraph(p: ElfProgram): string[] {
    const owner = (pc: number): string => [...p.functions].reverse().find((f) => f.pc <= pc)!.name;
    return p.program.insns.flatMap((i) => (i.kind === 'call' && i.target.kind === 'local' ? [`${owner(i.pc)}->${owner(i.target.pc)}`] : []));
  }

  test.each(variants('calls'))('%s', (name) => {
    const object = loadFixture(name);
    const elf = parseElf(fixtureBytes(name));
    const text = elf.sections.find((s) => s.name === '.text')!;

    const xdp = programNamed(object, 'xdp_calls');
    expect(xdp.functions.map((f) => [f.name, f.section])).toEqual([['xdp_calls', 'xdp'], ['twice_square', '.text'], ['add_square', '.text'], ['square', '.text']]);
    // Every call lands on the first pc of a linked function, and the graph is the source's.
    const starts = new Set(xdp.functions.map((f) => f.pc));
    for (const t of localCallTargets(xdp)) expect(starts.has(t)).toBe(true);
    expect(new Set(callGraph(xdp))).toEqual(new Set(['xdp_calls->twice_square', 'xdp_calls->add_square', 'twice_square->add_square', 'add_square->square']));
    expect([...xdp.program.functions]).toEqual(xdp.functions.map((f) => f.pc));

    // A linked subprogram is the .text function's code, with only call immediates changed.
    const code = encode(xdp.program);
    for (const f of xdp.functions.slice(1)) {
      const sym = elf.symbols.find((s) => s.name === f.name && s.shndx === text.index)!;
      const original = sectionBytes(elf, text).subarray(sym.value, sym.value + sym.size);
      const linked = code.subarray(f.pc * 8, f.pc * 8 + sym.size);
      for (let o = 0; o < original.length; o += 8) {
        const isCall = original[o] === 0x85 && original[o + 1] >> 4 === 1;
        expect(linked.subarray(o, isCall ? o + 4 : o + 8)).toEqual(original.subarray(o, isCall ? o + 4 : o + 8));
      }
    }

    const sock = programNamed(object, 'sock_square');
    expect(sock.functions.map((f) => f.name)).toEqual(['sock_square', 'square']);
    expect(localCallTargets(sock)).toEqual([sock.functions[1].pc]);

    // bpf_loop's callback: an lddw of the function's address, rewritten to code_addr relative to the next slot.
    const tc = programNamed(object, 'tc_loop');
    expect(tc.functions.map((f) => f.name)).toEqual(['tc_loop', 'loop_step']);
    const [callback] = lddws(tc);
    expect(callback.src).toBe('code_addr');
    expect(callback.pc + 1 + callback.imm).toBe(tc.functions[1].pc);
    expect(tc.program.insns.some((i) => i.kind === 'call' && i.target.kind === 'helper' && i.target.id === 181)).toBe(true); // bpf_loop

    // .text functions are subprograms, not programs.
    expect(object.programs.map((p) => p.name)).toEqual(['xdp_calls', 'sock_square', 'tc_loop']);
    // Line info follows the subprograms to their linked pcs.
    const sq = xdp.functions.find((f) => f.name === 'square')!;
    expect(xdp.lineInfo.some((l) => l.pc > sq.pc && l.text.includes('return x * x'))).toBe(true);
  });
});

describe('global data: .rodata, .data, .bss, custom sections and printk strings become array maps', () => {
  test.each(variants('globals'))('%s', (name) => {
    const object = loadFixture(name);
    const elf = parseElf(fixtureBytes(name));
    const byName = new Map(object.maps.map((m, i) => [m.name, { m, i }]));
    expect(object.maps.map((m) => m.name)).toEqual(['.rodata', '.data', '.data.custom', '.bss', '.rodata.str1.1']);
    for (const m of object.maps) {
      const readOnly = m.name.startsWith('.rodata');
      expect(m).toMatchObject({ type: BPF_MAP_TYPE.ARRAY, keySize: 4, maxEntries: 1, frozen: readOnly, flags: BPF_F.MMAPABLE | (readOnly ? BPF_F.RDONLY_PROG : 0) });
      expect(m.valueSize).toBe(elf.sections.find((s) => s.name === m.name)!.size);
    }
    const bytesOf = (map: string): Uint8Array => {
      const v = byName.get(map)!.m.initialValues!;
      expect(v).toHaveLength(1);
      expect(v[0]).toMatchObject({ kind: 'bytes', index: 0 });
      return (v[0] as { value: Uint8Array }).value;
    };
    const cstring = (b: Uint8Array, at: number): string => new TextDecoder().decode(b.subarray(at, b.indexOf(0, at)));
    const u32 = (b: Uint8Array, at: number): number => new DataView(b.buffer, b.byteOffset).getUint32(at, true);
    const rodata = bytesOf('.rodata');
    expect(u32(rodata, symbolNamed(elf, 'threshold').value)).toBe(0x11223344);
    expect(cstring(rodata, symbolNamed(elf, 'greeting').value)).toBe('hello');
    expect(cstring(rodata, symbolNamed(elf, 'xdp_globals.____fmt').value)).toBe('len %u threshold %u');
    expect([...bytesOf('.data')]).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
    expect(u32(bytesOf('.data.custom'), 0)).toBe(0xabcdef01);
    expect(bytesOf('.bss')).toEqual(new Uint8Array(24));
    expect(cstring(bytesOf('.rodata.str1.1'), 0)).toBe('dropped\n');

    // Each lddw of a global became map_idx_value: imm = the data map, next = the variable's offset in it.
    const p = programNamed(object, 'xdp_globals');
    const refs = lddws(p).map((l) => {
      expect(l.src).toBe('map_idx_value');
      return `${object.maps[l.imm].name}+${l.next}`;
    });
    const at = (sym: string): string => `${elf.sections[symbolNamed(elf, sym).shndx].name}+${symbolNamed(elf, sym).value}`;
    const expected = ['hits', 'scratch', 'threshold', 'dropped', 'greeting', 'tagged', 'xdp_globals.____fmt'].map(at).concat('.rodata.str1.1+0');
    expect(new Set(refs)).toEqual(new Set(expected));
    expect(p.maps).toEqual([0, 1, 2, 3, 4]);
    // bpf_printk's format: the lddw feeding helper 6 (bpf_trace_printk) points at the string, on the printk's line.
    const fmt = lddws(p).find((l) => `${object.maps[l.imm].name}+${l.next}` === at('xdp_globals.____fmt'))!;
    expect(lineInfoAt(p, fmt.pc)?.text).toContain('bpf_printk("len %u threshold %u"');
    expect(lineInfoAt(p, fmt.pc)?.file).toBe('./globals.c');
  });
});

describe('map kinds: prog array and map of maps with initial values, per-CPU, LPM trie, ring buffer, pinning', () => {
  test.each(variants('maps'))('%s', (name) => {
    const object = loadFixture(name);
    const index = (n: string): number => object.maps.findIndex((m) => m.name === n);
    const inner = { type: BPF_MAP_TYPE.ARRAY, keySize: 4, valueSize: 4, maxEntries: 2, flags: 0 };
    expect(object.maps.map((m) => m.name)).toEqual(['inner_a', 'inner_b', 'outer', 'jump_table', 'per_cpu', 'routes', 'events', 'pinned']);
    expect(object.maps[index('inner_a')]).toMatchObject(inner);
    expect(object.maps[index('outer')]).toMatchObject({
      type: BPF_MAP_TYPE.ARRAY_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 4,
      innerMap: { name: 'outer.inner', ...inner },
      initialValues: [{ kind: 'map', index: 0, map: index('inner_a') }, { kind: 'map', index: 2, map: index('inner_b') }],
    });
    expect(object.maps[index('jump_table')]).toMatchObject({
      type: BPF_MAP_TYPE.PROG_ARRAY, keySize: 4, valueSize: 4, maxEntries: 3,
      initialValues: [{ kind: 'program', index: 0, program: 'tail_a' }, { kind: 'program', index: 2, program: 'tail_b' }],
    });
    expect(object.maps[index('per_cpu')]).toMatchObject({ type: BPF_MAP_TYPE.PERCPU_ARRAY, keySize: 4, valueSize: 8, maxEntries: 8, flags: 0 });
    expect(object.maps[index('routes')]).toMatchObject({ type: BPF_MAP_TYPE.LPM_TRIE, keySize: 8, valueSize: 4, maxEntries: 64, flags: BPF_F.NO_PREALLOC });
    expect(object.maps[index('events')]).toMatchObject({ type: BPF_MAP_TYPE.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096 });
    expect(object.maps[index('pinned')]).toMatchObject({ type: BPF_MAP_TYPE.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1, pinning: LIBBPF_PIN.BY_NAME });
    for (const n of ['inner_a', 'outer', 'per_cpu', 'routes', 'pinned']) expect(object.maps[index(n)].initialValues === undefined).toBe(n !== 'outer');

    expect(object.programs.map((p) => p.name)).toEqual(['tail_a', 'tail_b', 'dispatch']);
    const dispatch = programNamed(object, 'dispatch');
    const referenced = new Set(lddws(dispatch).map((l) => {
      expect(l.src).toBe('map_idx');
      return object.maps[l.imm].name;
    }));
    expect(referenced).toEqual(new Set(['per_cpu', 'routes', 'events', 'outer', 'pinned', 'jump_table']));
    expect(dispatch.program.insns.some((i) => i.kind === 'call' && i.target.kind === 'helper' && i.target.id === 12)).toBe(true); // bpf_tail_call
  });
});

describe('CO-RE relocations against the object\'s own BTF', () => {
  test('field offsets, sizes, existence, bitfield shifts, type size and enum value resolve as libbpf would', () => {
    const name = 'core.o';
    const object = loadFixture(name);
    const elf = parseElf(fixtureBytes(name));
    const relos = object.btfExt!.coreRelos.flatMap((s) => s.records.map((r) => r.kind));
    expect(new Set(relos)).toEqual(new Set(['field_byte_offset', 'field_byte_size', 'field_lshift_u64', 'field_signed', 'field_rshift_u64', 'field_exists', 'type_size', 'enumval_value']));
    const p = programNamed(object, 'core_read');
    const before = sectionBytes(elf, elf.sections.find((s) => s.name === 'socket')!);
    const after = encode(p.program);
    // Everything clang wrote agrees with the BTF, except the bitfield's load size: clang chose 8 bytes, libbpf
    // picks the smallest aligned load covering `level : 9` at bit 67 of an unsigned int, 4 bytes.
    const changed: number[] = [];
    for (let o = 0; o < before.length; o += 8) if (before.subarray(o, o + 8).some((b, i) => b !== after[o + i])) changed.push(o / 8);
    expect(changed).toEqual([6]);
    expect(p.program.insns[6]).toMatchObject({ kind: 'alu', op: 'mov', dst: 5, src: { kind: 'imm', imm: 4 } });
    expect(new DataView(before.buffer, before.byteOffset).getInt32(6 * 8 + 4, true)).toBe(8);
  });
});

describe('hand-written assembly without function symbols', () => {
  test('the section is one program named after it', () => {
    const object: ElfObject = loadFixture('asm.o');
    expect(object.programs.map((p) => [p.name, p.section, p.program.slotCount])).toEqual([['socket', 'socket', 5]]);
    expect(object.btf).toBeUndefined();
    expect(object.license).toBe('GPL');
    expect(disassemble(object.programs[0].program)).toBe('mov %r0, 1\nldxw %r1, [%r1]\njgt %r1, 64, +1\nmov %r0, 0\nexit\n');
  });
});

describe('an object without any SEC()', () => {
  test('its global .text functions are the programs, each with the static helper linked in', () => {
    const object = loadFixture('text_only.o');
    expect(object.programs.map((p) => [p.name, p.section, p.functions.map((f) => f.name)])).toEqual([
      ['first', '.text', ['first', 'clamp']],
      ['second', '.text', ['second', 'clamp']],
    ]);
    for (const p of object.programs) expect(localCallTargets(p)).toEqual([p.functions[1].pc]);
    expect(object.license).toBeUndefined();
  });
});

describe('options', () => {
  test('maxVersion rejects instructions newer than the given ISA, naming the program', () => {
    expect(() => loadElf(fixtureBytes('calls.v1.o'), { maxVersion: 1 })).not.toThrow();
    expect(() => loadElf(fixtureBytes('calls.v4.o'), { maxVersion: 1 })).toThrow(expect.objectContaining({ code: 'unknown_opcode', message: expect.stringMatching(/program '\w+' \(section \w+\): .*needs ISA v/) }));
  });
});
