/*
 * libcrdt: version vectors.
 */
#ifndef CRDT_VV_H
#define CRDT_VV_H

#include <stdbool.h>

#include "crdt/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @file vv.h
 * A version vector maps replica ids to the number of events each replica has
 * created (its highest counter). Replicas that accept writes independently
 * each tick their own entry; comparing two vectors tells whether one history
 * contains the other (BEFORE/AFTER/EQUAL) or neither (CONCURRENT): the
 * multi-replica form of a single server's version number.
 */

/** Opaque version vector. Create with crdt_vv_new(), free with
 * crdt_vv_free(). Not thread-safe; distinct vectors are independent. */
typedef struct crdt_vv crdt_vv;

/** Creates an empty vector (every counter 0).
 * @param[out] out receives the vector; the caller owns it.
 * @return 0, CRDT_EINVAL (out is NULL) or CRDT_ENOMEM. */
CRDT_API int crdt_vv_new(crdt_vv **out);

/** Frees a vector; NULL does nothing. */
CRDT_API void crdt_vv_free(crdt_vv *vv);

/** Records one new event at `replica`: its counter goes up by one.
 * @param vv the vector.
 * @param replica id, 1..CRDT_REPLICA_MAX bytes, NUL-terminated; copied.
 * @param[out] counter if not NULL, receives the new counter (the event's dot).
 * @return 0, CRDT_EINVAL (bad id), CRDT_ERANGE (counter at UINT64_MAX) or
 * CRDT_ENOMEM. On error the vector is unchanged. */
CRDT_API int crdt_vv_tick(crdt_vv *vv, const char *replica, uint64_t *counter);

/** The counter of `replica` (0 when it has none or the id is invalid). */
CRDT_API uint64_t crdt_vv_get(const crdt_vv *vv, const char *replica);

/** Raises the counter of `replica` to at least `counter` (what a replica does
 * when it learns that another has seen that many events).
 * @return 0, CRDT_EINVAL or CRDT_ENOMEM; on error unchanged. */
CRDT_API int crdt_vv_observe(crdt_vv *vv, const char *replica,
                             uint64_t counter);

/** dst := pointwise maximum of dst and src (src is unchanged; dst == src is
 * allowed).
 * @return 0, CRDT_EINVAL or CRDT_ENOMEM; on error dst is unchanged. */
CRDT_API int crdt_vv_merge(crdt_vv *dst, const crdt_vv *src);

/** Compares two vectors: CRDT_EQUAL, CRDT_BEFORE (a <= b, a != b), CRDT_AFTER
 * or CRDT_CONCURRENT. Replicas absent from one side count as 0. Neither may
 * be NULL (the result has no room for an error). */
CRDT_API crdt_order crdt_vv_compare(const crdt_vv *a, const crdt_vv *b);

/** true when both vectors hold the same non-zero counters. Neither may be
 * NULL. */
CRDT_API bool crdt_vv_equal(const crdt_vv *a, const crdt_vv *b);

/** Deep copy.
 * @param src the vector to copy; not changed.
 * @param[out] out receives a new vector; the caller frees it with
 *   crdt_vv_free().
 * @return 0, CRDT_EINVAL or CRDT_ENOMEM. */
CRDT_API int crdt_vv_copy(const crdt_vv *src, crdt_vv **out);

/** Number of replicas with a non-zero counter. */
CRDT_API size_t crdt_vv_size(const crdt_vv *vv);

/** Callback for crdt_vv_foreach: return non-zero to stop early (that value
 * is then returned by crdt_vv_foreach). `replica` is valid during the call. */
typedef int (*crdt_vv_visit)(const char *replica, uint64_t counter,
                             void *user);

/** Calls `visit` for each non-zero entry in canonical order (replica ids
 * sorted by bytes), the same on every replica.
 * @return 0, the callback's non-zero value, CRDT_EINVAL or CRDT_ENOMEM. */
CRDT_API int crdt_vv_foreach(const crdt_vv *vv, crdt_vv_visit visit,
                             void *user);

/** Formats the vector as text in canonical order, e.g. `{A:2, B:1}` (`{}`
 * when empty), NUL-terminated.
 * @param vv the vector.
 * @param buf destination (may be NULL when cap is 0).
 * @param cap bytes available at buf.
 * @param[out] needed if not NULL, receives the length without the NUL.
 * @return 0, CRDT_ENOSPC (buf too small: *needed says how much, plus 1 for
 * the NUL), CRDT_EINVAL or CRDT_ENOMEM. */
CRDT_API int crdt_vv_format(const crdt_vv *vv, char *buf, size_t cap,
                            size_t *needed);

#ifdef __cplusplus
}
#endif
#endif /* CRDT_VV_H */
