/*
 * Sync sessions for the dot-based types (OR-set, MV-register, cart, flag,
 * map): the cold round's plan and its chunks, written and applied (see
 * syncops.h for the contract, docs/sync.md for the protocol; sync_drops.c
 * resolves removals and does the final context join).
 *
 * Everything here works per leaf (src/leaf.h): a key of a flat store, or
 * an entry holding dots at the end of a path of nested keys in the map. A
 * chunk lists leaves with every live dot the sender holds for them, as a
 * keyed delta body of the type (docs/format.md), its context exactly those
 * dots. The receiver knows which of them are new to it (outside its own
 * HELLO snapshot) and applies, per listed leaf, the join rule against the
 * sender's snapshot: its dots of the leaf that the sender has seen and
 * does not list die, the listed dots it has not seen arrive. Each chunk is
 * correct on its own: it adds only dots it carries and kills only dots the
 * sender has seen die, on its own leaves.
 */
#include <assert.h>
#include <string.h>

#include "digest.h"
#include "dotted.h"
#include "leaf.h"
#include "sort.h"
#include "sync_dotted.h"

/* ---- digest, live count, summary ----------------------------------------- */

uint64_t crdt__sd_digest(crdt_object *o) {
  const crdt__causal *c = &crdt__dotted_cof(o)->c;
  return o->journal ? crdt__journal_digest(o->journal, c, NULL)
                    : crdt__causal_digest(c);
}

uint64_t crdt__sd_live(const crdt_object *o) {
  if (o->journal && o->journal->digest_valid) return o->journal->live;
  return crdt__store_dots(&crdt__dotted_cof(o)->c.store);
}

int crdt__sd_summary(const crdt_object *o, crdt__sctx *out) {
  const crdt__causal *c = &crdt__dotted_cof(o)->c;
  return crdt__sctx_from(out, &o->mem, &c->ctx, &c->replicas);
}

/* ---- common replicas ------------------------------------------------------ */

#define ITEM_COUNTER_MAX ((UINT64_C(1) << 48) - 1)
#define ITEM_RANKS (UINT32_C(1) << 16)

int crdt__sd_common(crdt__cold *k, const crdt_allocator *m, bool *sketchable) {
  const crdt__replicas *a = &k->mine->r, *b = &k->peer->r;
  k->mine_common = crdt__alloc(m, crdt__mul(a->count, sizeof(uint32_t)));
  k->peer_common = crdt__alloc(m, crdt__mul(b->count, sizeof(uint32_t)));
  if ((a->count && !k->mine_common) || (b->count && !k->peer_common))
    return CRDT_ENOMEM;
  for (uint32_t i = 0; i < a->count; i++) k->mine_common[i] = UINT32_MAX;
  for (uint32_t i = 0; i < b->count; i++) k->peer_common[i] = UINT32_MAX;
  /* Canonical tables: index = rank, so a merge walk finds the common ids
   * in byte order, and both sides number them alike. */
  bool ok = true;
  uint32_t i = 0, j = 0, n = 0;
  while (i < a->count && j < b->count) {
    const crdt__rid *x = a->by_index[i], *y = b->by_index[j];
    int c = crdt__replica_cmp(x->id, x->len, y->id, y->len);
    if (c < 0) {
      i++;
    } else if (c > 0) {
      j++;
    } else {
      if (crdt__vv_get(&k->mine->c.top, i) > ITEM_COUNTER_MAX ||
          crdt__vv_get(&k->peer->c.top, j) > ITEM_COUNTER_MAX)
        ok = false;
      k->mine_common[i++] = n;
      k->peer_common[j++] = n++;
    }
  }
  k->ncommon = n;
  *sketchable = ok && n < ITEM_RANKS;
  return 0;
}

void crdt__sd_maps_free(crdt__sd_maps *mp, const crdt_allocator *m) {
  crdt__free(m, mp->mine, mp->n * sizeof *mp->mine);
  crdt__free(m, mp->peer, mp->n * sizeof *mp->peer);
  crdt__free(m, mp->common, mp->n * sizeof *mp->common);
}

