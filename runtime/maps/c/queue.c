/*
 * queue.c: QUEUE (FIFO) and STACK (LIFO), kernel/bpf/queue_stack_maps.c: a ring of max_entries + 1 value slots
 * in the metadata zone under the map lock. Programs only ever get copies (push copies in, pop/peek copy out),
 * so the slots are in no program region.
 *
 * push with BPF_EXIST on a full map drops the oldest element (for both kinds), as the kernel does.
 *
 * Not here: handle checks (core.c).
 */

INLINE u8 *q_slot(struct map *m, u32 i) { return (u8 *)(m->q_slots + i * m->value_stride); }

static i32 queue_create(struct map *m, const struct attr *a) {
  if (a->flags & ~(F_NUMA_NODE | F_ACCESS_MASK)) return -EINVAL;
  if (a->key_size != 0 || a->value_size == 0 || a->max_entries == 0) return -EINVAL;
  if (a->value_size > MAX_VALUE_SIZE || a->max_entries > (1u << 28)) return -E2BIG;
  m->q_size = a->max_entries + 1;
  m->q_slots = zalloc(&H()->meta, (u64)m->q_size * m->value_stride, 8);
  return m->q_slots ? 0 : -ENOMEM;
}

static i32 queue_push(struct map *m, const u8 *value, u64 flags) {
  if ((flags & BPF_NOEXIST) || flags > BPF_EXIST) return -EINVAL;
  spin_lock(&m->lock);
  if (m->count == m->max_entries) {
    if (flags != BPF_EXIST) {
      spin_unlock(&m->lock);
      return -E2BIG;
    }
    if (++m->q_tail >= m->q_size) m->q_tail = 0;
    m->count--;
  }
  copy(q_slot(m, m->q_head), value, m->value_size);
  if (++m->q_head >= m->q_size) m->q_head = 0;
  m->count++;
  spin_unlock(&m->lock);
  return 0;
}

/* pop (remove) or peek: the oldest element of a queue, the newest of a stack. */
static i32 queue_take(struct map *m, u8 *out, int remove) {
  spin_lock(&m->lock);
  if (m->count == 0) {
    spin_unlock(&m->lock);
    return -ENOENT;
  }
  u32 i;
  if (m->type == T_QUEUE) {
    i = m->q_tail;
    if (remove && ++m->q_tail >= m->q_size) m->q_tail = 0;
  } else {
    i = m->q_head ? m->q_head - 1 : m->q_size - 1;
    if (remove) m->q_head = i;
  }
  copy(out, q_slot(m, i), m->value_size);
  if (remove) m->count--;
  spin_unlock(&m->lock);
  return 0;
}
