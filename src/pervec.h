/*
 * Version vectors whose entries carry a payload: the state of the counters.
 *
 * Every update at replica r ticks r's event counter and changes r's running
 * totals (the payload: a G-counter's increments; a PN-counter's increments
 * and decrements). An entry (events, payload) therefore summarizes r's first
 * `events` updates, and an entry with more events includes every earlier
 * one. The join keeps, per replica, the entry with the higher event counter;
 * the event counters alone form the version vector that compare() and the
 * context text show.
 *
 * Entries are ordered lexicographically by (events, payload[0], payload[1])
 * and the join keeps the greater. Two entries with the same event counter and
 * different payloads cannot come from the same replica's history (they would
 * be two different "n-th updates"); breaking that tie by the payload keeps
 * the join a lattice join (commutative, associative, idempotent) even for
 * such inputs, e.g. a forged or corrupted blob.
 *
 * Layout: a replica table plus one dense array of entries indexed by replica
 * index. Invariant: len >= replicas.count (every interned replica has an
 * entry: interning and reserving go together; a join reserves first, a
 * single intern is undone when the reserve fails), and entries past
 * replicas.count are zero; crdt__pervec_get reads indexes beyond len as
 * zero. `total[k]` caches the sum of payload[k] over all entries as a
 * 128-bit number, so reading a counter is O(1) and no sum can wrap (2^32
 * replicas of 2^64 fit in 96 bits).
 *
 * Fallible steps (allocation) come before changes, so every operation is
 * atomic: on error the vector is unchanged.
 */
#ifndef CRDT_SRC_PERVEC_H
#define CRDT_SRC_PERVEC_H

#include <stdbool.h>
#include <stdint.h>

#include "mem.h"
#include "replicas.h"

struct crdt__text;

/* An unsigned 128-bit number as two words (C11 has no portable __int128). */
typedef struct crdt__wide {
  uint64_t hi, lo;
} crdt__wide;

static inline crdt__wide crdt__wide_add(crdt__wide a, uint64_t x) {
  a.lo += x;
  a.hi += a.lo < x;
  return a;
}

/* a - b; requires a >= b. */
static inline crdt__wide crdt__wide_sub(crdt__wide a, crdt__wide b) {
  crdt__wide d = {a.hi - b.hi - (a.lo < b.lo), a.lo - b.lo};
  return d;
}

static inline int crdt__wide_cmp(crdt__wide a, crdt__wide b) {
  if (a.hi != b.hi) return a.hi < b.hi ? -1 : 1;
  return (a.lo > b.lo) - (a.lo < b.lo);
}

/* Appends a - b in decimal, with a leading '-' when b > a. Exact for every
 * pair of 128-bit numbers. */
void crdt__wide_text_diff(struct crdt__text *t, crdt__wide a, crdt__wide b);

/* One replica's entry: its event count and its running totals. */
typedef struct crdt__pvent {
  uint64_t events;
  uint64_t payload[2];
} crdt__pvent;

typedef struct crdt__pervec {
  crdt__replicas replicas;
  crdt__pvent *entries; /* entries[i] for replica index i < len */
  uint32_t len, cap;
  crdt__wide total[2]; /* sum of entries[i].payload[k] */
} crdt__pervec;

/* The entry of replica index i (a zero entry when i >= len). */
static inline crdt__pvent crdt__pervec_get(const crdt__pervec *v, uint32_t i) {
  crdt__pvent zero = {0, {0, 0}};
  return i < v->len ? v->entries[i] : zero;
}

/* true when the entry has no events and no payload (a replica that never
 * updated; such entries are ignored by equal, foreach and format). */
static inline bool crdt__pvent_is_zero(const crdt__pvent *e) {
  return !e->events && !e->payload[0] && !e->payload[1];
}

/* Makes len >= `len` (new entries zero). On CRDT_ENOMEM v is unchanged. */
int crdt__pervec_reserve(crdt__pervec *v, const crdt_allocator *m,
                         uint32_t len);

/* Index of replica `id` (len bytes, already checked), interning it and
 * reserving its entry, so crdt__pervec_set on it cannot fail. On error
 * (CRDT_ENOMEM, CRDT_ETOOMANY) v is unchanged. */
int crdt__pervec_slot(crdt__pervec *v, const crdt_allocator *m, const char *id,
                      size_t len, uint32_t *index);

/* Replaces the entry of index i (< len, see reserve/slot) and keeps the
 * totals. Never fails. */
void crdt__pervec_set(crdt__pervec *v, uint32_t i, crdt__pvent e);

/* The entry replica i would have after one more update that adds n to
 * payload[k] (k is 0 or 1): events + 1, payload[k] + n. Changes nothing.
 * CRDT_ERANGE when the event counter or payload[k] would pass UINT64_MAX. */
int crdt__pervec_bump(const crdt__pervec *v, uint32_t i, unsigned k,
                      uint64_t n, crdt__pvent *out);

/* dst := dst ⊔ {id: e}: keeps the greater of e and dst's entry for `id`.
 * Atomic (CRDT_ENOMEM, CRDT_ETOOMANY). O(1) expected. */
int crdt__pervec_join_one(crdt__pervec *dst, const crdt_allocator *m,
                          const char *id, size_t len, const crdt__pvent *e);

/* dst := dst ⊔ src, per replica the greater entry. Atomic: on error
 * (CRDT_ENOMEM, CRDT_ETOOMANY) dst is unchanged (only its capacity may have
 * grown). dst == src does nothing. Linear in the size of src; src's ids are
 * not hashed again (their stored hashes find them in dst), and a src with
 * one replica, a counter merged from its owner, takes a path without
 * scratch memory that allocates only when dst must grow. */
int crdt__pervec_join(crdt__pervec *dst, const crdt_allocator *m,
                      const crdt__pervec *src);

/* Same non-zero entries, replicas matched by id bytes. */
bool crdt__pervec_equal(const crdt__pervec *a, const crdt__pervec *b);

/* Compares the event vectors: CRDT_EQUAL, CRDT_BEFORE (every event count of
 * a is <= b's, one is lower), CRDT_AFTER or CRDT_CONCURRENT. Replicas are
 * matched by id bytes; absent ones count as 0. No allocation. */
crdt_order crdt__pervec_compare(const crdt__pervec *a, const crdt__pervec *b);

/* Deep copy into an empty vector, replica indexes preserved. On error dst
 * stays empty. */
int crdt__pervec_copy(crdt__pervec *dst, const crdt_allocator *m,
                      const crdt__pervec *src);

void crdt__pervec_free(crdt__pervec *v, const crdt_allocator *m);

/* Calls visit(id, entry, user) for every non-zero entry in canonical order
 * (replica ids sorted by bytes). Stops at the first non-zero return and
 * returns it; CRDT_ENOMEM when the order cannot be built (nothing visited).
 * `m` allocates the temporary order. */
typedef int (*crdt__pervec_visit)(const char *id, const crdt__pvent *e,
                                  void *user);
int crdt__pervec_foreach(const crdt__pervec *v, const crdt_allocator *m,
                         crdt__pervec_visit visit, void *user);

/* Appends the event vector as text in canonical order, `{A:2, B:1}` (`{}`
 * when empty; zero counters omitted), as crdt__ctx_format prints a context
 * without a cloud. CRDT_ENOMEM (nothing appended) or 0. */
int crdt__pervec_format(struct crdt__text *t, const crdt__pervec *v,
                        const crdt_allocator *m);

#endif
