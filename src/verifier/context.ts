/**
 * Program types and their context layouts: what r1 points to when a program starts, which of its fields a
 * program may read or write, and which fields give packet pointers.
 *
 * These constants are the contract between the verifier and whoever runs the program: a host that runs an
 * `xdp`, `socket` or `tc` program lays the context out in linear memory exactly as described here, as one
 * region of {@link ContextLayout.size} bytes, with the packet pointer fields holding 32-bit linear-memory
 * addresses (all of linear memory lies below 4 GiB, so the 32-bit field *is* the pointer: the conversion the
 * kernel does when it rewrites context loads costs nothing here). The packet itself is one more region,
 * `[data, data_end)`, writable for `xdp` and `tc`. The verifier proves accesses against this layout and the
 * JIT then drops their checks, so a host that lays the context out differently must not run verified code.
 * What the verifier assumes of such a host, besides the layout:
 * - `data` is a valid address (at least 64 KiB, like every pointer) even when the packet is empty, and
 *   `data <= data_end`;
 * - the pointer fields are not writable by the program's unchecked stores (only the fields marked writable are
 *   in a writable region): a program in permissive mode may store anywhere the run-time checks allow, and a
 *   `data` it could overwrite would no longer be the packet the verifier reasons about.
 *
 *     struct xdp_md (24 bytes)            struct __sk_buff (subset, Linux offsets, 144 bytes)
 *       0  u32 data          → packet       0 len       4 pkt_type   8 mark      12 queue_mapping
 *       4  u32 data_end      → packet end  16 protocol 20 vlan_present 24 vlan_tci 28 vlan_proto
 *       8  u32 data_meta     → metadata    32 priority 36 ingress_ifindex 40 ifindex 44 tc_index
 *      12  u32 ingress_ifindex             48 cb[5]    68 hash       72 tc_classid
 *      16  u32 rx_queue_index              76 data → packet            80 data_end → packet end
 *      20  u32 egress_ifindex              84 napi_id  88 family   92 remote_ip4  96 local_ip4
 *                                         100 remote_ip6[4] 116 local_ip6[4] 132 remote_port 136 local_port
 *                                         140 data_meta → metadata
 *
 * The `raw` type is the conformance suite's and the CLI's convention (src/exec.ts): r1 = the address of an input
 * buffer of r2 bytes, or 0 when there is none. The verifier treats that buffer like a packet whose end is
 * `r1 + r2`, so comparisons against the length (or against `r1 + r2`) prove accesses in bounds.
 *
 * Not here: the analysis (analyze.ts), laying out memory (runtime/).
 */

/** The program types the verifier knows. */
export type ProgramType = 'raw' | 'xdp' | 'socket' | 'tc';

export const PROGRAM_TYPES: readonly ProgramType[] = ['raw', 'xdp', 'socket', 'tc'];

/** What a context field holds. */
export type FieldKind = 'scalar' | 'pkt' | 'pkt_end' | 'pkt_meta';

/** One field of a context struct: `size` bytes at `off`. */
export interface CtxField {
  readonly name: string;
  readonly off: number;
  readonly size: 4;
  readonly kind: FieldKind;
  /** Whether a program of this type may store to the field. */
  readonly writable: boolean;
}

/** A program type's context. */
export interface ContextLayout {
  readonly type: Exclude<ProgramType, 'raw'>;
  /** C name of the struct, for messages. */
  readonly struct: string;
  /** Bytes of the context region. */
  readonly size: number;
  /** Fields in offset order; bytes not covered by a field are not accessible. */
  readonly fields: readonly CtxField[];
  /** Whether the packet (`[data, data_end)`) is writable. */
  readonly packetWritable: boolean;
}

const f = (name: string, off: number, kind: FieldKind = 'scalar', writable = false): CtxField => ({ name, off, size: 4, kind, writable });

/** `struct xdp_md`: every field read-only (the kernel's own rule). */
export const XDP_MD: ContextLayout = Object.freeze({
  type: 'xdp',
  struct: 'xdp_md',
  size: 24,
  fields: Object.freeze([
    f('data', 0, 'pkt'), f('data_end', 4, 'pkt_end'), f('data_meta', 8, 'pkt_meta'),
    f('ingress_ifindex', 12), f('rx_queue_index', 16), f('egress_ifindex', 20),
  ]),
  packetWritable: true,
});

/** The `__sk_buff` fields both socket filters and tc programs see; `writable` names those tc may write. */
function skBuff(type: 'socket' | 'tc'): ContextLayout {
  const tc = type === 'tc';
  const cb = [0, 1, 2, 3, 4].map((i) => f(`cb[${i}]`, 48 + 4 * i, 'scalar', true));
  return Object.freeze({
    type,
    struct: '__sk_buff',
    size: 144,
    fields: Object.freeze([
      f('len', 0), f('pkt_type', 4), f('mark', 8, 'scalar', tc), f('queue_mapping', 12, 'scalar', tc), f('protocol', 16),
      f('vlan_present', 20), f('vlan_tci', 24), f('vlan_proto', 28), f('priority', 32, 'scalar', tc), f('ingress_ifindex', 36),
      f('ifindex', 40), f('tc_index', 44, 'scalar', tc), ...cb, f('hash', 68), f('tc_classid', 72, 'scalar', tc),
      f('data', 76, 'pkt'), f('data_end', 80, 'pkt_end'), f('napi_id', 84), f('family', 88), f('remote_ip4', 92),
      f('local_ip4', 96), ...[0, 1, 2, 3].map((i) => f(`remote_ip6[${i}]`, 100 + 4 * i)),
      ...[0, 1, 2, 3].map((i) => f(`local_ip6[${i}]`, 116 + 4 * i)), f('remote_port', 132), f('local_port', 136),
      f('data_meta', 140, 'pkt_meta'),
    ]),
    packetWritable: tc,
  });
}

/** `__sk_buff` for socket filters: only `cb[]` is writable, the packet is read-only. */
export const SK_BUFF_SOCKET: ContextLayout = skBuff('socket');
/** `__sk_buff` for tc (sched_cls) programs: mark, queue_mapping, priority, tc_index, cb[], tc_classid are writable. */
export const SK_BUFF_TC: ContextLayout = skBuff('tc');

/** The context layout of a program type (`undefined` for `raw`, which has no context struct). */
export function contextLayout(type: ProgramType): ContextLayout | undefined {
  switch (type) {
    case 'raw': return undefined;
    case 'xdp': return XDP_MD;
    case 'socket': return SK_BUFF_SOCKET;
    case 'tc': return SK_BUFF_TC;
  }
}

/** The field covering byte `off` of a context, if any. */
export function fieldAt(layout: ContextLayout, off: number): CtxField | undefined {
  return layout.fields.find((x) => off >= x.off && off < x.off + x.size);
}

/**
 * The program type libbpf would derive from an ELF section name (`xdp`, `xdp/...`, `socket`, `tc`, `classifier`,
 * `action`, `tc/...`); anything else (tracepoints, kprobes, `.text`) is `raw`.
 */
export function programTypeOfSection(section: string): ProgramType {
  const head = section.split('/')[0];
  if (head === 'xdp' || head === 'xdp.frags') return 'xdp';
  if (head === 'socket') return 'socket';
  if (head === 'tc' || head === 'classifier' || head === 'action' || head === 'tcx' || head.startsWith('tc_')) return 'tc';
  return 'raw';
}
