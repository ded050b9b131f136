/*
 * The join of causal states (store.h, crdt__causal_join): store by store
 * through nested stores, each key by the rule in join_rule.h, the one place
 * that decides which dots survive a merge.
 */
#include <string.h>

#include "sort.h"
#include "join_rule.h"
#include "store.h"

#define WHERE_NONE UINT32_MAX /* src key absent from dst, nothing to add */

/* The nested-store paths, off the loops that flat stores run. */
#if defined(__GNUC__) || defined(__clang__)
#define CRDT__COLD __attribute__((noinline, cold))
#else
#define CRDT__COLD
#endif

static int u32_desc(const void *a, const void *b, const void *ctx) {
  (void)ctx;
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x < y) - (x > y);
}

/* ---- nested stores ------------------------------------------------------- */

/* What every level of one join shares. */
typedef struct join_run {
  join_maps jm;
  const crdt_allocator *m;
  bool keep_markers; /* dst and src are keyed deltas: keys without dots stay */
  bool walk;         /* src is a full state that has seen some of dst's dots:
                        every dst key needs a visit, at every level */
  uint32_t common;   /* keys found on both sides, over all levels */
  uint32_t scratch_n; /* bytes of scratch the largest join_entry needs */
} join_run;

/* Does the tree below src (a nested store of a src key dst lacks) hold
 * something dst takes: a dot dst has not seen, or a marker when markers
 * stay? */
static bool survives(const join_run *run, const crdt__store *src) {
  if (run->keep_markers) return src->count != 0;
  for (uint32_t j = 0; j < src->count; j++) {
    const crdt__entry *e2 = &src->entries[j];
    if (crdt__entry_nested(e2)) {
      if (survives(run, crdt__entry_child(e2))) return true;
      continue;
    }
    bool packable;
    if (count_unseen(&run->jm, e2, &packable)) return true;
  }
  return false;
}

/* The part of the tree below src that dst takes (see survives), as a new
 * nested store in dst's replica indexes; *out is NULL when nothing
 * survives. Atomic. */
static int copy_unseen(const join_run *run, const crdt__store *src,
                       crdt__store **out) {
  const crdt_allocator *m = run->m;
  *out = NULL;
  crdt__store *s = crdt__store_new(m);
  if (!s) return CRDT_ENOMEM;
  int rc = 0;
  for (uint32_t j = 0; j < src->count && !rc; j++) {
    const crdt__entry *e2 = &src->entries[j];
    crdt__entry *e;
    if (crdt__entry_nested(e2)) {
      crdt__store *child;
      if ((rc = copy_unseen(run, crdt__entry_child(e2), &child)) || !child)
        continue;
      if ((rc = crdt__store_insert(s, m, crdt__entry_key(e2), e2->keylen,
                                   e2->hash, &e))) {
        crdt__store_destroy(child, m);
        continue;
      }
      crdt__entry_set_child(e, child);
      continue;
    }
    bool packable;
    uint32_t unseen = count_unseen(&run->jm, e2, &packable);
    if (!unseen && !run->keep_markers) continue;
    if ((rc = crdt__store_reserve(s, m, 1))) continue;
    rc = insert_unseen(s, m, e2, unseen, packable, &run->jm);
  }
  if (rc || !s->count) {
    crdt__store_destroy(s, m);
    return rc;
  }
  *out = s;
  return 0;
}

/* Drops, from the tree below s (a dst key src did not list), every dot src
 * has seen, and the keys left without dots. Never fails. */
CRDT__COLD static void drop_seen(const join_run *run, crdt__store *s) {
  for (uint32_t n = 0; n < s->count; n++) {
    crdt__entry *e1 = &s->entries[n];
    if (crdt__entry_nested(e1)) {
      drop_seen(run, crdt__entry_child(e1));
      crdt__entry_refresh(e1);
      continue;
    }
    crdt__entry_retain(e1, unseen_by_src, &run->jm);
    crdt__entry_shrink(e1, run->m);
  }
  crdt__store_sweep(s, run->m);
  crdt__store_tidy(s, run->m);
}

/* ---- one level of the join ----------------------------------------------- */