int crdt__sd_maps_make(crdt__sd_maps *mp, const crdt__cold *k,
                       const crdt__replicas *r, const crdt_allocator *m) {
  memset(mp, 0, sizeof *mp);
  mp->n = r->count;
  size_t bytes = crdt__mul(r->count, sizeof(uint32_t));
  mp->mine = crdt__alloc(m, bytes);
  mp->peer = crdt__alloc(m, bytes);
  mp->common = crdt__alloc(m, bytes);
  if (r->count && (!mp->mine || !mp->peer || !mp->common)) {
    crdt__sd_maps_free(mp, m);
    return CRDT_ENOMEM;
  }
  for (uint32_t i = 0; i < r->count; i++) {
    mp->mine[i] = crdt__replicas_find_rid(&k->mine->r, r->by_index[i]);
    mp->peer[i] = crdt__replicas_find_rid(&k->peer->r, r->by_index[i]);
    mp->common[i] = mp->mine[i] == CRDT__NO_REPLICA || !k->mine_common
                        ? UINT32_MAX
                        : k->mine_common[mp->mine[i]];
  }
  return 0;
}

/* ---- the plan: one scan --------------------------------------------------- */

/* The item of a dot for the set of this side's live dots the peer has not
 * seen: its index in `mine` and its counter, hashed. */
static uint64_t mine_item(uint32_t index, uint64_t counter) {
  uint8_t b[12];
  for (int i = 0; i < 4; i++) b[i] = (uint8_t)(index >> (8 * i));
  for (int i = 0; i < 8; i++) b[4 + i] = (uint8_t)(counter >> (8 * i));
  return crdt__digest_bytes(b, sizeof b);
}

/* Appends (rank, counter) to the array *a of *n (capacity *cap). */
static int rdot_push(crdt__rdot **a, uint32_t *n, uint32_t *cap,
                     const crdt_allocator *m, uint32_t rank, uint64_t counter) {
  int rc = crdt__sync_grow(m, a, cap, *n + 1, sizeof **a, 64);
  if (!rc) (*a)[(*n)++] = (crdt__rdot){rank, counter};
  return rc;
}

static int rdot_order(const void *a, const void *b, const void *ctx) {
  (void)ctx;
  const crdt__rdot *x = a, *y = b;
  if (x->rank != y->rank) return x->rank < y->rank ? -1 : 1;
  return (x->counter > y->counter) - (x->counter < y->counter);
}

/* The dots of this side's snapshot that the peer's lacks and that no store
 * here holds (`live`: the items of those it holds): the removals and
 * superseded writes the peer has not seen. They go to the peer before any
 * entry, so that an update it receives never comes without the dots that
 * update superseded (its context stays closed under supersession). */
static int plan_dead(crdt__cold *k, const crdt_allocator *m,
                     const crdt__u64set *live) {
  const crdt__sctx *a = k->mine, *b = k->peer;
  int rc = 0;
  for (uint32_t i = 0; i < a->r.count && !rc; i++) {
    const uint32_t j = crdt__replicas_find_rid(&b->r, a->r.by_index[i]);
    const uint64_t from = j == CRDT__NO_REPLICA ? 0 : crdt__vv_get(&b->c.vv, j);
    const uint64_t to = crdt__vv_get(&a->c.vv, i);
    for (uint64_t c = from + 1; c <= to && !rc; c++)
      if (!crdt__sd_in_sctx(b, j, c) && !crdt__u64set_has(live, mine_item(i, c)))
        rc = rdot_push(&k->dead, &k->ndead, &k->dead_cap, m, i, c);
  }
  const crdt__cloud *cl = &a->c.cloud;
  for (uint32_t s = 0; s < cl->cap && !rc; s++) {
    const crdt__dot d = cl->slots[s];
    if (!d.counter) continue;
    uint32_t j = crdt__replicas_find_rid(&b->r, a->r.by_index[d.replica]);
    if (!crdt__sd_in_sctx(b, j, d.counter) &&
        !crdt__u64set_has(live, mine_item(d.replica, d.counter)))
      rc = rdot_push(&k->dead, &k->ndead, &k->dead_cap, m, d.replica,
                     d.counter);
  }
  if (!rc) crdt__sort(k->dead, k->ndead, sizeof *k->dead, rdot_order, NULL);
  return rc;
}

