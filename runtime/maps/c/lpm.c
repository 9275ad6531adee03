/*
 * lpm.c: LPM_TRIE, the kernel's path-compressed binary trie (kernel/bpf/lpm_trie.c) over keys
 * `struct bpf_lpm_trie_key { u32 prefixlen; u8 data[key_size - 4]; }` (prefixlen in host order, data in
 * network order, compared most significant bit first).
 *
 * As in Linux, creation requires BPF_F_NO_PREALLOC, key_size is 5..260 and a full trie answers -ENOSPC.
 * Storage is preallocated anyway: 2 * max_entries nodes in the metadata zone (real entries plus the
 * intermediate branch nodes, of which there are always fewer than real ones) and max_entries value slots in
 * the value arena. A real node owns a value slot; slots never move, so a looked-up pointer stays valid memory.
 *
 *   node: { u32 child[2] (index + 1); u32 prefixlen; u32 flags (IM, USED); u32 slot (index + 1); u8 data[] }
 *
 * Concurrency: writers serialise on the trie's sequence lock (m->seq); lookups take no lock and retry when it
 * moved. Every walk is bounded (max_prefixlen + 2 steps) and every child index is range-checked, so a lookup
 * racing a writer never leaves the node pool.
 *
 * Lookups match `min(key.prefixlen, node.prefixlen)` bits, like the kernel's longest_prefix_match. Iteration
 * and get_next_key go in node order (the kernel uses a post-order walk; any order is allowed).
 *
 * Not here: handle checks (core.c).
 */

#define LN_IM 1
#define LN_USED 2
#define LNODE_HDR 20

struct lnode {
  u32 child[2], prefixlen, flags, slot;
  u8 data[];
};

INLINE struct lnode *lnode_at(struct map *m, u32 idx) { return (struct lnode *)(m->nodes + idx * m->node_stride); }
INLINE u32 lpm_pool(struct map *m) { return 2 * m->max_entries; }
INLINE u8 *lpm_value(struct map *m, u32 slot) { return (u8 *)(m->values + (slot - 1) * m->elem_values); }
INLINE u32 extract_bit(const u8 *data, u32 index) { return (data[index >> 3] >> (7 - (index & 7))) & 1; }

static i32 lpm_create(struct map *m, const struct attr *a, struct zone *vz) {
  if (!(a->flags & F_NO_PREALLOC) || (a->flags & ~(F_NO_PREALLOC | F_NUMA_NODE | F_ACCESS_MASK))) return -EINVAL;
  if (a->key_size < 5 || a->key_size > 4 + 256 || a->value_size == 0 || a->max_entries == 0) return -EINVAL;
  if (a->value_size > MAX_VALUE_SIZE || a->max_entries > (1u << 27)) return -E2BIG;
  m->data_size = a->key_size - 4;
  m->max_prefixlen = m->data_size * 8;
  m->node_stride = round8(LNODE_HDR + m->data_size);
  u32 pool = 2 * a->max_entries;
  m->nodes = zalloc(&H()->meta, (u64)pool * m->node_stride, 8);
  m->slot_stack = zalloc(&H()->meta, (u64)a->max_entries * 4, 8);
  m->values = zalloc(vz, (u64)a->max_entries * m->elem_values, 8);
  if (!m->nodes || !m->slot_stack || !m->values) return -ENOMEM;
  for (u32 i = 0; i < pool; i++) lnode_at(m, i)->child[0] = i + 1 < pool ? i + 2 : 0;
  m->node_free = 1;
  /* Slot stack popped from the top: slot 1 first. */
  u32 *stack = (u32 *)m->slot_stack;
  for (u32 i = 0; i < a->max_entries; i++) stack[i] = a->max_entries - i;
  m->slot_top = a->max_entries;
  return 0;
}

/* Node and slot pools (writer only). */
static u32 lnode_alloc(struct map *m) {
  u32 n = m->node_free;
  if (!n) return 0;
  struct lnode *x = lnode_at(m, n - 1);
  m->node_free = x->child[0];
  zero(x, m->node_stride);
  return n;
}
static void lnode_free(struct map *m, u32 n) {
  struct lnode *x = lnode_at(m, n - 1);
  if (x->slot) ((u32 *)m->slot_stack)[m->slot_top++] = x->slot;
  x->flags = 0;
  x->slot = 0;
  x->child[1] = 0;
  x->child[0] = m->node_free;
  m->node_free = n;
}

