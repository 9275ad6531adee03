/*
 * hash.c: HASH, PERCPU_HASH, LRU_HASH, LRU_PERCPU_HASH and HASH_OF_MAPS.
 *
 * Layout (all preallocated at creation, as the kernel's default BPF_F_NO_PREALLOC-less htab):
 *
 *   buckets  (metadata)  n = roundup_pow2(max_entries) x { u32 seq; u32 head }   head = element index + 1
 *   elements (metadata)  max_entries x { u32 next; u32 hash; u32 state; u32 ref; u32 lru_prev; u32 lru_next; key }
 *   values   (value arena, read-only arena for BPF_F_RDONLY_PROG, metadata for HASH_OF_MAPS)
 *                        max_entries x elem_values bytes; element i's value never moves, so a pointer a program
 *                        got from a lookup stays inside the arena whatever happens to the element later.
 *
 * Concurrency: a bucket's seq is both its writer lock (odd = held) and its reader sequence. Lookups take no
 * lock: they walk the chain and retry if the bucket's seq moved. Updates of an existing key copy the value in
 * place under the bucket lock (so atomic increments through a looked-up pointer are never lost to an update);
 * new elements come from a lock-free free list (Treiber stack, ABA-tagged 64-bit head).
 *
 * LRU: a list of every element that is not free, newest at the head, under the map lock. A lookup from a
 * program sets the element's ref bit (no lock); eviction walks from the tail, gives referenced elements a
 * second chance (clears the bit, moves them to the head) and evicts the first unreferenced one (CLOCK, the
 * kernel's "referenced" approximation of LRU). Lock order: map lock, then a bucket lock (eviction only); no
 * path takes the map lock while holding a bucket lock, so there is no deadlock. Unlike the kernel, updating
 * an existing key never evicts another element (the value is written in place), and BPF_F_NO_COMMON_LRU
 * keeps the one common list.
 *
 * Not here: handle checks and the choice between program and user-space semantics (core.c).
 */

#define E_FREE 0
#define E_PENDING 1  /* LRU: allocated, on the LRU list, not yet in a bucket */
#define E_HASHED 2
#define E_DELETING 3 /* LRU: out of its bucket, not yet off the LRU list */
#define ELEM_HDR 24

struct elem {
  u32 next, hash, state, ref, lru_prev, lru_next;
  u8 key[];
};
struct bucket {
  u32 seq, head;
};

INLINE struct elem *elem_at(struct map *m, u32 idx) { return (struct elem *)(m->elems + idx * m->elem_stride); }
INLINE u8 *elem_value(struct map *m, u32 idx) { return (u8 *)(m->values + idx * m->elem_values); }
INLINE struct bucket *bucket_of(struct map *m, u32 hash) { return (struct bucket *)(m->buckets + (hash & m->bucket_mask) * 8); }

/* Free list ------------------------------------------------------------------------------------------------ */

static u32 fl_pop(struct map *m) {
  for (;;) {
    u64 old = ld64(&m->free_head);
    u32 top = (u32)old;
    if (top == 0 || top > m->max_entries) return 0;
    /* `next` may be stale if another thread pops `top` meanwhile; then the tag moved and the CAS fails. */
    u32 next = elem_at(m, top - 1)->next;
    u64 want = ((old >> 32) + 1) << 32 | next;
    if (cas64(&m->free_head, old, want) == old) return top;
  }
}

static void fl_push(struct map *m, u32 n) {
  struct elem *e = elem_at(m, n - 1);
  for (;;) {
    u64 old = ld64(&m->free_head);
    e->next = (u32)old;
    u64 want = ((old >> 32) + 1) << 32 | n;
    if (cas64(&m->free_head, old, want) == old) return;
  }
}

/* Buckets -------------------------------------------------------------------------------------------------- */

/* The element (index + 1) holding `key` in bucket b, or 0, in the low half; its predecessor (0 = the bucket
 * head) in the high half (results are packed so that no local needs an address, hence no shadow stack).
 * Under the bucket lock, or inside a seq read section (then the answer only counts if the seq held). */
