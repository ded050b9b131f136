/*
 * Dot stores and their join: the one place that decides which dots survive a
 * merge.
 *
 * A store maps keys (byte strings: OR-set elements, cart items, register
 * values) to sets of dots, each dot carrying an int64 value (a cart amount;
 * 0 where a type has no use for it). With its causal context and replica
 * table it forms a `crdt__causal`, the state of every dot-based type:
 *
 *   OR-set       key = element   dots = the adds not yet removed
 *   MV-register  key = value     dots = the writes not yet superseded
 *   Cart         key = item      dots = increments/decrements, value = amount
 *
 * Join rule (Almeida et al.): a dot survives the join of (s1, c1) and
 * (s2, c2) when both stores have it, or one store has it and the other
 * context has not seen it. Contexts join by union.
 *
 * A "keyed delta" is a state whose context holds only dots of keys it lists;
 * it keeps keys whose dot set became empty (markers) so that its removals
 * can be applied by visiting only its own keys. Joining a keyed delta costs
 * O(size of the delta); joining anything else walks both stores.
 *
 * The element index is an open-addressing table (linear probing, backward
 * shift deletion) with room reserved before any change, so every operation
 * can be made atomic: fallible steps first, then infallible ones.
 */
#ifndef CRDT_SRC_STORE_H
#define CRDT_SRC_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "ctx.h"

#define CRDT__KEY_MAX UINT32_MAX

/* A dot with its value. */
typedef struct crdt__dv {
  uint64_t counter;
  uint32_t replica;
  int64_t value;
} crdt__dv;

typedef struct crdt__entry {
  uint8_t *key;   /* owned; NULL when keylen == 0 */
  uint32_t keylen;
  uint32_t hash;  /* high bit set: slot in use */
  uint32_t ndots; /* 0 only for markers in keyed deltas */
  uint32_t cap;   /* capacity of dots.many; 0 when the dots are inline */
  union {
    crdt__dv one; /* ndots <= 1 and cap == 0 */
    crdt__dv *many;
  } dots;
} crdt__entry;

typedef struct crdt__store {
  crdt__entry *slots;
  uint32_t cap; /* 0 or a power of two */
  uint32_t count;
} crdt__store;

typedef struct crdt__causal {
  crdt__replicas replicas;
  crdt__ctx ctx;
  crdt__store store;
  bool keyed; /* a keyed delta (see above) */
} crdt__causal;

/* ---- keys and entries ---------------------------------------------------- */

uint32_t crdt__key_hash(const void *key, size_t len);

static inline crdt__dv *crdt__entry_dots(crdt__entry *e) {
  return e->cap ? e->dots.many : &e->dots.one;
}
static inline const crdt__dv *crdt__entry_cdots(const crdt__entry *e) {
  return e->cap ? e->dots.many : &e->dots.one;
}

/* Room for `n` dots in e; on CRDT_ENOMEM e is unchanged. */
int crdt__entry_reserve(crdt__entry *e, const crdt_allocator *m, uint32_t n);
/* Appends a dot (after crdt__entry_reserve). */
void crdt__entry_push(crdt__entry *e, crdt__dv d);
/* Removes dot i (order of the others may change). */
void crdt__entry_remove_at(crdt__entry *e, const crdt_allocator *m,
                           uint32_t i);
/* Replaces all dots of e by d. Never fails. */
void crdt__entry_set_one(crdt__entry *e, const crdt_allocator *m, crdt__dv d);
/* Exact sum of the dot values, clamped to the int64 range; the same
 * whatever the order of the dots. */
int64_t crdt__entry_sum(const crdt__entry *e);

/* ---- the element index --------------------------------------------------- */

crdt__entry *crdt__store_find(const crdt__store *s, const void *key,
                              size_t len, uint32_t hash);
/* Room for `extra` more entries. On CRDT_ENOMEM s is unchanged. */
int crdt__store_reserve(crdt__store *s, const crdt_allocator *m,
                        uint32_t extra);
/* Inserts a new entry with no dots (after crdt__store_reserve; the key must
 * be absent). Takes ownership of `key` (allocated with m, keylen bytes).
 * Pointers to entries stay valid across inserts that need no growth. */
crdt__entry *crdt__store_put(crdt__store *s, uint8_t *key, uint32_t keylen,
                             uint32_t hash);
/* Copies a key into a new allocation (NULL for an empty key); CRDT_EINVAL
 * for keys longer than CRDT__KEY_MAX. */
int crdt__key_dup(const crdt_allocator *m, const void *key, size_t len,
                  uint8_t **out);
/* Copies `key` and inserts it (reserve + allocate + put); atomic. */
int crdt__store_insert(crdt__store *s, const crdt_allocator *m,
                       const void *key, size_t len, uint32_t hash,
                       crdt__entry **out);
/* Deletes an entry, freeing its key and dots. Moves other entries: pointers
 * into the table are invalid afterwards. */
void crdt__store_delete(crdt__store *s, const crdt_allocator *m,
                        crdt__entry *e);
void crdt__store_free(crdt__store *s, const crdt_allocator *m);
int crdt__store_copy(crdt__store *dst, const crdt_allocator *m,
                     const crdt__store *src);

/* Entries sorted by key bytes (canonical order), *out allocated with m
 * (s->count pointers, NULL when empty). Pointers valid until s changes. */
int crdt__store_sorted(const crdt__store *s, const crdt_allocator *m,
                       const crdt__entry ***out);

/* Entries in canonical dot order (by replica id bytes, then counter), into
 * `out` which has room for e->ndots. */
void crdt__entry_sorted_dots(const crdt__entry *e, const crdt__replicas *r,
                             crdt__dv *out);

/* ---- causal states --------------------------------------------------------- */

void crdt__causal_free(crdt__causal *c, const crdt_allocator *m);
int crdt__causal_copy(crdt__causal *dst, const crdt_allocator *m,
                      const crdt__causal *src);

/* dst := dst ⊔ src by the join rule. Atomic: on error dst is unchanged.
 * dst == src is a no-op. */
int crdt__causal_join(crdt__causal *dst, const crdt_allocator *m,
                      const crdt__causal *src);

/* Same contexts and same keys with the same dots and values; replica ids
 * matched by bytes. Markers are ignored unless both are keyed. */
bool crdt__causal_equal(const crdt__causal *a, const crdt__causal *b);

/* Index of the replica `id`, interning it and making room for one more dot
 * of it in the context. On error c is unchanged; on success the caller must
 * either use the index or call crdt__replicas_truncate(.., *before). */
int crdt__causal_replica(crdt__causal *c, const crdt_allocator *m,
                         const char *id, size_t len, uint32_t *index);

/* What one operation did, as a delta: key `key` gains the dots `add`, the
 * context gains the operation's own `dot` (every update creates one, removals
 * included), `add` and `seen` (dots the operation observed and superseded),
 * and, when `extra` is not NULL, every dot of `extra` (a read
 * context with its own replica table `extra_replicas`). Dot replica indexes
 * refer to `from`. A delta without `extra` is keyed: it lists its key even
 * when `nadd` is 0 (a removal).
 * Joins that delta into `delta`. Atomic: on error `delta` is unchanged. */
typedef struct crdt__op {
  crdt__dot dot;
  const void *key;
  size_t keylen;
  uint32_t hash;
  const crdt__dv *add;
  uint32_t nadd;
  const crdt__dv *seen;
  uint32_t nseen;
  const crdt__ctx *extra;
  const crdt__replicas *extra_replicas;
} crdt__op;

int crdt__causal_record(crdt__causal *delta, const crdt_allocator *m,
                        const crdt__replicas *from, const crdt__op *op);

#endif