/* Length of the common prefix of node n and the key's data, at most min(n.prefixlen, keylen). */
static u32 lpm_match(struct map *m, struct lnode *n, const u8 *kd, u32 keylen) {
  /* Atomic loads of the node: lock-free readers need no fence (seq_retry). */
  u32 limit = min32(ld32(&n->prefixlen), keylen), len = 0;
  for (u32 i = 0; i < m->data_size && len < limit; i++) {
    u32 b = ld8(&n->data[i]) ^ kd[i];
    if (b) {
      len += __builtin_clz(b) - 24;
      break;
    }
    len += 8;
  }
  return min32(len, limit);
}

/* Longest-prefix match (trie_lookup_elem): the matching real node's value slot, or 0. Reader: call inside a
 * seq section. */
static u32 lpm_walk(struct map *m, const u8 *key) {
  u32 keylen = rd32(key), found = 0, cur = ld32(&m->root);
  const u8 *kd = key + 4;
  for (u32 steps = 0; cur != 0 && cur <= lpm_pool(m) && steps <= m->max_prefixlen + 1; steps++) {
    struct lnode *n = lnode_at(m, cur - 1);
    u32 plen = ld32(&n->prefixlen), flags = ld32(&n->flags);
    if (plen > m->max_prefixlen) break;
    u32 ml = lpm_match(m, n, kd, keylen);
    if (ml == m->max_prefixlen) {
      if (!(flags & LN_IM)) found = ld32(&n->slot);
      break;
    }
    if (ml < plen) break;
    if (!(flags & LN_IM)) found = ld32(&n->slot);
    cur = ld32(&n->child[extract_bit(kd, plen)]);
  }
  return found <= m->max_entries ? found : 0;
}

/* The value slot of the longest match; copies the value (sys form) when out is given. Lock-free. */
static u32 lpm_find(struct map *m, const u8 *key, u8 *out) {
  for (;;) {
    u32 s = seq_begin(&m->seq);
    u32 slot = lpm_walk(m, key);
    if (slot && out) copy_stored(out, lpm_value(m, slot), m->value_size);
    if (!seq_retry(&m->seq, s)) return slot;
  }
}

static u64 lpm_lookup_prog(struct map *m, const u8 *key) {
  u32 slot = lpm_find(m, key, 0);
  return slot ? (u32)lpm_value(m, slot) : 0;
}

static i32 lpm_update(struct map *m, const u8 *key, const u8 *value, u64 flags) {
  u32 keylen = rd32(key);
  const u8 *kd = key + 4;
  if (flags > BPF_EXIST || keylen > m->max_prefixlen) return -EINVAL;
  i32 r = 0;
  seq_write_lock(&m->seq);
  u32 *slotp = &m->root, cur, ml = 0;
  struct lnode *n = 0;
  while ((cur = *slotp) != 0) {
    n = lnode_at(m, cur - 1);
    ml = lpm_match(m, n, kd, keylen);
    if (n->prefixlen != ml || n->prefixlen == keylen || n->prefixlen == m->max_prefixlen) break;
    slotp = &n->child[extract_bit(kd, n->prefixlen)];
  }
  if (cur && n->prefixlen == ml) {
    /* The node for exactly this prefix exists. */
    if (!(n->flags & LN_IM)) {
      if (flags == BPF_NOEXIST) r = -EEXIST;
      else copy(lpm_value(m, n->slot), value, m->value_size);
      goto out;
    }
    if (flags == BPF_EXIST) { r = -ENOENT; goto out; }
    if (m->count >= m->max_entries || m->slot_top == 0) { r = -ENOSPC; goto out; }
    n->slot = ((u32 *)m->slot_stack)[--m->slot_top];
    copy(lpm_value(m, n->slot), value, m->value_size);
    n->flags = LN_USED;
    m->count++;
    goto out;
  }
  if (flags == BPF_EXIST) { r = -ENOENT; goto out; }
  if (m->count >= m->max_entries || m->slot_top == 0) { r = -ENOSPC; goto out; }
  u32 fresh = lnode_alloc(m);
  u32 im = cur && ml != keylen ? lnode_alloc(m) : 1;
  if (!fresh || !im) {
    if (fresh) lnode_free(m, fresh);
    r = -ENOMEM;
    goto out;
  }
  struct lnode *x = lnode_at(m, fresh - 1);
  x->prefixlen = keylen;
  x->flags = LN_USED;
  x->slot = ((u32 *)m->slot_stack)[--m->slot_top];
  copy(x->data, kd, m->data_size);
  copy(lpm_value(m, x->slot), value, m->value_size);
  m->count++;
  if (!cur) {
    *slotp = fresh;
  } else if (ml == keylen) {
    /* The new prefix is a prefix of n: n hangs below it. */
    x->child[extract_bit(n->data, ml)] = cur;
    *slotp = fresh;
  } else {
    /* They diverge at bit ml: a branch node with both below it. */
    struct lnode *y = lnode_at(m, im - 1);
    y->prefixlen = ml;
    y->flags = LN_IM | LN_USED;
    copy(y->data, n->data, m->data_size);
    u32 bit = extract_bit(kd, ml);
    y->child[bit] = fresh;
    y->child[!bit] = cur;
    *slotp = im;
  }
out:
  seq_write_unlock(&m->seq);
  return r;
}