/* The join of one src store into one dst store: the root stores, or the
 * nested stores of a key both have. Phase 1 (level_prepare) may fail and
 * leaves dst logically unchanged; phase 2 (level_apply) cannot fail. */
typedef struct level level;
struct level {
  crdt__store *dst;
  const crdt__store *src;
  uint32_t old_count; /* dst's entries before the join */
  uint32_t new_keys;  /* src keys dst takes */
  uint32_t *where;    /* per src entry: its dst entry number, or WHERE_NONE */
  uint8_t *visited;   /* per dst entry, when walking */
  uint32_t nvisited;
  level **sub;        /* per src entry: the level of a nested key both have
                         (NULL for others); NULL when there is none */
  /* Small joins (an MV-register's siblings, a delta) allocate nothing for
   * their scratch arrays. */
  uint32_t small_where[CRDT__SMALL];
  uint8_t small_visited[CRDT__SMALL];
};

static void level_release(const join_run *run, level *lv);

/* Frees what level_prepare allocated, after level_apply or instead of it;
 * `undo`: pop the entries it appended first (they are the last ones). */
static void level_end(const join_run *run, level *lv, bool undo) {
  const crdt_allocator *m = run->m;
  if (undo)
    while (lv->dst->count > lv->old_count)
      crdt__store_delete(lv->dst, m, &lv->dst->entries[lv->dst->count - 1]);
  if (lv->sub) {
    for (uint32_t j = 0; j < lv->src->count; j++)
      if (lv->sub[j]) {
        level_end(run, lv->sub[j], undo);
        crdt__free(m, lv->sub[j], sizeof *lv->sub[j]);
      }
    crdt__free(m, lv->sub, lv->src->count * sizeof *lv->sub);
    lv->sub = NULL;
  }
  if (lv->visited != lv->small_visited)
    crdt__free(m, lv->visited, lv->nvisited);
  if (lv->where != lv->small_where)
    crdt__free(m, lv->where, lv->src->count * sizeof *lv->where);
  lv->visited = NULL;
  lv->where = NULL;
}

static void level_release(const join_run *run, level *lv) {
  level_end(run, lv, false);
}

static void level_init(level *lv, crdt__store *dst, const crdt__store *src) {
  lv->dst = dst;
  lv->src = src;
  lv->old_count = dst->count;
  lv->new_keys = 0;
  lv->where = lv->small_where;
  lv->visited = NULL;
  lv->nvisited = 0;
  lv->sub = NULL;
}

static int level_prepare(join_run *run, level *lv);

/* Phase 1 for a key both have whose values are nested stores (entry j of
 * src, e1 in dst). */
static int prepare_nested(join_run *run, level *lv, uint32_t j,
                          crdt__entry *e1, const crdt__entry *e2) {
  const crdt_allocator *m = run->m;
  if (!crdt__entry_nested(e1)) return CRDT_EFORMAT; /* kinds never differ */
  if (!lv->sub && !(lv->sub = crdt__calloc(m, lv->src->count, sizeof *lv->sub)))
    return CRDT_ENOMEM;
  level *sub = crdt__alloc(m, sizeof *sub);
  if (!sub) return CRDT_ENOMEM;
  level_init(sub, crdt__entry_child(e1), crdt__entry_child(e2));
  int rc = level_prepare(run, sub);
  if (rc) {
    crdt__free(m, sub, sizeof *sub);
    return rc;
  }
  lv->sub[j] = sub;
  return 0;
}

/* Phase 1 for a nested src key dst lacks: a new entry (room reserved)
 * holding what survives of it. */
CRDT__COLD static int insert_fresh_nested(join_run *run, crdt__store *dst,
                                          const crdt__entry *e2) {
  const crdt_allocator *m = run->m;
  crdt__store *child;
  const uint8_t *key;
  int rc = copy_unseen(run, crdt__entry_child(e2), &child);
  if (rc) return rc;
  if ((rc = crdt__store_key(dst, m, crdt__entry_key(e2), e2->keylen, &key))) {
    crdt__store_destroy(child, m);
    return rc;
  }
  crdt__entry *e = crdt__store_put(dst, key, e2->keylen, e2->hash);
  crdt__entry_set_child(e, child); /* survives() said it is not empty */
  return 0;
}

