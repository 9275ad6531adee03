/**
 * The verifier's log: the program, one instruction a line, with the state proven before each instruction (what
 * every initialised register and stack slot holds, and the length relations between registers), like PREVAIL's
 * invariants, and a mark on each memory access saying whether it is proven (no run-time check) or checked at run
 * time.
 *
 *     ; raw program, strict mode: accepted, 3 of 3 memory accesses proven, every loop terminates
 *     ;   r1 = pkt  r2 = [0, 0xffffffff] (input length)  r10 = fp
 *        0: mov %r3, %r1
 *     ;   r1 = pkt  r2 = [0, 0xffffffff] (input length)  r3 = pkt  r10 = fp
 *        ...
 *        7: ldxb %r4, [%r1]                     ; proven
 *
 * A function analysed in several calling contexts shows one state line per context, tagged with its call chain
 * (`[call 2]`, `[call 2 → 14]`). Source lines (with `-g` objects) print above the instructions they start.
 *
 * Not here: the analysis, error messages (explain.ts).
 */

import { disassembleInsn } from '../isa/disasm.js';
import { RAW_LENGTH, formatRel, type LenRel } from './relations.js';
import { scalarConstValue } from './scalar.js';
import { SLOTS, type State } from './state.js';
import { formatValue, type NameContext } from './value.js';
import type { VerifiedProgram } from './verify.js';

/** One state as `r1 = ctx  r2 = pkt+14  fp-8 = 0  fp-16..-13 = init`. */
export function formatState(st: State, names: NameContext): string {
  const parts: string[] = [];
  const pkt = (id: number) => st.pkts.get(id);
  for (let r = 0; r <= 10; r++) {
    const v = st.reg(r);
    if (v.t === 'uninit') continue;
    if (r === 10 && v.t === 'stack' && scalarConstValue(v.off) === 0n) {
      parts.push('r10 = fp');
      continue;
    }
    parts.push(`r${r} = ${formatValue(v, names, st.depth, pkt)}`);
  }
  const f = st.cur;
  for (let i = SLOTS - 1; i >= 0; i--) {
    const slot = f.stack[i];
    if (slot === undefined) continue;
    const off = -512 + 8 * i;
    if (slot.k === 'spill') parts.push(`fp${off} = ${formatValue(slot.v, names, st.depth, pkt)}`);
    else if (slot.init === 0xff && slot.zero === 0xff) parts.push(`fp${off} = 0`);
    else {
      // Runs of initialised bytes, e.g. fp-16..-13.
      for (let b = 0; b < 8; ) {
        if (((slot.init >> b) & 1) === 0) {
          b++;
          continue;
        }
        let e = b;
        while (e + 1 < 8 && ((slot.init >> (e + 1)) & 1) === 1) e++;
        const zero = ((slot.zero >> b) & ((1 << (e - b + 1)) - 1)) === (1 << (e - b + 1)) - 1;
        parts.push(`fp${off + b}${e > b ? `..${off + e}` : ''} = ${zero ? '0' : 'init'}`);
        b = e + 1;
      }
    }
  }
  // Length relations (relations.ts), but for the one every raw program starts with: `(input length)` says it.
  const isLength = (r: LenRel): boolean => r.p === RAW_LENGTH.p && r.k === 1 && r.c === 0 && (st.reg(r.x) as { len?: boolean }).len === true;
  const rels = f.rels.filter((r) => !isLength(r));
  if (rels.length > 0) parts.push(`with ${rels.map((r) => formatRel(r, names.type === 'raw' ? 'input' : 'pkt', names.type === 'raw' ? 'input_end' : 'pkt_end')).join(', ')}`);
  if (st.refs.size > 0) parts.push(`held: ${[...st.refs.values()].map((r) => `ringbuf reservation from pc ${r.origin}${r.maybe ? ' (on some paths)' : ''}`).join(', ')}`);
  return parts.join('  ');
}

/** The whole log (see the file header). */
export function renderLog(v: VerifiedProgram): string {
  const names = { maps: v.maps, type: v.type };
  const width = String(Math.max(0, v.program.slotCount - 1)).length;
  const lines: string[] = [];
  const pct = v.accesses.size === 0 ? '' : ` (${Math.round((100 * v.proven.size) / v.accesses.size)}%)`;
  lines.push(
    `; ${v.type} program, ${v.mode} mode: accepted, ${v.proven.size} of ${v.accesses.size} memory accesses proven${pct}, ` +
      (v.terminates ? 'every loop terminates' : `termination not proven (${v.unprovenLoop?.detail ?? 'a loop'}): runs need a budget`),
  );
  let lastSource: string | undefined;
  for (const insn of v.program.insns) {
    const src = v.source(insn.pc);
    if (src !== undefined && src !== lastSource) lines.push(`; ${src}`);
    lastSource = src;
    const states = v.statesAt(insn.pc);
    if (states.length === 0) lines.push(';   unreachable');
    for (const s of states) {
      const tag = s.callChain.length === 0 ? '' : `[call ${s.callChain.join(' → ')}] `;
      lines.push(`;   ${tag}${formatState(s.state, names)}`);
    }
    let text = `${String(insn.pc).padStart(width + 2)}: ${disassembleInsn(insn)}`;
    if (v.accesses.has(insn.pc)) text = text.padEnd(48) + (v.proven.has(insn.pc) ? '; proven' : '; checked at run time');
    lines.push(text);
  }
  return lines.join('\n') + '\n';
}
