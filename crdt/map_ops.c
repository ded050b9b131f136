/*
 * The map's updates (see map.h for their meaning, map_impl.h for the
 * layout). Each follows the kernel's discipline: every fallible step first
 * (the dot, the path made where missing, room for the change, the delta),
 * undone on failure, then the change, which cannot fail.
 *
 * Updates of one key (a counter's increment, a set element's add or remove,
 * a flag) record their delta through crdt__causal_record_at, in time
 * proportional to the path. Updates that touch several keys (a register
 * write drops the other values it sees; a field's remove drops everything
 * below it) build their delta by hand as a small keyed state that lists
 * every key they empty, then join it into the delta.
 *
 * Once a sync session has been attached, the object's journal
 * (crdt/journal.h) gets the same record, right before the change: the
 * operation below its path, or the hand-built delta (built for the journal
 * alone when the caller asked for no delta). The journal never makes an update fail: a
 * record it cannot make breaks it.
 */
#include <string.h>

#include "journal.h"
#include "map_impl.h"

/* What every update starts with. */
typedef struct update {
  crdt__dotted *d;
  const crdt_allocator *m;
  crdt_map *delta;
  crdt__map_keys k;
} update;

static int update_begin(update *u, crdt_map *map, crdt_path path,
                        crdt_field_type type, crdt_map *delta) {
  u->k.heap = NULL; /* update_end frees nothing after an early return */
  u->k.heap_len = 0;
  if (!map) return CRDT_EINVAL;
  u->d = &map->d;
  u->m = &map->d.base.mem;
  u->delta = delta;
  int rc = crdt__dotted_check_delta(u->d, (crdt_object *)delta);
  if (rc) return rc;
  return crdt__map_keys_make(&u->k, u->m, path, type);
}

static void update_end(update *u) {
  if (u->k.heap) crdt__map_keys_free(&u->k, u->m);
}

/* ---- updates of one key ------------------------------------------------- */

/* Gives `leaf`, a key of the store below nested[0 .. depth), a new dot
 * carrying `value`. With `replace` the new dot replaces the key's dots (an
 * add of a set element, a flag's enable); else it joins them (a counter's
 * change, whose value must stay within int64 when `counter`). */
static int leaf_add(update *u, const crdt__key *nested, uint32_t depth,
                    const crdt__key *leaf, int64_t value, bool replace,
                    bool counter) {
  crdt__dotted *d = u->d;
  const crdt_allocator *m = u->m;
  crdt__route r;
  crdt__route_find(&r, &d->c.store, nested, depth);
  crdt__entry *e = NULL;
  if (crdt__route_complete(&r))
    e = crdt__store_find(r.store[depth], leaf->bytes, leaf->len, leaf->hash);
  if (counter && e) {
    int64_t have = crdt__entry_sum(e);
    if ((value > 0 && have > INT64_MAX - value) ||
        (value < 0 && have < INT64_MIN - value))
      return CRDT_ERANGE;
  }
  crdt__dot dot;
  int rc;
  if ((rc = crdt__dotted_next(d, &dot)) || (rc = crdt__route_make(&r, m)))
    return rc;
  crdt__store *s = r.store[depth];
  const crdt__dv added = {dot.counter, dot.replica, value};
  const bool packable = crdt__dv_packable(added);
  crdt__entry room = {0}; /* a new key's dot storage */
  const uint8_t *key = NULL;
  if (e) {
    rc = crdt__entry_reserve(e, m, replace ? 1 : e->ndots + 1,
                             packable && (replace || e->ndots == 0));
  } else if (!(rc = crdt__entry_reserve(&room, m, 1, packable)) &&
             !(rc = crdt__store_reserve(s, m, 1))) {
    rc = crdt__store_key(s, m, leaf->bytes, leaf->len, &key);
  }
  if (!rc && (u->delta || d->base.journal)) { /* the op, for them */
    crdt__dv one;
    const bool seen = replace && e;
    const crdt__op op = {dot,  leaf->bytes, leaf->len, leaf->hash, &added, 1,
                         seen ? crdt__entry_view(e, &one) : NULL,
                         seen ? e->ndots : 0, NULL, NULL};
    if (u->delta)
      rc = crdt__causal_record_at(&u->delta->d.c, &u->delta->d.base.mem,
                                  &d->c.replicas, nested, depth, &op);
    if (!rc && d->base.journal)
      crdt__journal_op_at(&d->base, &d->c.replicas, nested, depth, &op);
  }
  if (rc) {
    crdt__store_key_drop(s, key, leaf->len);
    crdt__entry_shrink(&room, m);
    crdt__route_unmake(&r, m);
    return rc;
  }
  if (!e) {
    e = crdt__store_put(s, key, (uint32_t)leaf->len, leaf->hash);
    e->dots = room.dots;
  }
  if (replace)
    crdt__entry_set_one(e, m, added);
  else
    crdt__entry_push(e, added);
  crdt__ctx_add(&d->c.ctx, dot);
  crdt__route_settle(&r, m, true);
  return 0;
}

