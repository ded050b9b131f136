/*
 * Dot stores, the element index and the join (see store.h).
 */
#include <string.h>

#include <xxhash.h>

#include "sort.h"
#include "store.h"

#define IN_USE 0x80000000u

uint32_t crdt__key_hash(const void *key, size_t len) {
  return (uint32_t)XXH3_64bits(key, len) | IN_USE;
}

/* ---- entries --------------------------------------------------------------- */

int crdt__entry_reserve(crdt__entry *e, const crdt_allocator *m, uint32_t n) {
  if (n <= 1 && e->cap == 0) return 0;
  if (n <= e->cap) return 0;
  uint32_t cap = e->cap ? e->cap : 2;
  while (cap < n) cap = cap > UINT32_MAX / 2 ? n : cap * 2;
  if (e->cap == 0) {
    crdt__dv *many = crdt__alloc(m, crdt__mul(cap, sizeof *many));
    if (!many) return CRDT_ENOMEM;
    if (e->ndots) many[0] = e->dots.one;
    e->dots.many = many;
  } else {
    crdt__dv *many = crdt__realloc(m, e->dots.many, e->cap * sizeof *many,
                                   crdt__mul(cap, sizeof *many));
    if (!many) return CRDT_ENOMEM;
    e->dots.many = many;
  }
  e->cap = cap;
  return 0;
}

void crdt__entry_push(crdt__entry *e, crdt__dv d) {
  crdt__entry_dots(e)[e->ndots++] = d;
}

/* Back to the inline form when one dot or none is left. */
static void entry_shrink(crdt__entry *e, const crdt_allocator *m) {
  if (e->cap == 0 || e->ndots > 1) return;
  crdt__dv *many = e->dots.many;
  uint32_t cap = e->cap;
  if (e->ndots == 1) e->dots.one = many[0];
  e->cap = 0;
  crdt__free(m, many, cap * sizeof *many);
}

void crdt__entry_remove_at(crdt__entry *e, const crdt_allocator *m,
                           uint32_t i) {
  crdt__dv *dots = crdt__entry_dots(e);
  dots[i] = dots[--e->ndots];
  entry_shrink(e, m);
}

void crdt__entry_set_one(crdt__entry *e, const crdt_allocator *m, crdt__dv d) {
  e->ndots = 0;
  entry_shrink(e, m);
  e->dots.one = d;
  e->ndots = 1;
}

/* Exact, then clamped: saturating as one goes would depend on the order of
 * the dots, which differs between replicas holding equal states. Positive
 * and negative parts are summed as 96-bit magnitudes (a carry count each;
 * an entry has at most UINT32_MAX dots). */
int64_t crdt__entry_sum(const crdt__entry *e) {
  const crdt__dv *d = crdt__entry_cdots(e);
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
    return hi || lo > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)lo;
  }
  uint64_t hi = neg_hi - pos_hi - (neg < pos);
  uint64_t lo = neg - pos;
  if (hi || lo > (uint64_t)INT64_MAX) return INT64_MIN; /* also -2^63 exactly */
  return -(int64_t)lo;
}

static void entry_release(crdt__entry *e, const crdt_allocator *m) {
  crdt__free(m, e->key, e->keylen);
  if (e->cap) crdt__free(m, e->dots.many, e->cap * sizeof *e->dots.many);
}

/* ---- element index ------------------------------------------------------- */

crdt__entry *crdt__store_find(const crdt__store *s, const void *key,
                              size_t len, uint32_t hash) {
  if (!s->count) return NULL;
  uint32_t mask = s->cap - 1;
  for (uint32_t i = hash & mask;; i = (i + 1) & mask) {
    crdt__entry *e = &s->slots[i];
    if (e->hash == 0) return NULL;
    if (e->hash == hash && e->keylen == len &&
        (len == 0 || memcmp(e->key, key, len) == 0))
      return e;
  }
}

/* Places an entry (key absent, room available) and returns its slot. */
static crdt__entry *slot_for(crdt__store *s, uint32_t hash) {
  uint32_t mask = s->cap - 1;
  uint32_t i = hash & mask;
  while (s->slots[i].hash != 0) i = (i + 1) & mask;
  return &s->slots[i];
}