/* Is o's state a tree (the map), so that plan keys are flat keys of
 * leaves (src/leaf.h)? */
static bool nested_type(const crdt_object *o) {
  return crdt__sync_ops_of(o->type)->nested;
}

/* Appends leaf `at` to the plan. */
static int plan_leaf(crdt__cold *k, const crdt_allocator *m, bool nested,
                     const crdt__leaf *at) {
  if (!nested) return crdt__cold_plan_key(k, m, at->key.bytes, at->key.len);
  uint8_t small[256];
  const size_t n = crdt__leaf_flat_size(at);
  uint8_t *flat = n <= sizeof small ? small : crdt__alloc(m, n);
  if (!flat) return CRDT_ENOMEM;
  crdt__leaf_flat_put(at, flat);
  int rc = crdt__cold_plan_key(k, m, flat, n);
  if (flat != small) crdt__free(m, flat, n);
  return rc;
}

/* The address of plan key i (path: room for the nested keys). */
static int plan_leaf_get(const crdt__cold *k, uint32_t i, bool nested,
                         crdt__key *path, crdt__leaf *at) {
  const uint8_t *key = k->keys + k->offs[i];
  const size_t len = k->offs[i + 1] - k->offs[i];
  if (nested) return crdt__leaf_flat_get(key, len, path, at);
  *at = (crdt__leaf){NULL, 0, {key, len, crdt__key_hash(key, len)}};
  return 0;
}

/* One scan: the leaves the peer lacks something of; the live dots inside
 * both snapshots, as cells of the sketch or as a list (LIVE); and the live
 * dots the peer has not seen, to tell the dead ones apart. */
int crdt__sd_plan(crdt__cold *k, const crdt_object *o) {
  const crdt__causal *c = &crdt__dotted_cof(o)->c;
  const crdt_allocator *m = &o->mem;
  const bool nested = nested_type(o);
  crdt__sd_maps mp;
  crdt__u64set live = {0};
  int rc = crdt__sd_maps_make(&mp, k, &c->replicas, m);
  if (rc) return rc;
  crdt__leaves it;
  crdt__leaves_begin(&it, &c->store, false);
  for (const crdt__entry *e; !rc && (e = crdt__leaves_next(&it));) {
    crdt__dv one;
    const crdt__dv *d = crdt__entry_view(e, &one);
    bool send = false;
    for (uint32_t i = 0; i < e->ndots && !rc; i++) {
      const uint32_t r = d[i].replica;
      const bool mine = crdt__sd_in_sctx(k->mine, mp.mine[r], d[i].counter);
      if (!crdt__sd_in_sctx(k->peer, mp.peer[r], d[i].counter)) {
        if (!mine) continue; /* newer than this side's HELLO: not this round */
        send = true;
        rc = crdt__u64set_add(&live, m, mine_item(mp.mine[r], d[i].counter));
      } else if (mine && k->sketch) {
        crdt__riblt_add(k->cells, k->m_store,
                        crdt__sd_item(mp.common[r], d[i].counter), 1);
      } else if (mine) {
        rc = rdot_push(&k->live, &k->nlive, &k->live_cap, m, mp.common[r],
                       d[i].counter);
      }
    }
    if (send && !rc) {
      const crdt__leaf at = crdt__leaves_at(&it, e);
      rc = plan_leaf(k, m, nested, &at);
    }
  }
  if (!rc) rc = plan_dead(k, m, &live);
  if (!rc && !k->sketch)
    crdt__sort(k->live, k->nlive, sizeof *k->live, rdot_order, NULL);
  crdt__u64set_free(&live, m);
  crdt__sd_maps_free(&mp, m);
  return rc;
}