/* Phase 1 for a src key dst lacks: a new entry (room reserved). */
static inline int insert_fresh(join_run *run, level *lv,
                               const crdt__entry *e2) {
  const crdt_allocator *m = run->m;
  crdt__store *dst = lv->dst;
  if (crdt__entry_nested(e2)) return insert_fresh_nested(run, dst, e2);
  bool packable = true;
  uint32_t unseen;
  if (e2->ndots == 1 && !crdt__entry_many(e2)) {
    /* The common case: one packed dot, new here (or the key would not have
     * been chosen) unless the key is a marker. */
    unseen = 1;
    crdt__dv d = crdt__entry_dot(e2, 0);
    const bool fresh = !seen_by_dst(&run->jm, &d);
    d.replica = run->jm.map[d.replica];
    packable = crdt__dv_packable(d);
    if (packable && e2->keylen <= CRDT__KEY_INLINE) {
      /* Nothing to allocate: the key and the dot go into the entry. */
      crdt__entry *e =
          crdt__store_put(dst, crdt__entry_key(e2), e2->keylen, e2->hash);
      if (fresh) {
        e->dots = crdt__dv_pack(d);
        e->ndots = 1;
      }
      return 0;
    }
  } else {
    unseen = count_unseen(&run->jm, e2, &packable);
  }
  return insert_unseen(dst, m, e2, unseen, packable, &run->jm);
}

/* Phase 1 for a nested src key (entry j): a level for a key both have, or
 * a new key when dst lacks it and something of it survives. Kept out of
 * level_prepare's loop, which flat stores run alone. */
CRDT__COLD static int prepare_nested_key(join_run *run, level *lv, uint32_t j,
                              crdt__entry *e1, const crdt__entry *e2,
                              uint32_t *new_keys) {
  if (!e1) {
    bool add = survives(run, crdt__entry_child(e2));
    *new_keys += add;
    lv->where[j] = add ? lv->old_count + *new_keys - 1 : WHERE_NONE;
    return 0;
  }
  lv->where[j] = (uint32_t)(e1 - lv->dst->entries);
  run->common++;
  return prepare_nested(run, lv, j, e1, e2);
}

/* Phase 1: find each src key in dst once (remembering where), grow the dot
 * lists that will gain dots, prepare the levels of nested keys both have,
 * reserve the index and append the entries for keys dst lacks. On error
 * everything it did is undone (level_end). The loops keep what they use in
 * locals: stores through entries could otherwise alias the level's
 * fields and force reloads on every key. */
