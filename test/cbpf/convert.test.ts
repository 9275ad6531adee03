// The converter to eBPF (src/cbpf/convert.ts): every classic opcode, with edge values, gives on both engines
// what the reference interpreter (oracle.ts) gives; random classic programs agree with the oracle on random
// packets; every converted program passes the strict verifier; dead classic code is dropped.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CLASSIC_OPCODES, checkClassic } from '../../src/cbpf/check.js';
import { classicToEbpf } from '../../src/cbpf/convert.js';
import {
  BPF_A, BPF_ABS, BPF_ALU, BPF_B, BPF_H, BPF_IMM, BPF_IND, BPF_JMP, BPF_K, BPF_LD, BPF_LDX, BPF_LEN, BPF_MEM,
  BPF_MISC, BPF_MSH, BPF_RET, BPF_ST, BPF_STX, BPF_TAX, BPF_TXA, BPF_W, bpfClass, bpfMode, bpfOp, type ClassicInsn,
} from '../../src/cbpf/insn.js';
import type { Program } from '../../src/isa/program.js';
import { verify } from '../../src/verifier/verify.js';
import { ENGINES, type EngineName } from '../../runtime/engines.js';
import { Runtime } from '../../runtime/runtime.js';
import { runClassicOracle } from './oracle.js';

const I = (code: number, k = 0, jt = 0, jf = 0): ClassicInsn => ({ code, jt, jf, k: k >>> 0 });
const ldImm = (v: number) => I(BPF_LD | BPF_IMM, v);
const ldxImm = (v: number) => I(BPF_LDX | BPF_W | BPF_IMM, v);
const retA = I(BPF_RET | BPF_A);
const retK = (k: number) => I(BPF_RET | BPF_K, k);

const runtimes = new Map<EngineName, Runtime>(ENGINES.map((e) => [e, new Runtime()]));

/** r0 of the converted program on each engine, one result per packet. */
async function onEngines(program: Program, packets: Uint8Array[]): Promise<Map<EngineName, number[]>> {
  const out = new Map<EngineName, number[]>();
  for (const engine of ENGINES) {
    const lp = await runtimes.get(engine)!.load(program, { engine, verify: 'strict' });
    out.set(engine, [...lp.runBatch(packets)]);
  }
  return out;
}

async function expectAgree(insns: ClassicInsn[], packets: Uint8Array[]): Promise<number[]> {
  const expected = packets.map((p) => runClassicOracle(insns, p));
  for (const [engine, got] of await onEngines(classicToEbpf(insns), packets)) {
    expect({ engine, got }).toEqual({ engine, got: expected });
  }
  return expected;
}

/** A 64-byte packet whose byte i is `i * 7 + 1` (so loads give distinct known values), and shorter cuts. */
const PACKET = Uint8Array.from({ length: 64 }, (_, i) => (i * 7 + 1) & 0xff);
const PACKETS = [PACKET, PACKET.subarray(0, 14), PACKET.subarray(0, 1), new Uint8Array(0), Uint8Array.from({ length: 64 }, () => 0xff)];