/* Drops every dot of `leaf` (below nested[0 .. depth)), as one update: an
 * element's remove, a flag's disable. CRDT_ENOENT when it has none here. */
static int leaf_remove(update *u, const crdt__key *nested, uint32_t depth,
                       const crdt__key *leaf) {
  crdt__dotted *d = u->d;
  const crdt_allocator *m = u->m;
  crdt__route r;
  crdt__route_find(&r, &d->c.store, nested, depth);
  if (!crdt__route_complete(&r)) return CRDT_ENOENT;
  crdt__store *s = r.store[depth];
  crdt__entry *e = crdt__store_find(s, leaf->bytes, leaf->len, leaf->hash);
  if (!e || !e->ndots) return CRDT_ENOENT;
  crdt__dot dot;
  int rc;
  if ((rc = crdt__dotted_next(d, &dot))) return rc;
  crdt__dv one;
  const crdt__op op = {dot,  leaf->bytes, leaf->len, leaf->hash, NULL, 0,
                       crdt__entry_view(e, &one), e->ndots, NULL, NULL};
  if (u->delta &&
      (rc = crdt__causal_record_at(&u->delta->d.c, &u->delta->d.base.mem,
                                   &d->c.replicas, nested, depth, &op)))
    return rc;
  if (d->base.journal)
    crdt__journal_op_at(&d->base, &d->c.replicas, nested, depth, &op);
  crdt__store_delete(s, m, e);
  crdt__store_tidy(s, m); /* the caller's key is no longer in use */
  crdt__ctx_add(&d->c.ctx, dot);
  crdt__route_settle(&r, m, true); /* may free s */
  return 0;
}

static int counter_change(crdt_map *map, crdt_path path, uint64_t n,
                          bool inc, crdt_map *delta) {
  if (n == 0) return CRDT_EINVAL;
  if (n > INT64_MAX) return CRDT_ERANGE;
  update u;
  int rc = update_begin(&u, map, path, CRDT_FIELD_COUNTER, delta);
  if (!rc) {
    const int64_t amount = inc ? (int64_t)n : -(int64_t)n;
    rc = leaf_add(&u, u.k.keys, u.k.depth - 1, &u.k.keys[u.k.depth - 1],
                  amount, false, true);
  }
  update_end(&u);
  return rc;
}

int crdt_map_counter_inc(crdt_map *map, crdt_path path, uint64_t n,
                         crdt_map *delta) {
  return counter_change(map, path, n, true, delta);
}

int crdt_map_counter_dec(crdt_map *map, crdt_path path, uint64_t n,
                         crdt_map *delta) {
  return counter_change(map, path, n, false, delta);
}

/* An element (or value) argument as a key of the field's store. */
static int element_key(const void *bytes, size_t len, crdt__key *out) {
  if ((!bytes && len) || len > CRDT__KEY_MAX) return CRDT_EINVAL;
  *out = (crdt__key){bytes, len, crdt__key_hash(bytes, len)};
  return 0;
}

int crdt_map_orset_add(crdt_map *map, crdt_path path, const void *elem,
                       size_t len, crdt_map *delta) {
  update u;
  crdt__key ek;
  int rc = element_key(elem, len, &ek);
  if (rc) return rc;
  if (!(rc = update_begin(&u, map, path, CRDT_FIELD_ORSET, delta)))
    rc = leaf_add(&u, u.k.keys, u.k.depth, &ek, 0, true, false);
  update_end(&u);
  return rc;
}

