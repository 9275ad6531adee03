/**
 * {@link MapError}: what the map API throws. A kernel-style failure carries the errno name as its code
 * (`EEXIST`, `E2BIG`, ...) and the number in `errno`; a misuse caught before the map is asked (a key of the
 * wrong size, an unknown map type) has a code of its own.
 *
 * Not here: errno numbering (abi.ts).
 */

import { BpfError } from '../../src/errors.js';
import { errnoName } from './abi.js';

/** Codes of {@link MapError} besides errno names. */
export type MapMisuseCode =
  /** A key of the wrong size or shape. */
  | 'bad_key'
  /** A value of the wrong size or shape. */
  | 'bad_value'
  /** A map definition the API cannot turn into a map (unknown type name, sizes out of range). */
  | 'bad_definition'
  /** No map of that name or id. */
  | 'no_such_map'
  /** The map area is exhausted or cannot be set up. */
  | 'no_space';

/** Errno names a map operation can fail with (Linux UAPI values in `errno`). */
export type MapErrnoCode =
  | 'EPERM' | 'ENOENT' | 'E2BIG' | 'EAGAIN' | 'ENOMEM' | 'EFAULT' | 'EBUSY' | 'EEXIST' | 'EINVAL' | 'ENOSPC' | 'EOPNOTSUPP';

/** An error from a map operation. */
export class MapError extends BpfError {
  override readonly name = 'MapError';
  readonly code: MapErrnoCode | MapMisuseCode;
  /** The errno (positive) for kernel-style failures. */
  readonly errno: number | undefined;

  constructor(code: MapErrnoCode | MapMisuseCode, detail: string, errno?: number) {
    super(detail, undefined);
    this.code = code;
    this.errno = errno;
  }

  /** The error for a negative errno result `r` of operation `op` on `map`. */
  static fromErrno(r: number, op: string, map: string): MapError {
    const name = errnoName(-r);
    return new MapError(name as MapErrnoCode, `map '${map}': ${op} failed: ${name}${ERRNO_TEXT[name] ? ` (${ERRNO_TEXT[name]})` : ''}`, -r);
  }
}

const ERRNO_TEXT: Record<string, string> = {
  EPERM: 'operation not permitted',
  ENOENT: 'no such element',
  E2BIG: 'map full, or index out of range',
  EAGAIN: 'try again',
  ENOMEM: 'out of map memory',
  EFAULT: 'corrupted record',
  EBUSY: 'busy',
  EEXIST: 'element exists',
  EINVAL: 'invalid argument',
  ENOSPC: 'no space left',
  EOPNOTSUPP: 'operation not supported by this map type',
};
