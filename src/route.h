/*
 * Paths through nested stores (the map's fields, see store.h "nested
 * stores"): finding the entries along a path of keys, making the missing
 * ones atomically, and settling a path after its innermost store changed.
 */
#ifndef CRDT_SRC_ROUTE_H
#define CRDT_SRC_ROUTE_H

#include "store.h"

/* One key of a path, with its hash (crdt__key_hash). */
typedef struct crdt__key {
  const uint8_t *bytes;
  size_t len;
  uint32_t hash;
} crdt__key;

/* The entries along keys[0 .. depth) from a root store: key i is entry[i]
 * of store[i], and holds store[i + 1]. Entry pointers are valid until a
 * store on the route changes in another way than through these functions. */
typedef struct crdt__route {
  const crdt__key *keys;
  uint32_t depth;
  uint32_t found; /* keys that exist: entry[0 .. found) */
  uint32_t made;  /* keys crdt__route_make created: entry[found .. made) */
  crdt__store *store[CRDT__DEPTH_MAX + 1];
  crdt__entry *entry[CRDT__DEPTH_MAX];
} crdt__route;

/* Follows the keys from `root` as far as they exist. depth <=
 * CRDT__DEPTH_MAX. An existing key that holds dots rather than a nested
 * store ends the route there (found counts it; the caller checks kinds
 * through crdt__route_complete). */
void crdt__route_find(crdt__route *r, crdt__store *root, const crdt__key *keys,
                      uint32_t depth);

/* Has the route reached its innermost store, store[depth]? */
static inline bool crdt__route_complete(const crdt__route *r) {
  return r->found == r->depth &&
         (r->depth == 0 || crdt__entry_nested(r->entry[r->depth - 1]));
}

/* Makes the missing keys, each holding a new, empty nested store, so that
 * store[depth] exists. Atomic: on error (CRDT_ENOMEM, CRDT_ETOOMANY,
 * CRDT_EINVAL for a key too long, CRDT_EFORMAT when an existing key on the
 * path holds dots) nothing changed. Until the innermost store gets an
 * entry, the keys made are empty: settle or unmake the route before the
 * operation ends. */
int crdt__route_make(crdt__route *r, const crdt_allocator *m);

/* Undoes crdt__route_make: deletes the first key it made, with everything
 * below. Never fails. */
void crdt__route_unmake(crdt__route *r, const crdt_allocator *m);

/* After the innermost store changed: brings the nested entries' ndots up to
 * date, innermost first; with `prune`, deletes the keys left empty on the
 * way up (a state, or a delta that does not keep markers). Never fails. */
void crdt__route_settle(crdt__route *r, const crdt_allocator *m, bool prune);

/* crdt__causal_record for a key below the nested keys path[0 .. depth)
 * (made in the delta as needed, pruned again when they end up empty in a
 * delta that keeps no markers). Atomic. */
int crdt__causal_record_at(crdt__causal *delta, const crdt_allocator *m,
                           const crdt__replicas *from, const crdt__key *path,
                           uint32_t depth, const crdt__op *op);

#endif
