/**
 * The kernel's BPF printf subset (`bpf_bprintf_prepare` in kernel/bpf/helpers.c), shared by `bpf_trace_printk`
 * (6) and `bpf_snprintf` (165):
 *
 *     %[flags][width]conversion     flags: 0 + - space     width: decimal
 *     conversions: d i u x X (32-bit)   ld li lu lx lX   lld lli llu llx llX (64-bit)   c   s   p px   %%
 *
 * As in Linux, any other conversion, a precision, a `%` at the end, a non-printable format character or more
 * conversions than arguments makes the call fail with -EINVAL. `%s` reads a NUL-terminated string from the
 * program's stack or regions; a pointer outside them prints as the empty string (the kernel's copy fails the
 * same way). Deliberate difference: `%p` prints the raw value as `0x...` (the kernel hashes it), like `%px`.
 *
 * Not here: where the text goes (standard.ts).
 */

/** Why a format was refused (the helpers return -EINVAL). */
export class FormatError extends Error {}

/** Reads the NUL-terminated string at a program address, or undefined when it is not readable. */
export type StringReader = (addr: bigint) => string | undefined;

const isPrint = (c: number): boolean => (c >= 0x20 && c < 0x7f) || (c >= 9 && c <= 13);

/**
 * Formats `fmt` with the u64 arguments `args` (at most `args.length` conversions). Throws {@link FormatError}
 * for a format Linux refuses.
 */
export function bpfFormat(fmt: string, args: readonly bigint[], readString: StringReader): string {
  let out = '';
  let used = 0;
  for (let i = 0; i < fmt.length; i++) {
    const ch = fmt[i];
    if (!isPrint(fmt.charCodeAt(i))) throw new FormatError(`non-printable character 0x${fmt.charCodeAt(i).toString(16)} in the format`);
    if (ch !== '%') {
      out += ch;
      continue;
    }
    i++;
    if (fmt[i] === '%') {
      out += '%';
      continue;
    }
    let left = false, zero = false, plus = false, space = false;
    for (; i < fmt.length; i++) {
      const f = fmt[i];
      if (f === '-') left = true;
      else if (f === '0') zero = true;
      else if (f === '+') plus = true;
      else if (f === ' ') space = true;
      else break;
    }
    let width = 0;
    while (i < fmt.length && fmt[i] >= '0' && fmt[i] <= '9') width = width * 10 + (fmt.charCodeAt(i++) - 48);
    if (i >= fmt.length) throw new FormatError('the format ends inside a conversion');
    if (used >= args.length) throw new FormatError(`more conversions than the ${args.length} arguments`);
    const arg = args[used++];
    let body: string;
    let sign = '';
    let numeric = true;
    const conv = fmt[i];
    if (conv === 'c') {
      body = String.fromCharCode(Number(arg & 0xffn));
      numeric = false;
    } else if (conv === 's') {
      body = readString(arg) ?? '';
      numeric = false;
    } else if (conv === 'p') {
      if (fmt[i + 1] === 'x') i++;
      else if (/[0-9A-Za-z]/.test(fmt[i + 1] ?? '')) throw new FormatError(`unsupported pointer conversion %p${fmt[i + 1]}`);
      body = '0x' + arg.toString(16);
    } else {
      let bits = 32;
      if (fmt[i] === 'l') {
        bits = 64;
        i++;
        if (fmt[i] === 'l') i++;
      }
      const c = fmt[i];
      let v = BigInt.asUintN(bits, arg);
      if (c === 'd' || c === 'i') {
        const s = BigInt.asIntN(bits, v);
        if (s < 0n) {
          sign = '-';
          v = -s;
        } else if (plus) sign = '+';
        else if (space) sign = ' ';
        body = v.toString();
      } else if (c === 'u') body = v.toString();
      else if (c === 'x') body = v.toString(16);
      else if (c === 'X') body = v.toString(16).toUpperCase();
      else throw new FormatError(`unsupported conversion %${fmt.slice(fmt.lastIndexOf('%', i) + 1, i + 1)}`);
    }
    const pad = width - sign.length - body.length;
    if (pad <= 0) out += sign + body;
    else if (left) out += sign + body + ' '.repeat(pad);
    else if (zero && numeric) out += sign + '0'.repeat(pad) + body;
    else out += ' '.repeat(pad) + sign + body;
  }
  return out;
}
