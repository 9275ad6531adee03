/*
 * core.c: the module's exports. Setting up the map area (maps_init, maps_attach), creating maps, and the two
 * families of entry points, each checking its map argument and dispatching on the map type:
 *
 *   bpf_*  program-facing, helper semantics (Linux helper ids in the comments): u64 arguments exactly as the
 *          registers hold them, u64 result = the new r0. A map argument is a handle (any value: checked);
 *          pointer arguments were checked by the engine against the execution's regions (sizes in the comment
 *          of each); per-CPU maps act on this instance's CPU.
 *   sys_*  user-space (JS) semantics, the BPF syscall's commands: a map id (u32), trusted pointers into the
 *          caller's scratch, i32 result 0 or -errno. Per-CPU values are ncpus x round8(value_size) bytes.
 *
 * The area (laid out by maps_init at `base`, 64 KiB aligned):
 *
 *   base            ┌──────────────────────────┐
 *                   │ header (struct header)   │ magic, zones, CPU claims, map table
 *                   │ metadata zone            │ descriptors, buckets, elements and keys, LPM nodes, queue
 *                   │                          │ slots, bloom bits, fd-array slots, JS scratch: NO program region
 *   base+meta       ├──────────────────────────┤
 *                   │ value arena              │ map values and ring buffer data: ONE writable region
 *   +values         ├──────────────────────────┤
 *                   │ read-only arena          │ values of BPF_F_RDONLY_PROG maps (.rodata): ONE read-only region
 *                   └──────────────────────────┘
 *
 * Zone allocation is a bump pointer under the creation lock; maps are never destroyed.
 */

/* Bump-allocates `size` zeroed bytes from a zone, or returns 0. Under create_lock. */
static u32 zalloc(struct zone *z, u64 size, u32 align) {
  u64 start = ((u64)z->cur + align - 1) & ~(u64)(align - 1);
  if (size == 0) size = align; /* distinct, non-zero addresses */
  if (start + size > z->end) return 0;
  z->cur = (u32)(start + size);
  zero((void *)(u32)start, (u32)size);
  return (u32)start;
}

#include "hash.c"
#include "array.c"
#include "lpm.c"
#include "queue.c"
#include "bloom.c"
#include "ringbuf.c"

/* Setup ---------------------------------------------------------------------------------------------------- */

static i32 claim_cpu(struct header *h, u32 cpu) {
  if (cpu == 0xffffffffu) {
    for (u32 c = 0; c < h->ncpus; c++)
      if (claim_cpu(h, c) >= 0) return (i32)c;
    return -EBUSY;
  }
  if (cpu >= h->ncpus) return -EINVAL;
  u32 bit = 1u << (cpu & 31);
  return __atomic_fetch_or(&h->cpu_claims[cpu >> 5], bit, __ATOMIC_SEQ_CST) & bit ? -EBUSY : (i32)cpu;
}

/* Lays out a fresh map area at base: meta_size bytes of metadata (header first), then values_size bytes of
 * value arena, then ro_size bytes of read-only arena, for ncpus CPUs; attaches this instance as CPU 0.
 * All three sizes multiples of 64 KiB. Returns 0 or -EINVAL. */
EXPORT(maps_init) i32 maps_init(u32 base, u32 meta_size, u32 values_size, u32 ro_size, u32 ncpus) {
  if (!base || (base | meta_size | values_size | ro_size) & 0xffff) return -EINVAL;
  if (ncpus == 0 || ncpus > MAX_CPUS || meta_size < 2 * sizeof(struct header)) return -EINVAL;
  if ((u64)base + meta_size + values_size + ro_size > 0xffffffffull) return -EINVAL;
  struct header *h = (struct header *)base;
  zero(h, sizeof(struct header));
  h->ncpus = ncpus;
  h->meta = (struct zone){base, base + (u32)sizeof(struct header), base + meta_size};
  h->values = (struct zone){base + meta_size, base + meta_size, base + meta_size + values_size};
  h->rodata = (struct zone){h->values.end, h->values.end, h->values.end + ro_size};
  h->version = AREA_VERSION;
  st32(&h->magic, AREA_MAGIC);
  g_base = base;
  g_cpu = (u32)claim_cpu(h, 0);
  return 0;
}

