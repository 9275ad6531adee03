/*
 * ringbuf.c: RINGBUF, kernel/bpf/ringbuf.c: a multi-producer, single-consumer ring of variable-length
 * records, each behind the kernel's 8-byte header
 *
 *     struct bpf_ringbuf_hdr { u32 len; u32 pg_off; }   len bit 31 BUSY (reserved, not yet committed),
 *                                                       bit 30 DISCARD; pg_off = header offset in the data / 4096
 *
 * and padded to 8 bytes. Producer and consumer positions grow without bound (u64); a record lives at
 * data + (pos & mask).
 *
 * The data area sits in the value arena (programs write their reserved records in place) and is twice the
 * ring's size: the kernel maps the data pages twice so that a record crossing the end is contiguous; linear
 * memory cannot alias pages, so a record that starts near the end simply continues into the second half.
 * That is safe because live records always span at most `size` bytes of positions, so a record in the second
 * half never overlaps a live one at the start of the ring.
 *
 * The positions, the producer lock and the wake-up word live in the map descriptor (metadata), out of every
 * region. Headers are in the arena and so writable by programs: the consumer therefore checks each header
 * against the positions, so a corrupted one can make it read garbage from the ring, never outside it. submit
 * and discard find the ring from the record address itself (a program may pass any value) and act only on
 * an 8-aligned header inside a ring whose BUSY bit is set.
 *
 * Wake-ups: a submit notifies (memory.atomic.notify) the map's `notify` word when the consumer has caught up
 * with this record, or always with BPF_RB_FORCE_WAKEUP, never with BPF_RB_NO_WAKEUP (the kernel's policy); a
 * JS consumer may wait on it with Atomics.waitAsync.
 *
 * Not here: handle checks (core.c), record decoding for JS (../ringbuf.ts).
 */

#define RB_BUSY (1u << 31)
#define RB_DISCARD (1u << 30)
#define RB_HDR 8
#define RB_PAGE 4096
#define BPF_RB_NO_WAKEUP 1
#define BPF_RB_FORCE_WAKEUP 2
#define BPF_RB_AVAIL_DATA 0
#define BPF_RB_RING_SIZE 1
#define BPF_RB_CONS_POS 2
#define BPF_RB_PROD_POS 3

INLINE u32 rb_size(struct map *m) { return m->rb_mask + 1; }

static i32 ringbuf_create(struct map *m, const struct attr *a) {
  if (a->flags & ~F_NUMA_NODE) return -EINVAL;
  if (a->key_size != 0 || a->value_size != 0) return -EINVAL;
  u32 size = a->max_entries;
  if (size < RB_PAGE || (size & (size - 1))) return -EINVAL;
  if (size > (1u << 30)) return -E2BIG;
  m->rb_mask = size - 1;
  m->rb_data = zalloc(&H()->values, 2ull * size, RB_PAGE);
  return m->rb_data ? 0 : -ENOMEM;
}

static u64 ringbuf_reserve(struct map *m, u64 size, u64 flags) {
  if (flags != 0 || size > rb_size(m) - RB_HDR) return 0;
  u32 len = round8((u32)size + RB_HDR);
  spin_lock(&m->lock);
  u64 cons = ld64(&m->cons_pos), prod = m->prod_pos;
  if (prod + len - cons > rb_size(m)) {
    spin_unlock(&m->lock);
    return 0;
  }
  u32 off = (u32)prod & m->rb_mask;
  u32 *hdr = (u32 *)(m->rb_data + off);
  st32(&hdr[0], (u32)size | RB_BUSY);
  hdr[1] = off / RB_PAGE;
  st64(&m->prod_pos, prod + len); /* after the header: a consumer that sees the position sees BUSY */
  spin_unlock(&m->lock);
  return m->rb_data + off + RB_HDR;
}