/* Load factor at most 3/4. */
int crdt__store_reserve(crdt__store *s, const crdt_allocator *m,
                        uint32_t extra) {
  uint64_t need = (uint64_t)s->count + extra;
  if (need * 4 <= (uint64_t)s->cap * 3) return 0;
  uint64_t cap = s->cap ? s->cap : 8;
  while (need * 4 > cap * 3) cap *= 2;
  if (cap > (UINT32_MAX / 2) + 1) return CRDT_ETOOMANY;
  crdt__entry *slots = crdt__calloc(m, (size_t)cap, sizeof *slots);
  if (!slots) return CRDT_ENOMEM;
  crdt__store grown = {slots, (uint32_t)cap, s->count};
  for (uint32_t i = 0; i < s->cap; i++)
    if (s->slots[i].hash) *slot_for(&grown, s->slots[i].hash) = s->slots[i];
  crdt__free(m, s->slots, s->cap * sizeof *s->slots);
  *s = grown;
  return 0;
}

crdt__entry *crdt__store_put(crdt__store *s, uint8_t *key, uint32_t keylen,
                             uint32_t hash) {
  crdt__entry *e = slot_for(s, hash);
  memset(e, 0, sizeof *e);
  e->key = key;
  e->keylen = keylen;
  e->hash = hash;
  s->count++;
  return e;
}

int crdt__key_dup(const crdt_allocator *m, const void *key, size_t len,
                    uint8_t **out) {
  *out = NULL;
  if (len > CRDT__KEY_MAX) return CRDT_EINVAL;
  if (len == 0) return 0;
  *out = crdt__alloc(m, len);
  if (!*out) return CRDT_ENOMEM;
  memcpy(*out, key, len);
  return 0;
}

int crdt__store_insert(crdt__store *s, const crdt_allocator *m,
                       const void *key, size_t len, uint32_t hash,
                       crdt__entry **out) {
  uint8_t *copy;
  int rc = crdt__key_dup(m, key, len, &copy);
  if (rc) return rc;
  if ((rc = crdt__store_reserve(s, m, 1))) {
    crdt__free(m, copy, len);
    return rc;
  }
  *out = crdt__store_put(s, copy, (uint32_t)len, hash);
  return 0;
}

void crdt__store_delete(crdt__store *s, const crdt_allocator *m,
                        crdt__entry *e) {
  entry_release(e, m);
  uint32_t mask = s->cap - 1;
  uint32_t hole = (uint32_t)(e - s->slots);
  for (uint32_t j = (hole + 1) & mask; s->slots[j].hash != 0;
       j = (j + 1) & mask) {
    uint32_t home = s->slots[j].hash & mask;
    /* Move j back into the hole unless its home lies in (hole, j]. */
    if (((j - home) & mask) >= ((j - hole) & mask)) {
      s->slots[hole] = s->slots[j];
      hole = j;
    }
  }
  memset(&s->slots[hole], 0, sizeof s->slots[hole]);
  s->count--;
}

void crdt__store_free(crdt__store *s, const crdt_allocator *m) {
  for (uint32_t i = 0; i < s->cap; i++)
    if (s->slots[i].hash) entry_release(&s->slots[i], m);
  crdt__free(m, s->slots, s->cap * sizeof *s->slots);
  memset(s, 0, sizeof *s);
}

int crdt__store_copy(crdt__store *dst, const crdt_allocator *m,
                     const crdt__store *src) {
  memset(dst, 0, sizeof *dst);
  if (!src->cap) return 0;
  dst->slots = crdt__calloc(m, src->cap, sizeof *dst->slots);
  if (!dst->slots) return CRDT_ENOMEM;
  dst->cap = src->cap;
  for (uint32_t i = 0; i < src->cap; i++) {
    const crdt__entry *from = &src->slots[i];
    if (!from->hash) continue;
    crdt__entry to = *from;
    to.cap = 0;
    if (crdt__key_dup(m, from->key, from->keylen, &to.key)) goto fail;
    if (from->cap && from->ndots > 1) {
      to.dots.many = crdt__alloc(m, from->ndots * sizeof *to.dots.many);
      if (!to.dots.many) {
        crdt__free(m, to.key, to.keylen);
        goto fail;
      }
      memcpy(to.dots.many, from->dots.many, from->ndots * sizeof *to.dots.many);
      to.cap = from->ndots;
    } else if (from->cap && from->ndots == 1) {
      to.dots.one = from->dots.many[0];
    }
    dst->slots[i] = to;
    dst->count++;
  }
  return 0;
fail:
  crdt__store_free(dst, m);
  return CRDT_ENOMEM;
}

