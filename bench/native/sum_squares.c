/* Sum of i*i mod 1000000007 for i < 1e6: the C twin of programs/sum_squares.s. The bound is read from a
 * volatile so that the compiler cannot evaluate the loop at compile time. */
#include <stdint.h>

static volatile uint64_t iterations = 1000000;

uint64_t bench_run(uint8_t *p, uint64_t len) {
  (void)p;
  (void)len;
  uint64_t n = iterations, s = 0;
  for (uint64_t i = 0; i < n; i++) s = (s + i * i) % 1000000007;
  return s;
}
