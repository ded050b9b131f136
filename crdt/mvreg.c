/*
 * Multi-value register on the kernel's dot store: key = a written value,
 * dots = the writes of that value not yet superseded. The siblings are the
 * keys. A write supersedes the sibling dots in its read context and adds
 * that context to the register's, so the kernel's join also drops those
 * writes when they arrive later from other replicas. This file only says
 * what a write does; the join rule lives in the kernel.
 */
#include "crdt/mvreg.h"
#include "dotted.h"
#include "journal.h"
#include "wire.h"
#include "vector.h"

struct crdt_mvreg {
  crdt__dotted d;
};

static int mvreg_create(const char *replica, crdt_object **out) {
  return crdt__dotted_create(&crdt__mvreg_type, replica, out);
}

static int mvreg_value_json(const crdt_object *o, crdt__text *t) {
  return crdt__dotted_keys_json(crdt__dotted_cof(o), t);
}

const crdt__type crdt__mvreg_type = {
    CRDT_TYPE_MVREG,         "mvreg",
    mvreg_create,            crdt__dotted_merge,
    crdt__dotted_equal,      crdt__dotted_copy,
    crdt__dotted_compare,    crdt__dotted_destroy,
    crdt__dotted_replica,    mvreg_value_json,
    crdt__dotted_context_text,
    crdt__dotted_context,
};

CRDT__TYPED_API(mvreg, crdt__mvreg_type)
CRDT__DOTTED_CODEC(mvreg, false)
CRDT__TYPED_COMPARE(mvreg)


/* The dots a write supersedes: those of its read context. `rmap` gives, for
 * each replica index of the register, the read context's index of the same
 * id (CRDT__NO_REPLICA when the context has none); NULL when the read
 * context is the register's own. */
typedef struct superseded {
  const crdt__ctx *ctx;
  const uint32_t *rmap;
} superseded;

static bool is_superseded(const superseded *s, const crdt__dv *dv) {
  uint32_t r = s->rmap ? s->rmap[dv->replica] : dv->replica;
  return r != CRDT__NO_REPLICA &&
         crdt__ctx_has(s->ctx, (crdt__dot){dv->counter, r});
}

static bool not_superseded(const crdt__dv *dv, const void *s) {
  return !is_superseded(s, dv);
}

/* Applies a write whose fallible work is done: `value` (hash; `present`:
 * it has an entry) gets dot `added`, every other sibling loses its
 * superseded dots and disappears when none are left. `value` does not point
 * into an entry (the caller copied a short value; a long one lives in the
 * arena, which does not move before the final crdt__store_tidy, and the
 * value's own entry is never deleted). */
static void apply_write(crdt__dotted *d, const void *value, size_t len,
                        uint32_t hash, bool present, const uint8_t *new_key,
                        const crdt__entry *room, const superseded *s,
                        crdt__dv added) {
  const crdt_allocator *m = &d->base.mem;
  crdt__store *store = &d->c.store;
  /* Downwards, since a delete moves the last entry into the hole. Keeping
   * capacity while filtering keeps the room reserved for `added`. */
  for (uint32_t n = store->count; s && n-- > 0;) {
    crdt__entry *e = &store->entries[n];
    crdt__entry_retain(e, not_superseded, s);
    bool is_value = present && e->hash == hash && e->keylen == len &&
                    (len == 0 || memcmp(crdt__entry_key(e), value, len) == 0);
    if (e->ndots == 0 && !is_value)
      crdt__store_delete(store, m, e);
    else if (!is_value)
      crdt__entry_shrink(e, m);
  }
  crdt__entry *e;
  if (present) {
    e = crdt__store_find(store, value, len, hash);
  } else {
    e = crdt__store_put(store, new_key, (uint32_t)len, hash);
    e->dots = room->dots;
  }
  if (e->ndots == 0)
    crdt__entry_set_one(e, m, added);
  else
    crdt__entry_push(e, added); /* room reserved before the change */
}

/*
 * Delta of a write: ({value: {d}}, read_context ∪ {d}). It is not keyed (its
 * context names dots of other values), so crdt__causal_record gets the read
 * context as `extra`. Fallible steps in order: the dot, the read context's
 * replicas interned into the register (undone on later failure), room in
 * the context, the map back from register indexes to the read context's,
 * room for the value, the key copy, the delta. Then the change.
 */
