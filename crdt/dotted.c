/*
 * The shared base of the dot-based types (see dotted.h).
 */
#include <string.h>

#include "dotted.h"
#include "journal.h"
#include "vector.h"
#include "wire.h"

int crdt__dotted_create(const crdt__type *t, const char *replica,
                        crdt_object **out) {
  size_t len = 0;
  if (!out || (replica && crdt__replica_check(replica, &len)))
    return CRDT_EINVAL;
  const crdt_allocator *m = crdt__mem_default();
  crdt__dotted *d = crdt__calloc(m, 1, sizeof *d);
  if (!d) return CRDT_ENOMEM;
  crdt__object_init(&d->base, t, m);
  d->self = CRDT__NO_REPLICA;
  d->c.keyed = replica == NULL;
  if (replica) {
    int rc = crdt__causal_replica(&d->c, &d->base.mem, replica, len, &d->self);
    if (rc) {
      crdt__causal_free(&d->c, &d->base.mem);
      crdt__free(m, d, sizeof *d);
      return rc;
    }
  }
  *out = &d->base;
  return 0;
}

int crdt__dotted_merge(crdt_object *dst, const crdt_object *src) {
  crdt__dotted *d = crdt__dotted_of(dst);
  return crdt__causal_join(&d->c, &d->base.mem, &crdt__dotted_cof(src)->c);
}

bool crdt__dotted_equal(const crdt_object *a, const crdt_object *b) {
  return crdt__causal_equal(&crdt__dotted_cof(a)->c, &crdt__dotted_cof(b)->c);
}

int crdt__dotted_copy(const crdt_object *src, crdt_object **out) {
  const crdt__dotted *s = crdt__dotted_cof(src);
  const crdt_allocator *m = crdt__mem_default();
  crdt__dotted *d = crdt__calloc(m, 1, sizeof *d);
  if (!d) return CRDT_ENOMEM;
  crdt__object_init(&d->base, s->base.type, m);
  int rc = crdt__causal_copy(&d->c, &d->base.mem, &s->c);
  if (rc) {
    crdt__free(m, d, sizeof *d);
    return rc;
  }
  d->self = s->self; /* replica tables are copied index for index */
  *out = &d->base;
  return 0;
}

int crdt__dotted_compare(const crdt_object *a, const crdt_object *b,
                         crdt_order *out) {
  const crdt__dotted *x = crdt__dotted_cof(a), *y = crdt__dotted_cof(b);
  *out = crdt__ctx_compare(&x->c.ctx, &x->c.replicas, &y->c.ctx,
                           &y->c.replicas);
  return 0;
}

void crdt__dotted_destroy(crdt_object *o) {
  crdt__dotted *d = crdt__dotted_of(o);
  crdt_allocator m = d->base.mem;
  crdt__causal_free(&d->c, &m);
  crdt__free(&m, d, sizeof *d);
}

const char *crdt__dotted_replica(const crdt_object *o) {
  const crdt__dotted *d = crdt__dotted_cof(o);
  if (d->self == CRDT__NO_REPLICA) return NULL;
  return crdt__replicas_id(&d->c.replicas, d->self, NULL);
}

int crdt__dotted_context_text(const crdt_object *o, crdt__text *t) {
  const crdt__dotted *d = crdt__dotted_cof(o);
  return crdt__ctx_format(t, &d->c.ctx, &d->c.replicas, &d->base.mem);
}

int crdt__dotted_context(const crdt_object *o, crdt_context **out) {
  const crdt__dotted *d = crdt__dotted_cof(o);
  return crdt__context_from(&d->c.ctx, &d->c.replicas, out);
}

int crdt__dotted_next(crdt__dotted *d, crdt__dot *dot) {
  if (d->self == CRDT__NO_REPLICA) return CRDT_ENOREPLICA;
  uint64_t counter;
  int rc = crdt__ctx_next(&d->c.ctx, d->self, &counter);
  if (rc) return rc;
  *dot = (crdt__dot){counter, d->self};
  if ((rc = crdt__ctx_reserve_dot(&d->c.ctx, &d->base.mem,
                                  d->c.replicas.count, *dot)))
    return rc;
  return 0;
}

int crdt__dotted_slot_prepare(crdt__dotted *d, crdt__slot *slot,
                              const void *key, size_t len, uint32_t hash,
                              crdt__entry *e, uint32_t n, bool packable) {
  const crdt_allocator *m = &d->base.mem;
  *slot = (crdt__slot){e, {{0}, 0, 0, 0, 0}, NULL, len, hash};
  int rc = crdt__entry_reserve(e ? e : &slot->room, m, n, packable);
  if (rc || e) return rc;
  if ((rc = crdt__store_reserve(&d->c.store, m, 1)) ||
      (rc = crdt__store_key(&d->c.store, m, key, len, &slot->key)))
    crdt__entry_shrink(&slot->room, m);
  return rc;
}

crdt__entry *crdt__dotted_slot_take(crdt__dotted *d, crdt__slot *slot) {
  if (slot->e) return slot->e;
  crdt__entry *e =
      crdt__store_put(&d->c.store, slot->key, (uint32_t)slot->len, slot->hash);
  e->dots = slot->room.dots;
  return e;
}

void crdt__dotted_slot_drop(crdt__dotted *d, crdt__slot *slot) {
  crdt__store_key_drop(&d->c.store, slot->key, slot->len);
  crdt__entry_shrink(&slot->room, &d->base.mem);
}

/* Delta: ({key: {dot}}, {dot} ∪ the dots of key it replaces). Fallible
 * work first (dot, index room, key copy, delta), then the change. */
