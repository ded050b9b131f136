/*
 * Causal states as wholes: freeing, copying, equality, and interning a
 * replica (see store.h).
 */
#include <string.h>

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

/* Is e shown, when markers are ignored unless `markers`? A nested entry
 * of a keyed delta may hold only markers. */
static bool entry_shown(const crdt__entry *e, bool markers) {
  if (markers) return true;
  if (crdt__entry_nested(e)) return crdt__store_live(crdt__entry_child(e));
  return e->ndots != 0;
}

/* The same keys with the same dots and values, level by level. */
static bool store_equal(const crdt__store *sa, const crdt__replicas *ra,
                        const crdt__store *sb, const crdt__replicas *rb,
                        bool markers) {
  uint32_t na = 0, nb = 0;
  for (uint32_t n = 0; n < sb->count; n++)
    nb += entry_shown(&sb->entries[n], markers);
  for (uint32_t n = 0; n < sa->count; n++) {
    const crdt__entry *ea = &sa->entries[n];
    if (!entry_shown(ea, markers)) continue;
    na++;
    const crdt__entry *eb =
        crdt__store_find(sb, crdt__entry_key(ea), ea->keylen, ea->hash);
    if (!eb || !entry_shown(eb, markers) ||
        crdt__entry_nested(ea) != crdt__entry_nested(eb))
      return false;
    if (crdt__entry_nested(ea)) {
      if (!store_equal(crdt__entry_child(ea), ra, crdt__entry_child(eb), rb,
                       markers))
        return false;
      continue;
    }
    if (eb->ndots != ea->ndots) return false;
    crdt__dv one;
    const crdt__dv *da = crdt__entry_view(ea, &one);
    for (uint32_t k = 0; k < ea->ndots; k++) {
      size_t len;
      const char *id = crdt__replicas_id(ra, da[k].replica, &len);
      uint32_t r = crdt__replicas_find(rb, id, len);
      if (r == CRDT__NO_REPLICA || !entry_has(eb, &da[k], r)) return false;
    }
  }
  return na == nb;
}

bool crdt__causal_equal(const crdt__causal *a, const crdt__causal *b) {
  if (crdt__ctx_compare(&a->ctx, &a->replicas, &b->ctx, &b->replicas) !=
      CRDT_EQUAL)
    return false;
  return store_equal(&a->store, &a->replicas, &b->store, &b->replicas,
                     a->keyed && b->keyed);
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
