/*
 * Version vectors with a payload per entry (see pervec.h).
 */
#include <string.h>

#include "pervec.h"
#include "text.h"

/* ---- 128-bit decimal ------------------------------------------------------- */

/* Long division by 10 over four 32-bit limbs; at most 39 digits. */
static void wide_text(crdt__text *t, crdt__wide w) {
  if (!w.hi) {
    crdt__text_u64(t, w.lo);
    return;
  }
  uint32_t limb[4] = {(uint32_t)(w.hi >> 32), (uint32_t)w.hi,
                      (uint32_t)(w.lo >> 32), (uint32_t)w.lo};
  char digits[40];
  size_t n = 0;
  do {
    uint64_t rem = 0;
    for (int i = 0; i < 4; i++) {
      uint64_t cur = rem << 32 | limb[i];
      limb[i] = (uint32_t)(cur / 10);
      rem = cur % 10;
    }
    digits[sizeof digits - 1 - n++] = (char)('0' + rem);
  } while (limb[0] | limb[1] | limb[2] | limb[3]);
  crdt__text_put(t, digits + sizeof digits - n, n);
}

void crdt__wide_text_diff(crdt__text *t, crdt__wide a, crdt__wide b) {
  if (crdt__wide_cmp(a, b) >= 0) {
    wide_text(t, crdt__wide_sub(a, b));
  } else {
    crdt__text_put(t, "-", 1);
    wide_text(t, crdt__wide_sub(b, a));
  }
}

/* ---- entries ----------------------------------------------------------------- */

/* The join's order on one replica's entries (see pervec.h). */
static bool pvent_greater(const crdt__pvent *a, const crdt__pvent *b) {
  if (a->events != b->events) return a->events > b->events;
  if (a->payload[0] != b->payload[0]) return a->payload[0] > b->payload[0];
  return a->payload[1] > b->payload[1];
}

static bool pvent_eq(const crdt__pvent *a, const crdt__pvent *b) {
  return a->events == b->events && a->payload[0] == b->payload[0] &&
         a->payload[1] == b->payload[1];
}

/* Makes cap >= `len` (len and the entries unchanged). On CRDT_ENOMEM v is
 * unchanged. Capacities are powers of two from 1: most vectors are small
 * (a counter that has not merged has one entry), and a small state's parts
 * close together are what merging many of them reads. */
static int grow(crdt__pervec *v, const crdt_allocator *m, uint32_t len) {
  if (len <= v->cap) return 0;
  uint32_t cap = crdt__grow_cap(v->cap, 1, len);
  crdt__pvent *grown = crdt__realloc(m, v->entries, v->cap * sizeof *grown,
                                     crdt__mul(cap, sizeof *grown));
  if (!grown) return CRDT_ENOMEM;
  v->entries = grown;
  v->cap = cap;
  return 0;
}

int crdt__pervec_reserve(crdt__pervec *v, const crdt_allocator *m,
                         uint32_t len) {
  if (len <= v->len) return 0;
  int rc = grow(v, m, len);
  if (rc) return rc;
  memset(v->entries + v->len, 0, (len - v->len) * sizeof *v->entries);
  v->len = len;
  return 0;
}

int crdt__pervec_slot(crdt__pervec *v, const crdt_allocator *m, const char *id,
                      size_t len, uint32_t *index) {
  uint32_t before = v->replicas.count;
  int rc = crdt__replicas_intern(&v->replicas, m, id, len, index);
  if (rc) return rc;
  if ((rc = crdt__pervec_reserve(v, m, v->replicas.count)))
    crdt__replicas_truncate(&v->replicas, m, before);
  return rc;
}

/* crdt__pervec_set, inlined where a join calls it per entry. */
static inline void set_entry(crdt__pervec *v, uint32_t i,
                             const crdt__pvent *e) {
  crdt__pvent *old = &v->entries[i];
  for (unsigned k = 0; k < 2; k++) {
    /* total >= old payload always, so the subtraction cannot wrap. */
    crdt__wide dropped = {0, old->payload[k]};
    v->total[k] = crdt__wide_add(crdt__wide_sub(v->total[k], dropped),
                                 e->payload[k]);
  }
  *old = *e;
}

void crdt__pervec_set(crdt__pervec *v, uint32_t i, crdt__pvent e) {
  set_entry(v, i, &e);
}

int crdt__pervec_bump(const crdt__pervec *v, uint32_t i, unsigned k,
                      uint64_t n, crdt__pvent *out) {
  crdt__pvent e = crdt__pervec_get(v, i);
  if (e.events == UINT64_MAX || e.payload[k] > UINT64_MAX - n)
    return CRDT_ERANGE;
  e.events++;
  e.payload[k] += n;
  *out = e;
  return 0;
}