static int level_prepare(join_run *run, level *lv) {
  const crdt_allocator *m = run->m;
  crdt__store *const dst = lv->dst;
  const crdt__store *const s2 = lv->src;
  const uint32_t old_count = lv->old_count, count2 = s2->count;
  const join_maps jm = run->jm;
  const bool keep_markers = run->keep_markers;
  uint32_t *where = lv->where;
  uint32_t new_keys = 0, common = 0, scratch_n = run->scratch_n;
  int rc = 0;
  if (count2 > CRDT__SMALL &&
      !(where = lv->where = crdt__alloc(m, crdt__mul(count2, sizeof *where)))) {
    lv->where = lv->small_where;
    return CRDT_ENOMEM;
  }
  for (uint32_t j = 0; j < count2; j++) {
    const crdt__entry *e2 = &s2->entries[j];
    if (j + CRDT__PREFETCH_FAR < count2)
      crdt__prefetch_slot(dst, e2[CRDT__PREFETCH_FAR].hash);
    if (j + CRDT__PREFETCH_NEAR < count2)
      crdt__prefetch_entry(dst, e2[CRDT__PREFETCH_NEAR].hash);
    if (j + CRDT__PREFETCH_KEY < count2)
      crdt__prefetch_key(dst, e2[CRDT__PREFETCH_KEY].hash);
    crdt__entry *e1 =
        crdt__store_find(dst, crdt__entry_key(e2), e2->keylen, e2->hash);
    if (crdt__entry_nested(e2)) {
      if ((rc = prepare_nested_key(run, lv, j, e1, e2, &new_keys))) goto fail;
      continue;
    }
    bool packable;
    uint32_t unseen = count_unseen(&jm, e2, &packable);
    if (!e1) {
      bool add = unseen > 0 || keep_markers;
      new_keys += add;
      where[j] = add ? old_count + new_keys - 1 : WHERE_NONE;
      continue;
    }
    if (crdt__entry_nested(e1)) {
      rc = CRDT_EFORMAT; /* kinds never differ */
      goto fail;
    }
    where[j] = (uint32_t)(e1 - dst->entries);
    common++;
    if (unseen &&
        (rc = crdt__entry_reserve(e1, m, e1->ndots + unseen,
                                  packable && e1->ndots + unseen <= 1)))
      goto fail;
    if ((uint64_t)e1->ndots * e2->ndots > SMALL_PRODUCT &&
        crdt__entry_many(e1) && e1->ndots > scratch_n)
      scratch_n = e1->ndots;
  }
  run->common += common;
  /* the nested levels prepared above may have raised it: keep the largest */
  if (scratch_n > run->scratch_n) run->scratch_n = scratch_n;
  lv->new_keys = new_keys;
  if ((rc = crdt__store_reserve(dst, m, new_keys))) goto fail;
  lv->nvisited = old_count + new_keys;
  if (lv->nvisited && run->walk) {
    if (lv->nvisited <= CRDT__SMALL)
      memset(lv->visited = lv->small_visited, 0, lv->nvisited);
    else if (!(lv->visited = crdt__calloc(m, lv->nvisited, 1)))
      goto oom;
  }
  for (uint32_t j = 0, nfresh = 0; j < count2 && nfresh < new_keys; j++) {
    if (j + CRDT__PREFETCH_FAR < count2 &&
        where[j + CRDT__PREFETCH_FAR] != WHERE_NONE &&
        where[j + CRDT__PREFETCH_FAR] >= old_count)
      crdt__prefetch_slot(dst, s2->entries[j + CRDT__PREFETCH_FAR].hash);
    if (where[j] == WHERE_NONE || where[j] < old_count) continue;
    if ((rc = insert_fresh(run, lv, &s2->entries[j]))) goto fail;
    nfresh++;
  }
  return 0;
oom:
  rc = CRDT_ENOMEM;
fail:
  run->common += common;
  level_end(run, lv, true);
  return rc;
}

/* Phase 2: apply the rule to the keys both have and, when walking, to dst's
 * other keys (no lookups: the remembered positions say which were visited);
 * then delete the emptied entries, highest position first so the
 * swap-removes disturb nothing still to be visited. */
static void level_apply(const join_run *run, level *lv, uint8_t *scratch) {
  const crdt_allocator *m = run->m;
  crdt__store *const dst = lv->dst;
  const crdt__store *const s2 = lv->src;
  const uint32_t old_count = lv->old_count, count2 = s2->count;
  const join_maps jm = run->jm;
  const bool keep_markers = run->keep_markers;
  uint32_t *const where = lv->where;
  uint8_t *const visited = lv->visited;
  level *const *const sub = lv->sub;
  uint32_t nempty = 0;
  for (uint32_t j = 0; j < count2; j++) {
    if (j + CRDT__PREFETCH_FAR < count2 &&
        where[j + CRDT__PREFETCH_FAR] < old_count)
      crdt__prefetch(&dst->entries[where[j + CRDT__PREFETCH_FAR]]);
    uint32_t n = where[j];
    if (n == WHERE_NONE) continue;
    if (visited) visited[n] = 1;
    if (n >= old_count) continue; /* fresh: already holds the right dots */
    crdt__entry *e1 = &dst->entries[n];
    if (sub && sub[j]) {
      level_apply(run, sub[j], scratch);
      crdt__entry_refresh(e1);
    } else {
      join_entry(e1, &s2->entries[j], &jm, scratch, m);
    }
    if (e1->ndots == 0 && !keep_markers) where[nempty++] = n;
  }
  if (run->walk) {
    for (uint32_t n = 0; n < old_count; n++) {
      crdt__entry *e1 = &dst->entries[n];
      if (visited[n]) continue;
      if (!crdt__entry_many(e1)) {
        if (crdt__entry_nested(e1)) {
          drop_seen(run, crdt__entry_child(e1));
          crdt__entry_refresh(e1);
        } else if (e1->ndots) {
          /* One packed dot: decide inline (most entries; no call each). */
          crdt__dv one;
          if (seen_by_src(&jm, crdt__entry_view(e1, &one))) e1->ndots = 0;
        }
        continue;
      }
      crdt__entry_retain(e1, unseen_by_src, &jm);
      crdt__entry_shrink(e1, m);
    }
    crdt__store_sweep(dst, m);
  } else {
    crdt__sort(where, nempty, sizeof *where, u32_desc, NULL);
    for (uint32_t k = 0; k < nempty; k++)
      crdt__store_delete(dst, m, &dst->entries[where[k]]);
  }
  crdt__store_tidy(dst, m);
}

