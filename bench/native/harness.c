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
#include <time.h>

uint64_t bench_run(uint8_t *mem, uint64_t len);

#define BATCHES 15

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static uint64_t once(uint8_t *work, const uint8_t *input, uint64_t len) {
  memcpy(work, input, len);
  __asm__ volatile("" : : "r"(work) : "memory"); /* the copy is not known to the compiler any more */
  return bench_run(work, len);
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
  uint8_t *work = malloc(len ? len : 1);
  volatile uint64_t sink = 0;

  uint64_t result = once(work, input, len);
  long runs = 0;
  double t0 = now_ns(), elapsed = 0;
  while (runs < 10 || elapsed < 2e8) {
    sink += once(work, input, len);
    runs++;
    elapsed = now_ns() - t0;
  }
  long n = (long)(20e6 * runs / elapsed);
  if (n < 1) n = 1;
  double samples[BATCHES];
  for (int b = 0; b < BATCHES; b++) {
    double t = now_ns();
    for (long i = 0; i < n; i++) sink += once(work, input, len);
    samples[b] = (now_ns() - t) / (double)n;
  }
  qsort(samples, BATCHES, sizeof samples[0], compare);
  printf("%llu %.3f %ld\n", (unsigned long long)result, samples[BATCHES / 2], n * BATCHES);
  free(work);
  return 0;
}