int crdt_map_orset_remove(crdt_map *map, crdt_path path, const void *elem,
                          size_t len, crdt_map *delta) {
  update u;
  crdt__key ek;
  int rc = element_key(elem, len, &ek);
  if (rc) return rc;
  if (!(rc = update_begin(&u, map, path, CRDT_FIELD_ORSET, delta)))
    rc = leaf_remove(&u, u.k.keys, u.k.depth, &ek);
  update_end(&u);
  return rc;
}

int crdt_map_flag_enable(crdt_map *map, crdt_path path, crdt_map *delta) {
  update u;
  int rc = update_begin(&u, map, path, CRDT_FIELD_FLAG, delta);
  if (!rc)
    rc = leaf_add(&u, u.k.keys, u.k.depth - 1, &u.k.keys[u.k.depth - 1], 0,
                  true, false);
  update_end(&u);
  return rc;
}

int crdt_map_flag_disable(crdt_map *map, crdt_path path, crdt_map *delta) {
  update u;
  int rc = update_begin(&u, map, path, CRDT_FIELD_FLAG, delta);
  if (!rc)
    rc = leaf_remove(&u, u.k.keys, u.k.depth - 1, &u.k.keys[u.k.depth - 1]);
  update_end(&u);
  return rc;
}

/* ---- deltas built by hand ------------------------------------------------- */

/* A keyed delta for an update of several keys, with the acting state's
 * replica table (same indexes), and the route to the store the update
 * touches. */
typedef struct hand_delta {
  crdt__causal c;
  crdt__route r;
} hand_delta;

static int hand_begin(hand_delta *h, const crdt__causal *state,
                      const crdt_allocator *m, const crdt__key *nested,
                      uint32_t depth, crdt__dot dot) {
  memset(&h->c, 0, sizeof h->c);
  h->c.keyed = true;
  int rc;
  if ((rc = crdt__replicas_copy(&h->c.replicas, m, &state->replicas)) ||
      (rc = crdt__ctx_insert(&h->c.ctx, m, dot)))
    return rc;
  crdt__route_find(&h->r, &h->c.store, nested, depth);
  return crdt__route_make(&h->r, m);
}

/* Lists `key` in the hand delta's innermost store, and names `n` of its
 * dots (those for which `seen` is NULL or true) in the context. */
static int hand_seen(hand_delta *h, const crdt_allocator *m,
                     const crdt__entry *key, const crdt__dv *dots, uint32_t n,
                     const bool *seen) {
  crdt__store *s = h->r.store[h->r.depth];
  crdt__entry *e = crdt__store_find(s, crdt__entry_key(key), key->keylen,
                                    key->hash);
  int rc;
  if (!e && (rc = crdt__store_insert(s, m, crdt__entry_key(key), key->keylen,
                                     key->hash, &e)))
    return rc;
  for (uint32_t i = 0; i < n; i++)
    if ((!seen || seen[i]) &&
        (rc = crdt__ctx_insert(&h->c.ctx, m,
                               (crdt__dot){dots[i].counter, dots[i].replica})))
      return rc;
  return 0;
}

/* Hands over the hand delta, built with code `rc`, and frees it: joined
 * into the update's delta (whose failure fails the update: returned), then
 * recorded in the journal (a delta that could not be built breaks it).
 * Called once every other fallible step of the update is done. */
static int hand_end(hand_delta *h, update *u, int rc) {
  const crdt_allocator *m = u->m;
  if (!rc) crdt__route_settle(&h->r, m, false);
  if (!rc && u->delta)
    rc = crdt__causal_join(&u->delta->d.c, &u->delta->d.base.mem, &h->c);
  if (!u->delta || !rc) { /* the update goes on */
    if (u->d->base.journal) crdt__journal_delta(&u->d->base, rc ? NULL : &h->c);
    rc = 0;
  }
  crdt__causal_free(&h->c, m);
  return rc;
}

/* ---- register writes ---------------------------------------------------- */

/* Writes `value` to the register below keys[0 .. depth) (an MV- or
 * LWW-register field): a new dot, carrying `ts` for an LWW-register, under
 * the value's key. An MV write drops every other dot it sees; an LWW write
 * drops those it sees that order below it (crdt__map_lww_cmp). */