/* Attaches this instance (one per thread) to the area at base as CPU `cpu` (0xffffffff: the first free one).
 * Returns the CPU, -EINVAL (no area there, or cpu >= ncpus) or -EBUSY (CPU taken). */
EXPORT(maps_attach) i32 maps_attach(u32 base, u32 cpu) {
  struct header *h = (struct header *)base;
  if (!base || (base & 0xffff) || ld32(&h->magic) != AREA_MAGIC || h->version != AREA_VERSION) return -EINVAL;
  if (g_base) return -EBUSY;
  i32 c = claim_cpu(h, cpu);
  if (c < 0) return c;
  g_base = base;
  g_cpu = (u32)c;
  return c;
}

/* Gives this instance's CPU back; the instance may attach again. */
EXPORT(maps_detach) void maps_detach(void) {
  if (!g_base) return;
  __atomic_fetch_and(&H()->cpu_claims[g_cpu >> 5], ~(1u << (g_cpu & 31)), __ATOMIC_SEQ_CST);
  g_base = 0;
  g_cpu = 0;
}

EXPORT(maps_cpu) i32 maps_cpu(void) { return g_base ? (i32)g_cpu : -EINVAL; }

/* Writes the layout as 7 u32s: meta start, meta end, values start, values end, ro start, ro end, ncpus. */
EXPORT(maps_layout) i32 maps_layout(u32 out) {
  if (!g_base) return -EINVAL;
  struct header *h = H();
  u32 *o = (u32 *)out;
  o[0] = h->meta.start;
  o[1] = h->meta.end;
  o[2] = h->values.start;
  o[3] = h->values.end;
  o[4] = h->rodata.start;
  o[5] = h->rodata.end;
  o[6] = h->ncpus;
  return 0;
}

/* size bytes of metadata (out of every region) for the caller's own use, e.g. a JS scratch buffer; 0 if none. */
EXPORT(maps_alloc) u32 maps_alloc(u32 size) {
  if (!g_base) return 0;
  struct header *h = H();
  spin_lock(&h->create_lock);
  u32 p = zalloc(&h->meta, size, 16);
  spin_unlock(&h->create_lock);
  return p;
}

/* Creation ------------------------------------------------------------------------------------------------- */

