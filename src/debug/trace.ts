/**
 * Stepper events as trace text, one line per executed instruction (what `ebpf-wasm run --trace` prints):
 *
 *        1: ldxw %r2, [%r1]                  r2=0x3 (was 0x4)
 *        5: jne %r2, 0, -3                   taken -> 3
 *        6: stxw [%r10-4], %r0               [0x20ffc] <- 4 bytes 06000000
 *        8: call 1                           call bpf_map_lookup_elem(0x6, 0x0) = 0xc
 *        9: call local +1                    call -> 11 (depth 1); r10=0x20e00 (was 0x21000)
 *       11:   mov %r6, 99                    r6=0x63 (was 0x28000)
 *       13:   exit                           return -> 10 (depth 0); r6=0x28000 (was 0x63); r10=0x21000 (was 0x20e00)
 *       10: exit                             exit: r0 = 0xd
 *        1: ldxw %r0, [%r1+8]                FAULT out_of_bounds: load of 4 bytes at 0x28008 is outside every region
 *
 * The pc, the disassembly (indented two spaces per call depth), then what the instruction did: registers
 * changed (with the old value), bytes stored, the helper called with its arguments and result, whether a
 * conditional jump was taken, local calls and returns with the depth, the end of the run or the fault.
 *
 * Not here: executing (stepper.ts), the CLI's options (src/cli).
 */

import type { HelperCall, StepEvent } from './stepper.js';

const hex = (v: bigint | number): string => '0x' + v.toString(16);

/** Options of {@link formatEvent}. */
export interface TraceFormat {
  /** Width the pc is right-aligned to (default 4). */
  readonly pcWidth?: number;
  /** Width of the disassembly column, indentation included (default 32). */
  readonly textWidth?: number;
}

/** A helper call as `call bpf_map_lookup_elem(0x1, 0x20ff8) = 0x0` (`call helper 9(...)` without a name). */
export function formatHelperCall(h: HelperCall): string {
  const name = h.name ?? `helper ${h.id}`;
  const args = h.args.slice(0, h.arity ?? h.args.length).map(hex).join(', ');
  return h.unwound ? `call ${name}(${args}) unwound the program with r0 = ${hex(h.result)}` : `call ${name}(${args}) = ${hex(h.result)}`;
}

/** The bytes of a memory write as hex, in memory order. */
function bytesHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/** What an event did, as `; `-separated phrases (empty when the instruction changed nothing visible). */
export function describeEffects(event: StepEvent): string {
  if (event.kind === 'fault') {
    const e = event.error;
    // A helper's fault may name another pc (a nested run's): say which.
    return `FAULT ${e.code}: ${e.pc !== undefined && e.pc !== event.pc ? e.message : e.detail}`;
  }
  const parts: string[] = [];
  if (event.call) parts.push(`call -> ${event.call.target} (depth ${event.call.depth})`);
  if (event.ret) parts.push(`return -> ${event.ret.to} (depth ${event.ret.depth})`);
  if (event.helper) parts.push(formatHelperCall(event.helper));
  if (event.jump && event.insn.kind === 'jcond') parts.push(event.jump.taken ? `taken -> ${event.jump.target}` : 'not taken');
  for (const c of event.regs) {
    // A helper's r0 is in its call phrase; a packet load that ends the run says so below.
    if (c.reg === 0 && (event.helper !== undefined || (event.kind === 'done' && event.reason === 'packet'))) continue;
    parts.push(`r${c.reg}=${hex(c.new)} (was ${hex(c.old)})`);
  }
  for (const w of event.writes) parts.push(`[${hex(w.addr)}] <- ${w.size} byte${w.size === 1 ? '' : 's'} ${bytesHex(w.bytes)}`);
  if (event.kind === 'done') {
    if (event.reason === 'exit') parts.push(`exit: r0 = ${hex(event.r0)}`);
    else if (event.reason === 'packet') parts.push(`packet load out of bounds: the program ends with r0 = 0x0`);
  }
  return parts.join('; ');
}

/** One trace line for `event` (see the file header). */
export function formatEvent(event: StepEvent, format: TraceFormat = {}): string {
  const pc = String(event.pc).padStart(format.pcWidth ?? 4);
  const text = ('  '.repeat(event.depth) + event.text).padEnd(format.textWidth ?? 32);
  const effects = describeEffects(event);
  return effects === '' ? `${pc}: ${text}`.trimEnd() : `${pc}: ${text} ${effects}`;
}