static u64 bucket_find(struct map *m, struct bucket *b, const u8 *key, u32 hash) {
  /* Atomic loads only, so that lock-free readers need no fence (seq_retry). */
  u32 p = 0, cur = ld32(&b->head);
  for (u32 steps = 0; cur != 0 && cur <= m->max_entries && steps < m->max_entries; steps++) {
    struct elem *e = elem_at(m, cur - 1);
    if (ld32(&e->hash) == hash && keyeq_stored(e->key, key, m->key_size)) return (u64)p << 32 | cur;
    p = cur;
    cur = ld32(&e->next);
  }
  return 0;
}

INLINE void bucket_unlink_after(struct map *m, struct bucket *b, u32 prev, u32 n) {
  u32 next = elem_at(m, n - 1)->next;
  if (prev)
    elem_at(m, prev - 1)->next = next;
  else
    b->head = next;
}

/* Unlinks element n from bucket b (under its lock); 1 when it was there. */
static int bucket_unlink(struct map *m, struct bucket *b, u32 n) {
  u32 p = 0, cur = b->head;
  for (u32 steps = 0; cur != 0 && steps < m->max_entries; steps++) {
    if (cur == n) {
      bucket_unlink_after(m, b, p, n);
      return 1;
    }
    p = cur;
    cur = elem_at(m, cur - 1)->next;
  }
  return 0;
}

/* LRU list (under m->lock) --------------------------------------------------------------------------------- */

static void lru_add_head(struct map *m, u32 n) {
  struct elem *e = elem_at(m, n - 1);
  e->lru_prev = 0;
  e->lru_next = m->lru_head;
  if (m->lru_head)
    elem_at(m, m->lru_head - 1)->lru_prev = n;
  else
    m->lru_tail = n;
  m->lru_head = n;
}

static void lru_unlink(struct map *m, u32 n) {
  struct elem *e = elem_at(m, n - 1);
  if (e->lru_prev)
    elem_at(m, e->lru_prev - 1)->lru_next = e->lru_next;
  else
    m->lru_head = e->lru_next;
  if (e->lru_next)
    elem_at(m, e->lru_next - 1)->lru_prev = e->lru_prev;
  else
    m->lru_tail = e->lru_prev;
  e->lru_prev = e->lru_next = 0;
}

/* Evicts one element (CLOCK from the tail) and returns it, unlinked from everything; 0 when every element is
 * pending (more concurrent inserters than entries). Under m->lock. */
static u32 lru_evict(struct map *m) {
  u32 cur = m->lru_tail;
  /* Each element is passed at most twice: once to clear its ref bit, once to be evicted. */
  for (u32 budget = 2 * m->max_entries + 2; cur != 0 && budget != 0; budget--) {
    struct elem *e = elem_at(m, cur - 1);
    u32 prev = e->lru_prev;
    if (ld32(&e->state) == E_HASHED) {
      if (ld32(&e->ref)) {
        st32(&e->ref, 0);
        lru_unlink(m, cur);
        lru_add_head(m, cur);
      } else {
        struct bucket *b = bucket_of(m, e->hash);
        seq_write_lock(&b->seq);
        int gone = e->state == E_HASHED && bucket_unlink(m, b, cur);
        if (gone) e->state = E_FREE;
        seq_write_unlock(&b->seq);
        if (gone) {
          lru_unlink(m, cur);
          return cur;
        }
      }
    }
    cur = prev;
  }
  return 0;
}

/* A free element for an insert, on the LRU list as pending (LRU maps), or 0. */
static u32 elem_alloc(struct map *m) {
  u32 n = fl_pop(m);
  if (!is_lru(m->type)) return n;
  spin_lock(&m->lock);
  if (!n) n = lru_evict(m);
  if (n) {
    struct elem *e = elem_at(m, n - 1);
    e->state = E_PENDING;
    e->ref = 0;
    lru_add_head(m, n);
  }
  spin_unlock(&m->lock);
  return n;
}

/* Returns an element that is in no bucket to the free list. */
static void elem_release(struct map *m, u32 n) {
  struct elem *e = elem_at(m, n - 1);
  if (is_lru(m->type)) {
    spin_lock(&m->lock);
    lru_unlink(m, n);
    e->state = E_FREE;
    spin_unlock(&m->lock);
  } else {
    e->state = E_FREE;
  }
  fl_push(m, n);
}

/* Values --------------------------------------------------------------------------------------------------- */

/* Writes an element's value. User space (sys) gives every CPU's value (ncpus x value_stride bytes) for per-CPU
 * maps; a program gives its own CPU's, and a fresh element gets zeros on the other CPUs (as the kernel does). */
