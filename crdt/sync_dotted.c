/*
 * Sync sessions for the dot-based types (OR-set, MV-register, cart): the
 * cold round's plan, chunks, sketch drops and final context join (see
 * syncops.h for the contract, docs/sync.md for the protocol).
 *
 * A chunk lists keys with every live dot the sender holds for them, as a
 * keyed delta body (docs/format.md), its context exactly those dots. The
 * receiver knows which of them are new to it (outside its own HELLO
 * snapshot) and applies, per listed key, the join rule against the
 * sender's snapshot: its dots of the key that the sender has seen and does
 * not list die, the listed dots it has not seen arrive. Each chunk is
 * correct on its own: it adds only dots it carries and kills only dots the
 * sender has seen die, on its own keys.
 */
#include <string.h>

#include "digest.h"
#include "dotted.h"
#include "syncops.h"

/* ---- digest, live count, summary ----------------------------------------- */

uint64_t crdt__sd_digest(crdt_object *o) {
  const crdt__causal *c = &crdt__dotted_cof(o)->c;
  return o->journal ? crdt__journal_digest(o->journal, c, NULL)
                    : crdt__causal_digest(c);
}

uint64_t crdt__sd_live(const crdt_object *o) {
  if (o->journal && o->journal->digest_valid) return o->journal->live;
  const crdt__store *s = &crdt__dotted_cof(o)->c.store;
  uint64_t n = 0;
  for (uint32_t i = 0; i < s->count; i++) n += s->entries[i].ndots;
  return n;
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

/* How the object's replica indexes relate to the round's snapshots. */
typedef struct maps {
  uint32_t *mine, *peer, *common; /* per object replica index */
  uint32_t n;
} maps;

static void maps_free(maps *mp, const crdt_allocator *m) {
  crdt__free(m, mp->mine, mp->n * sizeof *mp->mine);
  crdt__free(m, mp->peer, mp->n * sizeof *mp->peer);
  crdt__free(m, mp->common, mp->n * sizeof *mp->common);
}

static int maps_make(maps *mp, const crdt__cold *k, const crdt__replicas *r,
                     const crdt_allocator *m) {
  memset(mp, 0, sizeof *mp);
  mp->n = r->count;
  size_t bytes = crdt__mul(r->count, sizeof(uint32_t));
  mp->mine = crdt__alloc(m, bytes);
  mp->peer = crdt__alloc(m, bytes);
  mp->common = crdt__alloc(m, bytes);
  if (r->count && (!mp->mine || !mp->peer || !mp->common)) {
    maps_free(mp, m);
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

static bool in_sctx(const crdt__sctx *s, uint32_t idx, uint64_t counter) {
  return idx != CRDT__NO_REPLICA &&
         crdt__ctx_has(&s->c, (crdt__dot){counter, idx});
}

/* ---- the plan: one scan --------------------------------------------------- */

/* Keys the peer lacks something of (sketch) or every key (FULL), and in
 * sketch mode the cells of the live dots inside both snapshots. */
int crdt__sd_plan(crdt__cold *k, const crdt_object *o) {
  const crdt__causal *c = &crdt__dotted_cof(o)->c;
  const crdt_allocator *m = &o->mem;
  maps mp;
  int rc = maps_make(&mp, k, &c->replicas, m);
  if (rc) return rc;
  for (uint32_t n = 0; n < c->store.count && !rc; n++) {
    const crdt__entry *e = &c->store.entries[n];
    crdt__dv one;
    const crdt__dv *d = crdt__entry_view(e, &one);
    bool send = !k->sketch;
    for (uint32_t i = 0; i < e->ndots; i++) {
      const uint32_t r = d[i].replica;
      if (!in_sctx(k->peer, mp.peer[r], d[i].counter)) {
        send = true;
      } else if (k->sketch && in_sctx(k->mine, mp.mine[r], d[i].counter)) {
        crdt__riblt_add(k->cells, k->m_store,
                        crdt__sd_item(mp.common[r], d[i].counter), 1);
      }
    }
    if (send) rc = crdt__cold_plan_key(k, m, crdt__entry_key(e), e->keylen);
  }
  maps_free(&mp, m);
  return rc;
}

/* ---- chunks ---------------------------------------------------------------- */

/* Adds dot (id of `from` index `ri`, counter, value) to entry `e` of the
 * keyed delta t, and to its context. */
static int put_dot(crdt__causal *t, const crdt_allocator *m, const char *key,
                   size_t keylen, uint32_t hash, const crdt__replicas *from,
                   uint32_t ri, uint64_t counter, int64_t value, bool store) {
  size_t len;
  const char *id = crdt__replicas_id(from, ri, &len);
  uint32_t r;
  int rc = crdt__causal_replica(t, m, id, len, &r);
  if (rc) return rc;
  if (store) {
    crdt__entry *e = crdt__store_find(&t->store, key, keylen, hash);
    if (!e && (rc = crdt__store_insert(&t->store, m, key, keylen, hash, &e)))
      return rc;
    crdt__dv dv = {counter, r, value};
    if ((rc = crdt__entry_add(e, m, dv))) return rc;
  }
  crdt__ctx_add(&t->ctx, (crdt__dot){counter, r}); /* room: causal_replica */
  return 0;
}

/* A key listed without a live dot (a marker), so its dots can be killed by
 * a keyed join. */
static int put_key(crdt__causal *t, const crdt_allocator *m, const void *key,
                   size_t len, uint32_t hash) {
  if (crdt__store_find(&t->store, key, len, hash)) return 0;
  crdt__entry *e;
  return crdt__store_insert(&t->store, m, key, len, hash, &e);
}

/* Estimated encoded bytes of one entry of the chunk. */
static size_t entry_bytes(const crdt__entry *e, bool values) {
  return e->keylen + 5 + (size_t)e->ndots * (values ? 14 : 4);
}

/* Builds the keyed delta of plan keys [k->next_key, ...) that fit in
 * `budget` (estimated) into t; *used = plan keys covered. */
static int build_chunk(crdt__cold *k, const crdt_object *o, size_t budget,
                       bool values, crdt__causal *t, uint32_t *used) {
  const crdt__causal *c = &crdt__dotted_cof(o)->c;
  const crdt_allocator *m = &o->mem;
  size_t est = 16;
  uint32_t i = k->next_key;
  int rc = 0;
  for (; i < k->nkeys && rc == 0; i++) {
    const uint8_t *key = k->keys + k->offs[i];
    const size_t len = k->offs[i + 1] - k->offs[i];
    const uint32_t hash = crdt__key_hash(key, len);
    const crdt__entry *e = crdt__store_find(&c->store, key, len, hash);
    if (!e || !e->ndots) continue; /* gone since the plan */
    crdt__dv one;
    const crdt__dv *d = crdt__entry_view(e, &one);
    bool fresh = !k->sketch;
    for (uint32_t j = 0; j < e->ndots && !fresh; j++) {
      const crdt__rid *rid = c->replicas.by_index[d[j].replica];
      fresh = !in_sctx(k->peer, crdt__replicas_find_rid(&k->peer->r, rid),
                       d[j].counter);
    }
    if (!fresh) continue; /* the peer has seen all of it by now */
    size_t need = entry_bytes(e, values) + 70; /* an id may join the table */
    if (est + need > budget && i > k->next_key) break;
    est += need;
    if ((rc = crdt__store_reserve(&t->store, m, 1))) break;
    /* the key is copied before anything can move the entry */
    for (uint32_t j = 0; j < e->ndots && rc == 0; j++)
      rc = put_dot(t, m, (const char *)key, len, hash, &c->replicas,
                   d[j].replica, d[j].counter, d[j].value, true);
  }
  *used = i - k->next_key;
  return rc;
}

int crdt__sd_put_chunk(crdt__cold *k, const crdt_object *o, crdt__wbuf *w,
                       size_t budget, uint32_t *used) {
  const crdt_allocator *m = &o->mem;
  const bool values = o->type->tag == CRDT_TYPE_CART;
  *used = 0;
  if (k->next_key >= k->nkeys) return 0;
  for (size_t b = budget;; b /= 2) {
    crdt__causal t = {0};
    t.keyed = true;
    uint32_t n;
    int rc = build_chunk(k, o, b, values, &t, &n);
    const size_t start = w->len;
    if (!rc && t.store.count) crdt__wire_put_causal(w, &t, values);
    crdt__causal_free(&t, m);
    if (rc) return rc;
    if (w->err) return w->err;
    if (w->len - start <= budget || n <= 1) {
      if (w->len - start > budget) {
        w->len = start;
        return CRDT_ENOSPC; /* one entry larger than a message */
      }
      *used = n;
      return 0;
    }
    w->len = start; /* the estimate was short: fewer keys */
  }
}

/* The entry of `key` in the change's delta, created as a marker. */
static int change_key(crdt__change *ch, const crdt_allocator *m,
                      const void *key, size_t len, uint32_t hash) {
  if ((ch->d.store.count == 0 && ch->d.store.cap == 0)) ch->d.keyed = true;
  ch->any = true;
  return put_key(&ch->d, m, key, len, hash);
}

int crdt__sd_apply_chunk(crdt__cold *k, const crdt_object *o, crdt__rbuf *body,
                         crdt__change *ch) {
  const crdt__causal *c = &crdt__dotted_cof(o)->c;
  const crdt_allocator *m = &o->mem;
  const bool values = o->type->tag == CRDT_TYPE_CART;
  crdt__causal t = {0};
  int rc = crdt__wire_get_causal(body, m, &t, values, true);
  if (!rc && crdt__r_left(body)) rc = CRDT_ETRAILING;
  for (uint32_t n = 0; n < t.store.count && rc == 0; n++) {
    const crdt__entry *te = &t.store.entries[n];
    const uint8_t *keyp = crdt__entry_key(te);
    uint8_t keybuf[CRDT__KEY_INLINE];
    const size_t len = te->keylen;
    if (len <= CRDT__KEY_INLINE) { /* entries of ch->d move as keys arrive */
      memcpy(keybuf, keyp, len);
      keyp = keybuf;
    }
    const char *key = (const char *)keyp;
    const uint32_t hash = crdt__key_hash(key, len);
    if ((rc = change_key(ch, m, key, len, hash))) break;
    if (!k->sketch &&
        (rc = crdt__u64set_add(&k->listed, m, crdt__digest_bytes(key, len))))
      break;
    const crdt__entry *e = crdt__store_find(&c->store, key, len, hash);
    crdt__dv one, one2;
    const crdt__dv *td = crdt__entry_view(te, &one);
    const crdt__dv *od = e ? crdt__entry_view(e, &one2) : NULL;
    /* the sender's live dots: new ones arrive with their values, those this
     * side has seen stay if it holds them (its own value) */
    for (uint32_t i = 0; i < te->ndots && rc == 0; i++) {
      const crdt__rid *rid = t.replicas.by_index[td[i].replica];
      uint32_t mi = crdt__replicas_find_rid(&k->mine->r, rid);
      bool seen = in_sctx(k->mine, mi, td[i].counter);
      int64_t value = td[i].value;
      bool held = !seen;
      uint32_t oi = crdt__replicas_find_rid(&c->replicas, rid);
      for (uint32_t j = 0; seen && od && j < e->ndots; j++)
        if (od[j].replica == oi && od[j].counter == td[i].counter) {
          held = true;
          value = od[j].value;
        }
      rc = put_dot(&ch->d, m, key, len, hash, &t.replicas, td[i].replica,
                   td[i].counter, value, held);
    }
    /* this side's dots of the key that the sender has seen: in the context,
     * so the join drops those the sender does not list */
    for (uint32_t j = 0; od && j < e->ndots && rc == 0; j++) {
      const crdt__rid *rid = c->replicas.by_index[od[j].replica];
      if (in_sctx(k->peer, crdt__replicas_find_rid(&k->peer->r, rid),
                  od[j].counter))
        rc = put_dot(&ch->d, m, key, len, hash, &c->replicas, od[j].replica,
                     od[j].counter, od[j].value, false);
    }
  }
  crdt__causal_free(&t, m);
  return rc;
}

/* ---- drops, sweep, final join --------------------------------------------- */

/* Kills dot j of entry e (object o) in the change: its key listed, the dot
 * in the context but not in the store. A dot the change lists as live
 * (a chunk of a misbehaving peer said so) loses that. */
static int change_kill(crdt__change *ch, const crdt_allocator *m,
                       const crdt__causal *c, const crdt__entry *e,
                       const crdt__dv *d) {
  const uint8_t *keyp = crdt__entry_key(e);
  const uint32_t hash = e->hash;
  int rc = change_key(ch, m, keyp, e->keylen, hash);
  if (rc) return rc;
  rc = put_dot(&ch->d, m, (const char *)keyp, e->keylen, hash, &c->replicas,
               d->replica, d->counter, d->value, false);
  if (rc) return rc;
  crdt__entry *de = crdt__store_find(&ch->d.store, keyp, e->keylen, hash);
  size_t len;
  const char *id = crdt__replicas_id(&c->replicas, d->replica, &len);
  const uint32_t r = crdt__replicas_find(&ch->d.replicas, id, len);
  if (de && de->ndots && crdt__entry_many(de)) {
    crdt__dv *a = crdt__entry_array(de);
    uint32_t kept = 0;
    for (uint32_t i = 0; i < de->ndots; i++)
      if (!(a[i].replica == r && a[i].counter == d->counter)) a[kept++] = a[i];
    de->ndots = kept;
    crdt__entry_shrink(de, m);
  } else if (de && de->ndots) {
    crdt__dv x = crdt__entry_dot(de, 0);
    if (x.replica == r && x.counter == d->counter) {
      de->ndots = 0;
      de->dots = 0;
    }
  }
  return 0;
}

int crdt__sd_drops(crdt__cold *k, const crdt_object *o, const uint64_t *items,
                   uint32_t n, crdt__change *ch) {
  const crdt__causal *c = &crdt__dotted_cof(o)->c;
  const crdt_allocator *m = &o->mem;
  if (!n) return 0;
  crdt__u64set want = {0};
  maps mp = {0};
  int rc = 0;
  for (uint32_t i = 0; i < n && !rc; i++) rc = crdt__u64set_add(&want, m, items[i]);
  if (!rc) rc = maps_make(&mp, k, &c->replicas, m);
  for (uint32_t e = 0; e < c->store.count && !rc; e++) {
    const crdt__entry *en = &c->store.entries[e];
    crdt__dv one;
    const crdt__dv *d = crdt__entry_view(en, &one);
    for (uint32_t i = 0; i < en->ndots && !rc; i++) {
      const uint32_t r = d[i].replica;
      if (mp.common[r] == UINT32_MAX ||
          !in_sctx(k->mine, mp.mine[r], d[i].counter) ||
          !in_sctx(k->peer, mp.peer[r], d[i].counter) ||
          !crdt__u64set_has(&want, crdt__sd_item(mp.common[r], d[i].counter)))
        continue;
      crdt__dv dv = d[i];
      rc = change_kill(ch, m, c, en, &dv);
    }
  }
  maps_free(&mp, m);
  crdt__u64set_free(&want, m);
  return rc;
}

int crdt__sd_sweep(crdt__cold *k, const crdt_object *o, crdt__change *ch) {
  const crdt__causal *c = &crdt__dotted_cof(o)->c;
  const crdt_allocator *m = &o->mem;
  int rc = 0;
  for (uint32_t e = 0; e < c->store.count && !rc; e++) {
    const crdt__entry *en = &c->store.entries[e];
    if (crdt__u64set_has(&k->listed,
                         crdt__digest_bytes(crdt__entry_key(en), en->keylen)))
      continue;
    crdt__dv one;
    const crdt__dv *d = crdt__entry_view(en, &one);
    for (uint32_t i = 0; i < en->ndots && !rc; i++) {
      const crdt__rid *rid = c->replicas.by_index[d[i].replica];
      if (!in_sctx(k->peer, crdt__replicas_find_rid(&k->peer->r, rid),
                   d[i].counter))
        continue;
      crdt__dv dv = d[i];
      rc = change_kill(ch, m, c, en, &dv);
    }
  }
  return rc;
}

int crdt__sd_final(crdt__cold *k, const crdt_object *o, crdt__change *ch) {
  const crdt_allocator *m = &o->mem;
  (void)o;
  if (!ch->any) ch->d.keyed = true;
  ch->any = true;
  uint32_t *map;
  int rc = crdt__replicas_map(&ch->d.replicas, m, &k->peer->r, &map);
  if (rc) return rc;
  rc = crdt__ctx_reserve_join(&ch->d.ctx, m, ch->d.replicas.count, &k->peer->c);
  if (!rc) crdt__ctx_join(&ch->d.ctx, &k->peer->c, map, k->peer->r.count);
  crdt__free(m, map, k->peer->r.count * sizeof *map);
  return rc;
}

void crdt__change_free(crdt__change *ch, const crdt_allocator *m) {
  crdt__causal_free(&ch->d, m);
  crdt_object_free(ch->plain);
  memset(ch, 0, sizeof *ch);
}