static int register_write(update *u, const void *value, size_t len,
                          bool lww, uint64_t ts) {
  crdt__dotted *d = u->d;
  const crdt_allocator *m = u->m;
  const uint32_t depth = u->k.depth;
  crdt__key vk;
  int rc = element_key(value, len, &vk);
  if (rc) return rc;
  /* A short value may be a view of an entry, and entries move as the
   * values the write drops are deleted: work on a copy. */
  uint8_t short_value[CRDT__KEY_INLINE];
  if (len && len <= CRDT__KEY_INLINE) {
    memcpy(short_value, value, len);
    vk.bytes = short_value;
  }
  crdt__dot dot;
  if ((rc = crdt__dotted_next(d, &dot))) return rc;
  const crdt__dv added = {dot.counter, dot.replica, lww ? (int64_t)ts : 0};
  crdt__route r;
  crdt__route_find(&r, &d->c.store, u->k.keys, depth);
  if ((rc = crdt__route_make(&r, m))) return rc;
  crdt__store *s = r.store[depth];
  /* Which dots go: per entry, a flag per dot, in one array. */
  uint32_t ndots = 0;
  for (uint32_t n = 0; n < s->count; n++) ndots += s->entries[n].ndots;
  bool *drop = NULL;
  crdt__entry *e = crdt__store_find(s, vk.bytes, vk.len, vk.hash);
  crdt__entry room = {0};
  const uint8_t *key = NULL;
  if (ndots && !(drop = crdt__alloc(m, crdt__mul(ndots, sizeof *drop)))) {
    rc = CRDT_ENOMEM;
    goto fail;
  }
  for (uint32_t n = 0, at = 0; n < s->count; n++) {
    const crdt__entry *x = &s->entries[n];
    crdt__dv one;
    const crdt__dv *dots = crdt__entry_view(x, &one);
    for (uint32_t i = 0; i < x->ndots; i++, at++)
      drop[at] = !lww || crdt__map_lww_cmp(&d->c.replicas, &dots[i],
                                           crdt__entry_key(x), x->keylen,
                                           &added, vk.bytes, vk.len) < 0;
  }
  if (e) {
    rc = crdt__entry_reserve(e, m, e->ndots + 1, false);
  } else if (!(rc = crdt__entry_reserve(&room, m, 1,
                                        crdt__dv_packable(added))) &&
             !(rc = crdt__store_reserve(s, m, 1))) {
    rc = crdt__store_key(s, m, vk.bytes, vk.len, &key);
  }
  if (rc) goto fail;
  if (u->delta || d->base.journal) {
    hand_delta h;
    crdt__entry *he;
    rc = hand_begin(&h, &d->c, m, u->k.keys, depth, dot);
    if (!rc && !(rc = crdt__store_insert(h.r.store[depth], m, vk.bytes, vk.len,
                                         vk.hash, &he)))
      rc = crdt__entry_add(he, m, added);
    for (uint32_t n = 0, at = 0; n < s->count && !rc; n++) {
      const crdt__entry *x = &s->entries[n];
      bool any = false;
      for (uint32_t i = 0; i < x->ndots; i++) any |= drop[at + i];
      crdt__dv one;
      if (any)
        rc = hand_seen(&h, m, x, crdt__entry_view(x, &one), x->ndots,
                       &drop[at]);
      at += x->ndots;
    }
    if ((rc = hand_end(&h, u, rc))) goto fail;
  }

  /* The change. Downwards, since a delete moves the last entry into the
   * hole; the value's own entry is never deleted. */
  for (uint32_t n = s->count, at = ndots; n-- > 0;) {
    crdt__entry *x = &s->entries[n];
    at -= x->ndots;
    crdt__dv *dots = crdt__entry_many(x) ? crdt__entry_array(x) : NULL;
    uint32_t kept = 0;
    crdt__dv one;
    const crdt__dv *view = crdt__entry_view(x, &one);
    for (uint32_t i = 0; i < x->ndots; i++)
      if (!drop[at + i]) {
        if (dots) dots[kept] = view[i];
        kept++;
      }
    if (!dots && kept == 0) x->dots = 0;
    x->ndots = kept;
    const bool is_value = x->keylen == vk.len && x->hash == vk.hash &&
                          (vk.len == 0 ||
                           memcmp(crdt__entry_key(x), vk.bytes, vk.len) == 0);
    if (!is_value && kept == 0)
      crdt__store_delete(s, m, x);
    else if (!is_value)
      crdt__entry_shrink(x, m);
  }
  if (e) {
    e = crdt__store_find(s, vk.bytes, vk.len, vk.hash);
  } else {
    e = crdt__store_put(s, key, (uint32_t)vk.len, vk.hash);
    e->dots = room.dots;
  }
  if (e->ndots == 0)
    crdt__entry_set_one(e, m, added);
  else
    crdt__entry_push(e, added);
  crdt__store_tidy(s, m);
  crdt__ctx_add(&d->c.ctx, dot);
  crdt__route_settle(&r, m, true);
  crdt__free(m, drop, ndots * sizeof *drop);
  return 0;

fail:
  crdt__free(m, drop, ndots * sizeof *drop);
  crdt__store_key_drop(s, key, vk.len);
  crdt__entry_shrink(&room, m);
  crdt__route_unmake(&r, m);
  return rc;
}