static i32 create_locked(struct header *h, const struct attr *a) {
  u32 count = h->map_count;
  if (count >= MAX_MAPS) return -ENOSPC;
  if ((a->flags & (F_RDONLY | F_WRONLY)) == (F_RDONLY | F_WRONLY)) return -EINVAL;
  if ((a->flags & (F_RDONLY_PROG | F_WRONLY_PROG)) == (F_RDONLY_PROG | F_WRONLY_PROG)) return -EINVAL;
  if ((a->extra_lo || a->extra_hi) && a->type != T_BLOOM_FILTER) return -EINVAL;
  int of_maps = a->type == T_ARRAY_OF_MAPS || a->type == T_HASH_OF_MAPS;
  if (of_maps) {
    if (a->inner_type == T_ARRAY_OF_MAPS || a->inner_type == T_HASH_OF_MAPS || a->inner_type == T_PROG_ARRAY ||
        a->inner_type == 0)
      return -EINVAL;
  } else if (a->inner_type | a->inner_key_size | a->inner_value_size | a->inner_max_entries | a->inner_flags) {
    return -EINVAL;
  }
  struct map *m = (struct map *)zalloc(&h->meta, sizeof(struct map), 8);
  if (!m) return -ENOMEM;
  m->type = a->type;
  m->key_size = a->key_size;
  m->value_size = a->value_size;
  m->max_entries = a->max_entries;
  m->flags = a->flags;
  m->extra_lo = a->extra_lo;
  m->extra_hi = a->extra_hi;
  m->id = count + 1;
  m->seed = a->flags & F_ZERO_SEED ? 0 : a->seed;
  m->value_stride = round8(a->value_size);
  m->elem_values = is_percpu(a->type) ? m->value_stride * h->ncpus : m->value_stride;
  m->inner_type = a->inner_type;
  m->inner_key_size = a->inner_key_size;
  m->inner_value_size = a->inner_value_size;
  m->inner_max_entries = a->inner_max_entries;
  m->inner_flags = a->inner_flags;
  /* Where values go: ids of maps of maps stay in metadata; values of maps programs may not write go to the
   * read-only arena. */
  struct zone *vz = of_maps ? &h->meta : a->flags & F_RDONLY_PROG ? &h->rodata : &h->values;
  i32 r;
  switch (a->type) {
  case T_HASH: case T_PERCPU_HASH: case T_LRU_HASH: case T_LRU_PERCPU_HASH: case T_HASH_OF_MAPS:
    r = htab_create(m, a, vz);
    break;
  case T_ARRAY: case T_PERCPU_ARRAY: case T_PROG_ARRAY: case T_ARRAY_OF_MAPS:
    r = array_create(m, a, vz);
    break;
  case T_LPM_TRIE: r = lpm_create(m, a, vz); break;
  case T_QUEUE: case T_STACK: r = queue_create(m, a); break;
  case T_BLOOM_FILTER: r = bloom_create(m, a); break;
  case T_RINGBUF: r = ringbuf_create(m, a); break;
  default: r = -EINVAL;
  }
  if (r < 0) return r;
  if (a->type == T_RINGBUF) {
    m->rb_next = h->rb_head;
    st32(&h->rb_head, m->id);
  }
  h->table[count] = (u32)m;
  st32(&h->map_count, count + 1); /* publish: map_of_id reads the table only below this count */
  return (i32)m->id;
}

/* BPF_MAP_CREATE: the new map's id (1, 2, ...) or -errno. A failed creation gives its zone space back. */
EXPORT(sys_create) i32 sys_create(u32 attr) {
  if (!g_base) return -EINVAL;
  struct header *h = H();
  spin_lock(&h->create_lock);
  u32 meta = h->meta.cur, values = h->values.cur, rodata = h->rodata.cur;
  i32 r = create_locked(h, (const struct attr *)attr);
  if (r < 0) {
    h->meta.cur = meta;
    h->values.cur = values;
    h->rodata.cur = rodata;
  }
  spin_unlock(&h->create_lock);
  return r;
}

/* BPF_MAP_FREEZE: user space may no longer write the map (programs still may, unless BPF_F_RDONLY_PROG). */
EXPORT(sys_freeze) i32 sys_freeze(u32 id) {
  struct map *m = map_of_id(id);
  if (!m) return -EINVAL;
  st32(&m->frozen, 1);
  return 0;
}

/* Writes 12 u32s: type, key_size, value_size, max_entries, flags, map_extra lo, hi, frozen, value_stride,
 * bytes per user-space value (value_size, ncpus x value_stride, 4 for id values), the value storage base
 * (0 when not in an arena), ncpus. */
EXPORT(sys_info) i32 sys_info(u32 id, u32 out) {
  struct map *m = map_of_id(id);
  if (!m) return -EINVAL;
  u32 *o = (u32 *)out;
  o[0] = m->type;
  o[1] = m->key_size;
  o[2] = m->value_size;
  o[3] = m->max_entries;
  o[4] = m->flags;
  o[5] = m->extra_lo;
  o[6] = m->extra_hi;
  o[7] = ld32(&m->frozen);
  o[8] = m->value_stride;
  o[9] = is_percpu(m->type) ? m->elem_values : m->value_size;
  o[10] = m->type == T_RINGBUF ? m->rb_data : (m->type == T_ARRAY || m->type == T_PERCPU_ARRAY) ? m->values : 0;
  o[11] = H()->ncpus;
  return 0;
}

/* Program-facing entry points ------------------------------------------------------------------------------ */