int crdt__pervec_join_one(crdt__pervec *dst, const crdt_allocator *m,
                          const char *id, size_t len, const crdt__pvent *e) {
  uint32_t i;
  int rc = crdt__pervec_slot(dst, m, id, len, &i);
  if (rc) return rc;
  if (pvent_greater(e, &dst->entries[i])) crdt__pervec_set(dst, i, *e);
  return 0;
}

/* Replicas of src that dst does not know are added to dst's table; their
 * entry there (index j, just added, < cap: see grow) is zero, so it simply
 * becomes src's entry (every entry is >= the zero entry). */
static inline void join_entry(crdt__pervec *dst, uint32_t j,
                              const crdt__pvent *e) {
  if (j == dst->len) dst->len++; /* else an entry kept past the table: zero */
  dst->entries[j] = *e;
  dst->total[0] = crdt__wide_add(dst->total[0], e->payload[0]);
  dst->total[1] = crdt__wide_add(dst->total[1], e->payload[1]);
}

/* join_single when src's replica is new to dst and dst has no room for it:
 * the entry's room first, so that adding the replica, which grows the
 * replica table, is the last step that can fail. Kept out of line: inlined,
 * its calls would cost join_single's common path register saves. */
__attribute__((noinline)) static int
join_single_grown(crdt__pervec *dst, const crdt_allocator *m,
                  const crdt__rid *rid, const crdt__pvent *e) {
  uint32_t j;
  int rc;
  if ((rc = grow(dst, m, dst->replicas.count + 1)) ||
      (rc = crdt__replicas_add_grown(&dst->replicas, m, rid, &j)))
    return rc;
  join_entry(dst, j, e);
  return 0;
}

/* dst := dst ⊔ src for a src with one replica (a counter merged from its
 * own replica, the common case): one probe, no map, and when dst has room
 * the new replica takes the slot the probe ended at. Growing is left to
 * join_single_grown, so this path makes no call. */
static int join_single(crdt__pervec *dst, const crdt_allocator *m,
                       const crdt__pervec *src) {
  const crdt__rid *rid = src->replicas.by_index[0];
  const crdt__pvent *e = &src->entries[0];
  uint32_t slot;
  uint32_t j = crdt__replicas_probe(&dst->replicas, rid->id, rid->len,
                                    rid->hash, &slot);
  if (j != CRDT__NO_REPLICA) {
    if (pvent_greater(e, &dst->entries[j])) set_entry(dst, j, e);
    return 0;
  }
  if (dst->replicas.count >= dst->cap ||
      !crdt__replicas_has_room(&dst->replicas, 1, crdt__rid_size(rid->len)))
    return join_single_grown(dst, m, rid, e);
  join_entry(dst, crdt__replicas_add_at(&dst->replicas, rid, slot), e);
  return 0;
}

/* Each of src's replicas is looked up in dst by the hash its table stores
 * (no hashing), and the missing ones are counted; room for exactly those is
 * reserved (replica table and entries), after which nothing can fail, so
 * nothing ever needs undoing. The lookups are kept in a map, on the stack
 * up to CRDT__SMALL replicas. */
static int join_many(crdt__pervec *dst, const crdt_allocator *m,
                     const crdt__pervec *src) {
  const uint32_t n = src->replicas.count;
  crdt__rid *const *rids = src->replicas.by_index;
  uint32_t small[CRDT__SMALL], *map = small;
  if (n > CRDT__SMALL && !(map = crdt__alloc(m, crdt__mul(n, sizeof *map))))
    return CRDT_ENOMEM;
  uint32_t missing = 0;
  size_t bytes = 0;
  for (uint32_t i = 0; i < n; i++) {
    map[i] = crdt__replicas_find_rid(&dst->replicas, rids[i]);
    if (map[i] == CRDT__NO_REPLICA) {
      missing++;
      bytes += crdt__rid_size(rids[i]->len);
    }
  }
  int rc = 0;
  if (missing &&
      !(rc = crdt__replicas_reserve(&dst->replicas, m, missing, bytes)))
    rc = grow(dst, m, dst->replicas.count + missing);
  if (!rc)
    for (uint32_t i = 0; i < n; i++) {
      const uint32_t j = map[i];
      if (j == CRDT__NO_REPLICA)
        join_entry(dst, crdt__replicas_add_rid(&dst->replicas, rids[i]),
                   &src->entries[i]);
      else if (pvent_greater(&src->entries[i], &dst->entries[j]))
        set_entry(dst, j, &src->entries[i]);
    }
  if (map != small) crdt__free(m, map, n * sizeof *map);
  return rc;
}

int crdt__pervec_join(crdt__pervec *dst, const crdt_allocator *m,
                      const crdt__pervec *src) {
  if (dst == src) return 0;
  if (src->replicas.count == 1) return join_single(dst, m, src);
  return join_many(dst, m, src);
}