/* ---- chunks ---------------------------------------------------------------- */

int crdt__sd_put_dot(crdt__causal *t, const crdt_allocator *m,
                     const crdt__leaf *at, const crdt__replicas *from,
                     uint32_t ri, uint64_t counter, int64_t value, bool store) {
  size_t len;
  const char *id = crdt__replicas_id(from, ri, &len);
  uint32_t r;
  int rc = crdt__causal_replica(t, m, id, len, &r);
  if (rc) return rc;
  if (store) {
    crdt__entry *e;
    if ((rc = crdt__leaf_make(t, m, at, &e))) return rc;
    crdt__dv dv = {counter, r, value};
    if ((rc = crdt__entry_add(e, m, dv))) return rc;
  }
  crdt__ctx_add(&t->ctx, (crdt__dot){counter, r}); /* room: causal_replica */
  return 0;
}

/* Estimated encoded bytes of one leaf of the chunk, its path included. */
static size_t leaf_bytes(const crdt__leaf *at, const crdt__entry *e,
                         bool values) {
  size_t n = e->keylen + 5 + (size_t)e->ndots * (values ? 14 : 4);
  for (uint32_t i = 0; i < at->depth; i++) n += at->path[i].len + 3;
  return n;
}

/* Is dot d (an index of table r) in the snapshot s? */
static bool snap_has(const crdt__sctx *s, const crdt__replicas *r,
                     const crdt__dv *d) {
  return crdt__sd_in_sctx(s, crdt__replicas_find_rid(&s->r, r->by_index[d->replica]),
                 d->counter);
}

/* Builds the keyed delta of plan keys [k->next_key, ...) that fit in
 * `budget` (estimated) into t; *used = plan keys covered, *more: keys were
 * left out for the budget. */
static int build_chunk(crdt__cold *k, const crdt_object *o, size_t budget,
                       bool values, crdt__causal *t, uint32_t *used,
                       bool *more) {
  const crdt__causal *c = &crdt__dotted_cof(o)->c;
  const crdt_allocator *m = &o->mem;
  const bool nested = nested_type(o);
  size_t est = 16;
  uint32_t i = k->next_key - k->ndead;
  int rc = 0;
  *more = false;
  for (; i < k->nkeys && rc == 0; i++) {
    crdt__key path[CRDT__DEPTH_MAX];
    crdt__leaf at;
    if ((rc = plan_leaf_get(k, i, nested, path, &at))) break;
    const crdt__entry *e = crdt__leaf_find(&c->store, &at);
    if (!e || !e->ndots) continue; /* gone since the plan */
    crdt__dv one;
    const crdt__dv *d = crdt__entry_view(e, &one);
    /* Only dots of this side's snapshot: an update made or received since
     * this side's HELLO is not part of the round (its superseded dots are
     * not among the dead dots sent, nor in the snapshot the peer joins). */
    bool fresh = false;
    for (uint32_t j = 0; j < e->ndots && !fresh; j++)
      fresh = snap_has(k->mine, &c->replicas, &d[j]) &&
              !snap_has(k->peer, &c->replicas, &d[j]);
    if (!fresh) continue; /* the peer has seen all of it by now */
    /* the entry, its dots in the chunk's context, and the ids that would
     * join the chunk's table */
    size_t need = leaf_bytes(&at, e, values) + (size_t)e->ndots * 4;
    for (uint32_t j = 0; j < e->ndots; j++)
      if (crdt__replicas_find_rid(&t->replicas,
                                  c->replicas.by_index[d[j].replica]) ==
          CRDT__NO_REPLICA)
        need += 70;
    if (est + need > budget && i > k->next_key - k->ndead) {
      *more = true;
      break;
    }
    est += need;
    for (uint32_t j = 0; j < e->ndots && rc == 0; j++)
      if (snap_has(k->mine, &c->replicas, &d[j]))
        rc = crdt__sd_put_dot(t, m, &at, &c->replicas, d[j].replica,
                              d[j].counter, d[j].value, true);
  }
  *used = i - (k->next_key - k->ndead);
  return rc;
}