int crdt__dotted_add(crdt__dotted *d, const void *key, size_t len,
                     crdt_object *delta) {
  const crdt_allocator *m = &d->base.mem;
  crdt__dot dot;
  uint32_t hash;
  int rc;
  if ((rc = crdt__dotted_check_key(key, len)) ||
      (rc = crdt__dotted_check_delta(d, delta)) ||
      (rc = crdt__dotted_next(d, &dot)))
    return rc;
  crdt__dv added = {dot.counter, dot.replica, 0};
  crdt__entry *e = crdt__dotted_find(d, key, len, &hash);
  crdt__slot slot;
  if ((rc = crdt__dotted_slot_prepare(d, &slot, key, len, hash, e, 1,
                                      crdt__dv_packable(added))))
    return rc;
  crdt__dv one;
  crdt__op op = {dot, key, len, hash, &added, 1,
                 e ? crdt__entry_view(e, &one) : NULL, e ? e->ndots : 0,
                 NULL, NULL};
  if (delta) {
    crdt__dotted *dd = crdt__dotted_of(delta);
    if ((rc = crdt__causal_record(&dd->c, &dd->base.mem, &d->c.replicas,
                                  &op))) {
      crdt__dotted_slot_drop(d, &slot);
      return rc;
    }
  }
  if (d->base.journal) crdt__journal_op(&d->base, &d->c.replicas, &op);
  e = crdt__dotted_slot_take(d, &slot);
  crdt__entry_set_one(e, m, added);
  crdt__ctx_add(&d->c.ctx, dot);
  return 0;
}

int crdt__dotted_remove(crdt__dotted *d, const void *key, size_t len,
                        crdt_object *delta) {
  crdt__dot dot;
  uint32_t hash;
  int rc;
  if ((rc = crdt__dotted_check_key(key, len)) ||
      (rc = crdt__dotted_check_delta(d, delta)))
    return rc;
  crdt__entry *e = crdt__dotted_find(d, key, len, &hash);
  if (!e || !e->ndots) return CRDT_ENOENT;
  if ((rc = crdt__dotted_next(d, &dot))) return rc;
  crdt__dv one;
  crdt__op op = {dot, key, len, hash, NULL, 0, crdt__entry_view(e, &one),
                 e->ndots, NULL, NULL};
  if (delta) {
    crdt__dotted *dd = crdt__dotted_of(delta);
    if ((rc = crdt__causal_record(&dd->c, &dd->base.mem, &d->c.replicas, &op)))
      return rc;
  }
  if (d->base.journal) crdt__journal_op(&d->base, &d->c.replicas, &op);
  crdt__store_delete(&d->c.store, &d->base.mem, e);
  crdt__ctx_add(&d->c.ctx, dot);
  crdt__store_tidy(&d->c.store, &d->base.mem); /* `key` no longer in use */
  return 0;
}

int crdt__dotted_check_delta(const crdt__dotted *d, const crdt_object *delta) {
  if (!delta) return 0;
  if (delta == &d->base) return CRDT_EINVAL;
  if (delta->type != d->base.type) return CRDT_ETYPE;
  return 0;
}

int crdt__dotted_keys_json(const crdt__dotted *d, crdt__text *t) {
  const crdt__entry **sorted;
  int rc = crdt__store_sorted(&d->c.store, &d->base.mem, &sorted);
  if (rc) return rc;
  crdt__text_put(t, "[", 1);
  uint32_t shown = 0;
  for (uint32_t i = 0; i < d->c.store.count; i++) {
    if (!sorted[i]->ndots) continue; /* a delta's removal marker */
    if (shown++) crdt__text_put(t, ", ", 2);
    crdt__text_json(t, crdt__entry_key(sorted[i]), sorted[i]->keylen);
  }
  crdt__text_put(t, "]", 1);
  crdt__free(&d->base.mem, sorted, d->c.store.count * sizeof *sorted);
  return 0;
}

uint8_t crdt__dotted_wire_flags(const crdt_object *o) {
  return crdt__dotted_cof(o)->c.keyed ? CRDT__WIRE_FLAG_KEYED : 0;
}

void crdt__dotted_encode(const crdt_object *o, crdt__wbuf *w, bool values) {
  crdt__wire_put_causal(w, &crdt__dotted_cof(o)->c, values);
}

/* Decodes into an owner-less object, then adopts the owner: the decoder
 * interns replicas in canonical order and relies on index = rank. A keyed
 * delta given an owner becomes a plain state (markers dropped): only
 * owner-less objects may hold markers, since updates do not keep them. */
int crdt__dotted_decode(const crdt__type *t, crdt__rbuf *body, uint8_t flags,
                        const char *replica, bool values, crdt_object **out) {
  size_t len = 0;
  if (replica && crdt__replica_check(replica, &len)) return CRDT_EINVAL;
  crdt_object *o;
  int rc = crdt__dotted_create(t, NULL, &o);
  if (rc) return rc;
  crdt__dotted *d = crdt__dotted_of(o);
  rc = crdt__wire_get_causal(body, &d->base.mem, &d->c, values,
                             (flags & CRDT__WIRE_FLAG_KEYED) != 0);
  if (!rc && replica)
    rc = crdt__causal_replica(&d->c, &d->base.mem, replica, len, &d->self);
  if (rc) {
    crdt__dotted_destroy(o);
    return rc;
  }
  if (replica && d->c.keyed) {
    crdt__store *s = &d->c.store;
    for (uint32_t n = s->count; n-- > 0;) /* deleting moves the last entry */
      if (!s->entries[n].ndots) crdt__store_delete(s, &d->base.mem, &s->entries[n]);
    crdt__store_tidy(s, &d->base.mem);
    d->c.keyed = false;
  }
  *out = o;
  return 0;
}
