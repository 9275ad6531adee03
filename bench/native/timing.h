/*
 * timing.h: the timing method of the native twins, the same as the JavaScript harness's (bench/harness.ts): a
 * warm-up of at least 10 runs and 200 ms, a batch size lasting about 20 ms, BATCHES timed batches, sorted. Used
 * by harness.c (the compute programs) and maps_hash.c (map lookups); header-only, so each stays one `cc` call.
 *
 * Not here: what a run does (the caller's `run`), reading inputs, printing.
 */
#ifndef EBPF_WASM_TIMING_H
#define EBPF_WASM_TIMING_H

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define BATCHES 15

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/*
 * Times `run(ctx)`: fills `samples` with the ns per run of each batch, ascending (the median is
 * samples[BATCHES / 2], the fastest samples[0]); returns the runs in each batch. Results go to a volatile sink,
 * so no run can be dropped.
 */
static long time_runs(uint64_t (*run)(void *ctx), void *ctx, double samples[BATCHES]) {
  volatile uint64_t sink = 0;
  long runs = 0;
  double t0 = now_ns(), elapsed = 0;
  while (runs < 10 || elapsed < 2e8) {
    sink += run(ctx);
    runs++;
    elapsed = now_ns() - t0;
  }
  long n = (long)(20e6 * runs / elapsed);
  if (n < 1) n = 1;
  for (int b = 0; b < BATCHES; b++) {
    double t = now_ns();
    for (long i = 0; i < n; i++) sink += run(ctx);
    samples[b] = (now_ns() - t) / (double)n;
  }
  qsort(samples, BATCHES, sizeof samples[0], compare_doubles);
  (void)sink;
  return n;
}

#endif