int crdt_mvreg_write(crdt_mvreg *reg, const void *value, size_t len,
                     const crdt_context *read_context, crdt_mvreg *delta) {
  if (!reg) return CRDT_EINVAL;
  crdt__dotted *d = &reg->d;
  const crdt_allocator *m = &d->base.mem;
  crdt__dot dot;
  int rc;
  if ((rc = crdt__dotted_check_key(value, len)) ||
      (rc = crdt__dotted_check_delta(d, (crdt_object *)delta)) ||
      (rc = crdt__dotted_next(d, &dot)))
    return rc;
  /* A short value lives inside its entry, and entries move as siblings are
   * deleted; `value` may be a view of one (crdt_mvreg_resolve passes
   * those), so work on a copy. */
  uint8_t short_value[CRDT__KEY_INLINE];
  if (len && len <= CRDT__KEY_INLINE) {
    memcpy(short_value, value, len);
    value = short_value;
  }

  const crdt__ctx *rctx = read_context ? crdt__context_ctx(read_context)
                                       : &d->c.ctx;
  const crdt__replicas *rrep = read_context
                                   ? crdt__context_replicas(read_context)
                                   : &d->c.replicas;
  const uint32_t replicas_before = d->c.replicas.count;
  uint32_t *map = NULL, *rmap = NULL, nrmap = 0;
  const uint8_t *key = NULL;
  crdt__entry room = {0}; /* a new value's dot storage, made up front */
  superseded s = {rctx, NULL}, *sp = &s;
  if (read_context) {
    if ((rc = crdt__replicas_map(&d->c.replicas, m, rrep, &map))) return rc;
    if ((rc = crdt__ctx_reserve(&d->c.ctx, m, d->c.replicas.count,
                                rctx->cloud.count + 1)))
      goto fail;
    if (rrep->count == 0) {
      sp = NULL; /* an empty read context supersedes nothing */
    } else {
      nrmap = d->c.replicas.count;
      if (!(rmap = crdt__alloc(m, crdt__mul(nrmap, sizeof *rmap)))) {
        rc = CRDT_ENOMEM;
        goto fail;
      }
      for (uint32_t i = 0; i < nrmap; i++) rmap[i] = CRDT__NO_REPLICA;
      for (uint32_t i = 0; i < rrep->count; i++) rmap[map[i]] = i;
      s.rmap = rmap;
    }
  }

  uint32_t hash;
  crdt__entry *e = crdt__dotted_find(d, value, len, &hash);
  crdt__dv added = {dot.counter, dot.replica, 0};
  if (e) {
    if ((rc = crdt__entry_reserve(e, m, e->ndots + 1,
                                  e->ndots == 0 && crdt__dv_packable(added))))
      goto fail;
  } else if ((rc = crdt__entry_reserve(&room, m, 1, crdt__dv_packable(added))) ||
             (rc = crdt__store_reserve(&d->c.store, m, 1)) ||
             (rc = crdt__store_key(&d->c.store, m, value, len, &key))) {
    goto fail;
  }
  crdt__op op = {dot, value, len, hash, &added, 1, NULL, 0, rctx, rrep};
  if (delta && (rc = crdt__causal_record(&delta->d.c, &delta->d.base.mem,
                                         &d->c.replicas, &op)))
    goto fail;
  if (d->base.journal) crdt__journal_op(&d->base, &d->c.replicas, &op);

  apply_write(d, value, len, hash, e != NULL, key, &room, sp, added);
  if (read_context) crdt__ctx_join(&d->c.ctx, rctx, map, rrep->count);
  crdt__ctx_add(&d->c.ctx, dot);
  crdt__store_tidy(&d->c.store, m); /* `value` is not used past this point */
  rc = 0;
  goto done;

fail:
  crdt__store_key_drop(&d->c.store, key, len);
  crdt__entry_shrink(&room, m);
  crdt__replicas_truncate(&d->c.replicas, m, replicas_before);
done:
  crdt__free(m, rmap, nrmap * sizeof *rmap);
  if (read_context) crdt__free(m, map, rrep->count * sizeof *map);
  return rc;
}

size_t crdt_mvreg_count(const crdt_mvreg *reg) {
  if (!reg) return 0;
  const crdt__store *s = &reg->d.c.store;
  size_t n = 0;
  for (uint32_t i = 0; i < s->count; i++) n += s->entries[i].ndots != 0;
  return n;
}

int crdt_mvreg_foreach(const crdt_mvreg *reg, crdt_mvreg_visit visit,
                       void *user) {
  if (!reg || !visit) return CRDT_EINVAL;
  const crdt__entry **sorted;
  const crdt__store *s = &reg->d.c.store;
  int rc = crdt__store_sorted(s, &reg->d.base.mem, &sorted);
  if (rc) return rc;
  for (uint32_t i = 0; i < s->count && !rc; i++)
    if (sorted[i]->ndots)
      rc = visit((crdt_bytes){crdt__entry_key(sorted[i]), sorted[i]->keylen}, user);
  crdt__free(&reg->d.base.mem, sorted, s->count * sizeof *sorted);
  return rc;
}

int crdt_mvreg_context(const crdt_mvreg *reg, crdt_context **out) {
  if (!reg || !out) return CRDT_EINVAL;
  return crdt__context_from(&reg->d.c.ctx, &reg->d.c.replicas, out);
}

/* The siblings go to the callback as views into the register's keys; the
 * chosen value may be one of them: the write never deletes the entry of the
 * value it writes, so the view stays valid throughout. */
int crdt_mvreg_resolve(crdt_mvreg *reg, crdt_mvreg_resolver resolve,
                       void *user, crdt_mvreg *delta) {
  if (!reg || !resolve) return CRDT_EINVAL;
  crdt__dotted *d = &reg->d;
  const crdt_allocator *m = &d->base.mem;
  int rc;
  if ((rc = crdt__dotted_check_delta(d, (crdt_object *)delta))) return rc;
  if (d->self == CRDT__NO_REPLICA) return CRDT_ENOREPLICA;
  size_t n = crdt_mvreg_count(reg);
  if (n == 0) return CRDT_ENOENT;
  const crdt__entry **sorted;
  const crdt__store *s = &d->c.store;
  uint32_t nsorted = s->count;
  if ((rc = crdt__store_sorted(s, m, &sorted))) return rc;
  crdt_bytes *siblings = crdt__alloc(m, crdt__mul(n, sizeof *siblings));
  if (!siblings) {
    crdt__free(m, sorted, nsorted * sizeof *sorted);
    return CRDT_ENOMEM;
  }
  size_t k = 0;
  for (uint32_t i = 0; i < nsorted; i++)
    if (sorted[i]->ndots)
      siblings[k++] = (crdt_bytes){crdt__entry_key(sorted[i]), sorted[i]->keylen};
  crdt__free(m, sorted, nsorted * sizeof *sorted);
  crdt_bytes chosen = {NULL, 0};
  rc = resolve(siblings, n, &chosen, user);
  if (!rc) rc = crdt_mvreg_write(reg, chosen.data, chosen.size, NULL, delta);
  crdt__free(m, siblings, n * sizeof *siblings);
  return rc;
}
