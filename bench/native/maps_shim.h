/*
 * maps_shim.h: what it takes to compile the map module (runtime/maps/c, written for wasm32) natively, for the
 * native twin of the map benchmarks (maps_module.c, maps_hash.c). Bench-only: runtime/maps/c is compiled
 * unchanged.
 *
 * - The Wasm-only attributes become empty attribute lists: `export_name` (an export of the Wasm module; here an
 *   ordinary external function) and `address_space(1)` (a Wasm global: here an ordinary static variable, one
 *   per process, which is what one instance is).
 * - `__builtin_wasm_memory_atomic_notify` (the ring buffer's wake-up) does nothing: no one waits natively.
 * - The module keeps addresses in 32-bit integers (wasm32). That holds natively when every byte it is given (the
 *   map area, keys, values) lies below 4 GiB: {@link maps_low_alloc} maps such memory (MAP_32BIT, x86-64 Linux;
 *   elsewhere a fixed low hint address).
 *
 * Not here: the map code itself (runtime/maps/c), the timing loop (maps_hash.c).
 */
#ifndef MAPS_SHIM_H
#define MAPS_SHIM_H

#define export_name(name)
#define address_space(n)
#define __builtin_wasm_memory_atomic_notify(addr, count) ((void)(addr), (void)(count))

/* Exports of the module the twin calls (see runtime/maps/abi.ts for their contract). */
int maps_init(unsigned base, unsigned meta_size, unsigned values_size, unsigned ro_size, unsigned ncpus);
int sys_create(unsigned attr);
int sys_update(unsigned id, unsigned key, unsigned value, unsigned flags);
unsigned long long map_handle(unsigned id);
unsigned long long bpf_map_lookup_elem(unsigned long long map, unsigned long long key);

/* `size` bytes of zeroed memory below 4 GiB, aligned to 64 KiB; exits the process on failure. */
void *maps_low_alloc(unsigned long size);

#endif
