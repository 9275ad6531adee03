/*
 * main() shared by the native twins of the eBPF benchmarks (each NAME.c defines bench_run). Compiled with
 * `cc -O2 harness.c NAME.c`: two translation units, so the compiler cannot see that a run may be hoisted out of
 * the timing loop.
 *
 * Usage: NAME INPUT_FILE. Reads the input, then, as the JavaScript harness does: one run for the result, a
 * warm-up of at least 200 ms, a batch size lasting about 20 ms, 15 timed batches; each run works on a fresh
 * copy of the input. Prints "<result> <median ns per run> <timed runs>".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timing.h"

uint64_t bench_run(uint8_t *mem, uint64_t len);

/* One run on a fresh copy of the input. */
struct copy_run {
  uint8_t *work;
  const uint8_t *input;
  uint64_t len;
};

static uint64_t once(void *p) {
  const struct copy_run *c = p;
  memcpy(c->work, c->input, c->len);
  __asm__ volatile("" : : "r"(c->work) : "memory"); /* the copy is not known to the compiler any more */
  return bench_run(c->work, c->len);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s INPUT_FILE\n", argv[0]);
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  if (!f) {
    perror(argv[1]);
    return 2;
  }
  static uint8_t input[1 << 20];
  uint64_t len = fread(input, 1, sizeof input, f);
  fclose(f);
  struct copy_run c = {malloc(len ? len : 1), input, len};
  uint64_t result = once(&c);
  double samples[BATCHES];
  long n = time_runs(once, &c, samples);
  printf("%llu %.3f %ld\n", (unsigned long long)result, samples[BATCHES / 2], n * BATCHES);
  free(c.work);
  return 0;
}