/*
 * Interns src's replicas and reserves the context, then phase 1 over the
 * tree of stores (level_prepare), which may fail and leaves dst logically
 * unchanged; then phase 2 (level_apply), which cannot fail, and the join of
 * the contexts. A store holding nested stores is joined level by level with
 * the same rule: both contexts are the roots', shared by every level.
 */
int crdt__causal_join(crdt__causal *dst, const crdt_allocator *m,
                      const crdt__causal *src) {
  if (dst == src) return 0;
  const uint32_t replicas_before = dst->replicas.count;
  uint32_t small_map[CRDT__SMALL], small_rmap[CRDT__SMALL];
  const uint32_t nmap = src->replicas.count;
  uint32_t *map = small_map, *rmap = small_rmap, nrmap = 0;
  uint8_t *scratch = NULL;
  int rc;
  if (nmap > CRDT__SMALL && !(map = crdt__alloc(m, crdt__mul(nmap, sizeof *map))))
    return CRDT_ENOMEM;
  if ((rc = crdt__replicas_map_into(&dst->replicas, m, &src->replicas, map))) {
    if (map != small_map) crdt__free(m, map, nmap * sizeof *map);
    return rc;
  }
  nrmap = dst->replicas.count;
  join_run run = {{map, NULL, &dst->ctx, &src->ctx}, m, dst->keyed && src->keyed,
                  false, 0, 0};
  /* A full src drops the dots of dst it has seen (and a keyed dst's
   * markers), so all of dst's keys need a visit, unless src has seen no dot
   * of any replica that dst has dots of (as when joining replicas that
   * wrote concurrently). */
  run.walk = !src->keyed && dst->store.count &&
             (dst->keyed || src_saw_dst_replicas(dst, src, map));
  level root;
  level_init(&root, &dst->store, &src->store);
  if ((rc = crdt__ctx_reserve_join(&dst->ctx, m, nrmap, &src->ctx)) ||
      (rc = level_prepare(&run, &root)))
    goto fail;
  /* The reverse map, for the src context checks of phase 2. */
  if (run.walk || run.common) {
    if (nrmap > CRDT__SMALL &&
        !(rmap = crdt__alloc(m, crdt__mul(nrmap, sizeof *rmap))))
      goto undo;
    for (uint32_t i = 0; i < nrmap; i++) rmap[i] = CRDT__NO_REPLICA;
    for (uint32_t i = 0; i < src->replicas.count; i++) rmap[map[i]] = i;
    run.jm.rmap = rmap;
  }
  if (run.scratch_n && !(scratch = crdt__alloc(m, run.scratch_n))) goto undo;

  level_apply(&run, &root, scratch);
  level_release(&run, &root);
  crdt__ctx_join(&dst->ctx, &src->ctx, map, src->replicas.count);
  dst->keyed = run.keep_markers;
  rc = 0;
  goto done;

undo:
  rc = CRDT_ENOMEM;
  level_end(&run, &root, true);
fail:
  crdt__replicas_truncate(&dst->replicas, m, replicas_before);
done:
  crdt__free(m, scratch, run.scratch_n);
  if (rmap != small_rmap) crdt__free(m, rmap, nrmap * sizeof *rmap);
  if (map != small_map) crdt__free(m, map, nmap * sizeof *map);
  return rc;
}
