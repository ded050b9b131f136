/*
 * An entry's dots: packed, or in an array that carries its capacity (see
 * store.h, crdt__entry).
 */
#include <string.h>

#include "sort.h"
#include "store.h"

static inline uint64_t pack(crdt__dv d) { return crdt__dv_pack(d); }

/* Dot arrays carry their capacity in the 8 bytes before element 0. */
static size_t array_bytes(uint32_t cap) {
  size_t n = crdt__mul(cap, sizeof(crdt__dv));
  return n > SIZE_MAX - sizeof(uint64_t) ? SIZE_MAX : n + sizeof(uint64_t);
}

static crdt__dv *array_of_block(uint8_t *block, uint32_t cap) {
  uint64_t c = cap;
  memcpy(block, &c, sizeof c);
  return (crdt__dv *)(void *)(block + sizeof c);
}

static uint8_t *block_of_array(crdt__dv *many) {
  return (uint8_t *)many - sizeof(uint64_t);
}

static void array_free(const crdt_allocator *m, crdt__dv *many, uint32_t cap) {
  crdt__free(m, block_of_array(many), array_bytes(cap));
}

static inline void set_array(crdt__entry *e, crdt__dv *many) {
  e->dots = (uint64_t)(uintptr_t)many;
}

int crdt__entry_reserve(crdt__entry *e, const crdt_allocator *m, uint32_t n,
                        bool packable) {
  uint32_t have = crdt__entry_cap(e);
  if (have == 0 && n <= 1 && packable) return 0;
  if (n <= have) return 0;
  uint32_t cap = crdt__grow_cap(have, 2, n);
  if (have == 0) {
    uint8_t *block = crdt__alloc(m, array_bytes(cap));
    if (!block) return CRDT_ENOMEM;
    crdt__dv *many = array_of_block(block, cap);
    if (e->ndots) crdt__entry_view(e, &many[0]);
    set_array(e, many);
  } else {
    uint8_t *block =
        crdt__realloc(m, block_of_array(crdt__entry_array(e)),
                      array_bytes(have), array_bytes(cap));
    if (!block) return CRDT_ENOMEM;
    set_array(e, array_of_block(block, cap));
  }
  return 0;
}

void crdt__entry_push(crdt__entry *e, crdt__dv d) {
  if (crdt__entry_many(e))
    crdt__entry_array(e)[e->ndots] = d;
  else
    e->dots = pack(d); /* reserved as packable, and empty */
  e->ndots++;
}

void crdt__entry_retain(crdt__entry *e,
                        bool (*keep)(const crdt__dv *d, const void *user),
                        const void *user) {
  if (!crdt__entry_many(e)) {
    crdt__dv one;
    if (e->ndots && !keep(crdt__entry_view(e, &one), user)) {
      e->ndots = 0;
      e->dots = 0;
    }
    return;
  }
  crdt__dv *many = crdt__entry_array(e);
  uint32_t kept = 0;
  for (uint32_t i = 0; i < e->ndots; i++)
    if (keep(&many[i], user)) many[kept++] = many[i];
  e->ndots = kept;
}

void crdt__entry_shrink(crdt__entry *e, const crdt_allocator *m) {
  if (!crdt__entry_many(e) || e->ndots > 1) return;
  crdt__dv *many = crdt__entry_array(e);
  if (e->ndots == 1 && !crdt__dv_packable(many[0])) return;
  uint32_t cap = crdt__entry_cap(e);
  e->dots = e->ndots ? pack(many[0]) : 0;
  array_free(m, many, cap);
}

void crdt__entry_free_dots(crdt__entry *e, const crdt_allocator *m) {
  if (crdt__entry_many(e))
    array_free(m, crdt__entry_array(e), crdt__entry_cap(e));
  else if (crdt__entry_nested(e))
    crdt__store_destroy(crdt__entry_child(e), m);
  e->dots = 0;
}

