// The interpreter's packet engine (src/interp/packet.ts) against the general path it replaces: the same program
// run through `Interpreter.run` by runtime/filter.ts's LoopPacketEngine (a foreign executable gets that engine),
// each on a runtime of its own with the same layout. Results, faults (code, pc, packet), packet bytes, the whole
// memory, and what helpers see of the request must agree; and every run starts from an all-zero stack, whatever
// the previous run wrote and however (fast or slow store path, callee frames, atomics, helpers, faults).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExecutionError, InternalError } from '../../src/errors.js';
import type { Executable, HelperFn, HelperTable } from '../../src/exec.js';
import { assemble } from '../../src/isa/asm.js';
import type { Program } from '../../src/isa/program.js';
import { Interpreter } from '../../src/interp/interpreter.js';
import { InterpPacketEngine } from '../../src/interp/packet.js';
import type { PacketContext } from '../../src/packet.js';
import { BatchExecutionError, PacketPath, type PacketBatch, type PacketOptions } from '../../runtime/filter.js';
import { relocateMaps } from '../../runtime/maps/relocate.js';
import { Runtime, type LoadedProgram } from '../../runtime/runtime.js';
import { HELPER_NESTED, buildProgram, recipeArb, terminatesByConstruction } from '../diff/gen.js';
import { diffHelpers } from '../diff/helpers.js';

/** What a run or a batch did; a fault's message too (both sides word faults alike: the same interpreter). */
type Outcome = { ok: number[] } | { fault: string; pc: number | undefined; packet?: number; message?: string };

function outcome(f: () => number | Uint32Array): Outcome {
  try {
    const r = f();
    return { ok: typeof r === 'number' ? [r] : [...r] };
  } catch (e) {
    if (e instanceof BatchExecutionError) return { fault: e.code, pc: e.pc, packet: e.packetIndex, message: e.message };
    if (e instanceof ExecutionError) return { fault: e.code, pc: e.pc, message: e.message };
    throw e;
  }
}

/** One side of a comparison: a runtime, the program loaded on the interpreter, and a packet path on it. */
interface Side {
  readonly rt: Runtime;
  readonly lp: LoadedProgram;
  readonly path: PacketPath;
}

/** How a test sets a side up: its helpers (given the side's path, for nested runs) and a runtime hook. */
interface Setup {
  readonly helpers?: (path: () => PacketPath) => HelperTable;
  /** Runs on the fresh runtime before the program is loaded (maps); may rewrite the program. */
  readonly prepare?: (rt: Runtime, program: Program) => Program;
}

/**
 * The program on the interpreter's packet engine (`fast`) and on the general path (`loop`: the interpreter
 * wrapped as a foreign executable, which gets LoopPacketEngine), with the same options.
 */
async function sides(source: string | Program, options: PacketOptions = {}, setup: Setup = {}): Promise<{ fast: Side; loop: Side }> {
  const make = async (general: boolean): Promise<Side> => {
    const rt = new Runtime();
    let program = typeof source === 'string' ? assemble(source) : source;
    program = setup.prepare?.(rt, program) ?? program;
    let path: PacketPath | undefined;
    const helpers = setup.helpers?.(() => path!) ?? (setup.prepare ? rt.maps.helpers : new Map());
    const lp = await rt.load(program, { engine: 'interp', helpers });
    const interp = lp.executable;
    const foreign: Executable = { run: (req) => interp.run(req) };
    path = general ? new PacketPath(rt, foreign, lp.helpers, options) : lp.packetPath(options);
    return { rt, lp, path };
  };
  return { fast: await make(false), loop: await make(true) };
}

/**
 * Applies `ops` to both sides and expects the same outcomes, packet bytes and memory (from `memoryFrom` on: the
 * map area below holds a random hash seed per map); returns the outcomes.
 */
