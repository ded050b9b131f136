/*
 * Leaves of a causal state: the entries that hold dots (not a nested
 * store), each reached by a path of nested keys. In the flat types (OR-set,
 * MV-register, cart, flag) every entry is a leaf with an empty path; in the
 * map (store.h, "nested stores") a leaf is a counter or flag field, or an
 * element or value of a set or register field, below the keys of the maps
 * and the field that lead to it.
 *
 * A dot-based state is exactly its set of leaves with their dots (the
 * nested entries above them exist while some leaf below holds a dot), so
 * what works per key on a flat store (digests, sync plans, chunks,
 * removals) works per leaf on any tree. The functions here walk, find and
 * make leaves by path, so that code is written once for both.
 */
#ifndef CRDT_SRC_LEAF_H
#define CRDT_SRC_LEAF_H

#include "route.h"

/* A leaf's address: the nested keys path[0 .. depth), then its own key.
 * Borrowed bytes. */
typedef struct crdt__leaf {
  const crdt__key *path;
  uint32_t depth;
  crdt__key key;
} crdt__leaf;

/* A walk over the leaves of a tree, depth first; markers (leaves without
 * dots, in keyed deltas) included. The tree must not change during the
 * walk. `hashed`: keep the digest's path seeds (src/digest.h) on the way
 * down, for crdt__leaves_digest_key. */
typedef struct crdt__leaves {
  uint32_t depth; /* of the current leaf: its path is path[0 .. depth) */
  bool hashed;
  crdt__key path[CRDT__DEPTH_MAX];
  const crdt__store *store[CRDT__DEPTH_MAX + 1];
  uint32_t next[CRDT__DEPTH_MAX + 1];
  uint64_t seed[CRDT__DEPTH_MAX + 1];
} crdt__leaves;

void crdt__leaves_begin(crdt__leaves *it, const crdt__store *root,
                        bool hashed);
/* Goes down into nested entry e of the current store (the slow path of
 * crdt__leaves_next). */
void crdt__leaves_down(crdt__leaves *it, const crdt__entry *e);

/* The next leaf, or NULL at the end. A flat store costs one test per
 * entry more than a plain loop. */
static inline const crdt__entry *crdt__leaves_next(crdt__leaves *it) {
  for (;;) {
    const crdt__store *s = it->store[it->depth];
    if (it->next[it->depth] < s->count) {
      const crdt__entry *e = &s->entries[it->next[it->depth]++];
      if (!crdt__entry_nested(e)) return e;
      crdt__leaves_down(it, e);
      continue;
    }
    if (it->depth == 0) return NULL;
    it->depth--;
  }
}

/* The address of the current leaf e (valid while the walk stays there). */
static inline crdt__leaf crdt__leaves_at(const crdt__leaves *it,
                                         const crdt__entry *e) {
  return (crdt__leaf){it->path, it->depth,
                      {crdt__entry_key(e), e->keylen, e->hash}};
}

/* K of the current leaf e for the digest (hashed walks only). */
uint64_t crdt__leaves_digest_key(const crdt__leaves *it, const crdt__entry *e);

/* The leaf at `at` in the tree below root, or NULL (absent, or a nested
 * entry there). */
crdt__entry *crdt__leaf_find(const crdt__store *root, const crdt__leaf *at);

/* The leaf at `at` in the keyed delta t, created as a marker (with the
 * nested keys above it) when absent. Atomic: on error (CRDT_ENOMEM,
 * CRDT_ETOOMANY, CRDT_EFORMAT when a key on the path holds dots, or the
 * leaf's key a nested store) t is unchanged. The entry is valid until t
 * changes. */
int crdt__leaf_make(crdt__causal *t, const crdt_allocator *m,
                    const crdt__leaf *at, crdt__entry **out);

/* Deletes the markers of a tree (a delta that stops being keyed), and the
 * nested entries they leave empty. Never fails. */
void crdt__store_drop_markers(crdt__store *s, const crdt_allocator *m);

/* The number of dots of the tree (live dots, for a state). */
uint64_t crdt__store_dots(const crdt__store *s);

/* ---- flat keys -----------------------------------------------------------
 * A leaf's address as one byte string, to keep it in a list (a sync
 * round's plan): for a flat store (depth 0 by construction) the key itself;
 * in a nested tree each key of the path, then the leaf's key, as a varint
 * length and the bytes. */

/* Bytes of the nested form of `at`. */
size_t crdt__leaf_flat_size(const crdt__leaf *at);
/* Writes the nested form into out (crdt__leaf_flat_size bytes). */
void crdt__leaf_flat_put(const crdt__leaf *at, uint8_t *out);
/* Reads the nested form: keys into path (room for CRDT__DEPTH_MAX), the
 * address into *at (bytes borrowed from `flat`). CRDT_EFORMAT for bytes
 * that are not one. */
int crdt__leaf_flat_get(const uint8_t *flat, size_t len, crdt__key *path,
                        crdt__leaf *at);

#endif