void crdt__entry_set_one(crdt__entry *e, const crdt_allocator *m, crdt__dv d) {
  if (crdt__entry_many(e) && !crdt__dv_packable(d)) {
    crdt__entry_array(e)[0] = d;
    e->ndots = 1;
    return;
  }
  e->ndots = 0;
  crdt__entry_shrink(e, m);
  e->dots = pack(d);
  e->ndots = 1;
}

/* Exact, then clamped: saturating as one goes would depend on the order of
 * the dots, which differs between replicas holding equal states. Positive
 * and negative parts are summed as 96-bit magnitudes (a carry count each;
 * an entry has at most UINT32_MAX dots). */
bool crdt__entry_sum_exact(const crdt__entry *e, int64_t *out) {
  crdt__dv one;
  const crdt__dv *d = crdt__entry_view(e, &one);
  uint64_t pos = 0, pos_hi = 0, neg = 0, neg_hi = 0;
  for (uint32_t i = 0; i < e->ndots; i++) {
    int64_t v = d[i].value;
    if (v >= 0) {
      pos += (uint64_t)v;
      pos_hi += pos < (uint64_t)v;
    } else {
      uint64_t magnitude = (uint64_t)(-(v + 1)) + 1;
      neg += magnitude;
      neg_hi += neg < magnitude;
    }
  }
  if (pos_hi > neg_hi || (pos_hi == neg_hi && pos >= neg)) {
    uint64_t hi = pos_hi - neg_hi - (pos < neg);
    uint64_t lo = pos - neg;
    *out = hi || lo > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)lo;
    return !hi && lo <= (uint64_t)INT64_MAX;
  }
  uint64_t hi = neg_hi - pos_hi - (neg < pos);
  uint64_t lo = neg - pos;
  if (hi || lo > (uint64_t)INT64_MAX) {
    *out = INT64_MIN;
    return !hi && lo == (uint64_t)INT64_MAX + 1; /* -2^63 is exact */
  }
  *out = -(int64_t)lo;
  return true;
}

int64_t crdt__entry_sum(const crdt__entry *e) {
  int64_t v;
  crdt__entry_sum_exact(e, &v);
  return v;
}

int crdt__entry_copy_dots(crdt__entry *to, const crdt__entry *from,
                          const crdt_allocator *m) {
  if (crdt__entry_nested(from)) {
    crdt__store *child = crdt__store_new(m);
    if (!child || crdt__store_copy(child, m, crdt__entry_child(from))) {
      crdt__free(m, child, sizeof *child);
      to->dots = 0;
      return CRDT_ENOMEM;
    }
    crdt__entry_set_child(to, child);
    return 0;
  }
  if (!crdt__entry_many(from)) return 0;
  uint32_t cap = from->ndots ? from->ndots : 1;
  uint8_t *block = crdt__alloc(m, array_bytes(cap));
  if (!block) {
    to->dots = 0;
    return CRDT_ENOMEM;
  }
  crdt__dv *many = array_of_block(block, cap);
  memcpy(many, crdt__entry_array(from), from->ndots * sizeof *many);
  set_array(to, many);
  return 0;
}

static int dv_canonical_cmp(const void *a, const void *b, const void *ctx) {
  const crdt__replicas *r = ctx;
  const crdt__dv *x = a, *y = b;
  if (x->replica != y->replica) {
    size_t xl, yl;
    const char *xi = crdt__replicas_id(r, x->replica, &xl);
    const char *yi = crdt__replicas_id(r, y->replica, &yl);
    return crdt__replica_cmp(xi, xl, yi, yl);
  }
  return (x->counter > y->counter) - (x->counter < y->counter);
}

void crdt__entry_sorted_dots(const crdt__entry *e, const crdt__replicas *r,
                             crdt__dv *out) {
  if (!e->ndots) return; /* a marker: nothing to copy (out may be NULL) */
  crdt__dv one;
  memcpy(out, crdt__entry_view(e, &one), e->ndots * sizeof *out);
  crdt__sort(out, e->ndots, sizeof *out, dv_canonical_cmp, r);
}