/* Bytes a varint grows by when v becomes v + 1. */
static size_t varint_step(uint64_t v) {
  return crdt__varint_len(v + 1) - crdt__varint_len(v);
}

/* A part of the dead dots, as a context: as many as fit the budget. The
 * dots come sorted by replica and counter, so the bytes each adds to the
 * encoding (docs/format.md, "Causal context") are known exactly from the
 * ones before it: a dot that extends the prefix or the last run grows that
 * varint; one past a gap starts a run (gap, extra 0, one more run); the
 * first of a replica adds its id, prefix and runs count (and a run unless
 * it is counter 1), and one more replica to the table. */
static int put_dead(crdt__cold *k, const crdt_allocator *m, crdt__wbuf *w,
                    size_t budget, uint32_t *used) {
  uint32_t from = k->next_key, n = 0;
  size_t est = 3; /* the chunk kind, the last-part flag, the table's count */
  crdt__ctx ctx = {0};
  crdt__replicas reps = {0};
  int rc = 0;
  uint32_t last = UINT32_MAX, r = 0, nreps = 0;
  uint64_t prev = 0, prefix = 0, runs = 0, extra = 0;
  for (uint32_t i = from; i < k->ndead && !rc; i++, n++) {
    const crdt__rdot d = k->dead[i];
    const crdt__rid *rid = k->mine->r.by_index[d.rank];
    const bool first = d.rank != last;
    uint64_t p = prefix, nr = runs, x = extra; /* after this dot */
    size_t need;
    if (first) {
      p = d.counter == 1;
      nr = !p;
      x = 0;
      need = varint_step(nreps) + crdt__varint_len(rid->len) + rid->len +
             (p ? 2 : 3 + crdt__varint_len(d.counter - 2));
    } else if (d.counter == prev + 1) {
      need = runs ? varint_step(x++) : varint_step(p++);
    } else {
      need = varint_step(nr++) + crdt__varint_len(d.counter - prev - 2) + 1;
      x = 0;
    }
    if (n && est + need > budget) break;
    est += need;
    prefix = p;
    runs = nr;
    extra = x;
    prev = d.counter;
    if (first) {
      if ((rc = crdt__replicas_intern(&reps, m, rid->id, rid->len, &r))) break;
      nreps++;
      last = d.rank;
    }
    rc = crdt__ctx_insert(&ctx, m, (crdt__dot){d.counter, r});
  }
  const size_t start = w->len;
  if (!rc) {
    crdt__w_u8(w, CRDT__CHUNK_DEAD);
    crdt__w_u8(w, from + n >= k->ndead); /* the last part */
    crdt__wire_put_context(w, &ctx, &reps);
    rc = w->err;
  }
  assert(rc || w->len - start == est); /* the count is exact */
  (void)start;
  crdt__ctx_free(&ctx, m);
  crdt__replicas_free(&reps, m);
  if (!rc) *used = n;
  return rc;
}

/* b * num / den, for budgets of any size. */
static size_t scale(size_t b, size_t num, size_t den) {
  const double x = (double)b * (double)num / (double)den;
  return x < (double)(SIZE_MAX / 2) ? (size_t)x : SIZE_MAX / 2;
}