/** Edge values for A, X and k. */
const VALUES = [0, 1, 2, 3, 13, 31, 32, 33, 60, 63, 64, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

/** Programs exercising one opcode with A = a, X = x and immediate k. */
function programsFor(code: number): ClassicInsn[][] {
  const cls = bpfClass(code), out: ClassicInsn[][] = [];
  for (const a of VALUES) {
    for (const x of [0, 1, 3, 31, 32, 60, 0xffffffff, 0xfffffffe]) {
      const setup = [ldImm(a), ldxImm(x)];
      switch (cls) {
        case BPF_LD: case BPF_LDX: {
          const mode = bpfMode(code);
          const ks = mode === BPF_MEM ? [0, 15] : mode === BPF_IMM ? [a] : mode === BPF_LEN ? [0] : [0, 1, 13, 60, 62, 63, 64, 0xffffffff, 0x80000000];
          for (const k of ks) {
            const store = mode === BPF_MEM ? [I(BPF_STX, k)] : [];
            out.push([...setup, ...store, I(code, k), ...(cls === BPF_LDX ? [I(BPF_MISC | BPF_TXA)] : []), retA]);
          }
          break;
        }
        case BPF_ST: out.push([...setup, I(code, 7), ldImm(5), I(BPF_LD | BPF_MEM, 7), retA]); break;
        case BPF_STX: out.push([...setup, I(code, 15), I(BPF_LD | BPF_MEM, 15), retA]); break;
        case BPF_ALU: {
          const ks = (code & 0x08) !== 0 ? [0] : VALUES.filter((k) => !((bpfOp(code) === 0x30 || bpfOp(code) === 0x90) && k === 0) && !((bpfOp(code) === 0x60 || bpfOp(code) === 0x70) && k >= 32));
          for (const k of ks) out.push([...setup, I(code, k), retA]);
          break;
        }
        case BPF_JMP:
          if (bpfOp(code) === 0) out.push([...setup, I(code, 1), retK(1), retK(2)]);
          else for (const k of [a, x, 1, 0x80000000]) out.push([...setup, I(code, k, 1, 0), retK(10), retK(20)], [...setup, I(code, k, 0, 1), retK(10), retK(20)], [...setup, I(code, k, 1, 2), retK(10), retK(20), retK(30)]);
          break;
        case BPF_RET: out.push([...setup, I(code, a)]); break;
        case BPF_MISC: out.push([...setup, I(code), code === (BPF_MISC | BPF_TAX) ? I(BPF_MISC | BPF_TXA) : I(BPF_ALU | 0x00, 0), retA]); break;
      }
    }
  }
  return out;
}

describe('the reference interpreter', () => {
  it('computes known results', () => {
    expect(runClassicOracle([ldImm(5), I(BPF_ALU | 0x00, 3), retA], PACKET)).toBe(8);
    expect(runClassicOracle([I(BPF_LD | BPF_H | BPF_ABS, 1), retA], PACKET)).toBe((8 << 8) | 15);
    expect(runClassicOracle([I(BPF_LD | BPF_W | BPF_ABS, 61), retA], PACKET)).toBe(0); // bytes 61..64: out
    expect(runClassicOracle([I(BPF_LDX | BPF_B | BPF_MSH, 2), I(BPF_MISC | BPF_TXA), retA], PACKET)).toBe((15 & 0xf) * 4);
    expect(runClassicOracle([ldImm(7), ldxImm(0), I(BPF_ALU | 0x30 | 0x08), retK(9)], PACKET)).toBe(0); // A / 0
    expect(runClassicOracle([ldImm(1), ldxImm(33), I(BPF_ALU | 0x60 | 0x08), retA], PACKET)).toBe(2); // 1 << (33 & 31)
    expect(runClassicOracle([ldImm(0), I(BPF_ALU | 0x80), retA], PACKET)).toBe(0);
    expect(runClassicOracle([ldImm(1), I(BPF_ALU | 0x80), retA], PACKET)).toBe(0xffffffff);
    expect(runClassicOracle([ldImm(0x80000000), I(BPF_JMP | 0x20, 1, 1, 0), retK(1), retK(2)], PACKET)).toBe(2); // unsigned
    expect(runClassicOracle([I(BPF_LD | BPF_W | BPF_LEN), retA], PACKET.subarray(0, 14))).toBe(14);
  });
});

describe('classicToEbpf on both engines', () => {
  const codes = [...CLASSIC_OPCODES].sort((a, b) => a - b);
  it('covers every classic opcode', () => {
    expect(codes).toHaveLength(49); // the kernel's table: 21 ALU, 13 loads, 2 stores, 9 jumps, 2 RET, TAX and TXA
    for (const code of codes) expect(programsFor(code).length).toBeGreaterThan(0);
  });

  it.each(codes.map((c) => [`0x${c.toString(16).padStart(2, '0')}`, c]))('opcode %s: engines equal the reference on edge values', async (_, code) => {
    const programs = programsFor(code);
    // One converted program per variant would compile hundreds of modules: sample a spread of them.
    const step = Math.max(1, Math.floor(programs.length / 12));
    for (let i = 0; i < programs.length; i += step) await expectAgree(programs[i], PACKETS);
  }, 60_000);

  it('LD IND wraps X + k in 32 bits and a negative sum is out of the packet', async () => {
    const ind = (x: number, k: number) => [ldxImm(x), I(BPF_LD | BPF_B | BPF_IND, k), retA];
    expect(await expectAgree(ind(0xffffffff, 5), [PACKET])).toEqual([PACKET[4]]);
    expect(await expectAgree(ind(0x7fffffff, 1), [PACKET])).toEqual([0]);
    expect(await expectAgree(ind(10, 0xfffffffb), [PACKET])).toEqual([PACKET[5]]);
  });

  it('drops classic code that no path reaches', () => {
    const p = classicToEbpf([I(BPF_JMP, 1), ldImm(3), retK(1)]);
    expect(p.insns.some((i) => i.kind === 'alu' && i.src.kind === 'imm' && i.src.imm === 3)).toBe(false);
    expect(() => verify(p, { mode: 'strict' })).not.toThrow();
  });

  it('random classic programs: both engines equal the reference, and the strict verifier accepts them', async () => {
    await fc.assert(
      fc.asyncProperty(programArb, fc.array(fc.uint8Array({ maxLength: 80 }), { minLength: 1, maxLength: 8 }), async (insns, packets) => {
        checkClassic(insns);
        verify(classicToEbpf(insns), { mode: 'strict' });
        await expectAgree(insns, [...packets, PACKET]);
      }),
      { numRuns: 200 },
    );
  }, 300_000);
});

/** Any classic instruction but RET and jumps, with k suited to its opcode. */
const LINEAR_CODES = [...CLASSIC_OPCODES].filter((c) => bpfClass(c) !== BPF_JMP && bpfClass(c) !== BPF_RET);
const JUMP_CODES = [...CLASSIC_OPCODES].filter((c) => bpfClass(c) === BPF_JMP);

const kFor = (code: number, r: number): number => {
  const cls = bpfClass(code), mode = bpfMode(code), op = bpfOp(code);
  if (cls === BPF_ST || cls === BPF_STX || ((cls === BPF_LD || cls === BPF_LDX) && mode === BPF_MEM)) return r % 16;
  if ((cls === BPF_LD || cls === BPF_LDX) && (mode === BPF_ABS || mode === BPF_IND || mode === BPF_MSH)) return r % 3 === 0 ? r >>> 0 : r % 90;
  if (cls === BPF_ALU && (op === 0x30 || op === 0x90)) return r === 0 ? 1 : r >>> 0;
  if (cls === BPF_ALU && (op === 0x60 || op === 0x70)) return r % 32;
  return r >>> 0;
};

type Recipe = { jump: boolean; pick: number; r: number; jt: number; jf: number };
const recipeArb: fc.Arbitrary<Recipe> = fc.record({
  jump: fc.boolean(), pick: fc.nat(), r: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.nat({ max: 0xffffffff }), fc.constantFrom(0, 0x80000000, 0xffffffff)),
  jt: fc.nat({ max: 255 }), jf: fc.nat({ max: 255 }),
});

