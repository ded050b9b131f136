/*
 * Add-wins OR-set on the kernel's dot store: key = element, dots = the adds
 * of it not yet removed. The kernel's join decides what survives a merge;
 * this file only says what add and remove do.
 */
#include "crdt/orset.h"
#include "dotted.h"
#include "journal.h"
#include "wire.h"

struct crdt_orset {
  crdt__dotted d;
};

static int orset_create(const char *replica, crdt_object **out) {
  return crdt__dotted_create(&crdt__orset_type, replica, out);
}

static int orset_value_json(const crdt_object *o, crdt__text *t) {
  return crdt__dotted_keys_json(crdt__dotted_cof(o), t);
}

const crdt__type crdt__orset_type = {
    CRDT_TYPE_ORSET,           "orset",
    orset_create,              crdt__dotted_merge,
    crdt__dotted_equal,        crdt__dotted_copy,
    crdt__dotted_compare,      crdt__dotted_destroy,
    crdt__dotted_replica,      orset_value_json,
    crdt__dotted_context_text,
    crdt__dotted_context,
};

CRDT__DOTTED_CODEC(orset, false)

CRDT__TYPED_API(orset, crdt__orset_type)
CRDT__TYPED_COMPARE(orset)


/* A fresh dot that replaces this replica's observation of elem (see
 * crdt__dotted_add). */
int crdt_orset_add(crdt_orset *set, const void *elem, size_t len,
                   crdt_orset *delta) {
  if (!set) return CRDT_EINVAL;
  return crdt__dotted_add(&set->d, elem, len, (crdt_object *)delta);
}

/* Drops only the adds this replica observed (see crdt__dotted_remove). */
int crdt_orset_remove(crdt_orset *set, const void *elem, size_t len,
                      crdt_orset *delta) {
  if (!set) return CRDT_EINVAL;
  return crdt__dotted_remove(&set->d, elem, len, (crdt_object *)delta);
}

bool crdt_orset_contains(const crdt_orset *set, const void *elem, size_t len) {
  if (!set || crdt__dotted_check_key(elem, len)) return false;
  uint32_t hash;
  const crdt__entry *e = crdt__dotted_find(&set->d, elem, len, &hash);
  return e && e->ndots;
}

size_t crdt_orset_size(const crdt_orset *set) {
  if (!set) return 0;
  const crdt__store *s = &set->d.c.store;
  if (!set->d.c.keyed) return s->count; /* only deltas hold markers */
  size_t n = 0;
  for (uint32_t i = 0; i < s->count; i++) n += s->entries[i].ndots != 0;
  return n;
}

int crdt_orset_foreach(const crdt_orset *set, crdt_orset_visit visit,
                       void *user) {
  if (!set || !visit) return CRDT_EINVAL;
  const crdt__entry **sorted;
  const crdt__store *s = &set->d.c.store;
  int rc = crdt__store_sorted(s, &set->d.base.mem, &sorted);
  if (rc) return rc;
  for (uint32_t i = 0; i < s->count && !rc; i++)
    if (sorted[i]->ndots)
      rc = visit((crdt_bytes){crdt__entry_key(sorted[i]), sorted[i]->keylen}, user);
  crdt__free(&set->d.base.mem, sorted, s->count * sizeof *sorted);
  return rc;
}
