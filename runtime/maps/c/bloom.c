/*
 * bloom.c: BLOOM_FILTER, kernel/bpf/bloom_filter.c: a bit array in the metadata zone, nr_hash_funcs bits per
 * value (map_extra bits 0-3; 0 means 5). push sets the bits with atomic ORs, peek answers 0 when all are set
 * ("maybe present") and -ENOENT otherwise: never a false negative. Bits are never cleared (no delete).
 *
 * Size as in the kernel: max_entries * nr_hash_funcs / ln 2 bits, rounded up to a power of two (at least 64,
 * at most 2^31).
 *
 * Not here: handle checks (core.c).
 */

static i32 bloom_create(struct map *m, const struct attr *a) {
  if (a->flags & ~(F_NUMA_NODE | F_ZERO_SEED | F_ACCESS_MASK)) return -EINVAL;
  if (a->key_size != 0 || a->value_size == 0 || a->max_entries == 0) return -EINVAL;
  if (a->extra_hi != 0 || (a->extra_lo & ~0xfu)) return -EINVAL;
  if (a->value_size > MAX_VALUE_SIZE) return -E2BIG;
  m->nr_hash = a->extra_lo & 0xf ? a->extra_lo & 0xf : 5;
  /* 7/5 approximates 1/ln 2, as the kernel does. */
  u64 want = (u64)a->max_entries * m->nr_hash * 7 / 5;
  u64 bits = 64;
  while (bits < want && bits < (1ull << 31)) bits <<= 1;
  m->bit_mask = (u32)(bits - 1);
  m->bits = zalloc(&H()->meta, bits / 8, 8);
  return m->bits ? 0 : -ENOMEM;
}

INLINE u32 bloom_bit(struct map *m, const u8 *value, u32 i) { return hash_bytes(value, m->value_size, m->seed + i) & m->bit_mask; }

static i32 bloom_push(struct map *m, const u8 *value, u64 flags) {
  if (flags != BPF_ANY) return -EINVAL;
  u32 *words = (u32 *)m->bits;
  for (u32 i = 0; i < m->nr_hash; i++) {
    u32 b = bloom_bit(m, value, i);
    __atomic_fetch_or(&words[b >> 5], 1u << (b & 31), __ATOMIC_SEQ_CST);
  }
  return 0;
}

static i32 bloom_peek(struct map *m, const u8 *value) {
  u32 *words = (u32 *)m->bits;
  for (u32 i = 0; i < m->nr_hash; i++) {
    u32 b = bloom_bit(m, value, i);
    if (!(ld32(&words[b >> 5]) & (1u << (b & 31)))) return -ENOENT;
  }
  return 0;
}