function agree(s: { fast: Side; loop: Side }, ops: readonly ((path: PacketPath) => number | Uint32Array)[], memoryFrom = 0): Outcome[] {
  const log = (side: Side): { outcomes: Outcome[]; views: number[][] } => {
    const outcomes: Outcome[] = [];
    const views: number[][] = [];
    for (const op of ops) {
      outcomes.push(outcome(() => op(side.path)));
      views.push([...side.path.packetView()]);
    }
    return { outcomes, views };
  };
  const fast = log(s.fast);
  const loop = log(s.loop);
  expect(fast).toEqual(loop);
  for (const o of fast.outcomes) if ('message' in o) delete o.message;
  const a = new Uint8Array(s.fast.rt.memory.buffer);
  const b = new Uint8Array(s.loop.rt.memory.buffer);
  expect(a.length).toBe(b.length);
  expect(Buffer.compare(a.subarray(memoryFrom), b.subarray(memoryFrom)), 'memory differs').toBe(0);
  return fast.outcomes;
}

const bytes = (...xs: number[]): Uint8Array => Uint8Array.from(xs);
const run = (p: Uint8Array, wire?: number) => (path: PacketPath): number => path.run(p, wire);
const batch = (b: PacketBatch) => (path: PacketPath): Uint32Array => path.runBatch(b);

describe('the interpreter packet engine', () => {
  it('is what a packet path on the interpreter uses; a foreign executable gets the generic engine', async () => {
    const { fast, loop } = await sides('mov r0, 1\nexit');
    const engineOf = (p: PacketPath): unknown => (p as unknown as { engine: unknown }).engine;
    expect(engineOf(fast.path)).toBeInstanceOf(InterpPacketEngine);
    expect(engineOf(loop.path)).not.toBeInstanceOf(InterpPacketEngine);
  });

  it('refuses a binding outside the memory, and runs before any binding', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const engine = new Interpreter(assemble('mov r0, 1\nexit')).packetEngine(false, memory);
    expect(() => engine.runOne(0, 0)).toThrow(InternalError);
    const binding = { stackBase: 0x1000, data: 0x2000, offsets: 0x3000, results: 0x3100, wire: 0x3200, writable: true, budget: undefined, regions: [], helpers: new Map() };
    engine.bind(binding);
    expect(engine.runOne(16, 0)).toBe(1);
    expect(() => engine.runOne(0x10000, 0)).toThrow(InternalError); // the packet would end past the memory
    expect(() => engine.bind({ ...binding, stackBase: 0xf800 })).toThrow(InternalError);
    expect(() => engine.bind({ ...binding, regions: [{ start: 0x8000, end: 0x10001, writable: false, name: 'x' }] })).toThrow(InternalError);
    expect(() => engine.bind({ ...binding, budget: -1 })).toThrow(InternalError);
  });

  it('gives r1..r3, legacy loads, results beyond 2^31, read-only packets and budgets as the general path does', async () => {
    const prog = await sides('ldabsh 0\nlsh r0, 16\nor r0, r3\nadd r0, r2\nexit');
    expect(agree(prog, [run(bytes(0x80, 1, 2)), run(bytes(0x12, 0x34), 1514), run(bytes(1)), batch({ data: bytes(0xff, 0xff, 0, 7, 7), offsets: [0, 2, 2, 5], wireLengths: [9, 8, 7] })])).toEqual([
      { ok: [0x80010003] }, { ok: [0x12340000 + 1514 + 2] }, { ok: [0] }, { ok: [0xffff0000 + 9 + 2, 0, 0x00070000 + 7 + 3] },
    ]);
    const store = await sides('stb [r1+0], 1\nmov r0, 5\nexit', { writable: false });
    expect(agree(store, [run(bytes(0)), batch([bytes(1), bytes(2)])])).toEqual([{ fault: 'read_only', pc: 0 }, { fault: 'read_only', pc: 0, packet: 0 }]);
    // An access just below an empty packet names no region (the packet's is only there when it has bytes).
    const below = await sides('ldxh r0, [r1-1]\nexit');
    const faults = agree(below, [run(bytes()), run(bytes(1)), batch([bytes(1, 2, 3), bytes()]), batch({ data: bytes(1, 2, 3), offsets: [3, 3] })]);
    expect(faults.map((f) => 'fault' in f && f.fault)).toEqual(['out_of_bounds', 'out_of_bounds', 'out_of_bounds', 'out_of_bounds']);
    const loop = await sides('mov r0, 0\nloop:\nadd r0, 1\njlt r0, r2, loop\nexit', { budget: 5 });
    expect(agree(loop, [run(new Uint8Array(5)), run(new Uint8Array(7)), batch([new Uint8Array(6), new Uint8Array(9), new Uint8Array(2)])])).toEqual([
      { ok: [5] }, { fault: 'budget_exceeded', pc: 2 }, { fault: 'budget_exceeded', pc: 2, packet: 1 },
    ]);
  });
});