int crdt_map_mvreg_set(crdt_map *map, crdt_path path, const void *value,
                       size_t len, crdt_map *delta) {
  update u;
  int rc = update_begin(&u, map, path, CRDT_FIELD_MVREG, delta);
  if (!rc) rc = register_write(&u, value, len, false, 0);
  update_end(&u);
  return rc;
}

int crdt_map_lwwreg_set(crdt_map *map, crdt_path path, const void *value,
                        size_t len, uint64_t timestamp, crdt_map *delta) {
  update u;
  int rc = update_begin(&u, map, path, CRDT_FIELD_LWWREG, delta);
  if (!rc) rc = register_write(&u, value, len, true, timestamp);
  update_end(&u);
  return rc;
}

/* ---- removing a field ------------------------------------------------------ */

/* Lists, in the hand delta's store `to`, the key of `from` and everything
 * below it, without dots, and names all their dots in the context. */
static int list_removed(hand_delta *h, const crdt_allocator *m,
                        crdt__store *to, const crdt__entry *from) {
  crdt__entry *e;
  int rc = crdt__store_insert(to, m, crdt__entry_key(from), from->keylen,
                              from->hash, &e);
  if (rc) return rc;
  if (!crdt__entry_nested(from)) {
    crdt__dv one;
    const crdt__dv *dots = crdt__entry_view(from, &one);
    for (uint32_t i = 0; i < from->ndots; i++)
      if ((rc = crdt__ctx_insert(&h->c.ctx, m,
                                 (crdt__dot){dots[i].counter, dots[i].replica})))
        return rc;
    return 0;
  }
  crdt__store *child = crdt__store_new(m);
  if (!child) return CRDT_ENOMEM;
  crdt__entry_set_child(e, child); /* owned by the hand delta from here */
  const crdt__store *below = crdt__entry_child(from);
  for (uint32_t n = 0; n < below->count; n++)
    if ((rc = list_removed(h, m, child, &below->entries[n]))) return rc;
  crdt__entry_refresh(e);
  return 0;
}

int crdt_map_remove(crdt_map *map, crdt_path path, crdt_field_type type,
                    crdt_map *delta) {
  update u;
  int rc = update_begin(&u, map, path, type, delta);
  if (rc) {
    update_end(&u);
    return rc;
  }
  crdt__dotted *d = u.d;
  const crdt_allocator *m = u.m;
  const uint32_t depth = u.k.depth - 1;
  const crdt__key *f = &u.k.keys[depth];
  crdt__route r;
  crdt__entry *e = crdt__map_field(map, &u.k, &r);
  crdt__dot dot;
  if (!e || !e->ndots) {
    rc = CRDT_ENOENT;
  } else if (!(rc = crdt__dotted_next(d, &dot)) &&
             (delta || d->base.journal)) {
    hand_delta h;
    rc = hand_begin(&h, &d->c, m, u.k.keys, depth, dot);
    if (!rc) rc = list_removed(&h, m, h.r.store[depth], e);
    rc = hand_end(&h, &u, rc);
  }
  if (!rc) {
    crdt__store *s = r.store[depth];
    crdt__store_delete(s, m, crdt__store_find(s, f->bytes, f->len, f->hash));
    crdt__store_tidy(s, m);
    crdt__ctx_add(&d->c.ctx, dot);
    crdt__route_settle(&r, m, true); /* may free s */
  }
  update_end(&u);
  return rc;
}
