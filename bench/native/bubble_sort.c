/* Bubble sort of the u32 array in the input, in place: the C twin of programs/bubble_sort.s. */
#include <stdint.h>
#include <string.h>

uint64_t bench_run(uint8_t *p, uint64_t len) {
  uint64_t count = len / 4;
  uint32_t a[1024];
  if (count > 1024 || count == 0) return 0;
  memcpy(a, p, count * 4);
  for (uint64_t n = count; n > 1; n--) {
    for (uint64_t i = 0; i + 1 < n; i++) {
      if (a[i] > a[i + 1]) {
        uint32_t t = a[i];
        a[i] = a[i + 1];
        a[i + 1] = t;
      }
    }
  }
  memcpy(p, a, count * 4);
  return a[0] | (uint64_t)a[count - 1] << 32;
}
