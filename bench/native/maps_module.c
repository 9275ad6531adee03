/*
 * maps_module.c: the map module (runtime/maps/c/core.c and the map types it includes) compiled natively, as its
 * own translation unit, so that the twin's loop calls bpf_map_lookup_elem as a function, as a program calls the
 * helper. maps_shim.h says what differs from the wasm32 build; plus the low-memory allocator the module needs.
 *
 * Not here: the timing loop (maps_hash.c).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "maps_shim.h"
/* The module converts between 32-bit integers and pointers throughout: right here, see maps_shim.h. */
#pragma GCC diagnostic ignored "-Wint-to-pointer-cast"
#pragma GCC diagnostic ignored "-Wpointer-to-int-cast"
#include "../../runtime/maps/c/common.h"
#include "../../runtime/maps/c/core.c"

void *maps_low_alloc(unsigned long size) {
  unsigned long len = size + 0x10000;
  void *p = MAP_FAILED;
#ifdef MAP_32BIT
  p = mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
#endif
  if (p == MAP_FAILED) p = mmap((void *)0x40000000ul, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED || (uintptr_t)p + len > 0xffffffffull) {
    fprintf(stderr, "maps_low_alloc: no memory below 4 GiB for %lu bytes\n", size);
    exit(2);
  }
  return (void *)(((uintptr_t)p + 0xffff) & ~(uintptr_t)0xffff);
}
