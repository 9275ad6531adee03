/* FNV-1a 64-bit over the input: the C twin of programs/fnv1a.s. */
#include <stdint.h>

uint64_t bench_run(uint8_t *p, uint64_t len) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (uint64_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}