/* Bytes of key a program passes for this map (what the engine checks before calling), or -EINVAL. */
EXPORT(map_key_size) i32 map_key_size(u64 map) {
  struct map *m = map_of_handle(map);
  return m ? (i32)m->key_size : -EINVAL;
}

/* Bytes of value a program passes or receives (update, push, pop, peek), or -EINVAL. */
EXPORT(map_value_size) i32 map_value_size(u64 map) {
  struct map *m = map_of_handle(map);
  return m ? (i32)m->value_size : -EINVAL;
}

EXPORT(map_type) i32 map_type(u64 map) {
  struct map *m = map_of_handle(map);
  return m ? (i32)m->type : -EINVAL;
}

/* The handle of map id, or 0 when there is none: what `lddw dst, map_idx` loads. */
EXPORT(map_handle) u64 map_handle(u32 id) { return map_of_id(id) ? handle_of(id) : 0; }

/* `lddw dst, map_idx_value imm, off`: the address of byte `off` of element 0's value (ARRAY with one
 * element, as the kernel's map_direct_value_addr), or -EINVAL / -EOPNOTSUPP. */
EXPORT(map_direct_value_addr) i64 map_direct_value_addr(u64 map, u64 off) {
  struct map *m = map_of_handle(map);
  if (!m) return -EINVAL;
  if (m->type != T_ARRAY || m->max_entries != 1) return -EOPNOTSUPP;
  if (off >= m->value_size) return -EINVAL;
  return (i64)(m->values + off);
}

/* Lookup for programs, as CPU `cpu`. */
static u64 lookup_prog(struct map *m, u64 key, u32 cpu) {
  if (!PTR_OK(key)) return 0;
  const u8 *k = (const u8 *)(u32)key;
  switch (m->type) {
  case T_ARRAY: case T_PERCPU_ARRAY: return array_lookup_prog(m, k, cpu);
  case T_HASH: case T_PERCPU_HASH: case T_LRU_HASH: case T_LRU_PERCPU_HASH: case T_HASH_OF_MAPS:
    return htab_lookup_prog(m, k, cpu);
  case T_LPM_TRIE: return lpm_lookup_prog(m, k);
  case T_ARRAY_OF_MAPS: {
    u32 id = fd_get(m, rd32(k));
    return id != 0xffffffffu && map_of_id(id) ? handle_of(id) : 0;
  }
  default: return 0;
  }
}

/* 1 bpf_map_lookup_elem(map, key): reads key_size bytes at key. Returns this CPU's value address (in the value
 * arena or read-only arena), the inner map's handle for maps of maps, or 0 (absent, bad handle, a type with
 * no lookup for programs). */
EXPORT(bpf_map_lookup_elem) u64 bpf_map_lookup_elem(u64 map, u64 key) {
  struct map *m = map_of_handle(map);
  return m ? lookup_prog(m, key, g_cpu) : 0;
}

/* 195 bpf_map_lookup_percpu_elem(map, key, cpu): like lookup, CPU `cpu`'s value of a per-CPU map. */
EXPORT(bpf_map_lookup_percpu_elem) u64 bpf_map_lookup_percpu_elem(u64 map, u64 key, u64 cpu) {
  struct map *m = map_of_handle(map);
  if (!m || !is_percpu(m->type) || cpu >= H()->ncpus) return 0;
  return lookup_prog(m, key, (u32)cpu);
}

/* 2 bpf_map_update_elem(map, key, value, flags): reads key_size bytes at key and value_size at value. */
EXPORT(bpf_map_update_elem) i64 bpf_map_update_elem(u64 map, u64 key, u64 value, u64 flags) {
  struct map *m = map_of_handle(map);
  if (!m || !PTR_OK(key) || !PTR_OK(value)) return -EINVAL;
  if (m->flags & F_RDONLY_PROG) return -EPERM;
  const u8 *k = (const u8 *)(u32)key, *v = (const u8 *)(u32)value;
  switch (m->type) {
  case T_ARRAY: case T_PERCPU_ARRAY: return array_update(m, k, v, flags, 0);
  case T_HASH: case T_PERCPU_HASH: case T_LRU_HASH: case T_LRU_PERCPU_HASH: return htab_update(m, k, v, flags, 0);
  case T_LPM_TRIE: return lpm_update(m, k, v, flags);
  case T_QUEUE: case T_STACK: return queue_push(m, v, flags);
  case T_BLOOM_FILTER: return bloom_push(m, v, flags);
  case T_PROG_ARRAY: case T_ARRAY_OF_MAPS: case T_HASH_OF_MAPS: return -EOPNOTSUPP; /* user space only */
  default: return -EINVAL;
  }
}

