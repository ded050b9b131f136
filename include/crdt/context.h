/*
 * libcrdt: causal contexts (sets of dots).
 */
#ifndef CRDT_CONTEXT_H
#define CRDT_CONTEXT_H

#include <stdbool.h>

#include "crdt/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @file context.h
 * A causal context is the set of events (dots) a replica has seen. A dot
 * (replica, n) names the n-th event created by that replica. The set is kept
 * as a version vector (every dot up to n for each replica) plus a "dot
 * cloud" of dots beyond it, which arrive when deltas come out of order; the
 * cloud compacts into the vector as gaps fill. Contexts compare as sets.
 *
 * Contexts are also the read tokens of the multi-value register: a client
 * keeps the context it read and hands it to its next write.
 */

/** Opaque causal context. Not thread-safe; distinct contexts are
 * independent. */
typedef struct crdt_context crdt_context;

/** Creates an empty context.
 * @return 0, CRDT_EINVAL (out is NULL) or CRDT_ENOMEM. */
CRDT_API int crdt_context_new(crdt_context **out);

/** Frees a context; NULL does nothing. */
CRDT_API void crdt_context_free(crdt_context *ctx);

/** Adds the dot (replica, counter). Adding a dot twice changes nothing.
 * @param ctx the context to add to.
 * @param replica id, 1..CRDT_REPLICA_MAX bytes, NUL-terminated; copied.
 * @param counter >= 1.
 * @return 0, CRDT_EINVAL (bad id or counter 0) or CRDT_ENOMEM; on error
 * unchanged. */
CRDT_API int crdt_context_add(crdt_context *ctx, const char *replica,
                              uint64_t counter);

/** true when the dot (replica, counter) is in the set. */
CRDT_API bool crdt_context_has(const crdt_context *ctx, const char *replica,
                               uint64_t counter);

/** The counter the next event of `replica` gets: one more than the highest
 * counter of that replica in the set (contiguous or not). Does not add it.
 * @return 0, CRDT_EINVAL or CRDT_ERANGE (counter space exhausted). */
CRDT_API int crdt_context_next(const crdt_context *ctx, const char *replica,
                               uint64_t *counter);

/** The contiguous prefix for `replica`: the largest n such that dots 1..n
 * are all in the set (0 when none or the id is invalid). */
CRDT_API uint64_t crdt_context_prefix(const crdt_context *ctx,
                                      const char *replica);

/** Number of dots held beyond the contiguous prefixes (the cloud). */
CRDT_API size_t crdt_context_cloud_size(const crdt_context *ctx);

/** dst := dst ∪ src. dst == src is allowed.
 * @return 0, CRDT_EINVAL or CRDT_ENOMEM; on error dst is unchanged. */
CRDT_API int crdt_context_join(crdt_context *dst, const crdt_context *src);

/** Compares two contexts as sets of dots: CRDT_EQUAL, CRDT_BEFORE (a is a
 * strict subset of b), CRDT_AFTER or CRDT_CONCURRENT. Neither may be NULL
 * (the result has no room for an error). */
CRDT_API crdt_order crdt_context_compare(const crdt_context *a,
                                         const crdt_context *b);

/** true when both hold the same dots. Neither may be NULL. */
CRDT_API bool crdt_context_equal(const crdt_context *a, const crdt_context *b);

/** Deep copy.
 * @return 0, CRDT_EINVAL or CRDT_ENOMEM. */
CRDT_API int crdt_context_copy(const crdt_context *src, crdt_context **out);

/** Callback for the context walks: one prefix entry (replica, n: dots 1..n)
 * or one cloud dot (replica, counter). `replica` is valid during the call
 * only. Return non-zero to stop. */
typedef int (*crdt_context_visit)(const char *replica, uint64_t counter,
                                  void *user);

/** Calls `visit` for each replica with a non-zero contiguous prefix, in
 * canonical order (replica ids sorted by bytes), with that prefix.
 * @return 0, the callback's non-zero value, CRDT_EINVAL or CRDT_ENOMEM. */
CRDT_API int crdt_context_foreach_prefix(const crdt_context *ctx,
                                         crdt_context_visit visit, void *user);

/** Calls `visit` for each dot of the cloud (beyond the prefixes), in
 * canonical order: by replica id bytes, then counter.
 * @return 0, the callback's non-zero value, CRDT_EINVAL or CRDT_ENOMEM. */
CRDT_API int crdt_context_foreach_cloud(const crdt_context *ctx,
                                        crdt_context_visit visit, void *user);

/** Formats the context as text in canonical order: the prefix vector, then
 * the cloud when it is not empty, e.g. `{A:2, B:1}` or `{A:2} + {A:4, C:7}`.
 * Same buffer contract as crdt_vv_format().
 * @return 0, CRDT_ENOSPC, CRDT_EINVAL or CRDT_ENOMEM. */
CRDT_API int crdt_context_format(const crdt_context *ctx, char *buf,
                                 size_t cap, size_t *needed);

/** Formats the context as one line of JSON in canonical order: the prefix
 * vector as an object, then, only when the cloud is not empty, the cloud
 * dots as [replica, counter] pairs, e.g. `{"vv": {"A": 2, "B": 1}}` or
 * `{"vv": {"A": 2}, "cloud": [["A", 4], ["C", 7]]}`. Replica ids are JSON
 * strings escaped as crdt_object_value_json() escapes values (valid UTF-8
 * as is, other bytes as \u00XX), counters are integers. Same buffer
 * contract as crdt_vv_format().
 * @return 0, CRDT_ENOSPC, CRDT_EINVAL or CRDT_ENOMEM. */
CRDT_API int crdt_context_format_json(const crdt_context *ctx, char *buf,
                                      size_t cap, size_t *needed);

#ifdef __cplusplus
}
#endif
#endif /* CRDT_CONTEXT_H */
