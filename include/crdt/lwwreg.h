/*
 * libcrdt: last-writer-wins register (LWW-Register).
 */
#ifndef CRDT_LWWREG_H
#define CRDT_LWWREG_H

#include <stdbool.h>

#include "crdt/common.h"
#include "crdt/object.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @file lwwreg.h
 * A register holding one byte string; of concurrent writes, the one with the
 * highest timestamp wins (the Cassandra approach: it needs clocks that agree
 * well enough, and a write with a lagging clock is lost).
 *
 * The state is empty (never written) or a triple (timestamp, writer replica
 * id, value). Writes are totally ordered by that triple: timestamp first,
 * then the writer's id bytes, then the value bytes (both compared as by
 * memcmp on the common prefix, the shorter first when one is a prefix of the
 * other); the empty state is below every write. A merge keeps the greater
 * triple, so merges commute even when timestamps tie.
 *
 * The register keeps no causal history: crdt_lwwreg_compare() and
 * crdt_object_context_text() return CRDT_ENOTSUP. Its value JSON is the
 * value as a JSON string, or null when empty.
 *
 * Values are byte strings of 0 .. UINT32_MAX bytes (they need not be text).
 *
 * Deltas: a write's delta is the register's new state; pass a delta object
 * (created with a NULL replica) to crdt_lwwreg_write() and the write is
 * joined into it.
 */

/** Opaque LWW-Register. Not thread-safe; distinct registers are
 * independent. */
typedef struct crdt_lwwreg crdt_lwwreg;

/** Creates an empty register.
 * @param replica the id this replica's writes carry (1..CRDT_REPLICA_MAX
 *   bytes; it breaks timestamp ties), or NULL for a register that only
 *   collects deltas or receives states (writes then fail with
 *   CRDT_ENOREPLICA).
 * @param[out] out receives the register; the caller frees it with
 *   crdt_lwwreg_free().
 * @return 0, CRDT_EINVAL (bad id, out NULL) or CRDT_ENOMEM. */
CRDT_API int crdt_lwwreg_new(const char *replica, crdt_lwwreg **out);

/** Frees a register; NULL does nothing. */
CRDT_API void crdt_lwwreg_free(crdt_lwwreg *r);

/** Writes `value` with `timestamp`, as this replica.
 *
 * The write (timestamp, this replica's id, value) must be greater than the
 * register's current triple in the order described above; otherwise it
 * would be lost at once, and the call fails with CRDT_ESTALE and changes
 * nothing. Writing the current triple again is also CRDT_ESTALE (it is the
 * same write). A write with the current timestamp that sorts higher (a
 * higher writer id, or a greater value from the same writer) succeeds.
 *
 * @param r the register; needs a replica id.
 * @param value the bytes to store (may be NULL when len is 0); copied.
 * @param len 0 .. UINT32_MAX.
 * @param timestamp any value; the caller's clock (e.g. microseconds since
 *   the epoch). Replicas must use the same clock and unit.
 * @param delta NULL, or a register (not `r`) into which the write is joined.
 * @return 0, CRDT_EINVAL (r NULL, value NULL with len > 0, len above
 *   UINT32_MAX, delta == r), CRDT_ETYPE (delta of another type),
 *   CRDT_ENOREPLICA (r has no replica id), CRDT_ESTALE or CRDT_ENOMEM. On
 *   error neither r nor delta changes. */
CRDT_API int crdt_lwwreg_write(crdt_lwwreg *r, const void *value, size_t len,
                               uint64_t timestamp, crdt_lwwreg *delta);

/** Reads the register.
 * @param r the register.
 * @param[out] value if not NULL, receives a view of the value bytes
 *   (`data` is never NULL, also for an empty value), valid until the
 *   register next changes (a write, a merge that replaces the value, or
 *   free).
 * @param[out] timestamp if not NULL, receives the write's timestamp.
 * @return 0, CRDT_EINVAL (r NULL) or CRDT_ENOENT (never written; the outputs
 *   are unchanged). */
CRDT_API int crdt_lwwreg_get(const crdt_lwwreg *r, crdt_bytes *value,
                             uint64_t *timestamp);

/** The replica id of the write the register holds, or NULL when it is empty
 * (or r is NULL). Valid until the register next changes. */
CRDT_API const char *crdt_lwwreg_writer(const crdt_lwwreg *r);

/** dst := dst ⊔ src: the greater of the two triples. See crdt_object_merge()
 * (CRDT_EINVAL, CRDT_ENOMEM; on error dst is unchanged). */
CRDT_API int crdt_lwwreg_merge(crdt_lwwreg *dst, const crdt_lwwreg *src);

/** true when both are empty or hold the same (timestamp, writer, value);
 * the owner ids are not compared. */
CRDT_API bool crdt_lwwreg_equal(const crdt_lwwreg *a, const crdt_lwwreg *b);

/** Deep copy with the same owner replica; see crdt_object_copy().
 * @param src the register to copy; not changed.
 * @param[out] out receives the copy; the caller frees it with
 *   crdt_lwwreg_free().
 * @return 0, CRDT_EINVAL or CRDT_ENOMEM. */
CRDT_API int crdt_lwwreg_copy(const crdt_lwwreg *src, crdt_lwwreg **out);

/** Not supported: the register keeps no causal history, so there is nothing
 * to compare (a higher timestamp says nothing about what a replica has
 * seen). Present so every type has the same API shape.
 * @return CRDT_ENOTSUP (*order unchanged), or CRDT_EINVAL for NULL
 *   arguments. */
CRDT_API int crdt_lwwreg_compare(const crdt_lwwreg *a, const crdt_lwwreg *b,
                                 crdt_order *order);

/** The register as a generic object (same pointer, no copy; do not free
 * both). */
CRDT_API crdt_object *crdt_lwwreg_object(crdt_lwwreg *r);

/** The object as an LWW-Register, or NULL when it is of another type. */
CRDT_API crdt_lwwreg *crdt_object_lwwreg(crdt_object *obj);

#ifdef __cplusplus
}
#endif
#endif /* CRDT_LWWREG_H */