/* 3 bpf_map_delete_elem(map, key): reads key_size bytes at key. */
EXPORT(bpf_map_delete_elem) i64 bpf_map_delete_elem(u64 map, u64 key) {
  struct map *m = map_of_handle(map);
  if (!m || !PTR_OK(key)) return -EINVAL;
  if (m->flags & F_RDONLY_PROG) return -EPERM;
  const u8 *k = (const u8 *)(u32)key;
  switch (m->type) {
  case T_HASH: case T_PERCPU_HASH: case T_LRU_HASH: case T_LRU_PERCPU_HASH: return htab_delete(m, k, 0);
  case T_LPM_TRIE: return lpm_delete(m, k);
  case T_PROG_ARRAY: case T_ARRAY_OF_MAPS: case T_HASH_OF_MAPS: case T_BLOOM_FILTER: return -EOPNOTSUPP;
  default: return -EINVAL; /* arrays, queues, stacks, ring buffers */
  }
}

/* 87 bpf_map_push_elem(map, value, flags): reads value_size bytes at value. QUEUE, STACK, BLOOM_FILTER. */
EXPORT(bpf_map_push_elem) i64 bpf_map_push_elem(u64 map, u64 value, u64 flags) {
  struct map *m = map_of_handle(map);
  if (!m || !PTR_OK(value)) return -EINVAL;
  if (m->flags & F_RDONLY_PROG) return -EPERM;
  const u8 *v = (const u8 *)(u32)value;
  if (m->type == T_QUEUE || m->type == T_STACK) return queue_push(m, v, flags);
  if (m->type == T_BLOOM_FILTER) return bloom_push(m, v, flags);
  return -EINVAL;
}

/* 88 bpf_map_pop_elem(map, value): writes value_size bytes at value. QUEUE, STACK. */
EXPORT(bpf_map_pop_elem) i64 bpf_map_pop_elem(u64 map, u64 value) {
  struct map *m = map_of_handle(map);
  if (!m || !PTR_OK(value)) return -EINVAL;
  if (m->flags & F_RDONLY_PROG) return -EPERM;
  if (m->type == T_QUEUE || m->type == T_STACK) return queue_take(m, (u8 *)(u32)value, 1);
  return -EINVAL;
}

/* 89 bpf_map_peek_elem(map, value): QUEUE/STACK write value_size bytes at value; BLOOM_FILTER reads them. */
EXPORT(bpf_map_peek_elem) i64 bpf_map_peek_elem(u64 map, u64 value) {
  struct map *m = map_of_handle(map);
  if (!m || !PTR_OK(value)) return -EINVAL;
  if (m->type == T_QUEUE || m->type == T_STACK) return queue_take(m, (u8 *)(u32)value, 0);
  if (m->type == T_BLOOM_FILTER) return bloom_peek(m, (const u8 *)(u32)value);
  return -EINVAL;
}

/* 130 bpf_ringbuf_output(ringbuf, data, size, flags): reads size bytes at data. 0, -EAGAIN (full), -EINVAL. */
EXPORT(bpf_ringbuf_output) i64 bpf_ringbuf_output(u64 map, u64 data, u64 size, u64 flags) {
  struct map *m = map_of_handle(map);
  if (!m || m->type != T_RINGBUF || !PTR_OK(data)) return -EINVAL;
  return ringbuf_output(m, (const u8 *)(u32)data, size, flags);
}

/* 131 bpf_ringbuf_reserve(ringbuf, size, flags): the address of `size` writable bytes in the value arena,
 * or 0 (full, too large, flags not 0, bad handle). */