static int key_cmp(const crdt__entry *a, const crdt__entry *b) {
  size_t n = a->keylen < b->keylen ? a->keylen : b->keylen;
  int c = n ? memcmp(a->key, b->key, n) : 0;
  if (c) return c;
  return (a->keylen > b->keylen) - (a->keylen < b->keylen);
}

static int entry_ptr_cmp(const void *a, const void *b, const void *ctx) {
  (void)ctx;
  return key_cmp(*(const crdt__entry *const *)a, *(const crdt__entry *const *)b);
}

int crdt__store_sorted(const crdt__store *s, const crdt_allocator *m,
                       const crdt__entry ***out) {
  *out = NULL;
  if (!s->count) return 0;
  const crdt__entry **list = crdt__alloc(m, crdt__mul(s->count, sizeof *list));
  if (!list) return CRDT_ENOMEM;
  uint32_t n = 0;
  for (uint32_t i = 0; i < s->cap; i++)
    if (s->slots[i].hash) list[n++] = &s->slots[i];
  crdt__sort(list, n, sizeof *list, entry_ptr_cmp, NULL);
  *out = list;
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
  memcpy(out, crdt__entry_cdots(e), e->ndots * sizeof *out);
  crdt__sort(out, e->ndots, sizeof *out, dv_canonical_cmp, r);
}

/* ---- causal states --------------------------------------------------------- */

void crdt__causal_free(crdt__causal *c, const crdt_allocator *m) {
  crdt__store_free(&c->store, m);
  crdt__ctx_free(&c->ctx, m);
  crdt__replicas_free(&c->replicas, m);
  c->keyed = false;
}

int crdt__causal_copy(crdt__causal *dst, const crdt_allocator *m,
                      const crdt__causal *src) {
  memset(dst, 0, sizeof *dst);
  if (crdt__replicas_copy(&dst->replicas, m, &src->replicas) ||
      crdt__ctx_copy(&dst->ctx, m, &src->ctx) ||
      crdt__store_copy(&dst->store, m, &src->store)) {
    crdt__causal_free(dst, m);
    return CRDT_ENOMEM;
  }
  dst->keyed = src->keyed;
  return 0;
}

/* Entries whose dot lists are this small are matched pairwise; larger ones
 * are sorted and matched by binary search. */
#define SMALL_PRODUCT 64

/* Everything one join needs to know about how src's indexes relate to
 * dst's: map (src -> dst) and rmap (dst -> src or NO_REPLICA). */
typedef struct join_maps {
  const uint32_t *map;
  const uint32_t *rmap;
  const crdt__ctx *dst_ctx; /* as it was before the join */
  const crdt__ctx *src_ctx;
} join_maps;

static inline bool seen_by_dst(const join_maps *jm, const crdt__dv *d2) {
  return crdt__ctx_has(jm->dst_ctx, (crdt__dot){d2->counter, jm->map[d2->replica]});
}

static inline bool seen_by_src(const join_maps *jm, const crdt__dv *d1) {
  uint32_t r = jm->rmap[d1->replica];
  return r != CRDT__NO_REPLICA &&
         crdt__ctx_has(jm->src_ctx, (crdt__dot){d1->counter, r});
}

static uint32_t count_unseen(const join_maps *jm, const crdt__entry *e2) {
  const crdt__dv *d = crdt__entry_cdots(e2);
  uint32_t n = 0;
  for (uint32_t i = 0; i < e2->ndots; i++) n += !seen_by_dst(jm, &d[i]);
  return n;
}

static int dv_index_cmp(const void *a, const void *b, const void *ctx) {
  (void)ctx;
  const crdt__dv *x = a, *y = b;
  if (x->replica != y->replica) return x->replica < y->replica ? -1 : 1;
  return (x->counter > y->counter) - (x->counter < y->counter);
}

static bool dv_search(const crdt__dv *dots, uint32_t n, crdt__dv key,
                      uint32_t *at) {
  uint32_t lo = 0, hi = n;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    int c = dv_index_cmp(&dots[mid], &key, NULL);
    if (c == 0) {
      *at = mid;
      return true;
    }
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return false;
}

/* The join rule for one key present in dst (e1) and src (e2): e1 keeps a dot
 * that e2 has or that src has not seen, and gains e2's dots that dst has not
 * seen. Room for the gained dots was reserved; `scratch` holds at least
 * e1->ndots bytes when the lists are large. Never fails. */
