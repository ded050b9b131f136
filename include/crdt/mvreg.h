/*
 * libcrdt: multi-value register (MV-register) with read contexts.
 */
#ifndef CRDT_MVREG_H
#define CRDT_MVREG_H

#include <stdbool.h>

#include "crdt/common.h"
#include "crdt/context.h"
#include "crdt/object.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @file mvreg.h
 * A register that keeps every value written concurrently, as siblings, the
 * way Dynamo and Riak do, but with dots and causal contexts (dotted version
 * vectors) instead of one version vector per value. This answers the
 * classic question "how do version numbers work when several replicas
 * accept writes?":
 *
 * Each write is stamped with a fresh dot at the replica that accepts it. A
 * client reads the siblings together with a read context (a token:
 * crdt_mvreg_context()), and later writes based on that token, at any
 * replica. The write supersedes exactly the values whose dots are in the
 * token, and keeps every other sibling: a write cannot overwrite what its
 * client never saw. Example (one server S): client 1 writes [eggs] (dot
 * S1); client 2 writes [milk] without having read (empty token: dot S2);
 * client 1, who read [eggs] with token {S:1}, writes [eggs, bacon] (dot S3).
 * The siblings are now [eggs, bacon] and [milk]: a single version vector
 * {S:3} on [eggs, bacon] would wrongly have overwritten [milk]. With several
 * servers (multi-leader, leaderless) nothing changes: tokens carry replica
 * ids, replicas exchange states or deltas, and the join rule keeps exactly
 * the writes no later write has superseded.
 *
 * Siblings are distinct values: two concurrent writes of the same bytes show
 * as one sibling (its dots are kept together). Values are byte strings of
 * 0 .. UINT32_MAX bytes.
 *
 * Deltas: pass a delta object (created with a NULL replica) to a mutator and
 * it joins the update's delta into it. A write's delta carries the write's
 * read context, so joining it visits the register it is joined into (a
 * register is small).
 */

/** Opaque MV-register. Not thread-safe; distinct registers are
 * independent. */
typedef struct crdt_mvreg crdt_mvreg;

/** Creates an empty register (no siblings).
 * @param replica the id this replica stamps its writes with (1..64 bytes),
 *   or NULL for a register that only collects deltas or receives states.
 * @param[out] out receives the register; the caller frees it with
 *   crdt_mvreg_free().
 * @return 0, CRDT_EINVAL (bad id, out NULL) or CRDT_ENOMEM. */
CRDT_API int crdt_mvreg_new(const char *replica, crdt_mvreg **out);

/** Frees a register; NULL does nothing. */
CRDT_API void crdt_mvreg_free(crdt_mvreg *reg);

/** Writes `value` based on `read_context`, with a new dot d at this replica.
 * Every sibling whose dots are all in `read_context` is superseded (dots of
 * a sibling that are not in it survive, and so does the sibling); `value`
 * becomes a sibling holding d. The register's context becomes its context
 * ∪ read_context ∪ {d}, so writes the token had seen but this replica has
 * not yet received are superseded when they arrive.
 * @param reg the register; needs a replica id.
 * @param value value bytes (may be NULL when len is 0); copied.
 * @param len the value's size, 0 .. UINT32_MAX.
 * @param read_context the token the client read (crdt_mvreg_context(), at
 *   this replica or any other, possibly joined with others), an empty
 *   context for a blind write that supersedes nothing, or NULL for "every
 *   write this replica has seen" (overwrite the current siblings). Not
 *   changed. It must only hold dots of writes that exist: a hand-made
 *   context naming future dots would silently supersede those writes.
 * @param delta NULL, or a register (not `reg`) into which the write's delta
 *   is joined.
 * @return 0, CRDT_EINVAL, CRDT_ETYPE, CRDT_ENOREPLICA (register has no
 *   replica id), CRDT_ERANGE (counter space exhausted), CRDT_ETOOMANY or
 *   CRDT_ENOMEM. On error neither register nor delta changes. */
CRDT_API int crdt_mvreg_write(crdt_mvreg *reg, const void *value, size_t len,
                              const crdt_context *read_context,
                              crdt_mvreg *delta);

