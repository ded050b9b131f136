/*
 * Causal states: the join rule (the one place that decides which dots
 * survive a merge), equality, copies (see store.h).
 */
#include <string.h>

#include "sort.h"
#include "store.h"

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

/* How src's replica indexes relate to dst's: map (src -> dst) and rmap
 * (dst -> src or CRDT__NO_REPLICA), with both contexts as they were before
 * the join. */
typedef struct join_maps {
  const uint32_t *map;
  const uint32_t *rmap;
  const crdt__ctx *dst_ctx;
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

/* How many of e2's dots dst has not seen, and whether they can all be
 * packed once translated to dst's indexes. */
static uint32_t count_unseen(const join_maps *jm, const crdt__entry *e2,
                             bool *packable) {
  crdt__dv one;
  const crdt__dv *d = crdt__entry_view(e2, &one);
  uint32_t n = 0;
  *packable = true;
  for (uint32_t i = 0; i < e2->ndots; i++) {
    if (seen_by_dst(jm, &d[i])) continue;
    crdt__dv t = d[i];
    t.replica = jm->map[t.replica];
    *packable &= crdt__dv_packable(t);
    n++;
  }
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
 * e1->ndots bytes when the lists are large. Never fails; an emptied entry is
 * left for the caller's deletion sweep. */
static void join_entry(crdt__entry *e1, const crdt__entry *e2,
                       const join_maps *jm, uint8_t *scratch,
                       const crdt_allocator *m) {
  crdt__dv one1, one2;
  uint32_t n1 = e1->ndots, n2 = e2->ndots, kept = 0;
  const crdt__dv *d2 = crdt__entry_view(e2, &one2);
  if (!crdt__entry_many(e1)) {
    /* One packed dot (or none): keep it if e2 has it or src has not seen it. */
    if (n1) {
      const crdt__dv *d1 = crdt__entry_view(e1, &one1);
      bool in_e2 = false;
      for (uint32_t j = 0; j < n2 && !in_e2; j++)
        in_e2 = d1->counter == d2[j].counter &&
                d1->replica == jm->map[d2[j].replica];
      kept = in_e2 || !seen_by_src(jm, d1);
    }
    e1->ndots = kept;
  } else {
    crdt__dv *d1 = crdt__entry_array(e1);
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
  }
  for (uint32_t j = 0; j < n2; j++) {
    if (seen_by_dst(jm, &d2[j])) continue;
    crdt__dv d = d2[j];
    d.replica = jm->map[d.replica];
    crdt__entry_push(e1, d);
  }
  crdt__entry_shrink(e1, m);
}

static bool unseen_by_src(const crdt__dv *d, const void *user) {
  return !seen_by_src(user, d);
}

/* Builds a new entry for a src key absent from dst, holding the dots dst has
 * not seen. On error nothing was inserted. */
static int insert_unseen(crdt__store *s, const crdt_allocator *m,
                         const crdt__entry *e2, uint32_t unseen, bool packable,
                         const join_maps *jm) {
  const uint8_t *key;
  int rc = crdt__store_key(s, m, crdt__entry_key(e2), e2->keylen, &key);
  if (rc) return rc;
  crdt__entry tmp = {0};
  if ((rc = crdt__entry_reserve(&tmp, m, unseen, packable))) {
    crdt__store_key_drop(s, key, e2->keylen);
    return rc;
  }
  crdt__entry *e = crdt__store_put(s, key, e2->keylen, e2->hash);
  e->dots = tmp.dots;
  crdt__dv one;
  const crdt__dv *d2 = crdt__entry_view(e2, &one);
  for (uint32_t j = 0; j < e2->ndots; j++) {
    if (seen_by_dst(jm, &d2[j])) continue;
    crdt__dv d = d2[j];
    d.replica = jm->map[d.replica];
    crdt__entry_push(e, d);
  }
  return 0;
}

/* Has src seen a dot of some replica that dst has seen dots of? When not,
 * no dot of dst's store is in src's context. O(src's replicas). */
static bool src_saw_dst_replicas(const crdt__causal *dst,
                                 const crdt__causal *src,
                                 const uint32_t *map) {
  for (uint32_t i = 0; i < src->replicas.count; i++)
    if (crdt__vv_get(&src->ctx.top, i) && crdt__vv_get(&dst->ctx.top, map[i]))
      return true;
  return false;
}

#define WHERE_NONE UINT32_MAX /* src key absent from dst, nothing to add */

static int u32_desc(const void *a, const void *b, const void *ctx) {
  (void)ctx;
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x < y) - (x > y);
}

/*
 * Phase 1 (may fail, leaves dst logically unchanged): intern src's replicas,
 * reserve the context, find each src key in dst once (remembering where),
 * grow the dot lists that will gain dots, reserve the index and append the
 * entries for keys dst does not have (popped again on failure). Phase 2
 * (cannot fail): apply the rule to the keys both have and, unless src is a
 * keyed delta, to dst's other keys (no lookups: the remembered positions say
 * which were visited); then delete the emptied entries, highest position
 * first so the swap-removes disturb nothing still to be visited; then join
 * the contexts.
 */
int crdt__causal_join(crdt__causal *dst, const crdt_allocator *m,
                      const crdt__causal *src) {
  if (dst == src) return 0;
  const bool keep_markers = dst->keyed && src->keyed;
  const uint32_t replicas_before = dst->replicas.count;
  const uint32_t old_count = dst->store.count;
  const crdt__store *s2 = &src->store;
  /* Small joins (an MV-register's siblings, a delta) allocate nothing for
   * their scratch arrays. */
  uint32_t small_map[CRDT__SMALL], small_rmap[CRDT__SMALL],
      small_where[CRDT__SMALL];
  uint8_t small_visited[CRDT__SMALL];
  const uint32_t nmap = src->replicas.count;
  uint32_t *map = small_map, *rmap = small_rmap, *where = small_where;
  uint8_t *scratch = NULL, *visited = NULL;
  uint32_t nrmap = 0, nfresh = 0, new_keys = 0, scratch_n = 0, nvisited = 0;
  int rc;
  if (nmap > CRDT__SMALL && !(map = crdt__alloc(m, crdt__mul(nmap, sizeof *map))))
    return CRDT_ENOMEM;
  if ((rc = crdt__replicas_map_into(&dst->replicas, m, &src->replicas, map))) {
    if (map != small_map) crdt__free(m, map, nmap * sizeof *map);
    return rc;
  }
  nrmap = dst->replicas.count;
  /* A full src drops the dots of dst it has seen (and a keyed dst's
   * markers), so all of dst's keys need a visit, unless src has seen no dot
   * of any replica that dst has dots of (as when joining replicas that
   * wrote concurrently). */
  const bool walk = !src->keyed && old_count &&
                    (dst->keyed || src_saw_dst_replicas(dst, src, map));
  if ((rc = crdt__ctx_reserve_join(&dst->ctx, m, nrmap, &src->ctx))) goto fail;
  join_maps jm = {map, NULL, &dst->ctx, &src->ctx};
  uint32_t common = 0;
  if (s2->count > CRDT__SMALL &&
      !(where = crdt__alloc(m, crdt__mul(s2->count, sizeof *where))))
    goto oom;

  for (uint32_t j = 0; j < s2->count; j++) {
    const crdt__entry *e2 = &s2->entries[j];
    if (j + CRDT__PREFETCH_FAR < s2->count)
      crdt__prefetch_slot(&dst->store, e2[CRDT__PREFETCH_FAR].hash);
    if (j + CRDT__PREFETCH_NEAR < s2->count)
      crdt__prefetch_entry(&dst->store, e2[CRDT__PREFETCH_NEAR].hash);
    if (j + CRDT__PREFETCH_KEY < s2->count)
      crdt__prefetch_key(&dst->store, e2[CRDT__PREFETCH_KEY].hash);
    crdt__entry *e1 = crdt__store_find(&dst->store, crdt__entry_key(e2),
                                       e2->keylen, e2->hash);
    bool packable;
    uint32_t unseen = count_unseen(&jm, e2, &packable);
    if (!e1) {
      bool add = unseen > 0 || keep_markers;
      new_keys += add;
      where[j] = add ? old_count + new_keys - 1 : WHERE_NONE;
      continue;
    }
    where[j] = (uint32_t)(e1 - dst->store.entries);
    common++;
    if (unseen &&
        (rc = crdt__entry_reserve(e1, m, e1->ndots + unseen,
                                  packable && e1->ndots + unseen <= 1)))
      goto fail;
    if ((uint64_t)e1->ndots * e2->ndots > SMALL_PRODUCT &&
        crdt__entry_many(e1) &&
        e1->ndots > scratch_n)
      scratch_n = e1->ndots;
  }
  /* The reverse map, for the src contexts checks of phase 2. */
  if (walk || common) {
    if (nrmap > CRDT__SMALL &&
        !(rmap = crdt__alloc(m, crdt__mul(nrmap, sizeof *rmap))))
      goto oom;
    for (uint32_t i = 0; i < nrmap; i++) rmap[i] = CRDT__NO_REPLICA;
    for (uint32_t i = 0; i < src->replicas.count; i++) rmap[map[i]] = i;
    jm.rmap = rmap;
  }
  if ((rc = crdt__store_reserve(&dst->store, m, new_keys))) goto fail;
  nvisited = old_count + new_keys;
  if (nvisited && walk) {
    if (nvisited <= CRDT__SMALL)
      memset(visited = small_visited, 0, nvisited);
    else if (!(visited = crdt__calloc(m, nvisited, 1)))
      goto oom;
  }
  if (scratch_n && !(scratch = crdt__alloc(m, scratch_n))) goto oom;
  for (uint32_t j = 0; j < s2->count && nfresh < new_keys; j++) {
    if (j + CRDT__PREFETCH_FAR < s2->count && where[j + CRDT__PREFETCH_FAR] != WHERE_NONE &&
        where[j + CRDT__PREFETCH_FAR] >= old_count)
      crdt__prefetch_slot(&dst->store, s2->entries[j + CRDT__PREFETCH_FAR].hash);
    if (where[j] == WHERE_NONE || where[j] < old_count) continue;
    const crdt__entry *e2 = &s2->entries[j];
    bool packable = true;
    uint32_t unseen;
    if (e2->ndots == 1 && !crdt__entry_many(e2)) {
      /* The common case: one packed dot, new here (or the key would not
       * have been chosen) unless the key is a marker. */
      unseen = 1;
      crdt__dv d = crdt__entry_dot(e2, 0);
      const bool fresh = !seen_by_dst(&jm, &d);
      d.replica = map[d.replica];
      packable = crdt__dv_packable(d);
      if (packable && e2->keylen <= CRDT__KEY_INLINE) {
        /* Nothing to allocate: the key and the dot go into the entry. */
        crdt__entry *e = crdt__store_put(&dst->store, crdt__entry_key(e2),
                                         e2->keylen, e2->hash);
        if (fresh) {
          e->dots = crdt__dv_pack(d);
          e->ndots = 1;
        }
        nfresh++;
        continue;
      }
    } else {
      unseen = count_unseen(&jm, e2, &packable);
    }
    if ((rc = insert_unseen(&dst->store, m, e2, unseen, packable, &jm)))
      goto undo;
    nfresh++;
  }

  /* Phase 2. */
  uint32_t nempty = 0;
  for (uint32_t j = 0; j < s2->count; j++) {
    if (j + CRDT__PREFETCH_FAR < s2->count && where[j + CRDT__PREFETCH_FAR] < old_count)
      crdt__prefetch(&dst->store.entries[where[j + CRDT__PREFETCH_FAR]]);
    uint32_t n = where[j];
    if (n == WHERE_NONE) continue;
    if (visited) visited[n] = 1;
    if (n >= old_count) continue; /* fresh: already holds the right dots */
    crdt__entry *e1 = &dst->store.entries[n];
    join_entry(e1, &s2->entries[j], &jm, scratch, m);
    if (e1->ndots == 0 && !keep_markers) where[nempty++] = n;
  }
  if (walk) {
    for (uint32_t n = 0; n < old_count; n++) {
      crdt__entry *e1 = &dst->store.entries[n];
      if (visited[n]) continue;
      if (!crdt__entry_many(e1)) {
        /* One packed dot: decide inline (most entries; no call per entry). */
        if (e1->ndots) {
          crdt__dv one;
          if (seen_by_src(&jm, crdt__entry_view(e1, &one))) e1->ndots = 0;
        }
        continue;
      }
      crdt__entry_retain(e1, unseen_by_src, &jm);
      crdt__entry_shrink(e1, m);
    }
    crdt__store_sweep(&dst->store, m);
  } else {
    crdt__sort(where, nempty, sizeof *where, u32_desc, NULL);
    for (uint32_t k = 0; k < nempty; k++)
      crdt__store_delete(&dst->store, m, &dst->store.entries[where[k]]);
  }
  crdt__ctx_join(&dst->ctx, &src->ctx, map, src->replicas.count);
  dst->keyed = keep_markers;
  crdt__store_tidy(&dst->store, m);
  rc = 0;
  goto done;

oom:
  rc = CRDT_ENOMEM;
  goto fail;
undo:
  /* The fresh entries are the last ones: pop them. */
  while (dst->store.count > old_count)
    crdt__store_delete(&dst->store, m,
                       &dst->store.entries[dst->store.count - 1]);
fail:
  crdt__replicas_truncate(&dst->replicas, m, replicas_before);
done:
  if (visited != small_visited) crdt__free(m, visited, nvisited);
  crdt__free(m, scratch, scratch_n);
  if (where != small_where) crdt__free(m, where, s2->count * sizeof *where);
  if (rmap != small_rmap) crdt__free(m, rmap, nrmap * sizeof *rmap);
  if (map != small_map) crdt__free(m, map, nmap * sizeof *map);
  return rc;
}

/* ---- equality ---------------------------------------------------------------- */

/* Does b's entry hold dot d of a (replica index of a translated by id) with
 * the same value? */
static bool entry_has(const crdt__entry *eb, const crdt__dv *d, uint32_t rb) {
  crdt__dv one;
  const crdt__dv *db = crdt__entry_view(eb, &one);
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
  for (uint32_t n = 0; n < b->store.count; n++)
    nb += markers || b->store.entries[n].ndots;
  for (uint32_t n = 0; n < a->store.count; n++) {
    const crdt__entry *ea = &a->store.entries[n];
    if (!markers && !ea->ndots) continue;
    na++;
    const crdt__entry *eb =
        crdt__store_find(&b->store, crdt__entry_key(ea), ea->keylen, ea->hash);
    if (!eb || eb->ndots != ea->ndots) return false;
    crdt__dv one;
    const crdt__dv *da = crdt__entry_view(ea, &one);
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