static void value_store(struct map *m, u32 idx, const u8 *src, int sys, int fresh) {
  u8 *v = elem_value(m, idx);
  if (!is_percpu(m->type)) {
    copy(v, src, m->value_size);
  } else if (sys) {
    copy(v, src, m->elem_values);
  } else {
    if (fresh) zero(v, m->elem_values);
    copy(v + g_cpu * m->value_stride, src, m->value_size);
  }
}

/* Copies an element's value out the way user space reads it: every CPU's for per-CPU maps. Atomic loads:
 * fine inside a seq read section without a fence. */
static void value_load(struct map *m, u32 idx, u8 *dst) {
  copy_stored(dst, elem_value(m, idx), is_percpu(m->type) ? m->elem_values : m->value_size);
}

/* Operations ----------------------------------------------------------------------------------------------- */

static i32 htab_create(struct map *m, const struct attr *a, struct zone *vz) {
  u32 mask = F_NO_PREALLOC | F_NO_COMMON_LRU | F_NUMA_NODE | F_ACCESS_MASK | F_ZERO_SEED;
  if (a->flags & ~mask) return -EINVAL;
  if (is_lru(a->type) && (a->flags & F_NO_PREALLOC)) return -EINVAL; /* the kernel: -ENOTSUPP */
  if (!is_lru(a->type) && (a->flags & F_NO_COMMON_LRU)) return -EINVAL;
  if (a->key_size == 0 || a->value_size == 0 || a->max_entries == 0) return -EINVAL;
  if (a->key_size > MAX_BPF_STACK) return -E2BIG;
  if (a->type == T_HASH_OF_MAPS && a->value_size != 4) return -EINVAL;
  if (is_percpu(a->type) && a->value_size > PCPU_MIN_UNIT_SIZE) return -E2BIG;
  if (a->value_size > MAX_VALUE_SIZE || a->max_entries > (1u << 28)) return -E2BIG;
  u32 nb = 1;
  while (nb < a->max_entries) nb <<= 1;
  m->bucket_mask = nb - 1;
  m->elem_stride = round8(ELEM_HDR + a->key_size);
  m->buckets = zalloc(&H()->meta, (u64)nb * 8, 8);
  m->elems = zalloc(&H()->meta, (u64)a->max_entries * m->elem_stride, 8);
  m->values = zalloc(vz, (u64)a->max_entries * m->elem_values, 8);
  if (!m->buckets || !m->elems || !m->values) return -ENOMEM;
  /* Free list in index order, so the first inserts take elements 0, 1, 2, ... */
  for (u32 i = 0; i < a->max_entries; i++) elem_at(m, i)->next = i + 1 < a->max_entries ? i + 2 : 0;
  m->free_head = 1;
  return 0;
}

/* The element holding `key` (index + 1), or 0, in the low half; for maps of maps, the stored id in the high
 * half. Lock-free. With `value_out`, also copies its value (sys form) consistently with the lookup. */
static u64 htab_find(struct map *m, const u8 *key, u8 *value_out) {
  u32 h = hash_bytes(key, m->key_size, m->seed);
  struct bucket *b = bucket_of(m, h);
  for (;;) {
    u32 s = seq_begin(&b->seq);
    u32 n = (u32)bucket_find(m, b, key, h), id = 0;
    if (n && m->type == T_HASH_OF_MAPS) id = ld32((u32 *)elem_value(m, n - 1));
    if (n && value_out) value_load(m, n - 1, value_out);
    if (!seq_retry(&b->seq, s)) return (u64)id << 32 | n;
  }
}

/* bpf_map_lookup_elem from a program: this CPU's value address (inner map handle for HASH_OF_MAPS), or 0. */
static u64 htab_lookup_prog(struct map *m, const u8 *key, u32 cpu) {
  u64 r = htab_find(m, key, 0);
  u32 n = (u32)r, id = (u32)(r >> 32);
  if (!n) return 0;
  if (m->type == T_HASH_OF_MAPS) return id && map_of_id(id) ? handle_of(id) : 0;
  if (is_lru(m->type)) {
    u32 *ref = &elem_at(m, n - 1)->ref;
    if (!ld32(ref)) st32(ref, 1);
  }
  return (u32)cpu_value(m, elem_value(m, n - 1), cpu);
}

