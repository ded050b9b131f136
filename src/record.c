/*
 * Recording one operation's delta into a delta state (see store.h,
 * crdt__causal_record).
 */
#include <string.h>

#include "route.h"
#include "store.h"

/* Interns replica `index` of `from` into `to`. */
static int intern_from(crdt__causal *to, const crdt_allocator *m,
                       const crdt__replicas *from, uint32_t index,
                       uint32_t *out) {
  size_t len;
  const char *id = crdt__replicas_id(from, index, &len);
  return crdt__causal_replica(to, m, id, len, out);
}

/* Builds the operation's delta as a small state, then joins it: the join rule
 * stays the only code that decides what survives. The operation's key lies
 * below the nested keys path[0 .. depth). */
static int record_by_join_at(crdt__causal *delta, const crdt_allocator *m,
                             const crdt__replicas *from, const crdt__key *path,
                             uint32_t depth, const crdt__op *op) {
  crdt__causal d = {0};
  d.keyed = op->extra == NULL;
  crdt__entry *e;
  crdt__route route;
  crdt__route_find(&route, &d.store, path, depth);
  int rc = crdt__route_make(&route, m);
  if (rc) goto done;
  if ((rc = crdt__store_insert(route.store[depth], m, op->key, op->keylen,
                               op->hash, &e)))
    goto done;
  crdt__route_settle(&route, m, false);
  for (uint32_t i = 0; i < op->nadd; i++) {
    crdt__dv dv = op->add[i];
    if ((rc = intern_from(&d, m, from, dv.replica, &dv.replica)) ||
        (rc = crdt__entry_reserve(e, m, op->nadd,
                                  op->nadd == 1 && crdt__dv_packable(dv))))
      goto done;
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

int crdt__causal_record_by_join(crdt__causal *delta, const crdt_allocator *m,
                                const crdt__replicas *from,
                                const crdt__op *op) {
  return record_by_join_at(delta, m, from, NULL, 0, op);
}

/* ---- recording one operation directly ------------------------------------ */

/* Bounds of the direct path (larger operations take the join). */
#define RECORD_ADD_MAX 4
#define RECORD_CTX_MAX 32
#define RECORD_PRODUCT_MAX 256

static bool dot_in(const crdt__dot *set, uint32_t n, uint64_t counter,
                   uint32_t replica) {
  for (uint32_t i = 0; i < n; i++)
    if (set[i].counter == counter && set[i].replica == replica) return true;
  return false;
}

/* What crdt__causal_join(delta, the operation's delta) does, for the one key
 * of a keyed operation delta, whose context is add ∪ seen ∪ {dot}: the
 * delta's entry for the key keeps the dots that are in `add` or outside that
 * context, and gains the dots of `add` it has not seen; the context gains
 * the operation's context. Without allocating a temporary state, this costs
 * about as much as the operation itself. Returns 1 when the operation is too
 * large for it (nothing changed). `s` is the store that holds the key: the
 * root store, or a nested one. tests/test_store.c checks it against the
 * join on random operations. */
static int record_direct(crdt__causal *delta, crdt__store *s,
                         const crdt_allocator *m, const crdt__replicas *from,
                         const crdt__op *op) {
  uint32_t nctx = op->nadd + op->nseen + 1;
  if (op->extra || op->nadd > RECORD_ADD_MAX || nctx > RECORD_CTX_MAX) return 1;
  /* An add's own dot is usually the dot it adds: list it once. */
  bool dot_added = false;
  for (uint32_t i = 0; i < op->nadd && !dot_added; i++)
    dot_added = op->add[i].counter == op->dot.counter &&
                op->add[i].replica == op->dot.replica;
  nctx -= dot_added;
  crdt__entry *e = crdt__store_find(s, op->key, op->keylen, op->hash);
  if (e && (uint64_t)e->ndots * nctx > RECORD_PRODUCT_MAX) return 1;

  /* Fallible: replica ids, context room, the key, the entry's room. */
  const uint32_t replicas_before = delta->replicas.count;
  crdt__dot ctx[RECORD_CTX_MAX]; /* the operation's context, add dots first */
  uint32_t last_from = CRDT__NO_REPLICA, last_to = 0;
  int rc = 0;
  for (uint32_t i = 0; i < nctx; i++) {
    crdt__dot d;
    if (i < op->nadd)
      d = (crdt__dot){op->add[i].counter, op->add[i].replica};
    else if (i < op->nadd + op->nseen)
      d = (crdt__dot){op->seen[i - op->nadd].counter,
                      op->seen[i - op->nadd].replica};
    else
      d = op->dot;
    if (d.replica != last_from) {
      size_t len, guess_len;
      const char *id = crdt__replicas_id(from, d.replica, &len);
      const uint32_t guess = delta->last_replica;
      const char *guess_id =
          guess < delta->replicas.count
              ? crdt__replicas_id(&delta->replicas, guess, &guess_len)
              : NULL;
      if (guess_id && guess_len == len && memcmp(guess_id, id, len) == 0) {
        last_to = guess; /* the same replica as the last operation's */
      } else {
        if ((rc = crdt__replicas_intern(&delta->replicas, m, id, len,
                                        &last_to)))
          goto fail;
        delta->last_replica = last_to;
      }
      last_from = d.replica;
    }
    ctx[i] = (crdt__dot){d.counter, last_to};
  }
  if ((rc = crdt__ctx_reserve(&delta->ctx, m, delta->replicas.count, nctx)))
    goto fail;
  uint32_t unseen = 0;
  bool packable = true, fresh[RECORD_ADD_MAX];
  for (uint32_t i = 0; i < op->nadd; i++) {
    fresh[i] = !crdt__ctx_has(&delta->ctx, ctx[i]);
    if (!fresh[i]) continue;
    crdt__dv t = {ctx[i].counter, ctx[i].replica, op->add[i].value};
    packable &= crdt__dv_packable(t);
    unseen++;
  }
  const uint8_t *key = NULL;
  if (!e) {
    if (unseen == 0 && !delta->keyed) goto context; /* nothing to list */
    crdt__entry tmp = {0};
    if ((rc = crdt__store_reserve(s, m, 1)) ||
        (rc = crdt__store_key(s, m, op->key, op->keylen, &key)))
      goto fail;
    if ((rc = crdt__entry_reserve(&tmp, m, unseen, packable))) {
      crdt__store_key_drop(s, key, op->keylen);
      goto fail;
    }
    /* Infallible from here. */
    e = crdt__store_put(s, key, (uint32_t)op->keylen, op->hash);
    e->dots = tmp.dots;
  } else {
    if (unseen &&
        (rc = crdt__entry_reserve(e, m, e->ndots + unseen,
                                  packable && e->ndots + unseen <= 1)))
      goto fail;
    /* Infallible from here: keep what the operation did not supersede. */
    crdt__dv one;
    const crdt__dv *d1 = crdt__entry_view(e, &one);
    uint32_t kept = 0;
    for (uint32_t i = 0; i < e->ndots; i++) {
      bool keep = dot_in(ctx, op->nadd, d1[i].counter, d1[i].replica) ||
                  !dot_in(ctx, nctx, d1[i].counter, d1[i].replica);
      if (!keep) continue;
      if (crdt__entry_many(e)) crdt__entry_array(e)[kept] = d1[i];
      kept++;
    }
    if (!crdt__entry_many(e) && kept == 0) e->dots = 0;
    e->ndots = kept;
  }
  for (uint32_t i = 0; i < op->nadd; i++)
    if (fresh[i])
      crdt__entry_push(e, (crdt__dv){ctx[i].counter, ctx[i].replica,
                                     op->add[i].value});
  crdt__entry_shrink(e, m);
  if (e->ndots == 0 && !delta->keyed) {
    crdt__store_delete(s, m, e);
    crdt__store_tidy(s, m);
  }
context:
  for (uint32_t i = 0; i < nctx; i++) crdt__ctx_add(&delta->ctx, ctx[i]);
  return 0;
fail:
  crdt__replicas_truncate(&delta->replicas, m, replicas_before);
  return rc;
}

int crdt__causal_record(crdt__causal *delta, const crdt_allocator *m,
                        const crdt__replicas *from, const crdt__op *op) {
  int rc = record_direct(delta, &delta->store, m, from, op);
  return rc == 1 ? crdt__causal_record_by_join(delta, m, from, op) : rc;
}

int crdt__causal_record_at(crdt__causal *delta, const crdt_allocator *m,
                           const crdt__replicas *from, const crdt__key *path,
                           uint32_t depth, const crdt__op *op) {
  crdt__route r;
  crdt__route_find(&r, &delta->store, path, depth);
  int rc = crdt__route_make(&r, m);
  if (rc) return rc;
  rc = record_direct(delta, r.store[depth], m, from, op);
  if (rc == 0) {
    crdt__route_settle(&r, m, !delta->keyed);
    return 0;
  }
  crdt__route_unmake(&r, m);
  return rc == 1 ? record_by_join_at(delta, m, from, path, depth, op) : rc;
}