EXPORT(bpf_ringbuf_reserve) u64 bpf_ringbuf_reserve(u64 map, u64 size, u64 flags) {
  struct map *m = map_of_handle(map);
  if (!m || m->type != T_RINGBUF) return 0;
  return ringbuf_reserve(m, size, flags);
}

/* 132 bpf_ringbuf_submit(data, flags) and 133 bpf_ringbuf_discard(data, flags): read nothing the engine must
 * check (data is looked up among the rings; anything else is ignored). Return 0 (the helpers are void). */
EXPORT(bpf_ringbuf_submit) u64 bpf_ringbuf_submit(u64 data, u64 flags) {
  ringbuf_commit(data, flags, 0);
  return 0;
}
EXPORT(bpf_ringbuf_discard) u64 bpf_ringbuf_discard(u64 data, u64 flags) {
  ringbuf_commit(data, flags, 1);
  return 0;
}

/* 134 bpf_ringbuf_query(ringbuf, flags): BPF_RB_AVAIL_DATA, _RING_SIZE, _CONS_POS, _PROD_POS; else 0. */
EXPORT(bpf_ringbuf_query) u64 bpf_ringbuf_query(u64 map, u64 flags) {
  struct map *m = map_of_handle(map);
  if (!m || m->type != T_RINGBUF) return 0;
  return ringbuf_query(m, flags);
}

/* For 164 bpf_for_each_map_elem: the index (>= pos) of the next element of a hash or array map, its key
 * written to key_out (key_size bytes, a buffer of the engine's, which must also make it readable to the
 * callback); -ENOENT after the last, -EINVAL for a bad handle or a map type for_each does not support.
 * The engine calls the callback with (map, key_out, bpf_map_iter_value(map, index), ctx) and goes on from
 * index + 1. */
EXPORT(bpf_map_iter) i64 bpf_map_iter(u64 map, u64 pos, u64 key_out) {
  struct map *m = map_of_handle(map);
  if (!m || !PTR_OK(key_out)) return -EINVAL;
  int array = m->type == T_ARRAY || m->type == T_PERCPU_ARRAY;
  if (!array && !(is_hash(m->type) && m->type != T_HASH_OF_MAPS)) return -EINVAL;
  if (pos >= m->max_entries) return -ENOENT;
  u8 *k = (u8 *)(u32)key_out;
  return array ? array_iter(m, (u32)pos, k, 0) : htab_iter(m, (u32)pos, k, 0);
}

/* This CPU's value address of the element at `index` (from bpf_map_iter), or 0. */
EXPORT(bpf_map_iter_value) u64 bpf_map_iter_value(u64 map, u64 index) {
  struct map *m = map_of_handle(map);
  if (!m || index >= m->max_entries) return 0;
  switch (m->type) {
  case T_ARRAY: case T_PERCPU_ARRAY: return (u32)cpu_value(m, array_elem(m, (u32)index), g_cpu);
  case T_HASH: case T_PERCPU_HASH: case T_LRU_HASH: case T_LRU_PERCPU_HASH:
    return (u32)cpu_value(m, elem_value(m, (u32)index), g_cpu);
  default: return 0;
  }
}

/* For 12 bpf_tail_call: the program slot id stored at `index` of a PROG_ARRAY, or -ENOENT (empty, out of
 * range) / -EINVAL (bad handle, not a PROG_ARRAY). */
EXPORT(prog_array_get) i64 prog_array_get(u64 map, u64 index) {
  struct map *m = map_of_handle(map);
  if (!m || m->type != T_PROG_ARRAY) return -EINVAL;
  u32 v = index < m->max_entries ? fd_get(m, (u32)index) : 0xffffffffu;
  return v == 0xffffffffu ? -ENOENT : (i64)v;
}

/* User-space entry points (the BPF syscall's map commands) --------------------------------------------------- */