/** Callback for crdt_mvreg_foreach: `value` is valid during the call only.
 * Return non-zero to stop. */
typedef int (*crdt_mvreg_visit)(crdt_bytes value, void *user);

/** Calls `visit` for each sibling in canonical order (sorted by bytes,
 * shorter first on a common prefix), the same on every replica. The
 * register must not change during the walk.
 * @return 0, the callback's non-zero value, CRDT_EINVAL or CRDT_ENOMEM. */
CRDT_API int crdt_mvreg_foreach(const crdt_mvreg *reg, crdt_mvreg_visit visit,
                                void *user);

/** Number of siblings (distinct values); 0 before the first write. */
CRDT_API size_t crdt_mvreg_count(const crdt_mvreg *reg);

/** The read context token: a copy of the register's causal context (every
 * write it has seen). Read it together with the siblings and pass it to a
 * later crdt_mvreg_write(), at this replica or any other: it names replicas
 * by id, not by any register's internal numbering.
 * @param reg the register; not changed. The token does not follow later
 *   changes of reg and may outlive it.
 * @param[out] out receives a new context the caller frees with
 *   crdt_context_free().
 * @return 0, CRDT_EINVAL or CRDT_ENOMEM. */
CRDT_API int crdt_mvreg_context(const crdt_mvreg *reg, crdt_context **out);

/** Chooses one value among the siblings (application merge logic).
 * @param siblings the n >= 1 siblings in canonical order; valid during the
 *   call only.
 * @param n the number of siblings, >= 1.
 * @param[out] chosen set it to the value to write: one of `siblings`, or
 *   bytes of the caller's own that stay valid until crdt_mvreg_resolve()
 *   returns. It starts as the empty value (data NULL, size 0), which is
 *   what gets written if the callback leaves it alone.
 * @param user the `user` pointer given to crdt_mvreg_resolve().
 * @return 0, or any non-zero value, which crdt_mvreg_resolve() returns
 *   unchanged (nothing is written then); a negative CRDT_E... code or a
 *   positive code of the application's own. */
typedef int (*crdt_mvreg_resolver)(const crdt_bytes *siblings, size_t n,
                                   crdt_bytes *chosen, void *user);

/** Resolves the siblings: calls `resolve` with them and writes the chosen
 * value with the register's own context as read context (it supersedes
 * every sibling this replica sees). With one sibling the callback is still
 * called and the write still happens (a new dot).
 * @return 0, CRDT_ENOENT (no siblings: nothing is called or changed), the
 *   callback's non-zero code (nothing changes), or the errors of
 *   crdt_mvreg_write(). On error neither register nor delta changes. */
CRDT_API int crdt_mvreg_resolve(crdt_mvreg *reg, crdt_mvreg_resolver resolve,
                                void *user, crdt_mvreg *delta);

/** dst := dst ⊔ src; see crdt_object_merge(). */
CRDT_API int crdt_mvreg_merge(crdt_mvreg *dst, const crdt_mvreg *src);

/** true when both hold the same siblings, dots and causal history. */
CRDT_API bool crdt_mvreg_equal(const crdt_mvreg *a, const crdt_mvreg *b);

/** Deep copy; see crdt_object_copy(). */
CRDT_API int crdt_mvreg_copy(const crdt_mvreg *src, crdt_mvreg **out);

/** Compares histories; see crdt_object_compare(). */
CRDT_API int crdt_mvreg_compare(const crdt_mvreg *a, const crdt_mvreg *b,
                                crdt_order *order);

/** The register as a generic object (same pointer, no copy; do not free
 * both). Its value JSON is the sorted array of siblings: ["a", "b"]. */
CRDT_API crdt_object *crdt_mvreg_object(crdt_mvreg *reg);

/** The object as an MV-register, or NULL when it is of another type. */
CRDT_API crdt_mvreg *crdt_object_mvreg(crdt_object *obj);

#ifdef __cplusplus
}
#endif
#endif /* CRDT_MVREG_H */
