/*
 * libcrdt: grow-only counter (G-Counter).
 */
#ifndef CRDT_GCOUNTER_H
#define CRDT_GCOUNTER_H

#include <stdbool.h>

#include "crdt/common.h"
#include "crdt/object.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @file gcounter.h
 * A counter that replicas increment independently; its value is the sum of
 * every replica's increments, so concurrent increments add up.
 *
 * Each replica r keeps one entry: the number of updates it has made (its
 * event counter, the dot of its latest increment) and its running total.
 * Every increment ticks the event counter, so the event counters form a
 * version vector of the updates a state has seen: crdt_gcounter_compare()
 * and crdt_object_context_text() (`{A:2, B:1}`) show it. A merge keeps, per
 * replica, the entry with more events (it includes all earlier ones).
 *
 * Counts never wrap: an increment that would take this replica's total or the
 * counter's value past UINT64_MAX fails with CRDT_ERANGE. Merges never fail
 * for that reason (each replica's total fits by construction); a merged value
 * above UINT64_MAX is reported by crdt_gcounter_value() as CRDT_ERANGE and
 * printed exactly by crdt_object_value_json().
 *
 * Deltas: pass a delta object (created with a NULL replica) to
 * crdt_gcounter_inc() and it joins the update's delta, the acting replica's
 * new entry, into it. Deltas join each other and full states in any order,
 * duplicated or not, with the same result as merging full states.
 *
 * Cost: inc, value and get are O(1) expected; merge and equal are linear in
 * the number of replicas of the arguments (a delta's, when merging one).
 */

/** Opaque G-Counter. Not thread-safe; distinct counters are independent. */
typedef struct crdt_gcounter crdt_gcounter;

/** Creates a counter at 0.
 * @param replica the id this replica stamps its increments with
 *   (1..CRDT_REPLICA_MAX bytes), or NULL for a counter that only collects
 *   deltas or receives states (crdt_gcounter_inc() then fails with
 *   CRDT_ENOREPLICA).
 * @param[out] out receives the counter; the caller frees it with
 *   crdt_gcounter_free().
 * @return 0, CRDT_EINVAL (bad id, out NULL) or CRDT_ENOMEM. */
CRDT_API int crdt_gcounter_new(const char *replica, crdt_gcounter **out);

/** Frees a counter; NULL does nothing. */
CRDT_API void crdt_gcounter_free(crdt_gcounter *c);

/** Adds `n` at this replica: one new event, this replica's total grows by n.
 * @param c the counter; needs a replica id.
 * @param n the amount, >= 1.
 * @param delta NULL, or a counter (not `c`) into which the update's delta
 *   (this replica's new entry) is joined.
 * @return 0, CRDT_EINVAL (c NULL, n 0, delta == c), CRDT_ETYPE (delta of
 *   another type), CRDT_ENOREPLICA (c has no replica id), CRDT_ERANGE (this
 *   replica's total or the counter's value would pass UINT64_MAX, or its
 *   event counter is exhausted), CRDT_ENOMEM or CRDT_ETOOMANY (growing the
 *   delta). On error neither c nor delta changes. */
CRDT_API int crdt_gcounter_inc(crdt_gcounter *c, uint64_t n,
                               crdt_gcounter *delta);

/** The counter's value: the sum of every replica's total.
 * @param c the counter.
 * @param[out] out receives the value.
 * @return 0, CRDT_EINVAL (NULL argument) or CRDT_ERANGE (the sum passes
 *   UINT64_MAX, which merges of replicas near the limit can produce; *out is
 *   then unchanged). */
CRDT_API int crdt_gcounter_value(const crdt_gcounter *c, uint64_t *out);

/** The total of `replica`'s increments that this state has seen (0 for a
 * replica it has not heard of, an invalid id, or c NULL). */
CRDT_API uint64_t crdt_gcounter_get(const crdt_gcounter *c,
                                    const char *replica);

/** Callback for crdt_gcounter_foreach: `replica` is valid during the call
 * only. Return non-zero to stop. */
typedef int (*crdt_gcounter_visit)(const char *replica, uint64_t contribution,
                                   void *user);

/** Calls `visit` for each replica that has incremented, with its total, in
 * canonical order (replica ids sorted by bytes), the same on every replica.
 * The counter must not change during the walk.
 * @return 0, the callback's non-zero value, CRDT_EINVAL or CRDT_ENOMEM
 *   (before any call). */
CRDT_API int crdt_gcounter_foreach(const crdt_gcounter *c,
                                   crdt_gcounter_visit visit, void *user);

/** dst := dst ⊔ src: per replica, the entry with more events. See
 * crdt_object_merge() (CRDT_EINVAL, CRDT_ENOMEM, CRDT_ETOOMANY; on error dst
 * is unchanged). */
CRDT_API int crdt_gcounter_merge(crdt_gcounter *dst, const crdt_gcounter *src);

/** true when both have seen the same increments (same entry for every
 * replica; the owner ids are not compared). */
CRDT_API bool crdt_gcounter_equal(const crdt_gcounter *a,
                                  const crdt_gcounter *b);

/** Deep copy with the same owner replica; see crdt_object_copy().
 * @param src the counter to copy; not changed.
 * @param[out] out receives the copy; the caller frees it with
 *   crdt_gcounter_free().
 * @return 0, CRDT_EINVAL or CRDT_ENOMEM. */
CRDT_API int crdt_gcounter_copy(const crdt_gcounter *src, crdt_gcounter **out);

/** Compares the version vectors of the increments each has seen:
 * CRDT_EQUAL, CRDT_BEFORE (a has seen a strict subset of b's), CRDT_AFTER or
 * CRDT_CONCURRENT.
 * @return 0, CRDT_EINVAL (NULL argument). */
CRDT_API int crdt_gcounter_compare(const crdt_gcounter *a,
                                   const crdt_gcounter *b, crdt_order *order);

/** The counter as a generic object (same pointer, no copy; do not free
 * both). Its value JSON is the exact sum (also beyond UINT64_MAX); its
 * context text is the event vector. */
CRDT_API crdt_object *crdt_gcounter_object(crdt_gcounter *c);

/** The object as a G-Counter, or NULL when it is of another type. */
CRDT_API crdt_gcounter *crdt_object_gcounter(crdt_object *obj);

#ifdef __cplusplus
}
#endif
#endif /* CRDT_GCOUNTER_H */
