/**
 * A reference classic BPF interpreter for the tests: executes a `struct sock_filter` program on a packet the way
 * the Linux kernel runs a socket filter, written independently of src/cbpf/convert.ts.
 *
 * Semantics: A, X and M[0..15] are u32, A = X = 0 at the start; packet loads are big-endian, at offset k (ABS)
 * or X + k (IND) taken as a signed 32-bit number, and a load with any byte outside the packet ends the filter
 * with 0; `len` is the packet's length; ALU is 32-bit, shifts by X use its low 5 bits, division or modulo by
 * X = 0 ends the filter with 0; jumps compare unsigned.
 *
 * Not here: validation (the programs it runs have passed `checkClassic`).
 */

import type { ClassicInsn } from '../../src/cbpf/insn.js';

class OutOfPacket extends Error {}

/** The value the program returns for `pkt` (the number of bytes to accept). */
export function runClassicOracle(insns: readonly ClassicInsn[], pkt: Uint8Array): number {
  try {
    return execute(insns, pkt);
  } catch (e) {
    if (e instanceof OutOfPacket) return 0;
    throw e;
  }
}

function load(pkt: Uint8Array, offset: number, size: 1 | 2 | 4): number {
  const off = offset | 0;
  if (off < 0 || off + size > pkt.length) throw new OutOfPacket();
  let v = 0;
  for (let i = 0; i < size; i++) v = v * 256 + pkt[off + i];
  return v;
}

function alu(op: number, a: number, b: number): number | 'div0' {
  switch (op) {
    case 0x00: return (a + b) >>> 0;
    case 0x10: return (a - b) >>> 0;
    case 0x20: return Math.imul(a, b) >>> 0;
    case 0x30: return b === 0 ? 'div0' : Math.floor(a / b);
    case 0x40: return (a | b) >>> 0;
    case 0x50: return (a & b) >>> 0;
    case 0x60: return (a << (b & 31)) >>> 0;
    case 0x70: return a >>> (b & 31);
    case 0x90: return b === 0 ? 'div0' : a % b;
    case 0xa0: return (a ^ b) >>> 0;
  }
  throw new Error(`oracle: ALU op 0x${op.toString(16)}`);
}

function execute(insns: readonly ClassicInsn[], pkt: Uint8Array): number {
  let A = 0, X = 0, pc = 0;
  const M = new Uint32Array(16);
  const SIZES: Record<number, 1 | 2 | 4> = { 0x00: 4, 0x08: 2, 0x10: 1 };
  for (;;) {
    const { code, jt, jf, k } = insns[pc++];
    const cls = code & 7;
    switch (cls) {
      case 0: case 1: { // LD, LDX
        const mode = code & 0xe0, size = SIZES[code & 0x18];
        let v: number;
        if (mode === 0x00) v = k >>> 0;
        else if (mode === 0x20) v = load(pkt, k, size);
        else if (mode === 0x40) v = load(pkt, (X + k) | 0, size);
        else if (mode === 0x60) v = M[k];
        else if (mode === 0x80) v = pkt.length;
        else v = (load(pkt, k, 1) & 0xf) * 4; // MSH
        if (cls === 0) A = v;
        else X = v;
        break;
      }
      case 2: M[k] = A; break;
      case 3: M[k] = X; break;
      case 4: {
        const op = code & 0xf0;
        if (op === 0x80) { A = (-A) >>> 0; break; }
        const r = alu(op, A, code & 0x08 ? X : k >>> 0);
        if (r === 'div0') return 0;
        A = r;
        break;
      }
      case 5: {
        const op = code & 0xf0, b = code & 0x08 ? X : k >>> 0;
        if (op === 0x00) { pc += k; break; }
        const taken = op === 0x10 ? A === b : op === 0x20 ? A > b : op === 0x30 ? A >= b : (A & b) !== 0;
        pc += taken ? jt : jf;
        break;
      }
      case 6: return (code & 0x18) === 0x10 ? A : k >>> 0;
      case 7: if (code & 0x80) A = X; else X = A; break;
    }
  }
}
