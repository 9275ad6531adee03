/**
 * The standard helpers that need no map and run no program code, as one {@link HelperTable} both engines call
 * (Linux `enum bpf_func_id` numbering, include/uapi/linux/bpf.h; semantics of kernel/bpf/helpers.c):
 *
 *     5   ktime_get_ns          monotonic nanoseconds (process.hrtime)
 *     6   trace_printk          (fmt, fmt_size, a1, a2, a3) → length printed; the line goes to the host's sink
 *     7   get_prandom_u32       a pseudo-random u32 (xorshift128, seeded from Web Crypto)
 *     8   get_smp_processor_id  the CPU of the running thread (0 on the main thread, a worker's map CPU)
 *     105 strtol, 106 strtoul   (buf, buf_len, flags = base 0/8/10/16, long *res) → characters consumed or -errno
 *     125 ktime_get_boot_ns     nanoseconds since boot (monotonic clock offset by the host's uptime)
 *     165 snprintf              (str, str_size, fmt, u64 *data, data_len) → formatted length + 1, or -EINVAL
 *
 * Pointer arguments are checked exactly as the engines check loads and stores (memory.ts): a bad one faults
 * the run at the call's pc. Errors Linux returns to the program (-EINVAL, -ERANGE) are returned, not thrown.
 *
 * Not here: the map helpers (runtime/maps/helpers.ts), tail calls (../tailcall.ts), the printf subset
 * (format.ts), bpf_loop (181) and bpf_for_each_map_elem (164), which call the program back (callbacks.ts).
 */

import { uptime } from 'node:os';
import { withoutMemoryWrites, type HelperEnv, type HelperFn, type HelperTable } from '../../src/exec.js';
import { ERRNO } from '../maps/abi.js';
import { FormatError, bpfFormat } from './format.js';
import { checkPointer, readCString, requestOf, view } from './memory.js';

/** Standard helper ids (Linux `enum bpf_func_id`). */
export const STD_HELPER = {
  ktime_get_ns: 5,
  trace_printk: 6,
  get_prandom_u32: 7,
  get_smp_processor_id: 8,
  strtol: 105,
  strtoul: 106,
  ktime_get_boot_ns: 125,
  snprintf: 165,
} as const;

/** Linux's `MAX_BPRINTF_VARARGS`: most u64 arguments `bpf_snprintf` takes. */
export const MAX_SNPRINTF_ARGS = 12;
/** Linux's `MAX_TRACE_PRINTK_VARARGS`. */
export const MAX_TRACE_PRINTK_ARGS = 3;
/** `BPF_STRTOX_BASE_MASK`: the flags bits of strtol/strtoul that hold the base. */
const STRTOX_BASE_MASK = 0x1fn;
/** `ERANGE` (asm-generic/errno-base.h). */
const ERANGE = 34;

/** Where the standard helpers get what is the host's to decide. */
export interface StandardHelperOptions {
  /** Receives each `bpf_trace_printk` line (its text without one trailing newline). */
  readonly trace: (line: string) => void;
  /** The CPU number of the calling thread (`get_smp_processor_id`). */
  readonly cpu: () => number;
  /** Seed for `get_prandom_u32` (tests); default: random. */
  readonly seed?: number;
}

const neg = (errno: number): bigint => BigInt.asUintN(64, BigInt(-errno));
const EINVAL = neg(ERRNO.EINVAL);

/** The standard helper table (see the file header). */
export function standardHelpers(options: StandardHelperOptions): HelperTable {
  const H = STD_HELPER;
  // Boot time: the monotonic clock plus the offset that makes it read as time since boot at startup.
  const bootOffset = BigInt(Math.round(uptime() * 1e9)) - process.hrtime.bigint();
  const random = xorshift128(options.seed ?? globalThis.crypto.getRandomValues(new Uint32Array(1))[0]);
  const stringReader = (env: HelperEnv) => (addr: bigint): string | undefined => readCString(env, addr);

  const table: [number, HelperFn][] = [
    // The helpers that only read memory (or none) say so: their calls leave the stack clean (src/exec.ts).
    [H.ktime_get_ns, withoutMemoryWrites(() => process.hrtime.bigint())],
    [H.ktime_get_boot_ns, withoutMemoryWrites(() => process.hrtime.bigint() + bootOffset)],
    [H.get_prandom_u32, withoutMemoryWrites(() => BigInt(random()))],
    [H.get_smp_processor_id, withoutMemoryWrites(() => BigInt(options.cpu()))],
    [H.trace_printk, withoutMemoryWrites((fmt, size, a1, a2, a3, env) => {
      // The format is `size` readable bytes whose last is NUL (Linux: -EINVAL otherwise).
      if (size === 0n || size >= 2n ** 31n) return EINVAL;
      const bytes = view(env, fmt, Number(size), false, 'bpf_trace_printk fmt');
      if (bytes[bytes.length - 1] !== 0) return EINVAL;
      let text: string;
      try {
        text = bpfFormat(latin1z(bytes), [a1, a2, a3], stringReader(env));
      } catch (e) {
        if (e instanceof FormatError) return EINVAL;
        throw e;
      }
      options.trace(text.endsWith('\n') ? text.slice(0, -1) : text);
      return BigInt(text.length);
    })],
    [H.snprintf, (str, strSize, fmt, data, dataLen, env) => {
      if (dataLen % 8n !== 0n || dataLen > BigInt(8 * MAX_SNPRINTF_ARGS) || strSize >= 2n ** 31n) return EINVAL;
      const out = view(env, str, Number(strSize), true, 'bpf_snprintf str');
      const dataBytes = view(env, data, Number(dataLen), false, 'bpf_snprintf data');
      const format = readCString(env, fmt);
      if (format === undefined) {
        // The verifier's const_str: a NUL-terminated string in readable memory. Fault as a read would.
        checkPointer(requestOf(env, 'bpf_snprintf'), fmt, 1, false, env.pc, 'bpf_snprintf fmt');
        return EINVAL;
      }
      const dv = new DataView(dataBytes.buffer, dataBytes.byteOffset, dataBytes.byteLength);
      const args: bigint[] = [];
      for (let i = 0; i < dataBytes.length; i += 8) args.push(dv.getBigUint64(i, true));
      let text: string;
      try {
        text = bpfFormat(format, args, stringReader(env));
      } catch (e) {
        if (e instanceof FormatError) return EINVAL;
        throw e;
      }
      if (out.length > 0) {
        const n = Math.min(text.length, out.length - 1);
        for (let i = 0; i < n; i++) out[i] = text.charCodeAt(i);
        out[n] = 0;
      }
      return BigInt(text.length + 1);
    }],
    [H.strtol, (buf, len, flags, res, _5, env) => strtox(env, buf, len, flags, res, true)],
    [H.strtoul, (buf, len, flags, res, _5, env) => strtox(env, buf, len, flags, res, false)],
  ];
  return new Map(table);
}

