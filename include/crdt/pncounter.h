/*
 * libcrdt: increment/decrement counter (PN-Counter).
 */
#ifndef CRDT_PNCOUNTER_H
#define CRDT_PNCOUNTER_H

#include <stdbool.h>

#include "crdt/common.h"
#include "crdt/object.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @file pncounter.h
 * A counter that replicas increment and decrement independently; its value
 * is P - N, where P sums every replica's increments and N its decrements, so
 * concurrent updates of either kind all apply.
 *
 * Each replica r keeps one entry: the number of updates it has made (its
 * event counter; increments and decrements both tick it) and its running
 * totals P_r and N_r. The event counters form a version vector of the updates
 * a state has seen: crdt_pncounter_compare() and crdt_object_context_text()
 * (`{A:2, B:1}`) show it. A merge keeps, per replica, the entry with more
 * events (it includes all earlier ones).
 *
 * Range: the value is read as an int64_t. Nothing wraps:
 *  - an update fails with CRDT_ERANGE when P_r or N_r would pass UINT64_MAX,
 *    when the event counter is exhausted, or when it would move the value
 *    outside int64_t in its own direction (an increment past INT64_MAX, a
 *    decrement past INT64_MIN; an update that moves an out-of-range value
 *    back towards the range is allowed);
 *  - merges never fail for range reasons; a merged value outside int64_t
 *    is reported by crdt_pncounter_value() as CRDT_ERANGE and printed
 *    exactly by crdt_object_value_json() (sums are kept in 128 bits, so the
 *    value is always known exactly, also when P or N alone passes
 *    UINT64_MAX).
 *
 * Deltas: pass a delta object (created with a NULL replica) to an update and
 * it joins the update's delta, the acting replica's new entry, into it.
 * Deltas join each other and full states in any order, duplicated or not,
 * with the same result as merging full states.
 *
 * Cost: inc, dec and value are O(1) expected; merge and equal are linear in
 * the number of replicas of the arguments (a delta's, when merging one).
 */

/** Opaque PN-Counter. Not thread-safe; distinct counters are independent. */
typedef struct crdt_pncounter crdt_pncounter;

/** Creates a counter at 0.
 * @param replica the id this replica stamps its updates with
 *   (1..CRDT_REPLICA_MAX bytes), or NULL for a counter that only collects
 *   deltas or receives states (updates then fail with CRDT_ENOREPLICA).
 * @param[out] out receives the counter; the caller frees it with
 *   crdt_pncounter_free().
 * @return 0, CRDT_EINVAL (bad id, out NULL) or CRDT_ENOMEM. */
CRDT_API int crdt_pncounter_new(const char *replica, crdt_pncounter **out);

/** Frees a counter; NULL does nothing. */
CRDT_API void crdt_pncounter_free(crdt_pncounter *c);

/** Adds `n` at this replica: one new event, P_r grows by n.
 * @param c the counter; needs a replica id.
 * @param n the amount, >= 1.
 * @param delta NULL, or a counter (not `c`) into which the update's delta
 *   (this replica's new entry) is joined.
 * @return 0, CRDT_EINVAL (c NULL, n 0, delta == c), CRDT_ETYPE (delta of
 *   another type), CRDT_ENOREPLICA (c has no replica id), CRDT_ERANGE (P_r
 *   would pass UINT64_MAX, the value would pass INT64_MAX, or the event
 *   counter is exhausted), CRDT_ENOMEM or CRDT_ETOOMANY (growing the delta).
 *   On error neither c nor delta changes. */
CRDT_API int crdt_pncounter_inc(crdt_pncounter *c, uint64_t n,
                                crdt_pncounter *delta);

/** Subtracts `n` at this replica: one new event, N_r grows by n.
 * @return as crdt_pncounter_inc(), with CRDT_ERANGE when N_r would pass
 *   UINT64_MAX or the value would pass INT64_MIN. On error nothing
 *   changes. */
CRDT_API int crdt_pncounter_dec(crdt_pncounter *c, uint64_t n,
                                crdt_pncounter *delta);

/** The counter's value, P - N.
 * @param c the counter.
 * @param[out] out receives the value.
 * @return 0, CRDT_EINVAL (NULL argument) or CRDT_ERANGE (the value is outside
 *   int64_t, which merges can produce; *out is then unchanged). */
CRDT_API int crdt_pncounter_value(const crdt_pncounter *c, int64_t *out);

/** Callback for crdt_pncounter_foreach: `replica` is valid during the call
 * only; p and n are its totals of increments and decrements. Return
 * non-zero to stop. */
typedef int (*crdt_pncounter_visit)(const char *replica, uint64_t p,
                                    uint64_t n, void *user);

/** Calls `visit` for each replica that has updated, with its totals, in
 * canonical order (replica ids sorted by bytes), the same on every replica.
 * The counter must not change during the walk.
 * @return 0, the callback's non-zero value, CRDT_EINVAL or CRDT_ENOMEM
 *   (before any call). */
CRDT_API int crdt_pncounter_foreach(const crdt_pncounter *c,
                                    crdt_pncounter_visit visit, void *user);

/** dst := dst ⊔ src: per replica, the entry with more events. See
 * crdt_object_merge() (CRDT_EINVAL, CRDT_ENOMEM, CRDT_ETOOMANY; on error dst
 * is unchanged). */
CRDT_API int crdt_pncounter_merge(crdt_pncounter *dst,
                                  const crdt_pncounter *src);

/** true when both have seen the same updates (same entry for every replica;
 * the owner ids are not compared). */
CRDT_API bool crdt_pncounter_equal(const crdt_pncounter *a,
                                   const crdt_pncounter *b);

/** Deep copy with the same owner replica; see crdt_object_copy().
 * @param src the counter to copy; not changed.
 * @param[out] out receives the copy; the caller frees it with
 *   crdt_pncounter_free().
 * @return 0, CRDT_EINVAL or CRDT_ENOMEM. */
CRDT_API int crdt_pncounter_copy(const crdt_pncounter *src,
                                 crdt_pncounter **out);

/** Compares the version vectors of the updates each has seen: CRDT_EQUAL,
 * CRDT_BEFORE (a has seen a strict subset of b's), CRDT_AFTER or
 * CRDT_CONCURRENT.
 * @return 0, CRDT_EINVAL (NULL argument). */
CRDT_API int crdt_pncounter_compare(const crdt_pncounter *a,
                                    const crdt_pncounter *b,
                                    crdt_order *order);

/** The counter as a generic object (same pointer, no copy; do not free
 * both). Its value JSON is the exact value P - N (also outside int64_t); its
 * context text is the event vector. */
CRDT_API crdt_object *crdt_pncounter_object(crdt_pncounter *c);

/** The object as a PN-Counter, or NULL when it is of another type. */
CRDT_API crdt_pncounter *crdt_object_pncounter(crdt_object *obj);

#ifdef __cplusplus
}
#endif
#endif /* CRDT_PNCOUNTER_H */