describe('every run starts from an all-zero stack', () => {
  // Each program writes the stack (and returns what it read back) when the packet's first byte is 1, else only
  // reads: a run on a packet starting with 0 must read 0 whatever the previous runs did.
  const cases: Record<string, string> = {
    'a store the loop makes after a packet store moved its write cache (slow path)': `
      ldxb r3, [r1+0]
      jne r3, 1, read
      stb [r1+0], 9
      stdw [r10-24], 0x55
    read:
      ldxdw r0, [r10-24]
      exit`,
    'the deepest callee frame': `
      ldxb r6, [r1+0]
      call local f1
      mov r2, r10
      add r2, -4096
      ldxdw r0, [r2+0]
      exit
    f1:
      call local f2
      exit
    f2:
      call local f3
      exit
    f3:
      call local f4
      exit
    f4:
      call local f5
      exit
    f5:
      call local f6
      exit
    f6:
      call local f7
      exit
    f7:
      jne r6, 1, back
      stdw [r10-512], 0x99
    back:
      exit`,
    'an atomic through another register': `
      mov r6, r10
      add r6, -2048
      ldxb r3, [r1+0]
      jne r3, 1, read
      mov r4, 3
      lock add [r6+0], r4
    read:
      ldxdw r0, [r6+0]
      exit`,
    'a run that faulted after writing (in the driver)': `
      ldxb r3, [r1+0]
      jne r3, 1, read
      stdw [r10-8], 0x77
      ldxb r0, [r1+4096]
    read:
      ldxdw r0, [r10-8]
      exit`,
    'a run that faulted after writing (in the loop: call depth)': `
      ldxb r6, [r1+0]
      jne r6, 1, read
      stdw [r10-16], 0x66
      call local deep
    read:
      ldxdw r0, [r10-16]
      exit
    deep:
      stw [r10-4], 1
      call local deep
      exit`,
  };
  for (const [name, src] of Object.entries(cases)) {
    it(name, async () => {
      const s = await sides(src);
      const out = agree(s, [run(bytes(1)), run(bytes(0)), batch([bytes(1), bytes(0), bytes(0), bytes(1), bytes(0)]), run(bytes(0))]);
      expect(out[1]).toEqual({ ok: [0] });
      expect(out[3]).toEqual({ ok: [0] });
      const dirty = out[0];
      if ('ok' in dirty) {
        expect(dirty.ok[0]).not.toBe(0);
        expect(out[2]).toEqual({ ok: [dirty.ok[0], 0, 0, dirty.ok[0], 0] });
      } else {
        expect(out[2]).toEqual({ ...dirty, packet: 0 });
      }
    });
  }

  it('a helper that wrote the stack, and a nested run of the same program in between', async () => {
    // Packet [1, x]: the helper fills [r10-32, r10-24) with 0xab; packet [2, x]: it runs the program nested on
    // [1, 0] (which writes its own path's stack), and the outer run checks its own [r10-8] survived the call.
    const src = `
      ldxb r6, [r1+0]
      stdw [r10-8], 0x1234
      mov r1, r10
      add r1, -32
      mov r2, r6
      jeq r6, 0, read
      call 9
      ldxdw r7, [r10-8]
      jne r7, 0x1234, bad
    read:
      ldxdw r0, [r10-32]
      exit
    bad:
      mov r0, -1
      exit`;
    const helpers = (path: () => PacketPath): HelperTable => new Map<number, HelperFn>([[9, (r1, r2, _3, _4, _5, env) => {
      if (r2 === 1n) new Uint8Array(env.memory.buffer, Number(r1), 8).fill(0xab);
      else path().run(bytes(1, 0));
      return 0n;
    }]]);
    const s = await sides(src, {}, { helpers });
    const out = agree(s, [run(bytes(1, 0)), run(bytes(0, 0)), run(bytes(2, 0)), run(bytes(0, 0)), batch([bytes(1, 0), bytes(0, 0), bytes(2, 0), bytes(0, 0)])]);
    expect(out).toEqual([{ ok: [0xabababab] }, { ok: [0] }, { ok: [0] }, { ok: [0] }, { ok: [0xabababab, 0, 0, 0] }]);
  });
});