/** The bytes up to the first NUL, as latin1. */
function latin1z(bytes: Uint8Array): string {
  const n = bytes.indexOf(0);
  return String.fromCharCode(...bytes.subarray(0, n < 0 ? bytes.length : n));
}

const isSpace = (c: number): boolean => c === 0x20 || (c >= 9 && c <= 13);

/** Value of hex digit `c`, or 16 when it is none. */
function digit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  return l >= 97 && l <= 102 ? l - 87 : 16;
}

/**
 * `bpf_strtol` / `bpf_strtoul` (kernel/bpf/helpers.c `__bpf_strtoull`): skip white space, an optional '-', then
 * at most 63 characters parsed in base 0 (auto: 0x → 16, 0 → 8, else 10), 8, 10 or 16 (an optional 0x). Returns
 * the characters consumed and writes *res, or -EINVAL (bad flags or base, empty buffer, no digits, '-' for
 * strtoul) / -ERANGE (overflow) without writing.
 */
function strtox(env: HelperEnv, buf: bigint, len: bigint, flags: bigint, res: bigint, signed: boolean): bigint {
  const base0 = Number(flags & STRTOX_BASE_MASK);
  if (len === 0n || (flags & ~STRTOX_BASE_MASK) !== 0n || ![0, 8, 10, 16].includes(base0) || len >= 2n ** 31n) return EINVAL;
  const s = view(env, buf, Number(len), false, signed ? 'bpf_strtol buf' : 'bpf_strtoul buf');
  const out = view(env, res, 8, true, signed ? 'bpf_strtol res' : 'bpf_strtoul res');
  let i = 0;
  while (i < s.length && isSpace(s[i])) i++;
  const negative = i < s.length && s[i] === 0x2d;
  if (negative) i++;
  if (i === s.length) return EINVAL;
  // The kernel copies at most 63 bytes into a NUL-terminated buffer; parsing stops there (or at a NUL).
  const str = s.subarray(i, i + Math.min(s.length - i, 63));
  const at = (k: number): number => (k < str.length ? str[k] : 0);
  let base = base0;
  let p = 0;
  if (base === 0) base = at(0) === 0x30 ? ((at(1) | 0x20) === 0x78 && digit(at(2)) < 16 ? 16 : 8) : 10;
  if (base === 16 && at(0) === 0x30 && (at(1) | 0x20) === 0x78) p = 2;
  const start = p;
  let v = 0n;
  let overflow = false;
  const b = BigInt(base);
  for (; p < str.length; p++) {
    const d = digit(str[p]);
    if (d >= base) break;
    v = v * b + BigInt(d);
    if (v >= 2n ** 64n) overflow = true;
  }
  if (overflow) return neg(ERANGE);
  if (p === start) return EINVAL;
  let result: bigint;
  if (signed) {
    if (negative ? v > 2n ** 63n : v >= 2n ** 63n) return neg(ERANGE);
    result = negative ? -v : v;
  } else {
    if (negative) return EINVAL;
    result = v;
  }
  new DataView(out.buffer, out.byteOffset, 8).setBigUint64(0, BigInt.asUintN(64, result), true);
  return BigInt(i + p);
}

/** A xorshift128 generator of u32s (Marsaglia 2003). Not cryptographic, as Linux's prandom is not. */
function xorshift128(seed: number): () => number {
  let x = seed | 0 || 0x9e3779b9, y = 362436069, z = 521288629, w = 88675123;
  return () => {
    const t = x ^ (x << 11);
    x = y; y = z; z = w;
    w = (w ^ (w >>> 19) ^ (t ^ (t >>> 8))) | 0;
    return w >>> 0;
  };
}
