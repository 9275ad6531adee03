// The shadow checker of the verifier's soundness test: a plain bigint interpreter of `raw` programs (r1 = input,
// r2 = its length; the engines' conventions of src/exec.ts) that checks, before every instruction, that the
// concrete state is a member of the abstract state the verifier proved there for the same call chain:
// - every register and spilled slot: scalars within their ranges and known bits, stack pointers at their
//   offsets, packet (input) pointers at their base and offset with their proven range really before the end,
//   the end pointer equal to r1 + r2, "known zero" stack bytes zero, the current frame's length relations
//   (relations.ts: `p + k·x + c <= end`) true;
// - every access the verifier proved (`VerifiedProgram.proven`) lies inside the region its base points into
//   (the stack frame, or the input, and then only a load: the input is not writable for the verifier);
// - a pc the verifier found unreachable is never reached, and a program said to terminate does.
// Unproven accesses are checked against the stack and the input, as the engines do; a failed check ends the run.

import { STACK_FRAME_SIZE, STACK_SIZE } from '../../src/exec.js';
import type { Insn } from '../../src/isa/insn.js';
import { alu, atomic, cond, endian, immOperand, loadValue, movsx, neg } from '../../src/interp/semantics.js';
import { DATA, formatRel } from '../../src/verifier/relations.js';
import { scalarContains } from '../../src/verifier/scalar.js';
import { SLOTS, type State } from '../../src/verifier/state.js';
import type { Value } from '../../src/verifier/value.js';
import type { VerifiedProgram } from '../../src/verifier/verify.js';
import { FILL_HELPER } from './gen.js';

const STACK_BASE = 0x20000;
const INPUT_BASE = 0x30000;
const MEM_SIZE = 0x40000;

/** What one shadow run found. */
export interface ShadowResult {
  readonly outcome: 'exit' | 'fault' | 'steps';
  readonly violations: string[];
  readonly steps: number;
}

interface Frame {
  regs: bigint[];
  callsite: number;
}

const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);

