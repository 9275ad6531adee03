/**
 * {@link FilterSyntaxError}: the one error a pcap-filter expression raises when it cannot be compiled, located by
 * a 1-based column and rendered with a caret line under the expression:
 *
 *     column 8: syntax error: unexpected 'foo'
 *       tcp or foo bar
 *              ^^^
 *
 * Not here: errors of the eBPF program a filter compiles to (src/errors.ts); the filter compiler only produces
 * programs the verifier accepts, so a failure there is an `InternalError`.
 */

/**
 * Why an expression was refused: `syntax` (tcpdump would not parse it either), `unsupported` (valid
 * pcap-filter this compiler does not implement), `invalid` (parsed, but meaningless, as tcpdump says too:
 * "non-network bits set", "division by zero", "'port' modifier applied to ip host", ...).
 */
export type FilterErrorCode = 'syntax' | 'unsupported' | 'invalid';

/** A pcap-filter expression that cannot be compiled. */
export class FilterSyntaxError extends Error {
  override readonly name = 'FilterSyntaxError';
  /** The message without the location and the caret line. */
  readonly detail: string;

  constructor(
    readonly code: FilterErrorCode,
    detail: string,
    /** The whole expression. */
    readonly expression: string,
    /** 1-based column of the offending token (expression.length + 1 at the end of the input). */
    readonly column: number,
    /** The offending token's text ('' at the end of the input). */
    readonly token: string,
  ) {
    super(`column ${column}: ${detail}\n  ${expression}\n  ${' '.repeat(column - 1)}${'^'.repeat(Math.max(1, token.length))}`);
    this.detail = detail;
  }
}
