/*
 * array.c: ARRAY and PERCPU_ARRAY (values in the value arena, or the read-only arena for BPF_F_RDONLY_PROG),
 * and the "fd arrays" PROG_ARRAY and ARRAY_OF_MAPS, whose u32 slots (program slot id / inner map id) live in
 * the metadata zone: a program never gets their address, only the inner map's handle from a lookup.
 *
 * Array elements always exist: lookups in range never fail, BPF_NOEXIST is -EEXIST and delete is -EINVAL,
 * as in the kernel. Values are written with plain copies (a program wanting atomicity uses atomic
 * instructions on the looked-up value, as in the kernel).
 *
 * Not here: handle checks and the program/user-space split (core.c).
 */

INLINE u8 *array_elem(struct map *m, u32 idx) { return (u8 *)(m->values + idx * m->elem_values); }

static i32 array_create(struct map *m, const struct attr *a, struct zone *vz) {
  u32 mask = F_NUMA_NODE | F_MMAPABLE | F_ACCESS_MASK | F_PRESERVE_ELEMS | F_INNER_MAP;
  int fd = a->type == T_PROG_ARRAY || a->type == T_ARRAY_OF_MAPS;
  if (a->flags & ~mask) return -EINVAL;
  if (a->key_size != 4 || a->value_size == 0 || a->max_entries == 0) return -EINVAL;
  if (a->type == T_PERCPU_ARRAY && (a->flags & F_MMAPABLE)) return -EINVAL;
  if (fd && a->value_size != 4) return -EINVAL;
  if (a->type == T_PROG_ARRAY && (a->flags & (F_RDONLY_PROG | F_WRONLY_PROG))) return -EINVAL;
  if (a->type == T_PERCPU_ARRAY && a->value_size > PCPU_MIN_UNIT_SIZE) return -E2BIG;
  if (a->value_size > MAX_VALUE_SIZE) return -E2BIG;
  if (fd) {
    m->slots = zalloc(&H()->meta, (u64)a->max_entries * 4, 8);
    return m->slots ? 0 : -ENOMEM;
  }
  m->values = zalloc(vz, (u64)a->max_entries * m->elem_values, 8);
  return m->values ? 0 : -ENOMEM;
}

static u64 array_lookup_prog(struct map *m, const u8 *key, u32 cpu) {
  u32 idx = rd32(key);
  if (idx >= m->max_entries) return 0;
  return (u32)cpu_value(m, array_elem(m, idx), cpu);
}

static i32 array_update(struct map *m, const u8 *key, const u8 *value, u64 flags, int sys) {
  u32 idx = rd32(key);
  if ((flags & ~(u64)BPF_F_LOCK) > BPF_EXIST) return -EINVAL;
  if (idx >= m->max_entries) return -E2BIG;
  if (flags & BPF_NOEXIST) return -EEXIST;
  if (flags & BPF_F_LOCK) return -EINVAL; /* no bpf_spin_lock in values */
  u8 *v = array_elem(m, idx);
  if (m->type == T_PERCPU_ARRAY) {
    if (sys)
      copy(v, value, m->elem_values);
    else
      copy(v + g_cpu * m->value_stride, value, m->value_size);
  } else {
    copy(v, value, m->value_size);
  }
  return 0;
}

static i32 array_lookup_sys(struct map *m, const u8 *key, u8 *out) {
  u32 idx = rd32(key);
  if (idx >= m->max_entries) return -ENOENT;
  copy(out, array_elem(m, idx), m->type == T_PERCPU_ARRAY ? m->elem_values : m->value_size);
  return 0;
}

/* Kernel order: no key or out of range gives index 0; the last index has no next. */
static i32 array_next_key(struct map *m, const u8 *key, u8 *next_out) {
  u32 idx = key ? rd32(key) : 0xffffffffu;
  u32 next = idx >= m->max_entries ? 0 : idx + 1;
  if (next >= m->max_entries) return -ENOENT;
  wr32(next_out, next);
  return 0;
}

static i32 array_iter(struct map *m, u32 pos, u8 *key_out, u8 *value_out) {
  if (pos >= m->max_entries) return -ENOENT;
  wr32(key_out, pos);
  if (value_out) copy(value_out, array_elem(m, pos), m->type == T_PERCPU_ARRAY ? m->elem_values : m->value_size);
  return (i32)pos;
}

/* fd arrays ------------------------------------------------------------------------------------------------ */

INLINE u32 *fd_slot(struct map *m, u32 idx) { return (u32 *)(m->slots + idx * 4); }

/* Whether map id `inner` may be stored in the map of maps `outer` (bpf_map_meta_equal: same type, sizes and
 * flags; same max_entries unless the template has BPF_F_INNER_MAP). */
static int inner_compatible(struct map *outer, u32 inner) {
  struct map *in = map_of_id(inner);
  if (!in) return 0;
  if (in->type != outer->inner_type || in->key_size != outer->inner_key_size ||
      in->value_size != outer->inner_value_size || in->flags != outer->inner_flags)
    return 0;
  return (outer->inner_flags & F_INNER_MAP) || in->max_entries == outer->inner_max_entries;
}

/* User-space update of an fd array: only BPF_ANY, as the kernel. */
static i32 fd_update(struct map *m, const u8 *key, const u8 *value, u64 flags) {
  u32 idx = rd32(key), v = rd32(value);
  if (flags != BPF_ANY) return -EINVAL;
  if (idx >= m->max_entries) return -E2BIG;
  if (v == 0xffffffffu) return -EINVAL;
  if (m->type == T_ARRAY_OF_MAPS && !inner_compatible(m, v)) return -EINVAL;
  st32(fd_slot(m, idx), v + 1);
  return 0;
}

static i32 fd_delete(struct map *m, const u8 *key) {
  u32 idx = rd32(key);
  if (idx >= m->max_entries) return -E2BIG;
  return xchg32(fd_slot(m, idx), 0) ? 0 : -ENOENT;
}

static i32 fd_lookup_sys(struct map *m, const u8 *key, u8 *out) {
  u32 idx = rd32(key);
  if (idx >= m->max_entries) return -ENOENT;
  u32 v = ld32(fd_slot(m, idx));
  if (!v) return -ENOENT;
  v -= 1;
  wr32(out, v);
  return 0;
}

/* The stored id at idx, or 0xffffffff when empty or out of range. */
static u32 fd_get(struct map *m, u32 idx) {
  if (idx >= m->max_entries) return 0xffffffffu;
  return ld32(fd_slot(m, idx)) - 1;
}

/* Iteration visits only the occupied slots. */
static i32 fd_iter(struct map *m, u32 pos, u8 *key_out, u8 *value_out) {
  for (u32 i = pos; i < m->max_entries; i++) {
    u32 v = ld32(fd_slot(m, i));
    if (!v) continue;
    v -= 1;
    wr32(key_out, i);
    if (value_out) wr32(value_out, v);
    return (i32)i;
  }
  return -ENOENT;
}
