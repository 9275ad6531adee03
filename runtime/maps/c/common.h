/*
 * common.h: what every map type of the Wasm map module shares: integer types, errno and flag numbers (Linux UAPI,
 * include/uapi/linux/bpf.h and asm-generic/errno*.h), atomics and locks, the per-instance globals, the area
 * header, the map descriptor, handles, the zone allocators, the key hash and small memory helpers.
 *
 * Not here: the map types themselves (one .c file each, included by maps.c) and the JS side (the .ts files one level up).
 *
 * Freestanding C for wasm32: no libc, no static data, no shadow-stack use. Every piece of mutable state lives
 * either in the runtime's linear memory (the map area laid out by maps_init) or in the two Wasm globals below
 * (address space 1 = a Wasm global, one per instance). That is what lets one compiled module be instantiated
 * once per thread on a shared memory: an instance owns nothing in memory that another instance could
 * re-initialise, and the linked module has no data segment (build.sh checks it).
 */
#ifndef MAPS_COMMON_H
#define MAPS_COMMON_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef int i32;
typedef long long i64;

#define EXPORT(name) __attribute__((export_name(#name)))
#define WASM_GLOBAL __attribute__((address_space(1)))
#define INLINE static inline __attribute__((always_inline))
#define NOINLINE static __attribute__((noinline))

/* errno values returned negated, as the kernel does (asm-generic/errno-base.h, errno.h). */
#define EPERM 1
#define ENOENT 2
#define E2BIG 7
#define ENOMEM 12
#define EAGAIN 11
#define EFAULT 14
#define EBUSY 16
#define EEXIST 17
#define EINVAL 22
#define ENOSPC 28
#define EOPNOTSUPP 95

/* enum bpf_map_type */
#define T_HASH 1
#define T_ARRAY 2
#define T_PROG_ARRAY 3
#define T_PERCPU_HASH 5
#define T_PERCPU_ARRAY 6
#define T_LRU_HASH 9
#define T_LRU_PERCPU_HASH 10
#define T_LPM_TRIE 11
#define T_ARRAY_OF_MAPS 12
#define T_HASH_OF_MAPS 13
#define T_QUEUE 22
#define T_STACK 23
#define T_RINGBUF 27
#define T_BLOOM_FILTER 30

/* BPF_MAP_CREATE flags */
#define F_NO_PREALLOC (1u << 0)
#define F_NO_COMMON_LRU (1u << 1)
#define F_NUMA_NODE (1u << 2)
#define F_RDONLY (1u << 3)
#define F_WRONLY (1u << 4)
#define F_ZERO_SEED (1u << 6)
#define F_RDONLY_PROG (1u << 7)
#define F_WRONLY_PROG (1u << 8)
#define F_MMAPABLE (1u << 10)
#define F_PRESERVE_ELEMS (1u << 11)
#define F_INNER_MAP (1u << 12)
#define F_ACCESS_MASK (F_RDONLY | F_WRONLY | F_RDONLY_PROG | F_WRONLY_PROG)

/* BPF_MAP_UPDATE_ELEM flags */
#define BPF_ANY 0
#define BPF_NOEXIST 1
#define BPF_EXIST 2
#define BPF_F_LOCK 4

/* Limits (kernel values where the kernel has one). */
#define MAX_BPF_STACK 512          /* largest hash key: a program must be able to hold it on its stack */
#define PCPU_MIN_UNIT_SIZE 32768   /* largest per-CPU value */
#define MAX_VALUE_SIZE (1u << 26)  /* our own bound on one value, keeps every size computation in 32 bits */
#define MAX_MAPS 4096
#define MAX_CPUS 64

#define AREA_MAGIC 0x4d465045u     /* "EPFM" */
#define AREA_VERSION 1u
/* A handle is TAG:id with id in [1, MAX_MAPS]: at or above 2^32, so never a linear-memory address. */
#define HANDLE_TAG 0xEBF0A000u

/* ---------------------------------------------------------------------------------------------------------
 * Per-instance state: Wasm globals, not memory, so every thread's instance has its own. Assign them only
 * from values already of their own type: clang 19 lowers a truncating assignment (u64 to a u32 global) to a
 * store into linear memory at address 0 instead of global.set. */
static u32 WASM_GLOBAL g_base; /* address of the area header; 0 until maps_init/maps_attach */
static u32 WASM_GLOBAL g_cpu;  /* this instance's CPU number */

/* ---------------------------------------------------------------------------------------------------------
 * Atomics. Wasm atomics are sequentially consistent whatever order C asks for; plain loads and stores between
 * them are ordinary (possibly racy, never trapping) Wasm accesses. */