/* The walk of trie_delete_elem towards the real node with exactly key's prefix. Returns that node (index + 1)
 * or 0 in the low half, and its parent (index + 1, 0 = none) in the high half; `link` is set to the address
 * of the link to the node and `link2` to the link to its parent (Wasm globals, so no local needs an address).
 * Writer, or reader inside a seq section. */
static u32 WASM_GLOBAL lpm_link;
static u32 WASM_GLOBAL lpm_link2;
static u64 lpm_exact(struct map *m, const u8 *key) {
  u32 keylen = rd32(key), cur, ml = 0, parent = 0;
  const u8 *kd = key + 4;
  u32 *trim = &m->root, *trim2 = trim;
  struct lnode *n = 0;
  for (u32 steps = 0; (cur = *trim) != 0 && cur <= lpm_pool(m) && steps <= m->max_prefixlen + 1; steps++) {
    n = lnode_at(m, cur - 1);
    ml = lpm_match(m, n, kd, keylen);
    if (n->prefixlen != ml || n->prefixlen == keylen || n->prefixlen >= m->max_prefixlen) break;
    parent = cur;
    trim2 = trim;
    trim = &n->child[extract_bit(kd, n->prefixlen)];
  }
  if (!cur || cur > lpm_pool(m) || n->prefixlen != keylen || n->prefixlen != ml || (n->flags & LN_IM)) return 0;
  lpm_link = (u32)trim;
  lpm_link2 = (u32)trim2;
  return (u64)parent << 32 | cur;
}

static i32 lpm_delete(struct map *m, const u8 *key) {
  if (rd32(key) > m->max_prefixlen) return -EINVAL;
  seq_write_lock(&m->seq);
  u64 found = lpm_exact(m, key);
  u32 cur = (u32)found, parent = (u32)(found >> 32);
  if (!cur) {
    seq_write_unlock(&m->seq);
    return -ENOENT;
  }
  u32 *trim = (u32 *)lpm_link, *trim2 = (u32 *)lpm_link2;
  struct lnode *n = lnode_at(m, cur - 1);
  m->count--;
  if (n->child[0] && n->child[1]) {
    /* Still a branch point: keep it as an intermediate node. */
    ((u32 *)m->slot_stack)[m->slot_top++] = n->slot;
    n->slot = 0;
    n->flags = LN_IM | LN_USED;
  } else if (parent && (lnode_at(m, parent - 1)->flags & LN_IM) && !n->child[0] && !n->child[1]) {
    /* A leaf under an intermediate node: the node's sibling takes the intermediate node's place. */
    struct lnode *p = lnode_at(m, parent - 1);
    *trim2 = p->child[0] == cur ? p->child[1] : p->child[0];
    lnode_free(m, parent);
    lnode_free(m, cur);
  } else {
    *trim = n->child[0] ? n->child[0] : n->child[1];
    lnode_free(m, cur);
  }
  seq_write_unlock(&m->seq);
  return 0;
}

/* The first real node at index >= pos: its key (prefixlen, data) and, with value_out, its value. */
static i32 lpm_iter(struct map *m, u32 pos, u8 *key_out, u8 *value_out) {
  for (u32 i = pos; i < lpm_pool(m); i++) {
    struct lnode *n = lnode_at(m, i);
    int ok;
    for (;;) {
      u32 s = seq_begin(&m->seq);
      u32 slot = ld32(&n->slot);
      ok = ld32(&n->flags) == LN_USED && slot != 0 && slot <= m->max_entries;
      if (ok) {
        wr32(key_out, ld32(&n->prefixlen));
        copy_stored(key_out + 4, n->data, m->data_size);
        if (value_out) copy_stored(value_out, lpm_value(m, slot), m->value_size);
      }
      if (!seq_retry(&m->seq, s)) break;
    }
    if (ok) return (i32)i;
  }
  return -ENOENT;
}

static i32 lpm_next_key(struct map *m, const u8 *key, u8 *next_out) {
  u32 start = 0;
  if (key) {
    for (;;) {
      u32 s = seq_begin(&m->seq);
      start = (u32)lpm_exact(m, key); /* index + 1 = the index after it */
      if (!seq_retry_fenced(&m->seq, s)) break;
    }
  }
  return lpm_iter(m, start, next_out, 0) < 0 ? -ENOENT : 0;
}
