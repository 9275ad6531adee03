/**
 * `PcapError`: a pcap or pcapng file (or a packet handed to the writer) is malformed, with the byte offset in
 * the file where the damage was found.
 *
 * Not here: the reader (reader.ts) and the writer (writer.ts) that raise it.
 */

/** Codes of {@link PcapError}. */
export type PcapErrorCode =
  | 'bad_magic' // not a pcap or pcapng file, or a pcapng section with an unknown byte-order magic
  | 'truncated' // the file ends inside a header, a block or a packet
  | 'bad_header' // a field of the file header or a block header is impossible (version, length, snaplen)
  | 'bad_block' // a pcapng block is inconsistent (trailing length, a packet longer than its block)
  | 'bad_interface' // a pcapng packet names an interface that no IDB described
  | 'bad_packet'; // a record's lengths are impossible, or the writer was given an impossible packet

/** A malformed capture file. `offset` is the byte offset in the file where the problem starts. */
export class PcapError extends Error {
  override readonly name = 'PcapError';
  readonly code: PcapErrorCode;
  /** Byte offset in the file (from its first byte) of the header, block or record at fault. */
  readonly offset: number;
  /** The message without the `offset N: ` prefix. */
  readonly detail: string;

  constructor(code: PcapErrorCode, detail: string, offset: number) {
    super(`offset ${offset}: ${detail}`);
    this.code = code;
    this.offset = offset;
    this.detail = detail;
  }
}