/* BPF_MAP_LOOKUP_ELEM: copies the value (per-CPU: every CPU's; fd maps: the stored u32 id) to out.
 * QUEUE/STACK: peek (key unused); BLOOM_FILTER: peek with `value` as the probe, 0 or -ENOENT; LPM: longest
 * prefix match. */
EXPORT(sys_lookup) i32 sys_lookup(u32 id, u32 key, u32 out) {
  struct map *m = map_of_id(id);
  if (!m) return -EINVAL;
  if (m->flags & F_WRONLY) return -EPERM;
  const u8 *k = (const u8 *)key;
  u8 *o = (u8 *)out;
  switch (m->type) {
  case T_ARRAY: case T_PERCPU_ARRAY: return array_lookup_sys(m, k, o);
  case T_HASH: case T_PERCPU_HASH: case T_LRU_HASH: case T_LRU_PERCPU_HASH: case T_HASH_OF_MAPS:
    return (u32)htab_find(m, k, o) ? 0 : -ENOENT;
  case T_LPM_TRIE: return lpm_find(m, k, o) ? 0 : -ENOENT;
  case T_PROG_ARRAY: case T_ARRAY_OF_MAPS: return fd_lookup_sys(m, k, o);
  case T_QUEUE: case T_STACK: return queue_take(m, o, 0);
  case T_BLOOM_FILTER: return bloom_peek(m, o);
  default: return -EOPNOTSUPP;
  }
}

/* BPF_MAP_UPDATE_ELEM: value is every CPU's value for per-CPU maps, a map id for maps of maps, a program
 * slot id for PROG_ARRAY. QUEUE/STACK/BLOOM_FILTER: push (key unused). */
EXPORT(sys_update) i32 sys_update(u32 id, u32 key, u32 value, u32 flags) {
  struct map *m = map_of_id(id);
  if (!m) return -EINVAL;
  if ((m->flags & F_RDONLY) || ld32(&m->frozen)) return -EPERM;
  const u8 *k = (const u8 *)key, *v = (const u8 *)value;
  switch (m->type) {
  case T_ARRAY: case T_PERCPU_ARRAY: return array_update(m, k, v, flags, 1);
  case T_HASH: case T_PERCPU_HASH: case T_LRU_HASH: case T_LRU_PERCPU_HASH: return htab_update(m, k, v, flags, 1);
  case T_HASH_OF_MAPS:
    /* The kernel only accepts BPF_ANY-style fd values here too, but keeps hash flag semantics. */
    if (rd32(v) == 0xffffffffu || !inner_compatible(m, rd32(v))) return -EINVAL;
    return htab_update(m, k, v, flags, 1);
  case T_LPM_TRIE: return lpm_update(m, k, v, flags);
  case T_PROG_ARRAY: case T_ARRAY_OF_MAPS: return fd_update(m, k, v, flags);
  case T_QUEUE: case T_STACK: return queue_push(m, v, flags);
  case T_BLOOM_FILTER: return bloom_push(m, v, flags);
  default: return -EOPNOTSUPP;
  }
}

/* BPF_MAP_DELETE_ELEM. */
EXPORT(sys_delete) i32 sys_delete(u32 id, u32 key) {
  struct map *m = map_of_id(id);
  if (!m) return -EINVAL;
  if ((m->flags & F_RDONLY) || ld32(&m->frozen)) return -EPERM;
  const u8 *k = (const u8 *)key;
  switch (m->type) {
  case T_HASH: case T_PERCPU_HASH: case T_LRU_HASH: case T_LRU_PERCPU_HASH: case T_HASH_OF_MAPS:
    return htab_delete(m, k, 0);
  case T_LPM_TRIE: return lpm_delete(m, k);
  case T_PROG_ARRAY: case T_ARRAY_OF_MAPS: return fd_delete(m, k);
  case T_BLOOM_FILTER: case T_RINGBUF: return -EOPNOTSUPP;
  default: return -EINVAL;
  }
}