static i32 htab_update(struct map *m, const u8 *key, const u8 *value, u64 flags, int sys) {
  if ((flags & ~(u64)BPF_F_LOCK) > BPF_EXIST) return -EINVAL;
  if (flags & BPF_F_LOCK) return -EINVAL; /* no bpf_spin_lock in values */
  u32 h = hash_bytes(key, m->key_size, m->seed);
  struct bucket *b = bucket_of(m, h);
  seq_write_lock(&b->seq);
  u32 n = (u32)bucket_find(m, b, key, h);
  if (n) {
    if (flags == BPF_NOEXIST) {
      seq_write_unlock(&b->seq);
      return -EEXIST;
    }
    value_store(m, n - 1, value, sys, 0);
    seq_write_unlock(&b->seq);
    return 0;
  }
  seq_write_unlock(&b->seq);
  if (flags == BPF_EXIST) return -ENOENT;

  /* A new element, filled before it is linked. The key is hashed from the element's own copy, so a caller
   * key that changes meanwhile cannot put the element in the wrong bucket. */
  u32 fresh = elem_alloc(m);
  if (!fresh) return is_lru(m->type) ? -ENOMEM : -E2BIG;
  struct elem *e = elem_at(m, fresh - 1);
  copy(e->key, key, m->key_size);
  e->hash = h = hash_bytes(e->key, m->key_size, m->seed);
  value_store(m, fresh - 1, value, sys, 1);
  b = bucket_of(m, h);
  seq_write_lock(&b->seq);
  n = (u32)bucket_find(m, b, e->key, h);
  if (n) {
    /* Another thread inserted the key in between. */
    i32 r = flags == BPF_NOEXIST ? -EEXIST : 0;
    if (r == 0) value_store(m, n - 1, value, sys, 0);
    seq_write_unlock(&b->seq);
    elem_release(m, fresh);
    return r;
  }
  e->next = b->head;
  st32(&e->state, E_HASHED);
  b->head = fresh;
  seq_write_unlock(&b->seq);
  return 0;
}

/* Deletes `key`; with value_out, copies its value out first (lookup_and_delete). */
static i32 htab_delete(struct map *m, const u8 *key, u8 *value_out) {
  u32 h = hash_bytes(key, m->key_size, m->seed);
  struct bucket *b = bucket_of(m, h);
  seq_write_lock(&b->seq);
  u64 found = bucket_find(m, b, key, h);
  u32 n = (u32)found, prev = (u32)(found >> 32);
  if (!n) {
    seq_write_unlock(&b->seq);
    return -ENOENT;
  }
  if (value_out) value_load(m, n - 1, value_out);
  bucket_unlink_after(m, b, prev, n);
  st32(&elem_at(m, n - 1)->state, is_lru(m->type) ? E_DELETING : E_FREE);
  seq_write_unlock(&b->seq);
  elem_release(m, n);
  return 0;
}

/* The first element at index >= pos: copies its key (and, with value_out, its value in sys form) and returns
 * its index; -ENOENT past the last. Elements inserted or deleted meanwhile may or may not be seen. */
static i32 htab_iter(struct map *m, u32 pos, u8 *key_out, u8 *value_out) {
  for (u32 i = pos; i < m->max_entries; i++) {
    struct elem *e = elem_at(m, i);
    if (ld32(&e->state) != E_HASHED) continue;
    int ok;
    for (;;) {
      u32 h = ld32(&e->hash);
      struct bucket *b = bucket_of(m, h);
      u32 s = seq_begin(&b->seq);
      /* Entering or leaving a bucket happens under that bucket's lock, so an unchanged seq means the element
       * sat in this bucket, with this key, for the whole copy. */
      ok = ld32(&e->state) == E_HASHED && ld32(&e->hash) == h;
      if (ok) {
        copy_stored(key_out, e->key, m->key_size);
        if (value_out) value_load(m, i, value_out);
      }
      if (!seq_retry(&b->seq, s)) break;
    }
    if (ok) return (i32)i;
  }
  return -ENOENT;
}

/* BPF_MAP_GET_NEXT_KEY: the key after `key` in element order; the first key when key is 0 or absent. */
static i32 htab_next_key(struct map *m, const u8 *key, u8 *next_out) {
  u32 start = key ? (u32)htab_find(m, key, 0) : 0; /* index + 1 of key = index of the one after */
  return htab_iter(m, start, next_out, 0) < 0 ? -ENOENT : 0;
}