int crdt__sd_put_chunk(crdt__cold *k, const crdt_object *o, crdt__wbuf *w,
                       size_t budget, uint32_t *used) {
  const crdt_allocator *m = &o->mem;
  /* the map's counter and LWW leaves carry values: estimated as if all did */
  const bool values = o->type->tag == CRDT_TYPE_CART || nested_type(o);
  *used = 0;
  if (k->next_key < k->ndead) return put_dead(k, m, w, budget, used);
  if (k->next_key >= crdt__cold_items(k)) return 0;
  /* Estimates are rough (keys and ids vary): build, measure, and search
   * the estimate's budget for a chunk that fills most of the real one. */
  size_t b = budget, lo = 0, hi = SIZE_MAX;
  for (int attempt = 0;; attempt++) {
    crdt__causal t = {0};
    t.keyed = true;
    uint32_t n;
    bool more;
    int rc = build_chunk(k, o, b, values, &t, &n, &more);
    const size_t start = w->len;
    if (!rc && t.store.count) {
      crdt__w_u8(w, CRDT__CHUNK_ENTRIES);
      crdt__sync_ops_of(o->type)->put_delta(w, &t);
    }
    crdt__causal_free(&t, m);
    if (rc) return rc;
    if (w->err) return w->err;
    const size_t size = w->len - start;
    const bool fits = size <= budget;
    if (fits && (!more || size >= budget - budget / 8 || b == lo)) {
      *used = n;
      return 0;
    }
    w->len = start;
    if (!fits && n <= 1) return CRDT_ENOSPC; /* one entry exceeds a message */
    if (fits)
      lo = b;
    else
      hi = b;
    if (attempt >= 6 && lo)
      b = lo; /* good enough */
    else if (hi == SIZE_MAX)
      b = scale(b, budget - budget / 16, size ? size : 1);
    else if (!lo)
      b = scale(b, budget - budget / 8, size) / (attempt >= 6 ? 2 : 1);
    else
      b = lo + (hi - lo) / 2;
  }
}

int crdt__sd_change_key(crdt__change *ch, const crdt_allocator *m,
                        const crdt__leaf *at) {
  if ((ch->d.store.count == 0 && ch->d.store.cap == 0)) ch->d.keyed = true;
  ch->any = true;
  crdt__entry *e;
  return crdt__leaf_make(&ch->d, m, at, &e);
}

/* ctx (indexes of `reps`) joined into (*into, its table). */
int crdt__sd_join_ctx(crdt__ctx *into, crdt__replicas *into_reps,
                      const crdt_allocator *m, const crdt__ctx *ctx,
                      const crdt__replicas *reps) {
  uint32_t *map = NULL;
  int rc = crdt__replicas_map(into_reps, m, reps, &map);
  if (!rc) rc = crdt__ctx_reserve_join(into, m, into_reps->count, ctx);
  if (!rc) crdt__ctx_join(into, ctx, map, reps->count);
  crdt__free(m, map, reps->count * sizeof *map);
  return rc;
}

/* Dead dots: kept until the last part (a part alone could name a removal
 * without the dots it removed), then into the change's context. No key:
 * they kill nothing here, where no store holds them. */
static int apply_dead(crdt__cold *k, const crdt_object *o, crdt__rbuf *body,
                      crdt__change *ch) {
  const crdt_allocator *m = &o->mem;
  const uint8_t *last;
  crdt__sctx part;
  int rc = crdt__r_bytes(body, 1, &last);
  if (rc) return rc;
  if (last[0] > 1) return CRDT_EFORMAT;
  memset(&part, 0, sizeof part);
  rc = crdt__wire_get_context(body, m, &part.c, &part.r, crdt__r_left(body));
  if (!rc && crdt__r_left(body)) rc = CRDT_ETRAILING;
  /* kept in the round's state: a retry of this message joins the same */
  if (!rc)
    rc = crdt__sd_join_ctx(&k->dead_in.c, &k->dead_in.r, m, &part.c, &part.r);
  if (!rc && last[0]) {
    rc = crdt__sd_join_ctx(&ch->d.ctx, &ch->d.replicas, m, &k->dead_in.c,
                           &k->dead_in.r);
    ch->any = true;
    ch->record_unkeyed = true;
    /* This side's updates since its HELLO (its own, or merged from
     * elsewhere) may have reached the peer by another path and died there:
     * those it holds die here too, with their keys (a scan, only then). */
    if (!rc && k->changed_since) {
      const crdt__causal *c = &crdt__dotted_cof(o)->c;
      crdt__leaves it;
      crdt__leaves_begin(&it, &c->store, false);
      for (const crdt__entry *en; !rc && (en = crdt__leaves_next(&it));) {
        crdt__dv one;
        const crdt__dv *d = crdt__entry_view(en, &one);
        const crdt__leaf at = crdt__leaves_at(&it, en);
        for (uint32_t i = 0; i < en->ndots && !rc; i++)
          if (!snap_has(k->mine, &c->replicas, &d[i]) &&
              snap_has(&k->dead_in, &c->replicas, &d[i])) {
            crdt__dv dv = d[i];
            rc = crdt__sd_change_kill(ch, m, c, &at, &dv);
          }
      }
    }
  }
  crdt__sctx_free(&part, m);
  return rc;
}