INLINE u32 ld32(const u32 *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
INLINE void st32(u32 *p, u32 v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }
INLINE u64 ld64(const u64 *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
INLINE void st64(u64 *p, u64 v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }
INLINE u32 cas32(u32 *p, u32 expect, u32 want) { return __sync_val_compare_and_swap(p, expect, want); }
INLINE u64 cas64(u64 *p, u64 expect, u64 want) { return __sync_val_compare_and_swap(p, expect, want); }
INLINE u32 xadd32(u32 *p, u32 v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
INLINE u32 xchg32(u32 *p, u32 v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }
INLINE void fence(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

/* Spin lock: 0 free, 1 held. No memory.atomic.wait: the main thread may not block, and critical sections are
 * short and never take another lock of a kind that could be held while waiting for this one (see hash.c for
 * the one nesting, LRU list lock then bucket lock). */
INLINE void spin_lock(u32 *l) {
  for (;;) {
    if (cas32(l, 0, 1) == 0) return;
    while (ld32(l) != 0) {
    }
  }
}
INLINE void spin_unlock(u32 *l) { st32(l, 0); }

/* Sequence lock: even = free, odd = a writer holds it. Writers serialise on it; readers take no lock, read,
 * and retry when the sequence moved (seq_begin/seq_retry). Readers may see torn or stale data in between:
 * every index they follow is range-checked and every walk is bounded, so a retried read never leaves the
 * map's own storage. */
INLINE void seq_write_lock(u32 *s) {
  for (;;) {
    u32 v = ld32(s);
    if ((v & 1) == 0 && cas32(s, v, v + 1) == v) return;
  }
}
INLINE void seq_write_unlock(u32 *s) { st32(s, ld32(s) + 1); }
INLINE u32 seq_begin(u32 *s) {
  for (;;) {
    u32 v = ld32(s);
    if ((v & 1) == 0) return v;
  }
}
/* After a read section made only of atomic loads (sequentially consistent in Wasm, so already ordered before
 * this load; a plain mov on x86): no fence needed. Every lookup and copy-out reads this way (ld32, ld8,
 * keyeq_stored, copy_stored). */
INLINE int seq_retry(u32 *s, u32 v) { return ld32(s) != v; }
/* After a read section with plain loads: a fence orders them before the re-read (atomic.fence is an mfence on
 * x86, some 20 ns: only the rare LPM get_next_key walk pays it). */
INLINE int seq_retry_fenced(u32 *s, u32 v) {
  fence();
  return ld32(s) != v;
}

/* ---------------------------------------------------------------------------------------------------------
 * Memory helpers (memory.copy / memory.fill with bulk memory; no libc). */
/* memory.copy is a call out of generated code in V8: values and keys are usually small, so copy those by word. */
INLINE void copy(void *dst, const void *src, u32 n) {
  if (n > 64) {
    __builtin_memcpy(dst, src, n);
    return;
  }
  u8 *d = (u8 *)dst;
  const u8 *s = (const u8 *)src;
  u32 i = 0;
  for (; i + 8 <= n; i += 8) {
    u64 w;
    __builtin_memcpy(&w, s + i, 8);
    __builtin_memcpy(d + i, &w, 8);
  }
  for (; i < n; i++) d[i] = s[i];
}
INLINE void zero(void *dst, u32 n) { __builtin_memset(dst, 0, n); }
INLINE u32 rd32(const u8 *p) { u32 v; __builtin_memcpy(&v, p, 4); return v; }
INLINE u64 rd64(const u8 *p) { u64 v; __builtin_memcpy(&v, p, 8); return v; }
INLINE void wr32(u8 *p, u32 v) { __builtin_memcpy(p, &v, 4); }
INLINE u32 round8(u32 n) { return (n + 7) & ~7u; }
INLINE u32 min32(u32 a, u32 b) { return a < b ? a : b; }

/* Atomic loads of metadata read inside seq read sections (natural alignment required). */
INLINE u8 ld8(const u8 *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
INLINE u64 ld64a(const u8 *p) { return __atomic_load_n((const u64 *)p, __ATOMIC_SEQ_CST); }
INLINE u32 ld32a(const u8 *p) { return __atomic_load_n((const u32 *)p, __ATOMIC_SEQ_CST); }

/* Copies n bytes of map storage (4-byte aligned) read with atomic loads, so that a seq read section doing it
 * needs no fence, to a caller's buffer (any alignment). */
static void copy_stored(u8 *dst, const u8 *src, u32 n) {
  u32 i = 0;
  for (; i + 4 <= n; i += 4) wr32(dst + i, ld32a(src + i));
  for (; i < n; i++) dst[i] = ld8(src + i);
}

/* Equality of a stored key (8-byte aligned, read atomically: it may be rewritten under a reader) and a
 * caller's key (any alignment). */
static int keyeq_stored(const u8 *stored, const u8 *key, u32 n) {
  u32 i = 0;
  for (; i + 8 <= n; i += 8)
    if (ld64a(stored + i) != rd64(key + i)) return 0;
  if (i + 4 <= n) {
    if (ld32a(stored + i) != rd32(key + i)) return 0;
    i += 4;
  }
  for (; i < n; i++)
    if (ld8(stored + i) != key[i]) return 0;
  return 1;
}

/* The key hash (murmur3-style mixing, 4 bytes a step), seeded per map. */
INLINE u32 rotl32(u32 x, u32 r) { return (x << r) | (x >> (32 - r)); }
static u32 hash_bytes(const u8 *p, u32 n, u32 seed) {
  u32 h = seed ^ (n * 0x9e3779b1u);
  u32 i = 0;
  for (; i + 4 <= n; i += 4) {
    u32 k = rd32(p + i) * 0xcc9e2d51u;
    h ^= rotl32(k, 15) * 0x1b873593u;
    h = rotl32(h, 13) * 5 + 0xe6546b64u;
  }
  u32 t = 0;
  for (u32 s = 0; i < n; i++, s += 8) t |= (u32)p[i] << s;
  h ^= rotl32(t * 0xcc9e2d51u, 15) * 0x1b873593u;
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

/* ---------------------------------------------------------------------------------------------------------
 * The map area header (first bytes of the metadata zone; see maps_init in core.c for the whole layout). */
struct zone {
  u32 start, cur, end;
};

struct header {
  u32 magic, version;
  u32 ncpus;
  u32 map_count;   /* published (store) after table[map_count] is written */
  u32 create_lock; /* map creation and zone allocation */
  u32 rb_head;     /* id of the most recently created ring buffer (list through map.rb_next); 0 = none */
  struct zone meta, values, rodata;
  u32 cpu_claims[MAX_CPUS / 32];
  u32 table[MAX_MAPS]; /* descriptor address of map id i+1 */
};

/* A map descriptor, in the metadata zone. Fields a type does not use stay 0. */
struct map {
  u32 type, key_size, value_size, max_entries, flags;
  u32 extra_lo, extra_hi; /* map_extra */
  u32 id;
  u32 frozen;       /* BPF_MAP_FREEZE: user space may no longer write */
  u32 value_stride; /* round8(value_size), as the kernel lays values out */
  u32 elem_values;  /* bytes of value storage per element: value_stride, or value_stride * ncpus (per-CPU) */
  u32 values;       /* value storage: value arena (or read-only arena), or the metadata zone for id values */
  u32 lock;         /* map-wide lock: LRU list, queue/stack, ring buffer producers */
  u32 seq;          /* LPM trie sequence lock */
  u32 count;        /* elements (hash, LPM, queue/stack) */
  u32 seed;
  /* hash */
  u32 buckets, bucket_mask, elems, elem_stride;
  u32 lru_head, lru_tail; /* index+1 */
  u64 free_head;          /* Treiber stack: tag << 32 | index+1 */
  /* queue / stack: slot ring of max_entries + 1 */
  u32 q_slots, q_head, q_tail, q_size;
  /* bloom filter */
  u32 bits, bit_mask, nr_hash;
  /* ring buffer */
  u32 rb_data, rb_mask, rb_next, notify;
  u64 cons_pos, prod_pos;
  /* maps of maps: the inner map template */
  u32 inner_type, inner_key_size, inner_value_size, inner_max_entries, inner_flags;
  /* LPM trie */
  u32 nodes, node_stride, root, node_free, slot_stack, slot_top, data_size, max_prefixlen;
  /* fd arrays (PROG_ARRAY, ARRAY_OF_MAPS): u32 slots, 0 = empty, else value+1 */
  u32 slots;
};

/* Attributes of maps_create (the JS side writes them into its scratch; cf. union bpf_attr). */
struct attr {
  u32 type, key_size, value_size, max_entries, flags;
  u32 extra_lo, extra_hi;
  u32 seed;
  u32 inner_type, inner_key_size, inner_value_size, inner_max_entries, inner_flags;
};

INLINE struct header *H(void) { return (struct header *)g_base; }

/* The map of id, or 0. Safe for any id: compared against the published count first. */
INLINE struct map *map_of_id(u32 id) {
  if (g_base == 0) return 0;
  struct header *h = H();
  if (id - 1u >= ld32(&h->map_count)) return 0;
  return (struct map *)h->table[id - 1];
}

/* The map of a handle as a program holds it (any 64-bit value), or 0. */
INLINE struct map *map_of_handle(u64 handle) {
  if ((u32)(handle >> 32) != HANDLE_TAG) return 0;
  return map_of_id((u32)handle);
}

INLINE u64 handle_of(u32 id) { return ((u64)HANDLE_TAG << 32) | id; }

/* A pointer argument of a program-facing function: the engine has checked it against the execution's regions,
 * which all lie below 4 GiB; anything wider is refused rather than truncated. */
#define PTR_OK(x) (((x) >> 32) == 0)

INLINE int is_percpu(u32 type) { return type == T_PERCPU_ARRAY || type == T_PERCPU_HASH || type == T_LRU_PERCPU_HASH; }
INLINE int is_hash(u32 type) {
  return type == T_HASH || type == T_PERCPU_HASH || type == T_LRU_HASH || type == T_LRU_PERCPU_HASH || type == T_HASH_OF_MAPS;
}
INLINE int is_lru(u32 type) { return type == T_LRU_HASH || type == T_LRU_PERCPU_HASH; }

/* CPU `cpu`'s value of element storage `v` (per-CPU maps) or the value itself. */
INLINE u8 *cpu_value(struct map *m, u8 *v, u32 cpu) { return is_percpu(m->type) ? v + cpu * m->value_stride : v; }

#endif
