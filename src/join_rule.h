/*
 * The join rule for one key (src/join.c walks the stores with it): which
 * dots of a key survive the join of (s1, c1) and (s2, c2). A dot survives
 * when both stores have it, or one has it and the other context has not
 * seen it (store.h). Included by join.c alone; kept apart so the rule reads
 * on its own, and inline so the join's loops pay no call for it.
 */
#ifndef CRDT_SRC_JOIN_RULE_H
#define CRDT_SRC_JOIN_RULE_H

#include "sort.h"
#include "store.h"

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

#endif
