/**
 * A small deterministic pseudo-random stream (Marsaglia's xorshift32), for generated traffic, benchmark keys and
 * tests that must see the same sequence on every run and machine. Not for anything that needs real randomness.
 */

/** The xorshift32 stream from `seed` (0 is taken as 1): each call returns the next u32. */
export function xorshift32(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}
