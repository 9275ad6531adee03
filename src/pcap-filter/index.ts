/**
 * tcpdump (pcap-filter) expressions compiled straight to eBPF, without libpcap:
 *
 *     const program = compileFilter('tcp dst port 80 and not vlan');          // Ethernet
 *     const loaded = await new Runtime().load(program, { engine: 'jit', verify: 'strict' });
 *     loaded.runBatch(packets);                                               // 262144 = match, 0 = no match
 *
 * The program follows the repo's raw packet convention (r1 = the packet, r2 = its captured length) and makes
 * the decisions tcpdump makes on the same packets (see codegen.ts for the semantics kept, quirks included).
 *
 * Not here: the pieces (lexer.ts, parser.ts, codegen.ts, emit.ts); reading captures (src/pcap).
 */

import type { Program } from '../isa/program.js';
import { generate } from './codegen.js';
import type { FilterSyntaxError } from './errors.js';
import { linkLayer, SUPPORTED_LINK_TYPES } from './link.js';
import { parseFilter } from './parser.js';

export { FilterSyntaxError, type FilterErrorCode } from './errors.js';
export { parseFilter } from './parser.js';
export type { Filter, Arith, Value, Qualifiers, ProtoName, Dir, AddrType, RelOp, ArithOp } from './ast.js';
export { ACCEPT as FILTER_ACCEPT } from './codegen.js';
export { SUPPORTED_LINK_TYPES } from './link.js';

/** Options of {@link compileFilter}. */
export interface CompileFilterOptions {
  /**
   * The capture's link type (LINKTYPE_*): 1 Ethernet (default), 101 raw IP (also DLT_RAW 12 and 14),
   * 228 raw IPv4, 229 raw IPv6, 113 Linux cooked (v1).
   */
  readonly linkType?: number;
  /**
   * What `len`, `greater` and `less` measure: `captured` (default) reads r2, the captured length; `wire` reads
   * r3, which the caller sets to the packet's length on the wire (a pcap record's original length). tcpdump
   * uses the wire length, so only `wire` matches it on snapped captures (caplen < original length).
   */
  readonly length?: 'captured' | 'wire';
}

/**
 * Compiles a pcap-filter expression to an eBPF program: r1 = the packet, r2 = its captured length (and r3 = its
 * wire length with `length: 'wire'`); r0 = 262144 ({@link FILTER_ACCEPT}) when it matches, 0 when not.
 * Throws {@link FilterSyntaxError} (with the 1-based column) for bad or unsupported syntax, and `RangeError` for
 * an unsupported link type.
 */
export function compileFilter(expression: string, options: CompileFilterOptions = {}): Program {
  const linkType = options.linkType ?? 1;
  const link = linkLayer(linkType);
  if (link === undefined) throw new RangeError(`link type ${linkType} is not supported (supported: ${SUPPORTED_LINK_TYPES.join(', ')})`);
  const filter = parseFilter(expression);
  return generate(expression, filter, { link, lengthReg: options.length === 'wire' ? 3 : 2 });
}