/* BPF_MAP_LOOKUP_AND_DELETE_ELEM: hash maps (copies then deletes), QUEUE/STACK (pop, key unused). */
EXPORT(sys_lookup_and_delete) i32 sys_lookup_and_delete(u32 id, u32 key, u32 out) {
  struct map *m = map_of_id(id);
  if (!m) return -EINVAL;
  if ((m->flags & (F_RDONLY | F_WRONLY)) || ld32(&m->frozen)) return -EPERM;
  switch (m->type) {
  case T_HASH: case T_PERCPU_HASH: case T_LRU_HASH: case T_LRU_PERCPU_HASH:
    return htab_delete(m, (const u8 *)key, (u8 *)out);
  case T_QUEUE: case T_STACK: return queue_take(m, (u8 *)out, 1);
  default: return -EOPNOTSUPP;
  }
}

/* BPF_MAP_GET_NEXT_KEY: key 0 (NULL) or a key not in the map gives the first key; -ENOENT after the last. */
EXPORT(sys_get_next_key) i32 sys_get_next_key(u32 id, u32 key, u32 next_out) {
  struct map *m = map_of_id(id);
  if (!m) return -EINVAL;
  const u8 *k = (const u8 *)key;
  u8 *o = (u8 *)next_out;
  switch (m->type) {
  case T_ARRAY: case T_PERCPU_ARRAY: case T_PROG_ARRAY: case T_ARRAY_OF_MAPS: return array_next_key(m, k, o);
  case T_HASH: case T_PERCPU_HASH: case T_LRU_HASH: case T_LRU_PERCPU_HASH: case T_HASH_OF_MAPS:
    return htab_next_key(m, k, o);
  case T_LPM_TRIE: return lpm_next_key(m, k, o);
  default: return -EINVAL;
  }
}

/* Iteration for the JS API (sturdier than get_next_key under deletion): the position (>= pos) of the next
 * element, its key in key_out and, unless value_out is 0, its value (sys form) in value_out; -ENOENT past
 * the last. Positions are element slots: arrays visit every index, fd arrays the occupied ones. */
EXPORT(sys_iter) i32 sys_iter(u32 id, u32 pos, u32 key_out, u32 value_out) {
  struct map *m = map_of_id(id);
  if (!m) return -EINVAL;
  if (m->flags & F_WRONLY) return -EPERM;
  u8 *k = (u8 *)key_out, *v = (u8 *)value_out;
  switch (m->type) {
  case T_ARRAY: case T_PERCPU_ARRAY: return array_iter(m, pos, k, v);
  case T_HASH: case T_PERCPU_HASH: case T_LRU_HASH: case T_LRU_PERCPU_HASH: case T_HASH_OF_MAPS:
    return htab_iter(m, pos, k, v);
  case T_LPM_TRIE: return lpm_iter(m, pos, k, v);
  case T_PROG_ARRAY: case T_ARRAY_OF_MAPS: return fd_iter(m, pos, k, v);
  default: return -EOPNOTSUPP;
  }
}

/* Ring buffer consumer: see ringbuf_peek / ringbuf_advance. One consumer at a time per ring. */
EXPORT(sys_ringbuf_peek) i64 sys_ringbuf_peek(u32 id) {
  struct map *m = map_of_id(id);
  if (!m || m->type != T_RINGBUF) return -EINVAL;
  return ringbuf_peek(m);
}
EXPORT(sys_ringbuf_advance) i32 sys_ringbuf_advance(u32 id) {
  struct map *m = map_of_id(id);
  if (!m || m->type != T_RINGBUF) return -EINVAL;
  return ringbuf_advance(m);
}
/* The address of the ring's wake-up word (an i32 that submits bump and notify), or 0. */
EXPORT(sys_ringbuf_notify_addr) u32 sys_ringbuf_notify_addr(u32 id) {
  struct map *m = map_of_id(id);
  return m && m->type == T_RINGBUF ? (u32)&m->notify : 0;
}
/* Positions and size, as bpf_ringbuf_query. */
EXPORT(sys_ringbuf_query) u64 sys_ringbuf_query(u32 id, u32 flags) {
  struct map *m = map_of_id(id);
  return m && m->type == T_RINGBUF ? ringbuf_query(m, flags) : 0;
}