static void join_entry(crdt__entry *e1, const crdt__entry *e2,
                       const join_maps *jm, uint8_t *scratch,
                       const crdt_allocator *m) {
  crdt__dv *d1 = crdt__entry_dots(e1);
  const crdt__dv *d2 = crdt__entry_cdots(e2);
  uint32_t n1 = e1->ndots, n2 = e2->ndots, kept = 0;
  bool large = (uint64_t)n1 * n2 > SMALL_PRODUCT;
  if (large) {
    /* Reordering e1's dots is invisible: order is canonicalised on output. */
    crdt__sort(d1, n1, sizeof *d1, dv_index_cmp, NULL);
    memset(scratch, 0, n1);
    for (uint32_t j = 0; j < n2; j++) {
      uint32_t at;
      crdt__dv key = {d2[j].counter, jm->map[d2[j].replica], 0};
      if (dv_search(d1, n1, key, &at)) scratch[at] = 1;
    }
  }
  for (uint32_t i = 0; i < n1; i++) {
    bool in_e2 = false;
    if (large) {
      in_e2 = scratch[i];
    } else {
      for (uint32_t j = 0; j < n2 && !in_e2; j++)
        in_e2 = d1[i].counter == d2[j].counter &&
                d1[i].replica == jm->map[d2[j].replica];
    }
    if (in_e2 || !seen_by_src(jm, &d1[i])) d1[kept++] = d1[i];
  }
  e1->ndots = kept;
  for (uint32_t j = 0; j < n2; j++) {
    if (seen_by_dst(jm, &d2[j])) continue;
    crdt__dv d = d2[j];
    d.replica = jm->map[d.replica];
    crdt__entry_push(e1, d);
  }
  entry_shrink(e1, m);
}

/* Drops e1's dots that src has seen (e1's key is absent from src). */
static void join_absent(crdt__entry *e1, const join_maps *jm,
                        const crdt_allocator *m) {
  crdt__dv *d1 = crdt__entry_dots(e1);
  uint32_t kept = 0;
  for (uint32_t i = 0; i < e1->ndots; i++)
    if (!seen_by_src(jm, &d1[i])) d1[kept++] = d1[i];
  e1->ndots = kept;
  entry_shrink(e1, m);
}

/* Builds a new entry for a src key absent from dst, holding the dots dst has
 * not seen. On error nothing was inserted. */
static int insert_unseen(crdt__store *s, const crdt_allocator *m,
                         const crdt__entry *e2, uint32_t unseen,
                         const join_maps *jm) {
  uint8_t *key;
  int rc = crdt__key_dup(m, e2->key, e2->keylen, &key);
  if (rc) return rc;
  crdt__entry tmp = {0};
  if ((rc = crdt__entry_reserve(&tmp, m, unseen))) {
    crdt__free(m, key, e2->keylen);
    return rc;
  }
  crdt__entry *e = crdt__store_put(s, key, e2->keylen, e2->hash);
  e->cap = tmp.cap;
  e->dots = tmp.dots;
  const crdt__dv *d2 = crdt__entry_cdots(e2);
  for (uint32_t j = 0; j < e2->ndots; j++) {
    if (seen_by_dst(jm, &d2[j])) continue;
    crdt__dv d = d2[j];
    d.replica = jm->map[d.replica];
    crdt__entry_push(e, d);
  }
  return 0;
}

/*
 * Phase 1 (may fail, leaves dst logically unchanged): intern src's replicas,
 * reserve the context, grow the dot lists that will gain dots, reserve the
 * index and insert the entries for keys dst does not have (undone on
 * failure). Phase 2 (cannot fail): apply the rule to the keys both have,
 * and, unless src is a keyed delta, to dst's other keys; then join contexts.
 */
