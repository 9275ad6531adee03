/**
 * Abstract values: what the verifier knows a register or a spilled stack slot holds. A tagged union, like the IR.
 *
 *     uninit      never written (reading it is an error in strict mode)
 *     any         written, but the paths that meet here disagree on its kind: a scalar or some pointer
 *     scalar      a number (scalar.ts); `len` marks the raw input's length, so that r1 + r2 is its end; `id`
 *                 is shared by copies of one value (a 64-bit mov), so that a bound proven on one holds for all
 *     ctx         the context pointer + a constant offset
 *     stack       a pointer into the stack frame at call depth `frame`, at `off` from its top (r10)
 *     mem         a pointer into a sized region: a map value, a ring buffer reservation, a callback's map key;
 *                 `nullable` until compared with 0, `id` shared by copies (so checking one checks all), `ref` when
 *                 the region must be released (ring buffer), `origin` = the pc that produced it
 *     map         a map (from `lddw map_idx`, or a map of maps' lookup, then possibly null)
 *     pkt         a packet pointer: base `id` (state.ts keeps each base's variable part and proven range) + `fix`
 *     pkt_end     the end of the packet (data_end; for `raw` programs, r1 + r2)
 *     pkt_meta    the packet's metadata pointer (data_meta) + a constant; never proven
 *     func        a function's address (a callback, from `lddw code_addr`)
 *
 * Pointers are linear-memory addresses below 4 GiB and at least 64 KiB (src/exec.ts, ARCHITECTURE.md), so a
 * non-null pointer is never 0 and its low 32 bits are its value.
 *
 * Not here: states, joins and ids (state.ts), what an operation does to a value (transfer.ts).
 */

import { formatScalar, scalarConstValue, scalarEq, type Scalar } from './scalar.js';
import type { MapSpec } from '../elf/maps.js';

/** The sized region a `mem` pointer points into. */
export type MemRegion =
  | { readonly kind: 'map_value'; readonly map: number }
  | { readonly kind: 'map_key'; readonly map: number }
  | { readonly kind: 'ringbuf'; readonly size: number };

/** An abstract value (see the file header). */
export type Value =
  | { readonly t: 'uninit' }
  | { readonly t: 'any' }
  | { readonly t: 'scalar'; readonly s: Scalar; readonly len?: boolean; readonly id?: number }
  | { readonly t: 'ctx'; readonly off: number }
  | { readonly t: 'stack'; readonly frame: number; readonly off: Scalar }
  | { readonly t: 'mem'; readonly region: MemRegion; readonly off: Scalar; readonly id: number; readonly nullable: boolean; readonly ref: boolean; readonly origin: number }
  | { readonly t: 'map'; readonly map: number; readonly id: number; readonly nullable: boolean; readonly origin: number }
  | { readonly t: 'pkt'; readonly id: number; readonly fix: number }
  | { readonly t: 'pkt_end' }
  | { readonly t: 'pkt_meta'; readonly off: number }
  | { readonly t: 'func'; readonly pc: number };

export const UNINIT: Value = Object.freeze({ t: 'uninit' });
export const ANY: Value = Object.freeze({ t: 'any' });
export const PKT_END: Value = Object.freeze({ t: 'pkt_end' });

/** Whether a value is some pointer (not a scalar, uninit or any). */
export function isPointer(v: Value): boolean {
  return v.t !== 'scalar' && v.t !== 'uninit' && v.t !== 'any';
}

function memEq(a: MemRegion, b: MemRegion): boolean {
  switch (a.kind) {
    case 'map_value': return b.kind === 'map_value' && a.map === b.map;
    case 'map_key': return b.kind === 'map_key' && a.map === b.map;
    case 'ringbuf': return b.kind === 'ringbuf' && a.size === b.size;
  }
}

/** Whether two regions are the same kind and size (so pointers into them can be joined). */
export function sameRegion(a: MemRegion, b: MemRegion): boolean {
  return memEq(a, b);
}