/** A valid program: M[0..15] initialised first (so loads of any slot are allowed), a random body, RET at the end. */
const programArb: fc.Arbitrary<ClassicInsn[]> = fc.tuple(fc.array(fc.nat({ max: 0xffffffff }), { minLength: 16, maxLength: 16 }), fc.array(recipeArb, { minLength: 1, maxLength: 40 }), fc.boolean())
  .map(([init, body, retWithA]) => {
    const prefix = init.flatMap((v, i) => [ldImm(v), I(BPF_ST, i)]);
    const total = prefix.length + body.length + 3;
    const insns = [...prefix];
    body.forEach((r) => {
      const at = insns.length, room = total - at - 2; // targets up to the last instruction
      if (r.jump) {
        const code = JUMP_CODES[r.pick % JUMP_CODES.length];
        if (bpfOp(code) === 0) insns.push(I(code, r.r % room));
        else insns.push(I(code, r.r >>> 0, r.jt % room, r.jf % room));
      } else {
        const code = LINEAR_CODES[r.pick % LINEAR_CODES.length];
        insns.push(I(code, kFor(code, r.r)));
      }
    });
    insns.push(retK(0x40000), ldImm(init[0] & 0xff), retWithA ? retA : retK(7));
    return insns;
  });

describe('programs of the sizes tcpdump makes', () => {
  it('converts loads of every width at the end of the packet', async () => {
    for (const size of [BPF_W, BPF_H, BPF_B]) {
      const prog = [I(BPF_LD | size | BPF_ABS, 60), retA];
      await expectAgree(prog, [PACKET, PACKET.subarray(0, 62), PACKET.subarray(0, 61), PACKET.subarray(0, 60)]);
    }
  });
});