int crdt__causal_join(crdt__causal *dst, const crdt_allocator *m,
                      const crdt__causal *src) {
  if (dst == src) return 0;
  const bool keep_markers = dst->keyed && src->keyed;
  const uint32_t replicas_before = dst->replicas.count;
  uint32_t *map = NULL, *rmap = NULL, *fresh = NULL;
  uint8_t *scratch = NULL;
  uint32_t nrmap = 0, nfresh = 0, new_keys = 0, scratch_n = 0;
  int rc = crdt__replicas_map(&dst->replicas, m, &src->replicas, &map);
  if (rc) return rc;
  nrmap = dst->replicas.count;
  if (nrmap) {
    rmap = crdt__alloc(m, crdt__mul(nrmap, sizeof *rmap));
    if (!rmap) {
      rc = CRDT_ENOMEM;
      goto fail;
    }
    for (uint32_t i = 0; i < nrmap; i++) rmap[i] = CRDT__NO_REPLICA;
    for (uint32_t i = 0; i < src->replicas.count; i++) rmap[map[i]] = i;
  }
  if ((rc = crdt__ctx_reserve_join(&dst->ctx, m, nrmap, &src->ctx))) goto fail;
  join_maps jm = {map, rmap, &dst->ctx, &src->ctx};

  for (uint32_t j = 0; j < src->store.cap; j++) {
    const crdt__entry *e2 = &src->store.slots[j];
    if (!e2->hash) continue;
    crdt__entry *e1 = crdt__store_find(&dst->store, e2->key, e2->keylen, e2->hash);
    uint32_t unseen = count_unseen(&jm, e2);
    if (!e1) {
      new_keys += unseen > 0 || keep_markers;
      continue;
    }
    if (unseen && (rc = crdt__entry_reserve(e1, m, e1->ndots + unseen)))
      goto fail;
    if ((uint64_t)e1->ndots * e2->ndots > SMALL_PRODUCT && e1->ndots > scratch_n)
      scratch_n = e1->ndots;
  }
  if ((rc = crdt__store_reserve(&dst->store, m, new_keys))) goto fail;
  if (scratch_n && !(scratch = crdt__alloc(m, scratch_n))) {
    rc = CRDT_ENOMEM;
    goto fail;
  }
  if (new_keys && !(fresh = crdt__alloc(m, crdt__mul(new_keys, sizeof *fresh)))) {
    rc = CRDT_ENOMEM;
    goto fail;
  }
  for (uint32_t j = 0; j < src->store.cap && nfresh < new_keys; j++) {
    const crdt__entry *e2 = &src->store.slots[j];
    if (!e2->hash ||
        crdt__store_find(&dst->store, e2->key, e2->keylen, e2->hash))
      continue;
    uint32_t unseen = count_unseen(&jm, e2);
    if (!unseen && !keep_markers) continue;
    if ((rc = insert_unseen(&dst->store, m, e2, unseen, &jm))) goto undo;
    fresh[nfresh++] = j;
  }

  /* Phase 2. Deleting moves entries, so keys are looked up afresh. */
  uint32_t next_fresh = 0;
  for (uint32_t j = 0; j < src->store.cap; j++) {
    const crdt__entry *e2 = &src->store.slots[j];
    if (!e2->hash) continue;
    if (next_fresh < nfresh && fresh[next_fresh] == j) {
      next_fresh++;
      continue;
    }
    crdt__entry *e1 = crdt__store_find(&dst->store, e2->key, e2->keylen, e2->hash);
    if (!e1) continue;
    join_entry(e1, e2, &jm, scratch, m);
    if (e1->ndots == 0 && !keep_markers) crdt__store_delete(&dst->store, m, e1);
  }
  if (!src->keyed) {
    for (uint32_t i = 0; i < dst->store.cap;) {
      crdt__entry *e1 = &dst->store.slots[i];
      if (!e1->hash ||
          crdt__store_find(&src->store, e1->key, e1->keylen, e1->hash)) {
        i++;
        continue;
      }
      join_absent(e1, &jm, m);
      if (e1->ndots == 0)
        crdt__store_delete(&dst->store, m, e1); /* slot i refilled: look again */
      else
        i++;
    }
  }
  crdt__ctx_join(&dst->ctx, &src->ctx, map, src->replicas.count);
  dst->keyed = keep_markers;
  rc = 0;
  goto done;

undo:
  for (uint32_t k = 0; k < nfresh; k++) {
    const crdt__entry *e2 = &src->store.slots[fresh[k]];
    crdt__store_delete(&dst->store, m,
                       crdt__store_find(&dst->store, e2->key, e2->keylen, e2->hash));
  }
fail:
  crdt__replicas_truncate(&dst->replicas, m, replicas_before);
done:
  crdt__free(m, fresh, new_keys * sizeof *fresh);
  crdt__free(m, scratch, scratch_n);
  crdt__free(m, rmap, nrmap * sizeof *rmap);
  crdt__free(m, map, src->replicas.count * sizeof *map);
  return rc;
}

/* ---- equality ---------------------------------------------------------------- */

/* Does b's entry hold dot d of a (replica index of a translated by id) with
 * the same value? */
