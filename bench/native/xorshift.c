/* xorshift64 (13, 7, 17) iterated 1e5 times: the C twin of programs/xorshift.s. Seed and count are read from
 * volatiles so that the compiler cannot evaluate the loop at compile time. */
#include <stdint.h>

static volatile uint64_t seed = 0x9e3779b97f4a7c15ULL;
static volatile uint64_t iterations = 100000;

uint64_t bench_run(uint8_t *p, uint64_t len) {
  (void)p;
  (void)len;
  uint64_t x = seed, n = iterations;
  for (uint64_t i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  return x;
}
