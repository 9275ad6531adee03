/*
 * maps_hash.c: the native twin of programs/hash_lookup.s and hash_lookup16.s: the same lookups on the same
 * BPF_MAP_TYPE_HASH, done by our own map module (runtime/maps/c, compiled natively by maps_module.c) from a
 * C loop compiled with -O2. Build: `cc -O2 maps_hash.c maps_module.c` (two translation units: the lookup is a
 * call, as the program's helper call is).
 *
 * Usage: maps_hash INPUT_FILE [--once] (--once: one run, print its sum, no timing), the input (little-endian) being
 *   u32 key_size, u32 max_entries, u32 n_entries, u32 n_lookups,
 *   n_entries x { key_size bytes of key, u64 value },   the map's contents
 *   n_lookups x { key_size bytes of key }               the keys one run looks up, in order
 * The map is created with BPF_F_ZERO_SEED, as the JavaScript side creates its map, so both hash alike.
 * A run, as the eBPF program's: copy the lookup keys into the work buffer (runPacket copies its input), then
 * sum the u64 value of every key found. Timing as harness.c (timing.h), after one run for the result. Prints "<sum> <median ns per run> <timed runs>
 * <fastest batch, ns per run>".
 *
 * Not here: the map code (runtime/maps/c), the shims it needs natively (maps_shim.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maps_shim.h"
#include "timing.h"

#define T_HASH 1
#define F_ZERO_SEED (1u << 6)
#define META_BYTES (16u << 20)
#define VALUE_BYTES (8u << 20)
#define RO_BYTES (64u << 10)

static uint32_t rd32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

struct bench {
  uint64_t handle;
  uint32_t key_size, n_lookups;
  const uint8_t *keys; /* the lookup keys as read (below 4 GiB) */
  uint8_t *work;       /* the run's copy of them (below 4 GiB: the module takes 32-bit addresses) */
};

static uint64_t run(void *p) {
  const struct bench *b = p;
  uint32_t ks = b->key_size, n = b->n_lookups;
  memcpy(b->work, b->keys, (size_t)ks * n);
  __asm__ volatile("" : : "r"(b->work) : "memory"); /* the copy is not known to the compiler any more */
  uint64_t sum = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint64_t v = bpf_map_lookup_elem(b->handle, (uint64_t)(uintptr_t)(b->work + (size_t)i * ks));
    if (v != 0) {
      uint64_t x;
      memcpy(&x, (const void *)(uintptr_t)v, 8);
      sum += x;
    }
  }
  return sum;
}

/* Creates the map and fills it from the input; returns its handle. */
static uint64_t setup(uint8_t *in, uint32_t ks, uint32_t max_entries, uint32_t n_entries) {
  uint8_t *area = maps_low_alloc(META_BYTES + VALUE_BYTES + RO_BYTES);
  if (maps_init((uint32_t)(uintptr_t)area, META_BYTES, VALUE_BYTES, RO_BYTES, 1) != 0) {
    fprintf(stderr, "maps_init failed\n");
    exit(2);
  }
  uint32_t *attr = maps_low_alloc(64);
  attr[0] = T_HASH, attr[1] = ks, attr[2] = 8, attr[3] = max_entries, attr[4] = F_ZERO_SEED;
  int id = sys_create((uint32_t)(uintptr_t)attr);
  if (id <= 0) {
    fprintf(stderr, "sys_create failed: %d\n", id);
    exit(2);
  }
  for (uint32_t i = 0; i < n_entries; i++) {
    uint8_t *e = in + (size_t)i * (ks + 8);
    int r = sys_update((uint32_t)id, (uint32_t)(uintptr_t)e, (uint32_t)(uintptr_t)(e + ks), 0);
    if (r != 0) {
      fprintf(stderr, "sys_update failed: %d\n", r);
      exit(2);
    }
  }
  return map_handle((uint32_t)id);
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
  enum { MAX_INPUT = 32 << 20 };
  uint8_t *in = maps_low_alloc(MAX_INPUT);
  size_t len = fread(in, 1, MAX_INPUT, f);
  fclose(f);
  if (len < 16) {
    fprintf(stderr, "%s: too short\n", argv[1]);
    return 2;
  }
  uint32_t ks = rd32(in), max_entries = rd32(in + 4), n_entries = rd32(in + 8), n_lookups = rd32(in + 12);
  if (len != 16 + (size_t)n_entries * (ks + 8) + (size_t)n_lookups * ks) {
    fprintf(stderr, "%s: %zu bytes, not what its header announces\n", argv[1], len);
    return 2;
  }
  struct bench b = {setup(in + 16, ks, max_entries, n_entries), ks, n_lookups, in + 16 + (size_t)n_entries * (ks + 8), 0};
  b.work = maps_low_alloc((size_t)ks * n_lookups);
  uint64_t result = run(&b);
  if (argc > 2 && strcmp(argv[2], "--once") == 0) {
    printf("%llu\n", (unsigned long long)result);
    return 0;
  }
  double samples[BATCHES];
  long n = time_runs(run, &b, samples);
  printf("%llu %.3f %ld %.3f\n", (unsigned long long)result, samples[BATCHES / 2], n * BATCHES, samples[0]);
  return 0;
}