static bool entry_has(const crdt__entry *eb, const crdt__dv *d, uint32_t rb) {
  const crdt__dv *db = crdt__entry_cdots(eb);
  for (uint32_t i = 0; i < eb->ndots; i++)
    if (db[i].counter == d->counter && db[i].replica == rb)
      return db[i].value == d->value;
  return false;
}

bool crdt__causal_equal(const crdt__causal *a, const crdt__causal *b) {
  if (crdt__ctx_compare(&a->ctx, &a->replicas, &b->ctx, &b->replicas) !=
      CRDT_EQUAL)
    return false;
  const bool markers = a->keyed && b->keyed;
  uint32_t na = 0, nb = 0;
  for (uint32_t i = 0; i < b->store.cap; i++)
    nb += b->store.slots[i].hash && (markers || b->store.slots[i].ndots);
  for (uint32_t i = 0; i < a->store.cap; i++) {
    const crdt__entry *ea = &a->store.slots[i];
    if (!ea->hash || (!markers && !ea->ndots)) continue;
    na++;
    const crdt__entry *eb =
        crdt__store_find(&b->store, ea->key, ea->keylen, ea->hash);
    if (!eb || eb->ndots != ea->ndots) return false;
    const crdt__dv *da = crdt__entry_cdots(ea);
    for (uint32_t k = 0; k < ea->ndots; k++) {
      size_t len;
      const char *id = crdt__replicas_id(&a->replicas, da[k].replica, &len);
      uint32_t rb = crdt__replicas_find(&b->replicas, id, len);
      if (rb == CRDT__NO_REPLICA || !entry_has(eb, &da[k], rb)) return false;
    }
  }
  return na == nb;
}

int crdt__causal_replica(crdt__causal *c, const crdt_allocator *m,
                         const char *id, size_t len, uint32_t *index) {
  uint32_t before = c->replicas.count;
  int rc = crdt__replicas_intern(&c->replicas, m, id, len, index);
  if (rc) return rc;
  rc = crdt__ctx_reserve(&c->ctx, m, c->replicas.count, 1);
  if (rc) crdt__replicas_truncate(&c->replicas, m, before);
  return rc;
}

/* Interns replica `index` of `from` into `to`. */
static int intern_from(crdt__causal *to, const crdt_allocator *m,
                       const crdt__replicas *from, uint32_t index,
                       uint32_t *out) {
  size_t len;
  const char *id = crdt__replicas_id(from, index, &len);
  return crdt__causal_replica(to, m, id, len, out);
}

/* Builds the operation's delta as a small state, then joins it: the join rule
 * stays the only code that decides what survives. */
int crdt__causal_record(crdt__causal *delta, const crdt_allocator *m,
                        const crdt__replicas *from, const crdt__op *op) {
  crdt__causal d = {0};
  d.keyed = op->extra == NULL;
  crdt__entry *e;
  int rc = crdt__store_insert(&d.store, m, op->key, op->keylen, op->hash, &e);
  if (rc) goto done;
  if ((rc = crdt__entry_reserve(e, m, op->nadd))) goto done;
  for (uint32_t i = 0; i < op->nadd; i++) {
    crdt__dv dv = op->add[i];
    if ((rc = intern_from(&d, m, from, dv.replica, &dv.replica))) goto done;
    crdt__entry_push(e, dv);
    crdt__ctx_add(&d.ctx, (crdt__dot){dv.counter, dv.replica});
  }
  for (uint32_t i = 0; i < op->nseen; i++) {
    uint32_t r;
    if ((rc = intern_from(&d, m, from, op->seen[i].replica, &r)) ||
        (rc = crdt__ctx_insert(&d.ctx, m, (crdt__dot){op->seen[i].counter, r})))
      goto done;
  }
  uint32_t self;
  if ((rc = intern_from(&d, m, from, op->dot.replica, &self)) ||
      (rc = crdt__ctx_insert(&d.ctx, m, (crdt__dot){op->dot.counter, self})))
    goto done;
  if (op->extra) {
    uint32_t *map;
    if ((rc = crdt__replicas_map(&d.replicas, m, op->extra_replicas, &map)))
      goto done;
    rc = crdt__ctx_reserve_join(&d.ctx, m, d.replicas.count, op->extra);
    if (!rc)
      crdt__ctx_join(&d.ctx, op->extra, map, op->extra_replicas->count);
    crdt__free(m, map, op->extra_replicas->count * sizeof *map);
    if (rc) goto done;
  }
  rc = crdt__causal_join(delta, m, &d);
done:
  crdt__causal_free(&d, m);
  return rc;
}
