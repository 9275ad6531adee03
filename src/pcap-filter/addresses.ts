/**
 * Address literals of pcap-filter expressions: dotted IPv4 (possibly abbreviated, `192.168` for a net), IPv6 in
 * RFC 4291 text form (with `::` and an embedded IPv4 tail), and MAC addresses (`00:11:22:33:44:55`,
 * `00-11-...`, `00.11...`, `0011.2233.4455`). Pure functions: text → bytes, `undefined` when malformed.
 *
 * Not here: host and service names (this compiler resolves no names; see the parser's errors).
 */

/** A dotted IPv4 literal: the value left-aligned as a u32 and how many bits were written (8 per part). */
export interface Ipv4Literal {
  readonly value: number;
  readonly bits: number;
}

/** `a.b.c.d` (1 to 4 parts, each 0..255) → its value left-aligned (`192.168` → 0xc0a80000, 16 bits). */
export function parseIpv4(text: string): Ipv4Literal | undefined {
  const parts = text.split('.');
  if (parts.length < 1 || parts.length > 4) return undefined;
  let value = 0;
  for (const p of parts) {
    if (!/^[0-9]+$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    value = value * 256 + n;
  }
  const bits = parts.length * 8;
  return { value: bits === 32 ? value : value * 2 ** (32 - bits), bits };
}

/** An IPv6 address → 16 bytes, or `undefined`. */
export function parseIpv6(text: string): Uint8Array | undefined {
  if (!/^[0-9A-Fa-f:.]+$/.test(text)) return undefined;
  // An embedded IPv4 tail (`::ffff:1.2.3.4`) becomes its two hex groups.
  let body = text;
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    const v4 = parseIpv4(last);
    if (v4 === undefined || v4.bits !== 32) return undefined;
    body = `${text.slice(0, lastColon + 1)}${(v4.value >>> 16).toString(16)}:${(v4.value & 0xffff).toString(16)}`;
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = groups(halves[0]);
  const rest = halves.length === 2 ? groups(halves[1]) : [];
  if (head === undefined || rest === undefined) return undefined;
  const given = head.length + rest.length;
  let all: number[];
  if (halves.length === 2) {
    if (given > 7) return undefined;
    all = [...head, ...new Array<number>(8 - given).fill(0), ...rest];
  } else {
    if (given !== 8) return undefined;
    all = head;
  }
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** A MAC address → 6 bytes, or `undefined`. */
export function parseMac(text: string): Uint8Array | undefined {
  let hex: string[];
  if (/^[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}$/.test(text)) {
    const s = text.replace(/\./g, '');
    hex = [0, 2, 4, 6, 8, 10].map((i) => s.slice(i, i + 2));
  } else {
    hex = text.split(/[:.-]/);
    if (hex.length !== 6 || !hex.every((h) => /^[0-9A-Fa-f]{1,2}$/.test(h))) return undefined;
  }
  return Uint8Array.from(hex.map((h) => parseInt(h, 16)));
}