describe('helpers see the request of the run', () => {
  it('the same request, built on demand, as the general path gives them', async () => {
    const seen = new Map<string, unknown[]>();
    const helpers = (name: string) => (): HelperTable => new Map<number, HelperFn>([[9, (r1, _2, _3, _4, _5, env) => {
      const req = env.request!;
      const list = seen.get(name) ?? [];
      list.push({ r1, stackBase: req.stackBase, regions: req.regions, args: req.args, budget: req.budget, packet: req.packet, again: env.request === req });
      seen.set(name, list);
      return BigInt(req.regions.length);
    }]]);
    const src = 'mov r6, r1\ncall 9\nmov r1, r6\ncall 9\nexit';
    const fast = await sides(src, { budget: 7 }, { helpers: helpers('fast') });
    const loop = await sides(src, { budget: 7 }, { helpers: helpers('loop') });
    const ops = [run(bytes(1, 2, 3), 60), run(bytes()), batch([bytes(4), bytes(), bytes(5, 6)])];
    const out = ops.map((op) => [outcome(() => op(fast.fast.path)), outcome(() => op(loop.loop.path))]);
    for (const [a, b] of out) expect(a).toEqual(b);
    expect(out.map(([a]) => a)).toEqual([{ ok: [1] }, { ok: [0] }, { ok: [1, 0, 1] }]);
    expect(seen.get('fast')).toEqual(seen.get('loop'));
    expect(seen.get('fast')).toHaveLength(10);
  });

  it('map helpers check pointers into the stack and the packet against it, and fault on others', async () => {
    const maps = new Map<Runtime, ReturnType<typeof makeMap>>();
    const makeMap = (rt: Runtime) => rt.createMap({ name: 'counts', type: 'array', keySize: 4, valueSize: 8, maxEntries: 4 }).typed('u32', 'u64');
    const prepare = (rt: Runtime, program: Program): Program => {
      const counts = makeMap(rt);
      maps.set(rt, counts);
      return relocateMaps(program, [counts]);
    };
    // Packet byte 0 picks the key's place: 0 = the stack, 1 = the packet (bytes 4..7), 2 = nowhere valid.
    const src = [
      'mov %r6, %r1', 'ldxb %r3, [%r6+0]', 'ldxw %r4, [%r6+4]', 'stxw [%r10-4], %r4',
      'mov %r2, %r10', 'add %r2, -4',
      'jne %r3, 1, +2', 'mov %r2, %r6', 'add %r2, 4',
      'jne %r3, 2, +1', 'mov %r2, 64',
      'lddw map_idx %r1, 0', 'call 1', 'jeq %r0, 0, +5',
      'ldxdw %r1, [%r0+0]', 'add %r1, 1', 'stxdw [%r0+0], %r1', 'mov %r0, %r1', 'exit',
      'mov %r0, 1000', 'exit',
    ].join('\n');
    const s = await sides(src, {}, { prepare });
    const key = (where: number, k: number): Uint8Array => bytes(where, 0, 0, 0, k, 0, 0, 0);
    // The map area holds a random hash seed: memory from the path's stack on, and the map's values.
    const stackBase = (s.fast.path as unknown as { stackBase: number }).stackBase;
    const out = agree(s, [run(key(0, 1)), run(key(1, 1)), run(key(0, 9)), run(key(2, 1)), batch([key(1, 2), key(0, 2), key(2, 0), key(0, 3)])], stackBase);
    const values = (side: Side): bigint[] => [0, 1, 2, 3].map((k) => maps.get(side.rt)!.get(k)!);
    expect(values(s.fast)).toEqual([0n, 2n, 2n, 0n]);
    expect(values(s.loop)).toEqual(values(s.fast));
    expect(out).toEqual([{ ok: [1] }, { ok: [2] }, { ok: [1000] }, { fault: 'out_of_bounds', pc: 13 }, { fault: 'out_of_bounds', pc: 13, packet: 2 }]);
  });
});