int crdt__sd_apply_chunk(crdt__cold *k, const crdt_object *o, crdt__rbuf *body,
                         crdt__change *ch) {
  const crdt__causal *c = &crdt__dotted_cof(o)->c;
  const crdt_allocator *m = &o->mem;
  const uint8_t *kind;
  int rc = crdt__r_bytes(body, 1, &kind);
  if (rc) return rc;
  if (kind[0] == CRDT__CHUNK_DEAD) return apply_dead(k, o, body, ch);
  if (kind[0] != CRDT__CHUNK_ENTRIES) return CRDT_EFORMAT;
  crdt__causal t = {0};
  rc = crdt__sync_ops_of(o->type)->get_delta(body, m, &t, true);
  if (!rc && crdt__r_left(body)) rc = CRDT_ETRAILING;
  crdt__leaves it;
  crdt__leaves_begin(&it, &t.store, false);
  /* t does not change in the loop: addresses into it stay valid */
  for (const crdt__entry *te; rc == 0 && (te = crdt__leaves_next(&it));) {
    const crdt__leaf at = crdt__leaves_at(&it, te);
    if ((rc = crdt__sd_change_key(ch, m, &at))) break;
    const crdt__entry *e = crdt__leaf_find(&c->store, &at);
    crdt__dv one, one2;
    const crdt__dv *td = crdt__entry_view(te, &one);
    const crdt__dv *od = e ? crdt__entry_view(e, &one2) : NULL;
    /* the sender's live dots: new ones arrive with their values, those this
     * side has seen stay if it holds them (its own value) */
    for (uint32_t i = 0; i < te->ndots && rc == 0; i++) {
      const crdt__rid *rid = t.replicas.by_index[td[i].replica];
      uint32_t mi = crdt__replicas_find_rid(&k->mine->r, rid);
      bool seen = crdt__sd_in_sctx(k->mine, mi, td[i].counter);
      int64_t value = td[i].value;
      bool held = !seen;
      uint32_t oi = crdt__replicas_find_rid(&c->replicas, rid);
      for (uint32_t j = 0; seen && od && j < e->ndots; j++)
        if (od[j].replica == oi && od[j].counter == td[i].counter) {
          held = true;
          value = od[j].value;
        }
      rc = crdt__sd_put_dot(&ch->d, m, &at, &t.replicas, td[i].replica,
                            td[i].counter, value, held);
    }
    /* this side's dots of the key that the sender has seen: in the context,
     * so the join drops those the sender does not list */
    for (uint32_t j = 0; od && j < e->ndots && rc == 0; j++) {
      const crdt__rid *rid = c->replicas.by_index[od[j].replica];
      if (crdt__sd_in_sctx(k->peer, crdt__replicas_find_rid(&k->peer->r, rid),
                  od[j].counter))
        rc = crdt__sd_put_dot(&ch->d, m, &at, &c->replicas, od[j].replica,
                              od[j].counter, od[j].value, false);
    }
  }
  crdt__causal_free(&t, m);
  return rc;
}

