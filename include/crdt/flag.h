/*
 * libcrdt: enable-wins flag, a boolean that replicas switch independently.
 */
#ifndef CRDT_FLAG_H
#define CRDT_FLAG_H

#include <stdbool.h>

#include "crdt/common.h"
#include "crdt/object.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @file flag.h
 * A boolean that replicas enable and disable independently; an enable
 * concurrent with a disable wins. The state is a set of dots plus the
 * causal context (an OR-set with a single element): the flag is enabled
 * while the set is not empty.
 *
 * - enable() stamps a fresh dot at this replica that replaces every dot of
 *   the flag this replica sees, so the state holds one dot per replica
 *   that enabled concurrently (deltas received out of causal order can
 *   leave an older dot beside a newer one until the missing delta
 *   arrives). Every enable creates a dot, also when the flag is already
 *   enabled.
 * - disable() drops every dot this replica sees and records the disable as
 *   a new dot (in the context only). It removes only the enables it
 *   observed: an enable at another replica that this one has not seen
 *   survives the merge (enable wins). Disabling a flag that is not enabled
 *   here changes nothing, creates no dot, and returns CRDT_ENOENT.
 *
 * Every update, disables included, creates a dot at the acting replica, so
 * comparing two flags' histories is exact. O(1) per update and read; merge
 * is linear in the sizes of both states.
 *
 * Deltas: pass a delta object (created with a NULL replica) to a mutator
 * and it joins the update's delta into it. Deltas join each other and full
 * states in any order, duplicated or not, with the same result as merging
 * full states.
 *
 * Known limitation (the OR-set's, since an enable replaces what it sees as
 * an OR-set's re-add does): while deltas arrive out of causal order, a
 * replica's context can name an update whose delta it has not received yet
 * (a disable names the re-enable it observed, not the earlier enable that
 * re-enable replaced), so two replicas can compare EQUAL and still differ
 * until the missing delta arrives. Deliver deltas in causal order, or
 * exchange full states, when comparing contexts to decide that replicas
 * are in sync (docs/verification.md, "Known issue").
 *
 * Wire format: the dot-store body of docs/format.md (tag 7) with the empty
 * key as the only key. The value prints as JSON true or false.
 */

/** Opaque enable-wins flag. Not thread-safe; distinct flags are
 * independent. */
typedef struct crdt_flag crdt_flag;

/** Creates a disabled flag.
 * @param replica the id this replica stamps its updates with (1..64 bytes),
 *   or NULL for a flag that only collects deltas or receives states.
 * @param[out] out receives the flag; the caller frees it with
 *   crdt_flag_free().
 * @return 0, CRDT_EINVAL (bad id, out NULL) or CRDT_ENOMEM. */
CRDT_API int crdt_flag_new(const char *replica, crdt_flag **out);

/** Frees a flag; NULL does nothing. */
CRDT_API void crdt_flag_free(crdt_flag *flag);

/** Enables the flag: a new dot at this replica replaces the dots of the
 * flag this replica sees (when the flag is already enabled, the enable
 * then also wins over disables concurrent with it).
 * @param flag the flag; needs a replica id.
 * @param delta NULL, or a flag (not `flag`) into which the update's delta
 *   is joined: ({the new dot}, the dots it replaced ∪ {the new dot}).
 * @return 0, CRDT_EINVAL (flag NULL, delta == flag), CRDT_ETYPE (delta of
 *   another type), CRDT_ENOREPLICA (flag has no replica id), CRDT_ERANGE
 *   (counter space exhausted), CRDT_ETOOMANY or CRDT_ENOMEM. On error
 *   neither flag nor delta changes. */
CRDT_API int crdt_flag_enable(crdt_flag *flag, crdt_flag *delta);

/** Disables the flag: drops the enables this replica has seen and records
 * the disable as a new dot. An enable at another replica that this one has
 * not seen survives the merge.
 * @param flag the flag; needs a replica id.
 * @param delta NULL, or a flag (not `flag`) into which the update's delta
 *   is joined: (no dot, the dots it dropped ∪ {the new dot}).
 * @return 0, CRDT_ENOENT (the flag is not enabled here: nothing changes and
 *   no dot is created), or the errors of crdt_flag_enable(). On error
 *   neither flag nor delta changes. */
CRDT_API int crdt_flag_disable(crdt_flag *flag, crdt_flag *delta);

/** true when the flag is enabled (false for NULL). */
CRDT_API bool crdt_flag_enabled(const crdt_flag *flag);

/** dst := dst ⊔ src; see crdt_object_merge(). */
CRDT_API int crdt_flag_merge(crdt_flag *dst, const crdt_flag *src);

/** true when both have the same value and the same causal history. */
CRDT_API bool crdt_flag_equal(const crdt_flag *a, const crdt_flag *b);

/** Deep copy; see crdt_object_copy(). */
CRDT_API int crdt_flag_copy(const crdt_flag *src, crdt_flag **out);

/** Compares histories; see crdt_object_compare(). */
CRDT_API int crdt_flag_compare(const crdt_flag *a, const crdt_flag *b,
                               crdt_order *order);

/** The flag as a generic object (same pointer, no copy; do not free both). */
CRDT_API crdt_object *crdt_flag_object(crdt_flag *flag);

/** The object as a flag, or NULL when it is of another type. */
CRDT_API crdt_flag *crdt_object_flag(crdt_object *obj);

#ifdef __cplusplus
}
#endif
#endif /* CRDT_FLAG_H */
