// Fuzzing the verifier: mutated and random bytecode, every program type and mode. Whatever it is given, `verify`
// returns a result or throws a `VerifierError`: never another error (an `InternalError` would be a verifier bug),
// never a hang (a bounded number of instruction visits, then `too_complex`). Programs it accepts in permissive
// mode also go through the log rendering. Mutants come from the conformance programs, the corpus, the generator
// and the ELF fixtures.

import { expect, test } from 'vitest';
import { InvalidProgramError, VerifierError } from '../../src/errors.js';
import { loadSuite, testProgram } from '../../src/conformance/data.js';
import { decode } from '../../src/isa/decode.js';
import { encode } from '../../src/isa/encode.js';
import { assemble } from '../../src/isa/asm.js';
import type { Program } from '../../src/isa/program.js';
import type { MapSpec } from '../../src/elf/maps.js';
import { PROGRAM_TYPES } from '../../src/verifier/context.js';
import { renderLog } from '../../src/verifier/log.js';
import { verify } from '../../src/verifier/verify.js';
import { ALL_OBJECTS, loadFixture } from '../elf/fixtures.js';
import { CASES, MAPS, marked } from './corpus.js';
import { Rng, genProgram } from './gen.js';

function sources(): Array<{ program: Program; maps: readonly MapSpec[] }> {
  const out: Array<{ program: Program; maps: readonly MapSpec[] }> = [];
  for (const t of loadSuite().tests) out.push({ program: testProgram(t), maps: [] });
  for (const c of CASES) out.push({ program: assemble(marked(c.asm).text), maps: MAPS });
  for (let seed = 1; seed <= 100; seed++) out.push({ program: assemble(genProgram(seed, seed % 2 === 0)), maps: [] });
  for (const name of ALL_OBJECTS) {
    try {
      const o = loadFixture(name);
      for (const p of o.programs) out.push({ program: p.program, maps: o.maps });
    } catch (e) {
      if (!(e instanceof InvalidProgramError)) throw e;
    }
  }
  return out;
}

/** One or two random edits of a program's bytes. */
function mutate(bytes: Uint8Array, rng: Rng): Uint8Array {
  let b = bytes.slice();
  for (let k = rng.int(1, 2); k > 0; k--) {
    const slots = b.length / 8;
    const s = rng.int(0, Math.max(0, slots - 1));
    switch (rng.int(0, 5)) {
      case 0: b[s * 8 + rng.int(0, 7)] ^= 1 << rng.int(0, 7); break; // a bit
      case 1: b[s * 8 + rng.int(0, 7)] = rng.int(0, 255); break; // a byte
      case 2: b[s * 8 + 1] = rng.int(0, 255); break; // the registers
      case 3: { // an offset
        const off = rng.pick([0, 1, -1, 2, -2, 8, -8, 0x7fff, -0x8000, rng.int(-600, 600)]);
        b[s * 8 + 2] = off & 0xff;
        b[s * 8 + 3] = (off >> 8) & 0xff;
        break;
      }
      case 4: { // a slot duplicated or dropped
        const copy = new Uint8Array(b.length + (rng.chance(0.5) ? 8 : -8));
        if (copy.length < 8) break;
        if (copy.length > b.length) copy.set([...b.subarray(0, (s + 1) * 8), ...b.subarray(s * 8)]);
        else copy.set([...b.subarray(0, s * 8), ...b.subarray((s + 1) * 8)]);
        b = copy;
        break;
      }
      default: { // an immediate
        const imm = rng.pick([0, 1, -1, 5, 7, 12, 131, 181, 0x7fffffff, rng.next() | 0]);
        new DataView(b.buffer).setInt32(s * 8 + 4, imm, true);
      }
    }
  }
  return b;
}

test('mutated and random bytecode: a result or a VerifierError, promptly', () => {
  const rng = new Rng(0x5eed);
  const pool = sources();
  const stats = { decoded: 0, accepted: 0, rejected: 0 };
  const codes = new Set<string>();
  let slowest = 0;
  for (let i = 0; i < 10_000; i++) {
    const bytes = i % 10 === 9 ? new Uint8Array(8 * rng.int(1, 12)).map(() => rng.int(0, 255)) : mutate(encode(rng.pick(pool).program), rng);
    let program: Program;
    try {
      program = decode(bytes);
    } catch (e) {
      if (e instanceof InvalidProgramError) continue;
      throw e;
    }
    stats.decoded++;
    const source = rng.pick(pool);
    const options = {
      mode: rng.chance(0.5) ? 'strict' : 'permissive',
      type: rng.pick(PROGRAM_TYPES),
      maps: rng.chance(0.7) ? MAPS : source.maps,
      helpers: rng.chance(0.3) ? [5, 7] : undefined,
      rawWritable: rng.chance(0.5),
      maxSteps: 50_000,
    } as const;
    const t0 = performance.now();
    try {
      const v = verify(program, options);
      stats.accepted++;
      if (options.mode === 'permissive') expect(renderLog(v).length).toBeGreaterThan(0);
    } catch (e) {
      if (!(e instanceof VerifierError)) {
        throw new Error(`iteration ${i}: ${e instanceof Error ? e.stack : String(e)}\nprogram: ${Buffer.from(bytes).toString('hex')}\noptions: ${JSON.stringify(options)}`);
      }
      expect(e.message).toMatch(e.pc === undefined ? /\S/ : new RegExp(`^pc ${e.pc}: `));
      stats.rejected++;
      codes.add(e.code);
    }
    slowest = Math.max(slowest, performance.now() - t0);
  }
  console.log(`fuzz: ${stats.decoded} programs decoded, ${stats.accepted} accepted, ${stats.rejected} rejected (${[...codes].sort().join(', ')}); slowest ${slowest.toFixed(0)} ms`);
  expect(stats.decoded).toBeGreaterThan(2500);
  expect(stats.accepted).toBeGreaterThan(1000);
  expect(codes.size).toBeGreaterThan(10);
  expect(slowest).toBeLessThan(5000);
}, 120_000);