/** Structural equality. */
export function valueEq(a: Value, b: Value): boolean {
  if (a === b) return true;
  switch (a.t) {
    case 'uninit': case 'any': case 'pkt_end': return b.t === a.t;
    case 'scalar': return b.t === 'scalar' && (a.len ?? false) === (b.len ?? false) && (a.id ?? 0) === (b.id ?? 0) && scalarEq(a.s, b.s);
    case 'ctx': return b.t === 'ctx' && a.off === b.off;
    case 'stack': return b.t === 'stack' && a.frame === b.frame && scalarEq(a.off, b.off);
    case 'mem': return b.t === 'mem' && memEq(a.region, b.region) && a.id === b.id && a.nullable === b.nullable && a.ref === b.ref && a.origin === b.origin && scalarEq(a.off, b.off);
    case 'map': return b.t === 'map' && a.map === b.map && a.id === b.id && a.nullable === b.nullable && a.origin === b.origin;
    case 'pkt': return b.t === 'pkt' && a.id === b.id && a.fix === b.fix;
    case 'pkt_meta': return b.t === 'pkt_meta' && a.off === b.off;
    case 'func': return b.t === 'func' && a.pc === b.pc;
  }
}

/** Names for messages: maps by index; `raw` programs call their packet "input". */
export interface NameContext {
  readonly maps: readonly MapSpec[];
  readonly type?: string;
}

export function mapName(names: NameContext, map: number): string {
  return names.maps[map]?.name ?? `map#${map}`;
}

/** Bytes of a `mem` region. */
export function regionSize(region: MemRegion, maps: readonly MapSpec[]): number {
  switch (region.kind) {
    case 'map_value': return maps[region.map]?.valueSize ?? 0;
    case 'map_key': return maps[region.map]?.keySize ?? 0;
    case 'ringbuf': return region.size;
  }
}

function offset(off: Scalar): string {
  const c = scalarConstValue(off);
  if (c !== undefined) {
    const s = BigInt.asIntN(64, c);
    return s === 0n ? '' : s > 0n ? `+${s}` : `${s}`;
  }
  return `+${formatScalar(off)}`;
}

/** A short readable form, e.g. `fp-8`, `map_value_or_null(counts)`, `pkt+14`, `[0, 63]`. */
export function formatValue(v: Value, names: NameContext, frame?: number, pkt?: (id: number) => { var: Scalar; range: number } | undefined): string {
  switch (v.t) {
    case 'uninit': return 'uninit';
    case 'any': return 'unknown (a scalar or a pointer)';
    case 'scalar': {
      const text = formatScalar(v.s);
      return (text === 'unknown' ? 'scalar' : text) + (v.len ? ' (input length)' : '');
    }
    case 'ctx': return `ctx${v.off === 0 ? '' : v.off > 0 ? `+${v.off}` : v.off}`;
    case 'stack': return `${frame === undefined || frame === v.frame ? 'fp' : `fp[${v.frame}]`}${offset(v.off)}`;
    case 'mem': {
      const what = v.region.kind === 'ringbuf' ? `ringbuf_mem(${v.region.size} bytes)` : `${v.region.kind}(${mapName(names, v.region.map)})`;
      const base = v.nullable ? what.replace('(', '_or_null(') : what;
      return `${base}${offset(v.off)}${v.nullable || v.region.kind === 'ringbuf' ? ` from pc ${v.origin}` : ''}`;
    }
    case 'map': return `${v.nullable ? 'map_or_null' : 'map'}(${mapName(names, v.map)})`;
    case 'pkt': {
      const base = pkt?.(v.id);
      const varPart = v.id === 0 || base === undefined ? '' : `+${formatScalar(base.var)}`;
      const fix = v.fix === 0 ? '' : v.fix > 0 ? `+${v.fix}` : `${v.fix}`;
      const n = base === undefined || base.range === -Infinity ? 0 : base.range - v.fix;
      const range = base === undefined ? '' : n > 0 ? ` (${n} byte${n === 1 ? '' : 's'} in bounds)` : ' (no byte proven in bounds)';
      return `${names.type === 'raw' ? 'input' : 'pkt'}${varPart}${fix}${range}`;
    }
    case 'pkt_end': return names.type === 'raw' ? 'input_end' : 'pkt_end';
    case 'pkt_meta': return `pkt_meta${v.off === 0 ? '' : `+${v.off}`}`;
    case 'func': return `func@${v.pc}`;
  }
}