describe('context mode', () => {
  // A struct of 24 bytes: data, data_end, len, a u16 EtherType at 12, a static field at 16 (read-only), a writable
  // field at 20 restored from the template before every run.
  const layout: PacketContext = { size: 24, data: [0], dataEnd: [4], len: [8], etherType: 12, writable: [{ start: 20, end: 24 }] };
  const regions = [
    { start: 0, end: 20, writable: false, name: 'ctx' },
    { start: 20, end: 24, writable: true, name: 'ctx field' },
  ];
  // r0 = len + EtherType << 8 + static << 24 + (the writable field, then bumped) << 20, plus the first packet byte.
  const src = `
    ldxw r2, [r1+0]
    ldxw r3, [r1+4]
    ldxw r0, [r1+8]
    ldxh r4, [r1+12]
    lsh r4, 8
    add r0, r4
    ldxw r4, [r1+16]
    lsh r4, 24
    add r0, r4
    ldxw r5, [r1+20]
    mov r6, r5
    add r6, 1
    stxw [r1+20], r6
    lsh r5, 20
    add r0, r5
    jge r2, r3, out
    ldxb r4, [r2+0]
    add r0, r4
  out:
    exit`;

  it('sets the per-packet fields, restores the writable ones, and agrees with the general path', async () => {
    const s = await sides(src, { context: { layout, regions } });
    for (const side of [s.fast, s.loop]) side.path.setContext((dv, at) => {
      dv.setUint32(at + 16, 3, true);
      dv.setUint32(at + 20, 5, true);
    });
    const eth = new Uint8Array(20);
    eth[12] = 0x08;
    eth[0] = 7;
    const out = agree(s, [run(eth), run(bytes(9, 9)), batch([eth, bytes(), bytes(1)]), (p) => p.runBatch({ data: eth, offsets: [0, 14, 20] })]);
    const base = (3 << 24) + (5 << 20);
    expect(out).toEqual([
      { ok: [base + 20 + (0x08 << 8) + 7] }, { ok: [base + 2 + 9] },
      { ok: [base + 20 + (0x08 << 8) + 7, base, base + 1 + 1] }, { ok: [base + 14 + (0x08 << 8) + 7, base + 6] },
    ]);
  });
});

describe('differential: random programs, the packet engine against the general path', () => {
  it('the same results, faults, packets and memory over runs and batches', async () => {
    await fc.assert(
      fc.asyncProperty(
        recipeArb({ mainLength: 8 }),
        fc.array(fc.uint8Array({ maxLength: 48 }), { minLength: 1, maxLength: 6 }),
        fc.constantFrom(20, 250),
        fc.boolean(),
        async (recipe, packets, budget, writable) => {
          const program = buildProgram(recipe);
          const options: PacketOptions = { budget: terminatesByConstruction(recipe) && budget === 250 ? undefined : budget, writable };
          const helpers = (path: () => PacketPath): HelperTable => {
            let nested = 0;
            const table = new Map(diffHelpers);
            // Runs this program again on a one-byte packet, a bounded number of times.
            table.set(HELPER_NESTED, (r1) => (nested++ < 3 ? BigInt(path().run(Uint8Array.of(Number(r1 & 0xffn)))) : 0n));
            return table;
          };
          const s = await sides(program, options, { helpers });
          agree(s, [...packets.map((p) => run(p, p.length * 3)), batch(packets), ...packets.map((p) => run(p))]);
        },
      ),
      { numRuns: 200 },
    );
  });
});
