/*
 * libcrdt: add-wins observed-remove set (OR-set), without tombstones.
 */
#ifndef CRDT_ORSET_H
#define CRDT_ORSET_H

#include <stdbool.h>

#include "crdt/common.h"
#include "crdt/object.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @file orset.h
 * A set of byte strings that replicas update independently. Each add is
 * stamped with a fresh dot; a remove drops exactly the adds its replica has
 * observed, so an add concurrent with a remove survives (add wins). Removed
 * elements leave no tombstone: the causal context remembers which adds were
 * seen. Every update, removals included, creates a dot at the acting
 * replica, so comparing two sets' histories is exact.
 *
 * Elements are byte strings of 0 .. UINT32_MAX bytes (they need not be text).
 * Expected O(1) per add, remove and lookup; merge is linear in the sizes of
 * both sets, joining a delta is linear in the delta.
 *
 * Deltas: pass a delta object (created with a NULL replica) to a mutator and
 * it joins the update's delta into it. Deltas join each other and full
 * states in any order, duplicated or not, with the same result as merging
 * full states.
 *
 * Known limitation: while deltas arrive out of causal order, a replica's
 * context can name an update whose delta it has not received yet (a remove
 * names the re-add it observed, not the earlier add that re-add replaced),
 * so two replicas can compare EQUAL and still differ until the missing
 * delta arrives. Deliver deltas in causal order, or exchange full states,
 * when comparing contexts to decide that replicas are in sync
 * (docs/verification.md, "Known issue").
 */

/** Opaque OR-set. Not thread-safe; distinct sets are independent. */
typedef struct crdt_orset crdt_orset;

/** Creates an empty set.
 * @param replica the id this replica stamps its updates with (1..64 bytes),
 *   or NULL for a set that only collects deltas or receives states.
 * @param[out] out receives the set; the caller frees it with
 *   crdt_orset_free().
 * @return 0, CRDT_EINVAL (bad id, out NULL) or CRDT_ENOMEM. */
CRDT_API int crdt_orset_new(const char *replica, crdt_orset **out);

/** Frees a set; NULL does nothing. */
CRDT_API void crdt_orset_free(crdt_orset *set);

/** Adds `elem`. Adding a present element replaces this replica's observation
 * of it with a fresh dot (the add then also wins over removes concurrent
 * with it).
 * @param set the set; needs a replica id.
 * @param elem element bytes (may be NULL when len is 0); copied.
 * @param len the element's size, 0 .. UINT32_MAX.
 * @param delta NULL, or a set (not `set`) into which the update's delta is
 *   joined.
 * @return 0, CRDT_EINVAL, CRDT_ETYPE, CRDT_ENOREPLICA (set has no replica
 *   id), CRDT_ERANGE (counter space exhausted), CRDT_ETOOMANY or
 *   CRDT_ENOMEM. On error neither set nor delta changes. */
CRDT_API int crdt_orset_add(crdt_orset *set, const void *elem, size_t len,
                            crdt_orset *delta);

/** Removes `elem`: drops the adds of it this replica has seen and records
 * the removal as a new dot. An add at another replica that this one has not
 * seen survives the merge.
 * @return 0, CRDT_ENOENT (elem is not in the set: nothing changes and no dot
 *   is created), or the errors of crdt_orset_add(). On error nothing
 *   changes. */
CRDT_API int crdt_orset_remove(crdt_orset *set, const void *elem, size_t len,
                               crdt_orset *delta);

/** true when `elem` is in the set. */
CRDT_API bool crdt_orset_contains(const crdt_orset *set, const void *elem,
                                  size_t len);

/** Number of elements. */
CRDT_API size_t crdt_orset_size(const crdt_orset *set);

/** Callback for crdt_orset_foreach: `elem` is valid during the call only.
 * Return non-zero to stop. */
typedef int (*crdt_orset_visit)(crdt_bytes elem, void *user);

/** Calls `visit` for each element in canonical order (sorted by bytes,
 * shorter first on a common prefix), the same on every replica. The set must
 * not change during the walk.
 * @return 0, the callback's non-zero value, CRDT_EINVAL or CRDT_ENOMEM. */
CRDT_API int crdt_orset_foreach(const crdt_orset *set, crdt_orset_visit visit,
                                void *user);

/** dst := dst ⊔ src; see crdt_object_merge(). */
CRDT_API int crdt_orset_merge(crdt_orset *dst, const crdt_orset *src);

/** true when both hold the same elements and the same causal history. */
CRDT_API bool crdt_orset_equal(const crdt_orset *a, const crdt_orset *b);

/** Deep copy; see crdt_object_copy(). */
CRDT_API int crdt_orset_copy(const crdt_orset *src, crdt_orset **out);

/** Compares histories; see crdt_object_compare(). */
CRDT_API int crdt_orset_compare(const crdt_orset *a, const crdt_orset *b,
                                crdt_order *order);

/** The set as a generic object (same pointer, no copy; do not free both). */
CRDT_API crdt_object *crdt_orset_object(crdt_orset *set);

/** The object as an OR-set, or NULL when it is of another type. */
CRDT_API crdt_orset *crdt_object_orset(crdt_object *obj);

#ifdef __cplusplus
}
#endif
#endif /* CRDT_ORSET_H */