/** Runs `v.program` on `input`, checking every step against `v` (see the file header). */
export function shadowRun(v: VerifiedProgram, input: Uint8Array, options: { rawWritable?: boolean; maxSteps?: number } = {}): ShadowResult {
  const maxSteps = options.maxSteps ?? 100_000;
  const { program } = v;
  const mem = new Uint8Array(MEM_SIZE);
  const dv = new DataView(mem.buffer);
  mem.set(input, INPUT_BASE);
  const len = BigInt(input.length);
  const data = input.length > 0 ? BigInt(INPUT_BASE) : 0n;
  const top = (depth: number): bigint => BigInt(STACK_BASE + STACK_SIZE - depth * STACK_FRAME_SIZE);
  const frames: Frame[] = [{ regs: [0n, data, len, 0n, 0n, 0n, 0n, 0n, 0n, 0n, top(0)], callsite: -1 }];
  const violations: string[] = [];
  let steps = 0;
  let rand = 12345;

  const inStack = (a: bigint, n: number): boolean => a >= BigInt(STACK_BASE) && a + BigInt(n) <= BigInt(STACK_BASE + STACK_SIZE);
  const inInput = (a: bigint, n: number): boolean => len > 0n && a >= data && a + BigInt(n) <= data + len;

  /** Checks that concrete value `x` is a member of abstract `abs`; `vars` pins each packet base's variable part. */
  const member = (abs: Value, x: bigint, st: State, vars: Map<number, bigint>): string | undefined => {
    switch (abs.t) {
      case 'uninit': case 'any': return undefined;
      case 'scalar': {
        if (!scalarContains(abs.s, x)) return `scalar ${x} outside the abstract value`;
        if (abs.len === true && x !== len) return `length-tagged ${x} is not the length ${len}`;
        if (abs.id !== undefined && abs.id !== 0) {
          // Copies share an identity: one concrete value. (Scalar ids and packet bases share the id space.)
          const key = -1 - abs.id;
          const pinned = vars.get(key);
          if (pinned !== undefined && pinned !== x) return `copies of scalar ${abs.id} disagree (${pinned}, ${x})`;
          vars.set(key, x);
        }
        return undefined;
      }
      case 'stack': {
        if (abs.frame >= frames.length) return `stack pointer into frame ${abs.frame}, which does not exist`;
        const off = u64(x - top(abs.frame));
        return scalarContains(abs.off, off) ? undefined : `stack pointer at offset ${BigInt.asIntN(64, off)} outside the abstract offset`;
      }
      case 'pkt': {
        const base = st.pkts.get(abs.id);
        if (base === undefined) return `packet base ${abs.id} missing`;
        const varPart = BigInt.asIntN(64, x - data - BigInt(abs.fix));
        if (!scalarContains(base.var, u64(varPart))) return `packet pointer's variable part ${varPart} outside the abstract one`;
        const pinned = vars.get(abs.id);
        if (pinned !== undefined && pinned !== varPart) return `two pointers of packet base ${abs.id} disagree on its variable part (${pinned}, ${varPart})`;
        vars.set(abs.id, varPart);
        if (base.range !== -Infinity && varPart + BigInt(base.range) > len) return `packet base ${abs.id} claims ${base.range} bytes before the end, but only ${len - varPart} are`;
        return undefined;
      }
      case 'pkt_end':
        return x === data + len ? undefined : `end pointer ${x} is not input + length`;
      default:
        return undefined; // maps, context: not used by these programs
    }
  };

  /** Compares the concrete state with the verifier's state for this pc and call chain. */
  const check = (pc: number): State | undefined => {
    const chain = frames.slice(1).map((f) => f.callsite);
    const states = v.statesAt(pc);
    const at = states.find((s) => s.callChain.length === chain.length && s.callChain.every((c, i) => c === chain[i]));
    if (at === undefined) {
      violations.push(`pc ${pc}: reached in call chain [${chain.join(',')}], which the verifier found unreachable`);
      return undefined;
    }
    const st = at.state;
    const vars = new Map<number, bigint>();
    if (st.frames.length !== frames.length) violations.push(`pc ${pc}: ${frames.length} frames, the verifier has ${st.frames.length}`);
    const f = frames[frames.length - 1];
    for (let r = 0; r <= 10; r++) {
      const why = member(st.reg(r), f.regs[r], st, vars);
      if (why !== undefined) violations.push(`pc ${pc}: r${r}: ${why}`);
    }
    // Length relations (relations.ts): offset(p) + k·x + c <= length, over the integers.
    for (const rel of st.cur.rels) {
      const off = rel.p === DATA ? 0n : BigInt.asIntN(64, f.regs[rel.p] - data);
      if (off + BigInt(rel.k) * u64(f.regs[rel.x]) + BigInt(rel.c) > len) {
        violations.push(`pc ${pc}: relation ${formatRel(rel, 'input', 'input_end')} fails (offset ${off}, r${rel.x} = ${u64(f.regs[rel.x])}, length ${len})`);
      }
    }
    st.frames.forEach((af, d) => {
      if (d >= frames.length) return;
      for (let i = 0; i < SLOTS; i++) {
        const slot = af.stack[i];
        if (slot === undefined) continue;
        const addr = Number(top(d)) - 512 + 8 * i;
        if (slot.k === 'spill') {
          const why = member(slot.v, dv.getBigUint64(addr, true), st, vars);
          if (why !== undefined) violations.push(`pc ${pc}: frame ${d} slot fp${-512 + 8 * i}: ${why}`);
        } else {
          for (let b = 0; b < 8; b++) {
            if ((slot.zero >> b) & 1 && mem[addr + b] !== 0) violations.push(`pc ${pc}: frame ${d} byte fp${-512 + 8 * i + b} is said to be 0`);
          }
        }
      }
    });
    return st;
  };

  /** An access of `n` bytes at `a`: checked like the engines; a proven one also against its abstract region. */
  const access = (insn: Insn, st: State | undefined, baseReg: number, a: bigint, n: number, write: boolean): boolean => {
    if (v.proven.has(insn.pc) && st !== undefined) {
      const base = st.reg(baseReg);
      if (base.t === 'stack') {
        const t = top(base.frame);
        if (!(a >= t - 512n && a + BigInt(n) <= t)) violations.push(`pc ${insn.pc}: proven stack access at ${a} outside frame ${base.frame}`);
      } else if (base.t === 'pkt' || base.t === 'pkt_end') {
        if (!inInput(a, n)) violations.push(`pc ${insn.pc}: proven input access at ${a}+${n} outside the input (${data}, ${len})`);
        if (write && options.rawWritable !== true) violations.push(`pc ${insn.pc}: proven store into the input, which the verifier was told is read-only`);
      } else violations.push(`pc ${insn.pc}: proven access through ${base.t}`);
    }
    return inStack(a, n) || (inInput(a, n) && true);
  };

  for (let pc = 0; ; ) {
    if (++steps > maxSteps) {
      if (v.terminates) violations.push(`the verifier says the program terminates, but it ran ${maxSteps} steps`);
      return { outcome: 'steps', violations, steps };
    }
    if (pc >= program.slotCount) return { outcome: 'fault', violations, steps };
    const insn = program.insns[program.indexOfPc[pc]];
    const st = check(pc);
    if (violations.length > 20) return { outcome: 'fault', violations, steps };
    const R = frames[frames.length - 1].regs;
    let next = pc + 1;
    switch (insn.kind) {
      case 'alu': {
        const src = insn.src.kind === 'imm' ? immOperand(insn.src.imm) : R[insn.src.reg];
        R[insn.dst] = alu(insn.op, insn.width, R[insn.dst], src);
        break;
      }
      case 'neg': R[insn.dst] = neg(insn.width, R[insn.dst]); break;
      case 'movsx': R[insn.dst] = movsx(insn.width, insn.bits, R[insn.src]); break;
      case 'endian': R[insn.dst] = endian(insn.order, insn.bits, R[insn.dst]); break;
      case 'lddw': R[insn.dst] = insn.value; next = pc + 2; break;
      case 'load': {
        const a = u64(R[insn.base] + BigInt(insn.off));
        if (!access(insn, st, insn.base, a, insn.size, false)) return { outcome: 'fault', violations, steps };
        const raw = insn.size === 8 ? dv.getBigUint64(Number(a), true) : BigInt(insn.size === 4 ? dv.getUint32(Number(a), true) : insn.size === 2 ? dv.getUint16(Number(a), true) : mem[Number(a)]);
        R[insn.dst] = loadValue(raw, insn.size, insn.signed);
        break;
      }
      case 'store': {
        const a = u64(R[insn.base] + BigInt(insn.off));
        if (!access(insn, st, insn.base, a, insn.size, true)) return { outcome: 'fault', violations, steps };
        const val = insn.value.kind === 'imm' ? immOperand(insn.value.imm) : R[insn.value.reg];
        write(dv, Number(a), insn.size, val);
        break;
      }
      case 'atomic': {
        const a = u64(R[insn.base] + BigInt(insn.off));
        if (!access(insn, st, insn.base, a, insn.size, true) || a % BigInt(insn.size) !== 0n) return { outcome: 'fault', violations, steps };
        const old = insn.size === 8 ? dv.getBigUint64(Number(a), true) : BigInt(dv.getUint32(Number(a), true));
        const out = atomic(insn.op, insn.size, old, R[insn.src], R[0]);
        write(dv, Number(a), insn.size, out.stored);
        if (insn.op === 'cmpxchg') R[0] = out.fetched;
        else if (insn.fetch) R[insn.src] = out.fetched;
        break;
      }
      case 'ldpkt': {
        const off = insn.index === null ? BigInt(insn.imm) : BigInt.asIntN(32, R[insn.index] + BigInt(insn.imm));
        if (off < 0n || off + BigInt(insn.size) > len) return { outcome: 'exit', violations, steps };
        let x = 0n;
        for (let i = 0; i < insn.size; i++) x = (x << 8n) | BigInt(mem[Number(data + off) + i]);
        R[0] = x;
        break;
      }
      case 'ja': next = insn.target; break;
      case 'jcond': {
        const src = insn.src.kind === 'imm' ? immOperand(insn.src.imm) : R[insn.src.reg];
        if (cond(insn.cond.op, insn.cond.width, R[insn.dst], src)) next = insn.target;
        break;
      }
      case 'call': {
        const t = insn.target;
        if (t.kind === 'local') {
          if (frames.length >= 8) return { outcome: 'fault', violations, steps };
          const regs = [...R];
          regs[10] = top(frames.length);
          frames.push({ regs, callsite: pc });
          next = t.pc;
        } else if (t.kind === 'helper') {
          if (t.id === 5) R[0] = BigInt(steps) * 1000n;
          else if (t.id === 7) R[0] = BigInt((rand = (rand * 1103515245 + 12345) >>> 0));
          else if (t.id === FILL_HELPER) {
            const n = Number(R[2] > 16n ? 16n : R[2]);
            if (inStack(R[1], n) || inInput(R[1], n)) {
              for (let i = 0; i < n; i++) mem[Number(R[1]) + i] = (steps * 7 + i * 13) & 0xff;
              R[0] = 0n;
            } else R[0] = u64(-14n);
          } else return { outcome: 'fault', violations, steps };
        } else return { outcome: 'fault', violations, steps };
        break;
      }
      case 'callx':
        return { outcome: 'fault', violations, steps };
      case 'exit': {
        if (frames.length === 1) return { outcome: 'exit', violations, steps };
        const callee = frames.pop()!;
        const caller = frames[frames.length - 1];
        for (let r = 0; r <= 5; r++) caller.regs[r] = callee.regs[r];
        next = callee.callsite + 1;
        break;
      }
    }
    pc = next;
  }
}

function write(dv: DataView, a: number, size: number, v: bigint): void {
  if (size === 8) dv.setBigUint64(a, u64(v), true);
  else if (size === 4) dv.setUint32(a, Number(v & 0xffff_ffffn), true);
  else if (size === 2) dv.setUint16(a, Number(v & 0xffffn), true);
  else dv.setUint8(a, Number(v & 0xffn));
}