/* The ring buffer whose ring holds the header at hdr, or 0. */
static struct map *ringbuf_of_record(u32 hdr) {
  u32 id = ld32(&H()->rb_head);
  for (u32 steps = 0; id != 0 && steps < MAX_MAPS; steps++) {
    struct map *m = map_of_id(id);
    if (!m || m->type != T_RINGBUF) return 0;
    if (hdr >= m->rb_data && hdr - m->rb_data < rb_size(m)) return (hdr - m->rb_data) % RB_HDR == 0 ? m : 0;
    id = m->rb_next;
  }
  return 0;
}

/* bpf_ringbuf_submit / bpf_ringbuf_discard. A sample that is not a reserved record is ignored. */
static void ringbuf_commit(u64 sample, u64 flags, int discard) {
  if (!PTR_OK(sample) || sample < RB_HDR) return;
  u32 hdr = (u32)sample - RB_HDR;
  struct map *m = ringbuf_of_record(hdr);
  if (!m) return;
  u32 *len = (u32 *)hdr;
  for (;;) {
    u32 old = ld32(len);
    if (!(old & RB_BUSY)) return;
    u32 want = (old & ~RB_BUSY) | (discard ? RB_DISCARD : 0);
    if (cas32(len, old, want) == old) break;
  }
  u32 cons_off = (u32)ld64(&m->cons_pos) & m->rb_mask;
  if ((flags & BPF_RB_FORCE_WAKEUP) || (!(flags & BPF_RB_NO_WAKEUP) && cons_off == hdr - m->rb_data)) {
    xadd32(&m->notify, 1);
    __builtin_wasm_memory_atomic_notify((int *)&m->notify, 0xffffffffu);
  }
}

static i64 ringbuf_output(struct map *m, const u8 *data, u64 size, u64 flags) {
  if (flags & ~(u64)(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP)) return -EINVAL;
  u64 rec = ringbuf_reserve(m, size, 0);
  if (!rec) return -EAGAIN;
  copy((u8 *)(u32)rec, data, (u32)size);
  ringbuf_commit(rec, flags, 0);
  return 0;
}

static u64 ringbuf_query(struct map *m, u64 flags) {
  switch (flags) {
  case BPF_RB_AVAIL_DATA: return ld64(&m->prod_pos) - ld64(&m->cons_pos);
  case BPF_RB_RING_SIZE: return rb_size(m);
  case BPF_RB_CONS_POS: return ld64(&m->cons_pos);
  case BPF_RB_PROD_POS: return ld64(&m->prod_pos);
  default: return 0;
  }
}

/* Consumer (one at a time, as in the kernel): the next committed record as (len << 32 | address), skipping
 * discarded ones; 0 when none is ready (empty, or the next one is still reserved); -EFAULT when the header at
 * the consumer position is corrupt (a program wrote over it). The record stays until ringbuf_advance. */
static i64 ringbuf_peek(struct map *m) {
  for (;;) {
    u64 cons = ld64(&m->cons_pos), prod = ld64(&m->prod_pos);
    if (cons == prod) return 0;
    u32 off = (u32)cons & m->rb_mask;
    u32 len = ld32((u32 *)(m->rb_data + off));
    if (len & RB_BUSY) return 0;
    u32 size = len & ~(RB_BUSY | RB_DISCARD);
    if (size > rb_size(m) - RB_HDR || round8(size + RB_HDR) > prod - cons) return -EFAULT;
    if (len & RB_DISCARD) {
      st64(&m->cons_pos, cons + round8(size + RB_HDR));
      continue;
    }
    return (i64)((u64)size << 32 | (m->rb_data + off + RB_HDR));
  }
}

/* Consumes the record ringbuf_peek returned. */
static i32 ringbuf_advance(struct map *m) {
  u64 cons = ld64(&m->cons_pos), prod = ld64(&m->prod_pos);
  if (cons == prod) return -ENOENT;
  u32 len = ld32((u32 *)(m->rb_data + ((u32)cons & m->rb_mask)));
  u32 size = len & ~(RB_BUSY | RB_DISCARD);
  if ((len & RB_BUSY) || size > rb_size(m) - RB_HDR || round8(size + RB_HDR) > prod - cons) return -EFAULT;
  st64(&m->cons_pos, cons + round8(size + RB_HDR));
  return 0;
}