/* The entry of a's replica i in b (zero when b does not know the id). */
static crdt__pvent entry_in(const crdt__pervec *a, uint32_t i,
                            const crdt__pervec *b) {
  size_t len;
  const char *id = crdt__replicas_id(&a->replicas, i, &len);
  uint32_t j = crdt__replicas_find(&b->replicas, id, len);
  return crdt__pervec_get(b, j == CRDT__NO_REPLICA ? b->len : j);
}

static uint32_t nonzero_entries(const crdt__pervec *v) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < v->len; i++)
    n += !crdt__pvent_is_zero(&v->entries[i]);
  return n;
}

bool crdt__pervec_equal(const crdt__pervec *a, const crdt__pervec *b) {
  if (crdt__wide_cmp(a->total[0], b->total[0]) ||
      crdt__wide_cmp(a->total[1], b->total[1]) ||
      nonzero_entries(a) != nonzero_entries(b))
    return false;
  /* Same number of non-zero entries, and each of a's is in b. */
  for (uint32_t i = 0; i < a->replicas.count; i++) {
    if (crdt__pvent_is_zero(&a->entries[i])) continue;
    crdt__pvent other = entry_in(a, i, b);
    if (!pvent_eq(&a->entries[i], &other)) return false;
  }
  return true;
}

crdt_order crdt__pervec_compare(const crdt__pervec *a, const crdt__pervec *b) {
  bool a_ahead = false, b_ahead = false;
  for (uint32_t i = 0; i < a->replicas.count; i++) {
    uint64_t ea = a->entries[i].events;
    if (!ea) continue;
    uint64_t eb = entry_in(a, i, b).events;
    if (ea > eb) a_ahead = true;
    if (ea < eb) b_ahead = true;
  }
  /* Replicas of b that a has no events of; the rest was seen above. */
  for (uint32_t j = 0; j < b->replicas.count && !b_ahead; j++)
    if (b->entries[j].events && !entry_in(b, j, a).events) b_ahead = true;
  if (a_ahead && b_ahead) return CRDT_CONCURRENT;
  if (a_ahead) return CRDT_AFTER;
  if (b_ahead) return CRDT_BEFORE;
  return CRDT_EQUAL;
}

int crdt__pervec_copy(crdt__pervec *dst, const crdt_allocator *m,
                      const crdt__pervec *src) {
  memset(dst, 0, sizeof *dst);
  int rc = crdt__replicas_copy(&dst->replicas, m, &src->replicas);
  if (rc) return rc;
  if ((rc = crdt__pervec_reserve(dst, m, src->len))) {
    crdt__replicas_free(&dst->replicas, m);
    return rc;
  }
  if (src->len) memcpy(dst->entries, src->entries, src->len * sizeof *src->entries);
  dst->total[0] = src->total[0];
  dst->total[1] = src->total[1];
  return 0;
}

void crdt__pervec_free(crdt__pervec *v, const crdt_allocator *m) {
  crdt__replicas_free(&v->replicas, m);
  crdt__free(m, v->entries, v->cap * sizeof *v->entries);
  memset(v, 0, sizeof *v);
}

int crdt__pervec_foreach(const crdt__pervec *v, const crdt_allocator *m,
                         crdt__pervec_visit visit, void *user) {
  uint32_t *order;
  const crdt__replicas *r = &v->replicas;
  int rc = crdt__replicas_sorted(r, m, &order);
  if (rc) return rc;
  for (uint32_t k = 0; k < r->count && !rc; k++) {
    crdt__pvent e = crdt__pervec_get(v, order[k]);
    if (!crdt__pvent_is_zero(&e))
      rc = visit(crdt__replicas_id(r, order[k], NULL), &e, user);
  }
  crdt__free(m, order, r->count * sizeof *order);
  return rc;
}

int crdt__pervec_format(crdt__text *t, const crdt__pervec *v,
                        const crdt_allocator *m) {
  uint32_t *order;
  const crdt__replicas *r = &v->replicas;
  int rc = crdt__replicas_sorted(r, m, &order);
  if (rc) return rc;
  crdt__text_put(t, "{", 1);
  bool first = true;
  for (uint32_t k = 0; k < r->count; k++) {
    uint64_t n = crdt__pervec_get(v, order[k]).events;
    if (!n) continue;
    if (!first) crdt__text_put(t, ", ", 2);
    first = false;
    size_t len;
    const char *id = crdt__replicas_id(r, order[k], &len);
    crdt__text_put(t, id, len);
    crdt__text_put(t, ":", 1);
    crdt__text_u64(t, n);
  }
  crdt__text_put(t, "}", 1);
  crdt__free(m, order, r->count * sizeof *order);
  return 0;
}
